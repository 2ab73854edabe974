"""Benchmarks of the sweep engine (issue: MPI sweep engine and the shared HDF5 file).

  overhead  many tiny tasks through the master: tasks/s and per-task overhead (1 and 2 workers)
  scaling   a real concept sweep with 1 worker vs 2 workers (np 2 vs np 3): throughput ratio
  size      a 1,000,000-task grid: file creation time, file size, master peak memory

Run: /usr/bin/python3 bench/sweep/bench_sweep.py [build/iclsweep] [--repeats N]
Each figure is the median of N runs (default 3); results go to stdout as a Markdown table.
"""
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time

BIN = sys.argv[1] if len(sys.argv) > 1 and not sys.argv[1].startswith("--") else "build/iclsweep"
REPEATS = int(sys.argv[sys.argv.index("--repeats") + 1]) if "--repeats" in sys.argv else 3
ENV = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMPI_ALLOW_RUN_AS_ROOT="1",
           OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")

# steps 0: a task is its data, one evaluation and its row writes; what is left is overhead.
TINY = """\
model: linattn
seed: 1
replicates: {n}
fixed: {{D: 1, N: 1, P: 1, P_test: 1, steps: 0, log_every: 1, theory: false}}
"""

REAL = """\
model: concept
seed: 2
replicates: 2
fixed: {d: 32, L: 16, width: 16, n_train: 1024, n_test: 512, steps: 400, log_every: 50}
grid:
  K: [2, 4, 8]
  noise: [0.01, 0.1, 0.3, 1.0]
"""


def launch(np_, sweep, out):
    cmd = [BIN, "run", sweep, "-o", out, "--force"]
    return cmd if np_ == 1 else ["mpirun", "-np", str(np_), "--oversubscribe", *cmd]


def run_sweep(np_, sweep, out):
    p = subprocess.run(launch(np_, sweep, out), env=ENV, stderr=subprocess.PIPE, text=True)
    log = p.stderr
    m = re.search(r"(\d+) tasks finished in ([\d.]+) s", log)
    cpu = re.search(r"\(([\d.]+)% of a core\), peak memory ([\d.]+) MB", log)
    if p.returncode != 0 or not m:
        raise RuntimeError(f"run failed ({p.returncode}): {log}")
    return int(m.group(1)), float(m.group(2)), float(cpu.group(1)), float(cpu.group(2))


def overhead(tmp):
    rows = []
    n = 20000
    sweep = os.path.join(tmp, "tiny.yaml")
    with open(sweep, "w") as f:
        f.write(TINY.format(n=n))
    for np_, label in ((1, "1 rank, no master"), (2, "1 worker"), (3, "2 workers")):
        rates, cpus = [], []
        for _ in range(REPEATS):
            done, wall, cpu, _ = run_sweep(np_, sweep, os.path.join(tmp, "tiny.h5"))
            rates.append(done / wall)
            cpus.append(cpu)
        rate = statistics.median(rates)
        workers = max(np_ - 1, 1)
        rows.append((label, f"{rate:.0f} tasks/s", f"{1e3 * workers / rate:.3f} ms per task per worker",
                     f"rank 0 CPU {statistics.median(cpus):.1f}% of a core"))
    return rows


def scaling(tmp):
    sweep = os.path.join(tmp, "real.yaml")
    with open(sweep, "w") as f:
        f.write(REAL)
    ratios, walls, cpus = [], {2: [], 3: []}, {2: [], 3: []}
    for _ in range(REPEATS):
        for np_ in (2, 3):  # alternate, so drift on a shared machine hits both
            done, wall, cpu, _ = run_sweep(np_, sweep, os.path.join(tmp, "real.h5"))
            walls[np_].append(wall)
            cpus[np_].append(cpu)
        ratios.append(walls[2][-1] / walls[3][-1])
    return [("np 2 (1 worker)", f"{statistics.median(walls[2]):.2f} s", "24 concept tasks",
             f"master CPU {statistics.median(cpus[2]):.1f}% of a core"),
            ("np 3 (2 workers)", f"{statistics.median(walls[3]):.2f} s", "24 concept tasks",
             f"master CPU {statistics.median(cpus[3]):.1f}% of a core"),
            ("throughput ratio", f"{statistics.median(ratios):.2f}x", f"runs: {['%.2f' % r for r in ratios]}", "")]


def size(tmp):
    sweep = os.path.join(tmp, "million.yaml")
    with open(sweep, "w") as f:
        f.write(TINY.format(n=1000000))
    out = os.path.join(tmp, "million.h5")
    rows = []
    for np_ in (1, 2):
        creates = []
        for _ in range(REPEATS):
            t0 = time.time()
            p = subprocess.Popen(launch(np_, sweep, out), env=ENV, stderr=subprocess.PIPE, text=True,
                                 start_new_session=True)
            create = None
            log = ""
            for line in p.stderr:
                log += line
                m = re.search(r"created .* in ([\d.]+) s", line)
                if m:
                    create = float(m.group(1))
                if "to run" in line:
                    os.killpg(p.pid, signal.SIGUSR1) if np_ > 1 else p.send_signal(signal.SIGUSR1)
            p.wait()
            mem = re.search(r"peak memory ([\d.]+) MB", log)
            creates.append((create, time.time() - t0, float(mem.group(1)) if mem else float("nan")))
        c = statistics.median(x[0] for x in creates)
        total = statistics.median(x[1] for x in creates)
        mem = statistics.median(x[2] for x in creates)
        rows.append((f"1,000,000 tasks, np {np_}", f"creation {c:.1f} s (whole start {total:.1f} s)",
                     f"file {os.path.getsize(out) / 1e6:.0f} MB", f"rank 0 peak memory {mem:.0f} MB"))
    return rows


def main():
    with tempfile.TemporaryDirectory() as tmp:
        print(f"# sweep engine benchmark, {time.strftime('%Y-%m-%d')}, {os.cpu_count()} cores, "
              f"median of {REPEATS}\n")
        for title, fn in (("overhead", overhead), ("scaling", scaling), ("size", size)):
            print(f"## {title}\n\n| case | figure | detail | |\n|---|---|---|---|")
            for row in fn(tmp):
                print("| " + " | ".join(row) + " |")
            print()


main()
