"""`table`: final metrics summarized over replicates (or any grouping), as CSV, LaTeX (booktabs)
or Markdown, and on a terminal."""
from __future__ import annotations

import os

import pandas as pd

from . import reader, scales, select, stats, theory

FORMATS = {"csv": "CSV", "tex": "LaTeX (booktabs)", "md": "Markdown"}


def metrics_for(meta, metrics):
    """The metrics a command works on: those named ('all' for every final metric), else the
    file's headline metric."""
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
    stats.summarize (one row per group and metric) with attrs as load(); writes it when output is
    given, in the format its extension names (.csv, .tex, .md)."""
    df = reader.load(paths, warn=False)
    df, notes = select.apply_where(df, select.parse_where(where))
    meta = df.attrs
    by = list(meta["grid_params"]) if by is None else list(by)
    for b in by:
        select.check_axis(df, b, "grouping by")
    result = stats.summarize(df, by, metrics_for(meta, metrics), level=level)
    result.attrs = dict(meta, where=notes, by=by)
    if output:
        write(result, output)
    return result


def write(result, output, kind=None):
    """Writes the table to output as CSV (long form, reals to 17 digits so they read back
    exactly), LaTeX or Markdown (one table per metric, 4 digits), by kind or the extension."""
    output = os.fspath(output)
    kind = kind or os.path.splitext(output)[1].lstrip(".").lower()
    if kind not in FORMATS:
        raise ValueError(f"{output}: a table is written as "
                         + ", ".join(f".{k} ({v})" for k, v in FORMATS.items())
                         + "; name the file with one of these extensions")
    if os.path.splitext(output)[1].lstrip(".").lower() != kind:
        raise ValueError(f"{output}: a {FORMATS[kind]} table goes into a .{kind} file")
    if kind == "csv":
        result.to_csv(output, index=False, float_format="%.17g")
        return
    text = latex(result) if kind == "tex" else markdown(result)
    with open(output, "w", encoding="utf-8") as f:
        f.write(text)


def _ci(lo, hi):
    return "" if pd.isna(lo) else f"[{lo:.4g}, {hi:.4g}]"


def _display(result):
    """[(metric, DataFrame of display strings)]: groups as rows, counts of tasks left out only
    where some are."""
    by = result.attrs.get("by", [])
    out = []
    for metric, g in result.groupby("metric", sort=False):
        t = pd.DataFrame({b: [scales.fmt(v, 4) if not isinstance(v, str) else v for v in g[b]]
                          for b in by}, index=g.index)
        t["n"] = g["n"]
        t["mean"] = g["mean"].map(lambda v: f"{v:.4g}")
        t["95% CI (bootstrap)"] = [_ci(a, b) for a, b in zip(g["boot_lo"], g["boot_hi"])]
        t["95% CI (t)"] = [_ci(a, b) for a, b in zip(g["t_lo"], g["t_hi"])]
        t["std"] = g["std"].map(lambda v: "" if pd.isna(v) else f"{v:.3g}")
        t["min"] = g["min"].map(lambda v: f"{v:.4g}")
        t["max"] = g["max"].map(lambda v: f"{v:.4g}")
        for c in [c for c in g.columns if c.startswith("n_") and g[c].any()]:
            t[c[2:]] = g[c]
        out.append((metric, t))
    return out


def format_text(result):
    """The table for a terminal: one block per metric."""
    return "\n\n".join(f"{metric}:\n" + t.to_string(index=False)
                       for metric, t in _display(result))


def _tex(text):
    text = str(text)
    for a, b in (("\\", r"\textbackslash{}"), ("&", r"\&"), ("%", r"\%"), ("$", r"\$"),
                 ("#", r"\#"), ("_", r"\_"), ("{", r"\{"), ("}", r"\}"), ("~", r"\~{}"),
                 ("^", r"\^{}")):
        text = text.replace(a, b) if a != "\\" else text.replace(a, "\0")
    return text.replace("\0", r"\textbackslash{}")


def latex(result):
    """One booktabs tabular per metric (\\usepackage{booktabs})."""
    blocks = []
    for metric, t in _display(result):
        cols = list(t.columns)
        align = "".join("l" if c in result.attrs.get("by", []) else "r" for c in cols)
        lines = [f"% {metric}: mean over the done tasks of each group, 95% intervals",
                 r"\begin{tabular}{" + align + "}", r"\toprule",
                 " & ".join(_tex(c) for c in cols) + r" \\", r"\midrule"]
        lines += [" & ".join(_tex(v) for v in row) + r" \\"
                  for row in t.itertuples(index=False)]
        lines += [r"\bottomrule", r"\end{tabular}"]
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks) + "\n"


def markdown(result):
    """One pipe table per metric, under a line naming the metric."""
    blocks = []
    for metric, t in _display(result):
        cols = list(t.columns)
        by = result.attrs.get("by", [])
        lines = [f"**{metric}**", "", "| " + " | ".join(cols) + " |",
                 "|" + "|".join("---" if c in by else "---:" for c in cols) + "|"]
        lines += ["| " + " | ".join(str(v).replace("|", "\\|") for v in row) + " |"
                  for row in t.itertuples(index=False)]
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks) + "\n"
