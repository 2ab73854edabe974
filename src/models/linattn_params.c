/* The linattn model's parameter table, constraints and cost estimate.
 *
 * The rows come from ISW_LINATTN_PARAMS (include/iclsweep/linattn_params.h); this file adds the
 * constraints across parameters and the cost model used to schedule the longest tasks first. */
#include <stdio.h>

#include "iclsweep/linattn_params.h"
#include "iclsweep/model.h"

#define ISW_PARAMS_CFG isw_linattn_cfg
const isw_param_def isw_linattn_params[] = {ISW_LINATTN_PARAMS(ISW_PARAM_ROW)};
#undef ISW_PARAMS_CFG
#define N_PARAMS ((int)(sizeof isw_linattn_params / sizeof isw_linattn_params[0]))

static isw_status linattn_check(const void *vcfg, int *blame, char *why, size_t size) {
    const isw_linattn_cfg *c = vcfg;
    if (c->batch > c->P) {
        *blame = isw_param_find(isw_linattn_params, N_PARAMS, "batch");
        snprintf(why, size, "batch (%lld) exceeds the training set P (%lld)", (long long)c->batch,
                 (long long)c->P);
        return ISW_EINPUT;
    }
    return ISW_OK;
}

/* Data and precomputation are O(P N D) plus the Gram matrix O(P (D+1)^4) once; a full-batch step
 * costs the cheaper of O(P (D+1)^2) (samples) and O((D+1)^4) (Gram); evaluation O(P_test N D). */
static double linattn_cost(const void *vcfg) {
    const isw_linattn_cfg *c = vcfg;
    double D1 = (double)c->D + 1, n = (double)c->N, P = (double)c->P;
    double q = D1 * D1;
    double step_samples = 4.0 * P * q, step_gram = 2.0 * q * q;
    double step = step_samples < step_gram ? step_samples : step_gram;
    double pre = 2.0 * P * n * D1 + (step_gram < step_samples ? P * q * q : 0.0);
    double logs = (double)(c->steps / c->log_every + 1);
    double eval = (double)c->P_test * (2.0 * n * D1 + 2.0 * q + n * D1 * D1);
    return pre + (double)c->steps * step + logs * eval;
}

const isw_model_info isw_linattn_model = {
    .name = "linattn",
    .summary = "linear attention on in-context linear regression, the spin-glass model (Li et al. 2024)",
    .params = isw_linattn_params,
    .n_params = N_PARAMS,
    .cfg_size = sizeof(isw_linattn_cfg),
    .check = linattn_check,
    .cost = linattn_cost,
};
