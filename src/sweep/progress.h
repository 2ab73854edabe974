/* Progress of a sweep, printed by rank 0 on stderr: a live line on a terminal, otherwise (Slurm
 * logs) a plain line at most every ISW_PROGRESS_LOG_S seconds, and a summary at the end. */
#ifndef ICLSWEEP_SWEEP_PROGRESS_H
#define ICLSWEEP_SWEEP_PROGRESS_H

#include <stdint.h>

#include "iclsweep/sweep/sweep.h"

#define ISW_PROGRESS_LOG_S 10.0
#define ISW_PROGRESS_TTY_S 0.25

/* The mode auto stands for in this process: ISW_PROGRESS_LIVE or ISW_PROGRESS_PLAIN. */
isw_progress_mode isw_progress_detect(void);

typedef struct {
    int quiet, tty;
    double start, last;
    int64_t total;     /* tasks this run will attempt */
    int64_t finished;  /* of those: finished this run (done, failed or diverged) */
    int64_t failed, diverged;
    int64_t already;   /* done before this run (resume) */
} isw_progress;

double isw_now(void); /* monotonic seconds */
void isw_progress_start(isw_progress *p, isw_progress_mode mode, int64_t total, int64_t already);
/* Prints if it is time (force: now). */
void isw_progress_tick(isw_progress *p, int force);
void isw_progress_finish(isw_progress *p, const char *what);

#endif
