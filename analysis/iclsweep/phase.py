"""`phase`: a metric over two axes as a heatmap on the axes' true scales, with the emergence
boundary (the contour at a level) and its bootstrap band.

Each cell is the mean over the done tasks at that (x, y): its replicates, pooled over any other
swept axis that --where does not fix (the title says which). The boundary is the level contour of
the cell means, interpolated between cell centres in the axes' own coordinates (log on log axes);
the band is where the level lies inside a cell's 95% bootstrap interval of the mean. Colours are
sequential (viridis) without a level and diverging around it (blue below, red above) with one.
"""
from __future__ import annotations

import contourpy
import matplotlib
import numpy as np
from matplotlib.colors import Normalize, TwoSlopeNorm
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, PathPatch, Rectangle
from matplotlib.path import Path

from . import plotting, reader, select, stats, table, theory


class Axis:
    """One plotted axis: its sorted values, whether log, and the coordinates cells live at
    (the values, or 0..n-1 for text values)."""

    def __init__(self, name, values, scale="auto"):
        self.name = name
        self.values = np.array(sorted(np.unique(values)))
        self.numeric = plotting.numeric(self.values)
        self.log = self.numeric and (plotting.is_log_spaced(self.values) if scale == "auto"
                                     else scale == "log")
        self.centres = self.values.astype(float) if self.numeric else np.arange(len(self.values),
                                                                                dtype=float)
        self.edges = (plotting.edges(self.centres, self.log) if self.numeric
                      else np.arange(len(self.values) + 1) - 0.5)

    def to_space(self, v):
        """Coordinates in which contours interpolate linearly."""
        return np.log(v) if self.log else v

    def from_space(self, u):
        return np.exp(u) if self.log else u

    def position(self, values):
        if self.numeric:
            return np.asarray(values, dtype=float)
        lookup = {v: i for i, v in enumerate(self.values)}
        return np.array([lookup[v] for v in values], dtype=float)

    def decorate(self, ax, which, meta):
        getattr(ax, f"set_{which}scale")("log" if self.log else "linear")
        getattr(ax, f"set_{which}lim")(self.edges[0], self.edges[-1])
        getattr(ax, f"set_{which}label")(plotting.label(meta, self.name))
        if len(self.values) <= 12:
            getattr(ax, f"set_{which}ticks")(self.centres)
            getattr(ax, f"set_{which}ticklabels")([plotting.fmt(v) for v in self.values])
            getattr(ax, f"{which}axis").set_minor_locator(matplotlib.ticker.NullLocator())


def cell_fields(df, xa, ya, metric):
    """mean, bootstrap lo/hi and n of metric per cell, as [ny, nx] arrays (NaN / 0 where no done
    task)."""
    s = stats.summarize(df, [ya.name, xa.name], [metric])
    shape = (len(ya.values), len(xa.values))
    fields = {k: np.full(shape, np.nan) for k in ("mean", "boot_lo", "boot_hi")}
    fields["n"] = np.zeros(shape, dtype=int)
    xi = {v: i for i, v in enumerate(xa.values)}
    yi = {v: i for i, v in enumerate(ya.values)}
    for _, r in s.iterrows():
        j, i = yi[r[ya.name]], xi[r[xa.name]]
        for k in fields:
            fields[k][j, i] = r["n"] if k == "n" else r[k]
    return fields


def _contour(xa, ya, z, level):
    """Level lines of z (NaN masked) in data coordinates."""
    if z.shape[0] < 2 or z.shape[1] < 2 or not np.isfinite(z).any():
        return []
    gen = contourpy.contour_generator(x=xa.to_space(xa.centres), y=ya.to_space(ya.centres),
                                      z=np.ma.masked_invalid(z))
    return [np.column_stack([xa.from_space(l[:, 0]), ya.from_space(l[:, 1])])
            for l in gen.lines(level)]


def _band(xa, ya, lo, hi, level):
    """Paths of the region where lo <= level <= hi (the level inside the cells' intervals)."""
    m = np.minimum(level - lo, hi - level)
    if m.shape[0] < 2 or m.shape[1] < 2 or not np.isfinite(m).any() or np.nanmax(m) < 0:
        return []
    gen = contourpy.contour_generator(x=xa.to_space(xa.centres), y=ya.to_space(ya.centres),
                                      z=np.ma.masked_invalid(m), fill_type="OuterCode")
    points, codes = gen.filled(0.0, float(np.nanmax(m)) + 1.0)
    return [Path(np.column_stack([xa.from_space(p[:, 0]), ya.from_space(p[:, 1])]), c)
            for p, c in zip(points, codes)]


def _norm(values, level):
    lo, hi = np.nanmin(values), np.nanmax(values)
    if level is not None and lo < level < hi:
        return TwoSlopeNorm(vcenter=level, vmin=lo, vmax=hi), plotting.DIVERGING
    return Normalize(vmin=lo, vmax=hi if hi > lo else lo + 1), plotting.SEQUENTIAL


def _diverging_ticks(norm):
    """Round ticks on both sides of a TwoSlopeNorm's centre (its colour bar would label one side
    only), the centre included, none crowding another."""
    loc = matplotlib.ticker.MaxNLocator(4)
    ticks = [norm.vcenter]
    for lo, hi in ((norm.vmin, norm.vcenter), (norm.vcenter, norm.vmax)):
        ticks += [t for t in loc.tick_values(lo, hi) if lo <= t <= hi]
    kept = []
    for t in sorted(set(ticks), key=lambda t: (t != norm.vcenter, t)):
        if all(abs(float(norm(t)) - float(norm(k))) > 0.07 for k in kept):
            kept.append(t)
    return sorted(kept)


def _annotate(ax, xa, ya, fields, cmap, norm):
    mean = fields["mean"]
    if mean.shape[1] > 10 or mean.shape[0] > 12:     # the labels would not fit their cells
        return
    for j, yv in enumerate(ya.centres):
        for i, xv in enumerate(xa.centres):
            if not np.isfinite(mean[j, i]):
                continue
            r, g, b, _ = matplotlib.colormaps[cmap](norm(mean[j, i]))
            ink = "black" if 0.299 * r + 0.587 * g + 0.114 * b > 0.55 else "white"
            ax.text(xv, yv, f"{mean[j, i]:.3g}", ha="center", va="center", fontsize=8,
                    color=ink)


def _theory(ax, meta, df, xa, ya):
    """linattn's interpolation threshold P = D(D+1) where one axis is P or alpha."""
    handles = []
    if not theory.threshold_applies(meta, df):
        return handles
    for a, b, vertical in ((xa, ya, True), (ya, xa, False)):
        if a.name not in ("P", "alpha"):
            continue
        if b.name == "D":
            pts = [(theory.interpolation_threshold(meta, a.name, D), D) for D in b.values]
            u, v = np.array(pts).T
            xy = (u, v) if vertical else (v, u)
            ax.plot(*xy, color="white", ls="--", lw=1.8, zorder=4)
        elif df["D"].nunique() == 1:
            t = theory.interpolation_threshold(meta, a.name, df["D"].iloc[0])
            (ax.axvline if vertical else ax.axhline)(t, color="white", ls="--", lw=1.8, zorder=4)
        else:
            continue
        handles.append(Line2D([], [], color="0.3", ls="--", lw=1.8,
                              label="interpolation threshold P = D(D+1)"))
    return handles


def _panel(ax, meta, df, xa, ya, metric, level, fields, norm, cmap, draw_theory):
    x0, x1, y0, y1 = xa.edges[0], xa.edges[-1], ya.edges[0], ya.edges[-1]
    ax.add_patch(Rectangle((x0, y0), x1 - x0, y1 - y0, facecolor="0.93", edgecolor="0.75",
                           hatch="///", lw=0, zorder=0))
    mesh = ax.pcolormesh(xa.edges, ya.edges, np.ma.masked_invalid(fields["mean"]), cmap=cmap,
                         norm=norm, zorder=1)
    _annotate(ax, xa, ya, fields, cmap, norm)
    handles = []
    if level is not None:
        for path in _band(xa, ya, fields["boot_lo"], fields["boot_hi"], level):
            ax.add_patch(PathPatch(path, facecolor=(0, 0, 0, 0.12), edgecolor="0.15",
                                   hatch="..", lw=0.6, zorder=2))
        for line in _contour(xa, ya, fields["mean"], level):
            ax.plot(line[:, 0], line[:, 1], color="black", lw=2.2, zorder=3)
        handles += [Line2D([], [], color="black", lw=2.2,
                           label=f"boundary: mean {metric} = {plotting.fmt(level)}"),
                    Patch(facecolor=(0, 0, 0, 0.12), edgecolor="0.15", hatch="..",
                          label="95% bootstrap band")]
    if draw_theory:
        handles += _theory(ax, meta, df, xa, ya)
    if (fields["n"] == 0).any():
        handles.append(Patch(facecolor="0.93", edgecolor="0.75", hatch="///",
                             label="no done task"))
    xa.decorate(ax, "x", meta)
    ya.decorate(ax, "y", meta)
    return mesh, handles


def phase_figure(df, x, y, metric, *, level=None, col=None, where_notes=(), draw_theory=True,
                 xscale="auto", yscale="auto"):
    """The phase diagram of the tasks in df (a load() result) as a matplotlib Figure."""
    meta = df.attrs
    for name, what in ((x, "--x"), (y, "--y")) + (((col, "--col"),) if col else ()):
        select.check_axis(df, name, what)
    select.check_metric(meta, metric)
    xa, ya = Axis(x, df[x], xscale), Axis(y, df[y], yscale)
    panels = sorted(df[col].unique()) if col else [None]
    fields = [cell_fields(df if v is None else df[df[col] == v], xa, ya, metric) for v in panels]
    allmeans = np.concatenate([f["mean"].ravel() for f in fields])
    if not np.isfinite(allmeans).any():
        allmeans = np.array([0.0, 1.0])
    norm, cmap = _norm(allmeans, level)
    ncol = min(len(panels), 3)
    nrow = -(-len(panels) // ncol)
    fig, axes = plotting.figure(nrow, ncol, figsize=(5.2 * ncol + 1.2, 4.3 * nrow + 0.9),
                                squeeze=False, constrained_layout=True)
    handles = {}
    for ax, v, f in zip(axes.ravel(), panels, fields):
        sub = df if v is None else df[df[col] == v]
        mesh, h = _panel(ax, meta, sub, xa, ya, metric, level, f, norm, cmap, draw_theory)
        handles.update({hh.get_label(): hh for hh in h})
        if v is not None:
            ax.set_title(f"{col} = {plotting.fmt(v)}")
    for ax in axes.ravel()[len(panels):]:
        ax.set_visible(False)
    cbar = fig.colorbar(mesh, ax=axes.ravel().tolist(), shrink=0.9)
    cbar.set_label(plotting.label(meta, metric, width=40))
    if isinstance(norm, TwoSlopeNorm):   # its colour bar would label one side only
        cbar.set_ticks(_diverging_ticks(norm))
        cbar.ax.yaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:g}"))
    if level is not None:
        cbar.ax.axhline(level, color="black", lw=2)
    ch = theory.chance(meta, metric)
    if ch is not None and norm.vmin <= ch <= norm.vmax:
        cbar.ax.axhline(ch, color="0.3", lw=1.5, ls="--")
        h = Line2D([], [], color="0.3", lw=1.5, ls="--", label=f"chance level {ch:g} (colour bar)")
        handles[h.get_label()] = h
    if handles:
        fig.legend(handles=list(handles.values()), loc="upper center", bbox_to_anchor=(0.5, 0),
                   ncol=min(len(handles), 3), frameon=False)
    keep = [x, y] + ([col] if col else [])
    _, pool_note = select.pooled(df, keep)
    n_rep = meta["grid"].get("replicates", "")
    notes = [f"{n_rep} replicates per grid point"] + list(where_notes) + [pool_note]
    if level is not None and not any(np.isfinite(f["boot_lo"]).any() for f in fields):
        notes.append("no bootstrap band: fewer than two done tasks per cell")
    fig.suptitle(plotting.title(meta, f"mean {metric} per cell", notes))
    return fig


def phase(paths, *, x, y, metric=None, where=None, level=None, col=None, output=None,
          draw_theory=True, xscale="auto", yscale="auto"):
    """Draws the phase diagram of metric over axes x and y (other axes fixed by where, else
    pooled) with the boundary at level; facets by col. Writes output (.png and .pdf beside it)
    when given. Returns (Figure, list of paths written)."""
    df = reader.load(paths, warn=False)
    df, notes = select.apply_where(df, select.parse_where(where))
    metric = table.metrics_for(df.attrs, [metric] if metric else None)[0]
    fig = phase_figure(df, x, y, metric, level=level, col=col, where_notes=notes,
                       draw_theory=draw_theory, xscale=xscale, yscale=yscale)
    written = plotting.save(fig, output) if output else []
    return fig, written
