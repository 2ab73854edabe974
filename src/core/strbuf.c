/* A growing text buffer (include/iclsweep/core/strbuf.h). */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "iclsweep/core/strbuf.h"
#include "iclsweep/core/text.h"

/* Makes room for n more bytes and the NUL; 0 on failure (the buffer is then marked failed). */
static int reserve(isw_sbuf *b, size_t n) {
    if (b->failed) return 0;
    if (b->len + n + 1 <= b->cap) return 1;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < b->len + n + 1) cap *= 2;
    char *s = realloc(b->s, cap);
    if (!s) {
        b->failed = 1;
        return 0;
    }
    b->s = s;
    b->cap = cap;
    return 1;
}

void isw_sbuf_printf(isw_sbuf *b, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || !reserve(b, (size_t)n)) return;
    va_start(ap, fmt);
    vsnprintf(b->s + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

void isw_sbuf_json_string(isw_sbuf *b, const char *s) {
    isw_sbuf_printf(b, "\"");
    for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
        if (*c == '"' || *c == '\\') isw_sbuf_printf(b, "\\%c", *c);
        else if (*c < 0x20) isw_sbuf_printf(b, "\\u%04x", *c);
        else isw_sbuf_printf(b, "%c", *c);
    }
    isw_sbuf_printf(b, "\"");
}

void isw_sbuf_json_number(isw_sbuf *b, double v) {
    char num[40];
    if (isfinite(v)) isw_sbuf_printf(b, "%s", isw_text_double(num, sizeof num, v));
    else isw_sbuf_printf(b, "null");
}

isw_status isw_sbuf_finish(isw_sbuf *b, char **out, isw_error *err) {
    if (!b->failed && !reserve(b, 0)) b->failed = 1;
    if (b->failed) {
        free(b->s);
        *b = (isw_sbuf){0};
        *out = NULL;
        return isw_fail(err, ISW_EINTERNAL, "out of memory building a text");
    }
    *out = b->s;
    *b = (isw_sbuf){0};
    return ISW_OK;
}
