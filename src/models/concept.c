/* The concept model's network: softmax attention from the query over the demonstrations (queries
 * and keys on words, values on labels), then a ReLU MLP with fixed second layer a_r = +-1/m;
 * forward and hand-written backward over CBLAS.
 *
 * Workload: one worker trains one small model (d ~ 64, L ~ 16..64, m ~ 32, batch ~ 64) for
 * 10^3..10^5 steps, evaluating a few thousand prompts at each log point. So everything is batched
 * over prompts: the weight products are dgemms over the batch (rows = prompts), and only the
 * O(L d) per-prompt scores are dgemvs. The score reassociation s_l = x_l^T (W_K^T (W_Q x_q))
 * keeps a prompt at O(dh d + L d) instead of O(L dh d). The trainer uses the structured-batch
 * kernels (the _s functions): a prompt's label parts take one of two values, combinations of
 * nlab = 2K label vectors, and the values read only label parts, so the attention output is a
 * combination of those vectors: it is kept as nlab coefficients, the MLP multiplies them by
 * W_O lab^T ([m, nlab], formed once per call), and the only per-prompt pass over the words is the
 * score dgemv (and its transpose in the backward pass), with the words read in place from the
 * prompt set. No [B, L, D] token matrix is ever written or read. The token-matrix kernels stay
 * for the tests and as the reference the structured ones are checked against. Double precision
 * throughout: the gradient checks and bit-identical replays rely on it. Dimension letters
 * (B, L, d, D, dh, m, n) are defined in include/iclsweep/models/concept.h. */
#include "iclsweep/models/concept.h"

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

void isw_ctf_init_weights(isw_ctf *net, isw_rng *rng, double init, int tied) {
    const isw_ctf_dims *dm = &net->dims;
    if (!tied) {
        isw_rng_normal_fill(rng, net->params, net->n_params, init);
        return;
    }
    long nqk = (long)dm->dh * dm->d;
    isw_rng_normal_fill(rng, net->w.wq, nqk, init);
    memcpy(net->w.wk, net->w.wq, sizeof(double) * (size_t)nqk);
    isw_rng_normal_fill(rng, net->w.wo, (long)dm->m * dm->d, init);
}

isw_status isw_ctf_work_alloc(isw_ctf_work *w, isw_ctf_dims dims, int Bmax, int Lmax, isw_error *err) {
    memset(w, 0, sizeof *w);
    w->Bmax = Bmax;
    w->Lmax = Lmax;
    size_t B = (size_t)Bmax, d = (size_t)dims.d;
    double **bufs[] = {&w->q, &w->u, &w->a, &w->o, &w->z, &w->f, &w->df,
                       &w->dz, &w->dout, &w->ds, &w->du, &w->dq, &w->mqk};
    size_t sizes[] = {B * dims.dh, B * d, B * Lmax, B * d, B * dims.m, B, B,
                      B * dims.m, B * d, B * Lmax, B * d, B * dims.dh, d * d};
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
    double **bufs[] = {&w->lw_om, &w->lw_gt, &w->lw_ot, &w->lw_gw};
    size_t sizes[] = {B * n, B * n, (size_t)dims.m * n, (size_t)dims.m * n};
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

isw_status isw_ctf_work_alloc_atoms(isw_ctf_work *w, int na_max, isw_error *err) {
    free(w->pa);
    w->na_max = na_max;
    w->pa = isw_calloc((size_t)w->Bmax * (size_t)(na_max > 0 ? na_max : 1), sizeof(double), err);
    if (!w->pa) {
        isw_ctf_work_free(w);
        return ISW_EINTERNAL;
    }
    return ISW_OK;
}

void isw_ctf_work_free(isw_ctf_work *w) {
    double *bufs[] = {w->q, w->u, w->a, w->o, w->z, w->f, w->df, w->dz, w->dout, w->ds,
                      w->du, w->dq, w->mqk, w->lw_om, w->lw_gt, w->lw_ot, w->lw_gw, w->pa};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++) free(bufs[i]);
    memset(w, 0, sizeof *w);
}

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

/* From z (already in w): f = sum_r a_r ReLU(z_r). */
static void mlp_output(isw_ctf_work *w, int B, int m) {
    for (int b = 0; b < B; b++) {
        const double *zb = w->z + (size_t)b * m;
        double f = 0.0;
        for (int r = 0; r < m; r++) f += zb[r] > 0 ? isw_ctf_out_weight(r, m) * zb[r] : 0.0;
        w->f[b] = f;
    }
}

/* u[B, d] = q[B, dh] W_K[dh, d], from q = W_Q x_q (the training path). */
static void query_forward(const isw_ctf *net, isw_ctf_work *w, const double *xq /* [B, d] */, int B) {
    int d = net->dims.d, dh = net->dims.dh;
    /* q[B, dh] = xq[B, d] W_Q^T */
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, B, dh, d, 1.0, xq, d, net->w.wq, d, 0.0,
                w->q, dh);
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, B, d, dh, 1.0, w->q, dh, net->w.wk, d,
                0.0, w->u, d);
}

/* u[B, d] = xq[B, d] mqk[d, d] (the evaluation path, mqk = W_Q^T W_K prepared). */
static void query_forward_eval(const isw_ctf *net, isw_ctf_work *w, const double *xq /* [B, d] */,
                               int B) {
    int d = net->dims.d;
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, B, d, d, 1.0, xq, d, w->mqk, d, 0.0,
                w->u, d);
}

void isw_ctf_eval_prepare(const isw_ctf *net, isw_ctf_work *w) {
    int d = net->dims.d, dh = net->dims.dh;
    /* mqk[d, d] = W_Q^T W_K */
    cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, d, d, dh, 1.0, net->w.wq, d, net->w.wk, d,
                0.0, w->mqk, d);
}

/* From u (already in w), on token matrices: scores on the word halves, attention, output of the
 * label halves, MLP. Shared by the training and evaluation paths. */
static void attend_and_mlp(const isw_ctf *net, isw_ctf_work *w, const double *h /* [B, L, D] */,
                           int B, int L) {
    int d = net->dims.d, D = net->dims.D, m = net->dims.m;
    for (int b = 0; b < B; b++) {
        const double *hb = h + (size_t)b * L * D;
        double *ab = w->a + (size_t)b * L;
        /* s[L] = X[L, d] u (words: columns :d of the tokens) */
        cblas_dgemv(CblasRowMajor, CblasNoTrans, L, d, 1.0, hb, D, w->u + (size_t)b * d, 1, 0.0, ab, 1);
        softmax(ab, L);
        /* o[d] = Y~[L, d]^T alpha (label parts: columns d: of the tokens) */
        cblas_dgemv(CblasRowMajor, CblasTrans, L, d, 1.0, hb + d, D, ab, 1, 0.0, w->o + (size_t)b * d, 1);
    }
    /* z[B, m] = o[B, d] W_O^T */
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, B, m, d, 1.0, w->o, d, net->w.wo, d, 0.0,
                w->z, m);
    mlp_output(w, B, m);
}

/* From u (already in w), on a structured batch: per prompt, scores s = X u, attention, and the
 * output's coefficients lw_om = (sum alpha) lc + (alpha . y) le over lab; then
 * z = lw_om (W_O lab^T)^T. */
/* Scores of coded words into a[B, L]: s_bl = zn_bl |u_b| + sum_j wc_bjl p_bj, the sum taken in
 * atom order, p[B, na] = u atoms^T. The codes are atom-major, so the loop over l is contiguous
 * and vectorizes (CMakeLists.txt). */
static void coded_scores(const isw_ctf *net, isw_ctf_work *w, const isw_ctf_batch *bt, int B, int L) {
    int d = net->dims.d, na = bt->natoms;
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, B, na, d, 1.0, w->u, d, bt->atoms, d, 0.0,
                w->pa, na);
    for (int b = 0; b < B; b++) {
        const double *ub = w->u + (size_t)b * d, *pb = w->pa + (size_t)b * na;
        const double *restrict zb = bt->zn + (size_t)b * L;
        double *restrict sb = w->a + (size_t)b * L;
        double nu = sqrt(dot(ub, ub, d));
        for (int l = 0; l < L; l++) sb[l] = zb[l] * nu;
        for (int j = 0; j < na; j++) {
            const signed char *restrict c = bt->wc + ((size_t)b * na + j) * L;
            double pj = pb[j];
            for (int l = 0; l < L; l++) sb[l] += (double)c[l] * pj;
        }
    }
}

static void attend_and_mlp_s(const isw_ctf *net, isw_ctf_work *w, const isw_ctf_batch *bt, int B,
                             int L) {
    int d = net->dims.d, m = net->dims.m, n = bt->nlab;
    if (!bt->x) coded_scores(net, w, bt, B, L);
    for (int b = 0; b < B; b++) {
        const double *cb = bt->lc + (size_t)b * n, *eb = bt->le + (size_t)b * n;
        const double *yb = bt->yl + (size_t)b * L;
        double *ab = w->a + (size_t)b * L, *omb = w->lw_om + (size_t)b * n;
        if (bt->x)
            cblas_dgemv(CblasRowMajor, CblasNoTrans, L, d, 1.0, bt->x[b], d, w->u + (size_t)b * d, 1,
                        0.0, ab, 1);
        softmax(ab, L);
        double sa = 0.0, ay = 0.0;
        for (int l = 0; l < L; l++) {
            sa += ab[l];
            ay += ab[l] * yb[l];
        }
        for (int j = 0; j < n; j++) omb[j] = sa * cb[j] + ay * eb[j];
    }
    /* lw_ot[m, n] = W_O[m, d] lab[n, d]^T;  z[B, m] = lw_om[B, n] lw_ot^T */
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m, n, d, 1.0, net->w.wo, d, bt->lab, d, 0.0,
                w->lw_ot, n);
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, B, m, n, 1.0, w->lw_om, n, w->lw_ot, n, 0.0,
                w->z, m);
    mlp_output(w, B, m);
}

void isw_ctf_forward(const isw_ctf *net, isw_ctf_work *w, const double *h /* [B, L, D] */,
                     const double *xq /* [B, d] */, int B, int L) {
    query_forward(net, w, xq, B);
    attend_and_mlp(net, w, h, B, L);
}

void isw_ctf_forward_eval(const isw_ctf *net, isw_ctf_work *w, const double *h /* [B, L, D] */,
                          const double *xq /* [B, d] */, int B, int L) {
    query_forward_eval(net, w, xq, B);
    attend_and_mlp(net, w, h, B, L);
}

void isw_ctf_forward_s(const isw_ctf *net, isw_ctf_work *w, const isw_ctf_batch *bt, int B, int L) {
    query_forward(net, w, bt->xq, B);
    attend_and_mlp_s(net, w, bt, B, L);
}

void isw_ctf_forward_eval_s(const isw_ctf *net, isw_ctf_work *w, const isw_ctf_batch *bt, int B,
                            int L) {
    query_forward_eval(net, w, bt->xq, B);
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

/* dz = df a_r [z > 0]. */
static void mlp_dz(isw_ctf_work *w, int B, int m) {
    for (int b = 0; b < B; b++)
        for (int r = 0; r < m; r++) {
            size_t i = (size_t)b * m + r;
            w->dz[i] = w->z[i] > 0 ? w->df[b] * isw_ctf_out_weight(r, m) : 0.0;
        }
}

/* Softmax backward of one prompt in place: dalpha[L] -> ds = alpha (dalpha - <alpha, dalpha>). */
static void softmax_backward(double *ds /* [L] */, const double *alpha /* [L] */, int L) {
    double mean = 0.0;
    for (int l = 0; l < L; l++) mean += alpha[l] * ds[l];
    for (int l = 0; l < L; l++) ds[l] = alpha[l] * (ds[l] - mean);
}

/* From du[B, d] (and q): dW_K += q^T du, dq = du W_K^T, dW_Q += dq^T xq. */
static void query_backward(isw_ctf *net, isw_ctf_work *w, const double *xq /* [B, d] */, int B) {
    int d = net->dims.d, dh = net->dims.dh;
    /* dW_K[dh, d] += q^T[dh, B] du[B, d];  dq[B, dh] = du[B, d] W_K[dh, d]^T */
    cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, dh, d, B, 1.0, w->q, dh, w->du, d, 1.0,
                net->g.wk, d);
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, B, dh, d, 1.0, w->du, d, net->w.wk, d, 0.0,
                w->dq, dh);
    /* dW_Q[dh, d] += dq^T[dh, B] xq[B, d] */
    cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, dh, d, B, 1.0, w->dq, dh, xq, d, 1.0,
                net->g.wq, d);
}

void isw_ctf_backward(isw_ctf *net, isw_ctf_work *w, const double *h /* [B, L, D] */,
                      const double *xq /* [B, d] */, int B, int L) {
    int d = net->dims.d, D = net->dims.D, m = net->dims.m;
    mlp_dz(w, B, m);
    /* dW_O[m, d] += dz^T[m, B] o[B, d];  dout[B, d] = dz[B, m] W_O[m, d] */
    cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, m, d, B, 1.0, w->dz, m, w->o, d, 1.0,
                net->g.wo, d);
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, B, d, m, 1.0, w->dz, m, net->w.wo, d, 0.0,
                w->dout, d);
    /* per prompt: dalpha = Y~ dout; ds = softmax backward; du = X^T ds */
    for (int b = 0; b < B; b++) {
        const double *hb = h + (size_t)b * L * D;
        double *dsb = w->ds + (size_t)b * L;
        cblas_dgemv(CblasRowMajor, CblasNoTrans, L, d, 1.0, hb + d, D, w->dout + (size_t)b * d, 1, 0.0,
                    dsb, 1);
        softmax_backward(dsb, w->a + (size_t)b * L, L);
        cblas_dgemv(CblasRowMajor, CblasTrans, L, d, 1.0, hb, D, dsb, 1, 0.0, w->du + (size_t)b * d, 1);
    }
    query_backward(net, w, xq, B);
}

void isw_ctf_backward_s(isw_ctf *net, isw_ctf_work *w, const isw_ctf_batch *bt, int B, int L) {
    int d = net->dims.d, m = net->dims.m, n = bt->nlab;
    mlp_dz(w, B, m);
    /* dW_O[m, d] += dz^T o = (dz^T[m, B] lw_om[B, n]) lab[n, d] */
    cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, m, n, B, 1.0, w->dz, m, w->lw_om, n, 0.0,
                w->lw_gw, n);
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, d, n, 1.0, w->lw_gw, n, bt->lab, d, 1.0,
                net->g.wo, d);
    /* lw_gt[B, n] = dout lab^T = dz[B, m] lw_ot[m, n] (lw_ot from the forward) */
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, B, n, m, 1.0, w->dz, m, w->lw_ot, n, 0.0,
                w->lw_gt, n);
    /* per prompt: dalpha_l = dout . (c + y_l e) = (lc . lw_gt) + y_l (le . lw_gt); ds; du = X^T ds */
    for (int b = 0; b < B; b++) {
        const double *cb = bt->lc + (size_t)b * n, *eb = bt->le + (size_t)b * n;
        const double *yb = bt->yl + (size_t)b * L, *gtb = w->lw_gt + (size_t)b * n;
        double *dsb = w->ds + (size_t)b * L;
        double gc = dot(cb, gtb, n), ge = dot(eb, gtb, n);
        for (int l = 0; l < L; l++) dsb[l] = gc + yb[l] * ge;
        softmax_backward(dsb, w->a + (size_t)b * L, L);
        cblas_dgemv(CblasRowMajor, CblasTrans, L, d, 1.0, bt->x[b], d, dsb, 1, 0.0, w->du + (size_t)b * d,
                    1);
    }
    query_backward(net, w, bt->xq, B);
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

/* One prompt, all intermediates into scratch: q[dh], k[L, dh], s[L] (then alpha), o[d], z[m]. */
typedef struct {
    double *q, *k, *s, *o, *z;
} naive_scratch;

static isw_status naive_alloc(naive_scratch *sc, const isw_ctf_dims *dm, int L, isw_error *err) {
    size_t n = (size_t)dm->dh + (size_t)L * dm->dh + L + dm->d + dm->m;
    double *p = isw_calloc(n, sizeof(double), err);
    if (!p) return ISW_EINTERNAL;
    sc->q = p;
    sc->k = sc->q + dm->dh;
    sc->s = sc->k + (size_t)L * dm->dh;
    sc->o = sc->s + L;
    sc->z = sc->o + dm->d;
    return ISW_OK;
}

/* Forward of one prompt by the definition; returns f. The token h_l is [x_l; y~_l]: keys read
 * h_l[:d], values h_l[d:]. */
static double naive_prompt(const isw_ctf *net, const double *hb /* [L, D] */,
                           const double *xqb /* [d] */, int L, naive_scratch *sc) {
    const isw_ctf_dims *dm = &net->dims;
    int d = dm->d, D = dm->D, dh = dm->dh, m = dm->m;
    for (int i = 0; i < dh; i++) {
        sc->q[i] = 0.0;
        for (int j = 0; j < d; j++) sc->q[i] += net->w.wq[i * d + j] * xqb[j];
    }
    for (int l = 0; l < L; l++)
        for (int i = 0; i < dh; i++) {
            double acc = 0.0;
            for (int j = 0; j < d; j++) acc += net->w.wk[i * d + j] * hb[l * D + j];
            sc->k[l * dh + i] = acc;
        }
    for (int l = 0; l < L; l++) {
        sc->s[l] = 0.0;
        for (int i = 0; i < dh; i++) sc->s[l] += sc->k[l * dh + i] * sc->q[i];
    }
    softmax(sc->s, L);
    for (int j = 0; j < d; j++) {
        sc->o[j] = 0.0;
        for (int l = 0; l < L; l++) sc->o[j] += sc->s[l] * hb[l * D + d + j];
    }
    double f = 0.0;
    for (int r = 0; r < m; r++) {
        sc->z[r] = 0.0;
        for (int j = 0; j < d; j++) sc->z[r] += net->w.wo[r * d + j] * sc->o[j];
        if (sc->z[r] > 0) f += isw_ctf_out_weight(r, m) * sc->z[r];
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
    free(sc.q);
    return ISW_OK;
}

/* Backward of one prompt by the chain rule, written per element, after naive_prompt on it;
 * accumulates into the gradient views gq[dh, d], gk[dh, d], go[m, d]. */
static void naive_prompt_backward(const isw_ctf *net, const double *hb /* [L, D] */,
                                  const double *xqb /* [d] */, int L, double df, naive_scratch *sc,
                                  double *gq, double *gk, double *go) {
    const isw_ctf_dims *dm = &net->dims;
    int d = dm->d, D = dm->D, dh = dm->dh, m = dm->m;
    double dout[d], dalpha[L], dsc[L], dq[dh];
    for (int j = 0; j < d; j++) dout[j] = 0.0;
    for (int r = 0; r < m; r++) {
        if (sc->z[r] <= 0) continue;
        double dz = df * isw_ctf_out_weight(r, m);
        for (int j = 0; j < d; j++) {
            go[r * d + j] += dz * sc->o[j];
            dout[j] += dz * net->w.wo[r * d + j];
        }
    }
    double mean = 0.0;
    for (int l = 0; l < L; l++) {
        dalpha[l] = 0.0;
        for (int j = 0; j < d; j++) dalpha[l] += hb[l * D + d + j] * dout[j];
        mean += sc->s[l] * dalpha[l];
    }
    for (int l = 0; l < L; l++) dsc[l] = sc->s[l] * (dalpha[l] - mean);
    /* s_l = k_l . q with k_l = W_K x_l, q = W_Q x_q */
    for (int i = 0; i < dh; i++) {
        dq[i] = 0.0;
        for (int l = 0; l < L; l++) {
            dq[i] += dsc[l] * sc->k[l * dh + i];
            for (int j = 0; j < d; j++) gk[i * d + j] += dsc[l] * sc->q[i] * hb[l * D + j];
        }
        for (int j = 0; j < d; j++) gq[i * d + j] += dq[i] * xqb[j];
    }
}

isw_status isw_ctf_backward_naive(const isw_ctf *net, const double *h /* [B, L, D] */,
                                  const double *xq /* [B, d] */, const double *df /* [B] */,
                                  int B, int L, double *grads /* [n_params] */, isw_error *err) {
    naive_scratch sc;
    if (naive_alloc(&sc, &net->dims, L, err)) return ISW_EINTERNAL;
    const isw_ctf_dims *dm = &net->dims;
    /* the same offsets in grads as the tensors have in params */
    double *gq = grads + (net->w.wq - net->params);
    double *gk = grads + (net->w.wk - net->params);
    double *go = grads + (net->w.wo - net->params);
    for (int b = 0; b < B; b++) {
        const double *hb = h + (size_t)b * L * dm->D, *xqb = xq + (size_t)b * dm->d;
        naive_prompt(net, hb, xqb, L, &sc);
        naive_prompt_backward(net, hb, xqb, L, df[b], &sc, gq, gk, go);
    }
    free(sc.q);
    return ISW_OK;
}
