"""`refine`: the sweep file of the next round, which locates a boundary more precisely with few new
tasks: the sweep's own YAML (from the result file) with the refined axis replaced by a list of
every value already run plus new values only inside the intervals where the mean curve crosses
the level (or around its peak), for any value of the other axes.

New values are evenly spaced inside each interval (geometrically on log-spaced axes), `points` per
interval, rounded on integer axes; values already run are written exactly as the file holds them
(shortest repr, which reads back as the same double), so every existing task keeps its identity
and seed. The along axis must be a plain grid axis (not in a zip group).
"""
from __future__ import annotations

import re

import numpy as np
import yaml

from . import crossing, reader, scales, select, stats, table, threshold


class _Loader(yaml.SafeLoader):
    """YAML as the iclsweep engine reads numbers: 1e-3 is a number (YAML 1.2), not a string."""


_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?$"),
    list("-+0123456789."))


class _Dumper(yaml.SafeDumper):
    """Lists of scalars inline, mappings in block style."""


def _represent_list(dumper, data):
    flow = all(not isinstance(v, (list, dict)) for v in data)
    return dumper.represent_sequence("tag:yaml.org,2002:seq", data, flow_style=flow)


_Dumper.add_representer(list, _represent_list)


def intervals(df, along, metric, *, level=None, log=False, direction="any"):
    """Sorted (lo, hi) intervals of `along` that hold a crossing of level by a group's mean curve
    (every crossing in the direction asked), or the intervals either side of its peak (the
    interior peak of largest prominence, crossing.py)."""
    others = [p for p in select.swept(df, df.attrs["grid_params"]) if p != along]
    found = set()
    done = df[df["status"] == "done"]
    for _, g in stats.groups(done, others):
        curve = g.groupby(along, sort=True)[metric].mean().dropna()
        x, y = curve.index.to_numpy(dtype=float), curve.to_numpy()
        if len(x) < 2:
            continue
        if level is not None:
            for _, i, d in crossing.crossings(x, y, level, log):
                if direction in ("any", d):
                    found.add((x[i], x[i + 1]))
        else:
            i, _ = crossing.peak_index(y)
            if i > 0:
                found.add((x[i - 1], x[i]))
            if i < len(x) - 1:
                found.add((x[i], x[i + 1]))
    return sorted(found)


def new_values(intervals_, points, *, log=False, integer=False, existing=()):
    """`points` evenly spaced values strictly inside each interval (in log x on log axes), to 6
    significant digits (integers on integer axes), without values already in existing; sorted."""
    have = set(existing)
    out = set()
    for lo, hi in intervals_:
        t = np.arange(1, points + 1) / (points + 1)
        v = np.exp(np.log(lo) + t * (np.log(hi) - np.log(lo))) if log else lo + t * (hi - lo)
        v = [int(round(a)) if integer else float(f"{a:.6g}") for a in v]
        out |= {a for a in v if lo < a < hi}
    return sorted(a for a in out if a not in have)


def _check_axis(df, along):
    meta = df.attrs
    select.check_axis(df, along, "along")
    dim = next((d for d in meta["grid"].get("dims", []) if along in d["params"]), None)
    if dim is None:
        raise ValueError(f"axis {along} is not a grid axis of the sweep; refine adds values to "
                         f"an axis under grid:")
    if dim.get("zip") or len(dim["params"]) > 1:
        raise ValueError(f"axis {along} is in zip group {dim['name']} with "
                         f"{', '.join(dim['params'])}; refine adds values to a grid axis only")
    if not scales.numeric(df[along]):
        raise ValueError(f"axis {along} takes text values; refine needs a numeric axis")


def sweep_text(spec_text, along, values, header):
    """The sweep YAML spec_text with grid[along] replaced by values, header comment lines first."""
    spec = yaml.load(spec_text, Loader=_Loader)
    grid = spec.get("grid") or {}
    if along not in grid:
        raise ValueError(f"the sweep's YAML has no grid axis {along}")
    grid[along] = list(values)
    body = yaml.dump(spec, Dumper=_Dumper, sort_keys=False, width=100, allow_unicode=True)
    return "".join(f"# {h}\n" if h else "#\n" for h in header) + body


def refine(paths, *, along, metric=None, level=None, peak=False, points=3, where=None,
           direction="any", output=None):
    """Writes (to output, when given) and returns the next round's sweep YAML and the new values:
    (text, new values, intervals)."""
    df = reader.load(paths, warn=False)
    full = df
    df, notes = select.apply_where(df, select.parse_where(where))
    metric = table.metrics_for(df.attrs, [metric] if metric else None)[0]
    meta = df.attrs
    _check_axis(df, along)
    level = threshold.resolve_level(meta, metric, level, peak, "refine")
    if points < 1:
        raise ValueError(f"points per interval must be at least 1, not {points}")
    log = scales.is_log_spaced(full[along])
    found = intervals(df, along, metric, level=level, log=log, direction=direction)
    existing = sorted(full[along].unique().tolist())
    integer = full[along].dtype.kind in "iu"
    new = new_values(found, points, log=log, integer=integer, existing=existing)
    values = sorted(existing + new)
    dims = meta["grid"].get("dims", [])
    others = int(np.prod([d["size"] for d in dims if along not in d["params"]] or [1]))
    n_new = len(new) * others * int(meta["grid"].get("replicates", 1))
    what = (f"where mean {metric} crosses {scales.fmt(level)}" if level is not None
            else f"around the peak of mean {metric}")
    header = [f"Refined by `iclsweep-analyze refine` from {', '.join(meta['files'])}",
              f"({reader.completion_text(meta['counts'])}): along {along}, {what}"
              + (f" ({', '.join(notes)})" if notes else "") + ".",
              f"{len(new)} new value(s), {points} per interval, in "
              + (", ".join(f"({scales.fmt(a)}, {scales.fmt(b)})" for a, b in found)
                 or "no interval (no crossing found)") + ";",
              f"{n_new} new task(s). Every point already run is kept with its identity and seed.",
              ""]
    text = sweep_text(meta["root_attrs"]["sweep"], along, values, header)
    if output:
        with open(output, "w", encoding="utf-8") as f:
            f.write(text)
    return text, new, found
