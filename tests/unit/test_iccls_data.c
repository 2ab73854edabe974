/* The iccls data generator's laws (include/iclsweep/tasks/iccls.h): class means and label vectors,
 * Zipf class frequencies, bursty / non-bursty / novel sequences, uniform and Zipf bursty classes,
 * the label shift of ic2, the B = 0 case, position one-hots and their shifts, independence of
 * the streams, and the checks of bad configs.
 *
 * Frequencies are compared with their exact laws within 5 standard errors (the seeds are fixed, so
 * a pass is reproducible; a wrong law at these sample sizes misses by far more).
 *
 *   ./build/tests/test_iccls_data */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "iclsweep/tasks/iccls.h"

static isw_iccls_data_cfg base_cfg(void) {
    isw_iccls_data_cfg c = {.N = 4, .Nmax = 8, .D = 31, .L = 16, .K = 256, .K_novel = 128, .B = 1,
                            .p_B = 1.0, .p_C = 0.0, .eps = 0.1, .alpha = 0.0, .bursty_zipf = 0,
                            .pos_shift = 1};
    return c;
}

/* |freq - p| within 5 standard errors of a binomial proportion over n draws. */
static int close_freq(double count, double n, double p) {
    return fabs(count / n - p) <= 5.0 * sqrt(p * (1 - p) / n) + 1e-12;
}

static void make(isw_iccls_task *task, isw_iccls_set *set, const isw_iccls_data_cfg *c, int cap,
                 uint64_t seed) {
    isw_error err;
    CHECK(isw_iccls_task_make(task, c, seed, &err) == ISW_OK, "task: %s", err.msg);
    CHECK(isw_iccls_set_alloc(set, cap, c, &err) == ISW_OK, "set: %s", err.msg);
}

static void fill(isw_iccls_set *set, int n, isw_iccls_mix mix, const isw_iccls_task *task,
                 uint64_t seed, uint32_t stream) {
    isw_rng rng;
    isw_rng_init(&rng, seed, stream);
    isw_iccls_fill(set, n, &mix, task, &rng);
}

/* Class means and label vectors: entries N(0, 1/D). */
static void test_means(void) {
    isw_iccls_data_cfg c = base_cfg();
    isw_iccls_task task;
    isw_iccls_set set;
    make(&task, &set, &c, 1, 7);
    double s = 0, s2 = 0;
    long n = (long)c.K * c.D;
    for (long i = 0; i < n; i++) s += task.mu[i], s2 += task.mu[i] * task.mu[i];
    CHECK(fabs(s / n) < 5 / sqrt(n * c.D), "class means' mean %g", s / n);
    CHECK(fabs(s2 / n * c.D - 1) < 5 * sqrt(2.0 / n), "class means' variance x D %g", s2 / n * c.D);
    s2 = 0;
    n = (long)c.L * c.D;
    for (long i = 0; i < n; i++) s2 += task.lab[i] * task.lab[i];
    CHECK(fabs(s2 / n * c.D - 1) < 5 * sqrt(2.0 / n), "labels' variance x D %g", s2 / n * c.D);
    isw_iccls_task_free(&task);
    isw_iccls_set_free(&set);
}

/* Non-bursty sequences: context and query classes i.i.d. from the Zipf law, labels k mod L. */
static void test_zipf(void) {
    isw_iccls_data_cfg c = base_cfg();
    c.K = 32;
    c.alpha = 1.0;
    int n = 20000;
    isw_iccls_task task;
    isw_iccls_set set;
    make(&task, &set, &c, n, 11);
    fill(&set, n, isw_iccls_set_mix(&c, ISW_ICCLS_SET_IW), &task, 11, ISW_ICCLS_STREAM_EVAL + 3);
    double count[32] = {0}, ctx_count[32] = {0};
    int labels_ok = 1;
    for (int i = 0; i < n; i++) {
        count[set.q_class[i]]++;
        labels_ok &= set.kind[i] == ISW_ICCLS_NONBURSTY && set.target[i] == set.q_class[i] % c.L;
        for (int j = 0; j < c.N; j++) {
            int k = set.ctx_class[i * c.N + j];
            ctx_count[k]++;
            labels_ok &= set.ctx_label[i * c.N + j] == k % c.L;
        }
    }
    CHECK(labels_ok, "non-bursty kinds and labels k mod L");
    double H = 0;
    for (int k = 0; k < 32; k++) H += 1.0 / (k + 1);
    for (int k = 0; k < 32; k++) {
        double p = 1.0 / (k + 1) / H;
        CHECK(fabs(isw_iccls_class_prob(&task, k) - p) < 1e-12, "P(%d)", k);
        CHECK(close_freq(count[k], n, p), "query class %d: %g vs %g", k, count[k] / n, p);
        CHECK(close_freq(ctx_count[k], (double)n * c.N, p), "context class %d: %g vs %g", k,
              ctx_count[k] / n / c.N, p);
    }
    isw_iccls_task_free(&task);
    isw_iccls_set_free(&set);
}

/* Bursty sequences: M = N/B distinct labels, each class B times, the query a context class;
 * uniform mode: labels and classes within a label uniform. */
static void test_bursty_uniform(void) {
    isw_iccls_data_cfg c = base_cfg();
    c.N = 8;
    c.B = 2;
    c.L = 8;
    c.K = 32;
    int n = 20000, M = 4;
    isw_iccls_task task;
    isw_iccls_set set;
    make(&task, &set, &c, n, 12);
    fill(&set, n, isw_iccls_set_mix(&c, ISW_ICCLS_SET_TEST), &task, 12, ISW_ICCLS_STREAM_EVAL);
    int ok = 1;
    double cls[32] = {0}, qpos[8] = {0}, first[32] = {0}, same01 = 0;
    for (int i = 0; i < n; i++) {
        const int *ctx = set.ctx_class + i * c.N;
        ok &= set.kind[i] == ISW_ICCLS_BURSTY;
        int distinct = 0, q_in = 0;
        for (int j = 0; j < c.N; j++) {
            int copies = 0, seen_before = 0;
            for (int m = 0; m < c.N; m++) {
                copies += ctx[m] == ctx[j];
                seen_before |= m < j && ctx[m] == ctx[j];
                if (ctx[m] != ctx[j]) ok &= ctx[m] % c.L != ctx[j] % c.L; /* distinct labels */
            }
            ok &= copies == c.B;
            distinct += !seen_before;
            if (!seen_before) cls[ctx[j]]++;
            q_in |= ctx[j] == set.q_class[i];
            if (ctx[j] == set.q_class[i]) qpos[j]++;
        }
        ok &= distinct == M && q_in;
        first[ctx[0]]++;
        same01 += ctx[0] == ctx[1];
    }
    CHECK(ok, "bursty: %d distinct classes of distinct labels, %d copies each, query in context", M,
          c.B);
    for (int k = 0; k < 32; k++) /* class k is one of the M with chance M / K under uniform mode */
        CHECK(close_freq(cls[k], n, (double)M / c.K), "class %d in %g of contexts", k, cls[k] / n);
    for (int k = 0; k < 32; k++) /* shuffled: the first context item is any class alike */
        CHECK(close_freq(first[k], n, 1.0 / c.K), "first item class %d: %g", k, first[k] / n);
    /* shuffled: items 0 and 1 share a class with chance (B - 1) / (N - 1) */
    CHECK(close_freq(same01, n, (double)(c.B - 1) / (c.N - 1)), "items 0, 1 alike: %g", same01 / n);
    for (int j = 0; j < 8; j++) /* the query's copies sit anywhere alike: B / N per position */
        CHECK(close_freq(qpos[j], n, (double)c.B / c.N), "query class at %d: %g", j, qpos[j] / n);
    isw_iccls_task_free(&task);
    isw_iccls_set_free(&set);
}

/* Zipf bursty classes: P(k) one after another, conditioned on a new label. With L = 2, K = 4,
 * M = 2, alpha = 1 the chance that class k is in the context is exact: the first draw is k, or
 * the first has the other label and the second (over k's label) is k. */
static void test_bursty_zipf(void) {
    isw_iccls_data_cfg c = base_cfg();
    c.N = 4;
    c.B = 2;
    c.L = 2;
    c.K = 4;
    c.K_novel = 4;
    c.alpha = 1.0;
    c.bursty_zipf = 1;
    int n = 40000;
    isw_iccls_task task;
    isw_iccls_set set;
    make(&task, &set, &c, n, 13);
    fill(&set, n, isw_iccls_set_mix(&c, ISW_ICCLS_SET_TEST), &task, 13, ISW_ICCLS_STREAM_EVAL);
    double p[4], in[4] = {0};
    for (int k = 0; k < 4; k++) p[k] = isw_iccls_class_prob(&task, k);
    for (int i = 0; i < n; i++)
        for (int k = 0; k < 4; k++)
            for (int j = 0; j < c.N; j++)
                if (set.ctx_class[i * c.N + j] == k) {
                    in[k]++;
                    break;
                }
    for (int k = 0; k < 4; k++) {
        int a = k % 2, o = 1 - a; /* k's label, the other label */
        double pa = p[a] + p[a + 2], po = p[o] + p[o + 2];
        double want = p[k] + po * p[k] / pa;
        CHECK(close_freq(in[k], n, want), "zipf bursty: class %d in %g of contexts, law %g", k,
              in[k] / n, want);
    }
    isw_iccls_task_free(&task);
    isw_iccls_set_free(&set);
}

/* Mixes: the chance of novel and bursty sequences; novel ids and labels j mod L; the ic2 shift;
 * B = 0 gives no bursty training sequences and N / 2 copies in the ic sets. */
static void test_mix_and_shift(void) {
    isw_iccls_data_cfg c = base_cfg();
    c.p_B = 0.6;
    c.p_C = 0.3;
    int n = 20000;
    isw_iccls_task task;
    isw_iccls_set set;
    make(&task, &set, &c, n, 14);
    fill(&set, n, isw_iccls_train_mix(&c), &task, 14, ISW_ICCLS_STREAM_TRAIN);
    double kinds[3] = {0};
    int ok = 1;
    for (int i = 0; i < n; i++) {
        kinds[set.kind[i]]++;
        if (set.kind[i] == ISW_ICCLS_NOVEL) {
            ok &= set.q_class[i] < 0 && -1 - set.q_class[i] < c.K_novel;
            ok &= set.target[i] == (-1 - set.q_class[i]) % c.L;
        } else {
            ok &= set.q_class[i] >= 0 && set.target[i] == set.q_class[i] % c.L;
        }
    }
    CHECK(ok, "novel classes are -1 - j with label j mod L; training classes k with label k mod L");
    CHECK(close_freq(kinds[ISW_ICCLS_NOVEL], n, 0.3), "novel %g", kinds[ISW_ICCLS_NOVEL] / n);
    CHECK(close_freq(kinds[ISW_ICCLS_BURSTY], n, 0.7 * 0.6), "bursty %g", kinds[0] / n);

    fill(&set, 2000, isw_iccls_set_mix(&c, ISW_ICCLS_SET_IC2), &task, 14, ISW_ICCLS_STREAM_EVAL + 2);
    ok = 1;
    for (int i = 0; i < 2000; i++) {
        ok &= set.kind[i] == ISW_ICCLS_BURSTY && set.target[i] == (set.q_class[i] % c.L + 1) % c.L;
        for (int j = 0; j < c.N; j++)
            ok &= set.ctx_label[i * c.N + j] == (set.ctx_class[i * c.N + j] % c.L + 1) % c.L;
    }
    CHECK(ok, "ic2: bursty training classes, every label and the target shifted to l + 1 mod L");
    fill(&set, 2000, isw_iccls_set_mix(&c, ISW_ICCLS_SET_IC), &task, 14, ISW_ICCLS_STREAM_EVAL + 1);
    ok = 1;
    for (int i = 0; i < 2000; i++) ok &= set.kind[i] == ISW_ICCLS_NOVEL;
    CHECK(ok, "ic: all novel");
    isw_iccls_task_free(&task);
    isw_iccls_set_free(&set);

    c.B = 0;
    c.N = 6;
    c.p_B = 1.0;
    c.p_C = 0.0;
    make(&task, &set, &c, 2000, 15);
    fill(&set, 2000, isw_iccls_train_mix(&c), &task, 15, ISW_ICCLS_STREAM_TRAIN);
    ok = 1;
    for (int i = 0; i < 2000; i++) ok &= set.kind[i] == ISW_ICCLS_NONBURSTY;
    CHECK(ok, "B = 0: no bursty training sequence");
    fill(&set, 2000, isw_iccls_set_mix(&c, ISW_ICCLS_SET_IC), &task, 15, ISW_ICCLS_STREAM_EVAL + 1);
    ok = 1;
    for (int i = 0; i < 2000; i++) {
        const int *ctx = set.ctx_class + i * c.N;
        int copies = 0;
        for (int j = 0; j < c.N; j++) copies += ctx[j] == ctx[0];
        ok &= set.kind[i] == ISW_ICCLS_NOVEL && copies == c.N / 2;
    }
    CHECK(ok, "B = 0: the ic set has N / 2 copies of each class");
    isw_iccls_task_free(&task);
    isw_iccls_set_free(&set);
}

/* Tokens: one 1 in the position part at shift + t, items and labels in the content part; shifts
 * uniform on 0..P-T; items (mu + eps eta) / sqrt(1 + eps^2) with eta's variance eps^2 / D. */
static void test_tokens(void) {
    isw_iccls_data_cfg c = base_cfg();
    int n = 4000;
    isw_iccls_task task;
    isw_iccls_set set;
    make(&task, &set, &c, n, 16);
    fill(&set, n, isw_iccls_set_mix(&c, ISW_ICCLS_SET_TEST), &task, 16, ISW_ICCLS_STREAM_EVAL);
    int T = task.T, P = task.P, d = task.d, N = c.N, D = c.D;
    CHECK(T == 9 && P == 17 && d == 48, "dims T %d P %d d %d", T, P, d);
    double *X = malloc(sizeof(double) * (size_t)n * T * d);
    isw_iccls_tokens(&set, &task, 0, n, X);
    int ok = 1;
    double shifts[9] = {0}, noise2 = 0, e = sqrt(1 + c.eps * c.eps);
    for (int i = 0; i < n; i++) {
        shifts[set.shift[i]]++;
        for (int t = 0; t < T; t++) {
            const double *tok = X + ((size_t)i * T + t) * d;
            for (int p = 0; p < P; p++) ok &= tok[p] == (p == set.shift[i] + t ? 1.0 : 0.0);
            if (t % 2) {
                const double *lv = task.lab + (size_t)set.ctx_label[i * N + t / 2] * D;
                ok &= memcmp(tok + P, lv, sizeof(double) * D) == 0;
            } else {
                int k = t == 2 * N ? set.q_class[i] : set.ctx_class[i * N + t / 2];
                for (int j = 0; j < D; j++) {
                    double eta = tok[P + j] * e - task.mu[(size_t)k * D + j];
                    noise2 += eta * eta;
                }
            }
        }
    }
    CHECK(ok, "one-hot at shift + t, label tokens the label vectors");
    for (int s = 0; s < 9; s++) CHECK(close_freq(shifts[s], n, 1.0 / 9), "shift %d: %g", s, shifts[s] / n);
    double m = (double)n * (N + 1) * D, want = c.eps * c.eps / D;
    CHECK(fabs(noise2 / m / want - 1) < 0.02, "item noise variance %g vs %g", noise2 / m, want);

    c.pos_shift = 0;
    isw_iccls_task t2;
    isw_iccls_set s2;
    make(&t2, &s2, &c, 100, 16);
    fill(&s2, 100, isw_iccls_set_mix(&c, ISW_ICCLS_SET_TEST), &t2, 16, ISW_ICCLS_STREAM_EVAL);
    ok = 1;
    for (int i = 0; i < 100; i++) ok &= s2.shift[i] == 0;
    CHECK(ok, "pos_shift none: every shift 0");
    free(X);
    isw_iccls_task_free(&task);
    isw_iccls_set_free(&set);
    isw_iccls_task_free(&t2);
    isw_iccls_set_free(&s2);
}

/* A set is a function of its stream alone: drawing it before or after other sets, or drawing
 * fewer sequences, gives the same sequences; another seed gives others. */
static void test_streams(void) {
    isw_iccls_data_cfg c = base_cfg();
    c.p_C = 0.5;
    c.p_B = 0.5;
    isw_iccls_task task, other;
    isw_iccls_set a, b;
    make(&task, &a, &c, 50, 17);
    make(&other, &b, &c, 50, 18);
    fill(&a, 50, isw_iccls_set_mix(&c, ISW_ICCLS_SET_IC), &task, 17, ISW_ICCLS_STREAM_EVAL + 1);
    fill(&b, 50, isw_iccls_train_mix(&c), &task, 17, ISW_ICCLS_STREAM_TRAIN); /* another part */
    fill(&b, 20, isw_iccls_set_mix(&c, ISW_ICCLS_SET_IC), &task, 17, ISW_ICCLS_STREAM_EVAL + 1);
    size_t per = (size_t)(c.N + 1) * c.D;
    CHECK(memcmp(a.item, b.item, sizeof(float) * per * 20) == 0 &&
              memcmp(a.ctx_class, b.ctx_class, sizeof(int) * c.N * 20) == 0 &&
              memcmp(a.shift, b.shift, sizeof(int) * 20) == 0,
          "the first 20 sequences of a set do not depend on other draws or on the set's size");
    CHECK(memcmp(task.mu, other.mu, sizeof(double) * c.K * c.D) != 0, "another seed, other means");
    isw_iccls_task_free(&task);
    isw_iccls_task_free(&other);
    isw_iccls_set_free(&a);
    isw_iccls_set_free(&b);
}

/* Bad configs are refused with a message that names the knob. */
static void test_checks(void) {
    struct { const char *what, *needle, *blame; } cases[] = {
        {"K not a multiple of L", "multiples of", "K"},
        {"B does not divide N", "B = 3", "B"},
        {"B = N", "B = 4", "B"},
        {"N > Nmax", "Nmax", "Nmax"},
        {"too many distinct labels", "distinct labels", "L"},
        {"p_B > 1", "p_B", "p_B"},
    };
    isw_iccls_data_cfg bad[6];
    for (int i = 0; i < 6; i++) bad[i] = base_cfg();
    bad[0].K = 250;
    bad[1].B = 3;
    bad[2].B = 4;
    bad[3].Nmax = 3;
    bad[4].L = 2, bad[4].K = 256, bad[4].K_novel = 128; /* N / B = 4 > L */
    bad[5].p_B = 1.5;
    for (int i = 0; i < 6; i++) {
        isw_error err;
        isw_error_clear(&err);
        const char *blame = NULL;
        isw_status st = isw_iccls_data_check(&bad[i], &blame, &err);
        CHECK(st == ISW_EINPUT && strstr(err.msg, cases[i].needle), "%s: got %d '%s'", cases[i].what,
              st, err.msg);
        CHECK(blame && !strcmp(blame, cases[i].blame), "%s: blames %s", cases[i].what, blame ? blame : "nothing");
    }
    isw_iccls_data_cfg ok = base_cfg();
    isw_error err;
    CHECK(isw_iccls_data_check(&ok, NULL, &err) == ISW_OK, "the default passes: %s", err.msg);
}

int main(void) {
    test_means();
    test_zipf();
    test_bursty_uniform();
    test_bursty_zipf();
    test_mix_and_shift();
    test_tokens();
    test_streams();
    test_checks();
    return check_report("test_iccls_data");
}
