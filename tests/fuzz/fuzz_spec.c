/* libFuzzer harness for the sweep-file reader and validator (src/spec/, src/core/params.c).
 *
 * Any bytes go to isw_sweep_parse as a sweep file. An accepted sweep has its first and last tasks
 * resolved (values, identity, seed, cost); a refused one must carry a message that names the file
 * first and holds no byte a terminal would act on (control characters from the file are escaped).
 * A crash, a leak, undefined behaviour, a broken invariant (trap) or an input slower than
 * -timeout is a finding. max_tasks is capped at 20,000 so that each input stays fast: validation
 * visits every grid point by design, and a 10^7-point grid is legitimate, not hostile.
 * Build and run: tests/fuzz/run.sh spec 60 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "iclsweep/spec/spec.h"

#define FUZZ_MAX_TASKS 20000

/* 1 when s holds a C0 control, DEL, or a UTF-8-encoded C1 control (U+0080..U+009F). */
static int has_terminal_control(const char *s) {
    for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
        if (*c < 0x20 || *c == 0x7F) return 1;
        if (c[0] == 0xC2 && c[1] >= 0x80 && c[1] <= 0x9F) return 1;
    }
    return 0;
}

static void exercise(const isw_sweep *sw) {
    double vals[256];
    isw_task task;
    if (sw->model->n_params > 256 || sw->n_tasks < 1) __builtin_trap();
    isw_sweep_task(sw, 0, &task, vals);
    isw_sweep_task(sw, sw->n_tasks - 1, &task, vals);
    if (task.index != sw->n_tasks - 1 || task.replicate >= sw->replicates) __builtin_trap();
    (void)isw_sweep_point_cost(sw, task.point);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    isw_sweep sw;
    isw_error err;
    isw_error_clear(&err);
    isw_status st = isw_sweep_parse((const char *)data, (long)size, "fuzz.yaml", FUZZ_MAX_TASKS, &sw, &err);
    if (st == ISW_OK) {
        exercise(&sw);
        isw_sweep_free(&sw);
        return 0;
    }
    if (st != ISW_EINPUT && st != ISW_EINTERNAL) __builtin_trap();
    if (st == ISW_EINPUT && strncmp(err.msg, "fuzz.yaml", 9) != 0) __builtin_trap();
    if (has_terminal_control(err.msg)) __builtin_trap();
    return 0;
}
