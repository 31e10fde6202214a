// Sends the chosen images to the sample's REST endpoint (session and CSRF token) in chunks, so a few hundred
// files show progress and one bad file is reported on its own. Without JavaScript the same form posts normally.
"use strict";
(() => {
  const form = document.getElementById("sample-upload");
  if (!form || !window.fetch || !window.FormData || !window.DOMParser || !window.hematovisionSample ||
      !window.hematovisionApi) return;
  const input = form.querySelector("input[type=file]");
  const button = document.getElementById("upload-button");
  const box = document.getElementById("upload-progress-box");
  const bar = document.getElementById("upload-progress");
  const status = document.getElementById("upload-status");
  const failureList = document.getElementById("upload-failures");
  const chunkSize = Number(form.dataset.chunkFiles) || 16;
  const csrfToken = form.querySelector("input[name=csrfmiddlewaretoken]").value;

  function reportFailure(reason) {
    const item = document.createElement("li");
    item.className = "error";
    item.textContent = reason;
    failureList.append(item);
  }

  const {refusal, postImages} = window.hematovisionApi;

  async function sendChunk(files) {
    let response, answer;
    try {
      ({response, answer} = await postImages(form.dataset.apiUrl, files, csrfToken));
    } catch (error) {
      response = null;
    }
    if (!answer) {
      const why = response ? `the server answered ${response.status}` : "the connection failed";
      files.forEach(file => reportFailure(`${file.name}: not uploaded (${why}).`));
      return {created: 0, waiting: 0, failed: files.length, stop: !response};
    }
    const errors = answer.errors || [];
    errors.forEach(failure => reportFailure(failure.reason));
    const created = (answer.predictions || []).length, waiting = answer.waiting || 0;
    const refused = !response.ok && !errors.length;  // nothing in the chunk was taken, for one reason
    if (refused) files.forEach(file => reportFailure(`${file.name}: ${refusal(answer)}`));
    return {created, waiting, failed: refused ? files.length : errors.length,
            stop: [401, 403, 404, 503].includes(response.status)};
  }

  form.addEventListener("submit", async event => {
    const files = Array.from(input.files);
    if (!files.length) return;  // the server answers with "choose at least one image"
    event.preventDefault();
    button.disabled = true;
    failureList.replaceChildren();
    box.hidden = false;
    bar.max = files.length;
    bar.value = 0;
    let created = 0, waiting = 0, failed = 0;
    for (let start = 0; start < files.length; start += chunkSize) {
      status.textContent = `Classifying… ${start} of ${files.length} file(s) sent`;
      const result = await sendChunk(files.slice(start, start + chunkSize));
      created += result.created;
      waiting += result.waiting;
      failed += result.failed;
      bar.value = Math.min(start + chunkSize, files.length);
      if (result.stop) {
        const unsent = files.slice(start + chunkSize);
        unsent.forEach(file => reportFailure(`${file.name}: not sent (the upload stopped at the error above).`));
        failed += unsent.length;
        break;
      }
    }
    status.textContent = `Done: ${created} image(s) classified` + (waiting ? `, ${waiting} stored and being classified` : "")
      + (failed ? `, ${failed} not classified (see below).` : ".");
    form.reset();
    button.disabled = false;
    await window.hematovisionSample.refresh(form.dataset.refreshUrl);  // sample_progress.js
    if (waiting) window.hematovisionSample.watch();
  });
})();
