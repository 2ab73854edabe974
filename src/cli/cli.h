/* The `iclsweep` subcommands. Each takes its own argv (argv[0] is the subcommand), returns an
 * isw_status and leaves a message in err; main() prints it once and exits with the status. */
#ifndef ICLSWEEP_CLI_H
#define ICLSWEEP_CLI_H

#include "iclsweep/error.h"

isw_status cmd_params(int argc, char **argv, isw_error *err);
isw_status cmd_plan(int argc, char **argv, isw_error *err);
isw_status cmd_train(int argc, char **argv, isw_error *err);
isw_status cmd_status(int argc, char **argv, isw_error *err);
/* MPI job: *print_error says whether this rank should print err (rank 0 for shared errors). */
isw_status cmd_run(int argc, char **argv, isw_error *err, int *print_error);

/* Parses a non-negative integer option value; names the option in the message. */
isw_status cli_parse_count(const char *opt, const char *text, long long lo, long long hi,
                           long long *out, isw_error *err);

#endif
