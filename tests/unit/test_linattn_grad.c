/* linattn model: the coefficient form against the paper's [Z Z^T W Z] form, and the gradients of
 * both parameterizations (merged W; factored W = W_q^T W_k) and both paths (samples, Gram)
 * against central finite differences of the energy computed by the slow, obvious reference.
 *
 * Run by hand: OPENBLAS_NUM_THREADS=1 build-linattn/tests/test_linattn_grad (or ctest -R test_linattn_grad). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "iclsweep/models/linattn.h"
#include "iclsweep/tasks/linattn.h"

typedef struct {
    int D, N, D1, Q;
    int64_t P;
    double *Z;  /* [P, D1, N+1] */
    double *yq; /* [P] */
    isw_linattn_set set;
} inst_t;

static void make_instance(inst_t *in, int D, int N, int64_t P, double corr, double noise, uint64_t seed) {
    isw_linreg gen;
    isw_error err;
    in->D = D, in->N = N, in->D1 = D + 1, in->Q = (D + 1) * (D + 1), in->P = P;
    size_t zn = (size_t)in->D1 * (N + 1);
    in->Z = malloc((size_t)P * zn * sizeof(double));
    in->yq = malloc((size_t)P * sizeof(double));
    CHECK(isw_linreg_init(&gen, D, N, corr, 0, noise, &err) == ISW_OK, "%s", err.msg);
    CHECK(isw_linattn_set_alloc(&in->set, in->D1, P, &err) == ISW_OK, "%s", err.msg);
    isw_rng rng;
    isw_rng_init(&rng, seed, 1);
    for (int64_t mu = 0; mu < P; mu++) {
        double *Z = in->Z + mu * zn;
        isw_linreg_draw(&gen, &rng, NULL, 0, Z, &in->yq[mu], NULL);
        isw_linattn_coeffs(D, N, Z, in->set.A + mu * in->D1, in->set.B + mu * in->D1);
        in->set.y[mu] = in->yq[mu];
    }
    isw_linreg_free(&gen);
}

static void free_instance(inst_t *in) {
    free(in->Z);
    free(in->yq);
    isw_linattn_set_free(&in->set);
}

/* E(W) by the reference prediction. */
static double energy_direct(const inst_t *in, const double *W, double lambda) {
    size_t zn = (size_t)in->D1 * (in->N + 1);
    double s = 0.0, ww = 0.0;
    for (int64_t mu = 0; mu < in->P; mu++) {
        double r = isw_linattn_predict_direct(in->D, in->N, in->Z + mu * zn, W) - in->yq[mu];
        s += r * r;
    }
    for (int i = 0; i < in->Q; i++) ww += W[i] * W[i];
    return 0.5 * s / (double)in->P + 0.5 * lambda * ww;
}

static void check_predictions(int D, int N, int64_t P, double corr, uint64_t seed) {
    inst_t in;
    make_instance(&in, D, N, P, corr, 0.2, seed);
    double *W = malloc(in.Q * sizeof(double)), *yhat = malloc(P * sizeof(double));
    double *work = malloc(P * in.D1 * sizeof(double));
    isw_rng rng;
    isw_rng_init(&rng, seed, 9);
    isw_rng_normal_fill(&rng, W, in.Q, 1.0);
    isw_linattn_predict(&in.set, W, yhat, work);
    double worst = 0.0;
    for (int64_t mu = 0; mu < P; mu++) {
        double ref = isw_linattn_predict_direct(D, N, in.Z + mu * (size_t)in.D1 * (N + 1), W);
        double e = fabs(ref - yhat[mu]) / fmax(1.0, fabs(ref));
        if (e > worst) worst = e;
    }
    printf("predict D=%d N=%d P=%lld corr=%g: max rel diff %.3g\n", D, N, (long long)P, corr, worst);
    CHECK(worst < 1e-12, "precomputed-s prediction differs from [Z Z^T W Z]/(N+1) by %g", worst);
    free(W), free(yhat), free(work);
    free_instance(&in);
}

/* max |g - fd| / max |fd| over the entries */
static double rel_err(const double *g, const double *fd, int n) {
    double d = 0.0, s = 0.0;
    for (int i = 0; i < n; i++) {
        if (fabs(g[i] - fd[i]) > d) d = fabs(g[i] - fd[i]);
        if (fabs(fd[i]) > s) s = fabs(fd[i]);
    }
    return d / fmax(s, 1e-300);
}

static void check_merged_grad(int D, int N, int64_t P, double lambda, uint64_t seed) {
    inst_t in;
    make_instance(&in, D, N, P, 0.25, 0.1, seed);
    int Q = in.Q;
    double *W = malloc(Q * sizeof(double)), *fd = malloc(Q * sizeof(double));
    double *gs = malloc(Q * sizeof(double)), *gg = malloc(Q * sizeof(double)), *Hw = malloc(Q * sizeof(double));
    double *r = malloc(P * sizeof(double)), *work = malloc(P * in.D1 * sizeof(double));
    isw_rng rng;
    isw_rng_init(&rng, seed, 9);
    isw_rng_normal_fill(&rng, W, Q, 0.5);
    double Es = isw_linattn_grad_samples(&in.set, 0, P, W, lambda, gs, r, work);
    isw_linattn_gram g;
    isw_error err;
    CHECK(isw_linattn_gram_build(&in.set, &g, &err) == ISW_OK, "%s", err.msg);
    double Eg = isw_linattn_grad_gram(&g, W, lambda, gg, Hw);
    double Ed = energy_direct(&in, W, lambda);
    CHECK_CLOSE(Es, Ed, 1e-11, 0, "samples energy vs direct");
    CHECK_CLOSE(Eg, Ed, 1e-9, 0, "gram energy vs direct");
    double h = 1e-5;
    for (int i = 0; i < Q; i++) {
        double keep = W[i];
        W[i] = keep + h;
        double ep = energy_direct(&in, W, lambda);
        W[i] = keep - h;
        double em = energy_direct(&in, W, lambda);
        W[i] = keep;
        fd[i] = (ep - em) / (2 * h);
    }
    double es = rel_err(gs, fd, Q), eg = rel_err(gg, fd, Q);
    printf("merged D=%d N=%d P=%lld lambda=%g: samples grad rel err %.3g, gram %.3g\n", D, N, (long long)P, lambda, es, eg);
    CHECK(es < 1e-6, "samples gradient vs finite differences: %g", es);
    CHECK(eg < 1e-6, "gram gradient vs finite differences: %g", eg);
    /* a minibatch gradient over rows [r0, r0+n) is the gradient of that subset's energy */
    isw_linattn_set sub = in.set;
    int64_t r0 = P / 3, n = P - P / 3 - 1;
    sub.A += r0 * in.D1, sub.B += r0 * in.D1, sub.y += r0, sub.P = n;
    double Eb = isw_linattn_grad_samples(&in.set, r0, n, W, lambda, gs, r, work);
    double Esub = isw_linattn_grad_samples(&sub, 0, n, W, lambda, gg, r, work);
    CHECK_CLOSE(Eb, Esub, 1e-14, 0, "minibatch energy");
    CHECK(rel_err(gs, gg, Q) < 1e-14, "minibatch gradient");
    isw_linattn_gram_free(&g);
    free(W), free(fd), free(gs), free(gg), free(Hw), free(r), free(work);
    free_instance(&in);
}

static double energy_factored(const inst_t *in, int dk, const double *th, double lambda, double *W) {
    isw_linattn_factored_w(in->D1, dk, th, th + dk * in->D1, W);
    return energy_direct(in, W, lambda);
}

static void check_factored_grad(int D, int N, int64_t P, int dk, double lambda, uint64_t seed) {
    inst_t in;
    make_instance(&in, D, N, P, 0.0, 0.3, seed);
    int D1 = in.D1, Q = in.Q, nt = 2 * dk * D1;
    double *th = malloc(nt * sizeof(double)), *g = malloc(nt * sizeof(double)), *fd = malloc(nt * sizeof(double));
    double *W = malloc(Q * sizeof(double)), *G = malloc(Q * sizeof(double));
    double *r = malloc(P * sizeof(double)), *work = malloc(P * D1 * sizeof(double));
    isw_rng rng;
    isw_rng_init(&rng, seed, 9);
    isw_rng_normal_fill(&rng, th, nt, 0.6);
    isw_linattn_factored_w(D1, dk, th, th + dk * D1, W);
    isw_linattn_grad_samples(&in.set, 0, P, W, lambda, G, r, work);
    isw_linattn_factored_backward(D1, dk, th, th + dk * D1, G, g, g + dk * D1);
    double h = 1e-5;
    for (int i = 0; i < nt; i++) {
        double keep = th[i];
        th[i] = keep + h;
        double ep = energy_factored(&in, dk, th, lambda, W);
        th[i] = keep - h;
        double em = energy_factored(&in, dk, th, lambda, W);
        th[i] = keep;
        fd[i] = (ep - em) / (2 * h);
    }
    double eq = rel_err(g, fd, dk * D1), ek = rel_err(g + dk * D1, fd + dk * D1, dk * D1);
    printf("factored D=%d dk=%d lambda=%g: W_q grad rel err %.3g, W_k %.3g\n", D, dk, lambda, eq, ek);
    CHECK(eq < 1e-6, "W_q gradient vs finite differences: %g", eq);
    CHECK(ek < 1e-6, "W_k gradient vs finite differences: %g", ek);
    free(th), free(g), free(fd), free(W), free(G), free(r), free(work);
    free_instance(&in);
}

int main(void) {
    check_predictions(3, 5, 20, 0.0, 1);
    check_predictions(1, 1, 7, 0.5, 2);
    check_predictions(6, 2, 9, 0.9, 3);
    check_predictions(4, 33, 5, 0.1, 4);
    check_merged_grad(3, 5, 7, 0.0, 11);
    check_merged_grad(2, 4, 13, 0.3, 12);
    check_merged_grad(5, 3, 40, 1e-2, 13);
    check_factored_grad(3, 5, 9, 4, 0.0, 21);
    check_factored_grad(3, 6, 9, 2, 0.2, 22);
    check_factored_grad(2, 3, 5, 5, 0.05, 23);
    return check_report("test_linattn_grad");
}
