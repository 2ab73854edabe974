/* Learning test of the concept model (docs/science.md sections 1.2 and 1.5, the defaults and
 * the paper's claims): at the default point of the parameter table, with either label map, the
 * model learns the paper's way (test 0-1 error under 1% early and near zero at the end, caw rising from its
 * tied-init head start to ~1, every concept's attention product b_k^T W_K^T W_Q b_k positive and
 * far above the cross-concept complement, the MLP aligning with d_k, OOD errors small); with
 * qk_init: independent, on a seed where it shows, the ablation's sign degeneracy (one concept
 * attends to the opposite polarity: caw stuck well below 1 while caw_sel is ~1, switched semantics
 * fail) while in-distribution error still falls. So a regression in either direction fails. Also:
 * the same seed gives bit-identical trajectories twice, and a huge lr is reported as diverged.
 *
 * By hand: build-dir/tests/test_concept_learn   (ICLSWEEP_VERBOSE=1 prints every log point)
 * Runs the real default point once (2000 steps, ~5 s in a Release build) and three shorter runs. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "iclsweep/models/concept_params.h"
#include "iclsweep/core/schedule.h"
#include "iclsweep/train/model.h"
#include "iclsweep/core/schedule.h"
#include "iclsweep/train/model.h"
#include "check.h"

#define MAX_LOG 4096
#define MAX_TRAJ 64
/* a seed on which qk_init: independent splits the concepts' signs (found by trying seeds 1, 2, ...:
 * 3 under rng/2, where seeds 1 and 2 give every concept the same sign; it was 2 under rng/1) */
#ifndef ABLATION_SEED
#define ABLATION_SEED 3
#endif

typedef struct {
    const isw_model *tr;
    int verbose;
    int64_t n, steps[MAX_LOG];
    double v[MAX_LOG][MAX_TRAJ];
} recorder;

static int record(void *ctx, int64_t index, int64_t step, const double *values) {
    recorder *rec = ctx;
    if (rec->n < MAX_LOG) {
        rec->steps[rec->n] = step;
        memcpy(rec->v[rec->n], values, sizeof(double) * (size_t)rec->tr->n_traj);
        rec->n++;
    }
    if (rec->verbose) {
        printf("step %5lld", (long long)step);
        for (int i = 0; i < rec->tr->n_traj; i++) printf(" %s=%.4g", rec->tr->traj[i].name, values[i]);
        printf("\n");
    }
    return 0;
}

static int metric(const isw_model *tr, const char *name, int final) {
    int n = final ? tr->n_final : tr->n_traj;
    const isw_metric_def *defs = final ? tr->final : tr->traj;
    for (int i = 0; i < n; i++)
        if (strcmp(defs[i].name, name) == 0) return i;
    return -1;
}

static isw_concept_cfg defaults(const isw_model *model) {
    double vals[128];
    isw_concept_cfg cfg;
    isw_params_defaults(model->params, model->n_params, vals);
    isw_params_to_cfg(model->params, model->n_params, vals, &cfg);
    return cfg;
}

static isw_train_result run(const isw_model *tr, const isw_concept_cfg *cfg, uint64_t seed,
                            recorder *rec, double *final) {
    isw_log_sink sink = {.ctx = rec, .on_log = record};
    isw_train_result res;
    isw_error err;
    isw_error_clear(&err);
    rec->n = 0;
    isw_status st = tr->train(cfg, seed, &sink, final, &res, &err);
    CHECK(st == ISW_OK, "train failed: %s", err.msg);
    return res;
}

/* Value of trajectory metric `name` at log point i (i < 0: the last), or final metric when final. */
static double at(const recorder *rec, const char *name, int64_t i) {
    int j = metric(rec->tr, name, 0);
    CHECK(j >= 0, "metric %s exists", name);
    return j < 0 ? NAN : rec->v[i < 0 ? rec->n - 1 : i][j];
}

static void print_summary(const char *what, const recorder *rec) {
    printf("%s: test_err %.4f -> %.4f (train %.4f), caw %.3f -> %.4f, caw_sel %.3f -> %.4f,\n"
           "  attn concept %.2f -> %.2f (min over k %.2f -> %.2f), complement %.2f -> %.2f,"
           " noise %.2f -> %.2f,\n  mlp concept %.2f -> %.2f, OOD short %.4f long %.4f skew %.4f"
           " switch %.4f cross %.4f\n",
           what, at(rec, "test_err", 0), at(rec, "test_err", -1), at(rec, "train_err", -1),
           at(rec, "caw", 0), at(rec, "caw", -1), at(rec, "caw_sel", 0), at(rec, "caw_sel", -1),
           at(rec, "attn_concept", 0), at(rec, "attn_concept", -1), at(rec, "attn_concept_min", 0),
           at(rec, "attn_concept_min", -1), at(rec, "attn_complement", 0),
           at(rec, "attn_complement", -1), at(rec, "attn_noise", 0), at(rec, "attn_noise", -1),
           at(rec, "mlp_concept", 0), at(rec, "mlp_concept", -1), at(rec, "ood_short_err", -1),
           at(rec, "ood_long_err", -1), at(rec, "ood_skew_err", -1), at(rec, "ood_switch_err", -1),
           at(rec, "ood_cross_err", -1));
}

/* The claims every tied-init run at the default point must show by its last log point. */
static void check_paper_mechanism(const recorder *rec, double err_bound, double ood_bound) {
    CHECK(at(rec, "test_err", 0) > 0.3, "starts near chance: %g", at(rec, "test_err", 0));
    CHECK(at(rec, "test_err", -1) <= err_bound, "test error %g <= %g", at(rec, "test_err", -1), err_bound);
    CHECK(fabs(at(rec, "train_err", -1) - at(rec, "test_err", -1)) < 0.01, "train and test agree");
    /* the tied init's head start: attention already slightly favours the query's polarity */
    CHECK(at(rec, "caw", 0) > 0.6 && at(rec, "caw", 0) < 0.8, "caw starts at %g", at(rec, "caw", 0));
    CHECK(at(rec, "caw", -1) > 0.95, "caw rises to %g", at(rec, "caw", -1));
    CHECK(fabs(at(rec, "caw_sel", -1) - at(rec, "caw", -1)) < 0.01, "caw_sel equals caw: not degenerate");
    CHECK(at(rec, "attn_concept_min", -1) > 0, "every concept attends to its query's polarity: min %g",
          at(rec, "attn_concept_min", -1));
    CHECK(at(rec, "attn_concept_min", -1) > 3 * at(rec, "attn_concept_min", 0), "concept products grow");
    CHECK(at(rec, "attn_concept_min", -1) > 4 * at(rec, "attn_complement", -1),
          "concept product %g far above the complement %g", at(rec, "attn_concept_min", -1),
          at(rec, "attn_complement", -1));
    CHECK(at(rec, "mlp_concept", -1) > at(rec, "mlp_concept", 0) + 0.3, "MLP aligns with d_k");
    CHECK(at(rec, "ood_short_err", -1) < 0.15, "short prompts %g", at(rec, "ood_short_err", -1));
    const char *ood[] = {"ood_long_err", "ood_skew_err", "ood_switch_err", "ood_cross_err"};
    for (int i = 0; i < 4; i++)
        CHECK(at(rec, ood[i], -1) <= ood_bound, "%s %g <= %g", ood[i], at(rec, ood[i], -1), ood_bound);
}

static void test_default_learns(const isw_model *tr, recorder *rec) {
    isw_concept_cfg cfg = defaults(tr);
    double final[128];
    isw_train_result res = run(tr, &cfg, 20241122, rec, final);
    CHECK(res.status == ISW_TRAIN_DONE, "status %d (%s)", res.status, res.reason);
    CHECK(rec->n == isw_log_points(cfg.steps, cfg.log_every), "log points %lld", (long long)rec->n);
    print_summary("default point (random label map)", rec);
    printf("  first step < 1%%: %g, decay rate %.4g /step (x%.2f per 10 steps)\n",
           final[metric(tr, "step_err_below_1pct", 1)], final[metric(tr, "test_err_decay", 1)],
           exp(-10 * final[metric(tr, "test_err_decay", 1)]));
    check_paper_mechanism(rec, 0.002, 0.002);
    CHECK(final[metric(tr, "step_err_below_1pct", 1)] <= 200, "test error < 1%% by step 200: %g",
          final[metric(tr, "step_err_below_1pct", 1)]);
    CHECK(final[metric(tr, "test_err_decay", 1)] > 0.01, "exponential phase faster than x0.9 per 10 steps");
    for (int i = 0; i < tr->n_final; i++)
        CHECK(isfinite(final[i]), "final %s = %g", tr->final[i].name, final[i]);
}

/* The fixed label map at the default point, over a shorter run. */
static void test_fixed_map_learns(const isw_model *tr, recorder *rec) {
    isw_concept_cfg cfg = defaults(tr);
    cfg.label_map = 1; /* fixed */
    cfg.steps = 600;
    cfg.n_test = 1024;
    double final[128];
    run(tr, &cfg, 20241122, rec, final);
    print_summary("fixed label map, 600 steps", rec);
    check_paper_mechanism(rec, 0.005, 0.005);
}

/* qk_init: independent on a seed where the degeneracy shows: one concept picks the opposite sign,
 * so caw stays well below 1 although attention is selective and the training set is fit, and
 * switched semantics fail. */
static void test_ablation_degenerate(const isw_model *tr, recorder *rec) {
    isw_concept_cfg cfg = defaults(tr);
    cfg.qk_init = ISW_QK_independent;
    cfg.steps = 600;
    cfg.n_test = 1024;
    double final[128];
    run(tr, &cfg, ABLATION_SEED, rec, final);
    print_summary("qk_init independent, 600 steps", rec);
    CHECK(at(rec, "test_err", -1) < 0.01, "the ablation still fits: test error %g", at(rec, "test_err", -1));
    CHECK(at(rec, "attn_concept_min", -1) < 0 && at(rec, "attn_concept", -1) > 0,
          "signs split across concepts: min %g, max %g", at(rec, "attn_concept_min", -1),
          at(rec, "attn_concept", -1));
    CHECK(at(rec, "caw", -1) < 0.9 && at(rec, "caw_sel", -1) > 0.95, "caw %g stuck, caw_sel %g selective",
          at(rec, "caw", -1), at(rec, "caw_sel", -1));
    CHECK(at(rec, "ood_switch_err", -1) > 0.2, "switched semantics fail: %g", at(rec, "ood_switch_err", -1));
}

static void test_bit_identical(const isw_model *tr, recorder *a, recorder *b) {
    isw_concept_cfg cfg = defaults(tr);
    cfg.steps = 40;
    cfg.log_every = 10;
    cfg.n_test = 256;
    double fa[128], fb[128];
    run(tr, &cfg, 7, a, fa);
    run(tr, &cfg, 7, b, fb);
    CHECK(a->n == b->n && a->n == 5, "same log points: %lld vs %lld", (long long)a->n, (long long)b->n);
    CHECK(memcmp(a->v, b->v, sizeof(a->v[0]) * (size_t)a->n) == 0, "bit-identical trajectories");
    CHECK(memcmp(fa, fb, sizeof(double) * (size_t)tr->n_final) == 0, "bit-identical final metrics");
    run(tr, &cfg, 8, b, fb);
    CHECK(memcmp(a->v[1], b->v[1], sizeof(a->v[0])) != 0, "another seed differs");
}

static void test_divergence(const isw_model *tr, recorder *rec) {
    isw_concept_cfg cfg = defaults(tr);
    cfg.steps = 200;
    cfg.n_test = 64;
    /* no lr inside the table's range overflows this model (logistic loss and ReLU stay finite), so
     * force it past the range: weights reach ~1e300 after one step and the forward overflows */
    cfg.lr = 1e300;
    double final[128];
    isw_train_result res = run(tr, &cfg, 3, rec, final);
    printf("huge lr: status %d at step %lld (%s)\n", res.status, (long long)res.step, res.reason);
    CHECK(res.status == ISW_TRAIN_DIVERGED, "huge lr diverges, status %d", res.status);
    CHECK(strstr(res.reason, "step") != NULL, "reason names the step: %s", res.reason);
}

int main(void) {
    const isw_model *tr = isw_model_find("concept");
    CHECK(tr != NULL, "concept trainer registered");
    if (!tr) return check_report("test_concept_learn");
    static recorder a, b;
    a.tr = b.tr = tr;
    a.verbose = getenv("ICLSWEEP_VERBOSE") != NULL;
    test_bit_identical(tr, &a, &b);
    test_divergence(tr, &b);
    test_default_learns(tr, &a);
    test_fixed_map_learns(tr, &a);
    test_ablation_degenerate(tr, &a);
    return check_report("test_concept_learn");
}
