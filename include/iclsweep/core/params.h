/* Model parameter tables: one table per model is the single home of every knob.
 *
 * A model lists its parameters once, as an X-macro (see models/concept_params.h):
 *     X(name, TYPE, default, lo, hi, choices, units, meaning)
 * From that list come the model's typed config struct (ISW_PARAMS_STRUCT), the runtime table of
 * isw_param_def rows (ISW_PARAMS_TABLE) that drives YAML validation, `iclsweep params`,
 * docs/params.md, the canonical text behind task identities and the HDF5 /tasks columns.
 *
 * Every value travels through the generic layers as a double: INT values are integral doubles
 * (exact below 2^53), CHOICE values are the index into the choices list, BOOL values are 0 or 1.
 * Only the model's own code sees the typed struct. */
#ifndef ICLSWEEP_PARAMS_H
#define ICLSWEEP_PARAMS_H

#include <stddef.h>
#include <stdint.h>

#include "iclsweep/core/error.h"

typedef enum { ISW_P_INT, ISW_P_REAL, ISW_P_CHOICE, ISW_P_BOOL } isw_ptype;

typedef struct {
    const char *name;
    isw_ptype type;
    double def;          /* default (CHOICE: index into choices) */
    double lo, hi;       /* inclusive range (INT, REAL) */
    const char *choices; /* CHOICE: "a|b|c"; otherwise NULL */
    const char *units;   /* "" when unitless */
    const char *doc;     /* one line */
    size_t offset;       /* offset of the field in the model's config struct */
} isw_param_def;

/* The field type of each parameter type in a model's config struct. */
#define ISW_CTYPE_INT int64_t
#define ISW_CTYPE_REAL double
#define ISW_CTYPE_CHOICE int
#define ISW_CTYPE_BOOL int

#define ISW_PARAM_FIELD(name, type, def, lo, hi, choices, units, doc) ISW_CTYPE_##type name;
#define ISW_PARAMS_STRUCT(LIST, struct_name) \
    typedef struct { LIST(ISW_PARAM_FIELD) } struct_name;

#define ISW_PARAM_ROW_(S, name, type, def, lo, hi, choices, units, doc) \
    {#name, ISW_P_##type, (def), (lo), (hi), (choices), (units), (doc), offsetof(S, name)},
/* Expands LIST into isw_param_def rows for struct S; S must be #defined as ISW_PARAMS_CFG. */
#define ISW_PARAM_ROW(name, type, def, lo, hi, choices, units, doc) \
    ISW_PARAM_ROW_(ISW_PARAMS_CFG, name, type, def, lo, hi, choices, units, doc)
/* Declares a model's table and the descriptor hooks that depend on its config alone, named
 * isw_<model>_check, _resolve, _cost, _memory, _calibration, _log_steps (include/iclsweep/train/model.h
 * says what each returns); each takes the model's config struct. */
#define ISW_PARAMS_HOOKS(model)                                                              \
    extern const isw_param_def isw_##model##_params[];                                        \
    isw_status isw_##model##_check(const void *cfg, int *blame, char *why, size_t size);      \
    void isw_##model##_resolve(void *cfg);                                                   \
    double isw_##model##_cost(const void *cfg);                                              \
    double isw_##model##_memory(const void *cfg);                                            \
    void isw_##model##_calibration(void *cfg);                                               \
    int64_t isw_##model##_log_steps(const void *cfg, int64_t *steps);
/* Counts a table's rows: enum { N = 0 LIST(ISW_PARAM_ONE) }. */
#define ISW_PARAM_ONE(name, type, def, lo, hi, choices, units, doc) +1

/* Number of choices in p->choices (0 for non-CHOICE). */
int isw_param_n_choices(const isw_param_def *p);
/* Copies choice i of p into buf[size] ("" if out of range); returns buf. */
const char *isw_param_choice(const isw_param_def *p, int i, char *buf, size_t size);
/* Index of choice `text` in p, or -1. */
int isw_param_choice_index(const isw_param_def *p, const char *text);
/* Name of the type ("int", "real", "choice", "bool"). */
const char *isw_ptype_name(isw_ptype t);

/* Checks value v against p's type and range; on failure writes what was expected into
 * expected[size] and returns ISW_EINPUT. */
isw_status isw_param_check(const isw_param_def *p, double v, char *expected, size_t size);
/* The range p accepts: INT "[lo, hi]", REAL "[lo, hi]" with each bound as the shortest text that
 * reads back exactly, CHOICE "a|b|c", BOOL "true|false". Writes into buf[size], returns buf. */
const char *isw_param_range(const isw_param_def *p, char *buf, size_t size);
/* Describes what p accepts ("an integer in [1, 4096]", "one of adam|gd") into buf. */
const char *isw_param_expected(const isw_param_def *p, char *buf, size_t size);

/* Canonical text of value v of p, as used in task identities: INT "%lld", REAL "%.17g", CHOICE
 * the choice's name, BOOL true/false. A value its type cannot hold (an INT past int64 or not
 * integral, a CHOICE index out of range) is written as the double it is. Writes into buf[size],
 * returns buf. */
const char *isw_param_canon(const isw_param_def *p, double v, char *buf, size_t size);
/* Short human form of v (REAL "%g"); otherwise as isw_param_canon. */
const char *isw_param_show(const isw_param_def *p, double v, char *buf, size_t size);

/* Writes the values vals[n] (one per row of table[n]) into the typed config struct cfg. */
void isw_params_to_cfg(const isw_param_def *table, int n, const double *vals, void *cfg);
/* Reads the values of the typed config struct cfg back into vals[n] (the inverse of the above). */
void isw_params_from_cfg(const isw_param_def *table, int n, const void *cfg, double *vals);
/* Fills vals[n] with the table's defaults. */
void isw_params_defaults(const isw_param_def *table, int n, double *vals);
/* Index of parameter `name` in table[n], or -1. */
int isw_param_find(const isw_param_def *table, int n, const char *name);

#endif
