/* linattn theory: zero-mode count of H = S^T S / P against max(0, D(D+1) - P) + (D+1) on random
 * instances on both sides of the threshold; the Gibbs mean is a stationary point of E (Cholesky
 * above the threshold, pseudo-inverse fallback below it, flagged); the test MSE of W_11 = c I
 * against 1 - 2c' + c'^2 (1 + (D+1)/N) with c' = c N/(N+1) (the 1/(N+1) of the model) on many
 * test prompts; trained W at large P reaches the Gibbs mean; ridge and dMMSE baselines in their
 * exact limits; the token-correlation and y-scale statistics of the data.
 *
 * Run by hand: OPENBLAS_NUM_THREADS=1 build-linattn/tests/test_linattn_theory */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "iclsweep/models/linattn.h"
#include "iclsweep/models/linattn_params.h"
#include "iclsweep/train/linattn_theory.h"
#include "iclsweep/tasks/linattn.h"
#include "iclsweep/train/model.h"
#include "iclsweep/train/model.h"

static void make_set(isw_linattn_set *set, int D, int N, int64_t P, double noise, uint64_t seed) {
    isw_linreg gen;
    isw_error err;
    CHECK(isw_linreg_init(&gen, D, N, 0.0, 0, noise, &err) == ISW_OK, "%s", err.msg);
    CHECK(isw_linattn_set_alloc(set, D + 1, P, &err) == ISW_OK, "%s", err.msg);
    double *Z = malloc((size_t)(D + 1) * (N + 1) * sizeof(double));
    isw_rng rng;
    isw_rng_init(&rng, seed, 1);
    for (int64_t mu = 0; mu < P; mu++) {
        isw_linreg_draw(&gen, &rng, NULL, 0, Z, &set->y[mu], NULL);
        isw_linattn_coeffs(D, N, Z, set->A + mu * (D + 1), set->B + mu * (D + 1));
    }
    free(Z);
    isw_linreg_free(&gen);
}

static void check_zero_modes(int D, int N, int64_t P, double lambda, uint64_t seed) {
    isw_linattn_set set;
    isw_linattn_gram g;
    isw_linattn_theory th;
    isw_error err;
    int D1 = D + 1, Q = D1 * D1, K = D * D1;
    make_set(&set, D, N, P, 0.0, seed);
    CHECK(isw_linattn_gram_build(&set, &g, &err) == ISW_OK, "%s", err.msg);
    CHECK(isw_linattn_gibbs(&g, D1, lambda, &th, &err) == ISW_OK, "%s", err.msg);
    int64_t want = (K - P > 0 ? K - P : 0) + D1;
    printf("D=%d P=%lld lambda=%g: zero modes %lld (want %lld), cond %.3g, fallback %d, E* %.3g\n", D,
           (long long)P, lambda, (long long)th.zero_modes, (long long)want, th.cond, th.fallback, th.energy);
    CHECK(th.zero_modes == want, "zero modes %lld, expected %lld", (long long)th.zero_modes, (long long)want);
    CHECK_CLOSE(th.zero_frac, (double)want / Q, 1e-15, 0, "zero fraction");
    /* the mean is stationary: grad E = 0 on the coupled entries (consistent also below threshold) */
    double *grad = malloc(Q * sizeof(double)), *Hw = malloc(Q * sizeof(double));
    isw_linattn_grad_gram(&g, th.W, lambda, grad, Hw);
    double gmax = 0.0, hmax = 0.0;
    for (int i = 0; i < Q; i++) {
        gmax = fmax(gmax, fabs(grad[i]));
        hmax = fmax(hmax, fabs(g.h[i]));
    }
    CHECK(gmax < 1e-8 * fmax(hmax, 1.0), "gradient at the Gibbs mean %g", gmax);
    if (lambda == 0.0 && P < K) CHECK(th.fallback == 1 && isinf(th.cond), "singular case not flagged");
    if (lambda == 0.0 && P < K) CHECK(fabs(th.energy) < 1e-10, "below threshold the mean interpolates: E = %g", th.energy);
    if (P > 2 * K || lambda > 0.0) CHECK(th.fallback == 0 && isfinite(th.cond), "well-posed case used fallback");
    for (int m = 0; m < D1; m++) CHECK(th.W[m * D1 + D] == 0.0, "last column of the Gibbs mean is 0");
    free(grad), free(Hw);
    isw_linattn_theory_free(&th);
    isw_linattn_gram_free(&g);
    isw_linattn_set_free(&set);
}

/* Empirical test MSE of W = c diag(1..1, 0) against the closed form. */
static void check_identity_mse(int D, int N, int64_t n, double c) {
    isw_linattn_set set;
    int D1 = D + 1;
    make_set(&set, D, N, n, 0.0, 1000 + (uint64_t)(c * 100));
    double *W = calloc(D1 * D1, sizeof(double)), *yhat = malloc(n * sizeof(double));
    double *work = malloc(n * D1 * sizeof(double));
    for (int m = 0; m < D; m++) W[m * D1 + m] = c;
    isw_linattn_predict(&set, W, yhat, work);
    double s = 0.0, s2 = 0.0;
    for (int64_t i = 0; i < n; i++) {
        double e = (yhat[i] - set.y[i]) * (yhat[i] - set.y[i]);
        s += e, s2 += e * e;
    }
    double mse = s / n, se = sqrt((s2 / n - mse * mse) / n);
    double ce = c * N / (N + 1.0), want = 1 - 2 * ce + ce * ce * (1 + (D + 1.0) / N);
    printf("W_11 = %g I, D=%d N=%d, %lld prompts: MSE %.5f +- %.5f, formula %.5f\n", c, D, N, (long long)n, mse, se, want);
    CHECK(fabs(mse - want) < 5 * se, "MSE %g vs formula %g (se %g)", mse, want, se);
    free(W), free(yhat), free(work);
    isw_linattn_set_free(&set);
}

static isw_linattn_cfg base_cfg(void) {
    const isw_model *m = isw_model_find("linattn");
    double vals[64];
    isw_linattn_cfg c;
    isw_params_defaults(m->params, m->n_params, vals);
    isw_params_to_cfg(m->params, m->n_params, vals, &c);
    return c;
}

static double final_of(const isw_model *t, const double *f, const char *name) {
    for (int k = 0; k < t->n_final; k++)
        if (strcmp(t->final[k].name, name) == 0) return f[k];
    CHECK(0, "no final metric %s", name);
    return NAN;
}

static void check_trained_reaches_gibbs(void) {
    const isw_model *t = isw_model_find("linattn");
    isw_linattn_cfg c = base_cfg();
    c.D = 3, c.N = 20, c.P = 2000, c.P_test = 500, c.optimizer = 1, c.lr = 0.2, c.steps = 4000, c.log_every = 1000;
    double f[64];
    isw_train_result res;
    isw_error err = {0};
    CHECK(t->train(&c, 3, NULL, f, &res, &err) == ISW_OK && res.status == ISW_TRAIN_DONE, "train: %s", err.msg);
    double dist = final_of(t, f, "theory_dist");
    printf("gd D=3 P=2000: |W - W_gibbs|/|W_gibbs| = %.3g, test_mse %.5f vs theory %.5f, ridge %.3g\n", dist,
           final_of(t, f, "test_mse"), final_of(t, f, "theory_mse"), final_of(t, f, "ridge_mse"));
    CHECK(dist < 1e-6, "trained W is %g away from the Gibbs mean", dist);
    CHECK_CLOSE(final_of(t, f, "energy"), final_of(t, f, "theory_energy"), 1e-9, 0, "energy at the end");
    CHECK(final_of(t, f, "ridge_mse") < 1e-9, "noiseless ridge with N > D recovers the task");
    /* Adam (the paper's optimizer) gets close too */
    c.optimizer = 0, c.lr = 0.01;
    CHECK(t->train(&c, 3, NULL, f, &res, &err) == ISW_OK, "%s", err.msg);
    printf("adam: theory_dist %.3g\n", final_of(t, f, "theory_dist"));
    CHECK(final_of(t, f, "theory_dist") < 0.02, "adam W is %g away", final_of(t, f, "theory_dist"));
    /* a small pool, noiseless: dMMSE identifies the pool task exactly */
    c.M = 4, c.steps = 10, c.label_noise = 0.0;
    CHECK(t->train(&c, 4, NULL, f, &res, &err) == ISW_OK, "%s", err.msg);
    printf("pool M=4: dmmse_pool %.3g dmmse_fresh %.3g ridge_pool %.3g\n", final_of(t, f, "dmmse_mse_pool"),
           final_of(t, f, "dmmse_mse"), final_of(t, f, "ridge_mse_pool"));
    CHECK(final_of(t, f, "dmmse_mse_pool") < 1e-9, "dMMSE on pool tasks");
    CHECK(final_of(t, f, "dmmse_mse") > 0.1, "dMMSE on fresh tasks should be poor");
    /* label noise: ridge approaches noise^2 (1 + D/N roughly) */
    c.M = 0, c.label_noise = 0.5, c.P_test = 4000;
    CHECK(t->train(&c, 5, NULL, f, &res, &err) == ISW_OK, "%s", err.msg);
    double r = final_of(t, f, "ridge_mse");
    printf("noise 0.5: ridge %.4f\n", r);
    CHECK(r > 0.25 && r < 0.25 * 1.4, "ridge MSE with noise 0.5: %g", r);
    /* alpha = P/D^2 sets P: D = 4, alpha = 1 gives P = 16 < D(D+1) = 20, so 4 + 5 zero modes */
    c.D = 4, c.alpha = 1.0, c.P = 100000, c.steps = 1, c.label_noise = 0.0;
    CHECK(t->train(&c, 6, NULL, f, &res, &err) == ISW_OK, "%s", err.msg);
    CHECK_CLOSE(final_of(t, f, "zero_mode_frac"), 9.0 / 25.0, 1e-12, 0, "alpha sets P");
}

/* Token correlation: corr(x_t, x_t') = c for t != t', var 1; y has var 1 (sqrt_d) or D (one). */
static void check_data_stats(void) {
    int D = 4, N = 7, n = 20000;
    double c = 0.6;
    isw_linreg gen;
    isw_error err;
    CHECK(isw_linreg_init(&gen, D, N, c, 0, 0.0, &err) == ISW_OK, "%s", err.msg);
    double *Z = malloc((D + 1) * (N + 1) * sizeof(double)), yq;
    double sxx = 0, sx0 = 0, sxl = 0, sy = 0;
    isw_rng rng;
    isw_rng_init(&rng, 8, 1);
    for (int i = 0; i < n; i++) {
        isw_linreg_draw(&gen, &rng, NULL, 0, Z, &yq, NULL);
        for (int m = 0; m < D; m++) {
            double *x = Z + m * (N + 1);
            sxx += x[3] * x[3], sx0 += x[0] * x[5], sxl += x[2] * x[N];
        }
        sy += yq * yq;
    }
    double k = (double)n * D;
    printf("corr 0.6: var %.3f cov(0,5) %.3f cov(2,q) %.3f, var y %.3f\n", sxx / k, sx0 / k, sxl / k, sy / n);
    CHECK(fabs(sxx / k - 1) < 0.04 && fabs(sx0 / k - c) < 0.04 && fabs(sxl / k - c) < 0.04, "token correlation");
    CHECK(fabs(sy / n - 1) < 0.06, "y scale sqrt_d");
    isw_linreg_free(&gen);
    CHECK(isw_linreg_init(&gen, D, N, 0.0, 1, 0.0, &err) == ISW_OK, "%s", err.msg);
    sy = 0;
    for (int i = 0; i < n; i++) {
        isw_linreg_draw(&gen, &rng, NULL, 0, Z, &yq, NULL);
        sy += yq * yq;
    }
    CHECK(fabs(sy / n / D - 1) < 0.06, "y scale one: var %g", sy / n);
    isw_linreg_free(&gen);
    CHECK(isw_linreg_init(&gen, D, N, 1.0, 0, 0.0, &err) == ISW_EINPUT, "corr = 1 rejected");
    free(Z);
}

int main(void) {
    /* D = 3: D(D+1) = 12 */
    int64_t Ps[] = {1, 5, 11, 12, 13, 30, 200};
    for (int i = 0; i < 7; i++) check_zero_modes(3, 10, Ps[i], 0.0, 40 + i);
    check_zero_modes(3, 10, 5, 0.1, 50);
    check_zero_modes(5, 8, 20, 0.0, 51);
    check_zero_modes(5, 8, 31, 0.0, 52);
    check_zero_modes(5, 8, 300, 0.0, 53);
    check_identity_mse(5, 20, 200000, 0.5);
    check_identity_mse(5, 20, 200000, 20.0 / 26.0 * 21.0 / 20.0);
    check_identity_mse(4, 8, 200000, 1.2);
    check_trained_reaches_gibbs();
    check_data_stats();
    return check_report("test_linattn_theory");
}
