// Carbon questionnaire: one step at a time on small screens, a client token so a double
// submission stores one result; workshop view: refresh the figures every few seconds.
// Without JavaScript every step shows at once and the form still works.
(function () {
  "use strict";
  var form = document.getElementById("carbon-questionnaire");
  if (form) {
    var token = form.querySelector("input[name=client_token]");
    if (token && !token.value && window.crypto && crypto.getRandomValues) {
      token.value = window.SpiralOutbox.newId();
    }
    var steps = Array.prototype.slice.call(form.querySelectorAll(".carbon-step"));
    var nav = Array.prototype.slice.call(form.querySelectorAll(".carbon-steps-nav li"));
    var firstError = steps.findIndex(function (s) { return s.querySelector(".has-error"); });
    var current = firstError >= 0 ? firstError : 0;
    var show = function (index, focus) {
      current = index;
      steps.forEach(function (step, i) { step.hidden = i !== index; });
      // The step shown is marked in the list of steps from the start, not only after "Next".
      nav.forEach(function (item, i) {
        if (i === index) { item.setAttribute("aria-current", "step"); }
        else { item.removeAttribute("aria-current"); }
      });
      var legend = steps[index].querySelector("legend");
      if (legend && focus) {
        legend.setAttribute("tabindex", "-1");
        legend.focus();
        form.scrollIntoView({ block: "start" });
      }
    };
    form.classList.add("carbon-js");
    form.addEventListener("click", function (event) {
      var target = event.target;
      if (target.classList.contains("carbon-next") && current < steps.length - 1) {
        show(current + 1, true);
      } else if (target.classList.contains("carbon-prev") && current > 0) {
        show(current - 1, true);
      }
    });
    if (steps.length) { show(current, false); }
    // "0 km by car": the engine, size and passengers of a car one does not use are not asked
    // (fewer questions on a phone). The fields stay in the form, so nothing is lost.
    var follow = { car_km: ["car_engine", "car_size", "car_passengers"],
                   two_wheeler_km: ["two_wheeler_type"] };
    Object.keys(follow).forEach(function (key) {
      var input = form.querySelector("[name=" + key + "]");
      if (!input) { return; }
      var update = function () {
        var none = input.value.trim() !== "" && parseFloat(input.value) === 0;
        follow[key].forEach(function (name) {
          var field = form.querySelector("[name=" + name + "]");
          var wrapper = field && field.closest(".field");
          if (wrapper) { wrapper.hidden = none; }
        });
      };
      input.addEventListener("input", update);
      update();
    });
  }
  // The private link: one tap copies it (the field stays selectable without JavaScript).
  var copy = document.querySelector(".carbon-copy-link");
  var link = document.querySelector(".carbon-link");
  if (copy && link && navigator.clipboard) {
    copy.hidden = false;
    copy.addEventListener("click", function () {
      navigator.clipboard.writeText(link.value).then(function () {
        copy.textContent = copy.getAttribute("data-done");
      });
    });
  }
  var workshop = document.querySelector("body.carbon-workshop");
  if (workshop) {
    var seconds = parseInt(workshop.getAttribute("data-refresh"), 10) || 30;
    window.setTimeout(function () { window.location.reload(); }, seconds * 1000);
  }
})();
