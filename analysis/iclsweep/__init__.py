"""iclsweep: read iclsweep result files (format iclsweep/3) and analyse sweeps of in-context
learning: tables with confidence intervals, phase diagrams, learning curves, thresholds, refined
sweeps and reports. See docs/analysis.md in the iclsweep repository."""
from .reader import (FORMAT, DamagedRowsWarning, IncompatibleFiles, IncompleteSweepWarning,
                     NotAnIclsweepFile, inspect, load, load_traj)


def open_dataset(paths, **kwargs):
    """The sweep as an xarray cube (cube.open_dataset; xarray is imported on first use, so the
    commands that do not need it start faster)."""
    from .cube import open_dataset as _open
    return _open(paths, **kwargs)

__version__ = "0.1.0"
__all__ = ["FORMAT", "DamagedRowsWarning", "IncompatibleFiles", "IncompleteSweepWarning",
           "NotAnIclsweepFile", "inspect", "load", "load_traj", "open_dataset"]
