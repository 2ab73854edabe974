"""`table`: final metrics summarized over replicates (or any grouping), as CSV and on a terminal."""
from __future__ import annotations

import pandas as pd

from . import reader, select, stats, theory


def metrics_for(meta, metrics):
    """The metrics a command works on: those named ('all' for every final metric), else the
    model's headline metric."""
    if not metrics:
        return [theory.headline(meta)[0]]
    if list(metrics) == ["all"]:
        return list(meta["final_metrics"])
    for m in metrics:
        select.check_metric(meta, m)
    return list(metrics)


def table(paths, *, by=None, metrics=None, where=None, output=None, level=stats.LEVEL):
    """Summary statistics of final metrics per group of `by` (default: the grid's parameters, so
    groups are grid points and statistics run over replicates). Returns the long table of
    stats.summarize (one row per group and metric) with attrs as load(); writes it as CSV when
    output is given."""
    df = reader.load(paths, warn=False)
    df, notes = select.apply_where(df, select.parse_where(where))
    meta = df.attrs
    by = list(meta["grid_params"]) if by is None else list(by)
    for b in by:
        select.check_axis(df, b, "--by")
    result = stats.summarize(df, by, metrics_for(meta, metrics), level=level)
    result.attrs = dict(meta, where=notes, by=by)
    if output:
        result.to_csv(output, index=False, float_format="%.17g")
    return result


def _ci(lo, hi):
    return "" if pd.isna(lo) else f"[{lo:.4g}, {hi:.4g}]"


def format_text(result):
    """The table for a terminal: one block per metric, groups as rows, counts of tasks left out
    only where some are."""
    by = result.attrs.get("by", [])
    blocks = []
    for metric, g in result.groupby("metric", sort=False):
        t = g[by].copy() if by else pd.DataFrame(index=g.index)
        t["n"] = g["n"]
        t["mean"] = g["mean"].map(lambda v: f"{v:.4g}")
        t["95% CI (bootstrap)"] = [_ci(a, b) for a, b in zip(g["boot_lo"], g["boot_hi"])]
        t["95% CI (t)"] = [_ci(a, b) for a, b in zip(g["t_lo"], g["t_hi"])]
        t["std"] = g["std"].map(lambda v: "" if pd.isna(v) else f"{v:.3g}")
        t["min"] = g["min"].map(lambda v: f"{v:.4g}")
        t["max"] = g["max"].map(lambda v: f"{v:.4g}")
        for c in [c for c in g.columns if c.startswith("n_") and g[c].any()]:
            t[c[2:]] = g[c]
        blocks.append(f"{metric}:\n" + t.to_string(index=False))
    return "\n\n".join(blocks)
