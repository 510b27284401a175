/* Coding screen: type a code (or words, with the picker) in a row; Enter saves it and the next
 * row opens.
 *
 * Every change goes to an outbox kept in localStorage before it is sent, so a dropped connection
 * or a closed tab loses nothing. Sending again is always safe: the server never adds a code a
 * criterion already has, and removing a code already removed does nothing.
 *
 * Suggested codes: "=" in an empty box (or Alt+Enter) accepts the row's first suggestion, a
 * click accepts any of them; accepting goes through the same outbox. */
(function () {
  "use strict";
  const root = document.querySelector("[data-coding]");
  if (!root) return;

  const strings = JSON.parse(document.getElementById("coding-strings").textContent);
  const statusBox = document.getElementById("coding-status");
  const undoButton = document.getElementById("coding-undo");
  let lastRemoved = null;
  const outbox = SpiralOutbox.queue({
    key: "spiral:coding:outbox",
    send: sendOne,
    settle: (batch, verdict) => settle(batch[0], verdict.status, verdict.payload),
    idle: (handled) => {
      if (handled) refreshSummary();
    },
  });

  function format(template, count) {
    return template.replace("%(count)s", String(count));
  }

  function say(text, canUndo) {
    statusBox.textContent = text || "";
    undoButton.hidden = !canUndo;
  }

  /* ---------- rows ---------- */
  function rows() {
    return Array.from(root.querySelectorAll("tr.coding-row"));
  }

  function rowOf(id) {
    return document.getElementById("criterion-" + id);
  }

  function inputOf(row) {
    return row.querySelector("input.code-input");
  }

  function move(row, step) {
    const all = rows();
    const next = all[all.indexOf(row) + step];
    if (next) {
      inputOf(next).focus();
    } else if (step > 0) {
      // After the last row, Enter again opens the next page.
      const link = document.getElementById("coding-next-page");
      if (link) link.focus();
    }
  }

  function setError(row, text) {
    const box = row.querySelector(".code-error");
    const input = inputOf(row);
    box.textContent = text || "";
    row.classList.toggle("has-error", Boolean(text));
    if (text) input.setAttribute("aria-invalid", "true");
    else input.removeAttribute("aria-invalid");
  }

  /* ---------- chips ---------- */
  function pendingChip(item) {
    const chip = document.createElement("li");
    chip.className = "chip pending";
    chip.dataset.token = item.token;
    const code = document.createElement("span");
    code.className = "code";
    code.textContent = item.code;
    const note = document.createElement("span");
    note.className = "chip-label";
    note.textContent = strings.saving;
    chip.append(code, " ", note);
    return chip;
  }

  /* Changes still in the outbox are shown on their row: a grey chip, or a struck-out one. */
  function showPending(row) {
    const id = row.dataset.criterion;
    const list = row.querySelector("ul.chips");
    if (!list) return;
    outbox
      .items()
      .filter((item) => item.criterion === id)
      .forEach((item) => {
        if (item.op === "add" || item.op === "accept") {
          if (!list.querySelector('[data-token="' + item.token + '"]')) list.appendChild(pendingChip(item));
        } else {
          const chip = list.querySelector('li[data-coding="' + item.coding + '"]');
          if (chip) chip.classList.add("removing");
        }
      });
    updateNone(row);
  }

  function updateNone(row) {
    const list = row.querySelector("ul.chips");
    const none = list.querySelector("li.none");
    const chips = list.querySelectorAll("li.chip:not(.removing)");
    if (none) none.hidden = chips.length > 0;
    row.classList.toggle("uncoded", list.querySelectorAll("li.chip[data-coding]").length === 0);
  }

  function replaceChips(id, html) {
    const row = rowOf(id);
    if (!row) return;
    const holder = document.createElement("div");
    holder.innerHTML = html.trim();
    const list = holder.querySelector("ul.chips");
    if (list) row.querySelector("ul.chips").replaceWith(list);
    showPending(row);
  }

  /* ---------- outbox ---------- */
  function enqueue(item) {
    item.token = SpiralOutbox.newId();
    outbox.push(item);
    const row = rowOf(item.criterion);
    if (row) showPending(row);
  }

  function post(url, body) {
    return SpiralOutbox.post(url, { form: body });
  }

  async function sendOne([item]) {
    const body = new URLSearchParams();
    if (item.op === "add") body.set("code", item.code);
    if (item.op === "accept") body.set("component", item.code);
    body.set("next", location.pathname + location.search);
    let result;
    try {
      result = await post(item.url, body);
    } catch (e) {
      return waiting(strings.waiting, 4000);
    }
    const retry = SpiralOutbox.formRetry(result);
    if (retry) return waiting(retry.login ? strings.login : strings.waiting, retry.delay);
    return { sent: true, status: result.status, payload: result.payload };
  }

  function waiting(text, delay) {
    const count = outbox.items().length;
    say(text + " " + format(count === 1 ? strings.pendingOne : strings.pendingMany, count));
    return { retry: delay };
  }

  function settle(item, status, payload) {
    const row = rowOf(item.criterion);
    if (payload && payload.ok) {
      if (row) {
        const chip = row.querySelector('[data-token="' + item.token + '"]');
        if (chip) chip.remove();
        if (item.op === "add" || item.op === "accept") setError(row, "");
        if (item.op === "accept") clearSuggestions(row);
      }
      replaceChips(item.criterion, payload.codes_html);
      if (item.op === "remove" && payload.removed) {
        lastRemoved = { criterion: item.criterion, code: payload.removed, url: item.addUrl };
        say(payload.message, true);
      } else {
        say(payload.message, false);
      }
      return;
    }
    const error =
      (payload && payload.error) || (status === 403 || status === 404 ? strings.refused : strings.serverError);
    if (row) {
      // Refused: the grey chip goes and the typed code comes back in its box, with the reason.
      const chip = row.querySelector('[data-token="' + item.token + '"]');
      if (chip) chip.remove();
      if (item.op === "remove") {
        const removing = row.querySelector('li[data-coding="' + item.coding + '"]');
        if (removing) removing.classList.remove("removing");
      } else if (item.op === "accept") {
        setError(row, error);
      } else {
        const input = inputOf(row);
        const typed = input.value.trim();
        if (!typed.includes(item.code)) input.value = typed ? item.code + " " + typed : item.code;
        setError(row, error);
      }
      updateNone(row);
    }
    say(error, false);
  }

  function refreshSummary() {
    if (window.htmx && document.getElementById("coding-summary")) {
      window.htmx.ajax("GET", location.pathname + location.search, {
        target: "#coding-summary",
        swap: "outerHTML",
      });
    }
  }

  /* ---------- actions ---------- */
  function addCodes(row, value) {
    setError(row, "");
    enqueue({
      op: "add",
      criterion: row.dataset.criterion,
      code: value.trim(),
      url: row.querySelector("form.code-add").action,
    });
    inputOf(row).value = "";
  }

  /* ---------- suggestions ---------- */
  function clearSuggestions(row) {
    const box = row.querySelector(".suggestions");
    if (box) box.replaceChildren();
  }

  function accept(row, button) {
    const form = button.closest("form.suggestion-accept");
    setError(row, "");
    enqueue({ op: "accept", criterion: row.dataset.criterion, code: button.dataset.code, url: form.action });
    button.closest(".suggestions").querySelectorAll("button.suggestion").forEach((b) => {
      b.disabled = true; // one accepted suggestion per press
    });
  }

  function acceptFirst(row) {
    const button = row.querySelector(".suggestions button.suggestion:not(:disabled)");
    if (!button) {
      say(strings.noSuggestion, false);
      return false;
    }
    accept(row, button);
    return true;
  }

  async function precode(form, submitter) {
    const body = new URLSearchParams(new FormData(form));
    if (submitter && submitter.name) body.set(submitter.name, submitter.value);
    body.set("next", location.pathname + location.search);
    const buttons = Array.from(form.querySelectorAll("button"));
    if (buttons.some((b) => b.disabled)) return;
    buttons.forEach((b) => {
      b.disabled = true;
    });
    say(strings.suggesting, false);
    try {
      const result = await post(form.action, body);
      const payload = result.payload;
      if (!payload || !payload.ok) {
        say((payload && payload.error) || (result.response.status === 403 ? strings.refused : strings.serverError), false);
        return;
      }
      Object.entries(payload.rows).forEach(([id, html]) => {
        const row = rowOf(id);
        const box = row && row.querySelector(".suggestions");
        if (!box) return;
        const holder = document.createElement("div");
        holder.innerHTML = html.trim();
        const fresh = holder.querySelector(".suggestions");
        if (fresh) box.replaceWith(fresh);
      });
      say(payload.message, false);
    } catch (e) {
      say(strings.bulkNetwork, false);
    } finally {
      buttons.forEach((b) => {
        b.disabled = false;
      });
    }
  }

  function removeChip(row, chip) {
    enqueue({
      op: "remove",
      criterion: row.dataset.criterion,
      coding: chip.dataset.coding,
      code: chip.dataset.code,
      url: chip.querySelector("form.chip-remove").action,
      addUrl: row.querySelector("form.code-add").action,
    });
  }

  function removeLast(row) {
    const chips = row.querySelectorAll("ul.chips li.chip[data-coding]:not(.removing)");
    if (chips.length) removeChip(row, chips[chips.length - 1]);
  }

  function undo() {
    if (!lastRemoved) return;
    const item = lastRemoved;
    lastRemoved = null;
    say(strings.undone, false);
    enqueue({ op: "add", criterion: item.criterion, code: item.code, url: item.url });
    const row = rowOf(item.criterion);
    if (row) inputOf(row).focus();
  }

  undoButton.addEventListener("click", undo);

  function updateTicked() {
    const boxes = Array.from(root.querySelectorAll("input.row-tick"));
    const ticked = boxes.filter((box) => box.checked);
    boxes.forEach((box) => box.closest("tr").classList.toggle("ticked", box.checked));
    const counter = document.getElementById("bulk-ticked");
    if (counter) {
      counter.textContent = ticked.length
        ? format(ticked.length === 1 ? strings.tickedOne : strings.tickedMany, ticked.length)
        : strings.tickedNone;
    }
    const all = document.getElementById("tick-all");
    if (all) {
      all.checked = boxes.length > 0 && ticked.length === boxes.length;
      all.indeterminate = ticked.length > 0 && ticked.length < boxes.length;
    }
  }

  function toggle(row) {
    const box = row.querySelector("input.row-tick");
    box.checked = !box.checked;
    updateTicked();
  }

  async function bulk(form) {
    const error = document.getElementById("bulk-error");
    const ticked = Array.from(root.querySelectorAll("input.row-tick:checked"));
    if (!ticked.length) {
      error.textContent = strings.tickFirst;
      form.elements.code.focus();
      return;
    }
    const button = form.querySelector("button[type=submit]");
    if (button.disabled) return; // a double press sends nothing twice
    button.disabled = true;
    const body = new URLSearchParams(new FormData(form)); // the ticks belong to the form
    body.set("next", location.pathname + location.search);
    try {
      const result = await post(form.action, body);
      const payload = result.payload;
      if (!payload) {
        error.textContent = result.response.status === 403 ? strings.refused : strings.serverError;
        return;
      }
      if (!payload.ok) {
        error.textContent = payload.error;
        say(payload.error, false);
        form.elements.code.focus();
        return;
      }
      error.textContent = "";
      Object.entries(payload.rows).forEach(([id, html]) => replaceChips(id, html));
      ticked.forEach((box) => {
        box.checked = false;
      });
      updateTicked();
      form.elements.code.value = "";
      say(payload.message, false);
      refreshSummary();
    } catch (e) {
      error.textContent = strings.bulkNetwork;
    } finally {
      button.disabled = false;
    }
  }

  /* ---------- keyboard ---------- */
  root.addEventListener("keydown", (event) => {
    const input = event.target;
    if (!(input instanceof HTMLInputElement) || !input.classList.contains("code-input")) return;
    if (event.defaultPrevented || event.isComposing) return; // the picker used the key
    const row = input.closest("tr.coding-row");
    const empty = input.value.trim() === "";
    if ((event.key === "Enter" && event.altKey) || (event.key === "=" && empty && !event.ctrlKey && !event.metaKey)) {
      // Accept the first suggestion, then on to the next row as Enter does.
      event.preventDefault();
      if (acceptFirst(row)) move(row, 1);
    } else if (event.key === "Enter") {
      event.preventDefault();
      if (!empty) addCodes(row, input.value);
      if (!event.shiftKey) move(row, 1);
    } else if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      move(row, event.key === "ArrowDown" ? 1 : -1);
    } else if (event.key === "Backspace" && input.value === "" && !event.repeat) {
      // Not on key repeat: holding Backspace to clear a typed code must not remove codes too.
      event.preventDefault();
      removeLast(row);
    } else if (event.key === " " && empty) {
      event.preventDefault();
      toggle(row);
    } else if ((event.key === "z" || event.key === "Z") && (event.ctrlKey || event.metaKey) && empty && lastRemoved) {
      event.preventDefault();
      undo();
    }
  });

  document.addEventListener("keydown", (event) => {
    if (event.altKey && !event.ctrlKey && !event.metaKey && event.code === "KeyB") {
      const input = document.getElementById("bulk-code");
      if (input) {
        event.preventDefault();
        input.focus();
      }
    }
  });

  root.addEventListener("submit", (event) => {
    const form = event.target;
    if (form.matches("form.code-add")) {
      event.preventDefault();
      const row = form.closest("tr.coding-row");
      const input = inputOf(row);
      if (input.value.trim()) addCodes(row, input.value);
      input.focus();
    } else if (form.matches("form.chip-remove")) {
      event.preventDefault();
      const row = form.closest("tr.coding-row");
      removeChip(row, form.closest("li.chip"));
      inputOf(row).focus();
    } else if (form.id === "coding-bulk") {
      event.preventDefault();
      bulk(form);
    } else if (form.matches("form.suggestion-accept")) {
      event.preventDefault();
      const row = form.closest("tr.coding-row");
      const button = form.querySelector("button.suggestion");
      if (!button.disabled) accept(row, button);
      inputOf(row).focus();
    } else if (form.id === "coding-precode") {
      event.preventDefault();
      precode(form, event.submitter);
    }
  });

  root.addEventListener("change", (event) => {
    const target = event.target;
    if (target.id === "tick-all") {
      root.querySelectorAll("input.row-tick").forEach((box) => {
        box.checked = target.checked;
      });
      updateTicked();
    } else if (target.classList && target.classList.contains("row-tick")) {
      updateTicked();
    }
  });

  /* ---------- start, and again when the filters bring new rows ---------- */
  function init() {
    const all = document.getElementById("tick-all");
    if (all) all.hidden = false;
    rows().forEach(showPending);
    updateTicked();
  }

  document.body.addEventListener("htmx:afterSwap", (event) => {
    if (event.detail && event.detail.target && event.detail.target.id === "coding-results") init();
  });
  init();
  outbox.flush();
})();
