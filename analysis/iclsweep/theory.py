"""Theory lines as the result file states them. The engine writes what each model knows about
itself, so this module names no model and no metric:

- root attribute `theory`: one JSON object
    {"headline":  {"metric": M, "level": V or null},       the metric a command uses by default
                                                           and the level that marks emergence
     "levels":    [{"column", "label", "metrics": [...]}], horizontal reference values of metrics
     "baselines": [{"final", "label", "metrics": [...]}],  final metrics drawn beside a metric
     "marks":     [{"column", "label", "axis"}]}           positions on a parameter's axis
- for each level and mark a dataset /theory/<column> [task] (NaN where the line does not apply),
  read by reader.py into the column `theory/<column>` of load()'s DataFrame.

Files without the attribute (written before it existed) have no theory lines and no headline.
A line is drawn for a set of tasks when its value is the same for all of them (value()); where it
differs, the figure draws it per facet or group, or says that it left it out.
"""
from __future__ import annotations

import json

import numpy as np

PREFIX = "theory/"
SECTIONS = ("levels", "baselines", "marks")


def parse(text):
    """The `theory` attribute's JSON as a dict with every section present. Raises ValueError
    saying what is wrong."""
    try:
        spec = json.loads(text)
    except (TypeError, ValueError) as e:
        raise ValueError(f"the 'theory' attribute is not JSON ({e})") from None
    if not isinstance(spec, dict):
        raise ValueError("the 'theory' attribute is not a JSON object")
    out = {"headline": spec.get("headline") or {}}
    for section in SECTIONS:
        entries = spec.get(section) or []
        if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
            raise ValueError(f"the 'theory' attribute's {section} is not a list of objects")
        out[section] = entries
    return out


def _spec(meta):
    return meta.get("theory") or {"headline": {}, "levels": [], "baselines": [], "marks": []}


def columns(meta):
    """The /theory datasets the file's levels and marks name."""
    spec = _spec(meta)
    return [e["column"] for s in ("levels", "marks") for e in spec[s] if "column" in e]


def headline(meta):
    """(metric, level or None) the file names as its headline. Raises ValueError when the file
    names none (it predates the attribute) or names a metric it does not have."""
    head = _spec(meta)["headline"]
    metric = head.get("metric")
    if not metric:
        raise ValueError(f"{', '.join(meta['files'])} names no headline metric (no 'theory' "
                         f"attribute: an older file); name the metric, one of: "
                         f"{', '.join(meta['final_metrics'])}")
    if metric not in meta["final_metrics"]:
        raise ValueError(f"the headline metric {metric} of {', '.join(meta['files'])} is not in "
                         f"/final; name another: {', '.join(meta['final_metrics'])}")
    level = head.get("level")
    return metric, (None if level is None else float(level))


def default_metric(meta, metric):
    """metric, or the file's headline metric when metric is None."""
    return metric if metric is not None else headline(meta)[0]


def levels(meta, metric):
    """[(label, column)] of the reference levels of metric."""
    return [(e.get("label", e["column"]), e["column"]) for e in _spec(meta)["levels"]
            if metric in e.get("metrics", []) and PREFIX + e["column"] in meta["theory_columns"]]


def baselines(meta, metric):
    """[(final metric, label)] drawn beside metric, those the file has."""
    return [(e["final"], e.get("label", e["final"])) for e in _spec(meta)["baselines"]
            if metric in e.get("metrics", []) and e.get("final") in meta["final_metrics"]]


def marks(meta, axis):
    """[(label, column)] of the positions marked on the axis of parameter `axis`."""
    return [(e.get("label", e["column"]), e["column"]) for e in _spec(meta)["marks"]
            if e.get("axis") == axis and PREFIX + e["column"] in meta["theory_columns"]]


def value(rows, column):
    """(value, note) of a theory column over the tasks in rows: the value when it is the same
    finite number for all of them; else None, with a note saying why ("" when the line applies
    to none of them, which needs no word)."""
    name = PREFIX + column
    if name not in rows or not len(rows):
        return None, ""
    v = rows[name].to_numpy(dtype=float)
    finite = v[np.isfinite(v)]
    if not len(finite):
        return None, ""
    if len(finite) < len(v):
        return None, "applies to some of the tasks only"
    if np.all(finite == finite[0]):
        return float(finite[0]), ""
    return None, "differs between the tasks shown"


def values_along(rows, column, axis):
    """{value of axis: theory value} when the column is constant within each value of axis (a
    mark that moves with another parameter, such as P = D(D+1) over D); None otherwise."""
    out = {}
    for a, g in rows.groupby(axis, sort=True):
        v, _ = value(g, column)
        if v is None:
            return None
        out[a] = v
    return out or None


def baseline_mean(rows, name):
    """Mean of a baseline final metric over the done tasks in rows (NaN when undefined)."""
    done = rows[rows["status"] == "done"][name].to_numpy(dtype=float)
    done = done[np.isfinite(done)]
    return float(np.mean(done)) if len(done) else np.nan
