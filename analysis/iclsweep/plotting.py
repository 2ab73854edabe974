"""Shared figure conventions: readable fonts, axis labels with meanings and units read from the
file's `description`/`units` attributes, true (log where log-spaced) axes, titles naming the
sweep, and writing PNG + PDF."""
from __future__ import annotations

import os
import textwrap

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from . import reader  # noqa: E402

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
    """'name [units]' and its description on the next line(s), for axes and colour bars."""
    col = meta["columns"].get(name, {})
    units = col.get("units", "")
    head = f"{name} [{units}]" if units else name
    desc = col.get("description", "")
    if not desc:
        return head
    return head + "\n" + "\n".join(textwrap.wrap(desc, width)[:2])


def numeric(values):
    v = np.asarray(values)
    return v.dtype.kind in "iuf"


def is_log_spaced(values):
    """True when the (numeric, positive) values are closer to evenly spaced in log than in linear
    terms: geomspace, powers of two. Two values: log when they differ by a factor of 10 or more."""
    if not numeric(values):
        return False
    v = np.unique(np.asarray(values, dtype=float))
    if len(v) < 2 or v[0] <= 0:
        return False
    if len(v) == 2:
        return v[1] / v[0] >= 10
    lin, log = np.diff(v), np.diff(np.log(v))
    return np.std(log) / np.mean(log) < np.std(lin) / np.mean(lin)


def edges(values, log):
    """Cell edges around sorted centre values: midpoints (geometric on log axes), the outer
    edges half a step beyond."""
    v = np.asarray(values, dtype=float)
    u = np.log(v) if log else v
    if len(u) == 1:
        half = 0.5 if log else (abs(u[0]) * 0.5 or 0.5)
        e = np.array([u[0] - half, u[0] + half])
    else:
        mid = (u[:-1] + u[1:]) / 2
        e = np.concatenate([[u[0] - (mid[0] - u[0])], mid, [u[-1] + (u[-1] - mid[-1])]])
    return np.exp(e) if log else e


def set_scale(ax, which, values, scale="auto"):
    """Log or linear scale for ax's x or y from the values (or as forced); returns True for log."""
    log = is_log_spaced(values) if scale == "auto" else scale == "log"
    getattr(ax, f"set_{which}scale")("log" if log else "linear")
    if numeric(values) and len(np.unique(values)) <= 12:
        ticks = np.unique(np.asarray(values, dtype=float))
        getattr(ax, f"set_{which}ticks")(ticks)
        getattr(ax, f"set_{which}ticklabels")([fmt(t) for t in ticks])
        getattr(ax, f"{which}axis").set_minor_formatter(matplotlib.ticker.NullFormatter())
    return log


def fmt(v):
    """A grid value as a short label: 0.01, 0.0316, 2, 1e-05."""
    if isinstance(v, (str, bool, np.bool_)):
        return str(v)
    v = float(v)
    if v == int(v) and abs(v) < 1e6:
        return str(int(v))
    return f"{v:.3g}"


def title(meta, what, notes=()):
    """'<sweep name> (<model>): what' plus notes (selection, pooling, completion) below."""
    lines = [f"{meta['name']} ({meta['model']}): {what}"]
    if not meta["complete"]:
        lines.append(reader.completion_text(meta["counts"]))
    lines += [n for n in notes if n]
    return "\n".join([lines[0]] + textwrap.wrap("; ".join(lines[1:]), 90))


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


def default_output(paths, *parts, ext):
    """<dir of the first file>/<its stem>_<parts joined by _>.<ext>."""
    first = reader._as_list(paths)[0]
    stem = os.path.splitext(first)[0]
    return "_".join([stem] + [str(p) for p in parts if p]) + ("." + ext if ext else "")


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
