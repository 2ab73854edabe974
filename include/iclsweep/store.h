/* The result file: one parallel HDF5 file per sweep (DESIGN.md section 4).
 *
 * Every dataset is created collectively at its final size when the sweep starts (the grid is
 * known), contiguous and never chunked, so after creation no metadata changes: each worker writes
 * its own rows with independent MPI-IO, which go straight to the file. Durability order for a row:
 * trajectories and final metrics first, then wall time and step, status last, so a job killed at
 * any instant never leaves a row that says done without its data.
 *
 * Layout (T tasks, S log points):
 *   /                 attrs: format, sweep (YAML text), spec_hash, name, model, seed, n_tasks,
 *                     n_log_points, iclsweep_version, git_commit, mpi_version, hdf5_version,
 *                     blas_version, created
 *   /tasks/<param>    [T] every model parameter (int64, float64, or string for choices)
 *   /tasks/{replicate, seed, key, point, cost, status, attempts, rank, wall_s, steps_done, error}
 *   /traj/step        [S] int64, or [T, S] padded with -1 when schedules differ across tasks
 *   /traj/<metric>    [T, S] float64, NaN past the last logged point of a task
 *   /final/<metric>   [T] float64 */
#ifndef ICLSWEEP_STORE_H
#define ICLSWEEP_STORE_H

#include <mpi.h>
#include <stdint.h>

#include "iclsweep/error.h"
#include "iclsweep/spec.h"
#include "iclsweep/train.h"

#define ISW_STORE_FORMAT "iclsweep/1"
#define ISW_STORE_ERROR_LEN 96 /* bytes of /tasks/error, NUL included */

/* Values of /tasks/status (an HDF5 enum over uint8 with these names). */
typedef enum {
    ISW_TASK_PENDING = 0,
    ISW_TASK_RUNNING = 1,
    ISW_TASK_DONE = 2,
    ISW_TASK_FAILED = 3,
    ISW_TASK_DIVERGED = 4
} isw_task_state;
#define ISW_TASK_N_STATES 5
const char *isw_task_state_name(int state);

typedef struct isw_store isw_store;

/* Collective over comm: creates path (truncating it) with every dataset at its final size and the
 * per-task columns written. The caller has checked that overwriting is allowed. */
isw_status isw_store_create(const char *path, const isw_sweep *sw, const isw_trainer *tr,
                            MPI_Comm comm, isw_store **out, isw_error *err);

/* Collective over comm: opens an existing result file for writing (resume). The caller checks
 * that it belongs to the same sweep (isw_store_check_same). */
isw_status isw_store_open(const char *path, const isw_sweep *sw, const isw_trainer *tr,
                          MPI_Comm comm, isw_store **out, isw_error *err);

/* Reads the sweep YAML text stored in path (serial, any process); *text is malloc'd. */
isw_status isw_store_read_sweep_text(const char *path, char **text, isw_error *err);

/* Serial, before opening for resume: refuses (ISW_EINPUT) a file that is not an iclsweep result,
 * whose creation never finished, or that was made for another model, number of tasks or sweep
 * seed, naming the first differing line of the sweep text. On success, *stored_text (if not
 * NULL) receives the file's sweep text (malloc'd). */
isw_status isw_store_check_header(const char *path, const isw_sweep *sw, char **stored_text,
                                  isw_error *err);

/* Refuses (ISW_EINPUT) a store whose tasks are not the tasks of sw (compares identities row by
 * row), naming the first differing line between stored_text and sw's text. */
isw_status isw_store_check_same(isw_store *st, const isw_sweep *sw, const char *stored_text,
                                isw_error *err);

/* Reads /tasks/status and /tasks/attempts into status[T] and attempts[T] (independent). */
isw_status isw_store_read_states(isw_store *st, uint8_t *status, uint8_t *attempts, isw_error *err);

/* Marks task t running, with its attempt count and rank (independent). */
isw_status isw_store_mark_running(isw_store *st, int64_t t, int attempts, int rank, isw_error *err);

/* Writes task t's results and then its state (independent). traj is [n_traj, S] (NaN-padded),
 * final is [n_final]; error is the short reason for failed or diverged rows ("" otherwise). */
isw_status isw_store_write_result(isw_store *st, int64_t t,
                                  const double *traj,  /* [n_traj, S] */
                                  const double *final, /* [n_final] */
                                  int state, double wall_s, int64_t steps_done, const char *error,
                                  isw_error *err);

/* Sets the state of task t alone (a stopped task going back to pending). */
isw_status isw_store_set_state(isw_store *st, int64_t t, int state, isw_error *err);

/* Log points per task row (S). */
int64_t isw_store_log_points(const isw_store *st);

/* Collective: closes the file, flushing it. Frees st. */
isw_status isw_store_close(isw_store *st, isw_error *err);

/* The per-task bookkeeping of a result file, read serially (works while a sweep writes it). */
typedef struct {
    int64_t T;
    char *name, *model;
    uint8_t *status; /* [T] isw_task_state */
    double *wall_s;  /* [T] */
    double *cost;    /* [T] */
    int32_t *rank;   /* [T] */
    char *error;     /* [T, ISW_STORE_ERROR_LEN] */
} isw_store_table;

isw_status isw_store_read_table(const char *path, isw_store_table *tab, isw_error *err);
void isw_store_table_free(isw_store_table *tab);

#endif
