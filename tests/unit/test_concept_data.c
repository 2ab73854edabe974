/* Data and kernel checks of the concept model: dictionary orthogonality and norms, label and
 * concept balance, co-activation rates against p_poly and p_irr, noise variance, the OOD
 * generators, the BLAS forward/backward against the naive loops on odd shapes, the tied and
 * independent initializations (qk_init), and bad parameter combinations rejected by the model's
 * check.
 *
 * By hand: build-dir/tests/test_concept_data */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "iclsweep/tasks/concept.h"
#include "iclsweep/models/concept_params.h"
#include "iclsweep/models/concept.h"
#include "iclsweep/train/model.h"

/* The data knobs of a config, as the generators take them (a temporary of the call). */
#define DATA(cfg) ((const isw_concept_data[]){isw_concept_data_of(cfg)})


static isw_concept_cfg defaults(void) {
    double vals[128];
    isw_concept_cfg cfg;
    isw_params_defaults(isw_concept_params, ISW_CONCEPT_N_PARAMS, vals);
    isw_params_to_cfg(isw_concept_params, ISW_CONCEPT_N_PARAMS, vals, &cfg);
    return cfg;
}

static double dot(const double *a, const double *b, int n) {
    double s = 0.0;
    for (int i = 0; i < n; i++) s += a[i] * b[i];
    return s;
}

static void test_dictionary(void) {
    isw_concept_cfg cfg = defaults();
    cfg.d = 21; /* 2K + K_irr = 16 <= 21: odd d, not all of R^d used */
    isw_concept_dict dict;
    isw_error err;
    CHECK(isw_concept_dict_make(&dict, DATA(&cfg), 5, 0, &err) == ISW_OK, "dict: %s", err.msg);
    int d = dict.d, nw = 2 * dict.K + dict.K_irr;
    double worst = 0.0;
    for (int i = 0; i < nw; i++) {
        double want = i < dict.K ? cfg.norm_a : i < 2 * dict.K ? cfg.norm_b : cfg.norm_nu;
        const double *u = dict.words + (size_t)i * d;
        CHECK(fabs(sqrt(dot(u, u, d)) - want) < 1e-12, "word atom %d norm", i);
        for (int j = 0; j < i; j++) worst = fmax(worst, fabs(dot(u, dict.words + (size_t)j * d, d)));
    }
    for (int i = 0; i < 2 * dict.K; i++) {
        double want = i < dict.K ? cfg.norm_c : cfg.norm_d;
        const double *u = dict.labels + (size_t)i * d;
        CHECK(fabs(sqrt(dot(u, u, d)) - want) < 1e-12, "label atom %d norm", i);
        for (int j = 0; j < i; j++) worst = fmax(worst, fabs(dot(u, dict.labels + (size_t)j * d, d)));
    }
    printf("dictionary: max |<u, v>| over distinct atoms %.2e\n", worst);
    CHECK(worst < 1e-13, "atoms orthogonal: %g", worst);
    isw_concept_dict_free(&dict);
    cfg.d = 15;
    CHECK(isw_concept_dict_make(&dict, DATA(&cfg), 5, 0, &err) == ISW_EINPUT, "d < 2K + K_irr rejected");
}

/* Labels, polarities and concepts balanced; the query's label determined by tau s_q. */
static void test_balance(void) {
    isw_concept_cfg cfg = defaults();
    isw_concept_dict dict;
    isw_concept_set set;
    isw_error err;
    isw_rng rng;
    int n = 4000, L = (int)cfg.L;
    CHECK(isw_concept_dict_make(&dict, DATA(&cfg), 9, 0, &err) == ISW_OK, "dict");
    CHECK(isw_concept_set_alloc(&set, n, L, (int)cfg.d, 0, 2 * (int)cfg.K + (int)cfg.K_irr, &err) == ISW_OK,
          "alloc");
    isw_rng_init(&rng, 9, 7);
    isw_concept_fill(&set, n, ISW_CSET_IID, &dict, DATA(&cfg), &rng);
    double ypos = 0, ydemo = 0, per_k[64] = {0};
    for (int i = 0; i < n; i++) {
        ypos += set.y[(size_t)i * (L + 1) + L] > 0;
        for (int l = 0; l < L; l++) ydemo += set.y[(size_t)i * (L + 1) + l] > 0;
        per_k[set.k1[i]]++;
    }
    printf("balance: targets +1 %.3f, demo labels +1 %.3f\n", ypos / n, ydemo / (n * L));
    CHECK(fabs(ypos / n - 0.5) < 0.03, "targets balanced: %g", ypos / n);
    CHECK(fabs(ydemo / (n * L) - 0.5) < 0.01, "demo labels balanced");
    for (int k = 0; k < cfg.K; k++) CHECK(fabs(per_k[k] / n - 1.0 / cfg.K) < 0.03, "concept %d share", k);
    /* skewed OOD set: concept 0 at ood_skew */
    isw_concept_fill(&set, n, ISW_CSET_SKEW, &dict, DATA(&cfg), &rng);
    double k0 = 0;
    for (int i = 0; i < n; i++) k0 += set.k1[i] == 0;
    CHECK(fabs(k0 / n - cfg.ood_skew) < 0.03, "skewed set: concept 0 share %g", k0 / n);
    /* label flips at the configured rate; fixed label map gives y = s */
    cfg.label_flip = 0.2;
    cfg.label_map = 1;
    isw_concept_fill(&set, n, ISW_CSET_IID, &dict, DATA(&cfg), &rng);
    double flips = 0, qbad = 0;
    for (int i = 0; i < n; i++) {
        const signed char *y = set.y + (size_t)i * (L + 1), *s = set.s + (size_t)i * (L + 1);
        for (int l = 0; l < L; l++) flips += y[l] != s[l];
        qbad += y[L] != s[L];
    }
    CHECK(fabs(flips / (n * L) - 0.2) < 0.01, "flip rate %g", flips / (n * L));
    CHECK(qbad == 0, "query label never flipped");
    isw_concept_set_free(&set);
    isw_concept_dict_free(&dict);
}

/* Co-activation rates of other concepts and irrelevant atoms, read off by projection. */
static void test_coactivation(void) {
    isw_concept_cfg cfg = defaults();
    cfg.noise = 0.0;
    isw_concept_dict dict;
    isw_error err;
    isw_rng rng;
    CHECK(isw_concept_dict_make(&dict, DATA(&cfg), 11, 0, &err) == ISW_OK, "dict");
    isw_rng_init(&rng, 11, 3);
    int d = dict.d, n = 20000;
    double x[4096], poly = 0, irr = 0, own_ok = 1;
    for (int i = 0; i < n; i++) {
        int k = i % dict.K, s = (i / dict.K) % 2 ? 1 : -1;
        isw_concept_word(x, &dict, DATA(&cfg), ISW_CSET_IID, k, -1, s, &rng);
        for (int kk = 0; kk < dict.K; kk++) {
            double pa = dot(x, ISW_DICT_A(&dict, kk), d) / (cfg.norm_a * cfg.norm_a);
            double pb = dot(x, ISW_DICT_B(&dict, kk), d) / (cfg.norm_b * cfg.norm_b);
            if (kk == k)
                own_ok = own_ok && fabs(pa - 1) < 1e-9 && fabs(pb - s) < 1e-9;
            else
                poly += fabs(pa - 1) < 1e-9 && fabs(fabs(pb) - 1) < 1e-9;
        }
        for (int j = 0; j < dict.K_irr; j++)
            irr += fabs(fabs(dot(x, ISW_DICT_NU(&dict, j), d)) / (cfg.norm_nu * cfg.norm_nu) - 1) < 1e-9;
    }
    double rp = poly / ((double)n * (dict.K - 1)), ri = irr / ((double)n * dict.K_irr);
    printf("co-activation: other concepts %.4f (p_poly %g), irrelevant atoms %.4f (p_irr %g)\n", rp,
           cfg.p_poly, ri, cfg.p_irr);
    CHECK(own_ok, "every word carries a_k + s b_k");
    CHECK(fabs(rp - cfg.p_poly) < 0.01, "polysemy rate %g vs %g", rp, cfg.p_poly);
    CHECK(fabs(ri - cfg.p_irr) < 0.01, "irrelevant rate %g vs %g", ri, cfg.p_irr);
    /* switched semantics carries b_(k+1 mod K); cross-concept words carry both concepts */
    isw_concept_word(x, &dict, DATA(&cfg), ISW_CSET_SWITCH, 1, -1, 1, &rng);
    CHECK(fabs(dot(x, ISW_DICT_B(&dict, 2), d) / (cfg.norm_b * cfg.norm_b) - 1) < 1e-9, "switched atom");
    isw_concept_word(x, &dict, DATA(&cfg), ISW_CSET_CROSS, 0, 3, -1, &rng);
    CHECK(fabs(dot(x, ISW_DICT_A(&dict, 3), d) - cfg.norm_a * cfg.norm_a) < 1e-9 &&
              fabs(dot(x, ISW_DICT_B(&dict, 0), d) + cfg.norm_b * cfg.norm_b) < 1e-9,
          "cross-concept word");
    isw_concept_dict_free(&dict);
}

static void test_noise(void) {
    isw_concept_cfg cfg = defaults();
    cfg.p_poly = 0;
    cfg.p_irr = 0;
    cfg.noise = 0.05;
    isw_concept_dict dict;
    isw_error err;
    isw_rng rng;
    CHECK(isw_concept_dict_make(&dict, DATA(&cfg), 13, 0, &err) == ISW_OK, "dict");
    isw_rng_init(&rng, 13, 4);
    int d = dict.d, n = 4000;
    double x[4096], sum = 0, sq = 0;
    for (int i = 0; i < n; i++) {
        isw_concept_word(x, &dict, DATA(&cfg), ISW_CSET_IID, 2, -1, 1, &rng);
        for (int t = 0; t < d; t++) {
            double e = x[t] - ISW_DICT_A(&dict, 2)[t] - ISW_DICT_B(&dict, 2)[t];
            sum += e;
            sq += e * e;
        }
    }
    double N = (double)n * d, var = sq / N - (sum / N) * (sum / N);
    printf("noise: variance %.6f vs noise^2 %.6f\n", var, cfg.noise * cfg.noise);
    CHECK(fabs(var / (cfg.noise * cfg.noise) - 1) < 0.02, "noise variance %g", var);
    isw_concept_dict_free(&dict);
}

/* A coded set's noise terms zn = noise z, z standard normal (the law of a dense word's noise
 * along any direction), and its codes: the prompt's own a_k at 1 and its polarity atom at s_l. */
static void test_coded_noise(void) {
    isw_concept_cfg cfg = defaults();
    cfg.noise = 0.05;
    isw_concept_dict dict;
    isw_concept_set set;
    isw_error err;
    isw_rng rng;
    int n = 2000, L = (int)cfg.L, na = (int)isw_concept_atoms(&cfg), K = (int)cfg.K;
    CHECK(isw_concept_dict_make(&dict, DATA(&cfg), 17, 0, &err) == ISW_OK, "dict");
    CHECK(isw_concept_set_alloc(&set, n, L, (int)cfg.d, 1, na, &err) == ISW_OK, "alloc");
    isw_rng_init(&rng, 17, 3);
    isw_concept_fill(&set, n, ISW_CSET_IID, &dict, DATA(&cfg), &rng);
    double sum = 0, sq = 0, N = (double)n * L;
    int own = 1;
    for (int i = 0; i < n; i++)
        for (int l = 0; l < L; l++) {
            double z = set.zn[(size_t)i * L + l] / cfg.noise;
            sum += z;
            sq += z * z;
            const signed char *c = set.wc + (size_t)i * na * L + l; /* atom j at c[j * L] */
            int k = set.k1[i], s = set.s[(size_t)i * (L + 1) + l];
            own &= c[(size_t)k * L] == 1 && c[(size_t)(K + k) * L] == s;
        }
    double mean = sum / N, var = sq / N - mean * mean;
    printf("coded noise: mean %.4f, variance %.4f (of noise^2) over %.0f demonstrations\n", mean, var, N);
    CHECK(fabs(mean) < 4.0 / sqrt(N), "coded noise mean %g", mean);
    CHECK(fabs(var - 1) < 0.03, "coded noise variance %g of noise^2", var);
    CHECK(own, "every coded word carries its own concept's a_k and s_l b_k");
    isw_concept_set_free(&set);
    isw_concept_dict_free(&dict);
}

/* BLAS forward (training and evaluation paths) and backward equal the naive loops. */
static void test_blas_vs_naive(int d, int dh, int m, int L, int B) {
    isw_ctf_dims dims = {d, 2 * d, dh, m};
    isw_ctf net;
    isw_ctf_work w;
    isw_error err;
    isw_rng rng;
    CHECK(isw_ctf_alloc(&net, dims, &err) == ISW_OK && isw_ctf_work_alloc(&w, dims, B, L, &err) == ISW_OK,
          "alloc");
    isw_rng_init(&rng, (uint64_t)(d * 1000 + L), 0);
    isw_ctf_init_weights(&net, &rng, 0.4, 0);
    size_t nh = (size_t)B * L * 2 * d;
    double *h = malloc(sizeof(double) * nh), *xq = malloc(sizeof(double) * (size_t)B * d);
    double *f = malloc(sizeof(double) * (size_t)B), *a = malloc(sizeof(double) * (size_t)B * L);
    double *g = calloc((size_t)net.n_params, sizeof(double)), *df = malloc(sizeof(double) * (size_t)B);
    CHECK(h && xq && f && a && g && df, "alloc");
    isw_rng_normal_fill(&rng, h, (long)nh, 1.0);
    isw_rng_normal_fill(&rng, xq, (long)B * d, 1.0);
    isw_rng_normal_fill(&rng, df, B, 1.0);
    CHECK(isw_ctf_forward_naive(&net, h, xq, B, L, f, a, &err) == ISW_OK, "naive forward");
    isw_ctf_forward(&net, &w, h, xq, B, L);
    double df_max = 0, da_max = 0;
    for (int b = 0; b < B; b++) df_max = fmax(df_max, fabs(f[b] - w.f[b]));
    for (int i = 0; i < B * L; i++) da_max = fmax(da_max, fabs(a[i] - w.a[i]));
    isw_ctf_eval_prepare(&net, &w);
    isw_ctf_forward_eval(&net, &w, h, xq, B, L);
    double de_max = 0;
    for (int b = 0; b < B; b++) de_max = fmax(de_max, fabs(f[b] - w.f[b]));
    isw_ctf_forward(&net, &w, h, xq, B, L);
    memcpy(w.df, df, sizeof(double) * (size_t)B);
    memset(net.grads, 0, sizeof(double) * (size_t)net.n_params);
    isw_ctf_backward(&net, &w, h, xq, B, L);
    CHECK(isw_ctf_backward_naive(&net, h, xq, df, B, L, g, &err) == ISW_OK, "naive backward");
    double dg_max = 0, g_max = 0;
    for (long i = 0; i < net.n_params; i++) {
        dg_max = fmax(dg_max, fabs(g[i] - net.grads[i]));
        g_max = fmax(g_max, fabs(g[i]));
    }
    printf("BLAS vs naive d=%d dh=%d m=%d L=%d B=%d: f %.1e, alpha %.1e, eval f %.1e, grads %.1e (max %.2g)\n",
           d, dh, m, L, B, df_max, da_max, de_max, dg_max, g_max);
    CHECK(df_max < 1e-12 && da_max < 1e-12 && de_max < 1e-12, "forward paths agree");
    CHECK(dg_max < 1e-12 * fmax(1, g_max), "backward agrees");
    free(h), free(xq), free(f), free(a), free(g), free(df);
    isw_ctf_work_free(&w);
    isw_ctf_free(&net);
}

/* qk_init: tied draws W_Q once and copies it into W_K (so W_K^T W_Q is PSD with mean init^2 dh I);
 * independent draws both. Either way the draws are N(0, init^2) and W_O is its own draw. The
 * enum and the table's choice names agree. */
static void test_init(void) {
    const isw_param_def *p = &isw_concept_params[isw_param_find(
        isw_concept_params, ISW_CONCEPT_N_PARAMS, "qk_init")];
    CHECK(isw_param_choice_index(p, "tied") == ISW_QK_tied &&
              isw_param_choice_index(p, "independent") == ISW_QK_independent && defaults().qk_init == ISW_QK_tied,
          "qk_init choices match their enum; tied is the default");
    isw_ctf_dims dims = {40, 80, 80, 30};
    isw_ctf net;
    isw_error err;
    CHECK(isw_ctf_alloc(&net, dims, &err) == ISW_OK, "alloc");
    for (int tied = 0; tied <= 1; tied++) {
        isw_rng rng;
        isw_rng_init(&rng, 11, 0);
        isw_ctf_init_weights(&net, &rng, 0.1, tied);
        long nqk = (long)dims.dh * dims.d, no = (long)dims.m * dims.d, same = 0, same_o = 0;
        double sq = 0;
        for (long i = 0; i < nqk; i++) same += net.w.wq[i] == net.w.wk[i];
        for (long i = 0; i < no; i++) same_o += net.w.wq[i] == net.w.wo[i] || net.w.wk[i] == net.w.wo[i];
        for (long i = 0; i < net.n_params; i++) sq += net.params[i] * net.params[i];
        double sd = sqrt(sq / (double)net.n_params);
        printf("init %s: W_K == W_Q in %ld of %ld entries, sd %.4f\n", tied ? "tied" : "independent", same,
               nqk, sd);
        CHECK(tied ? same == nqk : same == 0, "W_K %s W_Q", tied ? "equals" : "differs from");
        CHECK(fabs(sd / 0.1 - 1) < 0.02, "entries have sd init: %g", sd);
        CHECK(same_o == 0, "W_O is its own draw");
    }
    isw_ctf_free(&net);
}

static void expect_rejected(isw_concept_cfg cfg, const char *param) {
    int blame = -1;
    char why[256] = "";
    isw_status st = isw_concept_check(&cfg, &blame, why, sizeof why);
    CHECK(st == ISW_EINPUT, "rejected (%s)", param);
    CHECK(blame >= 0 && strcmp(isw_concept_params[blame].name, param) == 0, "blames %s: %s", param,
          why);
}

static void test_bad_configs(void) {
    isw_concept_cfg ok = defaults(), c;
    int blame;
    char why[256];
    CHECK(isw_concept_check(&ok, &blame, why, sizeof why) == ISW_OK, "defaults accepted: %s", why);
    c = ok, c.d = 15, expect_rejected(c, "d");       /* 2K + K_irr = 16 */
    c = ok, c.K = 30, expect_rejected(c, "d");
    c = ok, c.width = 33, expect_rejected(c, "width");
    c = ok, c.n_train = 32, expect_rejected(c, "batch");
    c = ok, c.n_train = 0, c.batch = 100000;
    CHECK(isw_concept_check(&c, &blame, why, sizeof why) == ISW_OK, "fresh prompts: any batch");
}

int main(void) {
    test_dictionary();
    test_balance();
    test_coactivation();
    test_noise();
    test_coded_noise();
    test_init();
    test_blas_vs_naive(5, 3, 6, 3, 7);
    test_blas_vs_naive(7, 14, 2, 1, 1);
    test_blas_vs_naive(9, 11, 10, 17, 13);
    test_bad_configs();
    return check_report("test_concept_data");
}
