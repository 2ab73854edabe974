/* iclsweep: the command line (DESIGN.md section 2). The only place that prints errors and exits:
 * every layer below returns a status and a message, reported here once. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cblas.h>
#include <hdf5.h>
#include <mpi.h>
#include <yaml.h>

#include "cli.h"
#include "iclsweep/version.h"

static const char usage[] =
    "iclsweep: map phase diagrams of in-context learning, one small transformer per grid point\n"
    "\n"
    "usage:\n"
    "  iclsweep plan   SWEEP.yaml [--list N] [--max-tasks N]\n"
    "                  grid size, each axis and its values, the first N tasks (default 10) with\n"
    "                  their parameters, identity and seed, and a relative cost estimate\n"
    "  iclsweep run    SWEEP.yaml -o OUT.h5 [--resume] [--retry-failed] [--force] [--quiet]\n"
    "                  [--progress auto|live|plain|none] [--max-tasks N]\n"
    "                  run the sweep as one MPI job (mpirun -np N ..., srun ..., or alone):\n"
    "                  rank 0 hands out tasks, the others train and write OUT.h5 (HDF5)\n"
    "  iclsweep status OUT.h5\n"
    "                  counts by state, failures grouped by reason, wall time used and to go;\n"
    "                  works while the sweep runs\n"
    "  iclsweep train  SWEEP.yaml [--task I] [--format text|csv|jsonl] [--metrics a,b,...]\n"
    "                  train task I (default 0) of a sweep on this process and print its\n"
    "                  trajectory, one line per log point\n"
    "  iclsweep params [MODEL] [--markdown]\n"
    "                  every parameter of a model (or of all): type, default, range, meaning\n"
    "  iclsweep --version | --help\n"
    "\n"
    "A sweep file names a model (concept | linattn), a seed, replicates, fixed values, a grid\n"
    "(Cartesian product) and zip groups (lists varied together); see README.md.\n"
    "\n"
    "exit codes: 0 done; 2 bad usage or bad input; 3 stopped by a signal, work remains;\n"
    "            4 finished but some tasks failed; 1 internal error\n";

/* The version, and the libraries this binary runs with (what a bug report needs). */
static void print_version(void) {
    printf("iclsweep %s (commit %s)\n", ISW_VERSION, ISW_GIT_COMMIT);
    char mpi[MPI_MAX_LIBRARY_VERSION_STRING];
    int len = 0;
    MPI_Get_library_version(mpi, &len); /* one of the calls allowed before MPI_Init */
    mpi[strcspn(mpi, ",\n")] = '\0';
    unsigned maj, min, rel;
    H5get_libversion(&maj, &min, &rel);
    printf("  MPI: %s\n  HDF5: %u.%u.%u (parallel)\n  BLAS: %s\n  libyaml: %s\n", mpi, maj, min, rel,
           openblas_get_config(), yaml_get_version_string());
}

int main(int argc, char **argv) {
    isw_error err;
    isw_error_clear(&err);
    /* One model per process, small matrices: BLAS threads only fight the other ranks. A user who
     * wants them sets OPENBLAS_NUM_THREADS explicitly. */
    if (!getenv("OPENBLAS_NUM_THREADS")) openblas_set_num_threads(1);
    if (argc < 2) {
        fputs(usage, stderr);
        return ISW_EINPUT;
    }
    const char *cmd = argv[1];
    isw_status st;
    if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") || !strcmp(cmd, "help")) {
        fputs(usage, stdout);
        return 0;
    } else if (!strcmp(cmd, "--version") || !strcmp(cmd, "version")) {
        print_version();
        return 0;
    } else if (!strcmp(cmd, "params")) {
        st = cmd_params(argc - 1, argv + 1, &err);
    } else if (!strcmp(cmd, "plan")) {
        st = cmd_plan(argc - 1, argv + 1, &err);
    } else if (!strcmp(cmd, "train")) {
        st = cmd_train(argc - 1, argv + 1, &err);
    } else if (!strcmp(cmd, "run")) {
        int print_error = 1;
        st = cmd_run(argc - 1, argv + 1, &err, &print_error);
        if (!print_error) return (int)st;
    } else if (!strcmp(cmd, "status")) {
        st = cmd_status(argc - 1, argv + 1, &err);
    } else {
        fprintf(stderr, "iclsweep: error: unknown command '%s'; expected plan, run, status, train, "
                        "params, --help or --version\n", cmd);
        return ISW_EINPUT;
    }
    if (st != ISW_OK && err.msg[0]) fprintf(stderr, "iclsweep: error: %s\n", err.msg);
    return (int)st;
}

isw_status cli_parse_count(const char *opt, const char *text, long long lo, long long hi,
                           long long *out, isw_error *err) {
    char *end = NULL;
    long long v = text ? strtoll(text, &end, 10) : 0;
    if (!text || !*text || *end || v < lo || v > hi)
        return isw_fail(err, ISW_EINPUT, "%s expects an integer in [%lld, %lld], found '%s'", opt,
                        lo, hi, text ? text : "");
    *out = v;
    return ISW_OK;
}
