"""pytest set-up for the sweep tests: this folder's helper modules (common, sweeps, hostile) are
imported by name, each test gets a work folder, and a session where everything was skipped exits
77 for ctest (ctest_skip.py). A failed test's files stay under /tmp/pytest-of-$USER/ (pytest keeps
the last three runs).
Run one file by hand from the repository root:
  ICLSWEEP_BIN=build/iclsweep ICLSWEEP_SRC=. /usr/bin/python3 -m pytest -q -rs -p no:cacheprovider tests/sweep/test_ranks.py
"""
import os
import signal
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)

import common  # noqa: E402
from ctest_skip import pytest_sessionfinish  # noqa: E402,F401  (a hook: pytest finds it here)


@pytest.fixture
def work(tmp_path):
    """A folder of this test's own."""
    return common.Folder(tmp_path)


@pytest.fixture(scope="module")
def shared(tmp_path_factory, request):
    """A folder shared by the tests of one file (for sweeps run once and read by several tests)."""
    return common.Folder(tmp_path_factory.mktemp(request.module.__name__))


class Jobs:
    """Jobs a test starts in the background (common.start); what of them still runs when the test
    ends, passed or failed, is killed: the launcher's process group, then any rank left writing the
    job's output (Open MPI gives each rank a process group of its own)."""

    def __init__(self):
        self.started = []

    def start(self, np_, *args):
        p = common.start(np_, *args)
        self.started.append((p, args[args.index("-o") + 1] if "-o" in args else None))
        return p

    def stop_all(self):
        for p, out in self.started:
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()
            if out is not None:
                subprocess.run(["pkill", "-9", "-f", out])


@pytest.fixture
def jobs():
    j = Jobs()
    yield j
    j.stop_all()


@pytest.fixture(scope="module")
def tiny_corpus(shared):
    """The tiny sweep, a finished file of it made by this build (with checksums) and the crafted
    result files hostile.py makes from it: {"sweep", "valid", "corpus": {integrity case: path},
    "crafted": [every crafted file]}."""
    import hostile
    from sweeps import TINY
    sweep = shared.file("tiny.yaml", TINY)
    valid = common.run_ok(1, sweep, shared.file("valid.h5"), "the valid file")
    corpus = hostile.build_integrity(valid, shared.file("corpus"))
    crafted = [p for p, _ in hostile.build(valid, shared.file("corpus")).values()] + list(corpus.values())
    return {"sweep": sweep, "valid": valid, "corpus": corpus, "crafted": sorted(crafted)}
