/* Resuming a result file: the serial checks rank 0 makes before anyone opens it, the collective
 * open, and the identity check.
 *
 * A resume must never mix rows of two different sweeps, programs or generators in one file, and a
 * crafted file must never be written to or read past its datasets. So rank 0 first checks,
 * serially and read-only, the header (format, completed creation, the root attributes the layout
 * says must match, task and log-point counts), that the file holds no links, every dataset the
 * layout names (type in its whole layout, rank, shape, storage), the coordinates (/task,
 * /log_point) and what the checksums cover; then all ranks open the file collectively, running
 * the same checks on the same metadata and keeping every dataset open; then rank 0 checks the
 * finished rows' checksums and compares the stored task identities row by row with raw reads only
 * (with collective metadata on, a metadata read by one rank alone would wait for the others). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_int.h"

/* The text value of root attribute `name` in lay, or NULL. */
static const char *layout_text(const isw_store_layout *lay, const char *name) {
    for (int i = 0; i < lay->n_attrs; i++)
        if (lay->attrs[i].text && strcmp(lay->attrs[i].name, name) == 0) return lay->attrs[i].text;
    return NULL;
}

/* The stored value of a root attribute named in lay->match, from info. */
static const char *info_text(const isw_store_info *info, const char *name) {
    if (!strcmp(name, "name")) return info->name;
    if (!strcmp(name, "model")) return info->model;
    if (!strcmp(name, "seed")) return info->seed;
    if (!strcmp(name, "generator")) return info->generator;
    if (!strcmp(name, "sweep")) return info->sweep;
    if (!strcmp(name, "spec_hash")) return info->spec_hash;
    if (!strcmp(name, "grid")) return info->grid;
    if (!strcmp(name, "shard")) return info->shard;
    return NULL;
}

isw_status isw_store_match_attrs(const char *path, const isw_store_info *info, const isw_store_layout *lay,
                                 const char *const *names, isw_error *err) {
    for (const char *const *m = names; m && *m; m++) {
        const char *want = layout_text(lay, *m), *have = info_text(info, *m);
        const char *what = !strcmp(*m, "seed") ? "sweep seed" : !strcmp(*m, "generator") ? "data generator" : *m;
        if (want && (!have || strcmp(want, have) != 0))
            return isw_fail(err, ISW_EINPUT, "%s was made with %s %.60s, this run has %s %.60s%s", path, what,
                            have ? have : "(none)", what, want,
                            strcmp(*m, "generator") ? "" : " (results would not match bit for bit; start a new "
                            "file, or finish it with the iclsweep that began it)");
    }
    return ISW_OK;
}

/* Refuses a header that does not match lay: the attributes of lay->match, then the counts. */
static isw_status match_header(const char *path, const isw_store_info *info, const isw_store_layout *lay,
                               isw_error *err) {
    if (strcmp(info->format, ISW_STORE_FORMAT) != 0)
        return isw_fail(err, ISW_EINPUT, "%s is in the older format %s, which this iclsweep reads but does not "
                        "resume (it writes %s); start a new file that keeps its finished tasks: iclsweep run "
                        "SWEEP.yaml -o NEW.h5 --from %s", path, info->format, ISW_STORE_FORMAT, path);
    isw_status rc = isw_store_match_attrs(path, info, lay, lay->match, err);
    if (rc) return rc;
    if (info->T != lay->T)
        return isw_fail(err, ISW_EINPUT, "%s was made by a different sweep: it has %lld tasks, this sweep %lld",
                        path, (long long)info->T, (long long)lay->T);
    if (info->S != lay->S)
        return isw_fail(err, ISW_EINPUT, "%s was made by a different sweep: it has %lld log points per task, "
                        "this sweep %lld", path, (long long)info->S, (long long)lay->S);
    return ISW_OK;
}

/* Opens and checks dataset `name` of shape [T] (width 0) or [T, width] with file type `want`
 * (taken: closed here). Returns the dataset or -1 with err set. */
static hid_t open_one(hid_t f, const char *path, const char *name, hid_t want, int64_t T, int64_t width,
                      isw_error *err) {
    char why[512];
    hid_t ds = want < 0 ? -1 : isw_h5_open_checked(f, name, want, width ? 2 : 1, T, width, why, sizeof why);
    if (want >= 0) H5Tclose(want);
    if (ds < 0) isw_fail(err, ISW_EINPUT, "%s: %s; the file does not match this sweep", path, want < 0 ? name : why);
    return ds;
}

/* Keeps ds in *slot when the store is opened (st not NULL), else closes it. */
static void keep(isw_store *st, hid_t *slot, hid_t ds) {
    if (st) *slot = ds;
    else H5Dclose(ds);
}

/* Opens and checks every dataset of lay in f, into st (when not NULL; else each is closed again). */
static isw_status open_datasets(hid_t f, const char *path, const isw_store_layout *lay, isw_store *st,
                                isw_error *err) {
    int64_t T = lay->T, S = lay->S;
    char name[300];
    hid_t ds, unused = -1;
#define OPEN_INTO(slot, expr) \
    if ((ds = (expr)) < 0) return ISW_EINPUT; \
    keep(st, st ? &(slot) : &unused, ds)
    OPEN_INTO(st->task_scale, open_one(f, path, "/task", H5Tcopy(H5T_STD_I64LE), T, 0, err));
    OPEN_INTO(st->log_scale, open_one(f, path, "/log_point", H5Tcopy(H5T_STD_I64LE), S, 0, err));
    OPEN_INTO(st->step, open_one(f, path, "/traj/step", H5Tcopy(H5T_STD_I64LE), T, S, err));
    for (int i = 0; i < lay->n_params; i++) {
        snprintf(name, sizeof name, "/tasks/%s", lay->params[i].name);
        OPEN_INTO(st->param[i], open_one(f, path, name, isw_store_param_type(&lay->params[i]), T, 0, err));
        if (!lay->derived || !lay->derived[i]) continue;
        snprintf(name, sizeof name, "/tasks/%s_setting", lay->params[i].name);
        OPEN_INTO(st->setting[i], open_one(f, path, name, isw_store_param_type(&lay->params[i]), T, 0, err));
    }
    for (int c = 0; c < N_COLS; c++) {
        snprintf(name, sizeof name, "/tasks/%s", isw_store_cols[c].name);
        OPEN_INTO(st->col[c], open_one(f, path, name, isw_store_file_type(isw_store_cols[c].kind), T, 0, err));
    }
    for (int i = 0; i < lay->n_traj; i++) {
        snprintf(name, sizeof name, "/traj/%s", lay->traj[i].name);
        OPEN_INTO(st->traj[i], open_one(f, path, name, H5Tcopy(H5T_IEEE_F64LE), T, S, err));
    }
    for (int i = 0; i < lay->n_final; i++) {
        snprintf(name, sizeof name, "/final/%s", lay->final[i].name);
        OPEN_INTO(st->final[i], open_one(f, path, name, H5Tcopy(H5T_IEEE_F64LE), T, 0, err));
    }
    for (int i = 0; i < lay->n_theory; i++) { /* written at creation, read by the analysis only */
        snprintf(name, sizeof name, "/theory/%s", lay->theory[i].name);
        OPEN_INTO(st->theory[i], open_one(f, path, name, H5Tcopy(H5T_IEEE_F64LE), T, 0, err));
    }
#undef OPEN_INTO
    return ISW_OK;
}

/* Refuses coordinates that are not this layout's: /log_point must hold 0..S-1 and /task each
 * row's task index (a shard's rows are a part of the sweep's tasks). Written at creation and never
 * again, they are damage wherever they differ. */
static isw_status check_coordinates(hid_t f, const char *path, const isw_store_layout *lay, isw_error *err) {
    int64_t *buf = isw_malloc(BLOCK_ROWS * sizeof *buf, err);
    if (!buf) return ISW_EINTERNAL;
    isw_status rc = ISW_OK;
    for (int which = 0; !rc && which < 2; which++) {
        const char *name = which ? "/task" : "/log_point";
        int64_t n = which ? lay->T : lay->S;
        hid_t ds = open_one(f, path, name, H5Tcopy(H5T_STD_I64LE), n, 0, err);
        if (ds < 0) rc = ISW_EINPUT;
        for (int64_t first = 0; !rc && first < n; first += BLOCK_ROWS) {
            int64_t k = n - first < BLOCK_ROWS ? n - first : BLOCK_ROWS;
            if (!isw_h5_read_rows(ds, H5P_DEFAULT, H5T_NATIVE_INT64, first, k, buf)) {
                rc = isw_fail(err, ISW_EINPUT, "%s: cannot read %s: %s", path, name, isw_h5_reason());
                break;
            }
            for (int64_t r = 0; !rc && r < k; r++) {
                int64_t want = first + r;
                if (which) {
                    isw_store_row row;
                    memset(&row, 0, sizeof row);
                    lay->resolve_row(lay->ctx, first + r, &row);
                    want = row.task;
                }
                if (buf[r] != want)
                    rc = isw_fail(err, ISW_EINPUT, "%s: %s[%lld] is %lld, expected %lld (written at creation and "
                                  "never since: the file is damaged)", path, name, (long long)(first + r),
                                  (long long)buf[r], (long long)want);
            }
        }
        if (ds >= 0) H5Dclose(ds);
    }
    free(buf);
    return rc;
}

/* Refuses a checksum column whose covers attribute is not what this layout's checksums cover:
 * rows would be checked against other data than they were written with. */
static isw_status check_covers(hid_t f, const char *path, const isw_store_layout *lay, isw_error *err) {
    char why[256], *have = NULL, *want = isw_store_covers(lay);
    hid_t ds = H5Dopen2(f, "/tasks/checksum", H5P_DEFAULT); /* checked by open_datasets */
    int r = ds >= 0 ? isw_h5_get_text_attr(ds, "covers", 1 << 20, &have, why, sizeof why) : -1;
    isw_status rc = !want ? isw_fail(err, ISW_EINTERNAL, "out of memory")
                  : r == 1 && !strcmp(have, want) ? ISW_OK
                  : isw_fail(err, ISW_EINPUT, "%s: the covers attribute of /tasks/checksum is %s; the file is "
                             "damaged", path, r == 1 ? "not what this sweep's checksums cover" : "missing or unreadable");
    if (ds >= 0) H5Dclose(ds);
    free(have);
    free(want);
    return rc;
}

isw_status isw_store_check_layout(const char *path, const isw_store_layout *lay, isw_error *err) {
    hid_t f = -1;
    isw_store_info info;
    isw_status rc = isw_store_open_header(path, &f, &info, err);
    if (rc) return rc;
    rc = match_header(path, &info, lay, err);
    if (!rc) rc = open_datasets(f, path, lay, NULL, err);
    if (!rc) rc = check_coordinates(f, path, lay, err);
    if (!rc) rc = check_covers(f, path, lay, err);
    H5Fclose(f);
    isw_store_info_free(&info);
    return rc;
}

isw_status isw_store_open(const char *path, const isw_store_layout *lay, MPI_Comm comm, isw_store **out,
                          isw_error *err) {
    isw_store *st = NULL;
    isw_status rc = isw_store_alloc(&st, path, lay, err);
    hid_t fapl = rc ? -1 : H5Pcreate(H5P_FILE_ACCESS);
    if (!rc && (fapl < 0 || H5Pset_fapl_mpio(fapl, comm, MPI_INFO_NULL) < 0 ||
                H5Pset_all_coll_metadata_ops(fapl, 1) < 0 || H5Pset_coll_metadata_write(fapl, 1) < 0))
        rc = isw_fail(err, ISW_EINTERNAL, "%s: HDF5 MPI-IO file access set-up failed: %s", path, isw_h5_reason());
    if (!rc && (st->file = H5Fopen(path, H5F_ACC_RDWR, fapl)) < 0)
        rc = isw_fail(err, ISW_EINPUT, "%s: HDF5 cannot open it for writing: %s", path, isw_h5_reason());
    if (fapl >= 0) H5Pclose(fapl);
    if (!rc) rc = open_datasets(st->file, path, lay, st, err);
    int bad = rc != ISW_OK, any_bad = 0;
    MPI_Allreduce(&bad, &any_bad, 1, MPI_INT, MPI_MAX, comm);
    if (any_bad && !rc) rc = isw_fail(err, ISW_EINPUT, "%s: another rank could not open the file", path);
    if (rc) {
        hid_t file = st ? st->file : -1;
        if (st) st->file = -1;
        isw_store_free(st);
        if (file >= 0) H5Fclose(file);
        return rc;
    }
    *out = st;
    return ISW_OK;
}

isw_status isw_store_check_keys(isw_store *st, const isw_store_layout *lay, isw_error *err) {
    uint64_t *keys = isw_malloc(BLOCK_ROWS * sizeof *keys, err);
    if (!keys) return ISW_EINTERNAL;
    isw_status rc = ISW_OK;
    for (int64_t first = 0; !rc && first < st->T; first += BLOCK_ROWS) {
        int64_t n = st->T - first < BLOCK_ROWS ? st->T - first : BLOCK_ROWS;
        if (!isw_h5_read_rows(st->col[COL_key], st->dxpl, st->types[KIND_U64], first, n, keys)) {
            rc = isw_fail(err, ISW_EINPUT, "%s: cannot read /tasks/key rows %lld..%lld: %s", st->path,
                          (long long)first, (long long)(first + n - 1), isw_h5_reason());
            break;
        }
        for (int64_t r = 0; r < n; r++) {
            isw_store_row row;
            memset(&row, 0, sizeof row);
            lay->resolve_row(lay->ctx, first + r, &row);
            if (row.key != keys[r]) {
                rc = isw_fail(err, ISW_EINPUT, "%s was made by a different sweep: task %lld has another identity",
                              st->path, (long long)(first + r));
                break;
            }
        }
    }
    free(keys);
    return rc;
}
