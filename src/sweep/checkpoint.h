/* Where task checkpoints live: a folder beside the result file, OUT.h5.ckpt/, with one file per
 * task that has one, named by the task's identity (<key>.ckpt), so a checkpoint follows its task
 * whatever its row (a grown file, a shard). docs/architecture.md ("Durability order") and
 * docs/file-format.md ("Checkpoints") say what a file holds and in what order things are written.
 *
 * Workload: at most one file per running task (1 to a few hundred), of kilobytes to tens of
 * megabytes, rewritten every checkpoint_every seconds and at every stop, read once when a task
 * resumes, removed when it is done. So each write goes to a file of its own (the task's name plus
 * the writer's pid), is flushed to disk (fsync) and renamed over the old one, and the folder is
 * flushed too: a kill at any instant leaves either the old checkpoint or the new one, whole. The
 * files are never trusted for more than their checks (include/iclsweep/core/state.h) allow. */
#ifndef ICLSWEEP_SWEEP_CHECKPOINT_H
#define ICLSWEEP_SWEEP_CHECKPOINT_H

#include <stddef.h>
#include <stdint.h>

#include "iclsweep/core/error.h"

typedef struct {
    char dir[4200]; /* OUT.h5.ckpt */
} isw_ckpt_dir;

/* The checkpoint folder of the result file out_path (nothing touched). */
isw_status isw_ckpt_dir_of(isw_ckpt_dir *c, const char *out_path, isw_error *err);
/* Rank 0, before any task runs: makes the folder; with fresh (a new result file), removes the
 * checkpoints an earlier file of the same name left. */
isw_status isw_ckpt_prepare(const isw_ckpt_dir *c, int fresh, isw_error *err);
/* Rank 0, when every task is done: removes every checkpoint and the folder. */
void isw_ckpt_remove_all(const isw_ckpt_dir *c);
/* The path of task `key`'s checkpoint into buf[size]. */
void isw_ckpt_path(const isw_ckpt_dir *c, uint64_t key, char *buf, size_t size);

/* Writes data[size] as task key's checkpoint, atomically (a file of this process's own, fsync,
 * rename, fsync of the folder). ISW_EINTERNAL with the reason when it cannot. */
isw_status isw_ckpt_write(const isw_ckpt_dir *c, uint64_t key, const unsigned char *data, size_t size,
                          isw_error *err);
/* Reads task key's checkpoint into a malloc'd *data[*size] (at most max bytes: a bigger file is
 * refused, ISW_EINPUT). *data is NULL (and ISW_OK) when there is none. */
isw_status isw_ckpt_read(const isw_ckpt_dir *c, uint64_t key, size_t max, unsigned char **data, size_t *size,
                         isw_error *err);
/* Removes task key's checkpoint (there may be none). */
void isw_ckpt_remove(const isw_ckpt_dir *c, uint64_t key);

#endif
