/* Closed-form theory and Bayes baselines of the linattn model (docs/science.md section 2).
 *
 * Spin-glass view: E(W) = yy/2 - h.w + w.(lambda I + H).w/2 with H = S^T S / P, so the Gibbs
 * measure exp(-E/T) is Gaussian with mean (lambda I + H)^{-1} h (any T) and covariance
 * T (lambda I + H)^{-1}. Only the K = D1 * D entries of W outside the last column couple (the
 * last column has H = 0 and h = 0); the mean is solved on those K coordinates and is 0 on the
 * last column (with lambda = 0 those D1 entries are free: the minimum-norm choice is 0).
 *
 * Solve: Cholesky (LAPACKE_dposv, float64) on the K block when its condition number is below
 * 1/ISW_LINATTN_RCOND_MIN; otherwise (near or below the threshold P ~ D(D+1), where the block is
 * singular or nearly so) the eigen pseudo-inverse, which drops modes with lambda + ev <=
 * ISW_LINATTN_ZERO_TOL * (lambda + ev_max): that is the lambda -> 0+ limit, the solution
 * gradient descent from W = 0 reaches. `fallback` records which was used.
 *
 * Zero modes: eigenvalues of H [Q, Q] at most ISW_LINATTN_ZERO_TOL times its largest eigenvalue
 * (floating-point zeros of a Gram matrix sit near 1e-16 relative; the smallest true eigenvalue
 * near P ~ D(D+1) is ~1/K^2 ~ 1e-6 relative for D = 20, so 1e-9 separates them). Expected count:
 * max(0, D(D+1) - P) + (D+1).
 *
 * Baselines on one test prompt Z (its context only; the query label slot is ignored):
 *   ridge: posterior mean of w ~ N(0, I_D) given y = scale * X w + noise (Bayes-optimal for fresh
 *          tasks), primal D x D or dual N x N form, whichever is smaller;
 *   dMMSE: posterior mean over the M pool tasks, weights exp(-|y - scale X w_k|^2 / 2 sigma^2)
 *          with sigma^2 = max(noise^2, ISW_LINATTN_DMMSE_VAR_MIN) (Raventos et al.). */
#ifndef ICLSWEEP_LINATTN_THEORY_H
#define ICLSWEEP_LINATTN_THEORY_H

#include <stdint.h>

#include "iclsweep/core/error.h"
#include "iclsweep/models/linattn.h"
#include "iclsweep/tasks/linattn.h"

#define ISW_LINATTN_ZERO_TOL 1e-9       /* relative eigenvalue below which a mode counts as zero */
#define ISW_LINATTN_RCOND_MIN 1e-12     /* Cholesky only when cond < 1 / this */
#define ISW_LINATTN_DMMSE_VAR_MIN 1e-10 /* noise variance floor of the dMMSE posterior */
#define ISW_LINATTN_THEORY_MAX_D 40     /* theory (an eigendecomposition of K^2) only up to this D */

typedef struct {
    int D1;
    double *W;          /* [Q] Gibbs mean, 0 on the last column */
    double cond;        /* condition number of lambda I + H on the K block (Inf when singular) */
    int fallback;       /* 0: Cholesky; 1: eigen pseudo-inverse */
    int64_t zero_modes; /* zero eigenvalues of H [Q, Q], the D1 structural ones included */
    double zero_frac;   /* zero_modes / Q */
    double energy;      /* E(W) at the mean */
} isw_linattn_theory;

/* Computes the Gibbs mean, condition number and zero modes from g. Owns th->W afterwards
 * (isw_linattn_theory_free). ISW_EINTERNAL on allocation or LAPACK failure. */
isw_status isw_linattn_gibbs(const isw_linattn_gram *g, int D1, double lambda,
                             isw_linattn_theory *th, isw_error *err);
void isw_linattn_theory_free(isw_linattn_theory *th);

/* Workspace for the baselines, sized once for (D, N, M). */
typedef struct {
    int D, N;
    int64_t M;
    double *G;  /* [max(D,N)^2] normal matrix */
    double *r;  /* [max(D,N)] right-hand side */
    double *PG; /* [M, D] pool tasks times the D x D normal matrix */
    double *lw; /* [M] log weights */
} isw_linattn_baseline;

isw_status isw_linattn_baseline_init(isw_linattn_baseline *bw, int D, int N, int64_t M,
                                     isw_error *err);
void isw_linattn_baseline_free(isw_linattn_baseline *bw);

/* Ridge (Bayes posterior mean) prediction of the query of Z. NaN if the solve fails. */
double isw_linattn_ridge_predict(isw_linattn_baseline *bw, const isw_linreg *gen,
                                 const double *Z /* [D+1, N+1] */);

/* dMMSE prediction of the query of Z over pool [M, D]. */
double isw_linattn_dmmse_predict(isw_linattn_baseline *bw, const isw_linreg *gen,
                                 const double *Z /* [D+1, N+1] */, const double *pool /* [M, D] */);

#endif
