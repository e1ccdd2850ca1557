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
  root.classList.add("tabs-ready");
  show(window.location.hash.replace("#", ""));
})();
