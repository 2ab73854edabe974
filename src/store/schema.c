/* The result file's schema and the checked HDF5 helpers every store file uses.
 *
 * The /tasks columns come from the two lists in include/iclsweep/store/store.h; this file turns them into
 * one table (isw_store_cols) that creation, checks, the initial fill and the serial reader loop
 * over. Reading is defensive because result files are input like any other: before a dataset or
 * attribute is read, its type, rank, shape and storage are checked against what the layout says,
 * so a crafted file (an array where a scalar belongs, a string where a number belongs, storage
 * that claims more rows than the file holds) is refused with a message instead of overrunning a
 * buffer or allocating what the file does not contain. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_int.h"

#define STATE_NAME_(E, label) #label,
static const char *const state_names[ISW_TASK_N_STATES] = {ISW_TASK_STATES(STATE_NAME_)};
#undef STATE_NAME_

const char *isw_task_state_name(int state) {
    return state >= 0 && state < ISW_TASK_N_STATES ? state_names[state] : "unknown";
}

#define ID_COL_(name, ctype, kind, units, doc) {#name, units, doc, KIND_##kind, sizeof(ctype), 0},
#define STATE_COL_(name, ctype, kind, init, units, doc) {#name, units, doc, KIND_##kind, sizeof(ctype), (double)(init)},
const col_def isw_store_cols[N_COLS] = {ISW_TASK_ID_COLUMNS(ID_COL_) ISW_TASK_STATE_COLUMNS(STATE_COL_)};
#undef ID_COL_
#undef STATE_COL_

void isw_store_col_initial(int c, void *cells, int64_t n) {
    const col_def *cd = &isw_store_cols[c];
    for (int64_t r = 0; r < n; r++) {
        unsigned char *cell = (unsigned char *)cells + (size_t)r * cd->size;
        switch (cd->kind) {
        case KIND_I32: *(int32_t *)cell = (int32_t)cd->init; break;
        case KIND_I64: *(int64_t *)cell = (int64_t)cd->init; break;
        case KIND_U8:
        case KIND_STATUS: *cell = (uint8_t)cd->init; break;
        case KIND_U64: *(uint64_t *)cell = (uint64_t)cd->init; break;
        case KIND_F64: *(double *)cell = cd->init; break;
        case KIND_TEXT: memset(cell, 0, cd->size); break;
        }
    }
}

/* ---- types ----------------------------------------------------------------------------------- */

static hid_t status_type(void) {
    hid_t t = H5Tenum_create(H5T_NATIVE_UINT8);
    for (uint8_t v = 0; t >= 0 && v < ISW_TASK_N_STATES; v++)
        if (H5Tenum_insert(t, state_names[v], &v) < 0) {
            H5Tclose(t);
            return -1;
        }
    return t;
}

/* A fixed-length, NUL-terminated UTF-8 string type of `size` bytes. */
static hid_t text_type(size_t size) {
    hid_t t = H5Tcopy(H5T_C_S1);
    if (t < 0) return -1;
    if (H5Tset_size(t, size) < 0 || H5Tset_strpad(t, H5T_STR_NULLTERM) < 0 ||
        H5Tset_cset(t, H5T_CSET_UTF8) < 0) {
        H5Tclose(t);
        return -1;
    }
    return t;
}

hid_t isw_store_file_type(col_kind kind) {
    switch (kind) {
    case KIND_I32: return H5Tcopy(H5T_STD_I32LE);
    case KIND_I64: return H5Tcopy(H5T_STD_I64LE);
    case KIND_U8: return H5Tcopy(H5T_STD_U8LE);
    case KIND_U64: return H5Tcopy(H5T_STD_U64LE);
    case KIND_F64: return H5Tcopy(H5T_IEEE_F64LE);
    case KIND_STATUS: return status_type();
    case KIND_TEXT: return text_type(ISW_STORE_ERROR_LEN);
    }
    return -1;
}

hid_t isw_store_mem_type(col_kind kind) {
    switch (kind) {
    case KIND_I32: return H5Tcopy(H5T_NATIVE_INT32);
    case KIND_I64: return H5Tcopy(H5T_NATIVE_INT64);
    case KIND_U8: return H5Tcopy(H5T_NATIVE_UINT8);
    case KIND_U64: return H5Tcopy(H5T_NATIVE_UINT64);
    case KIND_F64: return H5Tcopy(H5T_NATIVE_DOUBLE);
    case KIND_STATUS: return status_type();
    case KIND_TEXT: return text_type(ISW_STORE_ERROR_LEN);
    }
    return -1;
}

size_t isw_store_choice_bytes(const isw_param_def *p) {
    size_t longest = 1;
    for (const char *s = p->choices; s && *s;) {
        size_t len = strcspn(s, "|");
        if (len + 1 > longest) longest = len + 1;
        s += len + (s[len] == '|');
    }
    return longest;
}

hid_t isw_store_param_type(const isw_param_def *p) {
    switch (p->type) {
    case ISW_P_INT: return H5Tcopy(H5T_STD_I64LE);
    case ISW_P_REAL: return H5Tcopy(H5T_IEEE_F64LE);
    case ISW_P_BOOL: return H5Tcopy(H5T_STD_U8LE);
    case ISW_P_CHOICE: return text_type(isw_store_choice_bytes(p));
    }
    return -1;
}

hid_t isw_store_param_mem_type(const isw_param_def *p) {
    switch (p->type) {
    case ISW_P_INT: return H5Tcopy(H5T_NATIVE_INT64);
    case ISW_P_REAL: return H5Tcopy(H5T_NATIVE_DOUBLE);
    case ISW_P_BOOL: return H5Tcopy(H5T_NATIVE_UINT8);
    case ISW_P_CHOICE: return text_type(isw_store_choice_bytes(p));
    }
    return -1;
}

double isw_store_bytes(const isw_store_layout *lay) {
    double T = (double)lay->T, S = (double)lay->S, row = 0;
    for (int c = 0; c < N_COLS; c++) row += (double)isw_store_cols[c].size;
    for (int i = 0; i < lay->n_params; i++) {
        double b = lay->params[i].type == ISW_P_CHOICE ? (double)isw_store_choice_bytes(&lay->params[i]) : 8.0;
        row += b * (lay->derived && lay->derived[i] ? 2 : 1);
    }
    row += 8.0 * (1 + S * (lay->n_traj + 1) + lay->n_final + lay->n_theory); /* /task, /traj, /final, /theory */
    double attrs = 0;
    for (int i = 0; i < lay->n_attrs; i++) attrs += lay->attrs[i].text ? (double)strlen(lay->attrs[i].text) : 8.0;
    return T * row + 8.0 * S + attrs + (1 << 20); /* a generous MiB for object headers */
}

/* ---- the store object ------------------------------------------------------------------------ */

/* A new array of n ids, each -1 (n may be 0); NULL when out of memory. */
static hid_t *new_ids(int n) {
    hid_t *ids = malloc(((size_t)n + 1) * sizeof *ids);
    for (int i = 0; ids && i < n; i++) ids[i] = -1;
    return ids;
}

static void close_ids(hid_t *ids, int n) {
    for (int i = 0; ids && i < n; i++)
        if (ids[i] >= 0) H5Dclose(ids[i]);
    free(ids);
}

isw_status isw_store_alloc(isw_store **out, const char *path, const isw_store_layout *lay,
                           isw_error *err) {
    /* Our messages name the operation and dataset and quote HDF5's innermost reason; its own
     * stack dumps would only add noise. */
    isw_h5_setup();
    isw_store *st = isw_calloc(1, sizeof *st, err);
    if (!st) return ISW_EINTERNAL;
    st->file = st->dxpl = st->task_scale = st->log_scale = st->step = -1;
    for (int k = 0; k <= KIND_TEXT; k++) st->types[k] = -1;
    for (int c = 0; c < N_COLS; c++) st->col[c] = -1;
    st->n_traj = lay->n_traj;
    st->n_final = lay->n_final;
    st->n_params = lay->n_params;
    st->n_theory = lay->n_theory;
    st->traj_defs = lay->traj;
    st->final_defs = lay->final;
    st->lay = lay;
    st->T = lay->T;
    st->S = lay->S;
    st->traj = new_ids(lay->n_traj);
    st->final = new_ids(lay->n_final);
    st->param = new_ids(lay->n_params);
    st->setting = new_ids(lay->n_params);
    st->theory = new_ids(lay->n_theory);
    st->set = malloc(((size_t)lay->n_params + 1) * sizeof *st->set);
    st->used = malloc(((size_t)lay->n_params + 1) * sizeof *st->used);
    st->steps = malloc(((size_t)lay->S + 1) * sizeof *st->steps);
    st->path = strdup(path);
    int ok = st->traj && st->final && st->param && st->setting && st->theory && st->set && st->used && st->steps &&
             st->path;
    for (int k = 0; ok && k <= KIND_TEXT; k++) ok = (st->types[k] = isw_store_mem_type((col_kind)k)) >= 0;
    ok = ok && (st->dxpl = H5Pcreate(H5P_DATASET_XFER)) >= 0 &&
         H5Pset_dxpl_mpio(st->dxpl, H5FD_MPIO_INDEPENDENT) >= 0;
    if (!ok) {
        isw_store_free(st);
        return isw_fail(err, ISW_EINTERNAL, "%s: cannot set up the HDF5 types and transfer properties "
                        "(out of memory?)", path);
    }
    *out = st;
    return ISW_OK;
}

void isw_store_free(isw_store *st) {
    if (!st) return;
    for (int c = 0; c < N_COLS; c++)
        if (st->col[c] >= 0) H5Dclose(st->col[c]);
    close_ids(st->traj, st->n_traj);
    close_ids(st->final, st->n_final);
    close_ids(st->param, st->n_params);
    close_ids(st->setting, st->n_params);
    close_ids(st->theory, st->n_theory);
    hid_t ids[] = {st->task_scale, st->log_scale, st->step};
    for (unsigned i = 0; i < sizeof ids / sizeof ids[0]; i++)
        if (ids[i] >= 0) H5Dclose(ids[i]);
    for (int k = 0; k <= KIND_TEXT; k++)
        if (st->types[k] >= 0) H5Tclose(st->types[k]);
    if (st->dxpl >= 0) H5Pclose(st->dxpl);
    free(st->set);
    free(st->used);
    free(st->steps);
    free(st->path);
    free(st);
}

/* ---- rows ------------------------------------------------------------------------------------ */

/* Selects rows [first, first + count) (all `width` columns of a 2-D dataset) of ds's space; returns
 * the file space and sets *mspace, or -1. */
static hid_t select_rows(hid_t ds, int64_t first, int64_t count, int64_t width, hid_t *mspace) {
    hid_t fspace = H5Dget_space(ds);
    if (fspace < 0) return -1;
    int rank = H5Sget_simple_extent_ndims(fspace);
    hsize_t start[2] = {(hsize_t)first, 0}, n[2] = {(hsize_t)count, (hsize_t)width};
    if (rank < 1 || rank > 2 || H5Sselect_hyperslab(fspace, H5S_SELECT_SET, start, NULL, n, NULL) < 0 ||
        (*mspace = H5Screate_simple(rank, n, NULL)) < 0) {
        H5Sclose(fspace);
        return -1;
    }
    return fspace;
}

/* Fault injection for the tests (SQLite's faultsim): with ICLSWEEP_FAIL_WRITE=k in the
 * environment, this process's k-th row write fails (a real HDF5 call that fails, as on a full disk), so every failure path of
 * creation and of a running sweep can be driven on purpose. */
static int injected_write_failure(void) {
    static long countdown = -2;
    if (countdown == -2) {
        const char *k = getenv("ICLSWEEP_FAIL_WRITE");
        countdown = k && *k ? atol(k) : -1;
    }
    return countdown > 0 && --countdown == 0;
}

int isw_h5_write_rows(hid_t ds, hid_t dxpl, hid_t mem_type, int64_t first, int64_t count,
                      int64_t width, const void *mem) {
    /* The injected failure is a real failed HDF5 call (no datatype), so its reason reaches the
     * message the way a full disk's would. */
    if (injected_write_failure()) mem_type = H5I_INVALID_HID;
    hid_t mspace = -1, fspace = select_rows(ds, first, count, width, &mspace);
    if (fspace < 0) return 0;
    herr_t rc = H5Dwrite(ds, mem_type, mspace, fspace, dxpl, mem);
    H5Sclose(mspace);
    H5Sclose(fspace);
    return rc >= 0;
}

int isw_h5_read_rows(hid_t ds, hid_t dxpl, hid_t mem_type, int64_t first, int64_t count, void *mem) {
    return isw_h5_read_block(ds, dxpl, mem_type, first, count, 1, mem);
}

int isw_h5_read_block(hid_t ds, hid_t dxpl, hid_t mem_type, int64_t first, int64_t count, int64_t width,
                      void *mem) {
    hid_t mspace = -1, fspace = select_rows(ds, first, count, width, &mspace);
    if (fspace < 0) return 0;
    herr_t rc = H5Dread(ds, mem_type, mspace, fspace, dxpl, mem);
    H5Sclose(mspace);
    H5Sclose(fspace);
    return rc >= 0;
}

/* ---- attributes ------------------------------------------------------------------------------ */

int isw_h5_put_text_attr(hid_t obj, const char *name, const char *value) {
    hid_t t = H5Tcopy(H5T_C_S1), space = H5Screate(H5S_SCALAR), a = -1;
    int ok = t >= 0 && space >= 0 && H5Tset_size(t, H5T_VARIABLE) >= 0 &&
             H5Tset_cset(t, H5T_CSET_UTF8) >= 0 &&
             (a = H5Acreate2(obj, name, t, space, H5P_DEFAULT, H5P_DEFAULT)) >= 0 &&
             H5Awrite(a, t, &value) >= 0;
    if (a >= 0) H5Aclose(a);
    if (space >= 0) H5Sclose(space);
    if (t >= 0) H5Tclose(t);
    return ok;
}

int isw_h5_put_int_attr(hid_t obj, const char *name, int64_t value) {
    hid_t space = H5Screate(H5S_SCALAR), a = -1;
    int ok = space >= 0 && (a = H5Acreate2(obj, name, H5T_STD_I64LE, space, H5P_DEFAULT, H5P_DEFAULT)) >= 0 &&
             H5Awrite(a, H5T_NATIVE_INT64, &value) >= 0;
    if (a >= 0) H5Aclose(a);
    if (space >= 0) H5Sclose(space);
    return ok;
}

/* Opens attribute `name` of obj if it exists and is a scalar: 1 (and *a), 0 absent, -1 not scalar. */
static int open_scalar_attr(hid_t obj, const char *name, hid_t *a) {
    htri_t exists = H5Aexists(obj, name);
    if (exists == 0) return 0;
    if (exists < 0 || (*a = H5Aopen(obj, name, H5P_DEFAULT)) < 0) return -1;
    hid_t space = H5Aget_space(*a);
    int scalar = space >= 0 && H5Sget_simple_extent_type(space) == H5S_SCALAR;
    if (space >= 0) H5Sclose(space);
    if (!scalar) {
        H5Aclose(*a);
        return -1;
    }
    return 1;
}

/* Reads the string attribute a (type ft) into a malloc'd text; NULL on failure or past max. */
static char *read_string_attr(hid_t a, hid_t ft, size_t max) {
    char *out = NULL;
    htri_t vlen = H5Tis_variable_str(ft);
    hid_t mt = H5Tcopy(H5T_C_S1);
    if (vlen < 0 || mt < 0) goto done;
    if (vlen) {
        char *s = NULL;
        if (H5Tset_size(mt, H5T_VARIABLE) < 0 || H5Tset_cset(mt, H5Tget_cset(ft)) < 0 ||
            H5Aread(a, mt, &s) < 0)
            goto done;
        /* An empty variable-length string may come back as NULL. */
        if (!s || strlen(s) <= max) out = strdup(s ? s : "");
        H5free_memory(s);
    } else {
        size_t n = H5Tget_size(ft);
        if (n == 0 || n > max || H5Tset_size(mt, n + 1) < 0 || H5Tset_strpad(mt, H5T_STR_NULLTERM) < 0 ||
            H5Tset_cset(mt, H5Tget_cset(ft)) < 0 || !(out = calloc(n + 2, 1)))
            goto done;
        if (H5Aread(a, mt, out) < 0) {
            free(out);
            out = NULL;
        }
    }
done:
    if (mt >= 0) H5Tclose(mt);
    return out;
}

int isw_h5_get_text_attr(hid_t obj, const char *name, size_t max, char **out, char *what, size_t size) {
    *out = NULL;
    hid_t a = -1;
    int r = open_scalar_attr(obj, name, &a);
    if (r == 0) return 0;
    if (r < 0) {
        snprintf(what, size, "attribute %s is not a single value", name);
        return -1;
    }
    hid_t ft = H5Aget_type(a);
    if (ft < 0 || H5Tget_class(ft) != H5T_STRING) snprintf(what, size, "attribute %s is not text", name);
    else if (!(*out = read_string_attr(a, ft, max)))
        snprintf(what, size, "attribute %s cannot be read as text of at most %zu bytes", name, max);
    if (ft >= 0) H5Tclose(ft);
    H5Aclose(a);
    return *out ? 1 : -1;
}

int isw_h5_get_int_attr(hid_t obj, const char *name, int64_t *out) {
    hid_t a = -1;
    int r = open_scalar_attr(obj, name, &a);
    if (r <= 0) return r;
    hid_t ft = H5Aget_type(a);
    int ok = ft >= 0 && H5Tget_class(ft) == H5T_INTEGER && H5Aread(a, H5T_NATIVE_INT64, out) >= 0;
    if (ft >= 0) H5Tclose(ft);
    H5Aclose(a);
    return ok ? 1 : -1;
}

/* ---- links ----------------------------------------------------------------------------------- */

/* A result file holds each object under one name, by hard links only: a soft link would let one
 * metric's rows be written through another's name, an external link would send reads and writes
 * into another file (or block on a FIFO), and a second hard link would alias two datasets. Each
 * is refused before anything is read through it. */

#define MAX_LINKS 1000000 /* links in a file: a sweep's file has a few hundred */

/* Describes link `name` of group (not followed) into why[size] if it is not a hard link to an
 * object with one name; returns 1 when it is one. shown is the name to print. */
static int one_hard_link(hid_t group, const char *name, const char *shown, char *why, size_t size) {
    H5L_info_t li;
    if (H5Lget_info(group, name, &li, H5P_DEFAULT) < 0) {
        snprintf(why, size, "%s cannot be read", shown);
        return 0;
    }
    if (li.type == H5L_TYPE_SOFT) {
        char target[256] = "?";
        if (li.u.val_size <= sizeof target) H5Lget_val(group, name, target, sizeof target, H5P_DEFAULT);
        target[sizeof target - 1] = '\0';
        snprintf(why, size, "%s is a soft link (to %.200s); a result file holds no links", shown, target);
        return 0;
    }
    if (li.type == H5L_TYPE_EXTERNAL) {
        snprintf(why, size, "%s is an external link (into another file); a result file holds no links", shown);
        return 0;
    }
    if (li.type != H5L_TYPE_HARD) {
        snprintf(why, size, "%s is a user-defined link; a result file holds no links", shown);
        return 0;
    }
    H5O_info_t oi;
    if (H5Oget_info_by_name2(group, name, &oi, H5O_INFO_BASIC, H5P_DEFAULT) < 0) {
        snprintf(why, size, "%s cannot be read", shown);
        return 0;
    }
    if (oi.rc != 1) {
        snprintf(why, size, "%s is one of %u names of one object (hard links); a result file holds no links",
                 shown, oi.rc);
        return 0;
    }
    return 1;
}

typedef struct {
    char *why;
    size_t size;
    long n;
} link_walk;

static herr_t walk_link(hid_t group, const char *name, const H5L_info_t *info, void *data) {
    (void)info;
    link_walk *w = data;
    char shown[300];
    snprintf(shown, sizeof shown, "/%.290s", name);
    if (++w->n > MAX_LINKS) {
        snprintf(w->why, w->size, "more than %d objects; not a result file", MAX_LINKS);
        return 1;
    }
    return one_hard_link(group, name, shown, w->why, w->size) ? 0 : 1;
}

int isw_h5_check_links(hid_t file, char *why, size_t size) {
    link_walk w = {why, size, 0};
    herr_t rc = H5Lvisit(file, H5_INDEX_NAME, H5_ITER_NATIVE, walk_link, &w);
    if (rc == 0) return 1;
    if (rc < 0) snprintf(why, size, "its groups cannot be walked (damaged): %s", isw_h5_reason());
    return 0;
}

int isw_h5_hard_path(hid_t file, const char *name, H5O_type_t type, char *why, size_t size) {
    char prefix[512];
    size_t len = strlen(name);
    if (len == 0 || len >= sizeof prefix || name[0] != '/') {
        snprintf(why, size, "%s is not a path in the file", name);
        return 0;
    }
    /* Each component in turn, so that no link is followed before it is known to be a hard one. */
    for (size_t end = 1; end <= len; end++) {
        if (end < len && name[end] != '/') continue;
        memcpy(prefix, name, end);
        prefix[end] = '\0';
        htri_t exists = H5Lexists(file, prefix, H5P_DEFAULT);
        if (exists <= 0) {
            snprintf(why, size, "%s %s is missing", end == len && type == H5O_TYPE_DATASET ? "dataset" : "group",
                     prefix);
            return 0;
        }
        if (!one_hard_link(file, prefix, prefix, why, size)) return 0;
        H5O_info_t oi;
        H5O_type_t want = end == len ? type : H5O_TYPE_GROUP;
        if (H5Oget_info_by_name2(file, prefix, &oi, H5O_INFO_BASIC, H5P_DEFAULT) < 0 || oi.type != want) {
            snprintf(why, size, "%s is not a %s", prefix, want == H5O_TYPE_DATASET ? "dataset" : "group");
            return 0;
        }
    }
    return 1;
}

/* ---- checked opens --------------------------------------------------------------------------- */

/* Whether file type ft is what `want` asks for, in its whole layout: numbers and enums equal in
 * every property HDF5 records (byte order, size, precision, offset, sign, exponent and mantissa
 * fields, members), so that nothing a reader would convert silently is accepted (an int8 where a
 * double belongs, a float of 8 bytes with a 20-bit mantissa, an enum with other members). Text is
 * a fixed-length string of want's size. */
static int same_type(hid_t ft, hid_t want) {
    H5T_class_t c = H5Tget_class(ft);
    if (c != H5Tget_class(want) || H5Tget_size(ft) != H5Tget_size(want)) return 0;
    switch (c) {
    case H5T_INTEGER:
    case H5T_FLOAT:
    case H5T_ENUM: return H5Tequal(ft, want) > 0;
    case H5T_STRING: return H5Tis_variable_str(ft) == 0;
    default: return 0;
    }
}

static const char *type_words(hid_t t) {
    switch (H5Tget_class(t)) {
    case H5T_INTEGER: return "an integer";
    case H5T_FLOAT: return "a floating-point number";
    case H5T_STRING: return H5Tis_variable_str(t) > 0 ? "variable-length text" : "fixed-length text";
    case H5T_ENUM: return "an enum";
    default: return "another kind of value";
    }
}

/* What makes file type ft differ from want, into why[size], for dataset `name`. */
static void type_difference(hid_t ft, hid_t want, const char *name, char *why, size_t size) {
    if (ft < 0) {
        snprintf(why, size, "dataset %s has an unreadable type", name);
        return;
    }
    H5T_class_t c = H5Tget_class(ft);
    if (c != H5Tget_class(want) || H5Tget_size(ft) != H5Tget_size(want) || c == H5T_STRING)
        snprintf(why, size, "dataset %s holds %s of %zu bytes; expected %s of %zu bytes", name, type_words(ft),
                 H5Tget_size(ft), type_words(want), H5Tget_size(want));
    else if (c == H5T_ENUM)
        snprintf(why, size, "dataset %s holds an enum whose members or values are not pending 0, running 1, "
                 "done 2, failed 3, diverged 4", name);
    else if (c == H5T_FLOAT)
        snprintf(why, size, "dataset %s holds floating-point numbers of %zu bytes in another layout (byte order, "
                 "precision, exponent or mantissa); expected IEEE 754 little-endian doubles", name, H5Tget_size(ft));
    else
        snprintf(why, size, "dataset %s holds integers of %zu bytes of another byte order, sign or precision "
                 "than expected (little-endian, %s)", name, H5Tget_size(ft),
                 H5Tget_sign(want) == H5T_SGN_NONE ? "unsigned" : "signed");
}

/* "shape [3, 4]", "a single value" or "rank 5", into buf[64]. */
static const char *shape_words(int rank, const hsize_t *dims, char *buf /* [64] */) {
    if (rank == 0) snprintf(buf, 64, "a single value");
    else if (rank == 1) snprintf(buf, 64, "shape [%llu]", (unsigned long long)dims[0]);
    else if (rank == 2)
        snprintf(buf, 64, "shape [%llu, %llu]", (unsigned long long)dims[0], (unsigned long long)dims[1]);
    else snprintf(buf, 64, "rank %d", rank);
    return buf;
}

/* Its storage is contiguous, allocated, bytes long and inside the file. */
static int storage_inside(hid_t file, hid_t ds, hsize_t bytes) {
    hid_t dcpl = H5Dget_create_plist(ds);
    if (dcpl < 0) return 0;
    int contiguous = H5Pget_layout(dcpl) == H5D_CONTIGUOUS;
    H5Pclose(dcpl);
    hsize_t file_size = 0;
    haddr_t off = contiguous ? H5Dget_offset(ds) : HADDR_UNDEF;
    if (!contiguous || off == HADDR_UNDEF || H5Fget_filesize(file, &file_size) < 0) return 0;
    return H5Dget_storage_size(ds) == bytes && off <= file_size && bytes <= file_size - off;
}

hid_t isw_h5_open_checked(hid_t file, const char *name, hid_t want, int rank, int64_t rows,
                          int64_t width, char *why, size_t size) {
    if (!isw_h5_hard_path(file, name, H5O_TYPE_DATASET, why, size)) return -1;
    hid_t ds = H5Dopen2(file, name, H5P_DEFAULT);
    if (ds < 0) {
        snprintf(why, size, "dataset %s cannot be opened", name);
        return -1;
    }
    hid_t ft = H5Dget_type(ds), space = H5Dget_space(ds);
    hsize_t dims[H5S_MAX_RANK];
    char wbuf[32], sbuf[64];
    int r = space >= 0 ? H5Sget_simple_extent_ndims(space) : -1;
    if (r >= 1 && r <= H5S_MAX_RANK) H5Sget_simple_extent_dims(space, dims, NULL);
    int ok = 0;
    if (ft < 0 || !same_type(ft, want))
        type_difference(ft, want, name, why, size);
    else if (r != rank || (int64_t)dims[0] != rows || (rank == 2 && (int64_t)dims[1] != width))
        snprintf(why, size, "dataset %s has %s; expected shape [%lld%s]", name, shape_words(r, dims, sbuf),
                 (long long)rows, rank == 2 ? (snprintf(wbuf, sizeof wbuf, ", %lld", (long long)width), wbuf) : "");
    else if (!storage_inside(file, ds, (hsize_t)rows * (hsize_t)(rank == 2 ? width : 1) * H5Tget_size(want)))
        snprintf(why, size, "dataset %s's storage is not the contiguous %lld rows the file claims "
                 "(truncated or forged)", name, (long long)rows);
    else
        ok = 1;
    if (ft >= 0) H5Tclose(ft);
    if (space >= 0) H5Sclose(space);
    if (!ok) {
        H5Dclose(ds);
        return -1;
    }
    return ds;
}
