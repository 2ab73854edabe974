"""Whole-task benchmark (issue 12): what one task costs as a process, and how well `plan`'s
estimates match.

    /usr/bin/python3 bench/task/run.py [RUNS]      (default 3; writes bench/RESULTS-task.md)

1. Memory: the model's estimate (`iclsweep plan --no-time`) against the peak resident memory of
   `iclsweep train` (/usr/bin/time), at a few points of both models; the estimate should be within
   1.5x.
2. Time: `iclsweep train` as a whole process (start, data, steps, evaluation, printing) at the
   default concept point with steps 0 (the fixed cost) and 2000, and at the demo sweep's shape
   (n_test 1024, 600 steps, log every 30, K 4), each against the PyTorch peer
   (bench/peers/concept_peer.py) as a whole process in float64 and float32 (when /usr/bin/python3
   has torch), run alternately RUNS times (iclsweep three times per round); medians.
One BLAS thread, one torch thread. Uses build/iclsweep (or $ICLSWEEP_BIN).
"""
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.environ.get("ICLSWEEP_BIN", os.path.join(ROOT, "build", "iclsweep"))
PEER = os.path.join(ROOT, "bench", "peers", "concept_peer.py")
ENV = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1")

MEMORY_POINTS = [
    ("concept default", "concept", "steps: 0"),
    ("concept demo point (n_test 1024, K 16)", "concept", "steps: 0, n_test: 1024, K: 16"),
    ("concept d=128, L=32, n_test 4096", "concept", "steps: 0, d: 128, L: 32, n_test: 4096"),
    ("linattn default", "linattn", "steps: 100"),
    ("linattn D=10, P=20000", "linattn", "steps: 100, D: 10, P: 20000, P_test: 5000"),
]

# (label, fixed values for iclsweep, peer arguments: steps n_test log_every)
TIME_POINTS = [
    ("default point, steps 0 (fixed cost)", "steps: 0", ("0", "2048", "20")),
    ("default point, 2000 steps", "steps: 2000", ("2000", "2048", "20")),
    ("default point, 2000 steps, log every 100", "steps: 2000, log_every: 100", ("2000", "2048", "100")),
    ("demo shape, 600 steps", "steps: 600, n_test: 1024, log_every: 30", ("600", "1024", "30")),
]


def sweep_file(tmp, name, model, fixed):
    path = os.path.join(tmp, name + ".yaml")
    with open(path, "w") as f:
        f.write(f"model: {model}\nseed: 7\nfixed: {{{fixed}}}\n")
    return path


def peak_rss_mb(cmd):
    p = subprocess.run(["/usr/bin/time", "-f", "maxrss_kb=%M"] + cmd, env=ENV, stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE, text=True, check=True)
    return int(re.search(r"maxrss_kb=(\d+)", p.stderr).group(1)) * 1024 / 1e6


def estimate_mb(sweep):
    out = subprocess.run([BIN, "plan", sweep, "--no-time", "--list", "0"], env=ENV, stdout=subprocess.PIPE,
                         text=True, check=True).stdout
    return float(re.search(r"memory: about (\d+) MB", out).group(1))


def wall(cmd):
    t0 = time.perf_counter()
    subprocess.run(cmd, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return time.perf_counter() - t0


def have_torch():
    return subprocess.run(["/usr/bin/python3", "-c", "import torch"], stderr=subprocess.DEVNULL).returncode == 0


def main():
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    lines = ["# Whole-task benchmark", "",
             f"`bench/task/run.py {runs}` on {os.uname().nodename} ({os.cpu_count()} cores), "
             f"{time.strftime('%Y-%m-%d')}; one BLAS thread, one torch thread; medians of {runs} "
             "alternating rounds (iclsweep three times per round: median, min-max of its runs).", "",
             "## Memory: estimate vs peak resident memory of `iclsweep train`", "",
             "| point | estimate (MB) | measured peak RSS (MB) | ratio |", "|---|---|---|---|"]
    with tempfile.TemporaryDirectory() as tmp:
        for i, (label, model, fixed) in enumerate(MEMORY_POINTS):
            sw = sweep_file(tmp, f"m{i}", model, fixed)
            est, got = estimate_mb(sw), peak_rss_mb([BIN, "train", sw, "--format", "csv"])
            lines.append(f"| {label} | {est:.0f} | {got:.0f} | {est / got:.2f} |")
            print(lines[-1], flush=True)
        torch = have_torch()
        lines += ["", "## Time: one task as a whole process (seconds)", "",
                  "| point | iclsweep train | peer float64 | peer float32 | peer64 / iclsweep | peer32 / iclsweep |",
                  "|---|---|---|---|---|---|"]
        for i, (label, fixed, peer_args) in enumerate(TIME_POINTS):
            sw = sweep_file(tmp, f"t{i}", "concept", fixed)
            c, p64, p32 = [], [], []
            for _ in range(runs):
                # iclsweep three times per round: its runs are short, so their median needs more
                c += [wall([BIN, "train", sw, "--format", "csv"]) for _ in range(3)]
                if torch:
                    p64.append(wall(["/usr/bin/python3", PEER, "task", *peer_args, "float64"]))
                    p32.append(wall(["/usr/bin/python3", PEER, "task", *peer_args, "float32"]))
            mc = statistics.median(c)
            m64 = statistics.median(p64) if p64 else float("nan")
            m32 = statistics.median(p32) if p32 else float("nan")
            lines.append(f"| {label} | {mc:.3f} ({min(c):.3f}-{max(c):.3f}) | {m64:.2f} | {m32:.2f} | "
                         f"{m64 / mc:.1f}x | {m32 / mc:.1f}x |")
            print(lines[-1], flush=True)
        if not torch:
            lines += ["", "The peer columns are NaN: /usr/bin/python3 has no torch on this machine "
                      "(Debian's python3-torch provides it)."]
    with open(os.path.join(ROOT, "bench", "RESULTS-task.md"), "w") as f:
        f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
