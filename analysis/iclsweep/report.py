"""`report`: one self-contained HTML page about a sweep (figures embedded as PNG): what it is and
where it came from (the sweep YAML, program and library versions, commit, data generator), how
complete it is, the table of the headline metric per grid point, a phase diagram for each pair of
swept axes (or the metric along the one swept axis), learning curves by each swept axis, failures
grouped by reason, and what every metric means.
"""
from __future__ import annotations

import base64
import html
import io
import itertools
import os
import importlib.metadata
import platform
import subprocess

import numpy as np
import yaml

from . import (__version__, curves, phase, plotting, reader, select, stats, theory,
               threshold, threshold_plot)

MAX_PAIRS = 12
CSS = """
body { font-family: system-ui, sans-serif; max-width: 1100px; margin: 2em auto; padding: 0 1em;
       color: #222; line-height: 1.45; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; }
h2 { margin-top: 1.8em; border-bottom: 1px solid #ccc; }
table { border-collapse: collapse; font-size: 0.9em; margin: 0.6em 0; }
td, th { border: 1px solid #ddd; padding: 0.25em 0.6em; text-align: right; }
th { background: #f4f4f4; } td.l, th.l { text-align: left; }
pre { background: #f6f6f6; padding: 0.8em; overflow-x: auto; font-size: 0.85em; }
img { max-width: 100%; display: block; margin: 0.8em 0 1.6em; }
.bar { display: flex; height: 1.2em; width: 100%; max-width: 600px; border: 1px solid #999; }
.bar div { height: 100%; } .note { color: #666; font-size: 0.9em; }
"""
STATUS_COLOURS = {"done": "#4c9a2a", "running": "#e0b000", "pending": "#bbbbbb",
                  "failed": "#c0392b", "diverged": "#8e44ad"}


def _png(fig):
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    plotting.close(fig)
    return ('<img alt="figure" src="data:image/png;base64,' +
            base64.b64encode(buf.getvalue()).decode("ascii") + '">')


def _table(rows, header, left=1):
    """An HTML table; the first `left` columns aligned left."""
    def cell(tag, v, i):
        cls = ' class="l"' if i < left else ""
        return f"<{tag}{cls}>{html.escape(str(v))}</{tag}>"
    out = ["<table><tr>" + "".join(cell("th", h, i) for i, h in enumerate(header)) + "</tr>"]
    for r in rows:
        out.append("<tr>" + "".join(cell("td", v, i) for i, v in enumerate(r)) + "</tr>")
    return "\n".join(out) + "</table>"


def _meaning(meta, name):
    col = meta["columns"].get(name, {})
    units = f" [{col['units']}]" if col.get("units") else ""
    return f"{name}{units}: {col.get('description', '')}"


def _num(v, digits=4):
    return "" if v is None or (isinstance(v, float) and not np.isfinite(v)) else f"{v:.{digits}g}"


def _completion(meta, df):
    total = meta["n_tasks"]
    bar = "".join(f'<div style="width:{100 * n / total:.2f}%;background:{STATUS_COLOURS[s]}" '
                  f'title="{s}: {n}"></div>' for s, n in meta["counts"].items() if n)
    rows = [(s, n, f"{100 * n / total:.1f}%") for s, n in meta["counts"].items()]
    wall = df.loc[df["status"] == "done", "wall_s"].sum() if "wall_s" in df else np.nan
    state = ("complete: every task is done" if meta["complete"] else
             "partial: statistics and figures use the done tasks only")
    return (f"<p><b>{html.escape(reader.completion_text(meta['counts']))}</b> ({state}); "
            f"{_num(wall, 3)} s of training in the done tasks.</p><div class=\"bar\">{bar}</div>"
            + _table(rows, ["status", "tasks", "share"]))


def _provenance(meta):
    root = meta["root_attrs"]
    keys = ["format", "name", "model", "seed", "generator", "spec_hash", "n_tasks", "replicates",
            "iclsweep_version", "git_commit", "created", "mpi_version", "hdf5_version",
            "blas_version"]
    rows = [(k, root[k]) for k in keys if k in root]
    rows.append(("files", ", ".join(meta["files"])))
    libs = ", ".join(f"{name} {library_version(name)}" for name in
                     ("numpy", "pandas", "scipy", "h5py", "xarray", "matplotlib"))
    rows.append(("analysis", f"iclsweep (Python) {__version__}, Python "
                             f"{platform.python_version()}, {libs}"))
    return (_table(rows, ["attribute", "value"], left=2) +
            f"<p>The sweep file:</p><pre>{html.escape(str(root.get('sweep', '')))}</pre>"
            f"<p class=\"note\">{html.escape(str(root.get('readme', '')))}</p>")


def library_version(name):
    """A library's version as its package says it. Some distribution builds report a placeholder
    (Debian's xarray says 999, its build having no version control data): then the distribution
    package's version, marked as such, or 'version unknown'."""
    try:
        v = importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        v = ""
    if v and v not in ("999", "0.0.0", "0+unknown"):
        return v
    try:
        deb = subprocess.run(["dpkg-query", "-W", "-f=${Version}", f"python3-{name}"],
                             capture_output=True, text=True, timeout=10)
        if deb.returncode == 0 and deb.stdout.strip():
            return f"{deb.stdout.strip()} (Debian package)"
    except (OSError, subprocess.SubprocessError):
        pass
    return "version unknown" + (f" (reports {v})" if v else "")


def _summary(df, metric):
    meta = df.attrs
    by = select.swept(df, meta["grid_params"]) or []
    s = stats.summarize(df, by, [metric])
    rows = []
    for _, r in s.iterrows():
        left = ", ".join(f"{r[c]} {c[2:]}" for c in s.columns if c.startswith("n_") and
                         c != "n_undefined" and r[c])
        rows.append([plotting.fmt(r[b]) for b in by] +
                    [r["n"], _num(r["mean"]), f"[{_num(r['boot_lo'])}, {_num(r['boot_hi'])}]"
                     if np.isfinite(r["boot_lo"]) else "",
                     f"[{_num(r['t_lo'])}, {_num(r['t_hi'])}]" if np.isfinite(r["t_lo"]) else "",
                     _num(r["std"], 3), _num(r["min"]), _num(r["max"]), left])
    header = by + ["n", "mean", "95% CI (bootstrap)", "95% CI (t)", "std", "min", "max",
                   "not in the statistics"]
    return _table(rows, header, left=0)


def _figures(df, traj, metric, level):
    """Phase diagrams per pair of swept numeric axes (or the profile along the single axis),
    then learning curves by each swept axis."""
    meta = df.attrs
    axes = [p for p in select.dim_axes(df) if plotting.numeric(df[p])]
    out = []
    pairs = list(itertools.combinations(axes, 2))
    for y, x in pairs[:MAX_PAIRS]:
        fig = phase.phase_figure(df, x, y, metric, level=level)
        out.append((f"Phase diagram: {metric} over {x} and {y}", _png(fig)))
    if len(pairs) > MAX_PAIRS:
        out.append((f"{len(pairs) - MAX_PAIRS} more pairs of axes not drawn",
                    "<p class=\"note\">Draw them with <code>iclsweep-analyze phase</code>.</p>"))
    if len(axes) <= 2:
        for a in [a for a in axes if df[a].nunique() >= 4 or len(axes) == 1]:
            res = threshold.locations(df, a, metric, level=level, n_resamples=999)
            fig = threshold_plot.threshold_figure(df, res, a, metric, level)
            what = f"crossing {plotting.fmt(level)}" if level is not None else "peak"
            out.append((f"{metric} along {a}, its {what} with 95% interval", _png(fig)))
    if metric in meta["traj_metrics"]:
        dims = select.dim_axes(df)
        for c in dims:
            others = [d for d in dims if d != c and df[d].nunique() <= 6]
            other = others[0] if others else None
            wide = other is not None and df[other].nunique() <= 2
            fig = curves.curves_figure(df, traj, metric, c, col=other if wide else None,
                                       row=None if wide else other)
            out.append((f"Learning curves of {metric} by {c}" +
                        (f", one panel per {other}" if other else ""), _png(fig)))
    return out


def _failures(df):
    bad = df[df["status"].isin(["failed", "diverged"])]
    if bad.empty:
        return "<p>No task failed or diverged.</p>"
    rows = []
    params = df.attrs["grid_params"]
    for (status, error), g in bad.groupby([bad["status"].astype(str), "error"], sort=True):
        where = "; ".join(", ".join(f"{p}={plotting.fmt(r[p])}" for p in params) +
                          f" rep {r['replicate']}" for _, r in g.head(5).iterrows())
        more = f" and {len(g) - 5} more" if len(g) > 5 else ""
        rows.append((status, error or "(no reason recorded)", len(g),
                     f"tasks {', '.join(str(t) for t in g['task'].head(5))}{more}: {where}"))
    return _table(rows, ["status", "reason", "tasks", "examples"], left=4)


def _metrics_doc(meta):
    rows = [(m, meta["columns"].get(m, {}).get("units", ""),
             meta["columns"].get(m, {}).get("description", ""),
             "final + trajectory" if m in meta["traj_metrics"] else "final")
            for m in meta["final_metrics"]]
    return _table(rows, ["metric", "units", "meaning", "where"], left=4)


def report_html(paths, *, metric=None, level=None, where=None):
    """The report page as a string, about the tasks that where selects (all by default)."""
    df = reader.load(paths, warn=False)
    df, notes = select.apply_where(df, select.parse_where(where))
    meta = df.attrs
    try:
        head, head_level = theory.headline(meta)
    except ValueError:
        head, head_level = None, None
    metric = metric or head
    if metric is None:
        theory.headline(meta)            # says that the file names none
    if level is None and metric == head:
        level = head_level
    select.check_metric(meta, metric)
    traj = reader.load_traj(paths, metrics=[metric], warn=False) \
        if metric in meta["traj_metrics"] else None
    if traj is not None:
        traj = traj[traj["key"].isin(df["key"])]
    try:
        description = (yaml.safe_load(meta["root_attrs"].get("sweep", "")) or {}).get(
            "description", "")
    except yaml.YAMLError:
        description = ""
    parts = [f"<h1>{html.escape(meta['name'])} <small>({html.escape(meta['model'])})</small></h1>",
             f"<p>{html.escape(str(description))}</p>" if description else "",
             f"<p><b>Selected:</b> {html.escape(', '.join(notes))} (the rest of the file is left "
             f"out of every table and figure)</p>" if notes else "",
             "<h2>Completion</h2>", _completion(meta, df),
             f"<h2>{html.escape(metric)} per grid point</h2>",
             f"<p class=\"note\">{html.escape(_meaning(meta, metric))}. Mean over the "
             f"done replicates with 95% intervals (percentile bootstrap, 9999 resamples, seed "
             f"{stats.SEED}; Student t). Tasks not done are counted, not averaged."
             + (f" Emergence level: {plotting.fmt(level)}." if level is not None else "")
             + "</p>", _summary(df, metric), "<h2>Figures</h2>"]
    for caption, img in _figures(df, traj, metric, level):
        parts += [f"<h3>{html.escape(caption)}</h3>", img]
    parts += ["<h2>Failures</h2>", _failures(df), "<h2>Metrics</h2>", _metrics_doc(meta),
              "<h2>Provenance</h2>", _provenance(meta)]
    title = f"{meta['name']} ({meta['model']}): iclsweep report"
    return (f"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>{html.escape(title)}</title><style>{CSS}</style></head><body>\n"
            + "\n".join(p for p in parts if p) + "\n</body></html>\n")


def report(paths, *, output, metric=None, level=None, where=None):
    """Writes the report to output: a directory (its index.html) or a path ending in .html.
    Returns the path written."""
    output = os.fspath(output)
    path = output if output.endswith(".html") else os.path.join(output, "index.html")
    if os.path.dirname(path):
        os.makedirs(os.path.dirname(path), exist_ok=True)
    text = report_html(paths, metric=metric, level=level, where=where)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    return path
