/* Blind double coding: the second coder types a code (or words, with the picker) in a row; Enter
 * saves it and the next row opens. The criteria's own codes are never on this page.
 *
 * As on the coding screen, every change goes to an outbox kept in localStorage before it is
 * sent, so a dropped connection or a closed tab loses nothing; sending again is safe (the server
 * never adds a code twice and removing a removed code does nothing). */
(function () {
  "use strict";
  const root = document.querySelector("[data-blind]");
  if (!root) return;

  const strings = JSON.parse(document.getElementById("blind-strings").textContent);
  const statusBox = document.getElementById("coding-status");
  const progressBox = document.getElementById("blind-progress");
  const outbox = SpiralOutbox.queue({
    key: "spiral:double-coding:outbox",
    send: sendOne,
    settle: (batch, verdict) => settle(batch[0], verdict.status, verdict.payload),
  });

  function say(text) {
    statusBox.textContent = text || "";
  }

  function rows() {
    return Array.from(root.querySelectorAll("tr.coding-row"));
  }

  function rowOf(id) {
    return document.getElementById("item-" + id);
  }

  function inputOf(row) {
    return row.querySelector("input.code-input");
  }

  function move(row, step) {
    const all = rows();
    let index = all.indexOf(row) + step;
    while (all[index] && !inputOf(all[index])) index += step;
    if (all[index]) {
      inputOf(all[index]).focus();
    } else if (step > 0) {
      const link = document.getElementById("coding-next-page");
      if (link) link.focus();
    }
  }

  function setError(row, text) {
    const box = row.querySelector(".code-error");
    const input = inputOf(row);
    if (!box || !input) return;
    box.textContent = text || "";
    row.classList.toggle("has-error", Boolean(text));
    if (text) input.setAttribute("aria-invalid", "true");
    else input.removeAttribute("aria-invalid");
  }

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

  function showPending(row) {
    const list = row.querySelector("ul.chips");
    if (!list) return;
    outbox
      .items()
      .filter((entry) => entry.item === row.dataset.item)
      .forEach((entry) => {
        if (entry.op === "add") {
          if (!list.querySelector('[data-token="' + entry.token + '"]')) list.appendChild(pendingChip(entry));
        } else {
          list.querySelectorAll("li.chip[data-code]").forEach((chip) => {
            if (chip.dataset.code === entry.code) chip.classList.add("removing");
          });
        }
      });
    const none = list.querySelector("li.none");
    if (none) none.hidden = list.querySelectorAll("li.chip:not(.removing)").length > 0;
  }

  function replaceChips(row, html) {
    const holder = document.createElement("div");
    holder.innerHTML = html.trim();
    const list = holder.querySelector("ul.chips");
    if (list) row.querySelector("ul.chips").replaceWith(list);
    showPending(row);
  }

  function enqueue(entry) {
    entry.token = SpiralOutbox.newId();
    outbox.push(entry);
    const row = rowOf(entry.item);
    if (row) showPending(row);
  }

  async function sendOne([entry]) {
    const body = new URLSearchParams();
    body.set("code", entry.code);
    body.set("next", location.pathname + location.search);
    let result;
    try {
      result = await SpiralOutbox.post(entry.url, { form: body });
    } catch (e) {
      return waiting(strings.waiting, 4000);
    }
    const retry = SpiralOutbox.formRetry(result);
    if (retry) return waiting(retry.login ? strings.login : strings.waiting, retry.delay);
    return { sent: true, status: result.status, payload: result.payload };
  }

  function waiting(text, delay) {
    say(text);
    return { retry: delay };
  }

  function settle(entry, status, payload) {
    const row = rowOf(entry.item);
    if (payload && payload.ok) {
      if (row) {
        const chip = row.querySelector('[data-token="' + entry.token + '"]');
        if (chip) chip.remove();
        if (entry.op === "add") setError(row, "");
        replaceChips(row, payload.codes_html);
        row.classList.toggle("uncoded", !payload.done);
      }
      if (progressBox && payload.progress) progressBox.textContent = payload.progress;
      say(payload.message);
      return;
    }
    const error = (payload && payload.error) || (status === 403 || status === 404 ? strings.refused : strings.serverError);
    if (row) {
      const chip = row.querySelector('[data-token="' + entry.token + '"]');
      if (chip) chip.remove();
      row.querySelectorAll("li.chip.removing").forEach((c) => c.classList.remove("removing"));
      const input = inputOf(row);
      if (entry.op === "add" && input) {
        // Refused: the typed code comes back in its box, with the reason beside it.
        const typed = input.value.trim();
        if (!typed.includes(entry.code)) input.value = typed ? entry.code + " " + typed : entry.code;
        setError(row, error);
      }
      showPending(row);
    }
    say(error);
  }

  function addCodes(row, value) {
    setError(row, "");
    enqueue({ op: "add", item: row.dataset.item, code: value.trim(), url: row.querySelector("form.code-add").action });
    inputOf(row).value = "";
  }

  function removeChip(row, chip) {
    const form = chip.querySelector("form.chip-remove");
    if (!form) return;
    enqueue({ op: "remove", item: row.dataset.item, code: chip.dataset.code, url: form.action });
  }

  root.addEventListener("keydown", (event) => {
    const input = event.target;
    if (!(input instanceof HTMLInputElement) || !input.classList.contains("code-input")) return;
    if (event.defaultPrevented || event.isComposing) return; // the picker used the key
    const row = input.closest("tr.coding-row");
    const empty = input.value.trim() === "";
    if (event.key === "Enter") {
      event.preventDefault();
      if (!empty) addCodes(row, input.value);
      if (!event.shiftKey) move(row, 1);
    } else if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      move(row, event.key === "ArrowDown" ? 1 : -1);
    } else if (event.key === "Backspace" && input.value === "" && !event.repeat) {
      event.preventDefault();
      const chips = row.querySelectorAll("ul.chips li.chip[data-code]:not(.removing):not(.pending)");
      if (chips.length) removeChip(row, chips[chips.length - 1]);
    }
  });

  root.addEventListener("submit", (event) => {
    const form = event.target;
    const row = form.closest("tr.coding-row");
    if (!row) return;
    if (form.matches("form.code-add")) {
      event.preventDefault();
      const input = inputOf(row);
      if (input.value.trim()) addCodes(row, input.value);
      input.focus();
    } else if (form.matches("form.chip-remove")) {
      event.preventDefault();
      removeChip(row, form.closest("li.chip"));
      const input = inputOf(row);
      if (input) input.focus();
    }
  });

  rows().forEach(showPending);
  outbox.flush();
})();
