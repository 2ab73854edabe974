"""Row checksums (docs/file-format.md, "Checksums"): the same function as the C engine's
(src/store/checksum.c), so the reader checks every finished row before it uses it.

/tasks/checksum holds, for each finished row, a 64-bit hash of the datasets its attribute `covers`
names, in that order: a [T] column's cell as one word (integers as 64-bit two's complement,
doubles as IEEE bits, bytes and enums zero-extended; text up to its first NUL, zero-padded, 8
bytes to a word little-endian), /traj/step's row as n (its leading entries >= 0) and its n steps,
any other /traj row as its first n values, each word folded in with h = rotl(h ^ (w * P1), 31) *
P2, and the end mixed with fmix64(h ^ words) (0 becomes 1; 0 means "no checksum").

Workload: the rows are hashed together, a block of rows at a time, word position by word
position, with numpy's wrapping uint64 arithmetic; rows of a block are grouped by their number of
log points.
"""
from __future__ import annotations

import os

import numpy as np

SEED = np.uint64(0x27D4EB2F165667C5)
P1 = np.uint64(0x9E3779B185EBCA87)
P2 = np.uint64(0xC2B2AE3D27D4EB4F)
M1 = np.uint64(0xFF51AFD7ED558CCD)
M2 = np.uint64(0xC4CEB9FE1A85EC53)

OK, MISMATCH, NO_CHECKSUM, PADDING = 0, 1, 2, 3
WHY = {MISMATCH: "its data does not match its checksum (changed after it was written)",
       NO_CHECKSUM: "it is finished but has no checksum",
       PADDING: "its /traj/step row has a log point past its padding (damaged)"}
FINISHED = (2, 4)  # done, diverged
BLOCK_BYTES = 64 << 20  # rows hashed together: numpy calls cost per call, so the more rows the better


class ChecksumsUnreadable(ValueError):
    """The checksum column or its covers attribute is damaged: no row can be checked."""


S31, S33 = np.uint64(31), np.uint64(33)


def _mix_columns(h, cols, tmp):
    """Folds the words cols [k, rows] (one word position per line, C order) into h [rows], in
    place: h = rotl(h ^ (w * P1), 31) * P2 per word, with tmp [rows] as scratch."""
    for w in cols:
        np.multiply(w, P1, out=tmp)
        np.bitwise_xor(h, tmp, out=tmp)
        np.left_shift(tmp, S31, out=h)
        np.right_shift(tmp, S33, out=tmp)
        np.bitwise_or(h, tmp, out=h)
        np.multiply(h, P2, out=h)


def _final(h, words):
    x = h ^ np.uint64(words)
    x ^= x >> np.uint64(33)
    x *= M1
    x ^= x >> np.uint64(33)
    x *= M2
    x ^= x >> np.uint64(33)
    x[x == 0] = np.uint64(1)
    return x


def _cell_words(values):
    """A [rows] block of one column as its words: [rows, k] uint64."""
    values = np.asarray(values)
    if values.dtype.kind == "S":
        w = values.dtype.itemsize
        raw = np.frombuffer(values.tobytes(), dtype=np.uint8).reshape(len(values), w).copy()
        raw[np.cumsum(raw == 0, axis=1) > 0] = 0  # what follows a NUL is not text
        pad = (-w) % 8
        raw = np.concatenate([raw, np.zeros((len(values), pad), np.uint8)], axis=1)
        return raw.view("<u8").astype(np.uint64)
    if values.dtype.kind == "f":
        return values.astype("<f8").view("<u8").astype(np.uint64)[:, None]
    if values.dtype.kind == "u":
        return values.astype(np.uint64)[:, None]
    return values.astype(np.int64).view(np.uint64)[:, None]


# The /tasks columns a checksum covers besides the parameters: identity, state and steps.
COVERED_BOOKKEEPING = ("replicate", "key", "seed", "point", "cost", "status", "steps_done")


def covers(f, path, bookkeeping):
    """The dataset paths the file's checksums cover, in order, or None when the file has no
    checksums (an older format). bookkeeping: the /tasks columns that are not parameters. Raises
    ChecksumsUnreadable when the list is damaged: a name that is no dataset, /traj rows before
    /traj/step, or a /traj, /final, parameter or identity dataset left out."""
    if "checksum" not in f["tasks"]:
        return None
    raw = f["tasks/checksum"].attrs.get("covers")
    if isinstance(raw, np.ndarray) and raw.shape == ():
        raw = raw[()]
    if isinstance(raw, bytes):
        try:
            raw = raw.decode("utf-8")
        except UnicodeDecodeError:
            raw = None
    if not isinstance(raw, str) or not raw:
        raise ChecksumsUnreadable(f"{path}: /tasks/checksum has no readable covers attribute (damaged)")
    names = raw.split(" ")
    step_seen = False
    for name in names:
        group, _, leaf = name.partition("/")
        if group not in ("tasks", "traj", "final") or not leaf or "/" in leaf or leaf not in f[group] \
                or (group == "traj" and leaf != "step" and not step_seen):
            raise ChecksumsUnreadable(f"{path}: the covers attribute of /tasks/checksum is damaged")
        step_seen |= name == "traj/step"
    needed = [f"{g}/{n}" for g in ("tasks", "traj", "final") for n in f[g]
              if g != "tasks" or n not in bookkeeping or n in COVERED_BOOKKEEPING]
    missing = [n for n in needed if n not in set(names)]
    if missing:
        raise ChecksumsUnreadable(f"{path}: the checksums do not cover /{missing[0]} (the covers "
                                  f"attribute of /tasks/checksum is damaged or forged)")
    return names


def _row_block(datasets, rows):
    return {name: ds[rows] for name, ds in datasets.items()}


def check_rows(f, path, status, bookkeeping):
    """For the rows of status (uint8 codes [T], read before this call: what a running sweep wrote
    before a row's status is all there) that are finished (done or diverged): OK or why each fails
    ([T] uint8), or None when the file has no checksums to check."""
    names = covers(f, path, bookkeeping)
    if names is None:
        return None
    T = len(status)
    S = f["traj/step"].shape[1]
    sums = f["tasks/checksum"][()].astype(np.uint64)
    per_row = sum(8 * S if n.startswith("traj/") else 8 for n in names) + 8
    block = max(1, min(T, BLOCK_BYTES // per_row))
    bad = np.zeros(T, np.uint8)
    finished = np.isin(status, FINISHED)
    datasets = {name: f[name] for name in names}
    for first in range(0, T, block):
        rows = slice(first, min(T, first + block))
        if not finished[rows].any():
            continue
        data = _row_block(datasets, rows)
        steps = data["traj/step"]
        nonneg = steps >= 0
        n = np.where(nonneg.all(axis=1), S, np.argmin(nonneg, axis=1))
        padding_ok = ((steps == -1) | (np.arange(S)[None, :] < n[:, None])).all(axis=1)
        fin = finished[rows]
        for k in np.unique(n[fin]):
            idx = np.nonzero(fin & (n == k))[0]
            h = np.full(len(idx), SEED, dtype=np.uint64)
            tmp = np.empty_like(h)
            words = 0
            for name in names:
                d = data[name]
                if name == "traj/step":
                    cols = np.concatenate([np.full((len(idx), 1), k, dtype=np.uint64),
                                           d[idx, :k].astype(np.int64).view(np.uint64)], axis=1)
                elif name.startswith("traj/"):
                    cols = d[idx, :k].astype("<f8").view("<u8").astype(np.uint64)
                else:
                    cols = _cell_words(d[idx])
                _mix_columns(h, np.ascontiguousarray(cols.T), tmp)
                words += cols.shape[1]
            got = _final(h, words)
            want = sums[rows][idx]
            verdict = np.where(want == 0, NO_CHECKSUM,
                               np.where(~padding_ok[idx], PADDING, np.where(got != want, MISMATCH, OK)))
            bad[first + idx] = verdict
    return bad


_cache = {}


def check_file_rows(f, path, status, bookkeeping):
    """check_rows, kept per file identity and status (a file read by load, load_traj and the cube
    is checked once)."""
    st = os.stat(path)
    key = (path, st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, status.tobytes())
    if key not in _cache:
        _cache.clear()
        _cache[key] = check_rows(f, path, status, bookkeeping)
    return _cache[key]
