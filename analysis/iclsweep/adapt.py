"""`adapt`: locate a boundary (a crossing of a level, or a peak) along one axis to a tolerance,
with a fraction of the tasks of a dense grid.

Round 0 runs the sweep file as it is (`iclsweep run SWEEP.yaml -o OUT.h5 --resume`, through any
launcher, or as a Slurm chain: `slurm/submit SWEEP.yaml -o OUT.h5 OPTIONS`, waited for until no job
of the chain is left in the queue, then checked complete with `iclsweep status`). Each later
round reads the file, locates the crossing or peak of every group of the other axes with its 95%
interval (threshold.locations: replicates and interpolation), and, where
an interval is wider than tol times its location, adds `points` values inside the grid interval(s)
that bracket it (refine.new_values); the grown sweep is written beside the file
(OUT.h5.round<k>.yaml) and run into the same file with --resume, which keeps every finished task
(task identities do not change when an axis grows) and trains only the new ones. From round 1
on, the refined axis and the axes that define groups are written as one zip group that lists the
points (each group gets new values only where its own boundary is), so a group already located
costs nothing more. The file is a
valid result file after every round. It stops when every interval is narrow enough, when the
next round would take the file past `budget` tasks, or after `rounds` rounds.

Stopping between rounds (or inside one: the engine's own stop) and running the same command again
goes on from the file: its own sweep (the last round's) is run with --resume first.

Workload: a few rounds of tens of tasks; each round's analysis takes about a second, the tasks
take what they take.
"""
from __future__ import annotations

import os
import re
import shlex
import subprocess
import time
from dataclasses import dataclass, field

import numpy as np
import yaml

from . import reader, refine, scales, select, table, threshold


@dataclass
class Result:
    """What adapt found: the last round's locations (one row per group), the rounds run, the
    tasks in the file, whether every interval is narrower than tol, and why it stopped."""
    locations: object
    rounds: int
    tasks: int
    converged: bool
    stopped: str
    tol: float
    written: list = field(default_factory=list)


def _run(program, launcher, sweep, output, log):
    cmd = shlex.split(launcher) + [program, "run", sweep, "-o", output, "--resume",
                                   "--progress", "none"]
    log("adapt: " + " ".join(shlex.quote(c) for c in cmd))
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} exited {p.returncode}: "
                           f"{(p.stderr or p.stdout).strip()[-800:]}")


# slurm/submit of the repository this package sits in (or $ICLSWEEP_SUBMIT).
SUBMIT = os.environ.get("ICLSWEEP_SUBMIT") or os.path.join(
    os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "slurm", "submit")


def _sh(cmd):
    p = subprocess.run(cmd, capture_output=True, text=True)
    return p.returncode, (p.stdout + p.stderr).strip()


def _chain_jobs(comment):
    """The ids of the queued or running jobs whose comment is the chain's."""
    rc, out = _sh(["squeue", "-h", "-o", "%i %k"])
    if rc != 0:
        raise RuntimeError(f"squeue failed while waiting for the chain: {out[-400:]}")
    rows = [ln.split() for ln in out.splitlines()]
    return [r[0] for r in rows if len(r) == 2 and r[1] == comment]


def _submit(program, options, submit, sweep, output, log, poll):
    """Runs one round as a Slurm chain: submits it with slurm/submit, waits until no job of the
    chain is queued or running (its jobs carry one comment, submit's mark of the output), and
    checks that the file is complete; a chain that ended with work left is an error naming its log."""
    if not os.access(submit, os.X_OK):
        raise RuntimeError(f"{submit}: no slurm/submit there (set ICLSWEEP_SUBMIT to the "
                           "repository's slurm/submit)")
    cmd = [submit, sweep, "-o", output] + shlex.split(options)
    if os.sep in program:
        cmd += ["--bin", os.path.abspath(program)]
    log("adapt: " + " ".join(shlex.quote(c) for c in cmd))
    rc, out = _sh(cmd)
    job = re.search(r"^submit: job (\d+)", out, re.M)
    if rc != 0 or not job:
        raise RuntimeError(f"{' '.join(cmd)} exited {rc}: {out[-800:]}")
    rc, comment = _sh(["squeue", "-h", "-t", "all", "-j", job.group(1), "-o", "%k"])
    comment = comment.splitlines()[0].strip() if rc == 0 and comment else ""
    if not comment.startswith("iclsweep-"):
        raise RuntimeError(f"job {job.group(1)} is not in the queue with submit's mark: {comment[-200:]}")
    log(f"adapt: waiting for job {job.group(1)} and its continuations")
    while _chain_jobs(comment):
        time.sleep(poll)
    rc, text = _sh([program, "status", output])
    if rc != 0:
        logs = re.search(r"log (\S+)", out)
        raise RuntimeError(f"the Slurm chain of {sweep} ended with the file not complete (status "
                           f"exit {rc}; its log: {logs.group(1) if logs else 'beside the output'}): "
                           f"{text[-400:]}")


def width(row):
    """The interval's width relative to its location (inf without one)."""
    if not np.isfinite(row["location"]) or not np.isfinite(row["ci_lo"]) or row["location"] == 0:
        return np.inf
    return (row["ci_hi"] - row["ci_lo"]) / abs(row["location"])


def _gaps(row, existing):
    """The grid intervals to refine for one group's location: those between its grid values
    inside the hull of its bracket and its interval."""
    lo, hi = row["bracket_lo"], row["bracket_hi"]
    if not (np.isfinite(lo) and np.isfinite(hi)):
        return []
    if np.isfinite(row["ci_lo"]):
        lo, hi = min(lo, row["ci_lo"]), max(hi, row["ci_hi"])
    inside = [x for x in sorted(existing) if lo <= x <= hi]
    return [(a, b) for a, b in zip(inside, inside[1:]) if b > a]


def _points(df, res, along, points, log_axis, integer):
    """The (group values..., along value) points of the next round: every point the file has,
    plus `points` new values of along inside each gap of each group whose interval is too wide.
    Returns (names, list of tuples, number of new points)."""
    others = res.attrs["others"]
    names = others + [along]
    have = [tuple(r) for r in df[names].drop_duplicates().itertuples(index=False)]
    new = []
    for _, row in res[~res["done"]].iterrows():
        rows = df
        for o in others:
            rows = rows[rows[o] == row[o]]
        existing = sorted(rows[along].unique().tolist())
        for v in refine.new_values(_gaps(row, existing), points, log=log_axis, integer=integer,
                                   existing=existing):
            new.append(tuple(row[o] for o in others) + (v,))
    return names, have + new, len(new)


def _plain(v):
    """A value as YAML writes it exactly: Python int/float/str (repr of a float reads back as the
    same double)."""
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, (np.floating,)):
        return float(v)
    if isinstance(v, np.bool_):
        return bool(v)
    return v


def zip_sweep(spec_text, names, pts, header):
    """The sweep YAML spec_text with the parameters names moved out of grid and fixed into one
    zip group that lists the points pts (tuples in the order of names). Task identities do not
    depend on where a value is written, so every point already run keeps its identity and seed."""
    spec = yaml.load(spec_text, Loader=refine._Loader)
    grid = spec.get("grid") or {}
    zips = spec.get("zip") or []
    zips = [zips] if isinstance(zips, dict) else list(zips)
    kept = []
    for z in zips:
        inside = [n for n in z if n in names]
        if inside and len(inside) < len(z):
            raise ValueError(f"zip group {', '.join(z)} mixes the refined axes with others; "
                             f"adapt needs {', '.join(names)} on their own")
        if not inside:
            kept.append(z)
    for n in names:
        grid.pop(n, None)
        (spec.get("fixed") or {}).pop(n, None)
    if grid:
        spec["grid"] = grid
    else:
        spec.pop("grid", None)
    pts = sorted(set(pts))
    kept.append({n: [_plain(p[k]) for p in pts] for k, n in enumerate(names)})
    spec["zip"] = kept if len(kept) > 1 else kept[0]
    body = yaml.dump(spec, Dumper=refine._Dumper, sort_keys=False, width=100,
                     allow_unicode=True)
    return "".join(f"# {h}\n" if h else "#\n" for h in header) + body


def adapt(sweep, *, output, along, metric=None, level=None, peak=False, direction="any",
          tol=0.02, budget=1000, points=3, launcher="", program="iclsweep", rounds=20,
          log=print, n_resamples=1000, slurm=None, submit=SUBMIT, poll=5.0):
    """Runs rounds until every crossing's (or peak's) interval is narrower than tol times its
    location, or the budget (tasks in the file) or rounds are spent. Each round runs through
    launcher, or, when slurm is not None, as a chain of Slurm jobs (slurm/submit with the options
    slurm; submit is the script, poll the seconds between looks at the queue). Returns a Result."""
    if tol <= 0:
        raise ValueError(f"tolerance must be positive, not {tol}")
    if points < 1:
        raise ValueError(f"points per interval must be at least 1, not {points}")
    output = os.fspath(output)
    written = []
    if os.path.exists(output):       # go on from the file's own sweep (the last round's)
        meta = reader.load(output, warn=False).attrs
        current = f"{output}.resume.yaml"
        with open(current, "w", encoding="utf-8") as f:
            f.write(meta["root_attrs"]["sweep"])
        written.append(current)
    else:
        current = os.fspath(sweep)
    res, stopped, by = None, "", None
    for k in range(rounds + 1):
        if slurm is not None:
            _submit(program, slurm, submit, current, output, log, poll)
        else:
            _run(program, launcher, current, output, log)
        df = reader.load(output, warn=False)
        metric = table.metrics_for(df.attrs, [metric] if metric else None)[0]
        lvl = threshold.resolve_level(df.attrs, metric, level, peak, "adapt")
        select.check_axis(df, along, "along")
        res = threshold.locations(df, along, metric, level=lvl, direction=direction, by=by,
                                  n_resamples=n_resamples)
        by = res.attrs["others"]         # the groups of the first round stay the groups
        res["width"] = [width(r) for _, r in res.iterrows()]
        res["done"] = res["width"] < tol
        log(f"adapt: round {k}: {len(df)} tasks; " + "; ".join(
            f"{_group(r, res)} {scales.fmt(r['location'], 4)} "
            f"[{scales.fmt(r['ci_lo'], 4)}, {scales.fmt(r['ci_hi'], 4)}]"
            for _, r in res.iterrows()))
        if res["done"].all():
            stopped = f"every interval is narrower than {tol:g} of its location"
            break
        if not np.isfinite(res["location"]).any():
            stopped = "no crossing in range: nothing to refine"
            break
        if k == rounds:
            stopped = f"{rounds} rounds run"
            break
        log_axis = scales.is_log_spaced(df[along])
        integer = df[along].dtype.kind in "iu"
        names, pts, n_new = _points(df, res, along, points, log_axis, integer)
        if not n_new:
            stopped = "no new value fits between the grid values (integer axis or 6 digits)"
            break
        replicates = int(df.attrs["grid"].get("replicates", 1))
        if len(df) + n_new * replicates > budget:
            stopped = f"the next round would pass the budget of {budget} tasks"
            break
        header = [f"Round {k + 1} of `iclsweep-analyze adapt` along {along}: {n_new} new "
                  f"point(s), listed with the points already run in one zip group.", ""]
        text = zip_sweep(df.attrs["root_attrs"]["sweep"], names, pts, header)
        current = f"{output}.round{k + 1}.yaml"
        with open(current, "w", encoding="utf-8") as f:
            f.write(text)
        written.append(current)
    n = len(reader.load(output, warn=False))
    res.attrs["others"] = res.attrs.get("others", [])
    return Result(res, k, n, bool(res["done"].all()), stopped, tol, written)


def _group(row, res):
    others = res.attrs.get("others", [])
    return (", ".join(f"{o}={scales.fmt(row[o])}" for o in others) + ":") if others else ""


def format_text(result):
    """Per group: the location, its interval and relative width, and the tasks it used."""
    res = result.locations
    cols = [c for c in res.attrs.get("others", [])]
    t = res[cols].copy()
    t["location"] = [scales.fmt(v, 5) for v in res["location"]]
    t["95% interval"] = [f"[{scales.fmt(a, 5)}, {scales.fmt(b, 5)}]"
                         for a, b in zip(res["ci_lo"], res["ci_hi"])]
    t["width"] = [f"{w:.3g}" for w in res["width"]]
    t["tasks"] = res["n_tasks"]
    t["within tol"] = ["yes" if d else "no" for d in res["done"]]
    head = (f"adapt: {result.rounds} refining round(s), {result.tasks} tasks in the file; "
            f"stopped: {result.stopped}")
    return head + "\n" + t.to_string(index=False)
