// Draws the charts of a page from its json_script data (id "chart-data"): Tend's own script, no
// inline code, so the Content-Security-Policy holds. Each chart's numbers are also in a table in the
// page, so nothing here is the only way to read them.
(function () {
  "use strict";
  const source = document.getElementById("chart-data");
  if (!source || typeof Chart === "undefined") return;
  const data = JSON.parse(source.textContent);
  if (window["chartjs-plugin-annotation"]) Chart.register(window["chartjs-plugin-annotation"]);

  // Colour-blind-safe (Okabe-Ito) colours; lines also differ by dash, so colour is never the only cue.
  const COLOURS = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9"];
  const DASHES = [[], [6, 4], [2, 3], [10, 3, 2, 3]];
  const large = document.body.classList.contains("appointment");
  Chart.defaults.font.size = large ? 16 : 13;
  Chart.defaults.color = "#333";
  Chart.defaults.maintainAspectRatio = false;
  Chart.defaults.animation = false;  // calm, and nothing moves for people who prefer less motion

  // Each kind of marker its own colour and dash, as the sentence beneath the charts explains: the
  // therapist's notes, the program's step changes, weeks with a paused session.
  const MARKER_STYLES = {
    note: { colour: "#6c4f9e", dash: [4, 4] },
    step: { colour: "#00705a", dash: [10, 3, 2, 3] },
    paused: { colour: "#8a6d00", dash: [] },
  };

  function markerAnnotations(markers) {
    const out = {};
    markers.forEach((m, i) => {
      const style = MARKER_STYLES[m.kind] || MARKER_STYLES.paused;
      out["m" + i] = {
        type: "line",
        scaleID: "x",
        value: m.index,
        borderColor: style.colour,
        borderWidth: 2,
        borderDash: style.dash,
        label: {
          display: true,
          content: m.label,
          position: i % 2 ? "end" : "start",
          backgroundColor: "rgba(255,255,255,0.9)",
          color: "#222",
          font: { size: 11 },
        },
      };
    });
    return out;
  }

  function datasets(chart) {
    let colour = 0;
    return chart.series.map((s) => {
      const isTarget = s.kind === "line";
      const c = isTarget ? "#444" : COLOURS[colour++ % COLOURS.length];
      const set = {
        label: s.label,
        data: s.values,
        borderColor: c,
        backgroundColor: isTarget ? c : c + "cc",
        spanGaps: true,
        pointRadius: 3,
      };
      if (isTarget) {
        Object.assign(set, { type: "line", borderDash: [6, 4], pointRadius: 0, fill: false, stack: "target", order: -1 });
      } else if (chart.type === "line") {
        set.borderDash = DASHES[(colour - 1) % DASHES.length];
      }
      return set;
    });
  }

  data.charts.forEach((chart) => {
    const canvas = document.getElementById("chart-" + chart.id);
    if (!canvas) return;
    const y = { beginAtZero: true, ticks: { precision: 0 }, stacked: !!chart.stacked };
    if (chart.min !== undefined) { y.min = chart.min; y.max = chart.max; }
    new Chart(canvas, {
      type: chart.type,
      data: { labels: chart.labels, datasets: datasets(chart) },
      options: {
        responsive: true,
        scales: { x: { stacked: !!chart.stacked, ticks: { autoSkip: true, maxRotation: 0 } }, y: y },
        plugins: {
          legend: { position: "bottom", labels: { boxWidth: 14 } },
          annotation: { annotations: markerAnnotations(data.markers || []) },
        },
      },
    });
  });
})();
