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
    var feed = document.getElementById("samples");
    if (feed) {
      feed.addEventListener("htmx:sseBeforeMessage", function (e) {
        e.preventDefault(); // nothing to swap: data for the chart
        push(JSON.parse(e.detail.data));
        chart.setData(data);
        box.dataset.points = data[0].length;
      });
    }
    window.addEventListener("resize", function () { chart.setSize({ width: Math.max(box.clientWidth, 320), height: 300 }); });
    window.evseChart = chart;
  }

  document.addEventListener("DOMContentLoaded", function () {
    var box = document.getElementById("chart-box");
    if (box && window.uPlot) { chargerChart(box); }
  });
})();
