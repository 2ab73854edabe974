"""Byte flips of result files for the flip tests (test_flips.py) and the checksum benchmark
(bench/checksum/run.py): seeded flips anywhere in a file, and the byte ranges of a file that hold a
finished row's checksummed data, so a flip can be aimed at one row and the row it hit is known.
"""
import random

import h5py
import numpy as np


def flip_anywhere(data, rng, most=4):
    """data with 1..most bytes XORed with nonzero values; returns (bytes, [positions])."""
    out = bytearray(data)
    where = []
    for _ in range(rng.randint(1, most)):
        i = rng.randrange(len(out))
        out[i] ^= rng.randint(1, 255)
        where.append(i)
    return bytes(out), where


def data_ranges(path):
    """[(start, end, row)]: the bytes of each finished row's data that its checksum covers (the
    datasets the covers attribute names, /tasks/status left out: a changed state is the resume's
    business, not a changed result), and its checksum cell. A text cell counts up to its NUL, a
    /traj row over its log points, /traj/step over its whole row (its padding is checked too)."""
    ranges = []
    with h5py.File(path, "r") as f:
        status = f["tasks/status"][()]
        rows = np.nonzero(np.isin(status, (2, 4)))[0]
        step = f["traj/step"][()]
        S = step.shape[1]
        n = np.where((step >= 0).all(axis=1), S, np.argmin(step >= 0, axis=1))
        covers = f["tasks/checksum"].attrs["covers"]
        covers = covers.decode() if isinstance(covers, bytes) else covers
        for name in covers.split(" ") + ["tasks/checksum"]:
            if name == "tasks/status":
                continue
            ds = f[name]
            off, size = ds.id.get_offset(), ds.dtype.itemsize
            for r in rows:
                if name == "traj/step":
                    ranges.append((off + r * S * 8, off + (r + 1) * S * 8, int(r)))
                elif name.startswith("traj/"):
                    ranges.append((off + r * S * 8, off + (r * S + n[r]) * 8, int(r)))
                elif ds.dtype.kind == "S":
                    text = ds[r]
                    ranges.append((off + r * size, off + r * size + min(size, len(text) + 1), int(r)))
                else:
                    ranges.append((off + r * size, off + (r + 1) * size, int(r)))
    return [r for r in ranges if r[1] > r[0]]


def flip_row_data(data, ranges, rng):
    """data with one byte of a finished row's data XORed with a nonzero value: (bytes, row)."""
    sizes = np.array([e - s for s, e, _ in ranges])
    k = rng.choices(range(len(ranges)), weights=sizes)[0]
    start, end, row = ranges[k]
    out = bytearray(data)
    out[rng.randrange(start, end)] ^= rng.randint(1, 255)
    return bytes(out), row


def rng_for(seed, i):
    return random.Random(f"{seed}:{i}")
