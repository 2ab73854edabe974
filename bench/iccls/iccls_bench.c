/* Benchmark of the iccls model in process: its training step, and a whole task through the
 * model's own trainer (src/train/iccls.c) without the process around it.
 *
 *   iccls_bench steps SECONDS [key=value ...]   training steps/s: draw a batch (one fill of the
 *                                               training stream), tokens, forward, loss, backward
 *                                               (the trainer's engine), SGD; and the split of a
 *                                               step's time
 *   iccls_bench task [key=value ...]            wall time of a whole task: the descriptor's
 *                                               trainer (test sets, steps, evaluation and progress
 *                                               measures every log_every steps); trace=1 prints
 *                                               each log point's ic and iw accuracy
 *
 * Keys: any parameter of the model (`iclsweep params iccls`; defaults: the model's default point),
 * choices by name (precision=float32), and seed (the task seed, default 1). Output is key=value
 * lines for bench/iccls/run.py. Run with OPENBLAS_NUM_THREADS=1. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "iclsweep/models/iccls_params.h"
#include "iclsweep/train/iccls_engine.h"
#include "iclsweep/train/model.h"

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* The model's config from its defaults and key=value arguments; *seed and *trace from theirs. */
static int parse(isw_iccls_cfg *cfg, unsigned long long *seed, int *trace, int argc, char **argv) {
    double vals[ISW_ICCLS_N_PARAMS];
    isw_params_defaults(isw_iccls_params, ISW_ICCLS_N_PARAMS, vals);
    for (int i = 0; i < argc; i++) {
        char key[32], text[64];
        if (sscanf(argv[i], "%31[^=]=%63s", key, text) != 2) return fprintf(stderr, "bad %s\n", argv[i]), -1;
        if (!strcmp(key, "seed")) { *seed = strtoull(text, NULL, 0); continue; }
        if (!strcmp(key, "trace")) { *trace = atoi(text); continue; }
        int p = isw_param_find(isw_iccls_params, ISW_ICCLS_N_PARAMS, key);
        if (p < 0) return fprintf(stderr, "unknown key %s\n", key), -1;
        int choice = isw_param_choice_index(&isw_iccls_params[p], text);
        vals[p] = isw_iccls_params[p].type == ISW_P_CHOICE ? choice : atof(text);
        if (isw_iccls_params[p].type == ISW_P_CHOICE && choice < 0) return fprintf(stderr, "bad %s\n", argv[i]), -1;
    }
    isw_params_to_cfg(isw_iccls_params, ISW_ICCLS_N_PARAMS, vals, cfg);
    int blame;
    char why[256];
    if (isw_iccls_check(cfg, &blame, why, sizeof why)) return fprintf(stderr, "iccls_bench: %s\n", why), -1;
    return 0;
}

static int cmd_steps(double seconds, const isw_iccls_cfg *c, unsigned long long seed) {
    isw_iccls_data_cfg data = isw_iccls_data_of(c);
    isw_iccls_mix mix = isw_iccls_train_mix(&data);
    isw_iccls_task task;
    isw_iccls_set batch;
    isw_iccls_net net;
    isw_iccls_engine eng;
    isw_error err;
    isw_iccls_dims dims = isw_iccls_dims_of(data.N, data.Nmax, data.D, data.L);
    int B = (int)c->batch;
    if (isw_iccls_task_make(&task, &data, seed, &err) || isw_iccls_set_alloc(&batch, B, &data, &err) ||
        isw_iccls_alloc(&net, dims, &err) ||
        isw_iccls_engine_alloc(&eng, dims, B, c->precision == ISW_ICCLS_float32, &err))
        return fprintf(stderr, "iccls_bench: %s\n", err.msg), 1;
    isw_rng rng;
    isw_rng_init(&rng, seed, ISW_ICCLS_STREAM_INIT);
    isw_iccls_init_weights(&net, &rng);
    isw_rng_init(&rng, seed, ISW_ICCLS_STREAM_TRAIN);
    double split[3] = {0}, t0 = now();
    long steps = 0;
    while (now() - t0 < seconds || steps < 20) {
        double a = now();
        isw_iccls_fill(&batch, B, &mix, &task, &rng);
        double b = now();
        isw_iccls_engine_gradient(&eng, &net, &task, &batch, 0, B, 1.0 / B, NULL);
        double e = now();
        isw_iccls_sgd(&net, c->lr, c->weight_decay);
        split[0] += b - a, split[1] += e - b, split[2] += now() - e;
        steps++;
    }
    double wall = now() - t0;
    printf("steps_per_s=%.2f\nsplit_data=%.3f\nsplit_network=%.3f\nsplit_update=%.3f\n", steps / wall,
           split[0] / wall, split[1] / wall, split[2] / wall);
    isw_iccls_engine_free(&eng);
    isw_iccls_free(&net);
    isw_iccls_set_free(&batch);
    isw_iccls_task_free(&task);
    return 0;
}

static int print_point(void *ctx, int64_t index, int64_t step, const double *v) {
    const isw_model *m = ctx;
    (void)index;
    printf("{\"step\": %lld", (long long)step);
    for (int i = 0; i < m->n_traj; i++) /* JSON has no NaN: null */
        isfinite(v[i]) ? printf(", \"%s\": %.6g", m->traj[i].name, v[i]) : printf(", \"%s\": null", m->traj[i].name);
    printf("}\n");
    return 0;
}

static int cmd_task(const isw_iccls_cfg *c, unsigned long long seed, int trace) {
    const isw_model *m = isw_model_find("iccls");
    double *final = calloc((size_t)m->n_final, sizeof *final);
    isw_log_sink sink = {.ctx = (void *)m, .on_log = print_point};
    isw_train_result res;
    isw_error err;
    double t0 = now();
    if (m->train(c, seed, trace ? &sink : NULL, final, &res, &err)) return fprintf(stderr, "%s\n", err.msg), 1;
    printf("task_s=%.3f\nfinal_ic_acc=%.5f\nfinal_iw_acc=%.5f\n", now() - t0,
           final[isw_model_final_index(m, "ic_acc")], final[isw_model_final_index(m, "iw_acc")]);
    free(final);
    return 0;
}

int main(int argc, char **argv) {
    isw_iccls_cfg cfg;
    unsigned long long seed = 1;
    int trace = 0;
    if (argc >= 3 && !strcmp(argv[1], "steps")) {
        if (parse(&cfg, &seed, &trace, argc - 3, argv + 3)) return 2;
        return cmd_steps(atof(argv[2]), &cfg, seed);
    }
    if (argc >= 2 && !strcmp(argv[1], "task")) {
        if (parse(&cfg, &seed, &trace, argc - 2, argv + 2)) return 2;
        return cmd_task(&cfg, seed, trace);
    }
    fprintf(stderr, "usage: iccls_bench steps SECONDS [key=value ...] | task [key=value ...]\n");
    return 2;
}
