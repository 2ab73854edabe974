/* Closed-form Gibbs mean, zero modes, ridge and dMMSE baselines of the linattn model (see
 * include/iclsweep/train/linattn_theory.h for the formulas and tolerances).
 *
 * Workload: once per task, at the end of training: one symmetric eigendecomposition and one
 * Cholesky of the K x K coupled block of lambda I + H (K = D (D+1) <= 1640 for D <= 40), then one
 * small solve per test prompt (P_test ~ 10^3) for ridge and an M x D x D product per test prompt
 * for dMMSE. Everything is float64. The eigendecomposition serves three purposes at once: the
 * zero-mode count, the exact condition number (so the Cholesky result is never reported when it
 * cannot be trusted) and the pseudo-inverse fallback. */
#include "iclsweep/train/linattn_theory.h"

#include <cblas.h>
#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Copies the coupled block: AK [K, K] = H restricted to columns n < D of W, hK [K]. */
static void coupled_block(const isw_linattn_gram *g, int D1, double *AK /* [K, K] */,
                          double *hK /* [K] */) {
    int D = D1 - 1, K = D1 * D, Q = g->Q;
    for (int i = 0; i < K; i++) {
        int fi = (i / D) * D1 + i % D;
        hK[i] = g->h[fi];
        for (int j = 0; j < K; j++) {
            int fj = (j / D) * D1 + j % D;
            AK[(size_t)i * K + j] = g->H[(size_t)fi * Q + fj];
        }
    }
}

/* wK = sum over kept modes of v_i (v_i . hK) / (lambda + ev_i); V [K, K] row-major with the
 * eigenvectors in its columns (LAPACK's output). */
static void pseudo_solve(int K, const double *V /* [K, K] */, const double *ev /* [K] */,
                         double lambda, const double *hK /* [K] */, double *wK /* [K] */) {
    double top = lambda + ev[K - 1];
    memset(wK, 0, (size_t)K * sizeof(double));
    for (int i = 0; i < K; i++) {
        double d = lambda + ev[i];
        if (!(d > ISW_LINATTN_ZERO_TOL * top)) continue;
        double c = 0.0;
        for (int j = 0; j < K; j++) c += V[(size_t)j * K + i] * hK[j];
        c /= d;
        for (int j = 0; j < K; j++) wK[j] += c * V[(size_t)j * K + i];
    }
}

isw_status isw_linattn_gibbs(const isw_linattn_gram *g, int D1, double lambda,
                             isw_linattn_theory *th, isw_error *err) {
    int D = D1 - 1, K = D1 * D, Q = D1 * D1;
    isw_status st = ISW_OK;
    memset(th, 0, sizeof *th);
    th->D1 = D1;
    th->W = isw_calloc((size_t)Q, sizeof(double), err);
    double *V = isw_malloc((size_t)K * K * sizeof(double), err);
    double *AK = isw_malloc((size_t)K * K * sizeof(double), err);
    double *ev = isw_malloc((size_t)K * sizeof(double), err);
    double *hK = isw_malloc((size_t)K * sizeof(double), err);
    double *wK = isw_malloc((size_t)K * sizeof(double), err);
    double *Hw = isw_malloc((size_t)Q * sizeof(double), err);
    if (!th->W || !V || !AK || !ev || !hK || !wK || !Hw) {
        st = ISW_EINTERNAL;
        goto fail;
    }
    coupled_block(g, D1, V, hK);
    if (LAPACKE_dsyevd(LAPACK_ROW_MAJOR, 'V', 'U', K, V, K, ev) != 0) {
        st = isw_fail(err, ISW_EINTERNAL, "linattn theory: eigendecomposition of the %d x %d Hessian failed", K, K);
        goto fail;
    }
    double top = ev[K - 1] > 0.0 ? ev[K - 1] : 0.0;
    th->zero_modes = D1; /* the last column of W never couples */
    for (int i = 0; i < K; i++)
        if (ev[i] <= ISW_LINATTN_ZERO_TOL * top) th->zero_modes++;
    th->zero_frac = (double)th->zero_modes / (double)Q;
    double lo = lambda + ev[0], hi = lambda + top;
    th->cond = lo > ISW_LINATTN_ZERO_TOL * hi && lo > 0.0 ? hi / lo : INFINITY;

    th->fallback = 1;
    if (th->cond < 1.0 / ISW_LINATTN_RCOND_MIN) {
        coupled_block(g, D1, AK, wK);
        for (int i = 0; i < K; i++) AK[(size_t)i * K + i] += lambda;
        if (LAPACKE_dposv(LAPACK_ROW_MAJOR, 'U', K, 1, AK, K, wK, 1) == 0) th->fallback = 0;
    }
    if (th->fallback) pseudo_solve(K, V, ev, lambda, hK, wK);
    for (int i = 0; i < K; i++) th->W[(i / D) * D1 + i % D] = wK[i];
    th->energy = isw_linattn_energy_gram(g, th->W, lambda, Hw);
    goto done;
fail:
    isw_linattn_theory_free(th);
done:
    free(V);
    free(AK);
    free(ev);
    free(hK);
    free(wK);
    free(Hw);
    return st;
}

void isw_linattn_theory_free(isw_linattn_theory *th) {
    free(th->W);
    th->W = NULL;
}

isw_status isw_linattn_baseline_init(isw_linattn_baseline *bw, int D, int N, int64_t M,
                                     isw_error *err) {
    memset(bw, 0, sizeof *bw);
    bw->D = D;
    bw->N = N;
    bw->M = M;
    size_t n = (size_t)(D > N ? D : N);
    bw->G = isw_malloc(n * n * sizeof(double), err);
    bw->r = isw_malloc(n * sizeof(double), err);
    bw->PG = isw_malloc((size_t)(M > 0 ? M : 1) * D * sizeof(double), err);
    bw->lw = isw_malloc((size_t)(M > 0 ? M : 1) * sizeof(double), err);
    if (!bw->G || !bw->r || !bw->PG || !bw->lw) {
        isw_linattn_baseline_free(bw);
        return ISW_EINTERNAL;
    }
    return ISW_OK;
}

void isw_linattn_baseline_free(isw_linattn_baseline *bw) {
    free(bw->G);
    free(bw->r);
    free(bw->PG);
    free(bw->lw);
    bw->G = bw->r = bw->PG = bw->lw = NULL;
}

/* Adds a jitter of 1e-12 * mean diagonal plus the noise variance to the diagonal of G [n, n]. */
static void regularize(double *G /* [n, n] */, int n, double var) {
    double tr = 0.0;
    for (int i = 0; i < n; i++) tr += G[(size_t)i * n + i];
    double add = var + 1e-12 * (tr / n > 0.0 ? tr / n : 1.0);
    for (int i = 0; i < n; i++) G[(size_t)i * n + i] += add;
}

double isw_linattn_ridge_predict(isw_linattn_baseline *bw, const isw_linreg *gen,
                                 const double *Z /* [D+1, N+1] */) {
    int D = gen->D, N = gen->N, ld = N + 1;
    double s = gen->scale, var = gen->noise * gen->noise;
    const double *y = Z + (size_t)D * ld;
    double pred = 0.0;
    if (N >= D) { /* primal: (s^2 X X^T + var I) w = s X y, X = Z[0:D, 0:N] */
        cblas_dsyrk(CblasRowMajor, CblasUpper, CblasNoTrans, D, N, s * s, Z, ld, 0.0, bw->G, D);
        cblas_dgemv(CblasRowMajor, CblasNoTrans, D, N, s, Z, ld, y, 1, 0.0, bw->r, 1);
        regularize(bw->G, D, var);
        if (LAPACKE_dposv(LAPACK_ROW_MAJOR, 'U', D, 1, bw->G, D, bw->r, 1) != 0) return NAN;
        for (int m = 0; m < D; m++) pred += Z[(size_t)m * ld + N] * bw->r[m];
        return s * pred;
    }
    /* dual: (s^2 X^T X + var I) alpha = y, prediction s^2 sum_i alpha_i x_i . x_q */
    cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, N, D, s * s, Z, ld, 0.0, bw->G, N);
    memcpy(bw->r, y, (size_t)N * sizeof(double));
    regularize(bw->G, N, var);
    if (LAPACKE_dposv(LAPACK_ROW_MAJOR, 'U', N, 1, bw->G, N, bw->r, 1) != 0) return NAN;
    for (int i = 0; i < N; i++) {
        double xx = 0.0;
        for (int m = 0; m < D; m++) xx += Z[(size_t)m * ld + i] * Z[(size_t)m * ld + N];
        pred += bw->r[i] * xx;
    }
    return s * s * pred;
}

double isw_linattn_dmmse_predict(isw_linattn_baseline *bw, const isw_linreg *gen,
                                 const double *Z /* [D+1, N+1] */, const double *pool /* [M, D] */) {
    int D = gen->D, N = gen->N, ld = N + 1;
    int64_t M = bw->M;
    double s = gen->scale, var = fmax(gen->noise * gen->noise, ISW_LINATTN_DMMSE_VAR_MIN);
    const double *y = Z + (size_t)D * ld;
    /* |y - s X^T w|^2 = y.y - 2 w.r + w.G.w with G = s^2 X X^T, r = s X y */
    cblas_dsyrk(CblasRowMajor, CblasUpper, CblasNoTrans, D, N, s * s, Z, ld, 0.0, bw->G, D);
    cblas_dgemv(CblasRowMajor, CblasNoTrans, D, N, s, Z, ld, y, 1, 0.0, bw->r, 1);
    double yy = cblas_ddot(N, y, 1, y, 1);
    cblas_dsymm(CblasRowMajor, CblasRight, CblasUpper, (int)M, D, 1.0, bw->G, D, pool, D, 0.0,
                bw->PG, D);
    double best = -INFINITY;
    for (int64_t k = 0; k < M; k++) {
        const double *w = pool + (size_t)k * D;
        double res = yy - 2.0 * cblas_ddot(D, w, 1, bw->r, 1) + cblas_ddot(D, w, 1, bw->PG + (size_t)k * D, 1);
        bw->lw[k] = -res / (2.0 * var);
        if (bw->lw[k] > best) best = bw->lw[k];
    }
    double z = 0.0, pred = 0.0;
    for (int64_t k = 0; k < M; k++) {
        double p = exp(bw->lw[k] - best), wx = 0.0;
        const double *w = pool + (size_t)k * D;
        for (int m = 0; m < D; m++) wx += w[m] * Z[(size_t)m * ld + N];
        z += p;
        pred += p * wx;
    }
    return s * pred / z;
}
