/* Errors as values: see include/iclsweep/core/error.h. */
#include "iclsweep/core/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

isw_status isw_fail(isw_error *err, isw_status code, const char *fmt, ...) {
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
        err->code = code;
    }
    return code;
}

void isw_error_clear(isw_error *err) {
    if (!err) return;
    err->code = ISW_OK;
    err->msg[0] = '\0';
}

void *isw_malloc(size_t n, isw_error *err) {
    void *p = malloc(n ? n : 1);
    if (!p) isw_fail(err, ISW_EINTERNAL, "out of memory allocating %zu bytes", n);
    return p;
}

void *isw_calloc(size_t count, size_t size, isw_error *err) {
    void *p = calloc(count ? count : 1, size ? size : 1);
    if (!p) isw_fail(err, ISW_EINTERNAL, "out of memory allocating %zu x %zu bytes", count, size);
    return p;
}
