#!/usr/bin/python3
"""Prints the ziggurat tables of src/core/rng.c (256 strips under f(x) = exp(-x^2/2)).

    /usr/bin/python3 bench/rng/zig_tables.py > tables.txt   (then paste into src/core/rng.c)

Computed in 60-digit arithmetic (mpmath) and printed as C hex-float literals, so the tables are
the same bits on every machine and need no libm at start-up. X[0] = V/f(r) is the base strip's
virtual width, X[1] = r, X[i+1] = f^-1(f(X[i]) + V/X[i]), X[256] = 0; every strip has area V.
  zig_w[s*256 + i] = (-1)^s X[i] / 2^52 (x = rabs * zig_w[bits 0-8] for a 52-bit rabs: the sign
                                        bit 8 picks the half, so the fast path needs no branch)
  zig_k[i] = floor(2^52 X[i+1] / X[i]) (rabs < zig_k[i]: x lies under the curve for sure)
  zig_f[i] = f(X[i])                   (zig_f[256] = 1)
"""
import mpmath as mp

mp.mp.dps = 60
N = 256


def f(x):
    return mp.exp(-x * x / 2)


def finv(y):
    return mp.sqrt(-2 * mp.log(y))


def volume(r):
    return r * f(r) + mp.sqrt(mp.pi / 2) * mp.erfc(r / mp.sqrt(2))


def top_gap(r):
    """V minus the top strip's area (< 0: r too large); None where the recursion overshoots f = 1
    before the top strip (r too small)."""
    v = volume(r)
    x = r
    for _ in range(1, N - 1):
        y = f(x) + v / x
        if y >= 1:
            return None
        x = finv(y)
    return v - x * (1 - f(x))


def solve_r():
    lo, hi = mp.mpf(3), mp.mpf(4)  # r = 3 overshoots f = 1; r = 4 leaves the top strip short
    for _ in range(200):
        mid = (lo + hi) / 2
        g = top_gap(mid)
        if g is None or g > 0:
            lo = mid
        else:
            hi = mid
    return hi


def hexf(x):
    return float(x).hex()


def main():
    r = solve_r()
    v = volume(r)
    xs = [v / f(r), r]
    for _ in range(2, N):
        xs.append(finv(f(xs[-1]) + v / xs[-1]))
    xs.append(mp.mpf(0))
    two52 = mp.mpf(2) ** 52
    print("/* r = %s, V = %s */" % (mp.nstr(r, 20), mp.nstr(v, 20)))
    print("#define ZIG_R %s /* %s */" % (hexf(r), mp.nstr(r, 20)))
    ws = [x / two52 for x in xs[:N]] + [-x / two52 for x in xs[:N]]
    print("static const double zig_w[%d] = {" % (2 * N))
    print(",\n".join("    " + ", ".join(hexf(x) for x in ws[i:i + 4])
                     for i in range(0, 2 * N, 4)) + "};")
    print("static const uint64_t zig_k[%d] = {" % N)
    ks = [int(mp.floor(two52 * xs[i + 1] / xs[i])) for i in range(N)]
    print(",\n".join("    " + ", ".join("0x%013xu" % k for k in ks[i:i + 4])
                     for i in range(0, N, 4)) + "};")
    print("static const double zig_f[%d] = {" % (N + 1))
    fs = [f(x) for x in xs]
    print(",\n".join("    " + ", ".join(hexf(y) for y in fs[i:i + 4])
                     for i in range(0, N + 1, 4)) + "};")


if __name__ == "__main__":
    main()
