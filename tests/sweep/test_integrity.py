"""Integrity of result files (issue 20): one writer per file whatever its name, no write outside the
file, no links in a result file, every dataset's type checked in its whole layout, creations that
never finished, --force --from the output itself, OUT.h5.growing, damaged coordinates, and the
checksum of every finished row (verify, status, resume, --from, merge). Each case was reproduced
on the build before the fix (a hang, a write into another file, a silent rounding, a false
"complete"); each test pins the answer now.
Run by hand: ICLSWEEP_BIN=build/iclsweep ICLSWEEP_SRC=. /usr/bin/python3 -m pytest -q -p no:cacheprovider tests/sweep/test_integrity.py
"""
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys

import h5py
import numpy as np
import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hostile  # noqa: E402
from common import ENV, SRC, command, run, same_results, states, wait_for_done  # noqa: E402
from sweeps import LONGER, TINY  # noqa: E402

sys.path.insert(0, os.path.join(os.path.abspath(SRC), "analysis"))
import iclsweep  # noqa: E402  (the Python reader: the same cases, the same answers)

GROWN = TINY.replace("lr: [1, 5]", "lr: [1, 2, 5]")


def digest(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def limited(np_, *args, timeout=60):
    """(exit code, output) of iclsweep ARGS on np_ ranks; a hang fails the test (and is killed)."""
    p = subprocess.Popen(command(np_, *args), env=ENV, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         text=True, errors="replace", start_new_session=True)
    try:
        out, _ = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        p.communicate()
        pytest.fail(f"iclsweep {' '.join(args)} hung (killed after {timeout} s)")
    return p.returncode, out


@pytest.fixture(scope="module")
def files(tiny_corpus):
    """The tiny sweep, a finished file of it (valid.h5) and the crafted corpus made from it."""
    return tiny_corpus


@pytest.fixture
def case_dir(tmp_path, files):
    """A folder with the victim of the external links and a FIFO that one of them names."""
    shutil.copyfile(files["valid"], tmp_path / "victim.h5")
    os.mkfifo(tmp_path / "fifo")
    return tmp_path


# ---- crafted files: links, float layouts, enums, coordinates, unfinished creations --------------

def damaged_row(case):
    """The row a damaged-row case changed ("row 3" -> 3), or None."""
    words = hostile.INTEGRITY_CASES[case][3]
    return int(words.split()[1]) if words.startswith("row ") else None


@pytest.mark.parametrize("case", sorted(hostile.INTEGRITY_CASES))
def test_crafted_file(case, files, case_dir):
    """status, verify, the Python reader and run --resume on each crafted file: the answer of the
    case, never a crash, a hang, a write into another file, or a damaged row taken for a result."""
    _, want_status, want_resume, words = hostile.INTEGRITY_CASES[case]
    path = str(case_dir / f"{case}.h5")
    shutil.copyfile(files["corpus"][case], path)
    victim = str(case_dir / "victim.h5")
    before, victim_before = digest(path), digest(victim)
    rc, out = limited(1, "status", path)
    assert rc == want_status, f"status: {out}"
    if want_status == 2:
        assert path in out and words in out, out
    row = damaged_row(case)
    if row is not None:
        assert "damaged" in out, out
        rc, out = limited(1, "verify", path)
        assert rc == 2 and f"row {row} (" in out and out.count(": row ") == 1, f"verify: {out}"
        df = iclsweep.load(path, warn=False)
        assert df.attrs["damaged_rows"] == {path: [row]} and df["status"].iloc[row] == "failed"
    elif want_status == 2:
        with pytest.raises(iclsweep.NotAnIclsweepFile, match=words):
            iclsweep.load(path, warn=False)
    rc, out = limited(1, "run", files["sweep"], "-o", path, "--resume", "--quiet")
    assert rc == want_resume, f"resume: {out}"
    if want_resume == 2:
        assert words in out and "error:" in out, out
        assert digest(path) == before, "a refused file is left as it was"
    else:
        assert not same_results(path, files["valid"]), "the resume finished the file as a fresh run would"
        rc, out = limited(1, "verify", path)
        assert rc == 0 and "all 8 finished rows match" in out, out
    assert digest(victim) == victim_before, "no byte of another file changed"


@pytest.mark.parametrize("case", ["final_external_link", "fifo_external_link", "final_narrow_float",
                                  "status_swapped_enum", "log_point_values"])
def test_crafted_file_many_ranks(case, files, case_dir):
    """A refusal by rank 0 reaches every rank: exit 2 on 3 ranks, no hang."""
    path = str(case_dir / f"{case}.h5")
    shutil.copyfile(files["corpus"][case], path)
    rc, out = limited(3, "run", files["sweep"], "-o", path, "--resume", "--quiet")
    assert rc == 2 and hostile.INTEGRITY_CASES[case][3] in out, out


def test_external_link_to_fifo_in_merge_and_from(files, case_dir):
    """merge and --from read the file they copy from through the same checks: no hang on a FIFO."""
    path = str(case_dir / "fifo_external_link.h5")
    shutil.copyfile(files["corpus"]["fifo_external_link"], path)
    rc, out = limited(1, "merge", path, "-o", str(case_dir / "merged.h5"))
    assert rc == 2 and "external link" in out, out
    rc, out = limited(1, "run", files["sweep"], "-o", str(case_dir / "new.h5"), "--from", path, "--quiet")
    assert rc == 2 and "external link" in out, out
    assert not os.path.exists(case_dir / "merged.h5")


def test_narrow_float_not_stored_rounded(files, case_dir):
    """A resume never writes into a float of another layout (it would store 0.26633 for
    0.26632992): refused, and the values the file holds are as they were."""
    path = str(case_dir / "narrow.h5")
    shutil.copyfile(files["corpus"]["final_narrow_float"], path)
    with h5py.File(path, "r+") as f:
        f["tasks/status"][0] = 0
    rc, out = limited(1, "run", files["sweep"], "-o", path, "--resume", "--quiet")
    assert rc == 2 and "another layout" in out, out
    with h5py.File(path, "r") as f:
        assert f["tasks/status"][0] == 0, "nothing was trained into it"


def test_damaged_layout_complete_is_not_an_unfinished_creation(files, case_dir):
    """A file that lost layout_complete but holds results is damaged, and says so (it used to be
    called an unfinished creation to start over with --force)."""
    path = str(case_dir / "lost.h5")
    shutil.copyfile(files["valid"], path)
    with h5py.File(path, "r+") as f:
        del f.attrs["layout_complete"]
    rc, out = limited(1, "status", path)
    assert rc == 2 and "damaged (not an unfinished creation)" in out, out
    rc, out = limited(1, "run", files["sweep"], "-o", path, "--resume", "--quiet")
    assert rc == 2 and "damaged (not an unfinished creation)" in out, out


def test_killed_creation_resumes(tmp_path):
    """kill -9 while the file is created: status says work remains (3) and a resume starts it
    again and finishes it (a job chain passing --resume goes on)."""
    many = str(tmp_path / "many.yaml")
    with open(many, "w") as f:
        f.write("model: linattn\nseed: 1\nreplicates: 20000\n"
                "fixed: {D: 1, N: 1, P: 1, P_test: 1, steps: 0, log_every: 1, theory: false}\n")
    out = str(tmp_path / "killed.h5")
    p = subprocess.Popen(command(1, "run", many, "-o", out, "--quiet"), env=ENV, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        while p.poll() is None and not (os.path.exists(out) and os.path.getsize(out) > 4096):
            pass
    finally:
        os.killpg(p.pid, signal.SIGKILL)
        p.wait()
    rc, log = limited(1, "status", out)
    if rc == 0:
        pytest.skip("the creation finished before the kill")
    assert rc == 3 and "creation never finished" in log, log
    rc, log = limited(1, "status", out, "--json")
    assert rc == 3 and '"creation_finished": false' in log, log
    rc, log = limited(1, "run", many, "-o", out, "--resume", timeout=600)
    assert rc == 0 and "creating it again" in log, log[-500:]


# ---- one writer per file, whatever its name ------------------------------------------------------

def test_lock_through_other_names(tmp_path):
    """While a run writes conc.h5, runs through a symbolic link or a hard link to it are refused,
    --force included, and status through the link names the writer; the first run loses nothing."""
    slow = str(tmp_path / "slow.yaml")
    with open(slow, "w") as f:
        f.write(LONGER.replace("steps: [1000, 1500]", "steps: [20000, 30000]"))
    conc = str(tmp_path / "conc.h5")
    alias = str(tmp_path / "alias.h5")
    os.symlink("conc.h5", alias)
    first = subprocess.Popen(command(2, "run", slow, "-o", conc, "--quiet"), env=ENV, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        assert wait_for_done(conc, 1, first, limit=300), "the first run is writing"
        for args in (("--resume",), ("--force",)):
            rc, log = limited(1, "run", slow, "-o", alias, "--quiet", *args)
            assert rc == 2 and "being written by another run" in log, log
        rc, log = limited(1, "status", alias, "--json")
        assert rc == 3 and '"owner": "host' in log, log
        hard = str(tmp_path / "hard.h5")
        os.link(conc, hard)
        for args in (("--resume",), ("--force",)):
            rc, log = limited(1, "run", slow, "-o", hard, "--quiet", *args)
            assert rc == 2 and "2 names (hard links)" in log, log
        os.unlink(hard)
        done_before = states(conc) == 2
        first.send_signal(signal.SIGUSR1)
        first.communicate(timeout=300)
        assert first.returncode == 3
        after = states(conc)
        assert (after[done_before] == 2).all() and not (after == 1).any(), "nothing the first run finished was lost"
    finally:
        if first.poll() is None:
            os.killpg(first.pid, signal.SIGKILL)
            first.wait()


def test_symbolic_link_output_writes_its_file(files, tmp_path):
    """-o LINK writes the file the link leads to (the link stays a link); a link that leads nowhere
    is refused (it could make a file anywhere)."""
    real = str(tmp_path / "real.h5")
    alias = str(tmp_path / "alias.h5")
    shutil.copyfile(files["valid"], real)
    with h5py.File(real, "r+") as f:
        f["tasks/status"][0] = 0
    os.symlink("real.h5", alias)
    rc, log = limited(1, "run", files["sweep"], "-o", alias, "--resume", "--quiet")
    assert rc == 0, log
    assert os.path.islink(alias) and (states(real) == 2).all()
    assert not os.path.exists(real + ".lock") and not os.path.exists(alias + ".lock")
    dangling = str(tmp_path / "dangling.h5")
    os.symlink("nowhere/else.h5", dangling)
    rc, log = limited(1, "run", files["sweep"], "-o", dangling, "--quiet")
    assert rc == 2 and "leads to no file" in log, log
    assert not os.path.exists(tmp_path / "nowhere")


def plant(kind, path, victim):
    """Puts at path what a run must never write through: a symbolic or hard link to victim, a copy
    of it (someone's file), a FIFO or a folder."""
    {"symlink": lambda: os.symlink(victim, path), "hardlink": lambda: os.link(victim, path),
     "other_file": lambda: shutil.copyfile(victim, path), "fifo": lambda: os.mkfifo(path),
     "folder": lambda: os.mkdir(path)}[kind]()


@pytest.mark.parametrize("kind", ["symlink", "hardlink", "fifo"])
def test_lock_file_is_never_followed(kind, files, tmp_path):
    """OUT.h5.lock that is a link (or not a regular file) is refused, never written through: the
    file it leads to keeps every byte."""
    out = str(tmp_path / "out.h5")
    shutil.copyfile(files["valid"], out)
    victim = str(tmp_path / "victim.txt")
    with open(victim, "w") as f:
        f.write("precious\n")
    plant(kind, out + ".lock", victim)
    rc, log = limited(1, "run", files["sweep"], "-o", out, "--resume", "--quiet")
    assert rc == 2 and "lock file" in log, log
    with open(victim) as f:
        assert f.read() == "precious\n"


def test_force_from_the_output_itself(files, tmp_path):
    """--force --from X.h5 -o X.h5 would empty X.h5 before copying from it: refused, X.h5 as it was;
    merge onto one of its shards likewise."""
    out = str(tmp_path / "x.h5")
    shutil.copyfile(files["valid"], out)
    before = digest(out)
    rc, log = limited(1, "run", files["sweep"], "-o", out, "--force", "--from", out, "--quiet")
    assert rc == 2 and "the output file itself" in log, log
    alias = str(tmp_path / "alias.h5")
    os.symlink("x.h5", alias)
    rc, log = limited(1, "run", files["sweep"], "-o", alias, "--force", "--from", out, "--quiet")
    assert rc == 2 and "the output file itself" in log, log
    rc, log = limited(1, "merge", out, "-o", alias, "--force")
    assert rc == 2 and "also the output" in log, log
    assert digest(out) == before


# ---- OUT.h5.growing -------------------------------------------------------------------------------

@pytest.fixture
def to_grow(files, tmp_path):
    """A finished file of the tiny sweep, and the sweep grown by one learning rate."""
    out = str(tmp_path / "out.h5")
    shutil.copyfile(files["valid"], out)
    grown = str(tmp_path / "grown.yaml")
    with open(grown, "w") as f:
        f.write(GROWN)
    return out, grown


@pytest.mark.parametrize("kind", ["symlink", "other_file", "folder"])
def test_growing_never_overwritten(kind, to_grow, tmp_path):
    """An OUT.h5.growing that is a link, someone's file or a folder is refused, never written
    through; OUT.h5 stays the file it was (not a link)."""
    out, grown = to_grow
    victim = str(tmp_path / "victim.txt")
    with open(victim, "w") as f:
        f.write("precious\n")
    plant(kind, out + ".growing", victim)
    before = digest(out)
    rc, log = limited(1, "run", grown, "-o", out, "--resume", "--quiet")
    assert rc == 2 and ".growing" in log and "never overwritten" in log, log
    assert digest(out) == before and not os.path.islink(out)
    with open(victim) as f:
        assert f.read() == "precious\n"


def test_growing_leftover_of_this_sweep_is_replaced(to_grow, files, tmp_path):
    """A grow stopped before its file took OUT.h5's place leaves OUT.h5.growing; the next resume
    replaces it (OUT.h5 still holds every result) and finishes."""
    out, grown = to_grow
    rc, log = run(1, "run", grown, "-o", out + ".growing", "--quiet")
    assert rc == 0, log
    rc, log = limited(1, "run", grown, "-o", out, "--resume")
    assert rc == 0 and "left by a grow of this sweep" in log and "grew" in log, log
    assert not os.path.exists(out + ".growing") and (states(out) == 2).all()


def test_failed_grow_leaves_nothing_beside(to_grow, files, tmp_path):
    """A grow refused after its file was made (a --from file of another seed), or failing on a write,
    removes OUT.h5.growing and leaves OUT.h5 as it was."""
    out, grown = to_grow
    other = str(tmp_path / "other_seed.h5")
    other_sweep = str(tmp_path / "other.yaml")
    with open(other_sweep, "w") as f:
        f.write(TINY.replace("seed: 7", "seed: 8"))
    rc, log = run(1, "run", other_sweep, "-o", other, "--quiet")
    assert rc == 0, log
    before = digest(out)
    rc, log = limited(1, "run", grown, "-o", out, "--resume", "--from", other, "--quiet")
    assert rc == 2 and "sweep seed" in log, log
    assert not os.path.exists(out + ".growing") and digest(out) == before
    p = subprocess.run(command(1, "run", grown, "-o", out, "--resume", "--quiet"),
                       env=dict(ENV, ICLSWEEP_FAIL_WRITE="5"), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       text=True, timeout=120)
    assert p.returncode == 1, p.stdout
    assert not os.path.exists(out + ".growing") and digest(out) == before


def test_damaged_coordinates_are_not_a_grow(files, tmp_path):
    """A file of this very sweep with a damaged /log_point is refused as damaged; it used to be
    "grown" into a new file."""
    path = str(tmp_path / "lp.h5")
    shutil.copyfile(files["corpus"]["log_point_values"], path)
    rc, log = limited(1, "run", files["sweep"], "-o", path, "--resume")
    assert rc == 2 and "/log_point[3]" in log and "grew" not in log, log


# ---- checksums: --from, merge, older formats ------------------------------------------------------

def damage(path, row):
    with h5py.File(path, "r+") as f:
        hostile.bump(f, "final/test_err", row)


def test_from_refuses_damaged_rows(files, tmp_path):
    """--from copies only the rows whose checksum holds (and plan --from counts only those): a
    damaged one is trained here, and the new file equals a fresh run."""
    old = str(tmp_path / "old.h5")
    shutil.copyfile(files["valid"], old)
    damage(old, 3)
    rc, log = limited(1, "plan", files["sweep"], "--from", old, "--no-time", "--list", "0")
    assert rc == 0 and "7 of 8 tasks are finished there" in log and "1 finished row there fails its checksum" in log, log
    new = str(tmp_path / "new.h5")
    rc, log = limited(2, "run", files["sweep"], "-o", new, "--from", old)
    assert rc == 0 and "1 finished row fails its checksum (row 3" in log and "copied 7 finished tasks" in log, log
    with h5py.File(new, "r") as f:
        origin = f["tasks/origin"][()]
    assert origin[3] == -1 and (np.delete(origin, 3) == 0).all(), origin
    assert not same_results(new, files["valid"])


def test_merge_refuses_damaged_rows(files, tmp_path):
    """merge leaves a damaged row of a shard unfinished (exit 3); a resume finishes it."""
    shards = []
    for k in (1, 2):
        out = str(tmp_path / f"shard{k}.h5")
        rc, log = run(1, "run", files["sweep"], "-o", out, "--shard", f"{k}/2", "--quiet")
        assert rc == 0, log
        shards.append(out)
    damage(shards[0], 0)
    merged = str(tmp_path / "merged.h5")
    rc, log = limited(1, "merge", *shards, "-o", merged)
    assert rc == 3 and "fails its checksum (row 0" in log and "merged 7 of 8" in log, log
    rc, log = limited(1, "run", files["sweep"], "-o", merged, "--resume", "--quiet")
    assert rc == 0, log
    assert not same_results(merged, files["valid"])


def test_older_format_without_checksums(files, tmp_path):
    """A file of an older format has no checksums: status, verify, --from and the reader read it
    and say there are none to check; a resume rewrites it with them."""
    old = str(tmp_path / "old.h5")
    shutil.copyfile(files["corpus"]["older_format"], old)
    rc, out = limited(1, "status", old)
    assert rc == 0 and "no checksums to check" in out, out
    rc, out = limited(1, "verify", old, "--json")
    assert rc == 0 and '"checksums": false' in out, out
    assert iclsweep.load(old, warn=False).attrs["checksums"] == {old: False}
    new = str(tmp_path / "new.h5")
    rc, log = limited(1, "run", files["sweep"], "-o", new, "--from", old)
    assert rc == 0 and "no checksums to check" in log and "copied 8" in log, log
    rc, log = limited(1, "run", files["sweep"], "-o", old, "--resume", "--quiet")
    assert rc == 0, log
    rc, out = limited(1, "verify", old, new)
    assert rc == 0 and out.count("all 8 finished rows match their checksums") == 2, out


def test_verify_json_and_several_files(files, tmp_path):
    """verify --json: one object per file, each bad row with its task, key and reason; a file that
    is not a result is one object with its error; exit 2 when anything failed."""
    bad = str(tmp_path / "bad.h5")
    shutil.copyfile(files["valid"], bad)
    damage(bad, 6)
    junk = str(tmp_path / "junk.h5")
    with open(junk, "w") as f:
        f.write("not hdf5\n")
    rc, out = limited(1, "verify", files["valid"], bad, junk, "--json")
    docs = [json.loads(line) for line in out.splitlines()]
    assert rc == 2 and [d["ok"] for d in docs] == [True, False, False], out
    assert [b["row"] for b in docs[1]["bad"]] == [6] and docs[1]["bad"][0]["task"] == 6
    assert "not an HDF5 file" in docs[2]["error"]


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q", "-p", "no:cacheprovider"]))
