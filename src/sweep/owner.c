/* One writer per result file (owner.h): the lock file, its owner record and the heartbeat. */
#define _XOPEN_SOURCE 700 /* realpath */
#include "iclsweep/sweep/owner.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* A parsed owner record: "host=H pid=P job=J since=S heartbeat=T". */
typedef struct {
    char host[256], job[64], since[64];
    long pid;
    long long heartbeat;
} record;

static int parse_record(const char *text, record *r) {
    memset(r, 0, sizeof *r);
    return sscanf(text, "host=%255s pid=%ld job=%63s since=%63s heartbeat=%lld", r->host, &r->pid, r->job,
                  r->since, &r->heartbeat) == 5;
}

/* Reads the record of the lock file fd (0 when there is none or it is unreadable). */
static int read_record(int fd, record *r) {
    char buf[600];
    ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
    if (n <= 0) return 0;
    buf[n] = '\0';
    return parse_record(buf, r);
}

static void describe(const record *r, char *buf, size_t size) {
    long long age = (long long)time(NULL) - r->heartbeat;
    snprintf(buf, size, "host %s, pid %ld%s%s, since %s, last heartbeat %lld s ago", r->host, r->pid,
             strcmp(r->job, "-") ? ", Slurm job " : "", strcmp(r->job, "-") ? r->job : "", r->since,
             age < 0 ? 0 : age);
}

/* Takes (1) or tests (0: F_GETLK) a write lock on the whole of fd; -1 when the file system has no
 * locks at all. */
static int lock_whole(int fd) {
    struct flock fl;
    memset(&fl, 0, sizeof fl);
    fl.l_type = F_WRLCK;
    fl.l_whence = SEEK_SET;
    if (fcntl(fd, F_SETLK, &fl) == 0) return 1;
    return errno == EAGAIN || errno == EACCES ? 0 : -1;
}

static int held_by_other(int fd) {
    struct flock fl;
    memset(&fl, 0, sizeof fl);
    fl.l_type = F_WRLCK;
    fl.l_whence = SEEK_SET;
    return fcntl(fd, F_GETLK, &fl) == 0 && fl.l_type != F_UNLCK;
}

static void write_record(isw_owner *o) {
    char buf[600];
    int n = snprintf(buf, sizeof buf, "%s heartbeat=%lld\n", o->record, (long long)time(NULL));
    if (n > 0 && pwrite(o->fd, buf, (size_t)n, 0) == n && ftruncate(o->fd, n) == 0) return;
    /* A heartbeat that cannot be written only makes the record look stale sooner elsewhere. */
}

static void *beat_loop(void *arg) {
    isw_owner *o = arg;
    pthread_mutex_lock(&o->mu);
    while (!o->stop) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += ISW_OWNER_BEAT_S;
        pthread_cond_timedwait(&o->wake, &o->mu, &until);
        if (!o->stop) write_record(o);
    }
    pthread_mutex_unlock(&o->mu);
    return NULL;
}

/* Starts the heartbeat thread with the stop signals blocked, so that they reach the main thread. */
static void start_beat(isw_owner *o) {
    sigset_t block, old;
    sigemptyset(&block);
    sigaddset(&block, SIGUSR1);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGINT);
    pthread_sigmask(SIG_BLOCK, &block, &old);
    o->beating = pthread_create(&o->beat, NULL, beat_loop, o) == 0;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
}

/* Whether a record found under a lock we could take still stands: a live heartbeat from another
 * node (whose lock this file system may not show us), or a live process on this one when the file
 * system has no locks. */
static int record_stands(const record *r, const char *host, int have_locks) {
    long long age = (long long)time(NULL) - r->heartbeat;
    if (age > ISW_OWNER_STALE_S) return 0;
    if (strcmp(r->host, host) != 0) return 1;
    if (have_locks) return 0; /* same node: its lock would have stopped us */
    return r->pid > 0 && r->pid != (long)getpid() && kill((pid_t)r->pid, 0) == 0;
}

static const char *kind_words(mode_t mode) {
    return S_ISDIR(mode) ? "a folder" : S_ISFIFO(mode) ? "a FIFO" : S_ISCHR(mode) || S_ISBLK(mode) ? "a device"
         : S_ISSOCK(mode) ? "a socket" : S_ISLNK(mode) ? "a symbolic link" : "a special file";
}

isw_status isw_owner_resolve(const char *path, char *real, size_t size, isw_error *err) {
    struct stat sb;
    const char *use = path;
    char resolved[PATH_MAX];
    if (lstat(path, &sb) == 0 && S_ISLNK(sb.st_mode)) {
        /* Written through, the link would take a lock of its own name; resolved, it takes the
         * file's. One that leads nowhere could make a file anywhere. */
        if (!realpath(path, resolved) || lstat(resolved, &sb) != 0)
            return isw_fail(err, ISW_EINPUT, "%s is a symbolic link that leads to no file (%s); name the result "
                            "file itself", path, strerror(errno));
        use = resolved;
    }
    if (snprintf(real, size, "%s", use) >= (int)size)
        return isw_fail(err, ISW_EINPUT, "%s: the path is too long", path);
    return ISW_OK;
}

isw_status isw_owner_check_file(const char *path, unsigned long long want_dev, unsigned long long want_ino,
                                isw_error *err) {
    struct stat sb;
    if (lstat(path, &sb) != 0)
        return isw_fail(err, ISW_EINPUT, "%s vanished while the run opened it: %s", path, strerror(errno));
    if (!S_ISREG(sb.st_mode) || sb.st_nlink != 1 ||
        (want_ino && ((unsigned long long)sb.st_dev != want_dev || (unsigned long long)sb.st_ino != want_ino)))
        return isw_fail(err, ISW_EINPUT, "%s was replaced while the run opened it (it is now %s%s); another "
                        "program is changing it: nothing more is written", path,
                        S_ISREG(sb.st_mode) ? "another file" : kind_words(sb.st_mode),
                        S_ISREG(sb.st_mode) && sb.st_nlink != 1 ? " with several names" : "");
    return ISW_OK;
}

/* Opens the lock file `path` (creating it when create) without following a link, and refuses
 * anything but a regular file of one name: the record is written into it, so a planted link or a
 * hard link to another file must never receive it. Returns the descriptor, or -1 with err set. */
static int open_lock(const char *path, const char *out_path, int create, isw_error *err) {
    int fd = open(path, (create ? O_RDWR | O_CREAT : O_RDONLY) | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK, 0644);
    if (fd < 0) {
        if (errno == ELOOP)
            isw_fail(err, ISW_EINPUT, "%s: its lock file %s is a symbolic link; a lock file is never followed: "
                     "remove it", out_path, path);
        else
            isw_fail(err, ISW_EINPUT, "%s: cannot %s its lock file %s: %s", out_path, create ? "create" : "open",
                     path, strerror(errno));
        return -1;
    }
    struct stat sb;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode) || sb.st_nlink != 1) {
        isw_fail(err, ISW_EINPUT, "%s: its lock file %s is %s, not a regular file of one name: remove it",
                 out_path, path, S_ISREG(sb.st_mode) ? "a file with several names (hard links)" : kind_words(sb.st_mode));
        close(fd);
        return -1;
    }
    return fd;
}

isw_status isw_owner_take(isw_owner *o, const char *out_path, isw_error *err) {
    memset(o, 0, sizeof *o);
    o->fd = -1;
    if (snprintf(o->path, sizeof o->path, "%s.lock", out_path) >= (int)sizeof o->path)
        return isw_fail(err, ISW_EINPUT, "%s: the path is too long", out_path);
    int fd = open_lock(o->path, out_path, 1, err);
    if (fd < 0) return ISW_EINPUT;
    char host[256] = "?";
    gethostname(host, sizeof host - 1);
    int locked = lock_whole(fd);
    record r;
    int have = read_record(fd, &r);
    char who[512];
    if (locked == 0 || (have && record_stands(&r, host, locked == 1))) {
        if (have) describe(&r, who, sizeof who);
        else snprintf(who, sizeof who, "a process on this node (its lock is held)");
        close(fd);
        long long left = have ? ISW_OWNER_STALE_S - ((long long)time(NULL) - r.heartbeat) : 0;
        return isw_fail(err, ISW_EINPUT, "%s is being written by another run (%s); one run writes a file "
                        "at a time. Wait for it to end or stop it%s", out_path, who,
                        locked == 1 && left > 0 ? "; if it is gone (a crashed node), this lock lapses within "
                                                  "90 s of its last heartbeat" : "");
    }
    o->fd = fd;
    char since[64];
    time_t now = time(NULL);
    struct tm tmv;
    gmtime_r(&now, &tmv);
    strftime(since, sizeof since, "%Y-%m-%dT%H:%M:%SZ", &tmv);
    const char *job = getenv("SLURM_JOB_ID");
    snprintf(o->record, sizeof o->record, "host=%s pid=%ld job=%s since=%s", host, (long)getpid(),
             job && *job && !strpbrk(job, " \t\n") ? job : "-", since);
    write_record(o);
    pthread_mutex_init(&o->mu, NULL);
    pthread_cond_init(&o->wake, NULL);
    start_beat(o);
    return ISW_OK;
}

void isw_owner_release(isw_owner *o) {
    if (o->fd < 0) return;
    if (o->beating) {
        pthread_mutex_lock(&o->mu);
        o->stop = 1;
        pthread_cond_signal(&o->wake);
        pthread_mutex_unlock(&o->mu);
        pthread_join(o->beat, NULL);
        o->beating = 0;
    }
    pthread_mutex_destroy(&o->mu);
    pthread_cond_destroy(&o->wake);
    /* Removed while still locked, so nobody takes a file that is about to vanish. */
    unlink(o->path);
    close(o->fd);
    o->fd = -1;
}

int isw_owner_describe(const char *out_path, char *buf, size_t size) {
    char real[4096], path[4200];
    struct stat sb;
    /* The lock of any name of the file is beside its real one (isw_owner_resolve). */
    if (lstat(out_path, &sb) == 0 && S_ISLNK(sb.st_mode) && realpath(out_path, real)) out_path = real;
    snprintf(path, sizeof path, "%s.lock", out_path);
    isw_error ignored;
    int fd = open_lock(path, out_path, 0, &ignored);
    if (fd < 0) return 0;
    record r;
    int have = read_record(fd, &r);
    char host[256] = "?";
    gethostname(host, sizeof host - 1);
    int live = held_by_other(fd) || (have && strcmp(r.host, host) != 0 &&
                                     (long long)time(NULL) - r.heartbeat <= ISW_OWNER_STALE_S);
    close(fd);
    if (!live) return 0;
    if (have) describe(&r, buf, size);
    else snprintf(buf, size, "a process on this node");
    return 1;
}
