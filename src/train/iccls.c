/* Training one iccls task (docs/science.md, model iccls; Reddy, ICLR 2024): SGD with
 * multiplicative weight decay on fresh batches, the four test sets and the progress measures at
 * every log point, the transition's time, width and plateau at the end; the model's descriptor.
 *
 * Workload: one worker trains one network of ~2.5 10^4 weights (default point; 1.5 10^5 at the
 * paper's size) for 10^4-10^5 steps of 64-128 fresh sequences, and evaluates four test sets of
 * ~10^3 sequences every ~100 steps (about a third of a default task's time). Everything (task,
 * test sets, batch, weights, workspace, history) is allocated before the first step; the loop
 * never allocates. The network runs through include/iclsweep/train/iccls_engine.h, in double by
 * default (the golden numbers hold across machines only there) or in single precision.
 *
 * Order within a step t (0 <= t <= steps): draw batch t from the training stream, forward, loss,
 * backward (at the weights after t updates); a non-finite loss stops the task as diverged at
 * step t; if t is a log point, evaluate and report (train_loss: the mean over the batches since
 * the last log point); then, if t < steps, update; then, if the log point asked for it, hand the
 * state over (a checkpoint) and stop.
 *
 * Everything a task changes while it trains is in one struct, iccls_state (weights, the training
 * stream's position, the step, the history, the running sums, the last metrics), listed once as a
 * checkpoint's regions (iccls_state_list); the rest of `run` is drawn again from the config and
 * the seed, identically, at set-up. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "iclsweep/core/hash.h"
#include "iclsweep/core/schedule.h"
#include "iclsweep/models/iccls.h"
#include "iclsweep/models/iccls_params.h"
#include "iclsweep/tasks/iccls.h"
#include "iclsweep/train/iccls_engine.h"
#include "iclsweep/train/model.h"

/* ---- the metric tables ------------------------------------------------------------------- */

/* X(name, units, meaning): at every log point, and again at the end. The first seven are what
 * `iclsweep train` shows on a terminal. */
#define ICCLS_TRAJ(X)                                                                              \
    X(train_loss, "nats", "mean cross-entropy of the training batches since the last log point")   \
    X(test_acc, "fraction", "accuracy (argmax of the logits) on the test set: the training mix")    \
    X(ic_acc, "fraction", "accuracy on ic: novel classes, bursty (in-context learning)")           \
    X(ic2_acc, "fraction", "accuracy on ic2: training classes, bursty, every context label "       \
                           "shifted l -> l+1 mod L, scored against the shifted label")            \
    X(iw_acc, "fraction", "accuracy on iw: non-bursty training classes (in-weights learning)")     \
    X(ic_score, "", "(ic_acc - B/N) / (1 - B/N): 0 at the context guess, 1 perfect (B = 0: N/2 copies)") \
    X(iw_score, "", "(iw_acc - 1/L) / (1 - 1/L): 0 at chance, 1 perfect")                         \
    X(test_loss, "nats", "mean cross-entropy on the test set")                                     \
    X(ic_loss, "nats", "mean cross-entropy on ic")                                                 \
    X(ic2_loss, "nats", "mean cross-entropy on ic2 (against the shifted labels)")                  \
    X(iw_loss, "nats", "mean cross-entropy on iw")                                                 \
    X(ila1, "fraction", "progress (first 1000 ic sequences): layer-1 attention of each label "     \
                        "token on its own item")                                                   \
    X(tila2, "fraction", "progress: layer-2 attention of the query on the label tokens of its "    \
                         "own class")                                                              \
    X(tla2, "fraction", "progress: layer-2 attention of the query on all label tokens")            \
    X(cla, "fraction", "progress: fraction of predictions that are a label present in the context") \
    X(pta1, "fraction", "progress: layer-1 attention of each token on the token before it")        \
    X(h3_active, "fraction", "progress: fraction of the classifier's last ReLU layer active (> 0); " \
                             "~0 flags a dead classifier (loss ln L)")

/* Final-only metrics, after the trajectory metrics at the last step (r = B/N, the context guess;
 * N/2 copies when B = 0). */
#define ICCLS_FINAL(X)                                                                             \
    X(t_icl, "steps", "first logged step where ic_acc reaches (r + 1)/2, halfway from the context "  \
                      "guess to 1 (NaN if never)")                                                 \
    X(icl_width, "steps", "width of the rise: steps from the last log point with ic_acc below "    \
                          "r + 0.2 (1 - r) to the first at or above r + 0.8 (1 - r) (NaN if none)") \
    X(icl_plateau, "fraction", "ic_acc at that last point below r + 0.2 (1 - r): the slow phase's " \
                               "level before the jump (NaN if none)")

#define METRIC_ROW_(name, units, doc) {#name, units, doc},
#define METRIC_ENUM_(name, units, doc) M_##name,
static const isw_metric_def traj_defs[] = {ICCLS_TRAJ(METRIC_ROW_)};
static const isw_metric_def final_defs[] = {ICCLS_TRAJ(METRIC_ROW_) ICCLS_FINAL(METRIC_ROW_)};
enum { ICCLS_TRAJ(METRIC_ENUM_) N_TRAJ };
enum { M_FINAL_BASE_ = N_TRAJ - 1, ICCLS_FINAL(METRIC_ENUM_) };
#define N_FINAL ((int)(sizeof final_defs / sizeof final_defs[0]))

/* ---- the task's state -------------------------------------------------------------------- */

/* Everything training changes (what a checkpoint saves; see the header). */
typedef struct {
    isw_iccls_net net;  /* weights (and the gradients of the step in flight, zero between steps) */
    isw_rng train_rng;  /* the training stream (ISW_ICCLS_STREAM_TRAIN) at its position */
    int64_t step;       /* the step being run (between steps: the next one) */
    int64_t n_log;      /* log points reported */
    int64_t n_log_max;  /* log points of the whole run (fixed at set-up) */
    double *hist_step;  /* [n_log_max] step of each log point so far */
    double *hist_ic;    /* [n_log_max] ic_acc of each log point so far */
    double run_loss;    /* sum of the batch losses since the last log point */
    int64_t run_n;      /* batches in run_loss */
    double last[N_TRAJ]; /* the last log point's metrics: the final ones at the end */
} iccls_state;

typedef struct {
    isw_iccls_cfg c;
    isw_iccls_data_cfg data;
    isw_iccls_mix mix;                     /* the training mix */
    isw_iccls_task task;                   /* class means, label vectors */
    isw_iccls_set sets[ISW_ICCLS_N_SETS];  /* test, ic, ic2, iw: n_test sequences each */
    isw_iccls_set batch;                   /* the step's fresh sequences */
    isw_iccls_engine eng;                  /* the network's kernels and workspace */
    iccls_state s;
} run;

static void run_free(run *r) {
    isw_iccls_task_free(&r->task);
    for (int i = 0; i < ISW_ICCLS_N_SETS; i++) isw_iccls_set_free(&r->sets[i]);
    isw_iccls_set_free(&r->batch);
    isw_iccls_engine_free(&r->eng);
    isw_iccls_free(&r->s.net);
    free(r->s.hist_step);
    free(r->s.hist_ic);
}

/* The task, its four test sets (each from its own stream) and room for a batch. */
static isw_status make_data(run *r, uint64_t seed, isw_error *err) {
    isw_status st = isw_iccls_task_make(&r->task, &r->data, seed, err);
    if (st) return st;
    for (int i = 0; i < ISW_ICCLS_N_SETS; i++) {
        if ((st = isw_iccls_set_alloc(&r->sets[i], (int)r->c.n_test, &r->data, err))) return st;
        isw_rng rng;
        isw_rng_init(&rng, seed, ISW_ICCLS_STREAM_EVAL + (uint32_t)i);
        isw_iccls_mix mix = isw_iccls_set_mix(&r->data, (isw_iccls_set_kind)i);
        isw_iccls_fill(&r->sets[i], (int)r->c.n_test, &mix, &r->task, &rng);
    }
    return isw_iccls_set_alloc(&r->batch, (int)r->c.batch, &r->data, err);
}

static isw_status run_setup(run *r, const isw_iccls_cfg *cfg, uint64_t seed, isw_error *err) {
    memset(r, 0, sizeof *r);
    r->c = *cfg;
    r->data = isw_iccls_data_of(cfg);
    r->mix = isw_iccls_train_mix(&r->data);
    isw_status st = make_data(r, seed, err);
    if (st) return st;
    isw_iccls_dims dims = isw_iccls_dims_of(r->data.N, r->data.Nmax, r->data.D, r->data.L);
    int Bmax = cfg->batch > ISW_ICCLS_EVAL_CHUNK ? (int)cfg->batch : ISW_ICCLS_EVAL_CHUNK;
    if ((st = isw_iccls_engine_alloc(&r->eng, dims, Bmax, cfg->precision == ISW_ICCLS_float32, err)))
        return st;
    iccls_state *s = &r->s;
    if ((st = isw_iccls_alloc(&s->net, dims, err))) return st;
    s->n_log_max = isw_log_points(cfg->steps, cfg->log_every);
    s->hist_step = isw_calloc((size_t)s->n_log_max, sizeof(double), err); /* zeroed: a checkpoint packs it whole */
    s->hist_ic = isw_calloc((size_t)s->n_log_max, sizeof(double), err);
    if (!s->hist_step || !s->hist_ic) return ISW_EINTERNAL;
    for (int i = 0; i < N_TRAJ; i++) s->last[i] = NAN;
    isw_rng rng;
    isw_rng_init(&rng, seed, ISW_ICCLS_STREAM_INIT);
    isw_iccls_init_weights(&s->net, &rng);
    isw_rng_init(&s->train_rng, seed, ISW_ICCLS_STREAM_TRAIN);
    return ISW_OK;
}

/* The task's whole state between two steps, listed once (a checkpoint; docs/adding-a-model.md):
 * the weights (their gradients are zero between steps), the training stream, where training is,
 * the history the transition's metrics read, the running loss and the last metrics. Both
 * precisions keep their weights in double (single precision converts them at each forward), so
 * one list serves both. */
static void iccls_state_list(run *r, isw_state *st) {
    iccls_state *s = &r->s;
    isw_state_init(st);
    isw_state_int64s(st, "step", &s->step, 1, 0, r->c.steps + 1);
    isw_state_int64s(st, "log_point", &s->n_log, 1, 0, s->n_log_max);
    ISW_STATE_ARRAY(st, "weights", s->net.params, s->net.n_params);
    isw_state_rng(st, "train_rng", &s->train_rng);
    ISW_STATE_ARRAY(st, "hist_step", s->hist_step, s->n_log_max);
    ISW_STATE_ARRAY(st, "hist_ic_acc", s->hist_ic, s->n_log_max);
    /* zero at every log point (evaluate starts the sum again), where checkpoints are taken; listed
     * all the same, so that the list stays the whole state wherever a save is added */
    ISW_STATE_VALUE(st, "run_loss", &s->run_loss);
    isw_state_int64s(st, "run_batches", &s->run_n, 1, 0, r->c.steps + 1);
    ISW_STATE_ARRAY(st, "last_metrics", s->last, N_TRAJ);
}

/* ---- evaluation -------------------------------------------------------------------------- */

/* The context guess r = B/N (N/2 copies when B = 0): ic accuracy of picking a context label. */
static double context_guess_of(const isw_iccls_cfg *c) {
    isw_iccls_data_cfg data = isw_iccls_data_of(c);
    return (double)isw_iccls_copies(&data) / (double)c->N;
}

/* Every trajectory metric of the current weights into v[N_TRAJ]. */
static void evaluate(run *r, double *v) {
    const int loss_m[] = {M_test_loss, M_ic_loss, M_ic2_loss, M_iw_loss};
    const int acc_m[] = {M_test_acc, M_ic_acc, M_ic2_acc, M_iw_acc};
    for (int i = 0; i < ISW_ICCLS_N_SETS; i++) {
        int n_progress = i == ISW_ICCLS_SET_IC ? ISW_ICCLS_PROGRESS_SEQS : 0;
        isw_iccls_scores sc = isw_iccls_engine_score(&r->eng, &r->s.net, &r->task, &r->sets[i], n_progress);
        v[loss_m[i]] = sc.loss;
        v[acc_m[i]] = sc.acc;
        if (i != ISW_ICCLS_SET_IC) continue;
        v[M_ila1] = sc.ila1;
        v[M_tila2] = sc.tila2;
        v[M_tla2] = sc.tla2;
        v[M_cla] = sc.cla;
        v[M_pta1] = sc.pta1;
        v[M_h3_active] = sc.h3_active;
    }
    double rg = context_guess_of(&r->c), chance = 1.0 / (double)r->c.L;
    v[M_ic_score] = (v[M_ic_acc] - rg) / (1.0 - rg);
    v[M_iw_score] = (v[M_iw_acc] - chance) / (1.0 - chance);
    v[M_train_loss] = r->s.run_n ? r->s.run_loss / (double)r->s.run_n : NAN;
    r->s.run_loss = 0.0;
    r->s.run_n = 0;
}

/* ---- the transition ---------------------------------------------------------------------- */

/* t_icl, the rise's width and the plateau (ICCLS_FINAL) of ic accuracies acc[n] at steps[n],
 * with the context guess rg, into f[3] in the table's order. */
static void transition(const double *acc, const double *steps, int64_t n, double rg, double *f) {
    double lo = rg + 0.2 * (1 - rg), hi = rg + 0.8 * (1 - rg), mid = (rg + 1) / 2;
    f[0] = f[1] = f[2] = NAN;
    for (int64_t i = 0; i < n; i++)
        if (acc[i] >= mid) {
            f[0] = steps[i];
            break;
        }
    int64_t i_hi = -1, i_lo = -1;
    for (int64_t i = 0; i < n && i_hi < 0; i++)
        if (acc[i] >= hi) i_hi = i;
    for (int64_t i = 0; i < i_hi; i++)
        if (acc[i] < lo) i_lo = i;
    if (i_lo >= 0) {
        f[1] = steps[i_hi] - steps[i_lo];
        f[2] = acc[i_lo];
    }
}

/* ---- the loop ---------------------------------------------------------------------------- */

static int is_log_step(int64_t t, int64_t steps, int64_t every) { return t % every == 0 || t == steps; }

/* Runs steps s.step..steps; s.last holds the last log point's metrics. A log point that asks for
 * a checkpoint hands `state` over once its step is finished. */
static void train_loop(run *r, const isw_log_sink *sink, const isw_state *state, isw_train_result *res) {
    const isw_iccls_cfg *c = &r->c;
    iccls_state *s = &r->s;
    double *v = s->last;
    int B = (int)c->batch;
    res->step = c->steps;
    for (; s->step <= c->steps; s->step++) {
        int64_t t = s->step;
        isw_iccls_fill(&r->batch, B, &r->mix, &r->task, &s->train_rng);
        double loss = isw_iccls_engine_gradient(&r->eng, &s->net, &r->task, &r->batch, 0, B, 1.0 / B, NULL) / B;
        res->step = t;
        if (!isfinite(loss)) {
            res->status = ISW_TRAIN_DIVERGED;
            snprintf(res->reason, sizeof res->reason, "train_loss is %s at step %lld", isnan(loss) ? "NaN" : "Inf",
                     (long long)t);
            return;
        }
        s->run_loss += loss;
        s->run_n++;
        int ask = 0;
        if (is_log_step(t, c->steps, c->log_every)) {
            evaluate(r, v);
            if (s->n_log < s->n_log_max) { /* always, but for a forged checkpoint's log point */
                s->hist_step[s->n_log] = (double)t;
                s->hist_ic[s->n_log] = v[M_ic_acc];
            }
            ask = isw_sink_log(sink, s->n_log, t, v);
            s->n_log++;
        }
        if (t < c->steps) isw_iccls_sgd(&s->net, c->lr, c->weight_decay);
        if (ask & ISW_LOG_SAVE) {
            s->step = t + 1; /* the state after this step */
            isw_sink_save(sink, state, t);
            s->step = t;
        }
        if (ask & ISW_LOG_STOP) {
            res->status = ISW_TRAIN_STOPPED;
            return;
        }
    }
    res->status = ISW_TRAIN_DONE;
}

static isw_status iccls_train(const void *vcfg, uint64_t seed, const isw_log_sink *sink, double *final,
                              isw_train_result *res, isw_error *err) {
    const isw_iccls_cfg *cfg = vcfg;
    memset(res, 0, sizeof *res);
    for (int i = 0; i < N_FINAL; i++) final[i] = NAN;
    int blame = 0;
    char why[256];
    if (isw_iccls_check(cfg, &blame, why, sizeof why)) return isw_fail(err, ISW_EINPUT, "iccls: %s", why);
    run r;
    isw_status st = run_setup(&r, cfg, seed, err);
    if (st == ISW_EINTERNAL && !err->msg[0]) isw_fail(err, st, "iccls: out of memory");
    if (st == ISW_OK) {
        isw_state state;
        iccls_state_list(&r, &state);
        isw_sink_restore(sink, &state); /* from a checkpoint, r.s is where it was taken */
        train_loop(&r, sink, &state, res);
        if (res->status == ISW_TRAIN_DONE) {
            memcpy(final, r.s.last, sizeof r.s.last);
            int64_t n = r.s.n_log < r.s.n_log_max ? r.s.n_log : r.s.n_log_max; /* n_log but forged */
            transition(r.s.hist_ic, r.s.hist_step, n, context_guess_of(cfg), final + M_t_icl);
        }
    }
    run_free(&r);
    return st;
}

/* The task's draws, its four test sets and the first training batch: no BLAS touches them, so
 * the digest is the same on every machine. */
static isw_status iccls_data_digest(const void *vcfg, uint64_t seed, uint64_t *digest, isw_error *err) {
    const isw_iccls_cfg *c = vcfg;
    run r;
    memset(&r, 0, sizeof r);
    r.c = *c;
    r.data = isw_iccls_data_of(c);
    r.mix = isw_iccls_train_mix(&r.data);
    isw_status st = make_data(&r, seed, err);
    uint64_t h = 0;
    if (!st) {
        isw_rng_init(&r.s.train_rng, seed, ISW_ICCLS_STREAM_TRAIN);
        isw_iccls_fill(&r.batch, (int)c->batch, &r.mix, &r.task, &r.s.train_rng);
        h = isw_hash_more(h, r.task.mu, sizeof(double) * (size_t)c->K * (size_t)c->D);
        h = isw_hash_more(h, r.task.lab, sizeof(double) * (size_t)c->L * (size_t)c->D);
        for (int i = 0; i <= ISW_ICCLS_N_SETS; i++) {
            const isw_iccls_set *set = i < ISW_ICCLS_N_SETS ? &r.sets[i] : &r.batch;
            size_t n = (size_t)set->n, N = (size_t)set->N;
            h = isw_hash_more(h, set->shift, sizeof(int) * n);
            h = isw_hash_more(h, set->item, sizeof(float) * n * (N + 1) * (size_t)set->D);
            h = isw_hash_more(h, set->ctx_class, sizeof(int) * n * N);
            h = isw_hash_more(h, set->ctx_label, sizeof(int) * n * N);
            h = isw_hash_more(h, set->q_class, sizeof(int) * n);
            h = isw_hash_more(h, set->target, sizeof(int) * n);
            h = isw_hash_more(h, set->kind, n);
        }
    }
    run_free(&r);
    *digest = h;
    return st;
}

/* ---- the descriptor ------------------------------------------------------------------------ */

static double chance_acc(const void *vcfg) { return 1.0 / (double)((const isw_iccls_cfg *)vcfg)->L; }
static double chance_loss(const void *vcfg) { return log((double)((const isw_iccls_cfg *)vcfg)->L); }
static double context_guess(const void *vcfg) { return context_guess_of(vcfg); }

/* L = M = N/B: every label is in every bursty context, so guessing among the context's labels
 * gains nothing and the slow phase has no slope to climb (the companion model's saddle). */
static double saddle_L(const void *vcfg) { return 1.0 / context_guess_of(vcfg); }

static const isw_theory_line levels[] = {
    {"chance_acc", "chance (1/L)", "test_acc|ic_acc|ic2_acc|iw_acc", "fraction",
     "accuracy of a uniform guess among the L labels", chance_acc},
    {"context_guess", "context guess (B/N)", "ic_acc|ic2_acc|icl_plateau", "fraction",
     "accuracy of a uniform guess among the labels present in a bursty context (N/2 copies when B = 0)",
     context_guess},
    {"chance_loss", "chance loss (ln L)", "train_loss|test_loss|ic_loss|ic2_loss|iw_loss", "nats",
     "cross-entropy of equal logits: where a dead classifier sits", chance_loss},
};

static const isw_theory_line marks[] = {
    {"saddle_L", "L = N/B (no curriculum)", "L", "labels",
     "L equal to the distinct labels of a bursty context: the slow phase's saddle, where ICL is not "
     "expected to emerge", saddle_L},
};

const isw_model isw_model_iccls = {
    .name = "iccls",
    .summary = "in-context vs in-weights classification, two attention layers (Reddy 2024; Chan et al. 2022)",
    .version = "iccls/1",
    .params = isw_iccls_params,
    .n_params = ISW_ICCLS_N_PARAMS,
    .cfg_size = sizeof(isw_iccls_cfg),
    .check = isw_iccls_check,
    .derived = "",
    .resolve = isw_iccls_resolve,
    .traj = traj_defs,
    .n_traj = N_TRAJ,
    .final = final_defs,
    .n_final = N_FINAL,
    .log_steps = isw_iccls_log_steps,
    .cost = isw_iccls_cost,
    .memory = isw_iccls_memory,
    .calibration = isw_iccls_calibration,
    .train = iccls_train,
    .data_digest = iccls_data_digest,
    .headline = "ic_score",
    .headline_level = 0.5,
    .levels = levels,
    .n_levels = 3,
    .marks = marks,
    .n_marks = 1,
};
