// Self-survey: answers are kept in this browser until they are sent, so a reload or a dropped
// connection on a phone loses nothing. Only the chosen levels are kept, never anything personal.
(function () {
  "use strict";
  var holder = document.querySelector("[data-survey]");
  if (!holder) return;
  var kept = window.SpiralOutbox.store("spiral:survey:" + holder.dataset.survey);
  if (document.getElementById("survey-done") || document.getElementById("survey-again")) {
    kept.remove();
    return;
  }
  var form = document.getElementById("survey-form");
  if (!form) return;
  function save() {
    var answers = {};
    form.querySelectorAll("input[type=radio]:checked, select").forEach(function (el) {
      answers[el.name] = el.value;
    });
    kept.write(answers);
  }
  function restore() {
    var answers = kept.read(null);
    if (!answers || typeof answers !== "object") return;
    Object.keys(answers).forEach(function (name) {
      var value = answers[name];
      var radio = form.querySelector('input[type=radio][name="' + name + '"][value="' + value + '"]');
      var group = form.querySelectorAll('input[type=radio][name="' + name + '"]:checked');
      if (radio && group.length === 0) radio.checked = true;
      var select = form.querySelector('select[name="' + name + '"]');
      if (select && !select.value) select.value = value;
    });
  }
  restore();
  form.addEventListener("change", save);
  form.addEventListener("submit", save);
})();
