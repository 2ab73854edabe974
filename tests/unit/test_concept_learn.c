/* Learning test of the concept model: the default point of the parameter table learns (test 0-1
 * error under 1% within the default steps, with caw rising), and the same seed gives bit-identical
 * trajectories twice.
 *
 * By hand: build-dir/tests/test_concept_learn   (ICLSWEEP_VERBOSE=1 prints every log point)
 * Runs the real defaults once (~10 s in a Release build) and a short run twice. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "iclsweep/concept_params.h"
#include "iclsweep/model.h"
#include "iclsweep/train.h"
#include "check.h"

#define MAX_LOG 4096
#define MAX_TRAJ 64

typedef struct {
    const isw_trainer *tr;
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

static int metric(const isw_trainer *tr, const char *name, int final) {
    int n = final ? tr->n_final : tr->n_traj;
    const isw_metric_def *defs = final ? tr->final : tr->traj;
    for (int i = 0; i < n; i++)
        if (strcmp(defs[i].name, name) == 0) return i;
    return -1;
}

static isw_concept_cfg defaults(const isw_model_info *model) {
    double vals[128];
    isw_concept_cfg cfg;
    isw_params_defaults(model->params, model->n_params, vals);
    isw_params_to_cfg(model->params, model->n_params, vals, &cfg);
    return cfg;
}

static isw_train_result run(const isw_trainer *tr, const isw_concept_cfg *cfg, uint64_t seed,
                            recorder *rec, double *final) {
    isw_log_sink sink = {rec, record};
    isw_train_result res;
    isw_error err;
    isw_error_clear(&err);
    rec->n = 0;
    isw_status st = tr->train(cfg, seed, &sink, final, &res, &err);
    CHECK(st == ISW_OK, "train failed: %s", err.msg);
    return res;
}

static void test_default_learns(const isw_trainer *tr, recorder *rec) {
    isw_concept_cfg cfg = defaults(tr->model);
    double final[128];
    isw_train_result res = run(tr, &cfg, 20241122, rec, final);
    CHECK(res.status == ISW_TRAIN_DONE, "status %d (%s)", res.status, res.reason);
    CHECK(rec->n == isw_log_points(cfg.steps, cfg.log_every), "log points %lld", (long long)rec->n);
    int te = metric(tr, "test_err", 0), caw = metric(tr, "caw", 0), sel = metric(tr, "caw_sel", 0);
    double e_end = final[metric(tr, "test_err", 1)];
    printf("default point: test_err %.4f -> %.4f, caw %.3f -> %.3f, caw_sel %.3f -> %.3f, "
           "first step < 1%%: %g, decay rate %.4g /step\n",
           rec->v[0][te], e_end, rec->v[0][caw], final[metric(tr, "caw", 1)], rec->v[0][sel],
           final[metric(tr, "caw_sel", 1)],
           final[metric(tr, "step_err_below_1pct", 1)], final[metric(tr, "test_err_decay", 1)]);
    CHECK(rec->v[0][te] > 0.3, "starts near chance: %g", rec->v[0][te]);
    CHECK(e_end < 0.01, "default point reaches test error < 1%%: %g", e_end);
    /* attention becomes selective: per (concept, label map) it puts its mass on one polarity */
    CHECK(rec->v[0][sel] < 0.6 && final[metric(tr, "caw_sel", 1)] > 0.9, "caw_sel rises");
    CHECK(isfinite(final[metric(tr, "step_err_below_1pct", 1)]), "step below 1%% recorded");
    CHECK(final[metric(tr, "test_err_decay", 1)] > 0, "exponential phase has a positive decay rate");
    for (int i = 0; i < tr->n_final; i++)
        CHECK(isfinite(final[i]), "final %s = %g", tr->final[i].name, final[i]);
}

static void test_bit_identical(const isw_trainer *tr, recorder *a, recorder *b) {
    isw_concept_cfg cfg = defaults(tr->model);
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

static void test_divergence(const isw_trainer *tr, recorder *rec) {
    isw_concept_cfg cfg = defaults(tr->model);
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
    const isw_trainer *tr = isw_trainer_find("concept");
    CHECK(tr != NULL, "concept trainer registered");
    if (!tr) return check_report("test_concept_learn");
    static recorder a, b;
    a.tr = b.tr = tr;
    a.verbose = getenv("ICLSWEEP_VERBOSE") != NULL;
    test_bit_identical(tr, &a, &b);
    test_divergence(tr, &b);
    test_default_learns(tr, &a);
    return check_report("test_concept_learn");
}
