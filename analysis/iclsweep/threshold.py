"""`threshold`: where a metric crosses a level (or peaks) along one axis, per value of the other
swept axes, with a bootstrap interval over replicates (crossing.py); a CSV and a figure of the
curves with their crossings and, when another axis is swept, of the boundary itself.

Only done tasks enter; per group the CSV counts the tasks left out. Axes other than `along` and
those fixed by --where define the groups (zip groups by all their parameters).
"""
from __future__ import annotations

import os

import numpy as np
import pandas as pd
from matplotlib.lines import Line2D

from . import crossing, plotting, reader, select, stats, table, theory


# The interpolation threshold: a broad translucent line, unlike the dashed and dotted baselines.
THRESHOLD_STYLE = {"ls": "-", "lw": 3.5, "alpha": 0.35}


def _groups(df, along):
    meta = df.attrs
    zipped = next((d["params"] for d in meta["grid"].get("dims", []) if along in d["params"]),
                  [along])
    others = [p for p in select.swept(df, meta["grid_params"]) if p not in zipped]
    return others, zipped


def locations(df, along, metric, *, level=None, direction="any", log=None,
              n_resamples=crossing.N_RESAMPLES):
    """One row per group of the other swept axes: the location (first crossing of level, or the
    peak when level is None) of the mean curve along `along`, its bootstrap interval, the share
    of resamples with a location, the grid values bracketing it, the curve's number of
    crossings, and the tasks used and left out."""
    select.check_axis(df, along, "--along")
    select.check_metric(df.attrs, metric)
    if not plotting.numeric(df[along]):
        raise ValueError(f"--along {along}: takes text values; a threshold needs a numeric axis")
    others, _ = _groups(df, along)
    log = plotting.is_log_spaced(df[along]) if log is None else log
    rows = []
    for key, g in stats.groups(df, others):
        done = g[g["status"] == "done"]
        by_x = {x: s[metric].to_numpy(dtype=float) for x, s in done.groupby(along, sort=True)}
        xs = np.array(sorted(by_x), dtype=float)
        samples = [v[np.isfinite(v)] for v in (by_x[x] for x in sorted(by_x))]
        means = np.array([np.mean(s) if len(s) else np.nan for s in samples])
        loc = crossing.locate(xs, means, level=level, log=log, direction=direction)
        lo, hi, found = crossing.bootstrap(xs, samples, level=level, log=log,
                                           direction=direction, n_resamples=n_resamples)
        below = xs[xs <= loc] if np.isfinite(loc) else []
        above = xs[xs >= loc] if np.isfinite(loc) else []
        row = dict(zip(others, key))
        row.update({
            "metric": metric, "along": along,
            "level": level if level is not None else np.nan,
            "kind": "peak" if level is None else f"crossing ({direction})",
            "location": loc, "ci_lo": lo, "ci_hi": hi, "boot_found": found,
            "bracket_lo": below[-1] if len(below) else np.nan,
            "bracket_hi": above[0] if len(above) else np.nan,
            "n_crossings": len(crossing.crossings(xs, means, level, log)) if level is not None
            else np.nan,
            "n_points": int(np.sum(np.isfinite(means))),
            "n_tasks": int(sum(len(s) for s in samples)),
        })
        left = g["status"].astype(str).value_counts()
        row.update({f"n_{s}": int(left.get(s, 0)) for s in stats.EXCLUDED})
        rows.append(row)
    out = pd.DataFrame(rows)
    out.attrs = dict(df.attrs, others=others, log=log)
    return out


def _label(row, others):
    return ", ".join(f"{o} = {plotting.fmt(row[o])}" for o in others) or "all tasks"


def _y_scale(ax, summary, level, lines, yscale):
    """Log y when asked, or (auto) when every mean is positive and they span a decade or more;
    then the limits follow the data, the level and the theory lines near them. Returns the
    lines' keys that fall below the axis."""
    data = summary.loc[summary["n"] > 0, ["mean", "boot_lo", "boot_hi"]].to_numpy(dtype=float)
    means = summary.loc[summary["n"] > 0, "mean"].to_numpy(dtype=float)
    if not len(means):
        return set()
    log = yscale == "log" or (yscale == "auto" and means.min() > 0 and
                              means.max() / means.min() >= 10)
    if not log:
        return set()
    ax.set_yscale("log", nonpositive="clip")
    pos = data[np.isfinite(data) & (data > 0)]
    near = [v for v in lines.values() if v > pos.min() / 30] + ([level] if level else [])
    bottom, top = min([pos.min()] + near) / 1.4, max([pos.max()] + near) * 1.4
    ax.set_ylim(bottom, top)
    plotting.log_ticks(ax.yaxis)
    return {k for k, v in lines.items() if v < bottom}


def _curve_panel(ax, df, res, along, metric, level, draw_theory, yscale="auto"):
    meta = df.attrs
    others = res.attrs["others"]
    summary = stats.summarize(df, others + [along], [metric])
    palette = plotting.colors(len(res))
    notes = set()
    lines = {}
    for (_, row), colour in zip(res.iterrows(), palette):
        s = summary
        for o in others:
            s = s[s[o] == row[o]]
        s = s[s["n"] > 0]
        err = np.array([s["mean"] - s["boot_lo"], s["boot_hi"] - s["mean"]])
        ax.errorbar(s[along], s["mean"], yerr=np.nan_to_num(err), color=colour, marker="o", ms=4,
                    lw=1.8, capsize=2.5, label=_label(row, others))
        rows = df
        for o in others:
            rows = rows[rows[o] == row[o]]
        if np.isfinite(row["location"]):
            y = level if level is not None else np.interp(row["location"], s[along], s["mean"])
            xerr = ([[row["location"] - row["ci_lo"]], [row["ci_hi"] - row["location"]]]
                    if np.isfinite(row["ci_lo"]) else None)
            ax.errorbar([row["location"]], [y], xerr=xerr, color=colour, marker="D", ms=8,
                        mec="black", capsize=4, lw=2, zorder=5)
        if draw_theory:
            notes |= _theory(ax, meta, rows, along, metric, colour, len(res), lines)
    if level is not None:
        ax.axhline(level, color="black", lw=1.2)
        notes.add(("level", "-", f"level {plotting.fmt(level)}", "black"))
    ch = theory.chance(meta, metric)
    if ch is not None and draw_theory:
        ax.axhline(ch, color="0.35", ls="--", lw=1.1)
        notes.add(("chance", "--", f"chance {ch:g}", "0.35"))
    log = plotting.set_scale(ax, "x", df[along], "log" if res.attrs["log"] else "linear")
    below = _y_scale(ax, summary, level, lines, yscale)
    ax.set_xlabel(plotting.label(meta, along))
    ax.set_ylabel(plotting.label(meta, metric, width=40))
    handles, labels = ax.get_legend_handles_labels()
    extra = [Line2D([], [], color=c, label=lab + (f" ({lines[key]:.2g}, below the axis)"
                                                   if key in below else ""),
                    **(THRESHOLD_STYLE if key == "thr" else {"ls": st}))
             for key, st, lab, c in sorted(notes, key=lambda n: n[2])]
    extra.append(Line2D([], [], color="0.35", marker="D", mec="black", ls="none",
                        label=("crossing" if level is not None else "peak") +
                        " with 95% bootstrap CI"))
    ax.legend(handles + extra, labels + [e.get_label() for e in extra], frameon=False,
              fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.3), ncol=2)
    return log


def _theory(ax, meta, rows, along, metric, colour, n_groups, lines):
    """Floor, baselines (as curves over the axis) and the interpolation threshold for one
    group; returns the legend notes (key, style, label, colour) and records in lines the
    smallest value each horizontal line or curve takes."""
    notes = set()
    fl = theory.floor(meta, metric, rows)
    if fl is not None:
        ax.axhline(fl, color=colour, ls="--", lw=1)
        notes.add(("floor", "--", "large-P theory (D+1)/(N+D+1)", "0.35"))
        lines["floor"] = min(lines.get("floor", np.inf), fl)
    D = rows["D"].iloc[0] if "D" in rows and rows["D"].nunique() == 1 else None
    t = theory.interpolation_threshold(meta, along, D) if theory.threshold_applies(meta, rows) \
        else None
    if t is not None:
        ax.axvline(t, color=colour, **THRESHOLD_STYLE)
        notes.add(("thr", "-", "interpolation threshold P = D(D+1)", "0.35"))
    if n_groups <= 3:
        for name, label, style in theory.baselines(meta, metric):
            b = rows[rows["status"] == "done"].groupby(along)[name].mean()
            if b.notna().any():
                ax.plot(b.index, b.to_numpy(), color=colour, ls=style, lw=1.2, alpha=0.9)
                notes.add((name, style, label, "0.35"))
                lines[name] = min(lines.get(name, np.inf), float(b.min()))
    return notes


def _boundary_panel(ax, res, along, metric, level, draw_theory):
    meta = res.attrs
    others = meta["others"]
    x = others[0]
    rest = others[1:]
    groups = list(stats.groups(res, rest))
    palette = plotting.colors(len(groups), "plasma")
    for (key, g), colour in zip(groups, palette):
        err = np.array([g["location"] - g["ci_lo"], g["ci_hi"] - g["location"]])
        lab = ", ".join(f"{r} = {plotting.fmt(k)}" for r, k in zip(rest, key)) or None
        ax.errorbar(g[x], g["location"], yerr=np.nan_to_num(err), color=colour, marker="D",
                    ms=6, capsize=3, lw=1.8, label=lab)
    if draw_theory and x == "D" and meta["model"] == "linattn":
        ds = np.array(sorted(res[x].unique()), dtype=float)
        t = [theory.interpolation_threshold(meta, along, d) for d in ds]
        if t[0] is not None:
            ax.plot(ds, t, color="0.35", **THRESHOLD_STYLE,
                    label="interpolation threshold P = D(D+1)")
    plotting.set_scale(ax, "x", res[x])
    if meta["log"]:
        plotting.log_ticks(ax.yaxis)
    ax.set_xlabel(plotting.label(meta, x))
    what = f"{metric} = {plotting.fmt(level)}" if level is not None else f"peak of {metric}"
    ax.set_ylabel(f"{along} at {what}\n(95% bootstrap CI)")
    if ax.get_legend_handles_labels()[0]:
        ax.legend(frameon=False, fontsize=8)


def threshold_figure(df, res, along, metric, level, *, where_notes=(), draw_theory=True,
                     yscale="auto"):
    others = res.attrs["others"]
    boundary = bool(others) and plotting.numeric(df[others[0]])
    fig, axes = plotting.figure(1, 2 if boundary else 1, figsize=(12.5 if boundary else 7.5, 5),
                                squeeze=False, constrained_layout=True)
    _curve_panel(axes[0, 0], df, res, along, metric, level, draw_theory, yscale)
    if boundary:
        _boundary_panel(axes[0, 1], res, along, metric, level, draw_theory)
    what = (f"where mean {metric} crosses {plotting.fmt(level)} along {along}" if level is not None
            else f"peak of mean {metric} along {along}")
    _, pool = select.pooled(df, others + [along])
    fig.suptitle(plotting.title(df.attrs, what, list(where_notes) + [pool]))
    return fig


def threshold(paths, *, along, metric=None, level=None, peak=False, where=None,
              direction="any", output=None, draw_theory=True, yscale="auto",
              n_resamples=crossing.N_RESAMPLES):
    """Locates the crossing of level (or the peak, peak=True) of metric along `along` per group of
    the other swept axes. Writes output (CSV) and its figure (.png/.pdf beside it) when given.
    Returns (table, Figure, paths written)."""
    df = reader.load(paths, warn=False)
    df, notes = select.apply_where(df, select.parse_where(where))
    metric = table.metrics_for(df.attrs, [metric] if metric else None)[0]
    if peak:
        level = None
    elif level is None:
        default = theory.headline(df.attrs)
        if default[0] != metric or default[1] is None:
            raise ValueError("threshold needs --level V (or --peak)")
        level = default[1]
    res = locations(df, along, metric, level=level, direction=direction,
                    n_resamples=n_resamples)
    fig = threshold_figure(df, res, along, metric, level, where_notes=notes,
                           draw_theory=draw_theory, yscale=yscale)
    written = []
    if output:
        res.to_csv(output, index=False, float_format="%.17g")
        written = [os.fspath(output)] + plotting.save(fig, output)
    return res, fig, written
