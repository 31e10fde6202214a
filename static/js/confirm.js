// Forms with a data-confirm question ask it before they are sent (an inline onsubmit would break the CSP). The
// question is read when the form is sent, so a script may add it later (Verify, once every cell is reviewed); the
// listener captures, so it answers before any listener of the form itself.
"use strict";
document.addEventListener("submit", event => {
  const question = event.target.dataset && event.target.dataset.confirm;
  if (question && !window.confirm(question)) event.preventDefault();
}, true);
