/* linattn benchmark and driver: trains one linattn task with the real trainer (whole task: data,
 * precomputation, training, evaluation at every log point, theory and baselines) `reps` times and
 * prints the median steps/s, then the final metrics of the last run.
 *
 * Usage: linattn_bench D N P steps reps [key=value ...]
 *   e.g. linattn_bench 10 100 1000 2000 5 optimizer=1 lr=0.05
 * key is any linattn parameter (CHOICE values by index: optimizer 0 adam 1 gd 2 sgd 3 langevin).
 * Output: one line "median_steps_per_s X wall_s Y" then "name value" per final metric.
 * Built by tests/linattn_bench.cmake; not a test. Set OPENBLAS_NUM_THREADS=1. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "iclsweep/models/linattn_params.h"
#include "iclsweep/train/model.h"
#include "iclsweep/train/model.h"

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

static int cmp(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv) {
    if (argc < 6) {
        fprintf(stderr, "usage: %s D N P steps reps [key=value ...]\n", argv[0]);
        return 2;
    }
    const isw_model *m = isw_model_find("linattn");
    const isw_model *t = isw_model_find("linattn");
    double vals[128], *final = malloc(t->n_final * sizeof(double)), times[64];
    isw_params_defaults(m->params, m->n_params, vals);
    const char *keys[] = {"D", "N", "P", "steps"};
    for (int i = 0; i < 4; i++) vals[isw_param_find(m->params, m->n_params, keys[i])] = atof(argv[1 + i]);
    int reps = atoi(argv[5]);
    if (reps < 1 || reps > 64) reps = 1;
    for (int a = 6; a < argc; a++) {
        char *eq = strchr(argv[a], '=');
        if (!eq) continue;
        *eq = '\0';
        int k = isw_param_find(m->params, m->n_params, argv[a]);
        if (k < 0) {
            fprintf(stderr, "unknown parameter %s\n", argv[a]);
            return 2;
        }
        vals[k] = atof(eq + 1);
    }
    isw_linattn_cfg cfg;
    isw_params_to_cfg(m->params, m->n_params, vals, &cfg);
    isw_train_result res;
    isw_error err = {0};
    for (int r = 0; r < reps; r++) {
        double t0 = now();
        if (t->train(&cfg, 1000 + r, NULL, final, &res, &err) != ISW_OK) {
            fprintf(stderr, "train failed: %s\n", err.msg);
            return 1;
        }
        times[r] = now() - t0;
    }
    qsort(times, reps, sizeof times[0], cmp);
    double med = times[reps / 2];
    printf("median_steps_per_s %.6g wall_s %.6g status %d\n", (double)cfg.steps / med, med, res.status);
    for (int k = 0; k < t->n_final; k++) printf("%s %.6g\n", t->final[k].name, final[k]);
    free(final);
    return 0;
}
