/* The result file: see include/iclsweep/store.h for the layout and the durability order.
 *
 * Workload: 1 to 10^6 tasks, a few to a few hundred log points each, tens of metrics; workers
 * finish a task every few milliseconds to hours. So creation is collective and done once (every
 * rank writes the per-task columns of its own slice of rows), and each finished task costs one
 * independent contiguous write per metric dataset plus a few column writes: nothing structural ever
 * happens after creation, which is what makes independent writes from many ranks safe.
 *
 * Datasets are contiguous with early allocation and no fill write (H5D_FILL_TIME_NEVER): creating
 * a million-task file then costs no time for rows nobody has written yet. Rows of tasks that are
 * not done hold unspecified values; /tasks/status says which rows are real. */
#include "iclsweep/store.h"

#include <cblas.h>
#include <hdf5.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "iclsweep/hash.h"
#include "iclsweep/version.h"

#define BLOCK_ROWS 16384 /* rows resolved and written at a time when filling columns */

struct isw_store {
    hid_t file, dxpl;
    hid_t status_type, error_type;
    hid_t status_ds, attempts_ds, rank_ds, wall_ds, steps_done_ds, error_ds, key_ds;
    hid_t *traj_ds;  /* [n_traj] */
    hid_t *final_ds; /* [n_final] */
    int n_traj, n_final;
    int64_t T, S;
    char *path;
};

static const char *const state_names[ISW_TASK_N_STATES] = {"pending", "running", "done", "failed",
                                                           "diverged"};

const char *isw_task_state_name(int state) {
    return state >= 0 && state < ISW_TASK_N_STATES ? state_names[state] : "unknown";
}

/* ---- small HDF5 helpers: every call checked, the message names the operation and object ---- */

static isw_status h5fail(isw_error *err, const char *path, const char *op, const char *obj) {
    return isw_fail(err, ISW_EINTERNAL, "%s: HDF5 %s failed for %s", path, op, obj);
}

static hid_t make_status_type(void) {
    hid_t t = H5Tenum_create(H5T_NATIVE_UINT8);
    for (uint8_t v = 0; v < ISW_TASK_N_STATES; v++) H5Tenum_insert(t, state_names[v], &v);
    return t;
}

static hid_t make_string_type(size_t size) {
    hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, size);
    H5Tset_strpad(t, H5T_STR_NULLTERM);
    return t;
}

/* Writes a variable-length UTF-8 string attribute (collective in parallel: same value everywhere). */
static int put_text_attr(hid_t obj, const char *name, const char *value) {
    hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, H5T_VARIABLE);
    H5Tset_cset(t, H5T_CSET_UTF8);
    hid_t space = H5Screate(H5S_SCALAR);
    hid_t a = H5Acreate2(obj, name, t, space, H5P_DEFAULT, H5P_DEFAULT);
    int ok = a >= 0 && H5Awrite(a, t, &value) >= 0;
    if (a >= 0) H5Aclose(a);
    H5Sclose(space);
    H5Tclose(t);
    return ok;
}

static int put_int_attr(hid_t obj, const char *name, int64_t value) {
    hid_t space = H5Screate(H5S_SCALAR);
    hid_t a = H5Acreate2(obj, name, H5T_STD_I64LE, space, H5P_DEFAULT, H5P_DEFAULT);
    int ok = a >= 0 && H5Awrite(a, H5T_NATIVE_INT64, &value) >= 0;
    if (a >= 0) H5Aclose(a);
    H5Sclose(space);
    return ok;
}

/* Creates a contiguous dataset of `rank` dims with early allocation and no fill write, and its
 * description and units attributes. Returns the dataset or a negative id. */
static hid_t make_dataset(hid_t loc, const char *name, hid_t type, int rank, const hsize_t *dims,
                          const char *description, const char *units) {
    hid_t space = H5Screate_simple(rank, dims, NULL);
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    H5Pset_layout(dcpl, H5D_CONTIGUOUS);
    H5Pset_alloc_time(dcpl, H5D_ALLOC_TIME_EARLY);
    H5Pset_fill_time(dcpl, H5D_FILL_TIME_NEVER);
    hid_t ds = H5Dcreate2(loc, name, type, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    H5Pclose(dcpl);
    H5Sclose(space);
    if (ds < 0) return ds;
    if (!put_text_attr(ds, "description", description) || (units && units[0] && !put_text_attr(ds, "units", units))) {
        H5Dclose(ds);
        return -1;
    }
    return ds;
}

/* Writes count rows starting at row `first` of a 1-D or [T, S] dataset (independent). mem holds
 * count * width elements of mem_type. */
static int write_rows(hid_t ds, hid_t dxpl, hid_t mem_type, int64_t first, int64_t count, int64_t width,
                      const void *mem) {
    hid_t fspace = H5Dget_space(ds);
    int rank = H5Sget_simple_extent_ndims(fspace);
    hsize_t start[2] = {(hsize_t)first, 0}, n[2] = {(hsize_t)count, (hsize_t)width};
    H5Sselect_hyperslab(fspace, H5S_SELECT_SET, start, NULL, n, NULL);
    hid_t mspace = H5Screate_simple(rank, n, NULL);
    herr_t rc = H5Dwrite(ds, mem_type, mspace, fspace, dxpl, mem);
    H5Sclose(mspace);
    H5Sclose(fspace);
    return rc >= 0;
}

static int read_rows(hid_t ds, hid_t dxpl, hid_t mem_type, int64_t first, int64_t count, void *mem) {
    hid_t fspace = H5Dget_space(ds);
    hsize_t start[1] = {(hsize_t)first}, n[1] = {(hsize_t)count};
    H5Sselect_hyperslab(fspace, H5S_SELECT_SET, start, NULL, n, NULL);
    hid_t mspace = H5Screate_simple(1, n, NULL);
    herr_t rc = H5Dread(ds, mem_type, mspace, fspace, dxpl, mem);
    H5Sclose(mspace);
    H5Sclose(fspace);
    return rc >= 0;
}

/* ---- schedule -------------------------------------------------------------------------------- */

/* S = the most log points of any task; *uniform = every task has the same schedule. */
static int64_t scan_schedule(const isw_sweep *sw, int *uniform) {
    const isw_model_info *m = sw->model;
    int is = isw_param_find(m->params, m->n_params, "steps");
    int il = isw_param_find(m->params, m->n_params, "log_every");
    double vals[256];
    int64_t S = 0;
    double steps0 = -1, every0 = -1;
    *uniform = 1;
    for (int64_t k = 0; k < sw->n_valid; k++) {
        isw_sweep_point_values(sw, sw->valid ? sw->valid[k] : k, vals);
        int64_t s = isw_log_points((int64_t)vals[is], (int64_t)vals[il]);
        if (s > S) S = s;
        if (k == 0) {
            steps0 = vals[is];
            every0 = vals[il];
        } else if (vals[is] != steps0 || vals[il] != every0) {
            *uniform = 0;
        }
    }
    return S;
}

/* ---- creation ---------------------------------------------------------------------------------- */

static void version_strings(char *mpi, int mpi_size, char *created, size_t created_size) {
    int len = 0;
    MPI_Get_library_version(mpi, &len);
    mpi[mpi_size - 1] = '\0';
    char *nl = strchr(mpi, '\n');
    if (nl) *nl = '\0';
    time_t now = time(NULL);
    struct tm tmv;
    gmtime_r(&now, &tmv);
    strftime(created, created_size, "%Y-%m-%dT%H:%M:%SZ", &tmv);
}

static isw_status write_root_attrs(isw_store *st, const isw_sweep *sw, int64_t S, MPI_Comm comm,
                                   isw_error *err) {
    char mpi[MPI_MAX_LIBRARY_VERSION_STRING], created[64], hdf5[64], seed[32], hash[32], version[64];
    version_strings(mpi, sizeof mpi, created, sizeof created);
    /* Attributes are metadata: every rank must write the same bytes. Rank 0's clock decides. */
    MPI_Bcast(created, sizeof created, MPI_CHAR, 0, comm);
    unsigned maj, min, rel;
    H5get_libversion(&maj, &min, &rel);
    snprintf(hdf5, sizeof hdf5, "%u.%u.%u", maj, min, rel);
    snprintf(seed, sizeof seed, "%llu", (unsigned long long)sw->seed);
    snprintf(hash, sizeof hash, "%016llx", (unsigned long long)isw_hash_str(sw->text));
    snprintf(version, sizeof version, "%s", ISW_VERSION);
    const char *blas = openblas_get_config();
    hid_t root = st->file;
    int ok = put_text_attr(root, "format", ISW_STORE_FORMAT) && put_text_attr(root, "sweep", sw->text) &&
             put_text_attr(root, "spec_hash", hash) && put_text_attr(root, "name", sw->name) &&
             put_text_attr(root, "model", sw->model->name) && put_text_attr(root, "seed", seed) &&
             put_int_attr(root, "n_tasks", sw->n_tasks) && put_int_attr(root, "n_log_points", S) &&
             put_int_attr(root, "replicates", sw->replicates) &&
             put_text_attr(root, "iclsweep_version", version) &&
             put_text_attr(root, "git_commit", ISW_GIT_COMMIT) && put_text_attr(root, "mpi_version", mpi) &&
             put_text_attr(root, "hdf5_version", hdf5) && put_text_attr(root, "blas_version", blas ? blas : "") &&
             put_text_attr(root, "created", created) &&
             put_text_attr(root, "readme",
                           "One row per task in /tasks, /traj (tasks x log points) and /final. "
                           "Rows are valid where /tasks/status is done (or diverged: NaN after the "
                           "diverging step); other rows are unspecified.");
    return ok ? ISW_OK : h5fail(err, st->path, "attribute write", "/");
}

/* Task-level columns other than parameters: (name, type, description, units). */
typedef struct {
    const char *name, *doc, *units;
} column_doc;

static const column_doc task_columns[] = {
    {"replicate", "replicate index of the task at its grid point", ""},
    {"seed", "the task's random seed, derived from the sweep seed and its key", ""},
    {"key", "the task's identity: hash of its canonical parameters and replicate", ""},
    {"point", "index of the task's grid point (row-major over the sweep's axes)", ""},
    {"cost", "estimated cost of the task (floating-point operations)", "flop"},
    {"status", "pending, running, done, failed or diverged", ""},
    {"attempts", "times the task was started", ""},
    {"rank", "MPI rank that last ran the task (-1: never run)", ""},
    {"wall_s", "wall-clock time of the last attempt", "s"},
    {"steps_done", "training steps reached (the diverging step for diverged tasks; -1: not run)", "steps"},
    {"error", "short reason for failed or diverged tasks", ""},
};

static const column_doc *column_doc_of(const char *name) {
    static const column_doc none = {"", "", ""};
    for (unsigned i = 0; i < sizeof task_columns / sizeof task_columns[0]; i++)
        if (!strcmp(task_columns[i].name, name)) return &task_columns[i];
    return &none;
}

static hid_t choice_string_type(const isw_param_def *p) {
    size_t longest = 1;
    char buf[64];
    for (int c = 0; c < isw_param_n_choices(p); c++) {
        size_t len = strlen(isw_param_choice(p, c, buf, sizeof buf));
        if (len > longest) longest = len;
    }
    return make_string_type(longest + 1);
}

/* The file type of parameter p's column. */
static hid_t param_file_type(const isw_param_def *p) {
    switch (p->type) {
    case ISW_P_INT: return H5Tcopy(H5T_STD_I64LE);
    case ISW_P_REAL: return H5Tcopy(H5T_IEEE_F64LE);
    case ISW_P_BOOL: return H5Tcopy(H5T_STD_U8LE);
    case ISW_P_CHOICE: return choice_string_type(p);
    }
    return -1;
}

/* Writes rows [first, first+count) of every per-task column: parameters, identity, cost, and the
 * initial state (pending, 0 attempts, rank -1, wall NaN, steps_done -1, no error); and for
 * non-uniform schedules the [T, S] step matrix. Buffers hold BLOCK_ROWS rows. */
typedef struct {
    hid_t *param_ds; /* [n_params] */
    hid_t replicate_ds, seed_ds, point_ds, cost_ds, step_ds;
    int uniform;
} column_set;

static isw_status fill_columns(isw_store *st, const isw_sweep *sw, const column_set *cs, int64_t first,
                               int64_t count, isw_error *err) {
    const isw_model_info *m = sw->model;
    int np = m->n_params;
    int64_t S = st->S;
    double *pvals = malloc((size_t)count * (size_t)np * sizeof *pvals); /* [np, count] */
    double *vals = malloc((size_t)np * sizeof *vals);
    int64_t *i64 = malloc((size_t)count * (size_t)(S > 1 ? S : 1) * sizeof *i64);
    uint64_t *u64 = malloc((size_t)count * sizeof *u64);
    uint64_t *keys = malloc((size_t)count * sizeof *keys);
    double *f64 = malloc((size_t)count * sizeof *f64);
    int32_t *i32 = malloc((size_t)count * sizeof *i32);
    char *strings = malloc((size_t)count * ISW_STORE_ERROR_LEN);
    isw_status rc = ISW_OK;
    if (!pvals || !vals || !i64 || !u64 || !keys || !f64 || !i32 || !strings) {
        rc = isw_fail(err, ISW_EINTERNAL, "out of memory filling the columns of %s", st->path);
        goto done;
    }
    isw_task task;
    for (int64_t r = 0; r < count; r++) {
        isw_sweep_task(sw, first + r, &task, vals);
        for (int i = 0; i < np; i++) pvals[(size_t)i * (size_t)count + (size_t)r] = vals[i];
        u64[r] = task.seed;
        keys[r] = task.key;
        i32[r] = (int32_t)task.replicate;
        i64[r] = task.point;
        f64[r] = sw->model->cost ? isw_sweep_point_cost(sw, task.point) : 1.0;
    }
    int ok = write_rows(cs->seed_ds, st->dxpl, H5T_NATIVE_UINT64, first, count, 1, u64) &&
             write_rows(cs->replicate_ds, st->dxpl, H5T_NATIVE_INT32, first, count, 1, i32) &&
             write_rows(cs->point_ds, st->dxpl, H5T_NATIVE_INT64, first, count, 1, i64) &&
             write_rows(cs->cost_ds, st->dxpl, H5T_NATIVE_DOUBLE, first, count, 1, f64) &&
             write_rows(st->key_ds, st->dxpl, H5T_NATIVE_UINT64, first, count, 1, keys);
    for (int i = 0; ok && i < np; i++) {
        const isw_param_def *p = &m->params[i];
        const double *col = pvals + (size_t)i * (size_t)count;
        if (p->type == ISW_P_REAL) {
            ok = write_rows(cs->param_ds[i], st->dxpl, H5T_NATIVE_DOUBLE, first, count, 1, col);
        } else if (p->type == ISW_P_CHOICE) {
            hid_t t = choice_string_type(p);
            size_t w = H5Tget_size(t);
            for (int64_t r = 0; r < count; r++)
                isw_param_choice(p, (int)col[r], strings + (size_t)r * w, w);
            ok = write_rows(cs->param_ds[i], st->dxpl, t, first, count, 1, strings);
            H5Tclose(t);
        } else {
            for (int64_t r = 0; r < count; r++) i64[r] = (int64_t)col[r];
            ok = write_rows(cs->param_ds[i], st->dxpl, H5T_NATIVE_INT64, first, count, 1, i64);
        }
    }
    /* Initial state of every row. */
    uint8_t *u8 = (uint8_t *)strings;
    memset(u8, 0, (size_t)count);
    ok = ok && write_rows(st->status_ds, st->dxpl, st->status_type, first, count, 1, u8) &&
         write_rows(st->attempts_ds, st->dxpl, H5T_NATIVE_UINT8, first, count, 1, u8);
    for (int64_t r = 0; r < count; r++) {
        i32[r] = -1;
        f64[r] = NAN;
        i64[r] = -1;
    }
    ok = ok && write_rows(st->rank_ds, st->dxpl, H5T_NATIVE_INT32, first, count, 1, i32) &&
         write_rows(st->wall_ds, st->dxpl, H5T_NATIVE_DOUBLE, first, count, 1, f64) &&
         write_rows(st->steps_done_ds, st->dxpl, H5T_NATIVE_INT64, first, count, 1, i64);
    memset(strings, 0, (size_t)count * ISW_STORE_ERROR_LEN);
    ok = ok && write_rows(st->error_ds, st->dxpl, st->error_type, first, count, 1, strings);
    if (ok && !cs->uniform) {
        int is = isw_param_find(m->params, np, "steps"), il = isw_param_find(m->params, np, "log_every");
        for (int64_t r = 0; r < count; r++) {
            int64_t steps = (int64_t)pvals[(size_t)is * (size_t)count + (size_t)r];
            int64_t every = (int64_t)pvals[(size_t)il * (size_t)count + (size_t)r];
            int64_t n = isw_log_points(steps, every);
            for (int64_t j = 0; j < S; j++)
                i64[r * S + j] = j < n ? isw_log_step(j, steps, every) : -1;
        }
        ok = write_rows(cs->step_ds, st->dxpl, H5T_NATIVE_INT64, first, count, S, i64);
    }
    if (!ok) rc = h5fail(err, st->path, "write", "the /tasks columns");
done:
    free(pvals);
    free(vals);
    free(i64);
    free(u64);
    free(keys);
    free(f64);
    free(i32);
    free(strings);
    return rc;
}

static isw_status alloc_store(isw_store **out, const char *path, const isw_trainer *tr, isw_error *err) {
    /* Our messages name the operation and dataset; HDF5's own stack dumps would only add noise. */
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    isw_store *st = isw_calloc(1, sizeof *st, err);
    if (!st) return ISW_EINTERNAL;
    st->file = st->dxpl = st->status_type = st->error_type = -1;
    st->status_ds = st->attempts_ds = st->rank_ds = st->wall_ds = st->steps_done_ds = st->error_ds = st->key_ds = -1;
    st->n_traj = tr->n_traj;
    st->n_final = tr->n_final;
    st->traj_ds = isw_calloc((size_t)tr->n_traj + 1, sizeof *st->traj_ds, err);
    st->final_ds = isw_calloc((size_t)tr->n_final + 1, sizeof *st->final_ds, err);
    st->path = strdup(path);
    if (!st->traj_ds || !st->final_ds || !st->path) {
        free(st->traj_ds);
        free(st->final_ds);
        free(st->path);
        free(st);
        return isw_fail(err, ISW_EINTERNAL, "out of memory opening %s", path);
    }
    for (int i = 0; i < tr->n_traj; i++) st->traj_ds[i] = -1;
    for (int i = 0; i < tr->n_final; i++) st->final_ds[i] = -1;
    st->dxpl = H5Pcreate(H5P_DATASET_XFER);
    H5Pset_dxpl_mpio(st->dxpl, H5FD_MPIO_INDEPENDENT);
    st->status_type = make_status_type();
    st->error_type = make_string_type(ISW_STORE_ERROR_LEN);
    *out = st;
    return ISW_OK;
}

static void free_store(isw_store *st) {
    if (!st) return;
    hid_t *all[] = {&st->status_ds, &st->attempts_ds, &st->rank_ds, &st->wall_ds,
                    &st->steps_done_ds, &st->error_ds, &st->key_ds};
    for (unsigned i = 0; i < sizeof all / sizeof all[0]; i++)
        if (*all[i] >= 0) H5Dclose(*all[i]);
    for (int i = 0; i < st->n_traj; i++)
        if (st->traj_ds[i] >= 0) H5Dclose(st->traj_ds[i]);
    for (int i = 0; i < st->n_final; i++)
        if (st->final_ds[i] >= 0) H5Dclose(st->final_ds[i]);
    if (st->status_type >= 0) H5Tclose(st->status_type);
    if (st->error_type >= 0) H5Tclose(st->error_type);
    if (st->dxpl >= 0) H5Pclose(st->dxpl);
    if (st->file >= 0) H5Fclose(st->file);
    free(st->traj_ds);
    free(st->final_ds);
    free(st->path);
    free(st);
}

static hid_t mpio_fapl(MPI_Comm comm) {
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    H5Pset_fapl_mpio(fapl, comm, MPI_INFO_NULL);
    /* Metadata reads and writes are collective: one rank reads, all get it (fewer small I/Os). */
    H5Pset_all_coll_metadata_ops(fapl, 1);
    H5Pset_coll_metadata_write(fapl, 1);
    return fapl;
}

/* Creates the datasets of the store (collective). cs receives the ones only creation needs. */
static isw_status create_datasets(isw_store *st, const isw_sweep *sw, const isw_trainer *tr,
                                  int uniform, column_set *cs, isw_error *err) {
    const isw_model_info *m = sw->model;
    hsize_t T = (hsize_t)st->T, TS[2] = {(hsize_t)st->T, (hsize_t)st->S};
    hid_t tasks = H5Gcreate2(st->file, "tasks", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    hid_t traj = H5Gcreate2(st->file, "traj", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    hid_t fin = H5Gcreate2(st->file, "final", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    int ok = tasks >= 0 && traj >= 0 && fin >= 0;
    for (int i = 0; ok && i < m->n_params; i++) {
        hid_t t = param_file_type(&m->params[i]);
        cs->param_ds[i] = make_dataset(tasks, m->params[i].name, t, 1, &T, m->params[i].doc, m->params[i].units);
        H5Tclose(t);
        ok = cs->param_ds[i] >= 0;
    }
#define COLUMN(var, name, type) \
    (ok = ok && ((var) = make_dataset(tasks, name, type, 1, &T, column_doc_of(name)->doc, column_doc_of(name)->units)) >= 0)
    COLUMN(cs->replicate_ds, "replicate", H5T_STD_I32LE);
    COLUMN(cs->seed_ds, "seed", H5T_STD_U64LE);
    COLUMN(st->key_ds, "key", H5T_STD_U64LE);
    COLUMN(cs->point_ds, "point", H5T_STD_I64LE);
    COLUMN(cs->cost_ds, "cost", H5T_IEEE_F64LE);
    COLUMN(st->status_ds, "status", st->status_type);
    COLUMN(st->attempts_ds, "attempts", H5T_STD_U8LE);
    COLUMN(st->rank_ds, "rank", H5T_STD_I32LE);
    COLUMN(st->wall_ds, "wall_s", H5T_IEEE_F64LE);
    COLUMN(st->steps_done_ds, "steps_done", H5T_STD_I64LE);
    COLUMN(st->error_ds, "error", st->error_type);
#undef COLUMN
    if (ok) {
        hsize_t S = (hsize_t)st->S;
        cs->step_ds = uniform ? make_dataset(traj, "step", H5T_STD_I64LE, 1, &S,
                                             "training step of each log point", "steps")
                              : make_dataset(traj, "step", H5T_STD_I64LE, 2, TS,
                                             "training step of each task's log points (-1: none)", "steps");
        ok = cs->step_ds >= 0;
    }
    for (int i = 0; ok && i < tr->n_traj; i++)
        ok = (st->traj_ds[i] = make_dataset(traj, tr->traj[i].name, H5T_IEEE_F64LE, 2, TS,
                                            tr->traj[i].doc, tr->traj[i].units)) >= 0;
    for (int i = 0; ok && i < tr->n_final; i++)
        ok = (st->final_ds[i] = make_dataset(fin, tr->final[i].name, H5T_IEEE_F64LE, 1, &T,
                                             tr->final[i].doc, tr->final[i].units)) >= 0;
    if (tasks >= 0) H5Gclose(tasks);
    if (traj >= 0) H5Gclose(traj);
    if (fin >= 0) H5Gclose(fin);
    return ok ? ISW_OK : h5fail(err, st->path, "dataset creation", "the result layout");
}

isw_status isw_store_create(const char *path, const isw_sweep *sw, const isw_trainer *tr,
                            MPI_Comm comm, isw_store **out, isw_error *err) {
    isw_store *st = NULL;
    isw_status rc = alloc_store(&st, path, tr, err);
    if (rc) return rc;
    int rank, size;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &size);
    int uniform;
    st->T = sw->n_tasks;
    st->S = scan_schedule(sw, &uniform);
    column_set cs = {.uniform = uniform, .replicate_ds = -1, .seed_ds = -1, .point_ds = -1,
                     .cost_ds = -1, .step_ds = -1};
    cs.param_ds = isw_calloc((size_t)sw->model->n_params, sizeof *cs.param_ds, err);
    if (!cs.param_ds) {
        free_store(st);
        return ISW_EINTERNAL;
    }
    for (int i = 0; i < sw->model->n_params; i++) cs.param_ds[i] = -1;
    hid_t fapl = mpio_fapl(comm);
    st->file = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
    H5Pclose(fapl);
    if (st->file < 0) rc = isw_fail(err, ISW_EINPUT, "%s: cannot create the result file (is its folder there and writable?)", path);
    if (!rc) rc = write_root_attrs(st, sw, st->S, comm, err);
    if (!rc) rc = create_datasets(st, sw, tr, uniform, &cs, err);
    /* Every rank fills its own slice of rows (independent writes, no metadata change). */
    int64_t lo = st->T * rank / size, hi = st->T * (rank + 1) / size;
    for (int64_t first = lo; !rc && first < hi; first += BLOCK_ROWS) {
        int64_t count = hi - first < BLOCK_ROWS ? hi - first : BLOCK_ROWS;
        rc = fill_columns(st, sw, &cs, first, count, err);
    }
    if (!rc && uniform && rank == 0) {
        int is = isw_param_find(sw->model->params, sw->model->n_params, "steps");
        int il = isw_param_find(sw->model->params, sw->model->n_params, "log_every");
        int64_t *steps = malloc((size_t)st->S * sizeof *steps);
        if (!steps) rc = isw_fail(err, ISW_EINTERNAL, "out of memory");
        for (int64_t j = 0; !rc && j < st->S; j++)
            steps[j] = isw_log_step(j, (int64_t)sw->base[is], (int64_t)sw->base[il]);
        if (!rc && !write_rows(cs.step_ds, st->dxpl, H5T_NATIVE_INT64, 0, st->S, 1, steps))
            rc = h5fail(err, path, "write", "/traj/step");
        free(steps);
    }
    for (int i = 0; i < sw->model->n_params; i++)
        if (cs.param_ds[i] >= 0) H5Dclose(cs.param_ds[i]);
    hid_t extra[] = {cs.replicate_ds, cs.seed_ds, cs.point_ds, cs.cost_ds, cs.step_ds};
    for (unsigned i = 0; i < sizeof extra / sizeof extra[0]; i++)
        if (extra[i] >= 0) H5Dclose(extra[i]);
    free(cs.param_ds);
    /* Agree on success before the collective flush: a rank that failed must not leave others
     * waiting inside HDF5. */
    int bad = rc != ISW_OK, any_bad = 0;
    MPI_Allreduce(&bad, &any_bad, 1, MPI_INT, MPI_MAX, comm);
    /* Marked complete only once every rank has filled its rows: a job killed during creation
     * leaves a file that --resume refuses instead of trusting half-written columns. */
    if (!any_bad && !put_int_attr(st->file, "layout_complete", 1))
        rc = h5fail(err, path, "attribute write", "layout_complete");
    if (!any_bad && !rc && H5Fflush(st->file, H5F_SCOPE_GLOBAL) < 0) rc = h5fail(err, path, "flush", "the new file");
    if (any_bad && !rc) rc = isw_fail(err, ISW_EINTERNAL, "%s: another rank failed while creating the file", path);
    if (rc) {
        free_store(st);
        return rc;
    }
    *out = st;
    return ISW_OK;
}

/* ---- opening for resume ----------------------------------------------------------------------- */

static char *get_text_attr(hid_t obj, const char *name) {
    if (H5Aexists(obj, name) <= 0) return NULL;
    hid_t a = H5Aopen(obj, name, H5P_DEFAULT);
    if (a < 0) return NULL;
    hid_t ft = H5Aget_type(a);
    char *out = NULL;
    if (H5Tget_class(ft) == H5T_STRING) {
        if (H5Tis_variable_str(ft) > 0) {
            hid_t mt = H5Tcopy(H5T_C_S1);
            H5Tset_size(mt, H5T_VARIABLE);
            H5Tset_cset(mt, H5Tget_cset(ft));
            char *v = NULL;
            if (H5Aread(a, mt, &v) >= 0 && v) {
                out = strdup(v);
                H5free_memory(v);
            }
            H5Tclose(mt);
        } else {
            size_t n = H5Tget_size(ft);
            out = calloc(n + 1, 1);
            if (out && H5Aread(a, ft, out) < 0) {
                free(out);
                out = NULL;
            }
        }
    }
    H5Tclose(ft);
    H5Aclose(a);
    return out;
}

/* The first line where two texts differ, for a message; line numbers are 1-based. */
static void first_line_difference(const char *a, const char *b, char *buf, size_t size) {
    int line = 1;
    while (*a || *b) {
        size_t la = strcspn(a, "\n"), lb = strcspn(b, "\n");
        if (la != lb || strncmp(a, b, la) != 0) {
            snprintf(buf, size, "line %d: '%.*s' in the file's sweep vs '%.*s' now", line,
                     (int)(la > 60 ? 60 : la), a, (int)(lb > 60 ? 60 : lb), b);
            return;
        }
        a += la + (a[la] == '\n');
        b += lb + (b[lb] == '\n');
        line++;
    }
    snprintf(buf, size, "the texts are the same");
}

isw_status isw_store_read_sweep_text(const char *path, char **text, isw_error *err) {
    *text = NULL;
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    FILE *probe = fopen(path, "rb");
    if (!probe) return isw_fail(err, ISW_EINPUT, "%s: cannot open the result file", path);
    fclose(probe);
    if (H5Fis_hdf5(path) <= 0) return isw_fail(err, ISW_EINPUT, "%s: not an HDF5 file", path);
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (f < 0) return isw_fail(err, ISW_EINPUT, "%s: HDF5 cannot open it (damaged?)", path);
    char *format = get_text_attr(f, "format");
    isw_status rc = ISW_OK;
    if (!format || strcmp(format, ISW_STORE_FORMAT) != 0)
        rc = isw_fail(err, ISW_EINPUT, "%s: not an iclsweep result file (format attribute is %s%s%s, expected %s)",
                      path, format ? "'" : "missing", format ? format : "", format ? "'" : "", ISW_STORE_FORMAT);
    if (!rc && !(*text = get_text_attr(f, "sweep")))
        rc = isw_fail(err, ISW_EINPUT, "%s: the result file has no sweep attribute", path);
    free(format);
    H5Fclose(f);
    return rc;
}

/* Opens dataset `name` and checks it has `rows` rows (and `width` columns when 2-D). */
static hid_t open_checked(isw_store *st, const char *name, int64_t rows, int64_t width, isw_error *err) {
    if (H5Lexists(st->file, name, H5P_DEFAULT) <= 0) {
        isw_fail(err, ISW_EINPUT, "%s: dataset %s is missing; the file does not match this sweep's model", st->path, name);
        return -1;
    }
    hid_t ds = H5Dopen2(st->file, name, H5P_DEFAULT);
    if (ds < 0) {
        h5fail(err, st->path, "open", name);
        return -1;
    }
    hid_t space = H5Dget_space(ds);
    hsize_t dims[2] = {0, 0};
    int rank = H5Sget_simple_extent_dims(space, dims, NULL);
    H5Sclose(space);
    if (rank < 1 || (int64_t)dims[0] != rows || (width > 0 && (rank != 2 || (int64_t)dims[1] != width))) {
        H5Dclose(ds);
        isw_fail(err, ISW_EINPUT, "%s: dataset %s has the wrong shape for this sweep", st->path, name);
        return -1;
    }
    return ds;
}

isw_status isw_store_open(const char *path, const isw_sweep *sw, const isw_trainer *tr,
                          MPI_Comm comm, isw_store **out, isw_error *err) {
    isw_store *st = NULL;
    isw_status rc = alloc_store(&st, path, tr, err);
    if (rc) return rc;
    int uniform;
    st->T = sw->n_tasks;
    st->S = scan_schedule(sw, &uniform);
    hid_t fapl = mpio_fapl(comm);
    st->file = H5Fopen(path, H5F_ACC_RDWR, fapl);
    H5Pclose(fapl);
    if (st->file < 0) rc = isw_fail(err, ISW_EINPUT, "%s: HDF5 cannot open it for writing", path);
    char name[256];
#define OPEN(var, dsname, width) \
    if (!rc && ((var) = open_checked(st, dsname, st->T, width, err)) < 0) rc = ISW_EINPUT
    OPEN(st->status_ds, "/tasks/status", 0);
    OPEN(st->attempts_ds, "/tasks/attempts", 0);
    OPEN(st->rank_ds, "/tasks/rank", 0);
    OPEN(st->wall_ds, "/tasks/wall_s", 0);
    OPEN(st->steps_done_ds, "/tasks/steps_done", 0);
    OPEN(st->error_ds, "/tasks/error", 0);
    OPEN(st->key_ds, "/tasks/key", 0);
    for (int i = 0; i < tr->n_traj; i++) {
        snprintf(name, sizeof name, "/traj/%s", tr->traj[i].name);
        OPEN(st->traj_ds[i], name, st->S);
    }
    for (int i = 0; i < tr->n_final; i++) {
        snprintf(name, sizeof name, "/final/%s", tr->final[i].name);
        OPEN(st->final_ds[i], name, 0);
    }
#undef OPEN
    int bad = rc != ISW_OK, any_bad = 0;
    MPI_Allreduce(&bad, &any_bad, 1, MPI_INT, MPI_MAX, comm);
    if (any_bad && !rc) rc = isw_fail(err, ISW_EINPUT, "%s: another rank could not open the file", path);
    if (rc) {
        free_store(st);
        return rc;
    }
    *out = st;
    return ISW_OK;
}

isw_status isw_store_check_same(isw_store *st, const isw_sweep *sw, const char *stored_text,
                                isw_error *err) {
    /* Raw data reads only: with collective metadata on, a metadata read by one rank would wait
     * for the others. The header (model, counts, seed) was checked serially before the open. */
    char diff[256];
    first_line_difference(stored_text, sw->text, diff, sizeof diff);
    uint64_t *keys = malloc(BLOCK_ROWS * sizeof *keys);
    double *vals = malloc((size_t)sw->model->n_params * sizeof *vals);
    isw_status rc = keys && vals ? ISW_OK : isw_fail(err, ISW_EINTERNAL, "out of memory");
    /* Same tasks in the same rows: compare identities (seeds follow from them and the sweep seed). */
    for (int64_t first = 0; !rc && first < st->T; first += BLOCK_ROWS) {
        int64_t count = st->T - first < BLOCK_ROWS ? st->T - first : BLOCK_ROWS;
        if (!read_rows(st->key_ds, st->dxpl, H5T_NATIVE_UINT64, first, count, keys)) {
            rc = h5fail(err, st->path, "read", "/tasks/key");
            break;
        }
        for (int64_t r = 0; r < count; r++) {
            isw_task task;
            isw_sweep_task(sw, first + r, &task, vals);
            if (task.key != keys[r]) {
                rc = isw_fail(err, ISW_EINPUT, "%s was made by a different sweep: task %lld differs; "
                              "first difference at %s. Resume with the original sweep file, or "
                              "write to a new file", st->path, (long long)(first + r), diff);
                break;
            }
        }
    }
    free(keys);
    free(vals);
    return rc;
}

/* ---- rows ------------------------------------------------------------------------------------ */

isw_status isw_store_read_states(isw_store *st, uint8_t *status, uint8_t *attempts, isw_error *err) {
    if (!read_rows(st->status_ds, st->dxpl, st->status_type, 0, st->T, status))
        return h5fail(err, st->path, "read", "/tasks/status");
    if (!read_rows(st->attempts_ds, st->dxpl, H5T_NATIVE_UINT8, 0, st->T, attempts))
        return h5fail(err, st->path, "read", "/tasks/attempts");
    return ISW_OK;
}

isw_status isw_store_mark_running(isw_store *st, int64_t t, int attempts, int rank, isw_error *err) {
    uint8_t a = (uint8_t)(attempts > 255 ? 255 : attempts), s = ISW_TASK_RUNNING;
    int32_t r = rank;
    if (!write_rows(st->attempts_ds, st->dxpl, H5T_NATIVE_UINT8, t, 1, 1, &a) ||
        !write_rows(st->rank_ds, st->dxpl, H5T_NATIVE_INT32, t, 1, 1, &r) ||
        !write_rows(st->status_ds, st->dxpl, st->status_type, t, 1, 1, &s))
        return h5fail(err, st->path, "write", "the running state of a task");
    return ISW_OK;
}

isw_status isw_store_write_result(isw_store *st, int64_t t, const double *traj, const double *final,
                                  int state, double wall_s, int64_t steps_done, const char *error,
                                  isw_error *err) {
    char msg[ISW_STORE_ERROR_LEN];
    memset(msg, 0, sizeof msg);
    snprintf(msg, sizeof msg, "%s", error ? error : "");
    /* Durability order: the row's data, then its bookkeeping, and only then its state. Each write
     * is a blocking MPI-IO write of raw data (no metadata), so a kill between two of them leaves
     * the state as it was (running), which --resume runs again. */
    for (int i = 0; i < st->n_traj; i++)
        if (!write_rows(st->traj_ds[i], st->dxpl, H5T_NATIVE_DOUBLE, t, 1, st->S, traj + (size_t)i * (size_t)st->S))
            return h5fail(err, st->path, "write", "a /traj row");
    for (int i = 0; i < st->n_final; i++)
        if (!write_rows(st->final_ds[i], st->dxpl, H5T_NATIVE_DOUBLE, t, 1, 1, final + i))
            return h5fail(err, st->path, "write", "a /final value");
    uint8_t s = (uint8_t)state;
    if (!write_rows(st->wall_ds, st->dxpl, H5T_NATIVE_DOUBLE, t, 1, 1, &wall_s) ||
        !write_rows(st->steps_done_ds, st->dxpl, H5T_NATIVE_INT64, t, 1, 1, &steps_done) ||
        !write_rows(st->error_ds, st->dxpl, st->error_type, t, 1, 1, msg) ||
        !write_rows(st->status_ds, st->dxpl, st->status_type, t, 1, 1, &s))
        return h5fail(err, st->path, "write", "the /tasks row of a finished task");
    return ISW_OK;
}

isw_status isw_store_set_state(isw_store *st, int64_t t, int state, isw_error *err) {
    uint8_t s = (uint8_t)state;
    if (!write_rows(st->status_ds, st->dxpl, st->status_type, t, 1, 1, &s))
        return h5fail(err, st->path, "write", "/tasks/status");
    return ISW_OK;
}

int64_t isw_store_log_points(const isw_store *st) { return st->S; }

isw_status isw_store_check_header(const char *path, const isw_sweep *sw, char **stored_text,
                                  isw_error *err) {
    char *text = NULL;
    if (stored_text) *stored_text = NULL;
    isw_status rc = isw_store_read_sweep_text(path, &text, err);
    if (rc) return rc;
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (f < 0) {
        free(text);
        return isw_fail(err, ISW_EINPUT, "%s: HDF5 cannot open it", path);
    }
    char *model = get_text_attr(f, "model");
    char *seed = get_text_attr(f, "seed");
    char want_seed[32];
    snprintf(want_seed, sizeof want_seed, "%llu", (unsigned long long)sw->seed);
    int64_t T = -1;
    hid_t a = H5Aexists(f, "n_tasks") > 0 ? H5Aopen(f, "n_tasks", H5P_DEFAULT) : -1;
    if (a >= 0) {
        if (H5Aread(a, H5T_NATIVE_INT64, &T) < 0) T = -1;
        H5Aclose(a);
    }
    char diff[256];
    first_line_difference(text, sw->text, diff, sizeof diff);
    if (H5Aexists(f, "layout_complete") <= 0)
        rc = isw_fail(err, ISW_EINPUT, "%s: its creation never finished (the job was killed while "
                      "creating it); start over with --force", path);
    else if (!model || strcmp(model, sw->model->name) != 0)
        rc = isw_fail(err, ISW_EINPUT, "%s was made for model %s, this sweep is model %s; refusing to "
                      "resume (first difference at %s)", path, model ? model : "?", sw->model->name, diff);
    else if (T != sw->n_tasks)
        rc = isw_fail(err, ISW_EINPUT, "%s was made by a different sweep: it has %lld tasks, this sweep "
                      "%lld; first difference at %s. Resume with the original sweep file, or write to "
                      "a new file", path, (long long)T, (long long)sw->n_tasks, diff);
    else if (!seed || strcmp(seed, want_seed) != 0)
        rc = isw_fail(err, ISW_EINPUT, "%s was made with sweep seed %s, this sweep has seed %s (first "
                      "difference at %s); refusing to resume", path, seed ? seed : "?", want_seed, diff);
    H5Fclose(f);
    free(model);
    free(seed);
    if (rc || !stored_text) free(text);
    else *stored_text = text;
    return rc;
}

isw_status isw_store_close(isw_store *st, isw_error *err) {
    if (!st) return ISW_OK;
    char *path = strdup(st->path ? st->path : "?");
    hid_t file = st->file;
    st->file = -1;
    free_store(st);
    isw_status rc = ISW_OK;
    if (file >= 0 && H5Fclose(file) < 0) rc = h5fail(err, path ? path : "?", "close", "the result file");
    free(path);
    return rc;
}

/* ---- reading a file serially (status) --------------------------------------------------------- */

/* Reads the whole 1-D dataset /tasks/<name> of T rows as mem_type into buf. */
static int read_column(hid_t file, const char *name, hid_t mem_type, int64_t T, void *buf) {
    char path[128];
    snprintf(path, sizeof path, "/tasks/%s", name);
    if (H5Lexists(file, "/tasks", H5P_DEFAULT) <= 0 || H5Lexists(file, path, H5P_DEFAULT) <= 0) return 0;
    hid_t ds = H5Dopen2(file, path, H5P_DEFAULT);
    if (ds < 0) return 0;
    hid_t space = H5Dget_space(ds);
    hsize_t dims[2] = {0, 0};
    int ok = H5Sget_simple_extent_dims(space, dims, NULL) == 1 && (int64_t)dims[0] == T &&
             H5Dread(ds, mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) >= 0;
    H5Sclose(space);
    H5Dclose(ds);
    return ok;
}

isw_status isw_store_read_table(const char *path, isw_store_table *tab, isw_error *err) {
    memset(tab, 0, sizeof *tab);
    char *text = NULL;
    isw_status st = isw_store_read_sweep_text(path, &text, err); /* checks the format */
    free(text);
    if (st) return st;
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (f < 0) return isw_fail(err, ISW_EINPUT, "%s: HDF5 cannot open it", path);
    tab->name = get_text_attr(f, "name");
    tab->model = get_text_attr(f, "model");
    int64_t T = 0;
    hid_t a = H5Aexists(f, "n_tasks") > 0 ? H5Aopen(f, "n_tasks", H5P_DEFAULT) : -1;
    int ok = a >= 0 && H5Aread(a, H5T_NATIVE_INT64, &T) >= 0 && T >= 0;
    if (a >= 0) H5Aclose(a);
    tab->T = T;
    if (ok) {
        tab->status = malloc((size_t)T + 1);
        tab->wall_s = malloc(((size_t)T + 1) * sizeof *tab->wall_s);
        tab->cost = malloc(((size_t)T + 1) * sizeof *tab->cost);
        tab->rank = malloc(((size_t)T + 1) * sizeof *tab->rank);
        tab->error = malloc(((size_t)T + 1) * ISW_STORE_ERROR_LEN);
        ok = tab->status && tab->wall_s && tab->cost && tab->rank && tab->error;
        if (!ok) st = isw_fail(err, ISW_EINTERNAL, "out of memory reading %s", path);
    }
    hid_t stype = make_status_type(), etype = make_string_type(ISW_STORE_ERROR_LEN);
    const char *missing = NULL;
    if (ok && !read_column(f, "status", stype, T, tab->status)) missing = "status";
    else if (ok && !read_column(f, "wall_s", H5T_NATIVE_DOUBLE, T, tab->wall_s)) missing = "wall_s";
    else if (ok && !read_column(f, "cost", H5T_NATIVE_DOUBLE, T, tab->cost)) missing = "cost";
    else if (ok && !read_column(f, "rank", H5T_NATIVE_INT32, T, tab->rank)) missing = "rank";
    else if (ok && !read_column(f, "error", etype, T, tab->error)) missing = "error";
    if (!st && (!ok || missing))
        st = isw_fail(err, ISW_EINPUT, "%s: cannot read %s%s (n_tasks %lld): a damaged or foreign file", path,
                      missing ? "/tasks/" : "the n_tasks attribute", missing ? missing : "", (long long)T);
    H5Tclose(stype);
    H5Tclose(etype);
    H5Fclose(f);
    if (st) isw_store_table_free(tab);
    return st;
}

void isw_store_table_free(isw_store_table *tab) {
    free(tab->name);
    free(tab->model);
    free(tab->status);
    free(tab->wall_s);
    free(tab->cost);
    free(tab->rank);
    free(tab->error);
    memset(tab, 0, sizeof *tab);
}
