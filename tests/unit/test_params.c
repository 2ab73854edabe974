/* Every model's parameter table is well formed: unique names, a doc line, defaults inside their
 * own ranges, a default point that passes the model's constraints, and a positive cost.
 * Run by hand: build/tests/test_params */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "iclsweep/train/model.h"

static void test_model(const isw_model *m) {
    double vals[256];
    char expected[128];
    CHECK(m->n_params > 0 && m->n_params <= 256, "%s has %d parameters", m->name, m->n_params);
    isw_params_defaults(m->params, m->n_params, vals);
    for (int i = 0; i < m->n_params; i++) {
        const isw_param_def *p = &m->params[i];
        CHECK(p->doc && strlen(p->doc) > 5, "%s.%s needs a meaning", m->name, p->name);
        CHECK(isw_param_check(p, p->def, expected, sizeof expected) == ISW_OK,
              "%s.%s default %g is not %s", m->name, p->name, p->def, expected);
        CHECK(p->type != ISW_P_CHOICE || isw_param_n_choices(p) >= 1, "%s.%s has no choices", m->name, p->name);
        for (int j = 0; j < i; j++)
            CHECK(strcmp(p->name, m->params[j].name) != 0, "%s.%s listed twice", m->name, p->name);
        CHECK(p->offset + sizeof(double) <= m->cfg_size || p->type != ISW_P_REAL, "%s.%s offset", m->name, p->name);
    }
    unsigned char cfg[4096] __attribute__((aligned(16)));
    CHECK(m->cfg_size <= sizeof cfg, "config struct of %s too large for this test", m->name);
    isw_params_to_cfg(m->params, m->n_params, vals, cfg);
    int blame = -1;
    char why[256] = "";
    CHECK(m->check(cfg, &blame, why, sizeof why) == ISW_OK, "%s default point invalid: %s", m->name, why);
    CHECK(m->cost(cfg) > 0, "%s cost of the default point", m->name);
}

/* The typed struct sees what the generic table wrote: a round trip through offsets. */
static void test_cfg_round_trip(void) {
    const isw_model *m = isw_model_find("linattn");
    double vals[256];
    isw_params_defaults(m->params, m->n_params, vals);
    int iD = isw_param_find(m->params, m->n_params, "D");
    int ilr = isw_param_find(m->params, m->n_params, "lr");
    int iopt = isw_param_find(m->params, m->n_params, "optimizer");
    vals[iD] = 13;
    vals[ilr] = 0.25;
    vals[iopt] = 3;
    unsigned char cfg[4096] __attribute__((aligned(16)));
    isw_params_to_cfg(m->params, m->n_params, vals, cfg);
    CHECK(*(int64_t *)(cfg + m->params[iD].offset) == 13, "D through its offset");
    CHECK(*(double *)(cfg + m->params[ilr].offset) == 0.25, "lr through its offset");
    CHECK(*(int *)(cfg + m->params[iopt].offset) == 3, "optimizer through its offset");
    char buf[32];
    CHECK(strcmp(isw_param_canon(&m->params[iopt], 3, buf, sizeof buf), "langevin") == 0, "choice name");
}

/* "beta2: 1" said "expected a number in [0, 1]" because %g rounded the maximum 0.999999999
 * (issue 14): every printed range is the real one, and reads back as the table's bounds. */
static void test_expected_range_is_real(void) {
    const isw_model *m = isw_model_find("linattn");
    const isw_param_def *beta2 = &m->params[isw_param_find(m->params, m->n_params, "beta2")];
    char expected[128], range[128];
    CHECK(isw_param_check(beta2, 1.0, expected, sizeof expected) == ISW_EINPUT, "beta2 = 1 is refused");
    CHECK(strcmp(expected, "a number in [0, 0.999999999]") == 0, "beta2 expects '%s'", expected);
    for (int k = 0; k < isw_model_count(); k++) {
        const isw_model *mk = isw_model_at(k);
        for (int i = 0; i < mk->n_params; i++) {
            const isw_param_def *p = &mk->params[i];
            if (p->type != ISW_P_REAL && p->type != ISW_P_INT) continue;
            isw_param_range(p, range, sizeof range);
            double lo, hi;
            CHECK(sscanf(range, "[%lf, %lf]", &lo, &hi) == 2 && lo == p->lo && hi == p->hi,
                  "%s.%s range '%s' does not read back as [%.17g, %.17g]", mk->name, p->name, range,
                  p->lo, p->hi);
        }
    }
}

/* An integer value outside int64 (a generated 1e30) was converted to long long for its message:
 * undefined behaviour, printed as -9223372036854775808 (issue 14). The sanitizer build aborts on
 * the conversion, so reaching the checks is half the test. */
static void test_canon_of_unrepresentable_values(void) {
    const isw_model *m = isw_model_find("concept");
    const isw_param_def *K = &m->params[isw_param_find(m->params, m->n_params, "K")];
    const isw_param_def *map = &m->params[isw_param_find(m->params, m->n_params, "label_map")];
    char buf[64];
    CHECK(strcmp(isw_param_canon(K, 1e30, buf, sizeof buf), "1e+30") == 0, "1e30 shown as %s", buf);
    CHECK(strcmp(isw_param_show(K, -1e19, buf, sizeof buf), "-1e+19") == 0, "-1e19 shown as %s", buf);
    CHECK(strcmp(isw_param_show(K, NAN, buf, sizeof buf), "nan") == 0, "NaN shown as %s", buf);
    CHECK(strcmp(isw_param_show(K, 2.5, buf, sizeof buf), "2.5") == 0, "2.5 shown as %s", buf);
    CHECK(strcmp(isw_param_canon(K, 9007199254740993.0, buf, sizeof buf), "9007199254740992") == 0,
          "a large integral value stays an integer: %s", buf);
    CHECK(strcmp(isw_param_canon(map, 7, buf, sizeof buf), "7") == 0, "choice 7 of 2 shown as %s", buf);
}

int main(void) {
    CHECK(isw_model_count() == 2, "two models");
    for (int i = 0; i < isw_model_count(); i++) test_model(isw_model_at(i));
    CHECK(isw_model_find("nosuch") == NULL, "unknown model");
    test_cfg_round_trip();
    test_expected_range_is_real();
    test_canon_of_unrepresentable_values();
    return check_report("test_params");
}
