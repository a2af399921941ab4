// Draws the charts of a page from its json_script data (id "chart-data"): Tend's own script, no
// inline code, so the Content-Security-Policy holds. Each chart's numbers are also in a table in the
// page, so nothing here is the only way to read them.
//
// Markers (the therapist's notes, program step changes, weeks with a paused session) are small
// numbered pins above the plot, each with a thin line down to its week; no words on the canvas. The
// legend beneath the charts (templates/includes/chart_markers.html) says what each number is. Pins
// that would touch share one ("2–3"), so none overlaps another at any width; each chart's pin boxes
// are on its canvas's data-pins attribute (CSS pixels), for the browser tests.
//
// Colours come from CSS custom properties on :root (tend.css: light; the dark theme overrides them),
// and every chart is drawn again when the document says "tend:themechange".
(function () {
  "use strict";
  const source = document.getElementById("chart-data");
  if (!source || typeof Chart === "undefined") return;
  const data = JSON.parse(source.textContent);
  const markers = data.markers || [];
  if (window["chartjs-plugin-annotation"]) Chart.register(window["chartjs-plugin-annotation"]);

  const large = document.body.classList.contains("appointment");
  Chart.defaults.font.size = large ? 16 : 13;
  Chart.defaults.maintainAspectRatio = false;
  Chart.defaults.animation = false; // calm, and nothing moves for people who prefer less motion

  // The light values, should a stylesheet not say (tend.css's "charts" block does).
  const FALLBACK = {
    "tend-chart-text": "#333333",
    "tend-chart-grid": "rgba(0, 0, 0, 0.1)",
    "tend-chart-1": "#0072b2",
    "tend-chart-2": "#d55e00",
    "tend-chart-3": "#009e73",
    "tend-chart-4": "#cc79a7",
    "tend-chart-5": "#e69f00",
    "tend-chart-6": "#56b4e9",
    "tend-chart-target": "#444444",
    "tend-marker-note": "#6c4f9e",
    "tend-marker-step": "#00705a",
    "tend-marker-paused": "#8a6d00",
    "tend-chart-label-bg": "#ffffff",
  };
  function colour(name) {
    const value = getComputedStyle(document.documentElement).getPropertyValue("--" + name).trim();
    return value || FALLBACK[name];
  }
  const SERIES_COLOURS = 6;
  // Lines differ by dash too, and markers by dash and number, so colour is never the only cue.
  const DASHES = [[], [6, 4], [2, 3], [10, 3, 2, 3]];
  const MARKER_DASHES = { note: [4, 4], step: [10, 3, 2, 3], paused: [] };
  const PIN = { height: large ? 24 : 20, padX: 6, gap: 4, above: 8, font: large ? 14 : 11 };

  // Which view (connection: "all", "giver", "receiver" …) each chart shows, kept across redraws.
  const shown = {};
  const drawn = [];

  function markerLines() {
    const out = {};
    const seen = new Set();
    markers.forEach((m) => {
      const key = m.index + ":" + m.kind;
      if (seen.has(key)) return;
      seen.add(key);
      out["m" + m.number] = {
        type: "line",
        scaleID: "x",
        value: m.index,
        borderColor: colour("tend-marker-" + m.kind),
        borderWidth: 1,
        borderDash: MARKER_DASHES[m.kind] || [],
        drawTime: "beforeDatasetsDraw",
      };
    });
    return out;
  }

  // The pins of one chart: markers of one bucket share a pin, and neighbouring pins that would touch
  // merge into one ("2–5") until no two overlap; each pin stays inside the canvas.
  function pinBoxes(chart, ctx) {
    const byIndex = new Map();
    markers.forEach((m) => {
      if (!byIndex.has(m.index)) byIndex.set(m.index, []);
      byIndex.get(m.index).push(m);
    });
    const scale = chart.scales.x;
    const place = (pin) => {
      const first = pin.markers[0].number;
      const last = pin.markers[pin.markers.length - 1].number;
      pin.text = first === last ? String(first) : first + "–" + last;
      pin.width = Math.max(PIN.height, Math.ceil(ctx.measureText(pin.text).width) + 2 * PIN.padX);
      const middle = (Math.min(...pin.xs) + Math.max(...pin.xs)) / 2;
      pin.left = Math.min(Math.max(middle - pin.width / 2, 1), chart.width - pin.width - 1);
      pin.right = pin.left + pin.width;
      return pin;
    };
    const pins = [...byIndex.keys()]
      .sort((a, b) => a - b)
      .map((index) => place({ xs: [scale.getPixelForValue(index)], markers: byIndex.get(index) }));
    for (let i = 0; i < pins.length - 1; ) {
      if (pins[i].right + PIN.gap > pins[i + 1].left) {
        const merged = { xs: pins[i].xs.concat(pins[i + 1].xs), markers: pins[i].markers.concat(pins[i + 1].markers) };
        pins.splice(i, 2, place(merged));
        i = Math.max(i - 1, 0); // the wider pin may now touch the one before
      } else {
        i++;
      }
    }
    return pins;
  }

  const pinPlugin = {
    id: "tendPins",
    afterDraw(chart) {
      if (!markers.length) return;
      const ctx = chart.ctx;
      const area = chart.chartArea;
      ctx.save();
      ctx.font = "bold " + PIN.font + "px " + Chart.defaults.font.family;
      const top = area.top - PIN.above - PIN.height;
      const boxes = [];
      pinBoxes(chart, ctx).forEach((pin) => {
        const kinds = new Set(pin.markers.map((m) => m.kind));
        const fill = kinds.size === 1 ? colour("tend-marker-" + pin.markers[0].kind) : colour("tend-chart-text");
        const centre = pin.left + pin.width / 2;
        ctx.strokeStyle = fill;
        ctx.lineWidth = 1;
        ctx.setLineDash([]);
        pin.xs.forEach((x) => {
          ctx.beginPath();
          ctx.moveTo(centre, top + PIN.height);
          ctx.lineTo(x, area.top);
          ctx.stroke();
        });
        ctx.fillStyle = fill;
        ctx.beginPath();
        if (ctx.roundRect) ctx.roundRect(pin.left, top, pin.width, PIN.height, PIN.height / 2);
        else ctx.rect(pin.left, top, pin.width, PIN.height);
        ctx.fill();
        ctx.fillStyle = colour("tend-chart-label-bg");
        ctx.textAlign = "center";
        ctx.textBaseline = "middle";
        ctx.fillText(pin.text, centre, top + PIN.height / 2 + 0.5);
        boxes.push({
          text: pin.text,
          numbers: pin.markers.map((m) => m.number),
          left: pin.left,
          right: pin.right,
          top: top,
          bottom: top + PIN.height,
        });
      });
      ctx.restore();
      chart.canvas.dataset.pins = JSON.stringify(boxes);
    },
  };

  function datasets(spec, series) {
    // A partner keeps their colour whichever view is shown: colours follow the chart's own series.
    const order = spec.series.map((s) => s.label);
    let next = 0;
    return series.map((s) => {
      const isTarget = s.kind === "line";
      let n = order.indexOf(s.label);
      if (n < 0) n = next;
      next = n + 1;
      const c = isTarget ? colour("tend-chart-target") : colour("tend-chart-" + ((n % SERIES_COLOURS) + 1));
      const set = {
        label: s.label,
        data: s.values,
        borderColor: c,
        backgroundColor: c,
        spanGaps: true,
        pointRadius: 3,
        clip: 6, // a point on the scale's top is drawn whole; the pins sit higher still
      };
      if (isTarget) {
        Object.assign(set, { type: "line", borderDash: [6, 4], borderWidth: 2, pointRadius: 0, fill: false, stack: "target", order: -1 });
        // A target of a single week (an exercise assigned this week) has no line to draw: a short dash marks it.
        if (s.values.filter((v) => v !== null).length === 1) Object.assign(set, { pointStyle: "line", pointRadius: 8, pointBorderWidth: 2 });
      } else if (spec.type === "line") {
        set.borderDash = DASHES[n % DASHES.length];
      }
      return set;
    });
  }

  // Each legend item is drawn as what it stands for: a short stretch of the line, in its dash (the
  // target's dashes too), or a block for bars. Chart.js's default fills a box and strokes it dashed,
  // which reads as a blot.
  function legendItems(chart) {
    const items = Chart.defaults.plugins.legend.labels.generateLabels(chart);
    items.forEach((item) => {
      const set = chart.data.datasets[item.datasetIndex];
      const isLine = (set.type || chart.config.type) === "line";
      item.pointStyle = isLine ? "line" : "rect";
      item.strokeStyle = set.borderColor;
      item.fillStyle = set.backgroundColor;
      item.lineDash = isLine ? set.borderDash || [] : [];
      item.lineWidth = isLine ? 3 : 0;
    });
    return items;
  }

  function viewSeries(spec) {
    const view = (spec.views || []).find((v) => v.key === shown[spec.id]);
    return view ? view.series : spec.series;
  }

  function draw(spec) {
    const canvas = document.getElementById("chart-" + spec.id);
    if (!canvas) return;
    const text = colour("tend-chart-text");
    const grid = colour("tend-chart-grid");
    Chart.defaults.color = text;
    Chart.defaults.borderColor = grid;
    const y = {
      min: spec.min,
      max: spec.max,
      stacked: !!spec.stacked,
      ticks: { stepSize: spec.step, precision: 0, color: text },
      grid: { color: grid },
    };
    drawn.push(
      new Chart(canvas, {
        type: spec.type,
        data: { labels: spec.labels, datasets: datasets(spec, viewSeries(spec)) },
        options: {
          responsive: true,
          layout: { padding: { top: markers.length ? PIN.height + PIN.above + 2 : 8 } },
          scales: {
            x: { stacked: !!spec.stacked, ticks: { autoSkip: true, autoSkipPadding: 12, maxRotation: 0, color: text }, grid: { color: grid } },
            y: y,
          },
          plugins: {
            legend: { position: "bottom", labels: { color: text, usePointStyle: true, pointStyleWidth: 26, boxHeight: 12, generateLabels: legendItems } },
            annotation: { annotations: markerLines() },
          },
        },
        plugins: [pinPlugin],
      })
    );
  }

  function drawAll() {
    drawn.splice(0).forEach((chart) => chart.destroy());
    data.charts.forEach(draw);
  }

  // The role buttons (connection): real buttons, one pressed, switching the drawn lines in place.
  document.querySelectorAll(".chart-views[data-chart]").forEach((group) => {
    const id = group.dataset.chart;
    const spec = data.charts.find((c) => c.id === id);
    if (!spec) return;
    const buttons = group.querySelectorAll("button[data-view]");
    buttons.forEach((button) => {
      button.addEventListener("click", () => {
        shown[id] = button.dataset.view;
        buttons.forEach((b) => b.setAttribute("aria-pressed", b === button ? "true" : "false"));
        const chart = Chart.getChart(document.getElementById("chart-" + id));
        if (!chart) return;
        chart.data.datasets = datasets(spec, viewSeries(spec));
        chart.update();
      });
    });
    group.hidden = false;
  });

  drawAll();
  document.addEventListener("tend:themechange", drawAll);
})();
