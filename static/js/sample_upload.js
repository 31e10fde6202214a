// Sends the chosen images to the sample's REST endpoint (session and CSRF token) in chunks, so a few hundred
// files show progress and one bad file is reported on its own. The first chunk declares how many files the whole
// upload sends and the others name that upload, so a page closed or a connection lost midway leaves the sample
// saying what did not arrive. Without JavaScript the same form posts normally.
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
  const csrfToken = form.querySelector("input[name=csrfmiddlewaretoken]").value;

  function report(reason, className = "error") {
    const item = document.createElement("li");
    item.className = className;
    item.textContent = reason;
    failureList.append(item);
  }

  const {refusal, postImages} = window.hematovisionApi;

  async function sendChunk(files, fields) {
    let response, answer;
    try {
      ({response, answer} = await postImages(form.dataset.apiUrl, files, csrfToken, fields));
    } catch (error) {
      response = null;
    }
    if (!answer) {
      const why = response ? `the server answered ${response.status}` : "the connection failed";
      files.forEach(file => report(`${file.name}: not uploaded (${why}).`));
      return {created: 0, waiting: 0, already: 0, failed: files.length, stop: !response};
    }
    const errors = answer.errors || [], already = answer.already_in_sample || [];
    errors.forEach(failure => report(failure.reason));
    already.forEach(file => report(file.reason, "info"));
    const created = (answer.predictions || []).length, waiting = answer.waiting || 0;
    const refused = !response.ok && !errors.length;  // nothing in the chunk was taken, for one reason
    if (refused) files.forEach(file => report(`${file.name}: ${refusal(answer)}`));
    return {created, waiting, already: already.length, failed: refused ? files.length : errors.length,
            upload: answer.upload, stop: [401, 403, 404, 503].includes(response.status)};
  }

  form.addEventListener("submit", async event => {
    const files = Array.from(input.files);
    if (!files.length) return;  // the server answers with "choose at least one image"
    const chunkSize = Number(form.dataset.chunkFiles) || 16;  // read now: the page (or a test) may have changed it
    event.preventDefault();
    button.disabled = true;
    failureList.replaceChildren();
    box.hidden = false;
    bar.max = files.length;
    bar.value = 0;
    let created = 0, waiting = 0, already = 0, failed = 0;
    let fields = {expected_count: files.length};  // the first request begins the upload, the others go on with it
    for (let start = 0; start < files.length; start += chunkSize) {
      status.textContent = `Classifying… ${start} of ${files.length} file(s) sent`;
      const result = await sendChunk(files.slice(start, start + chunkSize), fields);
      created += result.created;
      waiting += result.waiting;
      already += result.already;
      failed += result.failed;
      bar.value = Math.min(start + chunkSize, files.length);
      if (result.upload) fields = {upload: result.upload.id};
      if (result.stop) {
        const unsent = files.slice(start + chunkSize);
        unsent.forEach(file => report(`${file.name}: not sent (the upload stopped at the error above).`));
        failed += unsent.length;
        break;
      }
    }
    status.textContent = `Done: ${created} image(s) classified` + (waiting ? `, ${waiting} stored and being classified` : "")
      + (already ? `, ${already} already in this sample` : "")
      + (failed ? `, ${failed} not classified (see below).` : ".");
    form.reset();
    button.disabled = false;
    await window.hematovisionSample.refresh(form.dataset.refreshUrl);  // sample_progress.js
    if (waiting) window.hematovisionSample.watch();
  });
})();
