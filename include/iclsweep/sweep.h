/* `iclsweep run`: one MPI job over a sweep (DESIGN.md sections 2 and 5).
 *
 * With one rank, that rank runs every task itself. With more, rank 0 is the master (it hands out
 * tasks longest-first and waits without spinning) and the others are workers (each trains one task
 * at a time and writes its rows into the shared result file). Results do not depend on the number
 * of ranks or the order of dispatch: a task's numbers depend only on its parameters and seed. */
#ifndef ICLSWEEP_SWEEP_H
#define ICLSWEEP_SWEEP_H

#include <stdint.h>

#include "iclsweep/error.h"

/* How progress is shown: a live line redrawn in place (someone is watching), plain lines (a log
 * file), or nothing. auto chooses live when a person is at a terminal: stderr is one, or this
 * rank runs under a launcher (mpirun forwards stderr through a pipe) that was itself started from
 * a terminal; batch jobs have no terminal and get plain lines. The names, in this order, are the
 * values of `iclsweep run --progress`. */
typedef enum { ISW_PROGRESS_AUTO, ISW_PROGRESS_LIVE, ISW_PROGRESS_PLAIN, ISW_PROGRESS_NONE } isw_progress_mode;
#define ISW_PROGRESS_MODE_NAMES {"auto", "live", "plain", "none"}

typedef struct {
    const char *sweep_path; /* the sweep file */
    const char *out_path;   /* the result file */
    int resume;             /* continue out_path: run only what is not done */
    int retry_failed;       /* with resume: run failed and diverged tasks again */
    int force;              /* overwrite an existing out_path */
    int quiet;              /* no progress output nor messages, errors aside */
    isw_progress_mode progress; /* how progress is shown when not quiet */
    int64_t max_tasks;      /* > 0: overrides the sweep's max_tasks */
} isw_run_opts;

/* Collective over MPI_COMM_WORLD (MPI must be initialised). Returns ISW_OK when every task is
 * done, ISW_ESTOPPED when a signal stopped it with work left, ISW_EFAILED when it finished with
 * failed or diverged tasks, or an error; every rank returns the same status. *print_error is set
 * when this rank should print err (rank 0 for shared errors, the rank itself for its own). */
isw_status isw_sweep_run(const isw_run_opts *opts, isw_error *err, int *print_error);

/* Installs the stop handlers (SIGUSR1, SIGTERM, SIGINT): the first sets the stop flag, a second
 * of any kind ends the process at once (default action). */
void isw_signals_install(void);
/* Nonzero once a stop signal has arrived. */
int isw_stop_requested(void);

#endif
