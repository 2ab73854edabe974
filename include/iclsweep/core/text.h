/* Small text helpers for messages and output. */
#ifndef ICLSWEEP_TEXT_H
#define ICLSWEEP_TEXT_H

#include <stddef.h>

/* Levenshtein distance between a and b (ASCII, case-sensitive), capped at 64. */
int isw_edit_distance(const char *a, const char *b);

/* The candidate nearest to word if it is near enough to be a likely typo, else NULL.
 * candidates[n]. */
const char *isw_suggest(const char *word, const char *const *candidates, int n);

/* Renders src[len] (which may hold NUL bytes) into dst[size] so that printing it to a terminal
 * cannot move the cursor, retitle the window or reorder text: C0 controls and DEL become \0, \t,
 * \n, \r or \xNN; bytes that are not valid UTF-8 become \xNN; the C1 controls (U+0080..U+009F)
 * and the bidirectional overrides (U+202A..U+202E, U+2066..U+2069) become \uNNNN. Every other
 * byte, valid UTF-8 included, is copied. A backslash is kept as it is: the result is for display,
 * not to be read back. If the rendering does not fit, it is cut between two characters and ends
 * with "..." (when size > 3); dst is always NUL-terminated (when size > 0). Returns dst. */
const char *isw_text_escape_len(char *dst, size_t size, const char *src, size_t len);

/* isw_text_escape_len over the NUL-terminated string src. Returns dst. */
const char *isw_text_escape(char *dst, size_t size, const char *src);

/* The shortest decimal text (1 to 17 significant digits) that strtod reads back as exactly v,
 * written as Python's repr writes it but without a trailing ".0": plain decimals for 1e-4 <= |v|
 * < 1e16 ("1000", "0.999999999", "0.30000000000000004"), an exponent otherwise ("1e+30"); "inf",
 * "-inf" or "nan" for non-finite v. Into buf[size] (32 bytes always suffice); returns buf. */
const char *isw_text_double(char *buf, size_t size, double v);

#endif
