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

  function sessionHeader(session, extra) {
    var th = cell("th", session.title + " ");
    th.scope = "row";
    var note = cell("small", session.when + (extra || ""), "muted");
    th.appendChild(note);
    return th;
  }

  function shortTitle(title) {
    // Demo titles carry both languages ("English · 中文"): one is enough on an axis.
    var part = String(title).split(" · ")[0];
    return part.length > 28 ? part.slice(0, 27) + "…" : part;
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
      yAxis: [
        { type: "value", name: labels.per_day, minInterval: 1, nameTextStyle: { align: "left" } },
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
        axisLabel: { width: 130, overflow: "truncate" }
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
        axisLabel: { width: 130, overflow: "truncate" }
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
    }
    var updated = root.querySelector("[data-updated]");
    if (updated) text(updated, (labels.updated || "%(time)s").replace("%(time)s", data.updated_label));
  }

  function replaceRows(name, rows) {
    var body = root.querySelector('[data-table="' + name + '"]');
    if (!body || !rows.length) return;
    var fragment = document.createDocumentFragment();
    rows.forEach(function (row) { fragment.appendChild(row); });
    body.replaceChildren(fragment);
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
      [d.registered, d.cancelled, d.total, d.active].forEach(function (n) {
        tr.appendChild(cell("td", n, "number"));
      });
      return tr;
    }));
    replaceRows("sessions", data.sessions.map(function (s) {
      var tr = document.createElement("tr");
      tr.appendChild(sessionHeader(s, s.cancelled ? " · " + labels.cancelled : ""));
      tr.appendChild(cell("td", s.capacity_label, "number"));
      var confirmed = cell("td", s.confirmed, "number");
      if (s.confirmed_note) {
        confirmed.appendChild(document.createTextNode(" "));
        confirmed.appendChild(cell("small", s.confirmed_note, "muted"));
      }
      tr.appendChild(confirmed);
      tr.appendChild(cell("td", s.seats_left_label, "number"));
      tr.appendChild(cell("td", s.waiting, "number"));
      return tr;
    }));
    replaceRows("check_in", data.check_in.map(function (s) {
      var tr = document.createElement("tr");
      tr.appendChild(sessionHeader(s));
      tr.appendChild(cell("td", s.checked_in, "number"));
      tr.appendChild(cell("td", s.confirmed, "number"));
      tr.appendChild(cell("td", s.percent + "%", "number"));
      return tr;
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
  window.addEventListener("resize", function () {
    Object.keys(charts).forEach(function (name) { charts[name].resize(); });
  });
  document.addEventListener("visibilitychange", function () {
    if (!document.hidden && stats) drawCharts(stats);
  });
  if (statsUrl) schedule();
})();
