/* Sweep files, part 2: the values of one axis, a list or a generated range (spec_int.h).
 *
 * Generated ranges follow numpy's algorithms operation for operation (linspace, and geomspace as
 * logspace with both endpoints set to the written values), so they equal numpy's output bit for
 * bit wherever numpy computes log10 and pow with the C library, and a point's identity does not
 * depend on whether its value came from a range or a literal. This file alone is compiled with
 * -ffp-contract=off (CMakeLists.txt), so that no multiply-add is fused where numpy rounds twice. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "iclsweep/core/text.h"
#include "spec_int.h"

/* ---- axes: lists and generated ranges ------------------------------------------------------ */

/* numpy.linspace(start, stop, num) for num >= 1, operation for operation (numpy 1.24,
 * core/function_base.py): y = arange(num) * step + start, rounded twice, with step = delta / div
 * (or y / div * delta when step underflows to 0), and the last value set to stop. */
static void numpy_linspace(double start, double stop, int64_t num, double *y) {
    int64_t div = num - 1;
    double delta = stop - start;
    double step = div > 0 ? delta / (double)div : 0.0;
    for (int64_t i = 0; i < num; i++) {
        if (div <= 0) y[i] = (double)i * delta;
        else if (step == 0) y[i] = (double)i / (double)div * delta;
        else y[i] = (double)i * step;
    }
    for (int64_t i = 0; i < num; i++) y[i] += start;
    if (num > 1) y[num - 1] = stop;
}

/* numpy.geomspace(start, stop, num) for start, stop > 0: logspace(log10(start), log10(stop),
 * num) = 10 ** linspace(...), then the first value set to start and the last to stop, so both
 * endpoints are exactly the written values. (numpy's sign and complex handling is the identity
 * for positive reals.) */
static void numpy_geomspace(double start, double stop, int64_t num, double *y) {
    numpy_linspace(log10(start), log10(stop), num, y);
    for (int64_t i = 0; i < num; i++) y[i] = pow(10.0, y[i]);
    y[0] = start;
    if (num > 1) y[num - 1] = stop;
}

/* Refuses an axis of n values that alone exceeds the task limit (n x replicates > max_tasks)
 * before its values exist: the grid's product is checked only after every axis is read, and a
 * generated axis of 10^6 values costs a second in a sanitizer build (a fuzzer's slow input). */
static isw_status check_axis_size(parser *ps, isw_loc loc, const char *key, int64_t n) {
    const isw_sweep *sw = ps->sw;
    double tasks = (double)n * (double)sw->replicates;
    if (tasks <= (double)sw->max_tasks) return ISW_OK;
    return spec_fail_at(ps, loc, key,
                   "%lld values x replicates %lld = %.4g tasks exceed the limit of %lld (raise "
                   "max_tasks or pass --max-tasks if you mean it)",
                   (long long)n, (long long)sw->replicates, tasks, (long long)sw->max_tasks);
}

/* Fills vals[n] from a generator {linspace|geomspace|range: [a, b, c]}; *n in, count out. */
static isw_status generate(parser *ps, const isw_param_def *p, yaml_node_t *map, const char *key,
                           double **vals, int64_t *count) {
    char found[64];
    isw_loc loc = spec_loc(map);
    if (map->data.mapping.pairs.top - map->data.mapping.pairs.start != 1)
        return spec_fail_at(ps, loc, key,
                       "expected one of {linspace: [lo, hi, n]}, {geomspace: [lo, hi, n]}, "
                       "{range: [lo, hi, step]}, found a mapping with %d keys",
                       (int)(map->data.mapping.pairs.top - map->data.mapping.pairs.start));
    yaml_node_pair_t *pair = map->data.mapping.pairs.start;
    yaml_node_t *kn = yaml_document_get_node(&ps->doc, pair->key);
    yaml_node_t *an = yaml_document_get_node(&ps->doc, pair->value);
    const char *gen = spec_scalar(kn);
    static const char *const gens[] = {"linspace", "geomspace", "range"};
    int which = -1;
    for (int i = 0; gen && i < 3; i++)
        if (!strcmp(gen, gens[i])) which = i;
    if (which < 0) {
        const char *near = gen ? isw_suggest(gen, gens, 3) : NULL;
        return spec_fail_at(ps, spec_loc(kn), key,
                       "unknown generator %s; expected linspace, geomspace or range%s%s%s",
                       spec_describe(kn, found, sizeof found), near ? " (did you mean '" : "",
                       near ? near : "", near ? "'?)" : "");
    }
    const char *form = which == 2 ? "[lo, hi, step]" : "[lo, hi, n]";
    if (an->type != YAML_SEQUENCE_NODE || an->data.sequence.items.top - an->data.sequence.items.start != 3)
        return spec_fail_at(ps, spec_loc(an), key, "%s expects a list %s, found %s", gen, form,
                       spec_describe(an, found, sizeof found));
    double a[3];
    for (int i = 0; i < 3; i++) {
        yaml_node_t *e = yaml_document_get_node(&ps->doc, an->data.sequence.items.start[i]);
        if (!spec_scalar(e) || e->data.scalar.style != YAML_PLAIN_SCALAR_STYLE ||
            !spec_parse_number(spec_scalar(e), &a[i]))
            return spec_fail_at(ps, spec_loc(e), key, "%s expects numbers %s, found %s", gen, form,
                           spec_describe(e, found, sizeof found));
    }
    int64_t n;
    char t0[32], t1[32], t2[32]; /* the arguments as exact text, for messages */
    isw_text_double(t0, sizeof t0, a[0]);
    isw_text_double(t1, sizeof t1, a[1]);
    isw_text_double(t2, sizeof t2, a[2]);
    if (which == 2) {
        for (int i = 0; i < 3; i++)
            if (a[i] != floor(a[i]) || fabs(a[i]) > 9e15)
                return spec_fail_at(ps, loc, key, "range expects integers [lo, hi, step] of at most 9e15, "
                               "found %s", i == 0 ? t0 : i == 1 ? t1 : t2);
        /* Integers: |hi - lo| <= 1.8e16 fits int64, so the count is exact. */
        int64_t lo = (int64_t)a[0], hi = (int64_t)a[1], step = (int64_t)a[2];
        if (step == 0) return spec_fail_at(ps, loc, key, "range step must not be 0");
        if (hi != lo && (hi > lo) != (step > 0))
            return spec_fail_at(ps, loc, key, "range [%s, %s, %s] is empty", t0, t1, t2);
        int64_t span = (hi - lo) / step;
        if (span >= ISW_SPEC_MAX_AXIS)
            return spec_fail_at(ps, loc, key, "range has %lld values; an axis may have at most %ld",
                           (long long)span + 1, ISW_SPEC_MAX_AXIS);
        n = span + 1;
    } else {
        if (a[2] != floor(a[2]) || a[2] < 1 || a[2] > ISW_SPEC_MAX_AXIS)
            return spec_fail_at(ps, loc, key, "%s count n must be an integer in [1, %ld], found %s", gen,
                           ISW_SPEC_MAX_AXIS, t2);
        if (which == 1 && (a[0] <= 0 || a[1] <= 0))
            return spec_fail_at(ps, loc, key, "geomspace endpoints must both be > 0, found [%s, %s]",
                           t0, t1);
        n = (int64_t)a[2];
    }
    isw_status st = check_axis_size(ps, loc, key, n);
    if (st) return st;
    double *v = malloc((size_t)n * sizeof *v);
    if (!v) return isw_fail(ps->err, ISW_EINTERNAL, "out of memory for %s", key);
    if (which == 0) numpy_linspace(a[0], a[1], n, v);
    else if (which == 1) numpy_geomspace(a[0], a[1], n, v);
    else /* integers below 9e15 and a product below 2^63: exact in int64 and in double */
        for (int64_t i = 0; i < n; i++) v[i] = (double)((int64_t)a[0] + i * (int64_t)a[2]);
    for (int64_t i = 0; i < n; i++) {
        if (p->type == ISW_P_INT) v[i] = nearbyint(v[i]); /* a double still: no conversion */
        if (v[i] == 0) v[i] = 0.0;                          /* one zero, as for literals */
    }
    *vals = v;
    *count = n;
    return ISW_OK;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Reads one axis (a list, or a generator) of parameter p into a freshly allocated vals[*n]. */
isw_status spec_read_axis(parser *ps, const isw_param_def *p, yaml_node_t *n, const char *key,
                            int allow_repeats, double **vals, int64_t *count) {
    char found[64], expected[128];
    *vals = NULL;
    *count = 0;
    if (n->type == YAML_MAPPING_NODE) {
        isw_status st = generate(ps, p, n, key, vals, count);
        if (st) return st;
        for (int64_t i = 0; i < *count; i++) {
            if (isw_param_check(p, (*vals)[i], expected, sizeof expected) != ISW_OK) {
                char shown[32];
                isw_text_double(shown, sizeof shown, (*vals)[i]); /* exact, never converted */
                free(*vals);
                *vals = NULL;
                return spec_fail_at(ps, spec_loc(n), key, "generated value %s (number %lld) is not %s",
                               shown, (long long)i + 1, expected);
            }
        }
    } else if (n->type == YAML_SEQUENCE_NODE) {
        int64_t len = n->data.sequence.items.top - n->data.sequence.items.start;
        if (len > ISW_SPEC_MAX_AXIS)
            return spec_fail_at(ps, spec_loc(n), key, "%lld values; an axis may have at most %ld",
                           (long long)len, ISW_SPEC_MAX_AXIS);
        isw_status st = check_axis_size(ps, spec_loc(n), key, len);
        if (st) return st;
        double *v = malloc((size_t)(len ? len : 1) * sizeof *v);
        if (!v) return isw_fail(ps->err, ISW_EINTERNAL, "out of memory for %s", key);
        for (int64_t i = 0; i < len; i++) {
            yaml_node_t *e = yaml_document_get_node(&ps->doc, n->data.sequence.items.start[i]);
            if ((st = spec_param_value(ps, p, e, key, &v[i]))) {
                free(v);
                return st;
            }
        }
        *vals = v;
        *count = len;
    } else {
        return spec_fail_at(ps, spec_loc(n), key,
                       "expected a list of values or {linspace|geomspace|range: [...]}, found %s "
                       "(a single value belongs under fixed)",
                       spec_describe(n, found, sizeof found));
    }
    if (*count == 0) {
        free(*vals);
        *vals = NULL;
        return spec_fail_at(ps, spec_loc(n), key, "empty list; an axis needs at least one value");
    }
    /* Repeated values would give two tasks with one identity: refuse them. (A zip list may repeat
     * a value; its group's tuples are checked instead.) */
    if (allow_repeats) return ISW_OK;
    double *sorted = malloc((size_t)*count * sizeof *sorted);
    if (!sorted) {
        free(*vals);
        *vals = NULL;
        return isw_fail(ps->err, ISW_EINTERNAL, "out of memory for %s", key);
    }
    memcpy(sorted, *vals, (size_t)*count * sizeof *sorted);
    qsort(sorted, (size_t)*count, sizeof *sorted, cmp_double);
    for (int64_t i = 1; i < *count; i++) {
        if (sorted[i] == sorted[i - 1]) {
            char shown[64];
            isw_param_show(p, sorted[i], shown, sizeof shown);
            free(sorted);
            free(*vals);
            *vals = NULL;
            return spec_fail_at(ps, spec_loc(n), key, "value %s appears more than once%s", shown,
                           n->type == YAML_MAPPING_NODE && p->type == ISW_P_INT
                               ? " after rounding to integers"
                               : "");
        }
    }
    free(sorted);
    return ISW_OK;
}

