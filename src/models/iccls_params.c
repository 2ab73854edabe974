/* The iccls model's parameter table, constraints, estimates and schedule: the parts of its
 * descriptor (src/train/iccls.c) that depend on its config alone.
 *
 * The rows come from ISW_ICCLS_PARAMS (include/iclsweep/models/iccls_params.h). The constraints
 * across knobs are the data generator's (isw_iccls_data_check names the knob to blame), so they
 * have one home. The cost and memory models mirror what the trainer does and allocates; both were
 * checked against measurements (bench/iccls/RESULTS.md). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "iclsweep/core/schedule.h"
#include "iclsweep/models/iccls_params.h"

#define ISW_PARAMS_CFG isw_iccls_cfg
const isw_param_def isw_iccls_params[] = {ISW_ICCLS_PARAMS(ISW_PARAM_ROW)};
#undef ISW_PARAMS_CFG

isw_iccls_data_cfg isw_iccls_data_of(const isw_iccls_cfg *c) {
    return (isw_iccls_data_cfg){
        .N = (int)c->N, .Nmax = (int)c->Nmax, .D = (int)c->D, .L = (int)c->L, .K = (int)c->K,
        .K_novel = (int)c->K_novel, .B = (int)c->B, .p_B = c->p_B, .p_C = c->p_C, .eps = c->eps,
        .alpha = c->alpha, .bursty_zipf = c->bursty_classes == ISW_ICCLS_BURSTY_zipf,
        .pos_shift = c->pos_shift == ISW_ICCLS_SHIFT_random,
    };
}

isw_status isw_iccls_check(const void *vcfg, int *blame, char *why, size_t size) {
    const isw_iccls_cfg *c = vcfg;
    isw_iccls_data_cfg data = isw_iccls_data_of(c);
    const char *knob = NULL;
    isw_error err;
    isw_error_clear(&err);
    if (isw_iccls_data_check(&data, &knob, &err) == ISW_OK) return ISW_OK;
    *blame = isw_param_find(isw_iccls_params, ISW_ICCLS_N_PARAMS, knob ? knob : "N");
    const char *msg = err.msg;
    if (!strncmp(msg, "iccls: ", 7)) msg += 7;
    snprintf(why, size, "%s", msg);
    return ISW_EINPUT;
}

void isw_iccls_resolve(void *vcfg) { (void)vcfg; } /* derives nothing */

/* Sequences of the workspace: a training batch, or an evaluation chunk. */
static double work_seqs(const isw_iccls_cfg *c) {
    return (double)c->batch > ISW_ICCLS_EVAL_CHUNK ? (double)c->batch : ISW_ICCLS_EVAL_CHUNK;
}

/* What drawing one normal and writing one token entry cost next to a multiply-add (fitted with
 * plan's estimate against measured task times: bench/iccls/RESULTS.md). */
#define NORMAL_FLOPS 40.0
#define TOKEN_FLOPS 2.0
/* The single-precision kernels run about 1.5x faster (bench/iccls/RESULTS.md). */
#define FLOAT32_SPEEDUP 1.5

/* Flops of a training step of B sequences (forward and backward, in the order of
 * src/models/iccls.c's header: B (2 T d^2 + 24 d^2 + 2 T^2 d + 8 T d + 3 L d) + 6 d^3
 * multiply-adds), and of a forward alone (B (T d^2 + 8 d^2 + T^2 d + 4 T d + L d) + 2 d^3). */
static double step_flops(double B, double T, double d, double L) {
    return 2.0 * (B * (2 * T * d * d + 24 * d * d + 2 * T * T * d + 8 * T * d + 3 * L * d) + 6 * d * d * d);
}

static double forward_flops(double B, double T, double d, double L) {
    return 2.0 * (B * (T * d * d + 8 * d * d + T * T * d + 4 * T * d + L * d) + 2 * d * d * d);
}

/* Training steps (the batch's data, tokens, forward and backward), the four test sets' evaluation
 * at every log point (chunks of ISW_ICCLS_EVAL_CHUNK), and drawing the task and test sets. */
double isw_iccls_cost(const void *vcfg) {
    const isw_iccls_cfg *c = vcfg;
    double N = (double)c->N, D = (double)c->D, T = 2 * N + 1, d = 2 * (double)c->Nmax + 1 + D;
    double L = (double)c->L, B = (double)c->batch, n = 4.0 * (double)c->n_test;
    double data_seq = NORMAL_FLOPS * (N + 1) * D + TOKEN_FLOPS * T * d;
    double compute = (double)c->steps * step_flops(B, T, d, L) +
                     (double)isw_log_points(c->steps, c->log_every) *
                         (forward_flops(n, T, d, L) + 2.0 * d * d * d * ceil(n / ISW_ICCLS_EVAL_CHUNK));
    if (c->precision == ISW_ICCLS_float32) compute /= FLOAT32_SPEEDUP;
    double logs = (double)isw_log_points(c->steps, c->log_every);
    double data = (double)c->steps * B * data_seq + logs * n * TOKEN_FLOPS * T * d +
                  NORMAL_FLOPS * (n * (N + 1) * D + ((double)c->K + L + 2 * (double)c->K_novel) * D);
    return compute + data;
}

/* The process without data: `iclsweep train` of a one-sequence task peaks at ~14 MB (libraries,
 * HDF5 and MPI mapped but not started); the concept model's estimate counts ~16 MB the same way.
 * A worker of a sweep holds more (MPI and HDF5 started: ~17 MB at one rank). */
#define BASE_BYTES (16.0 * 1024 * 1024)

/* Peak bytes of one task: the pages the trainer (src/train/iccls.c) and its engine
 * (src/train/iccls_engine.c) allocate and touch. The weights and gradients (double); the engine's
 * workspace (the ISW_ICCLS_WORK table) for Bw = max(batch, ISW_ICCLS_EVAL_CHUNK) sequences, of
 * which the forward buffers (4 d^2 + Bw (2 T d + T^2 + T + 10 d + L) entries) are touched by the
 * evaluation chunks and the backward ones (2 T d + T + 7 d + L a sequence) by the batch only, and
 * its double tokens; in single precision, the float copy of the weights and gradients, float
 * tokens and the activations widened for the scores on top; the task's class means and label
 * vectors; the four test sets and the batch (include/iclsweep/tasks/iccls.h: float item contents
 * and a few ints per sequence, a novel-bank scratch each); the log history. */
double isw_iccls_memory(const void *vcfg) {
    const isw_iccls_cfg *c = vcfg;
    double N = (double)c->N, D = (double)c->D, L = (double)c->L, T = 2 * N + 1;
    double d = 2 * (double)c->Nmax + 1 + D, Bw = work_seqs(c);
    double params = 9 * d * d + 3 + L * d;
    double work = 4 * d * d + Bw * (2 * T * d + T * T + T + 10 * d + L) +
                  (double)c->batch * (2 * T * d + T + 7 * d + L);
    double tokens = Bw * T * d;
    double bytes = 8.0 * 2 * params + 8.0 * tokens;
    if (c->precision == ISW_ICCLS_float32)
        bytes += 4.0 * (2 * params + work + tokens) + 8.0 * Bw * (L + T * T + T + d);
    else
        bytes += 8.0 * work;
    double per_seq = 4 * (N + 1) * D + 8 * N + 13;
    bytes += per_seq * (4.0 * (double)c->n_test + (double)c->batch) + 5 * 8.0 * (double)c->K_novel * D;
    bytes += 8.0 * ((double)c->K * D + L * D + (double)c->K);
    bytes += 2 * 8.0 * (double)isw_log_points(c->steps, c->log_every);
    return BASE_BYTES + bytes;
}

/* A ~0.1 s run of the default point: steps, evaluation and data in about a task's proportions,
 * and enough steps that a learning rate off by 0.1% moves the losses (the golden test). */
void isw_iccls_calibration(void *vcfg) {
    isw_iccls_cfg *c = vcfg;
    c->steps = 60;
    c->log_every = 30;
    c->n_test = 200;
}

int64_t isw_iccls_log_steps(const void *vcfg, int64_t *steps) {
    const isw_iccls_cfg *c = vcfg;
    return isw_log_schedule(c->steps, c->log_every, steps);
}
