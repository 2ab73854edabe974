/* Parameter tables: generic access to a model's X-macro table (see include/iclsweep/core/params.h). */
#include "iclsweep/core/params.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "iclsweep/core/text.h"

int isw_param_n_choices(const isw_param_def *p) {
    if (p->type != ISW_P_CHOICE || !p->choices) return 0;
    int n = 1;
    for (const char *c = p->choices; *c; c++) n += (*c == '|');
    return n;
}

const char *isw_param_choice(const isw_param_def *p, int i, char *buf, size_t size) {
    buf[0] = '\0';
    if (p->type != ISW_P_CHOICE || !p->choices || i < 0) return buf;
    const char *s = p->choices;
    for (int k = 0; k < i; k++) {
        s = strchr(s, '|');
        if (!s) return buf;
        s++;
    }
    const char *e = strchr(s, '|');
    size_t len = e ? (size_t)(e - s) : strlen(s);
    if (len >= size) len = size - 1;
    memcpy(buf, s, len);
    buf[len] = '\0';
    return buf;
}

int isw_param_choice_index(const isw_param_def *p, const char *text) {
    char buf[64];
    int n = isw_param_n_choices(p);
    for (int i = 0; i < n; i++)
        if (strcmp(isw_param_choice(p, i, buf, sizeof buf), text) == 0) return i;
    return -1;
}

const char *isw_ptype_name(isw_ptype t) {
    switch (t) {
    case ISW_P_INT: return "int";
    case ISW_P_REAL: return "real";
    case ISW_P_CHOICE: return "choice";
    case ISW_P_BOOL: return "bool";
    }
    return "?";
}

const char *isw_param_range(const isw_param_def *p, char *buf, size_t size) {
    char lo[32], hi[32];
    switch (p->type) {
    case ISW_P_INT: snprintf(buf, size, "[%.0f, %.0f]", p->lo, p->hi); break;
    case ISW_P_REAL:
        /* Exact bounds: "%g" would print beta2's 0.999999999 as 1, a value it refuses. */
        snprintf(buf, size, "[%s, %s]", isw_text_double(lo, sizeof lo, p->lo),
                 isw_text_double(hi, sizeof hi, p->hi));
        break;
    case ISW_P_CHOICE: snprintf(buf, size, "%s", p->choices); break;
    case ISW_P_BOOL: snprintf(buf, size, "true|false"); break;
    }
    return buf;
}

const char *isw_param_expected(const isw_param_def *p, char *buf, size_t size) {
    char range[96];
    isw_param_range(p, range, sizeof range);
    switch (p->type) {
    case ISW_P_INT: snprintf(buf, size, "an integer in %s", range); break;
    case ISW_P_REAL: snprintf(buf, size, "a number in %s", range); break;
    case ISW_P_CHOICE: snprintf(buf, size, "one of %s", p->choices); break;
    case ISW_P_BOOL: snprintf(buf, size, "true or false"); break;
    }
    return buf;
}

isw_status isw_param_check(const isw_param_def *p, double v, char *expected, size_t size) {
    int ok = isfinite(v);
    switch (p->type) {
    case ISW_P_INT: ok = ok && v == floor(v) && v >= p->lo && v <= p->hi; break;
    case ISW_P_REAL: ok = ok && v >= p->lo && v <= p->hi; break;
    case ISW_P_CHOICE: ok = ok && v == floor(v) && v >= 0 && v < isw_param_n_choices(p); break;
    case ISW_P_BOOL: ok = ok && (v == 0 || v == 1); break;
    }
    if (ok) return ISW_OK;
    isw_param_expected(p, expected, size);
    return ISW_EINPUT;
}

const char *isw_param_canon(const isw_param_def *p, double v, char *buf, size_t size) {
    switch (p->type) {
    case ISW_P_INT:
        /* Only integral values inside int64 convert; anything else (an out-of-range value being
         * reported) is shown as the double it is, never through an undefined conversion. */
        if (v == floor(v) && fabs(v) < 9.2e18) snprintf(buf, size, "%lld", (long long)v);
        else isw_text_double(buf, size, v);
        break;
    case ISW_P_REAL: snprintf(buf, size, "%.17g", v == 0 ? 0.0 : v); break; /* -0 == 0 */
    case ISW_P_CHOICE:
        if (v >= 0 && v < isw_param_n_choices(p)) isw_param_choice(p, (int)v, buf, size);
        else isw_text_double(buf, size, v);
        break;
    case ISW_P_BOOL: snprintf(buf, size, "%s", v != 0 ? "true" : "false"); break;
    }
    return buf;
}

const char *isw_param_show(const isw_param_def *p, double v, char *buf, size_t size) {
    if (p->type == ISW_P_REAL) {
        snprintf(buf, size, "%.6g", v);
        return buf;
    }
    return isw_param_canon(p, v, buf, size);
}

void isw_params_to_cfg(const isw_param_def *table, int n, const double *vals, void *cfg) {
    char *base = cfg;
    for (int i = 0; i < n; i++) {
        void *field = base + table[i].offset;
        switch (table[i].type) {
        case ISW_P_INT: *(int64_t *)field = (int64_t)vals[i]; break;
        case ISW_P_REAL: *(double *)field = vals[i]; break;
        case ISW_P_CHOICE:
        case ISW_P_BOOL: *(int *)field = (int)vals[i]; break;
        }
    }
}

void isw_params_from_cfg(const isw_param_def *table, int n, const void *cfg, double *vals) {
    const char *base = cfg;
    for (int i = 0; i < n; i++) {
        const void *field = base + table[i].offset;
        switch (table[i].type) {
        case ISW_P_INT: vals[i] = (double)*(const int64_t *)field; break;
        case ISW_P_REAL: vals[i] = *(const double *)field; break;
        case ISW_P_CHOICE:
        case ISW_P_BOOL: vals[i] = (double)*(const int *)field; break;
        }
    }
}

void isw_params_defaults(const isw_param_def *table, int n, double *vals) {
    for (int i = 0; i < n; i++) vals[i] = table[i].def;
}

int isw_param_find(const isw_param_def *table, int n, const char *name) {
    for (int i = 0; i < n; i++)
        if (strcmp(table[i].name, name) == 0) return i;
    return -1;
}
