/* Progress lines: see progress.h. */
#include "progress.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

double isw_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void isw_progress_start(isw_progress *p, const isw_reporter *report, isw_progress_mode mode, int64_t total,
                        int64_t already) {
    p->report = report;
    p->quiet = mode == ISW_PROGRESS_NONE || !report || !report->say;
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

static void say_line(isw_progress *p, double now, isw_say_kind kind) {
    double elapsed = now - p->start;
    double rate = elapsed > 0 ? (double)p->finished / elapsed : 0;
    char eta[32], used[32], line[256];
    format_duration(rate > 0 ? (double)(p->total - p->finished) / rate : -1, eta, sizeof eta);
    format_duration(elapsed, used, sizeof used);
    snprintf(line, sizeof line, "[%lld/%lld] failed %lld, diverged %lld, %.3g tasks/s, %s elapsed, ETA %s",
             (long long)p->finished, (long long)p->total, (long long)p->failed, (long long)p->diverged, rate, used,
             eta);
    p->report->say(p->report->ctx, kind, line);
}

void isw_progress_tick(isw_progress *p, int force) {
    if (p->quiet) return;
    double now = isw_now();
    double every = p->tty ? ISW_PROGRESS_TTY_S : ISW_PROGRESS_LOG_S;
    if (!force && now - p->last < every) return;
    p->last = now;
    say_line(p, now, p->tty ? ISW_SAY_LIVE : ISW_SAY_LINE);
}

void isw_progress_finish(isw_progress *p, const char *what) {
    if (p->quiet) return;
    double now = isw_now();
    if (p->tty) say_line(p, now, ISW_SAY_LIVE_END);
    char line[512];
    int n = snprintf(line, sizeof line, "%s: %lld tasks finished in %.3f s (%lld failed, %lld diverged)", what,
                     (long long)p->finished, now - p->start, (long long)p->failed, (long long)p->diverged);
    if (p->already && n > 0 && (size_t)n < sizeof line)
        snprintf(line + n, sizeof line - (size_t)n, "; %lld were done before this run", (long long)p->already);
    p->report->say(p->report->ctx, ISW_SAY_LINE, line);
}
