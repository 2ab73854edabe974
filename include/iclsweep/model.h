/* The models iclsweep knows, as seen by the layers that do not train them (spec, cli, store).
 *
 * Each entry carries the model's parameter table (include/iclsweep/<model>_params.h), its
 * cross-parameter constraints and a relative cost estimate. The training entry points live in
 * train/ (include/iclsweep/train.h); this registry stays free of MPI, HDF5 and training code. */
#ifndef ICLSWEEP_MODEL_H
#define ICLSWEEP_MODEL_H

#include <stddef.h>

#include "iclsweep/params.h"

typedef struct {
    const char *name;    /* "concept" */
    const char *summary; /* one line */
    const isw_param_def *params;
    int n_params;
    size_t cfg_size; /* sizeof the model's typed config struct */
    /* Cross-parameter constraints of one resolved point. Returns ISW_OK, or ISW_EINPUT with the
     * reason in why[size] and the index (into params) of the parameter to blame in *blame. */
    isw_status (*check)(const void *cfg, int *blame, char *why, size_t size);
    /* Relative cost of training cfg to the end, in floating-point operations (estimate). */
    double (*cost)(const void *cfg);
} isw_model_info;

/* The model named `name`, or NULL. */
const isw_model_info *isw_model_find(const char *name);
/* Number of models and the i-th one (registry order). */
int isw_model_count(void);
const isw_model_info *isw_model_at(int i);
/* "concept|linattn": the names, for messages. */
const char *isw_model_names(void);

#endif
