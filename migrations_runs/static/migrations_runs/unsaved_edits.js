// The Run-a-Migration buttons post their own form (#start-migration-form), and a run, preview or verification
// reads the connection as saved. Edits still sitting in the connection form would be silently left behind:
// ask first. Without JavaScript there is no warning, and the buttons work as before.
//
// A field is "edited" when its value differs from the one the page was served with (defaultValue,
// defaultChecked, defaultSelected), so typing then undoing is not an edit. Only the connection form's own
// fields count: the entity checkboxes and the history checkboxes belong to other forms (form="…"), and the
// Import Filters fields, which share the connection form's markup but have their own Save button, are reported
// apart since "Save and continue editing" does not save them.
(function () {
  "use strict";
  var guarded = document.querySelector("form[data-unsaved-guard]");
  var panel = document.getElementById("run-migration");
  var edited = panel && panel.closest("form");
  if (!guarded || !edited) { return; }

  var NOT_EDITABLE = ["hidden", "submit", "button", "reset", "image", "fieldset", "output", "object"];

  function initiallySelected(select) {
    // A single-choice list without a `selected` option shows its first enabled option.
    var options = Array.prototype.slice.call(select.options);
    if (select.multiple || select.size > 1) {
      return options.map(function (o) { return o.defaultSelected; });
    }
    var chosen = -1;
    options.forEach(function (o, i) { if (o.defaultSelected) { chosen = i; } });
    if (chosen === -1) {
      chosen = options.findIndex(function (o) { return !o.disabled; });
    }
    return options.map(function (o, i) { return i === chosen; });
  }

  function changed(field) {
    if (NOT_EDITABLE.indexOf(field.type) !== -1 || field.disabled || field.readOnly) { return false; }
    if (field.type === "checkbox" || field.type === "radio") { return field.checked !== field.defaultChecked; }
    if (field.type === "file") { return field.value !== ""; }
    if (field.tagName === "SELECT") {
      var initial = initiallySelected(field);
      return Array.prototype.some.call(field.options, function (o, i) { return o.selected !== initial[i]; });
    }
    return field.value !== field.defaultValue;
  }

  function unsaved() {
    var found = { connection: false, filters: false };
    Array.prototype.forEach.call(edited.elements, function (field) {
      if (!changed(field)) { return; }
      found[field.closest("[data-import-filters]") ? "filters" : "connection"] = true;
    });
    return found;
  }

  function warning(found, action) {
    if (found.connection && found.filters) {
      return "You have unsaved changes to this connection and to its import filters. They will not be used by " +
        "this " + action + ": save first (Save and continue editing, Save filters), or start anyway?";
    }
    if (found.connection) {
      return "You have unsaved changes to this connection. They will not be used by this " + action +
        ": save first (Save and continue editing), or start anyway?";
    }
    return "You have unsaved import filters. They will not be used by this " + action +
      ": save them first (Save filters), or start anyway?";
  }

  // On submit rather than on click: Enter in an entity checkbox submits the form too.
  guarded.addEventListener("submit", function (event) {
    var found = unsaved();
    if (!found.connection && !found.filters) { return; }
    var button = event.submitter;
    var action = (button && button.dataset.unsavedAction) || "migration";
    if (!window.confirm(warning(found, action))) { event.preventDefault(); }
  });
})();
