/* Sweep files: YAML text -> validated grid of tasks (include/iclsweep/spec.h, docs/architecture.md; README "Sweep files").
 *
 * The file is untrusted input, read whole (at most ISW_SPEC_MAX_BYTES, from a regular file or
 * standard input, never a FIFO or device that could block) and checked in passes, each bounded
 * before the next allocates:
 *   1. events: libyaml's event parser reads the whole stream once, counting nodes against
 *      ISW_SPEC_MAX_NODES and nesting against ISW_SPEC_MAX_DEPTH, and stops at the first event
 *      past either. libyaml's scanner does work proportional to the flow depth for every token,
 *      so 500,000 nested '[' (1 MB) took minutes in the loader; stopped at depth 64 they cost
 *      microseconds. Syntax and encoding errors are reported here with their real line:col.
 *   2. load: libyaml's document API, which keeps aliases as shared nodes.
 *   3. expansion: one walk with aliases expanded counts visits against ISW_SPEC_MAX_NODES, so an
 *      alias bomb or a cyclic alias is refused before any allocation grows with it.
 *   4. tree: a walk that knows each node's key path refuses scalars holding a NUL (an escaped
 *      "\0", which C strings would silently cut) and nesting past ISW_SPEC_MAX_DEPTH through
 *      aliases.
 * Interpretation then follows the schema (top level -> fixed / grid / zip -> values), so its
 * recursion depth is bounded by the schema.
 *
 * Generated ranges follow numpy's algorithms operation for operation (linspace, and geomspace as
 * logspace with both endpoints set to the written values), so they equal numpy's output bit for
 * bit wherever numpy computes log10 and pow with the C library, and a point's identity does not
 * depend on whether its value came from a range or a literal. This file is compiled with
 * -ffp-contract=off so that no multiply-add is fused where numpy rounds twice.
 *
 * Every message is "path:line:col: key: what was found; what was expected". The grid's size is
 * checked against max_tasks with overflow-safe products before any per-axis or per-point memory is
 * allocated for it. */
#include "iclsweep/spec/spec.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>

#include "iclsweep/core/hash.h"
#include "iclsweep/core/text.h"

/* Parsing state: the document, the sweep being filled, and where to report. */
typedef struct {
    yaml_document_t doc;
    const char *path;       /* the file's name as messages show it (escaped) */
    const char *text;       /* text[len]: the YAML, for locating encoding errors */
    size_t len;
    isw_sweep *sw;
    isw_error *err;
    int64_t max_tasks_override; /* --max-tasks; 0 = the file's or the default */
} parser;

/* The sweep file name given as "-": standard input. */
#define STDIN_PATH "-"
#define STDIN_SHOWN "<stdin>"

static const char *const top_keys[] = {"name",         "description", "model",     "seed", "replicates",
                                       "skip_invalid", "max_tasks",   "max_task_memory", "fixed",     "grid", "zip"};
#define N_TOP_KEYS ((int)(sizeof top_keys / sizeof top_keys[0]))

/* ---- messages ---------------------------------------------------------------------------- */

static isw_loc node_loc(const yaml_node_t *n) {
    isw_loc l = {(int)n->start_mark.line + 1, (int)n->start_mark.column + 1};
    return l;
}

__attribute__((format(printf, 4, 5))) static isw_status fail_at(parser *ps, isw_loc loc,
                                                                const char *key, const char *fmt,
                                                                ...) {
    char what[ISW_ERROR_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    if (loc.line > 0)
        return isw_fail(ps->err, ISW_EINPUT, "%s:%d:%d: %s: %s", ps->path, loc.line, loc.col, key,
                        what);
    return isw_fail(ps->err, ISW_EINPUT, "%s: %s: %s", ps->path, key, what);
}

/* A short quoted rendering of what a node holds, for "found ..." in messages. */
static const char *describe(const yaml_node_t *n, char *buf, size_t size) {
    switch (n->type) {
    case YAML_SCALAR_NODE: {
        char shown[48]; /* about 40 characters, control bytes escaped, "..." when cut */
        if (n->data.scalar.length == 0) snprintf(buf, size, "nothing");
        else snprintf(buf, size, "'%s'", isw_text_escape_len(shown, sizeof shown,
                                                            (const char *)n->data.scalar.value,
                                                            n->data.scalar.length));
        break;
    }
    case YAML_SEQUENCE_NODE: {
        long items = (long)(n->data.sequence.items.top - n->data.sequence.items.start);
        snprintf(buf, size, "a list of %ld item%s", items, items == 1 ? "" : "s");
        break;
    }
    case YAML_MAPPING_NODE: snprintf(buf, size, "a mapping"); break;
    default: snprintf(buf, size, "an empty node"); break;
    }
    return buf;
}

static const char *scalar(const yaml_node_t *n) {
    return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

/* The message key "section.name" (or "name" when section is "") for key node kn, its text
 * escaped for the terminal, into buf[size]; returns buf. */
static const char *key_path(char *buf, size_t size, const char *section, const yaml_node_t *kn) {
    char name[128];
    if (kn && kn->type == YAML_SCALAR_NODE)
        isw_text_escape_len(name, sizeof name, (const char *)kn->data.scalar.value,
                            kn->data.scalar.length);
    else snprintf(name, sizeof name, "(key)");
    snprintf(buf, size, "%s%s%s", section, section[0] ? "." : "", name);
    return buf;
}

static int is_null_scalar(const yaml_node_t *n) {
    const char *s = scalar(n);
    if (!s || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE) return 0;
    return s[0] == '\0' || strcmp(s, "~") == 0 || strcmp(s, "null") == 0 || strcmp(s, "Null") == 0 ||
           strcmp(s, "NULL") == 0;
}

/* ---- limits: a walk with aliases expanded ------------------------------------------------- */

/* Pushes node id onto the walk's stack, growing it; returns 0 when out of memory. */
static int push_node(int **stack, size_t *cap, size_t *top, int id) {
    if (*top == *cap) {
        int *grown = realloc(*stack, 2 * *cap * sizeof **stack);
        if (!grown) return 0;
        *stack = grown;
        *cap *= 2;
    }
    (*stack)[(*top)++] = id;
    return 1;
}

/* Walks the whole document as a naive consumer would, expanding aliases, and refuses it past
 * ISW_SPEC_MAX_NODES visits (this also ends a cyclic alias). */
static isw_status check_expansion(parser *ps) {
    size_t cap = 256, top = 0;
    int *stack = malloc(cap * sizeof *stack);
    long visited = 0;
    isw_status st = ISW_OK;
    if (!stack || !push_node(&stack, &cap, &top, 1)) /* node ids are 1-based; 1 is the root */
        st = isw_fail(ps->err, ISW_EINTERNAL, "out of memory reading %s", ps->path);
    while (!st && top > 0) {
        yaml_node_t *n = yaml_document_get_node(&ps->doc, stack[--top]);
        if (!n) continue;
        if (++visited > ISW_SPEC_MAX_NODES) {
            st = fail_at(ps, node_loc(n), "(document)",
                         "more than %ld YAML nodes once aliases are expanded; refusing (alias bomb "
                         "or cyclic alias?)",
                         ISW_SPEC_MAX_NODES);
            break;
        }
        int ok = 1;
        if (n->type == YAML_SEQUENCE_NODE) {
            for (yaml_node_item_t *it = n->data.sequence.items.start;
                 ok && it < n->data.sequence.items.top; it++)
                ok = push_node(&stack, &cap, &top, *it);
        } else if (n->type == YAML_MAPPING_NODE) {
            for (yaml_node_pair_t *p = n->data.mapping.pairs.start;
                 ok && p < n->data.mapping.pairs.top; p++)
                ok = push_node(&stack, &cap, &top, p->key) && push_node(&stack, &cap, &top, p->value);
        }
        if (!ok) st = isw_fail(ps->err, ISW_EINTERNAL, "out of memory reading %s", ps->path);
    }
    free(stack);
    return st;
}

/* ---- YAML errors and the bounded passes ---------------------------------------------------- */

/* Line and column (1-based; columns count characters, as libyaml's marks do) of byte offset off
 * in text[len]. libyaml reports encoding errors as a byte offset with no mark. */
static isw_loc offset_loc(const char *text, size_t len, size_t off) {
    isw_loc l = {1, 1};
    size_t i = 0;
    if (off > len) off = len;
    if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0) i = 3; /* a BOM takes no column */
    if (i > off) i = off;
    for (; i < off; i++) {
        unsigned char c = (unsigned char)text[i];
        if (c == '\n' || (c == '\r' && (i + 1 >= len || text[i + 1] != '\n'))) {
            l.line++;
            l.col = 1;
        } else if (c != '\r' && (c & 0xC0) != 0x80) { /* a UTF-8 continuation byte adds none */
            l.col++;
        }
    }
    return l;
}

/* Reports the error libyaml's parser yp stopped at: an encoding error at its byte, anything else
 * at libyaml's mark. Returns the status. */
static isw_status yaml_fail(parser *ps, const yaml_parser_t *yp) {
    const char *problem = yp->problem ? yp->problem : "unknown";
    if (yp->error == YAML_MEMORY_ERROR)
        return isw_fail(ps->err, ISW_EINTERNAL, "out of memory reading %s", ps->path);
    if (yp->error == YAML_READER_ERROR) {
        char value[32] = "";
        if (yp->problem_value >= 0) snprintf(value, sizeof value, " (0x%02x)", (unsigned)yp->problem_value);
        return fail_at(ps, offset_loc(ps->text, ps->len, yp->problem_offset), "(document)",
                       "YAML encoding error: %s%s; expected UTF-8 text", problem, value);
    }
    isw_loc at = {(int)yp->problem_mark.line + 1, (int)yp->problem_mark.column + 1};
    return fail_at(ps, at, "(document)", "YAML syntax error: %s%s%s", problem,
                   yp->context ? " " : "", yp->context ? yp->context : "");
}

/* Pass 1 (see the header): reads the whole stream as events and stops at the first node past
 * ISW_SPEC_MAX_NODES or the first list or mapping nested past ISW_SPEC_MAX_DEPTH, or at a syntax
 * or encoding error. Allocates nothing that grows with the input; time is linear in it. */
static isw_status check_events(parser *ps) {
    yaml_parser_t yp;
    if (!yaml_parser_initialize(&yp)) return isw_fail(ps->err, ISW_EINTERNAL, "cannot initialise the YAML parser");
    yaml_parser_set_input_string(&yp, (const unsigned char *)ps->text, ps->len);
    long nodes = 0;
    int depth = 0, done = 0;
    isw_status st = ISW_OK;
    while (!st && !done) {
        yaml_event_t ev;
        if (!yaml_parser_parse(&yp, &ev)) {
            st = yaml_fail(ps, &yp);
            break;
        }
        isw_loc at = {(int)ev.start_mark.line + 1, (int)ev.start_mark.column + 1};
        int opens = ev.type == YAML_SEQUENCE_START_EVENT || ev.type == YAML_MAPPING_START_EVENT;
        int node = opens || ev.type == YAML_SCALAR_EVENT || ev.type == YAML_ALIAS_EVENT;
        if (ev.type == YAML_SEQUENCE_END_EVENT || ev.type == YAML_MAPPING_END_EVENT) depth--;
        done = ev.type == YAML_STREAM_END_EVENT;
        if (opens && ++depth > ISW_SPEC_MAX_DEPTH)
            st = fail_at(ps, at, "(document)",
                         "lists and mappings nested deeper than %d levels; a sweep file needs 5 "
                         "at most",
                         ISW_SPEC_MAX_DEPTH);
        else if (node && ++nodes > ISW_SPEC_MAX_NODES)
            st = fail_at(ps, at, "(document)", "more than %ld YAML nodes; refusing",
                         ISW_SPEC_MAX_NODES);
        yaml_event_delete(&ev);
    }
    yaml_parser_delete(&yp);
    return st;
}

/* Refuses scalar node n (a key when is_key), which holds a NUL byte; path names it. */
static isw_status fail_nul(parser *ps, const yaml_node_t *n, const char *path, int is_key) {
    size_t at = strlen(scalar(n));
    return fail_at(ps, node_loc(n), path[0] ? path : "(document)",
                   "the %s holds a NUL character (\\0) at byte %zu; expected text without NUL",
                   is_key ? "key" : "value", at + 1);
}

static int holds_nul(const yaml_node_t *n) {
    return n->type == YAML_SCALAR_NODE && strlen(scalar(n)) != n->data.scalar.length;
}

/* Pass 4 (see the header): refuses any key or value holding a NUL byte (libyaml keeps an escaped
 * "\0" of a quoted scalar, and every C string after it would be cut short: "K\0xx" would read
 * as K) and nesting deeper than ISW_SPEC_MAX_DEPTH once aliases are expanded. path is n's key
 * path for messages ("" at the top), depth its depth. Visits are bounded by check_expansion,
 * which runs first. */
static isw_status check_tree(parser *ps, yaml_node_t *n, const char *path, int depth) {
    char child[256];
    isw_status st = ISW_OK;
    if (!n) return ISW_OK;
    if (depth > ISW_SPEC_MAX_DEPTH)
        return fail_at(ps, node_loc(n), path[0] ? path : "(document)",
                       "nested deeper than %d levels once aliases are expanded; a sweep file "
                       "needs 5 at most",
                       ISW_SPEC_MAX_DEPTH);
    if (n->type == YAML_SCALAR_NODE && holds_nul(n)) return fail_nul(ps, n, path, 0);
    if (n->type == YAML_SEQUENCE_NODE) {
        long i = 0;
        for (yaml_node_item_t *it = n->data.sequence.items.start;
             !st && it < n->data.sequence.items.top; it++, i++) {
            snprintf(child, sizeof child, "%s[%ld]", path, i);
            st = check_tree(ps, yaml_document_get_node(&ps->doc, *it), child, depth + 1);
        }
    } else if (n->type == YAML_MAPPING_NODE) {
        for (yaml_node_pair_t *p = n->data.mapping.pairs.start; !st && p < n->data.mapping.pairs.top; p++) {
            yaml_node_t *kn = yaml_document_get_node(&ps->doc, p->key);
            key_path(child, sizeof child, path, kn);
            if (kn && holds_nul(kn)) return fail_nul(ps, kn, child, 1);
            if (kn && kn->type != YAML_SCALAR_NODE) st = check_tree(ps, kn, child, depth + 1);
            if (!st) st = check_tree(ps, yaml_document_get_node(&ps->doc, p->value), child, depth + 1);
        }
    }
    return st;
}

/* ---- scalars ----------------------------------------------------------------------------- */

/* Parses a YAML number: decimal integer or floating literal (no hex, no inf/nan). */
static int parse_number(const char *s, double *out) {
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
static isw_status param_value(parser *ps, const isw_param_def *p, yaml_node_t *n, const char *key,
                              double *v) {
    char found[64], expected[128];
    isw_param_expected(p, expected, sizeof expected);
    const char *s = scalar(n);
    if (!s || is_null_scalar(n))
        return fail_at(ps, node_loc(n), key, "expected %s, found %s", expected,
                       describe(n, found, sizeof found));
    int quoted = n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE;
    int ok = 0;
    switch (p->type) {
    case ISW_P_INT:
    case ISW_P_REAL: ok = !quoted && parse_number(s, v); break;
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
                return fail_at(ps, node_loc(n), key, "expected %s, found %s (did you mean '%s'?)",
                               expected, describe(n, found, sizeof found), near);
        }
        return fail_at(ps, node_loc(n), key, "expected %s, found %s%s", expected,
                       describe(n, found, sizeof found), quoted ? " (a quoted string)" : "");
    }
    if (isw_param_check(p, *v, expected, sizeof expected) != ISW_OK)
        return fail_at(ps, node_loc(n), key, "expected %s, found %s", expected,
                       describe(n, found, sizeof found));
    return ISW_OK;
}

/* ---- top-level scalars --------------------------------------------------------------------- */

static isw_status get_string(parser *ps, yaml_node_t *n, const char *key, char **out) {
    char found[64];
    if (!scalar(n) || is_null_scalar(n))
        return fail_at(ps, node_loc(n), key, "expected a string, found %s",
                       describe(n, found, sizeof found));
    free(*out);
    *out = strdup(scalar(n));
    if (!*out) return isw_fail(ps->err, ISW_EINTERNAL, "out of memory");
    return ISW_OK;
}

static isw_status get_int(parser *ps, yaml_node_t *n, const char *key, double lo, double hi,
                          int64_t *out) {
    char found[64];
    double v;
    const char *s = scalar(n);
    if (!s || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE || !parse_number(s, &v) ||
        v != floor(v) || v < lo || v > hi)
        return fail_at(ps, node_loc(n), key, "expected an integer in [%.0f, %.0f], found %s", lo, hi,
                       describe(n, found, sizeof found));
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
    if (!parse_number(num, &v) || !(v >= 0)) return 0;
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
    const char *s = scalar(n);
    double v;
    if (!s || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE || !parse_bytes(s, &v) || v < 1e6 || v > 1e18)
        return fail_at(ps, node_loc(n), key, "expected a size from 1MB to 1000000TB such as 512MB, 4GiB "
                       "or 2e9 (bytes), found %s", describe(n, found, sizeof found));
    *out = v;
    return ISW_OK;
}

static isw_status get_seed(parser *ps, yaml_node_t *n, uint64_t *out) {
    char found[64];
    const char *s = scalar(n);
    int ok = s && n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE && *s;
    for (const char *c = s; ok && *c; c++) ok = isdigit((unsigned char)*c);
    char *end = NULL;
    errno = 0;
    unsigned long long v = ok ? strtoull(s, &end, 10) : 0;
    if (!ok || errno == ERANGE || *end)
        return fail_at(ps, node_loc(n), "seed", "expected an integer in [0, 2^64), found %s",
                       describe(n, found, sizeof found));
    *out = (uint64_t)v;
    return ISW_OK;
}

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
    return fail_at(ps, loc, key,
                   "%lld values x replicates %lld = %.4g tasks exceed the limit of %lld (raise "
                   "max_tasks or pass --max-tasks if you mean it)",
                   (long long)n, (long long)sw->replicates, tasks, (long long)sw->max_tasks);
}

/* Fills vals[n] from a generator {linspace|geomspace|range: [a, b, c]}; *n in, count out. */
static isw_status generate(parser *ps, const isw_param_def *p, yaml_node_t *map, const char *key,
                           double **vals, int64_t *count) {
    char found[64];
    isw_loc loc = node_loc(map);
    if (map->data.mapping.pairs.top - map->data.mapping.pairs.start != 1)
        return fail_at(ps, loc, key,
                       "expected one of {linspace: [lo, hi, n]}, {geomspace: [lo, hi, n]}, "
                       "{range: [lo, hi, step]}, found a mapping with %d keys",
                       (int)(map->data.mapping.pairs.top - map->data.mapping.pairs.start));
    yaml_node_pair_t *pair = map->data.mapping.pairs.start;
    yaml_node_t *kn = yaml_document_get_node(&ps->doc, pair->key);
    yaml_node_t *an = yaml_document_get_node(&ps->doc, pair->value);
    const char *gen = scalar(kn);
    static const char *const gens[] = {"linspace", "geomspace", "range"};
    int which = -1;
    for (int i = 0; gen && i < 3; i++)
        if (!strcmp(gen, gens[i])) which = i;
    if (which < 0) {
        const char *near = gen ? isw_suggest(gen, gens, 3) : NULL;
        return fail_at(ps, node_loc(kn), key,
                       "unknown generator %s; expected linspace, geomspace or range%s%s%s",
                       describe(kn, found, sizeof found), near ? " (did you mean '" : "",
                       near ? near : "", near ? "'?)" : "");
    }
    const char *form = which == 2 ? "[lo, hi, step]" : "[lo, hi, n]";
    if (an->type != YAML_SEQUENCE_NODE || an->data.sequence.items.top - an->data.sequence.items.start != 3)
        return fail_at(ps, node_loc(an), key, "%s expects a list %s, found %s", gen, form,
                       describe(an, found, sizeof found));
    double a[3];
    for (int i = 0; i < 3; i++) {
        yaml_node_t *e = yaml_document_get_node(&ps->doc, an->data.sequence.items.start[i]);
        if (!scalar(e) || e->data.scalar.style != YAML_PLAIN_SCALAR_STYLE ||
            !parse_number(scalar(e), &a[i]))
            return fail_at(ps, node_loc(e), key, "%s expects numbers %s, found %s", gen, form,
                           describe(e, found, sizeof found));
    }
    int64_t n;
    char t0[32], t1[32], t2[32]; /* the arguments as exact text, for messages */
    isw_text_double(t0, sizeof t0, a[0]);
    isw_text_double(t1, sizeof t1, a[1]);
    isw_text_double(t2, sizeof t2, a[2]);
    if (which == 2) {
        for (int i = 0; i < 3; i++)
            if (a[i] != floor(a[i]) || fabs(a[i]) > 9e15)
                return fail_at(ps, loc, key, "range expects integers [lo, hi, step] of at most 9e15, "
                               "found %s", i == 0 ? t0 : i == 1 ? t1 : t2);
        /* Integers: |hi - lo| <= 1.8e16 fits int64, so the count is exact. */
        int64_t lo = (int64_t)a[0], hi = (int64_t)a[1], step = (int64_t)a[2];
        if (step == 0) return fail_at(ps, loc, key, "range step must not be 0");
        if (hi != lo && (hi > lo) != (step > 0))
            return fail_at(ps, loc, key, "range [%s, %s, %s] is empty", t0, t1, t2);
        int64_t span = (hi - lo) / step;
        if (span >= ISW_SPEC_MAX_AXIS)
            return fail_at(ps, loc, key, "range has %lld values; an axis may have at most %ld",
                           (long long)span + 1, ISW_SPEC_MAX_AXIS);
        n = span + 1;
    } else {
        if (a[2] != floor(a[2]) || a[2] < 1 || a[2] > ISW_SPEC_MAX_AXIS)
            return fail_at(ps, loc, key, "%s count n must be an integer in [1, %ld], found %s", gen,
                           ISW_SPEC_MAX_AXIS, t2);
        if (which == 1 && (a[0] <= 0 || a[1] <= 0))
            return fail_at(ps, loc, key, "geomspace endpoints must both be > 0, found [%s, %s]",
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
static isw_status read_axis(parser *ps, const isw_param_def *p, yaml_node_t *n, const char *key,
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
                return fail_at(ps, node_loc(n), key, "generated value %s (number %lld) is not %s",
                               shown, (long long)i + 1, expected);
            }
        }
    } else if (n->type == YAML_SEQUENCE_NODE) {
        int64_t len = n->data.sequence.items.top - n->data.sequence.items.start;
        if (len > ISW_SPEC_MAX_AXIS)
            return fail_at(ps, node_loc(n), key, "%lld values; an axis may have at most %ld",
                           (long long)len, ISW_SPEC_MAX_AXIS);
        isw_status st = check_axis_size(ps, node_loc(n), key, len);
        if (st) return st;
        double *v = malloc((size_t)(len ? len : 1) * sizeof *v);
        if (!v) return isw_fail(ps->err, ISW_EINTERNAL, "out of memory for %s", key);
        for (int64_t i = 0; i < len; i++) {
            yaml_node_t *e = yaml_document_get_node(&ps->doc, n->data.sequence.items.start[i]);
            if ((st = param_value(ps, p, e, key, &v[i]))) {
                free(v);
                return st;
            }
        }
        *vals = v;
        *count = len;
    } else {
        return fail_at(ps, node_loc(n), key,
                       "expected a list of values or {linspace|geomspace|range: [...]}, found %s "
                       "(a single value belongs under fixed)",
                       describe(n, found, sizeof found));
    }
    if (*count == 0) {
        free(*vals);
        *vals = NULL;
        return fail_at(ps, node_loc(n), key, "empty list; an axis needs at least one value");
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
            return fail_at(ps, node_loc(n), key, "value %s appears more than once%s", shown,
                           n->type == YAML_MAPPING_NODE && p->type == ISW_P_INT
                               ? " after rounding to integers"
                               : "");
        }
    }
    free(sorted);
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
    const char *name = scalar(kn);
    if (!name || is_null_scalar(kn))
        return fail_at(ps, node_loc(kn), section, "expected a parameter name, found %s",
                       describe(kn, found, sizeof found));
    key_path(key, sizeof key, section, kn);
    *index = isw_param_find(m->params, m->n_params, name);
    if (*index >= 0) return ISW_OK;
    const char *names[256];
    int n = m->n_params < 256 ? m->n_params : 256;
    for (int i = 0; i < n; i++) names[i] = m->params[i].name;
    const char *near = isw_suggest(name, names, n);
    if (near)
        return fail_at(ps, node_loc(kn), key, "unknown parameter of model %s (did you mean '%s'?)",
                       m->name, near);
    return fail_at(ps, node_loc(kn), key,
                   "unknown parameter of model %s (`iclsweep params %s` lists them)", m->name,
                   m->name);
}

/* Records that parameter i is set by `source` at loc, refusing a second setting. */
static isw_status claim_param(parser *ps, int i, isw_source source, isw_loc loc, const char *key) {
    isw_sweep *sw = ps->sw;
    if (sw->source[i] != ISW_SRC_DEFAULT)
        return fail_at(ps, loc, key, "%s is already set in %s at line %d:%d; set it in one place",
                       sw->model->params[i].name, source_name(sw->source[i]), sw->loc[i].line,
                       sw->loc[i].col);
    sw->source[i] = source;
    sw->loc[i] = loc;
    return ISW_OK;
}

static isw_status expect_mapping(parser *ps, yaml_node_t *n, const char *key) {
    char found[64];
    if (n->type != YAML_MAPPING_NODE)
        return fail_at(ps, node_loc(n), key, "expected a mapping of parameter: value, found %s",
                       describe(n, found, sizeof found));
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
        if ((st = find_param(ps, kn, "fixed", &i))) return st;
        key_path(key, sizeof key, "fixed", kn);
        if ((st = claim_param(ps, i, ISW_SRC_FIXED, node_loc(kn), key))) return st;
        if (vn->type != YAML_SCALAR_NODE)
            return fail_at(ps, node_loc(vn), key,
                           "expected a single value, found %s (lists of values belong under grid "
                           "or zip)",
                           vn->type == YAML_SEQUENCE_NODE ? "a list" : "a mapping");
        if ((st = param_value(ps, &ps->sw->model->params[i], vn, key, &ps->sw->base[i]))) return st;
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
        if ((st = find_param(ps, kn, "grid", &i))) return st;
        key_path(key, sizeof key, "grid", kn);
        if ((st = claim_param(ps, i, ISW_SRC_GRID, node_loc(kn), key))) return st;
        double *vals;
        int64_t n;
        if ((st = read_axis(ps, &ps->sw->model->params[i], vn, key, 0, &vals, &n))) return st;
        if ((st = push_axis(ps, i, vals, node_loc(kn)))) return st;
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
            st = fail_at(ps, node_loc(map), section,
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
        if ((st = find_param(ps, kn, section, &i))) return st;
        key_path(key, sizeof key, section, kn);
        if ((st = claim_param(ps, i, ISW_SRC_ZIP, node_loc(kn), key))) return st;
        double *vals;
        int64_t n;
        if ((st = read_axis(ps, &ps->sw->model->params[i], vn, key, 1, &vals, &n))) return st;
        if (len >= 0 && n != len) {
            free(vals);
            return fail_at(ps, node_loc(vn), key,
                           "has %lld values but %s has %lld; zipped lists must have equal lengths",
                           (long long)n, first_key, (long long)len);
        }
        if (len < 0) {
            len = n;
            snprintf(first_key, sizeof first_key, "%s", key);
        }
        if ((st = push_axis(ps, i, vals, node_loc(kn)))) return st;
    }
    if (len < 0) return fail_at(ps, node_loc(map), section, "empty zip group");
    if ((st = check_zip_tuples(ps, first, ps->sw->n_axes - first, len, map, section))) return st;
    return push_dim(ps, len, first, ps->sw->n_axes - first, 1);
}

static isw_status read_zip(parser *ps, yaml_node_t *n) {
    char found[64];
    if (n->type == YAML_MAPPING_NODE) return read_zip_group(ps, n, "zip");
    if (n->type != YAML_SEQUENCE_NODE)
        return fail_at(ps, node_loc(n), "zip",
                       "expected a mapping of parameter: list (or a list of such mappings), found %s",
                       describe(n, found, sizeof found));
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
        if (scalar(kn) && !strcmp(scalar(kn), name)) {
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
        const char *k = scalar(yaml_document_get_node(&ps->doc, map->data.mapping.pairs.start[i].key));
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
        const char *k = scalar(kn);
        if (!k) {
            st = fail_at(ps, node_loc(kn), section, "expected a key name, found %s",
                         describe(kn, found, sizeof found));
            break;
        }
        key_path(key, sizeof key, top_level ? "" : section, kn);
        if (first[i] >= 0) {
            isw_loc at = node_loc(yaml_document_get_node(&ps->doc, map->data.mapping.pairs.start[first[i]].key));
            st = fail_at(ps, node_loc(kn), key, "key appears twice (first at line %d:%d)", at.line, at.col);
            break;
        }
        if (top_level) {
            int known = 0;
            for (int t = 0; t < N_TOP_KEYS; t++) known |= !strcmp(top_keys[t], k);
            if (known) continue;
            const char *near = isw_suggest(k, top_keys, N_TOP_KEYS);
            if (!near && ps->sw->model && isw_param_find(ps->sw->model->params, ps->sw->model->n_params, k) >= 0)
                st = fail_at(ps, node_loc(kn), key,
                             "unknown top-level key; model parameters go under fixed, grid or zip");
            else if (near)
                st = fail_at(ps, node_loc(kn), key, "unknown top-level key (did you mean '%s'?)", near);
            else
                st = fail_at(ps, node_loc(kn), key,
                             "unknown top-level key; expected one of name, description, model, "
                             "seed, replicates, skip_invalid, max_tasks, max_task_memory, fixed, "
                             "grid, zip");
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
        return fail_at(ps, loc, "model", "missing; expected model: %s", isw_model_names());
    const char *name = scalar(n);
    ps->sw->model_loc = node_loc(kn);
    ps->sw->model = name ? isw_model_find(name) : NULL;
    if (!ps->sw->model) {
        const char *names[8];
        int nm = isw_model_count() < 8 ? isw_model_count() : 8;
        for (int i = 0; i < nm; i++) names[i] = isw_model_at(i)->name;
        const char *near = name ? isw_suggest(name, names, nm) : NULL;
        return fail_at(ps, node_loc(n), "model", "expected one of %s, found %s%s%s%s",
                       isw_model_names(), describe(n, found, sizeof found),
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
        return fail_at(ps, node_loc(n), "description", "expected text, found %s",
                       describe(n, found, sizeof found));
    if ((n = top_value(ps, root, "seed", NULL)) && (st = get_seed(ps, n, &sw->seed))) return st;
    if ((n = top_value(ps, root, "replicates", NULL)) &&
        (st = get_int(ps, n, "replicates", 1, 1e6, &sw->replicates)))
        return st;
    if ((n = top_value(ps, root, "max_tasks", NULL)) &&
        (st = get_int(ps, n, "max_tasks", 1, (double)ISW_SPEC_LIMIT_MAX_TASKS, &sw->max_tasks)))
        return st;
    if ((n = top_value(ps, root, "max_task_memory", NULL))) {
        if ((st = get_bytes(ps, n, "max_task_memory", &sw->max_task_memory))) return st;
        sw->max_task_memory_loc = node_loc(n);
    }
    if ((n = top_value(ps, root, "skip_invalid", &kn))) {
        if (!scalar(n) || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE || !parse_bool(scalar(n), &b))
            return fail_at(ps, node_loc(n), "skip_invalid", "expected true or false, found %s",
                           describe(n, found, sizeof found));
        sw->skip_invalid = b != 0;
    }
    return ISW_OK;
}

/* n_points = product of dimension lengths, refused past max_tasks before any point exists. */
static isw_status size_grid(parser *ps, yaml_node_t *root) {
    isw_sweep *sw = ps->sw;
    yaml_node_t *kn = NULL;
    isw_loc loc = {0, 0};
    if (top_value(ps, root, "grid", &kn) || top_value(ps, root, "zip", &kn)) loc = node_loc(kn);
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
        return fail_at(ps, loc, sw->n_dims ? (sw->dims[0].is_zip ? "zip" : "grid") : "replicates",
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
    return fail_at(ps, loc, "max_task_memory",
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
        st = fail_at(ps, loc, m->params[blame].name, "grid point %lld%s%s%s is invalid: %s (set "
                     "skip_invalid: true to drop such points)",
                     (long long)p, used ? " (" : "", point, used ? ")" : "", why);
        goto done;
    }
    if (n_valid == 0) {
        st = fail_at(ps, sw->model_loc, "skip_invalid",
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
    if (!root) return fail_at(ps, start, "(document)", "the file is empty; expected a mapping with model: ...");
    if (root->type != YAML_MAPPING_NODE)
        return fail_at(ps, node_loc(root), "(document)", "expected a mapping of keys (model, fixed, "
                       "grid, ...), found %s", describe(root, found, sizeof found));
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

/* The sweep file's name as messages show it, escaped for the terminal, into buf[size]. */
static const char *shown_path(char *buf, size_t size, const char *path) {
    return isw_text_escape(buf, size, strcmp(path, STDIN_PATH) ? path : STDIN_SHOWN);
}

/* Passes 1-4 of the header on ps->text: the document is loaded into ps->doc (which the caller
 * deletes, also on failure); a second document is refused. */
static isw_status load_document(parser *ps) {
    isw_status st = check_events(ps);
    if (st) return st;
    yaml_parser_t yp;
    if (!yaml_parser_initialize(&yp)) return isw_fail(ps->err, ISW_EINTERNAL, "cannot initialise the YAML parser");
    yaml_parser_set_input_string(&yp, (const unsigned char *)ps->text, ps->len);
    if (!yaml_parser_load(&yp, &ps->doc)) {
        st = yaml_fail(ps, &yp);
        memset(&ps->doc, 0, sizeof ps->doc); /* libyaml leaves nothing to delete on failure */
        yaml_parser_delete(&yp);
        return st;
    }
    if (yaml_document_get_root_node(&ps->doc)) {
        /* A second document would be silently ignored: refuse it instead. */
        yaml_document_t second;
        if (yaml_parser_load(&yp, &second)) {
            yaml_node_t *r = yaml_document_get_root_node(&second);
            if (r) st = fail_at(ps, node_loc(r), "(document)",
                                "a second YAML document; a sweep file holds exactly one");
            yaml_document_delete(&second);
        } else {
            st = yaml_fail(ps, &yp);
        }
    }
    yaml_parser_delete(&yp);
    yaml_node_t *root = yaml_document_get_root_node(&ps->doc);
    if (!st && root) st = check_expansion(ps);
    if (!st && root) st = check_tree(ps, root, "", 1);
    return st;
}

isw_status isw_sweep_parse(const char *text, long len, const char *path, int64_t max_tasks,
                           isw_sweep *sw, isw_error *err) {
    char shown[512];
    shown_path(shown, sizeof shown, path);
    memset(sw, 0, sizeof *sw);
    sw->replicates = 1;
    sw->max_tasks = ISW_SPEC_DEFAULT_MAX_TASKS;
    sw->max_task_memory = ISW_SPEC_DEFAULT_MAX_TASK_MEMORY;
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
    isw_status st = load_document(&ps);
    if (!st) st = interpret(&ps);
    if (!st && !sw->name) sw->name = base_name(path);
    if (!st && !sw->name) st = isw_fail(err, ISW_EINTERNAL, "out of memory");
    yaml_document_delete(&ps.doc);
    if (st) isw_sweep_free(sw);
    return st;
}

/* What kind of file st_mode is, for "not a regular file" messages. */
static const char *file_kind(mode_t mode) {
    if (S_ISDIR(mode)) return "a directory";
    if (S_ISFIFO(mode)) return "a FIFO";
    if (S_ISCHR(mode)) return "a character device";
    if (S_ISBLK(mode)) return "a block device";
    if (S_ISSOCK(mode)) return "a socket";
    return "not a regular file";
}

/* Opens path for reading into *fd, refusing anything but a regular file: O_NONBLOCK makes the
 * open of a FIFO with no writer return at once instead of blocking, and fstat then says what it
 * is. shown names the file in messages. */
static isw_status open_regular(const char *path, const char *shown, int *fd, isw_error *err) {
    struct stat sb;
    *fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (*fd < 0)
        return isw_fail(err, ISW_EINPUT, "%s: cannot open the sweep file: %s", shown, strerror(errno));
    isw_status st = ISW_OK;
    if (fstat(*fd, &sb) != 0)
        st = isw_fail(err, ISW_EINPUT, "%s: cannot read the sweep file: %s", shown, strerror(errno));
    else if (!S_ISREG(sb.st_mode))
        st = isw_fail(err, ISW_EINPUT,
                      "%s: cannot read the sweep file: it is %s; a sweep file must be a regular "
                      "file, or - to read standard input",
                      shown, file_kind(sb.st_mode));
    if (st) {
        close(*fd);
        *fd = -1;
        return st;
    }
    int flags = fcntl(*fd, F_GETFL); /* reads of a regular file never block; clear it anyway */
    if (flags >= 0) fcntl(*fd, F_SETFL, flags & ~O_NONBLOCK);
    return ISW_OK;
}

/* Reads up to cap bytes from fd into buf until end of file; returns the count, or -1 on a read
 * error (errno says which). */
static long read_all(int fd, char *buf, size_t cap) {
    size_t got = 0;
    while (got < cap) {
        ssize_t r = read(fd, buf + got, cap - got);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) return -1;
        if (r == 0) break;
        got += (size_t)r;
    }
    return (long)got;
}

isw_status isw_sweep_load(const char *path, int64_t max_tasks, isw_sweep *sw, isw_error *err) {
    char shown[512];
    shown_path(shown, sizeof shown, path);
    memset(sw, 0, sizeof *sw);
    int from_stdin = !strcmp(path, STDIN_PATH), fd = STDIN_FILENO;
    isw_status st = from_stdin ? ISW_OK : open_regular(path, shown, &fd, err);
    if (st) return st;
    char *buf = malloc((size_t)ISW_SPEC_MAX_BYTES + 1);
    long len = buf ? read_all(fd, buf, (size_t)ISW_SPEC_MAX_BYTES + 1) : 0;
    int read_errno = errno;
    if (!from_stdin) close(fd);
    if (!buf) st = isw_fail(err, ISW_EINTERNAL, "out of memory reading %s", shown);
    else if (len < 0)
        st = isw_fail(err, ISW_EINPUT, "%s: cannot read the sweep file: %s", shown, strerror(read_errno));
    else if (len > ISW_SPEC_MAX_BYTES)
        st = isw_fail(err, ISW_EINPUT, "%s: the file is larger than %ld bytes; a sweep file may have at most that",
                      shown, ISW_SPEC_MAX_BYTES);
    else st = isw_sweep_parse(buf, len, path, max_tasks, sw, err);
    free(buf);
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

/* ---- tasks ---------------------------------------------------------------------------------- */

void isw_sweep_point_values(const isw_sweep *sw, int64_t point, double *vals) {
    memcpy(vals, sw->base, (size_t)sw->model->n_params * sizeof *vals);
    /* Mixed radix, last dimension fastest. */
    for (int d = sw->n_dims - 1; d >= 0; d--) {
        const isw_dim *dim = &sw->dims[d];
        int64_t c = point % dim->n;
        point /= dim->n;
        for (int a = dim->first_axis; a < dim->first_axis + dim->n_axes; a++)
            vals[sw->axes[a].param] = sw->axes[a].values[c];
    }
}

int isw_task_canon_text(const isw_model *model, const int *order, const double *vals,
                        int64_t replicate, char *buf, int size) {
    int used = snprintf(buf, (size_t)size, "model=%s\n", model->name);
    for (int k = 0; k < model->n_params && used < size; k++) {
        const isw_param_def *p = &model->params[order[k]];
        char v[64];
        used += snprintf(buf + used, (size_t)(size - used), "%s=%s\n", p->name,
                         isw_param_canon(p, vals[order[k]], v, sizeof v));
    }
    if (used < size) used += snprintf(buf + used, (size_t)(size - used), "replicate=%lld\n", (long long)replicate);
    return used;
}

uint64_t isw_task_identity(const isw_model *model, const int *order, const double *vals,
                           int64_t replicate) {
    char buf[8192];
    int len = isw_task_canon_text(model, order, vals, replicate, buf, sizeof buf);
    if (len >= (int)sizeof buf) len = (int)sizeof buf - 1;
    return isw_hash_bytes(buf, (size_t)len);
}

void isw_sweep_task(const isw_sweep *sw, int64_t t, isw_task *task, double *vals) {
    int64_t k = t / sw->replicates;
    task->index = t;
    task->replicate = t % sw->replicates;
    task->point = sw->valid ? sw->valid[k] : k;
    isw_sweep_point_values(sw, task->point, vals);
    task->key = isw_task_identity(sw->model, sw->canon_order, vals, task->replicate);
    task->seed = isw_task_seed(sw->seed, task->key);
}

double isw_sweep_point_cost(const isw_sweep *sw, int64_t point) {
    /* Models have ~30 parameters; the union keeps the config struct suitably aligned. */
    double vals[256];
    union {
        max_align_t align;
        unsigned char bytes[4096];
    } cfg;
    if (sw->model->n_params > 256 || sw->model->cfg_size > sizeof cfg.bytes) return 1.0;
    isw_sweep_point_values(sw, point, vals);
    isw_params_to_cfg(sw->model->params, sw->model->n_params, vals, cfg.bytes);
    return sw->model->cost(cfg.bytes);
}
