/* `iclsweep run`: set-up, the master loop, the worker loop and the one-rank loop.
 *
 * Workload: 1 to 10^6 tasks of milliseconds to hours each, on 1 to a few hundred ranks. The master
 * therefore keeps only a few bytes per task (state, attempts, the dispatch order), answers each
 * report at once, and otherwise sleeps in short, growing naps between MPI_Test calls: a blocking
 * receive would spin a core in common MPI builds, and a worker never waits more than one nap.
 *
 * Set-up is collective and agreed: rank 0 reads the sweep file and decides whether the output may
 * be created or resumed; every rank parses the same text, so every rank has the same grid. */
#include <math.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>

#include "iclsweep/spec.h"
#include "iclsweep/store.h"
#include "iclsweep/sweep.h"
#include "iclsweep/train.h"
#include "progress.h"
#include "protocol.h"

#define NAP_MIN_NS 20000L    /* 20 us: right after a message, answer the next one quickly */
#define NAP_MAX_NS 2000000L  /* 2 ms: when idle, wake 500 times a second at most */

/* Everything a rank needs to run tasks. */
typedef struct {
    isw_sweep sw;
    const isw_trainer *tr;
    isw_store *store;
    int rank, size;
    MPI_Comm comm;
    /* one task's buffers, allocated once */
    double *vals;  /* [n_params] */
    void *cfg;     /* the model's config struct */
    double *traj;  /* [n_traj, S] */
    double *final; /* [n_final] */
    int64_t S;
} runner;

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
        for (int m = 0; m < r->tr->n_traj; m++) r->traj[(size_t)m * (size_t)r->S + (size_t)index] = values[m];
    (void)step;
    if (isw_stop_requested()) return 1;
    if (ctx->check_master) {
        int flag = 0;
        MPI_Iprobe(0, ISW_TAG_ABORT, r->comm, &flag, MPI_STATUS_IGNORE);
        if (flag) return 1;
    }
    return 0;
}

/* Trains task t (attempt number `attempts`) and writes its row. *outcome says whether it finished
 * or was stopped, *state what was written. Returns an error only when the file cannot be written. */
static isw_status run_task(runner *r, int64_t t, int attempts, int check_master, isw_outcome *outcome,
                           int *state, double *wall, isw_error *err) {
    const isw_model_info *m = r->sw.model;
    isw_task task;
    isw_sweep_task(&r->sw, t, &task, r->vals);
    isw_params_to_cfg(m->params, m->n_params, r->vals, r->cfg);
    isw_status st = isw_store_mark_running(r->store, t, attempts, r->rank, err);
    if (st) return st;
    for (int64_t i = 0; i < (int64_t)r->tr->n_traj * r->S; i++) r->traj[i] = NAN;
    for (int i = 0; i < r->tr->n_final; i++) r->final[i] = NAN;
    log_ctx ctx = {r, check_master};
    isw_log_sink sink = {.ctx = &ctx, .on_log = keep_log_point};
    isw_train_result res;
    memset(&res, 0, sizeof res);
    isw_error terr;
    isw_error_clear(&terr);
    double t0 = isw_now();
    isw_status trc = r->tr->train(r->cfg, task.seed, &sink, r->final, &res, &terr);
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

typedef struct {
    const double *cost; /* [n_valid] cost per valid point */
    int64_t replicates;
} order_ctx;

static order_ctx sort_ctx; /* qsort has no context argument in C11 */

static int by_cost_desc(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    double cx = sort_ctx.cost[x / sort_ctx.replicates], cy = sort_ctx.cost[y / sort_ctx.replicates];
    if (cx != cy) return cx < cy ? 1 : -1;
    return (x > y) - (x < y);
}

/* Fills queue[*n] with the tasks to run, longest estimated first. status[T] from the file. */
static isw_status build_queue(const runner *r, const uint8_t *status, int retry_failed, int64_t *queue,
                              int64_t *n, isw_error *err) {
    const isw_sweep *sw = &r->sw;
    double *cost = isw_malloc((size_t)sw->n_valid * sizeof *cost, err);
    if (!cost) return ISW_EINTERNAL;
    for (int64_t k = 0; k < sw->n_valid; k++) cost[k] = isw_sweep_point_cost(sw, sw->valid ? sw->valid[k] : k);
    *n = 0;
    for (int64_t t = 0; t < sw->n_tasks; t++) {
        int s = status[t];
        int run = s == ISW_TASK_PENDING || s == ISW_TASK_RUNNING ||
                  (retry_failed && (s == ISW_TASK_FAILED || s == ISW_TASK_DIVERGED));
        if (run) queue[(*n)++] = t;
    }
    sort_ctx.cost = cost;
    sort_ctx.replicates = sw->replicates;
    qsort(queue, (size_t)*n, sizeof *queue, by_cost_desc);
    free(cost);
    return ISW_OK;
}

/* ---- one rank --------------------------------------------------------------------------------- */

static isw_status run_alone(runner *r, const int64_t *queue, int64_t n, uint8_t *status,
                            uint8_t *attempts, isw_progress *pg, isw_error *err) {
    for (int64_t q = 0; q < n && !isw_stop_requested(); q++) {
        int64_t t = queue[q];
        isw_outcome outcome;
        int state;
        double wall;
        isw_status st = run_task(r, t, attempts[t] + 1, 0, &outcome, &state, &wall, err);
        if (st) return st;
        attempts[t]++;
        status[t] = (uint8_t)state;
        if (outcome == ISW_OUTCOME_FINISHED) {
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

/* Answers the report of worker src with its next task, or ISW_NO_TASK. */
static void answer(runner *r, master_state *ms, int src, const int64_t *queue, int64_t n, int64_t *next,
                   const uint8_t *attempts) {
    isw_msg_task msg = {ISW_NO_TASK, 0};
    if (!ms->stopping && *next < n) {
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
    if (t != ms->busy[src] || t < 0 || t >= r->sw.n_tasks) {
        fprintf(stderr, "iclsweep: master: ignoring a report from rank %d about task %lld (it holds %lld)\n",
                src, (long long)t, (long long)ms->busy[src]);
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

static isw_status run_master(runner *r, const int64_t *queue, int64_t n, uint8_t *status,
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
        if (isw_stop_requested() && !ms.stopping) {
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

static isw_status run_worker(runner *r, isw_error *err) {
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
            fprintf(stderr, "iclsweep: rank %d: %s\n", r->rank, err->msg);
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

/* ---- set-up ------------------------------------------------------------------------------------- */

/* Rank 0 reads the sweep text (from the sweep file); every rank receives it and parses it. */
static isw_status load_sweep(runner *r, const isw_run_opts *o, isw_error *err) {
    long len = 0;
    char *text = NULL;
    isw_status st = ISW_OK;
    if (r->rank == 0) {
        isw_sweep probe;
        st = isw_sweep_load(o->sweep_path, o->max_tasks, &probe, err);
        if (!st) {
            len = (long)strlen(probe.text);
            text = probe.text;
            probe.text = NULL;
            isw_sweep_free(&probe);
        }
    }
    MPI_Bcast(&st, 1, MPI_INT, 0, r->comm);
    if (st) {
        free(text);
        MPI_Bcast(err, sizeof *err, MPI_BYTE, 0, r->comm);
        return st;
    }
    MPI_Bcast(&len, 1, MPI_LONG, 0, r->comm);
    if (r->rank != 0) text = malloc((size_t)len + 1);
    int ok = text != NULL, all_ok = 0;
    MPI_Allreduce(&ok, &all_ok, 1, MPI_INT, MPI_MIN, r->comm);
    if (!all_ok) {
        free(text);
        return isw_fail(err, ISW_EINTERNAL, "out of memory receiving the sweep");
    }
    MPI_Bcast(text, (int)len + 1, MPI_CHAR, 0, r->comm);
    st = isw_sweep_parse(text, len, o->sweep_path, o->max_tasks, &r->sw, err);
    free(text);
    return st;
}

static int file_exists(const char *path) {
    struct stat sb;
    return stat(path, &sb) == 0;
}

/* Rank 0 decides whether the output may be created or resumed; all ranks get the verdict. */
static isw_status check_output(runner *r, const isw_run_opts *o, isw_error *err) {
    isw_status st = ISW_OK;
    if (r->rank == 0) {
        int exists = file_exists(o->out_path);
        if (o->resume && !exists)
            st = isw_fail(err, ISW_EINPUT, "%s: no such result file to resume (drop --resume to start it)", o->out_path);
        else if (!o->resume && exists && !o->force)
            st = isw_fail(err, ISW_EINPUT, "%s already exists; refusing to overwrite it (use --resume to "
                          "continue it, or --force to start over)", o->out_path);
        else if (o->retry_failed && !o->resume)
            st = isw_fail(err, ISW_EINPUT, "--retry-failed goes with --resume");
        else if (o->resume && o->force)
            st = isw_fail(err, ISW_EINPUT, "--resume and --force contradict each other; choose one");
    }
    MPI_Bcast(&st, 1, MPI_INT, 0, r->comm);
    if (st) MPI_Bcast(err, sizeof *err, MPI_BYTE, 0, r->comm);
    return st;
}

/* Opens or creates the store, and on resume checks it holds this sweep (rank 0 reads, all agree). */
static isw_status open_store(runner *r, const isw_run_opts *o, isw_error *err) {
    isw_status st = ISW_OK;
    if (o->resume) {
        char *stored = NULL;
        if (r->rank == 0) st = isw_store_check_header(o->out_path, &r->sw, &stored, err);
        MPI_Bcast(&st, 1, MPI_INT, 0, r->comm);
        if (!st) st = isw_store_open(o->out_path, &r->sw, r->tr, r->comm, &r->store, err);
        else MPI_Bcast(err, sizeof *err, MPI_BYTE, 0, r->comm);
        if (!st && r->rank == 0) st = isw_store_check_same(r->store, &r->sw, stored, err);
        free(stored);
        if (r->store) {
            MPI_Bcast(&st, 1, MPI_INT, 0, r->comm);
            if (st) MPI_Bcast(err, sizeof *err, MPI_BYTE, 0, r->comm);
        }
        return st;
    }
    double t0 = isw_now();
    st = isw_store_create(o->out_path, &r->sw, r->tr, r->comm, &r->store, err);
    if (!st && r->rank == 0 && !o->quiet)
        fprintf(stderr, "iclsweep: created %s (%lld tasks x %lld log points) in %.2f s\n", o->out_path,
                (long long)r->sw.n_tasks, (long long)isw_store_log_points(r->store), isw_now() - t0);
    return st;
}

static isw_status alloc_buffers(runner *r, isw_error *err) {
    r->S = isw_store_log_points(r->store);
    r->vals = isw_malloc((size_t)r->sw.model->n_params * sizeof *r->vals, err);
    r->cfg = isw_calloc(1, r->sw.model->cfg_size, err);
    r->traj = isw_malloc((size_t)r->tr->n_traj * (size_t)r->S * sizeof *r->traj, err);
    r->final = isw_malloc(((size_t)r->tr->n_final + 1) * sizeof *r->final, err);
    return r->vals && r->cfg && r->traj && r->final ? ISW_OK : ISW_EINTERNAL;
}

/* CPU seconds this process has used (user + system). */
static double cpu_seconds(void) {
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0) return 0;
    return (double)ru.ru_utime.tv_sec + 1e-6 * (double)ru.ru_utime.tv_usec +
           (double)ru.ru_stime.tv_sec + 1e-6 * (double)ru.ru_stime.tv_usec;
}

/* What rank 0 cost while dispatching (a master must not burn a core while it waits), from
 * cpu0 = cpu_seconds() at the start of dispatch, and its peak memory. */
static void report_master_usage(const isw_progress *pg, double cpu0, int is_master) {
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0) return;
    double cpu = cpu_seconds() - cpu0, wall = isw_now() - pg->start;
    fprintf(stderr, "iclsweep: rank 0 (%s): %.3f s CPU over %.2f s of dispatch (%.1f%% of a core), "
            "peak memory %.1f MB\n", is_master ? "master" : "trainer", cpu, wall,
            wall > 0 ? 100.0 * cpu / wall : 0.0, (double)ru.ru_maxrss / 1024.0);
}

/* Rank 0's part: read states, order the work, run it (alone or as master), count the outcome. */
static isw_status lead(runner *r, const isw_run_opts *o, isw_error *err) {
    int64_t T = r->sw.n_tasks;
    uint8_t *status = isw_malloc((size_t)T, err), *attempts = isw_malloc((size_t)T, err);
    int64_t *queue = isw_malloc((size_t)T * sizeof *queue, err);
    isw_status st = status && attempts && queue ? ISW_OK : ISW_EINTERNAL;
    if (!st && o->resume) st = isw_store_read_states(r->store, status, attempts, err);
    if (!st && !o->resume) {
        memset(status, ISW_TASK_PENDING, (size_t)T);
        memset(attempts, 0, (size_t)T);
    }
    int64_t n = 0;
    if (!st) st = build_queue(r, status, o->retry_failed, queue, &n, err);
    isw_progress pg;
    int64_t already = 0;
    for (int64_t t = 0; !st && t < T; t++) already += status[t] == ISW_TASK_DONE;
    isw_progress_start(&pg, o->quiet ? ISW_PROGRESS_NONE : o->progress, n, already);
    double cpu0 = cpu_seconds();
    if (!st && !o->quiet)
        fprintf(stderr, "iclsweep: %s: %lld tasks, %lld to run (%lld already done), %d rank%s%s\n",
                r->sw.name, (long long)T, (long long)n, (long long)already, r->size, r->size > 1 ? "s" : "",
                r->size > 1 ? " (1 master)" : "");
    if (!st) st = r->size == 1 ? run_alone(r, queue, n, status, attempts, &pg, err)
                               : run_master(r, queue, n, status, attempts, &pg, err);
    if (st == ISW_OK) {
        int64_t counts[ISW_TASK_N_STATES] = {0};
        for (int64_t t = 0; t < T; t++) counts[status[t] < ISW_TASK_N_STATES ? status[t] : 0]++;
        isw_progress_finish(&pg, r->sw.name);
        if (!o->quiet) report_master_usage(&pg, cpu0, r->size > 1);
        int64_t left = counts[ISW_TASK_PENDING] + counts[ISW_TASK_RUNNING];
        if (left > 0 && isw_stop_requested())
            st = isw_fail(err, ISW_ESTOPPED, "stopped by a signal: %lld of %lld tasks left; continue with "
                          "iclsweep run %s -o %s --resume", (long long)left, (long long)T, o->sweep_path, o->out_path);
        else if (left > 0)
            st = isw_fail(err, ISW_ESTOPPED, "%lld of %lld tasks left undone; continue with --resume",
                          (long long)left, (long long)T);
        else if (counts[ISW_TASK_FAILED] + counts[ISW_TASK_DIVERGED] > 0)
            st = isw_fail(err, ISW_EFAILED, "finished with %lld failed and %lld diverged of %lld tasks "
                          "(`iclsweep status %s`; --resume --retry-failed reruns them)",
                          (long long)counts[ISW_TASK_FAILED], (long long)counts[ISW_TASK_DIVERGED],
                          (long long)T, o->out_path);
        else if (!o->quiet)
            fprintf(stderr, "iclsweep: all %lld tasks done; results in %s\n", (long long)T, o->out_path);
    }
    free(status);
    free(attempts);
    free(queue);
    return st;
}

isw_status isw_sweep_run(const isw_run_opts *o, isw_error *err, int *print_error) {
    runner r;
    memset(&r, 0, sizeof r);
    r.comm = MPI_COMM_WORLD;
    MPI_Comm_rank(r.comm, &r.rank);
    MPI_Comm_size(r.comm, &r.size);
    *print_error = r.rank == 0;
    isw_signals_install();
    isw_status st = check_output(&r, o, err);
    if (!st) st = load_sweep(&r, o, err);
    if (!st && !(r.tr = isw_trainer_find(r.sw.model->name)))
        st = isw_fail(err, ISW_EINTERNAL, "model %s cannot be trained by this build", r.sw.model->name);
    if (!st) st = open_store(&r, o, err);
    if (!st) {
        st = alloc_buffers(&r, err);
        int bad = st != ISW_OK, any = 0;
        MPI_Allreduce(&bad, &any, 1, MPI_INT, MPI_MAX, r.comm);
        if (any && !st) st = isw_fail(err, ISW_EINTERNAL, "another rank ran out of memory");
        if (!st) st = r.rank == 0 ? lead(&r, o, err) : run_worker(&r, err);
    }
    if (r.store) {
        /* Collective: every rank that opened the store closes it, whatever happened since. */
        isw_error cerr;
        if (isw_store_close(r.store, &cerr) != ISW_OK && !st) {
            *err = cerr;
            st = cerr.code;
        }
        r.store = NULL;
        /* Every rank exits with rank 0's verdict, so mpirun and srun report it; a worker's own
         * failure was printed by that worker. */
        MPI_Bcast(&st, 1, MPI_INT, 0, r.comm);
        MPI_Bcast(err, sizeof *err, MPI_BYTE, 0, r.comm);
    }
    free(r.vals);
    free(r.cfg);
    free(r.traj);
    free(r.final);
    isw_sweep_free(&r.sw);
    return st;
}
