"""`explore`: one self-contained interactive HTML page about a sweep. A researcher picks the
metric, the two phase axes and a value (or all, pooled) of every other swept axis; the heatmap
shows each cell's mean; hovering a cell gives its mean, 95% bootstrap interval, n and the keys of
its tasks; clicking it draws the trajectories of its tasks.

The page embeds plotly.js (a charting library; the npm package plotly.js-dist-min, which
scripts/install-deps.sh puts at analysis/iclsweep/vendor/plotly.min.js, or $ICLSWEEP_PLOTLYJS),
so it works offline and needs no server. The data go in as JSON: every done task's parameters and
final metrics, and its trajectories (all trajectory metrics while they stay under
MAX_TRAJ_VALUES values, else the headline metric's). The page computes each cell's mean and a
percentile bootstrap interval itself (2000 resamples, a fixed seed), so any slice can be pooled.
"""
from __future__ import annotations

import html
import json
import os

import numpy as np

from . import reader, scales, select, theory

MAX_TRAJ_VALUES = 2_000_000
HERE = os.path.dirname(os.path.abspath(__file__))


def plotly_js():
    """The text of plotly.min.js. Raises FileNotFoundError saying where it is looked for."""
    candidates = [os.environ.get("ICLSWEEP_PLOTLYJS", ""),
                  os.path.join(HERE, "vendor", "plotly.min.js")]
    for path in candidates:
        if path and os.path.isfile(path):
            with open(path, encoding="utf-8") as f:
                return f.read()
    raise FileNotFoundError("explore needs plotly.js: scripts/install-deps.sh puts it at "
                            f"{candidates[1]} (npm package plotly.js-dist-min); or set "
                            "ICLSWEEP_PLOTLYJS to a plotly.min.js")


def _num(v):
    """A JSON-safe number (NaN -> None), 8 significant digits."""
    v = float(v)
    return float(f"{v:.8g}") if np.isfinite(v) else None


def page_data(paths):
    """The dict the page reads: axes (name, values, labels, log, description), metrics (name,
    description, units, levels), tasks (axis values, metric values, key), trajectories."""
    df = reader.load(paths, warn=False)
    meta = df.attrs
    done = df[df["status"] == "done"].reset_index(drop=True)
    axes = [a for a in select.dim_axes(df) if a in df.columns]
    if len(axes) < 1:
        raise ValueError("explore needs a sweep with at least one swept axis")
    try:
        head = theory.headline(meta)[0]
    except ValueError:
        head = meta["final_metrics"][0]
    ax_info = []
    for a in axes:
        values = sorted(df[a].unique())
        numeric = scales.numeric(np.asarray(values))
        ax_info.append({"name": a, "values": [_num(v) if numeric else str(v) for v in values],
                        "labels": scales.fmt_distinct(values) if numeric
                        else [str(v) for v in values],
                        "log": bool(scales.is_log_spaced(values)),
                        "numeric": bool(numeric),
                        "description": meta["columns"].get(a, {}).get("description", "")})
    metrics = []
    for m in meta["final_metrics"]:
        col = meta["columns"].get(m, {})
        levels = []
        for label, column in theory.levels(meta, m):
            v, _ = theory.value(done, column)
            if v is not None:
                levels.append({"label": label, "value": v})
        metrics.append({"name": m, "description": col.get("description", ""),
                        "units": col.get("units", ""), "levels": levels,
                        "traj": m in meta["traj_metrics"]})
    tasks = {"key": [f"{int(k):016x}" for k in done["key"]]}
    for a in axes:
        tasks[a] = [_num(v) if ax_info[axes.index(a)]["numeric"] else str(v) for v in done[a]]
    for m in meta["final_metrics"]:
        tasks[m] = [_num(v) for v in done[m]]
    traj_metrics = [m for m in meta["traj_metrics"]]
    S = int(meta["root_attrs"].get("n_log_points", 1))
    if len(done) * S * len(traj_metrics) > MAX_TRAJ_VALUES:
        traj_metrics = [head] if head in traj_metrics else []
    traj = {}
    if traj_metrics and len(done):
        long = reader.load_traj(paths, metrics=traj_metrics, warn=False)
        long = long[long["key"].isin(done["key"])]
        by_key = {k: g for k, g in long.groupby("key", sort=False)}
        for m in traj_metrics:
            traj[m] = [[[int(s), _num(v)] for s, v in zip(by_key[k]["step"], by_key[k][m])]
                       if k in by_key else [] for k in done["key"]]
    return {"name": meta["name"], "model": meta["model"],
            "completion": reader.completion_text(meta["counts"]), "head": head,
            "axes": ax_info, "metrics": metrics, "tasks": tasks, "traj": traj}


SCRIPT = r"""
const D = JSON.parse(document.getElementById('iclsweep-data').textContent);
const $ = id => document.getElementById(id);
function rng(seed) { return function() { seed |= 0; seed = seed + 0x6D2B79F5 | 0;
  let t = Math.imul(seed ^ seed >>> 15, 1 | seed); t = t + Math.imul(t ^ t >>> 7, 61 | t) ^ t;
  return ((t ^ t >>> 14) >>> 0) / 4294967296; }; }
function stats(v) {
  const n = v.length; if (!n) return null;
  const mean = v.reduce((a, b) => a + b, 0) / n;
  if (n < 2) return {n, mean, lo: null, hi: null};
  const r = rng(0), B = 2000, means = new Float64Array(B);
  for (let b = 0; b < B; b++) { let s = 0; for (let i = 0; i < n; i++) s += v[Math.floor(r() * n)];
    means[b] = s / n; }
  means.sort(); return {n, mean, lo: means[Math.floor(0.025 * (B - 1))],
                        hi: means[Math.ceil(0.975 * (B - 1))]};
}
function fmt(x) { return x === null || x === undefined ? '-' : Number(x).toPrecision(4).replace(/\.?0+(e|$)/, '$1'); }
function option(sel, value, text) { const o = document.createElement('option'); o.value = value;
  o.textContent = text; sel.appendChild(o); }
function setup() {
  for (const m of D.metrics) option($('metric'), m.name, m.name + (m.units ? ' [' + m.units + ']' : ''));
  $('metric').value = D.head;
  D.axes.forEach((a, i) => { option($('x'), a.name, a.name); option($('y'), a.name, a.name); });
  $('x').value = D.axes[D.axes.length - 1].name;
  $('y').value = D.axes.length > 1 ? D.axes[D.axes.length - 2].name : D.axes[0].name;
  for (const a of D.axes) {
    const label = document.createElement('label'); label.textContent = a.name + ' ';
    const sel = document.createElement('select'); sel.dataset.axis = a.name; sel.className = 'slice';
    option(sel, '*', 'all (pooled)'); a.values.forEach((v, i) => option(sel, i, a.labels[i]));
    label.appendChild(sel); $('slices').appendChild(label);
  }
  for (const el of document.querySelectorAll('select')) el.addEventListener('change', draw);
  draw();
}
function axis(name) { return D.axes.find(a => a.name === name); }
function cells() {
  const m = $('metric').value, xa = axis($('x').value), ya = axis($('y').value);
  const keep = [];
  for (const sel of document.querySelectorAll('select.slice')) {
    const a = axis(sel.dataset.axis);
    sel.parentNode.style.display = (a === xa || a === ya) ? 'none' : '';
    if (a !== xa && a !== ya && sel.value !== '*') keep.push([a.name, a.values[+sel.value]]);
  }
  const grid = ya.values.map(() => xa.values.map(() => []));
  const T = D.tasks.key.length;
  for (let t = 0; t < T; t++) {
    if (keep.some(([n, v]) => D.tasks[n][t] !== v)) continue;
    const v = D.tasks[m][t]; if (v === null) continue;
    const i = xa.values.indexOf(D.tasks[xa.name][t]), j = ya.values.indexOf(D.tasks[ya.name][t]);
    if (i >= 0 && j >= 0) grid[j][i].push(t);
  }
  return {m, xa, ya, grid, keep};
}
let current = null;
function draw() {
  const c = cells(); current = c;
  const z = [], text = [];
  c.grid.forEach((row, j) => { z.push([]); text.push([]); row.forEach((ts, i) => {
    const s = stats(ts.map(t => D.tasks[c.m][t]));
    z[j].push(s ? s.mean : null);
    text[j].push(s ? `${c.m} = ${fmt(s.mean)}<br>95% CI (bootstrap) [${fmt(s.lo)}, ${fmt(s.hi)}]` +
      `<br>n = ${s.n}<br>keys: ${ts.slice(0, 6).map(t => D.tasks.key[t]).join(', ')}` +
      (ts.length > 6 ? ` and ${ts.length - 6} more` : '') : 'no done task');
  }); });
  const same = c.xa === c.ya;
  const meta = D.metrics.find(x => x.name === c.m);
  const trace = {type: 'heatmap', z, text, hoverinfo: 'text',
    x: c.xa.labels, y: same ? c.xa.labels : c.ya.labels, colorscale: 'Viridis',
    colorbar: {title: {text: c.m}}};
  const layout = {title: {text: `${D.name} (${D.model}): mean ${c.m} per cell` +
      (c.keep.length ? ' at ' + c.keep.map(([n, v]) => n + ' = ' + v).join(', ') : '')},
    xaxis: {title: {text: c.xa.name + (c.xa.description ? ': ' + c.xa.description : '')}, type: 'category'},
    yaxis: {title: {text: c.ya.name}, type: 'category'}, margin: {t: 60}};
  Plotly.react('heat', [trace], layout, {responsive: true});
  $('levels').textContent = meta.levels.map(l => l.label + ': ' + fmt(l.value)).join('; ');
  if (!$('heat').dataset.bound) { $('heat').on('plotly_click', ev => {
      const p = ev.points[0]; showCell(c2i(current.ya, p.y), c2i(current.xa, p.x)); });
    $('heat').dataset.bound = '1'; }
  $('traj').innerHTML = '<p class="note">Click a cell to see its trajectories.</p>';
}
function c2i(a, label) { return a.labels.indexOf(String(label)); }
function showCell(j, i) {
  const c = current, ts = c.grid[j][i], m = c.m;
  const tr = D.traj[m];
  if (!ts.length) { $('traj').textContent = 'no done task in this cell'; return; }
  if (!tr) { $('traj').textContent = `no trajectories of ${m} in the file (a final metric only)`; return; }
  const lines = ts.map(t => ({type: 'scatter', mode: 'lines', name: D.tasks.key[t],
    x: tr[t].map(p => p[0]), y: tr[t].map(p => p[1])}));
  Plotly.newPlot('traj', lines, {title: {text: `${m} during training: ${c.xa.name} = ${c.xa.labels[i]}, ` +
    `${c.ya.name} = ${c.ya.labels[j]} (${ts.length} tasks)`}, xaxis: {title: {text: 'training step'}},
    yaxis: {title: {text: m}}}, {responsive: true});
}
setup();
"""

CSS = """body { font-family: system-ui, sans-serif; margin: 1em 2em; color: #222; }
label { margin-right: 1.2em; } select { margin-left: 0.3em; } #controls { margin: 0.6em 0; }
.note { color: #666; } #heat { height: 560px; } #traj { min-height: 360px; }"""


def explore_html(paths):
    """The page as a string."""
    data = page_data(paths)
    payload = json.dumps(data, separators=(",", ":"), allow_nan=False).replace("</", "<\\/")
    title = f"{data['name']} ({data['model']}): explore"
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>{html.escape(title)}</title><style>{CSS}</style>"
            f"<script>{plotly_js()}</script></head><body>\n"
            f"<h1>{html.escape(title)}</h1><p class=\"note\">{html.escape(data['completion'])}; "
            "statistics over the done tasks (95% percentile bootstrap, 2000 resamples). Hover a "
            "cell for its numbers and task keys; click it for its trajectories.</p>\n"
            "<div id=\"controls\"><label>metric<select id=\"metric\"></select></label>"
            "<label>x<select id=\"x\"></select></label><label>y<select id=\"y\"></select>"
            "</label><span id=\"slices\"></span></div><p class=\"note\" id=\"levels\"></p>\n"
            "<div id=\"heat\"></div><div id=\"traj\"></div>\n"
            f"<script type=\"application/json\" id=\"iclsweep-data\">{payload}</script>\n"
            f"<script>{SCRIPT}</script>\n</body></html>\n")


def explore(paths, *, output):
    """Writes the page to output (a .html path); returns the path."""
    output = os.fspath(output)
    text = explore_html(paths)
    if os.path.dirname(output):
        os.makedirs(os.path.dirname(output), exist_ok=True)
    with open(output, "w", encoding="utf-8") as f:
        f.write(text)
    return output
