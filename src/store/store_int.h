/* What the store's files share (private to src/store): the open store, the column kinds and the
 * small checked HDF5 helpers. Every helper returns 0 or a negative id on failure and never
 * prints; callers turn that into a message naming the file, the operation, the dataset and, for
 * row writes, the rows. */
#ifndef ICLSWEEP_STORE_INT_H
#define ICLSWEEP_STORE_INT_H

#include <hdf5.h>

#include "iclsweep/store/store.h"

#define BLOCK_ROWS 16384 /* rows resolved and written at a time when filling columns */

/* The kinds of per-task column, and how each is stored. */
typedef enum { KIND_I32, KIND_I64, KIND_U8, KIND_U64, KIND_F64, KIND_STATUS, KIND_TEXT } col_kind;

/* The non-parameter /tasks columns, in the order of ISW_TASK_ID_COLUMNS then
 * ISW_TASK_STATE_COLUMNS: COL_replicate, ..., COL_error. */
#define COL_ENUM_(name, ...) COL_##name,
enum { ISW_TASK_ID_COLUMNS(COL_ENUM_) N_ID_COLS, COL_STATE_BASE_ = N_ID_COLS - 1,
       ISW_TASK_STATE_COLUMNS(COL_ENUM_) N_COLS };
#undef COL_ENUM_

typedef struct {
    const char *name, *units, *doc;
    col_kind kind;
    size_t size;   /* bytes per element in memory */
    double init;   /* initial value (state columns; TEXT: all zero bytes) */
} col_def;

extern const col_def isw_store_cols[N_COLS];

/* Fills cells[n] of state column c with its initial value (creation; a column an older file
 * lacks, as its readers see it). */
void isw_store_col_initial(int c, void *cells, int64_t n);

struct isw_store {
    hid_t file, dxpl;
    hid_t types[KIND_TEXT + 1]; /* in-memory type of each column kind */
    hid_t col[N_COLS];          /* /tasks/<column> */
    hid_t *traj;                /* [n_traj] /traj/<metric> */
    hid_t *final;               /* [n_final] /final/<metric> */
    hid_t *param, *setting;     /* [n_params] /tasks/<param>, /tasks/<param>_setting (-1: not derived) */
    hid_t *theory;              /* [n_theory] /theory/<column> */
    hid_t task_scale, log_scale, step; /* /task, /log_point, /traj/step */
    int n_traj, n_final, n_params, n_theory;
    const isw_metric_def *traj_defs, *final_defs; /* the layout's tables, for messages */
    const isw_store_layout *lay; /* the caller's layout, which outlives the store */
    int64_t T, S;
    char *path;
    /* scratch for resolving one row (checksums): */
    double *set, *used; /* [n_params] */
    int64_t *steps;     /* [S] */
};

/* ---- schema.c -------------------------------------------------------------------------------- */

/* Allocates a store for lay with every id -1 and the memory types made; turns HDF5's own error
 * printing off (our messages name what failed). */
isw_status isw_store_alloc(isw_store **out, const char *path, const isw_store_layout *lay,
                           isw_error *err);
/* Closes every open id and frees st (not the file: the caller closes it). */
void isw_store_free(isw_store *st);

/* The type a column kind has in the file (a new id, or negative); HDF5's enum for STATUS. */
hid_t isw_store_file_type(col_kind kind);
/* The type a column kind has in memory (a new id). */
hid_t isw_store_mem_type(col_kind kind);
/* The type of parameter p in the file (a new id, or negative). */
hid_t isw_store_param_type(const isw_param_def *p);
/* The memory type of parameter p's values as the store reads and writes them (a new id). */
hid_t isw_store_param_mem_type(const isw_param_def *p);

/* Writes rows [first, first + count) of a [T] or [T, S] dataset from mem (count * width elements
 * of mem_type); returns 0 on any failure. */
int isw_h5_write_rows(hid_t ds, hid_t dxpl, hid_t mem_type, int64_t first, int64_t count,
                      int64_t width, const void *mem);
/* Reads rows [first, first + count) of a [T] dataset into mem; returns 0 on failure. */
int isw_h5_read_rows(hid_t ds, hid_t dxpl, hid_t mem_type, int64_t first, int64_t count,
                     void *mem);
/* Reads rows [first, first + count) of a [T] (width 1) or [T, width] dataset into mem (count *
 * width elements); returns 0 on failure. */
int isw_h5_read_block(hid_t ds, hid_t dxpl, hid_t mem_type, int64_t first, int64_t count, int64_t width,
                      void *mem);
/* Bytes of parameter p's cell when it is a choice (its longest name, NUL included). */
size_t isw_store_choice_bytes(const isw_param_def *p);

/* Writes a scalar text (variable-length UTF-8) or integer attribute; returns 0 on failure. */
int isw_h5_put_text_attr(hid_t obj, const char *name, const char *value);
int isw_h5_put_int_attr(hid_t obj, const char *name, int64_t value);

/* Reads the scalar text attribute `name` of obj into a malloc'd string of at most max bytes.
 * Returns 1 and sets *out; 0 when it is absent; -1 when it is not a scalar string, too long or
 * unreadable (what[size] says which). */
int isw_h5_get_text_attr(hid_t obj, const char *name, size_t max, char **out, char *what,
                         size_t size);
/* Reads the scalar integer attribute `name`: 1 on success, 0 absent, -1 wrong type or shape. */
int isw_h5_get_int_attr(hid_t obj, const char *name, int64_t *out);

/* Whether the whole file holds hard links only, each object under one name (no soft, external or
 * user-defined link, no object with two names): 1, or 0 with the first offender in why[size].
 * Follows no link. */
int isw_h5_check_links(hid_t file, char *why, size_t size);
/* Whether every component of `name` (a path from the root) is a hard link to an object of one
 * name, the last of the given type and the others groups: 1, or 0 with why[size]. Follows a link
 * only once it is known to be a hard one. */
int isw_h5_hard_path(hid_t file, const char *name, H5O_type_t type, char *why, size_t size);

/* Opens dataset `name` (a path from the root) and checks it before any read: every component of
 * its path is a hard link (isw_h5_hard_path), its type equals `want` in its whole layout (byte
 * order, precision, sign, exponent and mantissa; enums member by member; text as a fixed-length
 * string of want's size), its rank is `rank` with dims {rows, width}, and its storage lies inside
 * the file. Returns the dataset, or -1 with what is wrong in why[size]. */
hid_t isw_h5_open_checked(hid_t file, const char *name, hid_t want, int rank, int64_t rows,
                          int64_t width, char *why, size_t size);

/* ---- checksum.c ---- */

/* What a checksum covers for lay, as the text of the covers attribute (malloc'd; NULL when out
 * of memory). */
char *isw_store_covers(const isw_store_layout *lay);
/* A checker: the datasets a checksum covers, opened, and buffers for a block of rows. */
typedef struct isw_checker isw_checker;
/* From a file opened serially, after its header was read (T, S): the datasets its covers
 * attribute names, each checked; *out NULL when the file has no checksum column (an older
 * format). */
isw_status isw_checker_from_file(hid_t file, const char *path, int64_t T, int64_t S, isw_checker **out,
                                 isw_error *err);
/* From an open store: its datasets, in the order of its layout's covers. */
isw_status isw_checker_from_store(isw_store *st, isw_checker **out, isw_error *err);
/* Checks every finished row (status[T]) into bad[T] (isw_row_fault). */
isw_status isw_checker_run(isw_checker *c, const uint8_t *status, uint8_t *bad, isw_error *err);
void isw_checker_free(isw_checker *c);

/* ---- h5err.c: HDF5's reasons ---- */

/* Sets up HDF5 for the store (every entry point calls it): replaces HDF5's printing of its error
 * stack by a handler that records the innermost reason of each failed call (quoted by
 * isw_h5_reason), forgetting any reason recorded before; and unregisters HDF5's external links,
 * so that no call can follow one into another file, whatever a check missed. */
void isw_h5_setup(void);
/* The innermost reason HDF5 gave for the last call that failed ("Dataset: Write failed - ..."),
 * or "HDF5 gave no reason". */
const char *isw_h5_reason(void);

/* ---- read.c ---------------------------------------------------------------------------------- */

/* Opens path read-only (a regular HDF5 file) and reads its checked header into info; on success
 * the caller closes *file and frees info. */
isw_status isw_store_open_header(const char *path, hid_t *file, isw_store_info *info, isw_error *err);

/* ---- open.c ---------------------------------------------------------------------------------- */

/* Refuses (ISW_EINPUT) a header whose root attributes names[] (NULL-ended) differ from lay's. */
isw_status isw_store_match_attrs(const char *path, const isw_store_info *info, const isw_store_layout *lay,
                                 const char *const *names, isw_error *err);

#endif
