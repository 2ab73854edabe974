/* The log-point schedule shared by every model, trainer and the result file.
 *
 * Log points: step 0 (before any update), every log_every steps, and the last step if steps is
 * not a multiple of log_every. A model states its schedule through its log_steps hook
 * (include/iclsweep/train/model.h), which is where these helpers are used. */
#ifndef ICLSWEEP_SCHEDULE_H
#define ICLSWEEP_SCHEDULE_H

#include <stdint.h>

/* Number of log points of a run of `steps` steps logged every `log_every` steps. */
int64_t isw_log_points(int64_t steps, int64_t log_every);
/* The training step of log point i (0 <= i < isw_log_points). */
int64_t isw_log_step(int64_t i, int64_t steps, int64_t log_every);
/* The whole schedule, as a model's log_steps hook gives it: the number of log points, and, when
 * out is not NULL, their steps into out[isw_log_points(steps, log_every)]. */
int64_t isw_log_schedule(int64_t steps, int64_t log_every, int64_t *out);

#endif
