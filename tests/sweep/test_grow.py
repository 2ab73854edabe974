"""Growing a sweep without rerunning it, and shards: run NEW --from OLD copies every task OLD
finished (same identity) and trains only the rest; --resume with a sweep that grew does the same
in place; shards of a sweep merge into one file. Each result equals a fresh single run of the
sweep, row by row by identity.
Run by hand: ICLSWEEP_BIN=build/iclsweep /usr/bin/python3 -m pytest -q -rs -p no:cacheprovider tests/sweep/test_grow.py"""
import os
import shutil

import h5py
import numpy as np
import pytest

from common import run, run_ok, same_results
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


def check_grown(label, out, old_file, fresh):
    """out holds OLD's finished tasks copied (origin >= 0, attempts as in OLD) and trained only the
    others (origin -1); its results equal a fresh run of NEW."""
    old_keys, old_attempts = keys_and(old_file, "attempts")
    keys, origin, attempts, status = keys_and(out, "origin", "attempts", "status")
    in_old = np.isin(keys, old_keys)
    assert ((origin >= 0) == in_old).all(), f"{label}: exactly OLD's tasks are copied: {origin}"
    assert (status == 2).all(), f"{label}: every task done"
    where = {k: a for k, a in zip(old_keys, old_attempts)}
    assert all(attempts[i] == where[k] for i, k in enumerate(keys) if in_old[i]), f"{label}: copied attempts kept"
    assert (attempts[~in_old] == 1).all(), f"{label}: the new tasks trained once"
    diffs = same_results(out, fresh)
    assert not diffs, f"{label}: equals a fresh run of the grown sweep: {diffs}"


@pytest.fixture(scope="module")
def old_file(shared):
    """OLD run once."""
    return run_ok(2, shared.file("old.yaml", OLD), shared.file("old.h5"), "OLD")


@pytest.fixture(scope="module")
def fresh(shared):
    """fresh(label): the sweep GROWN[label] and a fresh single run of it (run once per module)."""
    made = {}

    def get(label):
        if label not in made:
            new = shared.file(f"{label}.yaml", GROWN[label])
            made[label] = new, run_ok(2, new, shared.file(f"{label}_fresh.h5"), f"{label}: fresh run")
        return made[label]
    return get


@pytest.mark.parametrize("label", list(GROWN))
def test_grow_from(work, old_file, fresh, label):
    new, fresh_file = fresh(label)
    rc, log = run(1, "plan", new, "--from", old_file, "--list", "0")
    assert rc == 0 and "16 of" in log and "would be copied" in log, f"{label}: plan --from: {log}"
    out = work.file(f"{label}.h5")
    rc, log = run(3, "run", new, "-o", out, "--from", old_file)
    assert rc == 0 and "copied 16 finished tasks" in log, f"{label}: run --from: {rc} {log[-500:]}"
    check_grown(label, out, old_file, fresh_file)


@pytest.fixture(scope="module")
def in_place(shared, fresh):
    """OLD run, kept aside, then resumed in place with GROWN["axis"]:
    (the grown file, the kept first run, the resume's exit code and output)."""
    sweep = shared.file("inplace.yaml", OLD)
    out = run_ok(2, sweep, shared.file("inplace.h5"), "in place: first run")
    kept = shared.file("inplace_old.h5")
    shutil.copyfile(out, kept)
    grown = shared.file("inplace_grown.yaml", GROWN["axis"])
    rc, log = run(2, "run", grown, "-o", out, "--resume")
    return out, kept, rc, log


def test_resume_grows_in_place(in_place, fresh):
    out, kept, rc, log = in_place
    assert rc == 0 and "grew" in log, f"--resume of a grown sweep grows the file: {rc} {log[-400:]}"
    assert not os.path.exists(out + ".growing"), "the grown file took the old one's place"
    check_grown("in place", out, kept, fresh("axis")[1])


def test_shrunk_sweep_refused(work, in_place):
    """A sweep that drops finished tasks is not a superset: refused, the file untouched."""
    out = in_place[0]
    shrunk = work.file("shrunk.yaml", OLD.replace("lr: [1, 5]", "lr: [1]"))
    before = open(out, "rb").read()
    rc, log = run(1, "run", shrunk, "-o", out, "--resume", "--quiet")
    assert rc == 2 and "different sweep" in log, f"a shrunk sweep is refused: {rc} {log[-300:]}"
    assert open(out, "rb").read() == before, "the refused file is untouched"


def test_from_another_seed_refused(work, in_place):
    """Another seed: its tasks are other tasks; neither grown nor copied."""
    reseeded = work.file("reseeded.yaml", GROWN["axis"].replace("seed: 7", "seed: 9"))
    rc, log = run(1, "run", reseeded, "-o", work.file("other.h5"), "--from", in_place[1], "--quiet")
    assert rc == 2 and "sweep seed" in log, f"--from another seed is refused: {rc} {log[-300:]}"


@pytest.fixture(scope="module")
def shards(shared, fresh):
    """GROWN["replicates"] (32 tasks) run as 3 shards: (the shard files, a single run of it)."""
    sweep, single = fresh("replicates")
    parts = []
    for k in (1, 2, 3):
        part = shared.file(f"part{k}.h5")
        rc, log = run(2, "run", sweep, "-o", part, "--shard", f"{k}/3", "--quiet")
        assert rc == 0, f"shard {k}/3: {rc} {log[-300:]}"
        parts.append(part)
    return parts, single


def test_shards_cover_the_sweep(shards):
    tasks = [set(h5py.File(p, "r")["task"][:].tolist()) for p in shards[0]]
    assert sum(len(t) for t in tasks) == 32 and set.union(*tasks) == set(range(32)), f"shards cover the sweep: {tasks}"
    assert max(len(t) for t in tasks) - min(len(t) for t in tasks) <= 1, f"balanced: {[len(t) for t in tasks]}"


def test_merge(work, shards):
    parts, single = shards
    out = work.file("merged.h5")
    rc, log = run(1, "merge", *parts[:2], "-o", out)
    assert rc == 3 and "not finished in any shard" in log, f"an incomplete merge says so (exit 3): {rc} {log[-300:]}"
    rc, log = run(1, "merge", *parts, "-o", out, "--force")
    assert rc == 0 and "merged all 32 tasks" in log, f"merge: {rc} {log[-300:]}"
    diffs = same_results(out, single)
    assert not diffs, f"merged shards equal a single run: {diffs}"


def test_shards_of_two_sweeps_refused(work, shards):
    other = work.file("other_sweep.yaml", GROWN["axis"])
    stray = work.file("stray.h5")
    rc, log = run(1, "run", other, "-o", stray, "--shard", "1/2", "--quiet")
    rc, log = run(1, "merge", shards[0][0], stray, "-o", work.file("bad.h5"))
    assert rc == 2 and "different sweeps" in log, f"shards of two sweeps are refused: {rc} {log[-300:]}"
