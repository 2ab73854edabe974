/* Progress lines: see progress.h. */
#include "progress.h"

#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

double isw_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

isw_progress_mode isw_progress_detect(void) {
    if (isatty(fileno(stderr))) return ISW_PROGRESS_LIVE;
    struct stat sb;
    if (fstat(fileno(stderr), &sb) != 0 || S_ISREG(sb.st_mode)) return ISW_PROGRESS_PLAIN;
    /* A pipe: under mpirun. A controlling terminal means an interactive launch. */
    int fd = open("/dev/tty", O_WRONLY | O_NOCTTY);
    if (fd < 0) return ISW_PROGRESS_PLAIN;
    close(fd);
    return ISW_PROGRESS_LIVE;
}

void isw_progress_start(isw_progress *p, isw_progress_mode mode, int64_t total, int64_t already) {
    if (mode == ISW_PROGRESS_AUTO) mode = isw_progress_detect();
    p->quiet = mode == ISW_PROGRESS_NONE;
    p->tty = mode == ISW_PROGRESS_LIVE;
    p->start = p->last = isw_now();
    p->total = total;
    p->finished = p->failed = p->diverged = 0;
    p->already = already;
}

static void format_duration(double s, char *buf, size_t size) {
    if (s < 0 || s != s) snprintf(buf, size, "?");
    else if (s < 60) snprintf(buf, size, "%.0fs", s);
    else if (s < 3600) snprintf(buf, size, "%dm%02ds", (int)(s / 60), (int)s % 60);
    else snprintf(buf, size, "%dh%02dm", (int)(s / 3600), ((int)s % 3600) / 60);
}

static void print_line(isw_progress *p, double now, const char *end) {
    double elapsed = now - p->start;
    double rate = elapsed > 0 ? (double)p->finished / elapsed : 0;
    char eta[32], used[32];
    format_duration(rate > 0 ? (double)(p->total - p->finished) / rate : -1, eta, sizeof eta);
    format_duration(elapsed, used, sizeof used);
    fprintf(stderr, "%s[%lld/%lld] failed %lld, diverged %lld, %.3g tasks/s, %s elapsed, ETA %s%s",
            p->tty ? "\r" : "", (long long)p->finished, (long long)p->total, (long long)p->failed,
            (long long)p->diverged, rate, used, eta, end);
    fflush(stderr);
}

void isw_progress_tick(isw_progress *p, int force) {
    if (p->quiet) return;
    double now = isw_now();
    double every = p->tty ? ISW_PROGRESS_TTY_S : ISW_PROGRESS_LOG_S;
    if (!force && now - p->last < every) return;
    p->last = now;
    print_line(p, now, p->tty ? "\033[K" : "\n");
}

void isw_progress_finish(isw_progress *p, const char *what) {
    if (p->quiet) return;
    double now = isw_now();
    if (p->tty) print_line(p, now, "\033[K\n");
    fprintf(stderr, "%s: %lld tasks finished in %.3f s (%lld failed, %lld diverged)", what,
            (long long)p->finished, now - p->start, (long long)p->failed, (long long)p->diverged);
    if (p->already) fprintf(stderr, "; %lld were done before this run", (long long)p->already);
    fputc('\n', stderr);
}
