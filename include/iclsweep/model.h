/* The models iclsweep knows, as seen by the layers that do not train them (spec, sweep, cli).
 *
 * Each entry carries the model's parameter table (include/iclsweep/<model>_params.h), its
 * cross-parameter constraints, a cost estimate, its log schedule, the parameters it derives from
 * others, and the version of its data generator and kernels. The training entry points live in
 * train/ (include/iclsweep/train.h); this registry stays free of MPI, HDF5 and training code. */
#ifndef ICLSWEEP_MODEL_H
#define ICLSWEEP_MODEL_H

#include <stddef.h>

#include "iclsweep/params.h"

typedef struct {
    const char *name;    /* "concept" */
    const char *summary; /* one line */
    const isw_param_def *params;
    int n_params;
    size_t cfg_size; /* sizeof the model's typed config struct */
    /* Cross-parameter constraints of one resolved point. Returns ISW_OK, or ISW_EINPUT with the
     * reason in why[size] and the index (into params) of the parameter to blame in *blame. */
    isw_status (*check)(const void *cfg, int *blame, char *why, size_t size);
    /* Relative cost of training cfg to the end, in floating-point operations (estimate). */
    double (*cost)(const void *cfg);
    /* Peak resident bytes of one task of cfg (estimate, the process's libraries included): what
     * `plan` shows and max_task_memory checks. */
    double (*memory)(const void *cfg);
    /* Turns the default point cfg into a short run (~0.1 s) whose measured time, against its
     * cost, calibrates plan's wall-time estimates on the machine at hand. */
    void (*calibration)(void *cfg);
    /* Number of log points of a run of cfg; when steps is not NULL, also their training steps
     * into steps[n] (increasing, the first 0). The result file's /traj/step comes from here. */
    int64_t (*log_steps)(const void *cfg, int64_t *steps);
    /* Parameters the model derives from others ("P|dk|batch"; "" for none), and the hook that
     * replaces them in cfg by the values training actually uses (linattn: P = round(alpha D^2)
     * when alpha > 0). Trainers take the config as set; the result file records both. */
    const char *derived;
    void (*resolve)(void *cfg);
    /* The version of the model's data generator and kernels: two runs of one task (same
     * parameters and seed) agree bit for bit only under the same version, so it is recorded in
     * result files and a resume under another version is refused. Bump it with any change that
     * alters a number. */
    const char *version;
} isw_model_info;

/* Whether parameter `name` is among m->derived. */
int isw_model_derives(const isw_model_info *m, const char *name);
/* The generator text of a result file: the model's version and the random-number version,
 * e.g. "concept/3 rng/2", into buf[size]; returns buf. */
const char *isw_model_generator(const isw_model_info *m, char *buf, size_t size);

/* The model named `name`, or NULL. */
const isw_model_info *isw_model_find(const char *name);
/* Number of models and the i-th one (registry order). */
int isw_model_count(void);
const isw_model_info *isw_model_at(int i);
/* "concept|linattn": the names, for messages. */
const char *isw_model_names(void);

#endif
