/* linattn Langevin dynamics samples the Gibbs measure exp(-E/T): on a tiny instance (D = 1, so W
 * has 4 entries, with weight decay so every mode is confined) the empirical mean and variance of
 * each coordinate match the closed form mean (lambda I + H)^-1 h and covariance
 * T (lambda I + H)^-1 within statistical error (batch means) plus the O(lr) discretization bias;
 * through the trainer, the time-averaged energy obeys equipartition, <E> = E_min + T Q / 2.
 *
 * Run by hand: OPENBLAS_NUM_THREADS=1 build-linattn/tests/test_linattn_langevin */
#include <lapacke.h>
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

enum { D = 1, N = 3, D1 = 2, Q = 4 };

static void check_sampling(void) {
    const int64_t P = 20, burn = 20000, steps = 2000000, nbatch = 50;
    const double lambda = 1.0, T = 0.5, lr = 0.004;
    isw_linreg gen;
    isw_linattn_set set;
    isw_linattn_gram g;
    isw_error err;
    CHECK(isw_linreg_init(&gen, D, N, 0.0, 0, 0.1, &err) == ISW_OK, "%s", err.msg);
    CHECK(isw_linattn_set_alloc(&set, D1, P, &err) == ISW_OK, "%s", err.msg);
    double Z[D1 * (N + 1)];
    isw_rng rng;
    isw_rng_init(&rng, 31, 1);
    for (int64_t mu = 0; mu < P; mu++) {
        isw_linreg_draw(&gen, &rng, NULL, 0, Z, &set.y[mu], NULL);
        isw_linattn_coeffs(D, N, Z, set.A + mu * D1, set.B + mu * D1);
    }
    CHECK(isw_linattn_gram_build(&set, &g, &err) == ISW_OK, "%s", err.msg);
    /* closed form: A = lambda I + H, mean A^-1 h, covariance T A^-1 */
    double A[Q * Q], Ainv[Q * Q], mean[Q];
    memcpy(A, g.H, sizeof A);
    for (int i = 0; i < Q; i++) A[i * Q + i] += lambda;
    memset(Ainv, 0, sizeof Ainv);
    for (int i = 0; i < Q; i++) Ainv[i * Q + i] = 1.0;
    CHECK(LAPACKE_dposv(LAPACK_ROW_MAJOR, 'U', Q, Q, A, Q, Ainv, Q) == 0, "inverse");
    for (int i = 0; i < Q; i++) {
        mean[i] = 0;
        for (int j = 0; j < Q; j++) mean[i] += Ainv[i * Q + j] * g.h[j];
    }
    isw_linattn_theory th;
    CHECK(isw_linattn_gibbs(&g, D1, lambda, &th, &err) == ISW_OK, "%s", err.msg);
    for (int i = 0; i < Q; i++) CHECK_CLOSE(th.W[i], mean[i], 1e-10, 1e-14, "Gibbs mean entry");
    isw_linattn_theory_free(&th);

    double W[Q] = {0}, grad[Q], Hw[Q], xi[Q];
    double s1[Q] = {0}, s2[Q] = {0}, bm[Q][50], bv[Q][50];
    int64_t per = steps / nbatch;
    isw_rng_init(&rng, 32, 6);
    for (int64_t t = 0; t < burn + steps; t++) {
        isw_linattn_grad_gram(&g, W, lambda, grad, Hw);
        isw_rng_normal_fill(&rng, xi, Q, sqrt(2 * lr * T));
        for (int i = 0; i < Q; i++) W[i] += -lr * grad[i] + xi[i];
        if (t < burn) continue;
        for (int i = 0; i < Q; i++) s1[i] += W[i], s2[i] += W[i] * W[i];
        if ((t - burn + 1) % per == 0) {
            int b = (int)((t - burn) / per);
            for (int i = 0; i < Q; i++) {
                bm[i][b] = s1[i] / per;
                bv[i][b] = s2[i] / per - bm[i][b] * bm[i][b];
                s1[i] = s2[i] = 0;
            }
        }
    }
    for (int i = 0; i < Q; i++) {
        double m = 0, v = 0, mm = 0, vv = 0;
        for (int b = 0; b < nbatch; b++) m += bm[i][b], v += bv[i][b];
        m /= nbatch, v /= nbatch;
        for (int b = 0; b < nbatch; b++) mm += (bm[i][b] - m) * (bm[i][b] - m), vv += (bv[i][b] - v) * (bv[i][b] - v);
        double se_m = sqrt(mm / (nbatch - 1) / nbatch), se_v = sqrt(vv / (nbatch - 1) / nbatch);
        double var = T * Ainv[i * Q + i];
        /* Euler-Maruyama inflates variances by about lr * a / 2, a up to the largest eigenvalue */
        double bias = 0.5 * lr * (lambda + 10.0) * var;
        printf("W[%d]: mean %.5f +- %.5f (theory %.5f), var %.5f +- %.5f (theory %.5f)\n", i, m, se_m,
               mean[i], v, se_v, var);
        CHECK(fabs(m - mean[i]) < 5 * se_m + 1e-3, "coordinate %d: mean %g vs %g", i, m, mean[i]);
        CHECK(fabs(v - var) < 5 * se_v + bias, "coordinate %d: variance %g vs %g", i, v, var);
    }
    isw_linattn_gram_free(&g);
    isw_linattn_set_free(&set);
    isw_linreg_free(&gen);
}

static void check_equipartition(void) {
    const isw_model *m = isw_model_find("linattn");
    const isw_model *t = isw_model_find("linattn");
    double vals[64], f[64];
    isw_linattn_cfg c;
    isw_params_defaults(m->params, m->n_params, vals);
    isw_params_to_cfg(m->params, m->n_params, vals, &c);
    c.D = D, c.N = N, c.P = 20, c.P_test = 100, c.optimizer = 3, c.T = 0.2, c.lr = 0.002;
    c.weight_decay = 1.0, c.steps = 1000000, c.log_every = 100000, c.avg_frac = 0.95;
    isw_train_result res;
    isw_error err = {0};
    CHECK(t->train(&c, 9, NULL, f, &res, &err) == ISW_OK && res.status == ISW_TRAIN_DONE, "%s", err.msg);
    double Eavg = NAN, Emin = NAN, dist = NAN;
    for (int k = 0; k < t->n_final; k++) {
        if (!strcmp(t->final[k].name, "energy_avg")) Eavg = f[k];
        if (!strcmp(t->final[k].name, "theory_energy")) Emin = f[k];
        if (!strcmp(t->final[k].name, "theory_dist_avg")) dist = f[k];
    }
    double want = Emin + c.T * Q / 2;
    printf("langevin T=%g: <E> %.5f, E_min + T Q/2 = %.5f, |<W> - W_gibbs|/|W_gibbs| %.3g\n", c.T, Eavg, want, dist);
    CHECK(fabs(Eavg - want) < 0.05 * (want - Emin), "equipartition: %g vs %g", Eavg, want);
    CHECK(dist < 0.1, "time-averaged W is %g from the Gibbs mean", dist);
}

int main(void) {
    check_sampling();
    check_equipartition();
    return check_report("test_linattn_langevin");
}
