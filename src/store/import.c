/* Copying finished rows from another result file (growing a sweep, merging shards).
 *
 * Rows are matched by task identity, never by position: the source may be another sweep whose
 * grid is a subset of this one, or a shard holding a scattered part of it. A copied row must be
 * exactly what training it here would have written, so the source must come from the same model,
 * sweep seed and data generator (then a task's identity fixes its numbers), and it keeps its
 * attempts and wall time as evidence of what it cost. Only done and diverged rows (results) are
 * copied; pending, running and failed ones run here. The destination row is written in the
 * durability order (data, bookkeeping, status last), so an import killed midway leaves rows that
 * are either still pending or complete. Workload: up to ~10^6 rows of tens of metrics; the source
 * is read a block of rows at a time per metric, the destination written a row at a time. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "iclsweep/core/keymap.h"
#include "store_int.h"

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

/* Reads rows [first, first + n) of the source's metric dataset ds ([T, width]) into buf. */
static int read_block(hid_t ds, int64_t first, int64_t n, int64_t width, double *buf) {
    hid_t fspace = H5Dget_space(ds), mspace = -1;
    hsize_t start[2] = {(hsize_t)first, 0}, count[2] = {(hsize_t)n, (hsize_t)width}, all = (hsize_t)(n * width);
    int ok = fspace >= 0 && H5Sselect_hyperslab(fspace, H5S_SELECT_SET, start, NULL, count, NULL) >= 0 &&
             (mspace = H5Screate_simple(1, &all, NULL)) >= 0 &&
             H5Dread(ds, H5T_NATIVE_DOUBLE, mspace, fspace, H5P_DEFAULT, buf) >= 0;
    if (mspace >= 0) H5Sclose(mspace);
    if (fspace >= 0) H5Sclose(fspace);
    return ok;
}

/* Copies the metric rows of the matched source rows [first, first + n): dest[r] >= 0 is the
 * destination row of source row first + r. */
static isw_status copy_metrics(isw_store *st, const isw_store_layout *lay, const source *src, const char *path,
                               int64_t first, int64_t n, const int64_t *dest, double *buf, double *row,
                               isw_error *err) {
    for (int i = 0; i < lay->n_traj + lay->n_final; i++) {
        int is_traj = i < lay->n_traj;
        hid_t sds = is_traj ? src->traj[i] : src->final[i - lay->n_traj];
        hid_t dds = is_traj ? st->traj[i] : st->final[i - lay->n_traj];
        int64_t width = is_traj ? src->S : 1, dwidth = is_traj ? st->S : 1;
        const char *name = is_traj ? lay->traj[i].name : lay->final[i - lay->n_traj].name;
        if (!read_block(sds, first, n, width, buf))
            return isw_fail(err, ISW_EINPUT, "%s: cannot read %s rows %lld..%lld", path, name, (long long)first,
                            (long long)(first + n - 1));
        for (int64_t r = 0; r < n; r++) {
            if (dest[r] < 0) continue;
            /* A task's log points are the same in both files (its steps are part of its identity);
             * only the padding to each file's S differs. */
            for (int64_t j = 0; j < dwidth; j++) row[j] = j < width ? buf[r * width + j] : NAN;
            if (!isw_h5_write_rows(dds, st->dxpl, H5T_NATIVE_DOUBLE, dest[r], 1, dwidth, row))
                return isw_fail(err, ISW_EINTERNAL, "%s: writing %s row %lld failed: %s", st->path, name,
                                (long long)dest[r], isw_h5_reason());
        }
    }
    return ISW_OK;
}

/* The bookkeeping of source row s into destination row t, status last. */
static isw_status copy_bookkeeping(isw_store *st, const isw_store_table *tab, int64_t s, int64_t t, int origin,
                                   isw_error *err) {
    int32_t org = origin;
    const void *cells[] = {&tab->attempts[s], &tab->rank[s], &tab->wall_s[s], &tab->steps_done[s],
                           tab->error[s], &org, &tab->cpu_s[s], &tab->peak_rss[s], &tab->resumes[s],
                           &tab->ckpt_step[s], &tab->status[s]};
    const int cols[] = {COL_attempts, COL_rank, COL_wall_s, COL_steps_done, COL_error, COL_origin, COL_cpu_s,
                        COL_peak_rss, COL_resumes, COL_ckpt_step, COL_status};
    for (unsigned k = 0; k < sizeof cols / sizeof cols[0]; k++)
        if (!isw_h5_write_rows(st->col[cols[k]], st->dxpl, st->types[isw_store_cols[cols[k]].kind], t, 1, 1, cells[k]))
            return isw_fail(err, ISW_EINTERNAL, "%s: writing /tasks/%s row %lld failed: %s", st->path,
                            isw_store_cols[cols[k]].name, (long long)t, isw_h5_reason());
    return ISW_OK;
}

#define IMPORT_BLOCK 4096

isw_status isw_store_import(isw_store *st, const isw_store_layout *lay, const char *path, int origin,
                            int64_t *copied, isw_error *err) {
    *copied = 0;
    isw_store_table tab;
    isw_status rc = isw_store_read_table(path, &tab, err);
    if (rc) return rc;
    source src = {-1, NULL, NULL, tab.info.T, tab.info.S};
    uint64_t *keys = NULL;
    uint8_t *status = NULL;
    int64_t *dest = NULL;
    double *buf = NULL, *row = NULL;
    isw_keymap map = {0};
    /* A source may be a shard or another sweep; what fixes a task's numbers must agree. */
    static const char *const same[] = {"model", "seed", "generator", NULL};
    rc = isw_store_match_attrs(path, &tab.info, lay, same, err);
    if (!rc && (src.file = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT)) < 0)
        rc = isw_fail(err, ISW_EINPUT, "%s: HDF5 cannot open it", path);
    if (!rc) rc = open_source(&src, path, lay, err);
    if (!rc) {
        keys = isw_malloc((size_t)st->T * sizeof *keys, err);
        status = isw_malloc((size_t)st->T, err);
        dest = isw_malloc(IMPORT_BLOCK * sizeof *dest, err);
        buf = isw_malloc((size_t)IMPORT_BLOCK * (size_t)(src.S > 1 ? src.S : 1) * sizeof *buf, err);
        row = isw_malloc((size_t)(st->S > 1 ? st->S : 1) * sizeof *row, err);
        if (!keys || !status || !dest || !buf || !row) rc = ISW_EINTERNAL;
    }
    if (!rc) rc = read_dest(st, keys, status, err);
    if (!rc) rc = isw_keymap_init(&map, st->T, err);
    for (int64_t t = 0; !rc && t < st->T; t++) isw_keymap_put(&map, keys[t], t);
    for (int64_t first = 0; !rc && first < src.T; first += IMPORT_BLOCK) {
        int64_t n = src.T - first < IMPORT_BLOCK ? src.T - first : IMPORT_BLOCK, matched = 0;
        for (int64_t r = 0; r < n; r++) {
            int64_t s = first + r, t = isw_keymap_get(&map, tab.key[s]);
            int result = tab.status[s] == ISW_TASK_DONE || tab.status[s] == ISW_TASK_DIVERGED;
            dest[r] = result && t >= 0 && status[t] != ISW_TASK_DONE && status[t] != ISW_TASK_DIVERGED ? t : -1;
            matched += dest[r] >= 0;
        }
        if (!matched) continue;
        rc = copy_metrics(st, lay, &src, path, first, n, dest, buf, row, err);
        for (int64_t r = 0; !rc && r < n; r++) {
            if (dest[r] < 0) continue;
            rc = copy_bookkeeping(st, &tab, first + r, dest[r], origin, err);
            status[dest[r]] = tab.status[first + r];
            ++*copied;
        }
    }
    isw_keymap_free(&map);
    free(keys);
    free(status);
    free(dest);
    free(buf);
    free(row);
    close_source(&src, lay);
    isw_store_table_free(&tab);
    return rc;
}
