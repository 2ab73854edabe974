/* `iclsweep run`: one task on this rank, with its checkpoints (run_int.h, sweep_run_task).
 *
 * Workload: a task of milliseconds to many hours, longer than a job's time limit at times. The
 * trainer reports each log point to the sink here, which keeps the row in memory and asks for a
 * checkpoint when checkpoint_every seconds have passed since the last one, and for a stop with a
 * checkpoint when a signal came, the deadline passed, the master sent ABORT or the launcher is
 * gone. A checkpoint holds the trainer's whole state (include/iclsweep/core/state.h) and the
 * sweep's part (the trajectory so far, the cost of the work kept): a task resumed from it ends
 * with the numbers of an uninterrupted run. Durability order at a checkpoint: the checkpoint file
 * (written whole, flushed, renamed: checkpoint.h), then the row's /traj so far and ckpt_step in
 * the result file; at the end, the row (data, bookkeeping, status last), then the checkpoint is
 * removed. A checkpoint that does not pass its checks (damaged, of another task, of another build)
 * is refused with a warning and removed, and the task starts over. */
#define _GNU_SOURCE /* RUSAGE_THREAD: the trainer's CPU time without the owner's heartbeat thread */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "protocol.h"
#include "run_int.h"

/* ---- what a task costs ------------------------------------------------------------------------ */

/* CPU seconds of this thread (the trainer's: the owner's heartbeat thread is not counted). */
static double thread_cpu(void) {
    struct rusage ru;
#ifdef RUSAGE_THREAD
    if (getrusage(RUSAGE_THREAD, &ru) != 0) return 0;
#else
    if (getrusage(RUSAGE_SELF, &ru) != 0) return 0;
#endif
    return (double)ru.ru_utime.tv_sec + 1e-6 * (double)ru.ru_utime.tv_usec + (double)ru.ru_stime.tv_sec +
           1e-6 * (double)ru.ru_stime.tv_usec;
}

/* Resets the process's peak resident memory (Linux: /proc/self/clear_refs), so that the peak read
 * at the end of a task is the task's; elsewhere the peak stays the process's so far. */
static void reset_peak_rss(void) {
    FILE *f = fopen("/proc/self/clear_refs", "w");
    if (!f) return;
    fputs("5", f);
    fclose(f);
}

/* The process's peak resident memory in bytes since the last reset (VmHWM), or its lifetime peak. */
static double peak_rss(void) {
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kb = -1;
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "VmHWM: %ld kB", &kb) == 1) break;
    if (f) fclose(f);
    if (kb >= 0) return 1024.0 * (double)kb;
    struct rusage ru;
    return getrusage(RUSAGE_SELF, &ru) == 0 ? 1024.0 * (double)ru.ru_maxrss : NAN;
}

/* ---- one task's run ---------------------------------------------------------------------------- */

/* The sweep's part of a checkpoint, beside the trainer's state. */
typedef struct {
    int64_t step;    /* the step of the log point it was taken at */
    int64_t resumes; /* times the task continued from a checkpoint before this one was taken */
    double wall_s, cpu_s, peak_rss; /* the cost of the work up to it, over the attempts it spans */
} kept_account;

typedef struct {
    runner *r;
    int64_t row;
    uint64_t key;
    int check_master;
    char tag[256];      /* what a checkpoint of this task says it is of */
    int64_t n_log;      /* the task's log points */
    int64_t last_step;  /* its last step */
    double t0, cpu0;    /* this attempt's start */
    double last_save;   /* when the last checkpoint was taken (this attempt's start at first) */
    int64_t seen_step;  /* the last log point's step this attempt */
    int no_more;        /* a checkpoint could not be written: none more for this task */
    kept_account kept;  /* restored from the checkpoint (zero and step -1 without one) */
    kept_account save;  /* what a checkpoint being taken says */
    isw_status failure; /* the result file could not be written */
    isw_error failure_err;
} task_run;

/* The sweep's regions of a checkpoint (the row's trajectory and the account in acc) followed by
 * the trainer's. */
static void compose(task_run *tr, kept_account *acc, const isw_state *trainer, isw_state *all) {
    runner *r = tr->r;
    isw_state_init(all);
    ISW_STATE_ARRAY(all, "iclsweep.traj", r->traj, (size_t)r->model->n_traj * (size_t)r->S);
    isw_state_int64s(all, "iclsweep.step", &acc->step, 1, 0, tr->last_step);
    isw_state_int64s(all, "iclsweep.resumes", &acc->resumes, 1, 0, INT32_MAX);
    ISW_STATE_VALUE(all, "iclsweep.wall_s", &acc->wall_s);
    ISW_STATE_VALUE(all, "iclsweep.cpu_s", &acc->cpu_s);
    ISW_STATE_VALUE(all, "iclsweep.peak_rss", &acc->peak_rss);
    isw_state_append(all, trainer);
}

/* Whether the task in hand must stop at this log point: a signal, the deadline (one rank: its
 * own), ABORT from the master, or the launcher gone (isw_stop_requested). */
static int must_stop(task_run *tr) {
    runner *r = tr->r;
    if (isw_stop_requested()) return 1;
    if (!tr->check_master) return isw_deadline_passed(&r->deadline);
    int flag = 0;
    MPI_Iprobe(0, ISW_TAG_ABORT, r->comm, &flag, MPI_STATUS_IGNORE);
    return flag;
}

/* The sink's log point: keeps the values in the row's trajectory buffer and says what to do. */
static int on_log(void *vctx, int64_t index, int64_t step, const double *values) {
    task_run *tr = vctx;
    runner *r = tr->r;
    if (index >= 0 && index < r->S)
        for (int m = 0; m < r->model->n_traj; m++) r->traj[(size_t)m * (size_t)r->S + (size_t)index] = values[m];
    tr->seen_step = step;
    int ask = 0;
    /* At the last log point the task is as good as finished: it finishes rather than stops. */
    if (index < tr->n_log - 1 && must_stop(tr)) ask = ISW_LOG_STOP;
    if (!tr->no_more && (ask || isw_now() - tr->last_save >= r->ckpt_every) && index < tr->n_log - 1)
        ask |= ISW_LOG_SAVE;
    return ask;
}

/* Grows r's checkpoint buffer to n bytes. */
static int ckpt_buffer(runner *r, size_t n) {
    if (n <= r->ckpt_cap) return 1;
    unsigned char *b = realloc(r->ckpt_buf, n);
    if (!b) return 0;
    r->ckpt_buf = b;
    r->ckpt_cap = n;
    return 1;
}

/* The sink's save: the checkpoint file first, then the row's progress in the result file. */
static void on_save(void *vctx, const isw_state *trainer, int64_t step) {
    task_run *tr = vctx;
    runner *r = tr->r;
    tr->save = (kept_account){step, tr->kept.resumes, tr->kept.wall_s + (isw_now() - tr->t0),
                              tr->kept.cpu_s + (thread_cpu() - tr->cpu0), fmax(tr->kept.peak_rss, peak_rss())};
    isw_state all;
    compose(tr, &tr->save, trainer, &all);
    size_t n = isw_state_packed_size(&all, tr->tag);
    isw_error err;
    isw_status st = ckpt_buffer(r, n) ? isw_state_pack(&all, tr->tag, r->ckpt_buf, &err)
                                      : isw_fail(&err, ISW_EINTERNAL, "out of memory for a checkpoint of %zu bytes", n);
    if (!st) st = isw_ckpt_write(&r->ckpt, tr->key, r->ckpt_buf, n, &err);
    if (st) {
        /* Training goes on without checkpoints; a stop then loses this task's work. */
        sweep_say(r, ISW_SAY_WARNING, "rank %d: task %lld: no more checkpoints for it: %s", r->rank,
                  (long long)tr->row, err.msg);
        tr->no_more = 1;
        return;
    }
    tr->last_save = isw_now();
    if (!tr->failure && (tr->failure = isw_store_write_progress(r->store, tr->row, r->traj, step, &tr->failure_err)))
        tr->no_more = 1;
}

/* The sink's restore: the task's checkpoint, if it has one that passes every check. */
static int on_restore(void *vctx, const isw_state *trainer) {
    task_run *tr = vctx;
    runner *r = tr->r;
    isw_state all;
    kept_account acc;
    compose(tr, &acc, trainer, &all);
    size_t want = isw_state_packed_size(&all, tr->tag);
    unsigned char *data = NULL;
    size_t size = 0;
    isw_error err;
    isw_status st = isw_ckpt_read(&r->ckpt, tr->key, want, &data, &size, &err);
    if (!st && !data) return 0; /* none: the task starts at step 0 */
    if (!st) st = isw_state_unpack(&all, tr->tag, data, size, &err);
    free(data);
    if (st) {
        char path[4300];
        isw_ckpt_path(&r->ckpt, tr->key, path, sizeof path);
        sweep_say(r, ISW_SAY_WARNING, "task %lld: its checkpoint %s is refused (%s); it is removed and the task "
                  "starts over", (long long)tr->row, path, err.msg);
        isw_ckpt_remove(&r->ckpt, tr->key);
        /* The unpack wrote nothing; the trajectory buffer is still the fresh one. */
        return 0;
    }
    tr->kept = acc;
    tr->kept.resumes++;
    return 1;
}

/* Fault injection for the tests: with ICLSWEEP_FAIL_TASK=t in the environment, the first attempt
 * at task t fails as a trainer that ran out of memory would, so the failed-task paths (exit 4,
 * status, --retry-failed) can be driven on purpose. */
static int injected_task_failure(int64_t t, int attempts) {
    const char *v = getenv("ICLSWEEP_FAIL_TASK");
    return v && *v && attempts == 1 && atoll(v) == t;
}

/* Sets up tr for row t: its config into r->cfg, its schedule, its checkpoint's tag. */
static void task_setup(runner *r, int64_t t, int check_master, task_run *tr, uint64_t *seed) {
    const isw_model *m = r->model;
    isw_task task;
    isw_sweep_task(&r->sw, sweep_row_task(r, t), &task, r->vals);
    isw_params_to_cfg(m->params, m->n_params, r->vals, r->cfg);
    memset(tr, 0, sizeof *tr);
    tr->r = r;
    tr->row = t;
    tr->key = task.key;
    tr->check_master = check_master;
    tr->n_log = m->log_steps(r->cfg, r->steps);
    tr->last_step = tr->n_log > 0 ? r->steps[tr->n_log - 1] : 0;
    tr->kept = (kept_account){-1, 0, 0, 0, 0};
    tr->seen_step = -1;
    char gen[128];
    snprintf(tr->tag, sizeof tr->tag, "iclsweep task key %016llx seed %llu, %s", (unsigned long long)task.key,
             (unsigned long long)task.seed, isw_model_generator(m, gen, sizeof gen));
    *seed = task.seed;
}

isw_status sweep_run_task(runner *r, int64_t t, int attempts, int check_master, task_outcome *out, isw_error *err) {
    const isw_model *m = r->model;
    task_run tr;
    uint64_t seed;
    task_setup(r, t, check_master, &tr, &seed);
    isw_status st = isw_store_mark_running(r->store, t, attempts, r->rank, err);
    if (st) return st;
    for (int64_t i = 0; i < (int64_t)m->n_traj * r->S; i++) r->traj[i] = NAN;
    for (int i = 0; i < m->n_final; i++) r->final[i] = NAN;
    isw_log_sink sink = {.ctx = &tr, .on_log = on_log, .save = on_save, .restore = on_restore};
    isw_train_result res;
    memset(&res, 0, sizeof res);
    isw_error terr;
    isw_error_clear(&terr);
    reset_peak_rss();
    tr.t0 = tr.last_save = isw_now();
    tr.cpu0 = thread_cpu();
    isw_status trc = injected_task_failure(t, attempts)
                         ? isw_fail(&terr, ISW_EINTERNAL, "injected failure (ICLSWEEP_FAIL_TASK)")
                         : m->train(r->cfg, seed, &sink, r->final, &res, &terr);
    out->wall = isw_now() - tr.t0;
    double total = (double)tr.last_step + 1, start = (double)tr.kept.step + 1;
    if (tr.failure) {
        *err = tr.failure_err;
        return tr.failure;
    }
    if (trc == ISW_OK && res.status == ISW_TRAIN_STOPPED) {
        out->outcome = ISW_OUTCOME_STOPPED;
        out->state = ISW_TASK_PENDING;
        out->work = fmax(0.0, ((double)tr.seen_step + 1 - start) / total);
        return isw_store_set_state(r->store, t, ISW_TASK_PENDING, err);
    }
    out->outcome = ISW_OUTCOME_FINISHED;
    out->work = (total - start) / total;
    isw_task_account acc = {tr.kept.wall_s + out->wall, tr.kept.cpu_s + (thread_cpu() - tr.cpu0),
                            fmax(tr.kept.peak_rss, peak_rss()), (int32_t)tr.kept.resumes, res.step, ""};
    if (trc != ISW_OK) {
        /* The trainer itself failed (out of memory, ...): the task fails, the sweep goes on. */
        out->state = ISW_TASK_FAILED;
        acc.error = terr.msg;
    } else if (res.status == ISW_TRAIN_DIVERGED) {
        out->state = ISW_TASK_DIVERGED;
        acc.error = res.reason;
    } else {
        out->state = ISW_TASK_DONE;
    }
    st = isw_store_write_result(r->store, t, r->traj, r->final, out->state, &acc, err);
    /* The row is whole in the file: its checkpoint is of no more use (a failed task starts over). */
    if (!st) isw_ckpt_remove(&r->ckpt, tr.key);
    return st;
}
