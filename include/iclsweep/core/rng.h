/* Counter-based random numbers: Philox4x32-10 (Salmon et al., SC'11; Random123).
 *
 * A generator is a key (the task's 64-bit seed) plus a 64-bit counter; the stream id picks one of
 * 2^32 independent sub-streams of a task (data, init, test set, ...), so each part of a task draws
 * from its own stream and adding draws to one part never shifts the numbers of another. Nothing
 * here allocates; a generator is a value type of about 1 KiB (it buffers the words it computes). */
#ifndef ICLSWEEP_RNG_H
#define ICLSWEEP_RNG_H

#include <stdint.h>

/* What a (seed, stream) pair yields, version rng/2:
 *
 *   words    the 32-bit words out[0], out[1], out[2], out[3] of Philox4x32-10 blocks with
 *            ctr = (c mod 2^32, c >> 32, stream, 0) and key = (seed mod 2^32, seed >> 32), for
 *            c = 0, 1, 2, ...: word number p is out[p % 4] of block c = p / 4.
 *   u32      the next word; u64: the next two words, first one high.
 *   uniform  the next u64 r: ((r >> 11) + 0.5) / 2^53, on (0, 1).
 *   normal   a 256-strip ziggurat (Marsaglia and Tsang 2000, the layout numpy's Generator uses;
 *            tables W, K, F in src/core/rng.c, printed by bench/rng/zig_tables.py). The next u64
 *            r gives strip i (bits 0-7), sign s (bit 8) and a 52-bit abscissa a (bits 12-63);
 *            z = (-1)^s a W[i]. If a < K[i] (98.8% of words): z. Else if i = 0: the tail,
 *            (-1)^s (R + x), by Marsaglia's method (each try: x = -log(u1) / R, y = -log(u2)
 *            from the next two uniforms, accept when 2y > x^2), R = 3.654. Else the wedge: with
 *            the next uniform u, z if F[i] + (F[i+1] - F[i]) u < exp(-z^2 / 2), otherwise start
 *            over with the next u64. bench/rng/ref_stream.py is this paragraph in Python.
 *            Exact up to the rounding of the tables (hex floats, the same bits everywhere) and of
 *            exp/log; libm's exp and log are only called on the rare paths, and change a draw
 *            only where their result falls within an ulp of the test's threshold.
 *
 * Every kind of draw takes the next words of the one sequence, so a generator's state is just its
 * position p, and mixing kinds is allowed. The fill functions compute many blocks at once but
 * leave the generator at the same position and give the same numbers as a loop of single draws:
 * a fill of n equals fills of pieces that add up to n. */

/* The version of the streams above: any change to what a (seed, stream) pair yields bumps it, and
 * with it the generator recorded in every result file (include/iclsweep/train/model.h). rng/1 drew
 * normals by Box-Muller. */
#define ISW_RNG_VERSION "rng/2"

/* One Philox4x32-10 block: out[4] = philox(ctr[4], key[2]). Pure function. */
void isw_philox4x32_10(const uint32_t ctr[4], const uint32_t key[2], uint32_t out[4]);

/* Words a generator computes ahead of its draws: four groups of 16 Philox blocks. */
#define ISW_RNG_BUF_WORDS 256

/* A generator: the key and stream, and the stream's words from position 4 first_block on, of
 * which w[0..at) are handed out and w[at..len) are computed but not yet drawn. Every kind of draw
 * takes its words from this one buffer, which is refilled 16 blocks at a time (AVX2 or SSE2), so
 * loops that mix normals, uniforms and coins compute each block once and in vector form. */
typedef struct {
    uint32_t key[2];      /* the seed */
    uint32_t stream;      /* sub-stream id: ctr[2] */
    uint64_t first_block; /* counter of the block whose words start w */
    int at, len;          /* next word to hand out; words computed */
    uint32_t w[ISW_RNG_BUF_WORDS];
} isw_rng;

/* Starts stream `stream` of the generator keyed by `seed`, at position 0. */
void isw_rng_init(isw_rng *rng, uint64_t seed, uint32_t stream);

uint32_t isw_rng_u32(isw_rng *rng);
uint64_t isw_rng_u64(isw_rng *rng);
/* Fills out[n] with the next n words: the same numbers as n calls of isw_rng_u32. */
void isw_rng_u32_fill(isw_rng *rng, uint32_t *out, long n);
/* Uniform on the open interval (0, 1), 53 random bits. */
double isw_rng_uniform(isw_rng *rng);
/* Fills x[n] with uniforms on (0, 1): the same numbers as n calls of isw_rng_uniform. */
void isw_rng_uniform_fill(isw_rng *rng, double *x, long n);
/* Standard normal (ziggurat, above). */
double isw_rng_normal(isw_rng *rng);
/* Fills x[n] with N(0, sd^2): x[i] = sd * (the i-th of n calls of isw_rng_normal), but computed
 * in blocks (about 8x faster for long fills). */
void isw_rng_normal_fill(isw_rng *rng, double *x, long n, double sd);
/* A standard normal conditioned on x > a, for a > 0 (Marsaglia's exact tail method; efficient
 * for a above about 1, the ziggurat calls it with a = 3.654). NaN when a <= 0 or a is NaN. */
double isw_rng_normal_tail(isw_rng *rng, double a);
/* For tests and benchmarks: which code computes Philox blocks in the fill functions: 0 portable C,
 * 1 SSE2, 2 AVX2, -1 the best the machine has (the default). All give the same numbers; returns
 * the kernel now in use (the best one when asked for one the machine lacks, nothing changed).
 * Process-wide, not thread-safe: call it before any thread draws. */
int isw_rng_set_kernel(int kernel);
/* The generator's position: the index in its stream of the next word it hands out. */
uint64_t isw_rng_tell(const isw_rng *rng);
/* Moves rng to position pos of its stream (key and stream kept): every draw after it is the draw
 * a generator that had handed out pos words would make next. Checkpoints save a generator as its
 * position (include/iclsweep/core/state.h). */
void isw_rng_seek(isw_rng *rng, uint64_t pos);
/* Uniform integer in [0, n) without modulo bias; n > 0. */
uint64_t isw_rng_below(isw_rng *rng, uint64_t n);

#endif
