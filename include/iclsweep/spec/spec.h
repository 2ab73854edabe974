/* Sweep files: YAML text -> a validated grid of tasks (README "Sweep files"; docs/architecture.md).
 *
 * Workload: a sweep has up to ~10^7 tasks (max_tasks) over ~30 parameters, so tasks are never
 * materialised: a task index maps to a point of the grid (mixed radix over the dimensions) and a
 * replicate, and its parameter values are resolved on demand. Memory is O(axis values), plus one
 * index per valid point when skip_invalid dropped some.
 *
 * No MPI, no HDF5: the spec is parsed by every rank alike, and `plan` works on a laptop. */
#ifndef ICLSWEEP_SPEC_H
#define ICLSWEEP_SPEC_H

#include <stdint.h>

#include "iclsweep/core/error.h"
#include "iclsweep/train/model.h"

#define ISW_SPEC_MAX_BYTES (1L << 20)          /* a sweep file larger than 1 MiB is refused */
#define ISW_SPEC_MAX_NODES 100000L             /* YAML nodes visited, aliases expanded */
#define ISW_SPEC_MAX_DEPTH 64                  /* lists and mappings nested, aliases expanded */
#define ISW_SPEC_MAX_ANCHORS 256               /* YAML anchors (&name): libyaml looks each alias up among all of them */
#define ISW_SPEC_MAX_AXIS 1000000L             /* values in one axis */
#define ISW_SPEC_DEFAULT_MAX_TASKS 10000000LL  /* tasks in a sweep, unless max_tasks says */
#define ISW_SPEC_LIMIT_MAX_TASKS 1000000000LL  /* the most max_tasks may allow */
#define ISW_SPEC_DEFAULT_MAX_TASK_MEMORY 4294967296.0 /* bytes per task (4 GiB), unless
                                                         max_task_memory says */
#define ISW_SPEC_DEFAULT_CHECKPOINT_EVERY 60   /* seconds between a task's checkpoints, unless
                                                  checkpoint_every says */

/* Where a parameter got its value. */
typedef enum { ISW_SRC_DEFAULT, ISW_SRC_FIXED, ISW_SRC_GRID, ISW_SRC_ZIP } isw_source;

typedef struct {
    int line, col; /* 1-based; 0 when not from the file */
} isw_loc;

/* One varied parameter: its values along its dimension. */
typedef struct {
    int param;      /* index into the model's parameter table */
    double *values; /* [n] where n is its dimension's length */
    isw_loc loc;
} isw_axis;

/* A dimension of the grid: one grid axis, or one zip group of axes varied together. */
typedef struct {
    int64_t n;      /* length */
    int first_axis; /* its axes are axes[first_axis .. first_axis + n_axes) */
    int n_axes;
    int is_zip;
} isw_dim;

typedef struct {
    char *path;  /* as given, for messages */
    char *text;  /* the YAML text, NUL-terminated (stored in result files) */
    char *name;  /* `name:`, or the file's base name */
    const isw_model *model;
    uint64_t seed;
    int64_t replicates;
    int skip_invalid;
    int64_t max_tasks;
    double max_task_memory;     /* bytes: a task estimated above it refuses the sweep */
    int64_t checkpoint_every;   /* seconds: a running task is checkpointed at its first log point
                                   this long after its last checkpoint (0: at every log point) */
    isw_loc max_task_memory_loc;
    double task_memory;         /* the largest task's estimated peak bytes (model's memory hook) */
    int64_t task_memory_point;  /* ... and its grid point */

    double *base;       /* [n_params] fixed or default value of every parameter */
    isw_source *source; /* [n_params] */
    isw_loc *loc;       /* [n_params] where each was set (0:0 for defaults) */
    isw_loc model_loc;

    isw_axis *axes; /* [n_axes], each dimension's axes contiguous */
    int n_axes;
    isw_dim *dims; /* [n_dims], first dimension varies slowest */
    int n_dims;

    int64_t n_points;       /* product of the dimension lengths */
    int64_t n_valid;        /* points that pass the model's constraints */
    int64_t *valid;         /* [n_valid] point indices, or NULL when every point is valid */
    int64_t n_tasks;        /* n_valid * replicates */
    int *canon_order;       /* [n_params] parameter indices sorted by name (identity text) */
} isw_sweep;

/* One task of a sweep, resolved. */
typedef struct {
    int64_t index;     /* 0 .. n_tasks-1: point-major, replicate fastest */
    int64_t point;     /* grid point (index before skip_invalid) */
    int64_t replicate; /* 0 .. replicates-1 */
    uint64_t key;      /* identity: hash of canonical parameters + replicate */
    uint64_t seed;     /* derived from the sweep seed and key */
} isw_task;

/* Reads and validates the sweep file at path. max_tasks > 0 overrides the file's max_tasks.
 * path must name a regular file (a FIFO, device, socket or directory is refused without blocking),
 * or be "-" to read standard input to its end (messages then say <stdin>, the default name is
 * "stdin"). On success *sw owns its memory (free with isw_sweep_free). On failure returns
 * ISW_EINPUT (or ISW_EINTERNAL) with "path:line:col: key: what was found, what was expected" in
 * err (text from the file escaped for the terminal), and *sw is left empty. */
isw_status isw_sweep_load(const char *path, int64_t max_tasks, isw_sweep *sw, isw_error *err);

/* As isw_sweep_load, from text[len] in memory; `path` names it in messages ("-" shows as
 * <stdin>). */
isw_status isw_sweep_parse(const char *text, long len, const char *path, int64_t max_tasks,
                           isw_sweep *sw, isw_error *err);

void isw_sweep_free(isw_sweep *sw);

/* Values of every parameter at grid point `point`: vals[n_params]. */
void isw_sweep_point_values(const isw_sweep *sw, int64_t point, double *vals);

/* Resolves task t (0 <= t < n_tasks) into *task and its parameter values vals[n_params]. */
void isw_sweep_task(const isw_sweep *sw, int64_t t, isw_task *task, double *vals);

/* Identity of a task of `model` with parameter values vals[n_params] and replicate r. order is
 * the name-sorted parameter order (sw->canon_order). */
uint64_t isw_task_identity(const isw_model *model, const int *order, const double *vals,
                           int64_t replicate);

/* The canonical text hashed into a task identity, into buf[size]; returns its length. */
int isw_task_canon_text(const isw_model *model, const int *order, const double *vals,
                        int64_t replicate, char *buf, int size);

/* Relative cost of one task at point `point` (the model's estimate). */
double isw_sweep_point_cost(const isw_sweep *sw, int64_t point);

#endif
