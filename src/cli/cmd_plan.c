/* `iclsweep plan SWEEP.yaml [--list N] [--max-tasks N] [--exact]`: what a sweep will run, before
 * it runs.
 *
 * Prints the task count, each dimension with its values, the parameters set in the file, the
 * first N tasks with identity and seed, a cost estimate relative to the model's default point,
 * the per-task memory estimate, and wall-time estimates calibrated by a short timed run (skipped
 * with --no-time).
 * Works on grids of millions of tasks: tasks are resolved on demand, never stored. With --exact,
 * every value of every axis is listed, each as the shortest text that reads back as exactly the
 * double the sweep uses (what a result file stores and what `df.noise == value` must match).
 * Text from the file (the sweep's name) is escaped: a name cannot drive the terminal. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "iclsweep/spec/spec.h"
#include "iclsweep/sweep/sweep.h"
#include "iclsweep/core/text.h"

#define MAX_SHOWN_VALUES 12

/* Value v of p as plan shows it: short ("%.6g" for reals), or exact. */
static const char *show_value(const isw_param_def *p, double v, int exact, char *buf, size_t size) {
    if (exact && p->type == ISW_P_REAL) return isw_text_double(buf, size, v);
    return isw_param_show(p, v, buf, size);
}

static void print_axis_values(const isw_sweep *sw, const isw_dim *dim, int exact) {
    const isw_param_def *params = sw->model->params;
    char buf[64];
    for (int64_t c = 0; c < dim->n; c++) {
        if (!exact && c == MAX_SHOWN_VALUES / 2 && dim->n > MAX_SHOWN_VALUES) {
            printf(" ...");
            c = dim->n - MAX_SHOWN_VALUES / 2;
        }
        printf("%s", c ? (dim->n_axes > 1 ? " " : ", ") : " ");
        if (dim->n_axes > 1) printf("(");
        for (int a = dim->first_axis; a < dim->first_axis + dim->n_axes; a++) {
            const isw_param_def *p = &params[sw->axes[a].param];
            printf("%s%s", a > dim->first_axis ? ", " : "", show_value(p, sw->axes[a].values[c], exact, buf, sizeof buf));
        }
        if (dim->n_axes > 1) printf(")");
    }
    printf("\n");
}

static void print_dims(const isw_sweep *sw, int exact) {
    const isw_param_def *params = sw->model->params;
    if (sw->n_dims == 0) {
        printf("axes: none (a single point)\n");
        return;
    }
    printf("axes (first varies slowest):\n");
    for (int d = 0; d < sw->n_dims; d++) {
        const isw_dim *dim = &sw->dims[d];
        char names[256] = "";
        size_t used = 0;
        for (int a = dim->first_axis; a < dim->first_axis + dim->n_axes && used < sizeof names - 40; a++)
            used += (size_t)snprintf(names + used, sizeof names - used, "%s%s",
                                     a > dim->first_axis ? "," : "", params[sw->axes[a].param].name);
        printf("  %-4s %-16s [%lld]", dim->is_zip ? "zip" : "grid", names, (long long)dim->n);
        print_axis_values(sw, dim, exact);
    }
}

static void print_fixed(const isw_sweep *sw, int exact) {
    const isw_param_def *params = sw->model->params;
    char buf[64];
    int any = 0;
    for (int i = 0; i < sw->model->n_params; i++) {
        if (sw->source[i] != ISW_SRC_FIXED) continue;
        printf("%s%s=%s", any ? " " : "fixed: ", params[i].name,
               show_value(&params[i], sw->base[i], exact, buf, sizeof buf));
        any = 1;
    }
    printf(any ? "\n" : "fixed: none (every other parameter at its default; `iclsweep params %s`)\n",
           sw->model->name);
}

/* Cost of every task relative to the model's default point, from the model's estimate. */
static void print_cost(const isw_sweep *sw) {
    const isw_model *m = sw->model;
    double *vals = malloc((size_t)m->n_params * sizeof *vals);
    void *cfg = malloc(m->cfg_size);
    if (!vals || !cfg) {
        free(vals);
        free(cfg);
        return;
    }
    isw_params_defaults(m->params, m->n_params, vals);
    isw_params_to_cfg(m->params, m->n_params, vals, cfg);
    double unit = m->cost(cfg);
    double total = 0, longest = 0;
    for (int64_t k = 0; k < sw->n_valid; k++) {
        double c = isw_sweep_point_cost(sw, sw->valid ? sw->valid[k] : k);
        total += c;
        if (c > longest) longest = c;
    }
    total *= (double)sw->replicates;
    printf("cost: %.4g default-point units in all (%.3g flop estimated); longest task %.3g units, "
           "mean %.3g\n",
           total / unit, total, longest / unit, total / unit / (double)sw->n_tasks);
    if (m->memory)
        printf("memory: about %.0f MB per task at most (grid point %lld), %.0f MB at the default point; "
               "limit max_task_memory = %.0f MB (ranks per node x this must fit in a node)\n",
               sw->task_memory / 1e6, (long long)sw->task_memory_point, m->memory(cfg) / 1e6,
               sw->max_task_memory / 1e6);
    free(vals);
    free(cfg);
}

static void print_tasks(const isw_sweep *sw, long long n, int exact) {
    const isw_param_def *params = sw->model->params;
    if (n > sw->n_tasks) n = sw->n_tasks;
    if (n <= 0) return;
    double *vals = malloc((size_t)sw->model->n_params * sizeof *vals);
    if (!vals) return;
    printf("first %lld tasks:\n  %6s %4s", n, "task", "rep");
    for (int a = 0; a < sw->n_axes; a++) printf(" %10s", params[sw->axes[a].param].name);
    printf("  %-16s  %-16s\n", "key", "seed");
    for (long long t = 0; t < n; t++) {
        isw_task task;
        char buf[64];
        isw_sweep_task(sw, t, &task, vals);
        printf("  %6lld %4lld", t, (long long)task.replicate);
        for (int a = 0; a < sw->n_axes; a++) {
            int i = sw->axes[a].param;
            printf(" %10s", show_value(&params[i], vals[i], exact, buf, sizeof buf));
        }
        printf("  %016llx  %016llx\n", (unsigned long long)task.key, (unsigned long long)task.seed);
    }
    free(vals);
}

isw_status cmd_plan(int argc, char **argv, isw_error *err) {
    const char *path = NULL;
    long long list = 10, max_tasks = 0;
    const char *from[ISW_MAX_FROM];
    int n_from = 0;
    isw_order order = ISW_ORDER_COARSE;
    int exact = 0, timed = 1;
    isw_status st;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--list")) {
            if ((st = cli_parse_count("--list", i + 1 < argc ? argv[++i] : NULL, 0, 1000000000LL, &list, err)))
                return st;
        } else if (!strcmp(argv[i], "--max-tasks")) {
            if ((st = cli_parse_count("--max-tasks", i + 1 < argc ? argv[++i] : NULL, 1,
                                      ISW_SPEC_LIMIT_MAX_TASKS, &max_tasks, err)))
                return st;
        } else if (!strcmp(argv[i], "--order") && i + 1 < argc) {
            const char *v = argv[++i];
            if (!strcmp(v, "longest")) order = ISW_ORDER_LONGEST;
            else if (strcmp(v, "coarse") != 0)
                return isw_fail(err, ISW_EINPUT, "plan: --order expects coarse or longest, found '%s'", v);
        } else if (!strcmp(argv[i], "--from") && i + 1 < argc && n_from < ISW_MAX_FROM) {
            from[n_from++] = argv[++i];
        } else if (!strcmp(argv[i], "--exact")) {
            exact = 1;
        } else if (!strcmp(argv[i], "--no-time")) {
            timed = 0;
        } else if (argv[i][0] == '-' && argv[i][1]) {
            return isw_fail(err, ISW_EINPUT, "plan: unknown option '%s'; expected --list N, --max-tasks N, "
                            "--exact, --no-time, --order O or --from OLD.h5", argv[i]);
        } else if (path) {
            return isw_fail(err, ISW_EINPUT, "plan: one sweep file at most, got '%s' and '%s'", path, argv[i]);
        } else {
            path = argv[i];
        }
    }
    if (!path)
        return isw_fail(err, ISW_EINPUT, "plan: missing the sweep file: iclsweep plan SWEEP.yaml "
                        "(or - for standard input)");
    isw_sweep sw;
    if ((st = isw_sweep_load(path, max_tasks, &sw, err))) return st;
    char name[256], source[512];
    isw_text_escape(name, sizeof name, sw.name);
    isw_text_escape(source, sizeof source, strcmp(sw.path, "-") ? sw.path : "standard input");
    printf("sweep %s: model %s, seed %llu, from %s\n", name, sw.model->name,
           (unsigned long long)sw.seed, source);
    printf("tasks: %lld = %lld points x %lld replicates", (long long)sw.n_tasks, (long long)sw.n_valid,
           (long long)sw.replicates);
    if (sw.n_valid < sw.n_points)
        printf(" (%lld of %lld grid points dropped as invalid by skip_invalid)",
               (long long)(sw.n_points - sw.n_valid), (long long)sw.n_points);
    printf("\n");
    print_dims(&sw, exact);
    print_fixed(&sw, exact);
    print_cost(&sw);
    st = timed ? plan_print_time(&sw, order, err) : ISW_OK;
    print_tasks(&sw, list, exact);
    if (!st) st = plan_print_dispatch(&sw, order, list, err);
    if (!st && n_from) st = plan_print_reuse(&sw, from, n_from, err);
    isw_sweep_free(&sw);
    return st;
}
