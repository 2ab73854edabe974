/* `iclsweep status OUT.h5 [--json]`: counts by state, failures grouped by reason, wall time used
 * and an estimate of what is left, as text or as one JSON object; the exit code says what a job
 * script needs (0 complete, 3 work remains, 4 only failed tasks remain, 2 not a readable result).
 * Reads the file serially while a sweep may still be writing it: the layout never changes after
 * creation, so the columns it reads are always where it expects. Finished rows are results only
 * where their checksum holds (isw_store_verify, read after the status column: a row's checksum is
 * written before its status): one that fails counts as damaged, work that remains. A file whose
 * creation never finished says so (exit 3: a resume creates it again). */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "iclsweep/core/isolate.h"
#include "iclsweep/sweep/owner.h"
#include "iclsweep/store/store.h"
#include "iclsweep/core/text.h"

#define MAX_REASONS 16

/* What status reports, computed once from the table. */
typedef struct {
    int64_t counts[ISW_TASK_N_STATES];
    int64_t remaining;     /* pending + running: what a resume would run */
    double used_s;         /* task time of finished tasks */
    double left_s;         /* estimated task time of what remains (NaN: no estimate yet) */
    int workers;           /* ranks that ran tasks (the highest rank seen) */
    char reasons[MAX_REASONS][ISW_STORE_ERROR_LEN + 16]; /* "failed: ..." with digits folded */
    int64_t reason_counts[MAX_REASONS];
    int n_reasons;
    int64_t other_reasons; /* failures past MAX_REASONS distinct reasons */
    int64_t checkpointed;  /* unfinished tasks that hold a checkpoint */
    int64_t ckpt_steps;    /* their steps kept: the sum of ckpt_step + 1 (a job script's measure of progress) */
    double kept_min, kept_max; /* the least and most of their steps they kept (fractions) */
    int64_t damaged;       /* finished rows failing their checksum: not counted as done or diverged */
    int checked;           /* the file has checksums (older formats have none) */
} summary;

/* A reason with its digits folded to '#', so "NaN at step 41" and "at step 7" group together. */
static void reason_key(const char *msg, char *key, size_t size) {
    size_t j = 0;
    for (size_t i = 0; msg[i] && j + 1 < size; i++) {
        if (isdigit((unsigned char)msg[i])) {
            if (j == 0 || key[j - 1] != '#') key[j++] = '#';
        } else {
            key[j++] = msg[i];
        }
    }
    key[j] = '\0';
}

static void add_reason(summary *s, int state, const char *msg) {
    char tagged[ISW_STORE_ERROR_LEN + 16], key[ISW_STORE_ERROR_LEN + 16];
    snprintf(tagged, sizeof tagged, "%s: %s", isw_task_state_name(state), msg[0] ? msg : "(no reason)");
    reason_key(tagged, key, sizeof key);
    int k = 0;
    while (k < s->n_reasons && strcmp(s->reasons[k], key)) k++;
    if (k == s->n_reasons && s->n_reasons < MAX_REASONS) {
        snprintf(s->reasons[k], sizeof s->reasons[k], "%s", key);
        s->reason_counts[s->n_reasons++] = 0;
    }
    if (k < s->n_reasons) s->reason_counts[k]++;
    else s->other_reasons++;
}

/* The unfinished tasks of tab that hold a checkpoint: how far each is (its last step from the
 * file), into s, and the cost of what they kept out of *cost_left. */
static isw_status summarise_checkpoints(const char *path, const isw_store_table *tab, summary *s, double *cost_left,
                                        isw_error *err) {
    int64_t T = tab->info.T, n = 0;
    int64_t *rows = isw_malloc((size_t)(s->checkpointed + 1) * sizeof *rows, err);
    int64_t *last = isw_malloc((size_t)(s->checkpointed + 1) * sizeof *last, err);
    isw_status st = rows && last ? ISW_OK : ISW_EINTERNAL;
    for (int64_t t = 0; !st && t < T; t++)
        if ((tab->status[t] == ISW_TASK_PENDING || tab->status[t] == ISW_TASK_RUNNING) && tab->ckpt_step[t] >= 0)
            rows[n++] = t;
    if (!st && n > 0) st = isw_store_read_last_steps(path, rows, n, last, err);
    s->kept_min = 1;
    for (int64_t i = 0; !st && i < n; i++) {
        double kept = fmin(1.0, (double)(tab->ckpt_step[rows[i]] + 1) / ((double)last[i] + 1));
        s->kept_min = fmin(s->kept_min, kept);
        s->kept_max = fmax(s->kept_max, kept);
        *cost_left -= kept * tab->cost[rows[i]];
    }
    free(rows);
    free(last);
    return st;
}

/* The summary of tab; bad[T] (isw_row_fault) marks finished rows whose checksum fails: they are
 * counted as damaged, and as work that remains (a resume runs them again). */
static isw_status summarise(const char *path, const isw_store_table *tab, const uint8_t *bad, int checked, summary *s,
                            isw_error *err) {
    memset(s, 0, sizeof *s);
    s->checked = checked;
    double cost_done = 0, cost_left = 0;
    int32_t max_rank = -1;
    for (int64_t t = 0; t < tab->info.T; t++) {
        int st = tab->status[t];
        if (bad[t]) {
            s->damaged++;
            cost_left += tab->cost[t];
            continue;
        }
        s->counts[st]++;
        if (st == ISW_TASK_FAILED || st == ISW_TASK_DIVERGED) add_reason(s, st, tab->error[t]);
        if (st == ISW_TASK_DONE || st == ISW_TASK_FAILED || st == ISW_TASK_DIVERGED) {
            if (isfinite(tab->wall_s[t])) s->used_s += tab->wall_s[t];
            cost_done += tab->cost[t];
        }
        if (st == ISW_TASK_PENDING || st == ISW_TASK_RUNNING) cost_left += tab->cost[t];
        if ((st == ISW_TASK_PENDING || st == ISW_TASK_RUNNING) && tab->ckpt_step[t] >= 0) {
            s->checkpointed++;
            s->ckpt_steps += tab->ckpt_step[t] + 1;
        }
        if (tab->rank[t] > max_rank) max_rank = tab->rank[t];
    }
    isw_status rc = summarise_checkpoints(path, tab, s, &cost_left, err);
    if (rc) return rc;
    s->remaining = s->counts[ISW_TASK_PENDING] + s->counts[ISW_TASK_RUNNING] + s->damaged;
    /* Time per unit of estimated cost, learned from the finished tasks. */
    s->left_s = s->remaining == 0 ? 0.0 : cost_done > 0 ? s->used_s / cost_done * cost_left : NAN;
    s->workers = max_rank > 0 ? max_rank : 1;
    return ISW_OK;
}

/* Exit code for a job script: 0 complete, 3 work remains, 4 only failed tasks are left. */
static isw_status verdict(const summary *s) {
    if (s->remaining > 0) return ISW_ESTOPPED;
    return s->counts[ISW_TASK_FAILED] > 0 ? ISW_EFAILED : ISW_OK;
}

static void format_seconds(double s, char *buf, size_t size) {
    if (!(s >= 0)) snprintf(buf, size, "?");
    else if (s < 120) snprintf(buf, size, "%.1f s", s);
    else if (s < 7200) snprintf(buf, size, "%.1f min", s / 60);
    else snprintf(buf, size, "%.1f h", s / 3600);
}

static void print_text(const char *path, const isw_store_table *tab, const summary *s, const char *owner) {
    cli_print_safe(path);
    printf(": sweep ");
    cli_print_safe(tab->info.name);
    printf(", model ");
    cli_print_safe(tab->info.model);
    printf(", %lld tasks\n", (long long)tab->info.T);
    for (int st = 0; st < ISW_TASK_N_STATES; st++)
        printf("  %-9s %10lld  %5.1f%%\n", isw_task_state_name(st), (long long)s->counts[st],
               tab->info.T ? 100.0 * (double)s->counts[st] / (double)tab->info.T : 0.0);
    if (s->checkpointed)
        printf("in progress: %lld task%s kept a checkpoint, at %.0f%% to %.0f%% of %s steps (/traj holds %s log "
               "points up to it)\n", (long long)s->checkpointed, s->checkpointed > 1 ? "s" : "", 100 * s->kept_min,
               100 * s->kept_max, s->checkpointed > 1 ? "their" : "its", s->checkpointed > 1 ? "their" : "its");
    if (s->damaged) {
        printf("  %-9s %10lld  %5.1f%%  finished, but failing their checksums (iclsweep verify ", "damaged",
               (long long)s->damaged, tab->info.T ? 100.0 * (double)s->damaged / (double)tab->info.T : 0.0);
        cli_print_safe(path);
        printf(" names them; a resume runs them again)\n");
    }
    if (!s->checked) printf("checksums: none in this format (%s); no checksums to check\n", tab->info.format);
    if (s->n_reasons) printf("failures and divergences by reason (# stands for numbers):\n");
    for (int k = 0; k < s->n_reasons; k++) {
        printf("  %8lld  ", (long long)s->reason_counts[k]);
        cli_print_safe(s->reasons[k]);
        printf("\n");
    }
    if (s->other_reasons) printf("  %8lld  (other reasons)\n", (long long)s->other_reasons);
    char a[32], b[32];
    format_seconds(s->used_s, a, sizeof a);
    printf("wall time used: %s of task time (sum over finished tasks)\n", a);
    if (s->remaining > 0 && isfinite(s->left_s)) {
        format_seconds(s->left_s, a, sizeof a);
        format_seconds(s->left_s / s->workers, b, sizeof b);
        printf("estimated to go: %s of task time, about %s with %d worker%s\n", a, b, s->workers,
               s->workers > 1 ? "s" : "");
    }
    if (owner) {
        printf("being written by a run: ");
        cli_print_safe(owner);
        printf("\n");
    }
    if (s->remaining > 0) printf("work remains: %lld tasks (continue with iclsweep run SWEEP -o %s --resume)\n",
                                 (long long)s->remaining, path);
    else if (s->counts[ISW_TASK_FAILED] > 0)
        printf("finished, but %lld tasks failed (iclsweep run SWEEP -o %s --resume --retry-failed reruns them)\n",
               (long long)s->counts[ISW_TASK_FAILED], path);
    else printf("complete\n");
}

static void json_number(double v) {
    if (isfinite(v)) printf("%.6g", v);
    else printf("null");
}

static void print_json(const char *path, const isw_store_table *tab, const summary *s, const char *owner) {
    printf("{\"file\": ");
    cli_json_string(path);
    printf(", \"sweep\": ");
    cli_json_string(tab->info.name);
    printf(", \"model\": ");
    cli_json_string(tab->info.model);
    printf(", \"generator\": ");
    cli_json_string(tab->info.generator);
    printf(", \"tasks\": %lld, \"counts\": {", (long long)tab->info.T);
    for (int st = 0; st < ISW_TASK_N_STATES; st++)
        printf("%s\"%s\": %lld", st ? ", " : "", isw_task_state_name(st), (long long)s->counts[st]);
    printf(", \"damaged\": %lld}, \"checksums\": %s", (long long)s->damaged, s->checked ? "true" : "false");
    printf(", \"remaining\": %lld, \"complete\": %s, \"exit_code\": %d", (long long)s->remaining,
           verdict(s) == ISW_OK ? "true" : "false", (int)verdict(s));
    printf(", \"finished\": %lld, \"checkpointed\": %lld, \"checkpoint_steps\": %lld",
           (long long)(s->counts[ISW_TASK_DONE] + s->counts[ISW_TASK_DIVERGED] + s->counts[ISW_TASK_FAILED]),
           (long long)s->checkpointed, (long long)s->ckpt_steps);
    printf(", \"task_time_used_s\": ");
    json_number(s->used_s);
    printf(", \"task_time_left_s\": ");
    json_number(s->left_s);
    printf(", \"workers_seen\": %d, \"wall_time_left_s\": ", s->workers);
    json_number(s->left_s / s->workers);
    printf(", \"failures\": [");
    for (int k = 0; k < s->n_reasons; k++) {
        printf("%s{\"reason\": ", k ? ", " : "");
        cli_json_string(s->reasons[k]);
        printf(", \"count\": %lld}", (long long)s->reason_counts[k]);
    }
    printf("], \"owner\": ");
    if (owner) cli_json_string(owner);
    else printf("null");
    printf("}\n");
}

typedef struct {
    const char *path;
    int json;
} status_job;

/* A file a run holds that cannot be read yet: the run is creating it (or growing it into place).
 * Work remains (exit 3); asking again in a moment gives the counts. */
static isw_status being_made(const status_job *job, const char *who, isw_error *err) {
    isw_error_clear(err); /* not an error: the file is on its way */
    if (job->json) {
        printf("{\"file\": ");
        cli_json_string(job->path);
        printf(", \"creating\": true, \"complete\": false, \"exit_code\": 3, \"owner\": ");
        cli_json_string(who);
        printf("}\n");
    } else {
        cli_print_safe(job->path);
        printf(": being created by a run (");
        cli_print_safe(who);
        printf("); its tasks can be counted once the file is made: ask again in a moment\n");
    }
    return ISW_ESTOPPED;
}

/* A file that could not be read: when it is an unfinished creation (a job killed while creating
 * it, no results in it), says so and that a resume starts it again (exit 3, work remains);
 * otherwise returns st, the reading's refusal, as it was. */
static isw_status unfinished_report(const status_job *job, isw_status st, isw_error *err) {
    isw_store_peek_info peek;
    isw_error ignored;
    if (isw_store_peek_here(job->path, &peek, &ignored) != ISW_OK || !peek.answer[ISW_PEEK_ICLSWEEP] ||
        peek.answer[ISW_PEEK_FINISHED] || peek.answer[ISW_PEEK_RESULTS])
        return st;
    if (job->json) {
        printf("{\"file\": ");
        cli_json_string(job->path);
        printf(", \"creation_finished\": false, \"complete\": false, \"exit_code\": %d}\n", ISW_ESTOPPED);
    } else {
        cli_print_safe(job->path);
        printf(": its creation never finished (the job creating it was stopped); it holds no results\n"
               "work remains: every task (iclsweep run SWEEP -o ");
        cli_print_safe(job->path);
        printf(" --resume creates it again)\n");
    }
    isw_error_clear(err);
    return ISW_ESTOPPED;
}

/* Reads the file and prints the report; returns the exit code the report implies. */
static isw_status status_report(void *ctx, isw_error *err) {
    const status_job *job = ctx;
    isw_store_table tab;
    char who[512];
    isw_status st = isw_store_read_table(job->path, &tab, err);
    if (st == ISW_EINPUT && isw_owner_describe(job->path, who, sizeof who)) return being_made(job, who, err);
    if (st) return unfinished_report(job, st, err);
    /* Finished rows are results only where their checksum holds. */
    uint8_t *bad = malloc((size_t)tab.info.T + 1);
    int checked = 0;
    if (!bad) st = isw_fail(err, ISW_EINTERNAL, "out of memory");
    if (!st) st = isw_store_verify(job->path, &tab, bad, &checked, err);
    summary s;
    if (!st) st = summarise(job->path, &tab, bad, checked, &s, err);
    free(bad);
    if (st) {
        isw_store_table_free(&tab);
        return st;
    }
    const char *owner = isw_owner_describe(job->path, who, sizeof who) ? who : NULL;
    if (job->json) print_json(job->path, &tab, &s, owner);
    else print_text(job->path, &tab, &s, owner);
    isw_store_table_free(&tab);
    return verdict(&s);
}

isw_status cmd_status(int argc, char **argv, isw_error *err) {
    const char *path = NULL;
    int json = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--json")) json = 1;
        else if (argv[i][0] == '-' && argv[i][1])
            return isw_fail(err, ISW_EINPUT, "status: unknown option '%s'; expected --json", argv[i]);
        else if (path)
            return isw_fail(err, ISW_EINPUT, "status: one result file at most, got '%s' and '%s'", path, argv[i]);
        else path = argv[i];
    }
    if (!path) return isw_fail(err, ISW_EINPUT, "status: expected a result file: iclsweep status OUT.h5 [--json]");
    /* A sweep may hold the file open; do not let HDF5's advisory locks refuse the read. */
    setenv("HDF5_USE_FILE_LOCKING", "FALSE", 0);
    /* The whole read runs in a child process: a file crafted to crash HDF5 itself is then a
     * refusal, not a crash of status. */
    status_job job = {path, json};
    int sig = 0;
    isw_status st = isw_run_isolated(status_report, &job, ISW_STATUS_SECONDS, &sig, err);
    if (sig)
        return isw_store_crashed(path, sig, err);
    return st;
}
