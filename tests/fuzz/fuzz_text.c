/* libFuzzer harness for the terminal-safe text helpers (src/core/text.c).
 *
 * Any bytes, with a buffer size taken from the first byte: isw_text_escape_len must stay inside
 * its buffer, always terminate it, and leave no byte a terminal acts on (C0 controls, DEL, raw
 * bytes that are not UTF-8, C1 controls, bidi overrides). The remaining bytes read as a double
 * must come back exactly from isw_text_double.
 * Build and run: tests/fuzz/run.sh text 60 */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "iclsweep/core/text.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* 1 when s holds anything isw_text_escape promises to escape. */
static int unsafe(const unsigned char *s) {
    for (; *s; s++) {
        if (*s < 0x20 || *s == 0x7F) return 1;
        if (s[0] == 0xC2 && s[1] >= 0x80 && s[1] <= 0x9F) return 1;
        if (s[0] == 0xE2 && s[1] == 0x80 && s[2] >= 0xAA && s[2] <= 0xAE) return 1;
        if (s[0] == 0xE2 && s[1] == 0x81 && s[2] >= 0xA6 && s[2] <= 0xA9) return 1;
    }
    return 0;
}

static void check_double(const uint8_t *data, size_t size) {
    double v;
    char buf[32];
    if (size < sizeof v) return;
    memcpy(&v, data, sizeof v);
    isw_text_double(buf, sizeof buf, v);
    if (strlen(buf) >= sizeof buf - 1) __builtin_trap(); /* 32 bytes must suffice with room */
    if (isfinite(v) && strtod(buf, NULL) != v) __builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    size_t cap = (size_t)data[0] % 64 + 1;
    char *dst = malloc(cap); /* exactly cap bytes: ASan sees any overrun */
    if (!dst) return 0;
    isw_text_escape_len(dst, cap, (const char *)data + 1, size - 1);
    if (strnlen(dst, cap) >= cap || unsafe((const unsigned char *)dst)) __builtin_trap();
    /* Printable ASCII that fits is rendered as itself. */
    int printable = 1;
    for (size_t i = 1; i < size; i++) printable &= data[i] >= 0x20 && data[i] < 0x7F;
    if (printable && size - 1 < cap && memcmp(dst, data + 1, size - 1) != 0) __builtin_trap();
    free(dst);
    check_double(data + 1, size - 1);
    return 0;
}
