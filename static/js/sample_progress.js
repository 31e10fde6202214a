// While a sample's images wait for the workers, refresh its status and differential every few seconds.
"use strict";
(() => {
  const POLL_MS = 3000;
  async function refresh() {
    const status = document.querySelector(".sample-status");
    if (!status || !Number(status.dataset.queued)) return;
    const response = await fetch(window.location.href, {credentials: "same-origin"});
    const page = new DOMParser().parseFromString(await response.text(), "text/html");
    for (const selector of ["#differential", ".sample-status"]) {
      const fresh = page.querySelector(selector);
      const current = document.querySelector(selector);
      if (fresh && current) current.replaceWith(fresh);
    }
    window.setTimeout(refresh, POLL_MS);
  }
  window.hematovisionWatchClassification = () => window.setTimeout(refresh, POLL_MS);
  window.hematovisionWatchClassification();
})();
