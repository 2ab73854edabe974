/* Golden numbers: every model's numbers are pinned beside its version, so a change of numbers
 * without a new version fails here (docs/architecture.md, "A model's version").
 *
 * Resume, --from and merge trust that one generator string means bit-identical results. This test
 * holds that promise: for every model of the registry, tests/golden/<model>.golden gives the
 * version it was written under and a few points (a sweep file each, on one line: the model's
 * default point shortened, and one other point); for each point it pins
 *   - exactly: the task's identity (key), its seed, and a digest of the data its generator draws,
 *     which no BLAS touches, so they are the same on every machine;
 *   - to a relative tolerance of TOL: every final metric of a short training run. Another CPU's
 *     BLAS kernels change the last bits of a trained number (1e-15 relative per operation, grown
 *     to ~1e-12 over a short run); a changed formula changes far more. The test proves its
 *     tolerance tells them apart: with the learning rate off by 0.1% every point must fail it.
 * It also pins the hashes behind identities and seeds (known answers).
 *
 * When the numbers differ and the version in the file is the model's version, the message says
 * to bump the version; when the version differs, to rewrite the file. To rewrite every file after
 * a bump: build/tests/test_golden --write (from the repository root, or with ICLSWEEP_SRC set).
 * Run by hand: ICLSWEEP_SRC=. build/tests/test_golden */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "iclsweep/core/hash.h"
#include "iclsweep/spec/spec.h"
#include "iclsweep/train/model.h"

#define TOL 1e-7       /* relative, on trained metrics */
#define ABS_FLOOR 1e-12 /* absolute, for metrics at 0 */
#define MAX_POINTS 8
#define MAX_METRICS 128

typedef struct {
    char name[64];
    char sweep[1024]; /* the point's sweep file, on one line */
    uint64_t key, seed, data;
    int n_final;
    char metric[MAX_METRICS][64];
    double value[MAX_METRICS];
} golden_point;

typedef struct {
    char version[128];
    int n;
    golden_point pt[MAX_POINTS];
} golden_file;

/* What a point computes to now. */
typedef struct {
    uint64_t key, seed, data;
    double *final; /* [n_final] */
    isw_train_result res;
} computed;

static const char *src_dir(void) {
    const char *s = getenv("ICLSWEEP_SRC");
    return s && *s ? s : ".";
}

static void golden_path(const isw_model *m, char *buf, size_t size) {
    snprintf(buf, size, "%s/tests/golden/%s.golden", src_dir(), m->name);
}

/* ---- known answers of the hashes ---------------------------------------------------------------- */

/* The values below were computed apart from this code (Python, from the definition in
 * include/iclsweep/core/hash.h: FNV-1a 64 over the bytes, the length XORed in, then MurmurHash3's
 * fmix64; a seed hashes the sweep seed and the identity as 8 little-endian bytes each). */
static void test_hash_known_answers(void) {
    CHECK(isw_hash_bytes("", 0) == 0xefd01f60ba992926ULL, "hash of nothing: %016llx",
          (unsigned long long)isw_hash_bytes("", 0));
    CHECK(isw_hash_str("model=concept\n") == 0x85351e9ba44a4247ULL, "hash of a canonical line: %016llx",
          (unsigned long long)isw_hash_str("model=concept\n"));
    CHECK(isw_mix64(1) == 0xb456bcfc34c2cb2cULL, "mix64(1): %016llx", (unsigned long long)isw_mix64(1));
    CHECK(isw_task_seed(20241122, 42) == 0x5aae36e83103f85bULL, "task seed: %016llx",
          (unsigned long long)isw_task_seed(20241122, 42));
}

/* ---- computing a point -------------------------------------------------------------------------- */

/* Parses the point's sweep (task 0 of it) into cfg, and fills key and seed. lr_scale != 1 scales
 * the config's lr (the tolerance's self-check). */
static int point_config(const isw_model *m, const char *sweep, double lr_scale, void *cfg, computed *c) {
    isw_sweep sw;
    isw_error err;
    if (isw_sweep_parse(sweep, (long)strlen(sweep), "golden", 0, &sw, &err) != ISW_OK) {
        CHECK(0, "%s: the golden point does not parse: %s", m->name, err.msg);
        return 0;
    }
    CHECK(sw.model == m, "%s: the golden point names model %s", m->name, sw.model->name);
    double *vals = calloc((size_t)m->n_params + 1, sizeof *vals);
    isw_task task;
    isw_sweep_task(&sw, 0, &task, vals);
    int lr = isw_param_find(m->params, m->n_params, "lr");
    if (lr >= 0) vals[lr] *= lr_scale;
    isw_params_to_cfg(m->params, m->n_params, vals, cfg);
    c->key = task.key;
    c->seed = task.seed;
    free(vals);
    isw_sweep_free(&sw);
    return 1;
}

static int compute(const isw_model *m, const char *sweep, double lr_scale, computed *c) {
    memset(c, 0, sizeof *c);
    void *cfg = calloc(1, m->cfg_size);
    c->final = calloc((size_t)m->n_final + 1, sizeof *c->final);
    int ok = cfg && c->final && point_config(m, sweep, lr_scale, cfg, c);
    isw_error err;
    if (ok && m->data_digest(cfg, c->seed, &c->data, &err) != ISW_OK) {
        CHECK(0, "%s: data digest: %s", m->name, err.msg);
        ok = 0;
    }
    if (ok && m->train(cfg, c->seed, NULL, c->final, &c->res, &err) != ISW_OK) {
        CHECK(0, "%s: training failed: %s", m->name, err.msg);
        ok = 0;
    }
    free(cfg);
    return ok;
}

/* ---- the file ------------------------------------------------------------------------------------- */

static int read_golden(const isw_model *m, golden_file *g) {
    char path[1024], line[2048];
    golden_path(m, path, sizeof path);
    memset(g, 0, sizeof *g);
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    golden_point *p = NULL;
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = '\0';
        char word[64], rest[1500];
        double v;
        if (line[0] == '#' || line[0] == '\0') continue;
        if (sscanf(line, "version %127[^\n]", g->version) == 1) continue;
        if (sscanf(line, "point %63s %1023[^\n]", word, rest) == 2 && g->n < MAX_POINTS) {
            p = &g->pt[g->n++];
            snprintf(p->name, sizeof p->name, "%s", word);
            snprintf(p->sweep, sizeof p->sweep, "%s", rest);
        } else if (p && sscanf(line, " key %llx", (unsigned long long *)&p->key) == 1) {
        } else if (p && sscanf(line, " seed %llx", (unsigned long long *)&p->seed) == 1) {
        } else if (p && sscanf(line, " data %llx", (unsigned long long *)&p->data) == 1) {
        } else if (p && sscanf(line, " final %63s %lg", word, &v) == 2 && p->n_final < MAX_METRICS) {
            snprintf(p->metric[p->n_final], sizeof p->metric[0], "%s", word);
            p->value[p->n_final++] = v;
        }
    }
    fclose(f);
    return 1;
}

/* The model's calibration run of its default point, as a sweep on one line: the golden point of
 * a model that has no file yet. */
static void default_point(const isw_model *m, char *buf, size_t size) {
    double *def = calloc((size_t)m->n_params + 1, sizeof *def), *cal = calloc((size_t)m->n_params + 1, sizeof *cal);
    void *cfg = calloc(1, m->cfg_size);
    isw_params_defaults(m->params, m->n_params, def);
    isw_params_to_cfg(m->params, m->n_params, def, cfg);
    m->calibration(cfg);
    isw_params_from_cfg(m->params, m->n_params, cfg, cal);
    int n = snprintf(buf, size, "{model: %s, seed: 20261207, fixed: {", m->name), first = 1;
    for (int i = 0; i < m->n_params && (size_t)n < size; i++) {
        if (cal[i] == def[i]) continue;
        char v[64];
        n += snprintf(buf + n, size - (size_t)n, "%s%s: %s", first ? "" : ", ", m->params[i].name,
                      isw_param_canon(&m->params[i], cal[i], v, sizeof v));
        first = 0;
    }
    if ((size_t)n < size) snprintf(buf + n, size - (size_t)n, "}}");
    free(def);
    free(cal);
    free(cfg);
}

static int write_golden(const isw_model *m) {
    golden_file old;
    int had = read_golden(m, &old);
    if (!had || old.n == 0) {
        old.n = 1;
        snprintf(old.pt[0].name, sizeof old.pt[0].name, "default");
        default_point(m, old.pt[0].sweep, sizeof old.pt[0].sweep);
    }
    char path[1024], gen[160];
    golden_path(m, path, sizeof path);
    FILE *f = fopen(path, "w");
    if (!f) {
        fprintf(stderr, "cannot write %s\n", path);
        return 0;
    }
    fprintf(f, "# Golden numbers of model %s (tests/unit/test_golden.c): key, seed and data digest exact,\n"
               "# final metrics to a relative %g. Written by test_golden --write; edit only the point lines.\n",
            m->name, TOL);
    fprintf(f, "version %s\n", isw_model_generator(m, gen, sizeof gen));
    for (int i = 0; i < old.n; i++) {
        computed c;
        if (!compute(m, old.pt[i].sweep, 1.0, &c)) return 0;
        fprintf(f, "point %s %s\n  key %016llx\n  seed %016llx\n  data %016llx\n", old.pt[i].name, old.pt[i].sweep,
                (unsigned long long)c.key, (unsigned long long)c.seed, (unsigned long long)c.data);
        for (int k = 0; k < m->n_final; k++) fprintf(f, "  final %s %.17g\n", m->final[k].name, c.final[k]);
        free(c.final);
    }
    fclose(f);
    printf("wrote %s (%d points)\n", path, old.n);
    return 1;
}

/* ---- comparing ------------------------------------------------------------------------------------ */

static int close_enough(double want, double have) {
    if (isnan(want) || isnan(have)) return isnan(want) && isnan(have);
    double scale = fabs(want) > fabs(have) ? fabs(want) : fabs(have);
    return fabs(want - have) <= TOL * scale + ABS_FLOOR;
}

/* Number of final metrics of c that differ from p (beyond TOL); the first into what[size]; the
 * largest share of its tolerance that a metric within it uses into *worst (1: at the edge). */
static int metric_differences(const isw_model *m, const golden_point *p, const computed *c, char *what, size_t size,
                              double *worst) {
    int bad = 0;
    *worst = 0;
    for (int k = 0; k < p->n_final; k++) {
        int i = isw_model_final_index(m, p->metric[k]);
        double have = i >= 0 ? c->final[i] : NAN;
        double used = fabs(have - p->value[k]) / (TOL * fmax(fabs(have), fabs(p->value[k])) + ABS_FLOOR);
        if (i >= 0 && isfinite(have) && close_enough(p->value[k], have) && used > *worst) *worst = used;
        if (i >= 0 && close_enough(p->value[k], have)) continue;
        if (!bad++) snprintf(what, size, "%s: %.17g, pinned %.17g", p->metric[k], have, p->value[k]);
    }
    return bad;
}

static void check_model(const isw_model *m) {
    golden_file g;
    char path[1024], gen[160], what[256] = "";
    golden_path(m, path, sizeof path);
    isw_model_generator(m, gen, sizeof gen);
    if (!read_golden(m, &g)) {
        CHECK(0, "model %s has no golden numbers: write %s with test_golden --write and add a second point", m->name,
              path);
        return;
    }
    CHECK(g.n >= 2 && !strcmp(g.pt[0].name, "default"), "%s: the default point and at least one other (%d points)",
          path, g.n);
    int same_version = !strcmp(g.version, gen);
    for (int i = 0; i < g.n; i++) {
        const golden_point *p = &g.pt[i];
        computed c;
        if (!compute(m, p->sweep, 1.0, &c)) continue;
        int exact_ok = c.key == p->key && c.seed == p->seed && c.data == p->data;
        double worst = 0, off_worst = 0;
        int bad = metric_differences(m, p, &c, what, sizeof what, &worst);
        printf("%s, point %s: the metrics use at most %.3g of their tolerance\n", m->name, p->name, worst);
        CHECK(p->n_final == m->n_final, "%s, point %s: pins %d final metrics, the model has %d (rewrite it)", path,
              p->name, p->n_final, m->n_final);
        if (!exact_ok && same_version)
            CHECK(0, "%s, point %s: key/seed/data %016llx/%016llx/%016llx, pinned %016llx/%016llx/%016llx: the "
                  "identities or the data generator of %s changed but its version is still %s; bump .version in "
                  "its descriptor and rewrite the golden file (test_golden --write)", path, p->name,
                  (unsigned long long)c.key, (unsigned long long)c.seed, (unsigned long long)c.data,
                  (unsigned long long)p->key, (unsigned long long)p->seed, (unsigned long long)p->data, m->name, gen);
        if (bad && same_version)
            CHECK(0, "%s, point %s: %d final metrics changed (%s): the numbers of %s changed but its version is "
                  "still %s; bump .version in its descriptor (src/train/%s.c) and rewrite the golden file "
                  "(test_golden --write)", path, p->name, bad, what, m->name, gen, m->name);
        if (!same_version)
            CHECK(0, "%s pins version %s but model %s is at %s: rewrite the golden file (test_golden --write)%s", path,
                  g.version, m->name, gen, exact_ok && !bad ? "; its numbers did not change: was the bump needed?" : "");
        /* The tolerance tells a changed formula from another BLAS: 0.1% more learning rate must fail it. */
        computed off;
        if (compute(m, p->sweep, 1.001, &off)) {
            char w2[256];
            CHECK(metric_differences(m, p, &off, w2, sizeof w2, &off_worst) > 0,
                  "%s, point %s: a learning rate off by 0.1%% still matches the pinned metrics; the point trains too "
                  "little to pin anything", path, p->name);
            free(off.final);
        }
        free(c.final);
    }
}

int main(int argc, char **argv) {
    if (argc > 1 && !strcmp(argv[1], "--write")) {
        int ok = 1;
        for (int i = 0; i < isw_model_count(); i++) ok &= write_golden(isw_model_at(i));
        return ok ? 0 : 1;
    }
    test_hash_known_answers();
    for (int i = 0; i < isw_model_count(); i++) check_model(isw_model_at(i));
    return check_report("test_golden");
}
