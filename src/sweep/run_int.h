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
#include "checkpoint.h"
#include "deadline.h"
#include "layout.h"
#include "progress.h"
#include "protocol.h"

/* Everything a rank needs to run tasks. */
typedef struct {
    isw_sweep sw;
    const isw_model *model; /* sw's model */
    isw_layout layout; /* the result file's layout for sw */
    isw_store *store;
    int rank, size;
    int reopen; /* continue an existing file (--resume on a file that exists) */
    int created; /* this run made the file new (not resumed, not grown) */
    char out[4200]; /* the file the run writes: the output path, a symbolic link resolved */
    unsigned long long out_dev, out_ino; /* rank 0: the existing output's identity when checked (0: none) */
    isw_owner owner; /* rank 0: the result file, held for this run alone */
    isw_deadline deadline; /* rank 0: the job's end */
    double *cost;    /* rank 0: [T] estimated cost of each row's task */
    double *left;    /* rank 0: [T] fraction of each row's task still to train (checkpoints) */
    isw_ckpt_dir ckpt;  /* the checkpoint folder */
    double ckpt_every;  /* seconds between a task's checkpoints */
    unsigned char *ckpt_buf; /* a packed checkpoint [ckpt_cap] */
    size_t ckpt_cap;
    MPI_Comm comm;
    const isw_reporter *report; /* where this rank's lines go (the caller's; say may be NULL) */
    /* one task's buffers, allocated once */
    double *vals;  /* [n_params] */
    void *cfg;     /* the model's config struct */
    double *traj;  /* [n_traj, S] */
    double *final; /* [n_final] */
    int64_t *steps; /* [S] the task's log steps */
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

/* ---- task.c ---- */

/* What running one task on this rank came to. */
typedef struct {
    isw_outcome outcome; /* finished (its row and state are in the file) or stopped */
    int state;           /* the isw_task_state written */
    double wall;         /* this attempt's wall time */
    double work;         /* the fraction of the task's steps this attempt trained (the deadline learns
                            from it) */
} task_outcome;

/* Trains row t (attempt number `attempts`) on this rank, from its checkpoint if it has one, and
 * writes its row (finished) or sets it back to pending (stopped, with a checkpoint). check_master:
 * a worker, which also stops on the master's ABORT. Returns an error only when the file cannot be
 * written. */
isw_status sweep_run_task(runner *r, int64_t t, int attempts, int check_master, task_outcome *out, isw_error *err);

/* ---- dispatch.c ---- */

/* Fills queue[*n] with the rows to run (status[T] from the file), in dispatch order. */
isw_status sweep_build_queue(const runner *r, const uint8_t *status, int retry_failed, isw_order order,
                             int64_t *queue, int64_t *n, isw_error *err);
/* Rank 0: r->left[T] from each row's checkpoint step ckpt_step[T] (-1: none). */
isw_status sweep_init_left(runner *r, const int64_t *ckpt_step, isw_error *err);
/* Whether row t's task may start now with the deadline (the part of it left to train must fit,
 * or, with checkpoints, its next log point must come before the stop). */
int sweep_task_fits(runner *r, int64_t t);
/* Runs queue[n] on this one rank, updating status and attempts [T] and the progress. */
isw_status sweep_run_alone(runner *r, int64_t *queue, int64_t n, uint8_t *status, uint8_t *attempts,
                           isw_progress *pg, isw_error *err);
/* Rank 0 of several: hands queue[n] out to the workers until it is done or a stop. */
isw_status sweep_run_master(runner *r, int64_t *queue, int64_t n, uint8_t *status, uint8_t *attempts,
                            isw_progress *pg, isw_error *err);
/* Ranks 1..: train what the master hands out until it says there is no more. */
isw_status sweep_run_worker(runner *r, isw_error *err);

#endif
