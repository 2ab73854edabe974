/* Training one task of the iccls companion model (docs/science.md, model iccls_companion): plain
 * gradient descent on the three nested logits (include/iclsweep/models/iccls_companion.h, OUR
 * RECONSTRUCTION of Reddy's minimal model), logged like a network's trajectory; the descriptor.
 *
 * Workload: a task is 10^3-10^5 steps of a few exponentials: microseconds to a millisecond. A
 * phase diagram over (L, N, B) of 10^3-10^5 tasks is seconds of compute, so the model doubles as
 * the sweep machinery's load test (tests/sweep/test_companion_scale.py).
 *
 * Order within a step t (0 <= t <= steps): evaluate the loss and gradient at theta_t; a
 * non-finite loss stops the task as diverged; at a log point report; then, if t < steps,
 * theta <- theta - lr grad; then, if the log point asked for it, hand the state over (a
 * checkpoint: comp_state) and stop. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "iclsweep/core/hash.h"
#include "iclsweep/core/schedule.h"
#include "iclsweep/models/iccls_companion.h"
#include "iclsweep/models/iccls_companion_params.h"
#include "iclsweep/train/model.h"

/* X(name, units, meaning): at every log point, and again at the end. */
#define COMP_TRAJ(X)                                                                               \
    X(loss, "nats", "cross-entropy of the correct label")                                          \
    X(q, "probability", "softmax probability of the correct label")                                \
    X(p, "fraction", "layer 2's weight on the correct label: B e^{alpha s} / (B e^{alpha s} + N - B)") \
    X(s, "fraction", "layer 1's weight of a label token on its item: sigmoid(beta1)")              \
    X(acc, "fraction", "chance that the argmax (ties broken uniformly) is the correct label")      \
    X(beta1, "", "the parameter beta1")                                                            \
    X(alpha, "", "the parameter alpha")                                                            \
    X(xi, "", "the parameter xi")                                                                  \
    X(grad_norm, "", "norm of the gradient in (beta1, alpha, xi)")

#define COMP_FINAL(X)                                                                              \
    X(t_icl, "steps", "first logged step where q reaches (B/N + 1)/2, halfway from the context "   \
                      "guess to certainty (NaN if never)")

#define METRIC_ROW_(name, units, doc) {#name, units, doc},
#define METRIC_ENUM_(name, units, doc) M_##name,
static const isw_metric_def traj_defs[] = {COMP_TRAJ(METRIC_ROW_)};
static const isw_metric_def final_defs[] = {COMP_TRAJ(METRIC_ROW_) COMP_FINAL(METRIC_ROW_)};
enum { COMP_TRAJ(METRIC_ENUM_) N_TRAJ };
enum { M_FINAL_BASE_ = N_TRAJ - 1, COMP_FINAL(METRIC_ENUM_) };
#define N_FINAL ((int)(sizeof final_defs / sizeof final_defs[0]))

static isw_iccls_companion_cfg model_cfg(const isw_iccls_companion_params_cfg *c) {
    return (isw_iccls_companion_cfg){(int)c->N, (int)c->B, (int)c->L};
}

static void metrics(const isw_iccls_companion_eval *e, const double *theta, double *v) {
    v[M_loss] = e->loss;
    v[M_q] = e->q;
    v[M_p] = e->p;
    v[M_s] = 1.0 / (1.0 + exp(-theta[ISW_ICCLS_COMP_BETA1]));
    v[M_acc] = e->acc;
    v[M_beta1] = theta[ISW_ICCLS_COMP_BETA1];
    v[M_alpha] = theta[ISW_ICCLS_COMP_ALPHA];
    v[M_xi] = theta[ISW_ICCLS_COMP_XI];
    double g = 0.0;
    for (int i = 0; i < ISW_ICCLS_COMP_N; i++) g += e->grad[i] * e->grad[i];
    v[M_grad_norm] = sqrt(g);
}

/* Where training is: everything a step changes (what a checkpoint holds). */
typedef struct {
    int64_t t, log;        /* the next step and the next log point */
    double theta[ISW_ICCLS_COMP_N];
    double t_icl;          /* the first logged step with q at its midpoint so far (NaN: none) */
    double v[N_TRAJ];      /* the last log point's metrics: the final ones at the end */
} comp_progress;

/* The trainer's whole state between two steps, listed once (docs/adding-a-model.md). */
static void comp_state(const isw_iccls_companion_params_cfg *c, comp_progress *p, isw_state *s) {
    isw_state_init(s);
    isw_state_int64s(s, "step", &p->t, 1, 0, c->steps + 1);
    isw_state_int64s(s, "log_point", &p->log, 1, 0, isw_log_points(c->steps, c->log_every));
    ISW_STATE_ARRAY(s, "theta", p->theta, ISW_ICCLS_COMP_N);
    ISW_STATE_VALUE(s, "t_icl", &p->t_icl);
    ISW_STATE_ARRAY(s, "last_metrics", p->v, N_TRAJ);
}

static isw_status comp_train(const void *vcfg, uint64_t seed, const isw_log_sink *sink, double *final,
                             isw_train_result *res, isw_error *err) {
    const isw_iccls_companion_params_cfg *c = vcfg;
    (void)seed; /* gradient descent from a given start draws nothing */
    memset(res, 0, sizeof *res);
    for (int i = 0; i < N_FINAL; i++) final[i] = NAN;
    int blame = 0;
    char why[256];
    if (isw_iccls_companion_check(c, &blame, why, sizeof why))
        return isw_fail(err, ISW_EINPUT, "iccls_companion: %s", why);
    isw_iccls_companion_cfg mc = model_cfg(c);
    double mid = ((double)c->B / (double)c->N + 1.0) / 2.0;
    comp_progress p = {0, 0, {c->beta1_init, c->alpha_init, c->xi_init}, NAN, {0}};
    for (int i = 0; i < N_TRAJ; i++) p.v[i] = NAN;
    double *theta = p.theta, *v = p.v;
    isw_state state;
    comp_state(c, &p, &state);
    isw_sink_restore(sink, &state); /* from a checkpoint, p is where it was taken */
    res->status = ISW_TRAIN_DONE;
    res->step = c->steps;
    while (p.t <= c->steps) {
        int64_t t = p.t;
        isw_iccls_companion_eval e = isw_iccls_companion(theta, &mc);
        res->step = t;
        if (!isfinite(e.loss)) {
            res->status = ISW_TRAIN_DIVERGED;
            snprintf(res->reason, sizeof res->reason, "loss is %s at step %lld", isnan(e.loss) ? "NaN" : "Inf",
                     (long long)t);
            return ISW_OK;
        }
        int ask = 0;
        if (t % c->log_every == 0 || t == c->steps) {
            metrics(&e, theta, v);
            if (isnan(p.t_icl) && e.q >= mid) p.t_icl = (double)t;
            ask = isw_sink_log(sink, p.log++, t, v);
        }
        if (t < c->steps)
            for (int i = 0; i < ISW_ICCLS_COMP_N; i++) theta[i] -= c->lr * e.grad[i];
        p.t = t + 1; /* the step is finished: the state is the one before step t + 1 */
        if (ask & ISW_LOG_SAVE) isw_sink_save(sink, &state, t);
        if (ask & ISW_LOG_STOP) {
            res->status = ISW_TRAIN_STOPPED;
            return ISW_OK;
        }
    }
    memcpy(final, p.v, sizeof p.v);
    final[M_t_icl] = p.t_icl;
    return ISW_OK;
}

/* The model draws nothing: the digest is that of its starting point and context shape, which is
 * what decides its numbers besides the steps. */
static isw_status comp_data_digest(const void *vcfg, uint64_t seed, uint64_t *digest, isw_error *err) {
    const isw_iccls_companion_params_cfg *c = vcfg;
    (void)seed;
    (void)err;
    double start[6] = {(double)c->N, (double)c->B, (double)c->L, c->beta1_init, c->alpha_init, c->xi_init};
    *digest = isw_hash_bytes(start, sizeof start);
    return ISW_OK;
}

/* ---- the descriptor ------------------------------------------------------------------------ */

static const isw_iccls_companion_params_cfg *cfg_of(const void *v) { return v; }
static double chance_loss(const void *c) { return log((double)cfg_of(c)->L); }
static double context_loss(const void *c) { return log((double)cfg_of(c)->N / (double)cfg_of(c)->B); }
static double chance_q(const void *c) { return 1.0 / (double)cfg_of(c)->L; }
static double context_guess(const void *c) { return (double)cfg_of(c)->B / (double)cfg_of(c)->N; }
static double saddle_L(const void *c) { return (double)cfg_of(c)->N / (double)cfg_of(c)->B; }

static const isw_theory_line levels[] = {
    {"chance_loss", "chance loss (ln L)", "loss", "nats", "loss of equal logits: the start at xi = 0", chance_loss},
    {"context_loss", "context guess loss (ln N/B)", "loss", "nats",
     "loss of a uniform guess among the context's labels: the slow phase's plateau", context_loss},
    {"chance_q", "chance (1/L)", "q|acc", "probability", "a uniform guess among the L labels", chance_q},
    {"context_guess", "context guess (B/N)", "q|acc|p", "probability",
     "a uniform guess among the context's labels; p at alpha = 0", context_guess},
};

static const isw_theory_line marks[] = {
    {"saddle_L", "L = N/B (saddle)", "L", "labels",
     "L equal to the labels of a context: the gradient vanishes at the origin, descent never leaves it",
     saddle_L},
};

const isw_model isw_model_iccls_companion = {
    .name = "iccls_companion",
    .summary = "three nested logits: the iccls transition in three scalars (our reconstruction of Reddy 2024's minimal model)",
    .version = "iccls_companion/1",
    .params = isw_iccls_companion_params,
    .n_params = ISW_ICCLS_COMPANION_N_PARAMS,
    .cfg_size = sizeof(isw_iccls_companion_params_cfg),
    .check = isw_iccls_companion_check,
    .derived = "",
    .resolve = isw_iccls_companion_resolve,
    .traj = traj_defs,
    .n_traj = N_TRAJ,
    .final = final_defs,
    .n_final = N_FINAL,
    .log_steps = isw_iccls_companion_log_steps,
    .cost = isw_iccls_companion_cost,
    .memory = isw_iccls_companion_memory,
    .calibration = isw_iccls_companion_calibration,
    .train = comp_train,
    .data_digest = comp_data_digest,
    .headline = "t_icl",
    .headline_level = NAN,
    .levels = levels,
    .n_levels = 4,
    .marks = marks,
    .n_marks = 1,
};
