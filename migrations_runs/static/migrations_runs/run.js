// Keeps the run page live: polls the progress endpoint while the run is active, no reload needed. Display texts
// (times, labels, ETA, which bar to show) come from the server, so a poll renders exactly as the first page did.
(function () {
  "use strict";
  var page = document.querySelector("[data-run-page]");
  if (!page) { return; }
  var url = page.dataset.progressUrl + (page.dataset.level ? "?level=" + encodeURIComponent(page.dataset.level) : "");
  var SVG = "http://www.w3.org/2000/svg";
  var COLORS = ["#417690", "#c0392b", "#2b7a0b", "#8e44ad", "#d35400", "#16a085", "#7f8c8d",
                "#b7950b", "#2c3e50", "#e84393", "#0984e3", "#6c5ce7", "#00897b"];

  function text(node, value) { if (node) { node.textContent = value; } }

  function renderBar(cell, step) {
    if (!cell || cell.dataset.bar === step.bar && step.bar !== "value") { return; }
    cell.dataset.bar = step.bar;
    cell.textContent = "";
    if (step.bar === "none") { cell.textContent = "—"; return; }
    var bar = document.createElement("progress");
    bar.max = 100;
    if (step.bar === "value") { bar.value = step.percent; }
    cell.appendChild(bar);
  }

  // --- throughput chart: per entity, the step's average as a segment, plus rates measured between polls
  var chartPanels = page.querySelector("[data-chart-panels]");
  var chartData = document.getElementById("run-chart-data");
  var chart = chartData ? JSON.parse(chartData.textContent) : null;
  var samples = {};  // entity -> [{t, read, media}] seen by this page while the run goes

  function colorOf(entity, index) {
    var rows = page.querySelectorAll("[data-step]");
    for (var i = 0; i < rows.length; i++) { if (rows[i].dataset.step === entity) { return COLORS[i % COLORS.length]; } }
    return COLORS[index % COLORS.length];
  }

  function el(name, attrs, parent) {
    var node = document.createElementNS(SVG, name);
    Object.keys(attrs).forEach(function (key) { node.setAttribute(key, attrs[key]); });
    if (parent) { parent.appendChild(node); }
    return node;
  }

  function liveRates(entity, field) {
    var seen = samples[entity] || [], points = [];
    for (var i = 1; i < seen.length; i++) {
      var dt = seen[i].t - seen[i - 1].t;
      if (dt > 0) { points.push({ t: seen[i].t, rate: Math.max(0, (seen[i][field] - seen[i - 1][field]) / dt) }); }
    }
    return points;
  }

  function panel(title, rateKey, sampleKey) {
    var width = 640, height = 180, left = 56, right = 12, top = 12, bottom = 28;
    var span = Math.max(chart.now, 1);
    chart.series.forEach(function (s) { span = Math.max(span, s.end); });
    var peak = 0;
    chart.series.forEach(function (s) {
      peak = Math.max(peak, s[rateKey]);
      liveRates(s.entity, sampleKey).forEach(function (p) { peak = Math.max(peak, p.rate); });
    });
    peak = peak > 0 ? peak * 1.15 : 1;
    function x(t) { return left + (width - left - right) * t / span; }
    function y(v) { return top + (height - top - bottom) * (1 - v / peak); }
    var svg = el("svg", { viewBox: "0 0 " + width + " " + height, role: "img", "class": "run-chart-svg",
                          "aria-label": title, "data-chart": rateKey });
    el("title", {}, svg).textContent = title;
    el("line", { x1: left, y1: y(0), x2: width - right, y2: y(0), "class": "axis" }, svg);
    el("line", { x1: left, y1: top, x2: left, y2: y(0), "class": "axis" }, svg);
    [0, 0.5, 1].forEach(function (f) {
      var label = el("text", { x: left - 6, y: y(peak * f) + 4, "text-anchor": "end", "class": "tick" }, svg);
      label.textContent = (peak * f).toFixed(peak * f >= 10 ? 0 : 1);
    });
    [0, 0.5, 1].forEach(function (f) {
      var label = el("text", { x: x(span * f), y: height - 8, "text-anchor": f === 0 ? "start" : f === 1 ? "end" : "middle",
                               "class": "tick" }, svg);
      label.textContent = Math.round(span * f) + " s";
    });
    el("text", { x: width - right, y: top + 10, "text-anchor": "end", "class": "chart-title" }, svg).textContent = title;
    chart.series.forEach(function (s, index) {
      var color = colorOf(s.entity, index);
      var seg = el("line", { x1: x(s.start), y1: y(s[rateKey]), x2: x(Math.max(s.end, s.start + span / 400)),
                             y2: y(s[rateKey]), stroke: color, "class": "segment", "data-entity": s.entity }, svg);
      el("title", {}, seg).textContent = s.label + ": " + s[rateKey] + "/s on average";
      var live = liveRates(s.entity, sampleKey);
      if (live.length > 1) {
        el("polyline", { points: live.map(function (p) { return x(p.t) + "," + y(p.rate); }).join(" "),
                         stroke: color, "class": "live", "data-entity": s.entity }, svg);
      }
    });
    return svg;
  }

  function drawChart() {
    if (!chartPanels || !chart) { return; }
    chartPanels.textContent = "";
    if (!chart.series.length) {
      var none = document.createElement("p");
      none.className = "help";
      none.textContent = "No step has started yet.";
      chartPanels.appendChild(none);
      return;
    }
    chartPanels.appendChild(panel("Records/s", "records_rate", "read"));
    chartPanels.appendChild(panel("Media/s", "media_rate", "media"));
    var legend = document.createElement("ul");
    legend.className = "run-chart-legend";
    chart.series.forEach(function (s, index) {
      var item = document.createElement("li");
      var swatch = document.createElement("span");
      swatch.className = "swatch";
      swatch.style.background = colorOf(s.entity, index);
      item.appendChild(swatch);
      item.appendChild(document.createTextNode(" " + s.label));
      legend.appendChild(item);
    });
    chartPanels.appendChild(legend);
  }

  function render(data) {
    var status = page.querySelector("[data-run-status]");
    text(status, data.status_display);
    if (status) { status.className = "run-status status-" + data.status; }
    text(page.querySelector("[data-run-started]"), data.started_display);
    text(page.querySelector("[data-run-finished]"), data.finished_display);
    var error = page.querySelector("[data-run-error]");
    if (error) { error.hidden = !data.error; text(error, data.error); }
    data.steps.forEach(function (step) {
      var row = page.querySelector('[data-step="' + step.entity + '"]');
      if (!row) { return; }
      ["read", "created", "updated", "unchanged", "skipped", "failed", "media"].forEach(function (field) {
        text(row.querySelector('[data-field="' + field + '"]'), step[field]);
      });
      var cell = row.querySelector('[data-field="status_display"]');
      text(cell, step.status_text);
      if (cell) { cell.className = "step-status status-" + step.status; }
      text(row.querySelector('[data-field="rate"]'), step.rate + "/s");
      text(row.querySelector('[data-field="eta_seconds"]'), step.eta_display);
      renderBar(row.querySelector('[data-field="percent"]'), step);
    });
    var log = page.querySelector("[data-log]");
    if (log && data.log.length) {
      log.textContent = "";
      data.log.forEach(function (line) {
        var tr = document.createElement("tr");
        tr.className = "log-" + line.level;
        [line.time_display, line.level_display, line.entity_label, line.code, line.message].forEach(function (value, i) {
          var td = document.createElement("td");
          if (i === 0) { td.className = "log-time"; }
          td.textContent = value;
          tr.appendChild(td);
        });
        log.appendChild(tr);
      });
    }
    if (data.chart) {
      chart = data.chart;
      data.steps.forEach(function (step) {
        if (step.status !== "running") { return; }
        (samples[step.entity] = samples[step.entity] || []).push({ t: chart.now, read: step.read, media: step.media });
      });
      drawChart();
    }
    if (!data.active) {
      var cancel = page.querySelector("[data-cancel]");
      if (cancel) { cancel.closest("li").remove(); }
    }
    return data.active;
  }

  drawChart();
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
