// Tabs on the connection edit page. Without JavaScript every section simply shows, one after the other.
(function () {
  "use strict";
  var root = document.querySelector("[data-connection-tabs]");
  if (!root) { return; }
  var links = root.querySelectorAll("[data-tab]");
  var panels = root.querySelectorAll("[data-panel]");
  var submitRows = document.querySelectorAll(".submit-row");

  function show(name) {
    var known = Array.prototype.some.call(links, function (l) { return l.dataset.tab === name; });
    if (!known) { name = "connection"; }
    links.forEach(function (link) {
      var active = link.dataset.tab === name;
      link.classList.toggle("active", active);
      link.setAttribute("aria-selected", active ? "true" : "false");
    });
    panels.forEach(function (panel) { panel.hidden = panel.dataset.panel !== name; });
    submitRows.forEach(function (row) { row.hidden = name !== "connection"; });
  }

  links.forEach(function (link) {
    link.addEventListener("click", function (event) {
      event.preventDefault();
      history.replaceState(null, "", "#" + link.dataset.tab);
      show(link.dataset.tab);
    });
  });
  // Run a Migration: one Select all / Clear all toggle and an "n of m selected" counter.
  var boxes = root.querySelectorAll("[data-entity]");
  var toggle = root.querySelector("[data-toggle-entities]");
  var counter = root.querySelector("[data-entity-counter]");
  function count() {
    var chosen = Array.prototype.filter.call(boxes, function (b) { return b.checked; }).length;
    if (counter) { counter.textContent = chosen + " of " + boxes.length + " selected"; }
    if (toggle) { toggle.textContent = chosen === boxes.length ? "Clear all" : "Select all"; }
  }
  boxes.forEach(function (box) { box.addEventListener("change", count); });
  if (toggle) {
    toggle.addEventListener("click", function () {
      var all = Array.prototype.every.call(boxes, function (b) { return b.checked; });
      boxes.forEach(function (box) { box.checked = !all; });
      count();
    });
  }
  count();

  root.classList.add("tabs-ready");
  show(window.location.hash.replace("#", ""));
})();
