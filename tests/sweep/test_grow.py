"""Growing a sweep without rerunning it, and shards: run NEW --from OLD copies every task OLD
finished (same identity) and trains only the rest; --resume with a sweep that grew does the same
in place; shards of a sweep merge into one file. Each result equals a fresh single run of the
sweep, row by row by identity.
Run by hand: ICLSWEEP_BIN=build/iclsweep /usr/bin/python3 tests/sweep/test_grow.py"""
import os

import h5py
import numpy as np

from common import Workdir, check, report, run, same_results
from sweeps import TINY

OLD = TINY + """\
zip:
  L_short: [2, 4]
  n_probe: [8, 16]
"""

# Each grows OLD one way; the refined axis is what `iclsweep-analyze refine` writes: every value
# already run plus new ones inside an interval.
GROWN = {
    "axis": OLD.replace("noise: [0.01, 0.1]", "noise: [0.01, 0.1, 0.3]"),
    "replicates": OLD.replace("replicates: 2", "replicates: 4"),
    "zip_point": OLD.replace("L_short: [2, 4]", "L_short: [2, 4, 6]").replace("n_probe: [8, 16]", "n_probe: [8, 16, 4]"),
    "refined": OLD.replace("lr: [1, 5]", "lr: [1, 2, 3, 5]"),
}


def keys_and(path, *cols):
    with h5py.File(path, "r") as f:
        return [f["tasks/" + c][:] for c in ("key",) + cols]


def check_grown(label, new, out, old_file, fresh):
    """out holds OLD's finished tasks copied (origin >= 0, attempts as in OLD) and trained only the
    others (origin -1); its results equal a fresh run of NEW."""
    old_keys, old_attempts = keys_and(old_file, "attempts")
    keys, origin, attempts, status = keys_and(out, "origin", "attempts", "status")
    in_old = np.isin(keys, old_keys)
    check(((origin >= 0) == in_old).all(), f"{label}: exactly OLD's tasks are copied: {origin}")
    check((status == 2).all(), f"{label}: every task done")
    where = {k: a for k, a in zip(old_keys, old_attempts)}
    check(all(attempts[i] == where[k] for i, k in enumerate(keys) if in_old[i]), f"{label}: copied attempts kept")
    check((attempts[~in_old] == 1).all(), f"{label}: the new tasks trained once")
    diffs = same_results(out, fresh)
    check(not diffs, f"{label}: equals a fresh run of the grown sweep: {diffs}")


def grow_from(w, old_file):
    for label, text in GROWN.items():
        new = w.file(f"{label}.yaml", text)
        fresh = w.file(f"{label}_fresh.h5")
        rc, log = run(2, "run", new, "-o", fresh, "--quiet")
        check(rc == 0, f"{label}: fresh run: {log}")
        rc, log = run(1, "plan", new, "--from", old_file, "--list", "0")
        check(rc == 0 and "16 of" in log and "would be copied" in log, f"{label}: plan --from: {log}")
        out = w.file(f"{label}.h5")
        rc, log = run(3, "run", new, "-o", out, "--from", old_file)
        check(rc == 0 and "copied 16 finished tasks" in log, f"{label}: run --from: {rc} {log[-500:]}")
        check_grown(label, new, out, old_file, fresh)


def grow_in_place(w, old_text):
    sweep = w.file("inplace.yaml", old_text)
    out = w.file("inplace.h5")
    rc, log = run(2, "run", sweep, "-o", out, "--quiet")
    check(rc == 0, f"in place: first run: {log}")
    kept = w.file("inplace_old.h5")
    with open(out, "rb") as a, open(kept, "wb") as b:
        b.write(a.read())
    grown = w.file("inplace_grown.yaml", GROWN["axis"])
    rc, log = run(2, "run", grown, "-o", out, "--resume")
    check(rc == 0 and "grew" in log, f"--resume of a grown sweep grows the file: {rc} {log[-400:]}")
    check(not os.path.exists(out + ".growing"), "the grown file took the old one's place")
    fresh = w.file("axis_fresh.h5")
    check_grown("in place", grown, out, kept, fresh)
    # A sweep that drops finished tasks is not a superset: refused, the file untouched.
    shrunk = w.file("shrunk.yaml", old_text.replace("lr: [1, 5]", "lr: [1]"))
    before = open(out, "rb").read()
    rc, log = run(1, "run", shrunk, "-o", out, "--resume", "--quiet")
    check(rc == 2 and "different sweep" in log, f"a shrunk sweep is refused: {rc} {log[-300:]}")
    check(open(out, "rb").read() == before, "the refused file is untouched")
    # Another seed: its tasks are other tasks; neither grown nor copied.
    reseeded = w.file("reseeded.yaml", GROWN["axis"].replace("seed: 7", "seed: 9"))
    rc, log = run(1, "run", reseeded, "-o", w.file("other.h5"), "--from", kept, "--quiet")
    check(rc == 2 and "sweep seed" in log, f"--from another seed is refused: {rc} {log[-300:]}")


def shards(w):
    sweep = w.file("shard.yaml", GROWN["replicates"])
    fresh = w.file("shard_fresh.h5")
    rc, log = run(2, "run", sweep, "-o", fresh, "--quiet")
    check(rc == 0, f"shards: the single run: {log}")
    parts = []
    for k in (1, 2, 3):
        part = w.file(f"part{k}.h5")
        rc, log = run(2, "run", sweep, "-o", part, "--shard", f"{k}/3", "--quiet")
        check(rc == 0, f"shard {k}/3: {rc} {log[-300:]}")
        parts.append(part)
    tasks = [set(h5py.File(p, "r")["task"][:].tolist()) for p in parts]
    check(sum(len(t) for t in tasks) == 32 and set.union(*tasks) == set(range(32)), f"shards cover the sweep: {tasks}")
    check(max(len(t) for t in tasks) - min(len(t) for t in tasks) <= 1, f"balanced: {[len(t) for t in tasks]}")
    out = w.file("merged.h5")
    rc, log = run(1, "merge", *parts[:2], "-o", out)
    check(rc == 3 and "not finished in any shard" in log, f"an incomplete merge says so (exit 3): {rc} {log[-300:]}")
    rc, log = run(1, "merge", *parts, "-o", out, "--force")
    check(rc == 0 and "merged all 32 tasks" in log, f"merge: {rc} {log[-300:]}")
    diffs = same_results(out, fresh)
    check(not diffs, f"merged shards equal a single run: {diffs}")
    other = w.file("other_sweep.yaml", GROWN["axis"])
    stray = w.file("stray.h5")
    rc, log = run(1, "run", other, "-o", stray, "--shard", "1/2", "--quiet")
    rc, log = run(1, "merge", parts[0], stray, "-o", w.file("bad.h5"))
    check(rc == 2 and "different sweeps" in log, f"shards of two sweeps are refused: {rc} {log[-300:]}")


with Workdir() as w:
    old = w.file("old.yaml", OLD)
    old_file = w.file("old.h5")
    rc, log = run(2, "run", old, "-o", old_file, "--quiet")
    check(rc == 0, f"OLD: {log}")
    grow_from(w, old_file)
    grow_in_place(w, OLD)
    shards(w)
report("test_grow")
