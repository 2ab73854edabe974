/* Task identity -> row map (include/iclsweep/core/keymap.h). Keys are already well-mixed hashes, so a
 * slot is the key's low bits. */
#include "iclsweep/core/keymap.h"

#include <stdlib.h>

isw_status isw_keymap_init(isw_keymap *m, int64_t n, isw_error *err) {
    m->cap = 16;
    while (m->cap < 2 * n) m->cap *= 2;
    m->n = 0;
    m->keys = isw_malloc((size_t)m->cap * sizeof *m->keys, err);
    m->rows = isw_malloc((size_t)m->cap * sizeof *m->rows, err);
    if (!m->keys || !m->rows) {
        isw_keymap_free(m);
        return ISW_EINTERNAL;
    }
    for (int64_t i = 0; i < m->cap; i++) m->rows[i] = -1;
    return ISW_OK;
}

void isw_keymap_free(isw_keymap *m) {
    free(m->keys);
    free(m->rows);
    m->keys = NULL;
    m->rows = NULL;
    m->cap = m->n = 0;
}

int isw_keymap_put(isw_keymap *m, uint64_t key, int64_t row) {
    int64_t i = (int64_t)(key & (uint64_t)(m->cap - 1));
    while (m->rows[i] >= 0) {
        if (m->keys[i] == key) return 0;
        i = (i + 1) & (m->cap - 1);
    }
    m->keys[i] = key;
    m->rows[i] = row;
    m->n++;
    return 1;
}

int64_t isw_keymap_get(const isw_keymap *m, uint64_t key) {
    if (!m->cap) return -1;
    int64_t i = (int64_t)(key & (uint64_t)(m->cap - 1));
    while (m->rows[i] >= 0) {
        if (m->keys[i] == key) return m->rows[i];
        i = (i + 1) & (m->cap - 1);
    }
    return -1;
}
