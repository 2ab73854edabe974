/* Finishing before the job's time limit (deadline.h). */
#include "deadline.h"

#include <time.h>

double isw_epoch_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void isw_deadline_init(isw_deadline *d, double end, double margin) {
    d->stop = end > 0 ? end - margin : 0;
    d->cost_done = d->wall_done = 0;
    d->hit = 0;
}

void isw_deadline_learn(isw_deadline *d, double cost, double wall) {
    if (cost > 0 && wall >= 0) {
        d->cost_done += cost;
        d->wall_done += wall;
    }
}

int isw_deadline_passed(isw_deadline *d) {
    if (d->stop > 0 && isw_epoch_now() >= d->stop) d->hit = 1;
    return d->stop > 0 && isw_epoch_now() >= d->stop;
}

int isw_deadline_fits(isw_deadline *d, double cost_left, double cost_to_log) {
    if (d->stop <= 0) return 1;
    if (isw_deadline_passed(d)) return 0;
    if (d->cost_done <= 0) return 1; /* nothing learned yet */
    double rate = ISW_DEADLINE_SAFETY * d->wall_done / d->cost_done, now = isw_epoch_now();
    int fits = now + rate * cost_left <= d->stop || (cost_to_log > 0 && now + rate * cost_to_log <= d->stop);
    if (!fits) d->hit = 1;
    return fits;
}
