//! What makes `report.html` interactive: one inline JSON block with the drawn points (where each
//! lands in its chart, its configuration and metrics), the per-op ledger and roofline position of
//! the front points, and the small inline script that reads it (tooltips on hover, the ledger on
//! click, sortable and filterable front tables). Without JavaScript the page is unchanged: the
//! block is inert data and the static charts and tables stay as they are.

use super::{Plot, describe, show_metric};
use crate::explore::{Analysis, Results, Session};
use crate::score::bound_name;
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// Most front points whose per-op ledgers are embedded in the page (the first by point id);
/// the others show their configuration and metrics only.
pub const MAX_HTML_LEDGERS: usize = 200;

/// What the page shows on hovering a drawn point, by point id.
pub(super) struct PointInfos {
    /// The metrics listed: the objectives, then the evaluator's table metrics.
    metrics: Vec<usize>,
    /// Point id to (configuration, status, shown metric values).
    by_id: BTreeMap<u64, (String, String, Vec<String>)>,
}

impl PointInfos {
    /// An empty set listing the objectives and table metrics of `session`.
    pub(super) fn new(session: &Session, a: &Analysis) -> PointInfos {
        let mut metrics = a.objectives.clone();
        for &name in session.evaluator.table_metrics() {
            if let Ok(k) = session.metric_index(name)
                && !metrics.contains(&k)
            {
                metrics.push(k);
            }
        }
        PointInfos {
            metrics,
            by_id: BTreeMap::new(),
        }
    }

    /// Records row `i` of the chunk `r`; `verdict` is its (reason if infeasible, on the front).
    pub(super) fn add(
        &mut self,
        session: &Session,
        r: &Results,
        i: usize,
        verdict: &(Option<String>, bool),
    ) {
        let id = r.points[i].id;
        if self.by_id.contains_key(&id) {
            return;
        }
        let defs = session.metrics();
        let status = match verdict {
            (Some(why), _) => format!("infeasible: {why}"),
            (None, true) => "on the Pareto front".to_string(),
            (None, false) => "feasible, dominated".to_string(),
        };
        let values = (self.metrics.iter())
            .map(|&k| show_metric(defs[k].name, r.outcomes[i].metrics[k]))
            .collect();
        self.by_id
            .insert(id, (describe(session, r, i), status, values));
    }
}

/// Rounds to 4 significant digits, which keeps the JSON short; non-finite values become 0.
fn r4(v: f64) -> f64 {
    if !v.is_finite() {
        return 0.0;
    }
    format!("{v:.3e}").parse().unwrap_or(0.0)
}

/// The per-op ledger and roofline position of each phase of the point in row `row`.
fn ledger(session: &Session, results: &Results, row: usize) -> Value {
    let mut phases = Vec::new();
    for d in session.evaluator.detail(&results.points[row]) {
        let unit = &d.hw.units[d.unit];
        let inner = unit.reach[0];
        let ceil = d.ceilings();
        let peak = ceil.compute.iter().map(|c| c.1).fold(0.0f64, f64::max);
        let level = &d.hw.memories[inner].name;
        let bw = (ceil.bandwidth.iter())
            .find(|s| s.0 == *level)
            .or_else(|| ceil.bandwidth.iter().min_by(|a, b| a.1.total_cmp(&b.1)))
            .map_or(0.0, |s| s.1);
        let (mut flops, mut bytes, mut latency) = (0.0, 0.0, 0.0);
        for l in &d.per_op {
            flops += l.flops;
            bytes += l.bytes[inner];
            latency += l.latency_s;
        }
        // Repeated layers collapse to one row per op class, with its count.
        let ops: Vec<Value> = (d.graph.op_classes().into_iter())
            .map(|(op, n)| {
                let i = op.0 as usize;
                let (o, l) = (&d.graph.ops[i], &d.per_op[i]);
                json!([
                    o.name,
                    o.kind.name(),
                    n,
                    r4(l.flops),
                    r4(l.total_bytes()),
                    r4(l.latency_s),
                    bound_name(&d.hw, l.bound())
                ])
            })
            .collect();
        let intensity = if bytes > 0.0 { flops / bytes } else { 0.0 };
        phases.push(json!({
            "phase": d.phase,
            "unit": unit.name,
            "note": d.note,
            "flops": r4(flops),
            "bytes": r4(bytes),
            "level": level,
            "latency": r4(latency),
            "intensity": r4(intensity),
            "attained": r4(if latency > 0.0 { flops / latency } else { 0.0 }),
            "peak": r4(peak),
            "bw": r4(bw),
            "roof": r4(peak.min(bw * intensity)),
            "ops": ops,
        }));
    }
    Value::Array(phases)
}

/// The JSON block of the page: the metric names, each drawn point's configuration, status and
/// metrics, each scatter's marks, and the ledgers of the first [`MAX_HTML_LEDGERS`] front points.
/// `</` is escaped so that the text cannot close its `<script>` element.
pub(super) fn data(
    session: &Session,
    results: &Results,
    a: &Analysis,
    plots: &[Plot],
    infos: PointInfos,
) -> String {
    let defs = session.metrics();
    let mut points = serde_json::Map::new();
    for (id, (conf, status, values)) in infos.by_id {
        points.insert(id.to_string(), json!([conf, status, values]));
    }
    let mut charts = serde_json::Map::new();
    for p in plots.iter().filter(|p| !p.marks.is_empty()) {
        let flat: Vec<Value> = (p.marks.iter())
            .flat_map(|&(id, x, y)| [json!(id), json!(x), json!(y)])
            .collect();
        charts.insert(format!("plot-{}", p.id), Value::Array(flat));
    }
    let mut front: Vec<usize> = a.front.clone();
    front.sort_by_key(|&r| results.points[r].id);
    let mut ledgers = serde_json::Map::new();
    for &r in front.iter().take(MAX_HTML_LEDGERS) {
        let id = results.points[r].id;
        ledgers.insert(id.to_string(), ledger(session, results, r));
        // A front point not drawn (a thinned chart) still gets its tooltip text.
        if !points.contains_key(&id.to_string()) {
            let values: Vec<String> = (infos.metrics.iter())
                .map(|&k| show_metric(defs[k].name, results.outcomes[r].metrics[k]))
                .collect();
            points.insert(
                id.to_string(),
                json!([describe(session, results, r), "on the Pareto front", values]),
            );
        }
    }
    let v = json!({
        "metrics": infos.metrics.iter().map(|&k| defs[k].name).collect::<Vec<_>>(),
        "points": points,
        "charts": charts,
        "ledgers": ledgers,
        "front": a.front.len(),
        "ledgerCap": MAX_HTML_LEDGERS,
    });
    v.to_string().replace("</", "<\\/")
}

/// The page's script: tooltips, the ledger panel, sorting and filtering. It only adds
/// behaviour; every element it relies on is also meaningful without it.
pub(super) const SCRIPT: &str = r#"<script>
(function () {
  'use strict';
  var el = document.getElementById('archscope-data');
  if (!el) return;
  var D = JSON.parse(el.textContent);
  function si(v, u) {
    if (v === 0 || !isFinite(v)) return String(v) + ' ' + u;
    var p = [[1e12, 'T'], [1e9, 'G'], [1e6, 'M'], [1e3, 'k'], [1, ''], [1e-3, 'm'], [1e-6, 'µ'], [1e-9, 'n'], [1e-12, 'p']];
    for (var i = 0; i < p.length; i++) {
      if (Math.abs(v) >= p[i][0] || i === p.length - 1) return (v / p[i][0]).toPrecision(3) + ' ' + p[i][1] + u;
    }
  }
  function esc(s) {
    return String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  }
  function info(id) {
    var p = D.points[id];
    if (!p) return '<b>#' + id + '</b>';
    var rows = D.metrics.map(function (m, i) { return esc(m) + ': <b>' + esc(p[2][i]) + '</b>'; });
    return '<b>#' + id + '</b> ' + esc(p[0]) + '<br><i>' + esc(p[1]) + '</i><br>' + rows.join('<br>');
  }
  document.querySelectorAll('.as-hint').forEach(function (p) { p.hidden = false; });
  var tip = document.createElement('div');
  tip.id = 'as-tip';
  tip.setAttribute('role', 'tooltip');
  document.body.appendChild(tip);
  // Marks of the point under (cx, cy) in the chart's SVG units: the nearest within 9 px and
  // every other at the same place (ties draw on top of each other).
  function near(marks, x, y) {
    var best = 81, hits = [];
    for (var i = 0; i < marks.length; i += 3) {
      var dx = marks[i + 1] - x, dy = marks[i + 2] - y, d = dx * dx + dy * dy;
      if (d < best - 0.5) { best = d; hits = [i]; } else if (d <= best + 0.5) hits.push(i);
    }
    return hits.map(function (i) { return [marks[i], marks[i + 1], marks[i + 2]]; });
  }
  function svgPoint(svg, e) {
    var pt = svg.createSVGPoint();
    pt.x = e.clientX; pt.y = e.clientY;
    return pt.matrixTransform(svg.getScreenCTM().inverse());
  }
  function panel(fig) {
    var p = fig.nextElementSibling;
    if (p && p.classList.contains('as-ledger')) return p;
    p = document.createElement('section');
    p.className = 'as-ledger';
    fig.parentNode.insertBefore(p, fig.nextSibling);
    return p;
  }
  function showLedger(fig, id) {
    var p = panel(fig), L = D.ledgers[id];
    var h = '<h3>Point #' + id + '</h3><p>' + info(id) + '</p>';
    if (!L) {
      h += '<p class="as-none">No per-op ledger for this point: the page embeds the ledgers of the first ' + D.ledgerCap + ' front points (by id) of ' + D.front + '. Click a ringed front point.</p>';
    } else {
      L.forEach(function (ph) {
        h += '<h4>' + esc(ph.phase) + ' on ' + esc(ph.unit) + '</h4>';
        if (ph.note) h += '<p>' + esc(ph.note) + '</p>';
        h += '<p class="as-roof">Roofline position: arithmetic intensity <b>' + ph.intensity.toPrecision(3) + ' FLOP/B</b> (through ' + esc(ph.level) +
          '), attained <b>' + si(ph.attained, 'FLOP/s') + '</b>; the roof there is ' + si(ph.roof, 'FLOP/s') +
          ' (peak ' + si(ph.peak, 'FLOP/s') + ', ' + esc(ph.level) + ' ' + si(ph.bw, 'B/s') + '), ' +
          (ph.roof > 0 ? (100 * ph.attained / ph.roof).toFixed(1) + '% of it' : 'no roof') +
          '. Phase: ' + si(ph.flops, 'FLOP') + ', ' + si(ph.bytes, 'B') + ', ' + si(ph.latency, 's') + '.</p>';
        h += '<div class="wide"><table class="as-ops"><thead><tr><th>op</th><th>kind</th><th>×</th><th>FLOPs</th><th>bytes</th><th>latency</th><th>bound</th></tr></thead><tbody>';
        ph.ops.forEach(function (o) {
          h += '<tr><td>' + esc(o[0]) + '</td><td>' + esc(o[1]) + '</td><td class="num">' + o[2] + '</td><td class="num">' + si(o[3], '') +
            '</td><td class="num">' + si(o[4], 'B') + '</td><td class="num">' + si(o[5], 's') + '</td><td>' + esc(o[6]) + '</td></tr>';
        });
        h += '</tbody></table></div>';
      });
      h += '<p class="as-none">One row per op class (repeated layers collapse, × counts them); FLOPs, bytes (all levels) and latency per op.</p>';
    }
    p.innerHTML = h;
    p.setAttribute('data-point', id);
  }
  document.querySelectorAll('figure.plot').forEach(function (fig) {
    var marks = D.charts[fig.id], svg = fig.querySelector('svg');
    if (!marks || !svg) return;
    fig.setAttribute('data-live', 'yes');
    svg.addEventListener('mousemove', function (e) {
      var q = svgPoint(svg, e), hits = near(marks, q.x, q.y);
      if (!hits.length) { tip.style.display = 'none'; svg.style.cursor = ''; return; }
      svg.style.cursor = 'pointer';
      // The nearest point in full; others drawn at the same place by id and configuration.
      var h = info(hits[0][0]);
      if (hits.length > 1) {
        h += '<hr>also here:<br>' + hits.slice(1, 7).map(function (m) {
          var p = D.points[m[0]];
          return '#' + m[0] + ' ' + esc(p ? p[0] : '');
        }).join('<br>');
        if (hits.length > 7) h += '<br>… and ' + (hits.length - 7) + ' more';
      }
      tip.innerHTML = h;
      tip.style.display = 'block';
      tip.style.left = Math.min(e.clientX + 14, window.innerWidth - 340) + 'px';
      tip.style.top = (e.clientY + 14) + 'px';
    });
    svg.addEventListener('mouseleave', function () { tip.style.display = 'none'; });
    svg.addEventListener('click', function (e) {
      var q = svgPoint(svg, e), hits = near(marks, q.x, q.y);
      if (!hits.length) return;
      var withLedger = hits.filter(function (m) { return D.ledgers[m[0]]; });
      showLedger(fig, (withLedger.length ? withLedger : hits)[0][0]);
    });
  });
  // Where point `id` is drawn in chart `figId`, in client pixels (for tests and scripting).
  window.archscopePoint = function (figId, id) {
    var fig = document.getElementById(figId), marks = D.charts[figId];
    if (!fig || !marks) return null;
    var svg = fig.querySelector('svg');
    for (var i = 0; i < marks.length; i += 3) {
      if (marks[i] === id) {
        var pt = svg.createSVGPoint();
        pt.x = marks[i + 1]; pt.y = marks[i + 2];
        var c = pt.matrixTransform(svg.getScreenCTM());
        return { x: c.x, y: c.y };
      }
    }
    return null;
  };
  // Front tables: click a header to sort each scenario's rows by that column (again to reverse);
  // the filters hide rows whose quantisation or unit differs.
  document.querySelectorAll('table.front').forEach(function (t) {
    var heads = t.querySelectorAll('tr.colhead');
    if (!heads.length) return;
    var names = Array.prototype.map.call(heads[0].children, function (th) { return th.textContent; });
    var key = function (td) {
      var v = td.getAttribute('data-v');
      return v !== null && v !== '' ? parseFloat(v) : td.textContent;
    };
    var state = { col: -1, dir: 1 };
    heads.forEach(function (tr) {
      Array.prototype.forEach.call(tr.children, function (th, c) {
        th.classList.add('as-sort');
        th.title = 'sort by ' + names[c];
        th.addEventListener('click', function () {
          state.dir = state.col === c ? -state.dir : 1;
          state.col = c;
          t.querySelectorAll('tbody').forEach(function (tb) {
            var rows = Array.prototype.slice.call(tb.querySelectorAll('tr[data-id]'));
            rows.sort(function (a, b) {
              var x = key(a.children[c]), y = key(b.children[c]);
              var r = (typeof x === 'number' && typeof y === 'number') ? x - y : String(x).localeCompare(String(y), undefined, { numeric: true });
              return r * state.dir;
            });
            rows.forEach(function (r) { tb.appendChild(r); });
          });
          t.querySelectorAll('th.as-sort').forEach(function (h) { h.removeAttribute('data-sorted'); });
          heads.forEach(function (hr) { hr.children[c].setAttribute('data-sorted', state.dir > 0 ? 'asc' : 'desc'); });
        });
      });
    });
    var qcol = names.indexOf('quant');
    var ucols = [];
    names.forEach(function (n, i) { if (/unit$/.test(n)) ucols.push(i); });
    var rows = t.querySelectorAll('tr[data-id]');
    function values(cols) {
      var s = {};
      rows.forEach(function (r) { cols.forEach(function (c) { s[r.children[c].textContent] = 1; }); });
      return Object.keys(s).sort();
    }
    var bar = document.createElement('div');
    bar.className = 'as-filter';
    function select(label, cols) {
      if (!cols.length) return null;
      var s = document.createElement('select');
      s.setAttribute('data-filter', label);
      s.innerHTML = '<option value="">any ' + label + '</option>' + values(cols).map(function (v) { return '<option>' + esc(v) + '</option>'; }).join('');
      var l = document.createElement('label');
      l.textContent = label + ' ';
      l.appendChild(s);
      bar.appendChild(l);
      bar.appendChild(document.createTextNode(' '));
      return s;
    }
    var qs = select('quant', qcol >= 0 ? [qcol] : []), us = select('unit', ucols);
    if (!qs && !us) return;
    var count = document.createElement('span');
    bar.appendChild(count);
    function apply() {
      var shown = 0;
      rows.forEach(function (r) {
        var ok = (!qs || !qs.value || r.children[qcol].textContent === qs.value) &&
          (!us || !us.value || ucols.some(function (c) { return r.children[c].textContent === us.value; }));
        r.style.display = ok ? '' : 'none';
        if (ok) shown++;
      });
      count.textContent = shown + ' of ' + rows.length + ' rows';
    }
    [qs, us].forEach(function (s) { if (s) s.addEventListener('change', apply); });
    apply();
    t.parentNode.parentNode.insertBefore(bar, t.parentNode);
  });
})();
</script>"#;

/// Styles of the interactive parts; hidden in print, where only the static page matters.
pub(super) const STYLE: &str = "#as-tip { position: fixed; display: none; z-index: 10; max-width: 320px; background: #fffff4; border: 1px solid #999; padding: 0.4em 0.6em; font-size: 0.82em; box-shadow: 0 2px 6px rgba(0,0,0,0.2); pointer-events: none; }
#as-tip hr { border: 0; border-top: 1px solid #ddd; margin: 0.3em 0; }
section.as-ledger { border: 1px solid #bcd; background: #f8fbff; padding: 0.2em 0.8em 0.6em; margin: 0.5em 0 1.5em; }
.as-none, .as-hint { color: #555; font-size: 0.9em; }
th.as-sort { cursor: pointer; }
th.as-sort[data-sorted=asc]::after { content: ' ▲'; }
th.as-sort[data-sorted=desc]::after { content: ' ▼'; }
div.as-filter { margin: 0.4em 0; font-size: 0.9em; }
div.as-filter label { margin-right: 1em; }
@media print { #as-tip, div.as-filter, .as-hint { display: none !important; } }
";
