/* The offline outbox shared by every screen that writes what a person typed (coding, double
 * coding, transcription, self-entry on a phone) and by the forms that keep answers in the
 * browser (survey, carbon questionnaire).
 *
 * Why one module: "nothing a citizen wrote is ever lost" (docs/decisions/0003) rests on the
 * same few rules on every screen, and copies of them drift. A write is put in localStorage
 * before it is sent; items are sent one batch at a time, in order, never two sends at once;
 * what the server did not answer for stays queued and is sent again later or when the browser
 * says it is back online. The server de-duplicates by client id (or refuses nothing twice), so
 * sending again is always safe.
 *
 * What a screen decides stays in the screen: how an item is sent, what an answer means (done,
 * try again after a delay, stop) and what is shown. Loaded as a plain script before the
 * screen's own one (no bundler): it defines window.SpiralOutbox. */
(function () {
  "use strict";

  /* A client id: a UUID where the browser allows it. crypto.randomUUID needs a secure
   * context, and a village-hall network over plain http has none: 32 random hex digits then. */
  function newId() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    const bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  /* JSON kept under one localStorage key. Storage may be full or disabled (private mode): then
   * reads give the fallback and writes do nothing, and what was typed stays in memory and on
   * screen while the page is open. */
  function store(key) {
    return {
      read(fallback) {
        try {
          const value = localStorage.getItem(key);
          return value === null ? fallback : JSON.parse(value);
        } catch (e) {
          return fallback;
        }
      },
      write(value) {
        try {
          localStorage.setItem(key, JSON.stringify(value));
        } catch (e) {
          /* storage full or disabled */
        }
      },
      /* An empty list leaves no key behind, so "nothing waiting" is "no key" (tests rely on it). */
      writeList(items) {
        try {
          if (items.length) localStorage.setItem(key, JSON.stringify(items));
          else localStorage.removeItem(key);
        } catch (e) {
          /* storage full or disabled */
        }
      },
      remove() {
        try {
          localStorage.removeItem(key);
        } catch (e) {
          /* storage disabled */
        }
      },
    };
  }

  function readList(key) {
    const items = store(key).read([]);
    return Array.isArray(items) ? items : [];
  }

  function csrfFromPage() {
    const input = document.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  /* POST and read a JSON answer; an answer that is not JSON (a log-in or proxy page) gives a
   * null payload. A network failure throws, as fetch does. */
  async function post(url, options) {
    const json = options.json !== undefined;
    const init = {
      method: "POST",
      headers: {
        Accept: "application/json",
        "Content-Type": json ? "application/json" : "application/x-www-form-urlencoded",
        "X-CSRFToken": options.csrf !== undefined ? options.csrf : csrfFromPage(),
      },
      body: json ? JSON.stringify(options.json) : options.form,
      credentials: "same-origin",
    };
    if (options.cache) init.cache = options.cache;
    const response = await fetch(url, init);
    let payload = null;
    try {
      payload = await response.json();
    } catch (e) {
      payload = null;
    }
    return { response: response, status: response.status, payload: payload };
  }

  /* What a form-post screen (coding, double coding) does with an answer that is not the
   * server's word on the item: the log-in page (the session ended: keep everything until it is
   * back) or a server or proxy failure. Returns {delay, login}, or null for a real answer. */
  function formRetry(result) {
    if (result.payload === null && result.response.redirected) return { delay: 15000, login: true };
    if (result.status >= 500 || (result.payload === null && result.status < 400)) {
      return { delay: 8000, login: false };
    }
    return null;
  }

  /* A queue of items persisted under `key`.
   *   send(batch) -> Promise of a verdict:
   *     {retry: ms}  keep the batch, try again after ms (or when back online);
   *     {stop: true} keep the batch, try again only when asked;
   *     {sent: true} the server answered for the batch: it leaves the queue (or, with a
   *                  `pending` predicate, the screen has marked its items) and settle() runs.
   *   pending(item): which items still wait (default: all; items then leave once sent).
   *   batchSize (default 1), paused() (nothing is sent while true), settle(batch, verdict),
   *   changed(items) after every write, idle(handled) when a flush ends, online() before the
   *   flush that the browser's "online" event starts. */
  function queue(options) {
    const keep = store(options.key);
    const batchSize = options.batchSize || 1;
    const isPending = options.pending || null;
    let items = readList(options.key);
    let sending = false;
    let timer = null;

    function persist() {
      keep.writeList(items);
      if (options.changed) options.changed(items);
    }

    function waiting() {
      return isPending ? items.filter(isPending) : items;
    }

    function schedule(delay) {
      clearTimeout(timer);
      timer = setTimeout(flush, delay);
    }

    async function flush() {
      if (sending || (options.paused && options.paused())) return;
      sending = true;
      clearTimeout(timer);
      let handled = 0;
      try {
        for (;;) {
          const batch = waiting().slice(0, batchSize);
          if (!batch.length) break;
          const verdict = await options.send(batch);
          if (verdict.retry !== undefined) {
            schedule(verdict.retry);
            return;
          }
          if (verdict.stop) return;
          if (!isPending) items = items.filter((item) => !batch.includes(item));
          if (options.settle) options.settle(batch, verdict);
          persist();
          handled += batch.length;
          if (options.paused && options.paused()) return;
        }
      } finally {
        sending = false;
        if (options.idle) options.idle(handled);
      }
    }

    window.addEventListener("online", () => {
      if (options.online) options.online();
      flush();
    });

    return {
      /* Add an item (saved before anything is sent) and send what waits. */
      push(item) {
        items = items.concat([item]);
        persist();
        flush();
      },
      /* Write the items again after the screen changed one of them in place. */
      save: persist,
      /* Replace the whole list (a post-it removed by the participant). */
      replace(next) {
        items = next;
        persist();
      },
      items: () => items,
      waiting: waiting,
      busy: () => sending,
      flush: flush,
      schedule: schedule,
      cancel: () => clearTimeout(timer),
    };
  }

  window.SpiralOutbox = {
    newId: newId,
    store: store,
    readList: readList,
    csrfFromPage: csrfFromPage,
    post: post,
    formRetry: formRetry,
    queue: queue,
  };
})();
