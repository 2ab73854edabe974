/* Philox4x32-10: see include/iclsweep/rng.h.
 *
 * The round function and key schedule follow Random123's philox.h (round, then bump the key
 * between rounds; ten rounds); tests/unit/test_rng.c checks the authors' known-answer vectors. */
#include "iclsweep/rng.h"

#include <math.h>

#define PHILOX_M0 0xD2511F53u
#define PHILOX_M1 0xCD9E8D57u
#define PHILOX_W0 0x9E3779B9u
#define PHILOX_W1 0xBB67AE85u

static void philox_round(uint32_t ctr[4], const uint32_t key[2]) {
    uint64_t p0 = (uint64_t)PHILOX_M0 * ctr[0];
    uint64_t p1 = (uint64_t)PHILOX_M1 * ctr[2];
    uint32_t hi0 = (uint32_t)(p0 >> 32), lo0 = (uint32_t)p0;
    uint32_t hi1 = (uint32_t)(p1 >> 32), lo1 = (uint32_t)p1;
    uint32_t c1 = ctr[1], c3 = ctr[3];
    ctr[0] = hi1 ^ c1 ^ key[0];
    ctr[1] = lo1;
    ctr[2] = hi0 ^ c3 ^ key[1];
    ctr[3] = lo0;
}

void isw_philox4x32_10(const uint32_t ctr_in[4], const uint32_t key_in[2], uint32_t out[4]) {
    uint32_t ctr[4] = {ctr_in[0], ctr_in[1], ctr_in[2], ctr_in[3]};
    uint32_t key[2] = {key_in[0], key_in[1]};
    for (int r = 0; r < 10; r++) {
        if (r > 0) {
            key[0] += PHILOX_W0;
            key[1] += PHILOX_W1;
        }
        philox_round(ctr, key);
    }
    for (int i = 0; i < 4; i++) out[i] = ctr[i];
}

void isw_rng_init(isw_rng *rng, uint64_t seed, uint32_t stream) {
    rng->key[0] = (uint32_t)seed;
    rng->key[1] = (uint32_t)(seed >> 32);
    rng->stream = stream;
    rng->counter = 0;
    rng->used = 4;
    rng->has_spare = 0;
    rng->spare = 0.0;
}

uint32_t isw_rng_u32(isw_rng *rng) {
    if (rng->used == 4) {
        uint32_t ctr[4] = {(uint32_t)rng->counter, (uint32_t)(rng->counter >> 32), rng->stream, 0};
        isw_philox4x32_10(ctr, rng->key, rng->buf);
        rng->counter++;
        rng->used = 0;
    }
    return rng->buf[rng->used++];
}

uint64_t isw_rng_u64(isw_rng *rng) {
    uint64_t hi = isw_rng_u32(rng);
    return (hi << 32) | isw_rng_u32(rng);
}

double isw_rng_uniform(isw_rng *rng) {
    /* 53 bits, shifted by half an ulp so that neither 0 nor 1 can come out (log(0) in Box-Muller). */
    uint64_t bits = isw_rng_u64(rng) >> 11;
    return ((double)bits + 0.5) * (1.0 / 9007199254740992.0);
}

double isw_rng_normal(isw_rng *rng) {
    if (rng->has_spare) {
        rng->has_spare = 0;
        return rng->spare;
    }
    double u1 = isw_rng_uniform(rng), u2 = isw_rng_uniform(rng);
    double r = sqrt(-2.0 * log(u1));
    double t = 6.283185307179586476925286766559 * u2;
    rng->spare = r * sin(t);
    rng->has_spare = 1;
    return r * cos(t);
}

uint64_t isw_rng_below(isw_rng *rng, uint64_t n) {
    /* Rejection: accept draws below the largest multiple of n, so every residue is equally likely. */
    uint64_t limit = UINT64_MAX - (UINT64_MAX % n);
    uint64_t x;
    do x = isw_rng_u64(rng);
    while (x >= limit);
    return x % n;
}

void isw_rng_normal_fill(isw_rng *rng, double *x, long n, double sd) {
    for (long i = 0; i < n; i++) x[i] = sd * isw_rng_normal(rng);
}
