/* The iccls model's network: two causal attention layers (the second only at the query) and a
 * three-layer ReLU classifier; forward and hand-written backward over CBLAS, and the naive
 * reference.
 *
 * Workload: one worker trains one small network (T = 2N + 1 <= 2 Nmax + 1 tokens, d ~ 48..128,
 * batch ~ 64..128) for 10^4..10^5 steps, evaluating four test sets of ~10^3 sequences at each log
 * point. Every weight product is a gemm over the batch (rows = sequences or tokens), and the
 * per-sequence work is the O(T^2 d) attention, fused in one pass per sequence.
 *
 * The order of the arithmetic. Layer 1's scores (Q1 x_t) . (K1 x_j) are x_t^T M1 x_j with
 * M1 = Q1^T K1 ([d, d], formed once per call): one [BT, d] x [d, d] product z = X M1 instead of
 * two, then z_t . x_j. Its output x1_t = x_t + V1 g_t with g_t = sum_j A_tj x_j is never formed
 * except at the query: layer 2 reads x1 only through its scores u . x1_j (u = x1_q M2,
 * M2 = Q2^T K2) = x_j . u + g_j . (u V1), and through sum_j a_j x1_j = xb + V1 gb (xb, gb the
 * a-weighted sums of x_j and g_j). So the only products over all BT tokens are z = X M1 and its
 * backward dM1 = X^T dz; everything else is [B, d] x [d, d]. A training step (forward and
 * backward) costs about B (2 T d^2 + 24 d^2 + 2 T^2 d + 8 T d + 3 L d) + 6 d^3 multiply-adds,
 * against B (6 T d^2 + ...) for the layer-by-layer order; a forward alone about
 * B (T d^2 + 8 d^2 + T^2 d + 4 T d + L d) + 2 d^3.
 *
 * Two precisions, one kernel text (iccls_kernels.inc, included twice below): double, the
 * reference the finite differences and the PyTorch fixture check exactly; and float, about 1.5x
 * faster at the default point and 1.8x at the paper's size (sgemm runs at twice dgemm's rate at
 * these shapes, and the attention loops take twice the lanes), checked against the double
 * kernels. The float kernels keep no weights of their own: the double master weights are copied
 * to float each step and the float gradient added back (bench/iccls/RESULTS.md has the timings).
 * Dimension letters (B, T, d, D, L) are defined in include/iclsweep/models/iccls.h. */
#include "iclsweep/models/iccls.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- the parameter arena ---------------------------------------------------------------- */

#define TENSOR_NAME_(name, rows, cols, var, doc) #name,
static const char *const tensor_names[] = {ISW_ICCLS_TENSORS(TENSOR_NAME_)};
#undef TENSOR_NAME_
#define N_TENSORS ((int)(sizeof tensor_names / sizeof tensor_names[0]))

isw_iccls_dims isw_iccls_dims_of(int N, int Nmax, int D, int L) {
    isw_iccls_dims m = {2 * N + 1, 2 * Nmax + 1 + D, D, L, 1};
    return m;
}

int isw_iccls_n_tensors(void) { return N_TENSORS; }

const char *isw_iccls_tensor_name(int i) { return i >= 0 && i < N_TENSORS ? tensor_names[i] : ""; }

long isw_iccls_tensor_size(const isw_iccls_dims *dims, int i) {
#define TENSOR_SIZE_(name, rows, cols, var, doc) (long)dims->rows *(long)dims->cols,
    const long sizes[] = {ISW_ICCLS_TENSORS(TENSOR_SIZE_)};
#undef TENSOR_SIZE_
    return i >= 0 && i < N_TENSORS ? sizes[i] : 0;
}

long isw_iccls_tensor_offset(const isw_iccls_dims *dims, int i) {
    long off = 0;
    for (int j = 0; j < i && j < N_TENSORS; j++) off += isw_iccls_tensor_size(dims, j);
    return off;
}

/* Points views at the tensors of an arena laid out by m, in table order (double, then float). */
#define POINT_TENSOR_(name, rows, cols, var, doc) v->name = arena + isw_iccls_tensor_offset(m, i++);
static void point_tensors(isw_iccls_tensors *v, double *arena, const isw_iccls_dims *m) {
    int i = 0;
    ISW_ICCLS_TENSORS(POINT_TENSOR_)
}

static void point_tensors32(isw_iccls_tensors32 *v, float *arena, const isw_iccls_dims *m) {
    int i = 0;
    ISW_ICCLS_TENSORS(POINT_TENSOR_)
}
#undef POINT_TENSOR_

/* Elements of a workspace for Bmax sequences: the ISW_ICCLS_WORK counts summed. */
static size_t work_elems(isw_iccls_dims dims, int Bmax) {
    size_t B = (size_t)Bmax, T = (size_t)dims.T, d = (size_t)dims.d, L = (size_t)dims.L;
#define WORK_SUM_(name, count, doc) +(count)
    return 0 ISW_ICCLS_WORK(WORK_SUM_);
#undef WORK_SUM_
}

/* Points the buffers of the workspace in the variable w (an isw_iccls_work or isw_iccls_work32)
 * into its arena from element `first` on, in table order. */
#define POINT_WORK(first)                                                                       \
    do {                                                                                        \
        size_t B = (size_t)w->Bmax, T = (size_t)w->dims.T, d = (size_t)w->dims.d;               \
        size_t L = (size_t)w->dims.L, off_ = (first);                                           \
        ISW_ICCLS_WORK(POINT_BUF_)                                                              \
    } while (0)
#define POINT_BUF_(name, count, doc)                                                            \
    w->name = w->arena + off_;                                                                  \
    off_ += (count);

isw_status isw_iccls_alloc(isw_iccls_net *net, isw_iccls_dims dims, isw_error *err) {
    memset(net, 0, sizeof *net);
    net->dims = dims;
    net->n_params = isw_iccls_tensor_offset(&dims, N_TENSORS);
    net->params = isw_calloc((size_t)net->n_params, sizeof(double), err);
    net->grads = isw_calloc((size_t)net->n_params, sizeof(double), err);
    if (!net->params || !net->grads) {
        isw_iccls_free(net);
        return ISW_EINTERNAL;
    }
    point_tensors(&net->w, net->params, &dims);
    point_tensors(&net->g, net->grads, &dims);
    return ISW_OK;
}

void isw_iccls_free(isw_iccls_net *net) {
    free(net->params);
    free(net->grads);
    memset(net, 0, sizeof *net);
}

void isw_iccls_init_weights(isw_iccls_net *net, isw_rng *rng) {
    const isw_iccls_dims *m = &net->dims;
    int i = 0;
#define TENSOR_INIT_(name, rows, cols, var, doc)                                             \
    isw_rng_normal_fill(rng, net->w.name, isw_iccls_tensor_size(m, i), sqrt(var));           \
    i++;
    ISW_ICCLS_TENSORS(TENSOR_INIT_)
#undef TENSOR_INIT_
}

isw_status isw_iccls_work_alloc(isw_iccls_work *w, isw_iccls_dims dims, int Bmax, isw_error *err) {
    memset(w, 0, sizeof *w);
    w->Bmax = Bmax;
    w->dims = dims;
    if (!(w->arena = isw_calloc(work_elems(dims, Bmax), sizeof(double), err))) return ISW_EINTERNAL;
    POINT_WORK(0);
    return ISW_OK;
}

void isw_iccls_work_free(isw_iccls_work *w) {
    free(w->arena);
    memset(w, 0, sizeof *w);
}

/* ---- the kernels, in both precisions ---------------------------------------------------- */

/* The per-sequence attention loops (dots and axpys over d, a quarter of a step) are compiled
 * twice, for x86-64-v3 (AVX2, FMA) and for the baseline, and the loader picks one for the
 * machine (GCC's target_clones; OpenBLAS dispatches its kernels the same way). */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
#define ISW_CLONES __attribute__((target_clones("arch=x86-64-v3", "default")))
#else
#define ISW_CLONES
#endif

#define REAL double
#define EXP exp
#define FN(name) name##_f64
#define GEMM cblas_dgemm
#define TENSORS isw_iccls_tensors
#define WORK isw_iccls_work
#include "iccls_kernels.inc"

#define REAL float
#define EXP expf
#define FN(name) name##_f32
#define GEMM cblas_sgemm
#define TENSORS isw_iccls_tensors32
#define WORK isw_iccls_work32
#include "iccls_kernels.inc"

/* ---- double precision: the default ------------------------------------------------------ */

void isw_iccls_forward(const isw_iccls_net *net, isw_iccls_work *w, const double *X, int B) {
    forward_f64(&net->w, w, X, B);
}

double isw_iccls_loss(isw_iccls_work *w, const int *target, int B, double scale, long *n_correct) {
    return loss_f64(w, target, B, scale, n_correct);
}

void isw_iccls_backward(isw_iccls_net *net, isw_iccls_work *w, const double *X, int B) {
    backward_f64(&net->w, &net->g, w, X, B);
}

/* ---- single precision ------------------------------------------------------------------- */

isw_status isw_iccls_work32_alloc(isw_iccls_work32 *w, isw_iccls_dims dims, int Bmax, isw_error *err) {
    memset(w, 0, sizeof *w);
    w->Bmax = Bmax;
    w->dims = dims;
    w->n_params = isw_iccls_tensor_offset(&dims, N_TENSORS);
    size_t np = (size_t)w->n_params;
    if (!(w->arena = isw_calloc(2 * np + work_elems(dims, Bmax), sizeof(float), err))) return ISW_EINTERNAL;
    w->params = w->arena;
    w->grads = w->arena + np;
    point_tensors32(&w->tw, w->params, &dims);
    point_tensors32(&w->tg, w->grads, &dims);
    POINT_WORK(2 * np);
    return ISW_OK;
}

void isw_iccls_work32_free(isw_iccls_work32 *w) {
    free(w->arena);
    memset(w, 0, sizeof *w);
}

void isw_iccls_sync32(const isw_iccls_net *net, isw_iccls_work32 *w) {
    for (long i = 0; i < net->n_params; i++) w->params[i] = (float)net->params[i];
}

void isw_iccls_forward32(isw_iccls_work32 *w, const float *X, int B) { forward_f32(&w->tw, w, X, B); }

double isw_iccls_loss32(isw_iccls_work32 *w, const int *target, int B, double scale, long *n_correct) {
    return loss_f32(w, target, B, scale, n_correct);
}

void isw_iccls_backward32(isw_iccls_net *net, isw_iccls_work32 *w, const float *X, int B) {
    memset(w->grads, 0, sizeof(float) * (size_t)w->n_params);
    backward_f32(&w->tw, &w->tg, w, X, B);
    for (long i = 0; i < net->n_params; i++) net->grads[i] += w->grads[i];
}

/* ---- the update ------------------------------------------------------------------------- */

void isw_iccls_sgd(isw_iccls_net *net, double lr, double weight_decay) {
    double keep = 1.0 - weight_decay;
    for (long i = 0; i < net->n_params; i++) {
        net->params[i] = keep * net->params[i] - lr * net->grads[i];
        net->grads[i] = 0.0;
    }
}

/* ---- the naive reference ---------------------------------------------------------------- */

/* out[r] = sum_c W[r, c] x[c] for W [rows, cols]. */
static void matvec(double *out, const double *W, const double *x, int rows, int cols) {
    for (int r = 0; r < rows; r++) {
        double s = 0.0;
        for (int c = 0; c < cols; c++) s += W[(size_t)r * cols + c] * x[c];
        out[r] = s;
    }
}

/* One causal attention layer by the definition, at every position: out_t = x_t + sum_{j<=t}
 * A_tj V x_j with A_t. = softmax_j((Q x_t) . (K x_j)); the attention into a[T, T] (or NULL).
 * q, k, v are [T, d] scratch. */
static void attn_layer_naive(double *out, double *a, const double *x, const double *Q,
                             const double *K, const double *V, double *q, double *k, double *v,
                             double *s, int T, int d) {
    for (int t = 0; t < T; t++) {
        matvec(q + (size_t)t * d, Q, x + (size_t)t * d, d, d);
        matvec(k + (size_t)t * d, K, x + (size_t)t * d, d, d);
        matvec(v + (size_t)t * d, V, x + (size_t)t * d, d, d);
    }
    for (int t = 0; t < T; t++) {
        double mx = -INFINITY, sum = 0.0;
        for (int j = 0; j <= t; j++) {
            s[j] = 0.0;
            for (int c = 0; c < d; c++) s[j] += q[(size_t)t * d + c] * k[(size_t)j * d + c];
            if (s[j] > mx) mx = s[j];
        }
        for (int j = 0; j <= t; j++) sum += s[j] = exp(s[j] - mx);
        for (int c = 0; c < d; c++) {
            double o = x[(size_t)t * d + c];
            for (int j = 0; j <= t; j++) o += s[j] / sum * v[(size_t)j * d + c];
            out[(size_t)t * d + c] = o;
        }
        if (a)
            for (int j = 0; j < T; j++) a[(size_t)t * T + j] = j <= t ? s[j] / sum : 0.0;
    }
}

/* One classifier layer: out[d] = relu(W x + b). */
static void relu_layer_naive(double *out, const double *W, double b, const double *x, int d) {
    matvec(out, W, x, d, d);
    for (int r = 0; r < d; r++) out[r] = out[r] + b > 0 ? out[r] + b : 0.0;
}

isw_status isw_iccls_forward_naive(const isw_iccls_net *net, const double *X, int B, double *logits,
                                   double *a1, double *a2, isw_error *err) {
    const isw_iccls_dims *m = &net->dims;
    int T = m->T, d = m->d, L = m->L;
    size_t Td = (size_t)T * d;
    double *buf = isw_malloc(sizeof(double) * (7 * Td + (size_t)T * T + (size_t)T + 2 * (size_t)d), err);
    if (!buf) return ISW_EINTERNAL;
    double *x1 = buf, *x2 = x1 + Td, *q = x2 + Td, *k = q + Td, *v = k + Td, *s = v + Td;
    double *al2 = s + Td, *ha = al2 + (size_t)T * T, *hb = ha + d;
    for (int b = 0; b < B; b++) {
        const double *x = X + b * Td;
        attn_layer_naive(x1, a1 ? a1 + (size_t)b * T * T : NULL, x, net->w.q1, net->w.k1, net->w.v1,
                         q, k, v, s, T, d);
        attn_layer_naive(x2, al2, x1, net->w.q2, net->w.k2, net->w.v2, q, k, v, s, T, d);
        if (a2) memcpy(a2 + (size_t)b * T, al2 + (size_t)(T - 1) * T, sizeof(double) * (size_t)T);
        const double *y = x2 + (size_t)(T - 1) * d;
        relu_layer_naive(ha, net->w.w1, net->w.b1[0], y, d);
        relu_layer_naive(hb, net->w.w2, net->w.b2[0], ha, d);
        relu_layer_naive(ha, net->w.w3, net->w.b3[0], hb, d);
        matvec(logits + (size_t)b * L, net->w.wout, ha, L, d);
    }
    free(buf);
    return ISW_OK;
}
