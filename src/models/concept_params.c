/* The concept model's parameter table, constraints, estimates and schedule: the parts of its
 * descriptor (src/train/concept.c) that depend on its config alone.
 *
 * The rows come from ISW_CONCEPT_PARAMS (include/iclsweep/models/concept_params.h); this file only
 * adds what a table cannot say: constraints across parameters, the cost model the scheduler uses
 * to start the longest tasks first, the memory estimate, and the config the data generator reads. */
#include <math.h>
#include <stdio.h>

#include "iclsweep/models/concept_params.h"
#include "iclsweep/core/schedule.h"

#define ISW_PARAMS_CFG isw_concept_cfg
const isw_param_def isw_concept_params[] = {ISW_CONCEPT_PARAMS(ISW_PARAM_ROW)};
#undef ISW_PARAMS_CFG
#define N_PARAMS ISW_CONCEPT_N_PARAMS

static int param_index(const char *name) {
    return isw_param_find(isw_concept_params, N_PARAMS, name);
}

isw_status isw_concept_check(const void *vcfg, int *blame, char *why, size_t size) {
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

/* Drawing a dense word: d normal draws and a few atom axpys; a coded one: one normal and one
 * stream word per atom. Counted as 60 and 250 flops' worth of time per dimension and per atom
 * next to the forward passes' flops, so that one time scale (plan's calibration) covers both;
 * set together with eval_prompt_flops so that plan's estimate falls within 0.76-1.09x of the
 * measured task time from steps 0 (generation only) to 2000 steps at the default point. */
#define DENSE_FLOPS_PER_DIM 60.0
#define CODED_FLOPS_PER_ATOM 250.0

/* Generation cost of a task: its training set (or B fresh prompts a step) in dense words, every
 * evaluation set in coded words once when kept, else once per log point. */
static double generation_flops(const isw_concept_cfg *c, double logs) {
    double d = (double)c->d, na = (double)isw_concept_atoms(c);
    double dense = c->n_train > 0 ? (double)c->n_train * (double)(c->L + 1)
                                  : (double)(c->steps + 1) * (double)c->batch * (double)(c->L + 1);
    double coded = 0.0, queries = 0.0;
    for (int i = 0; i < ISW_CEVAL_N; i++) {
        double times = isw_concept_eval_kept(c, i) ? 1.0 : logs;
        coded += (double)c->n_test * (double)isw_concept_eval_L(c, i) * times;
        queries += (double)c->n_test * times;
    }
    return DENSE_FLOPS_PER_DIM * d * (dense + queries) + CODED_FLOPS_PER_ATOM * na * coded;
}

/* Flops of one prompt's evaluation forward (u = (W_Q^T W_K) x_q, d^2; the MLP on the label
 * coefficients, 2K m) with its demonstrations' scores dense (L d) or coded (projections on the na
 * atoms, na d, then L na), plus what is not flops but costs as much: per demonstration its exp,
 * label and attention bookkeeping (~150 flops' worth), per prompt loading its labels and query,
 * its loss and its caw cell (~4400). Fitted to measured evaluation times at the default point
 * (100 log points of 200 steps: 22 ms each against 0.38 ms per training step). */
static double eval_prompt_flops(const isw_concept_cfg *c, double L, int coded) {
    double d = (double)c->d, na = (double)isw_concept_atoms(c);
    double scores = coded ? na * d + L * na : L * d;
    return 2.0 * (d * d + scores + 2.0 * (double)c->K * (double)c->width + 150.0 * L + 4400.0);
}

/* Training steps (forward and backward: ~3 forwards), evaluation at every log point (the test
 * set and the five OOD sets, coded; the training set too when it is fixed) and data generation. */
double isw_concept_cost(const void *vcfg) {
    const isw_concept_cfg *c = vcfg;
    double train = 3.0 * (double)(c->steps + 1) * (double)c->batch * prompt_flops(c, (double)c->L);
    double logs = (double)(c->steps / c->log_every + 1);
    double eval = (double)c->n_test *
                  (4.0 * eval_prompt_flops(c, (double)c->L, 1) + eval_prompt_flops(c, (double)c->L_short, 1) +
                   eval_prompt_flops(c, (double)c->L_long, 1)) +
                  (double)c->n_train * eval_prompt_flops(c, (double)c->L, 0);
    return train + logs * eval + generation_flops(c, logs);
}

/* A ~0.1 s run that exercises every part of a task (generation, steps, evaluation) in about the
 * default point's proportions, for plan's time calibration. */
void isw_concept_calibration(void *vcfg) {
    isw_concept_cfg *c = vcfg;
    c->n_train = 256;
    c->n_test = 128;
    c->steps = 100;
    c->log_every = 20;
}

int64_t isw_concept_eval_L(const isw_concept_cfg *c, int set) {
    return set == ISW_CEVAL_SHORT ? c->L_short : set == ISW_CEVAL_LONG ? c->L_long : c->L;
}

/* Per prompt: a label and a polarity byte per token, two concepts; dense: (L + 1) words of d
 * floats; coded: the query word, and per demonstration na coefficient bytes and a double. */
double isw_concept_prompt_bytes(double n, double L, double d, double na, int coded) {
    double words = coded ? 4.0 * d + L * (na + 8.0) : (L + 1.0) * 4.0 * d;
    return n * (words + 2.0 * (L + 1.0) + 8.0);
}

static double eval_set_bytes(const isw_concept_cfg *c, int set) {
    return isw_concept_prompt_bytes((double)c->n_test, (double)isw_concept_eval_L(c, set), (double)c->d,
                                    (double)isw_concept_atoms(c), 1);
}

int isw_concept_eval_kept(const isw_concept_cfg *c, int set) {
    double total = 0.0;
    for (int i = 0; i <= set; i++) total += eval_set_bytes(c, i);
    return total <= ISW_CONCEPT_EVAL_KEEP_BYTES;
}

/* The process without data (libraries, MPI and HDF5 buffers): measured ~16 MB for a one-prompt
 * task of `iclsweep train`; a worker of a sweep holds a few MB more. */
#define BASE_BYTES (20.0 * 1024 * 1024)

/* Peak bytes of one task: what run_setup in src/train/concept.c allocates. */
double isw_concept_memory(const void *vcfg) {
    const isw_concept_cfg *c = vcfg;
    double d = (double)c->d, K = (double)c->K, dh = c->d_h ? (double)c->d_h : 2.0 * d;
    double m = (double)c->width, B = (double)c->batch;
    double Bmax = B > ISW_CONCEPT_EVAL_CHUNK ? B : ISW_CONCEPT_EVAL_CHUNK;
    double Lmax = (double)c->L;
    if ((double)c->L_short > Lmax) Lmax = (double)c->L_short;
    if ((double)c->L_long > Lmax) Lmax = (double)c->L_long;
    double na = (double)isw_concept_atoms(c);
    double dict = 8.0 * d * (4.0 * K + (double)c->K_irr);
    double train = c->n_train > 0 ? isw_concept_prompt_bytes((double)c->n_train, (double)c->L, d, na, 0) +
                                        4.0 * (double)c->n_train
                                  : isw_concept_prompt_bytes(B, (double)c->L, d, na, 0);
    double eval = 0.0;
    for (int i = 0; i < ISW_CEVAL_N; i++) {
        double n = isw_concept_eval_kept(c, i) ? (double)c->n_test
                 : fmin((double)c->n_test, ISW_CONCEPT_EVAL_CHUNK);
        eval += isw_concept_prompt_bytes(n, (double)isw_concept_eval_L(c, i), d, na, 1);
    }
    double widened = 8.0 * Bmax * (double)c->L * d; /* a dense batch's words as doubles */
    double net = 2.0 * 8.0 * (2.0 * dh * d + m * d + 2.0 * d * d);
    double work = 8.0 * (Bmax * (2.0 * dh + 4.0 * d + 2.0 * Lmax + 2.0 * m + 2.0 + 4.0 * K + na) +
                         d * d + 4.0 * m * K + Bmax * Lmax);
    double probes = 8.0 * (double)c->n_probe * d;
    return BASE_BYTES + dict + train + eval + widened + net + work + probes;
}

int64_t isw_concept_log_steps(const void *vcfg, int64_t *steps) {
    const isw_concept_cfg *c = vcfg;
    return isw_log_schedule(c->steps, c->log_every, steps);
}

/* d_h = 0 means 2d. */
void isw_concept_resolve(void *vcfg) {
    isw_concept_cfg *c = vcfg;
    if (c->d_h == 0) c->d_h = 2 * c->d;
}

isw_concept_data isw_concept_data_of(const isw_concept_cfg *c) {
    return (isw_concept_data){
        .d = (int)c->d, .K = (int)c->K, .K_irr = (int)c->K_irr,
        .norm_a = c->norm_a, .norm_b = c->norm_b, .norm_nu = c->norm_nu,
        .norm_c = c->norm_c, .norm_d = c->norm_d,
        .p_poly = c->p_poly, .p_irr = c->p_irr, .noise = c->noise,
        .concept_skew = c->concept_skew, .label_flip = c->label_flip, .ood_skew = c->ood_skew,
        .label_map_fixed = c->label_map == 1,
    };
}
