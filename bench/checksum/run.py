"""What the row checksums cost (issue 20), written to bench/RESULTS-checksum.md.

  /usr/bin/python3 bench/checksum/run.py [--runs N] [--build DIR]

For two shapes of the concept model's layout (many short rows; fewer long ones):
- writer: bench/checksum/checksum_bench creates a file and writes every row finished as a worker
  does (isw_store_write_result: /traj, /final, bookkeeping, checksum, status), and times the
  checksum alone (isw_store_row_checksum) over the same rows: seconds per row of each and their
  ratio;
- readers, on that file (warm page cache; medians of N runs, alternating): `iclsweep verify`,
  `iclsweep status` (which now checks every finished row too), the Python reader's check
  (iclsweep.checksum.check_rows), and as the peer a plain h5py read of the same datasets whole
  (what reading the bytes costs at all): MB/s of the data the checksums cover.
Tasks of the real models take 0.1 s to hours; a row's write and checksum take microseconds to
milliseconds, so the writer's figure is the checksum's share of a row write. Run on a quiet
machine: the reader figures are memory and page-cache bound.
"""
import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time

import h5py
import numpy as np

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "analysis"))
from iclsweep import checksum, reader  # noqa: E402

ENV = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
SHAPES = [(20000, 50), (1000, 1000)]  # (rows, log points)


def build(tree):
    subprocess.run(["cmake", "-S", ROOT, "-B", tree, "-DCMAKE_BUILD_TYPE=Release"], check=True,
                   stdout=subprocess.DEVNULL)
    subprocess.run(["cmake", "--build", tree, "-j2", "--target", "checksum_bench", "iclsweep"], check=True,
                   stdout=subprocess.DEVNULL)
    return os.path.join(tree, "tests", "checksum_bench"), os.path.join(tree, "iclsweep")


def timed(fn):
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def covered_bytes(path):
    """Bytes of the datasets the checksums cover, over every (finished) row: the data read."""
    with h5py.File(path, "r") as f:
        names = f["tasks/checksum"].attrs["covers"]
        names = (names.decode() if isinstance(names, bytes) else names).split(" ")
        return sum(f[n].id.get_storage_size() for n in names), names


def peer_read(path, names):
    with h5py.File(path, "r") as f:
        for n in names:
            f[n][()]


def python_check(path):
    with h5py.File(path, "r") as f:
        bad = checksum.check_rows(f, path, f["tasks/status"][()], reader.BOOKKEEPING)
    assert not bad.any()


def run_cmd(cmd):
    p = subprocess.run(cmd, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    assert p.returncode == 0, p.stderr


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--build", default=os.path.join(ROOT, "build-bench"))
    args = ap.parse_args()
    bench, prog = build(args.build)
    rows = []
    work = tempfile.mkdtemp(prefix="checksum_bench_")
    for tasks, S in SHAPES:
        path = os.path.join(work, f"f_{tasks}_{S}.h5")
        writes = []
        for _ in range(args.runs):
            if os.path.exists(path):
                os.unlink(path)
            out = subprocess.run([bench, path, str(tasks), str(S)], env=ENV, check=True, stdout=subprocess.PIPE,
                                 text=True).stdout
            vals = dict(line.split("=", 1) for line in out.split())
            writes.append((float(vals["checksum_s_per_row"]), float(vals["write_s_per_row"])))
        size, names = covered_bytes(path)
        times = {"verify": [], "status": [], "python": [], "peer": []}
        for _ in range(args.runs):
            times["verify"].append(timed(lambda: run_cmd([prog, "verify", path])))
            times["status"].append(timed(lambda: run_cmd([prog, "status", path])))
            times["python"].append(timed(lambda: python_check(path)))
            times["peer"].append(timed(lambda: peer_read(path, names)))
        med = {k: statistics.median(v) for k, v in times.items()}
        cs, wr = statistics.median(w[0] for w in writes), statistics.median(w[1] for w in writes)
        rows.append({"tasks": tasks, "S": S, "metrics": f"{vals['traj_metrics']} traj, {vals['final_metrics']} final, "
                     f"{vals['params']} params", "file_mb": os.path.getsize(path) / 1e6, "covered_mb": size / 1e6,
                     "checksum_us": cs * 1e6, "write_us": wr * 1e6, "share": cs / wr,
                     **{f"{k}_s": v for k, v in med.items()},
                     **{f"{k}_mbs": size / 1e6 / v for k, v in med.items()}})
        os.unlink(path)
    write_results(rows, args.runs)


def write_results(rows, runs):
    lines = [
        "# Row checksums: what they cost (issue 20)",
        "",
        f"`bench/checksum/run.py` on {platform.node()} ({platform.processor() or platform.machine()}, "
        f"{os.cpu_count()} cores), {time.strftime('%Y-%m-%d')}, Release build, medians of {runs} runs, warm page "
        "cache, load average at the start "
        f"{os.getloadavg()[0]:.1f}. The file is the concept model's layout (what a sweep of it writes); every "
        "row is finished.",
        "",
        "## Writing a row",
        "",
        "`isw_store_write_result` writes a finished row as a worker does (its /traj and /final rows, wall "
        "time, steps, error, checksum, status: one independent MPI-IO write per dataset, durability "
        "order); `isw_store_row_checksum` alone resolves the row's identity and parameters from the "
        "layout and hashes every word it covers.",
        "",
        "| rows x log points | metrics | checksum per row | whole row write | checksum's share |",
        "|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(f"| {r['tasks']} x {r['S']} | {r['metrics']} | {r['checksum_us']:.1f} us | "
                     f"{r['write_us']:.0f} us | {100 * r['share']:.1f}% |")
    lines += [
        "",
        "A task of the real models trains for 0.1 s (a tiny concept point) to hours, so the checksum adds "
        "well under 0.1% to a task even at the small end.",
        "",
        "## Reading and checking",
        "",
        "MB/s of the data the checksums cover (every finished row's identity, parameters, log points and "
        "finals). The peer is a plain h5py read of the same datasets whole, without hashing: what reading "
        "the bytes costs at all.",
        "",
        "| rows x log points | file | covered | `iclsweep verify` | `iclsweep status` | Python reader's check | "
        "peer: h5py read |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(f"| {r['tasks']} x {r['S']} | {r['file_mb']:.0f} MB | {r['covered_mb']:.0f} MB | "
                     f"{r['verify_s']:.2f} s, **{r['verify_mbs']:.0f} MB/s** | {r['status_s']:.2f} s, "
                     f"{r['status_mbs']:.0f} MB/s | {r['python_s']:.2f} s, {r['python_mbs']:.0f} MB/s | "
                     f"{r['peer_s']:.2f} s, {r['peer_mbs']:.0f} MB/s |")
    lines += [
        "",
        "`verify` and `status` include the program's start and the child process each reads in; the "
        "Python figure is `iclsweep.checksum.check_rows` alone (the reader's `load` adds its own "
        "reading). On a cold cache all of them wait on the disk instead.",
        "",
    ]
    with open(os.path.join(ROOT, "bench", "RESULTS-checksum.md"), "w") as f:
        f.write("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
