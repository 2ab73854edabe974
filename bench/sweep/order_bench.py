"""Coarse-to-fine against longest-first dispatch (issue: grow a sweep, map coarse-to-fine).

Takes a finished result file of a sweep (its measured task times, /tasks/wall_s) and replays the
master's list scheduling in each order, `iclsweep plan --order O` giving the order: the makespan
with W workers, and what a prefix of the order covers (plan's coverage lines).

Run: /usr/bin/python3 bench/sweep/order_bench.py BIN SWEEP.yaml RESULT.h5 [--workers 2,4,8,15]
"""
import heapq
import re
import subprocess
import sys

import h5py
import numpy as np

BIN, SWEEP, RESULT = sys.argv[1:4]
WORKERS = [int(x) for x in (sys.argv[sys.argv.index("--workers") + 1] if "--workers" in sys.argv
                            else "2,4,8,15").split(",")]


def plan(order, n):
    out = subprocess.run([BIN, "plan", SWEEP, "--list", str(n), "--order", order], stdout=subprocess.PIPE,
                         text=True, check=True).stdout
    tasks = [int(x) for x in re.search(r"first tasks handed out:(.*)", out).group(1).split()]
    coverage = re.findall(r"first +(\d+)% \(\d+ tasks\):(.*)", out)
    return tasks, coverage


def makespan(order, times, workers):
    free = [0.0] * workers
    for t in order:
        heapq.heappush(free, heapq.heappop(free) + times[t])
    return max(free)


with h5py.File(RESULT, "r") as f:
    times = f["tasks/wall_s"][:]
    status = f["tasks/status"][:]
assert (status == 2).all() or (status == 4).any(), "a finished result file"
n = len(times)
orders = {o: plan(o, n) for o in ("longest", "coarse")}
print(f"# dispatch orders on {SWEEP} ({n} tasks, measured task times {times.sum():.0f} s in all, "
      f"{times.min():.2f}-{times.max():.2f} s each)\n")
print("| workers | longest-first makespan | coarse-to-fine makespan | ratio |\n|---|---|---|---|")
for w in WORKERS:
    a, b = makespan(orders["longest"][0], times, w), makespan(orders["coarse"][0], times, w)
    print(f"| {w} | {a:.1f} s | {b:.1f} s | {b / a:.3f} |")
print("\n| order | prefix | values of each axis touched |\n|---|---|---|")
for o, (_, cov) in orders.items():
    for pct, text in cov:
        print(f"| {o} | {pct}% | {text.strip()} |")
