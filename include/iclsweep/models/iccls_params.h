/* The iccls model's parameters (docs/science.md, model iccls; Reddy, ICLR 2024): the one table of
 * its knobs.
 *
 * Columns: X(name, TYPE, default, lo, hi, choices, units, meaning). Validation, `iclsweep params
 * iccls`, docs/params.md, task identities and HDF5 /tasks columns are all generated from this
 * list. The defaults are the calibrated default point (bench/iccls/calibration.md): the abrupt
 * transition within a few CPU-minutes in every seed tried, not the paper's size (N 8, L 32, D 63,
 * Nmax 32, K 512, B 2, batch 128, lr 0.01), which costs 1-16 CPU-hours a task. */
#ifndef ICLSWEEP_ICCLS_PARAMS_H
#define ICLSWEEP_ICCLS_PARAMS_H

#include <stdint.h>

#include "iclsweep/core/params.h"
#include "iclsweep/tasks/iccls.h"

/* The choices of the CHOICE knobs, listed once each: X(name) with SEP between; the table's
 * choices strings and the enums below come from them. */
#define ISW_ICCLS_BURSTY_CLASSES(X, SEP) X(uniform) SEP X(zipf)
#define ISW_ICCLS_POS_SHIFTS(X, SEP) X(random) SEP X(none)
#define ISW_ICCLS_PRECISIONS(X, SEP) X(float64) SEP X(float32)
#define ISW_ICCLS_CHOICE_STR_(name) #name
#define ISW_ICCLS_BURSTY_ENUM_(name) ISW_ICCLS_BURSTY_##name,
#define ISW_ICCLS_SHIFT_ENUM_(name) ISW_ICCLS_SHIFT_##name,
#define ISW_ICCLS_PREC_ENUM_(name) ISW_ICCLS_##name,
enum { ISW_ICCLS_BURSTY_CLASSES(ISW_ICCLS_BURSTY_ENUM_, ) ISW_ICCLS_BURSTY_N };
enum { ISW_ICCLS_POS_SHIFTS(ISW_ICCLS_SHIFT_ENUM_, ) ISW_ICCLS_SHIFT_N };
enum { ISW_ICCLS_PRECISIONS(ISW_ICCLS_PREC_ENUM_, ) ISW_ICCLS_PREC_N };

#define ISW_ICCLS_PARAMS(X)                                                                         \
    /* data */                                                                                      \
    X(N, INT, 4, 1, 1024, NULL, "pairs", "item-label pairs in a sequence's context (T = 2N + 1 tokens)") \
    X(Nmax, INT, 8, 1, 1024, NULL, "pairs",                                                         \
      "longest context the position one-hots hold: P = 2 Nmax + 1 of the token width d = P + D")   \
    X(D, INT, 31, 1, 4096, NULL, "", "content width of items and labels")                          \
    X(L, INT, 16, 2, 65536, NULL, "labels", "labels (logits); class k has label k mod L")          \
    X(K, INT, 1024, 1, 1e7, NULL, "classes", "training classes (a multiple of L)")                 \
    X(K_novel, INT, 128, 1, 1e6, NULL, "classes",                                                  \
      "classes of a novel bank, drawn fresh per batch and per test set (a multiple of L)")          \
    X(B, INT, 1, 0, 1024, NULL, "copies",                                                          \
      "burstiness: copies of each class in a bursty context (divides N, < N); 0: no bursty "        \
      "training sequences (the ic and ic2 sets then use N/2 copies)")                               \
    X(p_B, REAL, 1.0, 0, 1, NULL, "probability",                                                   \
      "chance that a training sequence of the training classes is bursty (else non-bursty)")       \
    X(p_C, REAL, 0.0, 0, 1, NULL, "probability",                                                   \
      "chance that a training sequence is novel: bursty over a fresh bank of K_novel classes")     \
    X(eps, REAL, 0.1, 0, 1e3, NULL, "", "within-class noise: x = (mu_k + eps eta) / sqrt(1 + eps^2)") \
    X(alpha, REAL, 0.0, 0, 100, NULL, "", "Zipf exponent of the class frequencies P(k) ~ (k+1)^-alpha") \
    X(bursty_classes, CHOICE, 0, 0, 0, ISW_ICCLS_BURSTY_CLASSES(ISW_ICCLS_CHOICE_STR_, "|"), "",    \
      "classes of a bursty context: uniform (the author's code) or from P(k) (zipf), distinct labels") \
    X(pos_shift, CHOICE, 0, 0, 0, ISW_ICCLS_POS_SHIFTS(ISW_ICCLS_CHOICE_STR_, "|"), "",             \
      "positions shifted by s ~ U{0..P-T} per sequence (random: only relative position is seen) or not") \
    X(n_test, INT, 1000, 1, 1e7, NULL, "sequences",                                                \
      "sequences in each of the four test sets (test, ic, ic2, iw); progress measures on the first 1000 of ic") \
    /* training */                                                                                  \
    X(precision, CHOICE, 0, 0, 0, ISW_ICCLS_PRECISIONS(ISW_ICCLS_CHOICE_STR_, "|"), "",             \
      "kernels in double (reproducible across machines) or single precision (~1.5x faster; "      \
      "numbers reproducible on one machine only)")                                                  \
    X(lr, REAL, 0.1, 0, 1e6, NULL, "", "learning rate (SGD step)")                                \
    X(batch, INT, 64, 1, 1e6, NULL, "sequences", "fresh training sequences per step")              \
    X(steps, INT, 20000, 0, 1e9, NULL, "steps", "training steps")                                  \
    X(log_every, INT, 100, 1, 1e9, NULL, "steps", "steps between logged points")                   \
    X(weight_decay, REAL, 1e-6, 0, 1, NULL, "",                                                    \
      "multiplicative decay each step: p <- (1 - weight_decay) p - lr grad")

ISW_PARAMS_STRUCT(ISW_ICCLS_PARAMS, isw_iccls_cfg)

enum { ISW_ICCLS_N_PARAMS = 0 ISW_ICCLS_PARAMS(ISW_PARAM_ONE) };

/* The table's rows and the descriptor's hooks that depend on the config alone. */
ISW_PARAMS_HOOKS(iccls)

/* The data knobs of c, as the data generator (include/iclsweep/tasks/iccls.h) reads them. */
isw_iccls_data_cfg isw_iccls_data_of(const isw_iccls_cfg *c);

/* Sequences per evaluation chunk: the test sets go through the network this many at a time, in a
 * workspace of max(batch, ISW_ICCLS_EVAL_CHUNK) sequences. */
#define ISW_ICCLS_EVAL_CHUNK 256
/* Sequences of the ic set the progress measures read (its first ones). */
#define ISW_ICCLS_PROGRESS_SEQS 1000

#endif
