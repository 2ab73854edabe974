/* Sweep files, part 4: tasks and their identities (include/iclsweep/spec/spec.h).
 *
 * The grid is never materialised: task t is grid point t / replicates (mixed radix over the
 * dimensions, the last fastest) and replicate t % replicates, resolved on demand. A task's identity
 * is the hash of its canonical text (the model, every parameter as set, sorted by name, and the
 * replicate), and its seed a hash of the sweep seed and the identity, so a task's numbers depend
 * only on what it is. */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "iclsweep/core/hash.h"
#include "iclsweep/spec/spec.h"

void isw_sweep_point_values(const isw_sweep *sw, int64_t point, double *vals) {
    memcpy(vals, sw->base, (size_t)sw->model->n_params * sizeof *vals);
    /* Mixed radix, last dimension fastest. */
    for (int d = sw->n_dims - 1; d >= 0; d--) {
        const isw_dim *dim = &sw->dims[d];
        int64_t c = point % dim->n;
        point /= dim->n;
        for (int a = dim->first_axis; a < dim->first_axis + dim->n_axes; a++)
            vals[sw->axes[a].param] = sw->axes[a].values[c];
    }
}

int isw_task_canon_text(const isw_model *model, const int *order, const double *vals,
                        int64_t replicate, char *buf, int size) {
    int used = snprintf(buf, (size_t)size, "model=%s\n", model->name);
    for (int k = 0; k < model->n_params && used < size; k++) {
        const isw_param_def *p = &model->params[order[k]];
        char v[64];
        used += snprintf(buf + used, (size_t)(size - used), "%s=%s\n", p->name,
                         isw_param_canon(p, vals[order[k]], v, sizeof v));
    }
    if (used < size) used += snprintf(buf + used, (size_t)(size - used), "replicate=%lld\n", (long long)replicate);
    return used;
}

uint64_t isw_task_identity(const isw_model *model, const int *order, const double *vals,
                           int64_t replicate) {
    char buf[8192];
    int len = isw_task_canon_text(model, order, vals, replicate, buf, sizeof buf);
    if (len >= (int)sizeof buf) len = (int)sizeof buf - 1;
    return isw_hash_bytes(buf, (size_t)len);
}

void isw_sweep_task(const isw_sweep *sw, int64_t t, isw_task *task, double *vals) {
    int64_t k = t / sw->replicates;
    task->index = t;
    task->replicate = t % sw->replicates;
    task->point = sw->valid ? sw->valid[k] : k;
    isw_sweep_point_values(sw, task->point, vals);
    task->key = isw_task_identity(sw->model, sw->canon_order, vals, task->replicate);
    task->seed = isw_task_seed(sw->seed, task->key);
}

double isw_sweep_point_cost(const isw_sweep *sw, int64_t point) {
    /* Models have ~30 parameters; the union keeps the config struct suitably aligned. */
    double vals[256];
    union {
        max_align_t align;
        unsigned char bytes[4096];
    } cfg;
    if (sw->model->n_params > 256 || sw->model->cfg_size > sizeof cfg.bytes) return 1.0;
    isw_sweep_point_values(sw, point, vals);
    isw_params_to_cfg(sw->model->params, sw->model->n_params, vals, cfg.bytes);
    return sw->model->cost(cfg.bytes);
}

