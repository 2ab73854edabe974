"""`curves`: a metric along training, one line per value of an axis: the mean over the done tasks
(replicates, pooled over axes --where does not fix) with its 95% bootstrap band at every logged
step. The y axis is logarithmic where the metric decays exponentially (the file has its fitted
rate, /final/<metric>_decay, as for concept's test_err), and the fitted rate is then given per
line. Theory lines (chance, floors, baselines) are drawn where the model has them.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.lines import Line2D

from . import plotting, reader, select, stats, table, theory


def band(traj, metric):
    """Per step: mean and bootstrap interval of metric over the rows of traj (long format)."""
    out = []
    for step, g in traj.groupby("step", sort=True):
        x = g[metric].to_numpy(dtype=float)
        x = x[np.isfinite(x)]
        if not len(x):
            continue
        lo, hi = stats.bootstrap_ci(x)
        out.append((step, np.mean(x), lo, hi, len(x)))
    return pd.DataFrame(out, columns=["step", "mean", "lo", "hi", "n"])


def decay_rate(tasks, metric):
    """(mean, t-interval half width, units) of the file's fitted decay rate of metric over the
    done tasks, or None when the file has no <metric>_decay."""
    name = f"{metric}_decay"
    if name not in tasks.attrs["final_metrics"]:
        return None
    x = tasks.loc[tasks["status"] == "done", name].to_numpy(dtype=float)
    x = x[np.isfinite(x)]
    if not len(x):
        return None
    lo, hi = stats.t_ci(x)
    units = tasks.attrs["columns"].get(name, {}).get("units", "")
    return np.mean(x), (hi - lo) / 2 if np.isfinite(lo) else np.nan, units


def _rate_text(rate):
    mean, half, units = rate
    pm = f" ± {half:.2g}" if np.isfinite(half) else ""
    units = " per step" if units == "1/step" else (f" {units}" if units else "")
    return f"decay {mean:.2g}{pm}{units}"


MARKERS = {":": "v", "-.": "D"}


def _theory_lines(ax, meta, groups, metric, log, ylim):
    """Chance and floor as horizontal lines (grey when one value for all lines, else in each
    line's colour); baselines (ridge, dMMSE, Gibbs mean) as markers at the last step in each
    line's colour. Returns legend handles."""
    handles = []
    ch = theory.chance(meta, metric)
    if ch is not None:
        ax.axhline(ch, color="0.35", ls="--", lw=1.2)
        handles.append(Line2D([], [], color="0.35", ls="--", label=f"chance {ch:g}"))
    floors = [theory.floor(meta, metric, rows) for rows, _, _ in groups]
    if any(f is not None for f in floors):
        same = len({f for f in floors}) == 1
        for f, (_, colour, _) in zip(floors, groups):
            if f is not None:
                ax.axhline(f, color="0.35" if same else colour, ls="--", lw=1.1)
        handles.append(Line2D([], [], color="0.35", ls="--",
                              label="large-P theory (D+1)/(N+D+1)"))
    for k, (name, label, style) in enumerate(theory.baselines(meta, metric)):
        marker = ["v", "D", "s"][k % 3]
        below = []
        for rows, colour, b in groups:
            v = theory.baseline_values(rows, name)
            if not np.isfinite(v) or not len(b):
                continue
            if np.isfinite(ylim[0]) and not ylim[0] <= v <= ylim[1]:
                below.append(v)
                continue
            ax.plot([b["step"].iloc[-1]], [v], marker=marker, color=colour, ms=7, ls="none",
                    mec="black", mew=0.6, clip_on=False, zorder=5)
        if below or any(np.isfinite(theory.baseline_values(r, name)) for r, _, _ in groups):
            span = (f"{min(below):.2g}" if min(below) == max(below)
                    else f"{min(below):.2g} to {max(below):.2g}") if below else ""
            note = f" ({len(below)} off the axis: {span})" if below else ""
            handles.append(Line2D([], [], color="0.6", marker=marker, mec="black", mew=0.6,
                                  ls="none", label=f"{label}, at the end{note}"))
    return handles


MAX_LEGEND = 8    # more lines than this get a colour bar instead of a legend entry each


def _scale(ax, meta, metric, allv, yscale, groups):
    """Log y where the metric decays exponentially (the file has <metric>_decay) or, on auto,
    where every mean is positive and they span a decade; the limits then follow the data and the
    chance level and floors near it. Returns (log, ylim)."""
    means = allv["mean"].to_numpy(dtype=float)
    means = means[np.isfinite(means)]
    if yscale == "auto":
        log = f"{metric}_decay" in meta["final_metrics"] or (
            len(means) > 0 and means.min() > 0 and means.max() / means.min() >= 10)
    else:
        log = yscale == "log"
    if not log:
        return False, (np.nan, np.nan)
    ax.set_yscale("log", nonpositive="clip")
    pos = np.concatenate([means, allv["lo"].to_numpy(dtype=float),
                          allv["hi"].to_numpy(dtype=float)])
    pos = pos[np.isfinite(pos) & (pos > 0)]
    if not len(pos):
        return True, (np.nan, np.nan)
    lines = [theory.chance(meta, metric)] + [theory.floor(meta, metric, g[0]) for g in groups]
    near = [v for v in lines if v is not None and pos.min() / 30 < v < pos.max() * 30]
    ylim = (min([pos.min()] + near) / 1.5, max([pos.max()] + near) * 1.5)
    ax.set_ylim(*ylim)
    plotting.log_ticks(ax.yaxis)
    return True, ylim


def _colour_key(fig, ax, color, values, palette, meta):
    """A colour bar naming the value of each line, for many lines."""
    from matplotlib.cm import ScalarMappable
    from matplotlib.colors import BoundaryNorm, ListedColormap
    n = len(values)
    sm = ScalarMappable(norm=BoundaryNorm(np.arange(n + 1) - 0.5, n), cmap=ListedColormap(palette))
    cbar = fig.colorbar(sm, ax=ax, pad=0.02, fraction=0.05)
    step = int(np.ceil(n / 12))
    cbar.set_ticks(np.arange(0, n, step))
    cbar.set_ticklabels([plotting.fmt(v) for v in values[::step]])
    cbar.set_label(plotting.label(meta, color, width=42))


def curves_figure(tasks, traj, metric, color, *, where_notes=(), draw_theory=True,
                  yscale="auto"):
    """The learning curves of metric coloured by axis `color` (tasks: a load() result, traj: its
    load_traj()) as a Figure."""
    meta = tasks.attrs
    select.check_axis(tasks, color, "--color")
    if metric not in meta["traj_metrics"]:
        raise ValueError(f"no trajectory metric {metric} in {', '.join(meta['files'])}; there "
                         f"are: {', '.join(meta['traj_metrics'])}")
    done = tasks[tasks["status"] == "done"]
    traj = traj[traj["key"].isin(done["key"])]
    values = sorted(done[color].unique())
    palette = plotting.colors(len(values))
    many = len(values) > MAX_LEGEND
    fig, ax = plotting.figure(figsize=(8.2, 4.8))
    has_rate = f"{metric}_decay" in meta["final_metrics"]
    per_group = []
    for v, colour in zip(values, palette):
        rows = done[done[color] == v]
        b = band(traj[traj["key"].isin(rows["key"])], metric)
        rate = decay_rate(rows, metric)
        text = f"{plotting.fmt(v)}" + (f": {_rate_text(rate)}" if rate else
                                       ": decay not fitted" if has_rate else "")
        ax.plot(b["step"], b["mean"], color=colour, lw=2, label=None if many else text)
        ax.fill_between(b["step"], b["lo"], b["hi"], color=colour, alpha=0.2, lw=0)
        per_group.append((rows, colour, b))
    allv = pd.concat([g[2] for g in per_group]) if per_group else pd.DataFrame(
        {"mean": [], "lo": [], "hi": []})
    log, ylim = _scale(ax, meta, metric, allv, yscale, per_group)
    notes = ["mean and 95% bootstrap band over the done tasks, "
             f"{meta['grid'].get('replicates', '')} replicates per grid point"]
    notes += list(where_notes)
    if log and (allv["mean"] <= 0).any():
        notes.append(f"a mean {metric} of 0 is drawn at the bottom edge")
    if many and has_rate:
        notes.append(f"fitted decay rates: iclsweep-analyze table --metric {metric}_decay")
    handles = _theory_lines(ax, meta, per_group, metric, log, ylim) if draw_theory else []
    ax.set_xlabel("training step")
    ax.set_ylabel(plotting.label(meta, metric, width=40))
    lines, labels = ax.get_legend_handles_labels()
    if handles:
        blank = Line2D([], [], ls="none")
        lines += ([blank, blank] if lines else []) + handles
        labels += (["", "theory:"] if labels else []) + [h.get_label() for h in handles]
    title = None if many else color + (" (fitted exponential decay, 95% t CI)" if has_rate
                                       else "")
    if many:
        _colour_key(fig, ax, color, values, palette, meta)
    if lines and many:
        ax.legend(lines, labels, loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=2,
                  frameon=False)
    elif lines:
        ax.legend(lines, labels, title=title, loc="upper left", bbox_to_anchor=(1.02, 1),
                  frameon=False)
    _, pool_note = select.pooled(tasks, [color])
    fig.suptitle(plotting.title(meta, f"{metric} during training", notes + [pool_note]))
    return fig


def curves(paths, *, metric=None, color, where=None, output=None, draw_theory=True,
           yscale="auto"):
    """Draws learning curves of metric, one line per value of color; writes output (.png and .pdf)
    when given. Returns (Figure, paths written)."""
    tasks = reader.load(paths, warn=False)
    tasks, notes = select.apply_where(tasks, select.parse_where(where))
    metric = table.metrics_for(tasks.attrs, [metric] if metric else None)[0]
    traj = reader.load_traj(paths, metrics=[metric] if metric in tasks.attrs["traj_metrics"]
                            else None, warn=False)
    fig = curves_figure(tasks, traj, metric, color, where_notes=notes, draw_theory=draw_theory,
                        yscale=yscale)
    written = plotting.save(fig, output) if output else []
    return fig, written
