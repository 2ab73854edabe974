/* The iccls companion model's parameters (docs/science.md, model iccls_companion): the one table
 * of its knobs. The model is OUR RECONSTRUCTION of the "three nested logits" minimal model of
 * Reddy (ICLR 2024): include/iclsweep/models/iccls_companion.h.
 *
 * Columns: X(name, TYPE, default, lo, hi, choices, units, meaning). */
#ifndef ICLSWEEP_ICCLS_COMPANION_PARAMS_H
#define ICLSWEEP_ICCLS_COMPANION_PARAMS_H

#include <stdint.h>

#include "iclsweep/core/params.h"

#define ISW_ICCLS_COMPANION_PARAMS(X)                                                              \
    X(N, INT, 4, 2, 1e6, NULL, "pairs", "item-label pairs of a bursty context")                     \
    X(B, INT, 1, 1, 1e6, NULL, "copies", "copies of each class in the context (divides N, < N)")    \
    X(L, INT, 16, 2, 1e9, NULL, "labels", "labels in all (>= N/B, the labels of a context)")        \
    X(beta1_init, REAL, 0.0, -100, 100, NULL, "", "initial beta1 (layer 1: s = sigmoid(beta1))")    \
    X(alpha_init, REAL, 0.0, -100, 100, NULL, "", "initial alpha (layer 2's gain on s)")            \
    X(xi_init, REAL, 0.0, -100, 100, NULL, "", "initial xi (the classifier's scale)")              \
    X(lr, REAL, 0.02, 0, 1e6, NULL, "", "learning rate (gradient descent on the loss)")            \
    X(steps, INT, 5000, 0, 1e9, NULL, "steps", "gradient-descent steps")                          \
    X(log_every, INT, 50, 1, 1e9, NULL, "steps", "steps between logged points")

ISW_PARAMS_STRUCT(ISW_ICCLS_COMPANION_PARAMS, isw_iccls_companion_params_cfg)

enum { ISW_ICCLS_COMPANION_N_PARAMS = 0 ISW_ICCLS_COMPANION_PARAMS(ISW_PARAM_ONE) };

/* The table's rows and the descriptor's hooks that depend on the config alone. */
ISW_PARAMS_HOOKS(iccls_companion)

#endif
