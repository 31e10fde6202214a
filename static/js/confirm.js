// Forms with a data-confirm question ask it before they are sent (an inline onsubmit would break the CSP).
"use strict";
document.querySelectorAll("form[data-confirm]").forEach(form => {
  form.addEventListener("submit", event => {
    if (!window.confirm(form.dataset.confirm)) event.preventDefault();
  });
});
