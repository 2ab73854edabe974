/* The order in which the master hands out tasks.
 *
 * Two aims pull apart: long tasks should start early (so the last one to finish is short and the
 * makespan stays near longest-first), and any prefix of the sweep should be a coarse map of the
 * whole grid (so a sweep stopped at 15% has touched every axis value, not one corner). The order
 * below serves both: tasks fall into cost classes (within a factor of 2 of each other), longest
 * class first; within a class, replicate 0 of every point comes before replicate 1, and points come
 * in a low-discrepancy (Halton) order over the grid's dimensions, so every prefix is spread over
 * every axis. With equal costs (the usual phase diagram) the order is purely coarse-to-fine. */
#ifndef ICLSWEEP_SWEEP_ORDER_H
#define ICLSWEEP_SWEEP_ORDER_H

#include <stdint.h>

#include "iclsweep/spec/spec.h"
#include "iclsweep/sweep/sweep.h"

/* Orders rows[n] (rows of the result file) in place for dispatch. task[row] is the sweep's task
 * of each row (NULL: the row is the task). */
isw_status isw_order_rows(const isw_sweep *sw, isw_order order, const int64_t *task, int64_t *rows, int64_t n,
                          isw_error *err);

/* The coarse-to-fine rank of every grid point into rank[n_points] (0 = first): a Halton sequence
 * over the dimensions (one prime base each), each draw taking the grid cell it falls in if still
 * free; cells it never reaches follow in index order. */
isw_status isw_point_ranks(const isw_sweep *sw, uint32_t *rank, isw_error *err);

#endif
