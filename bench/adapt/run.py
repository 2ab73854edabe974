"""The adapt benchmark (issue 21): tasks `iclsweep-analyze adapt` needs to locate a boundary to
T = 0.02 (relative width of the 95% interval), against a uniform grid of the same resolution, and
the located values against that dense grid's answer.

Cases:
- linattn's test-MSE peak (the interpolation threshold, alpha = (D+1)/D) at D = 10 and D = 20,
  first round bench/adapt/linattn_peak*.yaml (10 alpha values, 4 replicates), --peak;
- the demo's noise boundary (sweeps/demo.yaml: test_err crosses 0.1 along noise, per K).

The dense grid has adapt's finest spacing near each location (in the axis's own terms: linear for
alpha, geometric for noise) over the first round's whole range; its task count is computed. Its
answer is measured on the part of it that decides the location: the dense grid run over a window
around adapt's location, 5% of it either side (the rest of a dense grid does not move a crossing
or an interior peak).

Run from the repository root (a few minutes on 2 cores; writes bench/adapt/out/):
  OPENBLAS_NUM_THREADS=1 PYTHONPATH=analysis /usr/bin/python3 bench/adapt/run.py
"""
import json
import os
import subprocess
import sys

import numpy as np
import yaml

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "analysis"))
from iclsweep import adapt, reader, threshold  # noqa: E402

OUT = os.path.join(ROOT, "bench", "adapt", "out")
BIN = os.environ.get("ICLSWEEP_BIN", os.path.join(ROOT, "build", "iclsweep"))
LAUNCH = os.environ.get("LAUNCHER", "mpirun -np 3 --oversubscribe")
TOL = 0.02

CASES = [
    {"name": "linattn D=10 peak", "sweep": "bench/adapt/linattn_peak.yaml", "along": "alpha",
     "metric": "test_mse", "peak": True, "level": None},
    {"name": "linattn D=20 peak", "sweep": "bench/adapt/linattn_peak_d20.yaml", "along": "alpha",
     "metric": "test_mse", "peak": True, "level": None},
    {"name": "demo noise boundary", "sweep": "sweeps/demo.yaml", "along": "noise",
     "metric": "test_err", "peak": False, "level": 0.1},
]


def finest(values, lo, hi, log):
    """The smallest step between neighbouring values inside [lo, hi] (a ratio on log axes)."""
    v = np.array(sorted(x for x in values if lo <= x <= hi))
    if len(v) < 2:
        return np.nan
    return float(np.min(v[1:] / v[:-1]) if log else np.min(np.diff(v)))


def dense_values(lo, hi, step, log):
    if log:
        n = int(np.ceil(np.log(hi / lo) / np.log(step))) + 1
        return np.geomspace(lo, hi, n)
    n = int(np.ceil((hi - lo) / step)) + 1
    return np.linspace(lo, hi, n)


def fitted_crossing(d, along, metric, level, log):
    """Where a straight line fitted (least squares, in the axis's own scale) to the mean of metric
    over the dense window crosses level: an estimate that uses every point of the window. The
    window's mean curve, with its replicate noise, crosses the level several times, and the first
    of them (what a threshold reads off a grid) is biased towards the start of the window."""
    m = d.groupby(along)[metric].mean()
    x = np.log(m.index.to_numpy(float)) if log else m.index.to_numpy(float)
    a, b = np.polyfit(x, m.to_numpy(float), 1)
    v = (level - b) / a
    return float(np.exp(v) if log else v)


def run_case(case):
    slug = case["name"].replace(" ", "_").replace("=", "")
    out = os.path.join(OUT, slug + ".h5")
    for f in os.listdir(OUT):
        if f.startswith(slug + "."):
            os.remove(os.path.join(OUT, f))
    sweep = os.path.join(ROOT, case["sweep"])
    res = adapt.adapt(sweep, output=out, along=case["along"], metric=case["metric"],
                      level=case["level"], peak=case["peak"], tol=TOL, budget=2000,
                      launcher=LAUNCH, program=BIN, log=lambda s: print(s, flush=True))
    df = reader.load(out, warn=False)
    spec = yaml.safe_load(open(sweep))
    reps = int(spec.get("replicates", 1))
    along = case["along"]
    log = along == "noise"
    lo_all, hi_all = float(df[along].min()), float(df[along].max())
    others = res.locations.attrs["others"]
    rows = []
    groups = res.locations.to_dict("records")
    steps = []
    for g in groups:
        sub = df
        for o in others:
            sub = sub[sub[o] == g[o]]
        steps.append(finest(sub[along].unique(), min(g["bracket_lo"], g["ci_lo"]),
                            max(g["bracket_hi"], g["ci_hi"]), log))
    step = min(steps)
    n_dense = len(dense_values(lo_all, hi_all, step, log))
    n_groups = max(1, len(groups))
    dense_tasks = n_dense * reps * n_groups
    # the dense grid's answer: it run over a window around each group's location (5% of it
    # either side: wide enough that replicate noise does not hide the crossing), as one zip
    # sweep of the points
    pts = []
    for g, gstep in zip(groups, steps):
        wlo, whi = g["location"] * 0.95, g["location"] * 1.05
        wlo = max(wlo, lo_all)
        for v in dense_values(wlo, min(whi, hi_all), gstep, log):
            pts.append(tuple(g[o] for o in others) + (float(f"{v:.6g}"),))
    dtext = adapt.zip_sweep(open(sweep).read(), others + [along], pts, ["dense window", ""])
    dyaml = os.path.join(OUT, slug + ".dense.yaml")
    dout = os.path.join(OUT, slug + ".dense.h5")
    with open(dyaml, "w") as f:
        f.write(dtext)
    subprocess.run(LAUNCH.split() + [BIN, "run", dyaml, "-o", dout, "--force", "--progress",
                                     "none"], check=True, capture_output=True)
    dense_df = reader.load(dout, warn=False)
    dres = threshold.locations(dense_df, along, case["metric"], level=case["level"], by=others,
                               n_resamples=200)
    for g in groups:
        d, dd = dres, dense_df
        for o in others:
            d, dd = d[d[o] == g[o]], dd[dd[o] == g[o]]
        dloc = float(d["location"].iloc[0])
        row = {**{o: g[o] for o in others}, "adapt": g["location"], "ci_lo": g["ci_lo"],
               "ci_hi": g["ci_hi"], "width": g["width"], "dense": dloc,
               "rel_diff": abs(g["location"] - dloc) / abs(dloc), "tasks_group": g["n_tasks"]}
        if not case["peak"]:
            fit = fitted_crossing(dd, along, case["metric"], case["level"], log)
            row.update(dense_fit=fit, rel_diff_fit=abs(g["location"] - fit) / abs(fit))
        rows.append(row)
    # the coarsest uniform grid whose own interval could meet T (no replicate noise): a crossing's
    # bracket (one step) or a peak's (two steps) narrower than T times the location
    locs = [abs(g["location"]) for g in groups]
    need = (1 + TOL if log else TOL * min(locs)) if not case["peak"] else \
        ((1 + TOL) ** 0.5 if log else TOL * min(locs) / 2)
    n_min = len(dense_values(lo_all, hi_all, need, log))
    values = [p[-1] for p in pts]
    return {"case": case["name"], "rounds": res.rounds, "adapt_tasks": res.tasks,
            "converged": res.converged, "stopped": res.stopped,
            "finest_step": step, "dense_values": n_dense, "dense_tasks": dense_tasks,
            "ratio": dense_tasks / res.tasks, "dense_window_points": len(values),
            "coarsest_dense_values": n_min, "coarsest_dense_tasks": n_min * reps * n_groups,
            "coarsest_ratio": n_min * reps * n_groups / res.tasks, "groups": rows}


def main():
    """Runs the cases named on the command line (a word of their names), else all; results go
    to out/results.json, merged with the cases run before."""
    os.makedirs(OUT, exist_ok=True)
    chosen = [c for c in CASES if not sys.argv[1:] or any(a in c["name"] for a in sys.argv[1:])]
    path = os.path.join(OUT, "results.json")
    old = {r["case"]: r for r in json.load(open(path))} if os.path.exists(path) else {}
    for c in chosen:
        old[c["name"]] = run_case(c)
        results = [old[c["name"]] for c in CASES if c["name"] in old]
        with open(path, "w") as f:
            json.dump(results, f, indent=1, default=float)
    for r in results:
        print(f"\n{r['case']}: adapt {r['adapt_tasks']} tasks in {r['rounds']} rounds "
              f"({r['stopped']}); dense grid at step {r['finest_step']:.4g}: "
              f"{r['dense_values']} values, {r['dense_tasks']} tasks: {r['ratio']:.1f}x; the "
              f"coarsest uniform grid that could meet T: {r['coarsest_dense_tasks']} tasks: "
              f"{r['coarsest_ratio']:.1f}x")
        for g in r["groups"]:
            print("   ", {k: (round(v, 5) if isinstance(v, float) else v) for k, v in g.items()})


if __name__ == "__main__":
    main()
