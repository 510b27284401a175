/* Type-ahead for component codes: type a code ("A0") or words ("logement", "friends"), pick
 * with the arrows, Enter fills the code. Enter on a complete code leaves the form to submit.
 * Works on every input[data-component-picker], including rows added later by htmx. */
(function () {
  "use strict";
  const source = document.getElementById("component-choices");
  if (!source) return;
  const choices = JSON.parse(source.textContent).map((c) => ({
    code: c.code,
    label: c.label,
    haystack: normalise([c.code, c.label, c.other_label, c.description].join(" ")),
  }));
  const codes = new Set(choices.map((c) => c.code));
  const MAX = 8;
  let counter = 0;

  function normalise(text) {
    return (text || "").normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase();
  }

  function matches(query) {
    const words = normalise(query).split(/\s+/).filter(Boolean);
    if (!words.length) return [];
    const upper = query.trim().toUpperCase();
    const byCode = choices.filter((c) => c.code.startsWith(upper));
    if (byCode.length && /^[A-Z]\d{0,2}$/.test(upper)) return byCode.slice(0, MAX);
    return choices.filter((c) => words.every((w) => c.haystack.includes(w))).slice(0, MAX);
  }

  function attach(input) {
    if (input.dataset.pickerReady) return;
    input.dataset.pickerReady = "1";
    input.removeAttribute("list"); // the native datalist is the no-script fallback
    const list = document.createElement("ul");
    list.className = "picker";
    list.setAttribute("role", "listbox");
    list.id = "picker-" + ++counter;
    list.hidden = true;
    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-expanded", "false");
    input.setAttribute("aria-controls", list.id);
    input.insertAdjacentElement("afterend", list);
    let active = -1;
    let shown = [];

    function close() {
      list.hidden = true;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
      active = -1;
    }

    function render() {
      shown = matches(input.value);
      list.replaceChildren();
      if (!shown.length || codes.has(input.value.trim().toUpperCase()) && shown.length === 1) {
        close();
        return;
      }
      shown.forEach((choice, index) => {
        const option = document.createElement("li");
        option.id = list.id + "-" + index;
        option.setAttribute("role", "option");
        option.setAttribute("aria-selected", index === active ? "true" : "false");
        const code = document.createElement("span");
        code.className = "code";
        code.textContent = choice.code;
        option.append(code, " " + choice.label);
        option.addEventListener("mousedown", (event) => {
          event.preventDefault();
          choose(index);
        });
        list.appendChild(option);
      });
      list.hidden = false;
      input.setAttribute("aria-expanded", "true");
      if (active >= 0) input.setAttribute("aria-activedescendant", list.id + "-" + active);
      else input.removeAttribute("aria-activedescendant");
    }

    function choose(index) {
      input.value = shown[index].code;
      close();
      input.dispatchEvent(new Event("change", { bubbles: true }));
    }

    input.addEventListener("input", () => {
      active = -1;
      render();
    });
    input.addEventListener("blur", close);
    input.addEventListener("keydown", (event) => {
      if (list.hidden) return;
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        event.preventDefault();
        const step = event.key === "ArrowDown" ? 1 : -1;
        active = (active + step + shown.length) % shown.length;
        render();
      } else if (event.key === "Escape") {
        event.preventDefault();
        close();
      } else if (event.key === "Enter") {
        const typed = input.value.trim().toUpperCase();
        if (active >= 0 || !codes.has(typed)) {
          // Words typed: Enter takes the highlighted (or first) component; Enter again saves.
          event.preventDefault();
          event.stopPropagation();
          choose(active >= 0 ? active : 0);
        } else {
          close();
        }
      }
    });
  }

  document.querySelectorAll("input[data-component-picker]").forEach(attach);
  document.addEventListener("focusin", (event) => {
    if (event.target.matches && event.target.matches("input[data-component-picker]")) attach(event.target);
  });
})();
