/* The result file's layout for a sweep: what the sweep layer hands the store (store.h), built
 * from the parsed sweep and its model's descriptor. It owns the root attributes' text and the
 * scratch the row callback resolves tasks with. */
#ifndef ICLSWEEP_SWEEP_LAYOUT_H
#define ICLSWEEP_SWEEP_LAYOUT_H

#include "iclsweep/spec/spec.h"
#include "iclsweep/store/store.h"
#include "iclsweep/train/model.h"

#define ISW_LAYOUT_MAX_ATTRS 12

typedef struct {
    isw_store_layout lay;
    const isw_sweep *sw;
    isw_store_attr attrs[ISW_LAYOUT_MAX_ATTRS];
    unsigned char *derived; /* [n_params] */
    char spec_hash[32], seed[32], generator[128], shard[48];
    char *grid;             /* the grid attribute (JSON) */
    char *origins;          /* the origins attribute (JSON): files rows were copied from */
    char *theory;           /* the theory attribute (JSON): the model's headline, levels, marks */
    isw_metric_def *theory_defs; /* [n_levels + n_marks] the /theory columns */
    int64_t *tasks;         /* [lay.T] the sweep's task of each row (a shard), or NULL: row = task */
    double *vals;           /* [n_params] scratch: values as set */
    void *cfg;              /* scratch: the model's config struct */
} isw_layout;

/* Builds the layout of sw's result file: the whole sweep (shard_n = 0), or shard shard_k of
 * shard_n (1 <= shard_k <= shard_n), a deterministic part of the tasks balanced by estimated
 * cost. Free with isw_layout_free. */
isw_status isw_layout_make(isw_layout *L, const isw_sweep *sw, int shard_k, int shard_n, isw_error *err);
/* Sets the origins attribute (JSON text, copied): the files --from or merge copies rows from. */
isw_status isw_layout_set_origins(isw_layout *L, const char *json, isw_error *err);
void isw_layout_free(isw_layout *L);

#endif
