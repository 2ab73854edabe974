/* The concept model's network (docs/science.md section 1): one softmax attention head from the query
 * over the L demonstrations, whose queries and keys read words and whose values read labels, then
 * a ReLU MLP with a fixed second layer.
 *
 * Dimension letters, used in every shape comment:
 *   B   prompts in a batch          L   demonstrations per prompt
 *   d   word (and label) dimension  D   token dimension, 2d: h = [x; label part]
 *   dh  rows of W_Q and W_K         m   MLP width (a_r = +1/m for r < m/2, -1/m otherwise)
 *   n   label vectors of a structured batch (2K: c_1..c_K, d_1..d_K)
 *
 * For prompt b, with demonstration tokens h_l = [x_l; y~_l] (word x_l, label part y~_l) and the
 * query word x_q:
 *     q = W_Q x_q,  u = W_K^T q,  s_l = x_l^T u,  alpha = softmax(s),
 *     o = sum_l alpha_l y~_l,  z = W_O o,  f = sum_r a_r ReLU(z_r).
 * W_Q, W_K are [dh, d] and act on the word half; the value map is W_V = [0 I] (o is the attended
 * label parts, in R^d); W_O is [m, d]. Computing u first makes the scores O(L d) per prompt
 * instead of O(L d dh).
 *
 * All trained weights live in one arena (params) and their gradients in another (grads), in the
 * order of the ISW_CTF_TENSORS table, so SGD, weight decay, norms and gradient checks are loops
 * over one array. Workspace for a batch is allocated once (isw_ctf_work) and reused every step. */
#ifndef ICLSWEEP_CONCEPT_TF_H
#define ICLSWEEP_CONCEPT_TF_H

#include "iclsweep/core/error.h"
#include "iclsweep/core/rng.h"

typedef struct {
    int d, D, dh, m;
} isw_ctf_dims;

/* The trained tensors, listed once: X(name, rows, cols, meaning); rows and cols name fields of
 * isw_ctf_dims. Each is row-major [rows, cols]. */
#define ISW_CTF_TENSORS(X)                                             \
    X(wq, dh, d, "W_Q: query map, on the query's word")                \
    X(wk, dh, d, "W_K: key map, on the demonstrations' words")         \
    X(wo, m, d, "W_O: MLP first-layer rows w_r, on the attended labels")

#define ISW_CTF_PTR_(name, rows, cols, doc) double *name;
typedef struct {
    isw_ctf_dims dims;
    long n_params;
    double *params; /* [n_params] every trained weight, tensors in table order */
    double *grads;  /* [n_params] matching gradients (accumulated with +=) */
    struct { ISW_CTF_TENSORS(ISW_CTF_PTR_) } w; /* views into params */
    struct { ISW_CTF_TENSORS(ISW_CTF_PTR_) } g; /* views into grads */
} isw_ctf;
#undef ISW_CTF_PTR_

/* The fixed second-layer weight a_r of neuron r of m: +1/m for the first half, -1/m after. */
static inline double isw_ctf_out_weight(int r, int m) { return r < m / 2 ? 1.0 / m : -1.0 / m; }

/* Number of tensors, and the name, element count and offset of tensor i (for checks, output). */
int isw_ctf_n_tensors(void);
const char *isw_ctf_tensor_name(int i);
long isw_ctf_tensor_size(const isw_ctf_dims *dims, int i);
long isw_ctf_tensor_offset(const isw_ctf_dims *dims, int i);

/* Activations of one batch kept for the backward pass; sized for up to Bmax prompts of up to Lmax
 * demonstrations. */
typedef struct {
    int Bmax, Lmax;
    double *q;    /* [B, dh]  W_Q x_q */
    double *u;    /* [B, d]   W_K^T q */
    double *a;    /* [B, L]   attention weights alpha */
    double *o;    /* [B, d]   attention output (token-matrix kernels only) */
    double *z;    /* [B, m]   MLP pre-activations */
    double *f;    /* [B]      outputs */
    double *df;   /* [B]      dloss/df (set by isw_ctf_loss) */
    double *dz;   /* [B, m] */
    double *dout; /* [B, d]   dloss/do (token-matrix kernels only) */
    double *ds;   /* [B, L]   dloss/dscores */
    double *du;   /* [B, d] */
    double *dq;   /* [B, dh] */
    double *mqk;  /* [d, d]   W_Q^T W_K, for evaluation (isw_ctf_eval_prepare) */
    /* structured kernels only (isw_ctf_work_alloc_labels), n = nlab label vectors: */
    int nlab_max;
    double *lw_om; /* [B, n]  coefficients of o over lab: o_b = lw_om_b^T lab */
    double *lw_gt; /* [B, n]  dloss/do projected on lab: (dz W_O) lab^T = dz lw_ot */
    double *lw_ot; /* [m, n]  W_O lab^T */
    double *lw_gw; /* [m, n]  dz^T lw_om: dW_O = lw_gw lab */
    /* coded evaluation only (isw_ctf_work_alloc_atoms): */
    int na_max;
    double *pa;    /* [B, na] atoms u_b */
} isw_ctf_work;

/* Allocates net's arenas for dims (weights zero). Returns ISW_EINTERNAL when out of memory. */
isw_status isw_ctf_alloc(isw_ctf *net, isw_ctf_dims dims, isw_error *err);
void isw_ctf_free(isw_ctf *net);
/* Draws the weights off rng, every entry N(0, init^2): tied (nonzero): W_Q, then W_K = W_Q (one
 * draw for both; they are separate tensors, trained apart afterwards), then W_O; independent
 * (zero): W_Q, W_K, W_O in table order. */
void isw_ctf_init_weights(isw_ctf *net, isw_rng *rng, double init, int tied);

isw_status isw_ctf_work_alloc(isw_ctf_work *w, isw_ctf_dims dims, int Bmax, int Lmax, isw_error *err);
void isw_ctf_work_free(isw_ctf_work *w);

/* Forward for training: fills w->q, u, a, o, z, f. B <= Bmax, L <= Lmax. */
void isw_ctf_forward(const isw_ctf *net, isw_ctf_work *w,
                     const double *h,  /* [B, L, D] demonstration tokens */
                     const double *xq, /* [B, d] query words */
                     int B, int L);

/* Evaluation: isw_ctf_eval_prepare computes w->mqk = W_Q^T W_K from the current weights (once per
 * evaluation pass); isw_ctf_forward_eval then fills w->u, a, o, z, f (not q) at 2 d d instead of
 * 4 d dh flops per prompt for u. */
void isw_ctf_eval_prepare(const isw_ctf *net, isw_ctf_work *w);
void isw_ctf_forward_eval(const isw_ctf *net, isw_ctf_work *w,
                          const double *h,  /* [B, L, D] */
                          const double *xq, /* [B, d] */
                          int B, int L);

/* A batch in structured form, which is how the trainer runs: prompt b's demonstration tokens are
 * h_l = [x_l; c_b + y_bl e_b], its words plus a label part that takes one of two values per
 * prompt, with c_b = lc_b^T lab and e_b = le_b^T lab combinations of a few (nlab) shared label
 * vectors. Since the values read only label parts, the attention output of prompt b is
 * o_b = (sum_l alpha_l) c_b + (sum_l alpha_l y_bl) e_b, a combination of the label vectors: the
 * kernels keep it as its nlab coefficients, the MLP runs on W_O lab^T ([m, n], formed once per
 * call), and no [B, L, D] token matrix is written or read. Per prompt the work is the scores
 * X_b u_b (O(L d), the words read in place) and O(L + n) scalars. Same math as the token form;
 * only rounding differs. */
typedef struct {
    const double *const *x; /* [B] -> prompt b's demonstration words, an [L, d] row-major matrix;
                               NULL for coded words (below) */
    const double *xq;       /* [B, d] query words */
    int nlab;               /* number of label vectors, <= the workspace's nlab_max */
    const double *lab;      /* [n, d] label vectors (rows) */
    const double *lc;       /* [B, n] coefficients of the common part c_b */
    const double *le;       /* [B, n] coefficients of the signed part e_b */
    const double *yl;       /* [B, L] demonstration labels y_bl (+-1) */
    /* Coded words (evaluation only, x NULL): x_bl = wc_bl^T atoms + r_bl, where the remainder r_bl
     * is known only through its part of the score, r_bl . u_b = zn_bl |u_b| (an isotropic
     * Gaussian remainder has exactly this law; include/iclsweep/tasks/concept.h). The scores are
     * then wc_bl . p_b + zn_bl |u_b| with p_b = atoms u_b: O(na) per demonstration. */
    int natoms;               /* na, <= the workspace's na_max */
    const double *atoms;      /* [na, d] */
    const signed char *wc;    /* [B, na, L]: demonstration l's coefficient on atom j at [b][j][l] */
    const double *zn;         /* [B, L] */
} isw_ctf_batch;

/* Adds the structured kernels' workspace (for batches of up to nlab_max label vectors) to w;
 * freed by isw_ctf_work_free. */
isw_status isw_ctf_work_alloc_labels(isw_ctf_work *w, isw_ctf_dims dims, int nlab_max, isw_error *err);

/* Adds the coded evaluation's workspace (batches of words over up to na_max atoms) to w; freed by
 * isw_ctf_work_free. */
isw_status isw_ctf_work_alloc_atoms(isw_ctf_work *w, int na_max, isw_error *err);
/* isw_ctf_forward, isw_ctf_forward_eval and isw_ctf_backward on a structured batch (coded words:
 * isw_ctf_forward_eval_s only); they fill the
 * same workspace fields (q, u, a, z, f, dz, ds, du, dq; not o or dout, which stay as their
 * coefficients over lab) plus lw_om, lw_ot, lw_gt, lw_gw. isw_ctf_backward_s follows the
 * isw_ctf_forward_s of the same batch (it reads lw_om, lw_ot). Checked against the naive
 * reference on the materialized tokens by tests/unit/test_concept_structured.c, and against the
 * token-matrix kernels by bench/concept/concept_bench.c. */
void isw_ctf_forward_s(const isw_ctf *net, isw_ctf_work *w, const isw_ctf_batch *bt, int B, int L);
void isw_ctf_forward_eval_s(const isw_ctf *net, isw_ctf_work *w, const isw_ctf_batch *bt, int B,
                            int L);
void isw_ctf_backward_s(isw_ctf *net, isw_ctf_work *w, const isw_ctf_batch *bt, int B, int L);

/* Logistic loss of outputs f[B] against targets y[B] = +-1: returns the sum over the batch of
 * log(1 + exp(-y f)), adds the number of sign errors (f y <= 0) to *n_err (if not NULL), and
 * writes df[b] = scale * dloss_b/df_b (scale = 1/B for a batch mean). */
double isw_ctf_loss(const double *f /* [B] */, const double *y /* [B] */, int B, double scale,
                    double *df /* [B] */, long *n_err);

/* Backward of the last isw_ctf_forward on the same h, xq: accumulates (+=) into net->grads the
 * gradient of sum_b df[b] f_b, with df = w->df. */
void isw_ctf_backward(isw_ctf *net, isw_ctf_work *w,
                      const double *h,  /* [B, L, D] */
                      const double *xq, /* [B, d] */
                      int B, int L);

/* Adds weight_decay * params to grads; returns the penalty (weight_decay / 2) |params|^2. */
double isw_ctf_decay(isw_ctf *net, double weight_decay);

/* Reference versions: plain loops, one prompt at a time, by the definition: keys k_l = W_K x_l,
 * query W_Q x_q, scores k_l . (W_Q x_q), output sum_l alpha_l h_l[d:]; slow and obvious, for the
 * tests. forward_naive writes f[B] and alpha[B, L]; backward_naive accumulates into
 * grads[n_params] the gradient of sum_b df[b] f_b. They allocate scratch and return ISW_EINTERNAL
 * when out of memory. */
isw_status isw_ctf_forward_naive(const isw_ctf *net, const double *h /* [B, L, D] */,
                                 const double *xq /* [B, d] */, int B, int L,
                                 double *f /* [B] */, double *alpha /* [B, L] */, isw_error *err);
isw_status isw_ctf_backward_naive(const isw_ctf *net, const double *h /* [B, L, D] */,
                                  const double *xq /* [B, d] */, const double *df /* [B] */,
                                  int B, int L, double *grads /* [n_params] */, isw_error *err);

#endif
