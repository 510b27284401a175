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
  let sending = false;
  let failures = 0;
  let retryTimer = null;

  function newId() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    // randomUUID needs a secure context; a village-hall network over plain http has none.
    const bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  function read(key, fallback) {
    try {
      const value = localStorage.getItem(key);
      return value === null ? fallback : JSON.parse(value);
    } catch (e) {
      return fallback;
    }
  }

  function write(key, value) {
    try {
      localStorage.setItem(key, JSON.stringify(value));
    } catch (e) {
      /* storage full or disabled: the post-its stay in memory while the page is open */
    }
  }

  let participant = read(keyParticipant, null);
  if (!participant) {
    participant = newId();
    write(keyParticipant, participant);
  }
  let postits = read(keyPostits, []);

  function save() {
    write(keyPostits, postits);
    render();
  }

  function pending() {
    return postits.filter((p) => p.state === "pending");
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
    } else if (sending) {
      text = strings.sending;
      state = "sending";
    } else if (waiting) {
      text = waiting === 1 ? strings.waitingOne : fmt(strings.waitingMany, { count: waiting });
      state = "waiting";
    } else {
      text = postits.length ? strings.allSent : strings.online;
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
        ...postits
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
                postits = postits.filter((x) => x.id !== p.id);
                save();
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
    write(keyStep, step);
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
      postits.push({ id: newId(), q: section.dataset.question, text: text, state: "pending" });
      save();
      form.elements.text.value = "";
      form.elements.text.focus();
      flush();
    });
  });

  /* ---------- sending ---------- */
  function schedule(delay) {
    clearTimeout(retryTimer);
    retryTimer = setTimeout(flush, delay);
  }

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
    clearTimeout(retryTimer);
    go(read(keyStep, 0));
    render();
  }

  async function flush() {
    if (sending || closed) return;
    const batch = pending().slice(0, BATCH);
    if (!batch.length) {
      showStatus();
      return;
    }
    if (!navigator.onLine) {
      showStatus();
      schedule(backoff());
      return;
    }
    sending = true;
    showStatus();
    let response = null;
    let payload = null;
    try {
      response = await fetch(submitUrl, {
        method: "POST",
        headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": csrfToken },
        body: JSON.stringify({
          participant: participant,
          items: batch.map((p) => ({ client_id: p.id, question: p.q, text: p.text })),
        }),
        credentials: "same-origin",
        cache: "no-store",
      });
      try {
        payload = await response.json();
      } catch (e) {
        payload = null;
      }
    } catch (e) {
      response = null; // no network: keep everything, try again later
    }
    sending = false;
    if (response && response.status === 410) {
      setClosed();
      return;
    }
    if (response && response.status === 403) {
      // The CSRF cookie was lost (a long pause, a cleared browser): get a new one, retry.
      await refreshToken();
      schedule(backoff());
      showStatus();
      return;
    }
    if (response && response.status === 429) {
      const wait = parseInt(response.headers.get("Retry-After") || "5", 10);
      schedule(wait * 1000 + Math.floor(Math.random() * 1000));
      showStatus();
      return;
    }
    if (!response || !payload || response.status >= 500 || !Array.isArray(payload.results)) {
      if (response && payload && response.status === 422 && payload.error) {
        // The whole batch was refused (this phone's quota): say so on each post-it.
        batch.forEach((p) => {
          p.state = "refused";
          p.error = payload.error;
        });
        save();
        return;
      }
      schedule(backoff());
      showStatus();
      return;
    }
    failures = 0;
    const results = new Map(payload.results.map((r) => [r.client_id, r]));
    batch.forEach((p) => {
      const result = results.get(p.id);
      if (!result) return;
      if (result.ok) {
        p.state = "sent";
      } else {
        p.state = "refused";
        p.error = Object.values(result.errors || {}).join(" ");
      }
    });
    save();
    if (pending().length) flush();
  }

  window.addEventListener("online", () => {
    failures = 0;
    flush();
  });
  window.addEventListener("offline", showStatus);
  // Every 30 s: learn that writing was closed even while nothing is being sent.
  setInterval(() => {
    if (!closed && navigator.onLine && !sending) {
      refreshToken().then(() => flush());
    }
  }, 30000);

  go(closed ? 0 : read(keyStep, 0));
  render();
  flush();
})();
