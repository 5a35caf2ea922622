/* The event dashboard: draws its numbers with Apache ECharts and keeps them current.
 *
 * The page works without this script: every number is in a table. The script reads
 * the numbers the server put in #dashboard-stats (json_script), draws the charts, then
 * fetches the dashboard's stats.json every data-refresh-seconds and updates the
 * counts, the tables and the charts in place. Chart words come from #dashboard-labels,
 * translated on the server. No inline code: the page's CSP forbids it.
 */
(function () {
  "use strict";

  var root = document.getElementById("dashboard");
  if (!root) return;

  function readJson(id) {
    var element = document.getElementById(id);
    return element ? JSON.parse(element.textContent) : null;
  }

  var labels = readJson("dashboard-labels") || {};
  var stats = readJson("dashboard-stats");
  var refreshSeconds = Math.max(1, parseInt(root.dataset.refreshSeconds, 10) || 15);
  var statsUrl = root.dataset.statsUrl;
  var charts = {};

  var COLOURS = {
    registered: "#1f5fa8",
    cancelled: "#a32018",
    active: "#17692f",
    confirmed: "#1f5fa8",
    guests: "#5b3f8c",
    seats_left: "#c5d3e2",
    waiting: "#8a4b00",
    checked_in: "#17692f",
    not_yet: "#d0d7de",
    queued: "#0b4f8a",
    scheduled: "#7b8794",
    sent: "#17692f",
    failed: "#a32018",
    skipped: "#b8c0c8"
  };
  var GRID = { left: 8, right: 16, top: 40, bottom: 8, containLabel: true };
  var LEGEND = { top: 0, left: 0, type: "scroll", itemWidth: 14, itemHeight: 10 };

  function text(element, value) {
    element.textContent = value === null || value === undefined ? "" : String(value);
  }

  function cell(tag, content, className) {
    var element = document.createElement(tag);
    if (className) element.className = className;
    if (content instanceof Node) element.appendChild(content);
    else text(element, content);
    return element;
  }

  function sessionGroup(session, extra, cells) {
    // One <tbody> per session: its title heads the row of numbers below it.
    var body = document.createElement("tbody");
    var head = document.createElement("tr");
    var th = cell("th", session.title + " ");
    th.scope = "rowgroup";
    th.colSpan = cells.length;
    th.appendChild(cell("small", session.when + (extra || ""), "muted"));
    head.appendChild(th);
    var numbers = document.createElement("tr");
    cells.forEach(function (td) { numbers.appendChild(td); });
    body.appendChild(head);
    body.appendChild(numbers);
    return body;
  }

  var CJK = /[\u3400-\u9fff]/;
  var readsChinese = /^zh/i.test(document.documentElement.lang || "");

  function shortTitle(title) {
    // Titles may carry both languages ("English · 中文"): the reader's is enough
    // on an axis; the table beside the chart has the whole title.
    var parts = String(title).split(" · ");
    var part = parts.filter(function (p) { return CJK.test(p) === readsChinese; })[0] || parts[0];
    return part.length > 40 ? part.slice(0, 39) + "…" : part;
  }

  function labelWidth(name) {
    var element = root.querySelector('[data-chart="' + name + '"]');
    var width = element ? element.clientWidth : 320;
    return Math.round(Math.min(280, Math.max(96, width * 0.32)));
  }

  function chartFor(name) {
    if (typeof window.echarts === "undefined") return null;
    var element = root.querySelector('[data-chart="' + name + '"]');
    if (!element || element.closest("[hidden]")) return null;
    if (!charts[name]) charts[name] = window.echarts.init(element, null, { renderer: "canvas" });
    return charts[name];
  }

  function sizeFor(name, rows) {
    var element = root.querySelector('[data-chart="' + name + '"]');
    if (element) element.style.height = Math.max(160, 56 + rows * 44) + "px";
  }

  function drawDays(data) {
    var chart = chartFor("days");
    if (!chart) return;
    var days = data.days;
    chart.setOption({
      animation: false,
      color: [COLOURS.registered, COLOURS.cancelled, COLOURS.active],
      legend: LEGEND,
      grid: GRID,
      tooltip: { trigger: "axis" },
      xAxis: { type: "category", data: days.map(function (d) { return d.label; }) },
      // Left: per day (bars); right: registered so far (the line).
      yAxis: [
        { type: "value", minInterval: 1 },
        { type: "value", minInterval: 1, splitLine: { show: false } }
      ],
      series: [
        { name: labels.registered, type: "bar", data: days.map(function (d) { return d.registered; }) },
        { name: labels.cancelled, type: "bar", data: days.map(function (d) { return d.cancelled; }) },
        {
          name: labels.active, type: "line", yAxisIndex: 1, smooth: false, symbolSize: 6,
          data: days.map(function (d) { return d.active; })
        }
      ]
    }, true);
  }

  function drawFill(data) {
    sizeFor("fill", data.sessions.length);
    var chart = chartFor("fill");
    if (!chart) return;
    chart.resize();
    var sessions = data.sessions;
    function series(name, key, stack, values) {
      return {
        name: labels[key], type: "bar", stack: stack, barMaxWidth: 18,
        itemStyle: { color: COLOURS[key] }, data: values
      };
    }
    chart.setOption({
      animation: false,
      legend: LEGEND,
      grid: GRID,
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
      xAxis: { type: "value", minInterval: 1 },
      yAxis: {
        type: "category", inverse: true,
        data: sessions.map(function (s) { return shortTitle(s.title); }),
        axisLabel: { width: labelWidth("fill"), overflow: "truncate" }
      },
      series: [
        series("confirmed", "confirmed", "seats", sessions.map(function (s) { return s.confirmed - s.reserved; })),
        series("guests", "guests", "seats", sessions.map(function (s) { return s.reserved; })),
        series("seats_left", "seats_left", "seats", sessions.map(function (s) { return s.seats_left || 0; })),
        series("waiting", "waiting", "waiting", sessions.map(function (s) { return s.waiting; }))
      ]
    }, true);
  }

  function drawCheckIn(data) {
    sizeFor("check_in", data.check_in.length);
    var chart = chartFor("check_in");
    if (!chart) return;
    chart.resize();
    var sessions = data.check_in;
    chart.setOption({
      animation: false,
      legend: LEGEND,
      grid: GRID,
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
      xAxis: { type: "value", minInterval: 1 },
      yAxis: {
        type: "category", inverse: true,
        data: sessions.map(function (s) { return shortTitle(s.title); }),
        axisLabel: { width: labelWidth("check_in"), overflow: "truncate" }
      },
      series: [
        {
          name: labels.checked_in, type: "bar", stack: "people", barMaxWidth: 18,
          itemStyle: { color: COLOURS.checked_in },
          label: {
            show: true, position: "insideLeft", color: "#fff",
            formatter: function (p) { return p.value ? sessions[p.dataIndex].percent + "%" : ""; }
          },
          data: sessions.map(function (s) { return s.checked_in; })
        },
        {
          name: labels.not_yet, type: "bar", stack: "people", barMaxWidth: 18,
          itemStyle: { color: COLOURS.not_yet },
          data: sessions.map(function (s) { return s.not_yet; })
        }
      ]
    }, true);
  }

  function drawMail(data) {
    var chart = chartFor("mail");
    if (!chart) return;
    var keys = ["queued", "scheduled", "sent", "failed", "skipped"];
    chart.setOption({
      animation: false,
      grid: { left: 8, right: 40, top: 8, bottom: 8, containLabel: true },
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
      xAxis: { type: "value", minInterval: 1 },
      yAxis: { type: "category", inverse: true, data: keys.map(function (k) { return labels[k]; }) },
      series: [{
        type: "bar", barMaxWidth: 18,
        label: { show: true, position: "right" },
        data: keys.map(function (k) { return { value: data.mail[k], itemStyle: { color: COLOURS[k] } }; })
      }]
    }, true);
  }

  function fillCounts(data) {
    root.querySelectorAll("[data-count]").forEach(function (element) {
      text(element, data.counts[element.dataset.count]);
    });
    root.querySelectorAll("[data-mail]").forEach(function (element) {
      text(element, data.mail[element.dataset.mail]);
    });
    var age = root.querySelector("[data-mail-age]");
    if (age) {
      text(age, data.mail.oldest_due_label);
      age.classList.toggle("late", !!data.mail.late);
      age.classList.toggle("failures", !data.mail.late && data.mail.failed > 0);
    }
    var updated = root.querySelector("[data-updated]");
    if (updated) text(updated, (labels.updated || "%(time)s").replace("%(time)s", data.updated_label));
  }

  function replaceRows(name, rows) {
    // Rows of a <tbody data-table>, or the <tbody> groups of a <table data-table>.
    var target = root.querySelector('[data-table="' + name + '"]');
    if (!target || !rows.length) return;
    if (target.tagName === "TABLE") {
      target.querySelectorAll("tbody").forEach(function (body) { body.remove(); });
      rows.forEach(function (body) { target.appendChild(body); });
      return;
    }
    var fragment = document.createDocumentFragment();
    rows.forEach(function (row) { fragment.appendChild(row); });
    target.replaceChildren(fragment);
  }

  function fillTables(data) {
    replaceRows("days", data.days.map(function (d) {
      var tr = document.createElement("tr");
      var time = document.createElement("time");
      time.dateTime = d.day;
      text(time, d.label);
      var th = cell("th", time);
      th.scope = "row";
      tr.appendChild(th);
      [d.registered, d.cancelled, d.active].forEach(function (n) {
        tr.appendChild(cell("td", n, "number"));
      });
      return tr;
    }));
    replaceRows("sessions", data.sessions.map(function (s) {
      var confirmed = cell("td", s.confirmed, "number");
      if (s.confirmed_note) {
        confirmed.appendChild(document.createTextNode(" "));
        confirmed.appendChild(cell("small", s.confirmed_note, "muted"));
      }
      return sessionGroup(s, s.cancelled ? " · " + labels.cancelled : "", [
        cell("td", s.capacity_label, "number"),
        confirmed,
        cell("td", s.seats_left_label, "number"),
        cell("td", s.waiting, "number")
      ]);
    }));
    replaceRows("check_in", data.check_in.map(function (s) {
      return sessionGroup(s, "", [
        cell("td", s.checked_in, "number"),
        cell("td", s.confirmed, "number"),
        cell("td", s.percent + "%", "number")
      ]);
    }));
    var checkIn = root.querySelector('[data-section="check_in"]');
    if (checkIn) checkIn.hidden = !data.check_in_visible;
  }

  function drawCharts(data) {
    drawDays(data);
    drawFill(data);
    drawCheckIn(data);
    drawMail(data);
  }

  function show(data) {
    stats = data;
    fillCounts(data);
    fillTables(data);
    drawCharts(data);
  }

  function refresh() {
    if (document.hidden) {
      schedule();
      return;
    }
    fetch(statsUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok || response.redirected) throw new Error(String(response.status));
        return response.json();
      })
      .then(function (data) {
        show(data);
        root.dataset.refreshed = data.updated_at;
      })
      .catch(function () {
        var updated = root.querySelector("[data-updated]");
        if (updated && labels.stale) text(updated, labels.stale);
      })
      .then(schedule);
  }

  function schedule() {
    window.setTimeout(refresh, refreshSeconds * 1000);
  }

  if (typeof window.echarts !== "undefined") {
    root.classList.add("has-charts");
    if (stats) drawCharts(stats);
    // With charts drawn, the per-day table folds away behind its summary.
    root.querySelectorAll("[data-fold-with-chart]").forEach(function (details) {
      details.open = false;
    });
  }
  var resizing = null;
  window.addEventListener("resize", function () {
    window.clearTimeout(resizing);
    resizing = window.setTimeout(function () {
      Object.keys(charts).forEach(function (name) { charts[name].resize(); });
      if (stats) drawCharts(stats);
    }, 150);
  });
  document.addEventListener("visibilitychange", function () {
    if (!document.hidden && stats) drawCharts(stats);
  });
  if (statsUrl) schedule();
})();
