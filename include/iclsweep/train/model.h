/* A model of iclsweep, as one descriptor: everything the layers above (spec, sweep, cli) and the
 * result file know of it. docs/adding-a-model.md walks through writing one.
 *
 * A descriptor lists the model's parameter table (include/iclsweep/models/<model>_params.h) with
 * its cross-parameter constraints and derived parameters, its metric tables, its trainer, its
 * cost and memory estimates, its log schedule, the theory the analysis draws beside its metrics,
 * and the version of its numbers. The registry (ISW_MODELS below) lists the descriptors; the YAML
 * validator, `iclsweep params` and `metrics`, docs/params.md and docs/metrics.md, the result
 * file's columns, `plan` and the golden tests (tests/golden/) all read them, so nothing else in the
 * code names a model.
 *
 * A trainer knows nothing of MPI or HDF5: it reports each log point to a sink callback, which may
 * ask it to stop (a signal arrived) or to hand over its whole state (a checkpoint), and returns the
 * final metrics plus a status. A NaN or Inf loss
 * is not an error of the program: the trainer returns ISW_TRAIN_DIVERGED with its step. */
#ifndef ICLSWEEP_TRAIN_MODEL_H
#define ICLSWEEP_TRAIN_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "iclsweep/core/error.h"
#include "iclsweep/core/metric.h"
#include "iclsweep/core/params.h"
#include "iclsweep/core/state.h"

typedef enum {
    ISW_TRAIN_DONE = 0,     /* trained to the last step */
    ISW_TRAIN_DIVERGED = 1, /* loss became NaN or Inf at result.step */
    ISW_TRAIN_STOPPED = 2   /* the sink asked to stop (signal); nothing final is valid */
} isw_train_status;

/* What a sink asks of the trainer at a log point: the bits on_log returns (0: go on). */
enum {
    ISW_LOG_STOP = 1, /* stop once this step is finished: return ISW_TRAIN_STOPPED */
    ISW_LOG_SAVE = 2  /* once this step is finished, hand the whole state to save (a checkpoint) */
};

/* Receives each log point, and keeps checkpoints (docs/adding-a-model.md, "Checkpoints").
 *
 * on_log receives values[n_traj] (in the order of the model's traj table) of log point `index` at
 * training step `step`, and returns ISW_LOG_* bits. save and restore are NULL when the caller keeps
 * no checkpoints. A trainer lists its whole state once (include/iclsweep/core/state.h: the memory
 * that changes while it trains, its next step among it) and:
 *   - right after set-up, calls isw_sink_restore with that list: when it returns 1 the regions
 *     hold a saved state, and training continues from the step they hold;
 *   - at a log point, finishes the step (its update) before it acts on the bits: with
 *     ISW_LOG_SAVE it calls isw_sink_save with the list (the next step set in it) and the step of
 *     the log point; with ISW_LOG_STOP it then returns ISW_TRAIN_STOPPED.
 * A trainer resumed from any of its checkpoints, once or many times, must give the numbers of an
 * uninterrupted run bit for bit (tests/unit/test_checkpoint.c checks every model in the registry). */
typedef struct {
    void *ctx;
    int (*on_log)(void *ctx, int64_t index, int64_t step, const double *values);
    void (*save)(void *ctx, const isw_state *state, int64_t step);
    int (*restore)(void *ctx, const isw_state *state);
} isw_log_sink;

/* The trainer's side of the sink (sink may be NULL): the bits on_log asks for (0 without a sink),
 * saving the state after log point `step`, and restoring it (1: restored, 0: start from step 0). */
static inline int isw_sink_log(const isw_log_sink *sink, int64_t index, int64_t step, const double *values) {
    return sink && sink->on_log ? sink->on_log(sink->ctx, index, step, values) : 0;
}
static inline void isw_sink_save(const isw_log_sink *sink, const isw_state *state, int64_t step) {
    if (sink && sink->save) sink->save(sink->ctx, state, step);
}
static inline int isw_sink_restore(const isw_log_sink *sink, const isw_state *state) {
    return sink && sink->restore ? sink->restore(sink->ctx, state) : 0;
}

typedef struct {
    isw_train_status status;
    int64_t step;     /* last step reached (the diverging step when DIVERGED) */
    char reason[128]; /* short reason when DIVERGED ("train_loss is NaN at step 41") */
} isw_train_result;

/* A line of theory the analysis draws, with its value for each task (the result file's
 * /theory/<column>, docs/file-format.md). A level is a reference value of the metrics named in
 * `on` ("test_err|train_err"): chance, a theoretical floor. A mark is a position on the axis of
 * the parameter named in `on` ("P"): where theory puts a transition. */
typedef struct {
    const char *column; /* /theory/<column> */
    const char *label;  /* legend text: "chance (1/2)" */
    const char *on;     /* level: the metrics, '|'-separated; mark: the parameter */
    const char *units;  /* "" when unitless */
    const char *doc;    /* one line: what it is, and when it does not apply */
    /* The value for one task's config (derived parameters resolved); NaN where it does not apply. */
    double (*value)(const void *cfg);
} isw_theory_line;

/* A final metric of the model that the analysis draws beside others (a baseline). */
typedef struct {
    const char *final; /* the final metric drawn */
    const char *label; /* legend text */
    const char *on;    /* the metrics it is drawn beside, '|'-separated */
} isw_baseline;

typedef struct isw_model isw_model;
struct isw_model {
    const char *name;    /* "concept": what `model:` names */
    const char *summary; /* one line */
    /* The version of the model's data generator and kernels: two runs of one task (same
     * parameters and seed) agree bit for bit only under the same version, so it is recorded in
     * result files and a resume, --from or merge under another version is refused. The golden
     * test (tests/golden/<name>.golden) fails when the model's numbers change and this does not;
     * docs/architecture.md says how to bump it. */
    const char *version;

    /* ---- parameters ---- */
    const isw_param_def *params; /* the parameter table */
    int n_params;
    size_t cfg_size; /* sizeof the model's typed config struct */
    /* Cross-parameter constraints of one point (as set). Returns ISW_OK, or ISW_EINPUT with the
     * reason in why[size] and the index (into params) of the parameter to blame in *blame. */
    isw_status (*check)(const void *cfg, int *blame, char *why, size_t size);
    /* Parameters the model derives from others ("P|dk|batch"; "" for none), and the hook that
     * replaces them in cfg by the values training actually uses (linattn: P = round(alpha D^2)
     * when alpha > 0). Trainers take the config as set; the result file records both. */
    const char *derived;
    void (*resolve)(void *cfg);

    /* ---- metrics ---- */
    const isw_metric_def *traj; /* at every log point: /traj/<name> */
    int n_traj;
    const isw_metric_def *final; /* at the end of training: /final/<name> */
    int n_final;

    /* ---- schedule and estimates ---- */
    /* Number of log points of a run of cfg; when steps is not NULL, also their training steps
     * into steps[n] (increasing, the first 0). The result file's /traj/step comes from here. */
    int64_t (*log_steps)(const void *cfg, int64_t *steps);
    /* Relative cost of training cfg to the end, in floating-point operations (estimate). */
    double (*cost)(const void *cfg);
    /* Peak resident bytes of one task of cfg (estimate, the process's libraries included): what
     * `plan` shows and max_task_memory checks. */
    double (*memory)(const void *cfg);
    /* Turns the default point cfg into a short run (~0.1 s) whose measured time, against its
     * cost, calibrates plan's wall-time estimates on the machine at hand; the golden tests run
     * it too. */
    void (*calibration)(void *cfg);

    /* ---- training ---- */
    /* Trains cfg (the model's typed config struct, as set) with the task's seed. Calls
     * sink->on_log at every log point and keeps the sink's checkpoints (isw_log_sink above; sink
     * may be NULL), writes final[n_final] (NaN where undefined) and fills *result. Returns ISW_OK for DONE, DIVERGED and STOPPED alike; another
     * status only for a failure of the program (out of memory), with the message in err. */
    isw_status (*train)(const void *cfg, uint64_t seed, const isw_log_sink *sink, double *final,
                        isw_train_result *result, isw_error *err);
    /* A 64-bit digest of the data cfg draws with seed (the training set, or the first batches of
     * a fresh-prompt run): what the golden tests pin exactly, since it does not depend on the
     * machine's BLAS. ISW_OK, or an error (out of memory) in err. */
    isw_status (*data_digest)(const void *cfg, uint64_t seed, uint64_t *digest, isw_error *err);

    /* ---- theory (what the analysis draws beside the metrics) ---- */
    const char *headline;  /* the metric analysis commands default to */
    double headline_level; /* the level that marks emergence for it (NaN: none) */
    const isw_theory_line *levels;
    int n_levels;
    const isw_theory_line *marks;
    int n_marks;
    const isw_baseline *baselines;
    int n_baselines;
};

/* ---- the registry ----
 * The models, one name each: a model `foo` defines `const isw_model isw_model_foo` (in
 * src/train/foo.c) and gets one word here. The order is the order of `iclsweep params`. */
#define ISW_MODELS(X) X(concept) X(linattn) X(iccls) X(iccls_companion)

#define ISW_MODEL_DECLARE_(name) extern const isw_model isw_model_##name;
ISW_MODELS(ISW_MODEL_DECLARE_)
#undef ISW_MODEL_DECLARE_

/* The model named `name`, or NULL. */
const isw_model *isw_model_find(const char *name);
/* Number of models and the i-th one (registry order; NULL out of range). */
int isw_model_count(void);
const isw_model *isw_model_at(int i);
/* "concept|linattn": the names, for messages. */
const char *isw_model_names(void);

/* Whether parameter `name` is among m->derived. */
int isw_model_derives(const isw_model *m, const char *name);
/* The generator text of a result file: the model's version and the random-number version,
 * e.g. "concept/3 rng/2", into buf[size]; returns buf. */
const char *isw_model_generator(const isw_model *m, char *buf, size_t size);
/* The index of m's metric `name` in m->final, or -1. */
int isw_model_final_index(const isw_model *m, const char *name);
/* The theory of m as the result file's root attribute `theory` (docs/file-format.md): one JSON
 * object, malloc'd into *json (free it). */
isw_status isw_model_theory_json(const isw_model *m, char **json, isw_error *err);

#endif
