// Indicator builder: once criteria are sorted into categories, each situation's list of source
// criteria shows the sorted ones only, those of the categories next to that situation first
// (possibility 1→2, attainment 2→3, quality 3→4, sustainability 4→5). Without this script every
// criterion is listed under every situation, which still works.
(function () {
  "use strict";
  var form = document.querySelector("form.indicator-builder");
  if (!form) return;
  var NEAR = {
    1: ["possibility"],
    2: ["possibility", "attainment"],
    3: ["attainment", "quality"],
    4: ["quality", "sustainability"],
    5: ["sustainability"]
  };
  function categories() {
    var found = {};
    form.querySelectorAll("select[data-criterion]").forEach(function (select) {
      if (select.value) found[select.dataset.criterion] = select.value;
    });
    return found;
  }
  function update() {
    var sorted = categories();
    var any = Object.keys(sorted).length > 0;
    form.querySelectorAll("fieldset[data-level]").forEach(function (fieldset) {
      var near = NEAR[fieldset.dataset.level] || [];
      var labels = Array.prototype.slice.call(fieldset.querySelectorAll("label[data-criterion]"));
      labels.forEach(function (label) {
        var category = sorted[label.dataset.criterion];
        var box = label.querySelector("input");
        // A ticked criterion always stays visible, so nothing chosen is hidden.
        label.hidden = any && !category && !(box && box.checked);
        label.classList.toggle("near", !!category && near.indexOf(category) >= 0);
      });
      var parent = labels.length ? labels[0].parentNode : null;
      if (!parent) return;
      labels
        .filter(function (label) { return label.classList.contains("near"); })
        .forEach(function (label) { parent.insertBefore(label, parent.querySelector("label[data-criterion]:not(.near)")); });
    });
  }
  form.addEventListener("change", function (event) {
    if (event.target.matches("select[data-criterion]")) update();
  });
  update();
})();
