/* `iclsweep run SWEEP.yaml -o OUT.h5 ...` (options in `iclsweep run --help`): the sweep as one MPI
 * job (mpirun -np N, srun, or alone). */
#include <fcntl.h>
#include <mpi.h>
#include <sys/stat.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <string.h>

#include "cli.h"
#include "iclsweep/spec/spec.h"
#include "iclsweep/store/store.h"
#include "iclsweep/sweep/sweep.h"

/* --deadline WHEN: "+S" (S seconds from now) or "@T" / "T" (Unix time T). */
static isw_status parse_deadline(const char *v, double *out, isw_error *err) {
    char *end = NULL;
    int rel = v[0] == '+';
    double x = strtod(v + (rel || v[0] == '@'), &end);
    if (!v[0] || end == v || *end || !(x > 0))
        return isw_fail(err, ISW_EINPUT, "run: --deadline expects +SECONDS (from now) or @UNIX_TIME, found '%s'", v);
    *out = rel ? (double)time(NULL) + x : x;
    return ISW_OK;
}

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
        } else if (!strcmp(a, "--order")) {
            static const char *const orders[] = ISW_ORDER_NAMES;
            const char *v = i + 1 < argc ? argv[++i] : "";
            int found = -1;
            for (int k = 0; k < ISW_N_ORDERS; k++)
                if (!strcmp(v, orders[k])) found = k;
            if (found < 0) return isw_fail(err, ISW_EINPUT, "run: --order expects coarse or longest, found '%s'", v);
            o->order = (isw_order)found;
        } else if (!strcmp(a, "--from")) {
            if (i + 1 >= argc) return isw_fail(err, ISW_EINPUT, "run: --from needs a result file");
            if (o->n_from == ISW_MAX_FROM) return isw_fail(err, ISW_EINPUT, "run: at most %d --from files", ISW_MAX_FROM);
            o->from[o->n_from++] = argv[++i];
        } else if (!strcmp(a, "--shard")) {
            const char *v = i + 1 < argc ? argv[++i] : "";
            int k = 0, n = 0, used = 0;
            if (sscanf(v, "%d/%d%n", &k, &n, &used) != 2 || v[used] || n < 1 || n > 100000 || k < 1 || k > n)
                return isw_fail(err, ISW_EINPUT, "run: --shard expects K/N with 1 <= K <= N (shard K of N), found '%s'", v);
            o->shard_k = k;
            o->shard_n = n;
        } else if (!strcmp(a, "--deadline")) {
            if ((st = parse_deadline(i + 1 < argc ? argv[++i] : "", &o->deadline, err))) return st;
        } else if (!strcmp(a, "--deadline-margin")) {
            long long v;
            if ((st = cli_parse_count("--deadline-margin", i + 1 < argc ? argv[++i] : NULL, 0, 86400, &v, err)))
                return st;
            o->deadline_margin = (double)v;
        } else if (!strcmp(a, "--checkpoint-every")) {
            long long v;
            if ((st = cli_parse_count("--checkpoint-every", i + 1 < argc ? argv[++i] : NULL, 0, 1000000000, &v, err)))
                return st;
            o->checkpoint_every = (double)v;
        } else if (!strcmp(a, "--max-tasks")) {
            long long v;
            if ((st = cli_parse_count("--max-tasks", i + 1 < argc ? argv[++i] : NULL, 1, ISW_SPEC_LIMIT_MAX_TASKS, &v, err)))
                return st;
            o->max_tasks = v;
        } else if (a[0] == '-' && a[1]) {
            return isw_fail(err, ISW_EINPUT, "run: unknown option '%s'; expected -o OUT.h5, --resume, "
                            "--retry-failed, --force, --from OLD.h5, --shard K/N, --quiet, --progress MODE, "
                            "--deadline WHEN, --checkpoint-every S, --max-tasks N (iclsweep run --help)", a);
        } else if (o->sweep_path) {
            return isw_fail(err, ISW_EINPUT, "run: one sweep file at most, got '%s' and '%s'", o->sweep_path, a);
        } else {
            o->sweep_path = a;
        }
    }
    /* Without --deadline, a Slurm job's own end, where Slurm says it. */
    const char *slurm_end = getenv("SLURM_JOB_END_TIME");
    if (o->deadline == 0 && slurm_end && atof(slurm_end) > 0) o->deadline = atof(slurm_end);
    if (o->deadline_margin == 0) o->deadline_margin = 30;
    if (!o->sweep_path) return isw_fail(err, ISW_EINPUT, "run: missing the sweep file: iclsweep run SWEEP.yaml -o OUT.h5");
    if (!o->out_path) return isw_fail(err, ISW_EINPUT, "run: missing -o OUT.h5 (the result file)");
    return ISW_OK;
}

/* The mode auto stands for in this process (include/iclsweep/sweep/sweep.h): live when stderr is
 * a terminal, or a pipe of a launcher started from one; plain lines otherwise (batch logs). */
static isw_progress_mode detect_progress(void) {
    if (isatty(fileno(stderr))) return ISW_PROGRESS_LIVE;
    struct stat sb;
    if (fstat(fileno(stderr), &sb) != 0 || S_ISREG(sb.st_mode)) return ISW_PROGRESS_PLAIN;
    /* A pipe: under mpirun. A controlling terminal means an interactive launch. */
    int fd = open("/dev/tty", O_WRONLY | O_NOCTTY);
    if (fd < 0) return ISW_PROGRESS_PLAIN;
    close(fd);
    return ISW_PROGRESS_LIVE;
}

/* The run's reporter: every line on stderr, news prefixed "iclsweep: ", the live progress line
 * redrawn in place. */
static void say(void *ctx, isw_say_kind kind, const char *line) {
    (void)ctx;
    switch (kind) {
    case ISW_SAY_NOTE:
    case ISW_SAY_WARNING: fprintf(stderr, "iclsweep: %s\n", line); break;
    case ISW_SAY_LIVE: fprintf(stderr, "\r%s\033[K", line); break;
    case ISW_SAY_LIVE_END: fprintf(stderr, "\r%s\033[K\n", line); break;
    case ISW_SAY_LINE: fprintf(stderr, "%s\n", line); break;
    }
    fflush(stderr);
}

/* Runs o as one MPI job and prints its error from the rank that should, before MPI shuts down. */
static isw_status run_job(int argc, char **argv, isw_run_opts *o, isw_error *err) {
    o->report = (isw_reporter){say, NULL};
    if (o->progress == ISW_PROGRESS_AUTO) o->progress = detect_progress();
    int provided;
    /* Rank 0 reads files that may be crafted in a child process (isw_store_probe); that fork is
     * safe here (the child touches no MPI), so Open MPI need not warn about it. */
    setenv("OMPI_MCA_mpi_warn_on_fork", "0", 0);
    if (MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS)
        return isw_fail(err, ISW_EINTERNAL, "run: MPI_Init failed");
    int print_error = 0;
    isw_status st = isw_sweep_run(o, err, &print_error);
    /* Reported before MPI shuts down: whatever happens in MPI_Finalize, the user has the reason. */
    if (st != ISW_OK && print_error && err->msg[0]) cli_print_error(err);
    err->msg[0] = '\0';
    MPI_Finalize();
    return st;
}

isw_status cmd_run(int argc, char **argv, isw_error *err) {
    isw_run_opts o;
    memset(&o, 0, sizeof o);
    o.checkpoint_every = -1; /* the sweep's */
    isw_status st = parse_run_args(argc, argv, &o, err);
    return st ? st : run_job(argc, argv, &o, err);
}

/* `iclsweep merge SHARD.h5... -o OUT.h5 [--force] [--quiet]`: the shards of one sweep (run with
 * --shard K/N) into one file equal in content to a single run's. The sweep comes from the shards
 * themselves; they must all hold the same sweep (text, seed, generator). */
isw_status cmd_merge(int argc, char **argv, isw_error *err) {
    isw_run_opts o;
    memset(&o, 0, sizeof o);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-o") || !strcmp(a, "--output")) {
            if (i + 1 >= argc) return isw_fail(err, ISW_EINPUT, "merge: %s needs a file name", a);
            o.out_path = argv[++i];
        } else if (!strcmp(a, "--force")) {
            o.force = 1;
        } else if (!strcmp(a, "--quiet") || !strcmp(a, "-q")) {
            o.quiet = 1;
        } else if (a[0] == '-' && a[1]) {
            return isw_fail(err, ISW_EINPUT, "merge: unknown option '%s'; expected -o OUT.h5, --force, --quiet", a);
        } else if (o.n_from == ISW_MAX_FROM) {
            return isw_fail(err, ISW_EINPUT, "merge: at most %d files", ISW_MAX_FROM);
        } else {
            o.from[o.n_from++] = a;
        }
    }
    if (o.n_from == 0) return isw_fail(err, ISW_EINPUT, "merge: no files: iclsweep merge SHARD.h5... -o OUT.h5");
    if (!o.out_path) return isw_fail(err, ISW_EINPUT, "merge: missing -o OUT.h5 (the merged file)");
    isw_store_info first;
    memset(&first, 0, sizeof first);
    isw_status st = ISW_OK;
    for (int i = 0; !st && i < o.n_from; i++) st = isw_store_probe(o.from[i], err);
    if (!st) st = isw_store_read_info(o.from[0], &first, err);
    for (int i = 1; !st && i < o.n_from; i++) {
        isw_store_info info;
        if ((st = isw_store_read_info(o.from[i], &info, err))) break;
        if (strcmp(info.sweep, first.sweep) != 0 || strcmp(info.seed, first.seed) != 0)
            st = isw_fail(err, ISW_EINPUT, "merge: %s and %s come from different sweeps (their sweep text or seed "
                          "differ); merge the shards of one sweep", o.from[0], o.from[i]);
        isw_store_info_free(&info);
    }
    char name[4200];
    snprintf(name, sizeof name, "%s (its sweep)", o.from[0]);
    o.sweep_path = name;
    o.sweep_text = st ? NULL : first.sweep;
    o.no_train = 1;
    if (!st) st = run_job(argc, argv, &o, err);
    if (first.sweep) isw_store_info_free(&first);
    return st;
}
