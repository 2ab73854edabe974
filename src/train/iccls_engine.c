/* The iccls network over the model's data, in the task's precision: include/iclsweep/train/iccls_engine.h.
 *
 * A chunk's sequences are materialized into tokens (isw_iccls_tokens, double), converted to float
 * for the single-precision kernels, and run through the kernels of include/iclsweep/models/iccls.h.
 * Scores read the chunk's logits, attention and last classifier layer; in single precision those
 * are widened to double first (a chunk's worth, small next to the forward pass), so one scoring
 * loop serves both precisions. */
#include "iclsweep/train/iccls_engine.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

isw_status isw_iccls_engine_alloc(isw_iccls_engine *eng, isw_iccls_dims dims, int Bmax, int f32,
                                  isw_error *err) {
    memset(eng, 0, sizeof *eng);
    eng->f32 = f32;
    eng->Bmax = Bmax;
    eng->dims = dims;
    size_t tok = (size_t)Bmax * (size_t)dims.T * (size_t)dims.d;
    isw_status st = f32 ? isw_iccls_work32_alloc(&eng->w32, dims, Bmax, err)
                        : isw_iccls_work_alloc(&eng->w, dims, Bmax, err);
    if (st) return st;
    eng->X = isw_malloc(sizeof(double) * tok, err);
    if (eng->X && f32) {
        eng->Xf = isw_malloc(sizeof(float) * tok, err);
        size_t per = (size_t)dims.L + (size_t)dims.T * dims.T + (size_t)dims.T + (size_t)dims.d;
        eng->wide = eng->Xf ? isw_malloc(sizeof(double) * (size_t)Bmax * per, err) : NULL;
    }
    if (!eng->X || (f32 && !eng->wide)) {
        isw_iccls_engine_free(eng);
        return ISW_EINTERNAL;
    }
    return ISW_OK;
}

void isw_iccls_engine_free(isw_iccls_engine *eng) {
    if (eng->f32) isw_iccls_work32_free(&eng->w32);
    else isw_iccls_work_free(&eng->w);
    free(eng->X);
    free(eng->Xf);
    free(eng->wide);
    memset(eng, 0, sizeof *eng);
}

/* Tokens of sequences first..first+n of set into eng->X (and eng->Xf), forward, and the loss
 * against their targets (dlogits scaled by `scale`); returns the sum of the losses. */
static double forward_loss(isw_iccls_engine *eng, const isw_iccls_net *net, const isw_iccls_task *task,
                           const isw_iccls_set *set, int first, int n, double scale, long *n_correct) {
    isw_iccls_tokens(set, task, first, n, eng->X);
    const int *target = set->target + first;
    if (!eng->f32) {
        isw_iccls_forward(net, &eng->w, eng->X, n);
        return isw_iccls_loss(&eng->w, target, n, scale, n_correct);
    }
    size_t nx = (size_t)n * (size_t)eng->dims.T * (size_t)eng->dims.d;
    for (size_t i = 0; i < nx; i++) eng->Xf[i] = (float)eng->X[i];
    isw_iccls_sync32(net, &eng->w32);
    isw_iccls_forward32(&eng->w32, eng->Xf, n);
    return isw_iccls_loss32(&eng->w32, target, n, scale, n_correct);
}

double isw_iccls_engine_gradient(isw_iccls_engine *eng, isw_iccls_net *net, const isw_iccls_task *task,
                                 const isw_iccls_set *set, int first, int n, double scale,
                                 long *n_correct) {
    double loss = forward_loss(eng, net, task, set, first, n, scale, n_correct);
    if (eng->f32) isw_iccls_backward32(net, &eng->w32, eng->Xf, n);
    else isw_iccls_backward(net, &eng->w, eng->X, n);
    return loss;
}

/* The last forward's activations the scores read, as double. */
typedef struct {
    const double *logits; /* [n, L] */
    const double *a1;     /* [n, T, T] */
    const double *a2;     /* [n, T] */
    const double *h3;     /* [n, d] */
} chunk_view;

static void widen(double *to, const float *from, size_t n) {
    for (size_t i = 0; i < n; i++) to[i] = from[i];
}

static chunk_view view_of(isw_iccls_engine *eng, int n) {
    if (!eng->f32) return (chunk_view){eng->w.logits, eng->w.a1, eng->w.a2, eng->w.h3};
    size_t L = (size_t)eng->dims.L, T = (size_t)eng->dims.T, d = (size_t)eng->dims.d, nn = (size_t)n;
    double *lg = eng->wide, *a1 = lg + nn * L, *a2 = a1 + nn * T * T, *h3 = a2 + nn * T;
    widen(lg, eng->w32.logits, nn * L);
    widen(a1, eng->w32.a1, nn * T * T);
    widen(a2, eng->w32.a2, nn * T);
    widen(h3, eng->w32.h3, nn * d);
    return (chunk_view){lg, a1, a2, h3};
}

/* Adds sequence i's progress measures (its activations at row b of v) into sums[6], in the order
 * ila1, pta1, tla2, tila2, cla, h3_active. */
static void add_progress(double *sums, const chunk_view *v, int b, const isw_iccls_set *set, int i,
                         const isw_iccls_dims *m) {
    int T = m->T, L = m->L, d = m->d, N = set->N;
    const double *a1 = v->a1 + (size_t)b * T * T, *a2 = v->a2 + (size_t)b * T;
    const double *z = v->logits + (size_t)b * L, *h3 = v->h3 + (size_t)b * d;
    int best = 0, in_ctx = 0, active = 0;
    for (int l = 1; l < L; l++) best = z[l] > z[best] ? l : best;
    for (int j = 0; j < N; j++) {
        int t = 2 * j + 1; /* item j's label token */
        sums[0] += a1[t * T + t - 1] / N;
        sums[2] += a2[t];
        sums[3] += set->ctx_class[(size_t)i * N + j] == set->q_class[i] ? a2[t] : 0.0;
        in_ctx |= set->ctx_label[(size_t)i * N + j] == best;
    }
    for (int t = 1; t < T; t++) sums[1] += a1[t * T + t - 1] / (T - 1);
    for (int k = 0; k < d; k++) active += h3[k] > 0;
    sums[4] += in_ctx;
    sums[5] += (double)active / d;
}

isw_iccls_scores isw_iccls_engine_score(isw_iccls_engine *eng, const isw_iccls_net *net,
                                        const isw_iccls_task *task, const isw_iccls_set *set,
                                        int n_progress) {
    double total = 0.0, sums[6] = {0};
    long correct = 0;
    if (n_progress > set->n) n_progress = set->n;
    for (int first = 0; first < set->n; first += eng->Bmax) {
        int n = set->n - first < eng->Bmax ? set->n - first : eng->Bmax;
        total += forward_loss(eng, net, task, set, first, n, 1.0, &correct);
        if (first >= n_progress) continue;
        chunk_view v = view_of(eng, n);
        for (int b = 0; b < n && first + b < n_progress; b++) add_progress(sums, &v, b, set, first + b, &eng->dims);
    }
    isw_iccls_scores s = {total / set->n, (double)correct / set->n, NAN, NAN, NAN, NAN, NAN, NAN};
    if (n_progress > 0) {
        double k = (double)n_progress;
        s.ila1 = sums[0] / k, s.pta1 = sums[1] / k, s.tla2 = sums[2] / k;
        s.tila2 = sums[3] / k, s.cla = sums[4] / k, s.h3_active = sums[5] / k;
    }
    return s;
}
