/* Every model of the registry is a complete descriptor: its parameter table is well formed (unique
 * names, a doc line, defaults inside their own ranges, a default point that passes the model's
 * constraints), every hook answers at the default point (cost, memory, log schedule), its metric
 * and theory tables name what exists; the registry finds each model by its name.
 * Run by hand: build/tests/test_params */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "iclsweep/models/linattn_params.h"
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
    CHECK(m->memory(cfg) > 1e6, "%s memory of the default point: %g bytes", m->name, m->memory(cfg));
    int64_t steps[4096];
    int64_t n = m->log_steps(cfg, NULL);
    CHECK(n >= 1 && n <= 4096 && m->log_steps(cfg, steps) == n && steps[0] == 0, "%s log schedule", m->name);
    for (int64_t i = 1; i < n && i < 4096; i++) CHECK(steps[i] > steps[i - 1], "%s log steps increase", m->name);
}

/* Whether every '|'-separated word of list is the name of a final metric of m. */
static int names_final_metrics(const isw_model *m, const char *list) {
    char word[128];
    for (const char *s = list; *s;) {
        size_t len = strcspn(s, "|");
        snprintf(word, sizeof word, "%.*s", (int)len, s);
        if (isw_model_final_index(m, word) < 0) return 0;
        s += len + (s[len] == '|');
    }
    return 1;
}

static void test_descriptor(const isw_model *m) {
    CHECK(m->name && m->summary && m->version && strchr(m->version, '/'), "%s: name, summary, version", m->name);
    CHECK(m->check && m->resolve && m->cost && m->memory && m->calibration && m->log_steps && m->train &&
          m->data_digest, "%s: every hook is there", m->name);
    CHECK(m->n_traj > 0 && m->n_final >= m->n_traj, "%s: metric tables", m->name);
    for (int i = 0; i < m->n_traj; i++)
        CHECK(!strcmp(m->traj[i].name, m->final[i].name), "%s: final metrics start with the trajectory's", m->name);
    CHECK(isw_model_final_index(m, m->headline) >= 0, "%s: headline %s is a final metric", m->name, m->headline);
    for (int i = 0; i < m->n_levels; i++)
        CHECK(names_final_metrics(m, m->levels[i].on) && m->levels[i].value, "%s: level %s on %s", m->name,
              m->levels[i].column, m->levels[i].on);
    for (int i = 0; i < m->n_marks; i++)
        CHECK(isw_param_find(m->params, m->n_params, m->marks[i].on) >= 0 && m->marks[i].value,
              "%s: mark %s on parameter %s", m->name, m->marks[i].column, m->marks[i].on);
    for (int i = 0; i < m->n_baselines; i++)
        CHECK(isw_model_final_index(m, m->baselines[i].final) >= 0 && names_final_metrics(m, m->baselines[i].on),
              "%s: baseline %s", m->name, m->baselines[i].final);
    int derived = 0, words = 0;
    for (int i = 0; i < m->n_params; i++) derived += isw_model_derives(m, m->params[i].name);
    for (const char *c = m->derived; *c; c++) words += c == m->derived || c[-1] == '|';
    CHECK(derived == words, "%s: every derived parameter (%s) is a parameter", m->name, m->derived);
}

/* The registry lists each model once, finds it by name and names them all in its order. */
static void test_registry(void) {
    char names[512] = "";
    for (int i = 0; i < isw_model_count(); i++) {
        const isw_model *m = isw_model_at(i);
        CHECK(isw_model_find(m->name) == m, "registry finds %s", m->name);
        snprintf(names + strlen(names), sizeof names - strlen(names), "%s%s", i ? "|" : "", m->name);
    }
    CHECK(isw_model_count() >= 1 && !strcmp(names, isw_model_names()), "names %s vs %s", names, isw_model_names());
    CHECK(isw_model_at(isw_model_count()) == NULL && isw_model_find("nosuch") == NULL, "unknown model");
}

/* The typed struct's fields hold what the generic table wrote (read by name, not through the
 * table's offsets), and every value comes back. */
static void test_cfg_round_trip(void) {
    const isw_model *m = isw_model_find("linattn");
    double vals[256], back[256];
    isw_params_defaults(m->params, m->n_params, vals);
    int iD = isw_param_find(m->params, m->n_params, "D");
    int ilr = isw_param_find(m->params, m->n_params, "lr");
    int iopt = isw_param_find(m->params, m->n_params, "optimizer");
    int itheory = isw_param_find(m->params, m->n_params, "theory");
    vals[iD] = 13;
    vals[ilr] = 0.25;
    vals[iopt] = 3;
    vals[itheory] = 0;
    isw_linattn_cfg cfg;
    isw_params_to_cfg(m->params, m->n_params, vals, &cfg);
    CHECK(cfg.D == 13 && cfg.lr == 0.25 && cfg.optimizer == 3 && cfg.theory == 0 && cfg.N == 100,
          "typed fields: D %lld, lr %g, optimizer %d, theory %d, N %lld", (long long)cfg.D, cfg.lr, cfg.optimizer,
          cfg.theory, (long long)cfg.N);
    isw_params_from_cfg(m->params, m->n_params, &cfg, back);
    CHECK(!memcmp(vals, back, sizeof(double) * (size_t)m->n_params), "every value comes back");
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
    test_registry();
    for (int i = 0; i < isw_model_count(); i++) {
        test_model(isw_model_at(i));
        test_descriptor(isw_model_at(i));
    }
    test_cfg_round_trip();
    test_expected_range_is_real();
    test_canon_of_unrepresentable_values();
    return check_report("test_params");
}
