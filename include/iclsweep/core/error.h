/* Errors as values.
 *
 * A function that can fail returns an isw_status and, on failure, leaves a formatted message in
 * the caller's isw_error. The message is written once, where the context is known (file, line,
 * column, key, dataset), and reported once, at the edge (src/cli). Nothing below cli exits. */
#ifndef ICLSWEEP_ERROR_H
#define ICLSWEEP_ERROR_H

#include <stddef.h>

/* Status codes double as the process exit codes README lists. */
typedef enum {
    ISW_OK = 0,
    ISW_EINTERNAL = 1, /* a bug or an environment failure (out of memory, I/O) */
    ISW_EINPUT = 2,    /* bad usage or bad input: YAML, HDF5 file, command line */
    ISW_ESTOPPED = 3,  /* stopped early by a signal; work remains */
    ISW_EFAILED = 4    /* finished, but some tasks failed (program or I/O errors; divergence is a result) */
} isw_status;

#define ISW_ERROR_MAX 1024

typedef struct {
    isw_status code;
    char msg[ISW_ERROR_MAX];
} isw_error;

/* Sets err (if not NULL) to code and the printf-formatted message; returns code so that callers
 * can write `return isw_fail(err, ISW_EINPUT, "...")`. */
isw_status isw_fail(isw_error *err, isw_status code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Clears err to ISW_OK and an empty message. */
void isw_error_clear(isw_error *err);

/* Allocation that reports failure as a value: returns NULL and sets err on failure. */
void *isw_malloc(size_t n, isw_error *err);
void *isw_calloc(size_t count, size_t size, isw_error *err);

#endif
