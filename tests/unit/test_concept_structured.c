/* The structured kernels (what training and evaluation run: tokens never materialized) against
 * the naive reference on the same prompts' materialized tokens: outputs, attention weights and
 * every gradient, on odd shapes and on all prompt-set kinds (cross-concept words carry two
 * concepts' labels). Relative differences must stay at rounding level (1e-12). And the coded
 * evaluation sets (demonstration words as atom coefficients, include/iclsweep/tasks/concept.h):
 * without noise a coded set is the same prompts as a dense set drawn from the same stream, and
 * the coded forward must give the dense forward's outputs and attention weights (up to the
 * single-precision rounding of the dense words).
 * Run by hand: build/tests/test_concept_structured */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "iclsweep/tasks/concept.h"
#include "iclsweep/models/concept.h"
#include "iclsweep/models/concept_params.h"
#include "iclsweep/train/model.h"

/* The data knobs of a config, as the generators take them (a temporary of the call). */
#define DATA(cfg) ((const isw_concept_data[]){isw_concept_data_of(cfg)})

/* max |a - b| / max(|a|, 1e-300) over n entries */
static double rel_diff(const double *a, const double *b, long n) {
    double dmax = 0, amax = 1e-300;
    for (long i = 0; i < n; i++) {
        dmax = fmax(dmax, fabs(a[i] - b[i]));
        amax = fmax(amax, fabs(a[i]));
    }
    return dmax / amax;
}

typedef struct {
    int d, K, K_irr, L, dh, m, B;
    isw_cset_kind kind;
} shape;

/* The model's defaults with the shape's sizes, word noise `noise` and polysemy 0.5. */
static isw_concept_cfg shape_cfg(const shape *s, double noise) {
    const isw_model *model = isw_model_find("concept");
    isw_concept_cfg cfg;
    double vals[256];
    isw_params_defaults(model->params, model->n_params, vals);
    isw_params_to_cfg(model->params, model->n_params, vals, &cfg);
    cfg.d = s->d, cfg.K = s->K, cfg.K_irr = s->K_irr, cfg.L = s->L, cfg.noise = noise, cfg.p_poly = 0.5;
    return cfg;
}

static void check_shape(const shape *s) {
    isw_concept_cfg cfg = shape_cfg(s, 0.1);
    isw_error err;
    isw_concept_dict dict;
    isw_concept_set set;
    isw_ctf net;
    isw_ctf_work w;
    memset(&w, 0, sizeof w);
    isw_ctf_dims dims = {s->d, 2 * s->d, s->dh, s->m};
    int D = 2 * s->d, B = s->B, L = s->L;
    CHECK(isw_concept_dict_make(&dict, DATA(&cfg), 99, 0, &err) == ISW_OK, "%s", err.msg);
    CHECK(isw_concept_set_alloc(&set, B, L, s->d, 0, 2 * s->K + s->K_irr, &err) == ISW_OK, "%s", err.msg);
    CHECK(isw_ctf_alloc(&net, dims, &err) == ISW_OK, "%s", err.msg);
    CHECK(isw_ctf_work_alloc(&w, dims, B, L, &err) == ISW_OK && isw_ctf_work_alloc_labels(&w, dims, 2 * s->K, &err) == ISW_OK,
          "%s", err.msg);
    isw_rng rng;
    isw_rng_init(&rng, 5, 1);
    isw_concept_fill(&set, B, s->kind, &dict, DATA(&cfg), &rng);
    isw_ctf_init_weights(&net, &rng, 0.7, 0);

    double *h = malloc(sizeof(double) * (size_t)B * L * D), *xq = malloc(sizeof(double) * (size_t)B * s->d);
    double *y = malloc(sizeof(double) * B), *f = malloc(sizeof(double) * B), *a = malloc(sizeof(double) * (size_t)B * L);
    double *df = malloc(sizeof(double) * B), *g = calloc((size_t)net.n_params, sizeof(double));
    const double **xp = malloc(sizeof(double *) * B);
    double *xq_s = malloc(sizeof(double) * (size_t)B * s->d), *lc = malloc(sizeof(double) * (size_t)B * 2 * s->K);
    double *le = malloc(sizeof(double) * (size_t)B * 2 * s->K), *yl = malloc(sizeof(double) * (size_t)B * L);
    double *y_s = malloc(sizeof(double) * B);
    isw_concept_tokens(&set, &dict, NULL, 0, B, h, xq, y);
    double *xw = malloc(sizeof(double) * (size_t)B * L * s->d);
    const signed char *wc = NULL;
    const double *zn = NULL;
    isw_concept_batch(&set, &dict, NULL, 0, B, xw, xp, &wc, &zn, xq_s, lc, le, yl, y_s);
    isw_ctf_batch bt = {xp, xq_s, 2 * s->K, dict.labels, lc, le, yl, 0, NULL, NULL, NULL};
    CHECK(isw_ctf_forward_naive(&net, h, xq, B, L, f, a, &err) == ISW_OK, "%s", err.msg);

    isw_ctf_eval_prepare(&net, &w);
    isw_ctf_forward_eval_s(&net, &w, &bt, B, L);
    double e_f = rel_diff(f, w.f, B);
    isw_ctf_forward_s(&net, &w, &bt, B, L);
    double t_f = rel_diff(f, w.f, B), t_a = rel_diff(a, w.a, (long)B * L);
    for (int b = 0; b < B; b++) df[b] = w.df[b] = 0.3 * (b % 3 - 1) + 0.1;
    CHECK(isw_ctf_backward_naive(&net, h, xq, df, B, L, g, &err) == ISW_OK, "%s", err.msg);
    memset(net.grads, 0, sizeof(double) * (size_t)net.n_params);
    isw_ctf_backward_s(&net, &w, &bt, B, L);
    printf("d=%d K=%d L=%d dh=%d m=%d B=%d kind=%d: f eval %.1e, f %.1e, alpha %.1e, grads", s->d, s->K, L, s->dh,
           s->m, B, (int)s->kind, e_f, t_f, t_a);
    CHECK(e_f < 1e-12 && t_f < 1e-12 && t_a < 1e-12, "forward differs: %g %g %g", e_f, t_f, t_a);
    for (int i = 0; i < isw_ctf_n_tensors(); i++) {
        long off = isw_ctf_tensor_offset(&dims, i), n = isw_ctf_tensor_size(&dims, i);
        double r = rel_diff(g + off, net.grads + off, n);
        printf(" %s %.1e", isw_ctf_tensor_name(i), r);
        CHECK(r < 1e-12, "gradient of %s differs by %g", isw_ctf_tensor_name(i), r);
    }
    printf("\n");
    free(h), free(xq), free(y), free(f), free(a), free(df), free(g), free(xp), free(xq_s), free(lc), free(le), free(yl), free(y_s), free(xw);
    isw_ctf_work_free(&w);
    isw_ctf_free(&net);
    isw_concept_set_free(&set);
    isw_concept_dict_free(&dict);
}

/* Coded vs dense evaluation at noise 0 (then both forms draw the same numbers in the same order),
 * then the coded scores with noise against their definition, s_bl = wc_bl . (atoms u_b) +
 * zn_bl |u_b|, computed here from the set's codes. */
static void check_coded(const shape *s) {
    isw_concept_cfg cfg = shape_cfg(s, 0.0);
    int B = s->B, L = s->L, d = s->d, na = 2 * s->K + s->K_irr, nlab = 2 * s->K;
    isw_error err;
    isw_concept_dict dict;
    isw_concept_set dense, coded;
    isw_ctf net;
    isw_ctf_work w;
    isw_ctf_dims dims = {d, 2 * d, s->dh, s->m};
    CHECK(isw_concept_dict_make(&dict, DATA(&cfg), 98, 0, &err) == ISW_OK, "%s", err.msg);
    CHECK(isw_concept_set_alloc(&dense, B, L, d, 0, na, &err) == ISW_OK &&
              isw_concept_set_alloc(&coded, B, L, d, 1, na, &err) == ISW_OK,
          "%s", err.msg);
    CHECK(isw_ctf_alloc(&net, dims, &err) == ISW_OK && isw_ctf_work_alloc(&w, dims, B, L, &err) == ISW_OK &&
              isw_ctf_work_alloc_labels(&w, dims, nlab, &err) == ISW_OK &&
              isw_ctf_work_alloc_atoms(&w, na, &err) == ISW_OK,
          "%s", err.msg);
    isw_rng rng;
    isw_rng_init(&rng, 6, 1);
    isw_concept_fill(&dense, B, s->kind, &dict, DATA(&cfg), &rng);
    isw_rng_init(&rng, 6, 1);
    isw_concept_fill(&coded, B, s->kind, &dict, DATA(&cfg), &rng);
    isw_ctf_init_weights(&net, &rng, 0.7, 0);
    double *xw = malloc(sizeof(double) * (size_t)B * L * d), *xq = malloc(sizeof(double) * (size_t)B * d);
    double *lc = malloc(sizeof(double) * (size_t)B * nlab), *le = malloc(sizeof(double) * (size_t)B * nlab);
    double *yl = malloc(sizeof(double) * (size_t)B * L), *y = malloc(sizeof(double) * B);
    double *f = malloc(sizeof(double) * B), *a = malloc(sizeof(double) * (size_t)B * L);
    const double **xp = malloc(sizeof(double *) * B);
    const signed char *wc = NULL;
    const double *zn = NULL;
    isw_ctf_eval_prepare(&net, &w);
    isw_concept_batch(&dense, &dict, NULL, 0, B, xw, xp, &wc, &zn, xq, lc, le, yl, y);
    isw_ctf_batch bt = {xp, xq, nlab, dict.labels, lc, le, yl, 0, NULL, NULL, NULL};
    isw_ctf_forward_eval_s(&net, &w, &bt, B, L);
    memcpy(f, w.f, sizeof(double) * B);
    memcpy(a, w.a, sizeof(double) * (size_t)B * L);
    isw_concept_batch(&coded, &dict, NULL, 0, B, xw, xp, &wc, &zn, xq, lc, le, yl, y);
    isw_ctf_batch ct = {NULL, xq, nlab, dict.labels, lc, le, yl, na, dict.words, wc, zn};
    isw_ctf_forward_eval_s(&net, &w, &ct, B, L);
    double e_f = rel_diff(f, w.f, B), e_a = rel_diff(a, w.a, (long)B * L);
    printf("coded d=%d K=%d K_irr=%d L=%d kind=%d: vs dense f %.1e, alpha %.1e\n", d, s->K, s->K_irr, L,
           (int)s->kind, e_f, e_a);
    /* the dense words are stored in single precision and the coded atoms are exact: the two differ
     * by the words' rounding (~1e-8 relative), a wrong code by order 1 */
    CHECK(e_f < 1e-6 && e_a < 1e-6, "coded forward differs from dense: %g %g", e_f, e_a);
    /* with noise: the attention weights are the softmax of the defined scores */
    cfg.noise = 0.3;
    isw_concept_fill(&coded, B, s->kind, &dict, DATA(&cfg), &rng);
    isw_concept_batch(&coded, &dict, NULL, 0, B, xw, xp, &wc, &zn, xq, lc, le, yl, y);
    isw_ctf_batch cn = {NULL, xq, nlab, dict.labels, lc, le, yl, na, dict.words, wc, zn};
    isw_ctf_forward_eval_s(&net, &w, &cn, B, L);
    double zmax = 0.0;
    for (int b = 0; b < B; b++) {
        const double *u = w.u + (size_t)b * d;
        double nu = 0.0, mx = -INFINITY, sum = 0.0;
        for (int t = 0; t < d; t++) nu += u[t] * u[t];
        for (int l = 0; l < L; l++) {
            double sc = zn[(size_t)b * L + l] * sqrt(nu);
            for (int j = 0; j < na; j++) {
                double pj = 0.0;
                for (int t = 0; t < d; t++) pj += dict.words[(size_t)j * d + t] * u[t];
                sc += wc[((size_t)b * na + j) * L + l] * pj;
            }
            a[(size_t)b * L + l] = sc;
            mx = fmax(mx, sc);
            zmax = fmax(zmax, fabs(zn[(size_t)b * L + l]));
        }
        for (int l = 0; l < L; l++) sum += a[(size_t)b * L + l] = exp(a[(size_t)b * L + l] - mx);
        for (int l = 0; l < L; l++) a[(size_t)b * L + l] /= sum;
    }
    double n_a = rel_diff(a, w.a, (long)B * L);
    CHECK(zmax > 0.0 && n_a < 1e-12, "coded scores with noise differ from their definition: %g (max |zn| %g)",
          n_a, zmax);
    free(xw), free(xq), free(lc), free(le), free(yl), free(y), free(f), free(a), free(xp);
    isw_ctf_work_free(&w);
    isw_ctf_free(&net);
    isw_concept_set_free(&dense);
    isw_concept_set_free(&coded);
    isw_concept_dict_free(&dict);
}

int main(void) {
    const shape shapes[] = {
        {16, 2, 4, 5, 7, 6, 9, ISW_CSET_IID},     {13, 3, 1, 1, 26, 4, 3, ISW_CSET_CROSS},
        {24, 4, 8, 17, 5, 10, 11, ISW_CSET_SWITCH}, {9, 1, 0, 3, 18, 2, 4, ISW_CSET_SKEW},
        {20, 3, 2, 8, 40, 8, 7, ISW_CSET_CROSS},
    };
    for (unsigned i = 0; i < sizeof shapes / sizeof shapes[0]; i++) check_shape(&shapes[i]);
    for (unsigned i = 0; i < sizeof shapes / sizeof shapes[0]; i++) check_coded(&shapes[i]);
    return check_report("test_concept_structured");
}
