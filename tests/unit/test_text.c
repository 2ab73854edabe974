/* Text helpers: terminal-safe escaping of text from files (issue 14: escape sequences in a sweep
 * name were printed raw) and the exact rendering of doubles (issue 14: beta2's maximum
 * 0.999999999 was printed as 1).
 * Run by hand: build/tests/test_text */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "iclsweep/core/text.h"

static void expect_escape(const char *src, size_t len, size_t size, const char *want) {
    char dst[256];
    memset(dst, 'Z', sizeof dst);
    isw_text_escape_len(dst, size, src, len);
    CHECK(strcmp(dst, want) == 0, "escape of %zu bytes into %zu: got '%s', want '%s'", len, size, dst, want);
    CHECK(dst[size] == 'Z', "wrote past the %zu-byte buffer", size);
}

static void test_escape_controls(void) {
    expect_escape("plain", 5, 64, "plain");
    expect_escape("\x1b]0;pwned\a\x1b[31mred", 18, 64, "\\x1b]0;pwned\\x07\\x1b[31mred");
    expect_escape("a\0b\tc\nd\re\x7f", 10, 64, "a\\0b\\tc\\nd\\re\\x7f");
    expect_escape("caf\xc3\xa9 \xe2\x82\xac", 9, 64, "caf\xc3\xa9 \xe2\x82\xac"); /* UTF-8 kept */
    expect_escape("\xc2\x9b" "2J", 4, 64, "\\u009b2J");                         /* C1 CSI */
    expect_escape("\xe2\x80\xae" "evil", 7, 64, "\\u202eevil");                 /* bidi override */
    expect_escape("\xff\xc3(\xed\xa0\x80", 6, 64, "\\xff\\xc3(\\xed\\xa0\\x80"); /* not UTF-8 */
    expect_escape("\xc0\xaf", 2, 64, "\\xc0\\xaf");                             /* overlong '/' */
    expect_escape("back\\slash", 10, 64, "back\\slash");
    char dst[8];
    CHECK(isw_text_escape(dst, sizeof dst, "\x1b") == dst && strcmp(dst, "\\x1b") == 0, "returns dst");
}

static void test_escape_truncates_between_characters(void) {
    expect_escape("abcdefghij", 10, 11, "abcdefghij");     /* fits exactly */
    expect_escape("abcdefghijk", 11, 11, "abcdefg...");    /* cut, with "..." */
    expect_escape("abcdef\x1b\x1b", 8, 11, "abcdef...");    /* never half an escape */
    expect_escape("ab\xc3\xa9\xc3\xa9\xc3\xa9xyz", 11, 9, "ab\xc3\xa9...");
    expect_escape("abc", 3, 1, "");
    expect_escape("abc", 3, 3, "ab"); /* no room for "..." after a cut: the cut alone */
    char dst[1] = {'Z'};
    isw_text_escape_len(dst, 0, "abc", 3);
    CHECK(dst[0] == 'Z', "size 0 writes nothing");
}

static void expect_double(double v, const char *want) {
    char buf[32];
    isw_text_double(buf, sizeof buf, v);
    CHECK(strcmp(buf, want) == 0, "%.17g shown as '%s', want '%s'", v, buf, want);
}

static void test_double_exact_and_short(void) {
    expect_double(0.999999999, "0.999999999");
    expect_double(1, "1");
    expect_double(1000, "1000");
    expect_double(1e6, "1000000");
    expect_double(0.1, "0.1");
    expect_double(0.1 + 0.2, "0.30000000000000004");
    expect_double(0.010000000000000004, "0.010000000000000004");
    expect_double(1e-5, "1e-05");
    expect_double(1e30, "1e+30");
    expect_double(5e29, "5e+29");
    expect_double(-2.5, "-2.5");
    expect_double(0.0, "0");
    expect_double(-0.0, "-0");
    expect_double(INFINITY, "inf");
    expect_double(-INFINITY, "-inf");
    expect_double(NAN, "nan");
    /* Round trip over many doubles, each in 32 bytes. */
    unsigned long long x = 0x9E3779B97F4A7C15ULL;
    for (int i = 0; i < 20000; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        double v;
        memcpy(&v, &x, sizeof v);
        if (!isfinite(v)) continue;
        char buf[32];
        isw_text_double(buf, sizeof buf, v);
        if (strtod(buf, NULL) != v || strlen(buf) > 30) {
            CHECK(0, "%a shown as '%s' does not read back", v, buf);
            break;
        }
    }
    expect_double(DBL_MAX, "1.7976931348623157e+308");
    expect_double(-DBL_MIN, "-2.2250738585072014e-308");
}

int main(void) {
    test_escape_controls();
    test_escape_truncates_between_characters();
    test_double_exact_and_short();
    return check_report("test_text");
}
