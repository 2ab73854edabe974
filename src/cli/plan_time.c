/* `iclsweep plan`: estimated wall time of each task and of the whole sweep for a few worker
 * counts, calibrated on this machine.
 *
 * The models' cost hooks give each task's work in flop-equivalents (steps, evaluation and data
 * generation alike), in the right proportions but without a time scale. plan gets the scale by
 * training one short run of the model's default point (its `calibration` hook, ~0.1 s, the faster
 * of two tries) and dividing its cost by its time. A task then takes cost / rate plus a fixed
 * overhead (its row written, the worker's round trip); the sweep takes the makespan of handing
 * the tasks, in dispatch order, each to the worker that frees first, plus the job's start. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "iclsweep/sweep/order.h"
#include "cli.h"
#include "iclsweep/train/model.h"

#define TASK_OVERHEAD_S 0.005 /* a row written and the master's answer (measured: a few ms) */
#define JOB_START_S 0.6       /* mpirun, MPI_Init, the result file created (measured: 0.4-0.8 s) */
#define MAX_SIMULATED_TASKS 2000000 /* above this, the makespan is bounded, not simulated */

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Flop-equivalents per second of model m on this machine, from its calibration run; the run's
 * wall time into *took. */
static isw_status calibrate(const isw_model *m, double *rate, double *took, isw_error *err) {
    if (!m->calibration) return isw_fail(err, ISW_EINPUT, "plan: model %s has no calibration run", m->name);
    double *vals = isw_malloc((size_t)m->n_params * sizeof *vals, err);
    double *final = isw_malloc((size_t)m->n_final * sizeof *final, err);
    void *cfg = isw_malloc(m->cfg_size, err);
    isw_status st = vals && final && cfg ? ISW_OK : ISW_EINTERNAL;
    if (!st) {
        isw_params_defaults(m->params, m->n_params, vals);
        isw_params_to_cfg(m->params, m->n_params, vals, cfg);
        m->calibration(cfg);
        *took = 1e30;
        for (int i = 0; i < 2 && !st; i++) {
            isw_train_result res;
            double t0 = now_s();
            st = m->train(cfg, 1, NULL, final, &res, err);
            double t = now_s() - t0;
            if (t < *took) *took = t;
        }
        *rate = m->cost(cfg) / (*took > 1e-6 ? *took : 1e-6);
    }
    free(vals);
    free(final);
    free(cfg);
    return st;
}

/* Makespan of tasks taking t[n] seconds (in dispatch order), each handed to the first of w
 * workers to be free. */
static double makespan(const double *t /* [n] */, int64_t n, int w) {
    double *free_at = calloc((size_t)w, sizeof *free_at), end = 0.0;
    if (!free_at) return NAN;
    for (int64_t i = 0; i < n; i++) {
        int k = 0;
        for (int j = 1; j < w; j++)
            if (free_at[j] < free_at[k]) k = j;
        free_at[k] += t[i];
        if (free_at[k] > end) end = free_at[k];
    }
    free(free_at);
    return end;
}

static const char *show_time(char *buf, size_t size, double s) {
    if (s < 120) snprintf(buf, size, "%.3g s", s);
    else if (s < 7200) snprintf(buf, size, "%.3g min", s / 60);
    else if (s < 3 * 86400) snprintf(buf, size, "%.3g h", s / 3600);
    else snprintf(buf, size, "%.3g days", s / 86400);
    return buf;
}

/* Seconds of each task in dispatch order into t[n_tasks]; the longest into *longest. */
static isw_status task_times(const isw_sweep *sw, isw_order order, double rate, double *t, double *longest,
                             isw_error *err) {
    int64_t n = sw->n_tasks;
    int64_t *rows = isw_malloc((size_t)n * sizeof *rows, err);
    if (!rows) return ISW_EINTERNAL;
    for (int64_t i = 0; i < n; i++) rows[i] = i;
    isw_status st = isw_order_rows(sw, order, NULL, rows, n, err);
    *longest = 0.0;
    for (int64_t i = 0; !st && i < n; i++) {
        int64_t k = rows[i] / sw->replicates, p = sw->valid ? sw->valid[k] : k;
        t[i] = isw_sweep_point_cost(sw, p) / rate + TASK_OVERHEAD_S;
        if (t[i] > *longest) *longest = t[i];
    }
    free(rows);
    return st;
}

isw_status plan_print_time(const isw_sweep *sw, isw_order order, isw_error *err) {
    double rate = 1.0, took = 0.0;
    isw_status st = calibrate(sw->model, &rate, &took, err);
    if (st) return st;
    int64_t n = sw->n_tasks;
    double total = 0.0, longest = 0.0;
    char a[32], b[32];
    static const int workers[] = {1, 2, 8, 32, 128};
    if (n <= MAX_SIMULATED_TASKS) {
        double *t = isw_malloc((size_t)n * sizeof *t, err);
        if (!t) return ISW_EINTERNAL;
        if ((st = task_times(sw, order, rate, t, &longest, err))) {
            free(t);
            return st;
        }
        for (int64_t i = 0; i < n; i++) total += t[i];
        printf("time: %s per task on average, %s the longest (calibrated here: %.3g flop/s from a "
               "%.2f s run of the default point, shortened)\n",
               show_time(a, sizeof a, total / (double)n), show_time(b, sizeof b, longest), rate, took);
        printf("  sweep in all, job start included:");
        for (size_t i = 0; i < sizeof workers / sizeof workers[0]; i++)
            printf("%s %d worker%s %s", i ? "," : "", workers[i], workers[i] > 1 ? "s" : "",
                   show_time(a, sizeof a, JOB_START_S + makespan(t, n, workers[i])));
        printf(" (mpirun -np W+1)\n");
        free(t);
        return ISW_OK;
    }
    /* Too many tasks to simulate: the makespan lies between total / w and total / w + longest. */
    for (int64_t k = 0; k < sw->n_valid; k++) {
        double c = isw_sweep_point_cost(sw, sw->valid ? sw->valid[k] : k) / rate + TASK_OVERHEAD_S;
        total += c * (double)sw->replicates;
        if (c > longest) longest = c;
    }
    printf("time: %s per task on average, %s the longest (calibrated here: %.3g flop/s)\n",
           show_time(a, sizeof a, total / (double)n), show_time(b, sizeof b, longest), rate);
    printf("  sweep in all, job start included:");
    for (size_t i = 0; i < sizeof workers / sizeof workers[0]; i++)
        printf("%s %d worker%s about %s", i ? "," : "", workers[i], workers[i] > 1 ? "s" : "",
               show_time(a, sizeof a, JOB_START_S + total / workers[i] + longest / 2));
    printf(" (mpirun -np W+1)\n");
    return ISW_OK;
}
