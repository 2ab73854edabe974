"""How close `iclsweep plan`'s wall-time estimate comes to a real run, on this machine.

For a small concept sweep and a small linattn sweep (a few seconds each): plan's estimate with one
worker against the measured wall time of `mpirun -np 2 iclsweep run` (one worker), alternated over
several rounds; prints the median ratio estimate / measured and the range. The ratio depends on the
machine's load (plan calibrates in a 0.1 s run, the sweep runs for seconds), which is why this is a
benchmark and not a test.

Run: /usr/bin/python3 bench/sweep/plan_time.py build/iclsweep [--rounds 5]
"""
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

BIN = sys.argv[1] if len(sys.argv) > 1 else "build/iclsweep"
ROUNDS = int(sys.argv[sys.argv.index("--rounds") + 1]) if "--rounds" in sys.argv else 5
ENV = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
SWEEPS = {
    "concept": "model: concept\nseed: 12\nreplicates: 2\nfixed: {n_train: 1024, n_test: 512, steps: 300, "
               "log_every: 30}\ngrid:\n  K: [2, 4]\n",
    "linattn": "model: linattn\nseed: 12\nfixed: {D: 10, N: 40, P: 400, P_test: 400, steps: 1500, log_every: 50}\n"
               "grid:\n  optimizer: [adam, gd, langevin]\n",
}
UNITS = {"s": 1.0, "min": 60.0, "h": 3600.0, "days": 86400.0}


def estimate(path):
    out = subprocess.run([BIN, "plan", path, "--list", "0"], env=ENV, stdout=subprocess.PIPE, text=True,
                         check=True).stdout
    m = re.search(r"1 worker ([0-9.e+-]+) (s|min|h|days)", out)
    return float(m.group(1)) * UNITS[m.group(2)]


def measure(path, out):
    t0 = time.monotonic()
    subprocess.run(["mpirun", "-np", "2", "--oversubscribe", BIN, "run", path, "-o", out, "--force",
                    "--quiet"], env=ENV, check=True, stdout=subprocess.DEVNULL)
    return time.monotonic() - t0


def main():
    with tempfile.TemporaryDirectory() as d:
        print(f"# plan's estimate against a run with 1 worker, {time.strftime('%Y-%m-%d')}, "
              f"load {os.getloadavg()[0]:.1f}, {ROUNDS} rounds\n")
        print("| sweep | median estimate / measured | range | median measured |")
        print("|---|---|---|---|")
        for name, text in SWEEPS.items():
            path = os.path.join(d, f"{name}.yaml")
            with open(path, "w") as f:
                f.write(text)
            ratios, walls = [], []
            for _ in range(ROUNDS):
                est = estimate(path)
                wall = measure(path, os.path.join(d, f"{name}.h5"))
                ratios.append(est / wall)
                walls.append(wall)
            print(f"| {name} | {statistics.median(ratios):.2f} | {min(ratios):.2f}-{max(ratios):.2f} | "
                  f"{statistics.median(walls):.2f} s |")


if __name__ == "__main__":
    main()
