/* A tiny check harness for iclsweep's C tests.
 *
 * CHECK(cond, fmt, ...) prints the failing condition with file:line and a formatted message and
 * counts the failure; CHECK_CLOSE compares doubles with a relative tolerance. A test's main ends
 * with `return check_report("name");`, which prints "N passed, N failed" and returns nonzero on
 * any failure, so ctest sees it (unlike a test that prints "not okay" and exits 0). */
#ifndef ICLSWEEP_TESTS_CHECK_H
#define ICLSWEEP_TESTS_CHECK_H

#include <math.h>
#include <stdio.h>

static int check_passed_, check_failed_;

#define CHECK(cond, ...)                                                  \
    do {                                                                  \
        if (cond) {                                                       \
            check_passed_++;                                              \
        } else {                                                          \
            check_failed_++;                                              \
            fprintf(stderr, "%s:%d: CHECK(%s) failed: ", __FILE__, __LINE__, #cond); \
            fprintf(stderr, __VA_ARGS__);                                 \
            fputc('\n', stderr);                                          \
        }                                                                 \
    } while (0)

/* |a - b| <= rtol * max(|a|, |b|) + atol */
#define CHECK_CLOSE(a, b, rtol, atol, ...)                                                  \
    do {                                                                                    \
        double a_ = (a), b_ = (b);                                                          \
        double scale_ = fabs(a_) > fabs(b_) ? fabs(a_) : fabs(b_);                          \
        CHECK(fabs(a_ - b_) <= (rtol) * scale_ + (atol), "%s = %.17g vs %s = %.17g: " __VA_ARGS__, \
              #a, a_, #b, b_);                                                              \
    } while (0)

static inline int check_report(const char *name) {
    printf("%s: %d passed, %d failed\n", name, check_passed_, check_failed_);
    return check_failed_ ? 1 : 0;
}

#endif
