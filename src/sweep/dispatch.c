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

/* ---- running one task (workers, and the single rank) ---------------------------------------- */

typedef struct {
    runner *r;
    int check_master; /* a worker also listens for ABORT from the master */
} log_ctx;

/* Log point callback: keeps the values in the task's trajectory buffer; asks to stop when a
 * signal arrived here or the master sent ABORT. */
static int keep_log_point(void *vctx, int64_t index, int64_t step, const double *values) {
    log_ctx *ctx = vctx;
    runner *r = ctx->r;
    if (index >= 0 && index < r->S)
        for (int m = 0; m < r->model->n_traj; m++) r->traj[(size_t)m * (size_t)r->S + (size_t)index] = values[m];
    (void)step;
    if (isw_stop_requested()) return 1;
    if (!ctx->check_master && isw_deadline_passed(&r->deadline)) return 1; /* one rank: its own deadline */
    if (ctx->check_master) {
        int flag = 0;
        MPI_Iprobe(0, ISW_TAG_ABORT, r->comm, &flag, MPI_STATUS_IGNORE);
        if (flag) return 1;
    }
    return 0;
}

/* Fault injection for the tests: with ICLSWEEP_FAIL_TASK=t in the environment, the first attempt
 * at task t fails as a trainer that ran out of memory would, so the failed-task paths (exit 4,
 * status, --retry-failed) can be driven on purpose. */
static int injected_task_failure(int64_t t, int attempts) {
    const char *v = getenv("ICLSWEEP_FAIL_TASK");
    return v && *v && attempts == 1 && atoll(v) == t;
}

/* Trains task t (attempt number `attempts`) and writes its row. *outcome says whether it finished
 * or was stopped, *state what was written. Returns an error only when the file cannot be written. */
static isw_status run_task(runner *r, int64_t t, int attempts, int check_master, isw_outcome *outcome,
                           int *state, double *wall, isw_error *err) {
    const isw_model *m = r->sw.model;
    isw_task task;
    isw_sweep_task(&r->sw, sweep_row_task(r, t), &task, r->vals);
    isw_params_to_cfg(m->params, m->n_params, r->vals, r->cfg);
    isw_status st = isw_store_mark_running(r->store, t, attempts, r->rank, err);
    if (st) return st;
    for (int64_t i = 0; i < (int64_t)r->model->n_traj * r->S; i++) r->traj[i] = NAN;
    for (int i = 0; i < r->model->n_final; i++) r->final[i] = NAN;
    log_ctx ctx = {r, check_master};
    isw_log_sink sink = {.ctx = &ctx, .on_log = keep_log_point};
    isw_train_result res;
    memset(&res, 0, sizeof res);
    isw_error terr;
    isw_error_clear(&terr);
    double t0 = isw_now();
    isw_status trc = injected_task_failure(t, attempts)
                         ? isw_fail(&terr, ISW_EINTERNAL, "injected failure (ICLSWEEP_FAIL_TASK)")
                         : r->model->train(r->cfg, task.seed, &sink, r->final, &res, &terr);
    *wall = isw_now() - t0;
    if (trc == ISW_OK && res.status == ISW_TRAIN_STOPPED) {
        *outcome = ISW_OUTCOME_STOPPED;
        *state = ISW_TASK_PENDING;
        return isw_store_set_state(r->store, t, ISW_TASK_PENDING, err);
    }
    *outcome = ISW_OUTCOME_FINISHED;
    const char *why = "";
    if (trc != ISW_OK) {
        /* The trainer itself failed (out of memory, ...): the task fails, the sweep goes on. */
        *state = ISW_TASK_FAILED;
        why = terr.msg;
    } else if (res.status == ISW_TRAIN_DIVERGED) {
        *state = ISW_TASK_DIVERGED;
        why = res.reason;
    } else {
        *state = ISW_TASK_DONE;
    }
    return isw_store_write_result(r->store, t, r->traj, r->final, *state, *wall, res.step, why, err);
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

/* ---- one rank --------------------------------------------------------------------------------- */

isw_status sweep_run_alone(runner *r, int64_t *queue, int64_t n, uint8_t *status,
                            uint8_t *attempts, isw_progress *pg, isw_error *err) {
    for (int64_t q = 0; q < n && !isw_stop_requested(); q++) {
        if (!isw_deadline_fits(&r->deadline, r->cost[queue[q]])) continue; /* a shorter one may fit */
        int64_t t = queue[q];
        isw_outcome outcome;
        int state;
        double wall;
        isw_status st = run_task(r, t, attempts[t] + 1, 0, &outcome, &state, &wall, err);
        if (st) return st;
        attempts[t]++;
        status[t] = (uint8_t)state;
        if (outcome == ISW_OUTCOME_FINISHED) {
            isw_deadline_learn(&r->deadline, r->cost[t], wall);
            pg->finished++;
            pg->failed += state == ISW_TASK_FAILED;
            pg->diverged += state == ISW_TASK_DIVERGED;
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
        if (isw_deadline_fits(&r->deadline, r->cost[queue[j]])) {
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
    if (rep->outcome == ISW_OUTCOME_STOPPED) {
        status[t] = ISW_TASK_PENDING;
        ms->stopping = 1; /* a worker saw a stop signal: stop handing out work */
        if (rep->state < 0) ms->broken = 1;
        return 1;
    }
    status[t] = (uint8_t)rep->state;
    isw_deadline_learn(&r->deadline, r->cost[t], rep->wall_s);
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
    isw_msg_report rep = {ISW_NO_TASK, ISW_OUTCOME_NONE, 0, 0};
    isw_status failure = ISW_OK;
    for (;;) {
        MPI_Send(&rep, sizeof rep, MPI_BYTE, 0, ISW_TAG_REPORT, r->comm);
        isw_msg_task msg;
        wait_for_task(r, &msg);
        if (msg.task == ISW_NO_TASK) break;
        isw_outcome outcome;
        int state = 0;
        double wall = 0;
        rep.task = msg.task;
        isw_status st = run_task(r, msg.task, (int)msg.attempts, 1, &outcome, &state, &wall, err);
        if (st) {
            /* This rank cannot write the file: hand the task back and take no more. */
            sweep_say(r, ISW_SAY_WARNING, "rank %d: %s", r->rank, err->msg);
            failure = st;
            outcome = ISW_OUTCOME_STOPPED;
            state = -1;
        }
        rep.outcome = outcome;
        rep.state = state;
        rep.wall_s = wall;
    }
    drain_aborts(r);
    return failure;
}
