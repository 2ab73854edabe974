/* Data for the concept model (docs/science.md section 1): dictionary, words, prompts, OOD sets.
 *
 * Workload: one task builds one dictionary, a training set of n_train prompts (or a small batch
 * refilled every step when n_train = 0), a test set and five OOD sets of n_test prompts each, once
 * at start (very large evaluation sets are drawn again chunk by chunk instead, see
 * include/iclsweep/concept_params.h); training then only materializes batches of token matrices from them. Words are sparse
 * codes: a handful of atom axpys plus d Gaussian draws each, so generation is O(n L d) and is
 * cheap next to training. Prompts are kept compact (words plus small label/polarity arrays); a
 * batch is either materialized into token matrices (isw_concept_tokens, for the reference kernels)
 * or handed out in structured form (isw_concept_batch: pointers to the words in place plus one
 * label pair per prompt, O(B (L + d)) work instead of O(B L d)).
 *
 * Random draws: every prompt draws, in order, its concept(s), its label map, its polarities and
 * flips, then its words, from the one stream it is handed, so a set is a pure function of
 * (seed, stream, kind, n, L, config). */
#include "iclsweep/concept_data.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Gram-Schmidt (twice, for orthogonality to rounding) of n Gaussian vectors in R^d, n <= d:
 * rows of q[n, d] become orthonormal. */
static void orthonormal_rows(double *q /* [n, d] */, int n, int d, isw_rng *rng) {
    isw_rng_normal_fill(rng, q, (long)n * d, 1.0);
    for (int i = 0; i < n; i++) {
        double *qi = q + (size_t)i * d;
        for (int pass = 0; pass < 2; pass++) {
            for (int j = 0; j < i; j++) {
                const double *qj = q + (size_t)j * d;
                double dot = 0.0;
                for (int t = 0; t < d; t++) dot += qi[t] * qj[t];
                for (int t = 0; t < d; t++) qi[t] -= dot * qj[t];
            }
        }
        double nrm = 0.0;
        for (int t = 0; t < d; t++) nrm += qi[t] * qi[t];
        nrm = sqrt(nrm);
        for (int t = 0; t < d; t++) qi[t] /= nrm;
    }
}

static void scale_rows(double *q /* [n, d] */, int first, int n, int d, double norm) {
    for (int i = first; i < first + n; i++)
        for (int t = 0; t < d; t++) q[(size_t)i * d + t] *= norm;
}

isw_status isw_concept_dict_make(isw_concept_dict *dict, const isw_concept_cfg *cfg, uint64_t seed,
                                 uint32_t stream, isw_error *err) {
    int d = (int)cfg->d, K = (int)cfg->K, Kirr = (int)cfg->K_irr;
    memset(dict, 0, sizeof *dict);
    if (d < 2 * K + Kirr)
        return isw_fail(err, ISW_EINPUT, "concept: needs d >= 2K + K_irr, got d = %d, K = %d, K_irr = %d",
                        d, K, Kirr);
    dict->d = d;
    dict->K = K;
    dict->K_irr = Kirr;
    dict->words = isw_malloc(sizeof(double) * (size_t)(2 * K + Kirr) * d, err);
    dict->labels = isw_malloc(sizeof(double) * (size_t)(2 * K) * d, err);
    if (!dict->words || !dict->labels) {
        isw_concept_dict_free(dict);
        return ISW_EINTERNAL;
    }
    isw_rng rng;
    isw_rng_init(&rng, seed, stream);
    orthonormal_rows(dict->words, 2 * K + Kirr, d, &rng);
    scale_rows(dict->words, 0, K, d, cfg->norm_a);
    scale_rows(dict->words, K, K, d, cfg->norm_b);
    scale_rows(dict->words, 2 * K, Kirr, d, cfg->norm_nu);
    isw_rng_init(&rng, seed, stream + 1);
    orthonormal_rows(dict->labels, 2 * K, d, &rng);
    scale_rows(dict->labels, 0, K, d, cfg->norm_c);
    scale_rows(dict->labels, K, K, d, cfg->norm_d);
    return ISW_OK;
}

void isw_concept_dict_free(isw_concept_dict *dict) {
    free(dict->words);
    free(dict->labels);
    dict->words = dict->labels = NULL;
}

isw_status isw_concept_set_alloc(isw_concept_set *set, int cap, int L, int d, isw_error *err) {
    memset(set, 0, sizeof *set);
    set->cap = cap;
    set->L = L;
    set->d = d;
    size_t tok = (size_t)cap * (size_t)(L + 1);
    set->x = isw_malloc(sizeof(double) * tok * (size_t)d, err);
    set->k1 = isw_malloc(sizeof(int) * (size_t)cap, err);
    set->k2 = isw_malloc(sizeof(int) * (size_t)cap, err);
    set->y = isw_malloc(tok, err);
    set->s = isw_malloc(tok, err);
    if (!set->x || !set->k1 || !set->k2 || !set->y || !set->s) {
        isw_concept_set_free(set);
        return ISW_EINTERNAL;
    }
    return ISW_OK;
}

void isw_concept_set_free(isw_concept_set *set) {
    free(set->x);
    free(set->k1);
    free(set->k2);
    free(set->y);
    free(set->s);
    memset(set, 0, sizeof *set);
}

static void axpy(double *y /* [d] */, double a, const double *x /* [d] */, int d) {
    for (int t = 0; t < d; t++) y[t] += a * x[t];
}

static int coin(isw_rng *rng) { return (isw_rng_u32(rng) & 1u) ? 1 : -1; }

/* The polarity atom that concept k's words carry: b_k, or b_pi(k) in switched semantics. */
static const double *polarity_atom(const isw_concept_dict *dict, isw_cset_kind kind, int k) {
    if (kind == ISW_CSET_SWITCH) return ISW_DICT_B(dict, (k + 1) % dict->K);
    return ISW_DICT_B(dict, k);
}

void isw_concept_word(double *x /* [d] */, const isw_concept_dict *dict, const isw_concept_cfg *cfg,
                      isw_cset_kind kind, int k, int k2, int s, isw_rng *rng) {
    int d = dict->d;
    if (cfg->noise > 0)
        isw_rng_normal_fill(rng, x, d, cfg->noise);
    else
        memset(x, 0, sizeof(double) * (size_t)d);
    axpy(x, 1.0, ISW_DICT_A(dict, k), d);
    axpy(x, (double)s, polarity_atom(dict, kind, k), d);
    if (k2 >= 0) {
        axpy(x, 1.0, ISW_DICT_A(dict, k2), d);
        axpy(x, (double)s, polarity_atom(dict, kind, k2), d);
    }
    for (int kk = 0; kk < dict->K; kk++) {
        if (kk == k || kk == k2) continue;
        if (isw_rng_uniform(rng) >= cfg->p_poly) continue;
        axpy(x, 1.0, ISW_DICT_A(dict, kk), d);
        axpy(x, (double)coin(rng), polarity_atom(dict, kind, kk), d);
    }
    for (int j = 0; j < dict->K_irr; j++) {
        if (isw_rng_uniform(rng) >= cfg->p_irr) continue;
        axpy(x, (double)coin(rng), ISW_DICT_NU(dict, j), d);
    }
}

/* The prompt's concept under each distribution. */
static int draw_concept(isw_cset_kind kind, const isw_concept_cfg *cfg, int K, isw_rng *rng) {
    double u = isw_rng_uniform(rng);
    if (kind == ISW_CSET_SKEW) {
        if (u < cfg->ood_skew || K == 1) return 0;
        return 1 + (int)isw_rng_below(rng, (uint64_t)(K - 1));
    }
    if (kind == ISW_CSET_IID && u < cfg->concept_skew) return 0;
    return (int)isw_rng_below(rng, (uint64_t)K);
}

static void fill_prompt(isw_concept_set *set, int i, const isw_concept_dict *dict,
                        const isw_concept_cfg *cfg, isw_rng *rng) {
    int L = set->L, d = set->d, K = dict->K;
    int k = draw_concept(set->kind, cfg, K, rng), k2 = -1;
    if (set->kind == ISW_CSET_CROSS && K > 1) {
        k2 = (int)isw_rng_below(rng, (uint64_t)(K - 1));
        if (k2 >= k) k2++;
    }
    int tau = cfg->label_map == 1 ? 1 : coin(rng);
    signed char *y = set->y + (size_t)i * (L + 1), *s = set->s + (size_t)i * (L + 1);
    for (int l = 0; l <= L; l++) {
        s[l] = (signed char)coin(rng);
        y[l] = (signed char)(tau * s[l]);
        if (l < L && cfg->label_flip > 0 && isw_rng_uniform(rng) < cfg->label_flip) y[l] = (signed char)-y[l];
    }
    set->k1[i] = k;
    set->k2[i] = k2;
    double *x = set->x + (size_t)i * (L + 1) * d;
    for (int l = 0; l <= L; l++) isw_concept_word(x + (size_t)l * d, dict, cfg, set->kind, k, k2, s[l], rng);
}

void isw_concept_fill(isw_concept_set *set, int n, isw_cset_kind kind, const isw_concept_dict *dict,
                      const isw_concept_cfg *cfg, isw_rng *rng) {
    set->kind = kind;
    set->n = n < set->cap ? n : set->cap;
    for (int i = 0; i < set->n; i++) fill_prompt(set, i, dict, cfg, rng);
}

void isw_concept_tokens(const isw_concept_set *set, const isw_concept_dict *dict, const int *idx,
                        int first, int B, double *h /* [B, L, 2d] */, double *xq /* [B, d] */,
                        double *y /* [B] */) {
    int L = set->L, d = set->d, D = 2 * d;
    for (int b = 0; b < B; b++) {
        int i = idx ? idx[b] : first + b;
        const double *x = set->x + (size_t)i * (L + 1) * d;
        const signed char *yy = set->y + (size_t)i * (L + 1);
        const double *c1 = ISW_DICT_C(dict, set->k1[i]), *d1 = ISW_DICT_D(dict, set->k1[i]);
        const double *c2 = set->k2[i] >= 0 ? ISW_DICT_C(dict, set->k2[i]) : NULL;
        const double *d2 = set->k2[i] >= 0 ? ISW_DICT_D(dict, set->k2[i]) : NULL;
        for (int l = 0; l < L; l++) {
            double *hl = h + ((size_t)b * L + l) * D;
            double yl = (double)yy[l];
            memcpy(hl, x + (size_t)l * d, sizeof(double) * (size_t)d);
            for (int t = 0; t < d; t++) hl[d + t] = c1[t] + yl * d1[t];
            if (c2)
                for (int t = 0; t < d; t++) hl[d + t] += c2[t] + yl * d2[t];
        }
        memcpy(xq + (size_t)b * d, x + (size_t)L * d, sizeof(double) * (size_t)d);
        y[b] = (double)yy[L];
    }
}

void isw_concept_batch(const isw_concept_set *set, const isw_concept_dict *dict, const int *idx,
                       int first, int B, const double **x /* [B] */, double *xq /* [B, d] */,
                       double *lc /* [B, 2K] */, double *le /* [B, 2K] */, double *yl /* [B, L] */,
                       double *y /* [B] */) {
    int L = set->L, d = set->d, K = dict->K;
#if defined(__GNUC__)
    /* the query rows sit one prompt apart, or at random places of the set: ask for all of them
     * before copying any, so that their cache misses overlap */
    for (int b = 0; b < B; b++) {
        size_t i = (size_t)(idx ? idx[b] : first + b);
        const char *q = (const char *)(set->x + (i * (L + 1) + L) * d);
        for (size_t o = 0; o < sizeof(double) * (size_t)d; o += 64) __builtin_prefetch(q + o, 0, 3);
    }
#endif
    for (int b = 0; b < B; b++) {
        int i = idx ? idx[b] : first + b;
        const double *xi = set->x + (size_t)i * (L + 1) * d;
        const signed char *yy = set->y + (size_t)i * (L + 1);
        double *cb = lc + (size_t)b * 2 * K, *eb = le + (size_t)b * 2 * K, *yb = yl + (size_t)b * L;
        x[b] = xi;
        memcpy(xq + (size_t)b * d, xi + (size_t)L * d, sizeof(double) * (size_t)d);
        for (int j = 0; j < 2 * K; j++) cb[j] = eb[j] = 0.0;
        cb[set->k1[i]] += 1.0;     /* c_k1 */
        eb[K + set->k1[i]] += 1.0; /* d_k1 */
        if (set->k2[i] >= 0) {
            cb[set->k2[i]] += 1.0;
            eb[K + set->k2[i]] += 1.0;
        }
        for (int l = 0; l < L; l++) yb[l] = (double)yy[l];
        y[b] = (double)yy[L];
    }
}
