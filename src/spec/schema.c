/* Sweep files, part 3: the schema, from the loaded document to a validated sweep (spec_int.h;
 * include/iclsweep/spec/spec.h, docs/architecture.md; README "Sweep files").
 *
 * Interpretation follows the schema (top level -> fixed / grid / zip -> values), so its recursion
 * depth is bounded by the schema. The grid's size is checked against max_tasks with
 * overflow-safe products before any per-axis or per-point memory is allocated for it; every
 * point's parameters are then checked against the model's constraints and memory estimate. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "iclsweep/core/text.h"
#include "spec_int.h"

static const char *const top_keys[] = {"name",         "description", "model",     "seed", "replicates",
                                       "skip_invalid", "max_tasks",   "max_task_memory", "checkpoint_every",
                                       "fixed",        "grid",        "zip"};
#define N_TOP_KEYS ((int)(sizeof top_keys / sizeof top_keys[0]))


/* ---- scalars ----------------------------------------------------------------------------- */

/* Parses a YAML number: decimal integer or floating literal (no hex, no inf/nan). */
int spec_parse_number(const char *s, double *out) {
    if (!s || !*s) return 0;
    for (const char *c = s; *c; c++)
        if (!(isdigit((unsigned char)*c) || *c == '.' || *c == 'e' || *c == 'E' || *c == '-' ||
              *c == '+'))
            return 0;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (*end || errno == ERANGE || !isfinite(v)) return 0;
    *out = v == 0 ? 0.0 : v; /* -0 reads as +0: every later layer sees one zero */
    return 1;
}

static int parse_bool(const char *s, double *out) {
    if (!s) return 0;
    if (!strcmp(s, "true") || !strcmp(s, "True") || !strcmp(s, "TRUE")) return *out = 1, 1;
    if (!strcmp(s, "false") || !strcmp(s, "False") || !strcmp(s, "FALSE")) return *out = 0, 1;
    return 0;
}

/* Parses node as a value of parameter p into *v; key names it in messages. */
isw_status spec_param_value(parser *ps, const isw_param_def *p, yaml_node_t *n, const char *key,
                              double *v) {
    char found[64], expected[128];
    isw_param_expected(p, expected, sizeof expected);
    const char *s = spec_scalar(n);
    if (!s || spec_is_null(n))
        return spec_fail_at(ps, spec_loc(n), key, "expected %s, found %s", expected,
                       spec_describe(n, found, sizeof found));
    int quoted = n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE;
    int ok = 0;
    switch (p->type) {
    case ISW_P_INT:
    case ISW_P_REAL: ok = !quoted && spec_parse_number(s, v); break;
    case ISW_P_BOOL: ok = !quoted && parse_bool(s, v); break;
    case ISW_P_CHOICE: {
        int i = isw_param_choice_index(p, s);
        ok = i >= 0;
        if (ok) *v = i;
        break;
    }
    }
    if (!ok) {
        if (p->type == ISW_P_CHOICE) {
            char names[16][32];
            const char *cands[16];
            int nc = isw_param_n_choices(p);
            if (nc > 16) nc = 16;
            for (int i = 0; i < nc; i++) cands[i] = isw_param_choice(p, i, names[i], sizeof names[i]);
            const char *near = isw_suggest(s, cands, nc);
            if (near)
                return spec_fail_at(ps, spec_loc(n), key, "expected %s, found %s (did you mean '%s'?)",
                               expected, spec_describe(n, found, sizeof found), near);
        }
        return spec_fail_at(ps, spec_loc(n), key, "expected %s, found %s%s", expected,
                       spec_describe(n, found, sizeof found), quoted ? " (a quoted string)" : "");
    }
    if (isw_param_check(p, *v, expected, sizeof expected) != ISW_OK)
        return spec_fail_at(ps, spec_loc(n), key, "expected %s, found %s", expected,
                       spec_describe(n, found, sizeof found));
    return ISW_OK;
}


/* ---- top-level scalars --------------------------------------------------------------------- */

static isw_status get_string(parser *ps, yaml_node_t *n, const char *key, char **out) {
    char found[64];
    if (!spec_scalar(n) || spec_is_null(n))
        return spec_fail_at(ps, spec_loc(n), key, "expected a string, found %s",
                       spec_describe(n, found, sizeof found));
    free(*out);
    *out = strdup(spec_scalar(n));
    if (!*out) return isw_fail(ps->err, ISW_EINTERNAL, "out of memory");
    return ISW_OK;
}

static isw_status get_int(parser *ps, yaml_node_t *n, const char *key, double lo, double hi,
                          int64_t *out) {
    char found[64];
    double v;
    const char *s = spec_scalar(n);
    if (!s || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE || !spec_parse_number(s, &v) ||
        v != floor(v) || v < lo || v > hi)
        return spec_fail_at(ps, spec_loc(n), key, "expected an integer in [%.0f, %.0f], found %s", lo, hi,
                       spec_describe(n, found, sizeof found));
    *out = (int64_t)v;
    return ISW_OK;
}

/* A size in bytes: a number, then optionally B, KB, MB, GB, TB (powers of 1000) or KiB, MiB,
 * GiB, TiB (powers of 1024), e.g. "512MB", "4GiB", "1.5 GB". Returns 0 on anything else. */
static int parse_bytes(const char *s, double *out) {
    static const struct {
        const char *unit;
        double scale;
    } units[] = {{"", 1},      {"B", 1},         {"KB", 1e3},      {"MB", 1e6},
                 {"GB", 1e9},  {"TB", 1e12},     {"KiB", 1024.0},  {"MiB", 1048576.0},
                 {"GiB", 1073741824.0}, {"TiB", 1099511627776.0}};
    char num[64];
    size_t len = strspn(s, "0123456789.eE+-");
    if (len == 0 || len >= sizeof num) return 0;
    memcpy(num, s, len);
    num[len] = '\0';
    double v;
    if (!spec_parse_number(num, &v) || !(v >= 0)) return 0;
    const char *u = s + len;
    while (*u == ' ') u++;
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
        if (!strcmp(u, units[i].unit)) {
            *out = v * units[i].scale;
            return 1;
        }
    return 0;
}

static isw_status get_bytes(parser *ps, yaml_node_t *n, const char *key, double *out) {
    char found[64];
    const char *s = spec_scalar(n);
    double v;
    if (!s || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE || !parse_bytes(s, &v) || v < 1e6 || v > 1e18)
        return spec_fail_at(ps, spec_loc(n), key, "expected a size from 1MB to 1000000TB such as 512MB, 4GiB "
                       "or 2e9 (bytes), found %s", spec_describe(n, found, sizeof found));
    *out = v;
    return ISW_OK;
}

static isw_status get_seed(parser *ps, yaml_node_t *n, uint64_t *out) {
    char found[64];
    const char *s = spec_scalar(n);
    int ok = s && n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE && *s;
    for (const char *c = s; ok && *c; c++) ok = isdigit((unsigned char)*c);
    char *end = NULL;
    errno = 0;
    unsigned long long v = ok ? strtoull(s, &end, 10) : 0;
    if (!ok || errno == ERANGE || *end)
        return spec_fail_at(ps, spec_loc(n), "seed", "expected an integer in [0, 2^64), found %s",
                       spec_describe(n, found, sizeof found));
    *out = (uint64_t)v;
    return ISW_OK;
}


/* ---- parameters in fixed / grid / zip ------------------------------------------------------- */

static const char *source_name(isw_source s) {
    switch (s) {
    case ISW_SRC_FIXED: return "fixed";
    case ISW_SRC_GRID: return "grid";
    case ISW_SRC_ZIP: return "zip";
    default: return "defaults";
    }
}

/* Finds the parameter named by key node kn in the model's table, or reports it as unknown. */
static isw_status find_param(parser *ps, yaml_node_t *kn, const char *section, int *index) {
    const isw_model *m = ps->sw->model;
    char key[160], found[64];
    const char *name = spec_scalar(kn);
    if (!name || spec_is_null(kn))
        return spec_fail_at(ps, spec_loc(kn), section, "expected a parameter name, found %s",
                       spec_describe(kn, found, sizeof found));
    spec_key_path(key, sizeof key, section, kn);
    *index = isw_param_find(m->params, m->n_params, name);
    if (*index >= 0) return ISW_OK;
    const char *names[256];
    int n = m->n_params < 256 ? m->n_params : 256;
    for (int i = 0; i < n; i++) names[i] = m->params[i].name;
    const char *near = isw_suggest(name, names, n);
    if (near)
        return spec_fail_at(ps, spec_loc(kn), key, "unknown parameter of model %s (did you mean '%s'?)",
                       m->name, near);
    return spec_fail_at(ps, spec_loc(kn), key,
                   "unknown parameter of model %s (`iclsweep params %s` lists them)", m->name,
                   m->name);
}

/* Records that parameter i is set by `source` at loc, refusing a second setting. */
static isw_status claim_param(parser *ps, int i, isw_source source, isw_loc loc, const char *key) {
    isw_sweep *sw = ps->sw;
    if (sw->source[i] != ISW_SRC_DEFAULT)
        return spec_fail_at(ps, loc, key, "%s is already set in %s at line %d:%d; set it in one place",
                       sw->model->params[i].name, source_name(sw->source[i]), sw->loc[i].line,
                       sw->loc[i].col);
    sw->source[i] = source;
    sw->loc[i] = loc;
    return ISW_OK;
}

/* The parameter a key of section names, into *i, claimed for source; key receives its path
 * ("grid.K") for messages. [key_size] */
static isw_status claim_key(parser *ps, yaml_node_t *kn, const char *section, isw_source source, char *key,
                            size_t key_size, int *i) {
    isw_status st = find_param(ps, kn, section, i);
    if (st) return st;
    spec_key_path(key, key_size, section, kn);
    return claim_param(ps, *i, source, spec_loc(kn), key);
}

static isw_status expect_mapping(parser *ps, yaml_node_t *n, const char *key) {
    char found[64];
    if (n->type != YAML_MAPPING_NODE)
        return spec_fail_at(ps, spec_loc(n), key, "expected a mapping of parameter: value, found %s",
                       spec_describe(n, found, sizeof found));
    return ISW_OK;
}

static isw_status read_fixed(parser *ps, yaml_node_t *map) {
    isw_status st = expect_mapping(ps, map, "fixed");
    if (st) return st;
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
        yaml_node_t *kn = yaml_document_get_node(&ps->doc, p->key);
        yaml_node_t *vn = yaml_document_get_node(&ps->doc, p->value);
        int i;
        char key[160];
        if ((st = claim_key(ps, kn, "fixed", ISW_SRC_FIXED, key, sizeof key, &i))) return st;
        if (vn->type != YAML_SCALAR_NODE)
            return spec_fail_at(ps, spec_loc(vn), key,
                           "expected a single value, found %s (lists of values belong under grid "
                           "or zip)",
                           vn->type == YAML_SEQUENCE_NODE ? "a list" : "a mapping");
        if ((st = spec_param_value(ps, &ps->sw->model->params[i], vn, key, &ps->sw->base[i]))) return st;
    }
    return ISW_OK;
}

/* Appends an axis; the caller has checked its parameter is not set elsewhere. */
static isw_status push_axis(parser *ps, int param, double *vals, isw_loc loc) {
    isw_sweep *sw = ps->sw;
    isw_axis *grown = realloc(sw->axes, (size_t)(sw->n_axes + 1) * sizeof *grown);
    if (!grown) {
        free(vals);
        return isw_fail(ps->err, ISW_EINTERNAL, "out of memory");
    }
    sw->axes = grown;
    sw->axes[sw->n_axes].param = param;
    sw->axes[sw->n_axes].values = vals;
    sw->axes[sw->n_axes].loc = loc;
    sw->n_axes++;
    return ISW_OK;
}

static isw_status push_dim(parser *ps, int64_t n, int first, int n_axes, int is_zip) {
    isw_sweep *sw = ps->sw;
    isw_dim *grown = realloc(sw->dims, (size_t)(sw->n_dims + 1) * sizeof *grown);
    if (!grown) return isw_fail(ps->err, ISW_EINTERNAL, "out of memory");
    sw->dims = grown;
    sw->dims[sw->n_dims] = (isw_dim){.n = n, .first_axis = first, .n_axes = n_axes, .is_zip = is_zip};
    sw->n_dims++;
    return ISW_OK;
}

static isw_status read_grid(parser *ps, yaml_node_t *map) {
    isw_status st = expect_mapping(ps, map, "grid");
    if (st) return st;
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
        yaml_node_t *kn = yaml_document_get_node(&ps->doc, p->key);
        yaml_node_t *vn = yaml_document_get_node(&ps->doc, p->value);
        int i;
        char key[160];
        if ((st = claim_key(ps, kn, "grid", ISW_SRC_GRID, key, sizeof key, &i))) return st;
        double *vals;
        int64_t n;
        if ((st = spec_read_axis(ps, &ps->sw->model->params[i], vn, key, 0, &vals, &n))) return st;
        if ((st = push_axis(ps, i, vals, spec_loc(kn)))) return st;
        if ((st = push_dim(ps, n, ps->sw->n_axes - 1, 1, 0))) return st;
    }
    return ISW_OK;
}

/* The zip group being checked, for the comparison below (C11 qsort takes no context). */
static const isw_axis *zip_axes;
static int zip_n_axes;

static int cmp_zip_tuple(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    for (int k = 0; k < zip_n_axes; k++) {
        double u = zip_axes[k].values[x], v = zip_axes[k].values[y];
        if (u != v) return u < v ? -1 : 1;
    }
    return 0;
}

/* Refuses a zip group in which two positions hold the same tuple of values (one identity twice). */
static isw_status check_zip_tuples(parser *ps, int first, int n_axes, int64_t len, yaml_node_t *map,
                                   const char *section) {
    int64_t *order = malloc((size_t)len * sizeof *order);
    if (!order) return isw_fail(ps->err, ISW_EINTERNAL, "out of memory for %s", section);
    for (int64_t i = 0; i < len; i++) order[i] = i;
    zip_axes = ps->sw->axes + first;
    zip_n_axes = n_axes;
    qsort(order, (size_t)len, sizeof *order, cmp_zip_tuple);
    isw_status st = ISW_OK;
    for (int64_t i = 1; i < len && !st; i++) {
        if (cmp_zip_tuple(&order[i - 1], &order[i]) == 0) {
            int64_t a = order[i - 1] < order[i] ? order[i - 1] : order[i];
            int64_t b = order[i - 1] < order[i] ? order[i] : order[i - 1];
            st = spec_fail_at(ps, spec_loc(map), section,
                         "positions %lld and %lld hold the same values; each zipped tuple must differ",
                         (long long)a + 1, (long long)b + 1);
        }
    }
    free(order);
    return st;
}

/* One zip group: a mapping of parameter -> list, all of one length. */
static isw_status read_zip_group(parser *ps, yaml_node_t *map, const char *section) {
    isw_status st = expect_mapping(ps, map, section);
    if (st) return st;
    int first = ps->sw->n_axes;
    int64_t len = -1;
    char first_key[160] = "";
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
        yaml_node_t *kn = yaml_document_get_node(&ps->doc, p->key);
        yaml_node_t *vn = yaml_document_get_node(&ps->doc, p->value);
        int i;
        char key[160];
        if ((st = claim_key(ps, kn, section, ISW_SRC_ZIP, key, sizeof key, &i))) return st;
        double *vals;
        int64_t n;
        if ((st = spec_read_axis(ps, &ps->sw->model->params[i], vn, key, 1, &vals, &n))) return st;
        if (len >= 0 && n != len) {
            free(vals);
            return spec_fail_at(ps, spec_loc(vn), key,
                           "has %lld values but %s has %lld; zipped lists must have equal lengths",
                           (long long)n, first_key, (long long)len);
        }
        if (len < 0) {
            len = n;
            snprintf(first_key, sizeof first_key, "%s", key);
        }
        if ((st = push_axis(ps, i, vals, spec_loc(kn)))) return st;
    }
    if (len < 0) return spec_fail_at(ps, spec_loc(map), section, "empty zip group");
    if ((st = check_zip_tuples(ps, first, ps->sw->n_axes - first, len, map, section))) return st;
    return push_dim(ps, len, first, ps->sw->n_axes - first, 1);
}

static isw_status read_zip(parser *ps, yaml_node_t *n) {
    char found[64];
    if (n->type == YAML_MAPPING_NODE) return read_zip_group(ps, n, "zip");
    if (n->type != YAML_SEQUENCE_NODE)
        return spec_fail_at(ps, spec_loc(n), "zip",
                       "expected a mapping of parameter: list (or a list of such mappings), found %s",
                       spec_describe(n, found, sizeof found));
    int k = 0;
    for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top; it++) {
        char section[32];
        snprintf(section, sizeof section, "zip[%d]", k++);
        isw_status st = read_zip_group(ps, yaml_document_get_node(&ps->doc, *it), section);
        if (st) return st;
    }
    return ISW_OK;
}


/* ---- the top level ------------------------------------------------------------------------ */

/* Finds top-level key `name` in the root mapping, or NULL. */
static yaml_node_t *top_value(parser *ps, yaml_node_t *root, const char *name, yaml_node_t **key) {
    for (yaml_node_pair_t *p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top; p++) {
        yaml_node_t *kn = yaml_document_get_node(&ps->doc, p->key);
        if (spec_scalar(kn) && !strcmp(spec_scalar(kn), name)) {
            if (key) *key = kn;
            return yaml_document_get_node(&ps->doc, p->value);
        }
    }
    return NULL;
}

/* A scalar key of a mapping and its position, for finding repeated keys by sorting. */
typedef struct {
    const char *text;
    long index;
} key_ref;

static int cmp_key_ref(const void *a, const void *b) {
    const key_ref *x = a, *y = b;
    int c = strcmp(x->text, y->text);
    return c ? c : (x->index > y->index) - (x->index < y->index);
}

/* For each pair i of map (n pairs), first[i] = the index of an earlier pair with the same scalar
 * key (the first such), or -1. Sorting makes this O(n log n): the 49,000 distinct keys of a 500 KB
 * mapping, compared pairwise, took 53 s. Returns ISW_OK or ISW_EINTERNAL (out of memory). */
static isw_status find_repeats(parser *ps, yaml_node_t *map, long n, long *first) {
    key_ref *refs = isw_malloc((size_t)(n ? n : 1) * sizeof *refs, ps->err);
    if (!refs) return ISW_EINTERNAL;
    long m = 0;
    for (long i = 0; i < n; i++) {
        first[i] = -1;
        const char *k = spec_scalar(yaml_document_get_node(&ps->doc, map->data.mapping.pairs.start[i].key));
        if (k) refs[m++] = (key_ref){k, i};
    }
    qsort(refs, (size_t)m, sizeof *refs, cmp_key_ref);
    for (long j = 1, head = 0; j < m; j++) {
        if (strcmp(refs[j].text, refs[head].text)) head = j;
        else first[refs[j].index] = refs[head].index;
    }
    free(refs);
    return ISW_OK;
}

/* Refuses unknown and repeated keys in a mapping whose keys are parameter names or top keys:
 * the first offending key in document order. */
static isw_status check_keys(parser *ps, yaml_node_t *map, const char *section, int top_level) {
    char found[64], key[160];
    long n = (long)(map->data.mapping.pairs.top - map->data.mapping.pairs.start);
    long *first = isw_malloc((size_t)(n ? n : 1) * sizeof *first, ps->err);
    if (!first) return ISW_EINTERNAL;
    isw_status st = find_repeats(ps, map, n, first);
    for (long i = 0; !st && i < n; i++) {
        yaml_node_t *kn = yaml_document_get_node(&ps->doc, map->data.mapping.pairs.start[i].key);
        const char *k = spec_scalar(kn);
        if (!k) {
            st = spec_fail_at(ps, spec_loc(kn), section, "expected a key name, found %s",
                         spec_describe(kn, found, sizeof found));
            break;
        }
        spec_key_path(key, sizeof key, top_level ? "" : section, kn);
        if (first[i] >= 0) {
            isw_loc at = spec_loc(yaml_document_get_node(&ps->doc, map->data.mapping.pairs.start[first[i]].key));
            st = spec_fail_at(ps, spec_loc(kn), key, "key appears twice (first at line %d:%d)", at.line, at.col);
            break;
        }
        if (top_level) {
            int known = 0;
            for (int t = 0; t < N_TOP_KEYS; t++) known |= !strcmp(top_keys[t], k);
            if (known) continue;
            const char *near = isw_suggest(k, top_keys, N_TOP_KEYS);
            if (!near && ps->sw->model && isw_param_find(ps->sw->model->params, ps->sw->model->n_params, k) >= 0)
                st = spec_fail_at(ps, spec_loc(kn), key,
                             "unknown top-level key; model parameters go under fixed, grid or zip");
            else if (near)
                st = spec_fail_at(ps, spec_loc(kn), key, "unknown top-level key (did you mean '%s'?)", near);
            else
                st = spec_fail_at(ps, spec_loc(kn), key,
                             "unknown top-level key; expected one of name, description, model, "
                             "seed, replicates, skip_invalid, max_tasks, max_task_memory, "
                             "checkpoint_every, fixed, grid, zip");
        }
    }
    free(first);
    return st;
}

static isw_status read_model(parser *ps, yaml_node_t *root) {
    char found[64];
    yaml_node_t *kn = NULL;
    yaml_node_t *n = top_value(ps, root, "model", &kn);
    isw_loc loc = {1, 1};
    if (!n)
        return spec_fail_at(ps, loc, "model", "missing; expected model: %s", isw_model_names());
    const char *name = spec_scalar(n);
    ps->sw->model_loc = spec_loc(kn);
    ps->sw->model = name ? isw_model_find(name) : NULL;
    if (!ps->sw->model) {
        const char *names[8];
        int nm = isw_model_count() < 8 ? isw_model_count() : 8;
        for (int i = 0; i < nm; i++) names[i] = isw_model_at(i)->name;
        const char *near = name ? isw_suggest(name, names, nm) : NULL;
        return spec_fail_at(ps, spec_loc(n), "model", "expected one of %s, found %s%s%s%s",
                       isw_model_names(), spec_describe(n, found, sizeof found),
                       near ? " (did you mean '" : "", near ? near : "", near ? "'?)" : "");
    }
    return ISW_OK;
}

static isw_status alloc_tables(parser *ps) {
    isw_sweep *sw = ps->sw;
    int n = sw->model->n_params;
    sw->base = isw_calloc((size_t)n, sizeof *sw->base, ps->err);
    sw->source = isw_calloc((size_t)n, sizeof *sw->source, ps->err);
    sw->loc = isw_calloc((size_t)n, sizeof *sw->loc, ps->err);
    sw->canon_order = isw_calloc((size_t)n, sizeof *sw->canon_order, ps->err);
    if (!sw->base || !sw->source || !sw->loc || !sw->canon_order) return ISW_EINTERNAL;
    isw_params_defaults(sw->model->params, n, sw->base);
    /* Identity text lists parameters sorted by name (insertion sort: ~30 names). */
    for (int i = 0; i < n; i++) {
        int j = i;
        while (j > 0 && strcmp(sw->model->params[sw->canon_order[j - 1]].name, sw->model->params[i].name) > 0) {
            sw->canon_order[j] = sw->canon_order[j - 1];
            j--;
        }
        sw->canon_order[j] = i;
    }
    return ISW_OK;
}

static isw_status read_top_scalars(parser *ps, yaml_node_t *root) {
    isw_sweep *sw = ps->sw;
    yaml_node_t *n, *kn;
    isw_status st;
    double b;
    char found[64];
    if ((n = top_value(ps, root, "name", NULL)) && (st = get_string(ps, n, "name", &sw->name))) return st;
    if ((n = top_value(ps, root, "description", NULL)) && n->type != YAML_SCALAR_NODE)
        return spec_fail_at(ps, spec_loc(n), "description", "expected text, found %s",
                       spec_describe(n, found, sizeof found));
    if ((n = top_value(ps, root, "seed", NULL)) && (st = get_seed(ps, n, &sw->seed))) return st;
    if ((n = top_value(ps, root, "replicates", NULL)) &&
        (st = get_int(ps, n, "replicates", 1, 1e6, &sw->replicates)))
        return st;
    if ((n = top_value(ps, root, "max_tasks", NULL)) &&
        (st = get_int(ps, n, "max_tasks", 1, (double)ISW_SPEC_LIMIT_MAX_TASKS, &sw->max_tasks)))
        return st;
    if ((n = top_value(ps, root, "checkpoint_every", NULL)) &&
        (st = get_int(ps, n, "checkpoint_every", 0, 1e9, &sw->checkpoint_every)))
        return st;
    if ((n = top_value(ps, root, "max_task_memory", NULL))) {
        if ((st = get_bytes(ps, n, "max_task_memory", &sw->max_task_memory))) return st;
        sw->max_task_memory_loc = spec_loc(n);
    }
    if ((n = top_value(ps, root, "skip_invalid", &kn))) {
        if (!spec_scalar(n) || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE || !parse_bool(spec_scalar(n), &b))
            return spec_fail_at(ps, spec_loc(n), "skip_invalid", "expected true or false, found %s",
                           spec_describe(n, found, sizeof found));
        sw->skip_invalid = b != 0;
    }
    return ISW_OK;
}

/* n_points = product of dimension lengths, refused past max_tasks before any point exists. */
static isw_status size_grid(parser *ps, yaml_node_t *root) {
    isw_sweep *sw = ps->sw;
    yaml_node_t *kn = NULL;
    isw_loc loc = {0, 0};
    if (top_value(ps, root, "grid", &kn) || top_value(ps, root, "zip", &kn)) loc = spec_loc(kn);
    double total = (double)sw->replicates;
    int64_t points = 1;
    for (int i = 0; i < sw->n_dims; i++) {
        total *= (double)sw->dims[i].n;
        if (total <= (double)sw->max_tasks) points *= sw->dims[i].n;
    }
    if (total > (double)sw->max_tasks) {
        char factors[512] = "";
        size_t used = 0;
        for (int i = 0; i < sw->n_dims && used < sizeof factors - 40; i++)
            used += (size_t)snprintf(factors + used, sizeof factors - used, "%s%lld", i ? " x " : "",
                                     (long long)sw->dims[i].n);
        snprintf(factors + used, sizeof factors - used, "%sreplicates %lld", sw->n_dims ? " x " : "",
                 (long long)sw->replicates);
        return spec_fail_at(ps, loc, sw->n_dims ? (sw->dims[0].is_zip ? "zip" : "grid") : "replicates",
                       "%.4g tasks (%s) exceed the limit of %lld (raise max_tasks or pass "
                       "--max-tasks if you mean it)",
                       total, factors, (long long)sw->max_tasks);
    }
    sw->n_points = points;
    return ISW_OK;
}

/* "K=4, noise=0.1": the varied parameters of a point, into buf[size]; returns the length. */
static size_t show_point(const isw_sweep *sw, const double *vals, char *buf, size_t size) {
    size_t used = 0;
    buf[0] = '\0';
    for (int a = 0; a < sw->n_axes && used < size - 64; a++) {
        char shown[64];
        int i = sw->axes[a].param;
        const isw_param_def *p = &sw->model->params[i];
        used += (size_t)snprintf(buf + used, size - used, "%s%s=%s", a ? ", " : "", p->name,
                                 isw_param_show(p, vals[i], shown, sizeof shown));
    }
    return used;
}

static void show_size(char *buf, size_t size, double bytes) {
    if (bytes >= 1e12) snprintf(buf, size, "%.3g TB", bytes / 1e12);
    else if (bytes >= 1e9) snprintf(buf, size, "%.3g GB", bytes / 1e9);
    else snprintf(buf, size, "%.3g MB", bytes / 1e6);
}

/* Refuses a sweep whose largest task (by the model's memory estimate) exceeds max_task_memory. */
static isw_status check_memory(parser *ps, double *vals /* [n_params] scratch */) {
    isw_sweep *sw = ps->sw;
    if (sw->task_memory <= sw->max_task_memory) return ISW_OK;
    char point[512], need[32], limit[32];
    isw_sweep_point_values(sw, sw->task_memory_point, vals);
    size_t used = show_point(sw, vals, point, sizeof point);
    show_size(need, sizeof need, sw->task_memory);
    show_size(limit, sizeof limit, sw->max_task_memory);
    isw_loc loc = sw->max_task_memory_loc.line ? sw->max_task_memory_loc : sw->model_loc;
    return spec_fail_at(ps, loc, "max_task_memory",
                   "grid point %lld%s%s%s needs about %s per task (model %s's estimate), above "
                   "max_task_memory = %s; a rank of the sweep would run out of memory. Shrink the "
                   "point, or raise the limit (max_task_memory: 64GB) if each rank has that much",
                   (long long)sw->task_memory_point, used ? " (" : "", point, used ? ")" : "", need,
                   sw->model->name, limit);
}

/* Applies the model's cross-parameter constraints to every point; drops the failing ones when
 * skip_invalid, otherwise reports the first. Records the largest memory estimate of a valid
 * point. */
static isw_status check_points(parser *ps) {
    isw_sweep *sw = ps->sw;
    const isw_model *m = sw->model;
    double *vals = isw_malloc((size_t)m->n_params * sizeof *vals, ps->err);
    void *cfg = isw_malloc(m->cfg_size, ps->err);
    isw_status st = ISW_OK;
    if (!vals || !cfg) {
        st = ISW_EINTERNAL;
        goto done;
    }
    int64_t n_valid = 0;
    for (int64_t p = 0; p < sw->n_points; p++) {
        isw_sweep_point_values(sw, p, vals);
        isw_params_to_cfg(m->params, m->n_params, vals, cfg);
        int blame = 0;
        char why[256];
        if (m->check(cfg, &blame, why, sizeof why) == ISW_OK) {
            double bytes = m->memory ? m->memory(cfg) : 0.0;
            if (bytes > sw->task_memory) {
                sw->task_memory = bytes;
                sw->task_memory_point = p;
            }
            if (sw->valid) sw->valid[n_valid] = p;
            n_valid++;
            continue;
        }
        if (sw->skip_invalid) {
            if (!sw->valid) {
                /* First invalid point: from here on, keep the list of valid ones. */
                sw->valid = isw_malloc((size_t)sw->n_points * sizeof *sw->valid, ps->err);
                if (!sw->valid) {
                    st = ISW_EINTERNAL;
                    goto done;
                }
                for (int64_t q = 0; q < n_valid; q++) sw->valid[q] = q;
            }
            continue;
        }
        char point[512];
        size_t used = show_point(sw, vals, point, sizeof point);
        isw_loc loc = sw->loc[blame].line ? sw->loc[blame] : sw->model_loc;
        st = spec_fail_at(ps, loc, m->params[blame].name, "grid point %lld%s%s%s is invalid: %s (set "
                     "skip_invalid: true to drop such points)",
                     (long long)p, used ? " (" : "", point, used ? ")" : "", why);
        goto done;
    }
    if (n_valid == 0) {
        st = spec_fail_at(ps, sw->model_loc, "skip_invalid",
                     "every one of the %lld grid points is invalid; nothing to run",
                     (long long)sw->n_points);
        goto done;
    }
    sw->n_valid = n_valid;
    sw->n_tasks = n_valid * sw->replicates;
    st = check_memory(ps, vals);
done:
    free(vals);
    free(cfg);
    return st;
}

static isw_status interpret(parser *ps) {
    isw_sweep *sw = ps->sw;
    char found[64];
    yaml_node_t *root = yaml_document_get_root_node(&ps->doc);
    isw_loc start = {1, 1};
    if (!root) return spec_fail_at(ps, start, "(document)", "the file is empty; expected a mapping with model: ...");
    if (root->type != YAML_MAPPING_NODE)
        return spec_fail_at(ps, spec_loc(root), "(document)", "expected a mapping of keys (model, fixed, "
                       "grid, ...), found %s", spec_describe(root, found, sizeof found));
    isw_status st;
    if ((st = read_model(ps, root))) return st;
    if ((st = check_keys(ps, root, "", 1))) return st;
    if ((st = alloc_tables(ps))) return st;
    if ((st = read_top_scalars(ps, root))) return st;
    if (ps->max_tasks_override > 0) sw->max_tasks = ps->max_tasks_override;
    yaml_node_t *n;
    if ((n = top_value(ps, root, "fixed", NULL))) {
        if ((st = expect_mapping(ps, n, "fixed")) || (st = check_keys(ps, n, "fixed", 0)) ||
            (st = read_fixed(ps, n)))
            return st;
    }
    if ((n = top_value(ps, root, "grid", NULL))) {
        if ((st = expect_mapping(ps, n, "grid")) || (st = check_keys(ps, n, "grid", 0)) ||
            (st = read_grid(ps, n)))
            return st;
    }
    if ((n = top_value(ps, root, "zip", NULL))) {
        if (n->type == YAML_MAPPING_NODE && (st = check_keys(ps, n, "zip", 0))) return st;
        if ((st = read_zip(ps, n))) return st;
    }
    if ((st = size_grid(ps, root))) return st;
    return check_points(ps);
}

/* The base name of path without directory or extension, as the default sweep name ("stdin" for
 * standard input). */
static char *base_name(const char *path) {
    if (!strcmp(path, STDIN_PATH)) return strdup("stdin");
    const char *s = strrchr(path, '/');
    s = s ? s + 1 : path;
    size_t len = strcspn(s, ".");
    char *out = malloc(len + 1);
    if (out) {
        memcpy(out, s, len);
        out[len] = '\0';
    }
    return out;
}

isw_status isw_sweep_parse(const char *text, long len, const char *path, int64_t max_tasks,
                           isw_sweep *sw, isw_error *err) {
    char shown[512];
    spec_shown_path(shown, sizeof shown, path);
    memset(sw, 0, sizeof *sw);
    sw->replicates = 1;
    sw->max_tasks = ISW_SPEC_DEFAULT_MAX_TASKS;
    sw->max_task_memory = ISW_SPEC_DEFAULT_MAX_TASK_MEMORY;
    sw->checkpoint_every = ISW_SPEC_DEFAULT_CHECKPOINT_EVERY;
    if (len > ISW_SPEC_MAX_BYTES)
        return isw_fail(err, ISW_EINPUT, "%s: the file is %ld bytes; a sweep file may have at most %ld",
                        shown, len, ISW_SPEC_MAX_BYTES);
    if ((long)strnlen(text, (size_t)len) != len)
        return isw_fail(err, ISW_EINPUT, "%s: the file holds a NUL byte; expected YAML text", shown);
    sw->path = strdup(path);
    sw->text = malloc((size_t)len + 1);
    if (!sw->path || !sw->text) {
        isw_sweep_free(sw);
        return isw_fail(err, ISW_EINTERNAL, "out of memory reading %s", shown);
    }
    memcpy(sw->text, text, (size_t)len);
    sw->text[len] = '\0';

    parser ps = {.path = shown, .text = sw->text, .len = (size_t)len, .sw = sw, .err = err,
                 .max_tasks_override = max_tasks};
    isw_status st = spec_load_document(&ps);
    if (!st) st = interpret(&ps);
    if (!st && !sw->name) sw->name = base_name(path);
    if (!st && !sw->name) st = isw_fail(err, ISW_EINTERNAL, "out of memory");
    yaml_document_delete(&ps.doc);
    if (st) isw_sweep_free(sw);
    return st;
}


void isw_sweep_free(isw_sweep *sw) {
    if (!sw) return;
    for (int i = 0; i < sw->n_axes; i++) free(sw->axes[i].values);
    free(sw->axes);
    free(sw->dims);
    free(sw->path);
    free(sw->text);
    free(sw->name);
    free(sw->base);
    free(sw->source);
    free(sw->loc);
    free(sw->valid);
    free(sw->canon_order);
    memset(sw, 0, sizeof *sw);
}

