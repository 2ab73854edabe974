/* What the row checksums cost a writer (issue 20): a file of the concept model's layout with
 * TASKS rows of S log points is created, and every row is written finished, as a worker writes it
 * (isw_store_write_result: the row's /traj and /final, its bookkeeping, its checksum, its status);
 * the checksum alone (isw_store_checksum: resolving the row's identity and parameters from the
 * layout and hashing every covered word) is timed over the same rows apart. Prints key=value
 * lines: the seconds per row of each, and the file left behind for `iclsweep verify` to read
 * (bench/checksum/run.py times that).
 *
 *   checksum_bench OUT.h5 TASKS LOG_POINTS
 */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../../src/sweep/layout.h"
#include "iclsweep/store/store.h"

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: checksum_bench OUT.h5 TASKS LOG_POINTS\n");
        return 2;
    }
    long tasks = atol(argv[2]), S = atol(argv[3]);
    MPI_Init(&argc, &argv);
    char text[512];
    /* concept logs at step 0 and every log_every steps: S log points */
    snprintf(text, sizeof text, "model: concept\nseed: 5\nreplicates: %ld\nfixed: {d: 16, K: 2, K_irr: 4, L: 8, "
             "width: 8, n_train: 256, n_test: 128, L_long: 16, batch: 32, steps: %ld, log_every: 10}\n",
             tasks, 10 * (S - 1));
    isw_error err;
    isw_sweep sw;
    isw_layout L;
    isw_store *st = NULL;
    if (isw_sweep_parse(text, (long)strlen(text), "bench.yaml", 0, &sw, &err) || isw_layout_make(&L, &sw, 0, 0, &err) ||
        isw_store_create(argv[1], &L.lay, MPI_COMM_WORLD, &st, &err)) {
        fprintf(stderr, "checksum_bench: %s\n", err.msg);
        MPI_Abort(MPI_COMM_WORLD, 1);
    }
    int64_t T = L.lay.T, SS = L.lay.S;
    double *traj = malloc((size_t)(L.lay.n_traj * SS) * sizeof *traj), *final = malloc((size_t)L.lay.n_final * sizeof *final);
    srand(1);
    for (int64_t k = 0; k < L.lay.n_traj * SS; k++) traj[k] = rand() / (double)RAND_MAX;
    for (int k = 0; k < L.lay.n_final; k++) final[k] = rand() / (double)RAND_MAX;
    double t0 = now();
    uint64_t sink = 0;
    for (int64_t t = 0; t < T; t++) sink ^= isw_store_row_checksum(st, t, traj, final, ISW_TASK_DONE, 100);
    double t1 = now();
    const isw_task_account acc = {.wall_s = 1.0, .cpu_s = 1.0, .peak_rss = 1e7, .resumes = 0, .steps_done = 100, .error = ""};
    for (int64_t t = 0; t < T; t++)
        if (isw_store_write_result(st, t, traj, final, ISW_TASK_DONE, &acc, &err)) {
            fprintf(stderr, "checksum_bench: %s\n", err.msg);
            MPI_Abort(MPI_COMM_WORLD, 1);
        }
    double t2 = now();
    isw_store_close(st, &err);
    printf("rows=%lld\nlog_points=%lld\ntraj_metrics=%d\nfinal_metrics=%d\nparams=%d\n", (long long)T, (long long)SS,
           L.lay.n_traj, L.lay.n_final, L.lay.n_params);
    printf("checksum_s_per_row=%.9f\nwrite_s_per_row=%.9f\nsink=%llu\n", (t1 - t0) / (double)T, (t2 - t1) / (double)T,
           (unsigned long long)sink);
    free(traj);
    free(final);
    isw_layout_free(&L);
    isw_sweep_free(&sw);
    MPI_Finalize();
    return 0;
}
