/* Stop signals (DESIGN.md section 5). Slurm sends SIGTERM (or the --signal of the job, often
 * SIGUSR1) before the time limit and on preemption; a user sends SIGINT. The first one only sets a
 * flag, which the master and the trainers' log-point callbacks read, so in-flight tasks stop at
 * their next log point and the file is closed cleanly. SA_RESETHAND restores the default action,
 * so a second signal stops the process at once. */
#include <signal.h>
#include <string.h>

#include "iclsweep/sweep.h"

static volatile sig_atomic_t stop_flag;

static void on_stop_signal(int sig) {
    (void)sig;
    stop_flag = 1;
}

void isw_signals_install(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop_signal;
    sa.sa_flags = SA_RESETHAND;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGUSR1, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
}

int isw_stop_requested(void) { return stop_flag != 0; }
