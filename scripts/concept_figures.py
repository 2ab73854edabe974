"""Draws the figures of docs/science.md (concept model) from the result files of the example
sweeps, one figure per claim. Run by scripts/concept-figures.sh, which runs the sweeps first:

    /usr/bin/python3 scripts/concept_figures.py DIR_WITH_H5 OUT_DIR

Every number drawn comes from the files through the iclsweep package (analysis/): means over
replicates with the band every replicate lies in, or 95% t intervals; nothing is typed in by hand."""
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from scipy import stats  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "analysis"))
import iclsweep  # noqa: E402


def mean_ci(values):
    """(mean, half-width of the 95% t interval) of a 1-D sample; half-width 0 for one value."""
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    if len(v) == 0:
        return np.nan, np.nan
    if len(v) == 1:
        return v[0], 0.0
    return v.mean(), stats.t.ppf(0.975, len(v) - 1) * v.std(ddof=1) / np.sqrt(len(v))


def curve(traj, metric):
    """(steps, mean, min, max) of a metric over replicates at each log point."""
    g = traj.groupby("step")[metric]
    return (np.array(sorted(g.groups)), g.mean().to_numpy(), g.min().to_numpy(),
            g.max().to_numpy())


def draw(ax, traj, metric, label, **kw):
    """The mean over replicates, and the band every replicate lies in (with three replicates a
    t interval is wider than the data and crosses zero on a log axis)."""
    s, m, lo, hi = curve(traj, metric)
    line, = ax.plot(s, m, label=label, **kw)
    ax.fill_between(s, lo, hi, color=line.get_color(), alpha=0.15, lw=0)


def dynamics(path, out):
    """Four panels at the default point: errors (log y) with the fitted decay rate, caw, attention
    products and MLP cosines, against steps; solid random label map, dashed fixed."""
    df, traj = iclsweep.load(path), iclsweep.load_traj(path)
    fig, axes = plt.subplots(2, 2, figsize=(11, 8), constrained_layout=True)
    styles = {"random": "-", "fixed": "--"}
    for lm, ls in styles.items():
        t = traj[traj.label_map == lm]
        rate, _ = mean_ci(df[df.label_map == lm].test_err_decay)
        draw(axes[0, 0], t, "test_err", f"test, {lm} (rate {rate:.3f}/step)", ls=ls, color="C0")
        draw(axes[0, 0], t, "train_err", f"train, {lm}", ls=ls, color="C1")
        draw(axes[0, 1], t, "caw", f"caw, {lm}", ls=ls, color="C2")
        draw(axes[0, 1], t, "caw_sel", f"caw_sel, {lm}", ls=ls, color="C3")
        for i, m in enumerate(["attn_concept", "attn_concept_min", "attn_complement", "attn_noise"]):
            draw(axes[1, 0], t, m, f"{m}, {lm}" if lm == "random" else None, ls=ls, color=f"C{i}")
        for i, m in enumerate(["mlp_concept", "mlp_label_c", "mlp_complement", "mlp_noise"]):
            draw(axes[1, 1], t, m, f"{m}, {lm}" if lm == "random" else None, ls=ls, color=f"C{i}")
    axes[0, 0].set_yscale("log")
    axes[0, 0].set_title("0-1 error: exponential decay, train = test")
    axes[0, 1].set_title("correct attention weight")
    axes[1, 0].set_title("attention products on W_K^T W_Q (dashed: fixed map)")
    axes[1, 1].set_title("MLP cosines (dashed: fixed map)")
    for ax in axes.flat:
        ax.set_xlabel("step")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    n = df.groupby("label_map").size().min()
    fig.suptitle(f"concept model at its default point: mean over {n} replicates, band from the lowest to the highest")
    fig.savefig(out, dpi=110)
    plt.close(fig)


OOD = ["test_err", "ood_short_err", "ood_long_err", "ood_skew_err", "ood_switch_err", "ood_cross_err"]


def ood(path, out):
    """Final test and OOD errors against word noise, one panel per polysemy level."""
    df = iclsweep.load(path)
    polys = sorted(df.p_poly.unique())
    fig, axes = plt.subplots(1, len(polys), figsize=(5 * len(polys), 4.2), sharey=True,
                             constrained_layout=True)
    floor = 1e-4  # an error of 0 is drawn here so that it shows on the log axis
    for ax, p in zip(np.atleast_1d(axes), polys):
        d = df[df.p_poly == p]
        for i, m in enumerate(OOD):
            g = d.groupby("noise")[m]
            x = np.array(sorted(g.groups))
            mc = np.array([mean_ci(g.get_group(v)) for v in x])
            y = np.maximum(mc[:, 0], floor)
            ax.errorbar(x + 1e-3, y, yerr=mc[:, 1], marker="o", ms=3, capsize=2, label=m,
                        color=f"C{i}", ls="-" if m == "test_err" else "--")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("word noise (+0.001 so that 0 shows)")
        ax.set_title(f"p_poly = {p:g}")
        ax.grid(alpha=0.3)
    np.atleast_1d(axes)[0].set_ylabel(f"final 0-1 error (0 drawn at {floor:g})")
    np.atleast_1d(axes)[0].legend(fontsize=8)
    n = df.groupby(["noise", "p_poly"]).size().min()
    fig.suptitle(f"out-of-distribution errors of the trained model: mean over {n} replicates, 95% t")
    fig.savefig(out, dpi=110)
    plt.close(fig)


QK = ["caw", "caw_sel", "attn_concept_min", "test_err", "ood_switch_err", "ood_cross_err"]


def qk_init(path, out):
    """Each replicate's final values, tied against independent W_K init, per label map."""
    df = iclsweep.load(path)
    fig, axes = plt.subplots(2, 3, figsize=(11, 7), constrained_layout=True)
    axes = axes.ravel()
    rng = np.random.default_rng(0)  # horizontal jitter only
    inits, maps = ["tied", "independent"], ["random", "fixed"]
    for ax, m in zip(axes, QK):
        for i, qi in enumerate(inits):
            for j, lm in enumerate(maps):
                v = df[(df.qk_init == qi) & (df.label_map == lm)][m].to_numpy()
                x = 2 * i + j + rng.uniform(-0.15, 0.15, len(v))
                ax.scatter(x, v, s=14, color=f"C{j}", label=lm if (i == 0 and m == QK[0]) else None)
        ax.set_xticks([0.5, 2.5], inits)
        ax.set_title(m)
        ax.grid(alpha=0.3)
        if m == "attn_concept_min":
            ax.axhline(0, color="k", lw=0.8)
    axes[0].legend(title="label map", fontsize=8)
    n = df.groupby(["qk_init", "label_map"]).size().min()
    fig.suptitle(f"qk_init ablation: final values of each of {n} replicates per cell")
    fig.savefig(out, dpi=110)
    plt.close(fig)


def init_lr(path, out):
    """caw at step 0 and the first step below 1% test error, over init scale x learning rate."""
    df, traj = iclsweep.load(path), iclsweep.load_traj(path)
    first = traj[traj.step == traj.step.min()].groupby(["init", "lr"]).caw.mean().unstack()
    g = df.groupby(["init", "lr"]).step_err_below_1pct
    reach = g.mean().unstack()  # over the replicates that reached 1%
    reached = g.count().unstack().to_numpy()
    n = df.groupby(["init", "lr"]).size().min()
    steps = int(traj.step.max())
    fig, axes = plt.subplots(1, 2, figsize=(11, 4), constrained_layout=True)
    for ax, z, what in [(axes[0], first, "caw at step 0"),
                        (axes[1], reach, f"first step with test_err < 1% (blank: not in {steps})")]:
        im = ax.imshow(z.to_numpy(), origin="lower", aspect="auto", cmap="viridis")
        ax.set_xticks(range(z.shape[1]), [f"{v:g}" for v in z.columns])
        ax.set_yticks(range(z.shape[0]), [f"{v:g}" for v in z.index])
        ax.set_xlabel("lr")
        ax.set_ylabel("init")
        ax.set_title(what)
        values = z.to_numpy()
        mid = np.nanmean([np.nanmin(values), np.nanmax(values)])
        for (r, c), v in np.ndenumerate(values):
            if not np.isfinite(v):
                continue
            text = f"{v:.2f}" if v < 2 else f"{v:.0f}"
            if z is reach and reached[r, c] < n:
                text += f"\n({reached[r, c]} of {n})"
            ax.text(c, r, text, ha="center", va="center", color="k" if v > mid else "w",
                    fontsize=9)
        fig.colorbar(im, ax=ax)
    fig.suptitle(f"init scale and learning rate: mean over {n} replicates (right: over those that "
                 "reached 1%, counted where not all did)")
    fig.savefig(out, dpi=110)
    plt.close(fig)


def main(src, dst):
    os.makedirs(dst, exist_ok=True)
    for name, fn in [("concept_dynamics", dynamics), ("concept_ood", ood),
                     ("concept_qk_init", qk_init), ("concept_init_lr", init_lr)]:
        h5 = os.path.join(src, name + ".h5")
        png = os.path.join(dst, name + ".png")
        fn(h5, png)
        print("wrote", png)


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
