/* A growing text buffer for what has no fixed size: JSON attributes of the result file, lists of
 * names. Appends never fail halfway: an allocation failure marks the buffer failed, later appends
 * do nothing, and isw_sbuf_finish reports it once. */
#ifndef ICLSWEEP_CORE_STRBUF_H
#define ICLSWEEP_CORE_STRBUF_H

#include <stddef.h>

#include "iclsweep/core/error.h"

typedef struct {
    char *s; /* NUL-terminated text so far (NULL until the first append) */
    size_t len, cap;
    int failed; /* an allocation failed: the text is incomplete */
} isw_sbuf;

/* Appends printf-formatted text. */
void isw_sbuf_printf(isw_sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Appends s as a JSON string, quotes included (", \ and control characters escaped). */
void isw_sbuf_json_string(isw_sbuf *b, const char *s);
/* Appends v as a JSON number (the shortest text that reads back as v), or null when v is not
 * finite. */
void isw_sbuf_json_number(isw_sbuf *b, double v);
/* Hands the text over: *out receives it (the caller frees it), and the buffer is empty again.
 * ISW_EINTERNAL (out of memory, in err) when an append failed; nothing is handed over then. */
isw_status isw_sbuf_finish(isw_sbuf *b, char **out, isw_error *err);

#endif
