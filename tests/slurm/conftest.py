"""pytest set-up for the Slurm tests: the sweep tests' helper modules (tests/sweep: common, sweeps)
are imported by name, and a session where everything was skipped (no root, slurm-wlm or munge)
exits 77 for ctest (tests/sweep/ctest_skip.py).
Run by hand: ICLSWEEP_BIN=build/iclsweep ICLSWEEP_SRC=. /usr/bin/python3 -m pytest -q -rs -p no:cacheprovider tests/slurm/test_slurm.py
"""
import os
import sys

SWEEP = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "sweep")
if SWEEP not in sys.path:
    sys.path.insert(0, SWEEP)

from ctest_skip import pytest_sessionfinish  # noqa: E402,F401  (a hook: pytest finds it here)
