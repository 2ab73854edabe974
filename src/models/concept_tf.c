/* The concept model's network: softmax attention from the query over the demonstrations, then a
 * ReLU MLP with fixed second layer a_r = +-1/m; forward and hand-written backward over CBLAS.
 *
 * Workload: one worker trains one small model (d ~ 64, L ~ 16..64, m ~ 32, batch ~ 64) for
 * 10^3..10^5 steps, evaluating a few thousand prompts at each log point. So everything is batched
 * over prompts: the weight products are dgemms over the batch (rows = prompts), and only the
 * O(L D) per-prompt pieces (scores and attention output) are dgemvs. The score reassociation
 * s_l = h_l^T (W_K^T (W_Q h_q)) keeps a prompt at O(dh D + L D) instead of O(L dh D). The trainer
 * uses the structured-batch kernels (the _s functions): a prompt's tokens share one of two label
 * halves, combinations of nlab = 2K label vectors, so the per-prompt pieces are dgemvs over its
 * [L, d] words read in place plus O(L + nlab) scalar work, with no [B, L, D] token matrices
 * written or read (at L = 64 those were 4 MB per step, and memory-bound), and every weight
 * product's label half runs on [*, nlab] coefficients instead of [*, d] columns (W_K[:, d:] lab^T
 * and W_O[:, d:] lab^T are formed once per call). The token-matrix kernels stay for the tests and
 * as the reference the structured ones are checked against. Double
 * precision throughout: the gradient checks and bit-identical replays rely on it. Dimension
 * letters (B, L, d, D, dh, m) are defined in include/iclsweep/concept_tf.h. */
#include "iclsweep/concept_tf.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- the parameter arena ---------------------------------------------------------------- */

#define TENSOR_NAME_(name, rows, cols, doc) #name,
static const char *const tensor_names[] = {ISW_CTF_TENSORS(TENSOR_NAME_)};
#undef TENSOR_NAME_
#define N_TENSORS ((int)(sizeof tensor_names / sizeof tensor_names[0]))

int isw_ctf_n_tensors(void) { return N_TENSORS; }

const char *isw_ctf_tensor_name(int i) { return i >= 0 && i < N_TENSORS ? tensor_names[i] : ""; }

long isw_ctf_tensor_size(const isw_ctf_dims *dims, int i) {
#define TENSOR_SIZE_(name, rows, cols, doc) (long)dims->rows *(long)dims->cols,
    const long sizes[] = {ISW_CTF_TENSORS(TENSOR_SIZE_)};
#undef TENSOR_SIZE_
    return i >= 0 && i < N_TENSORS ? sizes[i] : 0;
}

long isw_ctf_tensor_offset(const isw_ctf_dims *dims, int i) {
    long off = 0;
    for (int j = 0; j < i && j < N_TENSORS; j++) off += isw_ctf_tensor_size(dims, j);
    return off;
}

static void point_views(isw_ctf *net) {
    int i = 0;
#define TENSOR_POINT_(name, rows, cols, doc)                                 \
    net->w.name = net->params + isw_ctf_tensor_offset(&net->dims, i);       \
    net->g.name = net->grads + isw_ctf_tensor_offset(&net->dims, i);        \
    i++;
    ISW_CTF_TENSORS(TENSOR_POINT_)
#undef TENSOR_POINT_
}

isw_status isw_ctf_alloc(isw_ctf *net, isw_ctf_dims dims, isw_error *err) {
    memset(net, 0, sizeof *net);
    net->dims = dims;
    net->n_params = isw_ctf_tensor_offset(&dims, N_TENSORS);
    net->params = isw_calloc((size_t)net->n_params, sizeof(double), err);
    net->grads = isw_calloc((size_t)net->n_params, sizeof(double), err);
    if (!net->params || !net->grads) {
        isw_ctf_free(net);
        return ISW_EINTERNAL;
    }
    point_views(net);
    return ISW_OK;
}

void isw_ctf_free(isw_ctf *net) {
    free(net->params);
    free(net->grads);
    memset(net, 0, sizeof *net);
}

void isw_ctf_init_weights(isw_ctf *net, isw_rng *rng, double init) {
    isw_rng_normal_fill(rng, net->params, net->n_params, init);
}

isw_status isw_ctf_work_alloc(isw_ctf_work *w, isw_ctf_dims dims, int Bmax, int Lmax, isw_error *err) {
    memset(w, 0, sizeof *w);
    w->Bmax = Bmax;
    w->Lmax = Lmax;
    size_t B = (size_t)Bmax;
    double **bufs[] = {&w->q, &w->u, &w->a, &w->o, &w->z, &w->f, &w->df,
                       &w->dz, &w->dout, &w->ds, &w->du, &w->dq, &w->mqk};
    size_t sizes[] = {B * dims.dh, B * dims.D, B * Lmax, B * dims.D, B * dims.m, B, B,
                      B * dims.m, B * dims.D, B * Lmax, B * dims.D, B * dims.dh,
                      (size_t)dims.d * dims.D};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        *bufs[i] = isw_calloc(sizes[i], sizeof(double), err);
        if (!*bufs[i]) {
            isw_ctf_work_free(w);
            return ISW_EINTERNAL;
        }
    }
    return ISW_OK;
}

isw_status isw_ctf_work_alloc_labels(isw_ctf_work *w, isw_ctf_dims dims, int nlab_max, isw_error *err) {
    size_t n = (size_t)(nlab_max > 0 ? nlab_max : 1), B = (size_t)w->Bmax;
    size_t rows = (size_t)(dims.dh > dims.d ? dims.dh : dims.d);
    double **bufs[] = {&w->lw_t, &w->lw_qt, &w->lw_om, &w->lw_gt, &w->lw_dl, &w->lw_gk,
                       &w->lw_ot, &w->lw_gw};
    size_t sizes[] = {rows * n, B * n, B * n, B * n, B * n, (size_t)dims.dh * n,
                      (size_t)dims.m * n, (size_t)dims.m * n};
    w->nlab_max = nlab_max;
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        free(*bufs[i]);
        *bufs[i] = isw_calloc(sizes[i], sizeof(double), err);
        if (!*bufs[i]) {
            isw_ctf_work_free(w);
            return ISW_EINTERNAL;
        }
    }
    return ISW_OK;
}

void isw_ctf_work_free(isw_ctf_work *w) {
    double *bufs[] = {w->q, w->u, w->a, w->o, w->z, w->f, w->df,
                      w->dz, w->dout, w->ds, w->du, w->dq, w->mqk,
                      w->lw_t, w->lw_qt, w->lw_om, w->lw_gt, w->lw_dl, w->lw_gk,
                      w->lw_ot, w->lw_gw};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++) free(bufs[i]);
    memset(w, 0, sizeof *w);
}

/* Second-layer weight of neuron r. */
static double mlp_out(int r, int m) { return r < m / 2 ? 1.0 / m : -1.0 / m; }

/* ---- forward ------------------------------------------------------------------------------ */

/* In place: s[L] -> softmax(s), shifted by the max so that no score overflows. */
static void softmax(double *s /* [L] */, int L) {
    double mx = s[0], sum = 0.0;
    for (int l = 1; l < L; l++) mx = s[l] > mx ? s[l] : mx;
    for (int l = 0; l < L; l++) {
        s[l] = exp(s[l] - mx);
        sum += s[l];
    }
    for (int l = 0; l < L; l++) s[l] /= sum;
}

static double dot(const double *a, const double *b, int n) {
    double s = 0.0;
    for (int i = 0; i < n; i++) s += a[i] * b[i];
    return s;
}

/* From o (already in w): the MLP, z and f. */
static void mlp_output(isw_ctf_work *w, int B, int m) {
    for (int b = 0; b < B; b++) {
        const double *zb = w->z + (size_t)b * m;
        double f = 0.0;
        for (int r = 0; r < m; r++) f += zb[r] > 0 ? mlp_out(r, m) * zb[r] : 0.0;
        w->f[b] = f;
    }
}

static void mlp_forward(const isw_ctf *net, isw_ctf_work *w, int B) {
    int D = net->dims.D, m = net->dims.m;
    /* z[B, m] = o[B, D] W_O^T */
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, B, m, D, 1.0, w->o, D, net->w.wo, D, 0.0,
                w->z, m);
    mlp_output(w, B, m);
}

/* mlp_forward on a structured batch, o[d:] = lw_om^T lab:
 * z = o[:, :d] W_O[:, :d]^T + lw_om (W_O[:, d:] lab^T)^T. */
static void mlp_forward_s(const isw_ctf *net, isw_ctf_work *w, const isw_ctf_batch *bt, int B) {
    int d = net->dims.d, D = net->dims.D, m = net->dims.m, n = bt->nlab;
    /* lw_ot[m, n] = W_O[:, d:] lab^T */
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m, n, d, 1.0, net->w.wo + d, D, bt->lab, d,
                0.0, w->lw_ot, n);
    /* z[B, m] = o[B, :d] W_O[:, :d]^T + lw_om[B, n] lw_ot^T */
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, B, m, d, 1.0, w->o, D, net->w.wo, D, 0.0,
                w->z, m);
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, B, m, n, 1.0, w->lw_om, n, w->lw_ot, n, 1.0,
                w->z, m);
    mlp_output(w, B, m);
}

/* From u (already in w): attention, output, MLP. Shared by the training and evaluation paths. */
static void attend_and_mlp(const isw_ctf *net, isw_ctf_work *w, const double *h /* [B, L, D] */,
                           int B, int L) {
    int D = net->dims.D;
    for (int b = 0; b < B; b++) {
        const double *hb = h + (size_t)b * L * D;
        double *ab = w->a + (size_t)b * L;
        cblas_dgemv(CblasRowMajor, CblasNoTrans, L, D, 1.0, hb, D, w->u + (size_t)b * D, 1, 0.0, ab, 1);
        softmax(ab, L);
        cblas_dgemv(CblasRowMajor, CblasTrans, L, D, 1.0, hb, D, ab, 1, 0.0, w->o + (size_t)b * D, 1);
    }
    mlp_forward(net, w, B);
}

/* attend_and_mlp on a structured batch, with w->lw_qt (the label halves' score parts) already
 * filled: per prompt, scores s = X u[:d] + (lc . lw_qt) + y (le . lw_qt), output
 * o = [X^T alpha; lw_om^T lab] with lw_om = (sum alpha) lc + (alpha . y) le; only o[:d] is
 * written, the label half stays as its coefficients lw_om. */
static void attend_and_mlp_s(const isw_ctf *net, isw_ctf_work *w, const isw_ctf_batch *bt, int B,
                             int L) {
    int d = net->dims.d, D = net->dims.D, n = bt->nlab;
    for (int b = 0; b < B; b++) {
        const double *X = bt->x[b], *cb = bt->lc + (size_t)b * n, *eb = bt->le + (size_t)b * n;
        const double *yb = bt->yl + (size_t)b * L, *ub = w->u + (size_t)b * D;
        const double *qtb = w->lw_qt + (size_t)b * n;
        double *ab = w->a + (size_t)b * L, *ob = w->o + (size_t)b * D, *omb = w->lw_om + (size_t)b * n;
        double sc = dot(cb, qtb, n), se = dot(eb, qtb, n);
        cblas_dgemv(CblasRowMajor, CblasNoTrans, L, d, 1.0, X, d, ub, 1, 0.0, ab, 1);
        for (int l = 0; l < L; l++) ab[l] += sc + yb[l] * se;
        softmax(ab, L);
        cblas_dgemv(CblasRowMajor, CblasTrans, L, d, 1.0, X, d, ab, 1, 0.0, ob, 1);
        double sa = 0.0, ay = 0.0;
        for (int l = 0; l < L; l++) {
            sa += ab[l];
            ay += ab[l] * yb[l];
        }
        for (int j = 0; j < n; j++) omb[j] = sa * cb[j] + ay * eb[j];
    }
    mlp_forward_s(net, w, bt, B);
}

/* q and u of the training path. */
static void query_forward(const isw_ctf *net, isw_ctf_work *w, const double *xq /* [B, d] */, int B) {
    int d = net->dims.d, D = net->dims.D, dh = net->dims.dh;
    /* q[B, dh] = xq[B, d] W_Q[:, :d]^T  (the query's label half is zero) */
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, B, dh, d, 1.0, xq, d, net->w.wq, D, 0.0,
                w->q, dh);
    /* u[B, D] = q[B, dh] W_K[dh, D] */
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, B, D, dh, 1.0, w->q, dh, net->w.wk, D,
                0.0, w->u, D);
}

void isw_ctf_forward(const isw_ctf *net, isw_ctf_work *w, const double *h /* [B, L, D] */,
                     const double *xq /* [B, d] */, int B, int L) {
    query_forward(net, w, xq, B);
    attend_and_mlp(net, w, h, B, L);
}

void isw_ctf_forward_s(const isw_ctf *net, isw_ctf_work *w, const isw_ctf_batch *bt, int B, int L) {
    int d = net->dims.d, D = net->dims.D, dh = net->dims.dh, n = bt->nlab;
    /* q[B, dh] = xq[B, d] W_Q[:, :d]^T */
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, B, dh, d, 1.0, bt->xq, d, net->w.wq, D, 0.0,
                w->q, dh);
    /* u[B, :d] = q[B, dh] W_K[:, :d] */
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, B, d, dh, 1.0, w->q, dh, net->w.wk, D,
                0.0, w->u, D);
    /* lw_t[dh, n] = W_K[:, d:] lab^T;  lw_qt[B, n] = q lw_t */
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, dh, n, d, 1.0, net->w.wk + d, D, bt->lab, d,
                0.0, w->lw_t, n);
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, B, n, dh, 1.0, w->q, dh, w->lw_t, n, 0.0,
                w->lw_qt, n);
    attend_and_mlp_s(net, w, bt, B, L);
}

void isw_ctf_eval_prepare(const isw_ctf *net, isw_ctf_work *w) {
    int d = net->dims.d, D = net->dims.D, dh = net->dims.dh;
    /* mqk[d, D] = W_Q[:, :d]^T W_K */
    cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, d, D, dh, 1.0, net->w.wq, D, net->w.wk, D,
                0.0, w->mqk, D);
}

/* u of the evaluation path. */
static void query_forward_eval(const isw_ctf *net, isw_ctf_work *w, const double *xq /* [B, d] */,
                               int B) {
    int d = net->dims.d, D = net->dims.D;
    /* u[B, D] = xq[B, d] mqk[d, D] */
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, B, D, d, 1.0, xq, d, w->mqk, D, 0.0,
                w->u, D);
}

void isw_ctf_forward_eval(const isw_ctf *net, isw_ctf_work *w, const double *h /* [B, L, D] */,
                          const double *xq /* [B, d] */, int B, int L) {
    query_forward_eval(net, w, xq, B);
    attend_and_mlp(net, w, h, B, L);
}

void isw_ctf_forward_eval_s(const isw_ctf *net, isw_ctf_work *w, const isw_ctf_batch *bt, int B,
                            int L) {
    int d = net->dims.d, D = net->dims.D, n = bt->nlab;
    /* u[B, :d] = xq[B, d] mqk[:, :d] */
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, B, d, d, 1.0, bt->xq, d, w->mqk, D, 0.0,
                w->u, D);
    /* lw_t[d, n] = mqk[:, d:] lab^T;  lw_qt[B, n] = xq lw_t */
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, d, n, d, 1.0, w->mqk + d, D, bt->lab, d, 0.0,
                w->lw_t, n);
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, B, n, d, 1.0, bt->xq, d, w->lw_t, n, 0.0,
                w->lw_qt, n);
    attend_and_mlp_s(net, w, bt, B, L);
}

/* log(1 + exp(-t)) without overflow, and its derivative -1 / (1 + exp(t)). */
static double softplus_neg(double t) { return t > 0 ? log1p(exp(-t)) : -t + log1p(exp(t)); }
static double dsoftplus_neg(double t) { return t > 0 ? -exp(-t) / (1.0 + exp(-t)) : -1.0 / (1.0 + exp(t)); }

double isw_ctf_loss(const double *f /* [B] */, const double *y /* [B] */, int B, double scale,
                    double *df /* [B] */, long *n_err) {
    double sum = 0.0;
    long errs = 0;
    for (int b = 0; b < B; b++) {
        double t = y[b] * f[b];
        sum += softplus_neg(t);
        errs += t <= 0;
        if (df) df[b] = scale * y[b] * dsoftplus_neg(t);
    }
    if (n_err) *n_err += errs;
    return sum;
}

/* ---- backward ----------------------------------------------------------------------------- */

/* MLP part of the backward pass: dz, dW_O and dout. */
static void mlp_dz(isw_ctf_work *w, int B, int m) {
    /* MLP: dz = df a_r [z > 0] */
    for (int b = 0; b < B; b++)
        for (int r = 0; r < m; r++) {
            size_t i = (size_t)b * m + r;
            w->dz[i] = w->z[i] > 0 ? w->df[b] * mlp_out(r, m) : 0.0;
        }
}

/* mlp_backward on a structured batch: dW_O[:, :d] += dz^T o[:, :d]; dW_O[:, d:] +=
 * (dz^T lw_om) lab; dout[:, :d] = dz W_O[:, :d], and for the label half only
 * lw_gt = dout[:, d:] lab^T = dz lw_ot. */
static void mlp_backward_s(isw_ctf *net, isw_ctf_work *w, const isw_ctf_batch *bt, int B) {
    int d = net->dims.d, D = net->dims.D, m = net->dims.m, n = bt->nlab;
    mlp_dz(w, B, m);
    cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, m, d, B, 1.0, w->dz, m, w->o, D, 1.0,
                net->g.wo, D);
    cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, m, n, B, 1.0, w->dz, m, w->lw_om, n, 0.0,
                w->lw_gw, n);
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, d, n, 1.0, w->lw_gw, n, bt->lab, d, 1.0,
                net->g.wo + d, D);
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, B, d, m, 1.0, w->dz, m, net->w.wo, D, 0.0,
                w->dout, D);
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, B, n, m, 1.0, w->dz, m, w->lw_ot, n, 0.0,
                w->lw_gt, n);
}

static void mlp_backward(isw_ctf *net, isw_ctf_work *w, int B) {
    int D = net->dims.D, m = net->dims.m;
    mlp_dz(w, B, m);
    /* dW_O[m, D] += dz^T[m, B] o[B, D];  dout[B, D] = dz[B, m] W_O[m, D] */
    cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, m, D, B, 1.0, w->dz, m, w->o, D, 1.0,
                net->g.wo, D);
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, B, D, m, 1.0, w->dz, m, net->w.wo, D, 0.0,
                w->dout, D);
}

/* From du: dW_K, dq and dW_Q. */
static void query_backward(isw_ctf *net, isw_ctf_work *w, const double *xq /* [B, d] */, int B) {
    int d = net->dims.d, D = net->dims.D, dh = net->dims.dh;
    /* dW_K[dh, D] += q^T[dh, B] du[B, D];  dq[B, dh] = du[B, D] W_K^T */
    cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, dh, D, B, 1.0, w->q, dh, w->du, D, 1.0,
                net->g.wk, D);
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, B, dh, D, 1.0, w->du, D, net->w.wk, D, 0.0,
                w->dq, dh);
    /* dW_Q[:, :d] += dq^T[dh, B] xq[B, d]  (columns d..D see a zero query) */
    cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, dh, d, B, 1.0, w->dq, dh, xq, d, 1.0,
                net->g.wq, D);
}

void isw_ctf_backward(isw_ctf *net, isw_ctf_work *w, const double *h /* [B, L, D] */,
                      const double *xq /* [B, d] */, int B, int L) {
    int D = net->dims.D;
    mlp_backward(net, w, B);
    /* attention: dalpha = H dout; ds = alpha (dalpha - <alpha, dalpha>); du = H^T ds */
    for (int b = 0; b < B; b++) {
        const double *hb = h + (size_t)b * L * D, *ab = w->a + (size_t)b * L;
        double *dsb = w->ds + (size_t)b * L;
        cblas_dgemv(CblasRowMajor, CblasNoTrans, L, D, 1.0, hb, D, w->dout + (size_t)b * D, 1, 0.0, dsb, 1);
        double mean = 0.0;
        for (int l = 0; l < L; l++) mean += ab[l] * dsb[l];
        for (int l = 0; l < L; l++) dsb[l] = ab[l] * (dsb[l] - mean);
        cblas_dgemv(CblasRowMajor, CblasTrans, L, D, 1.0, hb, D, dsb, 1, 0.0, w->du + (size_t)b * D, 1);
    }
    query_backward(net, w, xq, B);
}

void isw_ctf_backward_s(isw_ctf *net, isw_ctf_work *w, const isw_ctf_batch *bt, int B, int L) {
    int d = net->dims.d, D = net->dims.D, dh = net->dims.dh, n = bt->nlab;
    mlp_backward_s(net, w, bt, B);
    /* attention, per prompt: dalpha = X dout[:d] + (lc . lw_gt) + y (le . lw_gt);
     * ds = alpha (dalpha - <alpha, dalpha>); du[:d] = X^T ds; lw_dl = (sum ds) lc + (ds . y) le,
     * so that du[d:] = lw_dl^T lab */
    for (int b = 0; b < B; b++) {
        const double *X = bt->x[b], *cb = bt->lc + (size_t)b * n, *eb = bt->le + (size_t)b * n;
        const double *yb = bt->yl + (size_t)b * L, *ab = w->a + (size_t)b * L;
        const double *gtb = w->lw_gt + (size_t)b * n;
        double *dsb = w->ds + (size_t)b * L, *dlb = w->lw_dl + (size_t)b * n;
        double gc = dot(cb, gtb, n), ge = dot(eb, gtb, n);
        cblas_dgemv(CblasRowMajor, CblasNoTrans, L, d, 1.0, X, d, w->dout + (size_t)b * D, 1, 0.0, dsb, 1);
        double mean = 0.0;
        for (int l = 0; l < L; l++) {
            dsb[l] += gc + yb[l] * ge;
            mean += ab[l] * dsb[l];
        }
        double sds = 0.0, dsy = 0.0;
        for (int l = 0; l < L; l++) {
            dsb[l] = ab[l] * (dsb[l] - mean);
            sds += dsb[l];
            dsy += dsb[l] * yb[l];
        }
        cblas_dgemv(CblasRowMajor, CblasTrans, L, d, 1.0, X, d, dsb, 1, 0.0, w->du + (size_t)b * D, 1);
        for (int j = 0; j < n; j++) dlb[j] = sds * cb[j] + dsy * eb[j];
    }
    /* dW_K[:, :d] += q^T[dh, B] du[B, :d];  dW_K[:, d:] += (q^T lw_dl)[dh, n] lab[n, d] */
    cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, dh, d, B, 1.0, w->q, dh, w->du, D, 1.0,
                net->g.wk, D);
    cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, dh, n, B, 1.0, w->q, dh, w->lw_dl, n, 0.0,
                w->lw_gk, n);
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, dh, d, n, 1.0, w->lw_gk, n, bt->lab, d, 1.0,
                net->g.wk + d, D);
    /* dq[B, dh] = du[B, :d] W_K[:, :d]^T + lw_dl[B, n] lw_t^T  (lw_t from the forward) */
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, B, dh, d, 1.0, w->du, D, net->w.wk, D, 0.0,
                w->dq, dh);
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, B, dh, n, 1.0, w->lw_dl, n, w->lw_t, n, 1.0,
                w->dq, dh);
    /* dW_Q[:, :d] += dq^T[dh, B] xq[B, d] */
    cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, dh, d, B, 1.0, w->dq, dh, bt->xq, d, 1.0,
                net->g.wq, D);
}

double isw_ctf_decay(isw_ctf *net, double weight_decay) {
    if (weight_decay == 0.0) return 0.0;
    double sq = 0.0;
    for (long i = 0; i < net->n_params; i++) {
        sq += net->params[i] * net->params[i];
        net->grads[i] += weight_decay * net->params[i];
    }
    return 0.5 * weight_decay * sq;
}

/* ---- naive reference ---------------------------------------------------------------------- */

/* One prompt, all intermediates into scratch: hq[D], q[dh], k[L, dh], s[L], o[D], z[m]. */
typedef struct {
    double *hq, *q, *k, *s, *o, *z;
} naive_scratch;

static isw_status naive_alloc(naive_scratch *sc, const isw_ctf_dims *dm, int L, isw_error *err) {
    size_t n = (size_t)dm->D + dm->dh + (size_t)L * dm->dh + L + dm->D + dm->m;
    double *p = isw_calloc(n, sizeof(double), err);
    if (!p) return ISW_EINTERNAL;
    sc->hq = p;
    sc->q = sc->hq + dm->D;
    sc->k = sc->q + dm->dh;
    sc->s = sc->k + (size_t)L * dm->dh;
    sc->o = sc->s + L;
    sc->z = sc->o + dm->D;
    return ISW_OK;
}

/* Forward of prompt b by the definition; returns f. */
static double naive_prompt(const isw_ctf *net, const double *hb /* [L, D] */,
                           const double *xqb /* [d] */, int L, naive_scratch *sc) {
    const isw_ctf_dims *dm = &net->dims;
    int D = dm->D, dh = dm->dh, m = dm->m;
    for (int j = 0; j < D; j++) sc->hq[j] = j < dm->d ? xqb[j] : 0.0;
    for (int i = 0; i < dh; i++) {
        sc->q[i] = 0.0;
        for (int j = 0; j < D; j++) sc->q[i] += net->w.wq[i * D + j] * sc->hq[j];
    }
    for (int l = 0; l < L; l++)
        for (int i = 0; i < dh; i++) {
            double acc = 0.0;
            for (int j = 0; j < D; j++) acc += net->w.wk[i * D + j] * hb[l * D + j];
            sc->k[l * dh + i] = acc;
        }
    for (int l = 0; l < L; l++) {
        sc->s[l] = 0.0;
        for (int i = 0; i < dh; i++) sc->s[l] += sc->k[l * dh + i] * sc->q[i];
    }
    softmax(sc->s, L);
    for (int j = 0; j < D; j++) {
        sc->o[j] = 0.0;
        for (int l = 0; l < L; l++) sc->o[j] += sc->s[l] * hb[l * D + j];
    }
    double f = 0.0;
    for (int r = 0; r < m; r++) {
        sc->z[r] = 0.0;
        for (int j = 0; j < D; j++) sc->z[r] += net->w.wo[r * D + j] * sc->o[j];
        if (sc->z[r] > 0) f += mlp_out(r, m) * sc->z[r];
    }
    return f;
}

isw_status isw_ctf_forward_naive(const isw_ctf *net, const double *h /* [B, L, D] */,
                                 const double *xq /* [B, d] */, int B, int L, double *f /* [B] */,
                                 double *alpha /* [B, L] */, isw_error *err) {
    naive_scratch sc;
    if (naive_alloc(&sc, &net->dims, L, err)) return ISW_EINTERNAL;
    int D = net->dims.D, d = net->dims.d;
    for (int b = 0; b < B; b++) {
        f[b] = naive_prompt(net, h + (size_t)b * L * D, xq + (size_t)b * d, L, &sc);
        if (alpha) memcpy(alpha + (size_t)b * L, sc.s, sizeof(double) * (size_t)L);
    }
    free(sc.hq);
    return ISW_OK;
}

/* Backward of prompt b by the chain rule, written per element; g = grads views. */
static void naive_prompt_backward(const isw_ctf *net, const double *hb /* [L, D] */, int L,
                                  double df, naive_scratch *sc, double *gq, double *gk,
                                  double *go) {
    const isw_ctf_dims *dm = &net->dims;
    int D = dm->D, dh = dm->dh, m = dm->m;
    double dout[D], dalpha[L], dsc[L], dq[dh];
    for (int j = 0; j < D; j++) dout[j] = 0.0;
    for (int r = 0; r < m; r++) {
        if (sc->z[r] <= 0) continue;
        double dz = df * mlp_out(r, m);
        for (int j = 0; j < D; j++) {
            go[r * D + j] += dz * sc->o[j];
            dout[j] += dz * net->w.wo[r * D + j];
        }
    }
    double mean = 0.0;
    for (int l = 0; l < L; l++) {
        dalpha[l] = 0.0;
        for (int j = 0; j < D; j++) dalpha[l] += hb[l * D + j] * dout[j];
        mean += sc->s[l] * dalpha[l];
    }
    for (int l = 0; l < L; l++) dsc[l] = sc->s[l] * (dalpha[l] - mean);
    /* s_l = k_l . q with k_l = W_K h_l */
    for (int i = 0; i < dh; i++) {
        dq[i] = 0.0;
        for (int l = 0; l < L; l++) {
            dq[i] += dsc[l] * sc->k[l * dh + i];
            for (int j = 0; j < D; j++) gk[i * D + j] += dsc[l] * sc->q[i] * hb[l * D + j];
        }
        for (int j = 0; j < D; j++) gq[i * D + j] += dq[i] * sc->hq[j];
    }
}

isw_status isw_ctf_backward_naive(const isw_ctf *net, const double *h /* [B, L, D] */,
                                  const double *xq /* [B, d] */, const double *df /* [B] */,
                                  int B, int L, double *grads /* [n_params] */, isw_error *err) {
    naive_scratch sc;
    if (naive_alloc(&sc, &net->dims, L, err)) return ISW_EINTERNAL;
    const isw_ctf_dims *dm = &net->dims;
    double *gq = grads + isw_ctf_tensor_offset(dm, 0);
    double *gk = grads + isw_ctf_tensor_offset(dm, 1);
    double *go = grads + isw_ctf_tensor_offset(dm, 2);
    for (int b = 0; b < B; b++) {
        const double *hb = h + (size_t)b * L * dm->D;
        naive_prompt(net, hb, xq + (size_t)b * dm->d, L, &sc);
        naive_prompt_backward(net, hb, L, df[b], &sc, gq, gk, go);
    }
    free(sc.hq);
    return ISW_OK;
}
