// The site report: one chart per grid phase of the day's data
// (site.ReportData), synchronised, zoomable, with each car's offer, draw
// and state under the cursor.
(function () {
  "use strict";
  var d = JSON.parse(document.getElementById("report-data").textContent);
  d.events = d.events || [];
  var palette = ["#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"];
  function clock(s) {
    var day = Math.floor(s / 86400), h = Math.floor(s % 86400 / 3600), m = Math.floor(s % 3600 / 60);
    return (day ? "day " + (day + 1) + " " : "") + String(h).padStart(2, "0") + ":" + String(m).padStart(2, "0");
  }
  var events = document.getElementById("events");
  d.events.forEach(function (e) {
    var li = document.createElement("li");
    li.textContent = clock(e.t) + " — " + e.text;
    events.appendChild(li);
  });
  if (!d.events.length) { events.innerHTML = "<li>none</li>"; }

  var box = document.getElementById("charts");
  var charts = [];
  for (var p = 0; p < 3; p++) {
    var total = d.t.map(function (_, i) {
      var s = 0;
      d.drawn[p].forEach(function (c) { s += c[i]; });
      return Math.round(s * 10) / 10;
    });
    var data = [d.t, d.available[p], total];
    var series = [{ value: function (u, v) { return v == null ? "" : clock(v); } },
      { label: "available", stroke: "#111", width: 2 },
      { label: "drawn, all cars", stroke: "#0b5cad", width: 2 }];
    d.names.forEach(function (name, c) {
      var colour = palette[c % palette.length];
      data.push(d.drawn[p][c]);
      series.push({ label: name + " draws", stroke: colour, width: 1,
        value: (function (c) { return function (u, v, si, i) { return v == null ? "" : v + " A (" + d.state[c][i] + ")"; }; })(c) });
      data.push(d.offered[c]);
      series.push({ label: name + " offered", stroke: colour, width: 1, dash: [4, 3], show: false });
    });
    if (d.withoutT && d.withoutT.length) {
      // The day without load management, on its own instants: placed on
      // the nearest instant of this chart.
      var j = 0, without = d.t.map(function (t) {
        while (j + 1 < d.withoutT.length && d.withoutT[j + 1] <= t) { j++; }
        return d.withoutDrawn[p][j];
      });
      data.push(without);
      series.push({ label: "drawn without load management", stroke: "#d00", width: 1.5, dash: [8, 4] });
    }
    var h = document.createElement("h3");
    h.textContent = "L" + (p + 1);
    box.appendChild(h);
    var div = document.createElement("div");
    div.className = "phase-chart";
    box.appendChild(div);
    charts.push(new uPlot({
      width: Math.max(box.clientWidth, 360), height: 260,
      cursor: { sync: { key: "phases" } },
      scales: { x: { time: false } },
      axes: [{ values: function (u, vals) { return vals.map(clock); } }, { label: "A" }],
      series: series,
      hooks: { draw: [function (u) {
        var ctx = u.ctx;
        ctx.save();
        ctx.strokeStyle = "#7c3aed";
        ctx.setLineDash([2, 3]);
        d.events.forEach(function (e) {
          var x = Math.round(u.valToPos(e.t, "x", true));
          if (x < u.bbox.left || x > u.bbox.left + u.bbox.width) { return; }
          ctx.beginPath(); ctx.moveTo(x, u.bbox.top); ctx.lineTo(x, u.bbox.top + u.bbox.height); ctx.stroke();
        });
        ctx.restore();
      }] }
    }, data, div));
  }
  window.evseReport = charts;
})();
