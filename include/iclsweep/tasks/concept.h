/* The concept model's data (docs/science.md section 1): a dictionary of orthogonal atoms, sparse-coded
 * words with polysemy and noise, prompts with a label map and label flips, and the out-of-
 * distribution (OOD) test sets.
 *
 * A prompt set stores each prompt compactly, in one of two forms:
 *   dense  (the training set) its words x, demonstrations then the query, in single precision;
 *   coded  (the evaluation sets) its query word as above, and each demonstration word as its atom
 *          coefficients (one byte per atom of the dictionary) plus one number for its noise: the
 *          evaluation reads a demonstration word only through its score x_l . u, and the noise's
 *          part of that score, xi_l . u with xi_l ~ N(0, noise^2 I_d), is N(0, noise^2 |u|^2)
 *          whatever u is; so it is stored as zn_l = noise * z_l (z_l standard normal) and the
 *          score taken as wc_l . (atoms u) + zn_l |u|, which has exactly the law of the dense
 *          word's score at every log point, in 2K + K_irr + 8 bytes instead of 8 d (1/21 at the
 *          default point) and with O(2K + K_irr) work per demonstration instead of O(d).
 *          The same zn_l serves every log point: each log point sees prompts of exactly the
 *          dense law; only how a score's noise at one log point relates to the next differs
 *          (fixed along the moving u, not a fixed vector), which no metric reads.
 * Both forms keep each prompt's concept(s) and each token's label and polarity; the label half of
 * the token columns, c_k + y_l d_k, is rebuilt from the dictionary when a batch is loaded. Nothing
 * here trains or knows the model; the generators draw from the streams they are handed. */
#ifndef ICLSWEEP_CONCEPT_DATA_H
#define ICLSWEEP_CONCEPT_DATA_H

#include <stdint.h>

#include "iclsweep/core/error.h"
#include "iclsweep/core/rng.h"

/* What the generators read: the data knobs of the concept model's parameter table (see there for
 * their meaning), as the data sees them. The model fills it from its config
 * (isw_concept_data_of, include/iclsweep/models/concept_params.h). */
typedef struct {
    int d, K, K_irr;                            /* word dimension, task and irrelevant concepts */
    double norm_a, norm_b, norm_nu;             /* word atom norms */
    double norm_c, norm_d;                      /* label atom norms */
    double p_poly, p_irr, noise;                /* word sparsity and noise */
    double concept_skew, label_flip, ood_skew;  /* prompt draws */
    int label_map_fixed;                        /* 1: tau = +1, 0: a random sign per prompt */
} isw_concept_data;

/* Dictionary: scaled columns of random orthogonal matrices, stored as rows. */
typedef struct {
    int d, K, K_irr;
    double *words;  /* [2K + K_irr, d]: rows a_1..a_K, b_1..b_K, nu_1..nu_K_irr */
    double *labels; /* [2K, d]: rows c_1..c_K, d_1..d_K */
} isw_concept_dict;

/* Row pointers into a dictionary (k, j zero-based). */
#define ISW_DICT_A(D, k) ((D)->words + (size_t)(k) * (D)->d)
#define ISW_DICT_B(D, k) ((D)->words + (size_t)((D)->K + (k)) * (D)->d)
#define ISW_DICT_NU(D, j) ((D)->words + (size_t)(2 * (D)->K + (j)) * (D)->d)
#define ISW_DICT_C(D, k) ((D)->labels + (size_t)(k) * (D)->d)
#define ISW_DICT_D(D, k) ((D)->labels + (size_t)((D)->K + (k)) * (D)->d)

/* Which distribution a prompt set is drawn from. */
typedef enum {
    ISW_CSET_IID,    /* the training distribution (concept_skew, label_flip as configured) */
    ISW_CSET_SKEW,   /* OOD: concept 1 with probability ood_skew, the rest shared uniformly */
    ISW_CSET_SWITCH, /* OOD: concept k's words carry b_pi(k), pi(k) = k+1 mod K (a derangement) */
    ISW_CSET_CROSS   /* OOD: words mix two concepts k != k2: a_k + a_k2 +- (b_k + b_k2) */
} isw_cset_kind;

/* A set of n prompts of L demonstrations each (dense or coded, above). */
typedef struct {
    int n, cap, L, d;
    int coded;      /* demonstration words as atom coefficients + noise (evaluation sets) */
    int na;         /* atoms of the dictionary's words: 2K + K_irr */
    isw_cset_kind kind;
    float *x;       /* dense: [cap, L+1, d] words: L demonstrations, then the query;
                       coded: [cap, d] query words only */
    signed char *wc; /* coded: [cap, na, L] demonstration words' coefficients over dict->words,
                        atom-major per prompt (wc[i][j][l]: demonstration l, atom j), so that a
                        prompt's scores are L-long vector operations */
    double *zn;     /* coded: [cap, L] demonstration words' noise: the score gets zn |u| */
    int *k1;        /* [cap] the prompt's concept */
    int *k2;        /* [cap] second concept (ISW_CSET_CROSS), else -1 */
    signed char *y; /* [cap, L+1] demo labels y_l (after flips), then the target y */
    signed char *s; /* [cap, L+1] word polarities s_l, then s_q */
    double *word;   /* [d] scratch: a word before it is rounded into x */
} isw_concept_set;

/* Draws the dictionary from stream `stream` of `seed`: Gram-Schmidt on Gaussian columns gives the
 * leading columns of a Haar-random orthogonal matrix, scaled to norm_a, norm_b, norm_nu (words)
 * and norm_c, norm_d (labels, from the next stream). Needs d >= 2K + K_irr. Allocates; free with
 * isw_concept_dict_free. */
isw_status isw_concept_dict_make(isw_concept_dict *dict, const isw_concept_data *cfg, uint64_t seed,
                                 uint32_t stream, isw_error *err);
void isw_concept_dict_free(isw_concept_dict *dict);

/* Allocates room for cap prompts of L demonstrations (n = 0 until filled): dense, or coded over
 * na = 2K + K_irr atoms when coded is nonzero. */
isw_status isw_concept_set_alloc(isw_concept_set *set, int cap, int L, int d, int coded, int na,
                                 isw_error *err);
void isw_concept_set_free(isw_concept_set *set);

/* Fills set with n <= cap fresh prompts of the given kind, drawn from rng. Prompts are drawn one
 * after another from the one stream, so the same stream state gives the same set. A prompt draws,
 * in order: its concept(s), its label map, its polarities and flips, then its words: a dense word
 * as isw_concept_word, rounded to single precision; a coded demonstration word one normal (its
 * zn) and then its atoms as isw_concept_word draws them; a coded set's query word dense. */
void isw_concept_fill(isw_concept_set *set,
                      int n,                      /* prompts to draw, <= set->cap */
                      isw_cset_kind kind,         /* which distribution */
                      const isw_concept_dict *dict,
                      const isw_concept_data *cfg, /* p_poly, p_irr, noise, ... */
                      isw_rng *rng);

/* Materializes prompts idx[0..B) of a dense set (idx NULL: prompts first..first+B) into token
 * matrices: h_l = [x_l; sum over the prompt's concepts (c_k + y_l d_k)], the query's word and the
 * target. */
void isw_concept_tokens(const isw_concept_set *set,
                        const isw_concept_dict *dict,
                        const int *idx, /* [B] prompt indices, or NULL */
                        int first,      /* first prompt when idx is NULL */
                        int B,
                        double *h,      /* [B, L, 2d] out: demonstration tokens */
                        double *xq,     /* [B, d] out: query words */
                        double *y);     /* [B] out: targets +-1 */

/* The same prompts in structured form, without materializing tokens (what the trainer uses). The
 * demonstration words of a dense set are widened into xw (an [L, d] matrix per prompt, x[b] points
 * at prompt b's); a coded set leaves x and xw alone and points wc and zn at the codes of prompts
 * first..first+B (the kernels then score wc . (atoms u) + zn |u|; idx must be NULL: evaluation
 * reads a coded set in order). The label half of the tokens is c_b + yl[b, l] e_b,
 * where c_b = lc_b^T dict->labels (the sum of the prompt's c_k) and e_b = le_b^T dict->labels (the
 * sum of its d_k): lc and le are 0/1 coefficient rows over the 2K label atoms. xq and y as in
 * isw_concept_tokens. */
void isw_concept_batch(const isw_concept_set *set,
                       const isw_concept_dict *dict,
                       const int *idx, /* [B] prompt indices, or NULL */
                       int first,      /* first prompt when idx is NULL */
                       int B,
                       double *xw,        /* [B, L, d] out (dense sets): demonstration words */
                       const double **x,  /* [B] out (dense sets): pointers into xw */
                       const signed char **wc, /* out (coded sets): [B, na, L] coefficients */
                       const double **zn, /* out (coded sets): [B, L] noise terms */
                       double *xq,       /* [B, d] out: query words */
                       double *lc,       /* [B, 2K] out: coefficients of c_b over dict->labels */
                       double *le,       /* [B, 2K] out: coefficients of e_b over dict->labels */
                       double *yl,       /* [B, L] out: demonstration labels +-1 */
                       double *y);       /* [B] out: targets +-1 */

/* Draws one word of concept k (and k2 >= 0 for cross-concept words) with polarity s into
 * x[d], in double precision: d normals (the noise), then the atoms. Exposed for the
 * data-statistics tests. */
void isw_concept_word(double *x /* [d] */, const isw_concept_dict *dict, const isw_concept_data *cfg,
                      isw_cset_kind kind, int k, int k2, int s, isw_rng *rng);

#endif
