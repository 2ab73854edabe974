/* Benchmark of the concept model's training step, whole task, and OpenBLAS dgemm.
 *
 *   concept_bench steps D L BATCH SECONDS   training steps/s at d = D, L, batch (n_train 4096,
 *                                           other parameters at their defaults), plus GFLOP/s
 *   concept_bench task                      wall time of one whole default task (2000 steps,
 *                                           evaluation at every log_every = 20 steps)
 *   concept_bench dgemm M N K SECONDS       OpenBLAS dgemm GFLOP/s on [M, K] x [K, N]
 *
 * Output is key=value lines for bench/concept/run.sh. A step here is what the trainer does per
 * step: load a batch of the fixed training set in structured form (isw_concept_batch) chunk by
 * chunk, forward, loss, backward, SGD update. `steps` first checks the structured kernels against
 * the token-matrix kernels on one batch (check_maxrel=, the largest relative difference of f and
 * the gradients). Run with OPENBLAS_NUM_THREADS=1: the peer gets one thread too. */
#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "iclsweep/tasks/concept.h"
#include "iclsweep/models/concept_params.h"
#include "iclsweep/models/concept.h"
#include "iclsweep/train/model.h"
#include "iclsweep/train/model.h"

/* The data knobs of a config, as the generators take them (a temporary of the call). */
#define DATA(cfg) ((const isw_concept_data[]){isw_concept_data_of(cfg)})


static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static isw_concept_cfg defaults(void) {
    double vals[128];
    isw_concept_cfg cfg;
    isw_params_defaults(isw_concept_params, ISW_CONCEPT_N_PARAMS, vals);
    isw_params_to_cfg(isw_concept_params, ISW_CONCEPT_N_PARAMS, vals, &cfg);
    return cfg;
}

/* Flops of one training step (forward + backward) of a batch, as the token-matrix kernels compute
 * it: per prompt q and u (2 d dh each), scores and output (2 L d each), the MLP (2 m d); backward
 * the MLP (4 m d), dalpha and du (2 L d each), dW_K, dq, dW_Q (2 dh d each). The structured
 * kernels skip the output and dalpha passes over the label halves (O(L) each instead of 2 L d) and
 * run the MLP on 2K label coefficients, so the GFLOP/s reported is an effective rate. */
static double step_flops(const isw_ctf_dims *dm, int L, int B) {
    double d = dm->d, dh = dm->dh, m = dm->m;
    double fwd = 4 * d * dh + 4 * L * d + 2 * m * d;
    double bwd = 4 * m * d + 4 * L * d + 6 * dh * d;
    return (double)B * (fwd + bwd);
}

static int bench_steps(int d, int L, int B, double seconds) {
    isw_concept_cfg cfg = defaults();
    cfg.d = d;
    cfg.L = L;
    cfg.batch = B;
    isw_error err;
    isw_concept_dict dict;
    isw_concept_set set;
    isw_ctf net;
    isw_ctf_work w;
    isw_ctf_dims dims = {d, 2 * d, 2 * d, (int)cfg.width};
    int n = (int)cfg.n_train;
    if (isw_concept_dict_make(&dict, DATA(&cfg), 1, 0, &err) || isw_concept_set_alloc(&set, n, L, d, 0, 2 * (int)cfg.K + (int)cfg.K_irr, &err) ||
        isw_ctf_alloc(&net, dims, &err) || isw_ctf_work_alloc(&w, dims, B, L, &err)) {
        fprintf(stderr, "concept_bench: %s\n", err.msg);
        return 1;
    }
    isw_rng rng;
    isw_rng_init(&rng, 1, 2);
    isw_concept_fill(&set, n, ISW_CSET_IID, &dict, DATA(&cfg), &rng);
    isw_ctf_init_weights(&net, &rng, cfg.init, cfg.qk_init == ISW_QK_tied);
    double *h = malloc(sizeof(double) * (size_t)B * L * 2 * d), *xq = malloc(sizeof(double) * (size_t)B * d);
    int nlab = 2 * dict.K;
    double *y = malloc(sizeof(double) * (size_t)B), *lc = malloc(sizeof(double) * (size_t)B * nlab);
    double *le = malloc(sizeof(double) * (size_t)B * nlab), *yl = malloc(sizeof(double) * (size_t)B * L);
    double *f = malloc(sizeof(double) * (size_t)B), *g = malloc(sizeof(double) * (size_t)net.n_params);
    const double **xp = malloc(sizeof(double *) * (size_t)B);
    double *xw = malloc(sizeof(double) * (size_t)B * L * d);
    const signed char *wc = NULL;
    const double *zn = NULL;
    int *idx = malloc(sizeof(int) * (size_t)B);
    if (!h || !xq || !y || !lc || !le || !yl || !f || !g || !xp || !xw || !idx) return 1;
    if (isw_ctf_work_alloc_labels(&w, dims, nlab, &err)) return 1;
    isw_ctf_batch bt = {xp, xq, nlab, dict.labels, lc, le, yl, 0, NULL, NULL, NULL};
    /* check: structured vs token-matrix kernels on one batch */
    for (int b = 0; b < B; b++) idx[b] = (int)isw_rng_below(&rng, (uint64_t)n);
    isw_concept_tokens(&set, &dict, idx, 0, B, h, xq, y);
    isw_ctf_forward(&net, &w, h, xq, B, L);
    isw_ctf_loss(w.f, y, B, 1.0 / B, w.df, NULL);
    memcpy(f, w.f, sizeof(double) * (size_t)B);
    memset(net.grads, 0, sizeof(double) * (size_t)net.n_params);
    isw_ctf_backward(&net, &w, h, xq, B, L);
    memcpy(g, net.grads, sizeof(double) * (size_t)net.n_params);
    isw_concept_batch(&set, &dict, idx, 0, B, xw, xp, &wc, &zn, xq, lc, le, yl, y);
    isw_ctf_forward_s(&net, &w, &bt, B, L);
    isw_ctf_loss(w.f, y, B, 1.0 / B, w.df, NULL);
    memset(net.grads, 0, sizeof(double) * (size_t)net.n_params);
    isw_ctf_backward_s(&net, &w, &bt, B, L);
    double fd = 0, fm = 0, gd = 0, gm = 0;
    for (int b = 0; b < B; b++) fd = fmax(fd, fabs(f[b] - w.f[b])), fm = fmax(fm, fabs(f[b]));
    for (long i = 0; i < net.n_params; i++) gd = fmax(gd, fabs(g[i] - net.grads[i])), gm = fmax(gm, fabs(g[i]));
    printf("check_maxrel=%.2e\n", fmax(fd / fm, gd / gm));
    long steps = 0;
    /* chunks of at most 512 KiB of words, as src/train/concept.c does */
    int chunk = (int)(512 * 1024 / (sizeof(double) * (size_t)L * d));
    chunk = chunk < 1 ? 1 : chunk > B ? B : chunk;
    double t0 = now(), t = t0;
    while (t - t0 < seconds || steps < 20) {
        for (int b = 0; b < B; b++) idx[b] = (int)isw_rng_below(&rng, (uint64_t)n);
        memset(net.grads, 0, sizeof(double) * (size_t)net.n_params);
        for (int c0 = 0; c0 < B; c0 += chunk) {
            int cb = B - c0 < chunk ? B - c0 : chunk;
            isw_concept_batch(&set, &dict, idx + c0, 0, cb, xw, xp, &wc, &zn, xq, lc, le, yl, y);
            isw_ctf_forward_s(&net, &w, &bt, cb, L);
            isw_ctf_loss(w.f, y, cb, 1.0 / B, w.df, NULL);
            isw_ctf_backward_s(&net, &w, &bt, cb, L);
        }
        isw_ctf_decay(&net, cfg.weight_decay);
        for (long i = 0; i < net.n_params; i++) net.params[i] -= cfg.lr * net.grads[i];
        steps++;
        if (steps % 10 == 0) t = now();
    }
    t = now();
    double sps = (double)steps / (t - t0);
    printf("steps_per_s=%.2f\nstep_gflops=%.3f\nflops_per_step=%.0f\n", sps,
           sps * step_flops(&dims, L, B) * 1e-9, step_flops(&dims, L, B));
    return 0;
}

static int on_log(void *ctx, int64_t index, int64_t step, const double *v) {
    *(double *)ctx = v[3]; /* test_err */
    return 0;
}

static int bench_task(void) {
    isw_concept_cfg cfg = defaults();
    const isw_model *tr = isw_model_find("concept");
    double final[128], last = NAN;
    isw_train_result res;
    isw_error err;
    isw_log_sink sink = {.ctx = &last, .on_log = on_log};
    double t0 = now();
    if (!tr || tr->train(&cfg, 20241122, &sink, final, &res, &err)) {
        fprintf(stderr, "concept_bench: task failed\n");
        return 1;
    }
    printf("task_s=%.3f\ntask_steps=%lld\nfinal_test_err=%.5f\n", now() - t0, (long long)cfg.steps, last);
    return 0;
}

static int bench_dgemm(int M, int N, int K, double seconds) {
    double *a = malloc(sizeof(double) * (size_t)M * K), *b = malloc(sizeof(double) * (size_t)K * N);
    double *c = calloc((size_t)M * N, sizeof(double));
    if (!a || !b || !c) return 1;
    for (long i = 0; i < (long)M * K; i++) a[i] = 1.0 / (1 + i % 7);
    for (long i = 0; i < (long)K * N; i++) b[i] = 1.0 / (1 + i % 5);
    long reps = 0;
    double t0 = now(), t = t0;
    while (t - t0 < seconds || reps < 3) {
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, M, N, K, 1.0, a, K, b, N, 0.0, c, N);
        reps++;
        t = now();
    }
    printf("dgemm_gflops=%.3f\n", 2.0 * M * N * K * (double)reps / (t - t0) * 1e-9);
    free(a), free(b), free(c);
    return 0;
}

int main(int argc, char **argv) {
    if (argc == 6 && strcmp(argv[1], "steps") == 0)
        return bench_steps(atoi(argv[2]), atoi(argv[3]), atoi(argv[4]), atof(argv[5]));
    if (argc == 2 && strcmp(argv[1], "task") == 0) return bench_task();
    if (argc == 6 && strcmp(argv[1], "dgemm") == 0)
        return bench_dgemm(atoi(argv[2]), atoi(argv[3]), atoi(argv[4]), atof(argv[5]));
    fprintf(stderr, "usage: concept_bench steps D L BATCH SECONDS | task | dgemm M N K SECONDS\n");
    return 2;
}
