/* Stop signals (README "Stopping, resuming, and never running twice"; docs/architecture.md).
 * Slurm sends SIGTERM (or the --signal of the job, often
 * SIGUSR1) before the time limit and on preemption; a user sends SIGINT. The first of any of the
 * three only sets a flag, which the master and the trainers' log-point callbacks read, so in-flight
 * tasks stop at their next log point and the file is closed cleanly. A second one, of any of the
 * three kinds (USR1 from --signal, then TERM at the limit, say), restores every default action and
 * re-raises itself: the process stops at once. The file stays consistent even then, because rows
 * are written in the durability order (a row caught mid-write is still `running`). */
#include <signal.h>
#include <string.h>

#include "iclsweep/sweep/sweep.h"

static const int stop_signals[] = {SIGUSR1, SIGTERM, SIGINT};
#define N_STOP_SIGNALS ((int)(sizeof stop_signals / sizeof stop_signals[0]))

static volatile sig_atomic_t stop_flag;

/* Async-signal-safe: sigaction and raise only. */
static void on_stop_signal(int sig) {
    if (!stop_flag) {
        stop_flag = sig;
        return;
    }
    struct sigaction dfl;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    sigemptyset(&dfl.sa_mask);
    for (int i = 0; i < N_STOP_SIGNALS; i++) sigaction(stop_signals[i], &dfl, NULL);
    raise(sig);
}

void isw_signals_install(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    /* While one stop signal is handled, the others wait: the flag is set before a second runs. */
    for (int i = 0; i < N_STOP_SIGNALS; i++) sigaddset(&sa.sa_mask, stop_signals[i]);
    for (int i = 0; i < N_STOP_SIGNALS; i++) sigaction(stop_signals[i], &sa, NULL);
}

int isw_stop_requested(void) { return stop_flag != 0; }

int isw_stop_signal(void) { return stop_flag; }
