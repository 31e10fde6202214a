// Refreshes a sample page's status, differential and cell gallery in place: after an upload (sample_upload.js calls it), and
// every few seconds while its images wait for the workers.
"use strict";
(() => {
  const POLL_MS = 3000;

  async function refresh(url = window.location.href) {
    const response = await fetch(url, {credentials: "same-origin"});
    const page = new DOMParser().parseFromString(await response.text(), "text/html");
    for (const selector of ["#differential", ".sample-status", "#gallery"]) {
      const fresh = page.querySelector(selector);
      const current = document.querySelector(selector);
      if (fresh && current) current.replaceWith(fresh);
    }
  }

  async function watch() {
    const status = document.querySelector(".sample-status");
    if (!status || !Number(status.dataset.waiting)) return;
    await refresh();
    window.setTimeout(watch, POLL_MS);
  }

  window.hematovisionSample = {refresh, watch: () => window.setTimeout(watch, POLL_MS)};
  window.hematovisionSample.watch();
})();
