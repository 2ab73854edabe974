/* iclsweep: the command line (README.md, docs/architecture.md). The only place that prints errors and exits:
 * every layer below returns a status and a message, reported here once. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cblas.h>
#include <hdf5.h>
#include <mpi.h>
#include <yaml.h>

#include "cli.h"
#include "iclsweep/core/text.h"
#include "iclsweep/version.h"

/* The subcommands, listed once: the dispatch, `iclsweep --help` and `iclsweep CMD --help` all
 * come from this table. */
typedef struct {
    const char *name;
    isw_status (*run)(int argc, char **argv, isw_error *err);
    const char *synopsis; /* the usage line(s) */
    const char *summary;  /* what it does, for the overview */
    const char *help;     /* options and details, for `iclsweep CMD --help` */
} command;

static const command commands[] = {
    {"plan", cmd_plan, "iclsweep plan SWEEP.yaml [--list N] [--exact] [--no-time] [--max-tasks N] [--order O]\n"
     "              [--from OLD.h5]...",
     "grid size, each axis and its values, the first N tasks (default 10) with\n"
     "their parameters, identity and seed, a cost estimate, the memory of a task,\n"
     "wall-time estimates (per task, and for the sweep with 1 to 128 workers, from a\n"
     "~0.2 s timed run on this machine), and what a prefix of the dispatch order\n"
     "covers; SWEEP.yaml - reads standard input",
     "  --list N        list the first N tasks (0: none)\n"
     "  --exact         every value as the exact double the sweep uses (shortest text that reads back)\n"
     "  --no-time       skip the timed calibration run and the wall-time estimates\n"
     "  --order O       the dispatch order to show: coarse (run's default) or longest\n"
     "  --from OLD.h5   say how many tasks OLD.h5 already finished (run --from copies them)\n"
     "  --max-tasks N   refuse grids of more than N tasks (default: the file's max_tasks, else 10^7)\n"},
    {"run", cmd_run,
     "iclsweep run SWEEP.yaml -o OUT.h5 [--resume] [--retry-failed] [--force] [--from OLD.h5]...\n"
     "             [--shard K/N] [--deadline WHEN] [--checkpoint-every S] [--quiet]\n"
     "             [--progress auto|live|plain|none] [--max-tasks N]",
     "run the sweep as one MPI job (mpirun -np N ..., srun ..., or alone):\n"
     "rank 0 hands out tasks, the others train and write OUT.h5 (HDF5)",
     "  -o, --output OUT.h5  the result file (a new path, or an existing result file)\n"
     "  --resume             continue OUT.h5: run only what is not done; a missing OUT.h5 is\n"
     "                       started, so a job script can always pass --resume\n"
     "  --retry-failed       with --resume: also rerun failed tasks (diverged ones are results)\n"
     "  --force              overwrite an existing OUT.h5 and start over\n"
     "  --from OLD.h5        copy every task finished in OLD.h5 (same model, seed and data\n"
     "                       generator) instead of rerunning it; repeatable. With --resume,\n"
     "                       a sweep that grew (more values, zip points or replicates) also\n"
     "                       keeps the results already in OUT.h5: the grown file is written\n"
     "                       beside it as OUT.h5.growing and then takes its place\n"
     "  --order coarse|longest  how work is handed out: coarse-to-fine (default; long tasks\n"
     "                       first within a factor 2, then replicate 0 of every point before\n"
     "                       replicate 1, points in a low-discrepancy order, so any prefix maps\n"
     "                       the whole grid) or longest-first by estimated cost\n"
     "  --shard K/N          run shard K of N (1 <= K <= N; e.g. a Slurm array task) into its\n"
     "                       own file; `iclsweep merge` joins the shards\n"
     "  --deadline WHEN      the time the run must have ended by: +SECONDS from now or @UNIX_TIME\n"
     "                       (default: $SLURM_JOB_END_TIME where Slurm sets it); a task starts when\n"
     "                       what is left of it is predicted to end before it, or will reach a log\n"
     "                       point (a checkpoint) in time; at the deadline less the margin tasks\n"
     "                       in flight stop at their next log point with a checkpoint; exit 3\n"
     "  --deadline-margin S  seconds kept free before the deadline (default 30)\n"
     "  --checkpoint-every S seconds between a running task's checkpoints (default: the sweep's\n"
     "                       checkpoint_every, 60; 0: at every log point); OUT.h5.ckpt/ holds them\n"
     "  --quiet, -q          no progress output, errors only\n"
     "  --progress MODE      auto (live line at a terminal, plain lines in logs), live, plain, none\n"
     "  --max-tasks N        refuse grids of more than N tasks\n"
     "SIGUSR1, SIGTERM or SIGINT: stop handing out work, stop tasks in flight at their next log\n"
     "point with a checkpoint, close the file and exit 3 (resume with --resume: tasks continue from\n"
     "their checkpoints); more SIGUSR1 or SIGTERM change nothing, a second SIGINT stops at once.\n"
     "A rank whose launcher (mpirun) dies stops the same way.\n"},
    {"status", cmd_status, "iclsweep status OUT.h5 [--json]",
     "counts by state, failures grouped by reason, wall time used and to go,\n"
     "who writes the file; works while the sweep runs",
     "  --json    one JSON object: counts, remaining, complete, finished, checkpointed (tasks in\n"
     "            progress with a checkpoint), checkpoint_steps, task time used and left, owner\n"
     "finished rows are checked against their checksums: one that fails is damaged, work to redo\n"
     "exit codes: 0 complete (every task done or diverged); 3 work remains (resume it);\n"
     "            4 only failed tasks remain (resume with --retry-failed); 2 not a result file\n"},
    {"verify", cmd_verify, "iclsweep verify OUT.h5... [--json]",
     "check every finished row of each file against its checksum, naming each\n"
     "row that fails (data changed after it was written: a flipped bit, a tool)",
     "  --json    one JSON object per file: checksums, finished, checked, bad rows (row, task, key,\n"
     "            why), ok, exit_code\n"
     "exit codes: 0 every finished row holds (or a file of an older format: no checksums to check);\n"
     "            2 a row fails, or a file is not a readable result file\n"
     "A resume runs failing rows again; --from and merge do not copy them; status counts them as\n"
     "damaged, not done.\n"},
    {"merge", cmd_merge, "iclsweep merge SHARD.h5... -o OUT.h5 [--force] [--quiet]",
     "the shards of one sweep (run --shard K/N) into one file, equal in content to\n"
     "a single run's",
     "  -o OUT.h5   the merged file\n"
     "  --force     overwrite an existing OUT.h5\n"
     "exit codes: 0 every task finished in some shard; 3 some are not (resume OUT.h5 to finish)\n"},
    {"train", cmd_train, "iclsweep train SWEEP.yaml [--task I] [--format text|csv|jsonl] [--metrics a,b,...]",
     "train task I (default 0) of a sweep on this process and print its\n"
     "trajectory, one line per log point",
     "  --task I         which task of the sweep (as `plan --list` numbers them)\n"
     "  --format F       text (a few columns, for a terminal), csv or jsonl (every metric, exact doubles)\n"
     "  --metrics a,b    the columns of the text format\n"
     "  --max-tasks N    refuse grids of more than N tasks\n"},
    {"params", cmd_params, "iclsweep params [MODEL] [--markdown]",
     "every parameter of a model (or of all): type, default, range, meaning", ""},
    {"metrics", cmd_metrics, "iclsweep metrics [MODEL] [--markdown]",
     "every output metric of a model (or of all): where it is in the result\n"
     "file, units, meaning", ""},
};
#define N_COMMANDS ((int)(sizeof commands / sizeof commands[0]))

static const char overview_head[] =
    "iclsweep: map phase diagrams of in-context learning, one small transformer per grid point\n\nusage:\n";
static const char overview_tail[] =
    "  iclsweep --version | --help | COMMAND --help\n"
    "\n"
    "A sweep file names a model (concept | linattn), a seed, replicates, fixed values, a grid\n"
    "(Cartesian product) and zip groups (lists varied together); see README.md. It must be a\n"
    "regular file; plan and train read it from standard input when SWEEP.yaml is -.\n"
    "\n"
    "exit codes: 0 done (diverged tasks are results); 2 bad usage or bad input; 3 stopped by a\n"
    "            signal, work remains; 4 finished but some tasks failed; 1 internal error or\n"
    "            the environment failed (out of memory, a write that failed)\n";

/* Prints text with every line indented by `indent` spaces. */
static void print_indented(FILE *out, const char *text, int indent) {
    while (*text) {
        size_t len = strcspn(text, "\n");
        fprintf(out, "%*s%.*s\n", indent, "", (int)len, text);
        text += len + (text[len] == '\n');
    }
}

static void print_overview(FILE *out) {
    fputs(overview_head, out);
    for (int i = 0; i < N_COMMANDS; i++) {
        print_indented(out, commands[i].synopsis, 2);
        print_indented(out, commands[i].summary, 18);
    }
    fputs(overview_tail, out);
}

isw_status cli_help(const char *name) {
    for (int i = 0; i < N_COMMANDS; i++)
        if (!strcmp(commands[i].name, name)) {
            printf("usage: %s\n\n", commands[i].synopsis);
            print_indented(stdout, commands[i].summary, 0);
            if (commands[i].help[0]) printf("\n%s", commands[i].help);
        }
    return ISW_OK;
}

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
        print_overview(stderr);
        return ISW_EINPUT;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") || !strcmp(cmd, "help")) {
        print_overview(stdout);
        return 0;
    }
    if (!strcmp(cmd, "--version") || !strcmp(cmd, "version")) {
        print_version();
        return 0;
    }
    for (int i = 0; i < N_COMMANDS; i++) {
        if (strcmp(cmd, commands[i].name) != 0) continue;
        for (int a = 2; a < argc; a++)
            if (!strcmp(argv[a], "--help") || !strcmp(argv[a], "-h")) return (int)cli_help(cmd);
        isw_status st = commands[i].run(argc - 1, argv + 1, &err);
        if (st != ISW_OK && err.msg[0]) cli_print_error(&err);
        return (int)st;
    }
    fprintf(stderr, "iclsweep: error: unknown command '%s'; expected", cmd);
    for (int i = 0; i < N_COMMANDS; i++) fprintf(stderr, " %s,", commands[i].name);
    fprintf(stderr, " --help or --version\n");
    return ISW_EINPUT;
}

void cli_print_error(const isw_error *err) {
    /* Messages quote files (a sweep's name, a result file's attributes): escape what could drive
     * the terminal. */
    char shown[4 * ISW_ERROR_MAX];
    isw_text_escape(shown, sizeof shown, err->msg);
    fprintf(stderr, "iclsweep: error: %s\n", shown);
    fflush(stderr);
}

void cli_print_safe(const char *text) {
    char buf[4 * 1024];
    isw_text_escape(buf, sizeof buf, text);
    fputs(buf, stdout);
}

void cli_json_string(const char *text) {
    putchar('"');
    for (const unsigned char *c = (const unsigned char *)text; *c; c++) {
        if (*c == '"' || *c == '\\') printf("\\%c", *c);
        else if (*c < 0x20 || *c == 0x7f) printf("\\u%04x", *c);
        else putchar(*c);
    }
    putchar('"');
}

void cli_md_cell(FILE *out, const char *text) {
    for (const char *c = text; *c; c++) {
        if (*c == '|') fputc('\\', out); /* a bare | would end the table cell */
        fputc(*c == '\n' ? ' ' : *c, out);
    }
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
