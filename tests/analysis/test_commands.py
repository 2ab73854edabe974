"""Every command on files with known values: the numbers it writes against hand computations,
the files it writes, what its figures carry, and the command line (defaults, messages, exit
codes), also on a partial file."""
import csv
import os
import subprocess
import sys

import matplotlib.pyplot as plt
import numpy as np
import pytest
import yaml

import iclsweep
from files import (CONCEPT_THEORY, LINATTN_COLUMNS, LINATTN_THEORY, NOISE, concept, concept_err,
                   linattn)
from iclsweep import cli, curves, phase, refine, report, table, threshold


@pytest.fixture
def toy(tmp_path):
    path = tmp_path / "toy.h5"
    concept(path)
    return path


@pytest.fixture
def la(tmp_path):
    path = tmp_path / "la.h5"
    linattn(path)
    return path


def _texts(fig):
    out = []
    for ax in fig.axes:
        out += [ax.get_xlabel(), ax.get_ylabel(), ax.get_title()]
        if ax.get_legend():
            out += [t.get_text() for t in ax.get_legend().get_texts()]
    out += [l.get_texts()[i].get_text() for l in fig.legends for i in range(len(l.get_texts()))]
    if fig._suptitle:
        out.append(fig._suptitle.get_text())
    return " ".join(" ".join(out).split())     # lines wrapped anywhere read as one


def test_table_csv_equals_hand_means(toy, tmp_path):
    out = tmp_path / "t.csv"
    res = table.table(toy, output=out)
    rows = list(csv.DictReader(open(out)))
    assert len(rows) == 12 and rows[0].keys() >= {"K", "noise", "metric", "n", "mean", "boot_lo",
                                                  "t_hi", "n_pending"}
    for r in rows:
        K, n = int(r["K"]), float(r["noise"])
        vals = [concept_err({"K": K, "noise": n, "replicate": k}) for k in (0, 1)]
        assert float(r["mean"]) == pytest.approx(np.mean(vals), abs=1e-15)
        assert (float(r["min"]), float(r["max"])) == (min(vals), max(vals))
    assert {float(r["noise"]) for r in rows} == set(NOISE)       # %.17g: exact values back
    text = table.format_text(res)
    assert "test_err:" in text and "95% CI (bootstrap)" in text
    alls = table.table(toy, by=["K"], metrics=["all"])
    assert set(alls["metric"]) == {"test_err", "test_err_decay"} and len(alls) == 6


def test_phase_cells_contour_and_figure(toy, tmp_path):
    df = iclsweep.load(toy)
    xa, ya = phase.Axis("noise", df["noise"]), phase.Axis("K", df["K"])
    assert xa.log and ya.log                       # geometric-ish noise, powers of two
    f = phase.cell_fields(df, xa, ya, "test_err")
    want = [concept_err({"K": 4, "noise": 0.1 + 0.2, "replicate": k}) for k in (0, 1)]
    assert f["mean"][1, 2] == pytest.approx(np.mean(want))
    assert (f["n"] == 2).all()
    # the contour interpolates log x between cell centres: z = 0 at x = 1, 1 at x = 100 -> 10
    ax1 = phase.Axis("x", np.array([1.0, 100.0]), "log")
    ax2 = phase.Axis("y", np.array([0.0, 1.0]), "linear")
    lines = phase._contour(ax1, ax2, np.array([[0.0, 1.0], [0.0, 1.0]]), 0.5)
    assert np.allclose(lines[0][:, 0], 10.0)
    fig, written = phase.phase(toy, x="noise", y="K", metric="test_err", level=0.1,
                               output=tmp_path / "ph.png")
    assert [os.path.basename(w) for w in written] == ["ph.png", "ph.pdf"]
    assert all(os.path.getsize(w) > 1000 for w in written)
    text = _texts(fig)
    assert "toy (concept)" in text and "standard deviation of the Gaussian word noise" in text
    assert "boundary: mean test_err = 0.1" in text
    assert "95% bootstrap band" not in text         # no cell's interval holds 0.1: none drawn
    assert "chance (1/2) (on the colour bar)" in text
    plt.close(fig)
    fig, _ = phase.phase(toy, x="noise", y="K", col="K", metric="test_err", where=["noise=0.1"])
    assert "noise = 0.1" in _texts(fig)
    plt.close(fig)


def test_curves_log_y_rate_and_theory(toy, la, tmp_path):
    fig, written = curves.curves(toy, metric="test_err", color="K", output=tmp_path / "c.png")
    ax = fig.axes[0]
    assert ax.get_yscale() == "log" and len(written) == 2
    text = _texts(fig)
    assert "decay 0.02" in text and "chance (1/2)" in text and "pooled over noise (4 values)" in text
    means = curves.band(iclsweep.load_traj(toy).query("K == 4"), "test_err")
    last = means[means.step == 20]["mean"].item()
    assert last == pytest.approx(np.mean([concept_err({"K": 4, "noise": n, "replicate": k})
                                          for n in NOISE for k in (0, 1)]))
    plt.close(fig)
    fig, _ = curves.curves(la, metric="test_mse", color="alpha", where=["D=4"])
    text = _texts(fig)
    assert fig.axes[0].get_yscale() == "linear"
    assert "large-P floor (D+1)/(N+D+1)" in text and "ridge" in text and "Gibbs mean" in text
    plt.close(fig)


def test_threshold_crossings_by_hand(la, tmp_path):
    out = tmp_path / "thr.csv"
    res, fig, written = threshold.threshold(la, along="alpha", metric="test_mse", level=2.5,
                                            direction="up", output=out, n_resamples=500)
    assert written == [str(out), str(tmp_path / "thr.png"), str(tmp_path / "thr.pdf")]
    rows = {int(r["D"]): r for r in csv.DictReader(open(out))}
    # D=4 means 1.6, 2.6, ... cross 2.5 at 0.3 + 0.4 * 0.9; D=8 means 2.1, 3.1: 0.3 + 0.4 * 0.4
    assert float(rows[4]["location"]) == pytest.approx(0.66)
    assert float(rows[8]["location"]) == pytest.approx(0.46)
    assert float(rows[8]["bracket_lo"]) == 0.3 and float(rows[8]["bracket_hi"]) == 0.7
    assert int(rows[8]["n_crossings"]) == 2 and int(rows[8]["n_tasks"]) == 15
    assert float(rows[8]["ci_lo"]) <= 0.46 <= float(rows[8]["ci_hi"])
    text = _texts(fig)
    for want in ("interpolation threshold alpha = (D+1)/D", "ridge (Bayes, fresh tasks)",
                 "Gibbs mean (closed form)", "large-P floor (D+1)/(N+D+1)", "level 2.5"):
        assert want in text
    plt.close(fig)
    res, fig, _ = threshold.threshold(la, along="alpha", metric="test_mse", peak=True,
                                      n_resamples=300)
    assert res["location"].tolist() == pytest.approx([1.1, 1.1])
    plt.close(fig)


def test_refine_new_points_by_hand(toy, tmp_path):
    out = tmp_path / "next.yaml"
    text, new, found = refine.refine(toy, along="noise", metric="test_err", level=0.1, points=1,
                                     output=out)
    # crossings: K=2 and K=4 between 0.1 and 0.3, K=8 between 0.01 and 0.1
    assert found == [(0.01, 0.1), (0.1, 0.1 + 0.2)]
    assert new == [0.0316228, 0.173205]
    spec = yaml.safe_load(open(out))
    assert spec["grid"]["noise"] == [0.01, 0.0316228, 0.1, 0.173205, 0.1 + 0.2, 1.0]
    assert spec["grid"]["K"] == [2, 4, 8] and spec["seed"] == 7 and spec["replicates"] == 2
    assert spec["fixed"] == {"d": 64, "optimizer": "sgd", "d_h": 128}
    assert text.startswith("# Refined by `iclsweep-analyze refine`")
    assert "2 new value(s)" in text and "12 new task(s)" in text


def test_refine_refuses_what_it_cannot_grow(tmp_path, toy):
    from h5fixture import grid_sweep
    z = tmp_path / "zip.h5"
    grid_sweep(z, dims=[("zip0", {"d": [32, 64], "width": [16, 32]}, True)], replicates=1,
               final={"test_err": lambda r: r["d"] / 100})
    with pytest.raises(ValueError, match="in zip group zip0"):
        refine.refine(z, along="d", metric="test_err", level=0.5)
    with pytest.raises(ValueError, match="not a grid axis"):
        refine.refine(toy, along="d", metric="test_err", level=0.1)


def test_report_is_one_self_contained_page(tmp_path):
    path = tmp_path / "partial.h5"
    states = ["done", "done", "failed", "pending", "diverged"]
    reasons = {2: "out of memory", 4: "loss is NaN at step 10"}
    concept(path, status=lambda r: states[r["point"] % 5],
            error=lambda r: reasons.get(r["point"] % 5, ""))
    out = report.report(path, output=tmp_path / "rep")
    assert out == str(tmp_path / "rep" / "index.html")
    html = open(out).read()
    for want in ("Completion", "test_err per grid point",
                 "Phase diagram: test_err over noise and K",
                 "Learning curves of test_err by K", "Failures", "out of memory",
                 "loss is NaN at step 10", "Provenance", "generator", "fixture/1 rng/1",
                 "abc1234", "name: toy", "partial"):
        assert want in html, want
    assert html.count("<img") >= 3 and "data:image/png;base64," in html
    assert "http://" not in html and "https://" not in html and "src=\"file" not in html


def test_cli_commands_defaults_and_messages(toy, la, capsys):
    assert cli.main(["table", str(toy)]) == 0
    out = capsys.readouterr().out
    assert "toy (concept), 24 of 24 tasks done" in out
    assert f"wrote {toy.parent / 'toy_table.csv'}" in out
    assert cli.main(["phase", str(toy), "--x", "noise", "--y", "K", "--level", "0.1"]) == 0
    assert (toy.parent / "toy_phase_test_err_K_noise_level0.1.png").exists()
    assert cli.main(["curves", str(toy), "--color", "noise"]) == 0
    assert (toy.parent / "toy_curves_test_err_noise.pdf").exists()
    assert cli.main(["threshold", str(la), "--along", "alpha", "--peak"]) == 0
    assert (la.parent / "la_threshold_test_mse_alpha_peak.csv").exists()
    assert cli.main(["refine", str(toy), "--along", "noise", "--level", "0.1"]) == 0
    assert (toy.parent / "toy_refine_noise_test_err_level0.1.yaml").exists()
    assert cli.main(["report", str(toy), "-o", str(toy.parent / "r")]) == 0
    assert (toy.parent / "r" / "index.html").exists()
    capsys.readouterr()
    assert cli.main(["phase", str(toy), "--x", "nois", "--y", "K"]) == 2
    assert "x axis nois: no such parameter; the grid's axes are K, noise" in capsys.readouterr().err
    assert cli.main(["table", str(toy), "--metric", "test_error"]) == 2
    assert "no final metric test_error" in capsys.readouterr().err
    assert cli.main(["curves", str(toy), "--color", "K", "--where", "K=3"]) == 2
    assert "no task has K = 3; K takes 2, 4, 8" in capsys.readouterr().err
    assert cli.main(["table", str(toy.parent / "missing.h5")]) == 2
    assert "missing.h5: no such file" in capsys.readouterr().err


def test_partial_file_every_command(tmp_path, capsys):
    path = tmp_path / "run.h5"
    concept(path, status=lambda r: "done" if r["point"] < 7 else "pending")
    for cmd in (["table"], ["phase", "--x", "noise", "--y", "K", "--level", "0.1"],
                ["curves", "--color", "K"], ["threshold", "--along", "noise", "--level", "0.1"],
                ["refine", "--along", "noise", "--level", "0.1"], ["report"]):
        assert cli.main([cmd[0], str(path)] + cmd[1:]) == 0, cmd
        out = capsys.readouterr().out
        assert "14 of 24 tasks done (10 pending); using the done tasks only" in out
        assert "wrote " in out


def test_module_entry_point(toy):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    p = subprocess.run([sys.executable, "-m", "iclsweep.cli", "table", str(toy), "-o",
                        str(toy.parent / "x.csv")], env=env, capture_output=True, text=True)
    assert p.returncode == 0 and "wrote" in p.stdout


def test_help_lists_every_command(capsys):
    with pytest.raises(SystemExit) as e:
        cli.main(["--help"])
    assert e.value.code == 0
    out = capsys.readouterr().out
    for cmd in ("table", "phase", "curves", "threshold", "refine", "report"):
        assert cmd in out


def test_report_on_a_zip_sweep_draws_one_axis_per_dimension(tmp_path):
    from h5fixture import grid_sweep
    path = tmp_path / "zip.h5"
    grid_sweep(path, dims=[("K", {"K": [2, 4]}, False),
                           ("zip0", {"d": [32, 64, 128], "width": [16, 16, 32]}, True)],
               replicates=2, final={"test_err": lambda r: r["K"] / 10 + r["d"] / 1000},
               traj={"test_err": lambda r: [0.5, 0.3, 0.1]}, theory=CONCEPT_THEORY,
               theory_columns={"chance_err": lambda r: 0.5})
    html = open(report.report(path, output=tmp_path / "r.html")).read()
    assert "Phase diagram: test_err over d and K" in html
    assert "over width" not in html and "by width" not in html
    assert "Learning curves of test_err by d" in html


def test_threshold_log_y_for_a_peak_spanning_decades(tmp_path):
    from h5fixture import grid_sweep
    path = tmp_path / "peak.h5"
    mse = {0.5: 4.0, 1.0: 8.0, 1.5: 0.5, 2.0: 0.2}
    grid_sweep(path, model="linattn", dims=[("alpha", {"alpha": list(mse)}, False)],
               fixed={"D": 4, "N": 20, "M": 0}, replicates=2,
               final={"test_mse": lambda r: mse[r["alpha"]] * (1 + 0.1 * r["replicate"]),
                      "ridge_mse": lambda r: 1e-24, "theory_mse": lambda r: mse[r["alpha"]]},
               theory=LINATTN_THEORY, theory_columns=LINATTN_COLUMNS)
    res, fig, _ = threshold.threshold(path, along="alpha", metric="test_mse", peak=True,
                                      n_resamples=200)
    ax = fig.axes[0]
    assert ax.get_yscale() == "log" and ax.get_ylim()[0] > 1e-3
    assert "ridge (Bayes, fresh tasks) (1e-24, below the axis)" in _texts(fig)
    # the parabola through the means (0.5, 4.2), (1, 8.4), (1.5, 0.525), spacing h = 0.5, peaks
    # at 1 + h (y0 - y2) / (2 (y0 - 2 y1 + y2)) = 1 - 0.5 * 3.675 / 24.15
    assert res["location"].item() == pytest.approx(1 - 0.5 * 3.675 / 24.15, rel=1e-12)
    plt.close(fig)


def test_curves_with_many_lines_get_a_colour_bar(tmp_path):
    from h5fixture import grid_sweep
    path = tmp_path / "many.h5"
    alphas = [0.2 * k for k in range(1, 11)]
    grid_sweep(path, model="linattn", dims=[("alpha", {"alpha": alphas}, False)],
               fixed={"D": 4, "N": 20}, replicates=2,
               final={"test_mse": lambda r: 1 / r["alpha"]},
               traj={"test_mse": lambda r: [2.0, 1.5, 1 / r["alpha"]]},
               theory=LINATTN_THEORY, theory_columns=LINATTN_COLUMNS)
    fig, _ = curves.curves(path, metric="test_mse", color="alpha")
    assert len(fig.axes) == 2                           # the plot and its colour bar
    cbar = fig.axes[1]
    assert [t.get_text() for t in cbar.get_yticklabels()][:2] == ["0.2", "0.4"]
    assert "large-P floor" in _texts(fig) and "0.2:" not in _texts(fig)
    plt.close(fig)
