/* The iccls model's cheap companion (docs/science.md, model iccls, last claim): the "three nested
 * logits" model of the induction head's formation, with three scalar parameters. OUR
 * RECONSTRUCTION of the minimal model in Reddy (ICLR 2024) from its description, not the paper's
 * code: results from it are labelled so.
 *
 * For a bursty sequence of N items, B copies of each of M = N / B classes with distinct labels,
 * and L labels in all:
 *   s = sigmoid(beta1)                     layer 1: how much a label token reads its item
 *   p = B e^{alpha s} / (B e^{alpha s} + N - B)
 *                                          layer 2: the query's attention on its class's labels
 *   logits: xi p (the correct label), xi (1 - p) / (M - 1) (each of the M - 1 other context
 *   labels), 0 (each of the L - M absent labels); loss = cross-entropy of the correct label.
 * Gradient descent from alpha = xi = 0 shows a slow phase, an abrupt drop of the loss, and a
 * saddle at L = M (the gradient vanishes at the origin: no curriculum). A task is microseconds.
 * Needs M >= 2 (B < N) and L >= M. */
#ifndef ICLSWEEP_ICCLS_COMPANION_H
#define ICLSWEEP_ICCLS_COMPANION_H

typedef struct {
    int N, B, L;
} isw_iccls_companion_cfg;

/* The parameters, in this order: beta1, alpha, xi. */
enum { ISW_ICCLS_COMP_BETA1 = 0, ISW_ICCLS_COMP_ALPHA = 1, ISW_ICCLS_COMP_XI = 2, ISW_ICCLS_COMP_N = 3 };

typedef struct {
    double loss;   /* cross-entropy of the correct label */
    double grad[ISW_ICCLS_COMP_N]; /* dloss/dtheta */
    double p;      /* layer 2's weight on the correct label */
    double q;      /* softmax probability of the correct label */
    double acc;    /* chance that the argmax (ties broken uniformly) is the correct label */
} isw_iccls_companion_eval;

/* Loss, gradient and readouts at theta[3]. */
isw_iccls_companion_eval isw_iccls_companion(const double *theta, const isw_iccls_companion_cfg *cfg);

/* steps of plain gradient descent theta <- theta - lr grad; returns the evaluation at the end. */
isw_iccls_companion_eval isw_iccls_companion_descend(double *theta, const isw_iccls_companion_cfg *cfg,
                                                     double lr, long steps);

#endif
