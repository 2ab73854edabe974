/* `iclsweep train SWEEP.yaml [--task I] [--format text|csv|jsonl] [--metrics a,b,...]`
 *
 * Trains one task of a sweep in this process, the way a user checks a point before launching a
 * sweep: one line per log point, then the final metrics. text is for a terminal (the trainer's
 * first metrics unless --metrics picks others), csv and jsonl carry every metric for scripts.
 * SIGINT, SIGTERM or SIGUSR1 stops at the next log point (exit 3), a second one at once; a
 * diverged task exits 4. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "iclsweep/spec/spec.h"
#include "iclsweep/sweep/sweep.h"
#include "iclsweep/core/text.h"
#include "iclsweep/train/model.h"

#define TEXT_DEFAULT_COLUMNS 7

enum { FMT_TEXT, FMT_CSV, FMT_JSONL };

typedef struct {
    const isw_model *tr;
    int format;
    int *columns; /* [n_columns] indices into tr->traj, for text */
    int n_columns;
} printer;

static void print_number(FILE *out, double v, int json) {
    if (json && !isfinite(v)) fputs("null", out);
    else fprintf(out, "%.17g", v); /* round-trips: scripts get the exact double */
}

static int print_log_point(void *ctx, int64_t index, int64_t step, const double *values) {
    printer *pr = ctx;
    const isw_model *tr = pr->tr;
    if (pr->format == FMT_TEXT) {
        printf("%8lld", (long long)step);
        for (int c = 0; c < pr->n_columns; c++) printf(" %12.5g", values[pr->columns[c]]);
        printf("\n");
    } else if (pr->format == FMT_CSV) {
        printf("%lld", (long long)step);
        for (int m = 0; m < tr->n_traj; m++) {
            putchar(',');
            print_number(stdout, values[m], 0);
        }
        printf("\n");
    } else {
        printf("{\"index\": %lld, \"step\": %lld", (long long)index, (long long)step);
        for (int m = 0; m < tr->n_traj; m++) {
            printf(", \"%s\": ", tr->traj[m].name);
            print_number(stdout, values[m], 1);
        }
        printf("}\n");
    }
    fflush(stdout);
    return isw_stop_requested();
}

static void print_header(const printer *pr) {
    const isw_model *tr = pr->tr;
    if (pr->format == FMT_TEXT) {
        printf("%8s", "step");
        for (int c = 0; c < pr->n_columns; c++) printf(" %12s", tr->traj[pr->columns[c]].name);
        printf("\n");
    } else if (pr->format == FMT_CSV) {
        printf("step");
        for (int m = 0; m < tr->n_traj; m++) printf(",%s", tr->traj[m].name);
        printf("\n");
    }
}

static void print_final(const printer *pr, const double *final, const isw_train_result *res) {
    const isw_model *tr = pr->tr;
    static const char *const status_names[] = {"done", "diverged", "stopped"};
    if (pr->format == FMT_JSONL) {
        printf("{\"final\": true, \"status\": \"%s\", \"step\": %lld", status_names[res->status],
               (long long)res->step);
        for (int m = 0; m < tr->n_final; m++) {
            printf(", \"%s\": ", tr->final[m].name);
            print_number(stdout, final[m], 1);
        }
        printf("}\n");
    } else if (pr->format == FMT_TEXT) {
        printf("status: %s at step %lld%s%s\n", status_names[res->status], (long long)res->step,
               res->reason[0] ? ": " : "", res->reason);
        for (int m = 0; m < tr->n_final; m++)
            printf("  %-24s %.6g%s%s\n", tr->final[m].name, final[m], tr->final[m].units[0] ? " " : "",
                   tr->final[m].units);
    } else {
        fprintf(stderr, "status: %s at step %lld%s%s\n", status_names[res->status],
                (long long)res->step, res->reason[0] ? ": " : "", res->reason);
    }
}

/* Text columns: --metrics names, or the trainer's first few (its headline metrics). */
static isw_status choose_columns(printer *pr, const char *list, isw_error *err) {
    const isw_model *tr = pr->tr;
    pr->columns = isw_calloc((size_t)tr->n_traj, sizeof *pr->columns, err);
    if (!pr->columns) return ISW_EINTERNAL;
    if (!list) {
        pr->n_columns = tr->n_traj < TEXT_DEFAULT_COLUMNS ? tr->n_traj : TEXT_DEFAULT_COLUMNS;
        for (int c = 0; c < pr->n_columns; c++) pr->columns[c] = c;
        return ISW_OK;
    }
    const char *s = list;
    while (*s && pr->n_columns < tr->n_traj) {
        size_t len = strcspn(s, ",");
        int found = -1;
        for (int m = 0; m < tr->n_traj; m++)
            if (strlen(tr->traj[m].name) == len && !strncmp(tr->traj[m].name, s, len)) found = m;
        if (found < 0)
            return isw_fail(err, ISW_EINPUT, "train: --metrics: no metric '%.*s' in model %s", (int)len,
                            s, tr->name);
        pr->columns[pr->n_columns++] = found;
        s += len + (s[len] == ',');
    }
    return ISW_OK;
}

typedef struct {
    const char *path, *format, *metrics;
    long long task, max_tasks;
} train_args;

static isw_status parse_args(int argc, char **argv, train_args *a, isw_error *err) {
    isw_status st;
    for (int i = 1; i < argc; i++) {
        const char *next = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(argv[i], "--task")) {
            if ((st = cli_parse_count("--task", next, 0, ISW_SPEC_LIMIT_MAX_TASKS, &a->task, err))) return st;
            i++;
        } else if (!strcmp(argv[i], "--max-tasks")) {
            if ((st = cli_parse_count("--max-tasks", next, 1, ISW_SPEC_LIMIT_MAX_TASKS, &a->max_tasks, err)))
                return st;
            i++;
        } else if (!strcmp(argv[i], "--format") && next) {
            a->format = argv[++i];
        } else if (!strcmp(argv[i], "--metrics") && next) {
            a->metrics = argv[++i];
        } else if (argv[i][0] == '-' && argv[i][1]) {
            return isw_fail(err, ISW_EINPUT, "train: unknown option '%s' (or missing its value); "
                            "expected --task I, --format text|csv|jsonl, --metrics a,b", argv[i]);
        } else if (a->path) {
            return isw_fail(err, ISW_EINPUT, "train: one sweep file at most, got '%s' and '%s'", a->path, argv[i]);
        } else {
            a->path = argv[i];
        }
    }
    if (!a->path)
        return isw_fail(err, ISW_EINPUT, "train: missing the sweep file: iclsweep train SWEEP.yaml "
                        "[--task I] (or - for standard input)");
    return ISW_OK;
}

isw_status cmd_train(int argc, char **argv, isw_error *err) {
    train_args a = {.format = "text"};
    isw_status st = parse_args(argc, argv, &a, err);
    if (st) return st;
    printer pr = {0};
    if (!strcmp(a.format, "text")) pr.format = FMT_TEXT;
    else if (!strcmp(a.format, "csv")) pr.format = FMT_CSV;
    else if (!strcmp(a.format, "jsonl")) pr.format = FMT_JSONL;
    else return isw_fail(err, ISW_EINPUT, "train: --format expects text, csv or jsonl, found '%s'", a.format);

    isw_sweep sw;
    if ((st = isw_sweep_load(a.path, a.max_tasks, &sw, err))) return st;
    double *vals = NULL, *final = NULL;
    void *cfg = NULL;
    pr.tr = sw.model;
    if (a.task >= sw.n_tasks) {
        char shown[512];
        isw_text_escape(shown, sizeof shown, strcmp(a.path, "-") ? a.path : "<stdin>");
        st = isw_fail(err, ISW_EINPUT, "train: --task %lld is out of range; %s has %lld tasks (0..%lld)",
                      a.task, shown, (long long)sw.n_tasks, (long long)sw.n_tasks - 1);
        goto done;
    }
    vals = isw_malloc((size_t)sw.model->n_params * sizeof *vals, err);
    cfg = isw_calloc(1, sw.model->cfg_size, err);
    final = isw_calloc((size_t)pr.tr->n_final + 1, sizeof *final, err);
    if (!vals || !cfg || !final || (st = choose_columns(&pr, a.metrics, err))) {
        if (!st) st = ISW_EINTERNAL;
        goto done;
    }
    isw_task task;
    isw_sweep_task(&sw, a.task, &task, vals);
    isw_params_to_cfg(sw.model->params, sw.model->n_params, vals, cfg);
    if (pr.format == FMT_TEXT) {
        char name[256]; /* escaped: a sweep's name cannot drive the terminal */
        printf("# %s task %lld of %lld (replicate %lld, key %016llx, seed %016llx)\n#",
               isw_text_escape(name, sizeof name, sw.name),
               a.task, (long long)sw.n_tasks, (long long)task.replicate,
               (unsigned long long)task.key, (unsigned long long)task.seed);
        for (int x = 0; x < sw.n_axes; x++) {
            char buf[64];
            const isw_param_def *p = &sw.model->params[sw.axes[x].param];
            printf(" %s=%s", p->name, isw_param_show(p, vals[sw.axes[x].param], buf, sizeof buf));
        }
        printf("\n");
    }
    print_header(&pr);
    isw_signals_install(); /* the sweep's stop handlers: a second signal stops at once */
    isw_log_sink sink = {.ctx = &pr, .on_log = print_log_point};
    isw_train_result res;
    memset(&res, 0, sizeof res);
    if ((st = pr.tr->train(cfg, task.seed, &sink, final, &res, err))) goto done;
    print_final(&pr, final, &res);
    if (res.status == ISW_TRAIN_STOPPED)
        st = isw_fail(err, ISW_ESTOPPED, "train: stopped by a signal at step %lld", (long long)res.step);
    else if (res.status == ISW_TRAIN_DIVERGED)
        st = isw_fail(err, ISW_EFAILED, "train: task %lld diverged: %s", a.task, res.reason);
done:
    free(pr.columns);
    free(vals);
    free(cfg);
    free(final);
    isw_sweep_free(&sw);
    return st;
}
