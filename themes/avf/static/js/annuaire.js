// The portal's directory filter: hides the cities that do not match what is typed.
// Without this script the directory is a plain list by region and department.
// Folding matches avf/theme/directory.py: lower case, no accents, words start-matched.
(function () {
  "use strict";
  var box = document.querySelector("[data-annuaire-filtre]");
  if (!box) return;
  var input = box.querySelector("input");
  var count = box.querySelector("[data-annuaire-compte]");
  var none = document.querySelector("[data-annuaire-aucune]");
  var cities = Array.prototype.slice.call(document.querySelectorAll("[data-annuaire-ville]"));
  var groups = Array.prototype.slice.call(document.querySelectorAll("[data-annuaire-groupe]"));

  function fold(text) {
    return text.replace(/œ/gi, "oe").replace(/æ/gi, "ae").toLowerCase()
      .normalize("NFD").replace(/[\u0300-\u036f]/g, "")
      .split(/[\s\-'’.,()\/]+/).filter(Boolean);
  }

  function matches(words, query) {
    return query.every(function (typed) {
      return words.some(function (word) { return word.indexOf(typed) === 0; });
    });
  }

  function update() {
    var query = fold(input.value);
    var shown = 0;
    cities.forEach(function (city) {
      var visible = matches(city.getAttribute("data-annuaire-ville").split(" "), query);
      city.hidden = !visible;
      if (visible) shown += 1;
    });
    groups.forEach(function (group) {
      group.hidden = !group.querySelector("[data-annuaire-ville]:not([hidden])");
    });
    if (none) none.hidden = shown > 0;
    count.textContent = query.length === 0 ? ""
      : shown === 0 ? "Aucune association trouvée."
      : shown === 1 ? "1 association trouvée."
      : shown + " associations trouvées.";
  }

  box.hidden = false;
  input.addEventListener("input", update);
  if (input.value) update();
})();
