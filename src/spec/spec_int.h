/* What the parts of src/spec share (private to src/spec): the parser's state and the helpers
 * every part reports through.
 *
 * A sweep file goes through the parts in order: yaml.c reads it and loads its YAML within bounds,
 * schema.c interprets the document against the model's parameter table (calling ranges.c for
 * each axis's values), and identity.c resolves tasks, identities and seeds on demand. */
#ifndef ICLSWEEP_SPEC_INT_H
#define ICLSWEEP_SPEC_INT_H

#include <stddef.h>
#include <stdint.h>
#include <yaml.h>

#include "iclsweep/spec/spec.h"


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

/* ---- yaml.c: messages and loading ---- */

/* The 1-based line and column of node n. */
isw_loc spec_loc(const yaml_node_t *n);
/* Fails with ISW_EINPUT and "path:line:col: key: what" (no line:col when loc.line is 0). */
isw_status spec_fail_at(parser *ps, isw_loc loc, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* A short quoted rendering of what node n holds ("'abc'", "a list of 3 items"), into buf. */
const char *spec_describe(const yaml_node_t *n, char *buf, size_t size);
/* The text of a scalar node, or NULL for any other node. */
const char *spec_scalar(const yaml_node_t *n);
/* The message key "section.name" for key node kn (its text escaped), into buf; returns buf. */
const char *spec_key_path(char *buf, size_t size, const char *section, const yaml_node_t *kn);
/* Whether n is a plain null scalar ("", ~, null). */
int spec_is_null(const yaml_node_t *n);
/* The sweep file's name as messages show it, escaped for the terminal, into buf; returns buf. */
const char *spec_shown_path(char *buf, size_t size, const char *path);
/* Loads ps->text into ps->doc through the bounded passes (the caller deletes ps->doc, also on
 * failure); a second document is refused. */
isw_status spec_load_document(parser *ps);

/* ---- schema.c: values ---- */

/* Parses a YAML number (decimal integer or floating literal; no hex, inf or nan) into *out. */
int spec_parse_number(const char *s, double *out);
/* Parses node n as a value of parameter p into *v; key names it in messages. */
isw_status spec_param_value(parser *ps, const isw_param_def *p, yaml_node_t *n, const char *key, double *v);

/* ---- ranges.c: axes ---- */

/* Reads one axis (a list, or a generator) of parameter p into a freshly allocated vals[*count];
 * repeated values are refused unless allow_repeats (zip lists, whose tuples are checked instead). */
isw_status spec_read_axis(parser *ps, const isw_param_def *p, yaml_node_t *n, const char *key,
                          int allow_repeats, double **vals, int64_t *count);

#endif
