/* Progress of a sweep, told by rank 0 to the caller's reporter: a live line (redrawn at most every
 * ISW_PROGRESS_TTY_S seconds) for someone watching, otherwise (Slurm logs) a plain line at most
 * every ISW_PROGRESS_LOG_S seconds, and a summary at the end. */
#ifndef ICLSWEEP_SWEEP_PROGRESS_H
#define ICLSWEEP_SWEEP_PROGRESS_H

#include <stdint.h>

#include "iclsweep/sweep/sweep.h"

#define ISW_PROGRESS_LOG_S 10.0
#define ISW_PROGRESS_TTY_S 0.25

typedef struct {
    const isw_reporter *report;
    int quiet, tty;
    double start, last;
    int64_t total;     /* tasks this run will attempt */
    int64_t finished;  /* of those: finished this run (done, failed or diverged) */
    int64_t failed, diverged;
    int64_t already;   /* done before this run (resume) */
} isw_progress;

double isw_now(void); /* monotonic seconds */
/* mode: LIVE, PLAIN or NONE (the caller resolved AUTO). */
void isw_progress_start(isw_progress *p, const isw_reporter *report, isw_progress_mode mode, int64_t total,
                        int64_t already);
/* Tells the progress if it is time (force: now). */
void isw_progress_tick(isw_progress *p, int force);
void isw_progress_finish(isw_progress *p, const char *what);

#endif
