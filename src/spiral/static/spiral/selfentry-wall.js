/* The wall: post-its arrive by polling the board with the version the page holds (the server
 * answers 204 while nothing changed). Ticked boxes survive a refresh of the board. */
(function () {
  "use strict";
  const wall = document.querySelector("[data-wall]");
  if (!wall) return;
  const url = wall.dataset.boardUrl;
  let version = wall.dataset.version;
  let busy = false;

  async function poll() {
    if (busy) return;
    busy = true;
    try {
      const response = await fetch(url + "?v=" + encodeURIComponent(version), {
        credentials: "same-origin",
        cache: "no-store",
        headers: { Accept: "application/json" },
      });
      if (response.status === 200) {
        const payload = await response.json();
        const ticked = new Set(
          Array.from(wall.querySelectorAll("input[name=criterion]:checked"), (box) => box.value)
        );
        wall.innerHTML = payload.html;
        wall.querySelectorAll("input[name=criterion]").forEach((box) => {
          box.checked = ticked.has(box.value);
        });
        version = payload.version;
        wall.dataset.version = version;
      }
    } catch (e) {
      /* the facilitator's connection dropped: the next poll tries again */
    } finally {
      busy = false;
    }
  }

  setInterval(poll, document.hidden ? 10000 : 2000);
  document.addEventListener("visibilitychange", () => {
    if (!document.hidden) poll();
  });
})();
