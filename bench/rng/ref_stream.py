#!/usr/bin/python3
"""An independent reading of include/iclsweep/core/rng.h's stream definition (rng/2), in Python.

    /usr/bin/python3 bench/rng/ref_stream.py SEED STREAM COUNT [SKIP_WORDS]

Prints the first COUNT normals of stream STREAM of generator SEED as C hex floats, one a line,
after skipping SKIP_WORDS 32-bit words. Philox4x32-10 from its definition, the ziggurat from the
tables of zig_tables.py (the same 60-digit values, rounded to double the same way) and Python's
math.exp / math.log. tests/unit/test_rng.c holds a few of these as known answers; to check more,
compare this output with a C loop of isw_rng_normal (printf "%a").
"""
import math
import sys

import mpmath as mp

import zig_tables as zt

M0, M1, W0, W1 = 0xD2511F53, 0xCD9E8D57, 0x9E3779B9, 0xBB67AE85
MASK = 0xFFFFFFFF


def philox(ctr, key):
    c0, c1, c2, c3 = ctr
    k0, k1 = key
    for r in range(10):
        if r:
            k0, k1 = (k0 + W0) & MASK, (k1 + W1) & MASK
        p0, p1 = M0 * c0, M1 * c2
        c0, c1, c2, c3 = (p1 >> 32) ^ c1 ^ k0, p1 & MASK, (p0 >> 32) ^ c3 ^ k1, p0 & MASK
    return [c0, c1, c2, c3]


class Stream:
    def __init__(self, seed, stream):
        self.key = (seed & MASK, seed >> 32)
        self.stream = stream
        self.pos = 0

    def u32(self):
        c = self.pos // 4
        w = philox([c & MASK, c >> 32, self.stream, 0], self.key)[self.pos % 4]
        self.pos += 1
        return w

    def u64(self):
        hi = self.u32()
        return (hi << 32) | self.u32()

    def uniform(self):
        return ((self.u64() >> 11) + 0.5) / 2.0 ** 53


def tables():
    r = zt.solve_r()
    v = zt.volume(r)
    xs = [v / zt.f(r), r]
    for _ in range(2, zt.N):
        xs.append(zt.finv(zt.f(xs[-1]) + v / xs[-1]))
    xs.append(mp.mpf(0))
    two52 = mp.mpf(2) ** 52
    w = [float(x / two52) for x in xs[:zt.N]]
    k = [int(mp.floor(two52 * xs[i + 1] / xs[i])) for i in range(zt.N)]
    f = [float(zt.f(x)) for x in xs]
    return float(r), w, k, f


def normal(s, tab):
    r_base, w, k, f = tab
    r = s.u64()
    while True:
        idx, neg, rabs = r & 0xFF, (r >> 8) & 1, r >> 12
        z = float(rabs) * w[idx]
        z = -z if neg else z
        if rabs < k[idx]:
            return z
        if idx == 0:
            while True:
                x = -math.log(s.uniform()) / r_base
                y = -math.log(s.uniform())
                if y + y > x * x:
                    return -(r_base + x) if neg else r_base + x
        y = f[idx] + (f[idx + 1] - f[idx]) * s.uniform()
        if y < math.exp(-0.5 * z * z):
            return z
        r = s.u64()


def main():
    seed, stream, count = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
    skip = int(sys.argv[4]) if len(sys.argv) > 4 else 0
    s = Stream(seed, stream)
    s.pos = skip
    tab = tables()
    for _ in range(count):
        print(float.hex(normal(s, tab)))


if __name__ == "__main__":
    main()
