"""`threshold`: where a metric crosses a level (or peaks) along one axis, per value of the other
swept axes, with a 95% interval that carries replicate noise and interpolation (crossing.py); a
CSV, and a figure (threshold_plot.py, the only part that loads matplotlib) of the curves with
their crossings and, when another axis is swept, of the boundary itself.

Only done tasks enter; per group the CSV counts the tasks left out. Axes other than `along` and
those fixed by --where define the groups (zip groups by all their parameters).
"""
from __future__ import annotations

import os

import numpy as np
import pandas as pd

from . import crossing, reader, scales, select, stats, table, theory


def groups_of(df, along):
    """(the swept axes that define groups, along's dimension's parameters): every swept
    parameter but along, except those a zip group ties to along (a zipped width that follows d);
    a parameter zipped with along that takes several values at one value of along (a zip that
    lists points, as adapt writes) is a group axis."""
    meta = df.attrs
    zipped = next((d["params"] for d in meta["grid"].get("dims", []) if along in d["params"]),
                  [along])
    others = []
    for p in select.swept(df, meta["grid_params"]):
        if p == along:
            continue
        if p in zipped and df.groupby(along)[p].nunique().max() <= 1:
            continue
        others.append(p)
    return others, zipped


def _note(loc, info, level, n_points):
    if n_points < 2:
        return "fewer than two points along the axis"
    if not np.isfinite(loc):
        return "no crossing in range" if level is not None else "no done task"
    if info["at_edge"]:
        return "no interior peak: the largest mean is at an end of the axis"
    return ""


def locations(df, along, metric, *, level=None, direction="any", log=None, by=None,
              n_resamples=crossing.N_RESAMPLES):
    """One row per group of the other swept axes: the location (first crossing of level, or the
    peak when level is None) of the mean curve along `along`, its 95% interval (ci_lo/ci_hi:
    replicates and interpolation; boot_lo/boot_hi and t_lo/t_hi: the replicates' two parts,
    crossing.py), the share of resamples with
    a location, the grid values bracketing it, the curve's number of crossings, a note (no
    crossing, a peak at the edge), and the tasks used and left out. by names the group axes
    (default: groups_of)."""
    select.check_axis(df, along, "along")
    select.check_metric(df.attrs, metric)
    if not scales.numeric(df[along]):
        raise ValueError(f"axis {along} takes text values; a threshold needs a numeric axis")
    others = groups_of(df, along)[0] if by is None else list(by)
    log = scales.is_log_spaced(df[along]) if log is None else log
    rows = []
    for key, g in stats.groups(df, others):
        done = g[g["status"] == "done"]
        by_x = {x: s[metric].to_numpy(dtype=float) for x, s in done.groupby(along, sort=True)}
        xs = np.array(sorted(by_x), dtype=float)
        samples = [v[np.isfinite(v)] for v in (by_x[x] for x in sorted(by_x))]
        means = np.array([np.mean(s) if len(s) else np.nan for s in samples])
        info = crossing.interval(xs, samples, level=level, log=log, direction=direction,
                                 n_resamples=n_resamples)
        n_points = int(np.sum(np.isfinite(means)))
        row = dict(zip(others, key))
        row.update({
            "metric": metric, "along": along,
            "level": level if level is not None else np.nan,
            "kind": "peak" if level is None else f"crossing ({direction})",
            "location": info["location"], "ci_lo": info["ci_lo"], "ci_hi": info["ci_hi"],
            "boot_lo": info["boot_lo"], "boot_hi": info["boot_hi"],
            "boot_found": info["found"], "t_lo": info["t_lo"], "t_hi": info["t_hi"],
            "bracket_lo": info["bracket_lo"], "bracket_hi": info["bracket_hi"],
            "at_edge": info["at_edge"],
            "n_crossings": len(crossing.crossings(xs, means, level, log)) if level is not None
            else np.nan,
            "n_points": n_points,
            "n_tasks": int(sum(len(s) for s in samples)),
            "note": _note(info["location"], info, level, n_points),
        })
        left = g["status"].astype(str).value_counts()
        row.update({f"n_{s}": int(left.get(s, 0)) for s in stats.EXCLUDED})
        rows.append(row)
    out = pd.DataFrame(rows)
    out.attrs = dict(df.attrs, others=others, log=log)
    return out


def format_text(res):
    """The locations for a terminal: one line per group, notes where there are some."""
    cols = [c for c in res.columns if c in res.attrs["others"]] + [
        "location", "ci_lo", "ci_hi", "boot_lo", "boot_hi", "n_tasks"]
    t = res[cols].copy()
    for c in ("location", "ci_lo", "ci_hi", "boot_lo", "boot_hi"):
        t[c] = [scales.fmt(v, 4) if np.isfinite(v) else "-" for v in res[c]]
    if res["note"].astype(bool).any():
        t["note"] = res["note"]
    return ("ci: 95% interval (replicates and interpolation between grid values); boot: "
            "replicates only\n" + t.to_string(index=False))


def resolve_level(meta, metric, level, peak, what):
    """The level to use: None for a peak, the one given, else the file's headline level when
    metric is its headline metric. Raises ValueError when there is none."""
    if peak:
        return None
    if level is not None:
        return level
    try:
        head, head_level = theory.headline(meta)
    except ValueError:
        head, head_level = None, None
    if head != metric or head_level is None:
        raise ValueError(f"{what} needs a level (or the peak): the file names no emergence level "
                         f"for {metric}")
    return head_level


def _outputs(output):
    """(CSV path, figure path) from -o: a .png/.pdf names the figure (the CSV goes beside it),
    anything else the CSV (the figure beside it)."""
    output = os.fspath(output)
    base, ext = os.path.splitext(output)
    if ext.lower() in (".png", ".pdf", ".svg"):
        return base + ".csv", output
    return (output if ext else output + ".csv"), base + ".png"


def threshold(paths, *, along, metric=None, level=None, peak=False, where=None,
              direction="any", output=None, figure=True, col=None, row=None, draw_theory=True,
              yscale="auto", n_resamples=crossing.N_RESAMPLES):
    """Locates the crossing of level (or the peak, peak=True) of metric along `along` per group of
    the other swept axes. Writes the CSV and (figure=True) its figure as PNG and PDF when output
    is given (output names either). Returns (table, Figure or None, paths written)."""
    df = reader.load(paths, warn=False)
    df, notes = select.apply_where(df, select.parse_where(where))
    metric = table.metrics_for(df.attrs, [metric] if metric else None)[0]
    level = resolve_level(df.attrs, metric, level, peak, "a threshold")
    res = locations(df, along, metric, level=level, direction=direction,
                    n_resamples=n_resamples)
    fig = None
    if figure:
        from . import threshold_plot
        fig = threshold_plot.threshold_figure(df, res, along, metric, level, where_notes=notes,
                                              col=col, row=row, draw_theory=draw_theory,
                                              yscale=yscale)
    written = []
    if output:
        csv_path, fig_path = _outputs(output)
        res.to_csv(csv_path, index=False, float_format="%.17g")
        written = [csv_path]
        if fig is not None:
            from . import plotting
            written += plotting.save(fig, fig_path)
    return res, fig, written
