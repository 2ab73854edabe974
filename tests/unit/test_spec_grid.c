/* Grid expansion and task identity: the spec against a naive product written here.
 * Covers grid products, zip groups (crossed with the grid), generated ranges, replicates,
 * skip_invalid, identity and seed stability when axes grow or are reordered, and the task limit.
 * Run by hand: build/test_spec_grid */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "iclsweep/models/concept_params.h"
#include "iclsweep/spec/spec.h"

static int parse(const char *text, isw_sweep *sw, isw_error *err) {
    return isw_sweep_parse(text, (long)strlen(text), "test.yaml", 0, sw, err);
}

static double value_of(const isw_sweep *sw, const double *vals, const char *name) {
    return vals[isw_param_find(sw->model->params, sw->model->n_params, name)];
}

static void test_product_matches_naive_loops(void) {
    const char *text = "model: concept\nseed: 3\nreplicates: 2\n"
                       "grid:\n  K: [2, 4, 8]\n  noise: [0.0, 0.1]\n  lr: [1, 5]\n";
    isw_sweep sw;
    isw_error err;
    CHECK(parse(text, &sw, &err) == ISW_OK, "%s", err.msg);
    CHECK(sw.n_tasks == 24, "3 x 2 x 2 x 2 replicates = 24, got %lld", (long long)sw.n_tasks);
    const double Ks[] = {2, 4, 8}, noises[] = {0.0, 0.1}, lrs[] = {1, 5};
    double vals[64];
    int64_t t = 0;
    for (int a = 0; a < 3; a++)
        for (int b = 0; b < 2; b++)
            for (int c = 0; c < 2; c++)
                for (int r = 0; r < 2; r++, t++) {
                    isw_task task;
                    isw_sweep_task(&sw, t, &task, vals);
                    CHECK(value_of(&sw, vals, "K") == Ks[a] && value_of(&sw, vals, "noise") == noises[b] &&
                              value_of(&sw, vals, "lr") == lrs[c] && task.replicate == r,
                          "task %lld resolved to K=%g noise=%g lr=%g rep=%lld", (long long)t,
                          value_of(&sw, vals, "K"), value_of(&sw, vals, "noise"),
                          value_of(&sw, vals, "lr"), (long long)task.replicate);
                    CHECK(value_of(&sw, vals, "d") == 64, "unset d keeps its default");
                }
    isw_sweep_free(&sw);
}

static void test_zip_crossed_with_grid(void) {
    const char *text = "model: concept\ngrid: {K: [2, 4]}\nzip:\n  d: [32, 64, 128]\n  width: [8, 16, 32]\n";
    isw_sweep sw;
    isw_error err;
    CHECK(parse(text, &sw, &err) == ISW_OK, "%s", err.msg);
    CHECK(sw.n_tasks == 6, "2 x 3 zipped = 6, got %lld", (long long)sw.n_tasks);
    double vals[64];
    for (int64_t t = 0; t < sw.n_tasks; t++) {
        isw_task task;
        isw_sweep_task(&sw, t, &task, vals);
        double d = value_of(&sw, vals, "d"), w = value_of(&sw, vals, "width");
        CHECK(w * 4 == d, "zipped d and width must move together: d=%g width=%g", d, w);
        CHECK(value_of(&sw, vals, "K") == (t < 3 ? 2 : 4), "K of task %lld", (long long)t);
    }
    isw_sweep_free(&sw);

    const char *groups = "model: concept\nzip:\n  - {d: [32, 64], width: [8, 16]}\n"
                         "  - {lr: [1, 2, 3], init: [0.1, 0.2, 0.3]}\n";
    CHECK(parse(groups, &sw, &err) == ISW_OK, "%s", err.msg);
    CHECK(sw.n_tasks == 6 && sw.n_dims == 2, "two zip groups cross: 2 x 3, got %lld",
          (long long)sw.n_tasks);
    for (int64_t t = 0; t < sw.n_tasks; t++) {
        isw_task task;
        isw_sweep_task(&sw, t, &task, vals);
        CHECK(fabs(value_of(&sw, vals, "init") * 10 - value_of(&sw, vals, "lr")) < 1e-12,
              "lr and init zipped");
    }
    isw_sweep_free(&sw);

    /* A zip list may repeat values as long as the tuples differ (D x P grids of a phase plot). */
    const char *repeats = "model: linattn\nzip:\n  D: [10, 10, 20, 20]\n  P: [100, 200, 400, 800]\n";
    CHECK(parse(repeats, &sw, &err) == ISW_OK && sw.n_tasks == 4, "%s", err.msg);
    isw_sweep_free(&sw);
}

static void axis_values(const char *axis, const char *param, double *out, int64_t *n) {
    char text[512];
    snprintf(text, sizeof text, "model: concept\ngrid:\n  %s: %s\n", param, axis);
    isw_sweep sw;
    isw_error err;
    *n = 0;
    if (parse(text, &sw, &err) != ISW_OK) {
        CHECK(0, "%s: %s", axis, err.msg);
        return;
    }
    *n = sw.dims[0].n;
    memcpy(out, sw.axes[0].values, (size_t)*n * sizeof *out);
    isw_sweep_free(&sw);
}

static void test_generated_ranges(void) {
    double v[16];
    int64_t n;
    axis_values("{linspace: [0, 1, 5]}", "noise", v, &n);
    CHECK(n == 5 && v[0] == 0 && v[1] == 0.25 && v[2] == 0.5 && v[4] == 1, "linspace [0,1,5]");
    axis_values("{geomspace: [1, 1000, 4]}", "lr", v, &n);
    CHECK(n == 4 && v[0] == 1 && v[3] == 1000, "geomspace endpoints exact");
    CHECK_CLOSE(v[1], 10, 1e-12, 0, "geomspace middle");
    CHECK_CLOSE(v[2], 100, 1e-12, 0, "geomspace middle");
    axis_values("{range: [2, 10, 4]}", "K", v, &n);
    CHECK(n == 3 && v[0] == 2 && v[1] == 6 && v[2] == 10, "range includes hi");
    axis_values("{range: [10, 3, -4]}", "K", v, &n);
    CHECK(n == 2 && v[0] == 10 && v[1] == 6, "descending range");
    axis_values("{geomspace: [100, 1000, 3]}", "steps", v, &n);
    CHECK(n == 3 && v[0] == 100 && v[1] == 316 && v[2] == 1000, "integer geomspace rounds: %g", v[1]);
    axis_values("{linspace: [0.5, 0.5, 1]}", "noise", v, &n);
    CHECK(n == 1 && v[0] == 0.5, "linspace with n = 1 is lo");
}

/* skip_invalid drops exactly the points a naive check of d >= 2K + K_irr rejects. */
static void test_skip_invalid_counts(void) {
    const char *text = "model: concept\nskip_invalid: true\nreplicates: 3\n"
                       "grid:\n  d: [8, 16, 24, 32]\n  K: [1, 2, 4, 8]\n  K_irr: [0, 4, 8]\n";
    isw_sweep sw;
    isw_error err;
    CHECK(parse(text, &sw, &err) == ISW_OK, "%s", err.msg);
    int valid = 0;
    const int ds[] = {8, 16, 24, 32}, Ks[] = {1, 2, 4, 8}, irr[] = {0, 4, 8};
    for (int a = 0; a < 4; a++)
        for (int b = 0; b < 4; b++)
            for (int c = 0; c < 3; c++) valid += ds[a] >= 2 * Ks[b] + irr[c];
    CHECK(sw.n_points == 48 && sw.n_valid == valid && sw.n_tasks == 3 * valid,
          "naive valid count %d, spec %lld of %lld", valid, (long long)sw.n_valid, (long long)sw.n_points);
    double vals[64];
    for (int64_t t = 0; t < sw.n_tasks; t++) {
        isw_task task;
        isw_sweep_task(&sw, t, &task, vals);
        CHECK(value_of(&sw, vals, "d") >= 2 * value_of(&sw, vals, "K") + value_of(&sw, vals, "K_irr"),
              "task %lld is invalid", (long long)t);
    }
    isw_sweep_free(&sw);
}

/* Returns the index of the task of big with the same key as task t of small, or -1; also checks
 * that the seeds agree. */
static int64_t find_key(const isw_sweep *big, uint64_t key, uint64_t seed) {
    double vals[64];
    for (int64_t u = 0; u < big->n_tasks; u++) {
        isw_task task;
        isw_sweep_task(big, u, &task, vals);
        if (task.key == key) {
            CHECK(task.seed == seed, "same identity, different seed");
            return u;
        }
    }
    return -1;
}

static void test_identity_stable_under_growth(void) {
    const char *small = "model: concept\nseed: 9\nreplicates: 2\nfixed: {L: 8}\n"
                        "grid:\n  K: [2, 4]\n  noise: [0.01, 0.1]\n";
    const char *grown = "model: concept\nseed: 9\nreplicates: 3\nfixed: {L: 8}\n"
                        "grid:\n  noise: [0.001, 0.01, 0.1, 0.5]\n  K: [1, 2, 3, 4]\n";
    isw_sweep a, b;
    isw_error err;
    CHECK(parse(small, &a, &err) == ISW_OK, "%s", err.msg);
    CHECK(parse(grown, &b, &err) == ISW_OK, "%s", err.msg);
    double vals[64];
    for (int64_t t = 0; t < a.n_tasks; t++) {
        isw_task task;
        isw_sweep_task(&a, t, &task, vals);
        CHECK(find_key(&b, task.key, task.seed) >= 0,
              "task %lld of the small sweep lost its identity when axes grew", (long long)t);
    }
    /* Distinct tasks have distinct identities. */
    for (int64_t t = 0; t < b.n_tasks; t++) {
        isw_task x;
        isw_sweep_task(&b, t, &x, vals);
        for (int64_t u = t + 1; u < b.n_tasks; u++) {
            isw_task y;
            isw_sweep_task(&b, u, &y, vals);
            CHECK(x.key != y.key && x.seed != y.seed, "tasks %lld and %lld collide", (long long)t,
                  (long long)u);
        }
    }
    isw_sweep_free(&a);
    isw_sweep_free(&b);

    /* A value set under fixed is the same task as the same value as a one-value grid axis, and
     * as the default when it equals the default. */
    const char *x1 = "model: concept\nfixed: {K: 4, L: 16}\n";
    const char *x2 = "model: concept\ngrid: {K: [4], L: [16]}\n";
    const char *x3 = "model: concept\n";
    isw_sweep s1, s2, s3;
    CHECK(parse(x1, &s1, &err) == ISW_OK && parse(x2, &s2, &err) == ISW_OK && parse(x3, &s3, &err) == ISW_OK,
          "%s", err.msg);
    isw_task t1, t2, t3;
    isw_sweep_task(&s1, 0, &t1, vals);
    isw_sweep_task(&s2, 0, &t2, vals);
    isw_sweep_task(&s3, 0, &t3, vals);
    CHECK(t1.key == t2.key && t2.key == t3.key, "where a value is set must not change identity");
    isw_sweep_free(&s1);
    isw_sweep_free(&s2);
    isw_sweep_free(&s3);

    /* The sweep seed changes seeds, not identities. */
    const char *seeded = "model: concept\nseed: 10\nreplicates: 2\nfixed: {L: 8}\n"
                         "grid:\n  K: [2, 4]\n  noise: [0.01, 0.1]\n";
    CHECK(parse(small, &a, &err) == ISW_OK && parse(seeded, &b, &err) == ISW_OK, "%s", err.msg);
    isw_sweep_task(&a, 0, &t1, vals);
    isw_sweep_task(&b, 0, &t2, vals);
    CHECK(t1.key == t2.key && t1.seed != t2.seed, "sweep seed must move seeds only");
    isw_sweep_free(&a);
    isw_sweep_free(&b);
}

/* The identity text is pinned: a change to it would orphan every existing result file. */
static void test_identity_text_pinned(void) {
    isw_sweep sw;
    isw_error err;
    CHECK(parse("model: linattn\nfixed: {D: 10}\n", &sw, &err) == ISW_OK, "%s", err.msg);
    double vals[64];
    isw_task task;
    isw_sweep_task(&sw, 0, &task, vals);
    char text[4096];
    isw_task_canon_text(sw.model, sw.canon_order, vals, 0, text, sizeof text);
    CHECK(strncmp(text, "model=linattn\nD=10\nM=0\nN=100\nP=1000\nP_test=1000\nT=0\n", 52) == 0,
          "canonical text starts: %.80s", text);
    CHECK(strstr(text, "lr=0.01\n") && strstr(text, "optimizer=adam\n") && strstr(text, "replicate=0\n"),
          "canonical values: %s", text);
    isw_sweep_free(&sw);
}

static void test_task_limit(void) {
    isw_sweep sw;
    isw_error err;
    /* 100^5 = 1e10 points: refused from the axis sizes alone. */
    const char *huge = "model: concept\ngrid:\n  noise: {linspace: [0, 1, 100]}\n"
                       "  lr: {linspace: [1, 2, 100]}\n  init: {linspace: [0.1, 1, 100]}\n"
                       "  p_poly: {linspace: [0, 1, 100]}\n  p_irr: {linspace: [0, 1, 100]}\n";
    CHECK(parse(huge, &sw, &err) == ISW_EINPUT && strstr(err.msg, "exceed the limit of 10000000"),
          "1e10 tasks must be refused: %s", err.msg);
    CHECK(strstr(err.msg, "test.yaml:2:1: grid:") != NULL, "limit message names the grid: %s", err.msg);
    /* 1e6 tasks pass, resolve lazily, and the limit is configurable both ways. */
    const char *million = "model: concept\nreplicates: 10\ngrid:\n  noise: {linspace: [0, 1, 100]}\n"
                          "  lr: {linspace: [1, 2, 100]}\n  init: {linspace: [0.1, 1, 10]}\n";
    CHECK(parse(million, &sw, &err) == ISW_OK && sw.n_tasks == 1000000, "%s", err.msg);
    double vals[64];
    isw_task task;
    isw_sweep_task(&sw, 999999, &task, vals);
    CHECK(task.replicate == 9 && value_of(&sw, vals, "init") == 1 && value_of(&sw, vals, "lr") == 2,
          "last task of a million resolves");
    isw_sweep_free(&sw);
    CHECK(isw_sweep_parse(million, (long)strlen(million), "m.yaml", 999999, &sw, &err) == ISW_EINPUT,
          "--max-tasks 999999 refuses 1e6 tasks");
}

/* {geomspace: [0.01, 1, 5]} started at 0.010000000000000004, so `noise == 0.01` found nothing and
 * the point's identity differed from a literal 0.01 (issue 8). Ranges now equal numpy's portable
 * output bit for bit; the values below were printed by numpy 1.24 (float.hex), and
 * tests/e2e/test_ranges.py compares against numpy itself on many random ranges. */
static void test_ranges_are_numpys(void) {
    double v[16];
    int64_t n;
    const double geom[] = {0x1.47ae147ae147bp-7, 0x1.030dc4ea03a72p-5, 0x1.999999999999ap-4,
                           0x1.43d136248490fp-2, 0x1p+0};
    axis_values("{geomspace: [0.01, 1, 5]}", "noise", v, &n);
    CHECK(n == 5 && v[0] == 0.01, "first value %.17g, want 0.01 exactly", v[0]);
    for (int i = 0; i < 5 && n == 5; i++) CHECK(v[i] == geom[i], "geomspace[%d] = %a, numpy %a", i, v[i], geom[i]);
    const double geom2[] = {0x1.0624dd2f1a9fcp-10, 0x1.9e7c6e43390b7p-9, 0x1.47ae147ae147bp-7,
                            0x1.030dc4ea03a72p-5, 0x1.999999999999ap-4};
    axis_values("{geomspace: [0.001, 0.1, 5]}", "noise", v, &n);
    for (int i = 0; i < 5 && n == 5; i++) CHECK(v[i] == geom2[i], "geomspace[%d] = %a, numpy %a", i, v[i], geom2[i]);
    /* numpy.linspace(0, 1, 11): i * 0.1 + 0, so 0.30000000000000004 and 0.6000000000000001. */
    axis_values("{linspace: [0, 1, 11]}", "noise", v, &n);
    CHECK(n == 11 && v[3] == 0x1.3333333333334p-2 && v[6] == 0x1.3333333333334p-1 && v[10] == 1,
          "linspace [0, 1, 11]: %a %a %a", v[3], v[6], v[10]);
    /* numpy.linspace(0.1, 0.7, 4) = [0.1, 0x1.3333333333333p-2, 0x1p-1, 0.7]: i * step + 0.1,
     * step = (0.7 - 0.1) / 3, each operation rounded. */
    axis_values("{linspace: [0.1, 0.7, 4]}", "noise", v, &n);
    CHECK(n == 4 && v[0] == 0.1 && v[1] == 0x1.3333333333333p-2 && v[2] == 0x1p-1 && v[3] == 0.7,
          "linspace [0.1, 0.7, 4]: %a %a", v[1], v[2]);

    /* A point's identity does not depend on how its value was written. */
    isw_sweep a, b;
    isw_error err;
    CHECK(parse("model: concept\ngrid: {noise: {geomspace: [0.01, 1, 5]}}\n", &a, &err) == ISW_OK &&
              parse("model: concept\ngrid: {noise: [0.01, 0.03162277660168379, 0.1, "
                    "0.31622776601683794, 1]}\n", &b, &err) == ISW_OK,
          "%s", err.msg);
    double vals[64];
    for (int64_t t = 0; t < 5; t++) {
        isw_task x, y;
        isw_sweep_task(&a, t, &x, vals);
        isw_sweep_task(&b, t, &y, vals);
        CHECK(x.key == y.key && x.seed == y.seed, "task %lld: geomspace and literal identities differ", (long long)t);
    }
    isw_sweep_free(&a);
    isw_sweep_free(&b);
}

/* -0.0 was accepted as a distinct value (issue 14); it now reads as +0 everywhere. */
static void test_negative_zero_is_zero(void) {
    isw_sweep sw, zero;
    isw_error err;
    CHECK(parse("model: concept\nfixed: {noise: -0.0, init: -0}\n", &sw, &err) == ISW_OK, "%s", err.msg);
    CHECK(parse("model: concept\nfixed: {noise: 0, init: 0}\n", &zero, &err) == ISW_OK, "%s", err.msg);
    int inoise = isw_param_find(sw.model->params, sw.model->n_params, "noise");
    CHECK(sw.base[inoise] == 0 && !signbit(sw.base[inoise]), "fixed -0.0 kept its sign");
    double vals[64];
    isw_task x, y;
    isw_sweep_task(&sw, 0, &x, vals);
    isw_sweep_task(&zero, 0, &y, vals);
    CHECK(x.key == y.key, "-0.0 and 0 have different identities");
    isw_sweep_free(&sw);
    isw_sweep_free(&zero);
    double v[4];
    int64_t n;
    axis_values("{linspace: [-0.0, -0.0, 1]}", "noise", v, &n);
    CHECK(n == 1 && !signbit(v[0]), "a generated -0 kept its sign");
}

/* Inputs refused with their real position: escaped NUL (once read as a cut string), an encoding
 * error (once at 1:1), nesting (once minutes in the loader), the first of several repeats. */
static void test_hostile_positions(void) {
    isw_sweep sw;
    isw_error err;
    const char nul[] = "model: concept\nfixed: {\"K\\0xx\": 4}\n";
    CHECK(parse(nul, &sw, &err) == ISW_EINPUT && strstr(err.msg, "test.yaml:2:9: fixed.K\\0xx: the key holds a NUL"),
          "escaped NUL: %s", err.msg);
    const char enc[] = "model: concept\nseed: 1\nreplicates: 1\nname: ab\xff" "cd\n";
    CHECK(parse(enc, &sw, &err) == ISW_EINPUT && strstr(err.msg, "test.yaml:4:9: (document): YAML encoding error"),
          "encoding error: %s", err.msg);
    const char repeats[] = "model: concept\ngrid:\n  K: [2]\n  L: [1]\n  L: [2]\n  K: [4]\n";
    CHECK(parse(repeats, &sw, &err) == ISW_EINPUT &&
              strstr(err.msg, "test.yaml:5:3: grid.L: key appears twice (first at line 4:3)"),
          "first repeat in document order: %s", err.msg);
    size_t depth = 200000, len = 0;
    char *deep = malloc(2 * depth + 32);
    if (!deep) return;
    len += (size_t)sprintf(deep, "model: concept\nx: ");
    memset(deep + len, '[', depth);
    memset(deep + len + depth, ']', depth);
    len += 2 * depth;
    CHECK(isw_sweep_parse(deep, (long)len, "deep.yaml", 0, &sw, &err) == ISW_EINPUT &&
              strstr(err.msg, "deep.yaml:2:67: (document): lists and mappings nested deeper than 64"),
          "deep nesting: %s", err.msg);
    free(deep);
}

int main(void) {
    test_product_matches_naive_loops();
    test_zip_crossed_with_grid();
    test_generated_ranges();
    test_skip_invalid_counts();
    test_identity_stable_under_growth();
    test_identity_text_pinned();
    test_task_limit();
    test_ranges_are_numpys();
    test_negative_zero_is_zero();
    test_hostile_positions();
    return check_report("test_spec_grid");
}
