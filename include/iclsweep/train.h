/* Training one task: the interface between a model's trainer (train/) and whoever drives it
 * (`iclsweep train` on a terminal, or a sweep worker writing HDF5 rows).
 *
 * A trainer knows nothing of MPI or HDF5: it reports each log point to a sink callback, which may
 * ask it to stop (a signal arrived), and returns the final metrics plus a status. A NaN or Inf
 * loss is not an error of the program: the trainer returns ISW_TRAIN_DIVERGED with its step.
 * Log points follow the model's log_steps hook (include/iclsweep/model.h). */
#ifndef ICLSWEEP_TRAIN_H
#define ICLSWEEP_TRAIN_H

#include <stdint.h>

#include "iclsweep/error.h"
#include "iclsweep/metric.h"
#include "iclsweep/model.h"
#include "iclsweep/schedule.h"

typedef enum {
    ISW_TRAIN_DONE = 0,     /* trained to the last step */
    ISW_TRAIN_DIVERGED = 1, /* loss became NaN or Inf at result.step */
    ISW_TRAIN_STOPPED = 2   /* the sink asked to stop (signal); nothing final is valid */
} isw_train_status;

/* Receives each log point. values[n_traj] are in the order of the trainer's traj table. Returns
 * nonzero to ask the trainer to stop now. */
typedef struct {
    void *ctx;
    int (*on_log)(void *ctx, int64_t index, int64_t step, const double *values);
} isw_log_sink;

typedef struct {
    isw_train_status status;
    int64_t step;     /* last step reached (the diverging step when DIVERGED) */
    char reason[128]; /* short reason when DIVERGED ("train_loss is NaN at step 41") */
} isw_train_result;

typedef struct {
    const isw_model_info *model;
    const isw_metric_def *traj; /* metrics at every log point */
    int n_traj;
    const isw_metric_def *final; /* metrics at the end of training */
    int n_final;
    /* Trains cfg (the model's typed config struct) with the task's seed. Calls sink->on_log at
     * every log point (sink may be NULL), writes final[n_final] (NaN where undefined) and fills
     * *result. Returns ISW_OK for DONE, DIVERGED and STOPPED alike; another status only for a
     * failure of the program (out of memory), with the message in err. */
    isw_status (*train)(const void *cfg, uint64_t seed, const isw_log_sink *sink, double *final,
                        isw_train_result *result, isw_error *err);
} isw_trainer;

/* The trainer of model `name`, or NULL if that model has none yet. */
const isw_trainer *isw_trainer_find(const char *name);

#endif
