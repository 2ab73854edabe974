"""A small MPI sweep (2 ranks, and 1) clean under valgrind memcheck: no invalid read or write and no
use of uninitialised memory in iclsweep, with the MPI stack's own noise suppressed
(tests/valgrind/mpi.supp beside Open MPI's list). Skipped (77) without valgrind or
when the binary is built with AddressSanitizer.
Run by hand: ICLSWEEP_BIN=build/iclsweep ICLSWEEP_SRC=. /usr/bin/python3 tests/sweep/test_valgrind.py"""
import os
import shutil
import subprocess
import sys

import h5py

from common import BIN, ENV, SRC, Workdir, check, report
from sweeps import TINY

if shutil.which("valgrind") is None:
    print("test_valgrind: skipped (no valgrind)")
    sys.exit(77)
# valgrind cannot run a program built with AddressSanitizer (the sanitizer build of CI): skip
# rather than report the sanitizer's own refusal as a finding.
if b"__asan_init" in open(BIN, "rb").read():
    print("test_valgrind: skipped (the binary is built with AddressSanitizer)")
    sys.exit(77)

SUPP = [os.path.join(SRC, "tests", "valgrind", "mpi.supp")]
if os.path.exists("/usr/share/openmpi/openmpi-valgrind.supp"):
    SUPP.append("/usr/share/openmpi/openmpi-valgrind.supp")
VALGRIND = ["valgrind", "-q", "--error-exitcode=99", "--leak-check=no", "--track-origins=yes"] + \
           [f"--suppressions={s}" for s in SUPP]

with Workdir() as w:
    sweep = w.file("tiny.yaml", TINY)
    for np_ in (1, 2):
        out = w.file(f"vg{np_}.h5")
        cmd = VALGRIND + [BIN, "run", sweep, "-o", out, "--quiet"]
        if np_ > 1:
            cmd = ["mpirun", "-np", str(np_), "--oversubscribe"] + cmd
        p = subprocess.run(cmd, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=900)
        check(p.returncode == 0, f"np {np_}: valgrind clean (exit {p.returncode}): {p.stdout[-3000:]}")
        with h5py.File(out, "r") as f:
            check((f["tasks/status"][:] == 2).all(), f"np {np_}: every task done under valgrind")
    p = subprocess.run(VALGRIND + [BIN, "status", w.file("vg1.h5")], env=ENV, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True, timeout=300)
    check(p.returncode == 0, f"status under valgrind: {p.stdout[-2000:]}")
report("test_valgrind")
