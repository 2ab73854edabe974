/* Log-point schedule shared by every trainer and by the result file (include/iclsweep/core/schedule.h). */
#include "iclsweep/core/schedule.h"

int64_t isw_log_points(int64_t steps, int64_t log_every) {
    if (log_every < 1) log_every = 1;
    return steps / log_every + 1 + (steps % log_every != 0);
}

int64_t isw_log_step(int64_t i, int64_t steps, int64_t log_every) {
    if (log_every < 1) log_every = 1;
    int64_t s = i * log_every;
    return s > steps ? steps : s;
}

int64_t isw_log_schedule(int64_t steps, int64_t log_every, int64_t *out) {
    int64_t n = isw_log_points(steps, log_every);
    for (int64_t i = 0; out && i < n; i++) out[i] = isw_log_step(i, steps, log_every);
    return n;
}
