/* `iclsweep plan SWEEP.yaml --from OLD.h5...`: how much of a sweep earlier result files already
 * hold (the tasks `run --from` would copy instead of training: finished, and their checksum
 * holding), and the task time that saves. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "iclsweep/core/keymap.h"
#include "iclsweep/store/store.h"
#include "iclsweep/core/text.h"

/* Refuses a source whose results would not be this sweep's: another model, seed or generator. */
static isw_status same_origin(const isw_sweep *sw, const isw_store_info *info, const char *path, isw_error *err) {
    char seed[32], gen[128];
    snprintf(seed, sizeof seed, "%llu", (unsigned long long)sw->seed);
    isw_model_generator(sw->model, gen, sizeof gen);
    const char *what = strcmp(info->model, sw->model->name) ? "model" : strcmp(info->seed, seed) ? "sweep seed"
                     : strcmp(info->generator, gen) ? "data generator" : NULL;
    if (!what) return ISW_OK;
    return isw_fail(err, ISW_EINPUT, "%s was made with another %s (%s %s, %s %s, generator %s); its results are "
                    "not this sweep's", path, what, info->model, info->seed, sw->model->name, seed, info->generator);
}

/* A finished row failing its checksum would not be copied: it counts as not finished here. */
static isw_status drop_damaged(const char *path, isw_store_table *tab, int64_t *damaged, isw_error *err) {
    uint8_t *bad = isw_malloc((size_t)tab->info.T + 1, err);
    int checked = 0;
    isw_status st = bad ? isw_store_verify(path, tab, bad, &checked, err) : ISW_EINTERNAL;
    for (int64_t t = 0; !st && t < tab->info.T; t++)
        if (bad[t]) {
            tab->status[t] = ISW_TASK_PENDING;
            ++*damaged;
        }
    free(bad);
    return st;
}

isw_status plan_print_reuse(const isw_sweep *sw, const char *const *from, int n, isw_error *err) {
    isw_keymap map;
    double *wall = NULL;
    int64_t cap = 0, filled = 0, damaged = 0;
    isw_status st = ISW_OK;
    isw_store_table *tabs = isw_calloc((size_t)n, sizeof *tabs, err);
    if (!tabs) return ISW_EINTERNAL;
    for (int i = 0; !st && i < n; i++) {
        if (!(st = isw_store_probe(from[i], err)) && !(st = isw_store_read_table(from[i], &tabs[i], err)))
            st = same_origin(sw, &tabs[i].info, from[i], err);
        if (!st) st = drop_damaged(from[i], &tabs[i], &damaged, err);
        cap += tabs[i].info.T;
    }
    if (!st && !(st = isw_keymap_init(&map, cap, err)) && !(wall = isw_malloc(((size_t)cap + 1) * sizeof *wall, err)))
        st = ISW_EINTERNAL;
    for (int i = 0; !st && i < n; i++)
        for (int64_t t = 0; t < tabs[i].info.T; t++) {
            int s = tabs[i].status[t];
            if ((s == ISW_TASK_DONE || s == ISW_TASK_DIVERGED) && isw_keymap_put(&map, tabs[i].key[t], filled))
                wall[filled++] = isfinite(tabs[i].wall_s[t]) ? tabs[i].wall_s[t] : 0.0;
        }
    double *vals = st ? NULL : isw_malloc((size_t)sw->model->n_params * sizeof *vals, err);
    if (!st && !vals) st = ISW_EINTERNAL;
    int64_t reused = 0;
    double saved = 0;
    for (int64_t t = 0; !st && t < sw->n_tasks; t++) {
        isw_task task;
        isw_sweep_task(sw, t, &task, vals);
        int64_t k = isw_keymap_get(&map, task.key);
        if (k >= 0) {
            reused++;
            saved += wall[k];
        }
    }
    if (!st)
        printf("from earlier results: %lld of %lld tasks are finished there and would be copied, not rerun "
               "(%.1f s of task time saved); %lld to run\n",
               (long long)reused, (long long)sw->n_tasks, saved, (long long)(sw->n_tasks - reused));
    if (!st && damaged)
        printf("  (%lld finished row%s there %s: %s here; iclsweep verify names %s)\n", (long long)damaged,
               damaged > 1 ? "s" : "", damaged > 1 ? "fail their checksums" : "fails its checksum",
               damaged > 1 ? "they would run" : "it would run", damaged > 1 ? "them" : "it");
    free(vals);
    free(wall);
    if (cap || filled) isw_keymap_free(&map);
    for (int i = 0; i < n; i++) isw_store_table_free(&tabs[i]);
    free(tabs);
    return st;
}
