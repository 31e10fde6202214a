// The upload page: drop files on the zone or choose them, see how many are chosen, and see that classifying runs.
"use strict";
(() => {
  const form = document.getElementById("upload-form");
  const zone = document.getElementById("dropzone");
  if (!form || !zone) return;
  const input = form.querySelector("input[type=file]");
  const chosen = document.getElementById("chosen");
  const show = () => { chosen.textContent = input.files.length ? `${input.files.length} file(s) chosen` : ""; };
  input.addEventListener("change", show);
  ["dragenter", "dragover"].forEach(type => zone.addEventListener(type, event => { event.preventDefault(); zone.classList.add("over"); }));
  ["dragleave", "drop"].forEach(type => zone.addEventListener(type, () => zone.classList.remove("over")));
  zone.addEventListener("drop", event => { event.preventDefault(); input.files = event.dataTransfer.files; show(); });
  form.addEventListener("submit", () => { document.getElementById("classify").textContent = "Classifying…"; });
})();
