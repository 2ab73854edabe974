/* `iclsweep run`, the dispatch: the one-rank loop, the master loop and the worker loop
 * (run_int.h; the messages in protocol.h).
 *
 * Workload: 1 to 10^6 tasks of milliseconds to hours each, on 1 to a few hundred ranks. The master
 * therefore keeps only a few bytes per task (state, attempts, the dispatch order), answers each
 * report at once, and otherwise sleeps in short, growing naps between MPI_Test calls: a blocking
 * receive would spin a core in common MPI builds, and a worker never waits more than one nap. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "iclsweep/sweep/order.h"
#include "protocol.h"
#include "run_int.h"

#define NAP_MIN_NS 20000L    /* 20 us: right after a message, answer the next one quickly */
#define NAP_MAX_NS 2000000L  /* 2 ms: when idle, wake 500 times a second at most */

static void nap(long *ns) {
    struct timespec ts = {0, *ns};
    nanosleep(&ts, NULL);
    *ns = *ns * 2 > NAP_MAX_NS ? NAP_MAX_NS : *ns * 2;
}

/* ---- the dispatch order ---------------------------------------------------------------------- */

/* Fills queue[*n] with the rows to run, in dispatch order (order.h). status[T] from the file. */
isw_status sweep_build_queue(const runner *r, const uint8_t *status, int retry_failed, isw_order order, int64_t *queue,
                              int64_t *n, isw_error *err) {
    *n = 0;
    for (int64_t t = 0; t < r->layout.lay.T; t++) {
        int s = status[t];
        if (s == ISW_TASK_PENDING || s == ISW_TASK_RUNNING || (retry_failed && s == ISW_TASK_FAILED)) queue[(*n)++] = t;
    }
    return isw_order_rows(&r->sw, order, r->layout.tasks, queue, *n, err);
}

/* ---- the deadline ----------------------------------------------------------------------------- */

/* Row t's log points and last step (r->cfg, r->vals and r->steps are rank 0's to use between
 * tasks). */
static int64_t row_schedule(runner *r, int64_t t, int64_t *last_step) {
    isw_task task;
    isw_sweep_task(&r->sw, sweep_row_task(r, t), &task, r->vals);
    isw_params_to_cfg(r->model->params, r->model->n_params, r->vals, r->cfg);
    int64_t n = r->model->log_steps(r->cfg, r->steps);
    *last_step = n > 0 ? r->steps[n - 1] : 0;
    return n;
}

isw_status sweep_init_left(runner *r, const int64_t *ckpt_step, isw_error *err) {
    int64_t T = r->layout.lay.T;
    if (!(r->left = isw_malloc((size_t)T * sizeof *r->left + 1, err))) return ISW_EINTERNAL;
    for (int64_t t = 0; t < T; t++) {
        r->left[t] = 1.0;
        if (ckpt_step[t] < 0) continue;
        int64_t last;
        row_schedule(r, t, &last);
        r->left[t] = 1.0 - fmin(1.0, (double)(ckpt_step[t] + 1) / ((double)last + 1));
    }
    return ISW_OK;
}

int sweep_task_fits(runner *r, int64_t t) {
    if (r->deadline.stop <= 0) return 1;
    int64_t last, n_log = row_schedule(r, t, &last);
    /* With checkpoints, a task that reaches a log point before the stop keeps what it trained. */
    return isw_deadline_fits(&r->deadline, r->cost[t] * r->left[t], n_log > 1 ? r->cost[t] / (double)(n_log - 1) : 0);
}

/* Learns from an attempt at row t, and what is left of it. */
static void learn(runner *r, int64_t t, const task_outcome *o) {
    isw_deadline_learn(&r->deadline, r->cost[t] * o->work, o->wall);
    if (o->outcome == ISW_OUTCOME_FINISHED) r->left[t] = 0;
    else r->left[t] = fmax(0.0, r->left[t] - o->work);
}

/* ---- one rank --------------------------------------------------------------------------------- */

isw_status sweep_run_alone(runner *r, int64_t *queue, int64_t n, uint8_t *status,
                            uint8_t *attempts, isw_progress *pg, isw_error *err) {
    for (int64_t q = 0; q < n && !isw_stop_requested(); q++) {
        int64_t t = queue[q];
        if (!sweep_task_fits(r, t)) continue; /* a shorter one may fit */
        task_outcome o;
        isw_status st = sweep_run_task(r, t, attempts[t] + 1, 0, &o, err);
        if (st) return st;
        attempts[t]++;
        status[t] = (uint8_t)o.state;
        learn(r, t, &o);
        if (o.outcome == ISW_OUTCOME_FINISHED) {
            pg->finished++;
            pg->failed += o.state == ISW_TASK_FAILED;
            pg->diverged += o.state == ISW_TASK_DIVERGED;
        }
        isw_progress_tick(pg, 0);
    }
    return ISW_OK;
}

/* ---- the master --------------------------------------------------------------------------------- */

typedef struct {
    int64_t *busy; /* [size] task in hand per rank, ISW_NO_TASK when none */
    int stopping;  /* no new work: a signal, or a worker stopped by one */
    int active;    /* workers not yet told to stop */
    int broken;    /* a worker could not write the file */
} master_state;

#define DEADLINE_LOOKAHEAD 4096 /* queued tasks searched for one short enough for the time left */

/* Moves the first of queue[*next..n) (searching DEADLINE_LOOKAHEAD) that fits the deadline to
 * queue[*next]; returns 0 when none does. Without a deadline every task fits. */
static int next_fitting(runner *r, int64_t *queue, int64_t n, int64_t next) {
    for (int64_t j = next; j < n && j < next + DEADLINE_LOOKAHEAD; j++)
        if (sweep_task_fits(r, queue[j])) {
            int64_t t = queue[j];
            queue[j] = queue[next];
            queue[next] = t;
            return 1;
        }
    return 0;
}

/* Answers the report of worker src with its next task, or ISW_NO_TASK. */
static void answer(runner *r, master_state *ms, int src, int64_t *queue, int64_t n, int64_t *next,
                   const uint8_t *attempts) {
    isw_msg_task msg = {ISW_NO_TASK, 0};
    if (!ms->stopping && *next < n && next_fitting(r, queue, n, *next)) {
        msg.task = queue[(*next)++];
        msg.attempts = attempts[msg.task] + 1;
    }
    ms->busy[src] = msg.task;
    if (msg.task == ISW_NO_TASK) ms->active--;
    MPI_Send(&msg, sizeof msg, MPI_BYTE, src, ISW_TAG_TASK, r->comm);
}

/* Records a worker's report; returns 0 if the report is malformed (ignored, logged). */
static int record(runner *r, master_state *ms, int src, const isw_msg_report *rep, uint8_t *status,
                  uint8_t *attempts, isw_progress *pg) {
    if (rep->outcome == ISW_OUTCOME_NONE) return ms->busy[src] == ISW_NO_TASK;
    int64_t t = rep->task;
    if (t != ms->busy[src] || t < 0 || t >= r->layout.lay.T) {
        sweep_say(r, ISW_SAY_WARNING, "master: ignoring a report from rank %d about task %lld (it holds %lld)", src,
                  (long long)t, (long long)ms->busy[src]);
        return 0;
    }
    attempts[t]++;
    task_outcome o = {(isw_outcome)rep->outcome, (int)rep->state, rep->wall_s, rep->work};
    learn(r, t, &o);
    if (rep->outcome == ISW_OUTCOME_STOPPED) {
        status[t] = ISW_TASK_PENDING;
        ms->stopping = 1; /* a worker saw a stop signal: stop handing out work */
        if (rep->state < 0) ms->broken = 1;
        return 1;
    }
    status[t] = (uint8_t)rep->state;
    pg->finished++;
    pg->failed += rep->state == ISW_TASK_FAILED;
    pg->diverged += rep->state == ISW_TASK_DIVERGED;
    return 1;
}

static void abort_busy_workers(runner *r, master_state *ms) {
    isw_msg_task msg = {ISW_NO_TASK, 0};
    for (int w = 1; w < r->size; w++)
        if (ms->busy[w] != ISW_NO_TASK) MPI_Send(&msg, sizeof msg, MPI_BYTE, w, ISW_TAG_ABORT, r->comm);
}

isw_status sweep_run_master(runner *r, int64_t *queue, int64_t n, uint8_t *status,
                             uint8_t *attempts, isw_progress *pg, isw_error *err) {
    master_state ms = {.active = r->size - 1};
    ms.busy = isw_malloc((size_t)r->size * sizeof *ms.busy, err);
    if (!ms.busy) return ISW_EINTERNAL;
    for (int w = 0; w < r->size; w++) ms.busy[w] = ISW_NO_TASK;
    int64_t next = 0;
    isw_msg_report rep;
    MPI_Request req;
    MPI_Irecv(&rep, sizeof rep, MPI_BYTE, MPI_ANY_SOURCE, ISW_TAG_REPORT, r->comm, &req);
    long ns = NAP_MIN_NS;
    while (ms.active > 0) {
        int flag = 0;
        MPI_Status mst;
        MPI_Test(&req, &flag, &mst);
        if (flag) {
            record(r, &ms, mst.MPI_SOURCE, &rep, status, attempts, pg);
            answer(r, &ms, mst.MPI_SOURCE, queue, n, &next, attempts);
            if (ms.active > 0) MPI_Irecv(&rep, sizeof rep, MPI_BYTE, MPI_ANY_SOURCE, ISW_TAG_REPORT, r->comm, &req);
            ns = NAP_MIN_NS;
            isw_progress_tick(pg, 0);
            continue;
        }
        if ((isw_stop_requested() || isw_deadline_passed(&r->deadline)) && !ms.stopping) {
            ms.stopping = 1;
            abort_busy_workers(r, &ms);
        }
        isw_progress_tick(pg, 0);
        nap(&ns);
    }
    free(ms.busy);
    if (ms.broken) return isw_fail(err, ISW_EINTERNAL, "a worker could not write the result file (see its message above)");
    return ISW_OK;
}

/* ---- a worker ------------------------------------------------------------------------------------ */

static void wait_for_task(runner *r, isw_msg_task *msg) {
    MPI_Request req;
    MPI_Irecv(msg, sizeof *msg, MPI_BYTE, 0, ISW_TAG_TASK, r->comm, &req);
    long ns = NAP_MIN_NS;
    for (;;) {
        int flag = 0;
        MPI_Test(&req, &flag, MPI_STATUS_IGNORE);
        if (flag) return;
        nap(&ns);
    }
}

/* Receives ABORT messages that arrived after their task finished, so none is left unmatched. */
static void drain_aborts(runner *r) {
    int flag = 1;
    while (flag) {
        MPI_Iprobe(0, ISW_TAG_ABORT, r->comm, &flag, MPI_STATUS_IGNORE);
        if (flag) {
            isw_msg_task msg;
            MPI_Recv(&msg, sizeof msg, MPI_BYTE, 0, ISW_TAG_ABORT, r->comm, MPI_STATUS_IGNORE);
        }
    }
}

isw_status sweep_run_worker(runner *r, isw_error *err) {
    isw_msg_report rep = {ISW_NO_TASK, ISW_OUTCOME_NONE, 0, 0, 0};
    isw_status failure = ISW_OK;
    for (;;) {
        MPI_Send(&rep, sizeof rep, MPI_BYTE, 0, ISW_TAG_REPORT, r->comm);
        isw_msg_task msg;
        wait_for_task(r, &msg);
        if (msg.task == ISW_NO_TASK) break;
        task_outcome o = {ISW_OUTCOME_NONE, 0, 0, 0};
        rep.task = msg.task;
        isw_status st = sweep_run_task(r, msg.task, (int)msg.attempts, 1, &o, err);
        if (st) {
            /* This rank cannot write the file: hand the task back and take no more. */
            sweep_say(r, ISW_SAY_WARNING, "rank %d: %s", r->rank, err->msg);
            failure = st;
            o.outcome = ISW_OUTCOME_STOPPED;
            o.state = -1;
        }
        rep.outcome = o.outcome;
        rep.state = o.state;
        rep.wall_s = o.wall;
        rep.work = o.work;
    }
    drain_aborts(r);
    return failure;
}
