/* `iclsweep plan`: the dispatch order, and what a prefix of it covers. A sweep stopped early (a
 * time limit, a preemption) has run a prefix of this order; the coarse-to-fine order makes every
 * prefix a map of the whole grid, and plan shows how much of each axis the first 10%, 20% and 50%
 * of the tasks touch. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "iclsweep/sweep/order.h"
#include "cli.h"

#define MAX_COVERAGE_TASKS 2000000 /* above this, the order is not computed just for plan */

/* Prints, for the first `count` tasks of order[], how many values of each dimension they touch. */
static void print_coverage(const isw_sweep *sw, const int64_t *order, int64_t count, int percent) {
    printf("  first %3d%% (%lld tasks):", percent, (long long)count);
    for (int d = 0; d < sw->n_dims; d++) {
        const isw_dim *dim = &sw->dims[d];
        unsigned char *seen = calloc((size_t)dim->n, 1);
        if (!seen) return;
        int64_t stride = 1, touched = 0;
        for (int e = d + 1; e < sw->n_dims; e++) stride *= sw->dims[e].n;
        for (int64_t i = 0; i < count; i++) {
            int64_t k = order[i] / sw->replicates, p = sw->valid ? sw->valid[k] : k, c = (p / stride) % dim->n;
            touched += !seen[c];
            seen[c] = 1;
        }
        free(seen);
        printf(" %s %lld/%lld", sw->model->params[sw->axes[dim->first_axis].param].name, (long long)touched,
               (long long)dim->n);
    }
    printf("\n");
}

isw_status plan_print_dispatch(const isw_sweep *sw, isw_order order, long long list, isw_error *err) {
    static const char *const names[] = ISW_ORDER_NAMES;
    if (sw->n_tasks > MAX_COVERAGE_TASKS || sw->n_dims == 0) return ISW_OK;
    int64_t *rows = isw_malloc((size_t)sw->n_tasks * sizeof *rows, err);
    if (!rows) return ISW_EINTERNAL;
    for (int64_t t = 0; t < sw->n_tasks; t++) rows[t] = t;
    isw_status st = isw_order_rows(sw, order, NULL, rows, sw->n_tasks, err);
    if (!st) {
        printf("dispatch order (%s): what a sweep stopped early has covered, values touched per axis:\n",
               names[order]);
        static const int percents[] = {10, 20, 50};
        for (int i = 0; i < 3; i++) {
            int64_t count = (sw->n_tasks * percents[i] + 99) / 100;
            print_coverage(sw, rows, count, percents[i]);
        }
        if (list > 0) {
            printf("  first tasks handed out:");
            for (long long i = 0; i < list && i < sw->n_tasks; i++) printf(" %lld", (long long)rows[i]);
            printf("\n");
        }
    }
    free(rows);
    return st;
}
