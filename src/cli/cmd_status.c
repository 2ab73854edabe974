/* `iclsweep status OUT.h5`: counts by state, failures grouped by reason, wall time used and an
 * estimate of what is left. Reads the file serially while a sweep may still be writing it: the
 * layout never changes after creation, so the columns it reads are always where it expects. */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "iclsweep/store.h"

#define MAX_REASONS 16

/* A reason with its digits folded to '#', so "NaN at step 41" and "at step 7" group together. */
static void reason_key(const char *msg, char *key, size_t size) {
    size_t j = 0;
    for (size_t i = 0; msg[i] && j + 1 < size; i++) {
        if (isdigit((unsigned char)msg[i])) {
            if (j == 0 || key[j - 1] != '#') key[j++] = '#';
        } else {
            key[j++] = msg[i];
        }
    }
    key[j] = '\0';
}

static void print_reasons(const isw_store_table *tab) {
    char keys[MAX_REASONS][ISW_STORE_ERROR_LEN];
    int64_t counts[MAX_REASONS], other = 0;
    int n = 0;
    for (int64_t t = 0; t < tab->T; t++) {
        if (tab->status[t] != ISW_TASK_FAILED && tab->status[t] != ISW_TASK_DIVERGED) continue;
        char key[ISW_STORE_ERROR_LEN];
        const char *msg = tab->error + (size_t)t * ISW_STORE_ERROR_LEN;
        char tagged[ISW_STORE_ERROR_LEN];
        snprintf(tagged, sizeof tagged, "%s: %s", isw_task_state_name(tab->status[t]), msg[0] ? msg : "(no reason)");
        reason_key(tagged, key, sizeof key);
        int k = 0;
        while (k < n && strcmp(keys[k], key)) k++;
        if (k == n && n < MAX_REASONS) {
            snprintf(keys[n], sizeof keys[n], "%s", key);
            counts[n++] = 0;
        }
        if (k < n) counts[k]++;
        else other++;
    }
    if (n == 0) return;
    printf("failures by reason (# stands for numbers):\n");
    for (int k = 0; k < n; k++) printf("  %8lld  %s\n", (long long)counts[k], keys[k]);
    if (other) printf("  %8lld  (other reasons)\n", (long long)other);
}

static void format_seconds(double s, char *buf, size_t size) {
    if (!(s >= 0)) snprintf(buf, size, "?");
    else if (s < 120) snprintf(buf, size, "%.1f s", s);
    else if (s < 7200) snprintf(buf, size, "%.1f min", s / 60);
    else snprintf(buf, size, "%.1f h", s / 3600);
}

static void print_time(const isw_store_table *tab) {
    double used = 0, cost_done = 0, cost_left = 0;
    int32_t max_rank = -1;
    for (int64_t t = 0; t < tab->T; t++) {
        int s = tab->status[t];
        if (s == ISW_TASK_DONE || s == ISW_TASK_FAILED || s == ISW_TASK_DIVERGED) {
            if (isfinite(tab->wall_s[t])) used += tab->wall_s[t];
            cost_done += tab->cost[t];
        } else {
            cost_left += tab->cost[t];
        }
        if (tab->rank[t] > max_rank) max_rank = tab->rank[t];
    }
    char a[32], b[32];
    format_seconds(used, a, sizeof a);
    printf("wall time used: %s of task time (sum over finished tasks)\n", a);
    if (cost_left > 0 && cost_done > 0) {
        double left = used / cost_done * cost_left;
        format_seconds(left, a, sizeof a);
        int workers = max_rank > 0 ? max_rank : 1;
        format_seconds(left / workers, b, sizeof b);
        printf("estimated to go: %s of task time, about %s with %d worker%s\n", a, b, workers, workers > 1 ? "s" : "");
    }
}

isw_status cmd_status(int argc, char **argv, isw_error *err) {
    if (argc != 2 || argv[1][0] == '-')
        return isw_fail(err, ISW_EINPUT, "status: expected one result file: iclsweep status OUT.h5");
    /* A sweep may hold the file open; do not let HDF5's advisory locks refuse the read. */
    setenv("HDF5_USE_FILE_LOCKING", "FALSE", 0);
    isw_store_table tab;
    isw_status st = isw_store_read_table(argv[1], &tab, err);
    if (st) return st;
    int64_t counts[ISW_TASK_N_STATES] = {0};
    for (int64_t t = 0; t < tab.T; t++) counts[tab.status[t] < ISW_TASK_N_STATES ? tab.status[t] : 0]++;
    printf("%s: sweep %s, model %s, %lld tasks\n", argv[1], tab.name ? tab.name : "?",
           tab.model ? tab.model : "?", (long long)tab.T);
    for (int s = 0; s < ISW_TASK_N_STATES; s++)
        printf("  %-9s %10lld  %5.1f%%\n", isw_task_state_name(s), (long long)counts[s],
               tab.T ? 100.0 * (double)counts[s] / (double)tab.T : 0.0);
    print_reasons(&tab);
    print_time(&tab);
    isw_store_table_free(&tab);
    return ISW_OK;
}
