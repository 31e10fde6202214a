// The upload page: drop files on the zone or choose them, see how many are chosen, and classify them through
// the REST endpoint (session and CSRF token). Every classified image opens on the results page; files that
// could not be classified are listed here with the reason. Without JavaScript the form posts to the page.
"use strict";
(() => {
  const form = document.getElementById("upload-form");
  const zone = document.getElementById("dropzone");
  if (!form || !zone) return;
  const input = form.querySelector("input[type=file]");
  const chosen = document.getElementById("chosen");
  const button = document.getElementById("classify");
  const failureList = document.getElementById("upload-failures");
  const show = () => { chosen.textContent = input.files.length ? `${input.files.length} file(s) chosen` : ""; };
  input.addEventListener("change", show);
  ["dragenter", "dragover"].forEach(type => zone.addEventListener(type, event => { event.preventDefault(); zone.classList.add("over"); }));
  ["dragleave", "drop"].forEach(type => zone.addEventListener(type, () => zone.classList.remove("over")));
  zone.addEventListener("drop", event => { event.preventDefault(); input.files = event.dataTransfer.files; show(); });

  function report(text, className = "error") {
    const item = document.createElement("li");
    item.className = `message ${className}`;
    item.setAttribute("role", "alert");
    item.textContent = text;
    failureList.append(item);
    return item;
  }

  // The API's refusal of a whole request: {"detail": "..."}, or field errors such as {"images": ["..."]}.
  const refusal = answer => answer.detail || Object.values(answer).flat().join(" ") || "refused";

  async function classify(files) {
    const body = new FormData();
    files.forEach(file => body.append("images", file, file.name));
    let response;
    try {
      response = await fetch(form.dataset.apiUrl, {
        method: "POST", body, credentials: "same-origin",
        headers: {"Accept": "application/json", "X-CSRFToken": form.querySelector("input[name=csrfmiddlewaretoken]").value},
      });
      return {status: response.status, answer: await response.json()};
    } catch (error) {
      return {status: 0, answer: {detail: response ? `The server answered ${response.status}.` : "The connection failed; nothing was classified."}};
    }
  }

  form.addEventListener("submit", async event => {
    const files = Array.from(input.files);
    if (!files.length || !window.fetch || !window.FormData) return;  // the page answers "choose at least one image"
    event.preventDefault();
    button.disabled = true;
    button.textContent = "Classifying…";
    failureList.replaceChildren();
    const {answer} = await classify(files);
    const ids = (answer.predictions || []).map(prediction => prediction.id);
    const errors = answer.errors || [];
    errors.forEach(failure => report(`Not classified: ${failure.reason}`));
    if (!errors.length && !ids.length) report(refusal(answer));
    const results = `${form.dataset.resultsUrl}?ids=${ids.join(",")}`;
    if (ids.length && !errors.length) {
      window.location.assign(results);
      return;
    }
    if (ids.length) {
      const item = report(`${ids.length} image(s) classified: `, "success");
      const link = document.createElement("a");
      link.href = results;
      link.id = "results-link";
      link.textContent = "see the results";
      item.append(link);
    }
    form.reset();
    show();
    button.disabled = false;
    button.textContent = "Classify";
  });
})();
