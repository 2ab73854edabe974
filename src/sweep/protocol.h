/* The master/worker protocol of `iclsweep run`, whole, in one place.
 *
 * Rank 0 is the master; every other rank is a worker. A worker asks for work by reporting (the
 * first report names no task); the master answers each report with one TASK message (a task
 * index, or ISW_NO_TASK: stop). While a worker trains, the master may send it ABORT (a signal
 * arrived at the master): the worker stops the task at its next log point. Every message is a
 * fixed-size struct of int64/double fields sent as MPI_BYTE (all ranks run the same binary). */
#ifndef ICLSWEEP_SWEEP_PROTOCOL_H
#define ICLSWEEP_SWEEP_PROTOCOL_H

#include <stdint.h>

typedef enum {
    ISW_TAG_REPORT = 101, /* worker -> master: isw_msg_report, "here is my result, give me work" */
    ISW_TAG_TASK = 102,   /* master -> worker: isw_msg_task, the next task or ISW_NO_TASK */
    ISW_TAG_ABORT = 103   /* master -> worker: isw_msg_task (ignored body), stop the task in hand */
} isw_tag;

#define ISW_NO_TASK (-1)

/* What happened to the task a worker reports on. */
typedef enum {
    ISW_OUTCOME_NONE = 0,     /* first report: no task yet */
    ISW_OUTCOME_FINISHED = 1, /* done, failed or diverged: its row and state are in the file */
    ISW_OUTCOME_STOPPED = 2   /* stopped (a signal, ABORT, the deadline, the launcher gone); its state was
                                 set back to pending, its checkpoint kept */
} isw_outcome;

typedef struct {
    int64_t task;    /* task index, or ISW_NO_TASK with ISW_OUTCOME_NONE */
    int64_t outcome; /* isw_outcome */
    int64_t state;   /* isw_task_state written for the task (done, failed, diverged) */
    double wall_s;   /* wall time of this attempt */
    double work;     /* fraction of the task's steps this attempt trained (the deadline learns from it) */
} isw_msg_report;

typedef struct {
    int64_t task;     /* task index, or ISW_NO_TASK */
    int64_t attempts; /* the attempt this will be (1 = first run), for /tasks/attempts */
} isw_msg_task;

#endif
