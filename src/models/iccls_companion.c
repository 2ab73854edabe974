/* The iccls companion model (include/iclsweep/models/iccls_companion.h): loss, exact gradient, plain
 * gradient descent. Three scalars, a handful of exponentials per evaluation: a phase diagram over
 * (L, N, B) of thousands of tasks of 10^4 steps takes seconds. Our reconstruction (see the
 * header). */
#include "iclsweep/models/iccls_companion.h"

#include <math.h>

isw_iccls_companion_eval isw_iccls_companion(const double *theta, const isw_iccls_companion_cfg *cfg) {
    isw_iccls_companion_eval r = {0};
    double N = cfg->N, B = cfg->B, L = cfg->L, M = N / B;
    double b1 = theta[ISW_ICCLS_COMP_BETA1], al = theta[ISW_ICCLS_COMP_ALPHA];
    double xi = theta[ISW_ICCLS_COMP_XI];
    double s = 1.0 / (1.0 + exp(-b1));
    /* p = B e^{alpha s} / (B e^{alpha s} + N - B), with the exponential of a non-positive number
     * only; at alpha s = 0 it is B / N correctly rounded, the same number as 1 / L when L = N/B, so
     * the saddle's gradient is exactly zero */
    double a = al * s;
    double p = a > 0 ? B / (B + (N - B) * exp(-a)) : B * exp(a) / (B * exp(a) + N - B);
    double zc = xi * p, zo = xi * (1.0 - p) / (M - 1.0);
    double mx = fmax(fmax(zc, zo), 0.0);
    double ec = exp(zc - mx), eo = exp(zo - mx), ea = exp(-mx);
    double Z = ec + (M - 1.0) * eo + (L - M) * ea;
    double qc = ec / Z, qo = eo / Z; /* softmax of the correct label, of each other context label */
    r.loss = -zc + mx + log(Z);
    r.p = p;
    r.q = qc;
    /* dloss/dz = q - onehot: dz_c = qc - 1, each dz_o = qo, absent logits do not move */
    double dxi = (qc - 1.0) * p + qo * (1.0 - p);
    double dp = (qc - 1.0) * xi - qo * xi;
    double dt = dp * p * (1.0 - p); /* d/d(alpha s) */
    r.grad[ISW_ICCLS_COMP_XI] = dxi;
    r.grad[ISW_ICCLS_COMP_ALPHA] = dt * s;
    r.grad[ISW_ICCLS_COMP_BETA1] = dt * al * s * (1.0 - s);
    /* argmax with uniform ties among the labels at the largest logit */
    double top = fmax(zc, fmax(zo, L > M ? 0.0 : zo));
    double ties = 1.0 + (M - 1.0) * (zo == top) + (L - M) * (top == 0.0);
    r.acc = zc == top ? 1.0 / ties : 0.0;
    return r;
}

isw_iccls_companion_eval isw_iccls_companion_descend(double *theta, const isw_iccls_companion_cfg *cfg,
                                                     double lr, long steps) {
    for (long t = 0; t < steps; t++) {
        isw_iccls_companion_eval r = isw_iccls_companion(theta, cfg);
        for (int i = 0; i < ISW_ICCLS_COMP_N; i++) theta[i] -= lr * r.grad[i];
    }
    return isw_iccls_companion(theta, cfg);
}
