"""MPI scaling of the sweep engine beyond 2 ranks (run on a machine with many cores).

  real     a real concept sweep (192 tasks of ~0.3 s) with 1, 2, 4, 8 and 15 workers: wall time,
           speed-up over 1 worker, parallel efficiency, and the master's CPU share
  storm    20,000 tiny tasks through the master with 1, 4 and 15 workers: tasks/s (the dispatch
           rate the master sustains) and its CPU share
  create   file creation of a 1,000,000-task sweep on 1, 4 and 16 ranks

Run: /usr/bin/python3 bench/sweep/scaling.py BIN [--repeats N] [--workers 1,2,4,8,15]
Each figure is the median of N runs (default 2). Prints a Markdown table; bench/RESULTS-sweep.md
records it with the machine it ran on.
"""
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time

BIN = sys.argv[1]
REPEATS = int(sys.argv[sys.argv.index("--repeats") + 1]) if "--repeats" in sys.argv else 2
WORKERS = [int(x) for x in (sys.argv[sys.argv.index("--workers") + 1] if "--workers" in sys.argv
                            else "1,2,4,8,15").split(",")]
ENV = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")

REAL = """\
model: concept
seed: 2
replicates: 4
fixed: {d: 32, L: 16, width: 16, n_train: 1024, n_test: 512, steps: 600, log_every: 50}
grid:
  K: [2, 4, 8]
  noise: [0.01, 0.03, 0.1, 0.3]
  lr: [1, 2, 5, 10]
"""

TINY = """\
model: linattn
seed: 1
replicates: {n}
fixed: {{D: 1, N: 1, P: 1, P_test: 1, steps: 0, log_every: 1, theory: false}}
"""


def launch(np_, sweep, out):
    # plain progress: a line every 10 s, and the summary this script reads
    cmd = [BIN, "run", sweep, "-o", out, "--force", "--progress", "plain"]
    return cmd if np_ == 1 else ["mpirun", "-np", str(np_), "--oversubscribe", "--bind-to", "none", *cmd]


def run_sweep(np_, sweep, out):
    p = subprocess.run(launch(np_, sweep, out), env=ENV, stderr=subprocess.PIPE, text=True)
    m = re.search(r"(\d+) tasks finished in ([\d.]+) s", p.stderr)
    cpu = re.search(r"\(([\d.]+)% of a core\)", p.stderr)
    if p.returncode != 0 or not m:
        raise RuntimeError(f"run failed ({p.returncode}): {p.stderr[-2000:]}")
    return int(m.group(1)), float(m.group(2)), float(cpu.group(1))


def table(title, rows):
    print(f"## {title}\n\n| case | figure | detail | |\n|---|---|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")
    print(flush=True)


def real(tmp):
    sweep = os.path.join(tmp, "real.yaml")
    with open(sweep, "w") as f:
        f.write(REAL)
    walls = {w: [] for w in WORKERS}
    cpus = {w: [] for w in WORKERS}
    for _ in range(REPEATS):
        for w in WORKERS:  # interleaved, so drift hits every count alike
            _, wall, cpu = run_sweep(w + 1, sweep, os.path.join(tmp, "real.h5"))
            walls[w].append(wall)
            cpus[w].append(cpu)
    base = statistics.median(walls[WORKERS[0]]) * WORKERS[0]
    rows = []
    for w in WORKERS:
        t = statistics.median(walls[w])
        rows.append((f"{w} worker{'s' if w > 1 else ''} (np {w + 1})", f"{t:.2f} s",
                     f"speed-up {base / t:.2f}x, efficiency {100 * base / t / w:.0f}%",
                     f"master CPU {statistics.median(cpus[w]):.1f}% of a core"))
    return rows


def storm(tmp):
    sweep = os.path.join(tmp, "tiny.yaml")
    with open(sweep, "w") as f:
        f.write(TINY.format(n=20000))
    rows = []
    for w in (1, 4, 15):
        rates, cpus = [], []
        for _ in range(REPEATS):
            done, wall, cpu = run_sweep(w + 1, sweep, os.path.join(tmp, "tiny.h5"))
            rates.append(done / wall)
            cpus.append(cpu)
        rows.append((f"{w} workers", f"{statistics.median(rates):.0f} tasks/s", "20,000 tasks of ~0 s",
                     f"master CPU {statistics.median(cpus):.0f}% of a core"))
    return rows


def create(tmp):
    sweep = os.path.join(tmp, "million.yaml")
    with open(sweep, "w") as f:
        f.write(TINY.format(n=1000000))
    rows = []
    for np_ in (1, 4, 16):
        times = []
        for _ in range(REPEATS):
            p = subprocess.Popen(launch(np_, sweep, os.path.join(tmp, "million.h5")), env=ENV, stderr=subprocess.PIPE, text=True, start_new_session=True)
            for line in p.stderr:
                m = re.search(r"created .* in ([\d.]+) s", line)
                if m:
                    times.append(float(m.group(1)))
                    os.killpg(p.pid, signal.SIGKILL)
                    break
            p.wait()
        rows.append((f"np {np_}", f"{statistics.median(times):.1f} s", "1,000,000-task file", ""))
    return rows


def main():
    with tempfile.TemporaryDirectory() as tmp:
        print(f"# sweep engine scaling, {time.strftime('%Y-%m-%d')}, {os.cpu_count()} cores, median of {REPEATS}\n")
        for title, fn in (("real sweep", real), ("dispatch storm", storm), ("creation", create)):
            table(title, fn(tmp))


main()
