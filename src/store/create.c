/* Creating a result file (collective): the layout of docs/file-format.md at its final size.
 *
 * Workload: 1 to 10^6 tasks, a few to a few hundred log points each, tens of metrics, on 1 to a few
 * hundred ranks. So creation is done once and in parallel: every rank creates the same metadata
 * (HDF5 requires structural changes to be collective), then fills its own slice of rows with
 * independent writes, BLOCK_ROWS at a time: each task's parameters and identity, the bookkeeping
 * columns at their initial values, the log steps, and NaN in /traj and /final, so a row that has
 * not run reads as missing, not as zero. Datasets are contiguous with early allocation and no
 * fill write (the fill is ours), and after creation nothing structural ever happens, which is
 * what makes independent row writes from many ranks safe. The file is marked complete
 * (layout_complete) only after every rank has filled its rows. */
#include <cblas.h>
#include <hdf5_hl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "iclsweep/version.h"
#include "store_int.h"

static isw_status h5fail(isw_error *err, const char *path, const char *op, const char *obj) {
    return isw_fail(err, ISW_EINTERNAL, "%s: %s of %s failed: %s", path, op, obj, isw_h5_reason());
}

/* ---- metadata -------------------------------------------------------------------------------- */

static hid_t mpio_fapl(MPI_Comm comm) {
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    /* Metadata reads and writes are collective: one rank does the I/O, all get it. */
    if (fapl >= 0 && (H5Pset_fapl_mpio(fapl, comm, MPI_INFO_NULL) < 0 ||
                      H5Pset_all_coll_metadata_ops(fapl, 1) < 0 || H5Pset_coll_metadata_write(fapl, 1) < 0)) {
        H5Pclose(fapl);
        return -1;
    }
    return fapl;
}

/* The attributes every file gets from the program itself; rank 0's clock dates the file (all
 * ranks must write the same bytes). */
static int put_program_attrs(hid_t root, MPI_Comm comm) {
    char mpi[MPI_MAX_LIBRARY_VERSION_STRING], created[64] = "", hdf5[64];
    int len = 0;
    MPI_Get_library_version(mpi, &len);
    mpi[strcspn(mpi, "\n")] = '\0';
    time_t now = time(NULL);
    struct tm tmv;
    gmtime_r(&now, &tmv);
    strftime(created, sizeof created, "%Y-%m-%dT%H:%M:%SZ", &tmv);
    MPI_Bcast(created, sizeof created, MPI_CHAR, 0, comm);
    unsigned maj = 0, min = 0, rel = 0;
    H5get_libversion(&maj, &min, &rel);
    snprintf(hdf5, sizeof hdf5, "%u.%u.%u", maj, min, rel);
    const char *blas = openblas_get_config();
    return isw_h5_put_text_attr(root, "format", ISW_STORE_FORMAT) &&
           isw_h5_put_text_attr(root, "iclsweep_version", ISW_VERSION) &&
           isw_h5_put_text_attr(root, "git_commit", ISW_GIT_COMMIT) &&
           isw_h5_put_text_attr(root, "mpi_version", mpi) && isw_h5_put_text_attr(root, "hdf5_version", hdf5) &&
           isw_h5_put_text_attr(root, "blas_version", blas ? blas : "") &&
           isw_h5_put_text_attr(root, "created", created) &&
           isw_h5_put_text_attr(root, "readme",
                                "One row per task in /tasks, /traj (tasks x log points) and /final, "
                                "dimensions task and log_point. Rows are results where "
                                "/tasks/status is done; /traj and /final hold NaN where a task "
                                "has no value (not run yet, or past its divergence). Format: "
                                "docs/file-format.md of iclsweep; read it with the iclsweep "
                                "Python package (iclsweep.load).");
}

static int put_layout_attrs(hid_t root, const isw_store_layout *lay) {
    int ok = isw_h5_put_int_attr(root, "n_tasks", lay->T) && isw_h5_put_int_attr(root, "n_log_points", lay->S);
    for (int i = 0; ok && i < lay->n_attrs; i++) {
        const isw_store_attr *a = &lay->attrs[i];
        ok = a->text ? isw_h5_put_text_attr(root, a->name, a->text) : isw_h5_put_int_attr(root, a->name, a->num);
    }
    return ok;
}

/* Creates a contiguous dataset of `rank` dims (no fill write: the fill is ours) with its
 * description, units and, for text, _Encoding; attaches the dimension scales. */
static hid_t make_dataset(hid_t loc, const char *name, hid_t type, int rank, const hsize_t *dims,
                          const char *doc, const char *units, const hid_t *scales) {
    hid_t space = H5Screate_simple(rank, dims, NULL), dcpl = H5Pcreate(H5P_DATASET_CREATE), ds = -1;
    int ok = space >= 0 && dcpl >= 0 && H5Pset_layout(dcpl, H5D_CONTIGUOUS) >= 0 &&
             H5Pset_alloc_time(dcpl, H5D_ALLOC_TIME_EARLY) >= 0 && H5Pset_fill_time(dcpl, H5D_FILL_TIME_NEVER) >= 0 &&
             (ds = H5Dcreate2(loc, name, type, space, H5P_DEFAULT, dcpl, H5P_DEFAULT)) >= 0 &&
             isw_h5_put_text_attr(ds, "description", doc ? doc : "") &&
             isw_h5_put_text_attr(ds, "units", units ? units : "") &&
             (H5Tget_class(type) != H5T_STRING || isw_h5_put_text_attr(ds, "_Encoding", "utf-8"));
    for (int d = 0; ok && scales && d < rank; d++) ok = H5DSattach_scale(ds, scales[d], (unsigned)d) >= 0;
    if (dcpl >= 0) H5Pclose(dcpl);
    if (space >= 0) H5Sclose(space);
    if (!ok && ds >= 0) {
        H5Dclose(ds);
        ds = -1;
    }
    return ds;
}

/* The status column also says its labels the netCDF way, for tools that do not read enums. */
static int put_status_flags(hid_t ds) {
    uint8_t values[ISW_TASK_N_STATES];
    char meanings[128] = "";
    for (int s = 0; s < ISW_TASK_N_STATES; s++) {
        values[s] = (uint8_t)s;
        snprintf(meanings + strlen(meanings), sizeof meanings - strlen(meanings), "%s%s", s ? " " : "",
                 isw_task_state_name(s));
    }
    hsize_t n = ISW_TASK_N_STATES;
    hid_t space = H5Screate_simple(1, &n, NULL), a = -1;
    int ok = space >= 0 && (a = H5Acreate2(ds, "flag_values", H5T_STD_U8LE, space, H5P_DEFAULT, H5P_DEFAULT)) >= 0 &&
             H5Awrite(a, H5T_NATIVE_UINT8, values) >= 0;
    if (a >= 0) H5Aclose(a);
    if (space >= 0) H5Sclose(space);
    return ok && isw_h5_put_text_attr(ds, "flag_meanings", meanings);
}

/* The checksum column names what a checksum covers, in order (checksum.c). */
static int put_covers(hid_t ds, const isw_store_layout *lay) {
    char *covers = isw_store_covers(lay);
    int ok = covers && isw_h5_put_text_attr(ds, "covers", covers);
    free(covers);
    return ok;
}

static hid_t make_scale(hid_t root, const char *name, hsize_t n, const char *doc) {
    hid_t ds = make_dataset(root, name, H5T_STD_I64LE, 1, &n, doc, "", NULL);
    if (ds >= 0 && H5DSset_scale(ds, name) < 0) {
        H5Dclose(ds);
        return -1;
    }
    return ds;
}

/* Every dataset of the layout (collective: all ranks make the same calls in the same order). */
static isw_status create_datasets(isw_store *st, const isw_store_layout *lay, isw_error *err) {
    hsize_t TS[2] = {(hsize_t)st->T, (hsize_t)st->S};
    hid_t root = st->file;
    st->task_scale = make_scale(root, "task", TS[0], "the task's index in the sweep");
    st->log_scale = make_scale(root, "log_point", TS[1], "index of the log point within a task");
    if (st->task_scale < 0 || st->log_scale < 0) return h5fail(err, st->path, "dimension scale creation", "/task, /log_point");
    hid_t scales[2] = {st->task_scale, st->log_scale};
    hid_t groups[4] = {H5Gcreate2(root, "tasks", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
                       H5Gcreate2(root, "traj", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
                       H5Gcreate2(root, "final", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
                       H5Gcreate2(root, "theory", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT)};
    const char *failed = groups[0] < 0 || groups[1] < 0 || groups[2] < 0 || groups[3] < 0 ? "the groups" : NULL;
    char name[256];
    for (int i = 0; !failed && i < lay->n_params; i++) {
        const isw_param_def *p = &lay->params[i];
        hid_t t = isw_store_param_type(p);
        st->param[i] = t < 0 ? -1 : make_dataset(groups[0], p->name, t, 1, TS, p->doc, p->units, scales);
        if (st->param[i] >= 0 && lay->derived && lay->derived[i]) {
            char doc[512];
            snprintf(doc, sizeof doc, "%s: the value the sweep set (or the default); /tasks/%s holds the "
                     "value the model derived and used", p->doc, p->name);
            snprintf(name, sizeof name, "%s_setting", p->name);
            st->setting[i] = make_dataset(groups[0], name, t, 1, TS, doc, p->units, scales);
            if (st->setting[i] < 0) failed = name;
        }
        if (t >= 0) H5Tclose(t);
        if (st->param[i] < 0) failed = p->name;
    }
    for (int c = 0; !failed && c < N_COLS; c++) {
        const col_def *cd = &isw_store_cols[c];
        hid_t t = isw_store_file_type(cd->kind);
        st->col[c] = t < 0 ? -1 : make_dataset(groups[0], cd->name, t, 1, TS, cd->doc, cd->units, scales);
        if (t >= 0) H5Tclose(t);
        if (st->col[c] < 0 || (cd->kind == KIND_STATUS && !put_status_flags(st->col[c])) ||
            (c == COL_checksum && !put_covers(st->col[c], lay)))
            failed = cd->name;
    }
    if (!failed && (st->step = make_dataset(groups[1], "step", H5T_STD_I64LE, 2, TS,
                                            "training step of each log point (-1: the task has no such log point)",
                                            "steps", scales)) < 0)
        failed = "step";
    for (int i = 0; !failed && i < lay->n_traj; i++)
        if ((st->traj[i] = make_dataset(groups[1], lay->traj[i].name, H5T_IEEE_F64LE, 2, TS, lay->traj[i].doc,
                                        lay->traj[i].units, scales)) < 0)
            failed = lay->traj[i].name;
    for (int i = 0; !failed && i < lay->n_final; i++)
        if ((st->final[i] = make_dataset(groups[2], lay->final[i].name, H5T_IEEE_F64LE, 1, TS, lay->final[i].doc,
                                         lay->final[i].units, scales)) < 0)
            failed = lay->final[i].name;
    for (int i = 0; !failed && i < lay->n_theory; i++)
        if ((st->theory[i] = make_dataset(groups[3], lay->theory[i].name, H5T_IEEE_F64LE, 1, TS, lay->theory[i].doc,
                                          lay->theory[i].units, scales)) < 0)
            failed = lay->theory[i].name;
    for (int g = 0; g < 4; g++)
        if (groups[g] >= 0) H5Gclose(groups[g]);
    return failed ? h5fail(err, st->path, "dataset creation", failed) : ISW_OK;
}

/* ---- the initial fill -------------------------------------------------------------------------- */

/* Buffers for one block of rows. */
typedef struct {
    int64_t rows;         /* capacity in rows */
    double *set, *used;   /* [n_params, rows] parameter values (row-major per parameter) */
    int64_t *steps;       /* [rows, S] */
    double *nan;          /* [rows, S] all NaN */
    int64_t *task;        /* [rows] */
    double *theory;       /* [n_theory, rows] theory values (row-major per line) */
    unsigned char *bytes; /* [rows, 16] one typed column */
    unsigned char *text;  /* [rows, max(choice bytes, error bytes)] */
    size_t text_width;
} fill_buffers;

static void free_buffers(fill_buffers *b) {
    free(b->set);
    free(b->used);
    free(b->steps);
    free(b->nan);
    free(b->task);
    free(b->theory);
    free(b->bytes);
    free(b->text);
}

/* Buffers for blocks of at most max_rows rows. */
static int alloc_buffers(fill_buffers *b, const isw_store_layout *lay, int64_t max_rows) {
    memset(b, 0, sizeof *b);
    int64_t S = lay->S > 0 ? lay->S : 1;
    /* A block of [rows, S] stays under 2^20 values whatever S is. */
    b->rows = (1 << 20) / S;
    if (b->rows > max_rows) b->rows = max_rows;
    if (b->rows < 1) b->rows = 1;
    b->text_width = ISW_STORE_ERROR_LEN;
    for (int i = 0; i < lay->n_params; i++)
        if (lay->params[i].type == ISW_P_CHOICE && (size_t)strlen(lay->params[i].choices) + 1 > b->text_width)
            b->text_width = strlen(lay->params[i].choices) + 1;
    size_t r = (size_t)b->rows, np = (size_t)lay->n_params;
    b->set = malloc(np * r * sizeof *b->set + 1);
    b->used = malloc(np * r * sizeof *b->used + 1);
    b->steps = malloc(r * (size_t)S * sizeof *b->steps);
    b->nan = malloc(r * (size_t)S * sizeof *b->nan);
    b->task = malloc(r * sizeof *b->task);
    b->theory = malloc((size_t)lay->n_theory * r * sizeof *b->theory + 1);
    b->bytes = malloc(r * 16);
    b->text = malloc(r * b->text_width);
    if (!b->set || !b->used || !b->steps || !b->nan || !b->task || !b->theory || !b->bytes || !b->text) return 0;
    for (size_t k = 0; k < r * (size_t)S; k++) b->nan[k] = NAN;
    return 1;
}

/* Converts parameter p's values v[n] into its file representation in b (as mem type mt). */
static void param_column(const isw_param_def *p, const double *v, int64_t n, fill_buffers *b) {
    for (int64_t r = 0; r < n; r++) {
        switch (p->type) {
        case ISW_P_INT: ((int64_t *)b->bytes)[r] = (int64_t)v[r]; break;
        case ISW_P_REAL: ((double *)b->bytes)[r] = v[r]; break;
        case ISW_P_BOOL: ((uint8_t *)b->bytes)[r] = v[r] != 0; break;
        case ISW_P_CHOICE: break;
        }
    }
}

/* Writes the parameter columns of rows [first, first + n): one dataset per parameter. */
static int write_params(isw_store *st, const isw_store_layout *lay, fill_buffers *b,
                        int64_t first, int64_t n, const char **failed) {
    for (int i = 0; i < lay->n_params; i++) {
        const isw_param_def *p = &lay->params[i];
        hid_t mt = isw_store_param_mem_type(p);
        int ok = mt >= 0;
        for (int which = 0; ok && which < 2; which++) {
            hid_t ds = which == 0 ? st->param[i] : st->setting[i];
            const double *v = (which == 0 ? b->used : b->set) + (size_t)i * (size_t)b->rows;
            if (ds < 0) continue;
            const void *mem = b->bytes;
            if (p->type == ISW_P_CHOICE) {
                size_t w = H5Tget_size(mt);
                for (int64_t r = 0; r < n; r++) {
                    char *cell = (char *)b->text + (size_t)r * w;
                    memset(cell, 0, w);
                    isw_param_choice(p, (int)v[r], cell, w);
                }
                mem = b->text;
            } else {
                param_column(p, v, n, b);
            }
            ok = isw_h5_write_rows(ds, st->dxpl, mt, first, n, 1, mem);
        }
        if (mt >= 0) H5Tclose(mt);
        if (!ok) {
            *failed = p->name;
            return 0;
        }
    }
    return 1;
}

/* Writes the identity and bookkeeping columns of rows [first, first + n); rows[] resolved. */
static int write_columns(isw_store *st, const isw_store_row *rows, fill_buffers *b, int64_t first, int64_t n,
                         const char **failed) {
    for (int c = 0; c < N_COLS; c++) {
        const col_def *cd = &isw_store_cols[c];
        unsigned char *mem = cd->kind == KIND_TEXT ? b->text : b->bytes;
        if (c >= N_ID_COLS) isw_store_col_initial(c, mem, n);
        for (int64_t r = 0; r < n && c < N_ID_COLS; r++) {
            const isw_store_row *row = &rows[r];
            void *cell = mem + (size_t)r * cd->size;
            switch (c) {
#define ID_CASE_(name, ctype, kind, units, doc) \
    case COL_##name: *(ctype *)cell = row->name; break;
                ISW_TASK_ID_COLUMNS(ID_CASE_)
#undef ID_CASE_
            }
        }
        if (!isw_h5_write_rows(st->col[c], st->dxpl, st->types[cd->kind], first, n, 1, mem)) {
            *failed = cd->name;
            return 0;
        }
    }
    return 1;
}

/* Resolves and writes rows [first, first + n) of everything. */
static isw_status fill_block(isw_store *st, const isw_store_layout *lay, fill_buffers *b,
                             isw_store_row *rows, int64_t first, int64_t n, isw_error *err) {
    double *set = malloc(((size_t)lay->n_params + 1) * sizeof *set);
    double *used = malloc(((size_t)lay->n_params + 1) * sizeof *used);
    double *theory = malloc(((size_t)lay->n_theory + 1) * sizeof *theory);
    if (!set || !used || !theory) {
        free(set);
        free(used);
        free(theory);
        return isw_fail(err, ISW_EINTERNAL, "%s: out of memory filling the columns", st->path);
    }
    for (int64_t r = 0; r < n; r++) {
        isw_store_row *row = &rows[r];
        memset(row, 0, sizeof *row);
        row->set = set;
        row->used = used;
        row->steps = b->steps + (size_t)r * (size_t)st->S;
        row->theory = theory;
        lay->resolve_row(lay->ctx, first + r, row);
        for (int i = 0; i < lay->n_params; i++) {
            b->set[(size_t)i * (size_t)b->rows + (size_t)r] = set[i];
            b->used[(size_t)i * (size_t)b->rows + (size_t)r] = used[i];
        }
        for (int i = 0; i < lay->n_theory; i++) b->theory[(size_t)i * (size_t)b->rows + (size_t)r] = theory[i];
        b->task[r] = row->task;
    }
    free(set);
    free(used);
    free(theory);
    const char *failed = NULL;
    int ok = write_params(st, lay, b, first, n, &failed) && write_columns(st, rows, b, first, n, &failed);
    if (ok && !isw_h5_write_rows(st->task_scale, st->dxpl, H5T_NATIVE_INT64, first, n, 1, b->task)) ok = 0, failed = "/task";
    if (ok && !isw_h5_write_rows(st->step, st->dxpl, H5T_NATIVE_INT64, first, n, st->S, b->steps)) ok = 0, failed = "step";
    for (int i = 0; ok && i < lay->n_traj; i++)
        if (!isw_h5_write_rows(st->traj[i], st->dxpl, H5T_NATIVE_DOUBLE, first, n, st->S, b->nan)) ok = 0, failed = lay->traj[i].name;
    for (int i = 0; ok && i < lay->n_final; i++)
        if (!isw_h5_write_rows(st->final[i], st->dxpl, H5T_NATIVE_DOUBLE, first, n, 1, b->nan)) ok = 0, failed = lay->final[i].name;
    for (int i = 0; ok && i < lay->n_theory; i++)
        if (!isw_h5_write_rows(st->theory[i], st->dxpl, H5T_NATIVE_DOUBLE, first, n, 1,
                               b->theory + (size_t)i * (size_t)b->rows))
            ok = 0, failed = lay->theory[i].name;
    if (ok) return ISW_OK;
    return isw_fail(err, ISW_EINTERNAL, "%s: writing %s, rows %lld..%lld, failed: %s", st->path,
                    failed, (long long)first, (long long)(first + n - 1), isw_h5_reason());
}

/* This rank's slice of rows, and (rank 0) the /log_point coordinate. */
static isw_status fill_rows(isw_store *st, const isw_store_layout *lay, int rank, int size,
                            isw_error *err) {
    fill_buffers b;
    isw_store_row *rows = NULL;
    isw_status rc = ISW_OK;
    if (!alloc_buffers(&b, lay, BLOCK_ROWS) || !(rows = malloc((size_t)b.rows * sizeof *rows)))
        rc = isw_fail(err, ISW_EINTERNAL, "%s: out of memory for the fill buffers", st->path);
    int64_t lo = st->T * rank / size, hi = st->T * (rank + 1) / size;
    for (int64_t first = lo; !rc && first < hi; first += b.rows) {
        int64_t n = hi - first < b.rows ? hi - first : b.rows;
        rc = fill_block(st, lay, &b, rows, first, n, err);
    }
    if (!rc && rank == 0) {
        for (int64_t j = 0; j < st->S; j++) b.steps[j] = j;
        if (!isw_h5_write_rows(st->log_scale, st->dxpl, H5T_NATIVE_INT64, 0, st->S, 1, b.steps))
            rc = h5fail(err, st->path, "write", "/log_point");
    }
    free(rows);
    free_buffers(&b);
    return rc;
}

isw_status isw_store_reset_row(isw_store *st, int64_t t, isw_error *err) {
    fill_buffers b;
    isw_store_row row;
    isw_status rc = alloc_buffers(&b, st->lay, 1) ? fill_block(st, st->lay, &b, &row, t, 1, err)
                                                 : isw_fail(err, ISW_EINTERNAL, "%s: out of memory", st->path);
    free_buffers(&b);
    return rc;
}

/* A creation that failed (typically a full disk): the half-made file is removed. Its space is
 * freed first, because closing must flush metadata, and a flush that fails for want of space
 * leaves HDF5 unable to close the file at all (and crashing when MPI shuts down). Collective. */
static void abandon(isw_store *st, int rank, MPI_Comm comm) {
    char *path = strdup(st->path);
    hid_t file = st->file;
    st->file = -1;
    isw_store_free(st);
    int freed = rank == 0 && path && file >= 0 ? truncate(path, 0) == 0 : 0;
    (void)freed; /* if it could not be freed, the close below may fail: nothing more to do */
    MPI_Barrier(comm);
    if (file >= 0) H5Fclose(file);
    if (rank == 0 && path && file >= 0) unlink(path);
    free(path);
}

isw_status isw_store_create(const char *path, const isw_store_layout *lay, MPI_Comm comm, isw_store **out,
                            isw_error *err) {
    isw_store *st = NULL;
    isw_status rc = isw_store_alloc(&st, path, lay, err);
    if (rc) return rc;
    int rank = 0, size = 1;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &size);
    hid_t fapl = rc ? -1 : mpio_fapl(comm);
    if (!rc && fapl < 0) rc = h5fail(err, path, "MPI-IO file access set-up", "the result file");
    if (!rc && (st->file = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, fapl)) < 0)
        rc = isw_fail(err, ISW_EINPUT, "%s: cannot create the result file (is its folder there and writable?)", path);
    if (fapl >= 0) H5Pclose(fapl);
    if (!rc && !(put_program_attrs(st->file, comm) && put_layout_attrs(st->file, lay)))
        rc = h5fail(err, path, "attribute write", "the root attributes");
    /* On disk at once: a job killed while creating leaves a file that `status` can read and call
     * unfinished (it has no layout_complete), not one that is not even HDF5. */
    if (!rc && H5Fflush(st->file, H5F_SCOPE_GLOBAL) < 0)
        rc = isw_fail(err, ISW_EINTERNAL, "%s: writing the file's header failed: %s", path, isw_h5_reason());
    if (!rc) rc = create_datasets(st, lay, err);
    if (!rc) rc = fill_rows(st, lay, rank, size, err);
    /* Agree before the collective steps below: a rank that failed must not leave the others
     * waiting inside HDF5. */
    int bad = rc != ISW_OK, any_bad = 0;
    MPI_Allreduce(&bad, &any_bad, 1, MPI_INT, MPI_MAX, comm);
    if (!any_bad && !isw_h5_put_int_attr(st->file, "layout_complete", 1))
        rc = h5fail(err, path, "attribute write", "layout_complete");
    if (!any_bad && !rc && H5Fflush(st->file, H5F_SCOPE_GLOBAL) < 0)
        rc = isw_fail(err, ISW_EINTERNAL, "%s: flushing the new file failed: %s", path, isw_h5_reason());
    if (any_bad && !rc) rc = isw_fail(err, ISW_EINTERNAL, "%s: another rank failed while creating the file", path);
    bad = rc != ISW_OK;
    MPI_Allreduce(&bad, &any_bad, 1, MPI_INT, MPI_MAX, comm);
    if (any_bad && !rc) rc = isw_fail(err, ISW_EINTERNAL, "%s: another rank failed while creating the file", path);
    if (rc) {
        abandon(st, rank, comm);
        return rc;
    }
    *out = st;
    return ISW_OK;
}
