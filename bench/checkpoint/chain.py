"""Wasted work of a Slurm chain (issue 19): the CPU seconds of a sweep of tasks longer than a job,
run as a chain of 2-minute jobs, against the same sweep in one uninterrupted job.

    /usr/bin/python3 bench/checkpoint/chain.py [ROUNDS] [--task-s S]
        (default 1 round, tasks of S = 300 s; as root, with slurm-wlm and munge;
         writes bench/RESULTS-checkpoint.md's chain section)

A single-node Slurm of its own (slurm/local-cluster, in a temporary folder) runs, each round:
  - one job (--time 30, --links 1): the sweep uninterrupted;
  - a chain (--time 2, the default margin and warning, --links 30): the sweep in 2-minute jobs,
    each stopping its tasks at the deadline with a checkpoint, the next continuing them.
The sweep: two concept tasks sized to take S seconds each here (from a timed short run), on
three ranks (--overcommit: two workers on two cores). Every process the job scripts start
(`iclsweep run` on each rank, `iclsweep status`) runs under /usr/bin/time, whose user + system
seconds are summed: the CPU seconds of the sweep. The chain must end bit for bit equal to the
single job; the ratio of their CPU seconds is the wasted work (target <= 1.05). Also recorded: the
links, the wall time from the first job's start to the last one's end, and the CPU seconds the
files account to the tasks (/tasks/cpu_s: the work kept, set-ups included).
"""
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import h5py
import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.environ.get("ICLSWEEP_BIN", os.path.join(ROOT, "build", "iclsweep"))
sys.path[:0] = [os.path.join(ROOT, "tests", "sweep"), os.path.dirname(os.path.abspath(__file__))]
from common import same_results  # noqa: E402
from results import write_section  # noqa: E402
from sweeps import TWO_TASKS  # noqa: E402


def sweep_text(steps):
    """Two tasks of `steps` steps, checkpoints at the default checkpoint_every (60 s)."""
    return TWO_TASKS.format(seed=41, checkpoint_every=60, log_every=500, steps=steps)


def sh(env, *cmd, timeout=600):
    p = subprocess.run(list(cmd), env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                       timeout=timeout)
    return p.returncode, p.stdout


def wait_empty(env, limit):
    t0 = time.time()
    while time.time() - t0 < limit:
        rc, out = sh(env, "squeue", "-h", "-o", "%i")
        if rc == 0 and not out.strip():
            return
        time.sleep(2)
    sys.exit("the queue did not empty")


def cpu_of(log):
    """Sum of user + system seconds of the processes /usr/bin/time logged."""
    total = 0.0
    for line in open(log):
        m = re.match(r"^cpu ([\d.]+) ([\d.]+) ", line)
        if m:
            total += float(m.group(1)) + float(m.group(2))
    return total


def job_span(env, name):
    """Links run, and the seconds from the first one's start to the last one's end."""
    rc, out = sh(env, "squeue", "-t", "all", "-h", "-n", name, "-o", "%S %e %T")
    rows = [line.split() for line in out.splitlines() if line.strip()]
    epoch = lambda s: time.mktime(time.strptime(s, "%Y-%m-%dT%H:%M:%S"))  # noqa: E731
    return len(rows), max(epoch(r[1]) for r in rows) - min(epoch(r[0]) for r in rows)


def one(env, work, sweep, tag, opts):
    d = os.path.join(work, tag)
    os.makedirs(d, exist_ok=True)
    log = os.path.join(d, "cpu.log")
    wrap = os.path.join(d, "iclsweep")
    with open(wrap, "w") as f:
        # The stop signals Slurm's step daemon sends every process of the step: /usr/bin/time must
        # not die of them (it has no handler; exec keeps an ignored disposition), iclsweep installs
        # its own handlers and drains.
        f.write("#!/bin/bash\ntrap '' USR1 TERM INT\n"
                f'exec /usr/bin/time -a -o {log} -f "cpu %U %S %e %C" {BIN} "$@"\n')
    os.chmod(wrap, 0o755)
    out = os.path.join(d, "sweep.h5")
    rc, text = sh(env, os.path.join(ROOT, "slurm", "submit"), sweep, "-o", out, "--bin", wrap, "--ranks", "3",
                  "--overcommit", "--name", tag, *opts)
    if rc:
        sys.exit(text)
    wait_empty(env, 7200)
    rc, text = sh(env, BIN, "status", out)
    if rc:
        sys.exit(f"{tag}: not complete: {text}")
    links, span = job_span(env, tag)
    with h5py.File(out, "r") as f:
        kept = float(np.sum(f["tasks/cpu_s"][:]))
        resumes = f["tasks/resumes"][:].tolist()
    return out, cpu_of(log), links, span, kept, resumes


def main():
    args = sys.argv[1:]
    task_s = 300.0
    if "--task-s" in args:
        i = args.index("--task-s")
        task_s = float(args[i + 1])
        del args[i:i + 2]
    rounds = int(args[0]) if args else 1
    work = tempfile.mkdtemp(prefix="iclsweep_chain_")
    os.chmod(work, 0o755)
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1",
               ICLSWEEP_SLURM_DIR=os.path.join(work, "cluster"), SLURM_CONF=os.path.join(work, "cluster", "slurm.conf"))
    cluster = os.path.join(ROOT, "slurm", "local-cluster")
    rc, text = sh(env, cluster, "start")
    if rc:
        sys.exit(text)
    rows = []
    try:
        probe = os.path.join(work, "probe.yaml")
        with open(probe, "w") as f:
            f.write(sweep_text(4000))
        t0 = time.time()
        sh(env, BIN, "train", probe, "--task", "0", "--format", "csv")
        steps = int(4000 * task_s / (time.time() - t0)) // 500 * 500
        sweep = os.path.join(work, "sweep.yaml")
        with open(sweep, "w") as f:
            f.write(sweep_text(steps))
        for r in range(rounds):
            single = one(env, work, sweep, f"single{r}", ["--time", "30", "--links", "1"])
            chain = one(env, work, sweep, f"chain{r}", ["--time", "2", "--links", "30"])
            diffs = same_results(single[0], chain[0])
            if diffs:
                sys.exit(f"the chain differs from the single job in {diffs}")
            rows.append((steps, single, chain))
            print(f"round {r}: single {single[1:]}, chain {chain[1:]}, ratio {chain[1] / single[1]:.4f}", flush=True)
    finally:
        sh(env, cluster, "stop")
        if os.environ.get("KEEP") != "1":
            shutil.rmtree(work, ignore_errors=True)
    write(rows, task_s)


def write(rows, task_s):
    ratios = [c[1] / s[1] for _, s, c in rows]
    lines = [
        "## Wasted work of a Slurm chain",
        "",
        f"`bench/checkpoint/chain.py {len(rows)}` on this machine ({time.strftime('%Y-%m-%d')}; "
        "slurm/local-cluster, 2 cores, 3 ranks with --overcommit): two concept tasks of about "
        f"{task_s:.0f} s each, one uninterrupted job against a chain of 2-minute jobs (default margin and "
        "warning). CPU: user + system seconds of every process the job scripts start.",
        "",
        "| round | steps per task | single job: CPU, wall | chain: links, CPU, wall | tasks' resumes | kept CPU (single, chain) | CPU ratio |",
        "|---|---|---|---|---|---|---|",
    ]
    for i, (steps, s, c) in enumerate(rows):
        lines.append(f"| {i + 1} | {steps} | {s[1]:.1f} s, {s[3]:.0f} s | {c[2]}, {c[1]:.1f} s, {c[3]:.0f} s | "
                     f"{c[5]} | {s[4]:.1f} s, {c[4]:.1f} s | **{c[1] / s[1]:.3f}** |")
    lines += ["", f"Median CPU ratio **{statistics.median(ratios):.3f}** (target <= 1.05). The chain's file equals "
              "the single job's bit for bit in every round. Before checkpoints such tasks never finished in "
              "2-minute jobs (the ratio was infinite).", ""]
    write_section(lines)

if __name__ == "__main__":
    main()
