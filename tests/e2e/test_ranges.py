"""Generated ranges equal numpy's, bit for bit, and identities do not depend on how a value was
written (issue: "Grid values exact").

`{linspace: [lo, hi, n]}` and `{geomspace: [lo, hi, n]}` must produce exactly numpy.linspace and
numpy.geomspace (numpy 1.24's algorithms: start + arange * step with the last value set to stop;
logspace with both endpoints set to the written values), read back from `iclsweep plan --exact`
(which prints each value as the shortest text that reads back as the same double) on many random
(lo, hi, n), for a real parameter and, rounded to integers, for an integer one. Then a geomspace
sweep and a sweep listing the same values as literals must give the same task keys.

numpy computes log10 and pow with the C library in its portable build; on CPUs with AVX-512 it
dispatches them to SIMD kernels (SVML) whose results differ in the last bit for some arguments,
so numpy's own geomspace differs between machines (np.geomspace(0.01, 1, 5)[2] is 0.1 on one and
0.09999999999999999 on another). The exact comparison is therefore against numpy with those
kernels turned off (NPY_DISABLE_CPU_FEATURES); against the machine's own numpy the endpoints must
be exact and the interior close (1e-13 relative), and how many values differ, by how many ulp, is
printed after the tests.

Run by hand: ICLSWEEP_BIN=build/iclsweep /usr/bin/python3 -m pytest -q -rs -p no:cacheprovider tests/e2e/test_ranges.py
"""
import json
import os
import re
import random
import subprocess
import sys

import pytest

BIN = os.environ.get("ICLSWEEP_BIN", "build/iclsweep")
ENV = dict(os.environ, OPENBLAS_NUM_THREADS="1")

def numpy_values(cases, portable):
    """numpy's values for cases [(gen, lo, hi, n, integer)], as float.hex strings, computed in a
    child process (the CPU-feature switch must be set before numpy is imported)."""
    env = dict(ENV)
    if portable:
        from numpy.core._multiarray_umath import __cpu_dispatch__, __cpu_features__
        simd = [f for f in __cpu_dispatch__ if f.startswith("AVX512") and __cpu_features__.get(f)]
        if simd:
            env["NPY_DISABLE_CPU_FEATURES"] = " ".join(simd)
    code = (
        "import json, sys\nimport numpy as np\n"
        "out = []\n"
        "for gen, lo, hi, n, integer in json.load(sys.stdin):\n"
        "    v = (np.linspace if gen == 'linspace' else np.geomspace)(lo, hi, n)\n"
        "    if integer: v = np.rint(v)\n"
        "    out.append([float(x).hex() for x in v])\n"
        "json.dump(out, sys.stdout)\n")
    r = subprocess.run([sys.executable, "-c", code], input=json.dumps(cases), env=env,
                       capture_output=True, text=True, check=True)
    return [[float.fromhex(h) for h in vals] for vals in json.loads(r.stdout)]


def plan(yaml, *args):
    """Runs `iclsweep plan ARGS -` with yaml on standard input; returns (exit code, output)."""
    r = subprocess.run([BIN, "plan", *args, "-"], input=yaml, env=ENV, capture_output=True, text=True)
    return r.returncode, r.stdout + r.stderr


def iclsweep_axis(gen, lo, hi, n, param):
    """The values of `param: {gen: [lo, hi, n]}` as iclsweep generates them, or the message."""
    rc, out = plan(f"model: linattn\ngrid:\n  {param}: {{{gen}: [{lo!r}, {hi!r}, {n}]}}\n", "--exact")
    if rc != 0:
        return None, out
    line = next(l for l in out.splitlines() if l.startswith(f"  grid {param} "))
    return [float(t) for t in line.split("] ", 1)[1].split(", ")], out


def same(a, b):
    """Bitwise equality, except that -0.0 and +0.0 are one zero (iclsweep reads -0 as +0)."""
    return a.hex() == b.hex() or (a == 0 and b == 0)


def ulps(a, b):
    import numpy as np
    return abs(int(np.float64(a).view(np.int64)) - int(np.float64(b).view(np.int64)))


def random_cases(rng):
    cases = [("geomspace", 0.01, 1.0, 5, False), ("geomspace", 0.001, 0.1, 5, False),
             ("geomspace", 1.0, 1000.0, 4, False), ("geomspace", 0.0001, 1.0, 9, False),
             ("linspace", 0.0, 1.0, 11, False), ("linspace", 0.5, 5.0, 4, False),
             ("geomspace", 3.0, 0.003, 7, False), ("linspace", 1000000.0, 0.0, 3, False),
             ("geomspace", 100.0, 1000000000.0, 20, True), ("linspace", 1.0, 1000.0, 50, True)]
    for _ in range(100):
        lo = rng.uniform(0, 10 ** rng.uniform(-6, 6))
        hi = rng.uniform(0, 10 ** rng.uniform(-6, 6))
        cases.append(("linspace", lo, hi, rng.randint(1, 60), False))
    for _ in range(100):
        lo, hi = 10 ** rng.uniform(-6, 6), 10 ** rng.uniform(-6, 6)
        if rng.random() < 0.3:  # decimal endpoints, as people write them
            lo, hi = float(f"{lo:.2g}"), float(f"{hi:.2g}")
        cases.append(("geomspace", lo, hi, rng.randint(1, 60), False))
    for _ in range(20):
        lo, hi = 10 ** rng.uniform(0, 4), 10 ** rng.uniform(4, 9)
        cases.append(("geomspace", lo, hi, rng.randint(2, 30), True))
    return cases


CASES = random_cases(random.Random(20241122))


@pytest.fixture(scope="module")
def numpys():
    """numpy's values for every case: (portable, this machine's own)."""
    return numpy_values(CASES, portable=True), numpy_values(CASES, portable=False)


@pytest.fixture(scope="module")
def summary(request):
    """Counts over the cases, printed when the module's tests are done."""
    counts = {"compared": 0, "refused": 0, "native_diffs": 0, "native_ulps": 0}
    yield counts
    plugins = request.config.pluginmanager
    with plugins.get_plugin("capturemanager").global_and_fixture_disabled():  # as capsys.disabled()
        plugins.get_plugin("terminalreporter").write_line(
            f"\n{counts['compared']} ranges compared with numpy's portable output bit for bit "
            f"({counts['refused']} refused for repeated values, as numpy repeats them); against this "
            f"machine's numpy (SIMD log10 and pow) {counts['native_diffs']} interior values differ, by "
            f"at most {counts['native_ulps']} ulp")


@pytest.mark.parametrize("i", range(len(CASES)), ids=[f"{i}-{c[0]}" for i, c in enumerate(CASES)])
def test_range_equals_numpy(numpys, summary, i):
    gen, lo, hi, n, integer = CASES[i]
    want, mine_native = numpys[0][i], numpys[1][i]
    got, out = iclsweep_axis(gen, lo, hi, n, "steps" if integer else "lr")
    if got is None:
        # iclsweep refuses an axis that repeats a value; numpy must repeat one too.
        summary["refused"] += 1
        assert "appears more than once" in out and len(set(want)) < len(want), \
            f"{gen}({lo!r}, {hi!r}, {n}) refused: {out}"
        return
    summary["compared"] += 1
    diffs = [ulps(g, w) for g, w in zip(got, mine_native) if not same(g, w)]
    summary["native_diffs"] += len(diffs)
    summary["native_ulps"] = max([summary["native_ulps"]] + diffs)
    assert len(got) == len(want) and all(same(g, w) for g, w in zip(got, want)), \
        f"{gen}({lo!r}, {hi!r}, {n}){' rounded' if integer else ''}: iclsweep " \
        f"{[g.hex() for g in got]} != numpy {[w.hex() for w in want]}"
    assert same(got[0], mine_native[0]) and same(got[-1], mine_native[-1]), \
        f"{gen}({lo!r}, {hi!r}, {n}): endpoints {got[0]!r}, {got[-1]!r} are not numpy's " \
        f"{mine_native[0]!r}, {mine_native[-1]!r}"
    assert all(abs(g - w) <= 1e-13 * abs(w) for g, w in zip(got, mine_native)), \
        f"{gen}({lo!r}, {hi!r}, {n}): not even close to this machine's numpy"


def test_issue_example():
    """The issue's example: the first value is 0.01 exactly, not 0.010000000000000004."""
    got, _ = iclsweep_axis("geomspace", 0.01, 1, 5, "lr")
    assert got is not None and got[0] == 0.01 and got[-1] == 1.0, f"geomspace [0.01, 1, 5]: {got}"


def task_keys(yaml, n):
    rc, out = plan(yaml, "--list", str(n))
    assert rc == 0, f"plan failed: {out}"
    # the task rows of `plan --list`: "  task rep values... key seed"
    return [l.split()[-2] for l in out.splitlines() if re.match(r"^\s+\d+\s+\d+\s", l)]


SPELLED = (("geomspace", "[0.01, 1, 5]", (0.01, 1.0, 5)), ("linspace", "[0, 1, 11]", (0.0, 1.0, 11)))


@pytest.fixture(scope="module")
def spelled():
    """numpy's portable values of each generated axis in SPELLED."""
    return numpy_values([(gen, *lohin, False) for gen, _, lohin in SPELLED], portable=True)


@pytest.mark.parametrize("k", range(len(SPELLED)), ids=[gen for gen, _, _ in SPELLED])
def test_identity_independent_of_spelling(spelled, k):
    (gen, args, _), values = SPELLED[k], spelled[k]
    literal = ", ".join(repr(v) for v in values)
    generated = task_keys(f"model: linattn\nreplicates: 2\ngrid:\n  lr: {{{gen}: {args}}}\n"
                          f"  D: [5, 10]\n", 100)
    written = task_keys(f"model: linattn\nreplicates: 2\ngrid:\n  lr: [{literal}]\n"
                        f"  D: [5, 10]\n", 100)
    assert len(generated) == 4 * len(values) and generated == written, \
        f"{gen}{args} and the literal list [{literal}] give different task keys:\n" \
        f"{generated}\n{written}"


def test_negative_zero_is_zero():
    """-0.0 and 0 are one value, one identity."""
    assert task_keys("model: linattn\nfixed: {lr: -0.0}\n", 1) == task_keys("model: linattn\nfixed: {lr: 0}\n", 1), \
        "-0.0 and 0 give different identities"
