/* Data for the iccls model (docs/science.md, model iccls): class means, label vectors, Zipf class
 * frequencies, items, bursty / non-bursty / novel sequences, the four test sets.
 *
 * Workload: one task draws K class means and L label vectors once, four test sets of n_test
 * sequences once, and then a fresh batch of `batch` sequences every training step (10^4-10^5
 * steps). A sequence costs (N + 1) D normals and a handful of integer draws, against the network's
 * O(T d^2) per sequence, so generation is a few percent of a step; it is written for clarity,
 * with the items' noise drawn in one normal fill per item.
 *
 * Random draws: a fill takes every number from the one stream it is handed, in the order
 * include/iclsweep/tasks/iccls.h gives, so a set is a pure function of (seed, stream, mix, n,
 * config). Class frequencies: uniform classes (alpha = 0) take one bounded integer draw;
 * Zipf classes one uniform and a binary search in the cumulative frequencies. */
#include "iclsweep/tasks/iccls.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

isw_iccls_mix isw_iccls_train_mix(const isw_iccls_data_cfg *cfg) {
    return (isw_iccls_mix){cfg->B > 0 ? cfg->p_B : 0.0, cfg->p_C, 0};
}

isw_iccls_mix isw_iccls_set_mix(const isw_iccls_data_cfg *cfg, isw_iccls_set_kind kind) {
    isw_iccls_mix m = isw_iccls_train_mix(cfg);
    switch (kind) {
    case ISW_ICCLS_SET_IC: m = (isw_iccls_mix){1.0, 1.0, 0}; break;
    case ISW_ICCLS_SET_IC2: m = (isw_iccls_mix){1.0, 0.0, 1}; break;
    case ISW_ICCLS_SET_IW: m = (isw_iccls_mix){0.0, 0.0, 0}; break;
    default: break;
    }
    return m;
}

int isw_iccls_copies(const isw_iccls_data_cfg *cfg) { return cfg->B > 0 ? cfg->B : cfg->N / 2; }

/* Fails with the knob to blame in *blame (if not NULL) and the message in err. */
static isw_status blame_fail(const char **blame, const char *knob, isw_error *err, const char *fmt,
                             ...) __attribute__((format(printf, 4, 5)));
static isw_status blame_fail(const char **blame, const char *knob, isw_error *err, const char *fmt,
                             ...) {
    char msg[sizeof err->msg];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (blame) *blame = knob;
    return isw_fail(err, ISW_EINPUT, "iccls: %s", msg);
}

isw_status isw_iccls_data_check(const isw_iccls_data_cfg *c, const char **blame, isw_error *err) {
    if (c->N < 1 || c->D < 1 || c->L < 2 || c->K < 1 || c->K_novel < 1)
        return blame_fail(blame, c->L < 2 ? "L" : c->N < 1 ? "N" : c->D < 1 ? "D" : c->K < 1 ? "K" : "K_novel",
                          err, "N, D, K, K_novel must be >= 1 and L >= 2 (got N = %d, D = %d, L = %d, "
                          "K = %d, K_novel = %d)", c->N, c->D, c->L, c->K, c->K_novel);
    if (c->K % c->L || c->K_novel % c->L)
        return blame_fail(blame, c->K % c->L ? "K" : "K_novel", err, "K = %d and K_novel = %d must be "
                          "multiples of L = %d (class k has label k mod L)", c->K, c->K_novel, c->L);
    if (c->N > c->Nmax)
        return blame_fail(blame, "Nmax", err, "N = %d must be <= Nmax = %d", c->N, c->Nmax);
    if (c->B < 0 || (c->B > 0 && (c->N % c->B || c->B >= c->N)))
        return blame_fail(blame, "B", err, "B = %d must be 0 or divide N = %d and be < N", c->B, c->N);
    if (c->B == 0 && (c->N % 2 || c->N < 2))
        return blame_fail(blame, "N", err, "B = 0 uses N / 2 copies, so N = %d must be even", c->N);
    int M = c->N / isw_iccls_copies(c);
    if (M > c->L)
        return blame_fail(blame, "L", err, "a bursty context needs N / B = %d distinct labels, more "
                          "than L = %d", M, c->L);
    if (!(c->p_B >= 0 && c->p_B <= 1) || !(c->p_C >= 0 && c->p_C <= 1))
        return blame_fail(blame, !(c->p_B >= 0 && c->p_B <= 1) ? "p_B" : "p_C", err,
                          "p_B = %g and p_C = %g must lie in [0, 1]", c->p_B, c->p_C);
    if (!(c->eps >= 0) || !(c->alpha >= 0) || !isfinite(c->eps) || !isfinite(c->alpha))
        return blame_fail(blame, !(c->eps >= 0) || !isfinite(c->eps) ? "eps" : "alpha", err,
                          "eps = %g and alpha = %g must be finite and >= 0", c->eps, c->alpha);
    return ISW_OK;
}

isw_status isw_iccls_task_make(isw_iccls_task *task, const isw_iccls_data_cfg *cfg, uint64_t seed,
                               isw_error *err) {
    memset(task, 0, sizeof *task);
    isw_status st = isw_iccls_data_check(cfg, NULL, err);
    if (st) return st;
    task->cfg = *cfg;
    task->T = 2 * cfg->N + 1;
    task->P = 2 * cfg->Nmax + 1;
    task->d = task->P + cfg->D;
    task->mu = isw_malloc(sizeof(double) * (size_t)cfg->K * (size_t)cfg->D, err);
    task->lab = isw_malloc(sizeof(double) * (size_t)cfg->L * (size_t)cfg->D, err);
    if (cfg->alpha > 0) task->cum = isw_malloc(sizeof(double) * (size_t)cfg->K, err);
    if (!task->mu || !task->lab || (cfg->alpha > 0 && !task->cum)) {
        isw_iccls_task_free(task);
        return ISW_EINTERNAL;
    }
    double sd = 1.0 / sqrt(cfg->D);
    isw_rng rng;
    isw_rng_init(&rng, seed, ISW_ICCLS_STREAM_MEANS);
    isw_rng_normal_fill(&rng, task->mu, (long)cfg->K * cfg->D, sd);
    isw_rng_init(&rng, seed, ISW_ICCLS_STREAM_LABELS);
    isw_rng_normal_fill(&rng, task->lab, (long)cfg->L * cfg->D, sd);
    if (task->cum) {
        double s = 0.0;
        for (int k = 0; k < cfg->K; k++) task->cum[k] = s += pow(k + 1.0, -cfg->alpha);
        for (int k = 0; k < cfg->K; k++) task->cum[k] /= s;
        task->cum[cfg->K - 1] = 1.0;
    }
    return ISW_OK;
}

void isw_iccls_task_free(isw_iccls_task *task) {
    free(task->mu);
    free(task->lab);
    free(task->cum);
    task->mu = task->lab = task->cum = NULL;
}

double isw_iccls_class_prob(const isw_iccls_task *task, int k) {
    if (!task->cum) return 1.0 / task->cfg.K;
    return task->cum[k] - (k > 0 ? task->cum[k - 1] : 0.0);
}

/* A training class from P(k). */
static int draw_class(const isw_iccls_task *task, isw_rng *rng) {
    if (!task->cum) return (int)isw_rng_below(rng, (uint64_t)task->cfg.K);
    double u = isw_rng_uniform(rng);
    int lo = 0, hi = task->cfg.K - 1; /* the first k with cum[k] > u */
    while (lo < hi) {
        int mid = (lo + hi) / 2;
        if (task->cum[mid] > u) hi = mid;
        else lo = mid + 1;
    }
    return lo;
}

static int label_used(const int *cls /* [m] */, int m, int label, int L) {
    for (int i = 0; i < m; i++)
        if (cls[i] % L == label) return 1;
    return 0;
}

/* M classes with distinct labels into cls[M], over n_classes classes (class c has label c mod L):
 * uniform: M distinct labels uniformly (rejection of repeats), then a uniform class of each label;
 * zipf: classes from P(k) one after another, a class whose label is taken drawn again (the law of
 * P conditioned on a new label). */
static void bursty_classes(int *cls /* [M] */, int M, int n_classes, int zipf,
                           const isw_iccls_task *task, isw_rng *rng) {
    int L = task->cfg.L;
    for (int m = 0; m < M; m++) {
        int c;
        if (zipf) {
            do c = draw_class(task, rng);
            while (label_used(cls, m, c % L, L));
        } else {
            int label;
            do label = (int)isw_rng_below(rng, (uint64_t)L);
            while (label_used(cls, m, label, L));
            c = label + L * (int)isw_rng_below(rng, (uint64_t)(n_classes / L));
        }
        cls[m] = c;
    }
}

/* One item of mean `mean` into out[D] (single precision): (mean + eps eta) / sqrt(1 + eps^2),
 * eta ~ N(0, I/D). */
static void draw_item(float *out, const double *mean, const isw_iccls_data_cfg *c, double *word,
                      isw_rng *rng) {
    isw_rng_normal_fill(rng, word, c->D, c->eps / sqrt(c->D));
    double e = 1.0 / sqrt(1.0 + c->eps * c->eps);
    for (int i = 0; i < c->D; i++) out[i] = (float)(e * (mean[i] + word[i]));
}

/* Classes of sequence i: its kind, context classes and query class (ids as in the set). */
static void draw_classes(isw_iccls_set *set, int i, const isw_iccls_mix *mix,
                         const isw_iccls_task *task, isw_rng *rng) {
    const isw_iccls_data_cfg *c = &task->cfg;
    int N = c->N, Bc = isw_iccls_copies(c), M = N / Bc;
    double uC = isw_rng_uniform(rng), uB = isw_rng_uniform(rng);
    int novel = uC < mix->p_C, bursty = !novel && uB < mix->p_B;
    int *ctx = set->ctx_class + (size_t)i * N;
    set->kind[i] = novel ? ISW_ICCLS_NOVEL : bursty ? ISW_ICCLS_BURSTY : ISW_ICCLS_NONBURSTY;
    if (!novel && !bursty) {
        for (int j = 0; j < N; j++) ctx[j] = draw_class(task, rng);
        set->q_class[i] = draw_class(task, rng);
        return;
    }
    bursty_classes(ctx, M, novel ? c->K_novel : c->K, !novel && c->bursty_zipf, task, rng);
    for (int j = M; j < N; j++) ctx[j] = ctx[j % M];
    for (int j = N - 1; j > 0; j--) { /* Fisher-Yates */
        int r = (int)isw_rng_below(rng, (uint64_t)j + 1), t = ctx[j];
        ctx[j] = ctx[r];
        ctx[r] = t;
    }
    set->q_class[i] = ctx[isw_rng_below(rng, (uint64_t)N)];
    if (novel) {
        for (int j = 0; j < N; j++) ctx[j] = -1 - ctx[j];
        set->q_class[i] = -1 - set->q_class[i];
    }
}

/* The label of class id c (novel ids -1 - j have label j mod L), shifted when asked. */
static int class_label(int c, int L, int shift) {
    int base = c >= 0 ? c : -1 - c;
    return (base % L + shift) % L;
}

static const double *class_mean(const isw_iccls_set *set, const isw_iccls_task *task, int c) {
    int D = task->cfg.D;
    return c >= 0 ? task->mu + (size_t)c * D : set->bank + (size_t)(-1 - c) * D;
}

void isw_iccls_fill(isw_iccls_set *set, int n, const isw_iccls_mix *mix, const isw_iccls_task *task,
                    isw_rng *rng) {
    const isw_iccls_data_cfg *c = &task->cfg;
    int N = c->N, D = c->D, L = c->L, shift = mix->shift_labels ? 1 : 0;
    if (mix->p_C > 0) isw_rng_normal_fill(rng, set->bank, (long)c->K_novel * D, 1.0 / sqrt(D));
    for (int i = 0; i < n; i++) {
        draw_classes(set, i, mix, task, rng);
        const int *ctx = set->ctx_class + (size_t)i * N;
        float *items = set->item + (size_t)i * (N + 1) * D;
        for (int j = 0; j < N; j++) {
            draw_item(items + (size_t)j * D, class_mean(set, task, ctx[j]), c, set->word, rng);
            set->ctx_label[(size_t)i * N + j] = class_label(ctx[j], L, shift);
        }
        draw_item(items + (size_t)N * D, class_mean(set, task, set->q_class[i]), c, set->word, rng);
        set->target[i] = class_label(set->q_class[i], L, shift);
        int room = 2 * (c->Nmax - N) + 1; /* P - T + 1 shifts */
        set->shift[i] = c->pos_shift ? (int)isw_rng_below(rng, (uint64_t)room) : 0;
    }
    set->n = n;
}

isw_status isw_iccls_set_alloc(isw_iccls_set *set, int cap, const isw_iccls_data_cfg *cfg,
                               isw_error *err) {
    memset(set, 0, sizeof *set);
    int N = cfg->N, D = cfg->D;
    set->cap = cap;
    set->N = N;
    set->D = D;
    set->K_novel = cfg->K_novel;
    size_t n = (size_t)cap;
    set->shift = isw_malloc(sizeof(int) * n, err);
    set->item = isw_malloc(sizeof(float) * n * (size_t)(N + 1) * (size_t)D, err);
    set->ctx_class = isw_malloc(sizeof(int) * n * (size_t)N, err);
    set->ctx_label = isw_malloc(sizeof(int) * n * (size_t)N, err);
    set->q_class = isw_malloc(sizeof(int) * n, err);
    set->target = isw_malloc(sizeof(int) * n, err);
    set->kind = isw_malloc(n, err);
    set->bank = isw_malloc(sizeof(double) * (size_t)cfg->K_novel * (size_t)D, err);
    set->word = isw_malloc(sizeof(double) * (size_t)D, err);
    if (!set->shift || !set->item || !set->ctx_class || !set->ctx_label || !set->q_class ||
        !set->target || !set->kind || !set->bank || !set->word) {
        isw_iccls_set_free(set);
        return ISW_EINTERNAL;
    }
    return ISW_OK;
}

void isw_iccls_set_free(isw_iccls_set *set) {
    free(set->shift);
    free(set->item);
    free(set->ctx_class);
    free(set->ctx_label);
    free(set->q_class);
    free(set->target);
    free(set->kind);
    free(set->bank);
    free(set->word);
    memset(set, 0, sizeof *set);
}

void isw_iccls_tokens(const isw_iccls_set *set, const isw_iccls_task *task, int first, int n,
                      double *X) {
    int N = task->cfg.N, D = task->cfg.D, T = task->T, P = task->P, d = task->d;
    memset(X, 0, sizeof(double) * (size_t)n * (size_t)T * (size_t)d);
    for (int b = 0; b < n; b++) {
        int i = first + b;
        const float *items = set->item + (size_t)i * (N + 1) * D;
        double *x = X + (size_t)b * T * d;
        for (int t = 0; t < T; t++) {
            double *tok = x + (size_t)t * d;
            tok[set->shift[i] + t] = 1.0;
            if (t % 2 == 0) {
                const float *it = items + (size_t)(t / 2) * D;
                for (int k = 0; k < D; k++) tok[P + k] = it[k];
            } else {
                const double *lv = task->lab + (size_t)set->ctx_label[(size_t)i * N + t / 2] * D;
                memcpy(tok + P, lv, sizeof(double) * (size_t)D);
            }
        }
    }
}
