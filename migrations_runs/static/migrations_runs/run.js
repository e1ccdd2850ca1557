// Keeps the run page live: polls the progress endpoint while the run is active, no reload needed.
(function () {
  "use strict";
  var page = document.querySelector("[data-run-page]");
  if (!page) { return; }
  var url = page.dataset.progressUrl + (page.dataset.level ? "?level=" + encodeURIComponent(page.dataset.level) : "");

  function text(node, value) { if (node) { node.textContent = value; } }
  function eta(seconds) {
    if (seconds === null || seconds === undefined) { return "—"; }
    var m = Math.floor(seconds / 60), s = seconds % 60;
    return m ? m + " min " + s + " s" : s + " s";
  }

  function render(data) {
    var status = page.querySelector("[data-run-status]");
    text(status, data.status_display);
    if (status) { status.className = "run-status status-" + data.status; }
    text(page.querySelector("[data-run-started]"), data.started_at ? data.started_at.replace("T", " ").slice(0, 19) : "—");
    text(page.querySelector("[data-run-finished]"), data.finished_at ? data.finished_at.replace("T", " ").slice(0, 19) : "—");
    var error = page.querySelector("[data-run-error]");
    if (error) { error.hidden = !data.error; text(error, data.error); }
    data.steps.forEach(function (step) {
      var row = page.querySelector('[data-step="' + step.entity + '"]');
      if (!row) { return; }
      ["read", "created", "updated", "unchanged", "skipped", "failed", "media"].forEach(function (field) {
        text(row.querySelector('[data-field="' + field + '"]'), step[field]);
      });
      var cell = row.querySelector('[data-field="status_display"]');
      text(cell, step.status_display);
      if (cell) { cell.className = "step-status status-" + step.status; }
      text(row.querySelector('[data-field="rate"]'), step.rate + "/s");
      text(row.querySelector('[data-field="eta_seconds"]'), eta(step.eta_seconds));
      var bar = row.querySelector('[data-field="percent"]');
      if (bar) {
        if (step.percent === null) { bar.removeAttribute("value"); } else { bar.value = step.percent; }
      }
    });
    var log = page.querySelector("[data-log]");
    if (log && data.log.length) {
      log.textContent = "";
      data.log.forEach(function (line) {
        var tr = document.createElement("tr");
        tr.className = "log-" + line.level;
        [line.time, line.level, line.entity, line.code, line.message].forEach(function (value) {
          var td = document.createElement("td");
          td.textContent = value;
          tr.appendChild(td);
        });
        log.appendChild(tr);
      });
    }
    if (!data.active) {
      var cancel = page.querySelector("[data-cancel]");
      if (cancel) { cancel.closest("li").remove(); }
    }
    return data.active;
  }

  var wasActive = null;
  function poll() {
    fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) { return response.json(); })
      .then(function (data) {
        var active = render(data);
        if (active) {
          wasActive = true;
          setTimeout(poll, 1000);
        } else if (wasActive) {
          window.location.reload(); // the run just ended: show its reconciliation
        }
      })
      .catch(function () { setTimeout(poll, 5000); });
  }
  poll();
})();
