/* `iclsweep run SWEEP.yaml -o OUT.h5 [--resume] [--retry-failed] [--force] [--quiet]
 *  [--progress auto|live|plain|none] [--max-tasks N]`: the sweep as one MPI job (mpirun -np N, srun, or alone). */
#include <mpi.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "iclsweep/spec.h"
#include "iclsweep/sweep.h"

static isw_status parse_run_args(int argc, char **argv, isw_run_opts *o, isw_error *err) {
    isw_status st;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-o") || !strcmp(a, "--output")) {
            if (i + 1 >= argc) return isw_fail(err, ISW_EINPUT, "run: %s needs a file name", a);
            o->out_path = argv[++i];
        } else if (!strcmp(a, "--resume")) {
            o->resume = 1;
        } else if (!strcmp(a, "--retry-failed")) {
            o->retry_failed = 1;
        } else if (!strcmp(a, "--force")) {
            o->force = 1;
        } else if (!strcmp(a, "--quiet") || !strcmp(a, "-q")) {
            o->quiet = 1;
        } else if (!strcmp(a, "--progress")) {
            static const char *const modes[] = ISW_PROGRESS_MODE_NAMES;
            const char *v = i + 1 < argc ? argv[++i] : "";
            int found = -1;
            for (int k = 0; k < 4; k++)
                if (!strcmp(v, modes[k])) found = k;
            if (found < 0)
                return isw_fail(err, ISW_EINPUT, "run: --progress expects auto, live, plain or none, found '%s'", v);
            o->progress = (isw_progress_mode)found;
        } else if (!strcmp(a, "--max-tasks")) {
            long long v;
            if ((st = cli_parse_count("--max-tasks", i + 1 < argc ? argv[++i] : NULL, 1, ISW_SPEC_LIMIT_MAX_TASKS, &v, err)))
                return st;
            o->max_tasks = v;
        } else if (a[0] == '-' && a[1]) {
            return isw_fail(err, ISW_EINPUT, "run: unknown option '%s'; expected -o OUT.h5, --resume, "
                            "--retry-failed, --force, --quiet, --progress MODE, --max-tasks N", a);
        } else if (o->sweep_path) {
            return isw_fail(err, ISW_EINPUT, "run: one sweep file at most, got '%s' and '%s'", o->sweep_path, a);
        } else {
            o->sweep_path = a;
        }
    }
    if (!o->sweep_path) return isw_fail(err, ISW_EINPUT, "run: missing the sweep file: iclsweep run SWEEP.yaml -o OUT.h5");
    if (!o->out_path) return isw_fail(err, ISW_EINPUT, "run: missing -o OUT.h5 (the result file)");
    return ISW_OK;
}

isw_status cmd_run(int argc, char **argv, isw_error *err, int *print_error) {
    isw_run_opts o;
    memset(&o, 0, sizeof o);
    *print_error = 1;
    isw_status st = parse_run_args(argc, argv, &o, err);
    if (st) return st;
    int provided;
    if (MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS)
        return isw_fail(err, ISW_EINTERNAL, "run: MPI_Init failed");
    st = isw_sweep_run(&o, err, print_error);
    MPI_Finalize();
    return st;
}
