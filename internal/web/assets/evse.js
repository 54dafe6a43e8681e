// evse pages: the charts. Everything else is htmx and the server.
(function () {
  "use strict";

  // chargerChart draws the charger's current per phase and its offer;
  // samples come with the page (data-samples) and then one by one over
  // server-sent events.
  function chargerChart(box) {
    var samples = JSON.parse(box.dataset.samples || "[]");
    var data = [[], [], [], [], []];
    function push(s) {
      data[0].push(s.t); data[1].push(s.drawn[0]); data[2].push(s.drawn[1]); data[3].push(s.drawn[2]); data[4].push(s.offered);
      var hour = s.t - 3600;
      while (data[0].length && data[0][0] < hour) { data.forEach(function (d) { d.shift(); }); }
    }
    samples.forEach(push);
    var opts = {
      width: Math.max(box.clientWidth, 320), height: 300,
      scales: { y: { range: function (u, min, max) { return [0, Math.max(max, 6)]; } } },
      axes: [{}, { label: "A" }],
      series: [{},
        { label: "L1 drawn", stroke: "#0b5cad", width: 2 },
        { label: "L2 drawn", stroke: "#116329", width: 2 },
        { label: "L3 drawn", stroke: "#9a3412", width: 2 },
        { label: "offered", stroke: "#7c3aed", dash: [6, 4], width: 1.5 }]
    };
    var chart = new uPlot(opts, data, box);
    box.dataset.points = data[0].length;
    var site = siteChart(samples);
    var feed = document.getElementById("samples");
    if (feed) {
      feed.addEventListener("htmx:sseBeforeMessage", function (e) {
        e.preventDefault(); // nothing to swap: data for the chart
        var s = JSON.parse(e.detail.data);
        push(s);
        chart.setData(data);
        box.dataset.points = data[0].length;
        if (s.siteAvailable) {
          if (site) { site.push(s); } else { site = siteChart([s]); }
        }
      });
    }
    window.addEventListener("resize", function () { chart.setSize({ width: Math.max(box.clientWidth, 320), height: 300 }); });
    window.evseChart = chart;
  }

  // siteChart draws, on a DLM master, what it offered and had available
  // on each grid phase; nil until a sample has them.
  function siteChart(samples) {
    var box = document.getElementById("site-box");
    var with_ = samples.filter(function (s) { return s.siteAvailable; });
    if (!box || !with_.length) { return null; }
    var data = [[], [], [], [], [], [], []];
    function add(s) {
      data[0].push(s.t);
      for (var p = 0; p < 3; p++) { data[1 + p].push(s.siteOffered[p]); data[4 + p].push(s.siteAvailable[p]); }
      while (data[0].length && data[0][0] < s.t - 3600) { data.forEach(function (d) { d.shift(); }); }
    }
    with_.forEach(add);
    box.hidden = false;
    document.getElementById("site-h").hidden = false;
    var colours = ["#0b5cad", "#116329", "#9a3412"];
    var series = [{}];
    ["L1", "L2", "L3"].forEach(function (l, p) { series.push({ label: l + " offered", stroke: colours[p], width: 2 }); });
    ["L1", "L2", "L3"].forEach(function (l, p) { series.push({ label: l + " available", stroke: colours[p], width: 1, dash: [5, 4] }); });
    var u = new uPlot({ width: Math.max(box.clientWidth, 320), height: 240, axes: [{}, { label: "A" }], series: series }, data, box);
    window.evseSiteChart = u;
    return { push: function (s) { add(s); u.setData(data); } };
  }

  document.addEventListener("DOMContentLoaded", function () {
    var box = document.getElementById("chart-box");
    if (box && window.uPlot) { chargerChart(box); }
  });
})();
