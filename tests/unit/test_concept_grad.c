/* Gradient check of the concept model: every trained tensor (W_Q, W_K, W_O), with and without
 * weight decay, against central finite differences of the batch loss, in double.
 *
 * The loss is (1/B) sum_b log(1 + exp(-y_b f_b)) + (weight_decay / 2) |W|^2, as in training. For
 * each tensor the maximum |analytic - numeric| is printed, and the relative error
 * max|analytic - numeric| / max|numeric| must be under 1e-6; any mismatch exits nonzero.
 * Shapes are small and odd (d = 5, dh = 3, m = 6, L = 4, B = 5) so every index is visited.
 *
 * By hand: build-dir/tests/test_concept_grad */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "iclsweep/models/concept.h"
#include "iclsweep/core/rng.h"

enum { B = 5, L = 4 };

typedef struct {
    isw_ctf net;
    isw_ctf_work work;
    double h[B * L * 10], xq[B * 5], y[B];
} instance;

static double batch_loss(instance *in, double wd) {
    isw_ctf_forward(&in->net, &in->work, in->h, in->xq, B, L);
    double loss = isw_ctf_loss(in->work.f, in->y, B, 1.0 / B, in->work.df, NULL) / B;
    double sq = 0.0;
    for (long i = 0; i < in->net.n_params; i++) sq += in->net.params[i] * in->net.params[i];
    return loss + 0.5 * wd * sq;
}

static void analytic(instance *in, double wd) {
    memset(in->net.grads, 0, sizeof(double) * (size_t)in->net.n_params);
    batch_loss(in, wd);
    isw_ctf_backward(&in->net, &in->work, in->h, in->xq, B, L);
    isw_ctf_decay(&in->net, wd);
}

static void check_tensors(instance *in, double wd) {
    const double eps = 1e-5;
    analytic(in, wd);
    double *num = malloc(sizeof(double) * (size_t)in->net.n_params);
    double *ana = malloc(sizeof(double) * (size_t)in->net.n_params);
    CHECK(num && ana, "out of memory");
    if (!num || !ana) goto done;
    memcpy(ana, in->net.grads, sizeof(double) * (size_t)in->net.n_params);
    for (long i = 0; i < in->net.n_params; i++) {
        double keep = in->net.params[i];
        in->net.params[i] = keep + eps;
        double lp = batch_loss(in, wd);
        in->net.params[i] = keep - eps;
        double lm = batch_loss(in, wd);
        in->net.params[i] = keep;
        num[i] = (lp - lm) / (2 * eps);
    }
    for (int t = 0; t < isw_ctf_n_tensors(); t++) {
        long off = isw_ctf_tensor_offset(&in->net.dims, t), n = isw_ctf_tensor_size(&in->net.dims, t);
        double maxdiff = 0.0, maxnum = 0.0;
        for (long i = off; i < off + n; i++) {
            maxdiff = fmax(maxdiff, fabs(ana[i] - num[i]));
            maxnum = fmax(maxnum, fabs(num[i]));
        }
        double rel = maxdiff / fmax(maxnum, 1e-300);
        printf("weight_decay %-4g %-3s max |analytic - numeric| = %.3e, max |numeric| = %.3e, rel %.3e\n",
               wd, isw_ctf_tensor_name(t), maxdiff, maxnum, rel);
        CHECK(maxnum > 1e-6, "%s has a nonzero gradient to check", isw_ctf_tensor_name(t));
        CHECK(rel < 1e-6, "%s gradient relative error %.3e", isw_ctf_tensor_name(t), rel);
    }
done:
    free(num);
    free(ana);
}

/* The naive reference backward (keys W_K x_l on the words, values the label halves) agrees with
 * the BLAS one. */
static void check_naive(instance *in) {
    analytic(in, 0.0);
    double *g = calloc((size_t)in->net.n_params, sizeof(double));
    isw_error err;
    CHECK(g && isw_ctf_backward_naive(&in->net, in->h, in->xq, in->work.df, B, L, g, &err) == ISW_OK,
          "naive backward runs");
    double maxdiff = 0.0;
    for (long i = 0; g && i < in->net.n_params; i++) maxdiff = fmax(maxdiff, fabs(g[i] - in->net.grads[i]));
    printf("naive vs BLAS backward: max diff %.3e\n", maxdiff);
    CHECK(maxdiff < 1e-12, "naive and BLAS gradients agree: %.3e", maxdiff);
    free(g);
}

int main(void) {
    static instance in;
    isw_ctf_dims dims = {5, 10, 3, 6};
    isw_error err;
    if (isw_ctf_alloc(&in.net, dims, &err) || isw_ctf_work_alloc(&in.work, dims, B, L, &err)) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    isw_rng rng;
    isw_rng_init(&rng, 42, 0);
    /* init 0.6: scores of order one (softmax away from uniform), a mix of active ReLUs */
    isw_ctf_init_weights(&in.net, &rng, 0.6, 0);
    isw_rng_normal_fill(&rng, in.h, B * L * 10, 1.0);
    isw_rng_normal_fill(&rng, in.xq, B * 5, 1.0);
    for (int b = 0; b < B; b++) in.y[b] = (isw_rng_u32(&rng) & 1) ? 1.0 : -1.0;
    check_tensors(&in, 0.0);
    check_tensors(&in, 0.3);
    check_naive(&in);
    isw_ctf_work_free(&in.work);
    isw_ctf_free(&in.net);
    return check_report("test_concept_grad");
}
