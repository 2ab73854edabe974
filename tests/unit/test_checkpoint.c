/* Checkpoints give the numbers of an uninterrupted run, bit for bit, for every model of the
 * registry (include/iclsweep/train/model.h, isw_log_sink; docs/adding-a-model.md, "Checkpoints").
 *
 * For each model, at its golden points (tests/golden/<model>.golden) and a few more that take
 * other paths (fresh prompts, minibatch orders, Adam, a factored W; iccls in single precision), a
 * run with a sink that keeps every log point and the final metrics is the reference. Then:
 *   - stopped at a log point with a checkpoint and resumed from it, at the first, a middle and
 *     the last log point, the run ends with the reference's log points and final metrics;
 *   - stopped and resumed at every log point in turn (a chain of as many jobs), likewise;
 *   - a checkpoint taken without stopping changes nothing, and a run resumed from it (what a kill
 *     after the checkpoint leaves) ends likewise;
 *   - every trainer hands its state over when asked, and takes it back;
 *   - a damaged checkpoint (one flipped byte), one of another task (tag) or of another point
 *     (another trainer's regions) and a forged one (a step out of range, checksum recomputed) are
 *     refused with the reason, and the trainer then starts over to the reference's numbers.
 * The state helper itself: packing is deterministic, a generator resumes from its position.
 * Run by hand: ICLSWEEP_SRC=. build/tests/test_checkpoint */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "iclsweep/core/hash.h"
#include "iclsweep/core/state.h"
#include "iclsweep/spec/spec.h"
#include "iclsweep/train/model.h"

#define MAX_POINTS 16

/* Points beyond the golden ones, for paths those do not take: model, sweep on one line, and a
 * final metric the reference must have finite (the path the point is there for; "" if none). */
static const char *const extra_points[][3] = {
    {"concept", "{model: concept, seed: 3, fixed: {n_train: 0, n_test: 128, steps: 60, log_every: 10}}", ""},
    {"linattn", "{model: linattn, seed: 5, fixed: {D: 5, N: 10, P: 50, P_test: 100, optimizer: sgd, batch: 8, "
                "lr: 0.05, steps: 120, log_every: 10, avg_frac: 0.3}}", ""},
    {"linattn", "{model: linattn, seed: 6, fixed: {D: 4, N: 8, P: 40, P_test: 60, optimizer: adam, batch: 16, "
                "param: factored, dk: 3, lr: 0.02, steps: 100, log_every: 7}}", ""},
    {"linattn", "{model: linattn, seed: 8, fixed: {D: 4, N: 8, P: 30, P_test: 60, optimizer: gd, lr: 0.1, "
                "steps: 90, log_every: 30, avg_frac: 0.5}}", ""},
    {"iccls", "{model: iccls, seed: 4, fixed: {precision: float32, N: 4, Nmax: 4, D: 7, L: 8, K: 64, K_novel: 16, "
              "B: 2, batch: 16, lr: 0.2, steps: 40, log_every: 10, n_test: 64}}", ""},
    {"iccls", "{model: iccls, seed: 7, fixed: {precision: float32, N: 6, Nmax: 7, D: 12, L: 4, K: 32, K_novel: 8, "
              "B: 0, bursty_classes: zipf, pos_shift: none, batch: 8, steps: 30, log_every: 7, n_test: 40}}", ""},
    /* the jump (t_icl 900, icl_width 450; ~0.5 s a run): the transition's metrics read the
     * history of log points, which the golden points' short runs leave NaN */
    {"iccls", "{model: iccls, seed: 4, fixed: {D: 15, K: 256, lr: 0.2, batch: 32, n_test: 50, steps: 1200, "
              "log_every: 150}}", "icl_width"},
};

/* ---- a sink that records, stops, saves and restores ----------------------------------------- */

typedef struct {
    const isw_model *m;
    const char *tag;
    int64_t n_log;
    double *vals;        /* [n_log, n_traj] the log points seen */
    int64_t stop_at;     /* log index to stop at with a checkpoint, -1: none */
    int64_t save_at;     /* log index to checkpoint at without stopping, -1: none */
    int asked;           /* a checkpoint was asked for */
    unsigned char *saved; /* the last checkpoint */
    size_t saved_size;
    int64_t saved_step;  /* its log point's step */
    isw_state list;      /* the trainer's state list, as the last save gave it */
    const unsigned char *resume; /* restore from this, if not NULL */
    size_t resume_size;
    int restored;        /* 1: restored; -1: refused */
    isw_error refusal;
} rec;

static int on_log(void *vctx, int64_t index, int64_t step, const double *values) {
    rec *r = vctx;
    (void)step;
    if (index < 0 || index >= r->n_log) {
        CHECK(0, "%s: log index %lld outside 0..%lld", r->m->name, (long long)index, (long long)r->n_log - 1);
        return ISW_LOG_STOP;
    }
    memcpy(r->vals + (size_t)index * (size_t)r->m->n_traj, values, sizeof(double) * (size_t)r->m->n_traj);
    int ask = 0;
    if (index == r->stop_at) ask = ISW_LOG_STOP | ISW_LOG_SAVE;
    if (index == r->save_at) ask |= ISW_LOG_SAVE;
    r->asked += ask != 0 && (ask & ISW_LOG_SAVE);
    return ask;
}

static void on_save(void *vctx, const isw_state *state, int64_t step) {
    rec *r = vctx;
    size_t n = isw_state_packed_size(state, r->tag);
    free(r->saved);
    r->saved = malloc(n);
    isw_error err;
    CHECK(r->saved && isw_state_pack(state, r->tag, r->saved, &err) == ISW_OK, "%s: packing the state", r->m->name);
    r->saved_size = n;
    r->saved_step = step;
    r->list = *state;
}

static int on_restore(void *vctx, const isw_state *state) {
    rec *r = vctx;
    if (!r->resume) return 0;
    isw_error_clear(&r->refusal);
    r->restored = isw_state_unpack(state, r->tag, r->resume, r->resume_size, &r->refusal) == ISW_OK ? 1 : -1;
    return r->restored == 1;
}

/* ---- a point ---------------------------------------------------------------------------------- */

typedef struct {
    const isw_model *m;
    char label[1100];
    void *cfg;
    uint64_t seed;
    char tag[256];
    int64_t n_log;
    const char *needs;    /* a final metric the reference must have finite, or "" */
    double *vals, *final; /* the reference: [n_log, n_traj], [n_final] */
    isw_train_result res;
} point;

static int point_load(point *p, const isw_model *m, const char *sweep, const char *needs) {
    memset(p, 0, sizeof *p);
    p->m = m;
    p->needs = needs;
    snprintf(p->label, sizeof p->label, "%s %s", m->name, sweep);
    isw_sweep sw;
    isw_error err;
    if (isw_sweep_parse(sweep, (long)strlen(sweep), "checkpoint", 0, &sw, &err) != ISW_OK) {
        CHECK(0, "%s: does not parse: %s", p->label, err.msg);
        return 0;
    }
    double *v = calloc((size_t)m->n_params + 1, sizeof *v);
    isw_task task;
    isw_sweep_task(&sw, 0, &task, v);
    p->cfg = calloc(1, m->cfg_size);
    isw_params_to_cfg(m->params, m->n_params, v, p->cfg);
    p->seed = task.seed;
    char gen[128];
    snprintf(p->tag, sizeof p->tag, "%s key %016llx seed %llu", isw_model_generator(m, gen, sizeof gen),
             (unsigned long long)task.key, (unsigned long long)task.seed);
    p->n_log = m->log_steps(p->cfg, NULL);
    free(v);
    isw_sweep_free(&sw);
    return 1;
}

static void point_free(point *p) {
    free(p->cfg);
    free(p->vals);
    free(p->final);
}

static void rec_init(rec *r, const point *p) {
    memset(r, 0, sizeof *r);
    r->m = p->m;
    r->tag = p->tag;
    r->n_log = p->n_log;
    r->vals = malloc(sizeof(double) * (size_t)(p->n_log * p->m->n_traj + 1));
    for (int64_t i = 0; i < p->n_log * p->m->n_traj; i++) r->vals[i] = NAN;
    r->stop_at = r->save_at = -1;
}

static void rec_free(rec *r) {
    free(r->vals);
    free(r->saved);
}

/* Trains p with the sink of r; returns the status, final metrics into final[n_final]. */
static isw_status train(const point *p, rec *r, double *final, isw_train_result *res) {
    isw_log_sink sink = {.ctx = r, .on_log = on_log, .save = on_save, .restore = on_restore};
    isw_error err;
    isw_status st = p->m->train(p->cfg, p->seed, &sink, final, res, &err);
    CHECK(st == ISW_OK, "%s: training failed: %s", p->label, err.msg);
    return st;
}

/* Bitwise equality of two doubles (NaN equals NaN). */
static int same(double a, double b) { return memcmp(&a, &b, sizeof a) == 0; }

/* Whether log points [from, n_log) of r and the final metrics equal the reference's. */
static void check_same(const point *p, const rec *r, int64_t from, const double *final, const isw_train_result *res,
                       const char *what) {
    const isw_model *m = p->m;
    int64_t bad = -1;
    for (int64_t i = from * m->n_traj; bad < 0 && i < p->n_log * m->n_traj; i++)
        if (!same(r->vals[i], p->vals[i])) bad = i;
    CHECK(bad < 0, "%s: %s: log point %lld metric %s: %.17g, uninterrupted %.17g", p->label, what,
          (long long)(bad / m->n_traj), bad >= 0 ? m->traj[bad % m->n_traj].name : "", bad >= 0 ? r->vals[bad] : 0,
          bad >= 0 ? p->vals[bad] : 0);
    int fbad = -1;
    for (int i = 0; fbad < 0 && i < m->n_final; i++)
        if (!same(final[i], p->final[i])) fbad = i;
    CHECK(fbad < 0, "%s: %s: final %s: %.17g, uninterrupted %.17g", p->label, what,
          fbad >= 0 ? m->final[fbad].name : "", fbad >= 0 ? final[fbad] : 0, fbad >= 0 ? p->final[fbad] : 0);
    CHECK(res->status == p->res.status && res->step == p->res.step, "%s: %s: status %d step %lld, uninterrupted %d %lld",
          p->label, what, res->status, (long long)res->step, p->res.status, (long long)p->res.step);
}

static int reference(point *p) {
    rec r;
    rec_init(&r, p);
    p->final = calloc((size_t)p->m->n_final + 1, sizeof *p->final);
    int ok = train(p, &r, p->final, &p->res) == ISW_OK;
    CHECK(!ok || p->res.status == ISW_TRAIN_DONE, "%s: the reference run ends done (%d)", p->label, p->res.status);
    if (ok && *p->needs) {
        int k = isw_model_final_index(p->m, p->needs);
        CHECK(k >= 0 && isfinite(p->final[k]), "%s: the reference's %s is finite (%g): the point takes its path",
              p->label, p->needs, k >= 0 ? p->final[k] : NAN);
    }
    p->vals = r.vals;
    r.vals = NULL;
    rec_free(&r);
    return ok && p->res.status == ISW_TRAIN_DONE;
}

/* Stops at each log point of stops[n] in turn, resuming from the checkpoint each time. */
static void stop_and_resume(const point *p, const int64_t *stops, int n, const char *what) {
    const isw_model *m = p->m;
    double *final = calloc((size_t)m->n_final + 1, sizeof *final);
    unsigned char *ckpt = NULL;
    size_t size = 0;
    rec r;
    rec_init(&r, p);
    for (int k = 0; k <= n; k++) {
        r.stop_at = k < n ? stops[k] : -1;
        r.resume = ckpt;
        r.resume_size = size;
        r.asked = 0;
        isw_train_result res;
        if (train(p, &r, final, &res) != ISW_OK) break;
        if (ckpt) CHECK(r.restored == 1, "%s: %s: the trainer took its checkpoint back: %s", p->label, what, r.refusal.msg);
        if (k == n) {
            check_same(p, &r, 0, final, &res, what);
            break;
        }
        CHECK(res.status == ISW_TRAIN_STOPPED, "%s: %s: stops at log point %lld (%d)", p->label, what,
              (long long)stops[k], res.status);
        CHECK(r.saved != NULL && r.asked == 1, "%s: %s: hands its state over at log point %lld", p->label, what,
              (long long)stops[k]);
        if (!r.saved) break;
        free(ckpt);
        ckpt = r.saved;
        size = r.saved_size;
        r.saved = NULL;
    }
    free(ckpt);
    free(final);
    rec_free(&r);
}

/* A checkpoint without a stop changes nothing; resumed from it, the run ends the same. */
static void save_then_resume(const point *p, int64_t at) {
    const isw_model *m = p->m;
    double *final = calloc((size_t)m->n_final + 1, sizeof *final);
    rec r;
    rec_init(&r, p);
    r.save_at = at;
    isw_train_result res;
    if (train(p, &r, final, &res) == ISW_OK) check_same(p, &r, 0, final, &res, "checkpoint without a stop");
    CHECK(r.saved != NULL, "%s: a checkpoint at log point %lld", p->label, (long long)at);
    if (r.saved) {
        rec again;
        rec_init(&again, p);
        again.resume = r.saved;
        again.resume_size = r.saved_size;
        if (train(p, &again, final, &res) == ISW_OK) check_same(p, &again, at + 1, final, &res, "resumed after a kill");
        CHECK(again.restored == 1, "%s: restored", p->label);
        rec_free(&again);
    }
    free(final);
    rec_free(&r);
}

/* A bad checkpoint bad[size] is refused with `reason` in the message; the run starts over. */
static void refused(const point *p, const unsigned char *bad, size_t size, const char *reason, const char *what) {
    const isw_model *m = p->m;
    double *final = calloc((size_t)m->n_final + 1, sizeof *final);
    rec r;
    rec_init(&r, p);
    r.resume = bad;
    r.resume_size = size;
    isw_train_result res;
    if (train(p, &r, final, &res) == ISW_OK) check_same(p, &r, 0, final, &res, what);
    CHECK(r.restored == -1 && strstr(r.refusal.msg, reason), "%s: %s is refused for '%s': %d '%s'", p->label, what,
          reason, r.restored, r.refusal.msg);
    free(final);
    rec_free(&r);
}

/* Byte offset of the data of region `name` in a packed state of s and tag (the layout of
 * src/core/state.c), or -1. */
static long data_offset(const isw_state *s, const char *tag, const char *name) {
    size_t off = 8 + 16 + ((strlen(tag) + 7) & ~(size_t)7);
    for (int i = 0; i < s->n; i++) off += 24 + ((strlen(s->r[i].name) + 7) & ~(size_t)7);
    for (int i = 0; i < s->n; i++) {
        if (!strcmp(s->r[i].name, name)) return (long)off;
        size_t b = s->r[i].kind == ISW_REGION_RNG ? 24 : s->r[i].bytes;
        off += (b + 7) & ~(size_t)7;
    }
    return -1;
}

/* Rewrites the checksum of a packed state buf[size] after an edit (a forger's move). */
static void reseal(unsigned char *buf, size_t size) {
    uint64_t sum = isw_hash_bytes(buf, size - 8);
    memcpy(buf + size - 8, &sum, 8);
}

static void bad_checkpoints(const point *p, const point *other) {
    rec r;
    rec_init(&r, p);
    r.stop_at = p->n_log > 1 ? 1 : 0;
    double *final = calloc((size_t)p->m->n_final + 1, sizeof *final);
    isw_train_result res;
    int ok = train(p, &r, final, &res) == ISW_OK && r.saved;
    CHECK(ok, "%s: a checkpoint to spoil", p->label);
    size_t n = r.saved_size;
    unsigned char *bad = malloc(n + 8);
    if (ok) {
        memcpy(bad, r.saved, n);
        bad[n / 2] ^= 0x10;
        refused(p, bad, n, "damaged", "a checkpoint with a flipped byte");
        refused(p, r.saved, n - 8, "damaged", "a truncated checkpoint");
        memcpy(bad, r.saved, n);
        bad[8 + 16 + ((strlen(p->tag) + 7) & ~(size_t)7) + 24] ^= 0x01; /* the first region's name */
        reseal(bad, n);
        refused(p, bad, n, "another build", "a checkpoint of other regions");
        /* The first index region set below its range, the checksum made to match. */
        const isw_state *s = &r.list;
        int k = 0;
        while (k < s->n && s->r[k].kind != ISW_REGION_INT64 && s->r[k].kind != ISW_REGION_INT) k++;
        CHECK(k < s->n, "%s: the state lists its step as an int64 index region", p->label);
        if (k < s->n) {
            memcpy(bad, r.saved, n);
            long off = data_offset(s, p->tag, s->r[k].name);
            int64_t v64 = s->r[k].lo - 1;
            int v32 = (int)(s->r[k].lo - 1);
            if (s->r[k].kind == ISW_REGION_INT64) memcpy(bad + off, &v64, sizeof v64);
            else memcpy(bad + off, &v32, sizeof v32);
            reseal(bad, n);
            refused(p, bad, n, "outside", "a forged checkpoint");
        }
    }
    if (other != p) {
        rec o;
        rec_init(&o, other);
        o.stop_at = 0;
        double *ofinal = calloc((size_t)other->m->n_final + 1, sizeof *ofinal);
        if (train(other, &o, ofinal, &res) == ISW_OK && o.saved)
            refused(p, o.saved, o.saved_size, "another task", "a checkpoint of another task");
        free(ofinal);
        rec_free(&o);
    }
    free(bad);
    free(final);
    rec_free(&r);
}

static void check_point(point *p, const point *other) {
    if (!reference(p)) return;
    int64_t n = p->n_log;
    int64_t first[] = {0}, middle[] = {n / 2}, last[] = {n - 1};
    stop_and_resume(p, first, 1, "stopped at the first log point");
    stop_and_resume(p, middle, 1, "stopped at a middle log point");
    stop_and_resume(p, last, 1, "stopped at the last log point");
    int64_t *every = malloc(sizeof(int64_t) * (size_t)n);
    for (int64_t i = 0; i < n; i++) every[i] = i;
    stop_and_resume(p, every, (int)n, "stopped at every log point");
    free(every);
    save_then_resume(p, n / 3);
    bad_checkpoints(p, other);
}

/* ---- the state helper alone ------------------------------------------------------------------ */

static void test_state_helper(void) {
    isw_rng a, b;
    isw_rng_init(&a, 99, 4);
    double x[37];
    isw_rng_normal_fill(&a, x, 37, 1.0);
    (void)isw_rng_u32(&a);
    isw_rng_init(&b, 99, 4);
    isw_rng_seek(&b, isw_rng_tell(&a));
    int equal = 1;
    for (int i = 0; i < 1000; i++) equal &= same(isw_rng_normal(&a), isw_rng_normal(&b));
    CHECK(equal, "a generator seeked to another's position draws the same numbers");

    double w[5] = {1, 2, 3, 4, 5};
    int64_t step = 7;
    isw_state s;
    isw_state_init(&s);
    ISW_STATE_ARRAY(&s, "w", w, 5);
    isw_state_int64s(&s, "step", &step, 1, 0, 10);
    isw_state_rng(&s, "rng", &a);
    size_t n = isw_state_packed_size(&s, "t");
    unsigned char *p1 = malloc(n), *p2 = malloc(n);
    isw_error err;
    CHECK(isw_state_pack(&s, "t", p1, &err) == ISW_OK && isw_state_pack(&s, "t", p2, &err) == ISW_OK &&
              memcmp(p1, p2, n) == 0, "packing is deterministic");
    w[2] = -1;
    step = 9;
    uint64_t pos = isw_rng_tell(&a);
    (void)isw_rng_u64(&a);
    CHECK(isw_state_unpack(&s, "t", p1, n, &err) == ISW_OK && w[2] == 3 && step == 7 && isw_rng_tell(&a) == pos,
          "unpacking restores memory, values and the generator's position: %s", err.msg);
    CHECK(isw_state_unpack(&s, "t", p1, n - 8, &err) == ISW_EINPUT, "a truncated state is refused");
    isw_state over;
    isw_state_init(&over);
    for (int i = 0; i <= ISW_STATE_MAX_REGIONS; i++) ISW_STATE_VALUE(&over, "x", &step);
    CHECK(over.overflow && isw_state_pack(&over, "t", p2, &err) == ISW_EINTERNAL, "too many regions are refused");
    free(p1);
    free(p2);
}

int main(void) {
    test_state_helper();
    for (int i = 0; i < isw_model_count(); i++) {
        const isw_model *m = isw_model_at(i);
        point pts[MAX_POINTS];
        int np = 0;
        char path[1024], line[2048];
        const char *src = getenv("ICLSWEEP_SRC");
        snprintf(path, sizeof path, "%s/tests/golden/%s.golden", src && *src ? src : ".", m->name);
        FILE *f = fopen(path, "r");
        CHECK(f != NULL, "%s: its golden file %s (ICLSWEEP_SRC: the repository)", m->name, path);
        while (f && fgets(line, sizeof line, f) && np < MAX_POINTS) {
            char name[64], sweep[1500];
            line[strcspn(line, "\n")] = '\0';
            if (sscanf(line, "point %63s %1499[^\n]", name, sweep) == 2) np += point_load(&pts[np], m, sweep, "");
        }
        if (f) fclose(f);
        for (size_t k = 0; k < sizeof extra_points / sizeof extra_points[0] && np < MAX_POINTS; k++)
            if (!strcmp(extra_points[k][0], m->name))
                np += point_load(&pts[np], m, extra_points[k][1], extra_points[k][2]);
        for (int k = 0; k < np; k++) check_point(&pts[k], &pts[(k + 1) % np]);
        for (int k = 0; k < np; k++) point_free(&pts[k]);
    }
    return check_report("test_checkpoint");
}
