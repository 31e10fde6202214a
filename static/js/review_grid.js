// Keyboard review of a sample's cells, grouped by predicted class: arrows or j/k move the focus, 1-4 or e/l/m/n
// confirm or correct the focused cell, b/i/r/p mark it one of the other kinds (basophil, immature granulocyte,
// nucleated red cell, platelet: not counted), 5 or x exclude it with a reason, f shows its full image. Each choice is
// sent to the REST API at once (session cookie and CSRF token), the cell and the "reviewed n of m" count update in
// place (the card then leads with the reviewer's answer, its aria-label too) and the focus moves on; "Verify sample"
// also goes through the API, once its confirmation is answered, and is offered as soon as the last cell is reviewed.
// Without JavaScript the per-cell forms post to the HTML views instead.
"use strict";
(() => {
  const grid = document.getElementById("cell-grid");
  if (!grid || !window.fetch) return;
  const cells = Array.from(grid.querySelectorAll(".cell"));
  const canReview = grid.dataset.canReview === "true";
  const pairs = text => Object.fromEntries(text.split(",").filter(Boolean).map(pair => pair.split(":")));
  const classForKey = pairs(grid.dataset.classKeys);
  const classLabel = pairs(grid.dataset.classLabels);
  const otherKinds = new Set(grid.dataset.otherKinds.split(",").filter(Boolean));
  const status = document.getElementById("review-status");
  const progress = document.getElementById("review-progress");
  const unreviewedCount = document.getElementById("unreviewed-count");
  const reviewedSummary = document.getElementById("reviewed-summary");
  const excludeDialog = document.getElementById("exclude-dialog");
  const fullDialog = document.getElementById("full-image-dialog");

  function csrfToken() {
    const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : document.querySelector("input[name=csrfmiddlewaretoken]").value;
  }

  function say(message, isError) {
    status.textContent = message;
    status.classList.toggle("error", Boolean(isError));
  }

  async function post(url, data) {
    const response = await fetch(url, {
      method: "POST", credentials: "same-origin", body: JSON.stringify(data || {}),
      headers: {"Accept": "application/json", "Content-Type": "application/json", "X-CSRFToken": csrfToken()},
    });
    const answer = await response.json().catch(() => ({}));
    if (!response.ok) {
      const text = answer.detail || Object.values(answer).flat().join(" ") || `The server answered ${response.status}.`;
      throw new Error(text);
    }
    return answer;
  }

  function focusCell(index) {
    if (!cells.length) return;
    const target = cells[Math.max(0, Math.min(cells.length - 1, index))];
    cells.forEach(cell => { cell.tabIndex = cell === target ? 0 : -1; });
    target.focus();
    target.scrollIntoView({block: "nearest"});
  }

  function cellBelow(cell, direction) {
    // The nearest cell in the next row up or down (rows differ in length between class groups).
    const box = cell.getBoundingClientRect();
    const rows = cells.filter(other => direction > 0 ? other.getBoundingClientRect().top > box.bottom - 1
                                                     : other.getBoundingClientRect().bottom < box.top + 1);
    if (!rows.length) return cell;
    const edge = direction > 0 ? Math.min(...rows.map(other => other.getBoundingClientRect().top))
                               : Math.max(...rows.map(other => other.getBoundingClientRect().top));
    const row = rows.filter(other => Math.abs(other.getBoundingClientRect().top - edge) < 2);
    return row.reduce((best, other) => Math.abs(other.getBoundingClientRect().left - box.left)
                                       < Math.abs(best.getBoundingClientRect().left - box.left) ? other : best);
  }

  function stateOf(answer) {
    if (answer.excluded) return "excluded";
    if (!answer.reviewed_label) return "";
    return answer.reviewed_label === answer.predicted_label ? "confirmed" : "corrected";
  }

  function headline(answer) {
    // The card's lead once reviewed, as the server renders it (classifier/_headline.html): the reviewer's answer.
    if (answer.excluded) return {text: "Excluded", className: "excluded-headline"};
    const label = classLabel[answer.reviewed_label];
    if (otherKinds.has(answer.reviewed_label)) return {text: `${label} — not counted`, className: "other-kind-headline"};
    return {text: label, note: "reviewed"};
  }

  function showHeadline(cell, answer, words) {
    const lead = headline(answer);
    const place = cell.querySelector("[data-headline]");
    const span = document.createElement("span");
    span.textContent = lead.note || lead.text;
    span.className = lead.className || "confidence";
    place.replaceChildren(...(lead.note ? [`${lead.text} `, span] : [span]));
    cell.querySelector("[data-model-line]").hidden = false;
    const text = lead.note ? `${lead.text} ${lead.note}` : lead.text;
    cell.setAttribute("aria-label", `${cell.dataset.file}: ${text}. ${words}. Model: ${cell.dataset.modelAnswer}.`);
  }

  function count(name, change) {
    const data = progress.dataset;
    data[name] = Number(data[name]) + change;
    progress.querySelector(`[data-count="${name}"]`).textContent = data[name];
  }

  function showReview(cell, answer) {
    const before = cell.dataset.state;
    const after = stateOf(answer);
    cell.dataset.state = after;
    ["confirmed", "corrected", "excluded"].forEach(name => cell.classList.toggle(name, name === after));
    const words = {confirmed: "Confirmed", corrected: `Corrected to ${classLabel[answer.reviewed_label]}`,
                   excluded: `Excluded: ${answer.exclusion_reason}`};
    const marks = {confirmed: "✓", corrected: "✎", excluded: "✕"};
    cell.querySelector("[data-review-state]").textContent = after ? `${marks[after]} ${words[after]}` : "";
    showHeadline(cell, answer, words[after]);
    cell.querySelectorAll(".cell-review button").forEach(button => {
      button.classList.toggle("chosen", after !== "excluded" && button.value === answer.reviewed_label);
    });
    if (before === after) return;
    if (before) count(before, -1);
    count(after, 1);
    const data = progress.dataset;
    const reviewed = Number(data.confirmed) + Number(data.corrected) + Number(data.excluded);
    progress.querySelector('[data-count="reviewed"]').textContent = reviewed;
    progress.querySelector("progress").value = reviewed;
    if (reviewedSummary) reviewedSummary.textContent = `reviewed ${reviewed} of ${data.total}`;
    if (reviewed === Number(data.total)) offerVerify();
    if (!before && unreviewedCount && cell.classList.contains("needs-review")) {
      const left = Math.max(0, parseInt(unreviewedCount.textContent, 10) - 1);
      unreviewedCount.textContent = `${left} flagged cell${left === 1 ? "" : "s"} to review`;
      unreviewedCount.classList.toggle("flag", left > 0);
    }
  }

  async function send(cell, url, data, done) {
    cell.classList.add("saving");
    try {
      showReview(cell, await post(url, data));
      say(done);
      return true;
    } catch (error) {
      say(`Not saved: ${error.message === "Failed to fetch" ? "the connection failed. Try again." : error.message}`,
          true);
      return false;
    } finally {
      cell.classList.remove("saving");
    }
  }

  const review = (cell, label) => send(cell, cell.dataset.reviewUrl, {label},
                                       `${cell.dataset.file}: ${classLabel[label]}.`);
  const exclude = (cell, reason) => send(cell, cell.dataset.excludeUrl, {reason},
                                         `${cell.dataset.file}: excluded (${reason}).`);

  function askReason(cell) {
    // Resolves with the reason, or "" when the reviewer cancels (Esc or Cancel).
    return new Promise(resolve => {
      const input = document.getElementById("exclude-reason");
      document.getElementById("exclude-cell").textContent = cell.dataset.file;
      input.value = "";
      excludeDialog.returnValue = "";
      excludeDialog.addEventListener("close", () => {
        resolve(excludeDialog.returnValue === "exclude" ? input.value.trim() : "");
        cell.focus();
      }, {once: true});
      excludeDialog.showModal();
      input.focus();
    });
  }

  function showFullImage(cell) {
    const image = document.getElementById("full-image");
    image.src = cell.dataset.fullUrl;
    // The box around the classified cell, where its crop's square is known (cells classified before: none).
    const box = document.getElementById("full-image-box");
    const [x, y, width, height] = (cell.dataset.box || "").split(" ");
    Object.entries({x, y, width, height}).forEach(([name, value]) => box.firstElementChild.setAttribute(name, value));
    box.classList.toggle("absent", !cell.dataset.box);
    document.getElementById("full-image-caption").hidden = !cell.dataset.box;
    document.getElementById("full-image-title").textContent = cell.dataset.file;
    fullDialog.addEventListener("close", () => cell.focus(), {once: true});
    fullDialog.showModal();
  }

  function moveOn(index, saved) {
    if (saved && index < cells.length - 1) focusCell(index + 1);
  }

  const moves = {ArrowRight: 1, j: 1, ArrowLeft: -1, k: -1};
  grid.addEventListener("keydown", async event => {
    const cell = event.target.closest(".cell");
    if (!cell || event.target !== cell || event.altKey || event.ctrlKey || event.metaKey) return;
    const index = cells.indexOf(cell);
    const key = event.key.toLowerCase();
    if (event.key in moves) {
      focusCell(index + moves[event.key]);
    } else if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      focusCell(cells.indexOf(cellBelow(cell, event.key === "ArrowDown" ? 1 : -1)));
    } else if (key === "f") {
      showFullImage(cell);
    } else if (canReview && classForKey[key]) {
      event.preventDefault();
      moveOn(index, await review(cell, classForKey[key]));
      return;
    } else if (canReview && (key === "x" || key === "5")) {
      event.preventDefault();
      const reason = await askReason(cell);
      if (reason) moveOn(index, await exclude(cell, reason));
      return;
    } else {
      return;
    }
    event.preventDefault();
  });

  grid.addEventListener("click", event => {
    const cell = event.target.closest(".cell");
    if (cell && !event.target.closest("form, details, a")) focusCell(cells.indexOf(cell));
  });

  grid.addEventListener("submit", event => {
    event.preventDefault();
    const cell = event.target.closest(".cell");
    if (event.target.classList.contains("cell-exclude-form")) {
      const reason = event.target.elements.reason.value.trim();
      exclude(cell, reason).then(saved => { if (saved) event.target.closest("details").open = false; });
    } else if (event.submitter) {
      review(cell, event.submitter.value);
    }
  });

  const verify = document.getElementById("verify-form");

  function offerVerify() {
    // Every cell is reviewed now: the refusal shown up front no longer holds, so Verify asks its question instead.
    if (!verify || !verify.dataset.ready) return;
    verify.dataset.confirm = verify.dataset.ready;
    verify.querySelector("button").disabled = false;
    const refusal = document.getElementById("verify-refusal");
    if (refusal) refusal.textContent = "Every cell is reviewed: the sample can be verified.";
  }

  if (verify) {
    // confirm.js asked first (data-confirm) and cancels the event when the answer is no.
    verify.addEventListener("submit", async event => {
      if (event.defaultPrevented) return;
      event.preventDefault();
      try {
        await post(verify.dataset.apiUrl);
        window.location.assign(verify.dataset.doneUrl);
      } catch (error) {
        say(`Not verified: ${error.message}`, true);
      }
    });
  }

  const target = cells.findIndex(cell => `#${cell.id}` === window.location.hash);
  if (target > 0) focusCell(target);
})();
