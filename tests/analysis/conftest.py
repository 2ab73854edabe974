"""pytest setup for the analysis tests: the iclsweep package is imported from the source tree
(analysis/), so nothing needs installing; figures render off-screen.
Run by hand from the repository root:
  PYTHONPATH=analysis /usr/bin/python3 -m pytest tests/analysis            (unit + e2e)
  ICLSWEEP_BIN=build/iclsweep PYTHONPATH=analysis /usr/bin/python3 -m pytest tests/analysis -m e2e
"""
import os
import sys

import matplotlib

matplotlib.use("Agg")

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.abspath(os.path.join(HERE, "..", ".."))
for path in (os.path.join(SRC, "analysis"), HERE):
    if path not in sys.path:
        sys.path.insert(0, path)


def pytest_configure(config):
    config.addinivalue_line("markers", "e2e: runs sweeps with the built iclsweep program "
                                       "($ICLSWEEP_BIN)")
    config.addinivalue_line("markers", "flips: the byte-flip runs over engine files (ctest "
                                       "analysis_flips)")
