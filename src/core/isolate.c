/* Work in a child process (include/iclsweep/core/isolate.h). */
#include "iclsweep/core/isolate.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

/* Writes all of buf to fd; 0 on failure. */
static int write_all(int fd, const void *buf, size_t n) {
    const char *p = buf;
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return 0;
        p += w;
        n -= (size_t)w;
    }
    return 1;
}

/* Reads up to n bytes of fd into buf until end of file; returns the count. */
static size_t read_all(int fd, void *buf, size_t n) {
    char *p = buf;
    size_t got = 0;
    while (got < n) {
        ssize_t r = read(fd, p + got, n - got);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) break;
        got += (size_t)r;
    }
    return got;
}

/* One child: fn in it, its answer back. */
static isw_status run_once(isw_status (*fn)(void *ctx, isw_error *err), void *ctx, void *answer,
                           size_t answer_size, unsigned timeout_s, int *signal_out, isw_error *err) {
    *signal_out = 0;
    int fds[2];
    fflush(stdout);
    fflush(stderr);
    if (pipe(fds) != 0) return fn(ctx, err);
    pid_t pid = fork();
    if (pid < 0) {
        close(fds[0]);
        close(fds[1]);
        return fn(ctx, err);
    }
    if (pid == 0) {
        close(fds[0]);
        /* A crash is this child's answer: no inherited handler (MPI's prints a backtrace) runs. */
        static const int crash_signals[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT};
        for (unsigned i = 0; i < sizeof crash_signals / sizeof crash_signals[0]; i++) signal(crash_signals[i], SIG_DFL);
        signal(SIGALRM, SIG_DFL);
        /* ICLSWEEP_READ_TIMEOUT=S caps the limit (the tests use it not to wait out a loop). */
        const char *cap = getenv("ICLSWEEP_READ_TIMEOUT");
        if (cap && atoi(cap) > 0 && (!timeout_s || (unsigned)atoi(cap) < timeout_s)) timeout_s = (unsigned)atoi(cap);
        if (timeout_s) alarm(timeout_s);
        isw_error e;
        memset(&e, 0, sizeof e); /* the whole struct goes down the pipe: no uninitialised bytes */
        isw_error_clear(&e);
        e.code = fn(ctx, &e);
        fflush(stdout);
        fflush(stderr);
        _exit(write_all(fds[1], &e, sizeof e) && (!answer_size || write_all(fds[1], answer, answer_size)) ? 0 : 1);
    }
    close(fds[1]);
    isw_error e;
    size_t got = read_all(fds[0], &e, sizeof e);
    /* Read into a copy first: a child that died midway leaves the caller's answer as it was. */
    void *copy = answer_size ? malloc(answer_size) : NULL;
    size_t got_answer = copy ? read_all(fds[0], copy, answer_size) : 0;
    close(fds[0]);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (got != sizeof e || !WIFEXITED(status) || WEXITSTATUS(status) != 0 || got_answer != answer_size) {
        free(copy);
        if (WIFSIGNALED(status)) {
            *signal_out = WTERMSIG(status);
            return isw_fail(err, ISW_EINTERNAL, "the work crashed (signal %d)", WTERMSIG(status));
        }
        return isw_fail(err, ISW_EINTERNAL, "the work's process ended without an answer");
    }
    if (answer_size) memcpy(answer, copy, answer_size);
    free(copy);
    e.msg[sizeof e.msg - 1] = '\0';
    *err = e;
    return e.code;
}

/* A child forked from a process with other threads (MPI's progress threads, the owner heartbeat)
 * can block forever on a lock one of those threads held at the fork: glibc's malloc is fork-safe,
 * but a sanitizer's allocator is not, and that was seen under AddressSanitizer on a loaded machine.
 * Such a child runs out of its time like a library looping on a crafted file would. A second,
 * fresh child tells the two apart: a fork-time lock does not repeat, a crafted file does. */
isw_status isw_run_isolated_answer(isw_status (*fn)(void *ctx, isw_error *err), void *ctx, void *answer,
                                   size_t answer_size, unsigned timeout_s, int *signal_out, isw_error *err) {
    isw_status st = run_once(fn, ctx, answer, answer_size, timeout_s, signal_out, err);
    if (*signal_out == SIGALRM) st = run_once(fn, ctx, answer, answer_size, timeout_s, signal_out, err);
    return st;
}

isw_status isw_run_isolated(isw_status (*fn)(void *ctx, isw_error *err), void *ctx, unsigned timeout_s,
                            int *signal_out, isw_error *err) {
    return isw_run_isolated_answer(fn, ctx, NULL, 0, timeout_s, signal_out, err);
}
