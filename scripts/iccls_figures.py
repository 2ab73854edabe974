"""Draws the figures of docs/science.md (iccls model and its companion) from the result files of
the example sweeps, one figure per claim. Run by scripts/iccls-figures.sh, which runs the sweeps
first:

    /usr/bin/python3 scripts/iccls_figures.py DIR_WITH_H5 OUT_DIR

Every number drawn comes from the files through the iclsweep package (analysis/): per-seed curves,
means over replicates with the band every replicate lies in, the regime maps of
`iclsweep-analyze phase --regime`, and the files' theory levels; nothing is typed in by hand."""
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "analysis"))
import iclsweep  # noqa: E402
from iclsweep import phase as phase_maps  # noqa: E402

REGIME = [("ic_score", 0.5, "ICL"), ("iw_score", 0.5, "IWL")]


def theory(df, column):
    """The file's theory value `column` (/theory/<column>; one value for the tasks of df)."""
    name = "theory/" + column
    v = df[name].unique() if name in df else []
    return float(v[0]) if len(v) == 1 else None


def level(ax, df, column, label, **kw):
    """A dashed horizontal line at the file's theory value, when one value holds for df."""
    v = theory(df, column)
    if v is not None:
        ax.axhline(v, ls="--", lw=1, label=f"{label} = {v:.3g}", **kw)


def transition(path, out):
    """The default point, 6 seeds: accuracies per seed; the progress measures aligned on each
    seed's t_icl (mean and range); the losses; the last layer's activity."""
    df, traj = iclsweep.load(path), iclsweep.load_traj(path)
    traj = traj.merge(df[["key", "t_icl"]], on="key")
    fig, axes = plt.subplots(2, 2, figsize=(12, 8), constrained_layout=True)
    ax = axes[0, 0]
    for i, (key, t) in enumerate(traj.groupby("key", sort=False)):
        ax.plot(t.step, t.ic_acc, color=f"C{i}", lw=1.2, label=f"seed {i}: t_icl {t.t_icl.iloc[0]:.0f}")
        ax.plot(t.step, t.ic2_acc, color=f"C{i}", lw=0.8, ls=":")
        ax.plot(t.step, t.iw_acc, color=f"C{i}", lw=0.8, ls="--")
    level(ax, df, "context_guess", "context guess B/N", color="k")
    level(ax, df, "chance_acc", "chance 1/L", color="0.5")
    ax.set_xscale("symlog", linthresh=1000)
    ax.set_title("ic accuracy (solid), ic2 (dotted), iw (dashed), per seed")
    ax.set_ylabel("accuracy")
    ax.legend(fontsize=7, ncol=2)
    ax = axes[0, 1]
    traj["rel"] = traj.step - traj.t_icl
    for i, m in enumerate(["ic_acc", "cla", "tla2", "ila1", "tila2", "pta1"]):
        g = traj.groupby("rel")[m]
        rel = np.array(sorted(g.groups))
        ok = (rel >= -1500) & (rel <= 1000)
        line, = ax.plot(rel[ok], g.mean().to_numpy()[ok], color=f"C{i}", label=m, lw=2 if m == "ic_acc" else 1.2)
        ax.fill_between(rel[ok], g.min().to_numpy()[ok], g.max().to_numpy()[ok], color=line.get_color(), alpha=0.15, lw=0)
    ax.axvline(0, color="k", lw=0.8)
    ax.set_xlabel("steps from each seed's t_icl")
    ax.set_title("progress measures around the jump\n(mean over seeds, band from min to max)")
    ax.legend(fontsize=8)
    ax = axes[1, 0]
    for i, (key, t) in enumerate(traj.groupby("key", sort=False)):
        ax.plot(t.step, t.ic_loss, color=f"C{i}", lw=1.2)
        ax.plot(t.step, t.iw_loss, color=f"C{i}", lw=0.8, ls="--")
    level(ax, df, "chance_loss", "chance loss ln L", color="k")
    ax.set_yscale("log")
    ax.set_xscale("symlog", linthresh=1000)
    ax.set_title("ic loss (solid) and iw loss (dashed), per seed")
    ax.legend(fontsize=8)
    ax = axes[1, 1]
    for i, (key, t) in enumerate(traj.groupby("key", sort=False)):
        ax.plot(t.step, t.h3_active, color=f"C{i}", lw=1)
        ax.plot(t.step, t.train_loss, color=f"C{i}", lw=0.8, ls="--")
    ax.set_xscale("symlog", linthresh=1000)
    ax.set_yscale("log")
    ax.set_title("h3_active (solid) and train_loss (dashed), per seed")
    for a in axes.flat:
        a.grid(alpha=0.3)
        if a is not axes[0, 1]:
            a.set_xlabel("step (linear to 1000, then log)")
            a.set_xlim(0, traj.step.max())
    fig.suptitle(f"iccls at its default point: the abrupt transition in {len(df)} seeds")
    fig.savefig(out, dpi=110)
    plt.close(fig)


def regime(path, out, x, y, **kw):
    """The regime map of the file over x and y (ICL where ic_score >= 0.5, IWL where iw_score >= 0.5)."""
    fig, _ = phase_maps.phase(path, x=x, y=y, regime=REGIME, **kw)
    fig.savefig(out, dpi=110, bbox_inches="tight")  # the analysis puts its legend outside the axes
    plt.close(fig)


def finals(ax, df, x, metrics, styles=("-o", "-s", "--^", ":v")):
    """Mean over replicates of final metrics against x, with each replicate as a dot."""
    for i, m in enumerate(metrics):
        g = df.groupby(x)[m]
        xs = np.array(sorted(g.groups))
        ax.plot(xs, g.mean().to_numpy(), styles[i % len(styles)], color=f"C{i}", label=m, ms=4)
        ax.scatter(df[x], df[m], s=8, color=f"C{i}", alpha=0.4)
    ax.grid(alpha=0.3)


def phase_scores(path, out):
    """The B x K sweep: the regime map, and final ic and iw scores against K per B."""
    df = iclsweep.load(path)
    fig, axes = plt.subplots(1, 3, figsize=(14, 4.2), constrained_layout=True, sharey=True)
    for ax, b in zip(axes, sorted(df.B.unique())):
        finals(ax, df[df.B == b], "K", ["ic_score", "iw_score", "ic2_acc"])
        ax.set_xscale("log", base=2)
        ax.set_title(f"B = {b}" + (" (no bursty training sequences)" if b == 0 else ""))
        ax.set_xlabel("K (training classes)")
    axes[0].set_ylabel("final value")
    axes[0].legend(fontsize=8)
    n = df.groupby(["B", "K"]).size().min()
    fig.suptitle(f"iccls: burstiness B x classes K, final scores (line: mean of {n} replicates; dots: each)")
    fig.savefig(out, dpi=110)
    plt.close(fig)


def one_axis(path, out, x, title, xlog=False, col=None):
    """Final accuracies against one axis (panels by col)."""
    df = iclsweep.load(path)
    cols = sorted(df[col].unique()) if col else [None]
    fig, axes = plt.subplots(1, len(cols), figsize=(max(7.0, 5.5 * len(cols)), 4.4), constrained_layout=True,
                             sharey=True, squeeze=False)
    for ax, c in zip(axes[0], cols):
        d = df if c is None else df[df[col] == c]
        finals(ax, d, x, ["ic_acc", "iw_acc", "ic2_acc"])
        level(ax, d, "context_guess", "context guess B/N", color="k")
        level(ax, d, "chance_acc", "chance 1/L", color="0.5")
        if xlog:
            ax.set_xscale("symlog", linthresh=0.1)
            ax.set_xlim(0, 1.2 * df[x].max())
        ax.set_xlabel(x)
        if c is not None:
            ax.set_title(f"{col} = {c:g}")
    axes[0, 0].set_ylabel("final accuracy")
    axes[0, 0].legend(fontsize=8)
    n = df.groupby([x] + ([col] if col else [])).size().min()
    fig.suptitle(f"{title}\n(line: mean of {n} replicates; dots: each)")
    fig.savefig(out, dpi=110)
    plt.close(fig)


def labels(path, out):
    """L = N against L > N: ic accuracy along training per L, and the final accuracies."""
    df, traj = iclsweep.load(path), iclsweep.load_traj(path)
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.2), constrained_layout=True)
    for i, L in enumerate(sorted(df.L.unique())):
        for j, (key, t) in enumerate(traj[traj.L == L].groupby("key", sort=False)):
            axes[0].plot(t.step, t.ic_acc, color=f"C{i}", lw=1, label=f"L = {L}" if j == 0 else None)
            axes[0].plot(t.step, t.iw_acc, color=f"C{i}", lw=0.8, ls="--")
    axes[0].set_xscale("symlog", linthresh=1000)
    axes[0].set_xlim(0, traj.step.max())
    axes[0].set_xlabel("step (linear to 1000, then log)")
    axes[0].set_title("ic accuracy (solid) and iw (dashed), each seed")
    axes[0].legend(fontsize=8)
    axes[0].grid(alpha=0.3)
    finals(axes[1], df, "L", ["ic_acc", "iw_acc", "ic2_acc"])
    mark = theory(df, "saddle_L")
    if mark is not None:
        axes[1].axvline(mark, color="k", ls="--", lw=1, label=f"L = N/B = {mark:g} (saddle)")
    axes[1].set_xscale("log", base=2)
    axes[1].set_xlabel("L (labels)")
    axes[1].set_title("final accuracies")
    axes[1].legend(fontsize=8)
    fig.suptitle(f"iccls: L = N = 4 (every label in every context) against L > N, B = 1, K = 1024, "
                 f"{df.groupby('L').size().min()} seeds")
    fig.savefig(out, dpi=110)
    plt.close(fig)


def companion(path, out):
    """The companion's t_icl over (L, N), a panel per B (NaN: no jump within the run, grey; L < N/B:
    no task, blank), with the saddle L = N/B; and its loss along descent at N = 8, B = 1 for a few
    L."""
    df, traj = iclsweep.load(path), iclsweep.load_traj(path, metrics=["loss"])
    Bs, steps = sorted(df.B.unique()), int(df.steps.max())
    fig, axes = plt.subplots(1, len(Bs) + 1, figsize=(6 * len(Bs) + 5.5, 4.8), constrained_layout=True)
    Ls, Ns = np.sort(df.L.unique()), np.sort(df.N.unique())
    cmap = plt.get_cmap("viridis").copy()
    cmap.set_bad(alpha=0)
    for ax, b in zip(axes, Bs):
        t = df[df.B == b].pivot_table(index="N", columns="L", values="t_icl", dropna=False)
        t = t.reindex(index=Ns, columns=Ls).to_numpy()
        task = df[df.B == b].pivot_table(index="N", columns="L", values="task").reindex(index=Ns, columns=Ls)
        stuck = np.where(task.notna().to_numpy() & np.isnan(t), 1.0, np.nan)  # a task, but no jump
        ax.pcolormesh(Ls, Ns, np.ma.masked_invalid(stuck), cmap="Greys", vmin=0, vmax=2.5, shading="nearest")
        im = ax.pcolormesh(Ls, Ns, np.ma.masked_invalid(t), cmap=cmap, shading="nearest",
                           vmin=df.t_icl.min(), vmax=df.t_icl.max())
        ax.plot(Ns / b, Ns, "k--", lw=1.2, label="L = N/B (saddle)")
        ax.set_xlim(Ls.min() - 0.5, Ls.max() + 0.5)
        ax.set_ylim(Ns.min() - 1, Ns.max() + 1)
        ax.set_xlabel("L (labels)")
        ax.set_ylabel("N (context pairs)")
        ax.set_title(f"B = {b}: t_icl (grey: no jump in {steps} steps; blank: L < N/B)")
        ax.legend(fontsize=8, loc="lower right")
    fig.colorbar(im, ax=axes[:len(Bs)], label="t_icl (steps)")
    ax = axes[-1]
    pick = traj[(traj.N == 8) & (traj.B == 1) & traj.L.isin([8, 9, 10, 12, 16, 32, 128])]
    for i, (L, t) in enumerate(pick.groupby("L")):
        ax.plot(t.step, t.loss / np.log(L), color=f"C{i}", label=f"L = {L}" + (" (saddle)" if L == 8 else ""))
    ax.set_xlabel("gradient step")
    ax.set_ylabel("loss / ln L")
    ax.set_title("N = 8, B = 1 (M = 8): loss along descent")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    fig.suptitle(f"iccls_companion (our reconstruction of the three nested logits): {len(df)} tasks, "
                 f"lr {df.lr.iloc[0]:g}, {steps} steps each")
    fig.savefig(out, dpi=110)
    plt.close(fig)


def main(src, dst):
    os.makedirs(dst, exist_ok=True)
    h5 = lambda name: os.path.join(src, name + ".h5")  # noqa: E731
    png = lambda name: os.path.join(dst, name + ".png")  # noqa: E731
    jobs = [
        ("iccls_transition", lambda: transition(h5("iccls_transition"), png("iccls_transition"))),
        ("iccls_labels", lambda: labels(h5("iccls_labels"), png("iccls_labels"))),
        ("iccls_phase", lambda: (regime(h5("iccls_phase"), png("iccls_phase"), "K", "B"),
                                 phase_scores(h5("iccls_phase"), png("iccls_phase_scores")))),
        ("iccls_eps", lambda: one_axis(h5("iccls_eps"), png("iccls_eps"), "eps",
                                       "iccls: within-class noise eps, B = 1", xlog=True, col="K")),
        ("iccls_zipf", lambda: one_axis(h5("iccls_zipf"), png("iccls_zipf"), "alpha",
                                        "iccls: Zipf exponent alpha of the class frequencies, K = 1024")),
        ("iccls_mix", lambda: regime(h5("iccls_mix"), png("iccls_mix"), "p_C", "p_B")),
        ("iccls_companion_phase", lambda: companion(h5("iccls_companion_phase"), png("iccls_companion_phase"))),
    ]
    only = os.environ.get("ICCLS_FIGURES")
    for name, job in jobs:
        if only and name not in only.split(","):
            continue
        if not os.path.exists(h5(name)):
            print("missing", h5(name), "(run its sweep)")
            continue
        job()
        print("drew", name)


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
