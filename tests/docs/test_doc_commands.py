"""Every command README.md and docs/*.md show runs as written (the project's rule): each shell
command line of their code blocks, and each ```python block, runs in a scratch folder that holds
the demo's result (out/demo.h5, made once as scripts/demo.sh makes it, with the built program,
$ICLSWEEP_BIN) and a small linattn alpha sweep (out/linattn_threshold.h5); a failure names the
file, the line and the command. A usage synopsis (SWEEP.yaml, [--option]) is not a command.

Commands that cannot run inside a test are listed in NOT_RUN with the reason and the test that
covers them; a command line this test can neither run nor finds in NOT_RUN fails, so a new doc
command never goes unchecked. The test knows commands, not pages: new pages under docs/ are
read as they come.

Run by hand from the repository root (about a minute and a half):
  ICLSWEEP_BIN=build/iclsweep /usr/bin/python3 -m pytest tests/docs
"""
import os
import re
import shutil
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path[:0] = [HERE, os.path.join(ROOT, "analysis"), os.path.join(ROOT, "tests", "analysis")]
import doc_blocks  # noqa: E402

BIN = os.environ.get("ICLSWEEP_BIN")
pytestmark = pytest.mark.skipif(not BIN, reason="ICLSWEEP_BIN is not set (ctest sets it)")
PYTHON = os.environ.get("ICLSWEEP_PYTHON", "/usr/bin/python3")

# (pattern matched at the start of a command line, why it does not run here, what covers it)
NOT_RUN = [
    (r"scripts/test\.sh", "it is the test run itself", "ctest (CI runs scripts/test.sh)"),
    (r"scripts/demo\.sh", "it installs packages and rebuilds; this test makes out/demo.h5 as "
     "it does", "this test's demo fixture (the same plan, mpirun run and analyze commands)"),
    (r"(slurm/|squeue|scancel|sbatch|srun|eval \"\$\(slurm/)", "needs a Slurm cluster",
     "tests/slurm (ctest label slurm)"),
    (r"build/iclsweep status runs/", "reads a file that a Slurm job writes", "tests/slurm"),
    (r"module load", "needs a cluster's module system", "none: a cluster's own setup"),
    (r"(sudo )?apt-get", "installs system packages", "scripts/install-deps.sh in CI"),
    (r"pip install", "installs into the user's environment (no package index here)",
     "tests/analysis test_packaging: pyproject's dependencies and entry point"),
    (r"cmake ", "the build itself", "every test runs on its result (CI builds as shown)"),
    (r"cd build && ctest", "the whole test suite", "CI"),
    (r"(\S+=\S+ )*/usr/bin/python3 -m pytest tests/analysis", "the analysis tests themselves",
     "ctest analysis_unit, analysis_e2e"),
    (r"(\S+=\S+ )*/usr/bin/python3 -m pytest tests/docs", "this test", "this test"),
    (r"npm ", "fetches from the npm registry", "scripts/install-deps.sh in CI"),
]

# Pages whose commands run elsewhere, as a whole: what they do needs another tree.
PAGES_RUN_ELSEWHERE = {
    "docs/adding-a-model.md": "its commands build and run a model the page adds, in a copy of the "
                              "repository (tests/e2e/test_adding_a_model.py follows the page)",
}

# A command the docs show that this test runs smaller, and how (the docs say what it makes).
SMALLER = {
    "build/iclsweep run sweeps/linattn_threshold.yaml -o out/linattn_threshold.h5":
        "made by the fixture with 2 replicates instead of 5",
}


def not_run(text):
    for pattern, why, covered in NOT_RUN:
        if re.match(pattern, text):
            return f"{why} (covered by {covered})"
    return None


def _env(scratch):
    binary = os.path.abspath(BIN)
    bindir = os.path.join(scratch, ".bin")
    os.makedirs(bindir, exist_ok=True)
    wrappers = {"iclsweep": f'exec "{binary}" "$@"',
                "iclsweep-analyze": f'exec "{PYTHON}" -m iclsweep.cli "$@"'}
    for name, body in wrappers.items():
        path = os.path.join(bindir, name)
        with open(path, "w") as f:
            f.write(f"#!/bin/sh\n{body}\n")
        os.chmod(path, 0o755)
    return dict(os.environ, PATH=bindir + os.pathsep + os.environ["PATH"],
                PYTHONPATH=os.path.join(ROOT, "analysis"), MPLBACKEND="Agg",
                OPENBLAS_NUM_THREADS="1", OMPI_ALLOW_RUN_AS_ROOT="1",
                OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1", OMPI_MCA_rmaps_base_oversubscribe="1",
                ICLSWEEP_BIN=binary)


def _run(cmd, scratch, env, timeout=300):
    return subprocess.run(["bash", "-c", cmd], cwd=scratch, env=env, capture_output=True,
                          text=True, timeout=timeout)


@pytest.fixture(scope="module")
def scratch(tmp_path_factory):
    """A folder laid out like the repository after scripts/demo.sh: build/iclsweep, sweeps/,
    analysis/, bench/ and out/demo.h5; plus out/linattn_threshold.h5."""
    d = str(tmp_path_factory.mktemp("docs"))
    for name in ("sweeps", "analysis", "bench", "scripts", "slurm", "docs", "tests"):
        os.symlink(os.path.join(ROOT, name), os.path.join(d, name))
    os.makedirs(os.path.join(d, "build"))
    os.symlink(os.path.abspath(BIN), os.path.join(d, "build", "iclsweep"))
    os.makedirs(os.path.join(d, "out"))
    env = _env(d)
    demo = _run("mpirun -np 3 --oversubscribe build/iclsweep run sweeps/demo.yaml -o "
                "out/demo.h5 --force --progress none", d, env, timeout=600)
    assert demo.returncode == 0, demo.stderr
    with open(os.path.join(ROOT, "sweeps", "linattn_threshold.yaml")) as f:
        text = f.read().replace("replicates: 5", "replicates: 2")
    with open(os.path.join(d, "out", "linattn_threshold.yaml"), "w") as f:
        f.write(text)
    la = _run("build/iclsweep run out/linattn_threshold.yaml -o out/linattn_threshold.h5 "
              "--force --progress none", d, env)
    assert la.returncode == 0, la.stderr
    return d, env


def _python_programs(entries):
    """Each python block with the blocks before it in its file (they share names, as a reader
    running them in one session would)."""
    out, before = [], {}
    for rel, line, text, kind in entries:
        if kind == "python":
            prefix = before.get(rel, "")
            out.append((rel, line, prefix + text))
            before[rel] = prefix + text + "\n"
    return out


def test_every_doc_command_runs_as_written(scratch):
    d, env = scratch
    entries = doc_blocks.commands(ROOT)
    programs = {(rel, line): text for rel, line, text in _python_programs(entries)}
    failures, ran, skipped = [], 0, []
    for rel, line, text, kind in entries:
        where = f"{rel}:{line}"
        if kind == "synopsis":
            continue
        if rel in PAGES_RUN_ELSEWHERE:
            skipped.append(f"{where}: {text.splitlines()[0]}: {PAGES_RUN_ELSEWHERE[rel]}")
            continue
        if kind == "python":
            p = subprocess.run([PYTHON, "-c", programs[(rel, line)]], cwd=d, env=env,
                               capture_output=True, text=True, timeout=300)
            if p.returncode != 0:
                failures.append(f"{where}: python block failed:\n{p.stderr[-1500:]}")
            ran += 1
            continue
        if text in SMALLER:
            skipped.append(f"{where}: {text}: {SMALLER[text]}")
            continue
        why = not_run(text)
        if why:
            skipped.append(f"{where}: {text}: {why}")
            continue
        p = _run(text, d, env)
        ran += 1
        if p.returncode != 0:
            failures.append(f"{where}: `{text}` exited {p.returncode}:\n"
                            f"{(p.stderr or p.stdout)[-1500:]}")
    print(f"{ran} commands and python blocks ran; not run:\n  " + "\n  ".join(skipped))
    assert ran > 10, "the docs test found almost nothing to run: is the extraction broken?"
    assert not failures, "\n\n".join(failures)


def test_extraction_finds_commands_and_skips_output():
    """The classifier on known lines: commands, synopses, output."""
    assert doc_blocks.classify("iclsweep-analyze table out/demo.h5 --by K noise") == "command"
    assert doc_blocks.classify("iclsweep run SWEEP.yaml -o OUT.h5 [--resume]") == "synopsis"
    assert doc_blocks.classify("iclsweep --version | --help | COMMAND --help") == "synopsis"
    assert doc_blocks.classify(" K  noise  n      mean   95% CI (bootstrap)") == "text"
    assert doc_blocks.classify("/tasks/<param>         [task] every model parameter") == "text"
    assert doc_blocks.classify('PYTHONPATH=analysis /usr/bin/python3 -m pytest -m "not e2e"') \
        == "command"
    assert not_run("scripts/test.sh") and not_run("pip install ./analysis")
    assert not_run("iclsweep-analyze table out/demo.h5") is None
