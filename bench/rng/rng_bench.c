/* Benchmark of the normal sampler: normals/s of isw_rng_normal_fill (rng/2, Philox blocks and a
 * ziggurat) against rng/1's per-number Box-Muller, a copy of which lives here as the reference.
 *
 *   rng_bench fill N SECONDS      isw_rng_normal_fill in calls of N numbers (best Philox kernel)
 *   rng_bench fill_sse2 N SECONDS the same with the SSE2 kernel (what any x86-64 gets)
 *   rng_bench fill_scalar N SEC.. the same with the portable scalar kernel
 *   rng_bench single SECONDS      isw_rng_normal, one call per number
 *   rng_bench old N SECONDS       rng/1: Box-Muller on two uniforms per pair, N per fill call
 *   rng_bench uniform N SECONDS   isw_rng_uniform_fill in calls of N numbers
 *   rng_bench philox SECONDS      scalar isw_philox4x32_10 blocks/s (words for two normals each)
 *
 * Prints key=value lines (per_s=, kernel=, count=, checksum=) for bench/rng/run.sh. One core, no
 * threads.
 * Rates are per second of this process's CPU time, so that other load on a shared machine shows
 * less in them. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>


#include "iclsweep/core/rng.h"

/* CPU time of this process, not wall time: on a shared 2-core machine other processes' load then
 * shows less in the figures (it still costs caches and turbo). */
static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* rng/1's normal: Box-Muller with sin, cos and log per pair of uniforms, the spare kept. */
typedef struct {
    isw_rng rng;
    int has_spare;
    double spare;
} old_rng;

static double old_normal(old_rng *o) {
    if (o->has_spare) {
        o->has_spare = 0;
        return o->spare;
    }
    double u1 = isw_rng_uniform(&o->rng), u2 = isw_rng_uniform(&o->rng);
    double r = sqrt(-2.0 * log(u1));
    double t = 6.283185307179586476925286766559 * u2;
    o->spare = r * sin(t);
    o->has_spare = 1;
    return r * cos(t);
}

static void old_fill(old_rng *o, double *x /* [n] */, long n, double sd) {
    for (long i = 0; i < n; i++) x[i] = sd * old_normal(o);
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: rng_bench fill|old|uniform N SECONDS | single|philox SECONDS\n");
        return 2;
    }
    const char *what = argv[1];
    int sized = strcmp(what, "single") != 0 && strcmp(what, "philox") != 0;
    long n = sized ? atol(argv[2]) : 1;
    double secs = atof(argv[sized ? 3 : 2]);
    if (n < 1 || n > 1L << 24 || !(secs > 0)) {
        fprintf(stderr, "rng_bench: N in [1, 2^24] and SECONDS > 0\n");
        return 2;
    }
    double *x = malloc((size_t)n * sizeof *x);
    if (!x) return 1;
    isw_rng rng;
    isw_rng_init(&rng, 20261123, 1);
    old_rng o = {.has_spare = 0, .spare = 0.0};
    isw_rng_init(&o.rng, 20261123, 1);
    enum { FILL, OLD, UNIFORM, SINGLE, PHILOX } mode;
    int kernel = -1;
    if (!strcmp(what, "fill")) mode = FILL;
    else if (!strcmp(what, "fill_sse2")) mode = FILL, kernel = 1;
    else if (!strcmp(what, "fill_scalar")) mode = FILL, kernel = 0;
    else if (!strcmp(what, "old")) mode = OLD;
    else if (!strcmp(what, "uniform")) mode = UNIFORM;
    else if (!strcmp(what, "single")) mode = SINGLE;
    else if (!strcmp(what, "philox")) mode = PHILOX;
    else {
        fprintf(stderr, "rng_bench: unknown mode %s\n", what);
        return 2;
    }
    kernel = isw_rng_set_kernel(kernel);
    uint32_t ctr[4] = {0, 0, 1, 0}, out[4];
    double sum = 0.0, count = 0.0, t0 = now(), t = t0;
    /* Batches of about a million numbers between clock reads. */
    long reps = (1L << 20) / n + 1;
    while (t - t0 < secs) {
        for (long k = 0; k < reps; k++) {
            switch (mode) {
            case FILL: isw_rng_normal_fill(&rng, x, n, 1.0); break;
            case OLD: old_fill(&o, x, n, 1.0); break;
            case UNIFORM: isw_rng_uniform_fill(&rng, x, n); break;
            case SINGLE: x[0] = isw_rng_normal(&rng); break;
            case PHILOX:
                isw_philox4x32_10(ctr, rng.key, out);
                ctr[0]++;
                x[0] = out[0];
                break;
            }
            sum += x[0] + x[n - 1]; /* keeps the work alive */
        }
        count += (double)reps * (double)n;
        t = now();
    }
    printf("mode=%s\nn=%ld\nkernel=%d\nper_s=%.6g\ncount=%.0f\nchecksum=%.17g\n", argv[1], n,
           kernel, count / (t - t0), count, sum);
    free(x);
    return 0;
}
