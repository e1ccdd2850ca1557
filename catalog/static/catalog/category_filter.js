// The category filter of the catalog lists: typing narrows the indented tree, choosing a category applies it.
(function () {
  "use strict";
  document.querySelectorAll("[data-category-filter]").forEach(function (form) {
    var search = form.querySelector("[data-category-search]");
    var select = form.querySelector("[data-category-select]");
    search.addEventListener("input", function () {
      var needle = search.value.trim().toLowerCase();
      Array.prototype.forEach.call(select.options, function (option, index) {
        var text = (option.text + " " + option.value).toLowerCase();
        option.hidden = index > 0 && needle !== "" && text.indexOf(needle) === -1;
      });
    });
    search.addEventListener("keydown", function (event) {
      if (event.key !== "Enter") return;
      event.preventDefault();
      var first = Array.prototype.find.call(select.options, function (option, index) {
        return index > 0 && !option.hidden;
      });
      if (first) {
        select.value = first.value;
        form.requestSubmit();
      }
    });
    select.addEventListener("change", function () { form.requestSubmit(); });
    form.addEventListener("submit", function () {
      search.disabled = true;  // the search text is not a list parameter
      if (select.value === "") select.disabled = true;
    });
  });
})();
