/* In-context linear regression prompts: see include/iclsweep/tasks/linattn.h.
 *
 * Workload: one training task draws P (up to ~10^6) prompts of N+1 tokens in dimension D once,
 * at setup, and P_test test prompts; the trainer turns each prompt into its coefficient vectors
 * at once and drops the tokens, so nothing here keeps more than one prompt. Draw order within a
 * prompt is fixed (feature rows of x in order, then label noise of each token, in token order)
 * so a prompt is a pure function of (seed, stream, position in the stream).
 *
 * Token correlation uses the exact Cholesky factor of the equicorrelation matrix
 * Sigma = (1 - c) I + c 1 1^T: by exchangeability every entry of column j below the diagonal is
 * one number l_j, and with s_j = sum_{k<j} l_k^2,
 *     L_jj = sqrt(1 - s_j),   l_j = (c - s_j) / L_jj,
 * so x_t = L_tt g_t + sum_{j<t} l_j g_j is a running sum. */
#include "iclsweep/tasks/linattn.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static void cholesky_equicorr(int n, double c, double *l_diag /* [n] */, double *l_below /* [n] */) {
    double s = 0.0;
    for (int j = 0; j < n; j++) {
        double d = sqrt(fmax(1.0 - s, 0.0));
        l_diag[j] = d;
        l_below[j] = d > 0.0 ? (c - s) / d : 0.0;
        s += l_below[j] * l_below[j];
    }
}

isw_status isw_linreg_init(isw_linreg *gen, int D, int N, double corr, int y_scale_one,
                           double noise, isw_error *err) {
    memset(gen, 0, sizeof *gen);
    if (D < 1 || N < 1) return isw_fail(err, ISW_EINPUT, "linreg: D (%d) and N (%d) must be >= 1", D, N);
    if (!(corr >= 0.0 && corr < 1.0))
        return isw_fail(err, ISW_EINPUT, "linreg: token correlation %g is not in [0, 1)", corr);
    gen->D = D;
    gen->N = N;
    gen->corr = corr;
    gen->noise = noise;
    gen->scale = y_scale_one ? 1.0 : 1.0 / sqrt((double)D);
    size_t n = (size_t)N + 1;
    gen->l_diag = isw_malloc(n * sizeof(double), err);
    gen->l_below = isw_malloc(n * sizeof(double), err);
    gen->g = isw_malloc(n * sizeof(double), err);
    if (!gen->l_diag || !gen->l_below || !gen->g) {
        isw_linreg_free(gen);
        return ISW_EINTERNAL;
    }
    cholesky_equicorr(N + 1, corr, gen->l_diag, gen->l_below);
    return ISW_OK;
}

void isw_linreg_free(isw_linreg *gen) {
    free(gen->l_diag);
    free(gen->l_below);
    free(gen->g);
    gen->l_diag = gen->l_below = gen->g = NULL;
}

void isw_linreg_task(isw_rng *rng, int D, double *w /* [D] */) { isw_rng_normal_fill(rng, w, D, 1.0); }

/* One feature row x [N+1] across the tokens, correlated by L (corr > 0; uncorrelated rows are
 * drawn all at once by isw_linreg_prompt). */
static void correlated_row(isw_linreg *gen, isw_rng *rng, double *x /* [N+1] */) {
    int n = gen->N + 1;
    isw_rng_normal_fill(rng, gen->g, n, 1.0);
    double run = 0.0; /* sum_{j<t} l_j g_j */
    for (int t = 0; t < n; t++) {
        x[t] = gen->l_diag[t] * gen->g[t] + run;
        run += gen->l_below[t] * gen->g[t];
    }
}

void isw_linreg_prompt(isw_linreg *gen, isw_rng *rng, const double *w /* [D] */,
                       double *Z /* [D+1, N+1] */, double *yq) {
    int D = gen->D, n = gen->N + 1;
    double *ylab = Z + (size_t)D * n; /* last row: labels */
    for (int t = 0; t < n; t++) ylab[t] = 0.0;
    /* Uncorrelated features are consecutive draws: one fill of all D rows gives the same numbers
     * as a fill per row, with less per-call overhead (the sampler works in blocks). */
    if (gen->corr == 0.0) isw_rng_normal_fill(rng, Z, (long)D * n, 1.0);
    for (int m = 0; m < D; m++) {
        double *x = Z + (size_t)m * n;
        if (gen->corr != 0.0) correlated_row(gen, rng, x);
        for (int t = 0; t < n; t++) ylab[t] += w[m] * x[t];
    }
    /* The label noise, drawn in one block into the scratch row (free here): the same numbers as
     * one isw_rng_normal per token. */
    if (gen->noise > 0.0) isw_rng_normal_fill(rng, gen->g, n, gen->noise);
    for (int t = 0; t < n; t++) {
        ylab[t] *= gen->scale;
        if (gen->noise > 0.0) ylab[t] += gen->g[t];
    }
    *yq = ylab[n - 1];
    ylab[n - 1] = 0.0; /* the query's label slot is empty */
}

void isw_linreg_draw(isw_linreg *gen, isw_rng *rng, const double *pool /* [M, D] */, int64_t M,
                     double *Z /* [D+1, N+1] */, double *yq, double *w_out /* [D] */) {
    int D = gen->D;
    double wbuf[D > 0 ? D : 1];
    const double *w;
    if (M > 0) {
        w = pool + (size_t)isw_rng_below(rng, (uint64_t)M) * D;
    } else {
        isw_linreg_task(rng, D, wbuf);
        w = wbuf;
    }
    isw_linreg_prompt(gen, rng, w, Z, yq);
    if (w_out) memcpy(w_out, w, (size_t)D * sizeof(double));
}
