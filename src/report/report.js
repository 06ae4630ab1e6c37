// The report page's script (compiled into qbuild, inlined into every report): it reads the
// report's content from <script id="qb-data"> (the JSON of src/report/report_data.h) and draws
// the results table, the charts (Vega, inlined before this script as the global `qbVega`), the
// quantization-error heatmaps, the build timeline and the recipe differences. Data is only
// ever put into the page as text (textContent, Vega's text marks), never as HTML.
//
// When every chart has rendered, <body> gets data-rendered="1" (data-rendered="error" when one
// failed, with the error in the chart's place and on the console): the browser tests wait for it.
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("qb-data").textContent);
  var pending = [];

  // ---- formatting ----
  function isNum(v) { return typeof v === "number" && isFinite(v); }
  function grouped(n) {  // 11378 -> "11,378" (independent of the viewer's locale)
    var s = Math.round(n).toString();
    return s.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  }
  function fixed(v, digits) { return v.toFixed(digits); }
  function small(v) {  // KL divergences span orders of magnitude
    if (v === 0) return "0";
    return Math.abs(v) < 0.01 ? v.toExponential(2) : v.toFixed(4);
  }
  function bytes(n) {
    if (n >= 1e9) return (n / 1e9).toFixed(2) + " GB";
    if (n >= 1e6) return (n / 1e6).toFixed(1) + " MB";
    if (n >= 1e3) return (n / 1e3).toFixed(1) + " kB";
    return n + " B";
  }
  function seconds(s) {
    if (s < 60) return s.toFixed(1) + " s";
    var m = Math.floor(s / 60);
    return m + " min " + Math.round(s - 60 * m) + " s";
  }
  function el(tag, attrs, text) {
    var e = document.createElement(tag);
    for (var k in attrs || {}) e.setAttribute(k, attrs[k]);
    if (text !== undefined) e.textContent = text;
    return e;
  }

  // ---- header and gaps ----
  document.getElementById("qb-title").textContent = "qbuild report — " + data.dataset_name;
  document.getElementById("qb-meta").textContent =
      "From " + data.csv + " as of " + data.as_of + " · qbuild " + data.qbuild_version + " · " +
      data.rows.length + " row(s)";
  var gaps = document.getElementById("qb-gaps");
  if (data.gaps.length) {
    gaps.appendChild(el("p", {}, "Gaps — what this report could not show, and why:"));
    var ul = el("ul");
    data.gaps.forEach(function (g) { ul.appendChild(el("li", {}, g)); });
    gaps.appendChild(ul);
  } else {
    gaps.remove();
  }

  // ---- the table ----
  // A column: a header, a title (what it is), a cell renderer and a sort key per row.
  function numCol(row, c) { return isNum(row.num[c]) ? row.num[c] : null; }
  function notFinite(row, c) { return row.not_finite.indexOf(c) >= 0; }
  var columns = [];
  columns.push({head: "variant", title: "the base model first, then transform × quantization",
                key: function (r) { return r.variant; },
                cell: function (r, td) {
                  if (r.card) {
                    var a = el("a", {href: r.card, title: "the model card"}, r.variant);
                    td.appendChild(a);
                  } else {
                    td.textContent = r.variant;
                  }
                }});
  columns.push({head: "trans", key: function (r) { return r.trans; }, text: function (r) { return r.trans; }});
  columns.push({head: "quant", key: function (r) { return r.quant; }, text: function (r) { return r.quant; }});
  data.benchmarks.forEach(function (b) {
    columns.push({head: b, title: "accuracy ± standard error (n) on " + b, num: b + "_acc",
                  text: function (r) {
                    var a = numCol(r, b + "_acc");
                    if (a === null) return null;
                    var s = fixed(a, 3);
                    var e = numCol(r, b + "_stderr");
                    if (e !== null) s += " ± " + fixed(e, 3);
                    var n = numCol(r, b + "_n");
                    if (n !== null) s += " (" + grouped(n) + ")";
                    return s;
                  }});
  });
  var anyRecovery = data.rows.some(function (r) {
    return data.benchmarks.some(function (b) { return isNum(r.recovery[b]); });
  });
  if (anyRecovery) {
    data.benchmarks.forEach(function (b) {
      columns.push({head: b + " recovery",
                    title: data.recovery_from === "column" ? b + "_recovery from the CSV (variant / base)"
                                                           : b + " accuracy / the base model's (computed by the report)",
                    key: function (r) { return isNum(r.recovery[b]) ? r.recovery[b] : null; },
                    text: function (r) { return isNum(r.recovery[b]) ? (100 * r.recovery[b]).toFixed(1) + " %" : null; },
                    nan: function (r) { return notFinite(r, b + "_recovery") || notFinite(r, b + "_acc"); }});
    });
  }
  columns.push({head: "KL", title: "KL divergence of the next-token distributions from the base model's (± standard error)",
                num: "fidelity_kl",
                text: function (r) {
                  var k = numCol(r, "fidelity_kl");
                  if (k === null) return null;
                  var e = numCol(r, "fidelity_kl_stderr");
                  return small(k) + (e !== null ? " ± " + small(e) : "");
                }});
  columns.push({head: "top-1", title: "how often the top next token agrees with the base model's", num: "fidelity_top1",
                text: function (r) { var v = numCol(r, "fidelity_top1"); return v === null ? null : fixed(v, 3); }});
  columns.push({head: "McNemar p", title: "McNemar's exact test of per-question correctness against the base model",
                num: "fidelity_mcnemar_p",
                text: function (r) { var v = numCol(r, "fidelity_mcnemar_p"); return v === null ? null : fixed(v, 3); }});
  columns.push({head: "weights", title: "model size on disk: the *.safetensors files",
                key: function (r) { return r.size_bytes; },
                text: function (r) { return isNum(r.size_bytes) ? bytes(r.size_bytes) : null; }});
  columns.push({head: "quantize time", title: "the quant step's duration (and where it ran)",
                key: function (r) { return r.quant_seconds; },
                text: function (r) {
                  return isNum(r.quant_seconds) ? seconds(r.quant_seconds) + (r.quant_device ? " (" + r.quant_device + ")" : "")
                                                : null;
                }});
  columns.push({head: "prefill tok/s", title: "prompt tokens per second of the eval's prefills (padding included)",
                num: "prefill_tokens_per_s",
                text: function (r) { var v = numCol(r, "prefill_tokens_per_s"); return v === null ? null : grouped(v); }});
  columns.push({head: "decode tok/s", title: "generated tokens per second of the eval's decoding",
                num: "decode_tokens_per_s",
                text: function (r) { var v = numCol(r, "decode_tokens_per_s"); return v === null ? null : grouped(v); }});
  columns.push({head: "peak memory", title: "the eval's peak GPU memory (GiB; on the CPU: the process's peak resident memory)",
                key: function (r) { var g = numCol(r, "peak_gpu_gib"); return g !== null ? g : numCol(r, "peak_rss_gib"); },
                text: function (r) {
                  var g = numCol(r, "peak_gpu_gib");
                  if (g !== null) return g.toFixed(2) + " GiB GPU";
                  var m = numCol(r, "peak_rss_gib");
                  return m === null ? null : m.toFixed(2) + " GiB RSS";
                },
                nan: function (r) { return notFinite(r, "peak_gpu_gib") || notFinite(r, "peak_rss_gib"); }});
  columns.push({head: "eval device", title: "where the eval ran", raw: "generate_device"});
  columns.push({head: "status", key: function (r) { return r.status; }, text: function (r) { return r.status; }});
  data.extra_columns.forEach(function (c) {
    columns.push({head: c, title: c + " (from the CSV, as written)", raw: c});
  });
  columns.forEach(function (c) {
    if (c.num) {  // a plain numeric CSV column
      c.key = c.key || function (r) { return numCol(r, c.num); };
      c.nan = c.nan || function (r) { return notFinite(r, c.num); };
    }
    if (c.raw) {  // a text column, sorted as numbers when every value is one
      c.text = function (r) { var t = r.text[c.raw]; return t === undefined || t === "" ? null : t; };
      c.key = function (r) {
        var t = r.text[c.raw];
        if (t === undefined || t === "") return null;
        var n = Number(t);
        return isNaN(n) ? t : n;
      };
    }
  });
  // A column whose every cell is empty says nothing: dropped (e.g. peak memory before a build recorded it).
  columns = columns.filter(function (c, i) {
    return i < 3 || data.rows.some(function (r) { return (c.text ? c.text(r) : c.key(r)) !== null || (c.nan && c.nan(r)); });
  });

  var table = document.getElementById("results");
  var headRow = el("tr");
  var sortState = {col: -1, dir: 1};
  columns.forEach(function (c, i) {
    var th = el("th", {title: (c.title || c.head) + " — click to sort", "data-col": String(i)}, c.head);
    th.addEventListener("click", function () { sortBy(i); });
    headRow.appendChild(th);
  });
  table.querySelector("thead").appendChild(headRow);
  var body = table.querySelector("tbody");

  function renderRows(rows) {
    body.textContent = "";
    rows.forEach(function (r) {
      var tr = el("tr", {"data-variant": r.variant});
      if (r.base) tr.className = "base";
      else if (r.status.indexOf("stale") === 0) tr.className = "stale";
      columns.forEach(function (c) {
        var td = el("td");
        if (c.cell) {
          c.cell(r, td);
        } else if (c.nan && c.nan(r)) {
          td.textContent = "NaN";
          td.className = "nan";
          td.title = "not a number in " + data.csv + " (line " + r.line + ")";
        } else {
          var t = c.text ? c.text(r) : null;
          if (t === null) {
            td.textContent = "—";
            td.className = "missing";
            td.title = "no value";
          } else {
            td.textContent = t;
            if (c.num || c.key && typeof c.key(r) === "number") td.className = "n";
          }
        }
        tr.appendChild(td);
      });
      body.appendChild(tr);
    });
  }
  // Sorted by one column; the base model stays first, empty values last.
  function sortBy(i) {
    sortState.dir = sortState.col === i ? -sortState.dir : 1;
    sortState.col = i;
    var key = columns[i].key || columns[i].text;
    var rows = data.rows.slice();
    rows.sort(function (a, b) {
      if (a.base !== b.base) return a.base ? -1 : 1;
      var x = key(a), y = key(b);
      if (x === null || x === undefined) return y === null || y === undefined ? 0 : 1;
      if (y === null || y === undefined) return -1;
      if (typeof x === "number" && typeof y === "number") return sortState.dir * (x - y);
      return sortState.dir * String(x).localeCompare(String(y));
    });
    table.querySelectorAll("th").forEach(function (th, k) {
      th.className = k === i ? (sortState.dir > 0 ? "asc" : "desc") : "";
    });
    renderRows(rows);
  }
  renderRows(data.rows);

  // ---- charts ----
  // (Data sets and marks share one namespace in a Vega spec: their names must differ.)
  function render(container, spec) {
    var p = Promise.resolve().then(function () {
      return new qbVega.View(qbVega.parse(spec), {renderer: "svg", container: container, hover: true}).runAsync();
    }).catch(function (e) {
      console.error("qbuild report: a chart failed: " + e);
      container.textContent = "This chart failed to render: " + e;
      container.className += " gap";
      throw e;
    });
    pending.push(p);
    return p.catch(function () {});  // reported above; `pending` carries the failure to data-rendered
  }

  // Accuracy (with its standard error) against x, one labelled point per variant.
  function scatter(container, points, xTitle, yTitle) {
    return render(container, {
      $schema: "https://vega.github.io/schema/vega/v5.json",
      width: 460, height: 300, padding: 8, autosize: "pad",
      data: [{name: "pts", values: points}],
      scales: [
        {name: "x", type: "linear", nice: true, zero: false, range: "width", padding: 12,
         domain: {data: "pts", field: "x"}},
        {name: "y", type: "linear", nice: true, zero: false, range: "height", padding: 12,
         domain: {fields: [{data: "pts", field: "lo"}, {data: "pts", field: "hi"}]}},
        {name: "color", type: "ordinal", domain: ["base model", "variant"], range: ["#d62728", "#1f77b4"]}
      ],
      axes: [
        {orient: "bottom", scale: "x", title: xTitle, grid: true, tickCount: 6},
        {orient: "left", scale: "y", title: yTitle, grid: true}
      ],
      legends: [{fill: "color", orient: "top", direction: "horizontal", symbolType: "circle"}],
      marks: [
        {type: "rule", name: "errorbars", from: {data: "pts"},
         encode: {enter: {x: {scale: "x", field: "x"}, y: {scale: "y", field: "lo"}, y2: {scale: "y", field: "hi"},
                          stroke: {scale: "color", field: "group"}, strokeWidth: {value: 1.5}, strokeOpacity: {value: 0.6}}}},
        {type: "symbol", name: "points", from: {data: "pts"},
         encode: {enter: {x: {scale: "x", field: "x"}, y: {scale: "y", field: "y"}, size: {value: 70},
                          fill: {scale: "color", field: "group"}, stroke: {value: "white"},
                          tooltip: {signal: "datum.tip"}}}},
        // The labels are placed beside the points' marks (vega-label), not over other labels or bars.
        {type: "text", name: "labels", from: {data: "points"},
         encode: {enter: {text: {field: "datum.variant"}, fontSize: {value: 10}, fill: {value: "#333"}}},
         transform: [{type: "label", size: {signal: "[width, height]"}, avoidMarks: ["errorbars"],
                      anchor: ["right", "left", "top", "bottom", "top-right", "bottom-right", "top-left", "bottom-left"],
                      offset: [4, 4, 4, 4, 3, 3, 3, 3]}]}
      ]
    });
  }

  var bench = document.getElementById("bench");
  data.benchmarks.slice().reverse().forEach(function (b) { bench.appendChild(el("option", {value: b}, b)); });
  var chartNotes = document.getElementById("chart-notes");
  // One unit for the size axis, from the largest model.
  var largest = Math.max.apply(null, data.rows.map(function (r) { return isNum(r.size_bytes) ? r.size_bytes : 0; }));
  var sizeUnit = largest >= 1e9 ? [1e9, "GB"] : largest >= 1e6 ? [1e6, "MB"] : largest >= 1e3 ? [1e3, "kB"] : [1, "bytes"];
  var charts = [
    {id: "chart-size", x: function (r) { return isNum(r.size_bytes) ? r.size_bytes / sizeUnit[0] : null; },
     title: "weights on disk (" + sizeUnit[1] + ")", what: "no size on disk"},
    {id: "chart-kl", x: function (r) { return r.base ? 0 : numCol(r, "fidelity_kl"); },
     title: "KL divergence from the base model", what: "no KL divergence"},
    {id: "chart-speed", x: function (r) { return numCol(r, "decode_tokens_per_s"); },
     title: "decode tokens/s of the eval", what: "no decode speed"}
  ];
  function drawCharts() {
    var b = bench.value;
    var notes = [];
    var draws = charts.map(function (c) {
      var box = document.getElementById(c.id);
      box.textContent = "";
      var points = [], left = [];
      data.rows.forEach(function (r) {
        var y = numCol(r, b + "_acc"), x = c.x(r);
        if (y === null) { left.push(r.variant + " (" + (notFinite(r, b + "_acc") ? "NaN accuracy" : "no accuracy") + ")"); return; }
        if (x === null) { left.push(r.variant + " (" + c.what + ")"); return; }
        var e = numCol(r, b + "_stderr") || 0;
        points.push({variant: r.variant, x: x, y: y, lo: y - e, hi: y + e, group: r.base ? "base model" : "variant",
                     tip: {variant: r.variant, accuracy: y.toFixed(3) + " ± " + e.toFixed(3), x: String(x)}});
      });
      if (left.length) notes.push(c.title + ": not plotted: " + left.join(", "));
      if (!points.length) {
        box.textContent = "Nothing to plot: no row has both an accuracy on " + b + " and " + c.title + ".";
        box.className = "chart gap";
        return Promise.resolve();
      }
      box.className = "chart";
      return scatter(box, points, c.title, b + " accuracy (± standard error)");
    });
    chartNotes.textContent = notes.join(" · ");
    return Promise.all(draws);
  }
  bench.addEventListener("change", drawCharts);
  drawCharts();

  // ---- quantization-error heatmaps ----
  var metricSelect = document.getElementById("metric");
  var metricTitles = {weight_rel_error: "relative weight error ‖W − Wq‖ / ‖W‖", gptq_loss: "GPTQ loss",
                      input_absmax: "input |x| max (calibration)", input_p99: "input |x| 99th percentile (calibration)",
                      input_scale: "static input scale"};
  var metrics = [];
  data.heatmaps.forEach(function (h) {
    (h.metrics || []).forEach(function (m) { if (metrics.indexOf(m) < 0) metrics.push(m); });
  });
  metrics.forEach(function (m) { metricSelect.appendChild(el("option", {value: m}, metricTitles[m] || m)); });
  var heatBox = document.getElementById("heatmaps");
  function drawHeatmaps() {
    var metric = metricSelect.value;
    var max = 0;
    data.heatmaps.forEach(function (h) {
      (h.cells || []).forEach(function (c) { if (isNum(c[metric])) max = Math.max(max, c[metric]); });
    });
    heatBox.textContent = "";
    return Promise.all(data.heatmaps.map(function (h) {
      var fig = el("figure", {"data-variant": h.variant});
      fig.appendChild(el("figcaption", {}, h.variant));
      heatBox.appendChild(fig);
      if (h.missing) {
        fig.appendChild(el("p", {"class": "gap"}, h.missing));
        return Promise.resolve();
      }
      var cells = h.cells.filter(function (c) { return isNum(c[metric]); }).map(function (c) {
        return {layer: c.layer, module: c.module, v: c[metric]};
      });
      if (!cells.length) {
        fig.appendChild(el("p", {"class": "gap"}, "this report has no " + (metricTitles[metric] || metric)));
        return Promise.resolve();
      }
      var box = el("div", {"class": "chart"});
      fig.appendChild(box);
      // Rows of 10 to 24 pixels: a 2-layer model stays readable, a 36-layer one fits a screen.
      var rowHeight = Math.max(10, Math.min(24, Math.floor(420 / h.layers.length)));
      var height = rowHeight * h.layers.length;
      return render(box, {
        $schema: "https://vega.github.io/schema/vega/v5.json",
        width: 34 * h.modules.length, height: height, padding: 6, autosize: "pad",
        data: [{name: "heat", values: cells}],
        scales: [
          {name: "x", type: "band", domain: h.modules, range: "width"},
          {name: "y", type: "band", domain: h.layers, range: "height"},
          {name: "color", type: "linear", scheme: "orangered", domain: [0, max || 1], zero: true}
        ],
        axes: [
          {orient: "top", scale: "x", labelAngle: -40, labelAlign: "left", domain: false, ticks: false},
          {orient: "left", scale: "y", title: "layer", domain: false, ticks: false,
           labelFontSize: h.layers.length > 40 ? 7 : 10}
        ],
        legends: [{fill: "color", type: "gradient", title: metricTitles[metric] || metric,
                   gradientLength: Math.max(40, Math.min(200, height)), titleLimit: 220}],
        marks: [{type: "rect", name: "cells", from: {data: "heat"},
                 encode: {enter: {x: {scale: "x", field: "module"}, width: {scale: "x", band: 1},
                                  y: {scale: "y", field: "layer"}, height: {scale: "y", band: 1},
                                  fill: {scale: "color", field: "v"}, stroke: {value: "white"},
                                  tooltip: {signal: "{'layer': datum.layer, 'module': datum.module, 'value': format(datum.v, '.3~g')}"}}}}]
      });
    }));
  }
  if (metrics.length) {
    metricSelect.addEventListener("change", drawHeatmaps);
    drawHeatmaps();
  } else {
    metricSelect.parentNode.remove();
    drawHeatmaps();
  }

  // ---- the build timeline ----
  var tl = document.getElementById("timeline");
  if (!data.timeline) {
    tl.textContent = "No step has run yet in this project (the index records none).";
    tl.className = "gap";
  } else {
    var runs = data.timeline.runs;
    var lanes = [];
    runs.forEach(function (r) { if (lanes.indexOf(r.lane) < 0) lanes.push(r.lane); });
    lanes.sort();
    document.getElementById("timeline-note").textContent =
        "The steps of build " + data.timeline.invocation + " (the last one that ran any), one lane per GPU; CPU steps " +
        "are packed into as few lanes as ran at once. Hover a bar for its step.";
    render(tl, {
      $schema: "https://vega.github.io/schema/vega/v5.json",
      width: 900, height: Math.max(40, 26 * lanes.length), padding: 6, autosize: "pad",
      data: [{name: "steps", values: runs.map(function (r) {
        return {lane: r.lane, kind: r.kind, start: r.start, end: Math.max(r.end, r.start + 0.05), status: r.status,
                tip: {step: r.kind + " " + r.name, status: r.status, seconds: (r.end - r.start).toFixed(1)}};
      })}],
      scales: [
        {name: "x", type: "linear", domain: {data: "steps", fields: ["start", "end"]}, range: "width", zero: true, nice: true},
        {name: "y", type: "band", domain: lanes, range: "height", padding: 0.2},
        {name: "color", type: "ordinal", domain: {data: "steps", field: "kind", sort: true}, range: {scheme: "tableau10"}}
      ],
      axes: [{orient: "bottom", scale: "x", title: "seconds since the build's first step", grid: true},
             {orient: "left", scale: "y"}],
      legends: [{fill: "color", title: "step", orient: "right"}],
      marks: [{type: "rect", name: "runs", from: {data: "steps"},
               encode: {enter: {x: {scale: "x", field: "start"}, x2: {scale: "x", field: "end"},
                                y: {scale: "y", field: "lane"}, height: {scale: "y", band: 1},
                                fill: {scale: "color", field: "kind"},
                                stroke: {signal: "datum.status === 'ok' ? 'white' : '#d62728'"},
                                strokeWidth: {signal: "datum.status === 'ok' ? 0.5 : 2"},
                                tooltip: {signal: "datum.tip"}}}}]
    });
  }

  // ---- recipe differences ----
  var recipes = data.recipes;
  var selA = document.getElementById("recipe-a"), selB = document.getElementById("recipe-b");
  var diffList = document.getElementById("recipe-diff");
  if (recipes.variants.length < 2) {
    document.getElementById("recipe-pick").remove();
    diffList.appendChild(el("li", {"class": "gap"},
                            recipes.variants.length ? "Only one quantized variant: nothing to compare."
                                                    : "No quantized variant has its recipe in the store."));
  } else {
    recipes.variants.forEach(function (v) {
      selA.appendChild(el("option", {value: v}, v));
      selB.appendChild(el("option", {value: v}, v));
    });
    selB.selectedIndex = 1;
    var showDiff = function () {
      diffList.textContent = "";
      var a = selA.value, b = selB.value;
      var lines = a === b ? null : recipes.diffs[a + "\t" + b];
      if (a === b) diffList.appendChild(el("li", {}, "The same variant."));
      else if (!lines) diffList.appendChild(el("li", {"class": "gap"}, "Not computed for this pair (too many variants)."));
      else if (!lines.length) diffList.appendChild(el("li", {}, "Identical transform and recipe."));
      else lines.forEach(function (l) { diffList.appendChild(el("li", {}, l)); });
    };
    selA.addEventListener("change", showDiff);
    selB.addEventListener("change", showDiff);
    showDiff();
  }

  Promise.all(pending).then(function () { document.body.setAttribute("data-rendered", "1"); },
                            function () { document.body.setAttribute("data-rendered", "error"); });
})();
