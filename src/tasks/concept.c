/* Data for the concept model (docs/science.md section 1): dictionary, words, prompts, OOD sets.
 *
 * Workload: one task builds one dictionary, a training set of n_train prompts (or a small batch
 * refilled every step when n_train = 0), a test set and five OOD sets of n_test prompts each, once
 * at start (very large evaluation sets are drawn again chunk by chunk instead, see
 * include/iclsweep/models/concept_params.h); training then only loads batches from them. A dense word is
 * d Gaussian draws plus a handful of atom axpys (vectorized: CMakeLists.txt builds this file with
 * GCC's vectorizer on), rounded to single precision; a coded word (the evaluation sets'
 * demonstrations) is one Gaussian draw and one byte per atom. So generation is O(n L d) for the
 * training set and O(n L (2K + K_irr)) for the evaluation sets, and costs less than the first
 * evaluation. A batch is handed out in structured form (isw_concept_batch: the words widened into
 * the caller's buffer, or pointers to the codes, plus one label pair per prompt) or, for the
 * reference kernels, materialized into token matrices (isw_concept_tokens).
 *
 * Random draws: every prompt draws, in order, its concept(s), its label map, its polarities and
 * flips, then its words, from the one stream it is handed, so a set is a pure function of
 * (seed, stream, kind, n, L, config, form). Events and signs take one 32-bit word of the stream
 * each (word_event, word_sign), drawn in blocks. */
#include "iclsweep/tasks/concept.h"

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

isw_status isw_concept_dict_make(isw_concept_dict *dict, const isw_concept_data *cfg, uint64_t seed,
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

isw_status isw_concept_set_alloc(isw_concept_set *set, int cap, int L, int d, int coded, int na,
                                 isw_error *err) {
    memset(set, 0, sizeof *set);
    set->cap = cap;
    set->L = L;
    set->d = d;
    set->coded = coded != 0;
    set->na = na;
    size_t tok = (size_t)cap * (size_t)(L + 1);
    size_t words = coded ? (size_t)cap : tok; /* coded: the query words only */
    set->x = isw_malloc(sizeof(float) * words * (size_t)d, err);
    set->k1 = isw_malloc(sizeof(int) * (size_t)cap, err);
    set->k2 = isw_malloc(sizeof(int) * (size_t)cap, err);
    set->y = isw_malloc(tok, err);
    set->s = isw_malloc(tok, err);
    set->word = isw_malloc(sizeof(double) * (size_t)d, err);
    int ok = set->x && set->k1 && set->k2 && set->y && set->s && set->word;
    if (ok && coded) {
        set->wc = isw_malloc((size_t)cap * (size_t)L * (size_t)na, err);
        set->zn = isw_malloc(sizeof(double) * (size_t)cap * (size_t)L, err);
        ok = set->wc && set->zn;
    }
    if (!ok) {
        isw_concept_set_free(set);
        return ISW_EINTERNAL;
    }
    return ISW_OK;
}

void isw_concept_set_free(isw_concept_set *set) {
    free(set->x);
    free(set->wc);
    free(set->zn);
    free(set->k1);
    free(set->k2);
    free(set->y);
    free(set->s);
    free(set->word);
    memset(set, 0, sizeof *set);
}

static void axpy(double *restrict y /* [d] */, double a, const double *restrict x /* [d] */, int d) {
    for (int t = 0; t < d; t++) y[t] += a * x[t];
}

/* Words of the stream handed out one at a time but drawn in blocks (a call per 64 words, not per
 * word): `left` is how many the caller will take in all, so nothing past them is drawn. */
typedef struct {
    isw_rng *rng;
    long left;
    int at, n;
    uint32_t w[64];
} word_block;

static word_block words_of(isw_rng *rng, long total) {
    word_block b;
    b.rng = rng;
    b.left = total;
    b.at = b.n = 0;
    return b;
}

static uint32_t next_word(word_block *b) {
    if (b->at == b->n) {
        b->n = b->left < 64 ? (int)b->left : 64;
        isw_rng_u32_fill(b->rng, b->w, b->n);
        b->left -= b->n;
        b->at = 0;
    }
    return b->w[b->at++];
}

/* An event of probability p and an independent sign from one word: bits 1-31 against p 2^31
 * (probability ceil(p 2^31) / 2^31: exactly 0 and 1 at p = 0 and 1), bit 0 the sign. */
static int word_event(uint32_t r, double p) { return (double)(r >> 1) < p * 2147483648.0; }
static int word_sign(uint32_t r) { return (r & 1u) ? 1 : -1; }

/* Row of dict->words of the polarity atom that concept k's words carry: b_k, or b_pi(k) in
 * switched semantics. */
static int polarity_atom(const isw_concept_dict *dict, isw_cset_kind kind, int k) {
    return dict->K + (kind == ISW_CSET_SWITCH ? (k + 1) % dict->K : k);
}

/* Where a word's atoms go: added into a dense word, or recorded as coefficients (atom j's at
 * wc[j * stride]). */
typedef struct {
    const isw_concept_dict *dict;
    double *x;          /* [d] dense word, or NULL */
    signed char *wc;    /* [na * stride] coefficients, or NULL */
    int stride;
} atom_sink;

static inline void add_atom(const atom_sink *to, int atom, int coef) {
    if (to->x)
        axpy(to->x, (double)coef, to->dict->words + (size_t)atom * to->dict->d, to->dict->d);
    else
        to->wc[(size_t)atom * to->stride] = (signed char)(to->wc[(size_t)atom * to->stride] + coef);
}

/* A word's atoms: a_k and s times its polarity atom (k2's likewise), then one word of the stream
 * for every other concept (with probability p_poly: a_kk and a random sign times its polarity
 * atom) and one for each irrelevant atom nu_j (with probability p_irr, a random sign). */
static void draw_atoms(const atom_sink *to, const isw_concept_data *cfg, isw_cset_kind kind, int k,
                       int k2, int s, isw_rng *rng) {
    const isw_concept_dict *dict = to->dict;
    add_atom(to, k, 1);
    add_atom(to, polarity_atom(dict, kind, k), s);
    if (k2 >= 0) {
        add_atom(to, k2, 1);
        add_atom(to, polarity_atom(dict, kind, k2), s);
    }
    word_block w = words_of(rng, (long)(dict->K - 1 - (k2 >= 0)) + dict->K_irr);
    for (int kk = 0; kk < dict->K; kk++) {
        if (kk == k || kk == k2) continue;
        uint32_t r = next_word(&w);
        if (!word_event(r, cfg->p_poly)) continue;
        add_atom(to, kk, 1);
        add_atom(to, polarity_atom(dict, kind, kk), word_sign(r));
    }
    for (int j = 0; j < dict->K_irr; j++) {
        uint32_t r = next_word(&w);
        if (word_event(r, cfg->p_irr)) add_atom(to, 2 * dict->K + j, word_sign(r));
    }
}

void isw_concept_word(double *x /* [d] */, const isw_concept_dict *dict, const isw_concept_data *cfg,
                      isw_cset_kind kind, int k, int k2, int s, isw_rng *rng) {
    int d = dict->d;
    if (cfg->noise > 0)
        isw_rng_normal_fill(rng, x, d, cfg->noise);
    else
        memset(x, 0, sizeof(double) * (size_t)d);
    atom_sink to = {dict, x, NULL, 0};
    draw_atoms(&to, cfg, kind, k, k2, s, rng);
}

/* A dense word, rounded into out[d]. */
static void dense_word(float *out /* [d] */, isw_concept_set *set, const isw_concept_dict *dict,
                       const isw_concept_data *cfg, int k, int k2, int s, isw_rng *rng) {
    isw_concept_word(set->word, dict, cfg, set->kind, k, k2, s, rng);
    for (int t = 0; t < set->d; t++) out[t] = (float)set->word[t];
}

/* A coded demonstration word: its noise term, then its atoms' coefficients into wc[j * L]
 * (zeroed by the caller). */
static void coded_word(signed char *wc /* [na, L] at the word's column */, double *zn,
                       const isw_concept_set *set, const isw_concept_dict *dict,
                       const isw_concept_data *cfg, int k, int k2, int s, isw_rng *rng) {
    *zn = cfg->noise > 0 ? cfg->noise * isw_rng_normal(rng) : 0.0;
    atom_sink to = {dict, NULL, wc, set->L};
    draw_atoms(&to, cfg, set->kind, k, k2, s, rng);
}

/* The prompt's concept under each distribution. */
static int draw_concept(isw_cset_kind kind, const isw_concept_data *cfg, int K, isw_rng *rng) {
    double u = isw_rng_uniform(rng);
    if (kind == ISW_CSET_SKEW) {
        if (u < cfg->ood_skew || K == 1) return 0;
        return 1 + (int)isw_rng_below(rng, (uint64_t)(K - 1));
    }
    if (kind == ISW_CSET_IID && u < cfg->concept_skew) return 0;
    return (int)isw_rng_below(rng, (uint64_t)K);
}

static void fill_prompt(isw_concept_set *set, int i, const isw_concept_dict *dict,
                        const isw_concept_data *cfg, isw_rng *rng) {
    int L = set->L, d = set->d, K = dict->K;
    int k = draw_concept(set->kind, cfg, K, rng), k2 = -1;
    if (set->kind == ISW_CSET_CROSS && K > 1) {
        k2 = (int)isw_rng_below(rng, (uint64_t)(K - 1));
        if (k2 >= k) k2++;
    }
    /* one word for the label map, then one per token: its polarity (bit 0) and, for a
     * demonstration, whether its label flips (bits 1-31) */
    word_block w = words_of(rng, L + 2);
    int tau = word_sign(next_word(&w));
    if (cfg->label_map_fixed) tau = 1;
    signed char *y = set->y + (size_t)i * (L + 1), *s = set->s + (size_t)i * (L + 1);
    for (int l = 0; l <= L; l++) {
        uint32_t r = next_word(&w);
        s[l] = (signed char)word_sign(r);
        y[l] = (signed char)(tau * s[l]);
        if (l < L && word_event(r, cfg->label_flip)) y[l] = (signed char)-y[l];
    }
    set->k1[i] = k;
    set->k2[i] = k2;
    if (!set->coded) {
        float *x = set->x + (size_t)i * (L + 1) * d;
        for (int l = 0; l <= L; l++) dense_word(x + (size_t)l * d, set, dict, cfg, k, k2, s[l], rng);
        return;
    }
    signed char *wc = set->wc + (size_t)i * L * set->na;
    double *zn = set->zn + (size_t)i * L;
    memset(wc, 0, (size_t)L * (size_t)set->na);
    for (int l = 0; l < L; l++) coded_word(wc + l, zn + l, set, dict, cfg, k, k2, s[l], rng);
    dense_word(set->x + (size_t)i * d, set, dict, cfg, k, k2, s[L], rng);
}

void isw_concept_fill(isw_concept_set *set, int n, isw_cset_kind kind, const isw_concept_dict *dict,
                      const isw_concept_data *cfg, isw_rng *rng) {
    set->kind = kind;
    set->n = n < set->cap ? n : set->cap;
    for (int i = 0; i < set->n; i++) fill_prompt(set, i, dict, cfg, rng);
}

/* The query word of prompt i, widened into xq[d]. */
static void query_word(const isw_concept_set *set, int i, double *xq /* [d] */) {
    int d = set->d;
    const float *x = set->coded ? set->x + (size_t)i * d : set->x + ((size_t)i * (set->L + 1) + set->L) * d;
    for (int t = 0; t < d; t++) xq[t] = (double)x[t];
}

void isw_concept_tokens(const isw_concept_set *set, const isw_concept_dict *dict, const int *idx,
                        int first, int B, double *h /* [B, L, 2d] */, double *xq /* [B, d] */,
                        double *y /* [B] */) {
    int L = set->L, d = set->d, D = 2 * d;
    for (int b = 0; b < B; b++) {
        int i = idx ? idx[b] : first + b;
        const float *x = set->x + (size_t)i * (L + 1) * d;
        const signed char *yy = set->y + (size_t)i * (L + 1);
        const double *c1 = ISW_DICT_C(dict, set->k1[i]), *d1 = ISW_DICT_D(dict, set->k1[i]);
        const double *c2 = set->k2[i] >= 0 ? ISW_DICT_C(dict, set->k2[i]) : NULL;
        const double *d2 = set->k2[i] >= 0 ? ISW_DICT_D(dict, set->k2[i]) : NULL;
        for (int l = 0; l < L; l++) {
            double *hl = h + ((size_t)b * L + l) * D;
            double yl = (double)yy[l];
            for (int t = 0; t < d; t++) hl[t] = (double)x[(size_t)l * d + t];
            for (int t = 0; t < d; t++) hl[d + t] = c1[t] + yl * d1[t];
            if (c2)
                for (int t = 0; t < d; t++) hl[d + t] += c2[t] + yl * d2[t];
        }
        query_word(set, i, xq + (size_t)b * d);
        y[b] = (double)yy[L];
    }
}

void isw_concept_batch(const isw_concept_set *set, const isw_concept_dict *dict, const int *idx,
                       int first, int B, double *xw /* [B, L, d] */, const double **x /* [B] */,
                       const signed char **wc, const double **zn, double *xq /* [B, d] */,
                       double *lc /* [B, 2K] */, double *le /* [B, 2K] */, double *yl /* [B, L] */,
                       double *y /* [B] */) {
    int L = set->L, d = set->d, K = dict->K;
    if (set->coded) {
        /* evaluation reads whole chunks in order: the codes of prompts first.. are contiguous */
        *wc = set->wc + (size_t)first * L * set->na;
        *zn = set->zn + (size_t)first * L;
    }
    for (int b = 0; b < B; b++) {
        int i = idx ? idx[b] : first + b;
        const signed char *yy = set->y + (size_t)i * (L + 1);
        double *cb = lc + (size_t)b * 2 * K, *eb = le + (size_t)b * 2 * K, *yb = yl + (size_t)b * L;
        if (!set->coded) {
            const float *xi = set->x + (size_t)i * (L + 1) * d;
            double *xb = xw + (size_t)b * L * d;
            for (size_t t = 0; t < (size_t)L * d; t++) xb[t] = (double)xi[t];
            x[b] = xb;
        }
        query_word(set, i, xq + (size_t)b * d);
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
