/* Stable hashes: see include/iclsweep/core/hash.h. */
#include "iclsweep/core/hash.h"

#include <string.h>

uint64_t isw_mix64(uint64_t x) {
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    x ^= x >> 33;
    return x;
}

uint64_t isw_hash_bytes(const void *data, size_t n) {
    const unsigned char *p = data;
    uint64_t h = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 0x100000001b3ULL;
    }
    return isw_mix64(h ^ (uint64_t)n);
}

uint64_t isw_hash_str(const char *s) { return isw_hash_bytes(s, strlen(s)); }

uint64_t isw_task_seed(uint64_t sweep_seed, uint64_t identity) {
    unsigned char buf[16];
    for (int i = 0; i < 8; i++) {
        buf[i] = (unsigned char)(sweep_seed >> (8 * i));
        buf[8 + i] = (unsigned char)(identity >> (8 * i));
    }
    return isw_hash_bytes(buf, sizeof buf);
}

uint64_t isw_hash_more(uint64_t h, const void *data, size_t n) { return isw_mix64(h ^ isw_hash_bytes(data, n)); }
