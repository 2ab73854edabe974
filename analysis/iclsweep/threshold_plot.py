"""The figure of `threshold`: the mean curves along the axis with their 95% bootstrap error bars,
the level, each location with its interval, and the file's theory (levels as horizontal lines,
baselines as curves, marks on the axis as vertical lines); beside it, when another numeric axis is
swept, the boundary itself: the location against that axis, with the marks that move with it."""
from __future__ import annotations

import numpy as np
from matplotlib.lines import Line2D

from . import plotting, select, stats, theory

# A mark on the axis: a broad translucent line, unlike the dashed levels and dotted baselines.
MARK_STYLE = {"ls": "-", "lw": 3.5, "alpha": 0.35}
BASELINE_STYLES = [":", (0, (5, 2, 1, 2)), "-.", (0, (1, 1))]


def _label(row, others):
    return ", ".join(f"{o} = {plotting.fmt(row[o])}" for o in others) or "all tasks"


def _rows_of(df, row, others):
    for o in others:
        df = df[df[o] == row[o]]
    return df


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
    pos = data[np.isfinite(data) & (data > 0)]
    if not log or not len(pos):
        return set()
    ax.set_yscale("log", nonpositive="clip")
    near = [v for k, v in lines.items() if v > pos.min() / 30 and not k.startswith("drawn:")] \
        + ([level] if level else [])
    bottom, top = min([pos.min()] + near) / 1.4, max([pos.max()] + near) * 1.4
    ax.set_ylim(bottom, top)
    plotting.log_ticks(ax.yaxis)
    return {k for k, v in lines.items() if v < bottom and not k.startswith("drawn:")}


def _theory(ax, meta, rows, whole, along, metric, colour, n_groups, lines):
    """Levels, baselines (as curves over the axis) and marks on the axis for one group; returns
    the legend notes (key, style, label, colour) and records in lines the smallest value each
    horizontal line or curve takes."""
    notes = set()
    for label, column in theory.levels(meta, metric):
        v, _ = theory.value(rows, column)
        if v is None:
            continue
        same, _ = theory.value(whole, column)      # one value for every curve: grey, once
        if same is None or "drawn:" + column not in lines:
            ax.axhline(v, color="0.35" if same is not None else colour, ls="--", lw=1)
            lines["drawn:" + column] = v
        notes.add((column, "--", label, "0.35"))
        lines[column] = min(lines.get(column, np.inf), v)
    for label, column in theory.marks(meta, along):
        v, _ = theory.value(rows, column)
        if v is not None:
            ax.axvline(v, color=colour, **MARK_STYLE)
            notes.add(("mark:" + label, "-", label, "0.35"))
    if n_groups <= 3:
        for k, (name, label) in enumerate(theory.baselines(meta, metric)):
            b = rows[rows["status"] == "done"].groupby(along)[name].mean()
            if b.notna().any():
                style = BASELINE_STYLES[k % len(BASELINE_STYLES)]
                ax.plot(b.index, b.to_numpy(), color=colour, ls=style, lw=1.2, alpha=0.9)
                notes.add((name, style, label, "0.35"))
                lines[name] = min(lines.get(name, np.inf), float(b.min()))
    return notes


def _curve_panel(ax, df, res, along, metric, level, draw_theory, yscale="auto"):
    meta = df.attrs
    others = res.attrs["others"]
    summary = stats.summarize(df, others + [along], [metric])
    palette = plotting.colors(len(res))
    notes, lines = set(), {}
    for (_, row), colour in zip(res.iterrows(), palette):
        s = _rows_of(summary, row, others)
        s = s[s["n"] > 0]
        err = np.array([s["mean"] - s["boot_lo"], s["boot_hi"] - s["mean"]])
        ax.errorbar(s[along], s["mean"], yerr=np.nan_to_num(err), color=colour, marker="o", ms=4,
                    lw=1.8, capsize=2.5, label=_label(row, others))
        if np.isfinite(row["location"]):
            y = level if level is not None else np.interp(row["location"], s[along], s["mean"])
            xerr = ([[row["location"] - row["ci_lo"]], [row["ci_hi"] - row["location"]]]
                    if np.isfinite(row["ci_lo"]) else None)
            ax.errorbar([row["location"]], [y], xerr=xerr, color=colour, marker="D", ms=8,
                        mec="black", capsize=4, lw=2, zorder=5)
        if draw_theory:
            notes |= _theory(ax, meta, _rows_of(df, row, others), df, along, metric, colour,
                             len(res), lines)
    if level is not None:
        ax.axhline(level, color="black", lw=1.2)
        notes.add(("level", "-", f"level {plotting.fmt(level)}", "black"))
    plotting.set_scale(ax, "x", df[along], "log" if res.attrs["log"] else "linear")
    below = _y_scale(ax, summary, level, lines, yscale)
    ax.set_xlabel(plotting.label(meta, along))
    ax.set_ylabel(plotting.label(meta, metric, width=40))
    handles, labels = ax.get_legend_handles_labels()
    extra = [Line2D([], [], color=c, label=lab + (f" ({lines[key]:.2g}, below the axis)"
                                                   if key in below else ""),
                    **(MARK_STYLE if key.startswith("mark:") else {"ls": st}))
             for key, st, lab, c in sorted(notes, key=lambda n: n[2])]
    if res["location"].notna().any():
        extra.append(Line2D([], [], color="0.35", marker="D", mec="black", ls="none",
                            label=("crossing" if level is not None else "peak") +
                            " with 95% interval (replicates and interpolation)"))
    ax.legend(handles + extra, labels + [e.get_label() for e in extra], frameon=False,
              fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=2)


def _boundary_panel(ax, res, along, metric, level, draw_theory, df):
    meta = res.attrs
    others = meta["others"]
    x, rest = others[0], others[1:]
    groups = list(stats.groups(res, rest))
    palette = plotting.colors(len(groups), "plasma")
    for (key, g), colour in zip(groups, palette):
        g = g[np.isfinite(g["location"])]
        err = np.array([g["location"] - g["ci_lo"], g["ci_hi"] - g["location"]])
        lab = ", ".join(f"{r} = {plotting.fmt(k)}" for r, k in zip(rest, key)) or None
        ax.errorbar(g[x], g["location"], yerr=np.nan_to_num(err), color=colour, marker="D",
                    ms=6, capsize=3, lw=1.8, label=lab)
    if draw_theory:
        for label, column in theory.marks(meta, along):
            along_x = theory.values_along(df, column, x)
            if along_x:
                xs = np.array(sorted(along_x), dtype=float)
                ax.plot(xs, [along_x[v] for v in sorted(along_x)], color="0.35", **MARK_STYLE,
                        label=label)
    plotting.set_scale(ax, "x", res[x])
    if meta["log"] and (res["location"] > 0).any():
        plotting.log_ticks(ax.yaxis)
    ax.set_xlabel(plotting.label(meta, x))
    what = f"{metric} = {plotting.fmt(level)}" if level is not None else f"peak of {metric}"
    ax.set_ylabel(f"{along} at {what}\n(95% interval)")
    if ax.get_legend_handles_labels()[0]:
        ax.legend(frameon=False, fontsize=8)


def threshold_figure(df, res, along, metric, level, *, where_notes=(), col=None, row=None,
                     draw_theory=True, yscale="auto"):
    """The figure of a threshold table (res, from threshold.locations on df): with col or row,
    one curve panel per value; else the curves and, when another numeric axis is swept and some
    group has a location, the boundary."""
    others = res.attrs["others"]
    notes = list(where_notes)
    if col or row:
        rv, cv, panels = plotting.facets(df, col, row)
        fig, axes = plotting.facet_figure(len(rv), len(cv), panel=(6.5, 5.2), sharex=True,
                                          sharey=True)
        for (i, j), sub in panels.items():
            r = res
            for name, v in ((row, rv[i]), (col, cv[j])):
                if name and name in r:
                    r = r[r[name] == v]
            r = r.copy()
            r.attrs = dict(res.attrs, others=[o for o in others if o not in (col, row)])
            _curve_panel(axes[i, j], sub, r, along, metric, level, draw_theory, yscale)
            axes[i, j].set_title(plotting.facet_title(col, cv[j], row, rv[i]))
        for k in np.ndindex(axes.shape):
            if k not in panels:
                axes[k].set_visible(False)
    else:
        boundary = (bool(others) and plotting.numeric(df[others[0]])
                    and res["location"].notna().any())
        fig, axes = plotting.figure(1, 2 if boundary else 1,
                                    figsize=(12.5 if boundary else 7.5, 5.2), squeeze=False,
                                    constrained_layout=True)
        _curve_panel(axes[0, 0], df, res, along, metric, level, draw_theory, yscale)
        if boundary:
            _boundary_panel(axes[0, 1], res, along, metric, level, draw_theory, df)
    if not res["location"].notna().any():
        notes.append("no crossing of the level in range" if level is not None else "no peak")
    edge = res[res["at_edge"]]
    if len(edge):
        notes.append(f"no interior peak for {len(edge)} of {len(res)} curves (at the axis end)")
    what = (f"where mean {metric} crosses {plotting.fmt(level)} along {along}" if level is not None
            else f"peak of mean {metric} along {along}")
    _, pool = select.pooled(df, others + [along])
    fig.suptitle(plotting.title(df.attrs, what, notes + [pool]))
    plotting.finish(fig)
    return fig
