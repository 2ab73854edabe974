/* linattn trainer: the Gram path and the samples path give the same trajectory (every logged
 * metric at every log point, and the final metrics) for each optimizer and both
 * parameterizations; a run whose energy blows up ends DIVERGED with its step, never a crash;
 * a sink that asks to stop gets STOPPED.
 *
 * Run by hand: OPENBLAS_NUM_THREADS=1 build-linattn/tests/test_linattn_paths */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "iclsweep/core/schedule.h"
#include "iclsweep/models/linattn_params.h"
#include "iclsweep/train/model.h"
#include "iclsweep/train/model.h"

#define MAX_LOG 64
#define MAX_M 64

typedef struct {
    int n_traj;
    int64_t n;
    int64_t steps[MAX_LOG];
    double v[MAX_LOG][MAX_M];
    int stop_at; /* ask to stop at this log index (-1: never) */
} rec_t;

static int on_log(void *ctx, int64_t index, int64_t step, const double *values) {
    rec_t *r = ctx;
    if (r->n < MAX_LOG) {
        r->steps[r->n] = step;
        memcpy(r->v[r->n], values, r->n_traj * sizeof(double));
    }
    r->n++;
    return r->stop_at >= 0 && index >= r->stop_at;
}

static isw_linattn_cfg base_cfg(void) {
    const isw_model *m = isw_model_find("linattn");
    double vals[64];
    isw_linattn_cfg c;
    isw_params_defaults(m->params, m->n_params, vals);
    isw_params_to_cfg(m->params, m->n_params, vals, &c);
    c.D = 4, c.N = 12, c.P = 60, c.P_test = 200, c.steps = 300, c.log_every = 25;
    return c;
}

static isw_train_result run(const isw_linattn_cfg *c, uint64_t seed, rec_t *rec, double *final) {
    const isw_model *t = isw_model_find("linattn");
    isw_log_sink sink = {.ctx = rec, .on_log = on_log};
    isw_train_result res;
    isw_error err = {0};
    memset(rec, 0, sizeof *rec);
    rec->n_traj = t->n_traj;
    rec->stop_at = -1;
    isw_status st = t->train(c, seed, &sink, final, &res, &err);
    CHECK(st == ISW_OK, "train failed: %s", err.msg);
    return res;
}

static int same(double a, double b, double rtol) {
    if (isnan(a) && isnan(b)) return 1;
    if (isinf(a) && isinf(b)) return a == b;
    return fabs(a - b) <= rtol * fmax(fabs(a), fabs(b)) + 1e-12;
}

static void check_paths(isw_linattn_cfg c, const char *what) {
    const isw_model *t = isw_model_find("linattn");
    static rec_t rg, rs;
    double fg[MAX_M], fs[MAX_M];
    c.grad_path = 1; /* gram */
    isw_train_result a = run(&c, 77, &rg, fg);
    c.grad_path = 2; /* samples */
    isw_train_result b = run(&c, 77, &rs, fs);
    CHECK(a.status == ISW_TRAIN_DONE && b.status == ISW_TRAIN_DONE, "%s: status %d %d", what, a.status, b.status);
    CHECK(rg.n == isw_log_points(c.steps, c.log_every) && rg.n == rs.n, "%s: %lld vs %lld log points", what,
          (long long)rg.n, (long long)rs.n);
    double worst = 0.0;
    int bad = 0;
    for (int64_t i = 0; i < rg.n && i < MAX_LOG; i++)
        for (int k = 0; k < t->n_traj; k++) {
            double x = rg.v[i][k], y = rs.v[i][k];
            if (!same(x, y, 1e-8)) bad++;
            if (isfinite(x) && fabs(x - y) / fmax(fabs(x), 1e-12) > worst) worst = fabs(x - y) / fmax(fabs(x), 1e-12);
        }
    for (int k = 0; k < t->n_final; k++) {
        if (strcmp(t->final[k].name, "gram_path") == 0) {
            CHECK(fg[k] == 1 && fs[k] == 0, "%s: gram_path %g %g", what, fg[k], fs[k]);
            continue;
        }
        if (!same(fg[k], fs[k], 1e-8)) {
            bad++;
            fprintf(stderr, "%s: final %s %.17g vs %.17g\n", what, t->final[k].name, fg[k], fs[k]);
        }
    }
    printf("%s: gram vs samples over %lld log points, max rel diff %.3g, final train_loss %.6g\n", what,
           (long long)rg.n, worst, fg[0]);
    CHECK(bad == 0, "%s: %d values differ between the gram and samples paths", what, bad);
}

int main(void) {
    isw_linattn_cfg c = base_cfg();
    check_paths(c, "adam merged");
    c.optimizer = 1, c.lr = 0.05, c.weight_decay = 0.01;
    check_paths(c, "gd merged wd");
    c.optimizer = 3, c.T = 0.01, c.lr = 0.02;
    check_paths(c, "langevin merged");
    c = base_cfg();
    c.param = 1, c.dk = 3, c.M = 8, c.corr = 0.3, c.label_noise = 0.1;
    check_paths(c, "adam factored pool");

    /* divergence: gd with a huge step */
    rec_t rec;
    double f[MAX_M];
    c = base_cfg();
    c.optimizer = 1, c.lr = 1e3;
    isw_train_result r = run(&c, 5, &rec, f);
    printf("gd lr=1e3: status %d at step %lld (%s)\n", r.status, (long long)r.step, r.reason);
    CHECK(r.status == ISW_TRAIN_DIVERGED && r.step > 0 && r.step < c.steps, "expected DIVERGED, got %d", r.status);
    CHECK(isnan(f[0]), "final train_loss of a diverged run should be NaN");
    /* sgd with minibatches runs and improves */
    c = base_cfg();
    c.optimizer = 2, c.batch = 16, c.lr = 0.05;
    r = run(&c, 6, &rec, f);
    CHECK(r.status == ISW_TRAIN_DONE && f[0] < rec.v[0][0], "sgd: status %d, loss %g -> %g", r.status, rec.v[0][0], f[0]);
    /* stop request */
    const isw_model *t = isw_model_find("linattn");
    isw_error err = {0};
    memset(&rec, 0, sizeof rec);
    rec.n_traj = t->n_traj, rec.stop_at = 2;
    isw_log_sink sink = {.ctx = &rec, .on_log = on_log};
    CHECK(t->train(&c, 6, &sink, f, &r, &err) == ISW_OK && r.status == ISW_TRAIN_STOPPED && rec.n == 3,
          "stop: status %d after %lld log points", r.status, (long long)rec.n);
    return check_report("test_linattn_paths");
}
