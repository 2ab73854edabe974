/* libFuzzer harness: result files as a status, merge or resume reads them. Each input is written
 * to a file and read as `iclsweep status` does (header, columns), as `run --resume` checks it
 * against a sweep's layout (every dataset's type, shape and storage), and as `merge` and
 * `--from` read a source (its info), each finished row checked against its checksum as status and
 * verify do, and as a resume looks at a file that may be unfinished (peek). A crash, leak,
 * undefined behaviour or an input slower than
 * 1 s is a finding; refusals are the expected outcome. Seeds: a valid file of a tiny sweep and
 * the crafted corpus of tests/sweep/hostile.py (tests/fuzz/run.sh result makes them).
 * Run: tests/fuzz/run.sh result SECONDS */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../src/sweep/layout.h"
#include "iclsweep/store/store.h"

/* The sweep whose layout resumes are checked against: the tiny sweep the seeds were made from. */
static const char sweep_text[] =
    "model: concept\nseed: 7\nreplicates: 2\n"
    "fixed: {d: 16, K: 2, K_irr: 4, L: 8, width: 8, n_train: 256, n_test: 128, L_long: 16,\n"
    "        batch: 32, steps: 60, log_every: 10}\n"
    "grid:\n  noise: [0.01, 0.1]\n  lr: [1, 5]\n";

static isw_sweep sw;
static isw_layout layout;
static char path[64];

static void set_up(void) {
    isw_error err;
    if (isw_sweep_parse(sweep_text, (long)strlen(sweep_text), "tiny.yaml", 0, &sw, &err) != ISW_OK ||
        isw_layout_make(&layout, &sw, 0, 0, &err) != ISW_OK) {
        fprintf(stderr, "fuzz_result: cannot set up the layout: %s\n", err.msg);
        abort();
    }
    snprintf(path, sizeof path, "/tmp/fuzz_result_%d.h5", (int)getpid());
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (!path[0]) set_up();
    FILE *f = fopen(path, "wb");
    if (!f) return 0;
    fwrite(data, 1, size, f);
    fclose(f);
    isw_error err;
    /* What production does: the probe first (here in-process, so a crash inside HDF5 shows up as
     * a finding to triage: in iclsweep the probe runs in a child and the crash is a refusal),
     * then the readers, only on files the probe survived. */
    if (isw_store_probe_here(path, &err) != ISW_OK) return 0;
    isw_store_table tab;
    if (isw_store_read_table(path, &tab, &err) == ISW_OK) {
        /* what status and verify read next: every finished row against its checksum */
        uint8_t *bad = malloc((size_t)tab.info.T + 1);
        int checked = 0;
        if (bad) (void)isw_store_verify(path, &tab, bad, &checked, &err);
        free(bad);
        isw_store_table_free(&tab);
    }
    isw_store_peek_info peek;
    (void)isw_store_peek_here(path, &peek, &err);
    isw_store_info info;
    if (isw_store_read_info(path, &info, &err) == ISW_OK) isw_store_info_free(&info);
    (void)isw_store_check_layout(path, &layout.lay, &err);
    return 0;
}
