/* The iccls model's network: two causal attention layers (the second only at the query) and a
 * three-layer ReLU classifier; forward and hand-written backward over CBLAS, and the naive
 * reference.
 *
 * Workload: one worker trains one small network (T = 2N + 1 <= 2 Nmax + 1 tokens, d ~ 48..128,
 * batch ~ 64..128) for 10^4..10^5 steps, evaluating four test sets of ~10^3 sequences at each log
 * point. Every weight product is a dgemm over the batch (rows = sequences or tokens), and the
 * per-sequence work is the O(T^2 d) attention, fused in one pass per sequence.
 *
 * The order of the arithmetic. Layer 1's scores (Q1 x_t) . (K1 x_j) are x_t^T M1 x_j with
 * M1 = Q1^T K1 ([d, d], formed once per call): one [BT, d] x [d, d] product z = X M1 instead of
 * two, then z_t . x_j. Its output x1_t = x_t + V1 g_t with g_t = sum_j A_tj x_j is never formed
 * except at the query: layer 2 reads x1 only through its scores u . x1_j (u = x1_q M2,
 * M2 = Q2^T K2) = x_j . u + g_j . (u V1), and through sum_j a_j x1_j = xb + V1 gb (xb, gb the
 * a-weighted sums of x_j and g_j). So the only products over all BT tokens are z = X M1 and its
 * backward dM1 = X^T dz; everything else is [B, d] x [d, d]. A step costs about 2 BT d^2 + 16 B d^2
 * + 2 B T^2 d + 2 B L d multiply-adds (forward and backward; isw_iccls_step_flops in the
 * trainer's cost model counts the same), against 6 BT d^2 + ... for the layer-by-layer order.
 *
 * Double precision throughout: the finite-difference checks need it, and at these shapes the
 * step is dominated by small dgemms that OpenBLAS runs at 30-40 GFLOP/s on one core, fast enough
 * for the benchmark's target (bench/iccls/RESULTS.md). Dimension letters (B, T, d, D, L) are
 * defined in include/iclsweep/iccls.h. */
#include "iclsweep/iccls.h"

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

static void point_views(isw_iccls_net *net) {
    int i = 0;
#define TENSOR_POINT_(name, rows, cols, var, doc)                            \
    net->w.name = net->params + isw_iccls_tensor_offset(&net->dims, i);     \
    net->g.name = net->grads + isw_iccls_tensor_offset(&net->dims, i);      \
    i++;
    ISW_ICCLS_TENSORS(TENSOR_POINT_)
#undef TENSOR_POINT_
}

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
    point_views(net);
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
    size_t B = (size_t)Bmax, T = (size_t)dims.T, d = (size_t)dims.d, L = (size_t)dims.L;
#define WORK_ALLOC_(name, count, doc)                                        \
    if (!(w->name = isw_calloc((count), sizeof(double), err))) goto fail;
    ISW_ICCLS_WORK(WORK_ALLOC_)
#undef WORK_ALLOC_
    return ISW_OK;
fail:
    isw_iccls_work_free(w);
    return ISW_EINTERNAL;
}

void isw_iccls_work_free(isw_iccls_work *w) {
#define WORK_FREE_(name, count, doc) free(w->name);
    ISW_ICCLS_WORK(WORK_FREE_)
#undef WORK_FREE_
    memset(w, 0, sizeof *w);
}

/* ---- small helpers ---------------------------------------------------------------------- */

/* The per-sequence attention loops (dots and axpys over d, a quarter of a step) are compiled
 * twice, for AVX2 with FMA and for the baseline, and the loader picks one for the machine (GCC's
 * target_clones; OpenBLAS dispatches its kernels the same way). */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
#define ISW_CLONES __attribute__((target_clones("arch=x86-64-v3", "default")))
#else
#define ISW_CLONES
#endif

/* C[m, n] = alpha op(A) op(B) + beta C, row-major; ta, tb: transpose A, B. */
static void gemm(int ta, int tb, int m, int n, int k, double alpha, const double *A, int lda,
                 const double *Bm, int ldb, double beta, double *C, int ldc) {
    cblas_dgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, m, n,
                k, alpha, A, lda, Bm, ldb, beta, C, ldc);
}

/* a . b over n, in four interleaved partial sums: the per-sequence attention is dots and axpys
 * over d ~ 48..128, and a single running sum would wait on each add's latency. */
static inline double dot(const double *restrict a, const double *restrict b, int n) {
    double s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0;
    int i = 0;
    for (; i + 4 <= n; i += 4) {
        s0 += a[i] * b[i];
        s1 += a[i + 1] * b[i + 1];
        s2 += a[i + 2] * b[i + 2];
        s3 += a[i + 3] * b[i + 3];
    }
    for (; i < n; i++) s0 += a[i] * b[i];
    return (s0 + s1) + (s2 + s3);
}

/* y[n] += a x[n]. */
static inline void axpy(double *restrict y, double a, const double *restrict x, int n) {
    int i = 0;
    for (; i + 4 <= n; i += 4) {
        y[i] += a * x[i];
        y[i + 1] += a * x[i + 1];
        y[i + 2] += a * x[i + 2];
        y[i + 3] += a * x[i + 3];
    }
    for (; i < n; i++) y[i] += a * x[i];
}

/* In place: s[n] <- softmax(s). */
static void softmax(double *s, int n) {
    double mx = s[0], sum = 0.0;
    for (int i = 1; i < n; i++) mx = s[i] > mx ? s[i] : mx;
    for (int i = 0; i < n; i++) sum += s[i] = exp(s[i] - mx);
    for (int i = 0; i < n; i++) s[i] /= sum;
}

/* h[B, d] = relu(x[B, d] W^T + b) for a [d, d] W and a scalar b. */
static void dense_relu(double *h, const double *x, const double *W, double b, int B, int d) {
    for (long i = 0; i < (long)B * d; i++) h[i] = b;
    gemm(0, 1, B, d, d, 1.0, x, d, W, d, 1.0, h, d);
    for (long i = 0; i < (long)B * d; i++) h[i] = h[i] > 0 ? h[i] : 0.0;
}

/* Backward of dense_relu given dh (the gradient of h, overwritten with that of the
 * pre-activation): accumulates dW += dpre^T x and db += sum dpre; writes dx = dpre W. */
static void dense_relu_backward(double *dx, double *dW, double *db, double *dh, const double *h,
                                const double *x, const double *W, int B, int d) {
    double sb = 0.0;
    for (long i = 0; i < (long)B * d; i++) {
        dh[i] = h[i] > 0 ? dh[i] : 0.0;
        sb += dh[i];
    }
    *db += sb;
    gemm(1, 0, d, d, B, 1.0, dh, d, x, d, 1.0, dW, d);
    gemm(0, 0, B, d, d, 1.0, dh, d, W, d, 0.0, dx, d);
}

/* ---- forward ---------------------------------------------------------------------------- */

/* Layer 1 of one sequence, fused: scores z_t . x_j for j <= t, softmax, g_t = sum_j A_tj x_j. */
ISW_CLONES static void attn1_seq(double *a /* [T, T] */, double *g /* [T, d] */, const double *z /* [T, d] */,
                      const double *x /* [T, d] */, int T, int d) {
    for (int t = 0; t < T; t++) {
        double *at = a + (size_t)t * T, *gt = g + (size_t)t * d;
        for (int j = 0; j <= t; j++) at[j] = dot(z + (size_t)t * d, x + (size_t)j * d, d);
        softmax(at, t + 1);
        for (int j = t + 1; j < T; j++) at[j] = 0.0;
        memset(gt, 0, sizeof(double) * (size_t)d);
        for (int j = 0; j <= t; j++) axpy(gt, at[j], x + (size_t)j * d, d);
    }
}

/* Layer 2 of one sequence at its query: scores x_j . u + g_j . uv, softmax into a[T], and the
 * a-weighted sums xb[d] of x_j and gb[d] of g_j. */
ISW_CLONES static void attn2_seq(double *a, double *xb, double *gb, const double *x, const double *g,
                      const double *u, const double *uv, int T, int d) {
    for (int j = 0; j < T; j++)
        a[j] = dot(x + (size_t)j * d, u, d) + dot(g + (size_t)j * d, uv, d);
    softmax(a, T);
    memset(xb, 0, sizeof(double) * (size_t)d);
    memset(gb, 0, sizeof(double) * (size_t)d);
    for (int j = 0; j < T; j++) {
        axpy(xb, a[j], x + (size_t)j * d, d);
        axpy(gb, a[j], g + (size_t)j * d, d);
    }
}

void isw_iccls_forward(const isw_iccls_net *net, isw_iccls_work *w, const double *X, int B) {
    const isw_iccls_dims *m = &net->dims;
    int T = m->T, d = m->d, L = m->L, BT = B * T;
    size_t Td = (size_t)T * d;
    gemm(1, 0, d, d, d, 1.0, net->w.q1, d, net->w.k1, d, 0.0, w->m1, d);
    gemm(1, 0, d, d, d, 1.0, net->w.q2, d, net->w.k2, d, 0.0, w->m2, d);
    gemm(0, 0, BT, d, d, 1.0, X, d, w->m1, d, 0.0, w->z, d);
    for (int b = 0; b < B; b++)
        attn1_seq(w->a1 + (size_t)b * T * T, w->g + b * Td, w->z + b * Td, X + b * Td, T, d);
    /* x1_q = x_q + g_q V1^T: the query rows of X and g, a stride of T d apart */
    for (int b = 0; b < B; b++)
        memcpy(w->x1q + (size_t)b * d, X + b * Td + (size_t)(T - 1) * d, sizeof(double) * (size_t)d);
    gemm(0, 1, B, d, d, 1.0, w->g + (size_t)(T - 1) * d, (int)Td, net->w.v1, d, 1.0, w->x1q, d);
    gemm(0, 0, B, d, d, 1.0, w->x1q, d, w->m2, d, 0.0, w->u, d);
    gemm(0, 0, B, d, d, 1.0, w->u, d, net->w.v1, d, 0.0, w->uv, d);
    for (int b = 0; b < B; b++) {
        size_t o = (size_t)b * d;
        attn2_seq(w->a2 + (size_t)b * T, w->xb + o, w->gb + o, X + b * Td, w->g + b * Td, w->u + o,
                  w->uv + o, T, d);
    }
    memcpy(w->xbar, w->xb, sizeof(double) * (size_t)B * d);
    gemm(0, 1, B, d, d, 1.0, w->gb, d, net->w.v1, d, 1.0, w->xbar, d);
    memcpy(w->y, w->x1q, sizeof(double) * (size_t)B * d);
    gemm(0, 1, B, d, d, 1.0, w->xbar, d, net->w.v2, d, 1.0, w->y, d);
    dense_relu(w->h1, w->y, net->w.w1, net->w.b1[0], B, d);
    dense_relu(w->h2, w->h1, net->w.w2, net->w.b2[0], B, d);
    dense_relu(w->h3, w->h2, net->w.w3, net->w.b3[0], B, d);
    gemm(0, 1, B, L, d, 1.0, w->h3, d, net->w.wout, d, 0.0, w->logits, L);
}

double isw_iccls_loss(isw_iccls_work *w, const int *target, int B, double scale, long *n_correct) {
    int L = w->dims.L;
    double total = 0.0;
    long correct = 0;
    for (int b = 0; b < B; b++) {
        const double *z = w->logits + (size_t)b * L;
        double *dz = w->dlogits + (size_t)b * L;
        int best = 0;
        for (int l = 1; l < L; l++) best = z[l] > z[best] ? l : best;
        double mx = z[best], sum = 0.0;
        for (int l = 0; l < L; l++) sum += dz[l] = exp(z[l] - mx);
        total += mx + log(sum) - z[target[b]];
        for (int l = 0; l < L; l++) dz[l] = scale * (dz[l] / sum - (l == target[b]));
        correct += best == target[b];
    }
    if (n_correct) *n_correct += correct;
    return total;
}

/* ---- backward --------------------------------------------------------------------------- */

/* Layer 2 of one sequence, backward: from dxb (= dxbar) and dgb, the score gradients ds[T], and
 * du[d] = sum_j ds_j x_j, duv[d] = sum_j ds_j g_j, dg_j = a_j dgb + ds_j uv (written, all j). */
ISW_CLONES static void attn2_seq_backward(double *ds, double *du, double *duv, double *dg, const double *a,
                               const double *dxb, const double *dgb, const double *x,
                               const double *g, const double *uv, int T, int d) {
    double mean = 0.0;
    for (int j = 0; j < T; j++) {
        ds[j] = dot(dxb, x + (size_t)j * d, d) + dot(dgb, g + (size_t)j * d, d);
        mean += a[j] * ds[j];
    }
    memset(du, 0, sizeof(double) * (size_t)d);
    memset(duv, 0, sizeof(double) * (size_t)d);
    for (int j = 0; j < T; j++) {
        ds[j] = a[j] * (ds[j] - mean);
        axpy(du, ds[j], x + (size_t)j * d, d);
        axpy(duv, ds[j], g + (size_t)j * d, d);
        double *dgj = dg + (size_t)j * d;
        for (int k = 0; k < d; k++) dgj[k] = a[j] * dgb[k] + ds[j] * uv[k];
    }
}

/* Layer 1 of one sequence, backward: from dg[T, d], dz_t = sum_{j<=t} dS_tj x_j, where
 * dS_t. = A_t. (dA_t. - A_t . dA_t) and dA_tj = dg_t . x_j. ds[T] is scratch. */
ISW_CLONES static void attn1_seq_backward(double *dz, double *ds, const double *a, const double *dg,
                               const double *x, int T, int d) {
    for (int t = 0; t < T; t++) {
        const double *at = a + (size_t)t * T, *dgt = dg + (size_t)t * d;
        double mean = 0.0;
        for (int j = 0; j <= t; j++) {
            ds[j] = dot(dgt, x + (size_t)j * d, d);
            mean += at[j] * ds[j];
        }
        double *dzt = dz + (size_t)t * d;
        memset(dzt, 0, sizeof(double) * (size_t)d);
        for (int j = 0; j <= t; j++) axpy(dzt, at[j] * (ds[j] - mean), x + (size_t)j * d, d);
    }
}

/* M = Q^T K: accumulates dQ += K dM^T and dK += Q dM. */
static void qk_backward(double *dQ, double *dK, const double *Q, const double *K, const double *dM,
                        int d) {
    gemm(0, 1, d, d, d, 1.0, K, d, dM, d, 1.0, dQ, d);
    gemm(0, 0, d, d, d, 1.0, Q, d, dM, d, 1.0, dK, d);
}

void isw_iccls_backward(isw_iccls_net *net, isw_iccls_work *w, const double *X, int B) {
    const isw_iccls_dims *m = &net->dims;
    int T = m->T, d = m->d, L = m->L, BT = B * T;
    size_t Td = (size_t)T * d;
    /* classifier */
    gemm(1, 0, L, d, B, 1.0, w->dlogits, L, w->h3, d, 1.0, net->g.wout, d);
    gemm(0, 0, B, d, L, 1.0, w->dlogits, L, net->w.wout, d, 0.0, w->dh, d);
    dense_relu_backward(w->dh2, net->g.w3, net->g.b3, w->dh, w->h3, w->h2, net->w.w3, B, d);
    dense_relu_backward(w->dh, net->g.w2, net->g.b2, w->dh2, w->h2, w->h1, net->w.w2, B, d);
    dense_relu_backward(w->dh2, net->g.w1, net->g.b1, w->dh, w->h1, w->y, net->w.w1, B, d);
    const double *dy = w->dh2;
    /* y = x1_q + xbar V2^T; xbar = xb + gb V1^T */
    gemm(1, 0, d, d, B, 1.0, dy, d, w->xbar, d, 1.0, net->g.v2, d);
    gemm(0, 0, B, d, d, 1.0, dy, d, net->w.v2, d, 0.0, w->dxbar, d);
    memcpy(w->dx1q, dy, sizeof(double) * (size_t)B * d);
    gemm(1, 0, d, d, B, 1.0, w->dxbar, d, w->gb, d, 1.0, net->g.v1, d);
    gemm(0, 0, B, d, d, 1.0, w->dxbar, d, net->w.v1, d, 0.0, w->dgb, d);
    /* layer 2's attention, per sequence */
    for (int b = 0; b < B; b++) {
        size_t o = (size_t)b * d;
        attn2_seq_backward(w->ds2 + (size_t)b * T, w->du + o, w->duv + o, w->dg + b * Td,
                           w->a2 + (size_t)b * T, w->dxbar + o, w->dgb + o, X + b * Td,
                           w->g + b * Td, w->uv + o, T, d);
    }
    /* uv = u V1; u = x1_q M2; x1_q = x_q + g_q V1^T */
    gemm(1, 0, d, d, B, 1.0, w->u, d, w->duv, d, 1.0, net->g.v1, d);
    gemm(0, 1, B, d, d, 1.0, w->duv, d, net->w.v1, d, 1.0, w->du, d);
    gemm(1, 0, d, d, B, 1.0, w->x1q, d, w->du, d, 0.0, w->dm2, d);
    gemm(0, 1, B, d, d, 1.0, w->du, d, w->m2, d, 1.0, w->dx1q, d);
    const double *gq = w->g + (size_t)(T - 1) * d;
    gemm(1, 0, d, d, B, 1.0, w->dx1q, d, gq, (int)Td, 1.0, net->g.v1, d);
    gemm(0, 0, B, d, d, 1.0, w->dx1q, d, net->w.v1, d, 1.0, w->dg + (size_t)(T - 1) * d, (int)Td);
    /* layer 1's attention, per sequence; z = X M1 */
    for (int b = 0; b < B; b++)
        attn1_seq_backward(w->dz + b * Td, w->ds2 + (size_t)b * T, w->a1 + (size_t)b * T * T,
                           w->dg + b * Td, X + b * Td, T, d);
    gemm(1, 0, d, d, BT, 1.0, X, d, w->dz, d, 0.0, w->dm1, d);
    qk_backward(net->g.q1, net->g.k1, net->w.q1, net->w.k1, w->dm1, d);
    qk_backward(net->g.q2, net->g.k2, net->w.q2, net->w.k2, w->dm2, d);
}

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
