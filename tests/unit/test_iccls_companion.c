/* The iccls companion model (include/iclsweep/models/iccls_companion.h, our reconstruction): its
 * gradient against central finite differences at random points; its values at the origin (loss
 * log L, accuracy 1/L, dloss/dxi = 1/L - 1/M, no pull on alpha or beta1); the saddle at L = M
 * (zero gradient at the origin, so gradient descent never leaves it); and the shape of descent
 * from the origin for L > M: a slow start (the loss still within 10% of log L after 100 steps),
 * then the loss falls below 0.1 with accuracy 1.
 *
 *   ./build/tests/test_iccls_companion */
#include <math.h>

#include "check.h"
#include "iclsweep/models/iccls_companion.h"
#include "iclsweep/core/rng.h"

static void test_gradient(void) {
    isw_iccls_companion_cfg cfgs[] = {{4, 1, 16}, {8, 2, 32}, {8, 4, 8}, {6, 2, 3}};
    isw_rng rng;
    isw_rng_init(&rng, 1, 0);
    double worst = 0.0;
    for (int c = 0; c < 4; c++)
        for (int trial = 0; trial < 50; trial++) {
            double th[3];
            for (int i = 0; i < 3; i++) th[i] = 3.0 * isw_rng_normal(&rng);
            isw_iccls_companion_eval r = isw_iccls_companion(th, &cfgs[c]);
            for (int i = 0; i < 3; i++) {
                double h = 1e-5, keep = th[i];
                th[i] = keep + h;
                double up = isw_iccls_companion(th, &cfgs[c]).loss;
                th[i] = keep - h;
                double down = isw_iccls_companion(th, &cfgs[c]).loss;
                th[i] = keep;
                double num = (up - down) / (2 * h), diff = fabs(num - r.grad[i]);
                double tol = 1e-6 * fmax(fmax(fabs(num), fabs(r.grad[i])), 1e-3);
                worst = diff > worst ? diff : worst;
                CHECK(diff <= tol, "cfg %d theta (%g %g %g) grad %d: analytic %.12g numeric %.12g", c,
                      th[0], th[1], th[2], i, r.grad[i], num);
            }
        }
    printf("companion gradient: max |analytic - numeric| %.3e over 600 entries\n", worst);
}

static void test_origin_and_saddle(void) {
    double th[3] = {0, 0, 0};
    isw_iccls_companion_cfg c = {4, 1, 16};
    isw_iccls_companion_eval r = isw_iccls_companion(th, &c);
    CHECK(fabs(r.loss - log(16.0)) < 1e-14, "loss at the origin %g", r.loss);
    CHECK(fabs(r.acc - 1.0 / 16) < 1e-15, "accuracy at the origin %g", r.acc);
    CHECK(fabs(r.grad[ISW_ICCLS_COMP_XI] - (1.0 / 16 - 1.0 / 4)) < 1e-15, "dxi %g", r.grad[2]);
    CHECK(r.grad[0] == 0.0 && r.grad[1] == 0.0, "no pull on beta1, alpha at xi = 0");
    CHECK(fabs(r.p - 0.25) < 1e-15, "p = B / N at alpha = 0: %g", r.p);

    isw_iccls_companion_cfg sad = {8, 2, 4}; /* L = M */
    r = isw_iccls_companion(th, &sad);
    CHECK(fabs(r.grad[0]) + fabs(r.grad[1]) + fabs(r.grad[2]) < 1e-15, "L = M: zero gradient");
    r = isw_iccls_companion_descend(th, &sad, 0.1, 10000);
    CHECK(fabs(r.loss - log(4.0)) < 1e-12 && th[2] == 0.0, "L = M: descent stays at the saddle");
}

static void test_descent(void) {
    double th[3] = {0, 0, 0};
    isw_iccls_companion_cfg c = {8, 2, 32};
    isw_iccls_companion_eval r = isw_iccls_companion_descend(th, &c, 0.02, 100);
    CHECK(r.loss > 0.9 * log(32.0), "slow phase: loss %g after 100 steps", r.loss);
    r = isw_iccls_companion_descend(th, &c, 0.02, 2000);
    CHECK(r.loss < 0.1 && r.acc == 1.0, "after the drop: loss %g, accuracy %g", r.loss, r.acc);
    CHECK(th[1] > 0 && th[2] > 0, "alpha %g and xi %g grew", th[1], th[2]);
}

int main(void) {
    test_gradient();
    test_origin_and_saddle();
    test_descent();
    return check_report("test_iccls_companion");
}
