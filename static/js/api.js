// What the two uploaders share: posting images to a REST endpoint with the session and its CSRF token.
"use strict";
window.hematovisionApi = {
  // The API's refusal of a whole request: {"detail": "..."}, or field errors such as {"images": ["..."]}.
  refusal: answer => answer.detail || Object.values(answer).flat().join(" ") || "refused",

  // {response, answer}: answer is null when the server's reply is not JSON; a failed connection rejects. `fields`:
  // more form fields, e.g. a sample upload's expected_count.
  async postImages(url, files, csrfToken, fields = {}) {
    const body = new FormData();
    files.forEach(file => body.append("images", file, file.name));
    Object.entries(fields).forEach(([name, value]) => body.append(name, value));
    const response = await fetch(url, {
      method: "POST", body, credentials: "same-origin",
      headers: {"Accept": "application/json", "X-CSRFToken": csrfToken},
    });
    const answer = await response.json().catch(() => null);
    return {response, answer};
  },
};
