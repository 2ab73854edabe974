"""`curves`: a metric along training, one line per value of an axis: the mean over the done tasks
(replicates, pooled over axes that --where, --col and --row do not fix) with its 95% bootstrap
band at every logged step; panels per --col/--row value with shared scales. The y axis is
logarithmic where the metric decays exponentially (the file has its fitted rate,
/final/<metric>_decay), and the fitted rate is then given per line. Theory from the file: the
metric's levels as horizontal lines, its baselines as markers at the last step.
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


MARKERS = ["v", "D", "s", "^"]
MAX_LEGEND = 8    # more lines than this get a colour bar instead of a legend entry each


def _levels(ax, meta, groups, metric):
    """The metric's theory levels as horizontal lines: grey when one value for all lines, in each
    line's colour where it differs per line. Returns (handles, notes)."""
    handles, notes = [], []
    tasks = pd.concat([g[0] for g in groups]) if groups else None
    for label, column in theory.levels(meta, metric):
        v, why = theory.value(tasks, column) if tasks is not None else (None, "")
        if v is not None:
            ax.axhline(v, color="0.35", ls="--", lw=1.2)
        else:
            per = [theory.value(rows, column)[0] for rows, _, _ in groups]
            if not any(p is not None for p in per):
                if why:
                    notes.append(f"{label} not drawn: {why}")
                continue
            for p, (_, colour, _) in zip(per, groups):
                if p is not None:
                    ax.axhline(p, color=colour, ls="--", lw=1.1)
        handles.append(Line2D([], [], color="0.35", ls="--", label=label))
    return handles, notes


def _baselines(ax, meta, groups, metric, ylim):
    """Baselines as markers at each line's last step, in its colour; those off the axis named
    in the legend. Returns handles."""
    handles = []
    for k, (name, label) in enumerate(theory.baselines(meta, metric)):
        marker = MARKERS[k % len(MARKERS)]
        off, drawn = [], False
        for rows, colour, b in groups:
            v = theory.baseline_mean(rows, name)
            if not np.isfinite(v) or not len(b):
                continue
            if np.isfinite(ylim[0]) and not ylim[0] <= v <= ylim[1]:
                off.append(v)
                continue
            ax.plot([b["step"].iloc[-1]], [v], marker=marker, color=colour, ms=7, ls="none",
                    mec="black", mew=0.6, clip_on=False, zorder=5)
            drawn = True
        if off or drawn:
            span = (f"{min(off):.2g}" if min(off) == max(off)
                    else f"{min(off):.2g} to {max(off):.2g}") if off else ""
            note = f" ({len(off)} off the axis: {span})" if off else ""
            handles.append(Line2D([], [], color="0.6", marker=marker, mec="black", mew=0.6,
                                  ls="none", label=f"{label}, at the end{note}"))
    return handles


def _log_y(meta, metric, means, yscale):
    if yscale != "auto":
        return yscale == "log"
    return f"{metric}_decay" in meta["final_metrics"] or (
        len(means) > 0 and means.min() > 0 and means.max() / means.min() >= 10)


def _limits(meta, metric, allv, log, tasks):
    """y limits that show every band and the levels near them. On a linear axis a mean of 0 sits
    a little above the bottom edge, so its line is not hidden by the axis line; on a log axis
    values of 0 are clipped to the bottom edge (said in the note)."""
    vals = np.concatenate([allv[c].to_numpy(dtype=float) for c in ("mean", "lo", "hi")])
    vals = vals[np.isfinite(vals)]
    levels = [theory.value(tasks, c)[0] for _, c in theory.levels(meta, metric)]
    levels = [v for v in levels if v is not None]
    levels += [theory.baseline_mean(tasks, name) for name, _ in theory.baselines(meta, metric)]
    levels = [v for v in levels if np.isfinite(v)]
    if log:
        pos = vals[vals > 0]
        if not len(pos):
            return None
        near = [v for v in levels if pos.min() / 30 < v < pos.max() * 30]
        return min([pos.min()] + near) / 1.5, max([pos.max()] + near) * 1.5
    if not len(vals):
        return None
    lo, hi = min([vals.min()] + levels), max([vals.max()] + levels)
    pad = 0.04 * (hi - lo or abs(hi) or 1.0)
    return lo - pad, hi + pad


def _colour_key(fig, axes, color, values, palette, meta):
    """A colour bar naming the value of each line, for many lines."""
    from matplotlib.cm import ScalarMappable
    from matplotlib.colors import BoundaryNorm, ListedColormap
    n = len(values)
    sm = ScalarMappable(norm=BoundaryNorm(np.arange(n + 1) - 0.5, n), cmap=ListedColormap(palette))
    cbar = fig.colorbar(sm, ax=axes, pad=0.02, fraction=0.05)
    step = int(np.ceil(n / 12))
    cbar.set_ticks(np.arange(0, n, step))
    cbar.set_ticklabels(plotting.fmt_distinct(values)[::step])
    cbar.set_label(plotting.label(meta, color, width=42))


def _partial(ax, partial, traj, metric, color, values, palette, labelled):
    """Tasks still training (load_traj's partial rows): a thin dashed line each, up to its last
    checkpoint, named in the legend where no done line names its value (labelled). Returns how
    many were drawn."""
    drawn = 0
    for v, colour in zip(values, palette):
        for key in partial.loc[partial[color] == v, "key"]:
            t = traj[(traj["key"] == key) & np.isfinite(traj[metric].to_numpy(dtype=float))]
            if len(t):
                name = None if v in labelled else plotting.fmt(v)
                labelled.add(v)
                ax.plot(t["step"], t[metric], color=colour, lw=0.8, ls="--", alpha=0.8, label=name)
                drawn += 1
    return drawn


def _panel(ax, done, traj, metric, color, values, palette, many, has_rate):
    """The lines of one panel: [(rows, colour, band)] per value of color with tasks. has_rate:
    give each line's fitted rate in its label (one panel only: the legend is shared)."""
    groups = []
    for v, colour in zip(values, palette):
        rows = done[done[color] == v]
        if rows.empty:
            continue
        b = band(traj[traj["key"].isin(rows["key"])], metric)
        rate = decay_rate(rows, metric)
        text = plotting.fmt(v) + (f": {_rate_text(rate)}" if rate else
                                  ": decay not fitted" if has_rate else "")
        ax.plot(b["step"], b["mean"], color=colour, lw=2, label=None if many else text)
        ax.fill_between(b["step"], b["lo"], b["hi"], color=colour, alpha=0.2, lw=0)
        groups.append((rows, colour, b))
    return groups


def curves_figure(tasks, traj, metric, color, *, col=None, row=None, where_notes=(),
                  draw_theory=True, yscale="auto"):
    """The learning curves of metric coloured by axis `color` (tasks: a load() result, traj: its
    load_traj()), one panel per (row, col) value, as a Figure."""
    meta = tasks.attrs
    select.check_axis(tasks, color, "colour by")
    if metric not in meta["traj_metrics"]:
        raise ValueError(f"no trajectory metric {metric} in {', '.join(meta['files'])}; there "
                         f"are: {', '.join(meta['traj_metrics'])}")
    done = tasks[tasks["status"] == "done"]
    done.attrs = meta
    partial = tasks[tasks["status"].isin(["pending", "running"]) & tasks["key"].isin(
        traj.loc[traj["partial"], "key"] if "partial" in traj else [])]
    traj_partial = traj[traj["key"].isin(partial["key"])]
    traj = traj[traj["key"].isin(done["key"])]
    values = sorted(set(done[color].unique()) | set(partial[color].unique()))
    palette = plotting.colors(len(values))
    many = len(values) > MAX_LEGEND
    has_rate = f"{metric}_decay" in meta["final_metrics"]
    shown = pd.concat([done, partial])
    shown.attrs = meta
    rv, cv, panels = plotting.facets(shown, col, row)
    fig, axes = plotting.facet_figure(len(rv), len(cv), panel=(6.4, 4.4), extra=(2.6, 0.9),
                                      sharex=True, sharey=True)
    rate_in_legend = has_rate and len(panels) == 1
    per_panel = {k: _panel(axes[k], sub[sub["status"] == "done"], traj, metric, color, values, palette,
                           many, rate_in_legend) for k, sub in panels.items()}
    labelled = {v for gs in per_panel.values() for rows, _, _ in gs for v in rows[color].unique()}
    n_partial = sum(_partial(axes[k], sub[sub["status"] != "done"], traj_partial, metric, color, values,
                             palette, labelled) for k, sub in panels.items())
    pv = traj_partial[metric].to_numpy(dtype=float) if n_partial else np.array([])
    allv = pd.concat([g[2] for gs in per_panel.values() for g in gs] +
                     [pd.DataFrame({"mean": pv, "lo": pv, "hi": pv})])
    means = allv["mean"].to_numpy(dtype=float)
    log = _log_y(meta, metric, means[np.isfinite(means)], yscale)
    notes = [f"mean and 95% bootstrap band over the done tasks"] + list(where_notes)
    if n_partial:
        notes.append(f"dashed: {n_partial} task{'s' if n_partial > 1 else ''} still training (partial, to "
                     f"{'their' if n_partial > 1 else 'its'} last checkpoint)")
    handles, seen = [], set()
    lim = _limits(meta, metric, allv, log, done)
    for k, groups in per_panel.items():
        ax = axes[k]
        if log:
            ax.set_yscale("log", nonpositive="clip")
            plotting.log_ticks(ax.yaxis)
        if lim:
            ax.set_ylim(*lim)
        if draw_theory:
            h, n = _levels(ax, meta, groups, metric)
            h += _baselines(ax, meta, groups, metric, lim if lim else (np.nan, np.nan))
            notes += [t for t in n if t not in notes]
            for hh in h:
                if hh.get_label() not in seen:
                    seen.add(hh.get_label())
                    handles.append(hh)
        if col or row:
            ax.set_title(plotting.facet_title(col, cv[k[1]], row, rv[k[0]]))
    for k in np.ndindex(axes.shape):
        if k not in panels:
            axes[k].set_visible(False)
    for ax in axes[-1, :]:
        ax.set_xlabel("training step")
    for ax in axes[:, 0]:
        ax.set_ylabel(plotting.label(meta, metric, width=40))
    if log and (allv["mean"] <= 0).any():
        notes.append(f"a mean {metric} of 0 is drawn at the bottom edge")
    if has_rate and (many or not rate_in_legend):
        notes.append(f"fitted decay rates: iclsweep-analyze table --metric {metric}_decay")
    first = {}
    for k in panels:
        for line, text in zip(*axes[k].get_legend_handles_labels()):
            first.setdefault(text, line)
    keys = [next((t for t in first if t == plotting.fmt(v) or t.startswith(plotting.fmt(v) + ":")),
                 None) for v in values]
    labels = [t for t in keys if t is not None]
    lines = [first[t] for t in labels]
    if handles:
        blank = Line2D([], [], ls="none")
        lines += ([blank] if lines else []) + handles
        labels += (["theory:"] if labels else []) + [h.get_label() for h in handles]
    title = None if many else color + (" (fitted exponential decay, 95% t CI)"
                                       if rate_in_legend else "")
    if many:
        _colour_key(fig, axes.ravel().tolist(), color, values, palette, meta)
    if lines:
        if many:
            fig.legend(lines, labels, loc="upper center", bbox_to_anchor=(0.5, 0), ncol=2,
                       frameon=False)
        else:
            fig.legend(lines, labels, title=title, loc="upper left", bbox_to_anchor=(1.0, 0.95),
                       frameon=False)
    _, pool_note = select.pooled(tasks, [color] + [a for a in (col, row) if a])
    fig.suptitle(plotting.title(meta, f"{metric} during training", notes + [pool_note]))
    plotting.finish(fig)
    return fig


def curves(paths, *, metric=None, color, where=None, col=None, row=None, output=None,
           draw_theory=True, yscale="auto"):
    """Draws learning curves of metric, one line per value of color, panels by col and row;
    writes output (.png and .pdf) when given. Returns (Figure, paths written)."""
    tasks = reader.load(paths, warn=False)
    tasks, notes = select.apply_where(tasks, select.parse_where(where))
    metric = table.metrics_for(tasks.attrs, [metric] if metric else None)[0]
    traj = reader.load_traj(paths, metrics=[metric] if metric in tasks.attrs["traj_metrics"]
                            else None, warn=False)
    fig = curves_figure(tasks, traj, metric, color, col=col, row=row, where_notes=notes,
                        draw_theory=draw_theory, yscale=yscale)
    written = plotting.save(fig, output) if output else []
    return fig, written
