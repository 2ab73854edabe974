/* The linattn model's parameters (docs/science.md section 2): the one table of its knobs.
 *
 * Columns: X(name, TYPE, default, lo, hi, choices, units, meaning). Validation, `iclsweep params
 * linattn`, docs/params.md, task identities and HDF5 /tasks columns are all generated from this
 * list. */
#ifndef ICLSWEEP_LINATTN_PARAMS_H
#define ICLSWEEP_LINATTN_PARAMS_H

#include <stdint.h>

#include "iclsweep/core/params.h"

#define ISW_LINATTN_PARAMS(X)                                                                     \
    /* data */                                                                                    \
    X(D, INT, 20, 1, 1000, NULL, "", "input dimension of x and of each task w")                   \
    X(N, INT, 100, 1, 1e6, NULL, "pairs", "context pairs (x_i, y_i) per prompt")                  \
    X(P, INT, 1000, 1, 1e8, NULL, "prompts", "training prompts (unused when alpha > 0)")          \
    X(alpha, REAL, 0.0, 0, 1e6, NULL, "",                                                        \
      "task diversity P/D^2 (the paper's alpha); > 0 sets P = max(1, round(alpha D^2)), overriding P") \
    X(M, INT, 0, 0, 1e8, NULL, "tasks",                                                           \
      "task pool size (Raventos); 0 = every training prompt has its own task")                    \
    X(P_test, INT, 1000, 1, 1e7, NULL, "prompts", "test prompts (fresh tasks; pool tasks too)")   \
    X(corr, REAL, 0.0, 0, 0.999, NULL, "",                                                        \
      "token correlation c: x columns mixed along tokens by chol(1 on diagonal, c off it)")       \
    X(y_scale, CHOICE, 0, 0, 0, "sqrt_d|one", "", "y = w.x / sqrt(D) (sqrt_d) or y = w.x (one)") \
    X(label_noise, REAL, 0.0, 0, 1e3, NULL, "", "standard deviation of the label noise on y")     \
    /* model */                                                                                   \
    X(param, CHOICE, 0, 0, 0, "merged|factored", "",                                              \
      "one matrix W (merged) or W = W_q^T W_k (factored)")                                        \
    X(dk, INT, 0, 0, 100000, NULL, "", "rows of W_q and W_k when factored; 0 means D+1")          \
    X(init, REAL, 1.0, 0, 1e3, NULL, "1/sqrt(D+1)",                                               \
      "std of the initial entries of W (or of W_q, W_k), in units of 1/sqrt(D+1)")                       \
    /* training */                                                                                \
    X(optimizer, CHOICE, 0, 0, 0, "adam|gd|sgd|langevin", "",                                     \
      "Adam, gradient descent, minibatch SGD, or Langevin at temperature T; all descend E = MSE/2 + (weight_decay/2)|W|^2")  \
    X(lr, REAL, 0.01, 0, 1e6, NULL, "", "learning rate")                                          \
    X(batch, INT, 0, 0, 1e8, NULL, "prompts", "minibatch size for sgd and adam; 0 = full batch")          \
    X(steps, INT, 2000, 0, 1e9, NULL, "steps", "training steps")                                  \
    X(log_every, INT, 20, 1, 1e9, NULL, "steps", "steps between logged points")                   \
    X(weight_decay, REAL, 0.0, 0, 1e6, NULL, "", "lambda: adds (lambda/2) |W|^2 to the energy")   \
    X(T, REAL, 0.0, 0, 1e6, NULL, "", "Langevin temperature (0 = gradient descent)")             \
    X(avg_frac, REAL, 0.2, 0, 1, NULL, "fraction",                                                \
      "final fraction of training over which energy and W are averaged")                          \
    X(beta1, REAL, 0.9, 0, 0.999999, NULL, "", "Adam first-moment decay")                         \
    X(beta2, REAL, 0.999, 0, 0.999999999, NULL, "", "Adam second-moment decay")                  \
    X(grad_path, CHOICE, 0, 0, 0, "auto|gram|samples", "",                                       \
      "full-batch gradient from the Gram matrix S^T S/P (gram), from the samples S (samples), or whichever is cheaper (auto)") \
    X(theory, BOOL, 1, 0, 1, NULL, "",                                                           \
      "at the end: closed-form Gibbs mean, zero modes, ridge and dMMSE baselines (D <= 40)")

ISW_PARAMS_STRUCT(ISW_LINATTN_PARAMS, isw_linattn_cfg)

enum { ISW_LINATTN_N_PARAMS = 0 ISW_LINATTN_PARAMS(ISW_PARAM_ONE) };

/* The table's rows and the descriptor's hooks that depend on the config alone. */
ISW_PARAMS_HOOKS(linattn)

/* The number of training prompts of cfg: P, or round(alpha D^2) (at least 1) when alpha > 0. */
int64_t isw_linattn_train_prompts(const isw_linattn_cfg *cfg);
/* The training rows one step reads: batch for minibatch sgd and adam (0 < batch < P), else P. */
int64_t isw_linattn_batch(const isw_linattn_cfg *cfg);

#endif
