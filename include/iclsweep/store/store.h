/* The result file: one parallel HDF5 file per sweep, format iclsweep/3 (docs/file-format.md).
 *
 * The store knows HDF5 and the file's layout, and nothing of sweep files or trainers: the sweep
 * layer hands it an isw_store_layout (task count, log points, the parameter and metric tables,
 * root attributes, and a callback that resolves any row's task). Every dataset is created
 * collectively at its final size when the sweep starts, so after creation no metadata changes and
 * each worker writes its own rows with independent MPI-IO. Durability order for a finished task:
 * /traj and /final rows first, then wall time, steps and error, status last, so a job killed at
 * any instant never leaves a row that says done without its data. */
#ifndef ICLSWEEP_STORE_H
#define ICLSWEEP_STORE_H

#include <math.h>
#include <mpi.h>
#include <stdint.h>

#include "iclsweep/core/error.h"
#include "iclsweep/core/metric.h"
#include "iclsweep/core/params.h"

/* The format this build writes and resumes, and the older ones it still reads (status, --from,
 * merge): iclsweep/2 lacks /theory, nothing else. */
#define ISW_STORE_FORMAT "iclsweep/3"
#define ISW_STORE_READ_FORMATS {ISW_STORE_FORMAT, "iclsweep/2"}
#define ISW_STORE_ERROR_LEN 96 /* bytes of /tasks/error, NUL included */

/* The task states, in the order of their values in /tasks/status (an HDF5 enum over uint8):
 * X(ENUM_SUFFIX, label). */
#define ISW_TASK_STATES(X) X(PENDING, pending) X(RUNNING, running) X(DONE, done) X(FAILED, failed) X(DIVERGED, diverged)

#define ISW_TASK_STATE_ENUM_(E, label) ISW_TASK_##E,
typedef enum { ISW_TASK_STATES(ISW_TASK_STATE_ENUM_) ISW_TASK_N_STATES } isw_task_state;
#undef ISW_TASK_STATE_ENUM_
/* The label of a state ("done"), or "unknown". */
const char *isw_task_state_name(int state);

typedef char isw_error_text[ISW_STORE_ERROR_LEN];

/* The per-task columns of /tasks besides the parameters, listed once. From these lists come the
 * row struct below, the table read back by isw_store_read_table, the datasets' creation, checks,
 * initial fill and `description`/`units` attributes.
 *
 * Identity columns, written once at creation from the task:
 *     X(name, C type, kind, units, description) */
#define ISW_TASK_ID_COLUMNS(X)                                                                     \
    X(replicate, int32_t, I32, "", "replicate index of the task at its grid point")              \
    X(key, uint64_t, U64, "",                                                                    \
      "the task's identity: hash of its model, its parameters as set (sorted by name) and its "  \
      "replicate")                                                                               \
    X(seed, uint64_t, U64, "", "the task's random seed, derived from the sweep seed and its key") \
    X(point, int64_t, I64, "",                                                                   \
      "index of the task's grid point (row-major over the dimensions of the grid attribute)")    \
    X(cost, double, F64, "flop", "the model's estimate of the task's cost")
/* Bookkeeping columns, written as tasks run: X(name, C type, kind, initial value, units,
 * description). Their initial values are also the padding convention of the file. */
#define ISW_TASK_STATE_COLUMNS(X)                                                                  \
    X(status, uint8_t, STATUS, ISW_TASK_PENDING, "", "pending, running, done, failed or diverged") \
    X(attempts, uint8_t, U8, 0, "", "times the task was started")                                \
    X(rank, int32_t, I32, -1, "", "MPI rank that last ran the task (-1: never run)")             \
    X(wall_s, double, F64, NAN, "s", "wall time of the last attempt (NaN: never finished)")      \
    X(steps_done, int64_t, I64, -1, "steps",                                                     \
      "last training step reached, the diverging step for diverged tasks (-1: never finished)")  \
    X(error, isw_error_text, TEXT, 0, "", "why the task failed or diverged (empty otherwise)")         \
    X(origin, int32_t, I32, -1, "",                                                              \
      "where the row's result came from: -1 trained into this file, k >= 0 copied from the k-th " \
      "file of the root attribute origins")                                                      \
    X(cpu_s, double, F64, NAN, "s",                                                              \
      "CPU time of the work the result is made of, over the attempts it resumed through (NaN: "  \
      "never finished)")                                                                         \
    X(peak_rss, double, F64, NAN, "B",                                                           \
      "peak resident memory of the process while it trained the task, largest over those "       \
      "attempts (NaN: never finished)")                                                          \
    X(resumes, int32_t, I32, 0, "", "times the task continued from a checkpoint")                \
    X(ckpt_step, int64_t, I64, -1, "steps",                                                      \
      "the step of the task's last checkpoint: /traj holds its log points up to there while it " \
      "is not finished (-1: none)")                                                              \
    X(checksum, uint64_t, U64, 0, "",                                                            \
      "checksum of the finished row's identity, parameters, state and data (its attribute covers " \
      "names what, in order); 0 until the task finishes")

/* State columns that files written before task checkpoints and checksums (iclsweep/2, and
 * iclsweep/3 of an earlier build) lack: their readers take them as holding their initial values
 * (a checksum of 0: none to check). */
#define ISW_TASK_COLUMNS_ADDED {"cpu_s", "peak_rss", "resumes", "ckpt_step", "checksum"}

/* One task's row as the sweep resolves it for the store. The store sets the pointers it wants
 * filled (others NULL) before each call. */
#define ISW_STORE_ROW_FIELD_(name, ctype, kind, units, doc) ctype name;
typedef struct {
    int64_t task;     /* the task's index in the sweep (the /task coordinate) */
    double *set;      /* [n_params] parameter values as set, or NULL */
    double *used;     /* [n_params] parameter values as used (derived ones resolved), or NULL */
    int64_t *steps;   /* [S] training step of each log point, -1 past the task's last, or NULL */
    double *theory;   /* [n_theory] the task's theory values (NaN where one does not apply), or NULL */
    ISW_TASK_ID_COLUMNS(ISW_STORE_ROW_FIELD_)
} isw_store_row;
#undef ISW_STORE_ROW_FIELD_

/* A root attribute: text (when text is not NULL) or a 64-bit integer. */
typedef struct {
    const char *name;
    const char *text;
    int64_t num;
} isw_store_attr;

/* Everything the store needs to create or check a file. */
typedef struct {
    int64_t T, S;                 /* rows (tasks) and log points per row */
    const isw_param_def *params;  /* [n_params] the model's parameter table: /tasks/<name> */
    int n_params;
    const unsigned char *derived; /* [n_params] 1: the model derives it; keep <name>_setting */
    const isw_metric_def *traj;   /* [n_traj] /traj/<name> [T, S] */
    int n_traj;
    const isw_metric_def *final;  /* [n_final] /final/<name> [T] */
    int n_final;
    const isw_metric_def *theory; /* [n_theory] /theory/<name> [T], written at creation */
    int n_theory;
    const isw_store_attr *attrs;  /* [n_attrs] root attributes: name, model, sweep, seed, ... */
    int n_attrs;
    const char *const *match;     /* root text attributes that a resume must find equal, NULL-ended */
    /* Resolves row t (0 <= t < T) into *row: the fields its non-NULL pointers ask for, and always
     * task and the identity columns. */
    void (*resolve_row)(void *ctx, int64_t t, isw_store_row *row);
    void *ctx;
} isw_store_layout;

typedef struct isw_store isw_store;

/* The size of lay's file in bytes (its datasets, plus a margin for metadata): what creating it
 * writes, so that a full disk can be refused before anything is written. */
double isw_store_bytes(const isw_store_layout *lay);

/* Collective over comm: creates path (truncating it) with every dataset at its final size, the
 * identity columns written, /traj NaN and /tasks/status pending, and marks it complete last. The
 * caller has checked that overwriting is allowed. */
isw_status isw_store_create(const char *path, const isw_store_layout *lay, MPI_Comm comm,
                            isw_store **out, isw_error *err);

/* Serial (one process, no MPI): refuses (ISW_EINPUT) a file that cannot be resumed with lay: not
 * a result of this build's format, creation unfinished, a root attribute of lay->match that differs, another
 * number of tasks or log points, or any dataset of the layout missing or of the wrong type, rank
 * or shape. The message names the file and what differs. */
isw_status isw_store_check_layout(const char *path, const isw_store_layout *lay, isw_error *err);

/* Collective over comm: opens a file that isw_store_check_layout accepted, for writing. */
isw_status isw_store_open(const char *path, const isw_store_layout *lay, MPI_Comm comm,
                          isw_store **out, isw_error *err);

/* Independent: compares /tasks/key row by row with lay's tasks; ISW_EINPUT naming the first row
 * that differs. */
isw_status isw_store_check_keys(isw_store *st, const isw_store_layout *lay, isw_error *err);

/* Reads /tasks/status and /tasks/attempts into status[T] and attempts[T] (independent). A status
 * value outside the enum is refused (ISW_EINPUT). */
isw_status isw_store_read_states(isw_store *st, uint8_t *status, uint8_t *attempts, isw_error *err);

/* Marks task row t running, with its attempt count and rank (independent). */
isw_status isw_store_mark_running(isw_store *st, int64_t t, int attempts, int rank, isw_error *err);

/* A finished task's bookkeeping, written with its row. */
typedef struct {
    double wall_s;      /* wall time of the work its result is made of (all attempts it resumed through) */
    double cpu_s;       /* CPU time of that work */
    double peak_rss;    /* bytes: the largest peak resident memory of those attempts */
    int32_t resumes;    /* times it continued from a checkpoint */
    int64_t steps_done; /* last step reached (the diverging step for diverged tasks) */
    const char *error;  /* the short reason for failed or diverged rows ("" otherwise) */
} isw_task_account;

/* Writes row t's results and then its state (independent), in the durability order above. traj
 * is [n_traj, S] (NaN-padded), final is [n_final]. */
isw_status isw_store_write_result(isw_store *st, int64_t t,
                                  const double *traj,  /* [n_traj, S] */
                                  const double *final, /* [n_final] */
                                  int state,
                                  const isw_task_account *acc,
                                  isw_error *err);

/* A running task's progress at a checkpoint (independent): its /traj rows so far (traj [n_traj,
 * S], NaN past the last log point kept), then /tasks/ckpt_step = the checkpoint's step. Written
 * after the checkpoint itself, so the file never shows more of a task than a checkpoint holds. */
isw_status isw_store_write_progress(isw_store *st, int64_t t, const double *traj /* [n_traj, S] */, int64_t ckpt_step,
                                    isw_error *err);

/* Reads /tasks/ckpt_step into ckpt_step[T] (independent). */
isw_status isw_store_read_ckpt_steps(isw_store *st, int64_t *ckpt_step, isw_error *err);
/* What an import did: rows copied, rows refused (finished in the source, but failing their
 * checksum there: they run here; the first ISW_IMPORT_SHOWN of their source rows listed), and
 * whether the source had checksums to check (an older format has none). */
#define ISW_IMPORT_SHOWN 8
typedef struct {
    int64_t copied, refused;
    int64_t refused_rows[ISW_IMPORT_SHOWN];
    int checked;
} isw_store_import_report;

/* Rank 0 alone, after creation (independent writes): copies into st every row of the result file
 * src whose task is a task of lay and is done or diverged there, whose checksum holds, and which
 * is not yet in st: its /traj and /final rows and its bookkeeping (attempts, rank, wall time,
 * steps, error, a checksum of the row in st, status last), with /tasks/origin = origin. src must
 * be a complete result of the same model, seed and data generator, with every metric of lay. */
isw_status isw_store_import(isw_store *st, const isw_store_layout *lay, const char *src, int origin,
                            isw_store_import_report *rep, isw_error *err);

/* The checksum row t of st carries once written with these results (traj [n_traj, S], final
 * [n_final]), state and steps_done (isw_store_write_result writes it; its identity and parameters
 * come from st's layout; docs/file-format.md says what it covers). Never 0. */
uint64_t isw_store_row_checksum(isw_store *st, int64_t t, const double *traj, const double *final, int state,
                                int64_t steps_done);

/* Why a finished (done or diverged) row is not trusted; ISW_ROW_OK when it is. */
typedef enum { ISW_ROW_OK, ISW_ROW_CHECKSUM, ISW_ROW_NO_CHECKSUM, ISW_ROW_PADDING } isw_row_fault;
/* The fault in words ("its data does not match its checksum ..."). */
const char *isw_row_fault_text(int fault);

/* Rank 0 alone, on a store opened for a resume (independent reads): checks the checksum of every
 * finished row (status[T], as read back) into bad[T] (an isw_row_fault each, 0 for rows not
 * finished); *n_bad counts the faults. */
isw_status isw_store_check_rows(isw_store *st, const uint8_t *status, uint8_t *bad, int64_t *n_bad, isw_error *err);

/* Rank 0 alone (independent writes): puts row t back as creation made it (its identity and
 * parameters from the layout, no results, pending), so that it runs again. */
isw_status isw_store_reset_row(isw_store *st, int64_t t, isw_error *err);

/* Sets the state of row t alone (a stopped task going back to pending). */
isw_status isw_store_set_state(isw_store *st, int64_t t, int state, isw_error *err);

/* Collective: closes the file, flushing it. Frees st (NULL is fine). */
isw_status isw_store_close(isw_store *st, isw_error *err);

/* ---- reading a file serially (status, merge, the resume header): works while a sweep writes it */

/* Reads every piece of metadata of path (objects, attributes, types, shapes, layouts) in a child
 * process, so that a crash of the HDF5 library on a crafted file is a refusal (ISW_EINPUT naming
 * the file) rather than a crash of the caller. Whoever reads a file that may be damaged or
 * crafted (status, a resume, merge, --from) probes it first; what the probe survived, the
 * readers below decode the same way. Must not be called with MPI in use by the child's work. */
isw_status isw_store_probe(const char *path, isw_error *err);
/* Seconds a probe may take (metadata only: a crafted file can make HDF5 loop forever), and a
 * whole status read (every column of up to 10^9 tasks). */
#define ISW_PROBE_SECONDS 120
#define ISW_STATUS_SECONDS 3600
/* The refusal of a file whose reading, in a child, died by signal sig (SIGALRM: took too long). */
isw_status isw_store_crashed(const char *path, int sig, isw_error *err);
/* The probe in this process (the fuzz harness, which wants the crash). */
isw_status isw_store_probe_here(const char *path, isw_error *err);

/* What a file that may be an unfinished creation is, read whatever its header says: the answers
 * (answer[ISW_PEEK_...], 0 or 1) and its spec_hash attribute ("" when it has none). */
enum { ISW_PEEK_ICLSWEEP, /* its root attribute format names an iclsweep format */
       ISW_PEEK_FINISHED, /* its creation finished (layout_complete is 1) */
       ISW_PEEK_RESULTS,  /* a row holds a result or was started (a status other than pending, or a
                           * finite /final value) */
       ISW_PEEK_N };
typedef struct {
    const char *path;
    int answer[ISW_PEEK_N];
    char spec_hash[32];
} isw_store_peek_info;
/* Looks at path in a child process (a crash of HDF5 is a refusal, as for isw_store_probe). An
 * unfinished creation that holds no results (iclsweep, not finished, no results) is what a run
 * --resume starts again. ISW_EINPUT when path is not an HDF5 file or holds links. */
isw_status isw_store_peek(const char *path, isw_store_peek_info *info, isw_error *err);
/* isw_store_peek in this process (status, which reads in a child already). */
isw_status isw_store_peek_here(const char *path, isw_store_peek_info *info, isw_error *err);

/* What a result file says of itself; text fields are malloc'd (free with isw_store_info_free). */
typedef struct {
    int64_t T, S, replicates;
    char *format; /* one of ISW_STORE_READ_FORMATS */
    char *name, *model, *seed, *generator, *sweep, *spec_hash, *grid;
    char *shard;   /* "K/N" for a shard of a sweep, "" for a whole sweep */
    char *origins; /* JSON: the files rows were copied from */
} isw_store_info;

/* Reads and checks the root attributes (each of the right type, scalar, and of sane size), that
 * the file holds no links, and that creation finished (the message then says whether the file is
 * an unfinished creation, holding no results, or a damaged one). ISW_EINPUT with the file and
 * attribute named otherwise. */
isw_status isw_store_read_info(const char *path, isw_store_info *info, isw_error *err);
void isw_store_info_free(isw_store_info *info);

/* The per-task columns of a result file, read whole and checked (type, shape, storage inside the
 * file, enum values, /task increasing) before use. Files of older formats are read too, the
 * columns they lack (ISW_TASK_COLUMNS_ADDED) at their initial values: a checksum of 0, none. */
#define ISW_STORE_TABLE_FIELD_(name, ctype, kind, ...) ctype *name; /* [T] */
typedef struct {
    isw_store_info info;
    int64_t *task; /* [T] the /task coordinate */
    ISW_TASK_ID_COLUMNS(ISW_STORE_TABLE_FIELD_)
    ISW_TASK_STATE_COLUMNS(ISW_STORE_TABLE_FIELD_)
} isw_store_table;
#undef ISW_STORE_TABLE_FIELD_

isw_status isw_store_read_table(const char *path, isw_store_table *tab, isw_error *err);
/* The last training step of each task of rows[n] (the largest of its /traj/step row) into
 * last[n], from a file isw_store_read_table read. */
isw_status isw_store_read_last_steps(const char *path, const int64_t *rows, int64_t n, int64_t *last,
                                     isw_error *err);
void isw_store_table_free(isw_store_table *tab);

/* Serial: checks the checksum of every finished row of path, whose table tab was read, into
 * bad[T] (an isw_row_fault each; 0 for rows not finished). *checked is 0 when the file has no
 * checksums (an older format: nothing to check, every bad[t] 0). ISW_EINPUT when the checksums
 * themselves cannot be read (the column or its covers attribute damaged). */
isw_status isw_store_verify(const char *path, const isw_store_table *tab, uint8_t *bad, int *checked, isw_error *err);

#endif
