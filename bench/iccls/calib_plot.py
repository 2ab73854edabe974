#!/usr/bin/python3
"""Summary and figure of the iccls calibration sweep (bench/iccls/calibrate.py).

    /usr/bin/python3 bench/iccls/calib_plot.py STAGE [STAGE ...]

prints, per run, the reference level r = B/N (the context guess; N/2 copies when B = 0), t_icl
(the first log point where ic accuracy reaches the midpoint (r + 1) / 2), the rise width (steps
from the last log point below r + 0.2 (1 - r) to the first at or above r + 0.8 (1 - r)), the plateau
(ic accuracy at that last point below), and the final ic / iw accuracy, as a markdown table; then
per setting the number of seeds that jumped (reached 0.9) and the median t_icl; and draws
bench/iccls/calibration_<stages>.png: ic accuracy against steps, one panel per setting.
"""
import glob
import json
import math
import os
import statistics
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "peers"))
import iccls_peer  # noqa: E402
from calibrate import KNOWN_GOOD  # noqa: E402


def load(path):
    tag = os.path.basename(path)[:-6]
    kv = dict(x.split("=", 1) for x in tag.split(","))
    cfg = iccls_peer.parse([f"{k}={v}" for k, v in dict(KNOWN_GOOD, **kv).items()])
    rows = [json.loads(l) for l in open(path) if l.strip()]
    rows = [r for r in rows if "ic_acc" in r and not r.get("final")]
    return tag, kv, cfg, rows


def summary(cfg, rows):
    B = cfg["B"] if cfg["B"] > 0 else cfg["N"] // 2
    r = B / cfg["N"]
    lo, hi, mid = r + 0.2 * (1 - r), r + 0.8 * (1 - r), (r + 1) / 2
    steps = [x["step"] for x in rows]
    acc = [x["ic_acc"] for x in rows]
    t_icl = next((s for s, a in zip(steps, acc) if a >= mid), math.nan)
    i_hi = next((i for i, a in enumerate(acc) if a >= hi), None)
    width = plateau = math.nan
    if i_hi is not None:
        i_lo = max((i for i in range(i_hi) if acc[i] < lo), default=None)
        if i_lo is not None:
            width, plateau = steps[i_hi] - steps[i_lo], acc[i_lo]
    return dict(ref=r, t_icl=t_icl, width=width, plateau=plateau, final_ic=acc[-1],
                final_iw=rows[-1]["iw_acc"], jumped=max(acc) >= 0.9, steps=steps[-1])


def main(stages):
    runs = []
    for st in stages:
        paths = glob.glob(os.path.join(HERE, "calib", st, "*.jsonl"))
        for path in sorted(paths, key=lambda p: (p.rsplit("seed=", 1)[0], int(p.rsplit("seed=", 1)[1][:-6]))):
            tag, kv, cfg, rows = load(path)
            if rows:
                runs.append((st, tag, kv, cfg, rows, summary(cfg, rows)))
    print("| stage | run | B/N | t_icl | rise width | plateau | final ic | final iw | steps |")
    print("|---|---|---|---|---|---|---|---|---|")
    for st, tag, kv, cfg, rows, s in runs:
        print(f"| {st} | {tag} | {s['ref']:.2f} | {s['t_icl']:.0f} | {s['width']:.0f} | "
              f"{s['plateau']:.2f} | {s['final_ic']:.3f} | {s['final_iw']:.3f} | {s['steps']} |")
    groups = {}
    for st, tag, kv, cfg, rows, s in runs:
        key = st + ": " + ",".join(f"{k}={v}" for k, v in kv.items() if k != "seed")
        if "K" not in kv:
            key += f" (K={cfg['K']})"
        groups.setdefault(key, []).append((kv.get("seed"), rows, s, cfg["L"]))
    print("\n| setting | seeds jumped (ic acc >= 0.9) | median t_icl | t_icl range |")
    print("|---|---|---|---|")
    for key, g in groups.items():
        ts = [s["t_icl"] for _, _, s, _ in g if not math.isnan(s["t_icl"])]
        med = statistics.median(ts) if ts else math.nan
        rng = f"{min(ts):.0f}-{max(ts):.0f}" if ts else "-"
        print(f"| {key} | {sum(s['jumped'] for _, _, s, _ in g)} of {len(g)} | {med:.0f} | {rng} |")
    n = len(groups)
    cols = min(n, 3)
    rows_n = (n + cols - 1) // cols
    fig, axes = plt.subplots(rows_n, cols, figsize=(max(4.6 * cols, 9.0), 3.3 * rows_n + 0.4),
                             sharey=True, squeeze=False)
    for ax in axes.flat[n:]:
        ax.axis("off")
    for ax, (key, g) in zip(axes.flat, groups.items()):
        for i, (seed, rows, s, L) in enumerate(g):
            steps = [x["step"] for x in rows]
            color = f"C{i % 10}"
            ax.plot(steps, [x["ic_acc"] for x in rows], lw=1.2, color=color, label=f"seed {seed}")
            ax.plot(steps, [x["iw_acc"] for x in rows], lw=0.8, ls="--", color=color)
        r, L = g[0][2]["ref"], g[0][3]
        ax.axhline(r, color="gray", ls="--", lw=0.8)
        ax.text(0, r + 0.02, "B/N", color="gray", fontsize=8)
        ax.axhline(1.0 / L, color="gray", ls=":", lw=0.8)
        ax.text(0, 1.0 / L + 0.02, "1/L", color="gray", fontsize=8)
        ax.set_title(key, fontsize=8)
        ax.set_xlabel("training step")
        ax.set_ylim(0, 1.02)
    for ax in axes[:, 0]:
        ax.set_ylabel("accuracy")
    sizes = [len(g) for g in groups.values()]
    if max(sizes) <= 8:  # on the panel with the most seeds (seed k has colour k everywhere)
        axes.flat[sizes.index(max(sizes))].legend(fontsize=7, loc="center right")
    who = " and ".join(sorted({"C kernels (float64)" if st.startswith("c_") else "PyTorch peer (float32)"
                               for st in stages}))
    fig.suptitle(f"iccls calibration, {who}: ic accuracy (novel classes, solid) and iw accuracy "
                 "(dashed) per seed", fontsize=10)
    fig.tight_layout()
    out = os.path.join(HERE, f"calibration_{'_'.join(stages)}.png")
    fig.savefig(out, dpi=110)
    print(f"\nwrote {out}")
    if os.environ.get("PROGRESS"):
        progress(os.environ["PROGRESS"].split(";"))


def progress(paths):
    """The progress measures along training, one panel per run (PROGRESS="stage/run1.jsonl;stage/run2.jsonl"):
    ic accuracy with ILA1, TILA2, TLA2, CLA and PTA1 (bench/peers/iccls_peer.py defines them)."""
    fig, axes = plt.subplots(1, len(paths), figsize=(5.2 * len(paths), 3.6), squeeze=False)
    for ax, path in zip(axes[0], paths):
        tag, kv, cfg, rows = load(os.path.join(HERE, "calib", path))
        steps = [x["step"] for x in rows]
        for key, style in [("ic_acc", dict(color="black", lw=2)), ("cla", {}), ("ila1", {}),
                           ("tila2", {}), ("tla2", dict(ls="--")), ("pta1", dict(ls=":"))]:
            ax.plot(steps, [x[key] for x in rows], label=key, **style)
        s = summary(cfg, rows)
        if not math.isnan(s["t_icl"]):
            ax.axvline(s["t_icl"], color="gray", lw=0.8)
        ax.set_xlim(0, min(steps[-1], 3 * s["t_icl"]) if not math.isnan(s["t_icl"]) else steps[-1])
        who = "C" if path.startswith("c_") else "peer"
        ax.set_title(f"{who} ({path.split('/')[0]}): {tag}", fontsize=8)
        ax.set_xlabel("training step")
        ax.set_ylim(0, 1.02)
    axes[0][0].legend(fontsize=7, loc="center right")
    fig.suptitle("iccls progress measures on the ic set (first 1000 sequences); grey line: t_icl", fontsize=10)
    fig.tight_layout()
    out = os.path.join(HERE, "calibration_progress.png")
    fig.savefig(out, dpi=110)
    print(f"wrote {out}")


if __name__ == "__main__":
    main(sys.argv[1:])
