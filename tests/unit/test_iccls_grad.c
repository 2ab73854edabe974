/* The iccls network (include/iclsweep/models/iccls.h): the fast forward against the naive reference
 * (logits and both layers' attention) on random tokens and on the data generator's tokens, at
 * the default shape and at odd ones (one pair, D = 1, L = 2, odd widths); the loss and accuracy
 * against their definitions; the hand-written backward against central finite differences in
 * double for every entry of every tensor, printing the largest difference per tensor; SGD
 * with weight decay; and the single-precision kernels against the double ones.
 *
 * A gradient entry (Richardson-extrapolated central differences) passes when |analytic - numeric| <= 1e-6 max(|analytic|, |numeric|, 1e-3) +
 * 1e-9; the floor 1e-3 keeps the test relative where gradients are large and absolute near 0,
 * and each tensor must have a numeric gradient above 1e-6 somewhere, so a gradient the backward
 * never writes (left at zero) fails instead of passing as "small".
 *
 *   ./build/tests/test_iccls_grad */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "iclsweep/models/iccls.h"
#include "iclsweep/tasks/iccls.h"

typedef struct {
    int N, Nmax, D, L, B;
    double scale; /* weights multiplied by this after init: peaked attention, active ReLUs */
    int dense;    /* tokens all Gaussian (else the data generator's) */
} shape;

/* Tokens from the data generator for shape s: a mix of kinds. */
static void generator_tokens(double *X, const shape *s, int *target) {
    isw_iccls_data_cfg c = {.N = s->N, .Nmax = s->Nmax, .D = s->D, .L = s->L, .K = 4 * s->L,
                            .K_novel = 2 * s->L, .B = 1, .p_B = 0.5, .p_C = 0.3, .eps = 0.1,
                            .pos_shift = 1};
    isw_iccls_task task;
    isw_iccls_set set;
    isw_error err;
    CHECK(isw_iccls_task_make(&task, &c, 5, &err) == ISW_OK, "%s", err.msg);
    CHECK(isw_iccls_set_alloc(&set, s->B, &c, &err) == ISW_OK, "%s", err.msg);
    isw_rng rng;
    isw_rng_init(&rng, 5, ISW_ICCLS_STREAM_TRAIN);
    isw_iccls_mix mix = isw_iccls_train_mix(&c);
    isw_iccls_fill(&set, s->B, &mix, &task, &rng);
    isw_iccls_tokens(&set, &task, 0, s->B, X);
    if (target) memcpy(target, set.target, sizeof(int) * (size_t)s->B);
    isw_iccls_task_free(&task);
    isw_iccls_set_free(&set);
}

/* Tokens X[B, T, d] of shape s and targets[B]: all Gaussian (dense), or the data generator's. */
static void make_tokens(double *X, int *target, const shape *s, const isw_iccls_dims *m, uint64_t seed) {
    if (!s->dense) {
        generator_tokens(X, s, target);
        return;
    }
    isw_rng rng;
    isw_rng_init(&rng, seed, 0);
    isw_rng_normal_fill(&rng, X, (long)s->B * m->T * m->d, 0.7);
    for (int b = 0; b < s->B; b++) target[b] = (int)isw_rng_below(&rng, (uint64_t)m->L);
}

/* A network of shape s (initialized from seed, weights times s->scale), its workspace, and a
 * batch: tokens, targets and room for the reference's logits. */
typedef struct {
    isw_iccls_net net;
    isw_iccls_work w;
    double *X;      /* [B, T, d] */
    double *logits; /* [B, L] scratch for the naive reference */
    int *target;    /* [B] */
    int T, d, L, B;
} fixture;

static void setup(fixture *f, const shape *s, uint64_t seed, uint64_t token_seed) {
    isw_error err;
    isw_iccls_dims dims = isw_iccls_dims_of(s->N, s->Nmax, s->D, s->L);
    CHECK(isw_iccls_alloc(&f->net, dims, &err) == ISW_OK, "%s", err.msg);
    CHECK(isw_iccls_work_alloc(&f->w, dims, s->B, &err) == ISW_OK, "%s", err.msg);
    isw_rng rng;
    isw_rng_init(&rng, seed, ISW_ICCLS_STREAM_INIT);
    isw_iccls_init_weights(&f->net, &rng);
    for (long i = 0; i < f->net.n_params; i++) f->net.params[i] *= s->scale;
    f->T = dims.T, f->d = dims.d, f->L = dims.L, f->B = s->B;
    f->X = malloc(sizeof(double) * (size_t)f->B * f->T * f->d);
    f->logits = malloc(sizeof(double) * (size_t)f->B * f->L);
    f->target = malloc(sizeof(int) * (size_t)f->B);
    make_tokens(f->X, f->target, s, &dims, token_seed);
}

static void teardown(fixture *f) {
    free(f->X);
    free(f->logits);
    free(f->target);
    isw_iccls_free(&f->net);
    isw_iccls_work_free(&f->w);
}

static double max_rel(const double *a, const double *b, long n) {
    double worst = 0.0;
    for (long i = 0; i < n; i++) {
        double sc = fmax(fabs(a[i]), fabs(b[i]));
        double e = fabs(a[i] - b[i]) / (sc > 1.0 ? sc : 1.0);
        worst = e > worst ? e : worst;
    }
    return worst;
}

/* Fast forward against the naive one. */
static void test_forward(const shape *s) {
    fixture f;
    setup(&f, s, 11, 3);
    int T = f.T, L = f.L, B = f.B;
    double *a1 = malloc(sizeof(double) * (size_t)B * T * T), *a2 = malloc(sizeof(double) * (size_t)B * T);
    isw_iccls_forward(&f.net, &f.w, f.X, B);
    isw_error err;
    CHECK(isw_iccls_forward_naive(&f.net, f.X, B, f.logits, a1, a2, &err) == ISW_OK, "%s", err.msg);
    double el = max_rel(f.w.logits, f.logits, (long)B * L), e1 = max_rel(f.w.a1, a1, (long)B * T * T),
           e2 = max_rel(f.w.a2, a2, (long)B * T);
    printf("forward N=%d Nmax=%d D=%d L=%d B=%d scale=%g %s: logits %.2e, a1 %.2e, a2 %.2e\n", s->N,
           s->Nmax, s->D, s->L, B, s->scale, s->dense ? "dense" : "generator", el, e1, e2);
    CHECK(el < 1e-11 && e1 < 1e-12 && e2 < 1e-12, "fast forward vs naive: %g %g %g", el, e1, e2);
    double lsum = 0;
    for (long i = 0; i < (long)B * L; i++) lsum += fabs(f.logits[i]);
    CHECK(lsum > 1e-6 * B * L, "logits not all zero");
    free(a1);
    free(a2);
    teardown(&f);
}

/* Mean cross-entropy of the naive forward: the function the finite differences see. */
static double naive_loss(const isw_iccls_net *net, const double *X, const int *target, int B,
                         double *logits) {
    isw_error err;
    isw_iccls_forward_naive(net, X, B, logits, NULL, NULL, &err);
    int L = net->dims.L;
    double total = 0.0;
    for (int b = 0; b < B; b++) {
        const double *z = logits + (size_t)b * L;
        double mx = z[0], sum = 0.0;
        for (int l = 1; l < L; l++) mx = z[l] > mx ? z[l] : mx;
        for (int l = 0; l < L; l++) sum += exp(z[l] - mx);
        total += mx + log(sum) - z[target[b]];
    }
    return total / B;
}

/* dloss/dparams[i] by central differences at h and h/2, combined (Richardson) so that the O(h^2)
 * truncation error cancels: the scores' curvature is large (no 1/sqrt(d) scaling), and a plain
 * central difference at h = 1e-5 is off by 1e-5 relative on peaked attention. */
static double numeric_grad(isw_iccls_net *net, long i, const double *X, const int *target, int B,
                           double *logits) {
    double keep = net->params[i], h = 1e-4, c[2];
    for (int k = 0; k < 2; k++, h /= 2) {
        net->params[i] = keep + h;
        double up = naive_loss(net, X, target, B, logits);
        net->params[i] = keep - h;
        double down = naive_loss(net, X, target, B, logits);
        c[k] = (up - down) / (2 * h);
    }
    net->params[i] = keep;
    return (4 * c[1] - c[0]) / 3;
}

/* Loss and accuracy against the definition, backward against finite differences. */
static void test_gradient(const shape *s) {
    fixture f;
    setup(&f, s, 12, 4);
    isw_iccls_net net = f.net; /* shallow: the same arenas */
    int L = f.L, B = f.B;
    const double *X = f.X;
    double *logits = f.logits;
    const int *target = f.target;
    isw_iccls_forward(&net, &f.w, X, B);
    long correct = 0;
    double loss = isw_iccls_loss(&f.w, target, B, 1.0 / B, &correct) / B;
    double want = naive_loss(&net, X, target, B, logits);
    long want_correct = 0;
    for (int b = 0; b < B; b++) {
        int best = 0;
        for (int l = 1; l < L; l++) best = logits[b * L + l] > logits[b * L + best] ? l : best;
        want_correct += best == target[b];
    }
    CHECK(fabs(loss - want) <= 1e-12 * fabs(want), "loss %.17g vs naive %.17g", loss, want);
    CHECK(correct == want_correct, "correct %ld vs %ld", correct, want_correct);
    isw_iccls_backward(&net, &f.w, X, B);
    printf("gradient N=%d Nmax=%d D=%d L=%d B=%d scale=%g %s (%ld weights):\n", s->N, s->Nmax, s->D,
           s->L, B, s->scale, s->dense ? "dense" : "generator", net.n_params);
    for (int t = 0; t < isw_iccls_n_tensors(); t++) {
        long off = isw_iccls_tensor_offset(&net.dims, t), n = isw_iccls_tensor_size(&net.dims, t);
        double worst = 0.0, biggest = 0.0;
        long bad = 0;
        for (long i = off; i < off + n; i++) {
            double num = numeric_grad(&net, i, X, target, B, logits), an = net.grads[i];
            double diff = fabs(num - an);
            double tol = 1e-6 * fmax(fmax(fabs(num), fabs(an)), 1e-3) + 1e-9;
            worst = diff > worst ? diff : worst;
            biggest = fabs(num) > biggest ? fabs(num) : biggest;
            bad += diff > tol;
        }
        printf("  %-5s max |analytic - numeric| %.3e  (max |grad| %.3e)%s\n",
               isw_iccls_tensor_name(t), worst, biggest, bad ? "  MISMATCH" : "");
        CHECK(bad == 0, "tensor %s: %ld entries off, worst %g", isw_iccls_tensor_name(t), bad, worst);
        CHECK(biggest > 1e-6, "tensor %s: no gradient at all (max %g): the check would be void",
              isw_iccls_tensor_name(t), biggest);
    }
    /* SGD with multiplicative decay, then grads zero */
    double *before = malloc(sizeof(double) * (size_t)net.n_params);
    double *g = malloc(sizeof(double) * (size_t)net.n_params);
    memcpy(before, net.params, sizeof(double) * (size_t)net.n_params);
    memcpy(g, net.grads, sizeof(double) * (size_t)net.n_params);
    isw_iccls_sgd(&net, 0.1, 1e-3);
    int ok = 1;
    for (long i = 0; i < net.n_params; i++)
        ok &= net.params[i] == (1.0 - 1e-3) * before[i] - 0.1 * g[i] && net.grads[i] == 0.0;
    CHECK(ok, "sgd: p <- (1 - wd) p - lr g, grads zeroed");
    free(before);
    free(g);
    teardown(&f);
}

/* The single-precision kernels against the double ones on the same weights and tokens: logits
 * and attention to float rounding, every tensor's gradient within 1e-3 of its largest entry. */
static void test_float32(const shape *s) {
    fixture f;
    setup(&f, s, 13, 6);
    isw_iccls_work32 w32;
    isw_error err;
    CHECK(isw_iccls_work32_alloc(&w32, f.net.dims, s->B, &err) == ISW_OK, "%s", err.msg);
    isw_iccls_net net = f.net; /* shallow: the same arenas */
    isw_iccls_work w = f.w;
    int T = f.T, L = f.L, B = f.B;
    long nx = (long)B * T * f.d;
    double *X = f.X;
    float *Xf = malloc(sizeof(float) * (size_t)nx);
    const int *target = f.target;
    for (long i = 0; i < nx; i++) Xf[i] = (float)X[i];
    for (long i = 0; i < nx; i++) X[i] = Xf[i]; /* both see the same (float) tokens */
    isw_iccls_forward(&net, &w, X, B);
    double loss = isw_iccls_loss(&w, target, B, 1.0 / B, NULL);
    isw_iccls_backward(&net, &w, X, B);
    double *g64 = malloc(sizeof(double) * (size_t)net.n_params);
    memcpy(g64, net.grads, sizeof(double) * (size_t)net.n_params);
    memset(net.grads, 0, sizeof(double) * (size_t)net.n_params);
    isw_iccls_sync32(&net, &w32);
    isw_iccls_forward32(&w32, Xf, B);
    double loss32 = isw_iccls_loss32(&w32, target, B, 1.0 / B, NULL);
    isw_iccls_backward32(&net, &w32, Xf, B);
    double lmax = 0, le = 0, ae = 0;
    for (long i = 0; i < (long)B * L; i++) {
        lmax = fmax(lmax, fabs(w.logits[i]));
        le = fmax(le, fabs(w.logits[i] - w32.logits[i]));
    }
    for (long i = 0; i < (long)B * T * T; i++) ae = fmax(ae, fabs(w.a1[i] - w32.a1[i]));
    for (long i = 0; i < (long)B * T; i++) ae = fmax(ae, fabs(w.a2[i] - w32.a2[i]));
    printf("float32 N=%d Nmax=%d D=%d L=%d B=%d: logits %.2e of %.2e, attention %.2e, loss %.9g vs "
           "%.9g\n", s->N, s->Nmax, s->D, s->L, B, le, lmax, ae, loss32, loss);
    CHECK(le <= 1e-4 * fmax(lmax, 1.0) && ae <= 1e-4, "float32 forward: logits %g, attention %g", le, ae);
    CHECK(fabs(loss32 - loss) <= 1e-5 * fabs(loss), "float32 loss %.9g vs %.9g", loss32, loss);
    for (int t = 0; t < isw_iccls_n_tensors(); t++) {
        long off = isw_iccls_tensor_offset(&net.dims, t), n = isw_iccls_tensor_size(&net.dims, t);
        double gmax = 0, ge = 0;
        for (long i = off; i < off + n; i++) {
            gmax = fmax(gmax, fabs(g64[i]));
            ge = fmax(ge, fabs(g64[i] - net.grads[i]));
        }
        printf("  %-5s float32 gradient max diff %.2e of max %.2e\n", isw_iccls_tensor_name(t), ge, gmax);
        CHECK(ge <= 1e-3 * gmax && gmax > 0, "float32 gradient of %s: %g of %g", isw_iccls_tensor_name(t),
              ge, gmax);
    }
    free(g64);
    free(Xf);
    isw_iccls_work32_free(&w32);
    teardown(&f);
}

int main(void) {
    const shape forward_shapes[] = {
        {4, 8, 31, 16, 64, 1.0, 0},  /* the default point */
        {4, 8, 31, 16, 7, 3.0, 1},   /* peaked attention */
        {1, 1, 1, 2, 1, 2.0, 1},     /* one pair, D = 1, L = 2 */
        {3, 5, 7, 3, 5, 2.5, 0},     /* odd widths */
        {8, 32, 63, 32, 3, 1.0, 0},  /* the paper's shape */
    };
    for (size_t i = 0; i < sizeof forward_shapes / sizeof forward_shapes[0]; i++)
        test_forward(&forward_shapes[i]);
    const shape grad_shapes[] = {
        {2, 3, 4, 3, 4, 2.0, 1},     /* d = 11, dense tokens */
        {3, 4, 5, 4, 5, 2.0, 0},     /* d = 14, the generator's tokens */
        {1, 1, 2, 2, 2, 1.5, 1},     /* T = 3 */
    };
    for (size_t i = 0; i < sizeof grad_shapes / sizeof grad_shapes[0]; i++)
        test_gradient(&grad_shapes[i]);
    /* at the initialization's scale (scaled-up weights saturate layer 2, whose gradient is then
     * below float rounding of the rest) */
    const shape float_shapes[] = {
        {4, 8, 31, 16, 64, 1.0, 0},  /* the default point */
        {3, 5, 7, 3, 5, 1.0, 1},     /* odd widths, dense tokens */
        {8, 32, 63, 32, 16, 1.0, 0}, /* the paper's shape */
    };
    for (size_t i = 0; i < sizeof float_shapes / sizeof float_shapes[0]; i++)
        test_float32(&float_shapes[i]);
    return check_report("test_iccls_grad");
}
