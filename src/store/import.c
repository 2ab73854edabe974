/* Copying finished rows from another result file (growing a sweep, merging shards).
 *
 * Rows are matched by task identity, never by position: the source may be another sweep whose
 * grid is a subset of this one, or a shard holding a scattered part of it. A copied row must be
 * exactly what training it here would have written, so the source must come from the same model,
 * sweep seed and data generator (then a task's identity fixes its numbers), and it keeps its
 * attempts and wall time as evidence of what it cost. Only done and diverged rows (results) are
 * copied, and only those whose checksum holds (a source of an older format has none to check): a
 * row that fails runs here. The destination row is written in the durability order (data,
 * bookkeeping and a checksum of the row as it is in the destination, status last), so an import
 * killed midway leaves rows that are either still pending or complete. Workload: up to ~10^6 rows
 * of tens of metrics; the source is read a block of rows at a time per metric, the destination
 * written a row at a time. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "iclsweep/core/keymap.h"
#include "store_int.h"

#define IMPORT_BLOCK 4096

/* What one import needs open: the source's metric datasets, matched to lay's by name. */
typedef struct {
    hid_t file;
    hid_t *traj;  /* [n_traj] */
    hid_t *final; /* [n_final] */
    int64_t T, S;
} source;

static void close_source(source *src, const isw_store_layout *lay) {
    for (int i = 0; src->traj && i < lay->n_traj; i++)
        if (src->traj[i] >= 0) H5Dclose(src->traj[i]);
    for (int i = 0; src->final && i < lay->n_final; i++)
        if (src->final[i] >= 0) H5Dclose(src->final[i]);
    free(src->traj);
    free(src->final);
    if (src->file >= 0) H5Fclose(src->file);
}

/* Opens every metric of lay in the source, each checked as float64 of its shape. */
static isw_status open_source(source *src, const char *path, const isw_store_layout *lay, isw_error *err) {
    src->traj = calloc((size_t)lay->n_traj + 1, sizeof(hid_t));
    src->final = calloc((size_t)lay->n_final + 1, sizeof(hid_t));
    if (!src->traj || !src->final) return isw_fail(err, ISW_EINTERNAL, "out of memory");
    for (int i = 0; i < lay->n_traj; i++) src->traj[i] = -1;
    for (int i = 0; i < lay->n_final; i++) src->final[i] = -1;
    char name[300], why[512];
    hid_t f64 = H5Tcopy(H5T_IEEE_F64LE);
    isw_status rc = ISW_OK;
    for (int i = 0; !rc && i < lay->n_traj + lay->n_final; i++) {
        int is_traj = i < lay->n_traj;
        const isw_metric_def *m = is_traj ? &lay->traj[i] : &lay->final[i - lay->n_traj];
        snprintf(name, sizeof name, "/%s/%s", is_traj ? "traj" : "final", m->name);
        hid_t ds = isw_h5_open_checked(src->file, name, f64, is_traj ? 2 : 1, src->T, is_traj ? src->S : 0, why,
                                       sizeof why);
        if (ds < 0) rc = isw_fail(err, ISW_EINPUT, "%s: %s; cannot copy its results", path, why);
        else if (is_traj) src->traj[i] = ds;
        else src->final[i - lay->n_traj] = ds;
    }
    H5Tclose(f64);
    return rc;
}

/* The destination's identities, and which of its rows are already results (an earlier source). */
static isw_status read_dest(isw_store *st, uint64_t *keys, uint8_t *status, isw_error *err) {
    if (!isw_h5_read_rows(st->col[COL_key], st->dxpl, st->types[KIND_U64], 0, st->T, keys) ||
        !isw_h5_read_rows(st->col[COL_status], st->dxpl, st->types[KIND_STATUS], 0, st->T, status))
        return isw_fail(err, ISW_EINTERNAL, "%s: cannot read /tasks/key and /tasks/status", st->path);
    return ISW_OK;
}

/* A block of source rows' metrics: traj[i] is [rows, S_src] of /traj metric i, final[i] [rows]. */
typedef struct {
    int64_t rows;
    double **traj, **final;
    double *row_traj;  /* [n_traj, S_dst] one destination row */
    double *row_final; /* [n_final] */
} metric_block;

static void free_block(metric_block *b, const isw_store_layout *lay) {
    for (int i = 0; b->traj && i < lay->n_traj; i++) free(b->traj[i]);
    for (int i = 0; b->final && i < lay->n_final; i++) free(b->final[i]);
    free(b->traj);
    free(b->final);
    free(b->row_traj);
    free(b->row_final);
}

/* As many source rows as ~2^20 values of metrics, at most IMPORT_BLOCK. */
static int alloc_block(metric_block *b, const isw_store_layout *lay, int64_t S_src, int64_t S_dst) {
    memset(b, 0, sizeof *b);
    int64_t per_row = S_src * lay->n_traj + lay->n_final + 1;
    b->rows = (1 << 20) / per_row;
    if (b->rows > IMPORT_BLOCK) b->rows = IMPORT_BLOCK;
    if (b->rows < 1) b->rows = 1;
    b->traj = calloc((size_t)lay->n_traj + 1, sizeof *b->traj);
    b->final = calloc((size_t)lay->n_final + 1, sizeof *b->final);
    b->row_traj = malloc(((size_t)lay->n_traj * (size_t)S_dst + 1) * sizeof *b->row_traj);
    b->row_final = malloc(((size_t)lay->n_final + 1) * sizeof *b->row_final);
    int ok = b->traj && b->final && b->row_traj && b->row_final;
    for (int i = 0; ok && i < lay->n_traj; i++) ok = (b->traj[i] = malloc((size_t)(b->rows * S_src) * sizeof(double))) != NULL;
    for (int i = 0; ok && i < lay->n_final; i++) ok = (b->final[i] = malloc((size_t)b->rows * sizeof(double))) != NULL;
    return ok;
}

/* Reads the metrics of source rows [first, first + n) into b. */
static isw_status read_metrics(const source *src, const isw_store_layout *lay, const char *path, int64_t first,
                               int64_t n, metric_block *b, isw_error *err) {
    for (int i = 0; i < lay->n_traj + lay->n_final; i++) {
        int is_traj = i < lay->n_traj;
        int k = is_traj ? i : i - lay->n_traj;
        if (!isw_h5_read_block(is_traj ? src->traj[k] : src->final[k], H5P_DEFAULT, H5T_NATIVE_DOUBLE, first, n,
                               is_traj ? src->S : 1, is_traj ? b->traj[k] : b->final[k]))
            return isw_fail(err, ISW_EINPUT, "%s: cannot read %s rows %lld..%lld: %s", path,
                            is_traj ? lay->traj[k].name : lay->final[k].name, (long long)first,
                            (long long)(first + n - 1), isw_h5_reason());
    }
    return ISW_OK;
}

/* Writes source row s (row r of block b) into destination row t: its metrics, then its
 * bookkeeping and a checksum of the row as it now is in st, status last. */
static isw_status copy_row(isw_store *st, const isw_store_layout *lay, const isw_store_table *tab, const metric_block *b,
                           int64_t r, int64_t s, int64_t t, int64_t S_src, int origin, isw_error *err) {
    /* A task's log points are the same in both files (its steps are part of its identity); only
     * the padding to each file's S differs. */
    for (int i = 0; i < lay->n_traj; i++)
        for (int64_t j = 0; j < st->S; j++)
            b->row_traj[(size_t)i * (size_t)st->S + (size_t)j] = j < S_src ? b->traj[i][r * S_src + j] : NAN;
    for (int i = 0; i < lay->n_final; i++) b->row_final[i] = b->final[i][r];
    for (int i = 0; i < lay->n_traj + lay->n_final; i++) {
        int is_traj = i < lay->n_traj;
        int k = is_traj ? i : i - lay->n_traj;
        if (!isw_h5_write_rows(is_traj ? st->traj[k] : st->final[k], st->dxpl, H5T_NATIVE_DOUBLE, t, 1, is_traj ? st->S : 1,
                               is_traj ? b->row_traj + (size_t)k * (size_t)st->S : b->row_final + k))
            return isw_fail(err, ISW_EINTERNAL, "%s: writing %s row %lld failed: %s", st->path,
                            is_traj ? lay->traj[k].name : lay->final[k].name, (long long)t, isw_h5_reason());
    }
    int32_t org = origin;
    uint64_t sum = isw_store_row_checksum(st, t, b->row_traj, b->row_final, tab->status[s], tab->steps_done[s]);
    const void *cells[] = {&tab->attempts[s], &tab->rank[s], &tab->wall_s[s], &tab->steps_done[s],
                           tab->error[s], &org, &tab->cpu_s[s], &tab->peak_rss[s], &tab->resumes[s],
                           &tab->ckpt_step[s], &sum, &tab->status[s]};
    const int cols[] = {COL_attempts, COL_rank, COL_wall_s, COL_steps_done, COL_error, COL_origin, COL_cpu_s,
                        COL_peak_rss, COL_resumes, COL_ckpt_step, COL_checksum, COL_status};
    for (unsigned k = 0; k < sizeof cols / sizeof cols[0]; k++)
        if (!isw_h5_write_rows(st->col[cols[k]], st->dxpl, st->types[isw_store_cols[cols[k]].kind], t, 1, 1, cells[k]))
            return isw_fail(err, ISW_EINTERNAL, "%s: writing /tasks/%s row %lld failed: %s", st->path,
                            isw_store_cols[cols[k]].name, (long long)t, isw_h5_reason());
    return ISW_OK;
}

/* Notes source row s, refused for its fault, in the report. */
static void refuse(isw_store_import_report *rep, int64_t s) {
    if (rep->refused < ISW_IMPORT_SHOWN) rep->refused_rows[rep->refused] = s;
    rep->refused++;
}

isw_status isw_store_import(isw_store *st, const isw_store_layout *lay, const char *path, int origin,
                            isw_store_import_report *rep, isw_error *err) {
    memset(rep, 0, sizeof *rep);
    isw_store_table tab;
    isw_status rc = isw_store_read_table(path, &tab, err);
    if (rc) return rc;
    source src = {-1, NULL, NULL, tab.info.T, tab.info.S};
    uint64_t *keys = NULL;
    uint8_t *status = NULL, *bad = NULL;
    metric_block b;
    memset(&b, 0, sizeof b);
    isw_keymap map = {0};
    /* A source may be a shard or another sweep; what fixes a task's numbers must agree. */
    static const char *const same[] = {"model", "seed", "generator", NULL};
    rc = isw_store_match_attrs(path, &tab.info, lay, same, err);
    /* Every result is checked against its checksum before it is copied; one that fails runs here. */
    if (!rc && !(bad = isw_malloc((size_t)tab.info.T, err))) rc = ISW_EINTERNAL;
    if (!rc) rc = isw_store_verify(path, &tab, bad, &rep->checked, err);
    if (!rc && (src.file = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT)) < 0)
        rc = isw_fail(err, ISW_EINPUT, "%s: HDF5 cannot open it", path);
    if (!rc) rc = open_source(&src, path, lay, err);
    if (!rc) {
        keys = isw_malloc((size_t)st->T * sizeof *keys, err);
        status = isw_malloc((size_t)st->T, err);
        if (!keys || !status || !alloc_block(&b, lay, src.S, st->S))
            rc = isw_fail(err, ISW_EINTERNAL, "%s: out of memory copying its rows", path);
    }
    if (!rc) rc = read_dest(st, keys, status, err);
    if (!rc) rc = isw_keymap_init(&map, st->T, err);
    for (int64_t t = 0; !rc && t < st->T; t++) isw_keymap_put(&map, keys[t], t);
    for (int64_t first = 0; !rc && first < src.T; first += b.rows) {
        int64_t n = src.T - first < b.rows ? src.T - first : b.rows, matched = 0;
        for (int64_t r = 0; r < n; r++) {
            int64_t s = first + r, t = isw_keymap_get(&map, tab.key[s]);
            int result = tab.status[s] == ISW_TASK_DONE || tab.status[s] == ISW_TASK_DIVERGED;
            matched += result && t >= 0 && status[t] != ISW_TASK_DONE && status[t] != ISW_TASK_DIVERGED;
        }
        if (!matched) continue;
        rc = read_metrics(&src, lay, path, first, n, &b, err);
        for (int64_t r = 0; !rc && r < n; r++) {
            int64_t s = first + r, t = isw_keymap_get(&map, tab.key[s]);
            int result = tab.status[s] == ISW_TASK_DONE || tab.status[s] == ISW_TASK_DIVERGED;
            if (!result || t < 0 || status[t] == ISW_TASK_DONE || status[t] == ISW_TASK_DIVERGED) continue;
            if (bad[s]) {
                refuse(rep, s);
                continue;
            }
            rc = copy_row(st, lay, &tab, &b, r, s, t, src.S, origin, err);
            status[t] = tab.status[s];
            rep->copied++;
        }
    }
    isw_keymap_free(&map);
    free(keys);
    free(status);
    free(bad);
    free_block(&b, lay);
    close_source(&src, lay);
    isw_store_table_free(&tab);
    return rc;
}
