/* The iccls companion model's parameter table and the hooks that depend on its config alone
 * (include/iclsweep/models/iccls_companion_params.h). A task is three scalars and a handful of
 * exponentials a step: its cost is its steps, its memory the process. */
#include <stdio.h>

#include "iclsweep/core/schedule.h"
#include "iclsweep/models/iccls_companion_params.h"

#define ISW_PARAMS_CFG isw_iccls_companion_params_cfg
const isw_param_def isw_iccls_companion_params[] = {ISW_ICCLS_COMPANION_PARAMS(ISW_PARAM_ROW)};
#undef ISW_PARAMS_CFG
#define N_PARAMS ISW_ICCLS_COMPANION_N_PARAMS

isw_status isw_iccls_companion_check(const void *vcfg, int *blame, char *why, size_t size) {
    const isw_iccls_companion_params_cfg *c = vcfg;
    if (c->N % c->B != 0 || c->B >= c->N) {
        *blame = isw_param_find(isw_iccls_companion_params, N_PARAMS, "B");
        snprintf(why, size, "B = %lld must divide N = %lld and be < N (a context of M = N/B >= 2 labels)",
                 (long long)c->B, (long long)c->N);
        return ISW_EINPUT;
    }
    if (c->L < c->N / c->B) {
        *blame = isw_param_find(isw_iccls_companion_params, N_PARAMS, "L");
        snprintf(why, size, "L = %lld must be >= N/B = %lld, the distinct labels of a context", (long long)c->L,
                 (long long)(c->N / c->B));
        return ISW_EINPUT;
    }
    return ISW_OK;
}

void isw_iccls_companion_resolve(void *vcfg) { (void)vcfg; } /* derives nothing */

/* A step is ~8 exponentials and logarithms and ~40 flops: ~200 flops' worth; a log point a step
 * more. */
double isw_iccls_companion_cost(const void *vcfg) {
    const isw_iccls_companion_params_cfg *c = vcfg;
    return 200.0 * ((double)c->steps + 1 + (double)isw_log_points(c->steps, c->log_every));
}

/* The process alone (libraries, MPI and HDF5 buffers, as for the other models) and the history
 * of q at the log points. */
double isw_iccls_companion_memory(const void *vcfg) {
    const isw_iccls_companion_params_cfg *c = vcfg;
    return 20.0 * 1024 * 1024 + 16.0 * (double)isw_log_points(c->steps, c->log_every);
}

/* The default task takes well under a millisecond; plan times a longer run so the clock can see
 * it. */
void isw_iccls_companion_calibration(void *vcfg) {
    isw_iccls_companion_params_cfg *c = vcfg;
    c->steps = 1000000;
    c->log_every = 10000;
}

int64_t isw_iccls_companion_log_steps(const void *vcfg, int64_t *steps) {
    const isw_iccls_companion_params_cfg *c = vcfg;
    return isw_log_schedule(c->steps, c->log_every, steps);
}
