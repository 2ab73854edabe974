/* The linattn model's parameter table, constraints, estimates and schedule: the parts of its
 * descriptor (src/train/linattn.c) that depend on its config alone.
 *
 * The rows come from ISW_LINATTN_PARAMS (include/iclsweep/models/linattn_params.h); this file adds
 * the constraints across parameters, the cost model used to schedule the longest tasks first, the
 * memory estimate and the parameters derived from others. */
#include <math.h>
#include <stdio.h>

#include "iclsweep/models/linattn_params.h"
#include "iclsweep/core/schedule.h"

#define ISW_PARAMS_CFG isw_linattn_cfg
const isw_param_def isw_linattn_params[] = {ISW_LINATTN_PARAMS(ISW_PARAM_ROW)};
#undef ISW_PARAMS_CFG
#define N_PARAMS ISW_LINATTN_N_PARAMS

int64_t isw_linattn_train_prompts(const isw_linattn_cfg *c) {
    if (!(c->alpha > 0.0)) return c->P;
    double p = nearbyint(c->alpha * (double)c->D * (double)c->D);
    return p < 1.0 ? 1 : (int64_t)p;
}

int64_t isw_linattn_batch(const isw_linattn_cfg *c) {
    int64_t P = isw_linattn_train_prompts(c);
    int minibatch = c->optimizer == 0 /* adam */ || c->optimizer == 2 /* sgd */;
    return minibatch && c->batch > 0 && c->batch < P ? c->batch : P;
}

isw_status isw_linattn_check(const void *vcfg, int *blame, char *why, size_t size) {
    const isw_linattn_cfg *c = vcfg;
    int64_t P = isw_linattn_train_prompts(c);
    if (c->batch > P) {
        *blame = isw_param_find(isw_linattn_params, N_PARAMS, "batch");
        snprintf(why, size, "batch (%lld) exceeds the training set P (%lld)", (long long)c->batch,
                 (long long)P);
        return ISW_EINPUT;
    }
    if (P > 100000000) {
        *blame = isw_param_find(isw_linattn_params, N_PARAMS, "alpha");
        snprintf(why, size, "alpha D^2 = %lld training prompts exceeds 1e8", (long long)P);
        return ISW_EINPUT;
    }
    return ISW_OK;
}

/* Mirrors train/linattn.c: drawing the prompts (~50 flop-equivalents per normal draw, which
 * dominates setup), the Gram matrix P Q^2 when the Gram path or the theory needs it, the theory's
 * eigendecomposition ~9 K^3 (D <= 40), the baselines per test prompt (ridge D^2 N, dMMSE M D^2),
 * a step min(4 P Q, 2 Q^2), and the test sets at every log point. */
double isw_linattn_cost(const void *vcfg) {
    const isw_linattn_cfg *c = vcfg;
    double D = (double)c->D, D1 = D + 1, n = (double)c->N, P = (double)isw_linattn_train_prompts(c);
    double q = D1 * D1, K = D1 * D, M = (double)c->M, steps = (double)c->steps;
    double sets = c->M > 0 ? 2.0 : 1.0, test = (double)c->P_test * sets;
    int theory = c->theory && c->D <= 40;
    double data = 50.0 * (P + test) * (n + 1) * D;
    double step_samples = 4.0 * P * q, step_gram = 2.0 * q * q;
    int gram = q <= 4096 && c->grad_path != 2 &&
               (c->grad_path == 1 || (theory ? 0.0 : 0.5 * P * q * q) + steps * step_gram < steps * step_samples);
    double pre = data + ((gram || theory) ? P * q * q : 0.0);
    if (theory) pre += 9.0 * K * K * K + test * (D * D * n + M * D * D);
    double logs = (double)(c->steps / c->log_every + 1);
    return pre + steps * (gram ? step_gram : step_samples) + logs * test * 2.0 * q;
}

/* Peak bytes of one task, mirroring the allocations of train/linattn.c: the prompt sets
 * (2 (D+1) coefficients and a label each), the task pool, the parameters with their optimizer
 * state, the Gram matrix (Q^2, when the Gram path may be taken) and the theory's matrices
 * (a few K x K, K = (D+1) D). The process itself (libraries, MPI and HDF5) is ~20 MB. */
double isw_linattn_memory(const void *vcfg) {
    const isw_linattn_cfg *c = vcfg;
    double D = (double)c->D, D1 = D + 1, q = D1 * D1, K = D1 * D, P = (double)isw_linattn_train_prompts(c);
    double test = (double)c->P_test * (c->M > 0 ? 2.0 : 1.0);
    double dk = c->dk > 0 ? (double)c->dk : D1;
    double theta = c->param == 1 ? 2.0 * dk * D1 : q;
    double sets = 8.0 * (P + test) * (2.0 * D1 + 1.0) + 8.0 * (double)c->M * D;
    double params = 8.0 * (5.0 * theta + 4.0 * q + (P > test ? P : test) * (D1 + 1.0));
    double gram = q <= 4096 ? 8.0 * q * q : 0.0;
    double theory = c->theory && c->D <= 40 ? 4.0 * 8.0 * K * K : 0.0;
    double order = isw_linattn_batch(c) < P ? 8.0 * P : 0.0; /* minibatch runs: the rows' order */
    return 20.0 * 1024 * 1024 + sets + params + gram + theory + order;
}

/* A ~0.1 s run of the default point's kind, for plan's time calibration. */
void isw_linattn_calibration(void *vcfg) {
    isw_linattn_cfg *c = vcfg;
    c->steps = 400;
}

int64_t isw_linattn_log_steps(const void *vcfg, int64_t *steps) {
    const isw_linattn_cfg *c = vcfg;
    return isw_log_schedule(c->steps, c->log_every, steps);
}

/* P from alpha, dk = 0 as D+1, batch as the rows each step reads (P for full-batch steps). */
void isw_linattn_resolve(void *vcfg) {
    isw_linattn_cfg *c = vcfg;
    int64_t P = isw_linattn_train_prompts(c), batch = isw_linattn_batch(c);
    c->P = P;
    c->batch = batch;
    if (c->dk == 0) c->dk = c->D + 1;
}
