"""docs/adding-a-model.md is followed as written and gives a working model: a copy of the
repository gets every file the page shows, the page's registry edit and every command of the page,
in order; the copy builds (its layer check included), its descriptor, golden and checkpoint tests pass
with the new model, and a sweep of it writes a result file with the model's theory.

Run by hand: ICLSWEEP_SRC=. /usr/bin/python3 -m pytest -q tests/e2e/test_adding_a_model.py"""
import os
import re
import shutil
import subprocess

import h5py
import numpy as np
import pytest

SRC = os.path.abspath(os.environ.get("ICLSWEEP_SRC", "."))
PAGE = os.path.join(SRC, "docs", "adding-a-model.md")
ENV = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")


def page_steps(text):
    """The page as steps, in order: ("file", path, body), ("edit", path, lines) and ("run", command)."""
    steps = []
    for m in re.finditer(r"```c\n(.*?)```|((?:^    \S[^\n]*\n)+)", text, re.S | re.M):
        if m.group(1) is not None:
            first, _, body = m.group(1).partition("\n")
            kind = re.match(r"/\* (file|edit): (\S+) \*/", first)
            assert kind, f"a C block of the page names no file: {first}"
            steps.append((kind.group(1), kind.group(2), body))
        else:
            for line in m.group(2).splitlines():
                steps.append(("run", line[4:]))
    return steps


def copy_repository(dest):
    """The repository's files (what git tracks, and what it would add) into dest."""
    files = subprocess.run(["git", "-C", SRC, "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
                           stdout=subprocess.PIPE, check=True).stdout.decode().split("\0")
    for rel in filter(None, files):
        src = os.path.join(SRC, rel)
        if not os.path.isfile(src):
            continue  # removed in the work tree
        os.makedirs(os.path.dirname(os.path.join(dest, rel)), exist_ok=True)
        shutil.copy2(src, os.path.join(dest, rel))


def apply_edit(root, path, body):
    """Each line of an edit block replaces the line of the file that starts with its first two
    words (for the registry: '#define ISW_MODELS(X)')."""
    target = os.path.join(root, path)
    with open(target) as f:
        lines = f.read().split("\n")
    for new in filter(None, body.split("\n")):
        head = " ".join(new.split()[:2])
        hits = [i for i, line in enumerate(lines) if line.startswith(head)]
        assert len(hits) == 1, f"{path}: the page's edit '{head}' matches {len(hits)} lines"
        lines[hits[0]] = new
    with open(target, "w") as f:
        f.write("\n".join(lines))


@pytest.fixture(scope="module")
def followed(tmp_path_factory):
    """A copy of the repository after every step of the page; the outputs of its commands."""
    root = str(tmp_path_factory.mktemp("repo"))
    copy_repository(root)
    with open(PAGE) as f:
        steps = page_steps(f.read())
    outputs = {}
    for step in steps:
        if step[0] == "file":
            os.makedirs(os.path.dirname(os.path.join(root, step[1])), exist_ok=True)
            with open(os.path.join(root, step[1]), "w") as f:
                f.write(step[2])
        elif step[0] == "edit":
            apply_edit(root, step[1], step[2])
        else:
            p = subprocess.run(["bash", "-c", step[1]], cwd=root, env=ENV, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True, timeout=900)
            assert p.returncode == 0, f"the page's command failed ({p.returncode}): {step[1]}\n{p.stdout[-3000:]}"
            outputs[step[1]] = p.stdout
    return root, steps, outputs


def test_the_page_has_every_layer(followed):
    root, steps, _ = followed
    files = {s[1] for s in steps if s[0] == "file"}
    for layer in ("tasks", "models", "train"):
        assert any(f.startswith(f"src/{layer}/") for f in files), f"the page adds nothing to src/{layer}"
    assert any(s[0] == "edit" and s[1] == "include/iclsweep/train/model.h" for s in steps), "no registry edit"


def registry(root):
    """The model names of ISW_MODELS in root's include/iclsweep/train/model.h."""
    with open(os.path.join(root, "include", "iclsweep", "train", "model.h")) as f:
        line = next(l for l in f if l.startswith("#define ISW_MODELS(X)"))
    return re.findall(r"X\((\w+)\)", line)


def test_the_registry_edit_keeps_every_model(followed):
    root, _, _ = followed
    have, had = registry(root), registry(SRC)
    assert have == had + ["mean"], f"the page's registry edit gives {have}; the repository has {had}"


def test_params_and_metrics_list_the_model(followed):
    root, _, outputs = followed
    assert "sigma" in outputs["build/iclsweep params mean"]
    assert "test_loss" in outputs["build/iclsweep metrics mean"]
    with open(os.path.join(root, "docs", "params.md")) as f:
        assert "mean" in f.read(), "docs/params.md regenerated with the model"


def test_descriptor_and_golden_tests_pass(followed):
    root, _, _ = followed
    for test in ("test_params", "test_golden", "test_checkpoint"):
        p = subprocess.run([os.path.join(root, "build", "tests", test)], cwd=root, env=dict(ENV, ICLSWEEP_SRC=root),
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=300)
        assert p.returncode == 0, f"{test} in the copy: {p.stdout[-3000:]}"
    with open(os.path.join(root, "tests", "golden", "mean.golden")) as f:
        golden = f.read()
    assert golden.count("\npoint ") == 2 and "version mean/1 rng/" in golden


def test_a_sweep_of_it_is_a_result_file(followed):
    root, _, outputs = followed
    out = outputs["build/iclsweep train mean.yaml --task 1"]
    assert len(out.strip().splitlines()) >= 6, f"train prints one line per log point: {out}"
    with h5py.File(os.path.join(root, "mean.h5"), "r") as f:
        assert (f["tasks/status"][:] == 2).all(), "every task done"
        sigma = f["tasks/sigma"][:]
        assert np.allclose(f["theory/noise_floor"][:], sigma ** 2), "the theory line per task"
        test_loss = f["final/test_loss"][:]
        assert (test_loss > 0.8 * sigma ** 2).all() and (test_loss < 2 * sigma ** 2).all(), test_loss


def test_an_upward_include_does_not_build(followed):
    """The layer check refuses what the page's layering forbids: the data including the model."""
    root, _, _ = followed
    path = os.path.join(root, "src", "tasks", "mean.c")
    with open(path) as f:
        text = f.read()
    with open(path, "w") as f:
        f.write('#include "iclsweep/models/mean_params.h"\n' + text)
    try:
        p = subprocess.run(["cmake", "--build", "build", "--target", "check_layers"], cwd=root, env=ENV,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=300)
        assert p.returncode != 0 and "layer tasks includes" in p.stdout and "src/tasks/mean.c" in p.stdout, p.stdout
    finally:
        with open(path, "w") as f:
            f.write(text)
