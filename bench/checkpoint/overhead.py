"""Checkpoint overhead (issue 19): what a task checkpoint costs, and what checkpoints cost a task at
the default checkpoint_every, at the default concept and linattn points.

    /usr/bin/python3 bench/checkpoint/overhead.py [RUNS] [--peer PEER_BIN]
        (default 5 runs; writes bench/RESULTS-checkpoint.md's overhead section)

Each point is a one-task sweep (`model: X`, the default point) run with `iclsweep run` on one rank,
RUNS times in alternation of:
  - default:  this build at the default checkpoint_every (60 s): a task of the default point ends
              before its first periodic checkpoint, so what is measured is the bookkeeping every
              task now does (a look for its checkpoint, CPU and memory accounting);
  - every:    this build with --checkpoint-every 0: a checkpoint at every log point but the last;
  - peer:     the build before checkpoints (--peer, e.g. main's), when given.
The task's time is /tasks/wall_s (the task alone, without the process's start and the file's
creation). One checkpoint costs (every - default) / checkpoints taken; its bytes are the size of the
checkpoint file (caught while the `every` run trains). At the default checkpoint_every a task takes
one checkpoint per 60 s of training, so its overhead is that cost over 60 s; the table gives it
beside the measured `every` and `peer` ratios. Medians over RUNS. One BLAS thread.
"""
import glob
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time

import h5py

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from results import write_section  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.environ.get("ICLSWEEP_BIN", os.path.join(ROOT, "build", "iclsweep"))
ENV = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
POINTS = [("concept", "model: concept\nseed: 1\n"), ("linattn", "model: linattn\nseed: 1\n")]
DEFAULT_EVERY = 60.0


def run_task(binary, sweep, out, *extra, watch=None):
    """Runs the one-task sweep into a new out; returns (task wall s, log points, checkpoint bytes)."""
    for path in glob.glob(out + "*"):
        if os.path.isdir(path):
            for f in glob.glob(path + "/*"):
                os.remove(f)
            os.rmdir(path)
        else:
            os.remove(path)
    sizes = []
    stop = threading.Event()

    def look():
        while not stop.is_set():
            for f in glob.glob(out + ".ckpt/*.ckpt"):
                try:
                    sizes.append(os.path.getsize(f))
                except OSError:
                    pass
            time.sleep(0.001)

    t = threading.Thread(target=look) if watch else None
    if t:
        t.start()
    p = subprocess.run([binary, "run", sweep, "-o", out, "--quiet", *extra], env=ENV, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True)
    if t:
        stop.set()
        t.join()
    if p.returncode != 0:
        sys.exit(f"{binary} run {sweep}: {p.stdout}")
    with h5py.File(out, "r") as f:
        wall = float(f["tasks/wall_s"][0])
        n_log = int((f["traj/step"][0] >= 0).sum())
    return wall, n_log, max(sizes) if sizes else None


def main():
    args = sys.argv[1:]
    peer = None
    if "--peer" in args:
        i = args.index("--peer")
        peer = args[i + 1]
        del args[i:i + 2]
    runs = int(args[0]) if args else 5
    rows = []
    with tempfile.TemporaryDirectory() as d:
        for model, text in POINTS:
            sweep = os.path.join(d, f"{model}.yaml")
            with open(sweep, "w") as f:
                f.write(text)
            out = os.path.join(d, f"{model}.h5")
            times = {"default": [], "every": [], "peer": []}
            n_log, size = 0, 0
            for _ in range(runs):
                times["default"].append(run_task(BIN, sweep, out)[0])
                w, n_log, s = run_task(BIN, sweep, out, "--checkpoint-every", "0", watch=True)
                times["every"].append(w)
                size = max(size, s or 0)
                if peer:
                    times["peer"].append(run_task(peer, sweep, out)[0])
            med = {k: statistics.median(v) for k, v in times.items() if v}
            per_ckpt = (med["every"] - med["default"]) / max(n_log - 1, 1)
            rows.append((model, med, n_log, per_ckpt, size))
            print(model, med, n_log, per_ckpt, size, flush=True)
    write(rows, runs, peer)


def write(rows, runs, peer):
    lines = [
        "## Overhead of checkpoints at the default points",
        "",
        f"`bench/checkpoint/overhead.py {runs}{' --peer PEER' if peer else ''}` on this machine "
        f"({time.strftime('%Y-%m-%d')}; one rank, one BLAS thread; medians of {runs} alternating runs). "
        "Task time is /tasks/wall_s. *default*: checkpoint_every 60 s (the task ends before its first "
        "periodic checkpoint); *every*: a checkpoint at every log point but the last; *peer*: the build "
        "before checkpoints.",
        "",
        "| point | task, default | task, every | checkpoints | one checkpoint | its size | overhead at 60 s | every log point | peer | default vs peer |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for model, med, n_log, per_ckpt, size in rows:
        at60 = 100 * per_ckpt / DEFAULT_EVERY
        every = 100 * (med["every"] / med["default"] - 1)
        peer_t = f"{med['peer']:.3f} s" if "peer" in med else "-"
        vs = f"{100 * (med['default'] / med['peer'] - 1):+.1f}%" if "peer" in med else "-"
        lines.append(f"| {model} default | {med['default']:.3f} s | {med['every']:.3f} s | {n_log - 1} | "
                     f"{1000 * per_ckpt:.2f} ms | {size / 1024:.1f} KiB | {at60:.4f}% | {every:+.1f}% | {peer_t} | {vs} |")
    lines += [
        "",
        "*overhead at 60 s*: one checkpoint's cost over the 60 s of training between two checkpoints at "
        "the default checkpoint_every: what checkpoints cost any task longer than a minute (a shorter task "
        "takes none). *every log point*: the measured cost of the extreme setting (checkpoint_every: 0). "
        "*default vs peer*: what every task pays for the bookkeeping (a look for its checkpoint, CPU and "
        "memory accounting), within the run-to-run noise.",
        "",
    ]
    write_section(lines)

if __name__ == "__main__":
    main()
