"""`phase`: a metric over two axes as a heatmap on the axes' true scales, with the emergence
boundary (the contour at a level) and its bootstrap band; or, with a regime, a categorical map of
which of two metrics reach their thresholds (e.g. in-context vs in-weights learning: ICL, IWL,
both, neither).

Each cell is the mean over the done tasks at that (x, y): its replicates, pooled over any other
swept axis that --where, --col or --row does not fix (the title says which). The boundary is the
level contour of the cell means, interpolated between cell centres in the axes' own coordinates
(log on log axes); the band is where the level lies inside a cell's 95% bootstrap interval of the
mean. The colour scale is logarithmic when every mean is positive and they span a decade or more;
sequential (viridis) without a level, diverging around it (blue below, red above) with one.
Theory from the file: levels of the metric on the colour bar, marks on an axis as lines.
"""
from __future__ import annotations

import matplotlib
import matplotlib.patheffects as pe
import numpy as np
from matplotlib.colors import FuncNorm, ListedColormap, BoundaryNorm
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, PathPatch, Rectangle
from matplotlib.path import Path

from . import plotting, reader, select, stats, table, theory

# A line that reads on pale and dark cells alike: black with a white halo.
HALO = [pe.Stroke(linewidth=4.2, foreground="white"), pe.Normal()]
LABEL_HALO = [pe.withStroke(linewidth=2.2, foreground="white")]
REGIME_COLOURS = {"both": "#7b3294", "first": "#2c7bb6", "second": "#fdae61", "neither": "#e8e8e8"}


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

    def decorate(self, ax, which, meta, label=True):
        getattr(ax, f"set_{which}scale")("log" if self.log else "linear")
        getattr(ax, f"set_{which}lim")(self.edges[0], self.edges[-1])
        if label:
            getattr(ax, f"set_{which}label")(plotting.label(meta, self.name))
        labels = (plotting.fmt_distinct(self.values) if self.numeric
                  else [str(v) for v in self.values])
        plotting.value_ticks(ax, which, self.centres, labels)


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
    import contourpy
    if z.shape[0] < 2 or z.shape[1] < 2 or not np.isfinite(z).any():
        return []
    gen = contourpy.contour_generator(x=xa.to_space(xa.centres), y=ya.to_space(ya.centres),
                                      z=np.ma.masked_invalid(z))
    return [np.column_stack([xa.from_space(l[:, 0]), ya.from_space(l[:, 1])])
            for l in gen.lines(level)]


def _band(xa, ya, lo, hi, level):
    """Paths of the region where lo <= level <= hi (the level inside the cells' intervals)."""
    import contourpy
    m = np.minimum(level - lo, hi - level)
    if m.shape[0] < 2 or m.shape[1] < 2 or not np.isfinite(m).any() or np.nanmax(m) < 0:
        return []
    gen = contourpy.contour_generator(x=xa.to_space(xa.centres), y=ya.to_space(ya.centres),
                                      z=np.ma.masked_invalid(m), fill_type="OuterCode")
    points, codes = gen.filled(0.0, float(np.nanmax(m)) + 1.0)
    return [Path(np.column_stack([xa.from_space(p[:, 0]), ya.from_space(p[:, 1])]), c)
            for p, c in zip(points, codes)]


def colour_scale(values, level):
    """(norm, colour map, log): log in the metric when every value is positive and they span a
    decade or more; piecewise so that the level sits at the middle of a diverging map when the
    values straddle it."""
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    if not len(v):
        v = np.array([0.0, 1.0])
    lo, hi = float(v.min()), float(v.max())
    if hi <= lo:
        hi = lo + (abs(lo) or 1.0)
    log = lo > 0 and hi / lo >= 10
    f = np.log if log else (lambda a: np.asarray(a, dtype=float))
    finv = np.exp if log else (lambda a: np.asarray(a, dtype=float))
    if level is not None and lo < level < hi:
        knots = [float(f(lo)), float(f(level)), float(f(hi))]

        def forward(a):
            return np.interp(f(np.clip(a, lo, hi)), knots, [0.0, 0.5, 1.0])

        def inverse(u):
            return finv(np.interp(u, [0.0, 0.5, 1.0], knots))
        return FuncNorm((forward, inverse), vmin=lo, vmax=hi), plotting.DIVERGING, log
    if log:
        return matplotlib.colors.LogNorm(vmin=lo, vmax=hi), plotting.SEQUENTIAL, log
    return matplotlib.colors.Normalize(vmin=lo, vmax=hi), plotting.SEQUENTIAL, log


def _colour_ticks(norm, level, log):
    """Round ticks over the colour bar, the level included, none crowding another."""
    lo, hi = norm.vmin, norm.vmax
    if log:
        loc = matplotlib.ticker.LogLocator(subs=(1.0, 2.0, 5.0))
    else:
        loc = matplotlib.ticker.MaxNLocator(6)
    ticks = [t for t in loc.tick_values(lo, hi) if lo <= t <= hi]
    first = [level] if level is not None and lo <= level <= hi else []
    kept = []
    for t in first + sorted(set(ticks) - set(first), key=lambda t: (t not in (lo, hi), t)):
        if all(abs(float(norm(t)) - float(norm(k))) > 0.08 for k in kept):
            kept.append(t)
    return sorted(kept)


def _labels(ax, xa, ya, mean, cmap, norm):
    """Each cell's mean as its label, when every label fits inside its cell (else none: the
    note says so). Labels sit above the lines, with a halo."""
    fig = ax.figure
    renderer = fig.canvas.get_renderer()
    texts = []
    for j, yv in enumerate(ya.centres):
        for i, xv in enumerate(xa.centres):
            if not np.isfinite(mean[j, i]):
                continue
            r, g, b, _ = matplotlib.colormaps[cmap](norm(mean[j, i]))
            light = 0.299 * r + 0.587 * g + 0.114 * b > 0.55
            t = ax.text(xv, yv, f"{mean[j, i]:.3g}", ha="center", va="center", fontsize=8,
                        color="black" if light else "white", zorder=6,
                        path_effects=[pe.withStroke(linewidth=1.0,
                                                    foreground="white" if light else "black")])
            texts.append((t, i, j))
    to_px = ax.transData.transform
    for t, i, j in texts:
        box = t.get_window_extent(renderer)
        (x0, y0), (x1, y1) = to_px((xa.edges[i], ya.edges[j])), to_px((xa.edges[i + 1],
                                                                       ya.edges[j + 1]))
        if box.width > abs(x1 - x0) * 0.92 or box.height > abs(y1 - y0) * 0.9:
            for tt, _, _ in texts:
                tt.remove()
            return False
    return True


def _marks(ax, meta, df, xa, ya):
    """The file's marks on the plotted axes (e.g. an interpolation threshold on P): a line where
    the mark is one value for the panel's tasks, a line through the cells where it moves with the
    other axis; else nothing, and a note. Returns (legend handles, notes)."""
    handles, notes = [], []
    for a, b, vertical in ((xa, ya, True), (ya, xa, False)):
        for label, column in theory.marks(meta, a.name):
            v, why = theory.value(df, column)
            if v is not None:
                (ax.axvline if vertical else ax.axhline)(v, color="black", ls="--", lw=1.8,
                                                         zorder=4, path_effects=HALO)
            elif b.numeric and (along := theory.values_along(df, column, b.name)):
                other = np.array(sorted(along), dtype=float)
                pos = np.array([along[o] for o in sorted(along)])
                xy = (pos, other) if vertical else (other, pos)
                ax.plot(*xy, color="black", ls="--", lw=1.8, zorder=4, path_effects=HALO)
            else:
                if why:
                    notes.append(f"{label} not drawn: {why}")
                continue
            handles.append(Line2D([], [], color="black", ls="--", lw=1.8, path_effects=HALO,
                                  label=label))
    return handles, notes


def _panel(ax, meta, df, xa, ya, metric, level, fields, norm, cmap, draw_theory):
    """One heatmap panel; returns (mesh, legend handles, notes)."""
    x0, x1, y0, y1 = xa.edges[0], xa.edges[-1], ya.edges[0], ya.edges[-1]
    ax.add_patch(Rectangle((x0, y0), x1 - x0, y1 - y0, facecolor="0.93", edgecolor="0.75",
                           hatch="///", lw=0, zorder=0))
    mesh = ax.pcolormesh(xa.edges, ya.edges, np.ma.masked_invalid(fields["mean"]), cmap=cmap,
                         norm=norm, zorder=1)
    handles, notes = [], []
    if level is not None:
        band = _band(xa, ya, fields["boot_lo"], fields["boot_hi"], level)
        for path in band:
            ax.add_patch(PathPatch(path, facecolor=(0, 0, 0, 0.10), edgecolor="0.15",
                                   hatch="..", lw=0.6, zorder=2))
        lines = _contour(xa, ya, fields["mean"], level)
        for line in lines:
            ax.plot(line[:, 0], line[:, 1], color="black", lw=2.4, zorder=3, path_effects=HALO)
        if lines:
            handles.append(Line2D([], [], color="black", lw=2.4, path_effects=HALO,
                                  label=f"boundary: mean {metric} = {plotting.fmt(level)}"))
        if band:
            handles.append(Patch(facecolor=(0, 0, 0, 0.10), edgecolor="0.15", hatch="..",
                                 label=f"95% bootstrap band: {plotting.fmt(level)} inside the "
                                       f"cell's interval"))
    if draw_theory:
        h, n = _marks(ax, meta, df, xa, ya)
        handles += h
        notes += n
    if (fields["n"] == 0).any():
        handles.append(Patch(facecolor="0.93", edgecolor="0.75", hatch="///",
                             label="no done task"))
    return mesh, handles, notes


def _decorate(axes, panels, xa, ya, meta, col, cv, row, rv):
    """Axis scales, ticks and labels (outer panels only) and panel titles; empty panels hidden."""
    for (i, j) in np.ndindex(axes.shape):
        if (i, j) not in panels:
            axes[i, j].set_visible(False)
            continue
        xa.decorate(axes[i, j], "x", meta, label=i == len(rv) - 1)
        ya.decorate(axes[i, j], "y", meta, label=j == 0)
        if col or row:
            axes[i, j].set_title(plotting.facet_title(col, cv[j], row, rv[i]))


def _layout(df, x, y, col, row, xscale, yscale):
    for name, what in ((x, "x axis"), (y, "y axis")):
        select.check_axis(df, name, what)
    xa, ya = Axis(x, df[x], xscale), Axis(y, df[y], yscale)
    rv, cv, panels = plotting.facets(df, col, row)
    return xa, ya, rv, cv, panels


def _notes(df, meta, keep, where_notes, counts, extra):
    _, pool_note = select.pooled(df, keep)
    return [plotting.per_cell_note(counts)] + list(where_notes) + [pool_note] + list(extra)


def _legend(fig, handles):
    if handles:
        fig.legend(handles=list(handles.values()), loc="upper center", bbox_to_anchor=(0.5, 0),
                   ncol=min(len(handles), 2), frameon=False)


def phase_figure(df, x, y, metric, *, level=None, col=None, row=None, where_notes=(),
                 draw_theory=True, xscale="auto", yscale="auto"):
    """The phase diagram of the tasks in df (a load() result) as a matplotlib Figure: one panel
    per (row, col) value, one colour scale."""
    meta = df.attrs
    select.check_metric(meta, metric)
    xa, ya, rv, cv, panels = _layout(df, x, y, col, row, xscale, yscale)
    fields = {k: cell_fields(sub, xa, ya, metric) for k, sub in panels.items()}
    allmeans = np.concatenate([f["mean"].ravel() for f in fields.values()])
    norm, cmap, log = colour_scale(allmeans, level)
    fig, axes = plotting.facet_figure(len(rv), len(cv), sharex=True, sharey=True)
    handles, notes, labelled = {}, [], True
    for (i, j), sub in panels.items():
        ax = axes[i, j]
        mesh, h, n = _panel(ax, meta, sub, xa, ya, metric, level, fields[(i, j)], norm, cmap,
                            draw_theory)
        handles.update({hh.get_label(): hh for hh in h})
        notes += [t for t in n if t not in notes]
    _decorate(axes, panels, xa, ya, meta, col, cv, row, rv)
    cbar = fig.colorbar(mesh, ax=axes.ravel().tolist(), shrink=0.9)
    cbar.set_label(plotting.label(meta, metric, width=40))
    cbar.set_ticks(_colour_ticks(norm, level, log))
    cbar.ax.yaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:g}"))
    cbar.ax.yaxis.set_minor_locator(matplotlib.ticker.NullLocator())
    if level is not None:
        cbar.ax.axhline(level, color="black", lw=2)
    if draw_theory:
        for lab, column in theory.levels(meta, metric):
            v, why = theory.value(df, column)
            if v is not None and norm.vmin <= v <= norm.vmax:
                cbar.ax.axhline(v, color="0.3", lw=1.5, ls="--")
                h = Line2D([], [], color="0.3", lw=1.5, ls="--", label=f"{lab} (on the colour bar)")
                handles[h.get_label()] = h
            elif why:
                notes.append(f"{lab} not marked: {why}")
    _legend(fig, handles)
    if level is not None and not any(np.isfinite(f["boot_lo"]).any() for f in fields.values()):
        notes.append("no bootstrap band: fewer than two done tasks per cell")
    elif level is not None and not any(h.startswith("95% bootstrap band") for h in handles):
        notes.append(f"no bootstrap band: no cell's 95% interval holds {plotting.fmt(level)}")
    counts = np.concatenate([f["n"].ravel() for f in fields.values()])
    keep = [x, y] + [a for a in (col, row) if a]
    fig.suptitle(plotting.title(meta, f"mean {metric} per cell",
                                _notes(df, meta, keep, where_notes, counts, notes)))
    plotting.finish(fig)
    for (i, j), sub in panels.items():      # labels last: the layout is final
        labelled &= _labels(axes[i, j], xa, ya, fields[(i, j)]["mean"], cmap, norm)
    if not labelled:
        notes.append("cells too small for their means as labels (iclsweep-analyze table lists "
                     "them)")
        fig.suptitle(plotting.title(meta, f"mean {metric} per cell",
                                    _notes(df, meta, keep, where_notes, counts, notes)))
    return fig


def parse_regime(text):
    """'ic_score:0.5:ICL,iw_score:0.5:IWL' -> [(metric, threshold, name), (...)]; the names
    default to the metrics'."""
    parts = [p for p in str(text).split(",") if p.strip()]
    out = []
    for p in parts:
        fields = p.strip().split(":")
        if len(fields) not in (2, 3):
            raise ValueError(f"regime {p!r}: expected METRIC:THRESHOLD[:NAME]")
        try:
            v = float(fields[1])
        except ValueError:
            raise ValueError(f"regime {p!r}: the threshold {fields[1]!r} is not a number") from None
        out.append((fields[0], v, fields[2] if len(fields) == 3 else fields[0]))
    if len(out) != 2:
        raise ValueError(f"regime {text!r}: expected two metrics, METRIC:THRESHOLD[:NAME] each, "
                         f"separated by a comma")
    return out


def regime_cells(df, xa, ya, regime):
    """[ny, nx] category codes (0 neither, 1 first only, 2 second only, 3 both; -1 no task) and
    a mask of uncertain cells (a threshold inside that metric's 95% bootstrap interval)."""
    (m1, v1, _), (m2, v2, _) = regime
    f1, f2 = cell_fields(df, xa, ya, m1), cell_fields(df, xa, ya, m2)
    a, b = f1["mean"] >= v1, f2["mean"] >= v2
    codes = np.where(a & b, 3, np.where(a, 1, np.where(b, 2, 0)))
    codes = np.where(np.isfinite(f1["mean"]) & np.isfinite(f2["mean"]), codes, -1)
    unsure = np.zeros(codes.shape, dtype=bool)
    for f, v in ((f1, v1), (f2, v2)):
        with np.errstate(invalid="ignore"):
            unsure |= (f["boot_lo"] < v) & (v <= f["boot_hi"])
    return codes, unsure, np.minimum(f1["n"], f2["n"])


def regime_figure(df, x, y, regime, *, col=None, row=None, where_notes=(), xscale="auto",
                  yscale="auto"):
    """The regime map: each cell coloured by which of the two metrics' means reach their
    thresholds (names from the regime: e.g. ICL, IWL, both, neither)."""
    meta = df.attrs
    for m, _, _ in regime:
        select.check_metric(meta, m)
    xa, ya, rv, cv, panels = _layout(df, x, y, col, row, xscale, yscale)
    (m1, v1, n1), (m2, v2, n2) = regime
    names = [f"neither ({m1} < {plotting.fmt(v1)}, {m2} < {plotting.fmt(v2)})",
             f"{n1} only", f"{n2} only", "both"]
    colours = [REGIME_COLOURS[k] for k in ("neither", "first", "second", "both")]
    cmap, norm = ListedColormap(colours), BoundaryNorm(np.arange(5) - 0.5, 4)
    fig, axes = plotting.facet_figure(len(rv), len(cv), sharex=True, sharey=True)
    seen, counts, any_unsure, empty = set(), [], False, False
    for (i, j), sub in panels.items():
        ax = axes[i, j]
        codes, unsure, n = regime_cells(sub, xa, ya, regime)
        counts.append(n.ravel())
        x0, x1, y0, y1 = xa.edges[0], xa.edges[-1], ya.edges[0], ya.edges[-1]
        ax.add_patch(Rectangle((x0, y0), x1 - x0, y1 - y0, facecolor="white", edgecolor="0.75",
                               hatch="///", lw=0, zorder=0))
        ax.pcolormesh(xa.edges, ya.edges, np.ma.masked_less(codes, 0), cmap=cmap, norm=norm,
                      zorder=1, edgecolors="white", linewidth=0.5)
        for jj, yv in enumerate(ya.centres):
            for ii, xv in enumerate(xa.centres):
                if unsure[jj, ii] and codes[jj, ii] >= 0:
                    ax.add_patch(Rectangle((xa.edges[ii], ya.edges[jj]),
                                           xa.edges[ii + 1] - xa.edges[ii],
                                           ya.edges[jj + 1] - ya.edges[jj], fill=False,
                                           hatch="..", edgecolor="0.2", lw=0, zorder=2))
        seen |= set(codes[codes >= 0].ravel().tolist())
        any_unsure |= bool((unsure & (codes >= 0)).any())
        empty |= bool((codes < 0).any())
    _decorate(axes, panels, xa, ya, meta, col, cv, row, rv)
    handles = {names[k]: Patch(facecolor=colours[k], edgecolor="0.5", label=names[k])
               for k in sorted(seen, reverse=True)}
    if any_unsure:
        handles["unsure"] = Patch(facecolor="white", edgecolor="0.2", hatch="..",
                                  label="a threshold inside that metric's 95% bootstrap interval")
    if empty:
        handles["none"] = Patch(facecolor="white", edgecolor="0.75", hatch="///",
                                label="no done task")
    _legend(fig, handles)
    keep = [x, y] + [a for a in (col, row) if a]
    what = f"regimes by {m1} >= {plotting.fmt(v1)} ({n1}) and {m2} >= {plotting.fmt(v2)} ({n2})"
    fig.suptitle(plotting.title(meta, what, _notes(df, meta, keep, where_notes,
                                                   np.concatenate(counts), [])))
    plotting.finish(fig)
    return fig


def phase(paths, *, x, y, metric=None, where=None, level=None, col=None, row=None, regime=None,
          output=None, draw_theory=True, xscale="auto", yscale="auto"):
    """Draws the phase diagram of metric over axes x and y (other axes fixed by where, else
    pooled) with the boundary at level, or the regime map of regime = [(metric, threshold,
    name), (metric, threshold, name)]; panels by col and row. Writes output (.png and .pdf beside
    it) when given. Returns (Figure, list of paths written)."""
    df = reader.load(paths, warn=False)
    df, notes = select.apply_where(df, select.parse_where(where))
    if regime:
        fig = regime_figure(df, x, y, regime, col=col, row=row, where_notes=notes,
                            xscale=xscale, yscale=yscale)
    else:
        metric = table.metrics_for(df.attrs, [metric] if metric else None)[0]
        fig = phase_figure(df, x, y, metric, level=level, col=col, row=row, where_notes=notes,
                           draw_theory=draw_theory, xscale=xscale, yscale=yscale)
    written = plotting.save(fig, output) if output else []
    return fig, written
