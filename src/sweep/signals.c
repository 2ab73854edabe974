/* Stop signals (README "Stopping, resuming, and never running twice"; docs/architecture.md).
 * Slurm sends SIGTERM (or the --signal of the job, often SIGUSR1) before the time limit, on
 * scancel and on preemption, to every process of the job, and a job script passes its own on; a
 * user sends SIGINT. The first of any of the three only sets a flag, which the master and the
 * trainers' log-point callbacks read, so in-flight tasks stop at their next log point with a
 * checkpoint and the file is closed cleanly. More SIGUSR1 or SIGTERM change nothing (a scheduler
 * sends several, and its SIGKILL after the grace time is the hard stop). A second SIGINT (Ctrl-C
 * again: someone at a terminal will not wait) restores every default action and re-raises
 * itself: the process stops at once. The file stays consistent even then, because rows are
 * written in the durability order (a row caught mid-write is still `running`) and checkpoints
 * whole or not at all. */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

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
    if (sig != SIGINT) return; /* already draining */
    struct sigaction dfl;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    sigemptyset(&dfl.sa_mask);
    for (int i = 0; i < N_STOP_SIGNALS; i++) sigaction(stop_signals[i], &dfl, NULL);
    raise(sig);
}

/* ---- the launcher's death ----
 * A rank started by mpirun is its child. When mpirun dies (kill -9, a crash), Open MPI's ranks end
 * themselves a second or so later, or (some MPIs, some versions) train on holding the file's lock.
 * So the kernel tells each rank at once (PR_SET_PDEATHSIG) with SIGUSR2: the handler checks that
 * the parent is really gone (the signal also comes when the thread that started the rank ends),
 * raises the stop flag as a stop signal would, so the task in hand stops at its next log point
 * with a checkpoint, ignores SIGPIPE (stderr led to the dead launcher) and arms an alarm: a rank
 * still there ISW_ORPHAN_GRACE_S seconds later (a collective call waiting for a dead peer) ends,
 * and with it the lock of the file. */
static pid_t launcher;

static void on_parent_death(int sig) {
    if (launcher == 0 || getppid() == launcher) return;
    signal(SIGPIPE, SIG_IGN);
    if (!stop_flag) stop_flag = sig;
    alarm(ISW_ORPHAN_GRACE_S);
}

/* Whether an MPI launcher started this process (Open MPI, PMIx, PMI, MPICH's Hydra). */
static int launched(void) {
    return getenv("OMPI_COMM_WORLD_SIZE") || getenv("PMIX_RANK") || getenv("PMI_RANK") || getenv("MPI_LOCALNRANKS");
}

static void watch_launcher(void) {
#ifdef __linux__
    if (!launched()) return;
    launcher = getppid();
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_parent_death;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGUSR2, &sa, NULL);
    prctl(PR_SET_PDEATHSIG, SIGUSR2);
    if (getppid() != launcher) raise(SIGUSR2); /* it died before we asked */
#endif
}

int isw_launcher_gone(void) { return launcher != 0 && stop_flag == SIGUSR2; }

void isw_signals_install(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    /* While one stop signal is handled, the others wait: the flag is set before a second runs. */
    for (int i = 0; i < N_STOP_SIGNALS; i++) sigaddset(&sa.sa_mask, stop_signals[i]);
    for (int i = 0; i < N_STOP_SIGNALS; i++) sigaction(stop_signals[i], &sa, NULL);
    watch_launcher();
}

int isw_stop_requested(void) { return stop_flag != 0; }

int isw_stop_signal(void) { return stop_flag; }
