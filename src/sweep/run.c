/* `iclsweep run` (include/iclsweep/sweep/sweep.h): set-up (setup.c), the dispatch (dispatch.c),
 * and the verdict, which rank 0 reports through the caller's reporter; the sweep layer prints
 * nothing itself (the cli decides how each kind of line is shown). */
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "iclsweep/core/text.h"
#include "run_int.h"

void sweep_say(const runner *r, isw_say_kind kind, const char *fmt, ...) {
    if (!r->report || !r->report->say) return;
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    r->report->say(r->report->ctx, kind, line);
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
static void report_master_usage(const runner *r, const isw_progress *pg, double cpu0, int is_master) {
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0) return;
    double cpu = cpu_seconds() - cpu0, wall = isw_now() - pg->start;
    sweep_say(r, ISW_SAY_NOTE, "rank 0 (%s): %.3f s CPU over %.2f s of dispatch (%.1f%% of a core), "
            "peak memory %.1f MB", is_master ? "master" : "trainer", cpu, wall,
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
    int64_t *ckpt_step = isw_malloc((size_t)T * sizeof *ckpt_step, err);
    isw_status st = w->status && w->attempts && w->queue && ckpt_step ? ISW_OK : ISW_EINTERNAL;
    if (!st && r->reopen) st = isw_store_read_states(r->store, w->status, w->attempts, err);
    if (!st && r->reopen) st = isw_store_read_ckpt_steps(r->store, ckpt_step, err);
    if (!st && !r->reopen) {
        memset(w->status, ISW_TASK_PENDING, (size_t)T);
        memset(w->attempts, 0, (size_t)T);
        for (int64_t t = 0; t < T; t++) ckpt_step[t] = -1;
    }
    if (!st) st = sweep_init_left(r, ckpt_step, err);
    free(ckpt_step);
    if (!st) st = sweep_build_queue(r, w->status, o->retry_failed, o->order, w->queue, &w->n, err);
    if (!st && !(r->cost = isw_malloc((size_t)T * sizeof *r->cost + 1, err))) st = ISW_EINTERNAL;
    for (int64_t t = 0; !st && t < T; t++) {
        int64_t g = sweep_row_task(r, t);
        r->cost[t] = isw_sweep_point_cost(&r->sw, r->sw.valid ? r->sw.valid[g / r->sw.replicates] : g / r->sw.replicates);
    }
    isw_deadline_init(&r->deadline, o->deadline, o->deadline_margin);
    for (int64_t t = 0; !st && t < T; t++) w->already += w->status[t] == ISW_TASK_DONE;
    return st;
}

static const char *signal_name(int sig) {
    if (isw_launcher_gone()) return "the death of its launcher (mpirun)";
    return sig == SIGUSR1 ? "SIGUSR1" : sig == SIGTERM ? "SIGTERM" : sig == SIGINT ? "SIGINT" : "a signal";
}

/* Rank 0's part: run the planned work (alone or as master) and say how it ended. */
static isw_status lead(runner *r, const isw_run_opts *o, work_plan *w, isw_error *err) {
    int64_t T = r->layout.lay.T;
    isw_progress pg;
    isw_progress_start(&pg, r->report, o->quiet ? ISW_PROGRESS_NONE : o->progress, w->n, w->already);
    char name[256]; /* the sweep's name as the terminal may show it */
    isw_text_escape(name, sizeof name, r->sw.name);
    double cpu0 = cpu_seconds();
    if (!o->quiet)
        sweep_say(r, ISW_SAY_NOTE, "%s: %lld tasks, %lld to run (%lld already done), %d rank%s%s",
                name, (long long)T, (long long)w->n, (long long)w->already, r->size, r->size > 1 ? "s" : "",
                r->size > 1 ? " (1 master)" : "");
    isw_status st = r->size == 1 ? sweep_run_alone(r, w->queue, w->n, w->status, w->attempts, &pg, err)
                                 : sweep_run_master(r, w->queue, w->n, w->status, w->attempts, &pg, err);
    if (st != ISW_OK) return st;
    int64_t counts[ISW_TASK_N_STATES] = {0};
    for (int64_t t = 0; t < T; t++) counts[w->status[t] < ISW_TASK_N_STATES ? w->status[t] : 0]++;
    isw_progress_finish(&pg, name);
    if (!o->quiet) report_master_usage(r, &pg, cpu0, r->size > 1);
    int64_t left = counts[ISW_TASK_PENDING] + counts[ISW_TASK_RUNNING];
    if (left == 0) isw_ckpt_remove_all(&r->ckpt); /* every task finished: no checkpoint is of use */
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
        sweep_say(r, ISW_SAY_NOTE, "all %lld tasks finished, %lld of them diverged (a result: their step and "
                "reason are in /tasks); results in %s", (long long)T, (long long)counts[ISW_TASK_DIVERGED],
                o->out_path);
    else if (!o->quiet)
        sweep_say(r, ISW_SAY_NOTE, "all %lld tasks done; results in %s", (long long)T, o->out_path);
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
            sweep_say(r, ISW_SAY_NOTE, "merged all %lld tasks into %s", (long long)T, o->out_path);
        free(status);
        free(attempts);
    }
    return sweep_agree(r, st, err);
}

/* Everything from the parsed sweep to the end of dispatch; the store is open when it returns
 * unless set-up failed. */
static isw_status set_up_and_run(runner *r, const isw_run_opts *o, isw_error *err) {
    r->model = r->sw.model;
    isw_status st = isw_layout_make(&r->layout, &r->sw, o->shard_k, o->shard_n, err);
    if ((st = sweep_agree(r, st, err))) return st;
    if ((st = sweep_open_store(r, o, err))) return st;
    if ((st = sweep_agree(r, sweep_alloc_buffers(r, err), err))) return st;
    if (o->no_train) return merged(r, o, err);
    r->ckpt_every = o->checkpoint_every >= 0 ? o->checkpoint_every : (double)r->sw.checkpoint_every;
    st = isw_ckpt_dir_of(&r->ckpt, o->out_path, err);
    if (!st && r->rank == 0) st = isw_ckpt_prepare(&r->ckpt, r->created, err);
    if ((st = sweep_agree(r, st, err))) return st;
    work_plan w;
    memset(&w, 0, sizeof w);
    if (r->rank == 0) st = plan_work(r, o, &w, err);
    if (!(st = sweep_agree(r, st, err))) st = r->rank == 0 ? lead(r, o, &w, err) : sweep_run_worker(r, err);
    plan_free(&w);
    return st;
}

isw_status isw_sweep_run(const isw_run_opts *o, isw_error *err, int *print_error) {
    runner r;
    memset(&r, 0, sizeof r);
    r.owner.fd = -1;
    r.comm = MPI_COMM_WORLD;
    r.report = &o->report;
    MPI_Comm_rank(r.comm, &r.rank);
    MPI_Comm_size(r.comm, &r.size);
    *print_error = r.rank == 0;
    isw_signals_install();
    isw_status st = sweep_check_launch(&r, err);
    if (!st) st = sweep_check_output(&r, o, err);
    if (!st) st = sweep_load(&r, o, err);
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
    free(r.left);
    free(r.steps);
    free(r.ckpt_buf);
    free(r.vals);
    free(r.cfg);
    free(r.traj);
    free(r.final);
    isw_layout_free(&r.layout);
    isw_sweep_free(&r.sw);
    return st;
}

