"""Shared figure conventions: readable fonts, axis labels with meanings and units read from the
file's `description`/`units` attributes (wrapped, never cut), true (log where log-spaced) axes
whose tick labels never overlap, titles naming the sweep, small multiples (--col, --row) with
shared scales, and writing PNG + PDF. Only the commands that draw import this module."""
from __future__ import annotations

import os
import textwrap

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from . import reader, select  # noqa: E402
from .scales import edges, fmt, fmt_distinct, is_log_spaced, numeric  # noqa: E402,F401

RC = {"font.size": 11, "axes.titlesize": 12, "axes.labelsize": 11, "legend.fontsize": 9,
      "xtick.labelsize": 10, "ytick.labelsize": 10, "figure.dpi": 100, "savefig.dpi": 200,
      "axes.spines.top": False, "axes.spines.right": False, "pdf.fonttype": 42}
SEQUENTIAL = "viridis"
DIVERGING = "RdBu_r"


def figure(*args, **kwargs):
    """plt.subplots under the house style."""
    with plt.rc_context(RC):
        return plt.subplots(*args, **kwargs)


def label(meta, name, width=48):
    """'name [units]' and its whole description on the next lines, for axes and colour bars."""
    col = meta["columns"].get(name, {})
    units = col.get("units", "")
    head = f"{name} [{units}]" if units else name
    desc = col.get("description", "")
    if not desc:
        return head
    return head + "\n" + "\n".join(textwrap.wrap(desc, width))


def set_scale(ax, which, values, scale="auto"):
    """Log or linear scale for ax's x or y from the values (or as forced), ticks at the values
    while their labels fit; returns True for log."""
    log = is_log_spaced(values) if scale == "auto" else scale == "log"
    getattr(ax, f"set_{which}scale")("log" if log else "linear")
    if numeric(values):
        value_ticks(ax, which, np.unique(np.asarray(values, dtype=float)))
    return log


def value_ticks(ax, which, values, labels=None):
    """Ticks at the grid values, labelled with as many digits as tell them apart (finish() thins
    the labels where they would overlap)."""
    values = list(values)
    getattr(ax, f"set_{which}ticks")(values)
    getattr(ax, f"{which}axis").set_minor_locator(matplotlib.ticker.NullLocator())
    getattr(ax, f"set_{which}ticklabels")(labels or fmt_distinct(values))


def _thin(ax, which, renderer):
    """Labels every k-th tick of ax's x or y axis, k the smallest that keeps the labels apart."""
    texts = [t for t in getattr(ax, f"get_{which}ticklabels")() if t.get_text()]
    if len(texts) < 2:
        return
    labels = [t.get_text() for t in texts]
    boxes = [t.get_window_extent(renderer).expanded(1.08, 1.0) for t in texts]
    for k in range(1, len(texts)):
        if not any(boxes[i].overlaps(boxes[i + k]) for i in range(0, len(boxes) - k, k)):
            break
    if k > 1:
        for i, t in enumerate(texts):
            t.set_text(labels[i] if i % k == 0 else "")
        ticks = getattr(ax, f"get_{which}ticks")()
        getattr(ax, f"set_{which}ticks")(ticks)
        getattr(ax, f"set_{which}ticklabels")([l if i % k == 0 else ""
                                               for i, l in enumerate(labels)])


def finish(fig):
    """Lays the figure out (one draw) and thins tick labels that would overlap. Call it last,
    before measuring anything in display units."""
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    for ax in fig.axes:
        if ax.get_visible():
            for which in ("x", "y"):
                _thin(ax, which, renderer)
    return renderer


def title(meta, what, notes=()):
    """'<sweep name> (<model>): what' plus notes (selection, pooling, completion) below."""
    lines = [f"{meta['name']} ({meta['model']}): {what}"]
    if not meta["complete"]:
        lines.append(reader.completion_text(meta["counts"]))
    lines += [n for n in notes if n]
    return "\n".join([lines[0]] + textwrap.wrap("; ".join(lines[1:]), 90))


def per_cell_note(counts):
    """'n = 2 tasks per cell' or 'n = 1-2 tasks per cell' from the done-task counts of the cells
    (those with any)."""
    c = np.asarray(counts)
    c = c[c > 0]
    if not len(c):
        return "no done task"
    lo, hi = int(c.min()), int(c.max())
    n = f"{lo}" if lo == hi else f"{lo}-{hi}"
    return f"n = {n} done task{'s' if hi > 1 else ''} per cell"


def save(fig, output, formats=("png", "pdf")):
    """Writes fig to output (extension replaced by each format); returns the paths written."""
    base, _ = os.path.splitext(os.fspath(output))
    directory = os.path.dirname(base)
    if directory:
        os.makedirs(directory, exist_ok=True)
    paths = []
    for ext in formats:
        path = f"{base}.{ext}"
        fig.savefig(path, bbox_inches="tight")
        paths.append(path)
    return paths


def close(fig):
    plt.close(fig)


def colors(n, cmap="viridis"):
    """n colours spread over a sequential map (dark to light, skipping the palest end)."""
    cm = matplotlib.colormaps[cmap]
    return [cm(x) for x in (np.linspace(0.05, 0.85, n) if n > 1 else [0.35])]


def log_ticks(axis):
    """A log scale on axis (ax.xaxis or ax.yaxis) labelled 1, 2, 5 per decade in plain numbers."""
    axis.axes.set_yscale("log") if axis is axis.axes.yaxis else axis.axes.set_xscale("log")
    axis.set_major_locator(matplotlib.ticker.LogLocator(subs=(1.0, 2.0, 5.0)))
    axis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: fmt(v)))
    axis.set_minor_formatter(matplotlib.ticker.NullFormatter())


def facets(df, col=None, row=None):
    """The panels of a --col/--row grid: (row values, col values, {(i, j): rows of df}). Checks
    the axes; a panel without tasks is absent from the dict."""
    for name, what in ((col, "panel columns by"), (row, "panel rows by")):
        if name:
            select.check_axis(df, name, what)
    rv = sorted(df[row].unique()) if row else [None]
    cv = sorted(df[col].unique()) if col else [None]
    panels = {}
    for i, r in enumerate(rv):
        for j, c in enumerate(cv):
            sub = df
            if row:
                sub = sub[sub[row] == r]
            if col:
                sub = sub[sub[col] == c]
            if len(sub):
                sub.attrs = df.attrs
                panels[(i, j)] = sub
    return rv, cv, panels


def facet_title(col, c, row, r):
    parts = ([f"{row} = {fmt(r)}"] if row else []) + ([f"{col} = {fmt(c)}"] if col else [])
    return ", ".join(parts)


def facet_figure(nrow, ncol, panel=(5.2, 4.3), extra=(1.2, 0.9), **kw):
    """A grid of panels sharing their scales, under the house style."""
    return figure(nrow, ncol, figsize=(panel[0] * ncol + extra[0], panel[1] * nrow + extra[1]),
                  squeeze=False, constrained_layout=True, **kw)


def text_overlaps(fig):
    """Pairs of visible text boxes of fig (labels, titles, tick labels, legends, annotations) that
    overlap, for the figure tests: [(text a, text b)]."""
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    boxes = []
    for t in fig.findobj(matplotlib.text.Text):
        if t.get_visible() and t.get_text().strip() and t.get_figure() is not None:
            try:
                boxes.append((t.get_text(), t.get_window_extent(renderer)))
            except (RuntimeError, ValueError):
                continue
    out = []
    for i, (ta, a) in enumerate(boxes):
        for tb, b in boxes[i + 1:]:
            if a.overlaps(b) and a.width > 0 and b.width > 0:
                inter = a.intersection(a, b)
                if inter is not None and inter.width > 1 and inter.height > 1:
                    out.append((ta, tb))
    return out
