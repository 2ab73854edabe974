/* Counter-based random numbers: Philox4x32-10 (Salmon et al., SC'11; Random123).
 *
 * A generator is a key (the task's 64-bit seed) plus a 64-bit counter; the stream id picks one of
 * 2^32 independent sub-streams of a task (data, init, test set, ...), so each part of a task draws
 * from its own stream and adding draws to one part never shifts the numbers of another. Nothing
 * here allocates; a generator is a small value type. */
#ifndef ICLSWEEP_RNG_H
#define ICLSWEEP_RNG_H

#include <stdint.h>

/* The version of the streams below (Philox4x32-10, 53-bit uniforms, Box-Muller normals): any
 * change to what a (seed, stream) pair yields bumps it, and with it the generator recorded in
 * every result file (include/iclsweep/model.h). */
#define ISW_RNG_VERSION "rng/1"

/* One Philox4x32-10 block: out[4] = philox(ctr[4], key[2]). Pure function. */
void isw_philox4x32_10(const uint32_t ctr[4], const uint32_t key[2], uint32_t out[4]);

typedef struct {
    uint32_t key[2];   /* the seed */
    uint32_t stream;   /* sub-stream id: ctr[2] */
    uint64_t counter;  /* block counter: ctr[0], ctr[1] */
    uint32_t buf[4];   /* the current block */
    int used;          /* words of buf already returned (4 = empty) */
    int has_spare;     /* Box-Muller yields two normals; the second waits here */
    double spare;
} isw_rng;

/* Starts stream `stream` of the generator keyed by `seed`. */
void isw_rng_init(isw_rng *rng, uint64_t seed, uint32_t stream);

uint32_t isw_rng_u32(isw_rng *rng);
uint64_t isw_rng_u64(isw_rng *rng);
/* Uniform on the open interval (0, 1), 53 random bits. */
double isw_rng_uniform(isw_rng *rng);
/* Standard normal (Box-Muller on two uniforms). */
double isw_rng_normal(isw_rng *rng);
/* Uniform integer in [0, n) without modulo bias; n > 0. */
uint64_t isw_rng_below(isw_rng *rng, uint64_t n);
/* Fills x[n] with N(0, sd^2). */
void isw_rng_normal_fill(isw_rng *rng, double *x, long n, double sd);

#endif
