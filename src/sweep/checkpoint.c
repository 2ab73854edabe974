/* The checkpoint folder (checkpoint.h): atomic writes, bounded reads. */
#include "checkpoint.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SUFFIX ".ckpt"

isw_status isw_ckpt_dir_of(isw_ckpt_dir *c, const char *out_path, isw_error *err) {
    if (snprintf(c->dir, sizeof c->dir, "%s%s", out_path, SUFFIX) >= (int)sizeof c->dir - 40)
        return isw_fail(err, ISW_EINPUT, "%s: the path is too long", out_path);
    return ISW_OK;
}

void isw_ckpt_path(const isw_ckpt_dir *c, uint64_t key, char *buf, size_t size) {
    snprintf(buf, size, "%s/%016llx%s", c->dir, (unsigned long long)key, SUFFIX);
}

/* Whether name is a file this folder holds: a checkpoint, or one being written (a tmp file). */
static int ours(const char *name) {
    size_t n = strspn(name, "0123456789abcdef");
    return n == 16 && strncmp(name + 16, SUFFIX, strlen(SUFFIX)) == 0;
}

/* Removes the folder's checkpoints (and left-over partial writes). */
static void remove_files(const isw_ckpt_dir *c) {
    DIR *d = opendir(c->dir);
    if (!d) return;
    char path[4600];
    for (struct dirent *e; (e = readdir(d));) {
        if (!ours(e->d_name)) continue;
        snprintf(path, sizeof path, "%s/%s", c->dir, e->d_name);
        unlink(path);
    }
    closedir(d);
}

isw_status isw_ckpt_prepare(const isw_ckpt_dir *c, int fresh, isw_error *err) {
    if (mkdir(c->dir, 0755) != 0 && errno != EEXIST)
        return isw_fail(err, ISW_EINPUT, "%s: cannot make the checkpoint folder: %s", c->dir, strerror(errno));
    struct stat sb;
    if (stat(c->dir, &sb) != 0 || !S_ISDIR(sb.st_mode))
        return isw_fail(err, ISW_EINPUT, "%s is in the way of the checkpoint folder (not a folder); move it", c->dir);
    if (fresh) remove_files(c);
    return ISW_OK;
}

void isw_ckpt_remove_all(const isw_ckpt_dir *c) {
    remove_files(c);
    rmdir(c->dir); /* fails, harmlessly, when someone put other files there */
}

/* Writes all of data[size] to fd. */
static int write_all(int fd, const unsigned char *data, size_t size) {
    while (size > 0) {
        ssize_t n = write(fd, data, size);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return 0;
        data += n;
        size -= (size_t)n;
    }
    return 1;
}

isw_status isw_ckpt_write(const isw_ckpt_dir *c, uint64_t key, const unsigned char *data, size_t size,
                          isw_error *err) {
    char path[4300], tmp[4400];
    isw_ckpt_path(c, key, path, sizeof path);
    snprintf(tmp, sizeof tmp, "%s.%ld", path, (long)getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return isw_fail(err, ISW_EINTERNAL, "%s: cannot write a checkpoint: %s", tmp, strerror(errno));
    /* Durability order: the new file whole on disk, then its name, then the folder's entry. */
    int ok = write_all(fd, data, size) && fsync(fd) == 0;
    int e = errno;
    if (close(fd) != 0 && ok) {
        ok = 0;
        e = errno;
    }
    if (ok && rename(tmp, path) != 0) {
        ok = 0;
        e = errno;
    }
    if (!ok) {
        unlink(tmp);
        return isw_fail(err, ISW_EINTERNAL, "%s: writing a checkpoint failed: %s", path, strerror(e));
    }
    int dfd = open(c->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        fsync(dfd); /* some file systems refuse it on a folder; the rename is done either way */
        close(dfd);
    }
    return ISW_OK;
}

isw_status isw_ckpt_read(const isw_ckpt_dir *c, uint64_t key, size_t max, unsigned char **data, size_t *size,
                         isw_error *err) {
    char path[4300];
    isw_ckpt_path(c, key, path, sizeof path);
    *data = NULL;
    *size = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT) return ISW_OK;
    if (fd < 0) return isw_fail(err, ISW_EINPUT, "cannot open it: %s", strerror(errno));
    struct stat sb;
    isw_status st = ISW_OK;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode))
        st = isw_fail(err, ISW_EINPUT, "not a regular file");
    else if ((size_t)sb.st_size > max)
        st = isw_fail(err, ISW_EINPUT, "its size (%lld bytes) is not the size of this task's state (%zu)",
                      (long long)sb.st_size, max);
    unsigned char *buf = st ? NULL : malloc((size_t)sb.st_size + 1);
    if (!st && !buf) st = isw_fail(err, ISW_EINTERNAL, "out of memory reading it");
    size_t got = 0;
    while (!st && got < (size_t)sb.st_size) {
        ssize_t n = read(fd, buf + got, (size_t)sb.st_size - got);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) st = isw_fail(err, ISW_EINPUT, "reading it failed: %s", n < 0 ? strerror(errno) : "it shrank");
        else got += (size_t)n;
    }
    close(fd);
    if (st) {
        free(buf);
        return st;
    }
    *data = buf;
    *size = got;
    return ISW_OK;
}

void isw_ckpt_remove(const isw_ckpt_dir *c, uint64_t key) {
    char path[4300];
    isw_ckpt_path(c, key, path, sizeof path);
    unlink(path);
}
