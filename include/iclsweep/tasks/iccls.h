/* The iccls model's data (docs/science.md, model iccls; Reddy, ICLR 2024): in-context vs
 * in-weights classification. A task holds K class means and L label vectors; a sequence shows N
 * items with their labels and asks for the label of a query item.
 *
 * Dimension letters, used in every shape comment:
 *   N   item-label pairs per sequence    T   tokens per sequence, 2N + 1 (x_1, l_1, ..., x_q)
 *   D   content width                    P   position one-hots, 2 Nmax + 1
 *   d   token width, P + D               K   training classes (K_novel: classes of a novel bank)
 *   L   labels                           M   distinct classes of a bursty sequence, N / B
 *
 * A set keeps each sequence compactly: its position shift, its N + 1 items' contents in single
 * precision (the labels' contents are rebuilt from the task's label vectors), and the class and
 * label of every item, which the metrics read. isw_iccls_tokens materializes sequences as the
 * network reads them: token t is [one-hot of position shift + t (P) ; content (D)].
 *
 * This layer takes its own small config (isw_iccls_data_cfg) and knows nothing of the network or
 * of the model's parameter table. The generators draw from the streams they are handed; which
 * stream feeds which part is the trainer's choice (ISW_ICCLS_STREAM_* below are the ids the
 * tests and the trainer use), so the test sets and the training batches never depend on each
 * other. */
#ifndef ICLSWEEP_ICCLS_DATA_H
#define ICLSWEEP_ICCLS_DATA_H

#include <stdint.h>

#include "iclsweep/core/error.h"
#include "iclsweep/core/rng.h"

/* The data knobs (docs/science.md, model iccls). */
typedef struct {
    int N;             /* item-label pairs per sequence */
    int Nmax;          /* longest sequence the position one-hots can hold: P = 2 Nmax + 1 */
    int D;             /* content width */
    int L;             /* labels; class k has label k mod L */
    int K;             /* training classes, a multiple of L */
    int K_novel;       /* classes of a novel bank (drawn fresh per fill), a multiple of L */
    int B;             /* burstiness: copies of each class in a bursty context; 0: none */
    double p_B;        /* chance that a non-novel training sequence is bursty */
    double p_C;        /* chance that a training sequence is novel */
    double eps;        /* within-class noise */
    double alpha;      /* Zipf exponent of the class frequencies P(k) ~ (k+1)^-alpha */
    int bursty_zipf;   /* bursty classes drawn from P(k) with distinct labels (else uniform) */
    int pos_shift;     /* positions shifted by s ~ U{0..P-T} per sequence (else s = 0) */
} isw_iccls_data_cfg;

/* Streams of a task (stream ids under the task seed). */
enum {
    ISW_ICCLS_STREAM_MEANS = 0,  /* class means mu_k */
    ISW_ICCLS_STREAM_LABELS = 1, /* label vectors */
    ISW_ICCLS_STREAM_TRAIN = 2,  /* training batches, one after another */
    ISW_ICCLS_STREAM_EVAL = 3,   /* + set index (isw_iccls_set_kind): the four test sets */
    ISW_ICCLS_STREAM_INIT = 16   /* the network's initial weights */
};

/* Kinds of sequence. */
typedef enum {
    ISW_ICCLS_BURSTY = 0,    /* M training classes with distinct labels, B copies each */
    ISW_ICCLS_NONBURSTY = 1, /* N context classes and the query's class i.i.d. from P(k) */
    ISW_ICCLS_NOVEL = 2      /* bursty, over the fill's novel bank */
} isw_iccls_seq_kind;

/* The four test sets, in the order of their streams. */
typedef enum {
    ISW_ICCLS_SET_TEST = 0, /* the training mix */
    ISW_ICCLS_SET_IC = 1,   /* novel classes, bursty: ICL on classes never seen */
    ISW_ICCLS_SET_IC2 = 2,  /* training classes, bursty, context labels shifted l -> l+1 mod L */
    ISW_ICCLS_SET_IW = 3,   /* non-bursty training classes: IWL */
    ISW_ICCLS_N_SETS = 4
} isw_iccls_set_kind;

/* What a fill draws: its mix of kinds and whether labels are shifted (ic2). */
typedef struct {
    double p_B, p_C;
    int shift_labels; /* label tokens and targets read label (l + 1) mod L for a class of label l */
} isw_iccls_mix;

/* The training mix: cfg's p_B (0 when B = 0: no bursty training sequences) and p_C. */
isw_iccls_mix isw_iccls_train_mix(const isw_iccls_data_cfg *cfg);
/* The mix of test set `kind` under cfg (test: the training mix; ic: 1, 1; ic2: 1, 0, shifted;
 * iw: 0, 0). Bursty test sequences use isw_iccls_copies copies, N / 2 when B = 0. */
isw_iccls_mix isw_iccls_set_mix(const isw_iccls_data_cfg *cfg, isw_iccls_set_kind kind);

/* Copies of each class in a bursty context: B, or N / 2 when B = 0 (then training draws no bursty
 * sequence from the training classes, but novel sequences and the ic and ic2 sets use N / 2). */
int isw_iccls_copies(const isw_iccls_data_cfg *cfg);

/* Checks cfg's constraints: positive sizes, K and K_novel multiples of L, N <= Nmax, B = 0 or
 * (B divides N and B < N), N even when B = 0, N / B <= L (distinct labels), probabilities in
 * [0, 1], eps and alpha >= 0. Returns ISW_EINPUT with a message naming the knobs, and the name
 * of the knob to blame in *blame (when blame is not NULL): the model's `check` hook reports it. */
isw_status isw_iccls_data_check(const isw_iccls_data_cfg *cfg, const char **blame, isw_error *err);

/* The fixed draws of a task. */
typedef struct {
    isw_iccls_data_cfg cfg;
    int T, P, d;
    double *mu;   /* [K, D] class means, entries N(0, 1/D) */
    double *lab;  /* [L, D] label vectors, entries N(0, 1/D) */
    double *cum;  /* [K] cumulative class frequencies, cum[K-1] = 1 (alpha > 0 only; else NULL) */
} isw_iccls_task;

/* Checks cfg and draws a task's class means from stream ISW_ICCLS_STREAM_MEANS of seed and its
 * label vectors from ISW_ICCLS_STREAM_LABELS. Allocates; free with isw_iccls_task_free. */
isw_status isw_iccls_task_make(isw_iccls_task *task, const isw_iccls_data_cfg *cfg, uint64_t seed,
                               isw_error *err);
void isw_iccls_task_free(isw_iccls_task *task);

/* P(k): class k's frequency. */
double isw_iccls_class_prob(const isw_iccls_task *task, int k);

/* A set of up to cap sequences, compact (above). Class ids: 0..K-1 for training classes, -1 - j
 * for class j of the fill's novel bank (whose label is j mod L). */
typedef struct {
    int cap, n, N, D, K_novel;
    int *shift;              /* [cap] position of token 0 */
    float *item;             /* [cap, N+1, D] item contents: the N context items, then the query */
    int *ctx_class;          /* [cap, N] class of each context item */
    int *ctx_label;          /* [cap, N] label index of each label token (after a shift) */
    int *q_class;            /* [cap] the query's class */
    int *target;             /* [cap] the label to predict (after a shift) */
    unsigned char *kind;     /* [cap] isw_iccls_seq_kind */
    double *bank;            /* [K_novel, D] scratch: the novel bank of the last fill */
    double *word;            /* [D] scratch */
} isw_iccls_set;

isw_status isw_iccls_set_alloc(isw_iccls_set *set, int cap, const isw_iccls_data_cfg *cfg,
                               isw_error *err);
void isw_iccls_set_free(isw_iccls_set *set);

/* Fills set with n <= cap fresh sequences of mix, drawn from rng: first, when mix->p_C > 0, a novel
 * bank (K_novel D normals, the bank's means in class order); then each sequence in turn: two
 * uniforms (novel when the first is < p_C, else bursty when the second is < p_B), its classes
 * (bursty: M distinct labels and a class of each, uniform or Zipf; non-bursty: N classes, then the
 * query's class, from P(k)), a Fisher-Yates shuffle of the bursty context and the query's index
 * into it, the N + 1 items' noise (D normals each, context then query), and its shift. So a fill
 * of n sequences is a prefix of a fill of more from the same stream state. A training batch is
 * one fill (a novel bank per batch); a test set is one fill (one bank for the set). */
void isw_iccls_fill(isw_iccls_set *set, int n, const isw_iccls_mix *mix, const isw_iccls_task *task,
                    isw_rng *rng);

/* Materializes sequences first..first+n of set into tokens X[n, T, d]: token 2i is item i, 2i+1
 * its label vector, 2N the query; each [one-hot of shift + t (P) ; content (D)]. */
void isw_iccls_tokens(const isw_iccls_set *set, const isw_iccls_task *task, int first, int n,
                      double *X /* [n, T, d] */);

#endif
