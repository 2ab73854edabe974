/* A map from task identities (64-bit keys) to row numbers: open addressing, linear probing, sized
 * once for the number of entries. Used wherever rows of two files are matched by identity
 * (importing finished tasks, merging shards, growing a sweep, `plan --from`). */
#ifndef ICLSWEEP_KEYMAP_H
#define ICLSWEEP_KEYMAP_H

#include <stdint.h>

#include "iclsweep/core/error.h"

typedef struct {
    uint64_t *keys; /* [cap] */
    int64_t *rows;  /* [cap] -1 where empty */
    int64_t cap;    /* a power of two, at least twice the entries */
    int64_t n;
} isw_keymap;

/* Room for up to n entries. */
isw_status isw_keymap_init(isw_keymap *m, int64_t n, isw_error *err);
void isw_keymap_free(isw_keymap *m);
/* Adds key -> row unless key is there already; returns 1 if added, 0 if the key was present. */
int isw_keymap_put(isw_keymap *m, uint64_t key, int64_t row);
/* The row of key, or -1. */
int64_t isw_keymap_get(const isw_keymap *m, uint64_t key);

#endif
