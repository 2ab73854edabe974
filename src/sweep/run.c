/* `iclsweep run`: set-up, the master loop, the worker loop and the one-rank loop.
 *
 * Workload: 1 to 10^6 tasks of milliseconds to hours each, on 1 to a few hundred ranks. The master
 * therefore keeps only a few bytes per task (state, attempts, the dispatch order), answers each
 * report at once, and otherwise sleeps in short, growing naps between MPI_Test calls: a blocking
 * receive would spin a core in common MPI builds, and a worker never waits more than one nap.
 *
 * Set-up is collective and agreed: rank 0 reads the sweep file and decides whether the output may
 * be created or resumed; every rank parses the same text, so every rank has the same grid. */
#include <errno.h>
#include <math.h>
#include <mpi.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>

#include "iclsweep/core/isolate.h"
#include "iclsweep/core/keymap.h"
#include "iclsweep/sweep/owner.h"
#include "iclsweep/spec/spec.h"
#include "iclsweep/store/store.h"
#include "iclsweep/sweep/sweep.h"
#include "iclsweep/core/text.h"
#include "iclsweep/train/model.h"
#include "deadline.h"
#include "layout.h"
#include "iclsweep/sweep/order.h"
#include "progress.h"
#include "protocol.h"

#define NAP_MIN_NS 20000L    /* 20 us: right after a message, answer the next one quickly */
#define NAP_MAX_NS 2000000L  /* 2 ms: when idle, wake 500 times a second at most */

/* Everything a rank needs to run tasks. */
typedef struct {
    isw_sweep sw;
    const isw_model *tr;
    isw_layout layout; /* the result file's layout for sw */
    isw_store *store;
    int rank, size;
    int reopen; /* continue an existing file (--resume on a file that exists) */
    isw_owner owner; /* rank 0: the result file, held for this run alone */
    isw_deadline deadline; /* rank 0: the job's end */
    double *cost;    /* rank 0: [T] estimated cost of each row's task */
    MPI_Comm comm;
    /* one task's buffers, allocated once */
    double *vals;  /* [n_params] */
    void *cfg;     /* the model's config struct */
    double *traj;  /* [n_traj, S] */
    double *final; /* [n_final] */
    int64_t S;
} runner;

/* The sweep's task of result row t (a shard's rows are a part of the sweep's tasks). */
static int64_t row_task(const runner *r, int64_t t) { return r->layout.tasks ? r->layout.tasks[t] : t; }

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
    isw_sweep_task(&r->sw, row_task(r, t), &task, r->vals);
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
    isw_status trc = injected_task_failure(t, attempts)
                         ? isw_fail(&terr, ISW_EINTERNAL, "injected failure (ICLSWEEP_FAIL_TASK)")
                         : r->tr->train(r->cfg, task.seed, &sink, r->final, &res, &terr);
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
static isw_status build_queue(const runner *r, const uint8_t *status, int retry_failed, isw_order order, int64_t *queue,
                              int64_t *n, isw_error *err) {
    *n = 0;
    for (int64_t t = 0; t < r->layout.lay.T; t++) {
        int s = status[t];
        if (s == ISW_TASK_PENDING || s == ISW_TASK_RUNNING || (retry_failed && s == ISW_TASK_FAILED)) queue[(*n)++] = t;
    }
    return isw_order_rows(&r->sw, order, r->layout.tasks, queue, *n, err);
}

/* ---- one rank --------------------------------------------------------------------------------- */

static isw_status run_alone(runner *r, int64_t *queue, int64_t n, uint8_t *status,
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

static isw_status run_master(runner *r, int64_t *queue, int64_t n, uint8_t *status,
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

/* Makes every rank return the same verdict: ISW_OK when st is ISW_OK everywhere, otherwise the
 * status and message of the lowest rank that failed. Every step of set-up ends here, so a failure
 * on one rank (a file rank 0 alone reads, an allocation) reaches all of them instead of leaving
 * the others waiting in a later collective call. */
static isw_status agree(runner *r, isw_status st, isw_error *err) {
    int mine = st != ISW_OK ? r->rank : r->size, first = r->size;
    MPI_Allreduce(&mine, &first, 1, MPI_INT, MPI_MIN, r->comm);
    if (first == r->size) return ISW_OK;
    if (r->rank == first && err->code == ISW_OK) err->code = st;
    MPI_Bcast(err, sizeof *err, MPI_BYTE, first, r->comm);
    return err->code;
}

/* Rank 0 reads the sweep text (from the sweep file); every rank receives it and parses it. */
static isw_status load_sweep(runner *r, const isw_run_opts *o, isw_error *err) {
    long len = 0;
    char *text = NULL;
    isw_status st = ISW_OK;
    if (r->rank == 0) {
        isw_sweep probe;
        st = o->sweep_text ? isw_sweep_parse(o->sweep_text, (long)strlen(o->sweep_text), o->sweep_path, o->max_tasks,
                                             &probe, err)
                           : isw_sweep_load(o->sweep_path, o->max_tasks, &probe, err);
        if (!st) {
            len = (long)strlen(probe.text);
            text = probe.text;
            probe.text = NULL;
            isw_sweep_free(&probe);
        }
    }
    if ((st = agree(r, st, err))) {
        free(text);
        return st;
    }
    MPI_Bcast(&len, 1, MPI_LONG, 0, r->comm);
    if (r->rank != 0 && !(text = malloc((size_t)len + 1)))
        st = isw_fail(err, ISW_EINTERNAL, "rank %d: out of memory receiving the sweep", r->rank);
    if ((st = agree(r, st, err))) {
        free(text);
        return st;
    }
    MPI_Bcast(text, (int)len + 1, MPI_CHAR, 0, r->comm);
    st = isw_sweep_parse(text, len, o->sweep_path, o->max_tasks, &r->sw, err);
    free(text);
    return st;
}

/* Refuses an output that is not a regular file (a device, FIFO, socket or folder), or that is the
 * sweep file itself under any spelling of its path. *exists says whether it is there. */
static isw_status check_output_kind(const isw_run_opts *o, int *exists, isw_error *err) {
    struct stat out, in;
    *exists = stat(o->out_path, &out) == 0;
    if (!*exists) return ISW_OK;
    if (!S_ISREG(out.st_mode))
        return isw_fail(err, ISW_EINPUT, "%s is not a regular file (a %s); the result file must be a regular "
                        "file or a new path", o->out_path, S_ISDIR(out.st_mode) ? "folder" : S_ISFIFO(out.st_mode)
                        ? "FIFO" : S_ISCHR(out.st_mode) || S_ISBLK(out.st_mode) ? "device" : S_ISSOCK(out.st_mode)
                        ? "socket" : "special file");
    if (stat(o->sweep_path, &in) == 0 && in.st_dev == out.st_dev && in.st_ino == out.st_ino)
        return isw_fail(err, ISW_EINPUT, "%s is the sweep file itself; refusing to write the results over it "
                        "(name another output with -o)", o->out_path);
    return ISW_OK;
}

/* A mis-launched job: Slurm started several tasks for this step, but MPI sees one rank (srun and
 * this MPI disagree on PMI, so N separate copies would each run the whole sweep on one file). */
static isw_status check_launch(const runner *r, isw_error *err) {
    const char *n = getenv("SLURM_STEP_NUM_TASKS");
    if (r->size != 1 || !n || atoi(n) <= 1) return ISW_OK;
    return isw_fail(err, ISW_EINPUT, "Slurm started %d tasks for this step, but MPI sees a single rank in each: "
                    "srun and this MPI do not agree on how to start (PMI), and every copy would run the whole "
                    "sweep. Launch with srun --mpi=pmix (srun --mpi=list shows the choices) or with mpirun", atoi(n));
}

/* Rank 0 decides whether the output may be created or continued (--resume on a file that is
 * not there starts it, so a job script is one line whatever happened before); all ranks get the
 * verdict, and r->reopen. */
static isw_status check_output(runner *r, const isw_run_opts *o, isw_error *err) {
    isw_status st = ISW_OK;
    int exists = 0;
    if (r->rank == 0) {
        st = check_output_kind(o, &exists, err);
        /* Taken before anything reads, truncates or writes the file, and held to the end. */
        if (!st) st = isw_owner_take(&r->owner, o->out_path, err);
        if (st) {
        } else if (!o->resume && exists && !o->force)
            st = isw_fail(err, ISW_EINPUT, "%s already exists; refusing to overwrite it (use --resume to "
                          "continue it, or --force to start over)", o->out_path);
        else if (o->retry_failed && !o->resume)
            st = isw_fail(err, ISW_EINPUT, "--retry-failed goes with --resume");
        else if (o->resume && o->force)
            st = isw_fail(err, ISW_EINPUT, "--resume and --force contradict each other; choose one");
    }
    if ((st = agree(r, st, err))) return st;
    r->reopen = o->resume && exists;
    MPI_Bcast(&r->reopen, 1, MPI_INT, 0, r->comm);
    return ISW_OK;
}

/* The first line where two texts differ, for a message; line numbers are 1-based. */
static void first_line_difference(const char *a, const char *b, char *buf, size_t size) {
    int line = 1;
    while (*a || *b) {
        size_t la = strcspn(a, "\n"), lb = strcspn(b, "\n");
        if (la != lb || strncmp(a, b, la) != 0) {
            snprintf(buf, size, "line %d: '%.*s' in the file's sweep vs '%.*s' now", line,
                     (int)(la > 60 ? 60 : la), a, (int)(lb > 60 ? 60 : lb), b);
            return;
        }
        a += la + (a[la] == '\n');
        b += lb + (b[lb] == '\n');
        line++;
    }
    snprintf(buf, size, "the end");
}

/* Adds to a refusal of the output what differs between its sweep text and this sweep's. */
static void explain_difference(const runner *r, const char *path, isw_error *err) {
    isw_store_info info;
    isw_error ignored;
    if (isw_store_read_info(path, &info, &ignored) != ISW_OK) return;
    char diff[256];
    size_t len = strlen(err->msg);
    if (strcmp(info.sweep, r->sw.text) != 0) {
        first_line_difference(info.sweep, r->sw.text, diff, sizeof diff);
        snprintf(err->msg + len, sizeof err->msg - len, "; first difference at %s. Resume with the original "
                 "sweep file, or write to a new file", diff);
    }
    isw_store_info_free(&info);
}

/* Refuses to create a file of `bytes` where the file system has less room (creation writes
 * every byte of it, so a run that has made its file never runs out of space for it). */
static isw_status check_space(const char *path, double bytes, isw_error *err) {
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (!slash) snprintf(dir, sizeof dir, ".");
    else if (slash == dir) dir[1] = '\0';
    else *slash = '\0';
    struct statvfs fs;
    if (statvfs(dir, &fs) != 0) return ISW_OK; /* creation will say what is wrong with the folder */
    double avail = (double)fs.f_bavail * (double)fs.f_frsize;
    struct stat sb;
    if (stat(path, &sb) == 0) avail += (double)sb.st_size; /* --force frees the old file */
    if (bytes <= avail) return ISW_OK;
    return isw_fail(err, ISW_EINPUT, "%s: the result file needs %.1f MB and its file system has %.1f MB free; "
                    "free some space or write it elsewhere", path, bytes / 1e6, avail / 1e6);
}

/* Rank 0: whether the file at path, which this sweep cannot resume as it is, can grow into it:
 * same model, seed and generator, and every result in it (a done or diverged task) is a task of
 * this sweep, so that nothing is lost when the grown file replaces it. */
static int can_grow(runner *r, const char *path) {
    const isw_store_layout *lay = &r->layout.lay;
    isw_store_table tab;
    isw_error ignored;
    if (isw_store_read_table(path, &tab, &ignored) != ISW_OK) return 0;
    int ok = 1;
    for (const char *const *m = lay->match; *m; m++) {
        const char *have = !strcmp(*m, "model") ? tab.info.model : !strcmp(*m, "seed") ? tab.info.seed
                         : !strcmp(*m, "generator") ? tab.info.generator : NULL;
        for (int i = 0; have && i < lay->n_attrs; i++)
            if (lay->attrs[i].text && !strcmp(lay->attrs[i].name, *m)) ok = ok && !strcmp(have, lay->attrs[i].text);
    }
    isw_keymap map;
    if (!ok || r->layout.shard[0] || isw_keymap_init(&map, lay->T, &ignored) != ISW_OK) {
        isw_store_table_free(&tab);
        return 0;
    }
    for (int64_t t = 0; t < lay->T; t++) {
        isw_store_row row;
        memset(&row, 0, sizeof row);
        lay->resolve_row(lay->ctx, t, &row);
        isw_keymap_put(&map, row.key, t);
    }
    for (int64_t t = 0; ok && t < tab.info.T; t++)
        if (tab.status[t] == ISW_TASK_DONE || tab.status[t] == ISW_TASK_DIVERGED)
            ok = isw_keymap_get(&map, tab.key[t]) >= 0;
    isw_keymap_free(&map);
    isw_store_table_free(&tab);
    return ok;
}

/* The origins attribute: the files rows are copied from, each with its sweep's hash. */
static isw_status origins_json(const char *const *files, int n, char **out, isw_error *err) {
    size_t cap = 64;
    for (int i = 0; i < n; i++) cap += 3 * strlen(files[i]) + 128;
    char *buf = isw_malloc(cap, err);
    if (!buf) return ISW_EINTERNAL;
    size_t len = (size_t)snprintf(buf, cap, "[");
    for (int i = 0; i < n; i++) {
        isw_store_info info;
        isw_status st = isw_store_read_info(files[i], &info, err);
        if (st) {
            free(buf);
            return st;
        }
        len += (size_t)snprintf(buf + len, cap - len, "%s{\"file\": \"", i ? ", " : "");
        for (const char *c = files[i]; *c && len + 8 < cap; c++) { /* a JSON string */
            if (*c == '"' || *c == '\\') buf[len++] = '\\';
            if ((unsigned char)*c < 0x20) len += (size_t)snprintf(buf + len, cap - len, "\\u%04x", *c);
            else buf[len++] = *c;
        }
        len += (size_t)snprintf(buf + len, cap - len, "\", \"spec_hash\": \"%.16s\"}", info.spec_hash);
        isw_store_info_free(&info);
    }
    snprintf(buf + len, cap - len, "]");
    *out = buf;
    return ISW_OK;
}

/* Creates path (collective), after checking there is room, and copies into it the finished rows
 * of the files in from[n] (rank 0); *copied counts them. */
static isw_status create_store(runner *r, const isw_run_opts *o, const char *path, const char *const *from, int n,
                               int64_t *copied, isw_error *err) {
    const isw_store_layout *lay = &r->layout.lay;
    isw_status st = ISW_OK;
    char *json = NULL;
    if (r->rank == 0) {
        for (int i = 0; !st && i < n; i++) st = isw_store_probe(from[i], err);
        if (!st) st = check_space(path, isw_store_bytes(lay), err);
        if (!st && n > 0) st = origins_json(from, n, &json, err);
    }
    if ((st = agree(r, st, err))) return st;
    long len = json ? (long)strlen(json) : 0;
    MPI_Bcast(&len, 1, MPI_LONG, 0, r->comm);
    if (len > 0) {
        if (r->rank != 0 && !(json = malloc((size_t)len + 1)))
            st = isw_fail(err, ISW_EINTERNAL, "out of memory");
        if ((st = agree(r, st, err))) return st;
        MPI_Bcast(json, (int)len + 1, MPI_CHAR, 0, r->comm);
        st = isw_layout_set_origins(&r->layout, json, err);
        free(json);
        if ((st = agree(r, st, err))) return st;
    }
    double t0 = isw_now();
    if ((st = isw_store_create(path, lay, r->comm, &r->store, err))) return st;
    *copied = 0;
    for (int i = 0; r->rank == 0 && !st && i < n; i++) {
        int64_t k = 0;
        st = isw_store_import(r->store, lay, from[i], i, &k, err);
        *copied += k;
    }
    if (!o->quiet && r->rank == 0 && !st)
        fprintf(stderr, "iclsweep: created %s (%lld tasks x %lld log points) in %.2f s%s\n", path, (long long)lay->T,
                (long long)lay->S, isw_now() - t0, n ? "" : "");
    if (!o->quiet && r->rank == 0 && !st && n > 0)
        fprintf(stderr, "iclsweep: copied %lld finished tasks from %d file%s; they are not rerun\n", (long long)*copied,
                n, n > 1 ? "s" : "");
    return agree(r, st, err);
}

typedef struct {
    const char *path;
    const isw_store_layout *lay;
} layout_check;

static isw_status run_check_layout(void *ctx, isw_error *err) {
    const layout_check *c = ctx;
    return isw_store_check_layout(c->path, c->lay, err);
}

/* isw_store_check_layout in a child process (rank 0 alone; the child touches no MPI). */
static isw_status check_layout_isolated(const char *path, const isw_store_layout *lay, isw_error *err) {
    layout_check c = {path, lay};
    int sig = 0;
    isw_status st = isw_run_isolated(run_check_layout, &c, ISW_PROBE_SECONDS, &sig, err);
    if (sig)
        return isw_store_crashed(path, sig, err);
    return st;
}

/* Opens or creates the store; on resume rank 0 first checks the file serially, then all open it,
 * then rank 0 compares identities. A resume with a sweep that grew (more axis values, zip points,
 * replicates) writes the grown file beside the old one, copies the old results into it, and then
 * puts it in the old one's place. Every step ends in agreement. */
static isw_status open_store(runner *r, const isw_run_opts *o, isw_error *err) {
    const isw_store_layout *lay = &r->layout.lay;
    isw_status st = ISW_OK;
    int64_t copied = 0;
    if (!r->reopen) {
        if ((st = create_store(r, o, o->out_path, o->from, o->n_from, &copied, err))) return st;
        r->reopen = o->n_from > 0; /* the copied rows are results: read the states back */
        return ISW_OK;
    }
    int grow = 0;
    /* A crafted file must not crash rank 0 inside HDF5: its metadata is read, and checked against
     * the layout, in a child first. */
    if (r->rank == 0) st = isw_store_probe(o->out_path, err);
    if (r->rank == 0 && !st && (st = check_layout_isolated(o->out_path, lay, err)) == ISW_EINPUT) {
        grow = can_grow(r, o->out_path);
        if (grow) st = ISW_OK;
        else explain_difference(r, o->out_path, err);
    }
    if ((st = agree(r, st, err))) return st;
    MPI_Bcast(&grow, 1, MPI_INT, 0, r->comm);
    if (grow) {
        char tmp[4200];
        const char *from[ISW_MAX_FROM + 1] = {o->out_path};
        for (int i = 0; i < o->n_from; i++) from[i + 1] = o->from[i];
        snprintf(tmp, sizeof tmp, "%s.growing", o->out_path);
        if ((st = create_store(r, o, tmp, from, o->n_from + 1, &copied, err))) return st;
        /* The grown file holds every result of the old one: it takes the old one's name. */
        if (r->rank == 0 && rename(tmp, o->out_path) != 0)
            st = isw_fail(err, ISW_EINTERNAL, "%s: cannot put the grown file in its place: %s", o->out_path,
                          strerror(errno));
        if (!st && r->rank == 0 && !o->quiet)
            fprintf(stderr, "iclsweep: grew %s to this sweep's %lld tasks; %lld finished ones kept\n", o->out_path,
                    (long long)lay->T, (long long)copied);
        return agree(r, st, err);
    }
    if ((st = isw_store_open(o->out_path, lay, r->comm, &r->store, err))) return st;
    if (r->rank == 0 && (st = isw_store_check_keys(r->store, lay, err)) == ISW_EINPUT)
        explain_difference(r, o->out_path, err);
    if ((st = agree(r, st, err))) return st;
    for (int i = 0; r->rank == 0 && !st && i < o->n_from; i++) {
        int64_t k = 0;
        st = isw_store_import(r->store, lay, o->from[i], -1, &k, err);
    }
    return agree(r, st, err);
}

static isw_status alloc_buffers(runner *r, isw_error *err) {
    r->S = r->layout.lay.S;
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

/* The work of a run, as rank 0 prepares it before dispatch. */
typedef struct {
    uint8_t *status, *attempts; /* [T] from the file (resume) or fresh */
    int64_t *queue;             /* [n] tasks to run, in dispatch order */
    int64_t n, already;         /* tasks to run; tasks already done */
} work_plan;

static void plan_free(work_plan *w) {
    free(w->status);
    free(w->attempts);
    free(w->queue);
}

/* Rank 0: reads the states (resume) and orders what remains. */
static isw_status plan_work(runner *r, const isw_run_opts *o, work_plan *w, isw_error *err) {
    int64_t T = r->layout.lay.T;
    memset(w, 0, sizeof *w);
    w->status = isw_malloc((size_t)T, err);
    w->attempts = isw_malloc((size_t)T, err);
    w->queue = isw_malloc((size_t)T * sizeof *w->queue, err);
    isw_status st = w->status && w->attempts && w->queue ? ISW_OK : ISW_EINTERNAL;
    if (!st && r->reopen) st = isw_store_read_states(r->store, w->status, w->attempts, err);
    if (!st && !r->reopen) {
        memset(w->status, ISW_TASK_PENDING, (size_t)T);
        memset(w->attempts, 0, (size_t)T);
    }
    if (!st) st = build_queue(r, w->status, o->retry_failed, o->order, w->queue, &w->n, err);
    if (!st && !(r->cost = isw_malloc((size_t)T * sizeof *r->cost + 1, err))) st = ISW_EINTERNAL;
    for (int64_t t = 0; !st && t < T; t++) {
        int64_t g = row_task(r, t);
        r->cost[t] = isw_sweep_point_cost(&r->sw, r->sw.valid ? r->sw.valid[g / r->sw.replicates] : g / r->sw.replicates);
    }
    isw_deadline_init(&r->deadline, o->deadline, o->deadline_margin);
    for (int64_t t = 0; !st && t < T; t++) w->already += w->status[t] == ISW_TASK_DONE;
    return st;
}

static const char *signal_name(int sig) {
    return sig == SIGUSR1 ? "SIGUSR1" : sig == SIGTERM ? "SIGTERM" : sig == SIGINT ? "SIGINT" : "a signal";
}

/* Rank 0's part: run the planned work (alone or as master) and say how it ended. */
static isw_status lead(runner *r, const isw_run_opts *o, work_plan *w, isw_error *err) {
    int64_t T = r->layout.lay.T;
    isw_progress pg;
    isw_progress_start(&pg, o->quiet ? ISW_PROGRESS_NONE : o->progress, w->n, w->already);
    char name[256]; /* the sweep's name as the terminal may show it */
    isw_text_escape(name, sizeof name, r->sw.name);
    double cpu0 = cpu_seconds();
    if (!o->quiet)
        fprintf(stderr, "iclsweep: %s: %lld tasks, %lld to run (%lld already done), %d rank%s%s\n",
                name, (long long)T, (long long)w->n, (long long)w->already, r->size, r->size > 1 ? "s" : "",
                r->size > 1 ? " (1 master)" : "");
    isw_status st = r->size == 1 ? run_alone(r, w->queue, w->n, w->status, w->attempts, &pg, err)
                                 : run_master(r, w->queue, w->n, w->status, w->attempts, &pg, err);
    if (st != ISW_OK) return st;
    int64_t counts[ISW_TASK_N_STATES] = {0};
    for (int64_t t = 0; t < T; t++) counts[w->status[t] < ISW_TASK_N_STATES ? w->status[t] : 0]++;
    isw_progress_finish(&pg, name);
    if (!o->quiet) report_master_usage(&pg, cpu0, r->size > 1);
    int64_t left = counts[ISW_TASK_PENDING] + counts[ISW_TASK_RUNNING];
    if (left > 0 && r->deadline.hit && !isw_stop_requested())
        return isw_fail(err, ISW_ESTOPPED, "stopped before the deadline (the job's time limit, less %.0f s to close "
                        "the file): %lld of %lld tasks left; continue with iclsweep run %s -o %s --resume",
                        o->deadline_margin, (long long)left, (long long)T, o->sweep_path, o->out_path);
    if (left > 0 && isw_stop_requested())
        return isw_fail(err, ISW_ESTOPPED, "stopped by %s: %lld of %lld tasks left; continue with "
                        "iclsweep run %s -o %s --resume", signal_name(isw_stop_signal()), (long long)left,
                        (long long)T, o->sweep_path, o->out_path);
    if (left > 0)
        return isw_fail(err, ISW_ESTOPPED, "%lld of %lld tasks left undone; continue with --resume", (long long)left,
                        (long long)T);
    /* Diverged tasks are results (a phase boundary at a large learning rate), not failures: a
     * rerun of the same seed would diverge again. Failed tasks (program or I/O errors) are. */
    if (counts[ISW_TASK_FAILED] > 0)
        return isw_fail(err, ISW_EFAILED, "finished with %lld failed of %lld tasks (`iclsweep status %s` "
                        "says why; --resume --retry-failed reruns them)", (long long)counts[ISW_TASK_FAILED],
                        (long long)T, o->out_path);
    if (!o->quiet && counts[ISW_TASK_DIVERGED] > 0)
        fprintf(stderr, "iclsweep: all %lld tasks finished, %lld of them diverged (a result: their step and "
                "reason are in /tasks); results in %s\n", (long long)T, (long long)counts[ISW_TASK_DIVERGED],
                o->out_path);
    else if (!o->quiet)
        fprintf(stderr, "iclsweep: all %lld tasks done; results in %s\n", (long long)T, o->out_path);
    return ISW_OK;
}

/* merge: the file is made and the shards' rows are in it; say how complete it is (rank 0 reads). */
static isw_status merged(runner *r, const isw_run_opts *o, isw_error *err) {
    isw_status st = ISW_OK;
    if (r->rank == 0) {
        int64_t T = r->layout.lay.T, done = 0;
        uint8_t *status = isw_malloc((size_t)T, err), *attempts = isw_malloc((size_t)T, err);
        st = status && attempts ? isw_store_read_states(r->store, status, attempts, err) : ISW_EINTERNAL;
        for (int64_t t = 0; !st && t < T; t++) done += status[t] == ISW_TASK_DONE || status[t] == ISW_TASK_DIVERGED;
        if (!st && done < T)
            st = isw_fail(err, ISW_ESTOPPED, "merged %lld of %lld tasks into %s; %lld are not finished in any "
                          "shard (finish them with iclsweep run SWEEP -o %s --resume)", (long long)done, (long long)T,
                          o->out_path, (long long)(T - done), o->out_path);
        else if (!st && !o->quiet)
            fprintf(stderr, "iclsweep: merged all %lld tasks into %s\n", (long long)T, o->out_path);
        free(status);
        free(attempts);
    }
    return agree(r, st, err);
}

/* Everything from the parsed sweep to the end of dispatch; the store is open when it returns
 * unless set-up failed. */
static isw_status set_up_and_run(runner *r, const isw_run_opts *o, isw_error *err) {
    r->tr = r->sw.model;
    isw_status st = isw_layout_make(&r->layout, &r->sw, o->shard_k, o->shard_n, err);
    if ((st = agree(r, st, err))) return st;
    if ((st = open_store(r, o, err))) return st;
    if ((st = agree(r, alloc_buffers(r, err), err))) return st;
    if (o->no_train) return merged(r, o, err);
    work_plan w;
    memset(&w, 0, sizeof w);
    if (r->rank == 0) st = plan_work(r, o, &w, err);
    if (!(st = agree(r, st, err))) st = r->rank == 0 ? lead(r, o, &w, err) : run_worker(r, err);
    plan_free(&w);
    return st;
}

isw_status isw_sweep_run(const isw_run_opts *o, isw_error *err, int *print_error) {
    runner r;
    memset(&r, 0, sizeof r);
    r.owner.fd = -1;
    r.comm = MPI_COMM_WORLD;
    MPI_Comm_rank(r.comm, &r.rank);
    MPI_Comm_size(r.comm, &r.size);
    *print_error = r.rank == 0;
    isw_signals_install();
    isw_status st = check_launch(&r, err);
    if (!st) st = check_output(&r, o, err);
    if (!st) st = load_sweep(&r, o, err);
    if (!st) st = set_up_and_run(&r, o, err);
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
    if (r.rank == 0) isw_owner_release(&r.owner);
    free(r.cost);
    free(r.vals);
    free(r.cfg);
    free(r.traj);
    free(r.final);
    isw_layout_free(&r.layout);
    isw_sweep_free(&r.sw);
    return st;
}
