/* Row checksums (docs/file-format.md, "Checksums"): every finished row carries a 64-bit checksum
 * of what makes it a result, written with the row before its status, so a changed byte of a
 * finished row's data (a flipped bit on disk, a tool that wrote into the file) is found, not
 * trusted.
 *
 * What a checksum covers is named in the file itself, by the attribute `covers` of
 * /tasks/checksum: dataset paths, space-separated, in the order they are hashed. This build
 * writes the identity columns, every parameter column (and <param>_setting), status, steps_done,
 * /traj/step, every /traj metric and every /final metric (covers_walk below is the one home of
 * that order). A row's words, in that order:
 *   a [T] column's cell: one word per cell (integers as their 64-bit two's complement, doubles as
 *     their IEEE 754 bits, uint8 and enum values zero-extended), text as its bytes up to its first
 *     NUL and zeros after (the cell's whole width), 8 to a word little-endian;
 *   /traj/step's row: n, the task's number of log points (the leading entries >= 0; the rest are
 *     -1, padding), then its n steps;
 *   any other /traj row: its first n values (padding is not data, so a row keeps its checksum when
 *     it is copied into a file with more log points).
 * Hash: h = seed; per word w, h = rotl(h ^ (w * P1), 31) * P2; at the end fmix64(h ^ words), 1
 * where that is 0 (0 is "no checksum", the initial value). Each step is a bijection of h for a
 * given word and of the word for a given h, so any one changed word (a flipped byte anywhere in a
 * row's data) always changes the checksum; two changes collide with probability 2^-64.
 * analysis/iclsweep/checksum.py computes the same function.
 *
 * Workload: verification reads every finished row's data once, a block of rows at a time (column
 * by column, at most ~16 MB at once), and hashes it at memory speed, so `verify` is as fast as the
 * disk (bench/RESULTS.md). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "iclsweep/core/hash.h"
#include "store_int.h"

#define SEED 0x27D4EB2F165667C5ULL
#define P1 0x9E3779B185EBCA87ULL
#define P2 0xC2B2AE3D27D4EB4FULL
#define MAX_COVERS 100000
#define MAX_TEXT_CELL 4096
#define BLOCK_BYTES (16u << 20)

typedef struct {
    uint64_t h, words;
} row_hash;

static void rh_init(row_hash *r) {
    r->h = SEED;
    r->words = 0;
}

static void rh_word(row_hash *r, uint64_t w) {
    uint64_t x = r->h ^ (w * P1);
    r->h = ((x << 31) | (x >> 33)) * P2;
    r->words++;
}

static void rh_double(row_hash *r, double d) {
    uint64_t w;
    memcpy(&w, &d, sizeof w);
    rh_word(r, w);
}

/* Text of a w-byte cell: its bytes up to its first NUL (what any reader sees of it), zero after
 * that, 8 to a word, little-endian, the last word zero-padded. */
static void rh_text(row_hash *r, const unsigned char *b, size_t w) {
    int ended = 0;
    for (size_t i = 0; i < w; i += 8) {
        uint64_t x = 0;
        for (size_t k = 0; k < 8 && i + k < w; k++) {
            ended |= b[i + k] == 0;
            if (!ended) x |= (uint64_t)b[i + k] << (8 * k);
        }
        rh_word(r, x);
    }
}

static uint64_t rh_final(const row_hash *r) {
    uint64_t h = isw_mix64(r->h ^ r->words);
    return h ? h : 1;
}

/* The number of log points of a /traj/step row of S entries: its leading entries >= 0. */
static int64_t log_points(const int64_t *steps, int64_t S) {
    int64_t n = 0;
    while (n < S && steps[n] >= 0) n++;
    return n;
}

/* ---- what a checksum covers, from the layout ------------------------------------------------- */

/* Where the writer takes an entry's value from. */
typedef enum { SRC_ID, SRC_USED, SRC_SET, SRC_STATUS, SRC_STEPS_DONE, SRC_STEP, SRC_TRAJ, SRC_FINAL } cover_src;

typedef void (*cover_visit)(void *ctx, const char *group, const char *name, const char *suffix, cover_src src, int i);

/* Visits what a checksum covers, in its order (see the header): the one home of that order. */
static void covers_walk(const isw_store_layout *lay, cover_visit visit, void *ctx) {
    for (int c = 0; c < N_ID_COLS; c++) visit(ctx, "tasks", isw_store_cols[c].name, "", SRC_ID, c);
    for (int i = 0; i < lay->n_params; i++) {
        visit(ctx, "tasks", lay->params[i].name, "", SRC_USED, i);
        if (lay->derived && lay->derived[i]) visit(ctx, "tasks", lay->params[i].name, "_setting", SRC_SET, i);
    }
    visit(ctx, "tasks", "status", "", SRC_STATUS, COL_status);
    visit(ctx, "tasks", "steps_done", "", SRC_STEPS_DONE, COL_steps_done);
    visit(ctx, "traj", "step", "", SRC_STEP, 0);
    for (int i = 0; i < lay->n_traj; i++) visit(ctx, "traj", lay->traj[i].name, "", SRC_TRAJ, i);
    for (int i = 0; i < lay->n_final; i++) visit(ctx, "final", lay->final[i].name, "", SRC_FINAL, i);
}

typedef struct {
    char *buf;
    size_t len, cap;
} text_out;

static void add_name(void *ctx, const char *group, const char *name, const char *suffix, cover_src src, int i) {
    (void)src;
    (void)i;
    text_out *t = ctx;
    size_t need = strlen(group) + strlen(name) + strlen(suffix) + 3;
    if (!t->buf) return;
    if (t->len + need > t->cap) {
        size_t cap = 2 * t->cap + need;
        char *grown = realloc(t->buf, cap);
        if (!grown) {
            free(t->buf);
            t->buf = NULL;
            return;
        }
        t->buf = grown;
        t->cap = cap;
    }
    t->len += (size_t)snprintf(t->buf + t->len, t->cap - t->len, "%s%s/%s%s", t->len ? " " : "", group, name, suffix);
}

char *isw_store_covers(const isw_store_layout *lay) {
    text_out t = {malloc(256), 0, 256};
    if (t.buf) t.buf[0] = '\0';
    covers_walk(lay, add_name, &t);
    return t.buf;
}

/* ---- the writer's checksum: from the layout and the row in memory ---------------------------- */

typedef struct {
    row_hash rh;
    const isw_store_layout *lay;
    const isw_store_row *row;
    const double *set, *used, *traj, *final; /* [n_params], [n_params], [n_traj, S], [n_final] */
    const int64_t *steps;                    /* [S] */
    int64_t S, n;                            /* log points per row, and this task's */
    int state;
    int64_t steps_done;
} writer;

/* Parameter p's value v as the file holds it, hashed as its cell. */
static void hash_param(row_hash *rh, const isw_param_def *p, double v) {
    switch (p->type) {
    case ISW_P_INT: rh_word(rh, (uint64_t)(int64_t)v); break;
    case ISW_P_REAL: rh_double(rh, v); break;
    case ISW_P_BOOL: rh_word(rh, v != 0); break;
    case ISW_P_CHOICE: {
        unsigned char cell[MAX_TEXT_CELL];
        size_t w = isw_store_choice_bytes(p);
        memset(cell, 0, sizeof cell);
        isw_param_choice(p, (int)v, (char *)cell, w < sizeof cell ? w : sizeof cell);
        rh_text(rh, cell, w);
        break;
    }
    }
}

/* An identity column's value v (of column kind k) hashed as its cell. */
static void hash_id(row_hash *rh, col_kind k, const void *v) {
    switch (k) {
    case KIND_F64: rh_double(rh, *(const double *)v); break;
    case KIND_I32: rh_word(rh, (uint64_t)(int64_t) * (const int32_t *)v); break;
    case KIND_I64: rh_word(rh, (uint64_t) * (const int64_t *)v); break;
    case KIND_U64: rh_word(rh, *(const uint64_t *)v); break;
    default: rh_word(rh, *(const uint8_t *)v); break;
    }
}

static void hash_source(void *ctx, const char *group, const char *name, const char *suffix, cover_src src, int i) {
    (void)group;
    (void)name;
    (void)suffix;
    writer *w = ctx;
    switch (src) {
    case SRC_ID:
        switch (i) {
#define ID_WORD_(col, ctype, kind, units, doc) \
    case COL_##col: {                                  \
        ctype v = w->row->col;                         \
        hash_id(&w->rh, KIND_##kind, &v);              \
        break;                                         \
    }
            ISW_TASK_ID_COLUMNS(ID_WORD_)
#undef ID_WORD_
        }
        break;
    case SRC_USED: hash_param(&w->rh, &w->lay->params[i], w->used[i]); break;
    case SRC_SET: hash_param(&w->rh, &w->lay->params[i], w->set[i]); break;
    case SRC_STATUS: rh_word(&w->rh, (uint64_t)(uint8_t)w->state); break;
    case SRC_STEPS_DONE: rh_word(&w->rh, (uint64_t)w->steps_done); break;
    case SRC_STEP:
        rh_word(&w->rh, (uint64_t)w->n);
        for (int64_t j = 0; j < w->n; j++) rh_word(&w->rh, (uint64_t)w->steps[j]);
        break;
    case SRC_TRAJ:
        for (int64_t j = 0; j < w->n; j++) rh_double(&w->rh, w->traj[(size_t)i * (size_t)w->S + (size_t)j]);
        break;
    case SRC_FINAL: rh_double(&w->rh, w->final[i]); break;
    }
}

uint64_t isw_store_row_checksum(isw_store *st, int64_t t, const double *traj, const double *final, int state,
                            int64_t steps_done) {
    const isw_store_layout *lay = st->lay;
    isw_store_row row;
    memset(&row, 0, sizeof row);
    row.set = st->set;
    row.used = st->used;
    row.steps = st->steps;
    lay->resolve_row(lay->ctx, t, &row);
    writer w = {{0, 0}, lay, &row, st->set, st->used, traj, final, st->steps, st->S, log_points(st->steps, st->S),
                state, steps_done};
    rh_init(&w.rh);
    covers_walk(lay, hash_source, &w);
    return rh_final(&w.rh);
}

/* ---- the reader's check: from the datasets the covers attribute names -------------------------- */

typedef enum { CELL_I64, CELL_U64, CELL_F64, CELL_U8, CELL_TEXT, ROW_STEP, ROW_VALUES } entry_kind;

typedef struct {
    char name[320];  /* "/tasks/key" */
    entry_kind kind;
    size_t size;     /* bytes of a cell in memory (a row: S * 8) */
    hid_t ds, mem;   /* the dataset (owned when the checker opened it) and its memory type */
    unsigned char *buf; /* [rows, size] a block of rows */
} entry;

struct isw_checker {
    entry *e;
    int n;
    int owns;       /* the checker opened the datasets (and closes them) */
    hid_t dxpl, sum; /* transfer properties; /tasks/checksum */
    int64_t T, S, rows; /* rows per block */
    uint64_t *sums;  /* [rows] */
    char path[4200];
};

void isw_checker_free(isw_checker *c) {
    if (!c) return;
    for (int k = 0; k < c->n; k++) {
        if (c->owns && c->e[k].ds >= 0) H5Dclose(c->e[k].ds);
        if (c->e[k].mem >= 0) H5Tclose(c->e[k].mem);
        free(c->e[k].buf);
    }
    if (c->owns && c->sum >= 0) H5Dclose(c->sum);
    free(c->e);
    free(c->sums);
    free(c);
}

static isw_checker *new_checker(const char *path, int n, int64_t T, int64_t S, hid_t dxpl, int owns) {
    isw_checker *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    c->e = calloc((size_t)n + 1, sizeof *c->e);
    c->owns = owns;
    c->dxpl = dxpl;
    c->sum = -1;
    c->T = T;
    c->S = S;
    snprintf(c->path, sizeof c->path, "%s", path);
    for (int k = 0; c->e && k < n; k++) c->e[k].ds = c->e[k].mem = -1;
    if (!c->e) {
        free(c);
        return NULL;
    }
    return c;
}

/* The kind and memory type of a [T] column of file type ft into e; 0 when no checksum covers such
 * a type. Integers are read as 64-bit (an int32 column's cell is its value sign-extended). */
static int cell_kind(hid_t ft, entry *e) {
    H5T_class_t c = H5Tget_class(ft);
    if (c == H5T_STRING) {
        size_t w = H5Tget_size(ft);
        if (H5Tis_variable_str(ft) != 0 || w == 0 || w > MAX_TEXT_CELL) return 0;
        e->kind = CELL_TEXT;
        e->size = w;
        return (e->mem = H5Tcopy(ft)) >= 0;
    }
    if (c == H5T_ENUM) {
        hid_t status = isw_store_file_type(KIND_STATUS);
        int same = status >= 0 && H5Tequal(ft, status) > 0;
        if (status >= 0) H5Tclose(status);
        e->kind = CELL_U8;
        e->size = 1;
        return same && (e->mem = isw_store_mem_type(KIND_STATUS)) >= 0;
    }
    const hid_t file_types[] = {H5T_STD_I64LE, H5T_STD_I32LE, H5T_STD_U64LE, H5T_IEEE_F64LE, H5T_STD_U8LE};
    const hid_t mem_types[] = {H5T_NATIVE_INT64, H5T_NATIVE_INT64, H5T_NATIVE_UINT64, H5T_NATIVE_DOUBLE, H5T_NATIVE_UINT8};
    const entry_kind kinds[] = {CELL_I64, CELL_I64, CELL_U64, CELL_F64, CELL_U8};
    for (int k = 0; k < 5; k++)
        if (H5Tequal(ft, file_types[k]) > 0) {
            e->kind = kinds[k];
            e->size = kinds[k] == CELL_U8 ? 1 : 8;
            return (e->mem = H5Tcopy(mem_types[k])) >= 0;
        }
    return 0;
}

/* Sizes the block buffers: as many rows as fit BLOCK_BYTES (at least one). */
static int alloc_blocks(isw_checker *c) {
    size_t per_row = 8;
    for (int k = 0; k < c->n; k++) per_row += c->e[k].size;
    int64_t rows = (int64_t)(BLOCK_BYTES / per_row);
    if (rows < 1) rows = 1;
    if (rows > BLOCK_ROWS) rows = BLOCK_ROWS;
    if (rows > c->T) rows = c->T;
    c->rows = rows;
    c->sums = malloc((size_t)rows * sizeof *c->sums);
    for (int k = 0; c->sums && k < c->n; k++)
        if (!(c->e[k].buf = malloc((size_t)rows * c->e[k].size))) return 0;
    return c->sums != NULL;
}

/* Whether a name of the covers list is one a checksum may cover: every /traj and /final dataset
 * and every /tasks column must be covered except the state columns other than status and
 * steps_done (the bookkeeping of attempts, which a copy or a retry changes). */
static int must_cover(const char *group, const char *name) {
    if (!strcmp(group, "traj") || !strcmp(group, "final")) return 1;
    for (int c = N_ID_COLS; c < N_COLS; c++)
        if (!strcmp(name, isw_store_cols[c].name)) return c == COL_status || c == COL_steps_done;
    return 1;
}

typedef struct {
    const char *covers;
    int missing;
    char name[320];
} coverage;

/* H5Literate callback over a group: notes the first dataset that must be covered and is not. */
static herr_t check_covered(hid_t group, const char *name, const H5L_info_t *info, void *data) {
    (void)info;
    coverage *cv = data;
    char gname[64] = "", want[330];
    H5Iget_name(group, gname, sizeof gname);
    const char *g = gname[0] == '/' ? gname + 1 : gname;
    if (!must_cover(g, name)) return 0;
    snprintf(want, sizeof want, "%s/%s", g, name);
    size_t len = strlen(want);
    for (const char *p = cv->covers; (p = strstr(p, want)) != NULL; p += len)
        if ((p == cv->covers || p[-1] == ' ') && (p[len] == ' ' || p[len] == '\0')) return 0;
    snprintf(cv->name, sizeof cv->name, "/%s", want);
    cv->missing = 1;
    return 1;
}

/* Opens the datasets the covers text names, each checked for its kind and shape. */
static isw_status open_entries(isw_checker *c, hid_t file, const char *covers, isw_error *err) {
    char why[512];
    int seen_step = 0;
    const char *p = covers;
    while (*p) {
        size_t len = strcspn(p, " ");
        if (len == 0 || len >= 300 || c->n >= MAX_COVERS)
            return isw_fail(err, ISW_EINPUT, "%s: the covers attribute of /tasks/checksum is damaged", c->path);
        entry *e = &c->e[c->n];
        snprintf(e->name, sizeof e->name, "/%.*s", (int)len, p);
        p += len + (p[len] == ' ');
        int traj = !strncmp(e->name, "/traj/", 6), final = !strncmp(e->name, "/final/", 7);
        int tasks = !strncmp(e->name, "/tasks/", 7), step = !strcmp(e->name, "/traj/step");
        if ((!traj && !final && !tasks) || strchr(e->name + (tasks ? 7 : traj ? 6 : 7), '/') || (traj && !step && !seen_step))
            return isw_fail(err, ISW_EINPUT, "%s: the covers attribute of /tasks/checksum names %s, which a checksum "
                            "cannot cover (damaged)", c->path, e->name);
        seen_step |= step;
        hid_t want = traj ? H5Tcopy(step ? H5T_STD_I64LE : H5T_IEEE_F64LE) : final ? H5Tcopy(H5T_IEEE_F64LE) : -1;
        if (tasks) {
            /* A column's type decides its cell's words; it is checked against the kinds a cell may be. */
            if (!isw_h5_hard_path(file, e->name, H5O_TYPE_DATASET, why, sizeof why))
                return isw_fail(err, ISW_EINPUT, "%s: %s (named by /tasks/checksum's covers)", c->path, why);
            hid_t ds = H5Dopen2(file, e->name, H5P_DEFAULT), ft = ds >= 0 ? H5Dget_type(ds) : -1;
            int ok = ft >= 0 && cell_kind(ft, e);
            if (ok) want = H5Tcopy(ft);
            if (ft >= 0) H5Tclose(ft);
            if (ds >= 0) H5Dclose(ds);
            if (!ok)
                return isw_fail(err, ISW_EINPUT, "%s: dataset %s holds a type no checksum covers", c->path, e->name);
        } else {
            e->kind = traj ? (step ? ROW_STEP : ROW_VALUES) : CELL_F64;
            e->size = traj ? (size_t)c->S * 8 : 8;
            e->mem = H5Tcopy(traj && step ? H5T_NATIVE_INT64 : H5T_NATIVE_DOUBLE);
        }
        e->ds = want < 0 ? -1 : isw_h5_open_checked(file, e->name, want, traj ? 2 : 1, c->T, traj ? c->S : 0, why, sizeof why);
        if (want >= 0) H5Tclose(want);
        c->n++;
        if (e->ds < 0) return isw_fail(err, ISW_EINPUT, "%s: %s", c->path, why);
    }
    coverage cv = {covers, 0, ""};
    const char *groups[] = {"/tasks", "/traj", "/final"};
    for (int g = 0; g < 3 && !cv.missing; g++) {
        hid_t grp = isw_h5_hard_path(file, groups[g], H5O_TYPE_GROUP, why, sizeof why) ? H5Gopen2(file, groups[g], H5P_DEFAULT) : -1;
        if (grp < 0) return isw_fail(err, ISW_EINPUT, "%s: %s", c->path, why);
        H5Literate(grp, H5_INDEX_NAME, H5_ITER_NATIVE, NULL, check_covered, &cv);
        H5Gclose(grp);
    }
    if (cv.missing)
        return isw_fail(err, ISW_EINPUT, "%s: the checksums do not cover %s (the covers attribute of "
                        "/tasks/checksum is damaged or forged)", c->path, cv.name);
    return ISW_OK;
}

isw_status isw_checker_from_file(hid_t file, const char *path, int64_t T, int64_t S, isw_checker **out, isw_error *err) {
    *out = NULL;
    char why[512], *covers = NULL;
    htri_t has = H5Lexists(file, "/tasks/checksum", H5P_DEFAULT);
    if (has == 0) return ISW_OK; /* an older format: no checksums to check */
    hid_t want = H5Tcopy(H5T_STD_U64LE);
    hid_t sum = has > 0 ? isw_h5_open_checked(file, "/tasks/checksum", want, 1, T, 0, why, sizeof why) : -1;
    H5Tclose(want);
    if (sum < 0) return isw_fail(err, ISW_EINPUT, "%s: %s", path, has > 0 ? why : "/tasks cannot be read");
    if (isw_h5_get_text_attr(sum, "covers", 1 << 20, &covers, why, sizeof why) != 1) {
        H5Dclose(sum);
        return isw_fail(err, ISW_EINPUT, "%s: /tasks/checksum has no readable covers attribute (damaged)", path);
    }
    int n = 1;
    for (const char *p = covers; *p; p++) n += *p == ' ';
    isw_checker *c = n <= MAX_COVERS ? new_checker(path, n, T, S, H5P_DEFAULT, 1) : NULL;
    isw_status rc = c ? ISW_OK : isw_fail(err, ISW_EINPUT, "%s: the covers attribute of /tasks/checksum is damaged", path);
    if (c) c->sum = sum;
    else H5Dclose(sum);
    if (!rc) rc = open_entries(c, file, covers, err);
    if (!rc && !alloc_blocks(c)) rc = isw_fail(err, ISW_EINTERNAL, "%s: out of memory for the checksums", path);
    free(covers);
    if (rc) {
        isw_checker_free(c);
        return rc;
    }
    *out = c;
    return ISW_OK;
}

typedef struct {
    isw_checker *c;
    isw_store *st;
} store_entries;

/* The entry of the open store's dataset for what a checksum covers. */
static void store_entry(void *ctx, const char *group, const char *name, const char *suffix, cover_src src, int i) {
    store_entries *se = ctx;
    isw_checker *c = se->c;
    isw_store *st = se->st;
    entry *e = &c->e[c->n++];
    snprintf(e->name, sizeof e->name, "/%s/%s%s", group, name, suffix);
    switch (src) {
    case SRC_ID:
    case SRC_STATUS:
    case SRC_STEPS_DONE: {
        col_kind k = isw_store_cols[i].kind;
        e->ds = st->col[i];
        e->kind = k == KIND_F64 ? CELL_F64 : k == KIND_U64 ? CELL_U64 : k == KIND_I64 ? CELL_I64 : CELL_U8;
        e->mem = k == KIND_I32 ? H5Tcopy(H5T_NATIVE_INT64) : isw_store_mem_type(k);
        e->size = k == KIND_U8 || k == KIND_STATUS ? 1 : 8;
        if (k == KIND_I32) e->kind = CELL_I64;
        break;
    }
    case SRC_USED:
    case SRC_SET: {
        const isw_param_def *p = &st->lay->params[i];
        e->ds = src == SRC_USED ? st->param[i] : st->setting[i];
        e->mem = isw_store_param_mem_type(p);
        e->kind = p->type == ISW_P_INT ? CELL_I64 : p->type == ISW_P_REAL ? CELL_F64 : p->type == ISW_P_BOOL ? CELL_U8 : CELL_TEXT;
        e->size = p->type == ISW_P_CHOICE ? isw_store_choice_bytes(p) : p->type == ISW_P_BOOL ? 1 : 8;
        break;
    }
    case SRC_STEP:
    case SRC_TRAJ:
        e->ds = src == SRC_STEP ? st->step : st->traj[i];
        e->kind = src == SRC_STEP ? ROW_STEP : ROW_VALUES;
        e->mem = H5Tcopy(src == SRC_STEP ? H5T_NATIVE_INT64 : H5T_NATIVE_DOUBLE);
        e->size = (size_t)st->S * 8;
        break;
    case SRC_FINAL:
        e->ds = st->final[i];
        e->kind = CELL_F64;
        e->mem = H5Tcopy(H5T_NATIVE_DOUBLE);
        e->size = 8;
        break;
    }
}

static void count_entry(void *ctx, const char *group, const char *name, const char *suffix, cover_src src, int i) {
    (void)group;
    (void)name;
    (void)suffix;
    (void)src;
    (void)i;
    ++*(int *)ctx;
}

isw_status isw_checker_from_store(isw_store *st, isw_checker **out, isw_error *err) {
    int n = 0;
    covers_walk(st->lay, count_entry, &n);
    isw_checker *c = new_checker(st->path, n, st->T, st->S, st->dxpl, 0);
    if (!c) return isw_fail(err, ISW_EINTERNAL, "%s: out of memory for the checksums", st->path);
    c->sum = st->col[COL_checksum];
    store_entries se = {c, st};
    covers_walk(st->lay, store_entry, &se);
    int ok = 1;
    for (int k = 0; k < c->n; k++) ok = ok && c->e[k].mem >= 0 && c->e[k].ds >= 0;
    if (!ok || !alloc_blocks(c)) {
        isw_checker_free(c);
        return isw_fail(err, ISW_EINTERNAL, "%s: out of memory for the checksums", st->path);
    }
    *out = c;
    return ISW_OK;
}

/* Row r of the block just read: its checksum, and whether its step padding is sound. */
static uint64_t block_checksum(const isw_checker *c, int64_t r, int *padding_ok) {
    row_hash rh;
    rh_init(&rh);
    int64_t n = 0;
    *padding_ok = 1;
    for (int k = 0; k < c->n; k++) {
        const entry *e = &c->e[k];
        const unsigned char *cell = e->buf + (size_t)r * e->size;
        uint64_t w = 0;
        switch (e->kind) {
        case CELL_I64:
        case CELL_U64:
        case CELL_F64: memcpy(&w, cell, 8); rh_word(&rh, w); break;
        case CELL_U8: rh_word(&rh, cell[0]); break;
        case CELL_TEXT: rh_text(&rh, cell, e->size); break;
        case ROW_STEP: {
            const int64_t *steps = (const int64_t *)(const void *)cell;
            n = log_points(steps, c->S);
            rh_word(&rh, (uint64_t)n);
            for (int64_t j = 0; j < n; j++) rh_word(&rh, (uint64_t)steps[j]);
            for (int64_t j = n; j < c->S; j++) *padding_ok &= steps[j] == -1;
            break;
        }
        case ROW_VALUES:
            for (int64_t j = 0; j < n; j++) {
                memcpy(&w, cell + 8 * j, 8);
                rh_word(&rh, w);
            }
            break;
        }
    }
    return rh_final(&rh);
}

/* Reads rows [first, first + n) of every entry and of the checksum column. */
static isw_status read_block(isw_checker *c, int64_t first, int64_t n, isw_error *err) {
    for (int k = 0; k < c->n; k++) {
        const entry *e = &c->e[k];
        int64_t width = e->kind == ROW_STEP || e->kind == ROW_VALUES ? c->S : 1;
        if (!isw_h5_read_block(e->ds, c->dxpl, e->mem, first, n, width, e->buf))
            return isw_fail(err, ISW_EINPUT, "%s: cannot read %s rows %lld..%lld: %s", c->path, e->name,
                            (long long)first, (long long)(first + n - 1), isw_h5_reason());
    }
    if (!isw_h5_read_block(c->sum, c->dxpl, H5T_NATIVE_UINT64, first, n, 1, c->sums))
        return isw_fail(err, ISW_EINPUT, "%s: cannot read /tasks/checksum rows %lld..%lld: %s", c->path,
                        (long long)first, (long long)(first + n - 1), isw_h5_reason());
    return ISW_OK;
}

isw_status isw_checker_run(isw_checker *c, const uint8_t *status, uint8_t *bad, isw_error *err) {
    for (int64_t first = 0; first < c->T; first += c->rows) {
        int64_t n = c->T - first < c->rows ? c->T - first : c->rows, finished = 0;
        for (int64_t r = 0; r < n; r++) {
            bad[first + r] = ISW_ROW_OK;
            finished += status[first + r] == ISW_TASK_DONE || status[first + r] == ISW_TASK_DIVERGED;
        }
        if (!finished) continue; /* a block of unfinished rows is not read at all */
        isw_status rc = read_block(c, first, n, err);
        if (rc) return rc;
        for (int64_t r = 0; r < n; r++) {
            if (status[first + r] != ISW_TASK_DONE && status[first + r] != ISW_TASK_DIVERGED) continue;
            int padding_ok = 1;
            uint64_t sum = block_checksum(c, r, &padding_ok);
            bad[first + r] = c->sums[r] == 0 ? ISW_ROW_NO_CHECKSUM : !padding_ok ? ISW_ROW_PADDING
                           : sum != c->sums[r] ? ISW_ROW_CHECKSUM : ISW_ROW_OK;
        }
    }
    return ISW_OK;
}

const char *isw_row_fault_text(int fault) {
    switch (fault) {
    case ISW_ROW_OK: return "matches its checksum";
    case ISW_ROW_CHECKSUM: return "its data does not match its checksum (changed after it was written)";
    case ISW_ROW_NO_CHECKSUM: return "it is finished but has no checksum (its checksum was lost, or the row was "
                                     "written by another program)";
    case ISW_ROW_PADDING: return "its /traj/step row has a log point past its padding (damaged)";
    }
    return "unknown";
}

isw_status isw_store_verify(const char *path, const isw_store_table *tab, uint8_t *bad, int *checked, isw_error *err) {
    *checked = 0;
    hid_t f = -1;
    isw_store_info info;
    isw_status rc = isw_store_open_header(path, &f, &info, err);
    isw_checker *c = NULL;
    if (!rc && (info.T != tab->info.T || info.S != tab->info.S))
        rc = isw_fail(err, ISW_EINPUT, "%s changed while it was read", path);
    if (!rc) rc = isw_checker_from_file(f, path, info.T, info.S, &c, err);
    if (!rc && c) rc = isw_checker_run(c, tab->status, bad, err);
    *checked = !rc && c;
    if (!rc && !c) memset(bad, 0, (size_t)tab->info.T);
    isw_checker_free(c);
    if (f >= 0) H5Fclose(f);
    isw_store_info_free(&info);
    return rc;
}
