/* Training one concept-model task (docs/science.md section 1): minibatch SGD with weight decay on the
 * logistic loss, with every metric of the model at each log point and the final summary.
 *
 * Workload: one task = one model of ~10^4..10^5 weights trained for 10^3..10^5 steps of a 64-prompt
 * batch, with the training set, a test set and five OOD sets of a few thousand prompts evaluated
 * at every log point (every ~20 steps). Evaluation therefore costs as much as training or more,
 * so it uses the cheap forward (isw_ctf_forward_eval_s: W_Q^T W_K formed once per pass) in chunks
 * of EVAL_CHUNK prompts, and the test and OOD sets are coded (include/iclsweep/tasks/concept.h):
 * a demonstration's score costs 2K + K_irr flops instead of d, and the sets take 1/21 of the
 * memory of dense double words at the default point. Everything (data, weights, workspace, batch
 * buffers) is allocated once before the first step; the loop itself never allocates. Evaluation sets past
 * ISW_CONCEPT_EVAL_KEEP_BYTES (a task of n_test ~ 10^5 and more) are not kept: each log point
 * draws them again from their streams into a one-chunk buffer, which bounds memory and gives the
 * same numbers (tests/CMakeLists.txt: test_concept_regen). Batches are never materialized into
 * token matrices: the kernels take them in structured form (isw_concept_batch, isw_ctf_batch:
 * the batch's words widened from the set's single precision into one buffer, plus one label pair
 * per prompt), which at L = 64 saves writing and re-reading 4 MB of tokens per step;
 * tests/unit/test_concept_structured.c checks those kernels against the naive reference on
 * materialized tokens. A training batch is run through forward and backward in chunks of at most
 * CHUNK_BYTES of words, so the words are still in cache when the backward pass reads them again.
 *
 * Order within a step t (0 <= t <= steps): draw batch t, forward, loss, backward, weight decay,
 * gradient norm; a non-finite loss or gradient stops the task as diverged at step t; if t is a log
 * point, evaluate and report (all metrics refer to the weights after t updates; grad_norm is the
 * gradient at those weights on batch t); then, if t < steps, update. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "iclsweep/tasks/concept.h"
#include "iclsweep/models/concept_params.h"
#include "iclsweep/models/concept.h"
#include "iclsweep/core/hash.h"
#include "iclsweep/core/schedule.h"
#include "iclsweep/train/model.h"


/* ---- the metric tables ------------------------------------------------------------------- */

/* X(name, units, meaning): reported at every log point, and again at the end. */
#define TRAJ_METRICS(X)                                                                          \
    X(train_loss, "nats", "mean logistic loss on the training set (fresh-prompt runs: mean over "  \
                          "the batches since the last log point); no weight-decay term")         \
    X(train_err, "fraction", "0-1 error on the training set (as train_loss)")                    \
    X(test_loss, "nats", "mean logistic loss on n_test fresh prompts")                           \
    X(test_err, "fraction", "0-1 error on n_test fresh prompts")                                 \
    X(caw, "fraction", "correct attention weight: test attention mass on demos whose polarity "  \
                       "equals the query's (s_l = s_q)")                                         \
    X(caw_sel, "fraction", "attention selectivity: mean over (concept, label map) cells of the "  \
                           "test set of max(caw, 1 - caw); equals caw up to noise unless the "   \
                           "attention is sign-degenerate (0.5 = unselective)")                   \
    X(attn_concept, "", "max_k b_k^T W_K^T W_Q b_k / |b_k|^2: the score gain on the query's "    \
                        "own polarity atom, largest over concepts")                              \
    X(attn_concept_min, "", "min_k b_k^T W_K^T W_Q b_k / |b_k|^2: positive when every concept "   \
                            "attends to demos of the query's polarity, negative when one "       \
                            "attends to the opposite polarity")                                  \
    X(attn_complement, "", "max |u^T W_K^T W_Q v| / (|u| |v|) over word atoms u, v of "           \
                           "different concepts (each nu_j its own concept)")                     \
    X(attn_noise, "", "max |g^T W_K^T W_Q g| / |g|^2 over n_probe Gaussian word directions g "   \
                      "(near init^2 d_h at a tied init)")                                        \
    X(mlp_concept, "", "max over k, r of sign(a_r) <w_r, d_k> / (|w_r| |d_k|): cosine of a "     \
                       "neuron with the concept-specific label feature, signed as its output")   \
    X(mlp_label_c, "", "max over k, r of |<w_r, c_k>| / (|w_r| |c_k|): cosine with the "          \
                       "concept's common label atom (a per-concept offset)")                     \
    X(mlp_complement, "", "max over r of |P w_r| / |w_r|, P the projection off the span of the " \
                          "label atoms c_k, d_k: cosine of w_r with the label complement")       \
    X(mlp_noise, "", "max over r and n_probe Gaussian label directions g of "                    \
                     "|<w_r, g>| / (|w_r| |g|)")                                                 \
    X(ood_short_err, "fraction", "0-1 error on prompts of L_short demonstrations")              \
    X(ood_long_err, "fraction", "0-1 error on prompts of L_long demonstrations")                \
    X(ood_skew_err, "fraction", "0-1 error with concept 1 at probability ood_skew")             \
    X(ood_switch_err, "fraction", "0-1 error when concept k's words carry b_(k+1 mod K) "        \
                                  "(NaN for K = 1)")                                            \
    X(ood_cross_err, "fraction", "0-1 error on words mixing two concepts (NaN for K = 1)")      \
    X(grad_norm, "", "Euclidean norm of the minibatch gradient, weight decay included")

/* Final-only metrics, after the trajectory metrics at the last step. */
#define FINAL_EXTRA(X)                                                                           \
    X(test_err_decay, "1/step", "exponential decay rate of test_err: minus the least-squares "   \
                                "slope of log(test_err) vs step over its decaying part, from "   \
                                "0.8 of the initial error down to 10 test errors")              \
    X(step_err_below_1pct, "steps", "first logged step with test_err < 0.01 (NaN if never)")

#define METRIC_ROW_(name, units, doc) {#name, units, doc},
#define METRIC_ENUM_(name, units, doc) M_##name,
static const isw_metric_def traj_defs[] = {TRAJ_METRICS(METRIC_ROW_)};
static const isw_metric_def final_defs[] = {TRAJ_METRICS(METRIC_ROW_) FINAL_EXTRA(METRIC_ROW_)};
enum { TRAJ_METRICS(METRIC_ENUM_) N_TRAJ };
enum { M_FINAL_BASE_ = N_TRAJ - 1, FINAL_EXTRA(METRIC_ENUM_) };
#define N_FINAL ((int)(sizeof final_defs / sizeof final_defs[0]))

/* ---- the task's state -------------------------------------------------------------------- */

/* Evaluation sets, in order: the test set, then the OOD sets (include/iclsweep/models/concept_params.h
 * says which are kept in memory). */
enum {
    SET_TEST = ISW_CEVAL_TEST,
    SET_SHORT = ISW_CEVAL_SHORT,
    SET_LONG = ISW_CEVAL_LONG,
    SET_SKEW = ISW_CEVAL_SKEW,
    SET_SWITCH = ISW_CEVAL_SWITCH,
    SET_CROSS = ISW_CEVAL_CROSS,
    N_SETS = ISW_CEVAL_N
};

/* Random streams of a task: each part draws from its own. */
enum {
    STREAM_DICT = 0, /* and STREAM_DICT + 1 for the label atoms */
    STREAM_TRAIN = 2,
    STREAM_EVAL = 3, /* + set index */
    STREAM_INIT = 16,
    STREAM_BATCH = 17,
    STREAM_PROBE = 18
};

#define EVAL_CHUNK ISW_CONCEPT_EVAL_CHUNK

typedef struct {
    isw_concept_cfg c;
    isw_concept_data data; /* what the generators read of c */
    int d, D, B, Bmax, Lmax;
    isw_concept_dict dict;
    isw_concept_set train; /* n_train prompts, or one batch refilled every step */
    isw_concept_set sets[N_SETS]; /* n_test prompts each, or room for one chunk (not kept) */
    int kept[N_SETS];             /* whether sets[i] holds the whole set */
    uint64_t seed;                /* the task's: regenerates the sets not kept */
    isw_ctf net;
    isw_ctf_work work;
    const double **xp; /* [Bmax] a batch's demonstration words (pointers into xw) */
    double *xw;     /* [Bmax, L, d] a dense batch's demonstration words, widened to double */
    double *xq;     /* [Bmax, d] query words */
    double *lc;     /* [Bmax, 2K] label common parts: coefficients over dict.labels */
    double *le;     /* [Bmax, 2K] label signed parts: coefficients over dict.labels */
    double *yl;     /* [Bmax, Lmax] demonstration labels */
    double *y;      /* [Bmax] targets */
    int *perm;      /* [n_train] epoch order */
    int perm_pos;   /* next unread position of perm */
    int *batch_idx; /* [B] prompts of the current batch (NULL for fresh prompts) */
    double *probes; /* [n_probe, d] Gaussian directions (word space and label space) */
    isw_rng batch_rng;
    double run_loss, run_err; /* fresh-prompt runs: batch sums since the last log point */
    long run_n;
    double *cell_mass; /* [K, 2] test attention mass on same-polarity demos per (concept, tau) */
    long *cell_n;      /* [K, 2] prompts per cell */
} run;

static void run_free(run *r) {
    isw_concept_dict_free(&r->dict);
    isw_concept_set_free(&r->train);
    for (int i = 0; i < N_SETS; i++) isw_concept_set_free(&r->sets[i]);
    isw_ctf_free(&r->net);
    isw_ctf_work_free(&r->work);
    free(r->xp);
    free(r->xw);
    free(r->xq);
    free(r->lc);
    free(r->le);
    free(r->yl);
    free(r->y);
    free(r->perm);
    free(r->batch_idx);
    free(r->probes);
    free(r->cell_mass);
    free(r->cell_n);
}

static int set_L(const isw_concept_cfg *c, int i) { return (int)isw_concept_eval_L(c, i); }

static isw_cset_kind set_kind(int i) {
    return i == SET_SKEW ? ISW_CSET_SKEW
         : i == SET_SWITCH ? ISW_CSET_SWITCH
         : i == SET_CROSS ? ISW_CSET_CROSS : ISW_CSET_IID;
}

static isw_status make_data(run *r, uint64_t seed, isw_error *err) {
    const isw_concept_cfg *c = &r->c;
    isw_status st = isw_concept_dict_make(&r->dict, &r->data, seed, STREAM_DICT, err);
    if (st) return st;
    int n_train = c->n_train > 0 ? (int)c->n_train : r->B, na = (int)isw_concept_atoms(c);
    if (isw_concept_set_alloc(&r->train, n_train, (int)c->L, r->d, 0, na, err)) return ISW_EINTERNAL;
    isw_rng rng;
    if (c->n_train > 0) {
        isw_rng_init(&rng, seed, STREAM_TRAIN);
        isw_concept_fill(&r->train, n_train, ISW_CSET_IID, &r->dict, &r->data, &rng);
    }
    for (int i = 0; i < N_SETS; i++) {
        r->kept[i] = isw_concept_eval_kept(c, i);
        int cap = r->kept[i] || c->n_test < EVAL_CHUNK ? (int)c->n_test : EVAL_CHUNK;
        if (isw_concept_set_alloc(&r->sets[i], cap, set_L(c, i), r->d, 1, na, err)) return ISW_EINTERNAL;
        if (!r->kept[i]) continue;
        isw_rng_init(&rng, seed, STREAM_EVAL + (uint32_t)i);
        isw_concept_fill(&r->sets[i], (int)c->n_test, set_kind(i), &r->dict, &r->data, &rng);
    }
    return ISW_OK;
}

/* Loads prompts idx[0..B) of set (idx NULL: first..first+B) into r's batch buffers; returns the
 * structured batch the kernels take. */
static isw_ctf_batch load_batch(run *r, const isw_concept_set *set, const int *idx, int first,
                                int B) {
    const signed char *wc = NULL;
    const double *zn = NULL;
    isw_concept_batch(set, &r->dict, idx, first, B, r->xw, r->xp, &wc, &zn, r->xq, r->lc, r->le, r->yl,
                      r->y);
    isw_ctf_batch bt = {set->coded ? NULL : r->xp, r->xq, 2 * r->dict.K, r->dict.labels, r->lc, r->le,
                        r->yl, set->na, r->dict.words, wc, zn};
    return bt;
}

static isw_status run_setup(run *r, const isw_concept_cfg *cfg, uint64_t seed, isw_error *err) {
    memset(r, 0, sizeof *r);
    r->c = *cfg;
    r->data = isw_concept_data_of(cfg);
    r->seed = seed;
    const isw_concept_cfg *c = &r->c;
    r->d = (int)c->d;
    r->D = 2 * r->d;
    r->B = (int)c->batch;
    r->Bmax = r->B > EVAL_CHUNK ? r->B : EVAL_CHUNK;
    r->Lmax = (int)c->L;
    if (c->L_short > r->Lmax) r->Lmax = (int)c->L_short;
    if (c->L_long > r->Lmax) r->Lmax = (int)c->L_long;
    isw_ctf_dims dims = {r->d, r->D, c->d_h ? (int)c->d_h : r->D, (int)c->width};
    isw_status st = make_data(r, seed, err);
    if (st) return st;
    if (isw_ctf_alloc(&r->net, dims, err)) return ISW_EINTERNAL;
    if (isw_ctf_work_alloc(&r->work, dims, r->Bmax, r->Lmax, err) ||
        isw_ctf_work_alloc_labels(&r->work, dims, 2 * (int)c->K, err) ||
        isw_ctf_work_alloc_atoms(&r->work, (int)isw_concept_atoms(c), err))
        return ISW_EINTERNAL;
    r->xp = isw_malloc(sizeof(double *) * (size_t)r->Bmax, err);
    r->xw = isw_malloc(sizeof(double) * (size_t)r->Bmax * (size_t)c->L * r->d, err);
    r->xq = isw_malloc(sizeof(double) * (size_t)r->Bmax * r->d, err);
    r->lc = isw_malloc(sizeof(double) * (size_t)r->Bmax * 2 * (size_t)c->K, err);
    r->le = isw_malloc(sizeof(double) * (size_t)r->Bmax * 2 * (size_t)c->K, err);
    r->yl = isw_malloc(sizeof(double) * (size_t)r->Bmax * r->Lmax, err);
    r->y = isw_malloc(sizeof(double) * (size_t)r->Bmax, err);
    r->probes = isw_malloc(sizeof(double) * (size_t)c->n_probe * r->d, err);
    r->cell_mass = isw_calloc(2 * (size_t)c->K, sizeof(double), err);
    r->cell_n = isw_calloc(2 * (size_t)c->K, sizeof(long), err);
    if (!r->xp || !r->xw || !r->xq || !r->lc || !r->le || !r->yl || !r->y || !r->probes || !r->cell_mass ||
        !r->cell_n)
        return ISW_EINTERNAL;
    if (c->n_train > 0) {
        r->perm = isw_malloc(sizeof(int) * (size_t)c->n_train, err);
        r->batch_idx = isw_malloc(sizeof(int) * (size_t)r->B, err);
        if (!r->perm || !r->batch_idx) return ISW_EINTERNAL;
        for (int i = 0; i < (int)c->n_train; i++) r->perm[i] = i;
        r->perm_pos = (int)c->n_train; /* shuffle before the first batch */
    }
    isw_rng rng;
    isw_rng_init(&rng, seed, STREAM_INIT);
    isw_ctf_init_weights(&r->net, &rng, c->init, c->qk_init == ISW_QK_tied);
    isw_rng_init(&rng, seed, STREAM_PROBE);
    isw_rng_normal_fill(&rng, r->probes, (long)c->n_probe * r->d, 1.0);
    isw_rng_init(&r->batch_rng, seed, STREAM_BATCH);
    return ISW_OK;
}

/* ---- one step ---------------------------------------------------------------------------- */

/* Picks the next batch: the next B prompts of a shuffled epoch into r->batch_idx (reshuffled
 * when fewer than B remain), or B fresh prompts into r->train. */
static void next_batch(run *r) {
    int n = (int)r->c.n_train;
    if (n == 0) {
        isw_concept_fill(&r->train, r->B, ISW_CSET_IID, &r->dict, &r->data, &r->batch_rng);
        return;
    }
    if (r->perm_pos + r->B > n) {
        for (int i = n - 1; i > 0; i--) {
            int j = (int)isw_rng_below(&r->batch_rng, (uint64_t)i + 1);
            int t = r->perm[i];
            r->perm[i] = r->perm[j];
            r->perm[j] = t;
        }
        r->perm_pos = 0;
    }
    memcpy(r->batch_idx, r->perm + r->perm_pos, sizeof(int) * (size_t)r->B);
    r->perm_pos += r->B;
}

/* Prompts per chunk of a batch: the chunk's demonstration words stay within CHUNK_BYTES, so that
 * they are still in cache when the backward pass reads them again. */
#define CHUNK_BYTES (512 * 1024)
static int chunk_prompts(const run *r) {
    size_t per = sizeof(double) * (size_t)r->c.L * (size_t)r->d;
    int n = (int)(CHUNK_BYTES / per);
    return n < 1 ? 1 : n > r->B ? r->B : n;
}

/* Gradient of the mean loss plus decay on the current batch into net.grads, chunk by chunk;
 * returns the batch's mean data loss, adds its errors to *n_err. */
static double batch_gradient(run *r, long *n_err) {
    isw_ctf *net = &r->net;
    int L = (int)r->c.L, chunk = chunk_prompts(r);
    double loss = 0.0;
    memset(net->grads, 0, sizeof(double) * (size_t)net->n_params);
    for (int first = 0; first < r->B; first += chunk) {
        int B = r->B - first < chunk ? r->B - first : chunk;
        const int *idx = r->batch_idx ? r->batch_idx + first : NULL;
        isw_ctf_batch bt = load_batch(r, &r->train, idx, first, B);
        isw_ctf_forward_s(net, &r->work, &bt, B, L);
        loss += isw_ctf_loss(r->work.f, r->y, B, 1.0 / r->B, r->work.df, n_err);
        isw_ctf_backward_s(net, &r->work, &bt, B, L);
    }
    isw_ctf_decay(net, r->c.weight_decay);
    return loss / r->B;
}

static double grad_norm(const isw_ctf *net) {
    double s = 0.0;
    for (long i = 0; i < net->n_params; i++) s += net->grads[i] * net->grads[i];
    return sqrt(s);
}

static void sgd_update(isw_ctf *net, double lr) {
    for (long i = 0; i < net->n_params; i++) net->params[i] -= lr * net->grads[i];
}

/* ---- evaluation -------------------------------------------------------------------------- */

typedef struct {
    double loss, err, caw, caw_sel;
} set_eval;

/* Attention mass of prompt i on demos with the query's polarity. */
static double prompt_caw(const isw_concept_set *set, int i, const double *alpha /* [L] */) {
    const signed char *s = set->s + (size_t)i * (set->L + 1);
    double mass = 0.0;
    for (int l = 0; l < set->L; l++)
        if (s[l] == s[set->L]) mass += alpha[l];
    return mass;
}

/* Mean over the non-empty (concept, tau) cells of max(caw, 1 - caw); resets the cells. A model may
 * key its attention on word polarity (caw -> 1) or on demo labels against the query word (caw -> 1
 * for one label map and 0 for the other): both read the context, and per-cell selectivity sees
 * both. */
static double cell_selectivity(run *r) {
    double sum = 0.0;
    int cells = 0;
    for (int i = 0; i < 2 * (int)r->c.K; i++) {
        if (r->cell_n[i] == 0) continue;
        double m = r->cell_mass[i] / (double)r->cell_n[i];
        sum += m > 1.0 - m ? m : 1.0 - m;
        cells++;
        r->cell_mass[i] = 0.0;
        r->cell_n[i] = 0;
    }
    return cells ? sum / cells : NAN;
}

/* Adds the loss, errors and caw of prompts [first, first + B) of set (B <= EVAL_CHUNK) to *ev
 * and *errs, and their attention mass to the (concept, tau) cells. */
static void eval_chunk(run *r, const isw_concept_set *set, int first, int B, set_eval *ev,
                       long *errs) {
    isw_ctf_batch bt = load_batch(r, set, NULL, first, B);
    isw_ctf_forward_eval_s(&r->net, &r->work, &bt, B, set->L);
    ev->loss += isw_ctf_loss(r->work.f, r->y, B, 1.0, NULL, errs);
    for (int b = 0; b < B; b++) {
        int i = first + b;
        double m = prompt_caw(set, i, r->work.a + (size_t)b * set->L);
        const signed char *yq = set->y + (size_t)i * (set->L + 1) + set->L;
        const signed char *sq = set->s + (size_t)i * (set->L + 1) + set->L;
        int cell = 2 * set->k1[i] + (*yq == *sq); /* tau = y s_q */
        ev->caw += m;
        r->cell_mass[cell] += m;
        r->cell_n[cell]++;
    }
}

static set_eval eval_finish(run *r, set_eval ev, long errs, int n) {
    ev.caw_sel = cell_selectivity(r);
    ev.loss /= n;
    ev.err = (double)errs / n;
    ev.caw /= n;
    return ev;
}

/* Loss, 0-1 error, caw and caw_sel of the current weights on the n prompts of a set held in
 * memory (w->mqk prepared). */
static set_eval eval_set(run *r, const isw_concept_set *set, int n) {
    set_eval ev = {0, 0, 0, 0};
    long errs = 0;
    for (int first = 0; first < n; first += EVAL_CHUNK)
        eval_chunk(r, set, first, n - first < EVAL_CHUNK ? n - first : EVAL_CHUNK, &ev, &errs);
    return eval_finish(r, ev, errs, n);
}

/* As eval_set on evaluation set i, kept or not: a set not kept is drawn again from the start of
 * its stream, one chunk at a time, into its chunk buffer. The prompts, and the order in which
 * their sums are taken, are those of the kept set, so the numbers are the same bit for bit. */
static set_eval eval_test_set(run *r, int i) {
    isw_concept_set *set = &r->sets[i];
    int n = (int)r->c.n_test;
    if (r->kept[i]) return eval_set(r, set, n);
    set_eval ev = {0, 0, 0, 0};
    long errs = 0;
    isw_rng rng;
    isw_rng_init(&rng, r->seed, STREAM_EVAL + (uint32_t)i);
    for (int first = 0; first < n; first += EVAL_CHUNK) {
        int B = n - first < EVAL_CHUNK ? n - first : EVAL_CHUNK;
        isw_concept_fill(set, B, set_kind(i), &r->dict, &r->data, &rng);
        eval_chunk(r, set, 0, B, &ev, &errs);
    }
    return eval_finish(r, ev, errs, n);
}

static double dot(const double *a, const double *b, int n) {
    double s = 0.0;
    for (int i = 0; i < n; i++) s += a[i] * b[i];
    return s;
}

/* (W_K u)^T (W_Q v) = v^T (W_Q^T W_K) u for words u (demo side) and v (query side), from mqk
 * prepared by isw_ctf_eval_prepare. */
static double attn_form(const run *r, const double *u /* [d] */, const double *v /* [d] */) {
    double s = 0.0;
    for (int i = 0; i < r->d; i++) s += v[i] * dot(r->work.mqk + (size_t)i * r->d, u, r->d);
    return s;
}

/* Concept of word atom i (rows of dict.words): a_k, b_k -> k; nu_j -> K + j. */
static int atom_concept(const isw_concept_dict *dict, int i) {
    return i < 2 * dict->K ? i % dict->K : i;
}

static void attention_metrics(run *r, double *v) {
    const isw_concept_dict *dict = &r->dict;
    int d = r->d, n_atoms = 2 * dict->K + dict->K_irr;
    double conc = -INFINITY, conc_min = INFINITY, comp = 0.0, noise = 0.0;
    for (int k = 0; k < dict->K; k++) {
        const double *b = ISW_DICT_B(dict, k);
        double nb = dot(b, b, d);
        if (nb == 0) continue;
        double g = attn_form(r, b, b) / nb;
        conc = fmax(conc, g);
        conc_min = fmin(conc_min, g);
    }
    for (int i = 0; i < n_atoms; i++)
        for (int j = 0; j < n_atoms; j++) {
            if (atom_concept(dict, i) == atom_concept(dict, j)) continue;
            const double *u = dict->words + (size_t)i * d, *w = dict->words + (size_t)j * d;
            double nn = sqrt(dot(u, u, d) * dot(w, w, d));
            if (nn > 0) comp = fmax(comp, fabs(attn_form(r, u, w)) / nn);
        }
    for (int p = 0; p < (int)r->c.n_probe; p++) {
        const double *g = r->probes + (size_t)p * d;
        noise = fmax(noise, fabs(attn_form(r, g, g)) / dot(g, g, d));
    }
    v[M_attn_concept] = isfinite(conc) ? conc : NAN;
    v[M_attn_concept_min] = isfinite(conc_min) ? conc_min : NAN;
    v[M_attn_complement] = comp;
    v[M_attn_noise] = noise;
}

/* Cosine of neuron k's row w_k of W_O with u[d]; 0 when either is zero. */
static double mlp_cos(const run *r, int k, const double *u /* [d] */) {
    const double *w = r->net.w.wo + (size_t)k * r->d;
    double nn = sqrt(dot(w, w, r->d) * dot(u, u, r->d));
    return nn > 0 ? dot(w, u, r->d) / nn : 0.0;
}

/* |P w_k| / |w_k| for neuron k, P the projection off the span of the (orthogonal) label atoms. */
static double mlp_complement_cos(const run *r, int k) {
    const isw_concept_dict *dict = &r->dict;
    const double *w = r->net.w.wo + (size_t)k * r->d;
    double ww = dot(w, w, r->d), in = 0.0;
    if (ww == 0) return 0.0;
    for (int j = 0; j < 2 * dict->K; j++) {
        const double *l = dict->labels + (size_t)j * r->d;
        double ll = dot(l, l, r->d), wl = dot(w, l, r->d);
        if (ll > 0) in += wl * wl / ll;
    }
    return sqrt(fmax(0.0, 1.0 - in / ww));
}

static void mlp_metrics(run *r, double *v) {
    const isw_concept_dict *dict = &r->dict;
    int m = r->net.dims.m;
    double conc = -INFINITY, lab_c = 0.0, comp = 0.0, noise = 0.0;
    for (int k = 0; k < m; k++) {
        double sign = isw_ctf_out_weight(k, m) > 0 ? 1.0 : -1.0;
        for (int c = 0; c < dict->K; c++) {
            conc = fmax(conc, sign * mlp_cos(r, k, ISW_DICT_D(dict, c)));
            lab_c = fmax(lab_c, fabs(mlp_cos(r, k, ISW_DICT_C(dict, c))));
        }
        comp = fmax(comp, mlp_complement_cos(r, k));
        for (int p = 0; p < (int)r->c.n_probe; p++)
            noise = fmax(noise, fabs(mlp_cos(r, k, r->probes + (size_t)p * r->d)));
    }
    v[M_mlp_concept] = conc;
    v[M_mlp_label_c] = lab_c;
    v[M_mlp_complement] = comp;
    v[M_mlp_noise] = noise;
}

/* Every trajectory metric of the current weights into v[N_TRAJ]; gnorm from the current batch. */
static void evaluate(run *r, double gnorm, double *v) {
    isw_ctf_eval_prepare(&r->net, &r->work);
    if (r->c.n_train > 0) {
        set_eval tr = eval_set(r, &r->train, r->train.n);
        v[M_train_loss] = tr.loss;
        v[M_train_err] = tr.err;
    } else {
        v[M_train_loss] = r->run_n ? r->run_loss / r->run_n : NAN;
        v[M_train_err] = r->run_n ? r->run_err / r->run_n : NAN;
        r->run_loss = r->run_err = 0;
        r->run_n = 0;
    }
    set_eval te = eval_test_set(r, SET_TEST);
    v[M_test_loss] = te.loss;
    v[M_test_err] = te.err;
    v[M_caw] = te.caw;
    v[M_caw_sel] = te.caw_sel;
    const int ood_metric[N_SETS] = {-1, M_ood_short_err, M_ood_long_err, M_ood_skew_err,
                                    M_ood_switch_err, M_ood_cross_err};
    for (int i = SET_SHORT; i < N_SETS; i++) {
        int needs_two = i == SET_SWITCH || i == SET_CROSS;
        v[ood_metric[i]] = needs_two && r->c.K < 2 ? NAN : eval_test_set(r, i).err;
    }
    attention_metrics(r, v);
    mlp_metrics(r, v);
    v[M_grad_norm] = gnorm;
}

/* ---- final summary ----------------------------------------------------------------------- */

/* Decay rate of err[n] at steps[n]: the decaying part runs from the first point at or below
 * 0.8 err[0] to the last point before err first reaches the floor (10 / n_test: below ten test
 * errors log error is mostly counting noise, and the slow tail at ~1e-3 that follows the
 * exponential phase would flatten its fit); minus the least-squares slope of log err over it.
 * NaN with < 3 points. */
static double decay_rate(const double *err, const double *steps, int n, double floor) {
    int lo = -1, hi = -1;
    for (int i = 0; i < n; i++) {
        if (lo < 0 && err[i] <= 0.8 * err[0] && err[i] > floor) lo = i;
        if (lo >= 0) {
            if (err[i] <= floor) break;
            hi = i;
        }
    }
    if (lo < 0 || hi - lo + 1 < 3) return NAN;
    double sx = 0, sy = 0, sxx = 0, sxy = 0, k = hi - lo + 1;
    for (int i = lo; i <= hi; i++) {
        double x = steps[i], y = log(err[i]);
        sx += x;
        sy += y;
        sxx += x * x;
        sxy += x * y;
    }
    double den = k * sxx - sx * sx;
    return den > 0 ? -(k * sxy - sx * sy) / den : NAN;
}

static void fill_nan(double *v, int n) {
    for (int i = 0; i < n; i++) v[i] = NAN;
}

/* ---- the loop ---------------------------------------------------------------------------- */

static int is_log_step(int64_t t, int64_t steps, int64_t every) { return t % every == 0 || t == steps; }

static void diverged(isw_train_result *res, int64_t t, const char *what, double val) {
    res->status = ISW_TRAIN_DIVERGED;
    res->step = t;
    snprintf(res->reason, sizeof res->reason, "%s is %s at step %lld", what, isnan(val) ? "NaN" : "Inf",
             (long long)t);
}

/* Where training is, beside the network and the batch order: the next step, the metrics of the
 * last log point (the final ones at the end), and the test error of every log point so far (the
 * final decay rate is fitted to them). */
typedef struct {
    int64_t t;          /* the next step to run */
    double v[N_TRAJ];   /* the last log point's metrics */
    double *err, *step; /* [n_log] test_err and step of each log point so far */
    int64_t n;          /* log points so far */
    int64_t n_log;      /* log points of the whole run */
} history;

/* The task's whole state between two steps (a checkpoint): everything a step changes. The data,
 * the probes and the dictionary are drawn again from the seed at set-up; gradients and workspace
 * are recomputed at every step. */
static void concept_state(run *r, history *h, isw_state *s) {
    isw_state_init(s);
    isw_state_int64s(s, "step", &h->t, 1, 0, r->c.steps + 1);
    ISW_STATE_ARRAY(s, "weights", r->net.params, r->net.n_params);
    isw_state_rng(s, "batch_rng", &r->batch_rng);
    isw_state_ints(s, "epoch_order", r->perm, r->perm ? (size_t)r->c.n_train : 0, 0, r->c.n_train - 1);
    isw_state_ints(s, "epoch_pos", &r->perm_pos, 1, 0, r->c.n_train);
    ISW_STATE_VALUE(s, "run_loss", &r->run_loss);
    ISW_STATE_VALUE(s, "run_err", &r->run_err);
    ISW_STATE_VALUE(s, "run_n", &r->run_n);
    ISW_STATE_ARRAY(s, "last_metrics", h->v, N_TRAJ);
    ISW_STATE_ARRAY(s, "log_test_err", h->err, h->n_log);
    ISW_STATE_ARRAY(s, "log_step", h->step, h->n_log);
    isw_state_int64s(s, "log_points", &h->n, 1, 0, h->n_log);
}

/* Runs the steps from h->t on; fills h (the last log point's metrics in h->v). A log point that
 * asks for a checkpoint gets the state once its step is finished. */
static void train_loop(run *r, const isw_log_sink *sink, history *h, const isw_state *state,
                       isw_train_result *res) {
    const isw_concept_cfg *c = &r->c;
    while (h->t <= c->steps) {
        int64_t t = h->t;
        next_batch(r);
        long errs = 0;
        double loss = batch_gradient(r, &errs);
        double gn = grad_norm(&r->net);
        res->step = t;
        if (!isfinite(loss) || !isfinite(gn)) {
            diverged(res, t, isfinite(loss) ? "grad_norm" : "train_loss", isfinite(loss) ? gn : loss);
            return;
        }
        r->run_loss += loss;
        r->run_err += (double)errs / r->B;
        r->run_n++;
        int ask = 0;
        if (is_log_step(t, c->steps, c->log_every)) {
            evaluate(r, gn, h->v);
            if (!isfinite(h->v[M_test_loss])) {
                diverged(res, t, "test_loss", h->v[M_test_loss]);
                return;
            }
            if (h->n < h->n_log) { /* always, but for a forged checkpoint */
                h->err[h->n] = h->v[M_test_err];
                h->step[h->n] = (double)t;
            }
            ask = isw_sink_log(sink, h->n, t, h->v);
            h->n++;
        }
        if (t < c->steps) sgd_update(&r->net, c->lr);
        h->t = t + 1;
        if (ask & ISW_LOG_SAVE) isw_sink_save(sink, state, t);
        if (ask & ISW_LOG_STOP) {
            res->status = ISW_TRAIN_STOPPED;
            return;
        }
    }
    res->status = ISW_TRAIN_DONE;
    res->step = c->steps;
}

static isw_status concept_train(const void *vcfg, uint64_t seed, const isw_log_sink *sink,
                                double *final, isw_train_result *res, isw_error *err) {
    const isw_concept_cfg *cfg = vcfg;
    memset(res, 0, sizeof *res);
    fill_nan(final, N_FINAL);
    int blame = 0;
    char why[256];
    if (isw_concept_check(cfg, &blame, why, sizeof why))
        return isw_fail(err, ISW_EINPUT, "concept: %s", why);
    run r;
    history h = {.n_log = isw_log_points(cfg->steps, cfg->log_every)};
    h.err = isw_calloc((size_t)h.n_log, sizeof(double), err);
    h.step = isw_calloc((size_t)h.n_log, sizeof(double), err);
    isw_status st = h.err && h.step ? run_setup(&r, cfg, seed, err) : ISW_EINTERNAL;
    if (st == ISW_OK) {
        fill_nan(h.v, N_TRAJ);
        isw_state state;
        concept_state(&r, &h, &state);
        isw_sink_restore(sink, &state);
        train_loop(&r, sink, &h, &state, res);
        if (res->status == ISW_TRAIN_DONE) {
            memcpy(final, h.v, sizeof h.v);
            int64_t n = h.n < h.n_log ? h.n : h.n_log;
            final[M_test_err_decay] = decay_rate(h.err, h.step, (int)n, 10.0 / (double)cfg->n_test);
            for (int64_t i = 0; i < n; i++)
                if (h.err[i] < 0.01) {
                    final[M_step_err_below_1pct] = h.step[i];
                    break;
                }
        }
    }
    if (h.err && h.step) run_free(&r);
    free(h.err);
    free(h.step);
    return st;
}

/* The training set's (or, with fresh prompts, the first batch's) and the evaluation sets' draws,
 * and the dictionary: computed without BLAS, so the same on every machine. */
static isw_status concept_data_digest(const void *vcfg, uint64_t seed, uint64_t *digest, isw_error *err) {
    const isw_concept_cfg *c = vcfg;
    run r;
    memset(&r, 0, sizeof r);
    r.c = *c;
    r.data = isw_concept_data_of(c);
    r.d = (int)c->d;
    r.B = (int)c->batch;
    isw_status st = make_data(&r, seed, err);
    if (!st && c->n_train == 0) {
        isw_rng_init(&r.batch_rng, seed, STREAM_BATCH);
        isw_concept_fill(&r.train, r.B, ISW_CSET_IID, &r.dict, &r.data, &r.batch_rng);
    }
    uint64_t h = 0;
    if (!st) {
        int na = (int)isw_concept_atoms(c);
        h = isw_hash_more(h, r.dict.words, sizeof(double) * (size_t)na * (size_t)r.d);
        h = isw_hash_more(h, r.dict.labels, sizeof(double) * 2 * (size_t)c->K * (size_t)r.d);
        for (int i = -1; i < N_SETS; i++) {
            const isw_concept_set *set = i < 0 ? &r.train : &r.sets[i];
            size_t n = (size_t)set->n, L1 = (size_t)set->L + 1;
            h = isw_hash_more(h, set->x, sizeof(float) * n * (set->coded ? 1 : L1) * (size_t)r.d);
            if (set->coded) {
                h = isw_hash_more(h, set->wc, n * (size_t)na * (size_t)set->L);
                h = isw_hash_more(h, set->zn, sizeof(double) * n * (size_t)set->L);
            }
            h = isw_hash_more(h, set->y, n * L1);
            h = isw_hash_more(h, set->s, n * L1);
            h = isw_hash_more(h, set->k1, sizeof(int) * n);
        }
    }
    run_free(&r);
    *digest = h;
    return st;
}

/* ---- the descriptor ------------------------------------------------------------------------ */

static double chance_err(const void *cfg) { return 0.5; }

static const isw_theory_line levels[] = {
    {"chance_err", "chance (1/2)",
     "train_err|test_err|ood_short_err|ood_long_err|ood_skew_err|ood_switch_err|ood_cross_err", "fraction",
     "0-1 error of a guess: labels are +-1 with equal chance", chance_err},
};

const isw_model isw_model_concept = {
    .name = "concept",
    .summary = "softmax attention + ReLU MLP on multi-concept sparse-coding prompts (Bu et al. 2024)",
    .version = "concept/3",
    .params = isw_concept_params,
    .n_params = ISW_CONCEPT_N_PARAMS,
    .cfg_size = sizeof(isw_concept_cfg),
    .check = isw_concept_check,
    .derived = "d_h",
    .resolve = isw_concept_resolve,
    .traj = traj_defs,
    .n_traj = N_TRAJ,
    .final = final_defs,
    .n_final = N_FINAL,
    .log_steps = isw_concept_log_steps,
    .cost = isw_concept_cost,
    .memory = isw_concept_memory,
    .calibration = isw_concept_calibration,
    .train = concept_train,
    .data_digest = concept_data_digest,
    .headline = "test_err",
    .headline_level = 0.1,
    .levels = levels,
    .n_levels = 1,
};
