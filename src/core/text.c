/* Text helpers: edit distance and "did you mean" suggestions for unknown keys, terminal-safe
 * rendering of text that came from a file, and exact (round-trip) rendering of doubles. */
#include "iclsweep/core/text.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int isw_edit_distance(const char *a, const char *b) {
    int la = (int)strlen(a), lb = (int)strlen(b);
    if (la > 63) la = 63;
    if (lb > 63) lb = 63;
    int prev[64], cur[64];
    for (int j = 0; j <= lb; j++) prev[j] = j;
    for (int i = 1; i <= la; i++) {
        cur[0] = i;
        for (int j = 1; j <= lb; j++) {
            int sub = prev[j - 1] + (a[i - 1] != b[j - 1]);
            int del = prev[j] + 1, ins = cur[j - 1] + 1;
            cur[j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
        }
        memcpy(prev, cur, sizeof(int) * (size_t)(lb + 1));
    }
    return prev[lb];
}

static int same_ignoring_case(const char *a, const char *b) {
    for (; *a && *b; a++, b++)
        if (tolower((unsigned char)*a) != tolower((unsigned char)*b)) return 0;
    return *a == *b;
}

const char *isw_suggest(const char *word, const char *const *candidates, int n) {
    const char *best = NULL;
    int best_d = 1 << 20;
    for (int i = 0; i < n; i++) {
        int d = same_ignoring_case(word, candidates[i]) ? 0 : isw_edit_distance(word, candidates[i]);
        if (d < best_d) {
            best_d = d;
            best = candidates[i];
        }
    }
    int len = (int)strlen(word);
    int limit = len <= 3 ? 1 : (len <= 6 ? 2 : 3);
    return best && best_d <= limit ? best : NULL;
}

/* ---- terminal-safe text ------------------------------------------------------------------ */

/* Length of the valid UTF-8 sequence at s[0..avail) and its code point in *cp, or 0 when s[0]
 * does not start one (overlong forms, surrogates and values past U+10FFFF are invalid). */
static size_t utf8_sequence(const unsigned char *s, size_t avail, unsigned *cp) {
    unsigned c = s[0], min;
    size_t n;
    if (c >= 0xC2 && c <= 0xDF) n = 2, *cp = c & 0x1F, min = 0x80;
    else if (c >= 0xE0 && c <= 0xEF) n = 3, *cp = c & 0x0F, min = 0x800;
    else if (c >= 0xF0 && c <= 0xF4) n = 4, *cp = c & 0x07, min = 0x10000;
    else return 0;
    if (n > avail) return 0;
    for (size_t k = 1; k < n; k++) {
        if ((s[k] & 0xC0) != 0x80) return 0;
        *cp = (*cp << 6) | (s[k] & 0x3F);
    }
    if (*cp < min || *cp > 0x10FFFF || (*cp >= 0xD800 && *cp <= 0xDFFF)) return 0;
    return n;
}

/* Code points a terminal acts on or that reorder displayed text. */
static int unsafe_code_point(unsigned cp) {
    return (cp >= 0x80 && cp <= 0x9F) || (cp >= 0x202A && cp <= 0x202E) ||
           (cp >= 0x2066 && cp <= 0x2069);
}

/* The rendering of the character at s[0..avail) into piece[16]; returns the bytes it consumed
 * and sets *piece_len. */
static size_t escape_one(const unsigned char *s, size_t avail, char *piece, size_t *piece_len) {
    unsigned c = s[0], cp = 0;
    if (c < 0x20 || c == 0x7F) {
        const char *named = c == 0 ? "\\0" : c == '\t' ? "\\t" : c == '\n' ? "\\n" : c == '\r' ? "\\r" : NULL;
        *piece_len = named ? (size_t)snprintf(piece, 16, "%s", named) : (size_t)snprintf(piece, 16, "\\x%02x", c);
        return 1;
    }
    if (c < 0x80) {
        piece[0] = (char)c;
        *piece_len = 1;
        return 1;
    }
    size_t n = utf8_sequence(s, avail, &cp);
    if (n == 0) {
        *piece_len = (size_t)snprintf(piece, 16, "\\x%02x", c);
        return 1;
    }
    if (unsafe_code_point(cp)) {
        *piece_len = (size_t)snprintf(piece, 16, "\\u%04x", cp);
        return n;
    }
    memcpy(piece, s, n);
    *piece_len = n;
    return n;
}

const char *isw_text_escape_len(char *dst, size_t size, const char *src, size_t len) {
    if (size == 0) return dst;
    const unsigned char *s = (const unsigned char *)src;
    size_t used = 0, mark = 0, i = 0; /* mark: the last cut where "..." still fits */
    while (i < len) {
        char piece[16];
        size_t piece_len;
        size_t step = escape_one(s + i, len - i, piece, &piece_len);
        if (used + piece_len > size - 1) {
            if (size - 1 >= 3) { /* room for "...": cut where it fits; else keep what fitted */
                memcpy(dst + mark, "...", 3);
                used = mark + 3;
            }
            break;
        }
        memcpy(dst + used, piece, piece_len);
        used += piece_len;
        if (used + 3 <= size - 1) mark = used;
        i += step;
    }
    dst[used] = '\0';
    return dst;
}

const char *isw_text_escape(char *dst, size_t size, const char *src) {
    return isw_text_escape_len(dst, size, src, strlen(src));
}

/* ---- exact doubles ------------------------------------------------------------------------- */

const char *isw_text_double(char *buf, size_t size, double v) {
    if (!isfinite(v)) {
        snprintf(buf, size, "%s", isnan(v) ? "nan" : v < 0 ? "-inf" : "inf");
        return buf;
    }
    char tmp[40];
    int digits = 1;
    for (; digits < 17; digits++) { /* 17 significant digits always read back (IEEE double) */
        snprintf(tmp, sizeof tmp, "%.*e", digits - 1, v);
        if (strtod(tmp, NULL) == v) break;
    }
    snprintf(tmp, sizeof tmp, "%.*e", digits - 1, v);
    int exp10 = atoi(strchr(tmp, 'e') + 1);
    /* As Python's repr: plain decimals from 1e-4 up to 1e16 ("1000", "0.001"), else 1e+16. */
    if (exp10 >= -4 && exp10 < 16) {
        int decimals = digits - 1 - exp10;
        snprintf(buf, size, "%.*f", decimals > 0 ? decimals : 0, v);
    } else {
        snprintf(buf, size, "%.*g", digits, v);
    }
    return buf;
}
