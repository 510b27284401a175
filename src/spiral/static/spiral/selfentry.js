/* Self-entry on a phone: one question at a time, one idea per post-it.
 *
 * Every post-it is written to localStorage with its own client id before anything is sent, then
 * sent in small batches with retries (growing waits, reset when the network comes back). The
 * server answers for each client id and ignores one it already saved, so a retry after a lost
 * answer never counts a post-it twice, and a phone that goes offline loses nothing. The
 * participant is a random id kept on this phone only: it lets the server count phones. */
(function () {
  "use strict";
  const root = document.querySelector("[data-selfentry]");
  if (!root) return;

  const strings = JSON.parse(document.getElementById("selfentry-strings").textContent);
  const code = root.dataset.code;
  const submitUrl = root.dataset.submitUrl;
  const statusUrl = root.dataset.statusUrl;
  const maxLength = parseInt(root.dataset.maxLength, 10) || 500;
  const keyPostits = "spiral:se:" + code + ":postits";
  const keyStep = "spiral:se:" + code + ":step";
  const keyParticipant = "spiral:se:participant";
  const netStatus = root.querySelector("[data-net-status]");
  const closedNotice = root.querySelector("[data-closed]");
  const steps = Array.from(root.querySelectorAll("[data-step]"));
  const BATCH = 20;
  let csrfToken = root.querySelector("input[name=csrfmiddlewaretoken]").value;
  let closed = root.dataset.open !== "1";
  let failures = 0;
  const stepStore = SpiralOutbox.store(keyStep);
  const participantStore = SpiralOutbox.store(keyParticipant);

  let participant = participantStore.read(null);
  if (!participant) {
    participant = SpiralOutbox.newId();
    participantStore.write(participant);
  }

  /* The phone's outbox is the list of its post-its, each with a state: pending ones are sent,
   * sent and refused ones stay listed under their question. */
  const outbox = SpiralOutbox.queue({
    key: keyPostits,
    batchSize: BATCH,
    pending: (p) => p.state === "pending",
    paused: () => closed,
    send: sendBatch,
    changed: render,
    idle: showStatus,
    online: () => {
      failures = 0;
    },
  });

  function pending() {
    return outbox.waiting();
  }

  /* ---------- screen ---------- */
  function fmt(template, values) {
    return template.replace(/%\((\w+)\)s/g, (m, name) => String(values[name]));
  }

  function showStatus() {
    const waiting = pending().length;
    let text;
    let state;
    if (closed) {
      text = "";
      state = "closed";
    } else if (!navigator.onLine) {
      text = strings.offline;
      state = "offline";
    } else if (outbox.busy()) {
      text = strings.sending;
      state = "sending";
    } else if (waiting) {
      text = waiting === 1 ? strings.waitingOne : fmt(strings.waitingMany, { count: waiting });
      state = "waiting";
    } else {
      text = outbox.items().length ? strings.allSent : strings.online;
      state = "online";
    }
    if (waiting && !navigator.onLine) {
      text += " " + (waiting === 1 ? strings.waitingOne : fmt(strings.waitingMany, { count: waiting }));
    }
    netStatus.textContent = text;
    netStatus.dataset.state = state;
    closedNotice.hidden = !closed;
  }

  function render() {
    root.querySelectorAll("[data-list]").forEach((list) => {
      const question = list.dataset.list;
      list.replaceChildren(
        ...outbox
          .items()
          .filter((p) => String(p.q) === question)
          .map((p) => {
            const li = document.createElement("li");
            li.className = "my-postit " + p.state;
            li.dataset.clientId = p.id;
            const text = document.createElement("span");
            text.className = "postit-text";
            text.dir = "auto";
            text.textContent = p.text;
            const state = document.createElement("small");
            state.className = "postit-state";
            state.textContent = p.state === "sent" ? "✓ " + strings.sent : p.state === "refused" ? strings.refused + " — " + (p.error || "") : "… " + strings.pending;
            li.append(text, " ", state);
            if (p.state === "refused") {
              const remove = document.createElement("button");
              remove.type = "button";
              remove.className = "link";
              remove.textContent = strings.remove;
              remove.addEventListener("click", () => {
                outbox.replace(outbox.items().filter((x) => x.id !== p.id));
              });
              li.append(" ", remove);
            }
            return li;
          })
      );
    });
    showStatus();
  }

  function go(step) {
    // Once closed, every question shows what this phone wrote (and what it could not send).
    root.classList.toggle("is-closed", closed);
    steps.forEach((section) => {
      section.hidden = closed ? !section.dataset.question : section.dataset.step !== String(step);
    });
    root.querySelector("[data-intro]").hidden = closed || String(step) !== "0";
    if (closed) return;
    stepStore.write(step);
    const shown = steps.find((s) => !s.hidden);
    const area = shown && shown.querySelector("textarea");
    if (area) area.focus();
  }

  root.querySelectorAll("[data-go]").forEach((button) => {
    button.addEventListener("click", () => {
      go(button.dataset.go);
      window.scrollTo(0, 0);
    });
  });

  root.querySelectorAll("form.postit-form").forEach((form) => {
    const section = form.closest("[data-question]");
    const error = form.querySelector("[data-error]");
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const text = form.elements.text.value.trim();
      if (!text) {
        error.textContent = strings.empty;
        return;
      }
      if (text.length > maxLength) {
        error.textContent = fmt(strings.tooLong, { count: maxLength });
        return;
      }
      error.textContent = "";
      form.elements.text.value = "";
      form.elements.text.focus();
      outbox.push({ id: SpiralOutbox.newId(), q: section.dataset.question, text: text, state: "pending" });
    });
  });

  /* ---------- sending ---------- */
  function backoff() {
    failures += 1;
    // 1 s, 2 s, 4 s ... up to 30 s, with a little jitter so phones do not all retry at once.
    return Math.min(30000, 1000 * Math.pow(2, failures - 1)) + Math.floor(Math.random() * 500);
  }

  async function refreshToken() {
    try {
      const response = await fetch(statusUrl, { credentials: "same-origin", cache: "no-store" });
      const payload = await response.json();
      if (payload.csrf) csrfToken = payload.csrf;
      if (payload.open === false) setClosed();
      return true;
    } catch (e) {
      return false;
    }
  }

  function setClosed() {
    closed = true;
    outbox.cancel();
    go(stepStore.read(0));
    render();
  }

  async function sendBatch(batch) {
    if (!navigator.onLine) {
      showStatus();
      return { retry: backoff() };
    }
    showStatus();
    let result = null;
    try {
      result = await SpiralOutbox.post(submitUrl, {
        json: {
          participant: participant,
          items: batch.map((p) => ({ client_id: p.id, question: p.q, text: p.text })),
        },
        csrf: csrfToken,
        cache: "no-store",
      });
    } catch (e) {
      result = null; // no network: keep everything, try again later
    }
    const response = result && result.response;
    const payload = result && result.payload;
    if (response && response.status === 410) {
      setClosed();
      return { stop: true };
    }
    if (response && response.status === 403) {
      // The CSRF cookie was lost (a long pause, a cleared browser): get a new one, retry.
      await refreshToken();
      return { retry: backoff() };
    }
    if (response && response.status === 429) {
      const wait = parseInt(response.headers.get("Retry-After") || "5", 10);
      return { retry: wait * 1000 + Math.floor(Math.random() * 1000) };
    }
    if (!response || !payload || response.status >= 500 || !Array.isArray(payload.results)) {
      if (response && payload && response.status === 422 && payload.error) {
        // The whole batch was refused (this phone's quota): say so on each post-it.
        batch.forEach((p) => {
          p.state = "refused";
          p.error = payload.error;
        });
        return { sent: true };
      }
      return { retry: backoff() };
    }
    failures = 0;
    const results = new Map(payload.results.map((r) => [r.client_id, r]));
    batch.forEach((p) => {
      const answer = results.get(p.id);
      if (!answer) return;
      if (answer.ok) {
        p.state = "sent";
      } else {
        p.state = "refused";
        p.error = Object.values(answer.errors || {}).join(" ");
      }
    });
    return { sent: true };
  }

  window.addEventListener("offline", showStatus);
  // Every 30 s: learn that writing was closed even while nothing is being sent.
  setInterval(() => {
    if (!closed && navigator.onLine && !outbox.busy()) {
      refreshToken().then(() => outbox.flush());
    }
  }, 30000);

  go(closed ? 0 : stepStore.read(0));
  render();
  outbox.flush();
})();
