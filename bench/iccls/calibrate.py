#!/usr/bin/python3
"""Calibration sweep of the iccls model with its PyTorch peer (bench/peers/iccls_peer.py).

    nice /usr/bin/python3 bench/iccls/calibrate.py STAGE [JOBS]

runs the runs of one stage (STAGES below: a base point, the keys varied and the seeds), JOBS peer
processes at a time (default 2), each writing its trajectory, one JSON line per log point, to
bench/iccls/calib/<stage>/<key=value,...>.jsonl (the keys it changes from KNOWN_GOOD). A run whose
file already ends with its final line is skipped, so a stopped sweep resumes.
bench/iccls/calibrate_c.sh runs the same with the C kernels; bench/iccls/calib_plot.py summarises
and draws both; bench/iccls/calibration.md records what was run and what it decided.
"""
import itertools
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
PEER = os.path.join(HERE, "..", "peers", "iccls_peer.py")

# The known good start of the model's description, the base of every run (a run's file is named
# by what it changes): N=4, L=16, D=31, Nmax=8, batch 64, K=256, B=1, p_B=1, p_C=1, eps=0.1,
# lr=0.1, 10,000 steps, logged every 100 steps on test sets of 1000.
KNOWN_GOOD = dict(N=4, L=16, D=31, Nmax=8, batch=64, K=256, B=1, p_B=1.0, p_C=1.0, eps=0.1, alpha=0.0,
                  lr=0.1, steps=10000, log_every=100, n_test=1000)
STAGES = {
    # lr x seeds at the known good start (all training sequences novel: pure ICL pressure)
    "lr": dict(base={}, grid={"lr": [0.05, 0.1, 0.2]}, seeds=range(1, 7)),
    # the same with training classes only (p_C = 0), where ICL competes with IWL (stopped after
    # seeds 1 and 2 of lr = 0.1, which settled it: IWL at K = 256)
    "pc0": dict(base={"p_C": 0.0}, grid={"lr": [0.1]}, seeds=range(1, 3)),
    # the peer at the chosen default point (p_C = 0, K = 1024), the C half having run 8 seeds
    "default": dict(base={"p_C": 0.0, "K": 1024}, grid={"lr": [0.1]}, seeds=range(1, 3)),
    # how often the peer stalls at ln L (the C kernels did in 3 of 8 seeds): more seeds, shorter
    "stall": dict(base={"p_C": 0.0, "K": 1024, "steps": 4000}, grid={"lr": [0.1]}, seeds=range(3, 11)),
}


def runs(stage):
    st = STAGES[stage]
    keys = list(st["grid"])
    for values in itertools.product(*(st["grid"][k] for k in keys)):
        for seed in st["seeds"]:
            kv = dict(st["base"], **dict(zip(keys, values)), seed=seed)
            yield ",".join(f"{k}={v}" for k, v in kv.items()), kv


def done(path):
    try:
        with open(path) as f:
            return '"final": true' in f.read()
    except OSError:
        return False


def main():
    stage = sys.argv[1]
    jobs = int(sys.argv[2]) if len(sys.argv) > 2 else 2
    out = os.path.join(HERE, "calib", stage)
    os.makedirs(out, exist_ok=True)
    todo = [(tag, kv) for tag, kv in runs(stage) if not done(os.path.join(out, tag + ".jsonl"))]
    running = []
    env = dict(os.environ, OMP_NUM_THREADS="1")
    while todo or running:
        while todo and len(running) < jobs:
            tag, kv = todo.pop(0)
            f = open(os.path.join(out, tag + ".jsonl"), "w")
            args = ["/usr/bin/python3", PEER, "train"] + [f"{k}={v}" for k, v in dict(KNOWN_GOOD, **kv).items()]
            running.append((subprocess.Popen(args, stdout=f, env=env), f, tag))
        p, f, tag = running.pop(0)
        p.wait()
        f.close()
        print(f"{stage}: {tag} exit {p.returncode}", flush=True)


if __name__ == "__main__":
    main()
