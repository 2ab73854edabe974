/* The concept model's parameter table, constraints and cost estimate.
 *
 * The rows come from ISW_CONCEPT_PARAMS (include/iclsweep/concept_params.h); this file only adds
 * what a table cannot say: constraints across parameters and the cost model the scheduler uses to
 * start the longest tasks first. */
#include <math.h>
#include <stdio.h>

#include "iclsweep/concept_params.h"
#include "iclsweep/model.h"
#include "iclsweep/schedule.h"

#define ISW_PARAMS_CFG isw_concept_cfg
const isw_param_def isw_concept_params[] = {ISW_CONCEPT_PARAMS(ISW_PARAM_ROW)};
#undef ISW_PARAMS_CFG
#define N_PARAMS ((int)(sizeof isw_concept_params / sizeof isw_concept_params[0]))

static int param_index(const char *name) {
    return isw_param_find(isw_concept_params, N_PARAMS, name);
}

static isw_status concept_check(const void *vcfg, int *blame, char *why, size_t size) {
    const isw_concept_cfg *c = vcfg;
    if (c->d < 2 * c->K + c->K_irr) {
        *blame = param_index("d");
        snprintf(why, size, "needs d >= 2K + K_irr = %lld for mutually orthogonal atoms, got d = %lld",
                 (long long)(2 * c->K + c->K_irr), (long long)c->d);
        return ISW_EINPUT;
    }
    if (c->width % 2 != 0) {
        *blame = param_index("width");
        snprintf(why, size, "width must be even (half the neurons have a_r = +1/m, half -1/m), got %lld",
                 (long long)c->width);
        return ISW_EINPUT;
    }
    if (c->n_train > 0 && c->batch > c->n_train) {
        *blame = param_index("batch");
        snprintf(why, size, "batch (%lld) exceeds the training set n_train (%lld)",
                 (long long)c->batch, (long long)c->n_train);
        return ISW_EINPUT;
    }
    return ISW_OK;
}

/* Flops of one prompt's forward pass with L demonstrations: scores x_l^T (W_K^T (W_Q x_q)) cost
 * two d_h x d products plus L dot products of length d; the attention output is O(L) work on the
 * label coefficients, the MLP m dots of length d. */
static double prompt_flops(const isw_concept_cfg *c, double L) {
    double d = (double)c->d, dh = c->d_h ? (double)c->d_h : 2.0 * d;
    return 2.0 * (2.0 * dh * d + L * d + (double)c->width * d);
}

/* Drawing one word: d normal draws (Box-Muller: a Philox block, a log and a sincos per two) and
 * a few atom axpys. Measured as ~600 flops' worth of time per draw next to the forward passes'
 * flops, which is what lets one time scale (plan's calibration) cover both. */
#define WORD_FLOPS_PER_DIM 600.0

/* The words a task draws: its training set (or B fresh prompts a step), every evaluation set
 * once when kept, else once per log point. */
static double words_drawn(const isw_concept_cfg *c, double logs) {
    double words = c->n_train > 0 ? (double)c->n_train * (double)(c->L + 1)
                                  : (double)(c->steps + 1) * (double)c->batch * (double)(c->L + 1);
    for (int i = 0; i < ISW_CEVAL_N; i++)
        words += (double)c->n_test * (double)(isw_concept_eval_L(c, i) + 1) *
                 (isw_concept_eval_kept(c, i) ? 1.0 : logs);
    return words;
}

/* Training steps (forward and backward: ~3 forwards), evaluation at every log point (the test
 * set and the five OOD sets; the training set too when it is fixed) and data generation. */
static double concept_cost(const void *vcfg) {
    const isw_concept_cfg *c = vcfg;
    double train = 3.0 * (double)(c->steps + 1) * (double)c->batch * prompt_flops(c, (double)c->L);
    double logs = (double)(c->steps / c->log_every + 1);
    double eval = (double)c->n_test *
                  (4.0 * prompt_flops(c, (double)c->L) + prompt_flops(c, (double)c->L_short) +
                   prompt_flops(c, (double)c->L_long)) +
                  (double)c->n_train * prompt_flops(c, (double)c->L);
    return train + logs * eval + WORD_FLOPS_PER_DIM * (double)c->d * words_drawn(c, logs);
}

/* A ~0.1 s run that exercises every part of a task (generation, steps, evaluation) in about the
 * default point's proportions, for plan's time calibration. */
static void concept_calibration(void *vcfg) {
    isw_concept_cfg *c = vcfg;
    c->n_train = 256;
    c->n_test = 128;
    c->steps = 100;
    c->log_every = 20;
}

int64_t isw_concept_eval_L(const isw_concept_cfg *c, int set) {
    return set == ISW_CEVAL_SHORT ? c->L_short : set == ISW_CEVAL_LONG ? c->L_long : c->L;
}

/* Per prompt: (L + 1) words of d doubles, a label and a polarity byte per word, two concepts. */
double isw_concept_prompt_bytes(double n, double L, double d) {
    return n * ((L + 1.0) * (8.0 * d + 2.0) + 8.0);
}

static double eval_set_bytes(const isw_concept_cfg *c, int set) {
    return isw_concept_prompt_bytes((double)c->n_test, (double)isw_concept_eval_L(c, set), (double)c->d);
}

int isw_concept_eval_kept(const isw_concept_cfg *c, int set) {
    double total = 0.0;
    for (int i = 0; i <= set; i++) total += eval_set_bytes(c, i);
    return total <= ISW_CONCEPT_EVAL_KEEP_BYTES;
}

/* The process without data (libraries, MPI and HDF5 buffers): measured ~16 MB for a one-prompt
 * task of `iclsweep train`; a worker of a sweep holds a few MB more. */
#define BASE_BYTES (20.0 * 1024 * 1024)

/* Peak bytes of one task: what run_setup in src/train/concept_train.c allocates. */
static double concept_memory(const void *vcfg) {
    const isw_concept_cfg *c = vcfg;
    double d = (double)c->d, K = (double)c->K, dh = c->d_h ? (double)c->d_h : 2.0 * d;
    double m = (double)c->width, B = (double)c->batch;
    double Bmax = B > ISW_CONCEPT_EVAL_CHUNK ? B : ISW_CONCEPT_EVAL_CHUNK;
    double Lmax = (double)c->L;
    if ((double)c->L_short > Lmax) Lmax = (double)c->L_short;
    if ((double)c->L_long > Lmax) Lmax = (double)c->L_long;
    double dict = 8.0 * d * (4.0 * K + (double)c->K_irr);
    double train = c->n_train > 0 ? isw_concept_prompt_bytes((double)c->n_train, (double)c->L, d) +
                                        4.0 * (double)c->n_train
                                  : isw_concept_prompt_bytes(B, (double)c->L, d);
    double eval = 0.0;
    for (int i = 0; i < ISW_CEVAL_N; i++) {
        double n = isw_concept_eval_kept(c, i) ? (double)c->n_test
                 : fmin((double)c->n_test, ISW_CONCEPT_EVAL_CHUNK);
        eval += isw_concept_prompt_bytes(n, (double)isw_concept_eval_L(c, i), d);
    }
    double net = 2.0 * 8.0 * (2.0 * dh * d + m * d + 2.0 * d * d);
    double work = 8.0 * (Bmax * (2.0 * dh + 4.0 * d + 2.0 * Lmax + 2.0 * m + 2.0 + 4.0 * K) + d * d +
                         4.0 * m * K + Bmax * Lmax);
    double probes = 8.0 * (double)c->n_probe * d;
    return BASE_BYTES + dict + train + eval + net + work + probes;
}

static int64_t concept_log_steps(const void *vcfg, int64_t *steps) {
    const isw_concept_cfg *c = vcfg;
    int64_t n = isw_log_points(c->steps, c->log_every);
    for (int64_t i = 0; steps && i < n; i++) steps[i] = isw_log_step(i, c->steps, c->log_every);
    return n;
}

/* d_h = 0 means 2d. */
static void concept_resolve(void *vcfg) {
    isw_concept_cfg *c = vcfg;
    if (c->d_h == 0) c->d_h = 2 * c->d;
}

const isw_model_info isw_concept_model = {
    .name = "concept",
    .summary = "softmax attention + ReLU MLP on multi-concept sparse-coding prompts (Bu et al. 2024)",
    .params = isw_concept_params,
    .n_params = N_PARAMS,
    .cfg_size = sizeof(isw_concept_cfg),
    .check = concept_check,
    .cost = concept_cost,
    .memory = concept_memory,
    .calibration = concept_calibration,
    .log_steps = concept_log_steps,
    .derived = "d_h",
    .resolve = concept_resolve,
    .version = "concept/2",
};
