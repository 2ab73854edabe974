/* Running a piece of work in a child process, so that a crash inside a library (HDF5 decoding a
 * crafted file) becomes an error value instead of taking the program down.
 *
 * The parent waits for the child and receives the child's status and message through a pipe; a
 * child that dies by a signal is reported as such. The child must not touch MPI (it is a copy of
 * the process, MPI state included) and ends with _exit, so no atexit handler of the parent runs
 * twice. Where fork is not possible the work runs in this process. */
#ifndef ICLSWEEP_ISOLATE_H
#define ICLSWEEP_ISOLATE_H

#include <stddef.h>

#include "iclsweep/core/error.h"

/* Runs fn(ctx, err) in a child process and returns its status and message in err; when the child
 * died by a signal, returns ISW_EINTERNAL and sets *signal_out to the signal (0 otherwise). A child
 * still working after timeout_s seconds is ended by SIGALRM (a library looping forever on a crafted
 * file); 0 means no limit. A child that runs out of time is tried once more in a fresh child before
 * SIGALRM is reported (a child can also stall on a lock another thread held at the fork). */
isw_status isw_run_isolated(isw_status (*fn)(void *ctx, isw_error *err), void *ctx, unsigned timeout_s,
                            int *signal_out, isw_error *err);
/* isw_run_isolated, and the child's answer as well: the answer_size bytes at answer after fn
 * returned in the child (fn writes them, typically through ctx) are copied to answer in this
 * process when the child ended normally. */
isw_status isw_run_isolated_answer(isw_status (*fn)(void *ctx, isw_error *err), void *ctx, void *answer,
                                   size_t answer_size, unsigned timeout_s, int *signal_out, isw_error *err);

#endif
