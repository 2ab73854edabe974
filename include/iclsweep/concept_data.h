/* The concept model's data (docs/science.md section 1): a dictionary of orthogonal atoms, sparse-coded
 * words with polysemy and noise, prompts with a label map and label flips, and the out-of-
 * distribution (OOD) test sets.
 *
 * A prompt set stores each prompt compactly: its words x (demonstrations, then the query), the
 * prompt's concept(s) and each token's label and polarity. The label half of the token columns,
 * c_k + y_l d_k, is rebuilt from the dictionary when a batch is materialized into token matrices
 * (isw_concept_tokens), so a set costs about half the memory of its token matrices. Nothing here
 * trains or knows the model; the generators draw from the streams they are handed. */
#ifndef ICLSWEEP_CONCEPT_DATA_H
#define ICLSWEEP_CONCEPT_DATA_H

#include <stdint.h>

#include "iclsweep/concept_params.h"
#include "iclsweep/error.h"
#include "iclsweep/rng.h"

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

/* A set of n prompts of L demonstrations each. */
typedef struct {
    int n, cap, L, d;
    isw_cset_kind kind;
    double *x;      /* [cap, L+1, d] words: L demonstrations, then the query */
    int *k1;        /* [cap] the prompt's concept */
    int *k2;        /* [cap] second concept (ISW_CSET_CROSS), else -1 */
    signed char *y; /* [cap, L+1] demo labels y_l (after flips), then the target y */
    signed char *s; /* [cap, L+1] word polarities s_l, then s_q */
} isw_concept_set;

/* Draws the dictionary from stream `stream` of `seed`: Gram-Schmidt on Gaussian columns gives the
 * leading columns of a Haar-random orthogonal matrix, scaled to norm_a, norm_b, norm_nu (words)
 * and norm_c, norm_d (labels, from the next stream). Needs d >= 2K + K_irr. Allocates; free with
 * isw_concept_dict_free. */
isw_status isw_concept_dict_make(isw_concept_dict *dict, const isw_concept_cfg *cfg, uint64_t seed,
                                 uint32_t stream, isw_error *err);
void isw_concept_dict_free(isw_concept_dict *dict);

/* Allocates room for cap prompts of L demonstrations (n = 0 until filled). */
isw_status isw_concept_set_alloc(isw_concept_set *set, int cap, int L, int d, isw_error *err);
void isw_concept_set_free(isw_concept_set *set);

/* Fills set with n <= cap fresh prompts of the given kind, drawn from rng. Prompts are drawn one
 * after another from the one stream, so the same stream state gives the same set. */
void isw_concept_fill(isw_concept_set *set,
                      int n,                      /* prompts to draw, <= set->cap */
                      isw_cset_kind kind,         /* which distribution */
                      const isw_concept_dict *dict,
                      const isw_concept_cfg *cfg, /* p_poly, p_irr, noise, label_map, ... */
                      isw_rng *rng);

/* Materializes prompts idx[0..B) of set (idx NULL: prompts first..first+B) into token matrices:
 * h_l = [x_l; sum over the prompt's concepts (c_k + y_l d_k)], the query's word and the target. */
void isw_concept_tokens(const isw_concept_set *set,
                        const isw_concept_dict *dict,
                        const int *idx, /* [B] prompt indices, or NULL */
                        int first,      /* first prompt when idx is NULL */
                        int B,
                        double *h,      /* [B, L, 2d] out: demonstration tokens */
                        double *xq,     /* [B, d] out: query words */
                        double *y);     /* [B] out: targets +-1 */

/* The same prompts in structured form, without materializing tokens (what the trainer uses):
 * x[b] points at prompt idx[b]'s demonstration words inside set->x (an [L, d] matrix, read in
 * place), and the label half of its tokens is c_b + yl[b, l] e_b, where c_b = lc_b^T dict->labels
 * (the sum of the prompt's c_k) and e_b = le_b^T dict->labels (the sum of its d_k): lc and le are
 * 0/1 coefficient rows over the 2K label atoms. xq and y as in isw_concept_tokens. */
void isw_concept_batch(const isw_concept_set *set,
                       const isw_concept_dict *dict,
                       const int *idx, /* [B] prompt indices, or NULL */
                       int first,      /* first prompt when idx is NULL */
                       int B,
                       const double **x, /* [B] out: pointers to [L, d] demonstration words */
                       double *xq,       /* [B, d] out: query words */
                       double *lc,       /* [B, 2K] out: coefficients of c_b over dict->labels */
                       double *le,       /* [B, 2K] out: coefficients of e_b over dict->labels */
                       double *yl,       /* [B, L] out: demonstration labels +-1 */
                       double *y);       /* [B] out: targets +-1 */

/* Draws one word of concept k (and k2 >= 0 for cross-concept words) with polarity s into
 * x[d]. Exposed for the data-statistics tests. */
void isw_concept_word(double *x /* [d] */, const isw_concept_dict *dict, const isw_concept_cfg *cfg,
                      isw_cset_kind kind, int k, int k2, int s, isw_rng *rng);

#endif
