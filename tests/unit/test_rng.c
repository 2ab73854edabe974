/* Philox4x32-10 against its authors' known-answer vectors (Random123 kat_vectors), and the
 * moments of the uniform and Gaussian draws built on it.
 * Run by hand: build/test_rng */
#include <stdint.h>
#include <string.h>

#include "check.h"
#include "iclsweep/rng.h"

static void test_known_answers(void) {
    /* counter[4], key[2] -> out[4], from Random123's kat_vectors ("philox4x32 10" lines). */
    static const uint32_t kat[3][10] = {
        {0, 0, 0, 0, 0, 0, 0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8},
        {0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0x408f276d,
         0x41c83b0e, 0xa20bc7c6, 0x6d5451fd},
        {0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344, 0xa4093822, 0x299f31d0, 0xd16cfe09,
         0x94fdcceb, 0x5001e420, 0x24126ea1},
    };
    for (int v = 0; v < 3; v++) {
        uint32_t out[4];
        isw_philox4x32_10(kat[v], kat[v] + 4, out);
        for (int i = 0; i < 4; i++)
            CHECK(out[i] == kat[v][6 + i], "vector %d word %d: got %08x, want %08x", v, i, out[i],
                  kat[v][6 + i]);
    }
}

static void test_streams_differ_and_repeat(void) {
    isw_rng a, b, c;
    isw_rng_init(&a, 42, 0);
    isw_rng_init(&b, 42, 1);
    isw_rng_init(&c, 42, 0);
    int same_ab = 0, same_ac = 0;
    for (int i = 0; i < 1000; i++) {
        uint32_t x = isw_rng_u32(&a), y = isw_rng_u32(&b), z = isw_rng_u32(&c);
        same_ab += x == y;
        same_ac += x == z;
    }
    CHECK(same_ac == 1000, "same seed and stream must repeat exactly (%d/1000)", same_ac);
    CHECK(same_ab < 3, "streams 0 and 1 agree on %d of 1000 words", same_ab);
}

static void test_uniform_moments(void) {
    isw_rng r;
    isw_rng_init(&r, 7, 3);
    const int n = 1000000;
    double s = 0, s2 = 0, lo = 1, hi = 0;
    for (int i = 0; i < n; i++) {
        double u = isw_rng_uniform(&r);
        s += u;
        s2 += u * u;
        if (u < lo) lo = u;
        if (u > hi) hi = u;
    }
    double mean = s / n, var = s2 / n - mean * mean;
    CHECK(lo > 0 && hi < 1, "uniform must stay inside (0, 1): [%g, %g]", lo, hi);
    /* standard errors: sqrt(1/12/n) = 2.9e-4 for the mean */
    CHECK_CLOSE(mean, 0.5, 0, 5 * 2.9e-4, "uniform mean");
    CHECK_CLOSE(var, 1.0 / 12, 0, 5e-4, "uniform variance");
}

static void test_normal_moments(void) {
    isw_rng r;
    isw_rng_init(&r, 20241122, 9);
    const int n = 1000000;
    double m1 = 0, m2 = 0, m3 = 0, m4 = 0;
    for (int i = 0; i < n; i++) {
        double x = isw_rng_normal(&r);
        m1 += x;
        m2 += x * x;
        m3 += x * x * x;
        m4 += x * x * x * x;
    }
    m1 /= n;
    m2 /= n;
    m3 /= n;
    m4 /= n;
    /* standard errors at n = 1e6: mean 1e-3, var 1.4e-3, third 3.9e-3, fourth 9.8e-3 */
    CHECK_CLOSE(m1, 0.0, 0, 5e-3, "normal mean");
    CHECK_CLOSE(m2, 1.0, 0, 7e-3, "normal variance");
    CHECK_CLOSE(m3, 0.0, 0, 2e-2, "normal third moment");
    CHECK_CLOSE(m4, 3.0, 0, 5e-2, "normal fourth moment");
}

static void test_below_is_uniform(void) {
    isw_rng r;
    isw_rng_init(&r, 5, 0);
    int counts[7];
    memset(counts, 0, sizeof counts);
    const int n = 700000;
    for (int i = 0; i < n; i++) counts[isw_rng_below(&r, 7)]++;
    for (int k = 0; k < 7; k++)
        CHECK(counts[k] > 100000 - 1600 && counts[k] < 100000 + 1600, "bucket %d has %d of %d", k,
              counts[k], n);
}

int main(void) {
    test_known_answers();
    test_streams_differ_and_repeat();
    test_uniform_moments();
    test_normal_moments();
    test_below_is_uniform();
    return check_report("test_rng");
}
