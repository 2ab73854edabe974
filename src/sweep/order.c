/* The dispatch order (order.h). Workload: up to ~10^7 tasks over ~10^7 points, ordered once at
 * the start of a run by rank 0: O(points) memory for the ranks, a sort of the rows. */
#include "iclsweep/sweep/order.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const int primes[] = {2,  3,  5,  7,  11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53,
                             59, 61, 67, 71, 73, 79, 83, 89, 97, 101, 103, 107, 109, 113, 127, 131};
#define N_PRIMES ((int)(sizeof primes / sizeof primes[0]))

/* The radical inverse of j in base b: j's digits mirrored behind the point (van der Corput). */
static double radical_inverse(uint64_t j, int b) {
    double inv = 1.0 / b, f = inv, v = 0.0;
    while (j) {
        v += (double)(j % (uint64_t)b) * f;
        j /= (uint64_t)b;
        f *= inv;
    }
    return v;
}

isw_status isw_point_ranks(const isw_sweep *sw, uint32_t *rank, isw_error *err) {
    int64_t P = sw->n_points;
    if (P > (int64_t)UINT32_MAX) return isw_fail(err, ISW_EINTERNAL, "too many grid points to order");
    for (int64_t p = 0; p < P; p++) rank[p] = UINT32_MAX;
    int64_t next = 0, limit = 8 * P + 1024;
    int dims = sw->n_dims < N_PRIMES ? sw->n_dims : N_PRIMES;
    /* Draw 0 is the origin, the first value of every axis. */
    for (uint64_t j = 0; next < P && (int64_t)j < limit; j++) {
        int64_t p = 0;
        for (int d = 0; d < sw->n_dims; d++) {
            int64_t n = sw->dims[d].n;
            int64_t c = d < dims ? (int64_t)(radical_inverse(j, primes[d]) * (double)n) : (int64_t)(j % (uint64_t)n);
            p = p * n + (c < n ? c : n - 1);
        }
        if (rank[p] == UINT32_MAX) rank[p] = (uint32_t)next++;
    }
    for (int64_t p = 0; p < P; p++)
        if (rank[p] == UINT32_MAX) rank[p] = (uint32_t)next++;
    return ISW_OK;
}

/* One row's sort key. */
typedef struct {
    double cost;    /* estimated cost (longest-first) */
    int cls;        /* cost class: 0 for tasks within a factor 2 of the longest, 1 the next, ... */
    int64_t rep;    /* replicate */
    uint32_t where; /* the point's coarse-to-fine rank */
    int64_t row;
} order_key;

static int by_cost(const void *a, const void *b) {
    const order_key *x = a, *y = b;
    if (x->cost != y->cost) return x->cost < y->cost ? 1 : -1;
    return (x->row > y->row) - (x->row < y->row);
}

static int by_key(const void *a, const void *b) {
    const order_key *x = a, *y = b;
    if (x->cls != y->cls) return x->cls - y->cls;
    if (x->rep != y->rep) return x->rep < y->rep ? -1 : 1;
    if (x->where != y->where) return x->where < y->where ? -1 : 1;
    return (x->row > y->row) - (x->row < y->row);
}

isw_status isw_order_rows(const isw_sweep *sw, isw_order order, const int64_t *task, int64_t *rows, int64_t n,
                          isw_error *err) {
    uint32_t *rank = isw_malloc((size_t)sw->n_points * sizeof *rank, err);
    double *cost = isw_malloc((size_t)sw->n_valid * sizeof *cost, err);
    order_key *keys = isw_malloc(((size_t)n + 1) * sizeof *keys, err);
    isw_status rc = rank && cost && keys ? isw_point_ranks(sw, rank, err) : ISW_EINTERNAL;
    double longest = 0;
    for (int64_t k = 0; !rc && k < sw->n_valid; k++) {
        cost[k] = isw_sweep_point_cost(sw, sw->valid ? sw->valid[k] : k);
        if (cost[k] > longest) longest = cost[k];
    }
    for (int64_t i = 0; !rc && i < n; i++) {
        int64_t t = task ? task[rows[i]] : rows[i], k = t / sw->replicates;
        double ratio = cost[k] > 0 && longest > 0 ? longest / cost[k] : 1.0;
        keys[i].cost = cost[k];
        keys[i].cls = ratio > 1.0 ? (int)floor(log2(ratio)) : 0;
        keys[i].rep = t % sw->replicates;
        keys[i].where = rank[sw->valid ? sw->valid[k] : k];
        keys[i].row = rows[i];
    }
    if (!rc) {
        qsort(keys, (size_t)n, sizeof *keys, order == ISW_ORDER_LONGEST ? by_cost : by_key);
        for (int64_t i = 0; i < n; i++) rows[i] = keys[i].row;
    }
    free(rank);
    free(cost);
    free(keys);
    return rc;
}
