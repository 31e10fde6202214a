// Keyboard review of a sample's cells: arrows or j/k move the focus, 1-4 or e/l/m/n set the class of the
// focused cell. Each choice is saved at once (fetch, CSRF token from the cookie) and the cell updates in place;
// the focus then moves on. Without JavaScript the per-cell buttons post ordinary forms.
"use strict";
(() => {
  const grid = document.getElementById("cell-grid");
  if (!grid || !window.fetch) return;
  const cells = Array.from(grid.querySelectorAll(".cell"));
  if (!cells.length) return;
  const canReview = grid.dataset.canReview === "true";
  const classForKey = Object.fromEntries(grid.dataset.classKeys.split(",").map(pair => pair.split(":")));
  const status = document.getElementById("review-status");
  const pendingCount = document.getElementById("pending-count");

  function csrfToken() {
    const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : grid.querySelector("input[name=csrfmiddlewaretoken]").value;
  }

  function focusCell(index) {
    const target = cells[Math.max(0, Math.min(cells.length - 1, index))];
    cells.forEach(cell => { cell.tabIndex = cell === target ? 0 : -1; });
    target.focus();
    target.scrollIntoView({block: "nearest"});
  }

  function columnCount() {
    const top = cells[0].offsetTop;
    const firstRow = cells.findIndex(cell => cell.offsetTop !== top);
    return firstRow === -1 ? cells.length : firstRow;
  }

  function showReview(cell, answer) {
    cell.classList.toggle("reviewed", Boolean(answer.reviewed_label));
    cell.querySelector("[data-reviewed-label]").textContent =
      answer.reviewed_label ? `✓ ${answer.reviewed_label_display}` : "";
    cell.querySelectorAll(".cell-review button").forEach(button => {
      button.classList.toggle("chosen", button.value === answer.reviewed_label);
    });
    if (pendingCount) {
      const count = answer.pending_count;
      pendingCount.textContent = `${count} flagged cell${count === 1 ? "" : "s"} to review`;
      pendingCount.classList.toggle("flag", count > 0);
    }
  }

  async function review(cell, label) {
    cell.classList.add("saving");
    try {
      const response = await fetch(cell.dataset.reviewUrl, {
        method: "POST", credentials: "same-origin", body: new URLSearchParams({label}),
        headers: {"Accept": "application/json", "X-CSRFToken": csrfToken()},
      });
      const answer = await response.json();
      status.textContent = answer.message;
      status.classList.toggle("error", !response.ok);
      if (!response.ok) return false;
      showReview(cell, answer);
      return true;
    } catch (error) {
      status.textContent = "The review was not saved: the connection failed. Try again.";
      status.classList.add("error");
      return false;
    } finally {
      cell.classList.remove("saving");
    }
  }

  const moves = {ArrowRight: 1, j: 1, ArrowLeft: -1, k: -1};
  grid.addEventListener("keydown", async event => {
    const cell = event.target.closest(".cell");
    if (!cell || event.altKey || event.ctrlKey || event.metaKey) return;
    const index = cells.indexOf(cell);
    if (event.key in moves) {
      focusCell(index + moves[event.key]);
    } else if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      focusCell(index + (event.key === "ArrowDown" ? 1 : -1) * columnCount());
    } else if (canReview && classForKey[event.key.toLowerCase()]) {
      event.preventDefault();
      if (await review(cell, classForKey[event.key.toLowerCase()]) && index < cells.length - 1) focusCell(index + 1);
      return;
    } else {
      return;
    }
    event.preventDefault();
  });

  grid.addEventListener("click", event => {
    const cell = event.target.closest(".cell");
    if (cell) focusCell(cells.indexOf(cell));
  });

  grid.addEventListener("submit", event => {
    event.preventDefault();
    const cell = event.target.closest(".cell");
    if (event.submitter) review(cell, event.submitter.value);
  });

  const target = cells.findIndex(cell => `#${cell.id}` === window.location.hash);
  if (target > 0) focusCell(target);
})();
