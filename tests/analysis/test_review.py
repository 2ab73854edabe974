"""Issue 21's review points, each pinned: thresholds without a crossing, peaks at the edge of an
axis, intervals that cover the fine answer, output names, report --where, damaged files, figure
properties (whole labels, no overlapping text, legend entries only for what is drawn, visible
zero lines, log colour scales), bookkeeping columns, and issue 18's analysis points (no
matplotlib for commands that do not draw, library errors without command-line flags), plus the
file's theory lines and the regime map."""
import os
import subprocess
import sys

import h5py
import matplotlib.pyplot as plt
import numpy as np
import pytest

import iclsweep
from files import CONCEPT_THEORY, LINATTN_COLUMNS, LINATTN_THEORY, concept, linattn
from h5fixture import grid_sweep
from iclsweep import cli, crossing, curves, phase, plotting, report, table, threshold


def _texts(fig):
    return " ".join(" ".join(t.get_text() for t in fig.findobj(plt.Text)).split())


def _logistic_sweep(path, xs, replicates=3, x0=0.3, width=0.35, seed=1):
    """test_err = logistic of log(x / x0) / width, plus small replicate noise: it crosses 0.5 at
    x0 exactly."""
    rng = np.random.default_rng(seed)
    noise = {}

    def err(r):
        key = (r["noise"], r["replicate"])
        if key not in noise:
            noise[key] = rng.normal(0, 0.01)
        return 1 / (1 + np.exp(-np.log(r["noise"] / x0) / width)) + noise[key]
    grid_sweep(path, dims=[("noise", {"noise": list(xs)}, False)], replicates=replicates,
               final={"test_err": err}, theory=CONCEPT_THEORY,
               theory_columns={"chance_err": lambda r: 0.5})


def test_coarse_interval_covers_the_fine_answer(tmp_path):
    """Item 4: on a curve with a known crossing (x0 = 0.3), a 5-point grid's interval holds x0
    although linear interpolation in log x misses it; a 41-point grid's interval is narrow and
    holds it too."""
    coarse, fine = tmp_path / "coarse.h5", tmp_path / "fine.h5"
    _logistic_sweep(coarse, np.geomspace(0.01, 1, 5))
    _logistic_sweep(fine, np.geomspace(0.01, 1, 41))
    rc = threshold.locations(iclsweep.load(coarse), "noise", "test_err", level=0.5,
                             n_resamples=300).iloc[0]
    rf = threshold.locations(iclsweep.load(fine), "noise", "test_err", level=0.5,
                             n_resamples=300).iloc[0]
    assert abs(rc["location"] - 0.3) > 0.01                 # the grid alone is off ...
    assert not rc["boot_lo"] <= 0.3 <= rc["boot_hi"]       # ... and replicates do not say so
    assert rc["ci_lo"] <= 0.3 <= rc["ci_hi"]               # the interval does
    assert rc["ci_lo"] <= rf["location"] <= rc["ci_hi"]
    assert rf["ci_lo"] <= 0.3 <= rf["ci_hi"] and rf["ci_hi"] / rf["ci_lo"] < 1.15


def test_no_crossing_in_range_is_said_not_a_crash(tmp_path, capsys):
    """Item 2: every mean below the level, on a log-y figure."""
    path = tmp_path / "low.h5"
    concept(path)
    assert cli.main(["threshold", str(path), "--along", "noise", "--level", "0.001"]) == 0
    out = capsys.readouterr().out
    assert "no crossing in range" in out
    res, fig, _ = threshold.threshold(path, along="noise", level=0.001, n_resamples=50)
    assert res["location"].isna().all() and "no crossing of the level in range" in _texts(fig)
    plt.close(fig)


def test_peak_prefers_the_interior_peak_and_says_when_at_the_edge():
    """Item 3: a noisy rise at the left end (2.9) does not hide the interior peak (2.6 near 1.1,
    the most prominent); a monotone curve peaks at its end and says so."""
    x = np.array([0.1, 0.2, 0.4, 0.6, 0.8, 1.0, 1.1, 1.2, 1.4, 1.8])
    y = np.array([2.9, 2.5, 2.6, 1.9, 1.6, 1.6, 2.6, 2.2, 0.8, 0.3])
    assert crossing.peak_index(y) == (6, False)
    loc, lo, hi, edge = crossing.peak_info(x, y)
    assert 1.0 < loc < 1.2 and (lo, hi) == (1.0, 1.2) and not edge
    assert crossing.peak_info(x, np.linspace(3, 1, len(x)))[3]
    samples = [np.array([v, v + 0.1]) for v in y]
    info = crossing.interval(x, samples, n_resamples=200)
    assert info["ci_lo"] <= 1.0 and info["ci_hi"] >= 1.2 and not info["at_edge"]


def test_output_names_do_not_collide_and_formats_follow_the_extension(tmp_path, capsys):
    """Item 5."""
    path = tmp_path / "toy.h5"
    concept(path)
    for extra in (["--level", "0.1"], ["--level", "0.2"], ["--level", "0.1", "--where", "K=2"]):
        assert cli.main(["phase", str(path), "--x", "noise", "--y", "K"] + extra) == 0
    capsys.readouterr()
    pngs = sorted(p.name for p in tmp_path.glob("toy_phase*.png"))
    assert pngs == ["toy_phase_test_err_K_noise_level0.1.png",
                    "toy_phase_test_err_K_noise_level0.1_where_K_2.png",
                    "toy_phase_test_err_K_noise_level0.2.png"]
    assert cli.main(["threshold", str(path), "--along", "noise", "--level", "0.1", "-o",
                     str(tmp_path / "thr.png")]) == 0
    out = capsys.readouterr().out
    assert out.count("wrote ") == 3 and f"wrote {tmp_path / 'thr.csv'}" in out
    assert open(tmp_path / "thr.csv").readline().startswith("K,metric")
    assert open(tmp_path / "thr.png", "rb").read(4) == b"\x89PNG"
    assert cli.main(["table", str(path), "-o", str(tmp_path / "tab.png")]) == 2
    assert "tab.png: a table is written as .csv" in capsys.readouterr().err
    assert not (tmp_path / "tab.png").exists()
    assert cli.main(["table", str(path), "--latex"]) == 0
    tex = open(tmp_path / "toy_table.tex").read()
    assert r"\toprule" in tex and r"\bottomrule" in tex and "95\\% CI (bootstrap)" in tex
    assert cli.main(["table", str(path), "-o", str(tmp_path / "t.md")]) == 0
    assert "| K | noise | n | mean |" in open(tmp_path / "t.md").read()


def test_report_where_and_curves_per_panel(tmp_path):
    """Item 6: --where is taken; the learning curves by K are drawn one panel per noise value
    instead of pooling over noise."""
    path = tmp_path / "toy.h5"
    concept(path)
    assert cli.main(["report", str(path), "--where", "K=2", "-o", str(tmp_path / "r.html")]) == 0
    assert "Selected:</b> K = 2" in open(tmp_path / "r.html").read()
    html = report.report_html(path)
    assert "Learning curves of test_err by K, one panel per noise" in html


def test_damaged_file_gives_one_message(tmp_path, capsys):
    """Item 7: bytes overwritten in the middle of the file; and a headline metric the file does
    not have is named, not replaced."""
    path = tmp_path / "bad.h5"
    concept(path)
    data = bytearray(path.read_bytes())
    mid = len(data) // 2
    data[mid:mid + 4096] = b"\xff" * 4096
    path.write_bytes(bytes(data))
    code = cli.main(["table", str(path)])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "bad.h5" in err and "Traceback" not in err
    path = tmp_path / "nometric.h5"
    concept(path)
    with h5py.File(path, "r+") as f:
        del f["final/test_err"]
    assert cli.main(["table", str(path)]) == 2
    assert "headline metric test_err" in capsys.readouterr().err


def _refined(tmp_path):
    """A 10-column phase diagram with close values (a refined axis) and pale and dark cells."""
    path = tmp_path / "ref.h5"
    xs = [0.002, 0.0025, 0.003, 0.0035, 0.0043, 0.0045, 0.005, 0.0055, 0.006, 0.0083]
    grid_sweep(path, dims=[("K", {"K": [2, 4, 8]}, False), ("noise", {"noise": xs}, False)],
               replicates=2, final={"test_err": lambda r: r["noise"] * 20 * r["K"] / 8 +
                                    0.001 * r["replicate"]},
               theory=CONCEPT_THEORY, theory_columns={"chance_err": lambda r: 0.5})
    return path


def test_phase_figure_properties(tmp_path):
    """Item 8: whole labels, no overlapping text at 10 columns, band in the legend only when
    drawn (with the reason when not), the boundary under the labels."""
    fig, _ = phase.phase(_refined(tmp_path), x="noise", y="K", level=0.1)
    assert plotting.text_overlaps(fig) == []
    text = _texts(fig)
    assert "standard deviation of the Gaussian word noise" not in text   # fixture has no docs
    assert "boundary: mean test_err = 0.1" in text
    shown = [t.get_text() for t in fig.axes[0].get_xticklabels() if t.get_text()]
    assert len(set(shown)) == len(shown)                      # never 0.004, 0.004
    plt.close(fig)
    long_desc = "a deliberately long description " * 5
    path = tmp_path / "docs.h5"
    grid_sweep(path, dims=[("K", {"K": [2, 4]}, False), ("noise", {"noise": [0.1, 0.2]}, False)],
               replicates=1, final={"test_err": lambda r: r["noise"]},
               docs={"noise": (long_desc.strip(), "")}, theory=CONCEPT_THEORY,
               theory_columns={"chance_err": lambda r: 0.5})
    fig, _ = phase.phase(path, x="noise", y="K", level=0.15)
    assert " ".join(long_desc.split()) in " ".join(fig.axes[0].get_xlabel().split())
    assert "n = 1 done task per cell" in _texts(fig)
    assert "95% bootstrap band" not in _texts(fig)
    assert "no bootstrap band: fewer than two done tasks per cell" in _texts(fig)
    assert plotting.text_overlaps(fig) == []
    plt.close(fig)


def test_colour_scale_is_log_over_a_decade_and_marks_follow_D(tmp_path):
    """Item 8: a metric spanning decades gets a log colour scale; the file's mark on alpha
    (P = D(D+1)) is drawn through the cells as it moves with D."""
    path = tmp_path / "la.h5"
    linattn(path)
    norm, _, log = phase.colour_scale([0.01, 0.1, 3.0], None)
    assert log and isinstance(norm, plt.matplotlib.colors.LogNorm)
    norm, cmap, log = phase.colour_scale([0.01, 0.1, 3.0], 1.0)
    assert log and norm(1.0) == pytest.approx(0.5) and cmap == plotting.DIVERGING
    fig, _ = phase.phase(path, x="alpha", y="D")
    lines = [l for l in fig.axes[0].get_lines() if l.get_linestyle() == "--"]
    assert len(lines) == 1 and list(lines[0].get_xdata()) == pytest.approx([5 / 4, 9 / 8])
    assert "interpolation threshold alpha = (D+1)/D" in _texts(fig)
    plt.close(fig)


def test_curves_zero_mean_is_above_the_axis_line(tmp_path):
    """Item 8: on a linear axis a mean of exactly 0 is inside the axes, not on its edge."""
    path = tmp_path / "zero.h5"
    grid_sweep(path, dims=[("K", {"K": [2, 4]}, False)], replicates=2,
               final={"test_err": lambda r: 0.0},
               traj={"test_err": lambda r: [0.4, 0.0, 0.0]}, theory=CONCEPT_THEORY,
               theory_columns={"chance_err": lambda r: 0.5})
    fig, _ = curves.curves(path, color="K", yscale="linear")
    assert fig.axes[0].get_ylim()[0] < 0
    plt.close(fig)


def test_origin_is_bookkeeping_and_old_files_have_no_theory(tmp_path):
    """Item 9, and the theory of older files: none, silently; their commands need a metric."""
    path = tmp_path / "old.h5"
    concept(path, theory=None)
    with h5py.File(path, "r+") as f:
        f["tasks"].create_dataset("origin", data=np.zeros(f.attrs["n_tasks"], dtype=np.int32))
    df = iclsweep.load(path)
    assert "origin" not in df.attrs["params"] and df.attrs["theory"] is None
    assert "origin" not in iclsweep.open_dataset(path).coords
    with pytest.raises(ValueError, match="names no headline metric"):
        table.table(path)
    fig, _ = phase.phase(path, x="noise", y="K", metric="test_err", level=0.1)
    assert "chance" not in _texts(fig)
    plt.close(fig)


def test_a_level_that_differs_between_tasks_is_said(tmp_path):
    path = tmp_path / "la.h5"
    linattn(path)
    fig, _ = curves.curves(path, color="alpha", col="D")
    assert "large-P floor (D+1)/(N+D+1)" in _texts(fig)        # one value per panel
    plt.close(fig)
    fig, _ = phase.phase(path, x="alpha", y="D")
    assert "large-P floor (D+1)/(N+D+1) not marked: differs between the tasks shown" in \
        _texts(fig)
    plt.close(fig)


def test_regime_map(tmp_path):
    """Two metrics and two thresholds: each cell is one of four named regimes."""
    path = tmp_path / "reg.h5"
    grid_sweep(path, model="iccls", dims=[("B", {"B": [0, 1, 2, 3]}, False),
                                          ("K", {"K": [8, 64, 512]}, False)],
               replicates=2, final={"ic_score": lambda r: r["B"] / 3,
                                    "iw_score": lambda r: 1 - np.log2(r["K"]) / 9})
    regime = phase.parse_regime("ic_score:0.5:ICL,iw_score:0.5:IWL")
    df = iclsweep.load(path)
    codes, unsure, n = phase.regime_cells(df, phase.Axis("K", df["K"]), phase.Axis("B", df["B"]),
                                          regime)
    # rows B = 0..3, columns K = 8, 64, 512: ICL (ic_score >= 0.5) from B = 2, IWL (iw_score
    # 0.67, 0.33, 0) at K = 8 only
    assert codes.tolist() == [[2, 0, 0], [2, 0, 0], [3, 1, 1], [3, 1, 1]]
    assert not unsure.any() and (n == 2).all()
    fig, written = phase.phase(path, x="K", y="B", regime=regime, output=tmp_path / "r.png")
    text = _texts(fig)
    for want in ("ICL only", "IWL only", "both", "neither"):
        assert want in text
    assert plotting.text_overlaps(fig) == [] and len(written) == 2
    plt.close(fig)
    with pytest.raises(ValueError, match="expected two metrics"):
        phase.parse_regime("ic_score:0.5")


def test_commands_that_do_not_draw_do_not_load_matplotlib(tmp_path):
    path = tmp_path / "toy.h5"
    concept(path)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    runs = [["table", str(path)], ["refine", str(path), "--along", "noise", "--level", "0.1"],
            ["threshold", str(path), "--along", "noise", "--level", "0.1", "--no-figure"]]
    probe = ("import sys; from iclsweep import cli\n"
             f"for args in {runs!r}:\n"
             "    assert cli.main(args) == 0, args\n"
             "    assert 'matplotlib' not in sys.modules, f'{args[0]} loaded matplotlib'")
    p = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True)
    assert p.returncode == 0, p.stderr


def test_library_errors_name_no_command_line_flag(tmp_path):
    path = tmp_path / "toy.h5"
    concept(path)
    calls = [lambda: phase.phase(path, x="nois", y="K"),
             lambda: table.table(path, where=["K=3"]),
             lambda: table.table(path, by=["k"]),
             lambda: threshold.threshold(path, along="nois", level=0.1),
             lambda: curves.curves(path, color="x")]
    for call in calls:
        with pytest.raises(ValueError) as e:
            call()
        assert "--" not in str(e.value), str(e.value)
