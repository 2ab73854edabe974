/* What the parts of `iclsweep run` share (private to src/sweep): the runner, and the steps each
 * part provides. run.c leads (set-up, then dispatch, then the verdict), setup.c makes every rank
 * agree on the sweep and the result file, dispatch.c hands out and trains the tasks. */
#ifndef ICLSWEEP_SWEEP_RUN_INT_H
#define ICLSWEEP_SWEEP_RUN_INT_H

#include <mpi.h>
#include <stdint.h>

#include "iclsweep/spec/spec.h"
#include "iclsweep/store/store.h"
#include "iclsweep/sweep/owner.h"
#include "iclsweep/sweep/sweep.h"
#include "iclsweep/train/model.h"
#include "deadline.h"
#include "layout.h"
#include "progress.h"

/* Everything a rank needs to run tasks. */
typedef struct {
    isw_sweep sw;
    const isw_model *model; /* sw's model */
    isw_layout layout; /* the result file's layout for sw */
    isw_store *store;
    int rank, size;
    int reopen; /* continue an existing file (--resume on a file that exists) */
    char out[4200]; /* the file the run writes: the output path, a symbolic link resolved */
    unsigned long long out_dev, out_ino; /* rank 0: the existing output's identity when checked (0: none) */
    isw_owner owner; /* rank 0: the result file, held for this run alone */
    isw_deadline deadline; /* rank 0: the job's end */
    double *cost;    /* rank 0: [T] estimated cost of each row's task */
    MPI_Comm comm;
    const isw_reporter *report; /* where this rank's lines go (the caller's; say may be NULL) */
    /* one task's buffers, allocated once */
    double *vals;  /* [n_params] */
    void *cfg;     /* the model's config struct */
    double *traj;  /* [n_traj, S] */
    double *final; /* [n_final] */
    int64_t S;
} runner;

/* Hands one line of kind `kind` to the caller's reporter (nothing when there is none). */
void sweep_say(const runner *r, isw_say_kind kind, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* The sweep's task of result row t (a shard's rows are a part of the sweep's tasks). */
static inline int64_t sweep_row_task(const runner *r, int64_t t) { return r->layout.tasks ? r->layout.tasks[t] : t; }

/* ---- setup.c (each step collective, and ending in agreement) ---- */

/* Every rank gets the same verdict: ISW_OK when st is ISW_OK everywhere, else the status and
 * message of the lowest rank that failed. */
isw_status sweep_agree(runner *r, isw_status st, isw_error *err);
/* Refuses a mis-launched job (Slurm started several one-rank copies). */
isw_status sweep_check_launch(const runner *r, isw_error *err);
/* Rank 0 decides whether the output may be created or continued, and takes it; sets r->reopen. */
isw_status sweep_check_output(runner *r, const isw_run_opts *o, isw_error *err);
/* Rank 0 reads the sweep; every rank parses the same text into r->sw. */
isw_status sweep_load(runner *r, const isw_run_opts *o, isw_error *err);
/* Creates, resumes or grows the result file into r->store. */
isw_status sweep_open_store(runner *r, const isw_run_opts *o, isw_error *err);
/* One task's buffers. */
isw_status sweep_alloc_buffers(runner *r, isw_error *err);

/* ---- dispatch.c ---- */

/* Fills queue[*n] with the rows to run (status[T] from the file), in dispatch order. */
isw_status sweep_build_queue(const runner *r, const uint8_t *status, int retry_failed, isw_order order,
                             int64_t *queue, int64_t *n, isw_error *err);
/* Runs queue[n] on this one rank, updating status and attempts [T] and the progress. */
isw_status sweep_run_alone(runner *r, int64_t *queue, int64_t n, uint8_t *status, uint8_t *attempts,
                           isw_progress *pg, isw_error *err);
/* Rank 0 of several: hands queue[n] out to the workers until it is done or a stop. */
isw_status sweep_run_master(runner *r, int64_t *queue, int64_t n, uint8_t *status, uint8_t *attempts,
                            isw_progress *pg, isw_error *err);
/* Ranks 1..: train what the master hands out until it says there is no more. */
isw_status sweep_run_worker(runner *r, isw_error *err);

#endif
