/* The iccls model's network (docs/science.md, model iccls; Reddy, ICLR 2024): two causal
 * single-head attention layers with residuals and no score scaling, the second evaluated only at
 * the query, then a three-layer ReLU classifier with scalar biases and L logits.
 *
 * Dimension letters, used in every shape comment:
 *   B   sequences in a batch      T   tokens per sequence (2N + 1; the query is token T-1)
 *   d   token width (P + D)       D   content width (the init scale of the attention maps)
 *   L   labels (logits)
 *
 * For a sequence X (T x d, token x_t a row), by the definition:
 *   layer 1   x1_t = x_t + sum_{j<=t} A_tj V1 x_j,   A_t. = softmax_j((Q1 x_t) . (K1 x_j))
 *   layer 2   y = x1_q + sum_j a_j V2 x1_j,          a = softmax_j((Q2 x1_q) . (K2 x1_j))
 *   classifier h1 = relu(W1 y + b1), h2 = relu(W2 h1 + b2), h3 = relu(W3 h2 + b3), z = W_out h3.
 * The fast kernels compute the same numbers in another order (the header of src/models/iccls.c
 * gives it): scores through M1 = Q1^T K1 and M2 = Q2^T K2, and layer 2 without materializing x1
 * anywhere but at the query. isw_iccls_forward_naive is the definition above in plain loops, with
 * layer 2 at every position, for the tests.
 *
 * All trained weights live in one arena (params) and their gradients in another (grads), in the
 * order of the ISW_ICCLS_TENSORS table, so SGD, weight decay, checkpoints and gradient checks are
 * loops over one array. Workspace for a batch is allocated once (isw_iccls_work) and reused. */
#ifndef ICLSWEEP_ICCLS_H
#define ICLSWEEP_ICCLS_H

#include "iclsweep/core/error.h"
#include "iclsweep/core/rng.h"

typedef struct {
    int T, d, D, L;
    int one; /* 1: the row and column count of a scalar bias */
} isw_iccls_dims;

/* Dims of a network for sequences of N pairs, position one-hots for Nmax pairs, content width D
 * and L labels. */
isw_iccls_dims isw_iccls_dims_of(int N, int Nmax, int D, int L);

/* The trained tensors, listed once: X(name, rows, cols, init variance, meaning); rows and cols
 * name fields of isw_iccls_dims, the variance is an expression in the dims pointer m. Each tensor
 * is row-major [rows, cols]; entries are drawn N(0, variance) in table order. */
#define ISW_ICCLS_TENSORS(X)                                                   \
    X(q1, d, d, 1.0 / m->D, "layer 1 query map Q1")                            \
    X(k1, d, d, 1.0 / m->D, "layer 1 key map K1")                              \
    X(v1, d, d, 1.0 / m->D, "layer 1 value map V1")                            \
    X(q2, d, d, 1.0 / m->D, "layer 2 query map Q2")                            \
    X(k2, d, d, 1.0 / m->D, "layer 2 key map K2")                              \
    X(v2, d, d, 1.0 / m->D, "layer 2 value map V2")                            \
    X(w1, d, d, 2.0 / m->d, "classifier layer 1 weights W1")                   \
    X(b1, one, one, 1.0 / m->d, "classifier layer 1 bias b1 (a scalar)")       \
    X(w2, d, d, 2.0 / m->d, "classifier layer 2 weights W2")                   \
    X(b2, one, one, 1.0 / m->d, "classifier layer 2 bias b2 (a scalar)")       \
    X(w3, d, d, 2.0 / m->d, "classifier layer 3 weights W3")                   \
    X(b3, one, one, 1.0 / m->d, "classifier layer 3 bias b3 (a scalar)")       \
    X(wout, L, d, 1.0 / m->d, "output map W_out: L logits, no bias")

/* Views of an arena as its tensors, in double and in single precision. */
#define ISW_ICCLS_PTR_(name, rows, cols, var, doc) double *name;
typedef struct { ISW_ICCLS_TENSORS(ISW_ICCLS_PTR_) } isw_iccls_tensors;
#undef ISW_ICCLS_PTR_
#define ISW_ICCLS_PTR32_(name, rows, cols, var, doc) float *name;
typedef struct { ISW_ICCLS_TENSORS(ISW_ICCLS_PTR32_) } isw_iccls_tensors32;
#undef ISW_ICCLS_PTR32_

typedef struct {
    isw_iccls_dims dims;
    long n_params;
    double *params;      /* [n_params] every trained weight, tensors in table order */
    double *grads;       /* [n_params] matching gradients (accumulated with +=) */
    isw_iccls_tensors w; /* views into params */
    isw_iccls_tensors g; /* views into grads */
} isw_iccls_net;

/* Number of tensors, and the name, element count and offset of tensor i (for checks, output). */
int isw_iccls_n_tensors(void);
const char *isw_iccls_tensor_name(int i);
long isw_iccls_tensor_size(const isw_iccls_dims *dims, int i);
long isw_iccls_tensor_offset(const isw_iccls_dims *dims, int i);

/* Allocates net's arenas for dims (weights and gradients zero). ISW_EINTERNAL when out of memory. */
isw_status isw_iccls_alloc(isw_iccls_net *net, isw_iccls_dims dims, isw_error *err);
void isw_iccls_free(isw_iccls_net *net);
/* Draws every weight off rng, N(0, the table's variance), tensors in table order. */
void isw_iccls_init_weights(isw_iccls_net *net, isw_rng *rng);

/* Activations of a batch of up to Bmax sequences, kept for the backward pass, and the backward
 * pass's scratch, listed once: X(name, element count, shape and meaning); the counts are
 * expressions in B (= Bmax), T, d, L. */
#define ISW_ICCLS_WORK(X)                                                                     \
    X(m1, d * d, "[d, d] Q1^T K1 (formed by each forward): layer 1 scores are z_t . x_j")      \
    X(m2, d * d, "[d, d] Q2^T K2: layer 2 scores are u . x1_j")                                \
    X(z, B * T * d, "[B, T, d] X M1")                                                          \
    X(a1, B * T * T, "[B, T, T] layer 1 attention A[t][j] (query t, key j; 0 for j > t)")      \
    X(g, B * T * d, "[B, T, d] g_t = sum_j A_tj x_j, so that x1_t = x_t + V1 g_t")              \
    X(x1q, B * d, "[B, d] layer 1 output at the query")                                        \
    X(u, B * d, "[B, d] x1_q M2")                                                              \
    X(uv, B * d, "[B, d] u V1: the score of key j is x_j . u + g_j . uv")                      \
    X(a2, B * T, "[B, T] layer 2 attention of the query")                                      \
    X(xb, B * d, "[B, d] sum_j a_j x_j")                                                       \
    X(gb, B * d, "[B, d] sum_j a_j g_j")                                                       \
    X(xbar, B * d, "[B, d] sum_j a_j x1_j = xb + V1 gb")                                       \
    X(y, B * d, "[B, d] layer 2 output at the query: x1_q + V2 xbar")                          \
    X(h1, B * d, "[B, d] classifier activations after ReLU")                                   \
    X(h2, B * d, "[B, d]")                                                                     \
    X(h3, B * d, "[B, d]")                                                                     \
    X(logits, B * L, "[B, L]")                                                                 \
    X(dlogits, B * L, "[B, L] dloss/dlogits (set by isw_iccls_loss)")                          \
    X(dh, B * d, "[B, d] backward scratch: gradient of a classifier layer's output")           \
    X(dh2, B * d, "[B, d] backward scratch: gradient of its input")                            \
    X(dxbar, B * d, "[B, d] dloss/dxbar")                                                      \
    X(dgb, B * d, "[B, d] dloss/dgb")                                                          \
    X(dx1q, B * d, "[B, d] dloss/dx1_q")                                                       \
    X(du, B * d, "[B, d] dloss/du")                                                            \
    X(duv, B * d, "[B, d] dloss/duv")                                                          \
    X(ds2, B * T, "[B, T] dloss/d(layer 2 scores)")                                            \
    X(dg, B * T * d, "[B, T, d] dloss/dg")                                                     \
    X(dz, B * T * d, "[B, T, d] dloss/dz")                                                     \
    X(dm1, d * d, "[d, d] dloss/dM1")                                                          \
    X(dm2, d * d, "[d, d] dloss/dM2")

#define ISW_ICCLS_WPTR_(name, count, doc) double *name;
typedef struct {
    int Bmax;
    isw_iccls_dims dims;
    double *arena; /* every buffer below, one allocation */
    ISW_ICCLS_WORK(ISW_ICCLS_WPTR_)
} isw_iccls_work;
#undef ISW_ICCLS_WPTR_

/* The single-precision kernels' state: a float copy of the weights (refreshed from the double
 * master weights by isw_iccls_sync32), float gradients of the last backward, and the same
 * workspace in float. */
#define ISW_ICCLS_WPTR32_(name, count, doc) float *name;
typedef struct {
    int Bmax;
    isw_iccls_dims dims;
    long n_params;
    float *arena;          /* params, grads and every buffer below, one allocation */
    float *params;         /* [n_params] */
    float *grads;          /* [n_params] */
    isw_iccls_tensors32 tw; /* views into params */
    isw_iccls_tensors32 tg; /* views into grads */
    ISW_ICCLS_WORK(ISW_ICCLS_WPTR32_)
} isw_iccls_work32;
#undef ISW_ICCLS_WPTR32_

isw_status isw_iccls_work_alloc(isw_iccls_work *w, isw_iccls_dims dims, int Bmax, isw_error *err);
void isw_iccls_work_free(isw_iccls_work *w);

/* Forward of B <= Bmax sequences: fills every activation of w, logits included. */
void isw_iccls_forward(const isw_iccls_net *net, isw_iccls_work *w,
                       const double *X, /* [B, T, d] tokens */
                       int B);

/* Cross-entropy of w->logits against target[B] (label indices): returns the sum over the batch of
 * logsumexp(z) - z_target, adds the number of correct argmax predictions (the first maximum) to
 * *n_correct (if not NULL), and writes w->dlogits = scale * dloss_b/dlogits (scale = 1/B for a
 * batch mean). */
double isw_iccls_loss(isw_iccls_work *w, const int *target /* [B] */, int B, double scale,
                      long *n_correct);

/* Backward of the last isw_iccls_forward on the same X: accumulates (+=) into net->grads the
 * gradient of sum_b dlogits_b . logits_b, with dlogits = w->dlogits. */
void isw_iccls_backward(isw_iccls_net *net, isw_iccls_work *w,
                        const double *X, /* [B, T, d] */
                        int B);

/* The same network in single precision, for speed (sgemm runs about twice as fast as dgemm at
 * these shapes): the weights stay in double (net, updated by isw_iccls_sgd); each step copies
 * them to float (isw_iccls_sync32), runs the float forward and backward on float tokens, and adds
 * the float gradient into net->grads. Same arithmetic as the double kernels, in float; checked
 * against them by tests/unit/test_iccls_grad.c. */
isw_status isw_iccls_work32_alloc(isw_iccls_work32 *w, isw_iccls_dims dims, int Bmax, isw_error *err);
void isw_iccls_work32_free(isw_iccls_work32 *w);
void isw_iccls_sync32(const isw_iccls_net *net, isw_iccls_work32 *w);
void isw_iccls_forward32(isw_iccls_work32 *w, const float *X /* [B, T, d] */, int B);
double isw_iccls_loss32(isw_iccls_work32 *w, const int *target /* [B] */, int B, double scale,
                        long *n_correct);
/* Backward of the last isw_iccls_forward32: w->grads = the float gradient, then added into
 * net->grads. */
void isw_iccls_backward32(isw_iccls_net *net, isw_iccls_work32 *w, const float *X /* [B, T, d] */,
                          int B);

/* One SGD step with multiplicative weight decay, p <- (1 - weight_decay) p - lr grad, then grads
 * set to zero. */
void isw_iccls_sgd(isw_iccls_net *net, double lr, double weight_decay);

/* Reference forward: the definition in the header comment, one sequence at a time in plain loops,
 * layer 2 at every position (its query row is the one used). Writes logits[B, L], the layer 1
 * attention a1[B, T, T] and the query's layer 2 attention a2[B, T] (either may be NULL).
 * Allocates scratch; ISW_EINTERNAL when out of memory. */
isw_status isw_iccls_forward_naive(const isw_iccls_net *net, const double *X /* [B, T, d] */, int B,
                                   double *logits /* [B, L] */, double *a1 /* [B, T, T] */,
                                   double *a2 /* [B, T] */, isw_error *err);

#endif
