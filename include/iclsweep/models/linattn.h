/* The linear-attention model of in-context regression (docs/science.md section 2, model).
 *
 * Dimension letters, used in every shape comment of the linattn files:
 *   D   input dimension;  D1 = D + 1 rows of a token
 *   N   context pairs;    N + 1 tokens per prompt (the last is the query)
 *   Q   = D1 * D1, entries of W;  K = D1 * D, entries of W that couple (all but the last column)
 *   P   prompts of a set (training or test)
 *   dk  rows of W_q and W_k (factored model)
 * W [D1, D1] is row-major; its flat index is m * D1 + n.
 *
 * Merged model: y_hat = [Z Z^T W Z]_{D+1,N+1} / (N+1) = a^T W b = <a b^T, W>, with
 *   a = (Z Z^T)_{D+1,:} / (N+1) = sum_{i<N} y_i z_i / (N+1)   (the query's label slot is 0)
 *   b = z_q = [x_q; 0],
 * so each prompt's coefficient vector s = a b^T [Q] is rank one and a prompt set is stored as
 * A [P, D1], B [P, D1] and y [P] (P * 2 D1 numbers instead of the P * Q of S). The last column of
 * W never couples (b's last entry is 0).
 *
 * Two full-batch gradient paths of the energy
 *   E(W) = (1/2P) sum_mu (y_mu - <s_mu, W>)^2 + (lambda/2) |W|^2:
 *   samples: r = rowdot(A, B W^T) - y, grad = A^T diag(r) B / P + lambda W   (2 GEMMs, O(P Q))
 *   gram:    grad = H w - h + lambda w with H = S^T S / P [Q, Q], h = S^T y / P [Q] and
 *            E = yy/2 - h.w + w.H.w/2 + lambda/2 |w|^2, yy = mean y^2          (O(Q^2), any P)
 * Factored model W = W_q^T W_k [dk, D1] each: dE/dW_q = W_k G^T, dE/dW_k = W_q G with G = dE/dW,
 * the same energy (weight decay on the product W). */
#ifndef ICLSWEEP_LINATTN_H
#define ICLSWEEP_LINATTN_H

#include <stdint.h>

#include "iclsweep/core/error.h"

/* A prompt set in coefficient form. Owns its arrays (isw_linattn_set_free). */
typedef struct {
    int D1;
    int64_t P;
    double *A; /* [P, D1] a_mu */
    double *B; /* [P, D1] b_mu (last column 0) */
    double *y; /* [P] query targets */
} isw_linattn_set;

/* The sufficient statistics of the energy. Owns its arrays (isw_linattn_gram_free). */
typedef struct {
    int Q;
    double *H; /* [Q, Q] S^T S / P, both triangles filled */
    double *h; /* [Q] S^T y / P */
    double yy; /* mean of y^2 */
} isw_linattn_gram;

/* Allocates a set of P prompts in dimension D1 (arrays zeroed). */
isw_status isw_linattn_set_alloc(isw_linattn_set *set, int D1, int64_t P, isw_error *err);
void isw_linattn_set_free(isw_linattn_set *set);

/* Coefficient vectors of one prompt: a [D1] and b [D1] from Z [D1, N+1]. */
void isw_linattn_coeffs(int D, int N, const double *Z /* [D+1, N+1] */, double *a /* [D+1] */,
                        double *b /* [D+1] */);

/* Slow, obvious reference: forms C = Z Z^T, then [C W Z]_{D+1,N+1} / (N+1) by plain loops. */
double isw_linattn_predict_direct(int D, int N, const double *Z /* [D+1, N+1] */,
                                  const double *W /* [D1, D1] */);

/* yhat [P] = rowdot(A, B W^T); work [P, D1] is scratch. */
void isw_linattn_predict(const isw_linattn_set *set, const double *W /* [D1, D1] */,
                         double *yhat /* [P] */, double *work /* [P, D1] */);

/* Mean squared error of W on set (no 1/2, no weight decay). work as in isw_linattn_predict. */
double isw_linattn_mse(const isw_linattn_set *set, const double *W /* [D1, D1] */,
                       double *yhat /* [P] */, double *work /* [P, D1] */);

/* Samples path: writes grad [Q] = dE/dW over rows [r0, r0 + n) of set (n prompts, the mean over
 * them) and returns E on those rows. r [n] and work [n, D1] are scratch. */
double isw_linattn_grad_samples(const isw_linattn_set *set, int64_t r0, int64_t n,
                                const double *W /* [Q] */, double lambda, double *grad /* [Q] */,
                                double *r /* [n] */, double *work /* [n, D1] */);

/* Builds the Gram statistics of set (S formed in blocks of rows, DSYRK). O(P Q^2). */
isw_status isw_linattn_gram_build(const isw_linattn_set *set, isw_linattn_gram *g, isw_error *err);
void isw_linattn_gram_free(isw_linattn_gram *g);

/* Gram path: writes grad [Q] = dE/dW and returns E. Hw [Q] is scratch (left holding H w). */
double isw_linattn_grad_gram(const isw_linattn_gram *g, const double *W /* [Q] */, double lambda,
                             double *grad /* [Q] */, double *Hw /* [Q] */);

/* Energy E(W) from the Gram statistics. Hw [Q] is scratch. */
double isw_linattn_energy_gram(const isw_linattn_gram *g, const double *W /* [Q] */, double lambda,
                               double *Hw /* [Q] */);

/* Factored model: W [D1, D1] = Wq^T Wk. */
void isw_linattn_factored_w(int D1, int dk, const double *Wq /* [dk, D1] */,
                            const double *Wk /* [dk, D1] */, double *W /* [D1, D1] */);
/* Chain rule: gWq [dk, D1] = Wk G^T, gWk [dk, D1] = Wq G, from G = dE/dW [D1, D1]. */
void isw_linattn_factored_backward(int D1, int dk, const double *Wq /* [dk, D1] */,
                                   const double *Wk /* [dk, D1] */, const double *G /* [D1, D1] */,
                                   double *gWq /* [dk, D1] */, double *gWk /* [dk, D1] */);

#endif
