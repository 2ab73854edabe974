/* The linear-attention model: coefficient form, predictions, energy and both gradient paths
 * (see include/iclsweep/models/linattn.h for the algebra and the dimension letters).
 *
 * Workload: one worker trains one model for 10^3-10^5 full-batch steps on P = 10^2-10^6 prompts
 * with D = 5-40. The paper's form [Z Z^T W Z] costs O(P N D^2) per step; since y_hat is linear in
 * W, each prompt is reduced once to a = (Z Z^T)_{D+1,:}/(N+1) and b = z_q, after which a step is
 * two GEMMs over A, B [P, D1] (samples path, O(P Q)) or, because E is quadratic in W, one
 * symmetric matrix-vector product with the Gram matrix H = S^T S / P (O(Q^2), independent of P).
 * Which path a task uses is the trainer's choice (train/linattn.c). The slow reference
 * isw_linattn_predict_direct keeps the paper's form for tests. */
#include "iclsweep/models/linattn.h"

#include <cblas.h>
#include <stdlib.h>
#include <string.h>

isw_status isw_linattn_set_alloc(isw_linattn_set *set, int D1, int64_t P, isw_error *err) {
    memset(set, 0, sizeof *set);
    set->D1 = D1;
    set->P = P;
    set->A = isw_calloc((size_t)P * D1, sizeof(double), err);
    set->B = isw_calloc((size_t)P * D1, sizeof(double), err);
    set->y = isw_calloc((size_t)P, sizeof(double), err);
    if (!set->A || !set->B || !set->y) {
        isw_linattn_set_free(set);
        return isw_fail(err, ISW_EINTERNAL, "out of memory for a linattn prompt set (P = %lld, D+1 = %d)",
                        (long long)P, D1);
    }
    return ISW_OK;
}

void isw_linattn_set_free(isw_linattn_set *set) {
    free(set->A);
    free(set->B);
    free(set->y);
    set->A = set->B = set->y = NULL;
}

void isw_linattn_coeffs(int D, int N, const double *Z /* [D+1, N+1] */, double *a /* [D+1] */,
                        double *b /* [D+1] */) {
    int n = N + 1;
    const double *ylab = Z + (size_t)D * n;
    for (int m = 0; m <= D; m++) {
        const double *z = Z + (size_t)m * n;
        double s = 0.0;
        for (int i = 0; i < N; i++) s += ylab[i] * z[i];
        a[m] = s / (double)n;
        b[m] = z[N];
    }
    b[D] = 0.0; /* the query's label slot */
}

double isw_linattn_predict_direct(int D, int N, const double *Z /* [D+1, N+1] */,
                                  const double *W /* [D1, D1] */) {
    int D1 = D + 1, n = N + 1;
    double C[D1 * D1]; /* Z Z^T over all N+1 tokens */
    for (int i = 0; i < D1; i++)
        for (int j = 0; j < D1; j++) {
            double s = 0.0;
            for (int t = 0; t < n; t++) s += Z[(size_t)i * n + t] * Z[(size_t)j * n + t];
            C[i * D1 + j] = s;
        }
    double out = 0.0; /* [C W Z]_{D, N} */
    for (int m = 0; m < D1; m++)
        for (int k = 0; k < D1; k++) out += C[D * D1 + m] * W[m * D1 + k] * Z[(size_t)k * n + N];
    return out / (double)n;
}

void isw_linattn_predict(const isw_linattn_set *set, const double *W /* [D1, D1] */,
                         double *yhat /* [P] */, double *work /* [P, D1] */) {
    int D1 = set->D1;
    int64_t P = set->P;
    if (P == 0) return;
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)P, D1, D1, 1.0, set->B, D1, W, D1,
                0.0, work, D1);
    for (int64_t mu = 0; mu < P; mu++)
        yhat[mu] = cblas_ddot(D1, set->A + (size_t)mu * D1, 1, work + (size_t)mu * D1, 1);
}

double isw_linattn_mse(const isw_linattn_set *set, const double *W /* [D1, D1] */,
                       double *yhat /* [P] */, double *work /* [P, D1] */) {
    isw_linattn_predict(set, W, yhat, work);
    double s = 0.0;
    for (int64_t mu = 0; mu < set->P; mu++) {
        double r = yhat[mu] - set->y[mu];
        s += r * r;
    }
    return set->P ? s / (double)set->P : 0.0;
}

double isw_linattn_grad_samples(const isw_linattn_set *set, int64_t r0, int64_t n,
                                const double *W /* [Q] */, double lambda, double *grad /* [Q] */,
                                double *r /* [n] */, double *work /* [n, D1] */) {
    int D1 = set->D1, Q = D1 * D1;
    const double *A = set->A + (size_t)r0 * D1, *B = set->B + (size_t)r0 * D1;
    const double *y = set->y + r0;
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)n, D1, D1, 1.0, B, D1, W, D1, 0.0,
                work, D1);
    double sse = 0.0;
    for (int64_t mu = 0; mu < n; mu++) {
        r[mu] = cblas_ddot(D1, A + (size_t)mu * D1, 1, work + (size_t)mu * D1, 1) - y[mu];
        sse += r[mu] * r[mu];
    }
    for (int64_t mu = 0; mu < n; mu++) /* work = diag(r) B */
        for (int k = 0; k < D1; k++) work[(size_t)mu * D1 + k] = r[mu] * B[(size_t)mu * D1 + k];
    cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, D1, D1, (int)n, 1.0 / (double)n, A, D1,
                work, D1, 0.0, grad, D1);
    cblas_daxpy(Q, lambda, W, 1, grad, 1);
    double ww = cblas_ddot(Q, W, 1, W, 1);
    return 0.5 * sse / (double)n + 0.5 * lambda * ww;
}

/* Rows of S for prompts [r0, r0 + nb): S_blk[mu, m * D1 + k] = a_m b_k. */
static void fill_s_block(const isw_linattn_set *set, int64_t r0, int64_t nb, double *S /* [nb, Q] */) {
    int D1 = set->D1, Q = D1 * D1;
    for (int64_t mu = 0; mu < nb; mu++) {
        const double *a = set->A + (size_t)(r0 + mu) * D1, *b = set->B + (size_t)(r0 + mu) * D1;
        double *s = S + (size_t)mu * Q;
        for (int m = 0; m < D1; m++)
            for (int k = 0; k < D1; k++) s[m * D1 + k] = a[m] * b[k];
    }
}

isw_status isw_linattn_gram_build(const isw_linattn_set *set, isw_linattn_gram *g, isw_error *err) {
    int D1 = set->D1, Q = D1 * D1;
    int64_t P = set->P;
    memset(g, 0, sizeof *g);
    g->Q = Q;
    int64_t nb = (1 << 19) / Q; /* ~4 MB of S per block */
    if (nb < 16) nb = 16;
    if (nb > P) nb = P > 0 ? P : 1;
    g->H = isw_calloc((size_t)Q * Q, sizeof(double), err);
    g->h = isw_calloc((size_t)Q, sizeof(double), err);
    double *S = isw_malloc((size_t)nb * Q * sizeof(double), err);
    if (!g->H || !g->h || !S) {
        free(S);
        isw_linattn_gram_free(g);
        return isw_fail(err, ISW_EINTERNAL, "out of memory for the Gram matrix (Q = %d)", Q);
    }
    double inv = P > 0 ? 1.0 / (double)P : 0.0, yy = 0.0;
    for (int64_t r0 = 0; r0 < P; r0 += nb) {
        int64_t n = P - r0 < nb ? P - r0 : nb;
        fill_s_block(set, r0, n, S);
        cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, Q, (int)n, inv, S, Q, 1.0, g->H, Q);
        cblas_dgemv(CblasRowMajor, CblasTrans, (int)n, Q, inv, S, Q, set->y + r0, 1, 1.0, g->h, 1);
        for (int64_t mu = 0; mu < n; mu++) yy += set->y[r0 + mu] * set->y[r0 + mu];
    }
    for (int i = 0; i < Q; i++) /* mirror the upper triangle */
        for (int j = 0; j < i; j++) g->H[(size_t)i * Q + j] = g->H[(size_t)j * Q + i];
    g->yy = yy * inv;
    free(S);
    return ISW_OK;
}

void isw_linattn_gram_free(isw_linattn_gram *g) {
    free(g->H);
    free(g->h);
    g->H = g->h = NULL;
}

double isw_linattn_energy_gram(const isw_linattn_gram *g, const double *W /* [Q] */, double lambda,
                               double *Hw /* [Q] */) {
    int Q = g->Q;
    cblas_dsymv(CblasRowMajor, CblasUpper, Q, 1.0, g->H, Q, W, 1, 0.0, Hw, 1);
    double wHw = cblas_ddot(Q, W, 1, Hw, 1), hw = cblas_ddot(Q, g->h, 1, W, 1);
    double ww = cblas_ddot(Q, W, 1, W, 1);
    return 0.5 * g->yy - hw + 0.5 * wHw + 0.5 * lambda * ww;
}

double isw_linattn_grad_gram(const isw_linattn_gram *g, const double *W /* [Q] */, double lambda,
                             double *grad /* [Q] */, double *Hw /* [Q] */) {
    int Q = g->Q;
    double E = isw_linattn_energy_gram(g, W, lambda, Hw);
    for (int i = 0; i < Q; i++) grad[i] = Hw[i] - g->h[i] + lambda * W[i];
    return E;
}

void isw_linattn_factored_w(int D1, int dk, const double *Wq /* [dk, D1] */,
                            const double *Wk /* [dk, D1] */, double *W /* [D1, D1] */) {
    cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, D1, D1, dk, 1.0, Wq, D1, Wk, D1, 0.0, W, D1);
}

void isw_linattn_factored_backward(int D1, int dk, const double *Wq /* [dk, D1] */,
                                   const double *Wk /* [dk, D1] */, const double *G /* [D1, D1] */,
                                   double *gWq /* [dk, D1] */, double *gWk /* [dk, D1] */) {
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, dk, D1, D1, 1.0, Wk, D1, G, D1, 0.0, gWq, D1);
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, dk, D1, D1, 1.0, Wq, D1, G, D1, 0.0, gWk, D1);
}
