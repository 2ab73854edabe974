/* A trainer's state as regions, packed and unpacked (include/iclsweep/core/state.h).
 *
 * The packed form, every field 8 bytes (u64 in the machine's byte order: a checkpoint is read by
 * the build that wrote it, or refused by its mark) and every text and region padded to 8:
 *
 *     "ISWSTAT1"                       mark and format version
 *     n, tag length, tag               the number of regions; what the state is of
 *     n x (name length, kind, bytes, name)   the table
 *     n x data                         BYTES: the memory; RNG: key0 | key1 << 32, stream, position
 *     checksum                         isw_hash_bytes of everything before it
 *
 * Workload: a few regions of up to tens of MB, packed every minute or so and at every stop: one
 * pass over the data to copy it and one to hash it. */
#include "iclsweep/core/state.h"

#include <stdio.h>
#include <string.h>

#include "iclsweep/core/hash.h"

static const char mark[8] = {'I', 'S', 'W', 'S', 'T', 'A', 'T', '1'};

#define RNG_BYTES 24 /* key, stream, position */

static size_t pad8(size_t n) { return (n + 7) & ~(size_t)7; }

void isw_state_init(isw_state *s) { memset(s, 0, sizeof *s); }

static void add(isw_state *s, isw_state_region r) {
    if (s->n == ISW_STATE_MAX_REGIONS) {
        s->overflow = 1;
        return;
    }
    s->r[s->n++] = r;
}

void isw_state_bytes(isw_state *s, const char *name, void *ptr, size_t bytes) {
    add(s, (isw_state_region){name, ISW_REGION_BYTES, ptr, bytes, 0, 0});
}

void isw_state_ints(isw_state *s, const char *name, int *ptr, size_t count, int64_t lo, int64_t hi) {
    add(s, (isw_state_region){name, ISW_REGION_INT, ptr, count * sizeof *ptr, lo, hi});
}

void isw_state_int64s(isw_state *s, const char *name, int64_t *ptr, size_t count, int64_t lo, int64_t hi) {
    add(s, (isw_state_region){name, ISW_REGION_INT64, ptr, count * sizeof *ptr, lo, hi});
}

void isw_state_rng(isw_state *s, const char *name, isw_rng *rng) {
    add(s, (isw_state_region){name, ISW_REGION_RNG, rng, sizeof *rng, 0, 0});
}

void isw_state_append(isw_state *s, const isw_state *more) {
    for (int i = 0; i < more->n; i++) add(s, more->r[i]);
    s->overflow |= more->overflow;
}

/* The bytes region i takes in the packed data. */
static size_t data_size(const isw_state_region *r) { return r->kind == ISW_REGION_RNG ? RNG_BYTES : r->bytes; }

size_t isw_state_data_bytes(const isw_state *s) {
    size_t n = 0;
    for (int i = 0; i < s->n; i++) n += data_size(&s->r[i]);
    return n;
}

size_t isw_state_packed_size(const isw_state *s, const char *tag) {
    size_t n = sizeof mark + 16 + pad8(strlen(tag));
    for (int i = 0; i < s->n; i++) n += 24 + pad8(strlen(s->r[i].name)) + pad8(data_size(&s->r[i]));
    return n + 8;
}

/* ---- packing ---- */

typedef struct {
    unsigned char *p;
} writer;

static void put_u64(writer *w, uint64_t v) {
    memcpy(w->p, &v, 8);
    w->p += 8;
}

static void put_bytes(writer *w, const void *data, size_t n) {
    if (n) memcpy(w->p, data, n);
    memset(w->p + n, 0, pad8(n) - n);
    w->p += pad8(n);
}

isw_status isw_state_pack(const isw_state *s, const char *tag, unsigned char *out, isw_error *err) {
    if (s->overflow)
        return isw_fail(err, ISW_EINTERNAL, "a trainer's state lists more than %d regions", ISW_STATE_MAX_REGIONS);
    writer w = {out};
    put_bytes(&w, mark, sizeof mark);
    put_u64(&w, (uint64_t)s->n);
    put_u64(&w, strlen(tag));
    put_bytes(&w, tag, strlen(tag));
    for (int i = 0; i < s->n; i++) {
        const isw_state_region *r = &s->r[i];
        put_u64(&w, strlen(r->name));
        put_u64(&w, (uint64_t)r->kind);
        put_u64(&w, data_size(r));
        put_bytes(&w, r->name, strlen(r->name));
    }
    for (int i = 0; i < s->n; i++) {
        const isw_state_region *r = &s->r[i];
        if (r->kind == ISW_REGION_RNG) {
            const isw_rng *g = r->ptr;
            put_u64(&w, (uint64_t)g->key[0] | (uint64_t)g->key[1] << 32);
            put_u64(&w, g->stream);
            put_u64(&w, isw_rng_tell(g));
        } else {
            put_bytes(&w, r->ptr, r->bytes);
        }
    }
    uint64_t sum = isw_hash_bytes(out, (size_t)(w.p - out));
    put_u64(&w, sum);
    return ISW_OK;
}

/* ---- unpacking: every check first, then the copies ---- */

typedef struct {
    const unsigned char *p, *end;
} reader;

static int get_u64(reader *r, uint64_t *v) {
    if (r->end - r->p < 8) return 0;
    memcpy(v, r->p, 8);
    r->p += 8;
    return 1;
}

/* The next n bytes (padded to 8), or NULL when they run past the end. */
static const unsigned char *get_bytes(reader *r, uint64_t n) {
    if (n > (uint64_t)(r->end - r->p) || pad8((size_t)n) > (size_t)(r->end - r->p)) return NULL;
    const unsigned char *at = r->p;
    r->p += pad8((size_t)n);
    return at;
}

static const char *kind_name(uint64_t kind) {
    return kind == ISW_REGION_BYTES ? "memory" : kind == ISW_REGION_RNG ? "random stream"
         : kind == ISW_REGION_INT ? "ints" : kind == ISW_REGION_INT64 ? "int64s" : "unknown";
}

/* The first element of an INT or INT64 region's data[bytes] outside [lo, hi]: its index, or -1. */
static long out_of_range(const isw_state_region *reg, const unsigned char *data, int64_t *value) {
    size_t size = reg->kind == ISW_REGION_INT ? sizeof(int) : sizeof(int64_t);
    for (size_t k = 0; k < reg->bytes / size; k++) {
        int i32 = 0;
        int64_t v = 0;
        if (reg->kind == ISW_REGION_INT) {
            memcpy(&i32, data + k * size, size);
            v = i32;
        } else {
            memcpy(&v, data + k * size, size);
        }
        if (v < reg->lo || v > reg->hi) {
            *value = v;
            return (long)k;
        }
    }
    return -1;
}

/* Checks the table against s's regions; leaves r at the data. */
static isw_status check_table(const isw_state *s, reader *r, isw_error *err) {
    for (int i = 0; i < s->n; i++) {
        const isw_state_region *want = &s->r[i];
        uint64_t len, kind, bytes;
        const unsigned char *name;
        if (!get_u64(r, &len) || !get_u64(r, &kind) || !get_u64(r, &bytes) || !(name = get_bytes(r, len)))
            return isw_fail(err, ISW_EINPUT, "truncated in its table of regions");
        if (len != strlen(want->name) || memcmp(name, want->name, len) != 0 || kind != (uint64_t)want->kind ||
            bytes != data_size(want))
            return isw_fail(err, ISW_EINPUT, "its region %d is '%.*s' (%s, %llu bytes) where this trainer has "
                            "'%s' (%s, %zu bytes): written by another build of the model", i + 1,
                            (int)(len > 64 ? 64 : len), (const char *)name, kind_name(kind),
                            (unsigned long long)bytes, want->name, kind_name(want->kind), data_size(want));
    }
    return ISW_OK;
}

/* Checks each generator's key and stream against the live one's, and each index's range. */
static isw_status check_values(const isw_state *s, reader r, isw_error *err) {
    for (int i = 0; i < s->n; i++) {
        const isw_state_region *reg = &s->r[i];
        const unsigned char *data = get_bytes(&r, data_size(reg));
        if (!data) return isw_fail(err, ISW_EINPUT, "truncated in its data");
        int64_t v = 0;
        long k = reg->kind == ISW_REGION_INT || reg->kind == ISW_REGION_INT64 ? out_of_range(reg, data, &v) : -1;
        if (k >= 0)
            return isw_fail(err, ISW_EINPUT, "its '%s'[%ld] is %lld, outside %lld..%lld", reg->name, k, (long long)v,
                            (long long)reg->lo, (long long)reg->hi);
        if (reg->kind != ISW_REGION_RNG) continue;
        const isw_rng *g = reg->ptr;
        uint64_t key, stream;
        memcpy(&key, data, 8);
        memcpy(&stream, data + 8, 8);
        if (key != ((uint64_t)g->key[0] | (uint64_t)g->key[1] << 32) || stream != g->stream)
            return isw_fail(err, ISW_EINPUT, "its random stream '%s' is of another seed or stream", reg->name);
    }
    return ISW_OK;
}

isw_status isw_state_unpack(const isw_state *s, const char *tag, const unsigned char *in, size_t size,
                            isw_error *err) {
    if (s->overflow)
        return isw_fail(err, ISW_EINTERNAL, "a trainer's state lists more than %d regions", ISW_STATE_MAX_REGIONS);
    if (size < sizeof mark + 24 || memcmp(in, mark, sizeof mark) != 0)
        return isw_fail(err, ISW_EINPUT, "not a checkpoint of this format (no %.8s mark)", mark);
    uint64_t sum;
    memcpy(&sum, in + size - 8, 8);
    if (size % 8 || sum != isw_hash_bytes(in, size - 8))
        return isw_fail(err, ISW_EINPUT, "damaged: its checksum does not match its %zu bytes", size);
    reader r = {in + sizeof mark, in + size - 8};
    uint64_t n, len;
    const unsigned char *text;
    if (!get_u64(&r, &n) || !get_u64(&r, &len) || !(text = get_bytes(&r, len)))
        return isw_fail(err, ISW_EINPUT, "truncated in its header");
    if (len != strlen(tag) || memcmp(text, tag, len) != 0)
        return isw_fail(err, ISW_EINPUT, "of another task: it is of '%.*s', this is '%s'", (int)(len > 200 ? 200 : len),
                        (const char *)text, tag);
    if (n != (uint64_t)s->n)
        return isw_fail(err, ISW_EINPUT, "it has %llu regions where this trainer has %d: written by another build "
                        "of the model", (unsigned long long)n, s->n);
    isw_status st = check_table(s, &r, err);
    if (!st) st = check_values(s, r, err);
    if (!st && size != isw_state_packed_size(s, tag))
        st = isw_fail(err, ISW_EINPUT, "its size (%zu bytes) is not the size of this trainer's state (%zu)", size,
                      isw_state_packed_size(s, tag));
    if (st) return st;
    for (int i = 0; i < s->n; i++) {
        const isw_state_region *reg = &s->r[i];
        const unsigned char *data = get_bytes(&r, data_size(reg));
        if (reg->kind == ISW_REGION_RNG) {
            uint64_t pos;
            memcpy(&pos, data + 16, 8);
            isw_rng_seek(reg->ptr, pos);
        } else if (reg->bytes) {
            memcpy(reg->ptr, data, reg->bytes);
        }
    }
    return ISW_OK;
}
