/* Benchmark of the iccls model's training step and of a whole task, in process, before the model
 * has its trainer (phase 2 of the model's issue): the loop below is what that trainer will do.
 *
 *   iccls_bench steps SECONDS [key=value ...]   training steps/s: draw a batch (one fill of the
 *                                               training stream), tokens, forward, loss, backward,
 *                                               SGD; and the split of a step's time
 *   iccls_bench task [key=value ...]            wall time of a whole task: the four test sets,
 *                                               steps, evaluation of every set (chunks of 256) and
 *                                               the progress measures every log_every steps;
 *                                               trace=1 prints each log point as a JSON line
 *
 * Keys (defaults: the calibrated default point, bench/iccls/calibration.md): N Nmax D L K K_novel
 * B p_B p_C eps alpha bursty_zipf pos_shift batch lr weight_decay steps log_every n_test seed,
 * and precision (64: the double kernels, the default; 32: the single-precision ones).
 * Output is key=value lines for bench/iccls/run.sh. Run with OPENBLAS_NUM_THREADS=1. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "iclsweep/models/iccls.h"
#include "iclsweep/tasks/iccls.h"

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

typedef struct {
    isw_iccls_data_cfg data;
    int batch, steps, log_every, n_test, trace;
    int precision; /* 64: the double kernels; 32: the single-precision ones */
    double lr, weight_decay;
    unsigned long long seed;
} bench_cfg;

static bench_cfg defaults(void) {
    bench_cfg c = {.data = {.N = 4, .Nmax = 8, .D = 31, .L = 16, .K = 1024, .K_novel = 128, .B = 1,
                            .p_B = 1.0, .p_C = 0.0, .eps = 0.1, .alpha = 0.0, .bursty_zipf = 0,
                            .pos_shift = 1},
                   .batch = 64, .steps = 20000, .log_every = 100, .n_test = 1000, .trace = 0,
                   .precision = 64,
                   .lr = 0.1, .weight_decay = 1e-6, .seed = 1};
    return c;
}

static int parse(bench_cfg *c, int argc, char **argv) {
    for (int i = 0; i < argc; i++) {
        char key[32];
        double v;
        if (sscanf(argv[i], "%31[^=]=%lf", key, &v) != 2) return fprintf(stderr, "bad %s\n", argv[i]), -1;
#define I_(k, f) if (!strcmp(key, k)) { f = (int)v; continue; }
#define D_(k, f) if (!strcmp(key, k)) { f = v; continue; }
        I_("N", c->data.N) I_("Nmax", c->data.Nmax) I_("D", c->data.D) I_("L", c->data.L)
        I_("K", c->data.K) I_("K_novel", c->data.K_novel) I_("B", c->data.B)
        D_("p_B", c->data.p_B) D_("p_C", c->data.p_C) D_("eps", c->data.eps)
        D_("alpha", c->data.alpha) I_("bursty_zipf", c->data.bursty_zipf)
        I_("pos_shift", c->data.pos_shift) I_("batch", c->batch) I_("steps", c->steps)
        I_("log_every", c->log_every) I_("n_test", c->n_test) I_("trace", c->trace) I_("precision", c->precision)
        D_("lr", c->lr) D_("weight_decay", c->weight_decay)
        if (!strcmp(key, "seed")) { c->seed = (unsigned long long)v; continue; }
#undef I_
#undef D_
        fprintf(stderr, "unknown key %s\n", key);
        return -1;
    }
    return 0;
}

typedef struct {
    isw_iccls_task task;
    isw_iccls_set batch;
    isw_iccls_net net;
    isw_iccls_work work;
    isw_iccls_work32 work32; /* precision 32 */
    int f32;
    double *X; /* [Bmax, T, d] */
    float *Xf; /* [Bmax, T, d] the tokens in float (precision 32) */
    isw_rng train_rng;
    int Bmax;
} run_state;

static int setup(run_state *r, const bench_cfg *c, int Bmax) {
    isw_error err;
    memset(r, 0, sizeof *r);
    r->Bmax = Bmax;
    if (isw_iccls_task_make(&r->task, &c->data, c->seed, &err) ||
        isw_iccls_set_alloc(&r->batch, c->batch, &c->data, &err) ||
        isw_iccls_alloc(&r->net, isw_iccls_dims_of(c->data.N, c->data.Nmax, c->data.D, c->data.L),
                        &err) ||
        isw_iccls_work_alloc(&r->work, r->net.dims, Bmax, &err)) {
        fprintf(stderr, "iccls_bench: %s\n", err.msg);
        return -1;
    }
    r->f32 = c->precision == 32;
    if (r->f32 && isw_iccls_work32_alloc(&r->work32, r->net.dims, Bmax, &err)) {
        fprintf(stderr, "iccls_bench: %s\n", err.msg);
        return -1;
    }
    r->X = malloc(sizeof(double) * (size_t)Bmax * r->task.T * r->task.d);
    r->Xf = malloc(sizeof(float) * (size_t)Bmax * r->task.T * r->task.d);
    isw_rng rng;
    isw_rng_init(&rng, c->seed, ISW_ICCLS_STREAM_INIT);
    isw_iccls_init_weights(&r->net, &rng);
    isw_rng_init(&r->train_rng, c->seed, ISW_ICCLS_STREAM_TRAIN);
    return 0;
}

static void teardown(run_state *r) {
    isw_iccls_task_free(&r->task);
    isw_iccls_set_free(&r->batch);
    isw_iccls_free(&r->net);
    isw_iccls_work_free(&r->work);
    if (r->f32) isw_iccls_work32_free(&r->work32);
    free(r->X);
    free(r->Xf);
}

/* Forward and loss of n sequences of r->X in the run's precision (tokens converted to float for
 * precision 32); the logits and attention land in *logits, *a1, *a2. */
static double forward_loss(run_state *r, const int *target, int n, double scale, long *correct,
                           const double **logits, const double **a1, const double **a2) {
    if (!r->f32) {
        isw_iccls_forward(&r->net, &r->work, r->X, n);
        if (logits) *logits = r->work.logits, *a1 = r->work.a1, *a2 = r->work.a2;
        return isw_iccls_loss(&r->work, target, n, scale, correct);
    }
    long nx = (long)n * r->task.T * r->task.d;
    for (long i = 0; i < nx; i++) r->Xf[i] = (float)r->X[i];
    isw_iccls_sync32(&r->net, &r->work32);
    isw_iccls_forward32(&r->work32, r->Xf, n);
    double loss = isw_iccls_loss32(&r->work32, target, n, scale, correct);
    if (logits) { /* widened for the metrics (evaluation only) */
        static double *buf;
        static long cap;
        long need = (long)n * (r->task.cfg.L + r->task.T * r->task.T + r->task.T);
        if (need > cap) buf = realloc(buf, sizeof(double) * (size_t)(cap = need));
        double *lg = buf, *p1 = lg + (long)n * r->task.cfg.L, *p2 = p1 + (long)n * r->task.T * r->task.T;
        for (long i = 0; i < (long)n * r->task.cfg.L; i++) lg[i] = r->work32.logits[i];
        for (long i = 0; i < (long)n * r->task.T * r->task.T; i++) p1[i] = r->work32.a1[i];
        for (long i = 0; i < (long)n * r->task.T; i++) p2[i] = r->work32.a2[i];
        *logits = lg, *a1 = p1, *a2 = p2;
    }
    return loss;
}

static void backward(run_state *r, int n) {
    if (r->f32) isw_iccls_backward32(&r->net, &r->work32, r->Xf, n);
    else isw_iccls_backward(&r->net, &r->work, r->X, n);
}

/* One training step; times[4] accumulates data, forward, backward, update seconds. */
static double train_step(run_state *r, const bench_cfg *c, double *times) {
    double t0 = now();
    isw_iccls_mix mix = isw_iccls_train_mix(&c->data);
    isw_iccls_fill(&r->batch, c->batch, &mix, &r->task, &r->train_rng);
    isw_iccls_tokens(&r->batch, &r->task, 0, c->batch, r->X);
    double t1 = now();
    double loss = forward_loss(r, r->batch.target, c->batch, 1.0 / c->batch, NULL, NULL, NULL, NULL);
    double t2 = now();
    backward(r, c->batch);
    double t3 = now();
    isw_iccls_sgd(&r->net, c->lr, c->weight_decay);
    double t4 = now();
    if (times) {
        times[0] += t1 - t0;
        times[1] += t2 - t1;
        times[2] += t3 - t2;
        times[3] += t4 - t3;
    }
    return loss / c->batch;
}

static int cmd_steps(double seconds, const bench_cfg *c) {
    run_state r;
    if (setup(&r, c, c->batch)) return 1;
    double times[4] = {0}, t0 = now();
    long steps = 0;
    while (now() - t0 < seconds || steps < 20) {
        train_step(&r, c, times);
        steps++;
    }
    double wall = now() - t0;
    printf("steps_per_s=%.2f\n", steps / wall);
    printf("split_data=%.3f\nsplit_forward=%.3f\nsplit_backward=%.3f\nsplit_update=%.3f\n",
           times[0] / wall, times[1] / wall, times[2] / wall, times[3] / wall);
    teardown(&r);
    return 0;
}

/* Loss and accuracy of a set, in chunks of r->Bmax; the progress measures on its first 1000
 * sequences when pm is not NULL (ila1, pta1, tla2, tila2, cla). */
static void evaluate(run_state *r, const isw_iccls_set *set, double *loss, double *acc, double *pm) {
    int T = r->task.T, N = r->task.cfg.N, L = r->task.cfg.L;
    double total = 0.0;
    long correct = 0;
    double sums[5] = {0};
    int n_pm = set->n < 1000 ? set->n : 1000;
    for (int first = 0; first < set->n; first += r->Bmax) {
        int n = set->n - first < r->Bmax ? set->n - first : r->Bmax;
        isw_iccls_tokens(set, &r->task, first, n, r->X);
        const double *lg, *at1, *at2;
        total += forward_loss(r, set->target + first, n, 1.0, &correct, &lg, &at1, &at2);
        for (int b = 0; pm && b < n && first + b < n_pm; b++) {
            const double *a1 = at1 + (size_t)b * T * T, *a2 = at2 + (size_t)b * T;
            int i = first + b;
            const double *z = lg + (size_t)b * L;
            int best = 0, in_ctx = 0;
            for (int l = 1; l < L; l++) best = z[l] > z[best] ? l : best;
            for (int j = 0; j < N; j++) {
                int t = 2 * j + 1;
                sums[0] += a1[t * T + t - 1] / N;
                sums[2] += a2[t];
                sums[3] += set->ctx_class[(size_t)i * N + j] == set->q_class[i] ? a2[t] : 0.0;
                in_ctx |= set->ctx_label[(size_t)i * N + j] == best;
            }
            for (int t = 1; t < T; t++) sums[1] += a1[t * T + t - 1] / (T - 1);
            sums[4] += in_ctx;
        }
    }
    *loss = total / set->n;
    *acc = (double)correct / set->n;
    if (pm)
        for (int k = 0; k < 5; k++) pm[k] = sums[k] / n_pm;
}

static int cmd_task(const bench_cfg *c) {
    double t0 = now();
    run_state r;
    if (setup(&r, c, 256 > c->batch ? 256 : c->batch)) return 1;
    isw_iccls_set sets[ISW_ICCLS_N_SETS];
    static const char *names[] = {"test", "ic", "ic2", "iw"};
    for (int s = 0; s < ISW_ICCLS_N_SETS; s++) {
        isw_error err;
        if (isw_iccls_set_alloc(&sets[s], c->n_test, &c->data, &err)) return fprintf(stderr, "%s\n", err.msg), 1;
        isw_rng rng;
        isw_rng_init(&rng, c->seed, ISW_ICCLS_STREAM_EVAL + (uint32_t)s);
        isw_iccls_mix mix = isw_iccls_set_mix(&c->data, (isw_iccls_set_kind)s);
        isw_iccls_fill(&sets[s], c->n_test, &mix, &r.task, &rng);
    }
    double loss[4], acc[4], pm[5];
    for (int step = 0; step <= c->steps; step++) {
        if (step % c->log_every == 0 || step == c->steps) {
            for (int s = 0; s < ISW_ICCLS_N_SETS; s++)
                evaluate(&r, &sets[s], &loss[s], &acc[s], s == ISW_ICCLS_SET_IC ? pm : NULL);
            if (c->trace) {
                printf("{\"step\": %d", step);
                for (int s = 0; s < 4; s++) printf(", \"%s_loss\": %.6g, \"%s_acc\": %.6g", names[s], loss[s], names[s], acc[s]);
                printf(", \"ila1\": %.6g, \"pta1\": %.6g, \"tla2\": %.6g, \"tila2\": %.6g, \"cla\": %.6g}\n",
                       pm[0], pm[1], pm[2], pm[3], pm[4]);
            }
        }
        if (step < c->steps && !isfinite(train_step(&r, c, NULL))) {
            printf("diverged_at=%d\n", step);
            break;
        }
    }
    printf("task_s=%.3f\nfinal_ic_acc=%.5f\nfinal_iw_acc=%.5f\n", now() - t0, acc[1], acc[3]);
    for (int s = 0; s < ISW_ICCLS_N_SETS; s++) isw_iccls_set_free(&sets[s]);
    teardown(&r);
    return 0;
}

int main(int argc, char **argv) {
    bench_cfg c = defaults();
    if (argc >= 3 && !strcmp(argv[1], "steps")) {
        if (parse(&c, argc - 3, argv + 3)) return 2;
        return cmd_steps(atof(argv[2]), &c);
    }
    if (argc >= 2 && !strcmp(argv[1], "task")) {
        if (parse(&c, argc - 2, argv + 2)) return 2;
        return cmd_task(&c);
    }
    fprintf(stderr, "usage: iccls_bench steps SECONDS [key=value ...] | task [key=value ...]\n");
    return 2;
}
