/* Reading a result file serially (status, merge, the resume header), while a sweep may write it.
 *
 * Result files are input: a crafted or damaged one must be refused with a message, never read
 * past a buffer or trusted for a size. So the path must be a regular file holding no links (soft,
 * external, or a second name of an object: isw_h5_check_links), every root attribute is
 * checked for type, scalar shape and size before it is read, creation must have finished, and
 * every dataset is checked (type, shape, storage inside the file) by isw_h5_open_checked before
 * a byte of it is read. The layout never changes after creation, so the columns are where the
 * header says while workers write rows. */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "iclsweep/core/isolate.h"
#include "store_int.h"

#define MAX_TEXT_ATTR 4096         /* name, model, seed, generator, spec_hash */
#define MAX_LONG_ATTR (4L << 20)   /* sweep (the YAML text), grid (JSON) */
#define MAX_TASKS 1000000000LL     /* the most tasks a sweep may have */
#define MAX_LOG_POINTS 1000000000LL

/* Refuses anything but an existing regular file (a FIFO would block, a device is not a file). */
static isw_status check_regular(const char *path, isw_error *err) {
    struct stat sb;
    if (stat(path, &sb) != 0)
        return isw_fail(err, ISW_EINPUT, "%s: cannot open the result file: %s", path, strerror(errno));
    if (!S_ISREG(sb.st_mode))
        return isw_fail(err, ISW_EINPUT, "%s: not a regular file; a result file is an HDF5 file", path);
    return ISW_OK;
}

/* Opens path read-only after checking it is a regular HDF5 file (nothing more: the probe's and
 * peek's open). */
static isw_status open_plain(const char *path, hid_t *file, isw_error *err) {
    isw_status rc = check_regular(path, err);
    if (rc) return rc;
    isw_h5_setup();
    if (H5Fis_hdf5(path) <= 0) return isw_fail(err, ISW_EINPUT, "%s: not an HDF5 file", path);
    if ((*file = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT)) < 0)
        return isw_fail(err, ISW_EINPUT, "%s: HDF5 cannot open it: %s", path, isw_h5_reason());
    return ISW_OK;
}

/* open_plain, and a file holding links refused. */
static isw_status open_readonly(const char *path, hid_t *file, isw_error *err) {
    isw_status rc = open_plain(path, file, err);
    if (rc) return rc;
    char why[512];
    if (!isw_h5_check_links(*file, why, sizeof why)) {
        H5Fclose(*file);
        *file = -1;
        return isw_fail(err, ISW_EINPUT, "%s: %s", path, why);
    }
    return ISW_OK;
}

/* One text attribute into *out: required ones must be present. */
static isw_status text_attr(hid_t f, const char *path, const char *name, size_t max, int required, char **out,
                            isw_error *err) {
    char what[256];
    int r = isw_h5_get_text_attr(f, name, max, out, what, sizeof what);
    if (r < 0) return isw_fail(err, ISW_EINPUT, "%s: %s; not an iclsweep result file, or a damaged one", path, what);
    if (r == 0 && required)
        return isw_fail(err, ISW_EINPUT, "%s: the root attribute %s is missing; not an iclsweep result file", path, name);
    return ISW_OK;
}

static isw_status int_attr(hid_t f, const char *path, const char *name, int64_t lo, int64_t hi, int64_t *out,
                           isw_error *err) {
    int r = isw_h5_get_int_attr(f, name, out);
    if (r == 0) return isw_fail(err, ISW_EINPUT, "%s: the root attribute %s is missing", path, name);
    if (r < 0) return isw_fail(err, ISW_EINPUT, "%s: the root attribute %s is not a single integer", path, name);
    if (*out < lo || *out > hi)
        return isw_fail(err, ISW_EINPUT, "%s: the root attribute %s is %lld; expected %lld..%lld", path, name,
                        (long long)*out, (long long)lo, (long long)hi);
    return ISW_OK;
}

/* Whether file f holds any result or any row that was started: a /tasks/status value other than
 * pending, or a finite value in /final. Reads only what its checks accept (hard links, the type,
 * storage inside the file) and answers 0 where nothing can be read: an unfinished creation (see
 * read_header) has written pending and NaN, or nothing at all yet. */
static int holds_results(hid_t f) {
    char why[512];
    int64_t T = 0;
    if (isw_h5_get_int_attr(f, "n_tasks", &T) != 1 || T < 1 || T > MAX_TASKS) T = 0;
    if (T == 0 && isw_h5_hard_path(f, "/tasks/status", H5O_TYPE_DATASET, why, sizeof why)) {
        /* n_tasks is damaged: the status column's own length, which its storage check bounds */
        hid_t ds = H5Dopen2(f, "/tasks/status", H5P_DEFAULT), space = ds < 0 ? -1 : H5Dget_space(ds);
        hsize_t dims[1] = {0};
        if (space >= 0 && H5Sget_simple_extent_ndims(space) == 1) H5Sget_simple_extent_dims(space, dims, NULL);
        T = dims[0] <= (hsize_t)MAX_TASKS ? (int64_t)dims[0] : 0;
        if (space >= 0) H5Sclose(space);
        if (ds >= 0) H5Dclose(ds);
    }
    if (T == 0) return 0;
    int found = 0;
    /* The buffer is sized by T only once a dataset of T rows has passed its checks (storage inside
     * the file): a forged n_tasks cannot make this allocate what the file does not hold. */
    void *buf = NULL;
    hid_t types[2] = {isw_store_file_type(KIND_STATUS), H5Tcopy(H5T_IEEE_F64LE)};
    hid_t ds = types[0] >= 0 ? isw_h5_open_checked(f, "/tasks/status", types[0], 1, T, 0, why, sizeof why) : -1;
    if (ds >= 0) buf = malloc((size_t)T * sizeof(double));
    if (ds >= 0 && buf && H5Dread(ds, types[0], H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) >= 0)
        for (int64_t t = 0; t < T && !found; t++) found = ((uint8_t *)buf)[t] != ISW_TASK_PENDING;
    if (ds >= 0) H5Dclose(ds);
    hid_t final = types[1] >= 0 && isw_h5_hard_path(f, "/final", H5O_TYPE_GROUP, why, sizeof why)
                      ? H5Gopen2(f, "/final", H5P_DEFAULT) : -1;
    H5G_info_t gi;
    char name[300];
    for (hsize_t i = 0; final >= 0 && !found && H5Gget_info(final, &gi) >= 0 && i < gi.nlinks && i < 100000; i++) {
        char member[256];
        if (H5Lget_name_by_idx(final, ".", H5_INDEX_NAME, H5_ITER_INC, i, member, sizeof member, H5P_DEFAULT) <= 0)
            continue;
        snprintf(name, sizeof name, "/final/%s", member);
        ds = isw_h5_open_checked(f, name, types[1], 1, T, 0, why, sizeof why);
        if (ds >= 0 && !buf) buf = malloc((size_t)T * sizeof(double));
        if (ds >= 0 && buf && H5Dread(ds, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) >= 0)
            for (int64_t t = 0; t < T && !found; t++) found = isfinite(((double *)buf)[t]);
        if (ds >= 0) H5Dclose(ds);
    }
    if (final >= 0) H5Gclose(final);
    for (int k = 0; k < 2; k++)
        if (types[k] >= 0) H5Tclose(types[k]);
    free(buf);
    return found;
}

/* Refuses a file whose creation did not finish (layout_complete is written last, as 1), saying
 * which of two things it is: an unfinished creation, which holds no results and which run
 * --resume starts again, or a damaged file that lost the attribute yet holds results. */
static isw_status check_finished(hid_t f, const char *path, isw_error *err) {
    int64_t complete = 0;
    int r = isw_h5_get_int_attr(f, "layout_complete", &complete);
    if (r == 1 && complete == 1) return ISW_OK;
    if (r == 1 || r < 0)
        return isw_fail(err, ISW_EINPUT, "%s: the root attribute layout_complete is %s; a finished file has 1 "
                        "(damaged or forged)", path, r < 0 ? "not a single integer" : "not 1");
    if (holds_results(f))
        return isw_fail(err, ISW_EINPUT, "%s: the root attribute layout_complete is missing, yet rows of the file "
                        "hold results: the file is damaged (not an unfinished creation) and cannot be used as it "
                        "is", path);
    return isw_fail(err, ISW_EINPUT, "%s: its creation never finished (the job was stopped or the disk filled "
                    "while creating it) and it holds no results; run --resume starts it again", path);
}

/* The header of an open file into info. */
static isw_status read_header(hid_t f, const char *path, isw_store_info *info, isw_error *err) {
    isw_status rc = text_attr(f, path, "format", MAX_TEXT_ATTR, 0, &info->format, err);
    const char *readable[] = ISW_STORE_READ_FORMATS;
    int known = 0;
    for (unsigned i = 0; info->format && i < sizeof readable / sizeof readable[0]; i++)
        known |= strcmp(info->format, readable[i]) == 0;
    if (!rc && !known) {
        if (info->format && strncmp(info->format, "iclsweep/", 9) == 0)
            rc = isw_fail(err, ISW_EINPUT, "%s: written in format %.40s, which this iclsweep does not read "
                          "(it reads %s); rerun the sweep, or read it with the iclsweep that wrote it",
                          path, info->format, ISW_STORE_FORMAT);
        else
            rc = isw_fail(err, ISW_EINPUT, "%s: not an iclsweep result file (no format attribute %s)", path,
                          ISW_STORE_FORMAT);
    }
    if (!rc) rc = check_finished(f, path, err);
    if (!rc) rc = int_attr(f, path, "n_tasks", 1, MAX_TASKS, &info->T, err);
    if (!rc) rc = int_attr(f, path, "n_log_points", 1, MAX_LOG_POINTS, &info->S, err);
    if (!rc) rc = int_attr(f, path, "replicates", 1, MAX_TASKS, &info->replicates, err);
    struct { const char *name; size_t max; char **out; } texts[] = {
        {"name", MAX_TEXT_ATTR, &info->name},       {"model", MAX_TEXT_ATTR, &info->model},
        {"seed", MAX_TEXT_ATTR, &info->seed},       {"generator", MAX_TEXT_ATTR, &info->generator},
        {"sweep", MAX_LONG_ATTR, &info->sweep},     {"spec_hash", MAX_TEXT_ATTR, &info->spec_hash},
        {"grid", MAX_LONG_ATTR, &info->grid},       {"shard", MAX_TEXT_ATTR, &info->shard},
        {"origins", MAX_LONG_ATTR, &info->origins}};
    for (unsigned i = 0; !rc && i < sizeof texts / sizeof texts[0]; i++)
        rc = text_attr(f, path, texts[i].name, texts[i].max, 1, texts[i].out, err);
    return rc;
}

isw_status isw_store_open_header(const char *path, hid_t *file, isw_store_info *info, isw_error *err) {
    memset(info, 0, sizeof *info);
    *file = -1;
    isw_status rc = open_readonly(path, file, err);
    if (!rc) rc = read_header(*file, path, info, err);
    if (rc) {
        if (*file >= 0) H5Fclose(*file);
        *file = -1;
        isw_store_info_free(info);
    }
    return rc;
}

isw_status isw_store_read_info(const char *path, isw_store_info *info, isw_error *err) {
    hid_t f = -1;
    isw_status rc = isw_store_open_header(path, &f, info, err);
    if (f >= 0) H5Fclose(f);
    return rc;
}

void isw_store_info_free(isw_store_info *info) {
    char *texts[] = {info->format, info->name, info->model,     info->seed, info->generator, info->sweep,
                     info->spec_hash, info->grid, info->shard, info->origins};
    for (unsigned i = 0; i < sizeof texts / sizeof texts[0]; i++) free(texts[i]);
    memset(info, 0, sizeof *info);
}

/* ---- the per-task table ----------------------------------------------------------------------- */

/* Whether state column c may be missing from a file: one of ISW_TASK_COLUMNS_ADDED. */
static int column_added(int c) {
    static const char *const added[] = ISW_TASK_COLUMNS_ADDED;
    for (unsigned i = 0; i < sizeof added / sizeof added[0]; i++)
        if (!strcmp(isw_store_cols[c].name, added[i])) return 1;
    return 0;
}

/* Opens /task and every /tasks column of f, each checked for type and shape [T] and for storage
 * inside the file, into ids[0] (/task) and ids[1 + c]; all before any buffer is sized by T. A
 * column that files of an older format lack (column_added: the checksum and the checkpoints'
 * accounting) gets id -1 when f is of an older format (older) and lacks it too; a file of this
 * format must hold every column, or a lost checksum column would let its rows go unchecked. */
static isw_status open_columns(hid_t f, const char *path, int64_t T, int older, hid_t *ids /* [N_COLS + 1] */,
                               isw_error *err) {
    char why[512], name[128];
    for (int c = -1; c < N_COLS; c++) {
        snprintf(name, sizeof name, c < 0 ? "/task" : "/tasks/%s", c < 0 ? "" : isw_store_cols[c].name);
        if (c >= 0 && older && column_added(c) && H5Lexists(f, name, H5P_DEFAULT) == 0) continue;
        hid_t want = c < 0 ? H5Tcopy(H5T_STD_I64LE) : isw_store_file_type(isw_store_cols[c].kind);
        ids[c + 1] = want < 0 ? -1 : isw_h5_open_checked(f, name, want, 1, T, 0, why, sizeof why);
        if (want >= 0) H5Tclose(want);
        if (ids[c + 1] < 0) return isw_fail(err, ISW_EINPUT, "%s: %s", path, want < 0 ? "cannot make an HDF5 type" : why);
    }
    return ISW_OK;
}

static isw_status alloc_table(isw_store_table *tab, int64_t T, const char *path, isw_error *err) {
    size_t n = (size_t)T;
    int ok = (tab->task = malloc(n * sizeof *tab->task)) != NULL;
#define ALLOC_(name, ctype, ...) ok = ok && (tab->name = malloc(n * sizeof(ctype))) != NULL;
    ISW_TASK_ID_COLUMNS(ALLOC_)
    ISW_TASK_STATE_COLUMNS(ALLOC_)
#undef ALLOC_
    return ok ? ISW_OK : isw_fail(err, ISW_EINTERNAL, "%s: out of memory for %lld tasks", path, (long long)T);
}

/* The column buffers of tab in isw_store_cols order. */
static void table_columns(isw_store_table *tab, void **cols /* [N_COLS] */) {
    int c = 0;
#define COL_PTR_(name, ...) cols[c++] = tab->name;
    ISW_TASK_ID_COLUMNS(COL_PTR_)
    ISW_TASK_STATE_COLUMNS(COL_PTR_)
#undef COL_PTR_
}

isw_status isw_store_read_table(const char *path, isw_store_table *tab, isw_error *err) {
    memset(tab, 0, sizeof *tab);
    hid_t f = -1, ids[N_COLS + 1];
    for (int c = 0; c <= N_COLS; c++) ids[c] = -1;
    isw_status rc = isw_store_open_header(path, &f, &tab->info, err);
    int64_t T = tab->info.T;
    if (!rc) rc = open_columns(f, path, T, strcmp(tab->info.format, ISW_STORE_FORMAT) != 0, ids, err);
    if (!rc) rc = alloc_table(tab, T, path, err);
    void *cols[N_COLS];
    table_columns(tab, cols);
    for (int c = -1; !rc && c < N_COLS; c++) {
        if (c >= 0 && ids[c + 1] < 0) {
            isw_store_col_initial(c, cols[c], T);
            continue;
        }
        hid_t mt = c < 0 ? H5Tcopy(H5T_NATIVE_INT64) : isw_store_mem_type(isw_store_cols[c].kind);
        if (mt < 0 || H5Dread(ids[c + 1], mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, c < 0 ? (void *)tab->task : cols[c]) < 0)
            rc = isw_fail(err, ISW_EINPUT, "%s: cannot read %s%s: %s", path, c < 0 ? "/task" : "/tasks/",
                          c < 0 ? "" : isw_store_cols[c].name, isw_h5_reason());
        if (mt >= 0) H5Tclose(mt);
    }
    for (int64_t t = 0; !rc && t < T; t++)
        if (tab->status[t] >= ISW_TASK_N_STATES)
            rc = isw_fail(err, ISW_EINPUT, "%s: /tasks/status of row %lld is %u, not a task state", path,
                          (long long)t, tab->status[t]);
    /* Rows are in sweep order, a whole sweep's or a shard's part of it. */
    for (int64_t t = 0; !rc && t < T; t++)
        if (tab->task[t] < 0 || (t > 0 && tab->task[t] <= tab->task[t - 1]))
            rc = isw_fail(err, ISW_EINPUT, "%s: /task[%lld] is %lld; task indices increase from row to row (the "
                          "file is damaged)", path, (long long)t, (long long)tab->task[t]);
    for (int64_t t = 0; !rc && t < T; t++) tab->error[t][ISW_STORE_ERROR_LEN - 1] = '\0';
    for (int c = 0; c <= N_COLS; c++)
        if (ids[c] >= 0) H5Dclose(ids[c]);
    if (f >= 0) H5Fclose(f);
    if (rc) isw_store_table_free(tab);
    return rc;
}

isw_status isw_store_read_last_steps(const char *path, const int64_t *rows, int64_t n, int64_t *last,
                                     isw_error *err) {
    hid_t f = -1, ds = -1, want = H5Tcopy(H5T_STD_I64LE), fspace = -1, mspace = -1;
    isw_store_info info;
    char why[512];
    isw_status rc = isw_store_open_header(path, &f, &info, err);
    int64_t S = rc ? 0 : info.S;
    int64_t *row = rc ? NULL : isw_malloc((size_t)S * sizeof *row, err);
    if (!rc && !row) rc = ISW_EINTERNAL;
    if (!rc && (ds = isw_h5_open_checked(f, "/traj/step", want, 2, info.T, S, why, sizeof why)) < 0)
        rc = isw_fail(err, ISW_EINPUT, "%s: %s", path, why);
    hsize_t count[2] = {1, (hsize_t)S}, width = (hsize_t)S;
    if (!rc && ((fspace = H5Dget_space(ds)) < 0 || (mspace = H5Screate_simple(1, &width, NULL)) < 0))
        rc = isw_fail(err, ISW_EINTERNAL, "%s: cannot read /traj/step: %s", path, isw_h5_reason());
    for (int64_t i = 0; !rc && i < n; i++) {
        hsize_t start[2] = {(hsize_t)rows[i], 0};
        if (rows[i] < 0 || rows[i] >= info.T ||
            H5Sselect_hyperslab(fspace, H5S_SELECT_SET, start, NULL, count, NULL) < 0 ||
            H5Dread(ds, H5T_NATIVE_INT64, mspace, fspace, H5P_DEFAULT, row) < 0) {
            rc = isw_fail(err, ISW_EINPUT, "%s: cannot read /traj/step row %lld: %s", path, (long long)rows[i],
                          isw_h5_reason());
            break;
        }
        last[i] = -1;
        for (int64_t j = 0; j < S; j++)
            if (row[j] > last[i]) last[i] = row[j];
    }
    if (mspace >= 0) H5Sclose(mspace);
    if (fspace >= 0) H5Sclose(fspace);
    if (ds >= 0) H5Dclose(ds);
    H5Tclose(want);
    free(row);
    if (f >= 0) {
        H5Fclose(f);
        isw_store_info_free(&info);
    }
    return rc;
}

void isw_store_table_free(isw_store_table *tab) {
    isw_store_info_free(&tab->info);
    free(tab->task);
#define FREE_(name, ...) free(tab->name);
    ISW_TASK_ID_COLUMNS(FREE_)
    ISW_TASK_STATE_COLUMNS(FREE_)
#undef FREE_
    memset(tab, 0, sizeof *tab);
}

/* ---- the probe: every piece of metadata a reader could touch, read once ---------------------- */

/* Reads attribute `name` of obj whole, in its own type (variable-length data reclaimed). */
static herr_t read_one_attr(hid_t obj, const char *name, const H5A_info_t *info, void *op_data) {
    (void)info;
    (void)op_data;
    hid_t a = H5Aopen(obj, name, H5P_DEFAULT), t = -1, mt = -1, space = -1;
    herr_t rc = -1;
    if (a < 0 || (t = H5Aget_type(a)) < 0 || (space = H5Aget_space(a)) < 0 ||
        (mt = H5Tget_native_type(t, H5T_DIR_DEFAULT)) < 0)
        goto done;
    hssize_t n = H5Sget_simple_extent_npoints(space);
    size_t size = H5Tget_size(mt);
    if (n < 0 || size == 0 || (double)n * (double)size > (double)MAX_LONG_ATTR) goto done;
    void *buf = calloc((size_t)(n ? n : 1), size);
    if (buf && H5Aread(a, mt, buf) >= 0) {
        if (H5Tdetect_class(mt, H5T_VLEN) > 0 || H5Tis_variable_str(mt) > 0) H5Dvlen_reclaim(mt, space, H5P_DEFAULT, buf);
        rc = 0;
    }
    free(buf);
done:
    if (mt >= 0) H5Tclose(mt);
    if (space >= 0) H5Sclose(space);
    if (t >= 0) H5Tclose(t);
    if (a >= 0) H5Aclose(a);
    (void)rc; /* an unreadable attribute is a refusal later, not here: the probe only decodes */
    return 0;
}

/* One object of the file: its header, its attributes, and for a dataset its type, space and
 * creation properties. */
static herr_t probe_object(hid_t root, const char *name, const H5O_info_t *info, void *op_data) {
    (void)op_data;
    hid_t obj = H5Oopen(root, name, H5P_DEFAULT);
    if (obj < 0) return 0;
    H5Aiterate2(obj, H5_INDEX_NAME, H5_ITER_NATIVE, NULL, read_one_attr, NULL);
    if (info->type == H5O_TYPE_DATASET) {
        hid_t t = H5Dget_type(obj), space = H5Dget_space(obj), dcpl = H5Dget_create_plist(obj);
        if (dcpl >= 0) H5Pget_layout(dcpl);
        H5Dget_storage_size(obj);
        H5Dget_offset(obj);
        if (dcpl >= 0) H5Pclose(dcpl);
        if (space >= 0) H5Sclose(space);
        if (t >= 0) H5Tclose(t);
    }
    H5Oclose(obj);
    return 0;
}

static isw_status probe(void *ctx, isw_error *err) {
    const char *path = ctx;
    hid_t f = -1;
    isw_status rc = open_plain(path, &f, err);
    if (rc) return rc;
    H5Ovisit2(f, H5_INDEX_NAME, H5_ITER_NATIVE, probe_object, NULL, H5O_INFO_BASIC);
    H5Fclose(f);
    return ISW_OK;
}

isw_status isw_store_probe(const char *path, isw_error *err) {
    int sig = 0;
    isw_status rc = isw_run_isolated(probe, (void *)path, ISW_PROBE_SECONDS, &sig, err);
    if (sig)
        return isw_store_crashed(path, sig, err);
    return rc;
}

isw_status isw_store_crashed(const char *path, int sig, isw_error *err) {
    if (sig == SIGALRM)
        return isw_fail(err, ISW_EINPUT, "%s: the HDF5 library was still reading it when its time ran out "
                        "(looping on damaged or crafted metadata?); it cannot be used", path);
    return isw_fail(err, ISW_EINPUT, "%s: the HDF5 library crashed reading it (signal %d): the file is "
                    "damaged or crafted and cannot be used", path, sig);
}

isw_status isw_store_probe_here(const char *path, isw_error *err) { return probe((void *)path, err); }

/* ---- a look at a file that may be unfinished ------------------------------------------------- */

static isw_status peek(void *ctx, isw_error *err) {
    isw_store_peek_info *out = ctx;
    const char *path = out->path;
    memset(out->answer, 0, sizeof out->answer);
    hid_t f = -1;
    isw_status rc = open_plain(path, &f, err);
    if (rc) return rc;
    char why[512], *text = NULL;
    if (!isw_h5_check_links(f, why, sizeof why)) rc = isw_fail(err, ISW_EINPUT, "%s: %s", path, why);
    if (!rc && isw_h5_get_text_attr(f, "format", MAX_TEXT_ATTR, &text, why, sizeof why) == 1)
        out->answer[ISW_PEEK_ICLSWEEP] = strncmp(text, "iclsweep/", 9) == 0;
    free(text);
    text = NULL;
    int64_t complete = 0;
    if (!rc) out->answer[ISW_PEEK_FINISHED] = isw_h5_get_int_attr(f, "layout_complete", &complete) == 1 && complete == 1;
    if (!rc) out->answer[ISW_PEEK_RESULTS] = holds_results(f);
    if (!rc && isw_h5_get_text_attr(f, "spec_hash", MAX_TEXT_ATTR, &text, why, sizeof why) == 1)
        snprintf(out->spec_hash, sizeof out->spec_hash, "%s", text);
    free(text);
    H5Fclose(f);
    return rc;
}

isw_status isw_store_peek(const char *path, isw_store_peek_info *info, isw_error *err) {
    memset(info, 0, sizeof *info);
    info->path = path;
    int sig = 0;
    isw_status rc = isw_run_isolated_answer(peek, info, info, sizeof *info, ISW_PROBE_SECONDS, &sig, err);
    info->path = path; /* the child's copy of the pointer came back with the answer */
    if (sig) return isw_store_crashed(path, sig, err);
    return rc;
}

isw_status isw_store_peek_here(const char *path, isw_store_peek_info *info, isw_error *err) {
    memset(info, 0, sizeof *info);
    info->path = path;
    return peek(info, err);
}
