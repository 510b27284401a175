/* Transcription screen: type a criterion, press Enter, the next line opens.
 *
 * Every typed line gets a client id and goes to an outbox kept in localStorage before it is
 * sent, so a dropped connection or a closed tab loses nothing; the server ignores a client id it
 * has already saved, so retries never count a post-it twice. */
(function () {
  "use strict";
  const root = document.querySelector("[data-transcription]");
  if (!root) return;

  const strings = JSON.parse(document.getElementById("transcribe-strings").textContent);
  const meetingId = root.dataset.meeting;
  const addUrl = root.dataset.addUrl;
  const pasteUrl = root.dataset.pasteUrl;
  const outboxKey = "spiral:outbox:meeting:" + meetingId;
  const failedKey = "spiral:failed:meeting:" + meetingId;
  const draftKey = (question) => "spiral:paste:meeting:" + meetingId + ":" + question;
  const csrfToken = root.querySelector("input[name=csrfmiddlewaretoken]").value;
  const newToken = SpiralOutbox.newId;
  const outboxStatus = document.getElementById("outbox-status");
  const failedTemplate = document.getElementById("failed-row-template");
  const tabs = Array.from(root.querySelectorAll("[role=tab]"));

  function format(template, count) {
    return template.replace("%(count)s", String(count));
  }

  /* ---------- tabs ---------- */
  function activate(tab, focusEntry) {
    tabs.forEach((t) => {
      const selected = t === tab;
      t.setAttribute("aria-selected", selected ? "true" : "false");
      t.tabIndex = selected ? 0 : -1;
      document.getElementById(t.getAttribute("aria-controls")).hidden = !selected;
    });
    const url = new URL(window.location.href);
    url.searchParams.set("q", tab.dataset.question);
    history.replaceState(null, "", url);
    if (focusEntry) panelOf(tab.dataset.question).querySelector(".entry input[name=text]").focus();
  }

  function panelOf(questionId) {
    return document.getElementById("panel-" + questionId);
  }

  tabs.forEach((tab, index) => {
    tab.addEventListener("click", () => activate(tab, true));
    tab.addEventListener("keydown", (event) => {
      let next = null;
      if (event.key === "ArrowRight") next = tabs[(index + 1) % tabs.length];
      if (event.key === "ArrowLeft") next = tabs[(index - 1 + tabs.length) % tabs.length];
      if (next) {
        event.preventDefault();
        activate(next, false);
        next.focus();
      }
    });
  });

  document.addEventListener("keydown", (event) => {
    if (!event.altKey || event.ctrlKey || event.metaKey) return;
    const digit = event.code && event.code.startsWith("Digit") ? event.code.slice(5) : event.key;
    const tab = tabs.find((t) => t.dataset.shortcut === digit);
    if (tab) {
      event.preventDefault();
      activate(tab, true);
    }
  });

  /* ---------- outbox ---------- */
  const outbox = SpiralOutbox.queue({
    key: outboxKey,
    send: sendOne,
    settle: ([item], verdict) => settle(item, verdict.payload),
    changed: showOutboxStatus,
  });

  function showOutboxStatus() {
    const waiting = outbox.items().length;
    outboxStatus.hidden = waiting === 0;
    outboxStatus.textContent = waiting ? format(waiting === 1 ? strings.outboxOne : strings.outboxMany, waiting) : "";
  }

  function pendingRow(item) {
    const row = document.createElement("tr");
    row.className = "criterion-row pending";
    row.dataset.clientToken = item.client_token;
    const cells = [item.expressions, item.text, item.code || "–", item.language, strings.sending];
    cells.forEach((value, i) => {
      const cell = document.createElement("td");
      cell.textContent = value;
      if (i === 0) cell.className = "num";
      if (i === 1) cell.dir = "auto";
      if (i === 4) cell.className = "status";
      row.appendChild(cell);
    });
    return row;
  }

  function rowFor(token) {
    return root.querySelector('tr[data-client-token="' + CSS.escape(token) + '"]');
  }

  /* The newest lines are shown first, right under the entry row. */
  function insertHtml(tbody, html, replace) {
    const holder = document.createElement("tbody");
    holder.innerHTML = html.trim();
    const rows = Array.from(holder.children);
    rows.forEach((row) => {
      const existing = document.getElementById(row.id);
      if (existing && existing !== replace) existing.remove();
    });
    if (replace && rows.length) {
      replace.replaceWith(rows[0]);
    } else {
      tbody.prepend(...rows);
    }
    rows.forEach((row) => window.htmx && window.htmx.process(row));
  }

  function updateCounts(counts) {
    if (!counts) return;
    root.querySelectorAll("[data-count-for]").forEach((badge) => {
      badge.textContent = counts[badge.dataset.countFor] || 0;
    });
  }

  /* Lines the server refused stay on screen, and in this browser, until fixed or discarded. */
  const readList = SpiralOutbox.readList;

  function writeList(key, items) {
    SpiralOutbox.store(key).writeList(items);
  }

  function forgetFailed(token) {
    writeList(failedKey, readList(failedKey).filter((entry) => entry.item.client_token !== token));
  }

  function showFailed(item, errors, restoring) {
    if (!restoring) {
      writeList(failedKey, readList(failedKey).concat([{ item: item, errors: errors }]));
    }
    const row = failedTemplate.content.firstElementChild.cloneNode(true);
    row.dataset.clientToken = item.client_token;
    const form = row.querySelector("form");
    form.elements.text.value = item.text;
    form.elements.expressions.value = item.expressions;
    form.elements.code.value = item.code || "";
    form.elements.language.value = item.language;
    form.querySelector(".errorlist").textContent = Object.values(errors).join(" ");
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const retry = {
        question: item.question,
        text: form.elements.text.value,
        expressions: form.elements.expressions.value,
        code: form.elements.code.value,
        language: item.language,
        client_token: newToken(),
      };
      row.remove();
      forgetFailed(item.client_token);
      enqueue(retry);
    });
    form.querySelector(".discard").addEventListener("click", () => {
      row.remove();
      forgetFailed(item.client_token);
    });
    const existing = rowFor(item.client_token);
    if (existing) existing.replaceWith(row);
    else document.getElementById("rows-" + item.question).prepend(row);
    return row;
  }

  function enqueue(item) {
    document.getElementById("rows-" + item.question).prepend(pendingRow(item));
    outbox.push(item);
  }

  async function sendOne([item]) {
    let result;
    try {
      result = await SpiralOutbox.post(addUrl, { json: item, csrf: csrfToken });
    } catch (e) {
      markWaiting();
      return { retry: 4000 };
    }
    if (result.status >= 500 || result.payload === null) {
      // Server trouble (or a proxy page): keep the line and try again later.
      markWaiting();
      return { retry: 8000 };
    }
    return { sent: true, payload: result.payload };
  }

  function settle(item, payload) {
    const row = rowFor(item.client_token);
    if (payload.ok) {
      const tbody = document.getElementById("rows-" + item.question);
      insertHtml(tbody, payload.row_html, row);
      updateCounts(payload.counts);
    } else {
      showFailed(item, payload.errors || { server: strings.serverError });
    }
  }

  function markWaiting() {
    root.querySelectorAll("tr.pending .status").forEach((cell) => {
      cell.textContent = strings.waiting;
    });
  }

  /* ---------- typing ---------- */
  root.querySelectorAll("form.entry").forEach((form) => {
    const panel = form.closest("[role=tabpanel]");
    const errorBox = form.querySelector(".entry-error");
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const text = form.elements.text.value;
      if (!text.trim()) {
        errorBox.textContent = strings.empty;
        form.elements.text.focus();
        return;
      }
      errorBox.textContent = "";
      enqueue({
        question: panel.dataset.question,
        text: text,
        expressions: form.elements.expressions.value || "1",
        code: form.elements.code.value,
        language: form.elements.language.value,
        client_token: newToken(),
      });
      form.elements.text.value = "";
      form.elements.expressions.value = "1";
      form.elements.code.value = "";
      form.elements.text.focus();
    });

    // A multi-line paste into the criterion box goes to the paste form of the same question.
    form.elements.text.addEventListener("paste", (event) => {
      const pasted = (event.clipboardData || window.clipboardData).getData("text");
      if (!pasted || !/\r|\n/.test(pasted.trim())) return;
      event.preventDefault();
      const details = panel.querySelector("details.paste");
      const area = details.querySelector("textarea");
      details.open = true;
      area.value = area.value ? area.value.replace(/\s*$/, "\n") + pasted : pasted;
      area.dispatchEvent(new Event("input"));
      details.querySelector("button[type=submit]").focus();
    });
  });

  /* ---------- pasting ---------- */
  root.querySelectorAll("form.paste-form").forEach((form) => {
    const panel = form.closest("[role=tabpanel]");
    const result = form.querySelector(".paste-result");
    const button = form.querySelector("button[type=submit]");
    form.elements.batch_token.value = newToken();
    const key = draftKey(panel.dataset.question);
    const saveDraft = () => writeList(key, form.elements.text.value ? [form.elements.text.value] : []);
    const draft = readList(key);
    if (draft.length && !form.elements.text.value) {
      form.elements.text.value = draft[0];
      form.closest("details").open = true;
    }
    form.elements.text.addEventListener("input", saveDraft);
    form.elements.text.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
        event.preventDefault();
        form.requestSubmit();
      }
    });
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      if (button.disabled) return; // a double click sends nothing twice
      button.disabled = true;
      const body = {
        question: panel.dataset.question,
        text: form.elements.text.value,
        language: form.elements.language.value,
        batch_token: form.elements.batch_token.value,
      };
      try {
        const { response, payload } = await SpiralOutbox.post(pasteUrl, { json: body, csrf: csrfToken });
        // An answer that is not JSON (a proxy page) is a network failure to the person.
        if (payload === null) throw new Error("not JSON");
        if (!response.ok) {
          result.replaceChildren(errorParagraph(Object.values(payload.errors || {}).join(" ") || strings.serverError));
          return;
        }
        insertHtml(document.getElementById("rows-" + panel.dataset.question), payload.rows_html, null);
        updateCounts(payload.counts);
        form.elements.batch_token.value = newToken();
        const parts = [];
        if (payload.saved) {
          const ok = document.createElement("p");
          ok.textContent = format(payload.saved === 1 ? strings.pasteSavedOne : strings.pasteSavedMany, payload.saved);
          parts.push(ok);
        }
        if (payload.rejected.length) {
          parts.push(errorParagraph(strings.pasteRejected));
          const list = document.createElement("ol");
          list.className = "paste-errors";
          payload.rejected.forEach((line) => {
            const li = document.createElement("li");
            const code = document.createElement("code");
            code.dir = "auto";
            code.textContent = line.raw;
            li.append(code, " — " + line.error);
            list.appendChild(li);
          });
          parts.push(list);
          form.elements.text.value = payload.rejected.map((line) => line.raw).join("\n");
          form.elements.text.focus();
        } else {
          form.elements.text.value = "";
          panel.querySelector(".entry input[name=text]").focus();
        }
        saveDraft();
        result.replaceChildren(...parts);
      } catch (e) {
        result.replaceChildren(errorParagraph(strings.pasteNetwork));
      } finally {
        button.disabled = false;
      }
    });
  });

  function errorParagraph(text) {
    const p = document.createElement("p");
    p.className = "errorlist";
    p.textContent = text;
    return p;
  }

  // Lines refused earlier, then lines typed before a reload or a crash: show them again.
  readList(failedKey).forEach((entry) => {
    if (document.getElementById("rows-" + entry.item.question)) showFailed(entry.item, entry.errors, true);
  });
  outbox.items().forEach((item) => {
    const tbody = document.getElementById("rows-" + item.question);
    if (tbody && !rowFor(item.client_token)) tbody.prepend(pendingRow(item));
  });
  showOutboxStatus();
  outbox.flush();
})();
