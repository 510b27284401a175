// Imports: while the task worker runs an import, poll its progress row and move the bar;
// reload the page when it is finished so the report or the result shows.
(function () {
  "use strict";
  var box = document.querySelector("[data-progress-url]");
  if (!box) return;
  var bar = box.querySelector("progress");
  var count = box.querySelector("[data-progress-count]");
  var status = box.querySelector("[data-progress-status]");
  var delay = 1000;
  function poll() {
    fetch(box.getAttribute("data-progress-url"), { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.json() : Promise.reject(response.status); })
      .then(function (data) {
        bar.value = data.percent;
        bar.textContent = data.percent + " %";
        count.textContent = data.processed.toLocaleString();
        status.textContent = data.status_label;
        if (data.running) { delay = 1000; setTimeout(poll, delay); } else { window.location.reload(); }
      })
      .catch(function () {
        // A dropped connection in a village hall: keep trying, less often.
        delay = Math.min(delay * 2, 15000);
        setTimeout(poll, delay);
      });
  }
  setTimeout(poll, delay);
})();
