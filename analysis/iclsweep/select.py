"""Choosing tasks: `--where AXIS=V` selections with exact grid values, and the swept axes a plot
pools over (said in its title)."""
from __future__ import annotations

import numpy as np

from . import scales


def parse_where(items):
    """['K=4', 'noise=0.01'] (or a dict) -> {'K': '4', 'noise': '0.01'}."""
    if items is None:
        return {}
    if isinstance(items, dict):
        return dict(items)
    out = {}
    for item in items:
        name, sep, value = str(item).partition("=")
        if not sep or not name.strip():
            raise ValueError(f"selection {item!r}: expected AXIS=VALUE, e.g. K=4")
        out[name.strip()] = value.strip()
    return out


def _matches(column, value):
    """Boolean mask of column == value, value given as text or as a number: exact first, then
    (for reals written with fewer digits) equal to 12 significant digits."""
    col = column.to_numpy()
    if col.dtype.kind in "iuf" or col.dtype.kind == "b":
        try:
            v = float(value)
        except ValueError:
            return np.zeros(len(col), dtype=bool)
        exact = col.astype(float) == v
        if exact.any() or col.dtype.kind != "f":
            return exact
        return np.isclose(col, v, rtol=1e-12, atol=0)
    return col.astype(str) == str(value)


def apply_where(df, where):
    """(rows of df matching every AXIS=V, notes for a title). Raises ValueError naming the axis
    and its values when nothing matches."""
    notes = []
    for name, value in where.items():
        if name not in df.columns:
            raise ValueError(f"selection {name}={value}: no parameter {name}; parameters: "
                             f"{', '.join(df.attrs.get('params', []))}")
        mask = _matches(df[name], value)
        if not mask.any():
            values = ", ".join(scales.fmt(v) for v in np.unique(df[name].to_numpy()))
            raise ValueError(f"selection {name}={value}: no task has {name} = {value}; "
                             f"{name} takes {values}")
        attrs = df.attrs
        df = df[mask]
        df.attrs = attrs
        notes.append(f"{name} = {scales.fmt(df[name].iloc[0])}")
    return df, notes


def swept(df, names):
    """Those of names that take more than one value in df."""
    return [n for n in names if n in df.columns and df[n].nunique() > 1]


def pooled(df, keep):
    """(grid parameters varying in df that are not in keep, a title note). A zip group counts as
    kept when any of its parameters is."""
    meta = df.attrs
    kept = set(keep)
    for d in meta["grid"].get("dims", []):
        if kept & set(d["params"]):
            kept |= set(d["params"])
    names = [p for p in swept(df, meta["grid_params"]) if p not in kept]
    if not names:
        return names, ""
    return names, "pooled over " + ", ".join(f"{p} ({df[p].nunique()} values)" for p in names)


def check_axis(df, name, what):
    """Raises ValueError when df has no parameter name; `what` says what it was for (the x axis,
    the colour, ...)."""
    if name not in df.columns:
        raise ValueError(f"{what} {name}: no such parameter; the grid's axes are "
                         f"{', '.join(df.attrs['grid_params']) or 'none'}")


def check_metric(meta, metric):
    if metric not in meta["final_metrics"]:
        raise ValueError(f"no final metric {metric} in {', '.join(meta['files'])}; there are: "
                         f"{', '.join(meta['final_metrics'])}")


def dim_axes(df):
    """One parameter per swept grid dimension: the parameter of a plain axis; for a zip group the
    first of its parameters that tells its points apart (else its first)."""
    out = []
    for d in df.attrs["grid"].get("dims", []):
        params = [p for p in d["params"] if p in df.columns]
        if not params:
            continue
        points = df[params].drop_duplicates()
        if len(points) < 2:
            continue
        distinct = [p for p in params if df[p].nunique() == len(points)]
        out.append((distinct or params)[0])
    return out
