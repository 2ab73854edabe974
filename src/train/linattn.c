/* Training one linattn task: data, precomputation, the optimizers, metrics and the final theory
 * comparison (docs/science.md section 2; interface in include/iclsweep/train/model.h).
 *
 * Workload: one worker trains one model of D = 5-40 for 10^3-10^5 steps on P = 10^2-10^6 training
 * prompts and P_test ~ 10^3 test prompts. Setup reduces every prompt to its coefficient vectors
 * (a, b) once (include/iclsweep/models/linattn.h) and drops the tokens; when the full-batch step is
 * cheaper from the Gram matrix H = S^T S / P (cost model in choose_gram), or the closed-form
 * theory needs H anyway, H is built once, after which a step costs O(Q^2) whatever P is.
 *
 * Objective: every optimizer descends the energy E(W) = (1/2P) sum (y - y_hat)^2 +
 * (lambda/2)|W|^2 (for the factored model, of W = W_q^T W_k, through the chain rule), so that
 * Langevin dynamics samples exp(-E/T) and the fixed point of gd is the Gibbs mean. train_loss is
 * the plain mean squared error (no 1/2, no weight decay). Weight decay enters the gradient (L2),
 * also under Adam (eps = 1e-8, bias-corrected). batch > 0 makes sgd and adam use minibatches drawn
 * by reshuffling the training rows in place every epoch; gd and langevin are full-batch.
 *
 * Random streams of the task seed: 1 pool tasks, 2 training prompts, 3 fresh test prompts,
 * 4 pool test prompts, 5 initialization, 6 Langevin noise, 7 minibatch order. */
#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "iclsweep/models/linattn.h"
#include "iclsweep/models/linattn_params.h"
#include "iclsweep/train/linattn_theory.h"
#include "iclsweep/tasks/linattn.h"
#include "iclsweep/core/hash.h"
#include "iclsweep/core/schedule.h"
#include "iclsweep/train/model.h"


enum { STREAM_POOL = 1, STREAM_TRAIN, STREAM_TEST, STREAM_TEST_POOL, STREAM_INIT, STREAM_NOISE, STREAM_BATCH };
enum { OPT_ADAM, OPT_GD, OPT_SGD, OPT_LANGEVIN };
enum { PATH_AUTO, PATH_GRAM, PATH_SAMPLES };
#define ADAM_EPS 1e-8
#define GRAM_MAX_Q 4096 /* H [Q, Q] stays under 128 MB */

/* Metrics at every log point: X(name, units, meaning). */
#define LINATTN_TRAJ(X)                                                                          \
    X(train_loss, "", "mean squared error on the training prompts")                              \
    X(test_mse, "", "mean squared error on P_test prompts with fresh tasks")                     \
    X(test_mse_pool, "", "mean squared error on P_test prompts with pool tasks (NaN if M = 0)") \
    X(energy, "", "E(W) = train_loss/2 + (weight_decay/2)|W|^2")                                 \
    X(contrast, "", "cos(W, I_x) (Frobenius), I_x = identity on the x block, 0 at (D+1, D+1)")   \
    X(w11_diag, "", "mean diagonal entry of W_11 (the x-x block)")                               \
    X(w11_offdiag_rms, "", "rms of the off-diagonal entries of W_11")                            \
    X(last_row_rms, "", "rms of the last row of W, its first D entries")                         \
    X(grad_norm, "", "norm of the full-batch gradient of E in the trained parameters")

/* Metrics at the end only, after the final values of the LINATTN_TRAJ metrics. */
#define LINATTN_FINAL(X)                                                                         \
    X(energy_avg, "", "energy averaged over the last avg_frac of training")                      \
    X(test_mse_avg, "", "test MSE (fresh tasks) of W averaged over the last avg_frac")           \
    X(w11_diag_avg, "", "mean diagonal of W_11 of the averaged W")                               \
    X(contrast_avg, "", "cos(W, I_x) of the averaged W")                                         \
    X(ridge_mse, "", "Bayes ridge on each test prompt's context, fresh tasks")                   \
    X(ridge_mse_pool, "", "Bayes ridge on pool test prompts (NaN if M = 0)")                     \
    X(dmmse_mse, "", "dMMSE (posterior mean over the pool) on fresh test prompts (NaN if M = 0)") \
    X(dmmse_mse_pool, "", "dMMSE on pool test prompts (NaN if M = 0)")                           \
    X(theory_mse, "", "test MSE (fresh tasks) of the Gibbs mean (lambda I + H)^-1 h")            \
    X(theory_mse_pool, "", "test MSE (pool tasks) of the Gibbs mean (NaN if M = 0)")             \
    X(theory_energy, "", "E at the Gibbs mean (its minimum)")                                    \
    X(theory_w11_diag, "", "mean diagonal of W_11 of the Gibbs mean")                            \
    X(theory_dist, "", "|W - W_theory| / |W_theory| over the coupled entries (columns 1..D)")    \
    X(theory_dist_avg, "", "as theory_dist, for the averaged W")                                 \
    X(zero_mode_frac, "", "fraction of eigenvalues of H = S^T S/P below 1e-9 of the largest")    \
    X(theory_cond, "", "condition number of lambda I + H on the coupled entries (Inf: singular)") \
    X(theory_fallback, "", "1 if the Gibbs mean used the eigen pseudo-inverse instead of Cholesky") \
    X(gram_path, "", "1 if full-batch steps used the Gram matrix, 0 if the samples")

#define METRIC_ROW(name, units, doc) {#name, units, doc},
#define METRIC_ENUM(name, units, doc) M_##name,
static const isw_metric_def traj_defs[] = {LINATTN_TRAJ(METRIC_ROW)};
static const isw_metric_def final_defs[] = {LINATTN_TRAJ(METRIC_ROW) LINATTN_FINAL(METRIC_ROW)};
enum { LINATTN_TRAJ(METRIC_ENUM) N_TRAJ };
enum { F_FIRST_ = N_TRAJ - 1, LINATTN_FINAL(METRIC_ENUM) N_FINAL };

/* Everything one run owns. */
typedef struct {
    const isw_linattn_cfg *cfg;
    int D, N, D1, Q, dk, factored, opt;
    int64_t P, M, n_theta, batch;
    double lambda;
    isw_linreg gen;
    double *pool;                   /* [M, D] */
    isw_linattn_set train, test, test_pool;
    isw_linattn_gram gram;
    int have_gram, use_gram;
    double *theta, *gtheta;         /* [n_theta]: W [Q] or W_q [dk, D1] then W_k [dk, D1] */
    double *W, *gW;                 /* [Q] current W and dE/dW (W aliases theta when merged) */
    double *m1, *m2, *noise;        /* [n_theta] Adam moments, Langevin noise */
    double *Wsum, *Hw;              /* [Q] */
    double *r, *work;               /* [Pmax], [Pmax, D1] scratch, Pmax = max(P, P_test) */
    double base[4];                 /* ridge, ridge_pool, dmmse, dmmse_pool */
    isw_rng rng_noise, rng_batch;
    int64_t *order;                 /* [P] minibatch runs: the drawn training row now at each row */
    /* where training is (the state a checkpoint holds, with theta, m1, m2, Wsum and the streams) */
    int64_t t, log_i, next_log;     /* the next step, the next log point and its step (-1: none) */
    double Esum;                    /* energies of the states averaged so far */
} run_t;

static void run_free(run_t *r) {
    isw_linreg_free(&r->gen);
    free(r->pool);
    isw_linattn_set_free(&r->train);
    isw_linattn_set_free(&r->test);
    isw_linattn_set_free(&r->test_pool);
    isw_linattn_gram_free(&r->gram);
    if (r->factored) free(r->W);
    free(r->theta);
    free(r->gtheta);
    free(r->gW);
    free(r->m1);
    free(r->m2);
    free(r->noise);
    free(r->Wsum);
    free(r->Hw);
    free(r->r);
    free(r->work);
    free(r->order);
}

/* Fills set with prompts from stream `stream` (pool tasks when pool != NULL). With bw != NULL
 * also accumulates the squared errors of ridge (sq[0]) and dMMSE (sq[1], when M > 0). */
static isw_status fill_set(run_t *r, isw_linattn_set *set, uint64_t seed, uint32_t stream,
                           const double *pool, isw_linattn_baseline *bw, double sq[2], isw_error *err) {
    size_t zn = (size_t)r->D1 * (r->N + 1);
    double *Z = isw_malloc(zn * sizeof(double), err);
    if (!Z) return ISW_EINTERNAL;
    isw_rng rng;
    isw_rng_init(&rng, seed, stream);
    int64_t M = pool ? r->M : 0;
    for (int64_t mu = 0; mu < set->P; mu++) {
        isw_linreg_draw(&r->gen, &rng, pool, M, Z, &set->y[mu], NULL);
        isw_linattn_coeffs(r->D, r->N, Z, set->A + (size_t)mu * r->D1, set->B + (size_t)mu * r->D1);
        if (!bw) continue;
        double e = isw_linattn_ridge_predict(bw, &r->gen, Z) - set->y[mu];
        sq[0] += e * e;
        if (r->M > 0) {
            e = isw_linattn_dmmse_predict(bw, &r->gen, Z, r->pool) - set->y[mu];
            sq[1] += e * e;
        }
    }
    free(Z);
    return ISW_OK;
}

/* Gram path when forced, or (auto) when its total cost beats the samples path; the build is
 * free when the theory needs H anyway. */
static int choose_gram(const run_t *r, int theory) {
    const isw_linattn_cfg *c = r->cfg;
    if (r->Q > GRAM_MAX_Q || c->grad_path == PATH_SAMPLES) return 0;
    if (c->grad_path == PATH_GRAM) return 1;
    double Q = r->Q, P = (double)r->P, steps = (double)c->steps + 1;
    double build = theory ? 0.0 : 0.5 * P * Q * Q;
    return build + steps * 2.0 * Q * Q < steps * 4.0 * P * Q;
}

static int theory_on(const run_t *r) { return r->cfg->theory && r->D <= ISW_LINATTN_THEORY_MAX_D; }

static isw_status alloc_params(run_t *r, isw_error *err) {
    int64_t n = r->n_theta, Pmax = r->P > r->test.P ? r->P : r->test.P;
    r->theta = isw_calloc((size_t)n, sizeof(double), err);
    r->gtheta = isw_calloc((size_t)n, sizeof(double), err);
    r->m1 = isw_calloc((size_t)n, sizeof(double), err);
    r->m2 = isw_calloc((size_t)n, sizeof(double), err);
    r->noise = isw_calloc((size_t)n, sizeof(double), err);
    r->gW = isw_calloc((size_t)r->Q, sizeof(double), err);
    r->Wsum = isw_calloc((size_t)r->Q, sizeof(double), err);
    r->Hw = isw_calloc((size_t)r->Q, sizeof(double), err);
    r->r = isw_calloc((size_t)Pmax, sizeof(double), err);
    r->work = isw_calloc((size_t)Pmax * r->D1, sizeof(double), err);
    r->W = r->factored ? isw_calloc((size_t)r->Q, sizeof(double), err) : r->theta;
    if (r->batch > 0 && !(r->order = isw_malloc((size_t)r->P * sizeof *r->order, err))) return ISW_EINTERNAL;
    for (int64_t i = 0; r->order && i < r->P; i++) r->order[i] = i;
    if (!r->theta || !r->gtheta || !r->m1 || !r->m2 || !r->noise || !r->gW || !r->Wsum || !r->Hw ||
        !r->r || !r->work || !r->W)
        return ISW_EINTERNAL;
    return ISW_OK;
}

static isw_status setup(run_t *r, const isw_linattn_cfg *c, uint64_t seed, isw_error *err) {
    isw_status st;
    memset(r, 0, sizeof *r);
    r->cfg = c;
    r->D = (int)c->D, r->N = (int)c->N, r->D1 = r->D + 1, r->Q = r->D1 * r->D1;
    r->P = isw_linattn_train_prompts(c), r->M = c->M, r->opt = c->optimizer, r->lambda = c->weight_decay;
    r->factored = c->param == 1;
    r->dk = c->dk > 0 ? (int)c->dk : r->D1;
    r->n_theta = r->factored ? 2 * (int64_t)r->dk * r->D1 : r->Q;
    r->batch = isw_linattn_batch(c) < r->P ? isw_linattn_batch(c) : 0; /* 0: full batch */
    if ((st = isw_linreg_init(&r->gen, r->D, r->N, c->corr, c->y_scale == 1, c->label_noise, err))) return st;
    if (r->M > 0) {
        if (!(r->pool = isw_malloc((size_t)r->M * r->D * sizeof(double), err))) return ISW_EINTERNAL;
        isw_rng rng;
        isw_rng_init(&rng, seed, STREAM_POOL);
        for (int64_t k = 0; k < r->M; k++) isw_linreg_task(&rng, r->D, r->pool + (size_t)k * r->D);
    }
    if ((st = isw_linattn_set_alloc(&r->train, r->D1, r->P, err)) ||
        (st = isw_linattn_set_alloc(&r->test, r->D1, c->P_test, err)) ||
        (r->M > 0 && (st = isw_linattn_set_alloc(&r->test_pool, r->D1, c->P_test, err))))
        return st;
    if ((st = fill_set(r, &r->train, seed, STREAM_TRAIN, r->pool, NULL, NULL, err))) return st;
    isw_linattn_baseline bw;
    if ((st = isw_linattn_baseline_init(&bw, r->D, r->N, r->M, err))) return st;
    double sq[2] = {0, 0}, sqp[2] = {0, 0};
    st = fill_set(r, &r->test, seed, STREAM_TEST, NULL, c->theory ? &bw : NULL, sq, err);
    if (!st && r->M > 0) st = fill_set(r, &r->test_pool, seed, STREAM_TEST_POOL, r->pool, c->theory ? &bw : NULL, sqp, err);
    isw_linattn_baseline_free(&bw);
    if (st) return st;
    double nt = (double)c->P_test, nan = NAN;
    r->base[0] = c->theory ? sq[0] / nt : nan;
    r->base[1] = c->theory && r->M > 0 ? sqp[0] / nt : nan;
    r->base[2] = c->theory && r->M > 0 ? sq[1] / nt : nan;
    r->base[3] = c->theory && r->M > 0 ? sqp[1] / nt : nan;
    r->use_gram = choose_gram(r, theory_on(r));
    if (r->use_gram || theory_on(r)) {
        if ((st = isw_linattn_gram_build(&r->train, &r->gram, err))) return st;
        r->have_gram = 1;
    }
    if ((st = alloc_params(r, err))) return st;
    isw_rng rng;
    isw_rng_init(&rng, seed, STREAM_INIT);
    isw_rng_normal_fill(&rng, r->theta, r->n_theta, c->init / sqrt((double)r->D1));
    isw_rng_init(&r->rng_noise, seed, STREAM_NOISE);
    isw_rng_init(&r->rng_batch, seed, STREAM_BATCH);
    return ISW_OK;
}

/* W from theta (factored: W_q^T W_k). */
static void sync_w(run_t *r) {
    if (r->factored) isw_linattn_factored_w(r->D1, r->dk, r->theta, r->theta + (size_t)r->dk * r->D1, r->W);
}

/* dE/dtheta from dE/dW in r->gW. */
static void chain(run_t *r) {
    if (!r->factored) {
        memcpy(r->gtheta, r->gW, (size_t)r->Q * sizeof(double));
        return;
    }
    size_t h = (size_t)r->dk * r->D1;
    isw_linattn_factored_backward(r->D1, r->dk, r->theta, r->theta + h, r->gW, r->gtheta, r->gtheta + h);
}

/* Full-batch E and gradient at the current theta (W synced). */
static double full_grad(run_t *r) {
    double E = r->use_gram ? isw_linattn_grad_gram(&r->gram, r->W, r->lambda, r->gW, r->Hw)
                           : isw_linattn_grad_samples(&r->train, 0, r->P, r->W, r->lambda, r->gW, r->r, r->work);
    chain(r);
    return E;
}

static void swap_rows(double *X /* [P, n] */, int n, int64_t i, int64_t j) {
    for (int k = 0; k < n; k++) {
        double t = X[(size_t)i * n + k];
        X[(size_t)i * n + k] = X[(size_t)j * n + k];
        X[(size_t)j * n + k] = t;
    }
}

/* Minibatch E and gradient over training rows [r0, r0 + n); reshuffles at each epoch start. */
static double batch_grad(run_t *r, int64_t step) {
    int64_t per_epoch = (r->P + r->batch - 1) / r->batch, k = step % per_epoch;
    if (k == 0)
        for (int64_t i = r->P - 1; i > 0; i--) {
            int64_t j = (int64_t)isw_rng_below(&r->rng_batch, (uint64_t)i + 1);
            swap_rows(r->train.A, r->D1, i, j);
            swap_rows(r->train.B, r->D1, i, j);
            swap_rows(r->train.y, 1, i, j);
            int64_t o = r->order[i];
            r->order[i] = r->order[j];
            r->order[j] = o;
        }
    int64_t r0 = k * r->batch, n = r->P - r0 < r->batch ? r->P - r0 : r->batch;
    double E = isw_linattn_grad_samples(&r->train, r0, n, r->W, r->lambda, r->gW, r->r, r->work);
    chain(r);
    return E;
}

static void update(run_t *r, int64_t t /* 1-based update count */) {
    const isw_linattn_cfg *c = r->cfg;
    double lr = c->lr;
    int64_t n = r->n_theta;
    if (r->opt == OPT_ADAM) {
        double b1 = c->beta1, b2 = c->beta2;
        double c1 = 1.0 - pow(b1, (double)t), c2 = 1.0 - pow(b2, (double)t);
        for (int64_t i = 0; i < n; i++) {
            double g = r->gtheta[i];
            r->m1[i] = b1 * r->m1[i] + (1.0 - b1) * g;
            r->m2[i] = b2 * r->m2[i] + (1.0 - b2) * g * g;
            r->theta[i] -= lr * (r->m1[i] / c1) / (sqrt(r->m2[i] / c2) + ADAM_EPS);
        }
        return;
    }
    cblas_daxpy((int)n, -lr, r->gtheta, 1, r->theta, 1);
    if (r->opt == OPT_LANGEVIN && c->T > 0.0) {
        isw_rng_normal_fill(&r->rng_noise, r->noise, n, sqrt(2.0 * lr * c->T));
        cblas_daxpy((int)n, 1.0, r->noise, 1, r->theta, 1);
    }
}

/* Shape metrics of W: contrast, w11_diag, w11_offdiag_rms, last_row_rms into out[4]. */
static void shape_metrics(int D1, const double *W /* [D1, D1] */, double out[4]) {
    int D = D1 - 1;
    double ww = 0.0, tr = 0.0, off = 0.0, last = 0.0;
    for (int m = 0; m < D1; m++)
        for (int n = 0; n < D1; n++) {
            double v = W[m * D1 + n];
            ww += v * v;
            if (m < D && n < D && m == n) tr += v;
            if (m < D && n < D && m != n) off += v * v;
            if (m == D && n < D) last += v * v;
        }
    out[0] = ww > 0.0 ? tr / (sqrt(ww) * sqrt((double)D)) : 0.0;
    out[1] = tr / D;
    out[2] = D > 1 ? sqrt(off / ((double)D * (D - 1))) : 0.0;
    out[3] = sqrt(last / D);
}

static double set_mse(run_t *r, const isw_linattn_set *set, const double *W /* [Q] */) {
    return set->P > 0 ? isw_linattn_mse(set, W, r->r, r->work) : NAN;
}

/* The LINATTN_TRAJ metrics at the current W with full-batch energy E and gradient in gtheta. */
static void traj_metrics(run_t *r, double E, double *v /* [N_TRAJ] */) {
    double ww = cblas_ddot(r->Q, r->W, 1, r->W, 1);
    v[M_train_loss] = 2.0 * (E - 0.5 * r->lambda * ww);
    v[M_test_mse] = set_mse(r, &r->test, r->W);
    v[M_test_mse_pool] = r->M > 0 ? set_mse(r, &r->test_pool, r->W) : NAN;
    v[M_energy] = E;
    shape_metrics(r->D1, r->W, v + M_contrast);
    v[M_grad_norm] = cblas_dnrm2((int)r->n_theta, r->gtheta, 1);
}

/* |W - Wt| / |Wt| over the coupled entries (columns 0..D-1). */
static double theory_dist(int D1, const double *W /* [Q] */, const double *Wt /* [Q] */) {
    double d = 0.0, n = 0.0;
    for (int m = 0; m < D1; m++)
        for (int k = 0; k < D1 - 1; k++) {
            double a = W[m * D1 + k], b = Wt[m * D1 + k];
            d += (a - b) * (a - b);
            n += b * b;
        }
    return n > 0.0 ? sqrt(d / n) : sqrt(d);
}

static isw_status final_metrics(run_t *r, const double *Wavg /* [Q] */, double Eavg, int diverged,
                                double *f /* [N_FINAL] */, isw_error *err) {
    for (int i = N_TRAJ; i < N_FINAL; i++) f[i] = NAN;
    double s[4];
    if (!diverged) {
        f[M_energy_avg] = Eavg;
        f[M_test_mse_avg] = set_mse(r, &r->test, Wavg);
        shape_metrics(r->D1, Wavg, s);
        f[M_w11_diag_avg] = s[1];
        f[M_contrast_avg] = s[0];
    }
    f[M_ridge_mse] = r->base[0];
    f[M_ridge_mse_pool] = r->base[1];
    f[M_dmmse_mse] = r->base[2];
    f[M_dmmse_mse_pool] = r->base[3];
    f[M_gram_path] = r->use_gram;
    if (!theory_on(r)) return ISW_OK;
    isw_linattn_theory th;
    isw_status st = isw_linattn_gibbs(&r->gram, r->D1, r->lambda, &th, err);
    if (st) return st;
    f[M_theory_mse] = set_mse(r, &r->test, th.W);
    f[M_theory_mse_pool] = r->M > 0 ? set_mse(r, &r->test_pool, th.W) : NAN;
    f[M_theory_energy] = th.energy;
    shape_metrics(r->D1, th.W, s);
    f[M_theory_w11_diag] = s[1];
    if (!diverged) {
        f[M_theory_dist] = theory_dist(r->D1, r->W, th.W);
        f[M_theory_dist_avg] = theory_dist(r->D1, Wavg, th.W);
    }
    f[M_zero_mode_frac] = th.zero_frac;
    f[M_theory_cond] = th.cond;
    f[M_theory_fallback] = th.fallback;
    isw_linattn_theory_free(&th);
    return ISW_OK;
}

/* The task's whole state between two steps (a checkpoint): the trained parameters, Adam's
 * moments, the averages so far, the noise and minibatch streams, the training rows' order and
 * where training is. The data, the Gram matrix and the baselines come again from the seed at
 * set-up; W, gradients and scratch are recomputed at every step. */
static void linattn_state(run_t *r, isw_state *s) {
    const isw_linattn_cfg *c = r->cfg;
    int64_t n_log = isw_log_points(c->steps, c->log_every);
    isw_state_init(s);
    isw_state_int64s(s, "step", &r->t, 1, 0, c->steps + 1);
    isw_state_int64s(s, "log_point", &r->log_i, 1, 0, n_log);
    isw_state_int64s(s, "next_log_step", &r->next_log, 1, -1, c->steps);
    ISW_STATE_ARRAY(s, "theta", r->theta, r->n_theta);
    ISW_STATE_ARRAY(s, "adam_m1", r->m1, r->n_theta);
    ISW_STATE_ARRAY(s, "adam_m2", r->m2, r->n_theta);
    ISW_STATE_VALUE(s, "energy_sum", &r->Esum);
    ISW_STATE_ARRAY(s, "w_sum", r->Wsum, r->Q);
    isw_state_rng(s, "noise_rng", &r->rng_noise);
    isw_state_rng(s, "batch_rng", &r->rng_batch);
    isw_state_int64s(s, "row_order", r->order, r->order ? (size_t)r->P : 0, 0, r->P - 1);
}

/* Moves the training rows, which set-up drew in order, to the order a checkpoint holds: row i
 * gets drawn row order[i], one cycle of the permutation at a time (a forged order that is no
 * permutation garbles the rows but ends). */
static isw_status reorder_rows(run_t *r, isw_error *err) {
    int64_t P = r->P;
    unsigned char *moved = isw_calloc((size_t)P, 1, err);
    double *keep = isw_malloc((2 * (size_t)r->D1 + 1) * sizeof(double), err);
    if (!moved || !keep) {
        free(moved);
        free(keep);
        return ISW_EINTERNAL;
    }
    isw_linattn_set *set = &r->train;
    size_t row = (size_t)r->D1 * sizeof(double);
    for (int64_t start = 0; start < P; start++) {
        if (moved[start]) continue;
        memcpy(keep, set->A + (size_t)start * r->D1, row);
        memcpy(keep + r->D1, set->B + (size_t)start * r->D1, row);
        keep[2 * r->D1] = set->y[start];
        int64_t i = start;
        moved[i] = 1;
        while (r->order[i] != start && !moved[r->order[i]]) {
            int64_t j = r->order[i];
            memcpy(set->A + (size_t)i * r->D1, set->A + (size_t)j * r->D1, row);
            memcpy(set->B + (size_t)i * r->D1, set->B + (size_t)j * r->D1, row);
            set->y[i] = set->y[j];
            moved[j] = 1;
            i = j;
        }
        memcpy(set->A + (size_t)i * r->D1, keep, row);
        memcpy(set->B + (size_t)i * r->D1, keep + r->D1, row);
        set->y[i] = keep[2 * r->D1];
    }
    free(moved);
    free(keep);
    return ISW_OK;
}

/* The training loop from step r->t on: at each step t the state W_t is evaluated (logged at log
 * points), then updated. States t > t_avg enter the averages. A log point that asks for a
 * checkpoint gets the state once its step is finished. Returns the step of divergence or -1. */
static int64_t train_loop(run_t *r, const isw_log_sink *sink, const isw_state *state, double *Eavg, int *stopped) {
    const isw_linattn_cfg *c = r->cfg;
    int64_t steps = c->steps, every = c->log_every;
    int64_t t_avg = steps - (int64_t)floor(c->avg_frac * (double)steps);
    double v[N_TRAJ];
    for (; r->t <= steps; r->t++) {
        int64_t t = r->t;
        sync_w(r);
        int is_log = t == r->next_log, in_avg = t > t_avg, ask = 0;
        double E = NAN;
        if (r->batch == 0 || is_log || in_avg || t == steps) E = full_grad(r);
        if (r->batch == 0 && !isfinite(E)) return t;
        if (in_avg) {
            r->Esum += E;
            cblas_daxpy(r->Q, 1.0, r->W, 1, r->Wsum, 1);
        }
        if (is_log) {
            traj_metrics(r, E, v);
            if (!isfinite(v[M_train_loss])) return t;
            ask = isw_sink_log(sink, r->log_i, t, v);
            r->log_i++;
            r->next_log = r->log_i < isw_log_points(steps, every) ? isw_log_step(r->log_i, steps, every) : -1;
        }
        if (t < steps) {
            if (r->batch > 0 && !isfinite(batch_grad(r, t))) return t;
            update(r, t + 1);
        }
        if (ask & ISW_LOG_SAVE) {
            r->t++; /* the state after this step */
            isw_sink_save(sink, state, t);
            r->t--;
        }
        if (ask & ISW_LOG_STOP) {
            *stopped = 1;
            return -1;
        }
    }
    int64_t n_avg = steps - t_avg;
    if (n_avg > 0) {
        *Eavg = r->Esum / (double)n_avg;
        cblas_dscal(r->Q, 1.0 / (double)n_avg, r->Wsum, 1);
    } else {
        *Eavg = NAN;
        memcpy(r->Wsum, r->W, (size_t)r->Q * sizeof(double));
    }
    return -1;
}

static isw_status linattn_train(const void *vcfg, uint64_t seed, const isw_log_sink *sink,
                                double *final, isw_train_result *result, isw_error *err) {
    const isw_linattn_cfg *c = vcfg;
    run_t r;
    memset(result, 0, sizeof *result);
    for (int i = 0; i < N_FINAL; i++) final[i] = NAN;
    isw_status st = setup(&r, c, seed, err);
    if (st) {
        if (st == ISW_EINTERNAL && !err->msg[0]) isw_fail(err, st, "linattn: out of memory");
        goto done;
    }
    isw_state state;
    linattn_state(&r, &state);
    if (isw_sink_restore(sink, &state) && r.order && (st = reorder_rows(&r, err))) goto done;
    double Eavg = NAN;
    int stopped = 0;
    int64_t div = train_loop(&r, sink, &state, &Eavg, &stopped);
    if (stopped) {
        result->status = ISW_TRAIN_STOPPED;
        goto done;
    }
    double v[N_TRAJ];
    if (div >= 0) {
        result->status = ISW_TRAIN_DIVERGED;
        result->step = div;
        snprintf(result->reason, sizeof result->reason, "energy is not finite at step %lld", (long long)div);
        for (int i = 0; i < N_TRAJ; i++) final[i] = NAN;
    } else {
        result->status = ISW_TRAIN_DONE;
        result->step = c->steps;
        sync_w(&r);
        traj_metrics(&r, full_grad(&r), v);
        memcpy(final, v, sizeof v);
    }
    st = final_metrics(&r, r.Wsum, Eavg, div >= 0, final, err);
done:
    run_free(&r);
    return st;
}

/* The raw draws of the task pool, the training prompts and the test prompts (tokens Z and
 * targets, before any BLAS touches them): the same on every machine. */
static isw_status linattn_data_digest(const void *vcfg, uint64_t seed, uint64_t *digest, isw_error *err) {
    const isw_linattn_cfg *c = vcfg;
    run_t r;
    memset(&r, 0, sizeof r);
    r.D = (int)c->D, r.N = (int)c->N, r.D1 = r.D + 1, r.M = c->M;
    size_t zn = (size_t)r.D1 * (size_t)(r.N + 1);
    double *Z = isw_malloc(zn * sizeof(double), err);
    isw_status st = Z ? isw_linreg_init(&r.gen, r.D, r.N, c->corr, c->y_scale == 1, c->label_noise, err)
                      : ISW_EINTERNAL;
    if (!st && r.M > 0 && !(r.pool = isw_malloc((size_t)r.M * (size_t)r.D * sizeof(double), err)))
        st = ISW_EINTERNAL;
    uint64_t h = 0;
    if (!st && r.M > 0) {
        isw_rng rng;
        isw_rng_init(&rng, seed, STREAM_POOL);
        for (int64_t k = 0; k < r.M; k++) isw_linreg_task(&rng, r.D, r.pool + (size_t)k * (size_t)r.D);
        h = isw_hash_more(h, r.pool, (size_t)r.M * (size_t)r.D * sizeof(double));
    }
    const struct { uint32_t stream; int64_t n; int pool; } sets[] = {
        {STREAM_TRAIN, isw_linattn_train_prompts(c), 1}, {STREAM_TEST, c->P_test, 0},
        {STREAM_TEST_POOL, r.M > 0 ? c->P_test : 0, 1}};
    for (int i = 0; !st && i < 3; i++) {
        isw_rng rng;
        isw_rng_init(&rng, seed, sets[i].stream);
        for (int64_t mu = 0; mu < sets[i].n; mu++) {
            double yq;
            isw_linreg_draw(&r.gen, &rng, sets[i].pool ? r.pool : NULL, sets[i].pool ? r.M : 0, Z, &yq, NULL);
            h = isw_hash_more(h, Z, zn * sizeof(double));
            h = isw_hash_more(h, &yq, sizeof yq);
        }
    }
    free(Z);
    free(r.pool);
    isw_linreg_free(&r.gen);
    *digest = h;
    return st;
}

/* ---- the descriptor ------------------------------------------------------------------------ */

/* (D+1)/(N+D+1): the test MSE of W_11 = c* I, the large-P limit, when y = w.x/sqrt(D) has no
 * label noise (docs/science.md 2). */
static double large_p_floor(const void *vcfg) {
    const isw_linattn_cfg *c = vcfg;
    if (c->y_scale != 0 || c->label_noise != 0.0) return NAN;
    return (double)(c->D + 1) / (double)(c->N + c->D + 1);
}

/* The interpolation threshold P = D(D+1), on P and on alpha = P/D^2, where every prompt has its
 * own task (M = 0). */
static double threshold_P(const void *vcfg) {
    const isw_linattn_cfg *c = vcfg;
    return c->M == 0 ? (double)c->D * (double)(c->D + 1) : NAN;
}

static double threshold_alpha(const void *vcfg) {
    const isw_linattn_cfg *c = vcfg;
    return c->M == 0 ? (double)(c->D + 1) / (double)c->D : NAN;
}

static const isw_theory_line levels[] = {
    {"floor", "large-P floor (D+1)/(N+D+1)", "test_mse|test_mse_avg", "",
     "test MSE of W_11 = c* I, the limit of many tasks (NaN with label noise or y_scale one)", large_p_floor},
};

static const isw_theory_line marks[] = {
    {"interp_P", "interpolation threshold P = D(D+1)", "P", "prompts",
     "where the training set can first pin W down: P = D(D+1) (NaN with a task pool, M > 0)", threshold_P},
    {"interp_alpha", "interpolation threshold alpha = (D+1)/D", "alpha", "",
     "the same threshold on alpha = P/D^2 (NaN with a task pool, M > 0)", threshold_alpha},
};

static const isw_baseline baselines[] = {
    {"ridge_mse", "ridge (Bayes, fresh tasks)", "test_mse|test_mse_avg"},
    {"dmmse_mse", "dMMSE (pool posterior)", "test_mse|test_mse_avg"},
    {"theory_mse", "Gibbs mean (closed form)", "test_mse|test_mse_avg"},
    {"ridge_mse_pool", "ridge (Bayes)", "test_mse_pool"},
    {"dmmse_mse_pool", "dMMSE (pool posterior)", "test_mse_pool"},
    {"theory_mse_pool", "Gibbs mean (closed form)", "test_mse_pool"},
};

const isw_model isw_model_linattn = {
    .name = "linattn",
    .summary = "linear attention on in-context linear regression, the spin-glass model (Li et al. 2024)",
    .version = "linattn/1",
    .params = isw_linattn_params,
    .n_params = ISW_LINATTN_N_PARAMS,
    .cfg_size = sizeof(isw_linattn_cfg),
    .check = isw_linattn_check,
    .derived = "P|dk|batch",
    .resolve = isw_linattn_resolve,
    .traj = traj_defs,
    .n_traj = N_TRAJ,
    .final = final_defs,
    .n_final = N_FINAL,
    .log_steps = isw_linattn_log_steps,
    .cost = isw_linattn_cost,
    .memory = isw_linattn_memory,
    .calibration = isw_linattn_calibration,
    .train = linattn_train,
    .data_digest = linattn_data_digest,
    .headline = "test_mse",
    .headline_level = 1.0,
    .levels = levels,
    .n_levels = 1,
    .marks = marks,
    .n_marks = 2,
    .baselines = baselines,
    .n_baselines = 6,
};
