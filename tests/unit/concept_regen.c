/* One concept task with its evaluation sets kept in memory, or (this file built with
 * -DISW_CONCEPT_EVAL_KEEP_BYTES=0, as concept_regen_nokeep) drawn again from their streams at
 * every log point: prints every metric of every log point and the final ones as hex doubles, so
 * the test test_concept_regen (tests/CMakeLists.txt) can require the two outputs to be equal byte
 * for byte. Exits 1 when the sets are not kept or regenerated as the build asks.
 * Run by hand: build/tests/concept_regen_keep; build/tests/concept_regen_nokeep */
#include <stdint.h>
#include <stdio.h>

#include "iclsweep/models/concept_params.h"
#include "iclsweep/train/model.h"
#include "iclsweep/train/model.h"

static int print_log(void *ctx, int64_t index, int64_t step, const double *v) {
    const isw_model *tr = ctx;
    printf("%lld %lld", (long long)index, (long long)step);
    for (int i = 0; i < tr->n_traj; i++) printf(" %a", v[i]);
    printf("\n");
    return 0;
}

int main(void) {
    const isw_model *tr = isw_model_find("concept");
    const isw_model *m = tr;
    double vals[128];
    isw_concept_cfg c;
    isw_params_defaults(m->params, m->n_params, vals);
    isw_params_to_cfg(m->params, m->n_params, vals, &c);
    /* small but with every set and more than one chunk (ISW_CONCEPT_EVAL_CHUNK) per set */
    c.d = 24, c.K = 3, c.K_irr = 4, c.L = 6, c.L_long = 12, c.n_train = 300, c.n_test = 600;
    c.steps = 60, c.log_every = 20, c.batch = 16;
    int want = ISW_CONCEPT_EVAL_KEEP_BYTES > 0;
    for (int i = 0; i < ISW_CEVAL_N; i++)
        if (isw_concept_eval_kept(&c, i) != want) {
            fprintf(stderr, "evaluation set %d is %s, the build asks otherwise\n", i, want ? "not kept" : "kept");
            return 1;
        }
    isw_log_sink sink = {.ctx = (void *)tr, .on_log = print_log};
    double final[128];
    isw_train_result res;
    isw_error err;
    isw_error_clear(&err);
    if (tr->train(&c, 12345, &sink, final, &res, &err) != ISW_OK) {
        fprintf(stderr, "train: %s\n", err.msg);
        return 1;
    }
    printf("final %d %lld", (int)res.status, (long long)res.step);
    for (int i = 0; i < tr->n_final; i++) printf(" %a", final[i]);
    printf("\n");
    return 0;
}
