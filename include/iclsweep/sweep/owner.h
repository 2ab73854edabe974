/* One writer per result file: the run that writes OUT.h5 holds OUT.h5.lock.
 *
 * Two runs on one file (a double submit, a requeue that overlaps its predecessor) would train the
 * same tasks twice and could set a finished task back to pending, so rank 0 takes the file before
 * anything else touches it. The lock belongs to the file, not to a spelling of its path: a symbolic
 * link given as the output is resolved first (isw_owner_resolve), so every name that reaches the
 * file through links takes the same lock beside its one real name, and a file with more than one
 * name (hard links) is not written at all, since a run under its other name would take another
 * lock. (A lock on the result file itself would be simpler, but MPI-IO takes fcntl locks on the
 * whole file on NFS, so a writer holding one would block its own workers.) Lock files are opened
 * without following a link, and must be regular files of one name, so that a planted link never
 * makes the heartbeat write into another file. The lock file carries an owner record (host, pid, Slurm job, since,
 * heartbeat) under an fcntl lock: the lock dies with its holder, so a crashed run never blocks a
 * resume on the same node; across nodes, where a file system may not share fcntl locks, a record
 * whose heartbeat (renewed every ISW_OWNER_BEAT_S by a thread) is older than ISW_OWNER_STALE_S is
 * proven stale. */
#ifndef ICLSWEEP_SWEEP_OWNER_H
#define ICLSWEEP_SWEEP_OWNER_H

#include <pthread.h>
#include <stddef.h>

#include "iclsweep/core/error.h"

#define ISW_OWNER_BEAT_S 15
#define ISW_OWNER_STALE_S 90

typedef struct {
    int fd;              /* the open lock file, -1 when not held */
    char path[4200];     /* OUT.h5.lock */
    char record[512];    /* our record, without the heartbeat */
    pthread_t beat;      /* renews the heartbeat */
    int beating;
    pthread_mutex_t mu;
    pthread_cond_t wake;
    int stop;
} isw_owner;

/* The path a run writes for the output `path`: path itself when it is not a symbolic link, else
 * the file the link leads to, into real[size]. Refuses (ISW_EINPUT, naming path) a link that
 * leads nowhere. (The caller refuses a file of several names: isw_owner_check_file.) */
isw_status isw_owner_resolve(const char *path, char *real, size_t size, isw_error *err);
/* Refuses (ISW_EINPUT) path when it is no longer the regular file of one name that a run checked
 * (want_ino 0: any; else its device and inode): a check of what was opened, after HDF5 opened or
 * created it by name. */
isw_status isw_owner_check_file(const char *path, unsigned long long want_dev, unsigned long long want_ino,
                                isw_error *err);
/* Takes out_path (a path isw_owner_resolve returned) for this process, or refuses (ISW_EINPUT)
 * naming the holder. */
isw_status isw_owner_take(isw_owner *o, const char *out_path, isw_error *err);
/* Gives it back: stops the heartbeat, removes the lock file. Safe on an owner never taken. */
void isw_owner_release(isw_owner *o);
/* Describes the live holder of out_path (any name of it) into buf[size] ("host h, pid p, ..."); returns 1 when a
 * holder is live (its lock is held, or its heartbeat is fresh), 0 otherwise. */
int isw_owner_describe(const char *out_path, char *buf, size_t size);

#endif
