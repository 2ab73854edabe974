"""Fuzzing the Python reader (analysis/iclsweep) with seeded byte flips over a corpus of result
files: the Python side's counterpart of the libFuzzer harnesses beside it (atheris, a Python
libFuzzer, is not in Debian; random flips of a few bytes of valid and crafted files reach the same
decoding paths of HDF5 and of the reader).

Each run i takes corpus file i mod n, flips 1..--flips of its bytes (positions and values drawn
from Random(f"{seed}:{i}"), so a run is replayed from its seed and number alone), and reads the
result with iclsweep.load (and every 5th with iclsweep.load_traj as well). The expected outcomes are an answer or a
NotAnIclsweepFile (or FileNotFoundError) whose message is one line naming the file. Findings:
  crash      the reading process died (a signal inside HDF5 that the probe's child did not take)
  hang       a run took longer than --timeout seconds
  traceback  any other exception escaped the reader
  wrong      a row the reader calls done differs from that row in the unflipped file (its key,
             parameters or final metrics), where the unflipped file reads
  message    a refusal's message is not one line naming the file
Each finding's input is saved in --artifacts as FINDING-RUN.h5 with a line in findings.txt; replay
one with --replay FILE. The runs happen in a worker process that the loop restarts after a crash,
so one crash never ends the loop.

  /usr/bin/python3 tests/fuzz/fuzz_reader.py [--seed S] [--runs N | --seconds T] [--flips K]
      [--timeout T] [--artifacts DIR] CORPUS.h5...
Exit 0 without findings, 1 with any. PYTHONPATH must reach analysis/ (the default adds it).
"""
import argparse
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ANALYSIS = os.path.join(HERE, "..", "..", "analysis")


def flipped(data, seed, i, flips):
    """The bytes of data with 1..flips bytes XORed with nonzero values, drawn from (seed, i)."""
    rng = random.Random(f"{seed}:{i}")
    out = bytearray(data)
    for _ in range(rng.randint(1, flips)):
        out[rng.randrange(len(out))] ^= rng.randint(1, 255)
    return bytes(out)


def _same(a, b):
    import numpy as np
    a, b = np.asarray(a), np.asarray(b)
    if a.dtype.kind == "f" and b.dtype.kind == "f":
        return a.shape == b.shape and np.array_equal(a.view(np.uint64), b.view(np.uint64))
    return a.shape == b.shape and all(x == y for x, y in zip(a.tolist(), b.tolist()))


def wrong_rows(df, truth):
    """Rows df calls done whose key, parameters or finals differ from the unflipped file's."""
    if truth is None:
        return []
    bad = []
    params = [c for c in truth.attrs["params"] if c in truth.columns]
    finals = [c for c in truth.attrs["final_metrics"] if c in truth.columns]
    for r in df.index[df["status"] == "done"]:
        if r >= len(truth) or truth["status"].iloc[r] != "done":
            bad.append(int(r))
            continue
        for c in ["key"] + params + finals:
            if c not in df.columns or not _same([df[c].iloc[r]], [truth[c].iloc[r]]):
                bad.append(int(r))
                break
    return bad


def one_run(path, truth, traj=True):
    """Reads path as a user would (load, and load_traj when traj); returns (outcome, detail)."""
    import iclsweep
    try:
        df = iclsweep.load(path, warn=False)
        if traj:
            iclsweep.load_traj(path, warn=False)
    except (iclsweep.NotAnIclsweepFile, FileNotFoundError) as e:
        text = str(e)
        if "\n" in text or path not in text:
            return "message", text
        return "refused", text
    except Exception as e:  # noqa: BLE001 (a finding)
        import traceback
        return "traceback", "".join(traceback.format_exception(type(e), e, e.__traceback__))[-2000:]
    wrong = wrong_rows(df, truth)
    if wrong:
        return "wrong", f"rows {wrong} read as done with other data than the unflipped file"
    return "accepted", ""


def worker(args):
    """Runs args.start.. of the loop, one JSON line per run on stdout ({"start": i} first)."""
    sys.path.insert(0, ANALYSIS)
    import warnings
    import iclsweep
    warnings.simplefilter("ignore")
    corpus = [open(p, "rb").read() for p in args.corpus]
    truths = []
    for p in args.corpus:
        try:
            truths.append(iclsweep.load(p, warn=False))
        except Exception:  # noqa: BLE001 (a crafted seed: no oracle for its flips)
            truths.append(None)
    work = tempfile.mkdtemp(prefix="fuzz_reader_")
    signal.signal(signal.SIGALRM, signal.SIG_DFL)  # a hang inside C code ends the worker
    i = args.start
    while i < args.runs:
        k = i % len(corpus)
        path = os.path.join(work, f"run{i}.h5")
        with open(path, "wb") as f:
            f.write(flipped(corpus[k], args.seed, i, args.flips))
        print(json.dumps({"start": i}), flush=True)
        signal.alarm(args.timeout)
        # load_traj reads what load's checks already read, and more: every 5th run
        outcome, detail = one_run(path, truths[k], traj=i % 5 == 0)
        signal.alarm(0)
        print(json.dumps({"run": i, "outcome": outcome, "detail": detail}), flush=True)
        os.unlink(path)
        i += 1


def save(args, kind, i, detail):
    os.makedirs(args.artifacts, exist_ok=True)
    data = open(args.corpus[i % len(args.corpus)], "rb").read()
    name = os.path.join(args.artifacts, f"{kind}-{i}.h5")
    with open(name, "wb") as f:
        f.write(flipped(data, args.seed, i, args.flips))
    with open(os.path.join(args.artifacts, "findings.txt"), "a") as f:
        f.write(f"{kind} run {i} seed {args.seed} ({name}): {detail.splitlines()[-1] if detail else ''}\n")


def loop(args):
    counts = {"accepted": 0, "refused": 0, "crash": 0, "hang": 0, "traceback": 0, "wrong": 0, "message": 0}
    deadline = time.time() + args.seconds if args.seconds else None
    runs = args.runs if not args.seconds else 10**9
    start = 0
    env = dict(os.environ, PYTHONPATH=ANALYSIS + os.pathsep + os.environ.get("PYTHONPATH", ""),
               ICLSWEEP_READ_TIMEOUT=os.environ.get("ICLSWEEP_READ_TIMEOUT", str(max(1, args.timeout // 3))))
    while start < runs and (deadline is None or time.time() < deadline):
        cmd = [sys.executable, __file__, "--worker", "--start", str(start), "--runs", str(runs),
               "--seed", str(args.seed), "--flips", str(args.flips), "--timeout", str(args.timeout),
               *args.corpus]
        p = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, text=True)
        current = None
        for line in p.stdout:
            msg = json.loads(line)
            if "start" in msg:
                current = msg["start"]
                continue
            current = None
            counts[msg["outcome"]] += 1
            start = msg["run"] + 1
            if msg["outcome"] not in ("accepted", "refused"):
                save(args, msg["outcome"], msg["run"], msg["detail"])
            if deadline is not None and time.time() >= deadline:
                p.kill()
                break
        p.wait()
        if current is not None:  # the worker died inside a run
            kind = "hang" if p.returncode == -signal.SIGALRM else "crash"
            counts[kind] += 1
            save(args, kind, current, f"worker ended by signal {-p.returncode}")
            start = current + 1
    total = sum(counts.values())
    print(f"fuzz_reader: {total} runs (seed {args.seed}, up to {args.flips} flipped bytes): "
          + ", ".join(f"{n} {k}" for k, n in counts.items()))
    findings = total - counts["accepted"] - counts["refused"]
    if findings:
        print(f"fuzz_reader: {findings} findings, inputs in {args.artifacts}")
    return counts


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("corpus", nargs="+")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--runs", type=int, default=300)
    ap.add_argument("--seconds", type=float, default=0, help="run for this long instead of --runs")
    ap.add_argument("--flips", type=int, default=4)
    ap.add_argument("--timeout", type=int, default=30, help="seconds one run may take")
    ap.add_argument("--artifacts", default="fuzz-reader-artifacts")
    ap.add_argument("--start", type=int, default=0, help=argparse.SUPPRESS)
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--replay", action="store_true", help="read each CORPUS file once, as a run would")
    args = ap.parse_args(argv)
    if args.worker:
        worker(args)
        return 0
    if args.replay:
        sys.path.insert(0, ANALYSIS)
        for p in args.corpus:
            print(p, *one_run(p, None))
        return 0
    counts = loop(args)
    return 0 if counts["accepted"] + counts["refused"] == sum(counts.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
