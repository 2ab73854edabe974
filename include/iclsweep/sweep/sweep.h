/* `iclsweep run`: one MPI job over a sweep (README "Using it"; docs/architecture.md).
 *
 * With one rank, that rank runs every task itself. With more, rank 0 is the master (it hands out
 * tasks longest-first and waits without spinning) and the others are workers (each trains one task
 * at a time and writes its rows into the shared result file). Results do not depend on the number
 * of ranks or the order of dispatch: a task's numbers depend only on its parameters and seed. */
#ifndef ICLSWEEP_SWEEP_H
#define ICLSWEEP_SWEEP_H

#include <stdint.h>

#include "iclsweep/core/error.h"

/* How progress is shown: a live line redrawn in place (someone is watching), plain lines (a log
 * file), or nothing. auto (which the caller resolves, isw_sweep_run never sees it) chooses live
 * when a person is at a terminal: stderr is one, or this rank runs under a launcher (mpirun
 * forwards stderr through a pipe) that was itself started from a terminal; batch jobs have no
 * terminal and get plain lines. The names, in this order, are the values of `iclsweep run
 * --progress`. */
typedef enum { ISW_PROGRESS_AUTO, ISW_PROGRESS_LIVE, ISW_PROGRESS_PLAIN, ISW_PROGRESS_NONE } isw_progress_mode;
#define ISW_PROGRESS_MODE_NAMES {"auto", "live", "plain", "none"}

/* The orders a run can hand out work in: coarse-to-fine (the default: long tasks first within a
 * factor 2, then replicate 0 of every point before replicate 1, points in a low-discrepancy order,
 * so that any prefix maps the whole grid), or longest-first by estimated cost (the shortest
 * makespan when only the end matters). The names, in this order, are the values of --order. */
typedef enum { ISW_ORDER_COARSE, ISW_ORDER_LONGEST } isw_order;
#define ISW_ORDER_NAMES {"coarse", "longest"}
#define ISW_N_ORDERS 2

#define ISW_MAX_FROM 64 /* --from files at most */

/* What a run tells the person who launched it. The sweep layer prints nothing: it hands each line
 * (without a newline) to the caller's reporter, which decides how each kind is shown. */
typedef enum {
    ISW_SAY_NOTE,     /* news of the run: created, grew, copied, how it ended */
    ISW_SAY_WARNING,  /* trouble that does not stop the run (a rank's own failure, a bad report) */
    ISW_SAY_LIVE,     /* the progress line, to be redrawn in place */
    ISW_SAY_LIVE_END, /* the progress line for the last time: redraw it and end the line */
    ISW_SAY_LINE      /* a line of progress or summary, shown as it is */
} isw_say_kind;

typedef struct {
    void (*say)(void *ctx, isw_say_kind kind, const char *line); /* NULL: say nothing */
    void *ctx;
} isw_reporter;

typedef struct {
    const char *sweep_path; /* the sweep file (or, with sweep_text, what to call it in messages) */
    const char *out_path;   /* the result file */
    int resume;             /* continue out_path (start it if missing): run only what is not done */
    int retry_failed;       /* with resume: run failed tasks again (diverged ones are results) */
    int force;              /* overwrite an existing out_path */
    int quiet;              /* no progress output nor messages, errors aside */
    isw_progress_mode progress; /* how progress is shown when not quiet */
    int64_t max_tasks;      /* > 0: overrides the sweep's max_tasks */
    const char *from[ISW_MAX_FROM]; /* result files whose finished tasks are copied, not rerun */
    int n_from;
    int shard_k, shard_n;   /* run shard k of n (1 <= k <= n); n = 0: the whole sweep */
    const char *sweep_text; /* the sweep as text (merge: from the shards), instead of sweep_path's file */
    int no_train;           /* merge: create and copy, train nothing */
    double deadline;        /* Unix time the run must have ended by (0: none; see deadline.h) */
    double deadline_margin; /* seconds kept free before it for closing the file */
    isw_order order;        /* dispatch order */
    double checkpoint_every; /* seconds between a running task's checkpoints (0: at every log
                                point); < 0: the sweep file's checkpoint_every */
    isw_reporter report;    /* where this rank's lines go */
} isw_run_opts;

/* Collective over MPI_COMM_WORLD (MPI must be initialised). Returns ISW_OK when every task is
 * done or diverged, ISW_ESTOPPED when a signal stopped it with work left, ISW_EFAILED when it
 * finished with failed tasks, or an error; every rank returns the same status. *print_error is set
 * when this rank should print err (rank 0 for shared errors, the rank itself for its own). */
isw_status isw_sweep_run(const isw_run_opts *opts, isw_error *err, int *print_error);

/* Installs the stop handlers (SIGUSR1, SIGTERM, SIGINT): the first sets the stop flag; later
 * SIGUSR1 and SIGTERM change nothing, a second SIGINT ends the process at once (default action). */
void isw_signals_install(void);
/* Nonzero once a stop signal has arrived, or the MPI launcher that started this rank is gone. */
int isw_stop_requested(void);
/* Whether the stop came from the launcher's death (the rank's parent, mpirun, is gone). */
int isw_launcher_gone(void);
/* Seconds a rank whose launcher died has to stop, checkpoint and close before it ends anyway. */
#define ISW_ORPHAN_GRACE_S 20
/* The first stop signal that arrived (SIGUSR1, SIGTERM, SIGINT), or 0. */
int isw_stop_signal(void);

#endif
