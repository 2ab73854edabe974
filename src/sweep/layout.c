/* The result file's layout for a sweep (layout.h): the sweep's side of the store's interface.
 *
 * The store never sees the sweep file: it gets the counts, the tables, the root attributes and a
 * callback, resolve_row, that turns a row index into the task's parameters (as set, and as the
 * model uses them), identity, seed, cost and log steps. Tasks are resolved on demand, one at a
 * time, so a sweep of a million tasks is never materialised. */
#include "layout.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "iclsweep/core/hash.h"
#include "iclsweep/core/strbuf.h"

/* Resolves row t of the sweep for the store (isw_store_layout.resolve_row). */
static void resolve_row(void *ctx, int64_t t, isw_store_row *row) {
    isw_layout *L = ctx;
    const isw_sweep *sw = L->sw;
    const isw_model *m = sw->model;
    isw_task task;
    int64_t g = L->tasks ? L->tasks[t] : t;
    isw_sweep_task(sw, g, &task, L->vals);
    row->task = g;
    row->replicate = (int32_t)task.replicate;
    row->key = task.key;
    row->seed = task.seed;
    row->point = task.point;
    if (row->set) memcpy(row->set, L->vals, (size_t)m->n_params * sizeof *row->set);
    isw_params_to_cfg(m->params, m->n_params, L->vals, L->cfg);
    row->cost = m->cost(L->cfg);
    if (row->steps) {
        int64_t n = m->log_steps(L->cfg, row->steps);
        for (int64_t j = n; j < L->lay.S; j++) row->steps[j] = -1;
    }
    if (row->used || row->theory) {
        if (m->resolve) m->resolve(L->cfg);
        if (row->used) isw_params_from_cfg(m->params, m->n_params, L->cfg, row->used);
    }
    for (int i = 0; row->theory && i < m->n_levels + m->n_marks; i++) {
        const isw_theory_line *line = i < m->n_levels ? &m->levels[i] : &m->marks[i - m->n_levels];
        row->theory[i] = line->value(L->cfg);
    }
}

/* S: the most log points of any valid grid point. */
static int64_t most_log_points(isw_layout *L) {
    const isw_sweep *sw = L->sw;
    int64_t S = 1;
    for (int64_t k = 0; k < sw->n_valid; k++) {
        isw_sweep_point_values(sw, sw->valid ? sw->valid[k] : k, L->vals);
        isw_params_to_cfg(sw->model->params, sw->model->n_params, L->vals, L->cfg);
        int64_t n = sw->model->log_steps(L->cfg, NULL);
        if (n > S) S = n;
    }
    return S;
}

/* The grid attribute: {"dims": [{"name", "params", "size", "zip"}...], "n_points", "replicates"}. */
static char *grid_json(const isw_sweep *sw) {
    isw_sbuf b = {0};
    isw_sbuf_printf(&b, "{\"dims\": [");
    int zips = 0;
    for (int d = 0; d < sw->n_dims; d++) {
        const isw_dim *dim = &sw->dims[d];
        const isw_param_def *first = &sw->model->params[sw->axes[dim->first_axis].param];
        char zip[32];
        snprintf(zip, sizeof zip, "zip%d", zips);
        isw_sbuf_printf(&b, "%s{\"name\": ", d ? ", " : "");
        isw_sbuf_json_string(&b, dim->is_zip ? zip : first->name);
        zips += dim->is_zip;
        isw_sbuf_printf(&b, ", \"params\": [");
        for (int a = dim->first_axis; a < dim->first_axis + dim->n_axes; a++) {
            if (a > dim->first_axis) isw_sbuf_printf(&b, ", ");
            isw_sbuf_json_string(&b, sw->model->params[sw->axes[a].param].name);
        }
        isw_sbuf_printf(&b, "], \"size\": %lld, \"zip\": %s}", (long long)dim->n, dim->is_zip ? "true" : "false");
    }
    isw_sbuf_printf(&b, "], \"n_points\": %lld, \"replicates\": %lld}", (long long)sw->n_points,
                    (long long)sw->replicates);
    char *json = NULL;
    isw_error ignored;
    return isw_sbuf_finish(&b, &json, &ignored) ? NULL : json;
}

/* The /theory columns: the model's levels, then its marks. */
static isw_metric_def *theory_defs(const isw_model *m) {
    int n = m->n_levels + m->n_marks;
    isw_metric_def *defs = calloc((size_t)n + 1, sizeof *defs);
    for (int i = 0; defs && i < n; i++) {
        const isw_theory_line *line = i < m->n_levels ? &m->levels[i] : &m->marks[i - m->n_levels];
        defs[i] = (isw_metric_def){line->column, line->units, line->doc};
    }
    return defs;
}

/* Root attributes a resume must find equal: same model, seed, generator and shard (the task count,
 * the log points and every identity are compared too). Sources of copied rows must match the
 * first three (isw_store_import). */
static const char *const must_match[] = {"model", "seed", "generator", "shard", NULL};

/* Cost of task t, for ordering by cost. */
typedef struct {
    double cost;
    int64_t task;
} costed;

static int by_cost_desc(const void *a, const void *b) {
    const costed *x = a, *y = b;
    if (x->cost != y->cost) return x->cost < y->cost ? 1 : -1;
    return (x->task > y->task) - (x->task < y->task);
}

/* The rows of shard k of n: longest-processing-time assignment of the tasks (longest first, each
 * to the least loaded shard, ties to the lowest), the same on every rank and in every run, so the
 * shards are disjoint, cover the sweep and carry about equal estimated cost. */
static isw_status shard_tasks(isw_layout *L, int k, int n, isw_error *err) {
    const isw_sweep *sw = L->sw;
    costed *all = isw_malloc((size_t)sw->n_tasks * sizeof *all, err);
    double *load = isw_calloc((size_t)n, sizeof *load, err);
    int64_t *mine = isw_malloc((size_t)sw->n_tasks * sizeof *mine, err);
    isw_status rc = all && load && mine ? ISW_OK : ISW_EINTERNAL;
    int64_t count = 0;
    for (int64_t t = 0; !rc && t < sw->n_tasks; t++) {
        all[t].task = t;
        all[t].cost = isw_sweep_point_cost(sw, sw->valid ? sw->valid[t / sw->replicates] : t / sw->replicates);
    }
    if (!rc) qsort(all, (size_t)sw->n_tasks, sizeof *all, by_cost_desc);
    for (int64_t i = 0; !rc && i < sw->n_tasks; i++) {
        int best = 0;
        for (int j = 1; j < n; j++)
            if (load[j] < load[best]) best = j;
        load[best] += all[i].cost;
        if (best == k - 1) mine[count++] = all[i].task;
    }
    /* Rows in sweep order, so a shard reads like a thinned copy of the whole file. */
    for (int64_t i = 1; !rc && i < count; i++) {
        int64_t v = mine[i], j = i;
        while (j > 0 && mine[j - 1] > v) mine[j] = mine[j - 1], j--;
        mine[j] = v;
    }
    free(all);
    free(load);
    if (rc || count == 0) {
        free(mine);
        return rc ? rc : isw_fail(err, ISW_EINPUT, "shard %d/%d of %lld tasks is empty; use fewer shards", k, n,
                                  (long long)sw->n_tasks);
    }
    L->tasks = mine;
    L->lay.T = count;
    return ISW_OK;
}

isw_status isw_layout_make(isw_layout *L, const isw_sweep *sw, int shard_k, int shard_n, isw_error *err) {
    memset(L, 0, sizeof *L);
    const isw_model *m = sw->model;
    L->sw = sw;
    L->vals = isw_malloc(((size_t)m->n_params + 1) * sizeof *L->vals, err);
    L->cfg = isw_calloc(1, m->cfg_size, err);
    L->derived = isw_calloc((size_t)m->n_params + 1, 1, err);
    L->grid = grid_json(sw);
    L->origins = strdup("[]");
    L->theory_defs = theory_defs(m);
    isw_error ignored;
    if (isw_model_theory_json(m, &L->theory, &ignored)) L->theory = NULL;
    if (!L->vals || !L->cfg || !L->derived || !L->grid || !L->origins || !L->theory_defs || !L->theory) {
        isw_layout_free(L);
        return isw_fail(err, ISW_EINTERNAL, "out of memory describing the result file");
    }
    for (int i = 0; i < m->n_params; i++) L->derived[i] = (unsigned char)isw_model_derives(m, m->params[i].name);
    snprintf(L->spec_hash, sizeof L->spec_hash, "%016llx", (unsigned long long)isw_hash_str(sw->text));
    snprintf(L->seed, sizeof L->seed, "%llu", (unsigned long long)sw->seed);
    isw_model_generator(m, L->generator, sizeof L->generator);
    if (shard_n > 0) snprintf(L->shard, sizeof L->shard, "%d/%d", shard_k, shard_n);
    isw_store_attr attrs[] = {{"name", sw->name, 0},           {"model", m->name, 0},
                              {"sweep", sw->text, 0},          {"spec_hash", L->spec_hash, 0},
                              {"seed", L->seed, 0},            {"generator", L->generator, 0},
                              {"grid", L->grid, 0},            {"replicates", NULL, sw->replicates},
                              {"shard", L->shard, 0},          {"sweep_tasks", NULL, sw->n_tasks},
                              {"origins", L->origins, 0},      {"theory", L->theory, 0}};
    _Static_assert(sizeof attrs / sizeof attrs[0] <= ISW_LAYOUT_MAX_ATTRS, "room for the root attributes");
    memcpy(L->attrs, attrs, sizeof attrs);
    isw_store_layout *lay = &L->lay;
    lay->T = sw->n_tasks;
    lay->S = most_log_points(L);
    lay->params = m->params;
    lay->n_params = m->n_params;
    lay->derived = L->derived;
    lay->traj = m->traj;
    lay->n_traj = m->n_traj;
    lay->final = m->final;
    lay->n_final = m->n_final;
    lay->theory = L->theory_defs;
    lay->n_theory = m->n_levels + m->n_marks;
    lay->attrs = L->attrs;
    lay->n_attrs = (int)(sizeof attrs / sizeof attrs[0]);
    lay->match = must_match;
    lay->resolve_row = resolve_row;
    lay->ctx = L;
    if (shard_n > 0) {
        isw_status rc = shard_tasks(L, shard_k, shard_n, err);
        if (rc) {
            isw_layout_free(L);
            return rc;
        }
    }
    return ISW_OK;
}

isw_status isw_layout_set_origins(isw_layout *L, const char *json, isw_error *err) {
    char *copy = strdup(json);
    if (!copy) return isw_fail(err, ISW_EINTERNAL, "out of memory");
    free(L->origins);
    L->origins = copy;
    for (int i = 0; i < L->lay.n_attrs; i++)
        if (!strcmp(L->attrs[i].name, "origins")) L->attrs[i].text = copy;
    return ISW_OK;
}

void isw_layout_free(isw_layout *L) {
    free(L->vals);
    free(L->cfg);
    free(L->derived);
    free(L->grid);
    free(L->origins);
    free(L->theory);
    free(L->theory_defs);
    free(L->tasks);
    memset(L, 0, sizeof *L);
}
