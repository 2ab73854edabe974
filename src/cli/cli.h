/* The `iclsweep` subcommands. Each takes its own argv (argv[0] is the subcommand), returns an
 * isw_status and leaves a message in err; main() prints it once and exits with the status. */
#ifndef ICLSWEEP_CLI_H
#define ICLSWEEP_CLI_H

#include <stdio.h>

#include "iclsweep/core/error.h"
#include "iclsweep/spec/spec.h"
#include "iclsweep/sweep/sweep.h"

isw_status cmd_params(int argc, char **argv, isw_error *err);
isw_status cmd_metrics(int argc, char **argv, isw_error *err);
isw_status cmd_plan(int argc, char **argv, isw_error *err);
isw_status cmd_train(int argc, char **argv, isw_error *err);
isw_status cmd_status(int argc, char **argv, isw_error *err);
isw_status cmd_verify(int argc, char **argv, isw_error *err);
/* The MPI job. It prints its error itself, from the one rank that should and before MPI shuts
 * down, and returns with err's message empty. */
isw_status cmd_run(int argc, char **argv, isw_error *err);
/* The MPI job that merges shards (as cmd_run, it prints its own error). */
isw_status cmd_merge(int argc, char **argv, isw_error *err);

/* plan --from: how many of sw's tasks the result files from[n] already finished, and the task time
 * that saves. */
isw_status plan_print_reuse(const isw_sweep *sw, const char *const *from, int n, isw_error *err);
/* plan: the dispatch order's coverage of each axis after 10%, 20% and 50% of the tasks, and the
 * first `list` tasks it hands out. */
isw_status plan_print_dispatch(const isw_sweep *sw, isw_order order, long long list, isw_error *err);
/* plan's estimated wall times: per task and for the sweep at a few worker counts, calibrated by a
 * short timed run on this machine. */
isw_status plan_print_time(const isw_sweep *sw, isw_order order, isw_error *err);

/* Prints the help of subcommand `name` (`iclsweep NAME --help`); returns ISW_OK. */
isw_status cli_help(const char *name);

/* Prints text from a file on stdout with control characters escaped (a crafted name must not
 * drive the terminal). */
void cli_print_safe(const char *text);
/* Writes text on stdout as a JSON string (quotes, backslashes and control characters escaped). */
void cli_json_string(const char *text);

/* Writes text as one Markdown table cell: | escaped, newlines as spaces. */
void cli_md_cell(FILE *out, const char *text);

/* Prints err's message as "iclsweep: error: ..." on stderr (the one place errors are printed). */
void cli_print_error(const isw_error *err);

/* Parses a non-negative integer option value; names the option in the message. */
isw_status cli_parse_count(const char *opt, const char *text, long long lo, long long hi,
                           long long *out, isw_error *err);

#endif
