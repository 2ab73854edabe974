/* `iclsweep verify OUT.h5... [--json]`: checks every finished row of each result file against
 * its checksum (docs/file-format.md, "Checksums") and names each row that fails; exit 0 when every
 * file was read and every finished row holds, 2 otherwise (a bad row, or a file that is not a
 * readable result). Each file is read in a child process, as status reads it: a file crafted to
 * crash HDF5 is a refusal, not a crash. A file of an older format has no checksums to check. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "iclsweep/core/isolate.h"
#include "iclsweep/core/text.h"
#include "iclsweep/store/store.h"

typedef struct {
    const char *path;
    int json;
} verify_job;

/* Prints the verdict on one readable file; returns ISW_OK when every finished row holds. */
static isw_status report(const verify_job *job, const isw_store_table *tab, const uint8_t *bad, int checked) {
    int64_t T = tab->info.T, finished = 0, n_bad = 0;
    for (int64_t t = 0; t < T; t++) {
        finished += tab->status[t] == ISW_TASK_DONE || tab->status[t] == ISW_TASK_DIVERGED;
        n_bad += bad[t] != ISW_ROW_OK;
    }
    if (job->json) {
        printf("{\"file\": ");
        cli_json_string(job->path);
        printf(", \"format\": ");
        cli_json_string(tab->info.format);
        printf(", \"checksums\": %s, \"rows\": %lld, \"finished\": %lld, \"checked\": %lld, \"bad\": [",
               checked ? "true" : "false", (long long)T, (long long)finished, (long long)(checked ? finished : 0));
        int64_t k = 0;
        for (int64_t t = 0; t < T; t++) {
            if (!bad[t]) continue;
            printf("%s{\"row\": %lld, \"task\": %lld, \"key\": \"%016llx\", \"why\": ", k++ ? ", " : "", (long long)t,
                   (long long)tab->task[t], (unsigned long long)tab->key[t]);
            cli_json_string(isw_row_fault_text(bad[t]));
            putchar('}');
        }
        printf("], \"ok\": %s, \"exit_code\": %d}\n", n_bad ? "false" : "true", n_bad ? ISW_EINPUT : ISW_OK);
        return n_bad ? ISW_EINPUT : ISW_OK;
    }
    for (int64_t t = 0; t < T; t++) {
        if (!bad[t]) continue;
        cli_print_safe(job->path);
        printf(": row %lld (task %lld, key %016llx, %s): %s\n", (long long)t, (long long)tab->task[t],
               (unsigned long long)tab->key[t], isw_task_state_name(tab->status[t]), isw_row_fault_text(bad[t]));
    }
    cli_print_safe(job->path);
    if (!checked)
        printf(": format %s has no checksums; no checksums to check (%lld finished rows)\n", tab->info.format,
               (long long)finished);
    else if (n_bad)
        printf(": %lld of %lld finished rows fail their checksums; iclsweep run SWEEP -o FILE --resume runs them "
               "again\n", (long long)n_bad, (long long)finished);
    else
        printf(": all %lld finished rows match their checksums\n", (long long)finished);
    return n_bad ? ISW_EINPUT : ISW_OK;
}

/* Reads one file and reports on it (in a child process). */
static isw_status verify_one(void *ctx, isw_error *err) {
    const verify_job *job = ctx;
    isw_store_table tab;
    isw_status st = isw_store_read_table(job->path, &tab, err);
    if (st) return st;
    uint8_t *bad = malloc((size_t)tab.info.T + 1);
    int checked = 0;
    st = bad ? isw_store_verify(job->path, &tab, bad, &checked, err) : isw_fail(err, ISW_EINTERNAL, "out of memory");
    if (!st) st = report(job, &tab, bad, checked);
    free(bad);
    isw_store_table_free(&tab);
    return st;
}

/* A file that could not be read at all: one line (text) or one object (JSON) with the reason. */
static void report_unreadable(const verify_job *job, const isw_error *e) {
    if (!job->json) {
        cli_print_error(e);
        return;
    }
    printf("{\"file\": ");
    cli_json_string(job->path);
    printf(", \"error\": ");
    cli_json_string(e->msg);
    printf(", \"ok\": false, \"exit_code\": %d}\n", e->code);
    fflush(stdout);
}

isw_status cmd_verify(int argc, char **argv, isw_error *err) {
    int json = 0, n = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--json")) json = 1;
        else if (argv[i][0] == '-' && argv[i][1])
            return isw_fail(err, ISW_EINPUT, "verify: unknown option '%s'; expected --json", argv[i]);
        else n++;
    }
    if (!n) return isw_fail(err, ISW_EINPUT, "verify: expected a result file: iclsweep verify OUT.h5... [--json]");
    /* A sweep may hold the file open; do not let HDF5's advisory locks refuse the read. */
    setenv("HDF5_USE_FILE_LOCKING", "FALSE", 0);
    isw_status worst = ISW_OK;
    for (int i = 1; i < argc; i++) {
        if (argv[i][0] == '-' && argv[i][1]) continue;
        verify_job job = {argv[i], json};
        isw_error e;
        isw_error_clear(&e);
        int sig = 0;
        isw_status st = isw_run_isolated(verify_one, &job, ISW_STATUS_SECONDS, &sig, &e);
        if (sig) st = isw_store_crashed(argv[i], sig, &e);
        if (st && e.msg[0]) report_unreadable(&job, &e);
        if (st) worst = ISW_EINPUT;
    }
    isw_error_clear(err);
    return worst;
}
