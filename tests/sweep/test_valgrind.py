"""A small MPI sweep (2 ranks, and 1) clean under valgrind memcheck: no invalid read or write and no
use of uninitialised memory in iclsweep, with the MPI stack's own noise suppressed
(tests/valgrind/mpi.supp beside Open MPI's list). Skipped (pytest.skip; ctest reports it skipped)
without valgrind or when the binary is built with AddressSanitizer.
Run by hand: ICLSWEEP_BIN=build/iclsweep ICLSWEEP_SRC=. /usr/bin/python3 -m pytest -q -rs -p no:cacheprovider tests/sweep/test_valgrind.py"""
import os
import shutil
import subprocess

import h5py
import pytest

from common import BIN, ENV, SRC
from sweeps import TINY

if shutil.which("valgrind") is None:
    pytest.skip("no valgrind", allow_module_level=True)
# valgrind cannot run a program built with AddressSanitizer (the sanitizer build of CI): skip
# rather than report the sanitizer's own refusal as a finding.
with open(BIN, "rb") as _bin:
    if b"__asan_init" in _bin.read():
        pytest.skip("the binary is built with AddressSanitizer", allow_module_level=True)

SUPP = [os.path.join(SRC, "tests", "valgrind", "mpi.supp")]
if os.path.exists("/usr/share/openmpi/openmpi-valgrind.supp"):
    SUPP.append("/usr/share/openmpi/openmpi-valgrind.supp")
VALGRIND = ["valgrind", "-q", "--error-exitcode=99", "--leak-check=no", "--track-origins=yes"] + \
           [f"--suppressions={s}" for s in SUPP]


@pytest.fixture(scope="module")
def sweeps(shared):
    """sweeps(np_): TINY run under valgrind on np_ ranks (once per module): (the run, its file)."""
    sweep = shared.file("tiny.yaml", TINY)
    made = {}

    def get(np_):
        if np_ not in made:
            out = shared.file(f"vg{np_}.h5")
            cmd = VALGRIND + [BIN, "run", sweep, "-o", out, "--quiet"]
            if np_ > 1:
                cmd = ["mpirun", "-np", str(np_), "--oversubscribe"] + cmd
            made[np_] = subprocess.run(cmd, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                       text=True, timeout=900), out
        return made[np_]
    return get


@pytest.mark.parametrize("np_", (1, 2))
def test_sweep_clean(sweeps, np_):
    p, out = sweeps(np_)
    assert p.returncode == 0, f"np {np_}: valgrind clean (exit {p.returncode}): {p.stdout[-3000:]}"
    with h5py.File(out, "r") as f:
        assert (f["tasks/status"][:] == 2).all(), f"np {np_}: every task done under valgrind"


def test_status_clean(sweeps):
    p = subprocess.run(VALGRIND + [BIN, "status", sweeps(1)[1]], env=ENV, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True, timeout=300)
    assert p.returncode == 0, f"status under valgrind: {p.stdout[-2000:]}"
