/* The iccls trainer and its descriptor (src/train/iccls.c, src/train/iccls_engine.c), and the
 * companion model's descriptor (src/train/iccls_companion.c):
 *   - the scores of a set on a known case: a network with every attention map zero (uniform
 *     causal attention), the classifier's weights zero, its last bias 0.5 and one output row set,
 *     so that the losses, accuracy, cla, ila1, pta1, tla2, tila2 and h3_active have closed forms,
 *     in both precisions, over several chunks with the progress cut mid-chunk;
 *   - the descriptor's constraints name the knob to blame;
 *   - with lr 0 and no weight decay every log point reports the same test metrics, and the final metrics are the last
 *     log point's;
 *   - a default-point run of 2500 steps learns in context (the jump: ic accuracy from the context
 *     guess to > 0.9, iw near chance) and its t_icl, icl_width and icl_plateau follow their
 *     definitions on the reported ic accuracies; single precision stays close to double;
 *   - a learning rate far too large does not diverge here: it kills the classifier (every last-layer
 *     ReLU off, so every logit 0 and every loss exactly ln L), the stall of docs/science.md 3.4 in
 *     its extreme form;
 *   - the companion: stuck at its saddle when L = N/B (t_icl NaN, loss ln L), jumping when L > N/B.
 *
 *   ./build/tests/test_iccls_train */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "iclsweep/models/iccls_params.h"
#include "iclsweep/train/iccls_engine.h"
#include "iclsweep/train/model.h"

/* ---- the known case ---------------------------------------------------------------------- */

static isw_iccls_data_cfg small_cfg(void) {
    return (isw_iccls_data_cfg){.N = 4, .Nmax = 5, .D = 7, .L = 8, .K = 64, .K_novel = 16, .B = 2,
                                .p_B = 1.0, .p_C = 0.0, .eps = 0.1, .alpha = 0.0, .pos_shift = 1};
}

/* Scores of a set under the known network, from its definition. */
static isw_iccls_scores expected_scores(const isw_iccls_set *set, int n_progress, int L) {
    int N = set->N, T = 2 * N + 1, hit = 3;
    double lse = log(exp(0.5) + (L - 1)), loss = 0.0, acc = 0.0, cla = 0.0, tila2 = 0.0;
    for (int i = 0; i < set->n; i++) {
        loss += lse - (set->target[i] == hit ? 0.5 : 0.0);
        acc += set->target[i] == hit;
    }
    for (int i = 0; i < n_progress; i++) {
        int in_ctx = 0, same = 0;
        for (int j = 0; j < N; j++) {
            in_ctx |= set->ctx_label[i * N + j] == hit;
            same += set->ctx_class[i * N + j] == set->q_class[i];
        }
        cla += in_ctx;
        tila2 += (double)same / T;
    }
    double ila1 = 0.0, pta1 = 0.0;
    for (int j = 0; j < N; j++) ila1 += 1.0 / (2 * j + 2) / N;
    for (int t = 1; t < T; t++) pta1 += 1.0 / (t + 1) / (T - 1);
    return (isw_iccls_scores){loss / set->n, acc / set->n, ila1, pta1, (double)N / T,
                              tila2 / n_progress, cla / n_progress, 1.0};
}

/* |got - want| <= rtol |want| + atol, naming the set and the score. */
static void close_to(double got, double want, double rtol, double atol, const char *what, const char *score) {
    CHECK(fabs(got - want) <= rtol * fabs(want) + atol, "%s %s: %.17g, expected %.17g", what, score, got, want);
}

static void check_scores(isw_iccls_scores got, isw_iccls_scores want, double tol, const char *what) {
    close_to(got.loss, want.loss, tol, 0, what, "loss");
    close_to(got.acc, want.acc, 0, 1e-12, what, "acc");
    close_to(got.ila1, want.ila1, tol, 0, what, "ila1");
    close_to(got.pta1, want.pta1, tol, 0, what, "pta1");
    close_to(got.tla2, want.tla2, tol, 0, what, "tla2");
    close_to(got.tila2, want.tila2, tol, 0, what, "tila2");
    close_to(got.cla, want.cla, 0, 1e-12, what, "cla");
    close_to(got.h3_active, want.h3_active, 0, 1e-12, what, "h3_active");
}

static void test_known_case(void) {
    isw_iccls_data_cfg cfg = small_cfg();
    isw_iccls_task task;
    isw_iccls_set sets[2];
    isw_iccls_net net;
    isw_error err;
    CHECK(isw_iccls_task_make(&task, &cfg, 11, &err) == ISW_OK, "task: %s", err.msg);
    isw_iccls_set_kind kinds[2] = {ISW_ICCLS_SET_IC, ISW_ICCLS_SET_IC2};
    for (int s = 0; s < 2; s++) {
        CHECK(isw_iccls_set_alloc(&sets[s], 300, &cfg, &err) == ISW_OK, "set: %s", err.msg);
        isw_rng rng;
        isw_rng_init(&rng, 11, ISW_ICCLS_STREAM_EVAL + kinds[s]);
        isw_iccls_mix mix = isw_iccls_set_mix(&cfg, kinds[s]);
        isw_iccls_fill(&sets[s], 300, &mix, &task, &rng);
    }
    isw_iccls_dims dims = isw_iccls_dims_of(cfg.N, cfg.Nmax, cfg.D, cfg.L);
    CHECK(isw_iccls_alloc(&net, dims, &err) == ISW_OK, "net: %s", err.msg);
    net.w.b1[0] = 0.3, net.w.b2[0] = -0.2, net.w.b3[0] = 0.5; /* h3 = relu(b3) = 0.5 everywhere */
    for (int k = 0; k < dims.d; k++) net.w.wout[3 * dims.d + k] = 1.0 / dims.d; /* z_3 = 0.5 */
    for (int f32 = 0; f32 <= 1; f32++) {
        isw_iccls_engine eng;
        CHECK(isw_iccls_engine_alloc(&eng, dims, 128, f32, &err) == ISW_OK, "engine: %s", err.msg);
        for (int s = 0; s < 2; s++) {
            isw_iccls_scores got = isw_iccls_engine_score(&eng, &net, &task, &sets[s], 200);
            char what[64];
            snprintf(what, sizeof what, "%s %s", f32 ? "float32" : "float64", s ? "ic2" : "ic");
            check_scores(got, expected_scores(&sets[s], 200, cfg.L), f32 ? 1e-6 : 1e-13, what);
            CHECK(fabs(got.tila2 - 2.0 / 9) < 1e-6, "%s: B = 2 copies of the query's class: tila2 = 2/T, got %g",
                  what, got.tila2);
        }
        isw_iccls_scores none = isw_iccls_engine_score(&eng, &net, &task, &sets[0], 0);
        CHECK(isnan(none.ila1) && isnan(none.h3_active) && isfinite(none.loss), "no progress measures asked");
        isw_iccls_engine_free(&eng);
    }
    /* the shifted ic2 labels: a context label is the shifted label of its class */
    int shifted = 0;
    for (int i = 0; i < 300 * cfg.N; i++) shifted += sets[1].ctx_label[i] == (sets[1].ctx_class[i] + 1) % cfg.L;
    CHECK(shifted == 300 * cfg.N, "ic2 context labels are shifted: %d of %d", shifted, 300 * cfg.N);
    isw_iccls_free(&net);
    for (int s = 0; s < 2; s++) isw_iccls_set_free(&sets[s]);
    isw_iccls_task_free(&task);
}

/* ---- the descriptor ---------------------------------------------------------------------- */

typedef struct {
    const isw_model *m;
    double vals[64];
} point;

static point default_point(const char *model) {
    point p = {isw_model_find(model), {0}};
    isw_params_defaults(p.m->params, p.m->n_params, p.vals);
    return p;
}

static void set(point *p, const char *name, double v) {
    int i = isw_param_find(p->m->params, p->m->n_params, name);
    CHECK(i >= 0, "%s has no parameter %s", p->m->name, name);
    if (i >= 0) p->vals[i] = v;
}

static void test_constraints(void) {
    struct { const char *knob; double v; const char *blame, *needle; } cases[] = {
        {"K", 1000, "K", "multiples of L"},
        {"B", 3, "B", "divide N"},
        {"Nmax", 3, "Nmax", "Nmax"},
        {"L", 2, "L", "distinct labels"},
    };
    for (int i = 0; i < 4; i++) {
        point p = default_point("iccls");
        set(&p, cases[i].knob, cases[i].v);
        if (!strcmp(cases[i].knob, "L")) set(&p, "K", 1024);
        isw_iccls_cfg cfg;
        isw_params_to_cfg(p.m->params, p.m->n_params, p.vals, &cfg);
        int blame = -1;
        char why[256] = "";
        CHECK(p.m->check(&cfg, &blame, why, sizeof why) == ISW_EINPUT && blame >= 0 &&
                  !strcmp(p.m->params[blame].name, cases[i].blame) && strstr(why, cases[i].needle),
              "%s = %g: blames %s, says '%s'", cases[i].knob, cases[i].v, blame >= 0 ? p.m->params[blame].name : "-", why);
    }
}

/* ---- training ---------------------------------------------------------------------------- */

#define MAX_LOG 64
typedef struct {
    int n, n_traj;
    int64_t step[MAX_LOG];
    double v[MAX_LOG][32];
} trace;

static int record(void *ctx, int64_t index, int64_t step, const double *values) {
    trace *tr = ctx;
    if (index != tr->n || tr->n >= MAX_LOG) return ISW_LOG_STOP;
    tr->step[tr->n] = step;
    memcpy(tr->v[tr->n++], values, sizeof(double) * (size_t)tr->n_traj);
    return 0;
}

static int metric(const isw_model *m, const char *name) { return isw_model_final_index(m, name); }

/* Trains p with the task seed, recording every log point. */
static isw_train_result train(point *p, uint64_t seed, trace *tr, double *final) {
    void *cfg = calloc(1, p->m->cfg_size);
    isw_params_to_cfg(p->m->params, p->m->n_params, p->vals, cfg);
    memset(tr, 0, sizeof *tr);
    tr->n_traj = p->m->n_traj;
    isw_log_sink sink = {.ctx = tr, .on_log = record};
    isw_train_result res;
    isw_error err;
    CHECK(p->m->train(cfg, seed, &sink, final, &res, &err) == ISW_OK, "%s trains: %s", p->m->name, err.msg);
    free(cfg);
    return res;
}

static void test_lr_zero(void) {
    point p = default_point("iccls");
    set(&p, "lr", 0), set(&p, "weight_decay", 0), set(&p, "steps", 30), set(&p, "log_every", 10);
    set(&p, "n_test", 100);
    trace tr;
    double final[64];
    isw_train_result res = train(&p, 5, &tr, final);
    CHECK(res.status == ISW_TRAIN_DONE && tr.n == 4 && tr.step[3] == 30, "4 log points: %d", tr.n);
    for (int k = 1; k < p.m->n_traj; k++) { /* every metric but train_loss (fresh batches) */
        for (int i = 1; i < tr.n; i++)
            CHECK(tr.v[i][k] == tr.v[0][k], "lr 0: %s moved: %g -> %g", p.m->traj[k].name, tr.v[0][k], tr.v[i][k]);
        CHECK(final[k] == tr.v[tr.n - 1][k], "final %s is the last log point's", p.m->traj[k].name);
    }
    int ic = metric(p.m, "ic_acc"), score = metric(p.m, "ic_score"), iw = metric(p.m, "iw_acc");
    close_to(final[score], (final[ic] - 0.25) / 0.75, 1e-14, 1e-15, "ic_score", "from ic_acc and B/N");
    close_to(final[metric(p.m, "iw_score")], (final[iw] - 1.0 / 16) / (15.0 / 16), 1e-14, 1e-15, "iw_score",
             "from iw_acc and 1/L");
    CHECK(isnan(final[metric(p.m, "t_icl")]), "no jump without training");
}

/* t_icl, icl_width, icl_plateau by their definitions (docs/metrics.md) on a recorded trace. */
static void expected_transition(const trace *tr, int ic, double r, double out[3]) {
    double lo = r + 0.2 * (1 - r), hi = r + 0.8 * (1 - r), mid = (r + 1) / 2;
    out[0] = out[1] = out[2] = NAN;
    int i_hi = -1;
    for (int i = tr->n - 1; i >= 0; i--) {
        if (tr->v[i][ic] >= mid) out[0] = (double)tr->step[i];
        if (tr->v[i][ic] >= hi) i_hi = i;
    }
    for (int i = i_hi - 1; i >= 0; i--)
        if (tr->v[i][ic] < lo) {
            out[1] = (double)(tr->step[i_hi] - tr->step[i]);
            out[2] = tr->v[i][ic];
            break;
        }
}

static void test_learns(void) {
    point p = default_point("iccls");
    set(&p, "steps", 2500), set(&p, "n_test", 200);
    trace tr;
    double final[64], want[3];
    isw_train_result res = train(&p, 0x6453c9e59fc62dc9ULL, &tr, final);
    int ic = metric(p.m, "ic_acc");
    CHECK(res.status == ISW_TRAIN_DONE && tr.n == 26, "trained: %d log points", tr.n);
    CHECK(tr.v[0][ic] < 0.2 && final[ic] > 0.9, "the jump: ic_acc %g -> %g", tr.v[0][ic], final[ic]);
    CHECK(final[metric(p.m, "ic2_acc")] > 0.9, "ic2 follows ic: %g", final[metric(p.m, "ic2_acc")]);
    CHECK(final[metric(p.m, "iw_acc")] < 0.2, "iw near chance: %g", final[metric(p.m, "iw_acc")]);
    CHECK(final[metric(p.m, "ila1")] > 0.5 && final[metric(p.m, "tila2")] > 0.5, "an induction head: ila1 %g, tila2 %g",
          final[metric(p.m, "ila1")], final[metric(p.m, "tila2")]);
    expected_transition(&tr, ic, 0.25, want);
    const char *names[3] = {"t_icl", "icl_width", "icl_plateau"};
    for (int k = 0; k < 3; k++)
        CHECK(final[metric(p.m, names[k])] == want[k], "%s = %g, by its definition %g", names[k],
              final[metric(p.m, names[k])], want[k]);
    CHECK(want[0] > 500 && want[0] < 2500 && want[1] <= 500, "t_icl %g, width %g", want[0], want[1]);

    /* single precision: the same run, close to double over the first steps */
    set(&p, "steps", 200), set(&p, "log_every", 100);
    double f64[64], f32[64];
    train(&p, 3, &tr, f64);
    set(&p, "precision", ISW_ICCLS_float32);
    train(&p, 3, &tr, f32);
    for (int k = 0; k < p.m->n_traj; k++)
        CHECK(fabs(f64[k] - f32[k]) <= 0.02 + 1e-3 * fabs(f64[k]), "float32 %s %g vs float64 %g",
              p.m->traj[k].name, f32[k], f64[k]);
}

static void test_dead_classifier(void) {
    point p = default_point("iccls");
    set(&p, "lr", 1000), set(&p, "steps", 50), set(&p, "log_every", 10), set(&p, "n_test", 20);
    trace tr;
    double final[64];
    isw_train_result res = train(&p, 2, &tr, final);
    CHECK(res.status == ISW_TRAIN_DONE, "lr 1000: status %d (%s)", res.status, res.reason);
    CHECK(final[metric(p.m, "h3_active")] == 0.0, "a dead classifier: h3_active %g", final[metric(p.m, "h3_active")]);
    const char *losses[] = {"test_loss", "ic_loss", "ic2_loss", "iw_loss", "train_loss"};
    for (int i = 0; i < 5; i++)
        CHECK(fabs(final[metric(p.m, losses[i])] - log(16.0)) < 1e-12, "dead: %s %.17g = ln L", losses[i],
              final[metric(p.m, losses[i])]);
}

/* ---- the companion ----------------------------------------------------------------------- */

static void test_companion(void) {
    point p = default_point("iccls_companion");
    set(&p, "L", 4); /* = N/B: the saddle */
    set(&p, "log_every", 100);
    trace tr;
    double final[64];
    train(&p, 1, &tr, final);
    CHECK(isnan(final[metric(p.m, "t_icl")]) && final[metric(p.m, "loss")] == log(4.0),
          "L = N/B: stuck at ln L (t_icl %g, loss %.17g)", final[metric(p.m, "t_icl")], final[metric(p.m, "loss")]);
    set(&p, "L", 16);
    train(&p, 1, &tr, final);
    double t = final[metric(p.m, "t_icl")];
    CHECK(t > 100 && t < 5000 && final[metric(p.m, "loss")] < 0.05, "L > N/B jumps: t_icl %g, loss %g", t,
          final[metric(p.m, "loss")]);
    set(&p, "L", 5);
    train(&p, 1, &tr, final);
    CHECK(final[metric(p.m, "t_icl")] > t, "nearer the saddle, later: %g vs %g", final[metric(p.m, "t_icl")], t);
    point bad = default_point("iccls_companion");
    set(&bad, "L", 3);
    unsigned char cfg[256];
    isw_params_to_cfg(bad.m->params, bad.m->n_params, bad.vals, cfg);
    int blame = -1;
    char why[256];
    CHECK(bad.m->check(cfg, &blame, why, sizeof why) == ISW_EINPUT && !strcmp(bad.m->params[blame].name, "L"),
          "L < N/B blames L: %s", why);
}

int main(void) {
    test_known_case();
    test_constraints();
    test_lr_zero();
    test_learns();
    test_dead_classifier();
    test_companion();
    return check_report("test_iccls_train");
}
