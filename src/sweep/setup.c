/* `iclsweep run`, the set-up (run_int.h): every rank agrees on the sweep and on the result file.
 *
 * Set-up is collective and agreed: rank 0 reads the sweep file and decides whether the output may
 * be created or resumed; every rank parses the same text, so every rank has the same grid. Every
 * step ends in sweep_agree, so a failure on one rank reaches all of them instead of leaving the
 * others waiting in a later collective call. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "iclsweep/core/isolate.h"
#include "iclsweep/core/keymap.h"
#include "run_int.h"

/* Makes every rank return the same verdict: ISW_OK when st is ISW_OK everywhere, otherwise the
 * status and message of the lowest rank that failed. Every step of set-up ends here, so a failure
 * on one rank (a file rank 0 alone reads, an allocation) reaches all of them instead of leaving
 * the others waiting in a later collective call. */
isw_status sweep_agree(runner *r, isw_status st, isw_error *err) {
    int mine = st != ISW_OK ? r->rank : r->size, first = r->size;
    MPI_Allreduce(&mine, &first, 1, MPI_INT, MPI_MIN, r->comm);
    if (first == r->size) return ISW_OK;
    if (r->rank == first && err->code == ISW_OK) err->code = st;
    MPI_Bcast(err, sizeof *err, MPI_BYTE, first, r->comm);
    return err->code;
}

/* Rank 0 reads the sweep text (from the sweep file); every rank receives it and parses it. */
isw_status sweep_load(runner *r, const isw_run_opts *o, isw_error *err) {
    long len = 0;
    char *text = NULL;
    isw_status st = ISW_OK;
    if (r->rank == 0) {
        isw_sweep probe;
        st = o->sweep_text ? isw_sweep_parse(o->sweep_text, (long)strlen(o->sweep_text), o->sweep_path, o->max_tasks,
                                             &probe, err)
                           : isw_sweep_load(o->sweep_path, o->max_tasks, &probe, err);
        if (!st) {
            len = (long)strlen(probe.text);
            text = probe.text;
            probe.text = NULL;
            isw_sweep_free(&probe);
        }
    }
    if ((st = sweep_agree(r, st, err))) {
        free(text);
        return st;
    }
    MPI_Bcast(&len, 1, MPI_LONG, 0, r->comm);
    if (r->rank != 0 && !(text = malloc((size_t)len + 1)))
        st = isw_fail(err, ISW_EINTERNAL, "rank %d: out of memory receiving the sweep", r->rank);
    if ((st = sweep_agree(r, st, err))) {
        free(text);
        return st;
    }
    MPI_Bcast(text, (int)len + 1, MPI_CHAR, 0, r->comm);
    st = isw_sweep_parse(text, len, o->sweep_path, o->max_tasks, &r->sw, err);
    free(text);
    return st;
}

/* Refuses an output that is not a regular file (a device, FIFO, socket or folder), that is the
 * sweep file itself under any spelling of its path, or that has several names. r->out is the output with a link resolved
 * (isw_owner_resolve); *exists says whether it is there, and r->out_dev/out_ino what it is. */
static isw_status check_output_kind(runner *r, const isw_run_opts *o, int *exists, isw_error *err) {
    struct stat out, in;
    *exists = lstat(r->out, &out) == 0;
    if (!*exists) return ISW_OK;
    if (!S_ISREG(out.st_mode))
        return isw_fail(err, ISW_EINPUT, "%s is not a regular file (a %s); the result file must be a regular "
                        "file or a new path", o->out_path, S_ISDIR(out.st_mode) ? "folder" : S_ISFIFO(out.st_mode)
                        ? "FIFO" : S_ISCHR(out.st_mode) || S_ISBLK(out.st_mode) ? "device" : S_ISSOCK(out.st_mode)
                        ? "socket" : "special file");
    if (stat(o->sweep_path, &in) == 0 && in.st_dev == out.st_dev && in.st_ino == out.st_ino)
        return isw_fail(err, ISW_EINPUT, "%s is the sweep file itself; refusing to write the results over it "
                        "(name another output with -o)", o->out_path);
    /* A run under another name of the file would take another lock (owner.h). */
    if (out.st_nlink > 1)
        return isw_fail(err, ISW_EINPUT, "%s has %lu names (hard links); a run writes only a file of one name, "
                        "since a run under another name would not see this one's lock: remove the other names, "
                        "or write a copy", o->out_path, (unsigned long)out.st_nlink);
    r->out_dev = (unsigned long long)out.st_dev;
    r->out_ino = (unsigned long long)out.st_ino;
    return ISW_OK;
}

/* A mis-launched job: Slurm started several tasks for this step, but MPI sees one rank (srun and
 * this MPI disagree on PMI, so N separate copies would each run the whole sweep on one file). */
isw_status sweep_check_launch(const runner *r, isw_error *err) {
    const char *n = getenv("SLURM_STEP_NUM_TASKS");
    if (r->size != 1 || !n || atoi(n) <= 1) return ISW_OK;
    return isw_fail(err, ISW_EINPUT, "Slurm started %d tasks for this step, but MPI sees a single rank in each: "
                    "srun and this MPI do not agree on how to start (PMI), and every copy would run the whole "
                    "sweep. Launch with srun --mpi=pmix (srun --mpi=list shows the choices) or with mpirun", atoi(n));
}

/* Rank 0, on a --resume of an existing output: whether it is an unfinished creation (a job killed
 * while creating it) that holds no results, which is then created again as if it were not there,
 * so that a chain of jobs passing --resume goes on. */
static isw_status unfinished_creation(runner *r, const isw_run_opts *o, int *again, isw_error *err) {
    isw_store_peek_info peek;
    *again = 0;
    isw_status st = isw_store_peek(r->out, &peek, err);
    if (st) return st;
    *again = peek.answer[ISW_PEEK_ICLSWEEP] && !peek.answer[ISW_PEEK_FINISHED] && !peek.answer[ISW_PEEK_RESULTS];
    if (*again && !o->quiet)
        sweep_say(r, ISW_SAY_NOTE, "%s: its creation never finished (the job creating it was stopped) and it holds "
                  "no results; creating it again", o->out_path);
    return ISW_OK;
}

/* Refuses a --from file (or, for merge, a shard) that is the output itself when the output is
 * about to be created anew: it would be emptied before a row of it is read. */
static isw_status check_from_is_not_output(const runner *r, const isw_run_opts *o, isw_error *err) {
    struct stat out, from;
    if (lstat(r->out, &out) != 0) return ISW_OK;
    for (int i = 0; i < o->n_from; i++)
        if (stat(o->from[i], &from) == 0 && from.st_dev == out.st_dev && from.st_ino == out.st_ino)
            return o->no_train
                ? isw_fail(err, ISW_EINPUT, "merge: %s is also the output -o %s, which --force empties before any "
                           "shard is read; write the merged file to a new path", o->from[i], o->out_path)
                : isw_fail(err, ISW_EINPUT, "--from %s is the output file itself, which this run starts over "
                           "before anything is copied from it: copy it first (cp %s OLD.h5, then --from OLD.h5), "
                           "or continue it with --resume", o->from[i], o->out_path);
    return ISW_OK;
}

/* Rank 0 decides whether the output may be created or continued (--resume on a file that is
 * not there, or whose creation never finished, starts it, so a job script is one line whatever
 * happened before); all ranks get the verdict, r->reopen and r->out. */
isw_status sweep_check_output(runner *r, const isw_run_opts *o, isw_error *err) {
    isw_status st = ISW_OK;
    int exists = 0, again = 0;
    if (r->rank == 0) {
        st = isw_owner_resolve(o->out_path, r->out, sizeof r->out, err);
        if (!st) st = check_output_kind(r, o, &exists, err);
        /* Taken before anything reads, truncates or writes the file, and held to the end. */
        if (!st) st = isw_owner_take(&r->owner, r->out, err);
        if (st) {
        } else if (!o->resume && exists && !o->force)
            st = isw_fail(err, ISW_EINPUT, "%s already exists; refusing to overwrite it (use --resume to "
                          "continue it, or --force to start over)", o->out_path);
        else if (o->retry_failed && !o->resume)
            st = isw_fail(err, ISW_EINPUT, "--retry-failed goes with --resume");
        else if (o->resume && o->force)
            st = isw_fail(err, ISW_EINPUT, "--resume and --force contradict each other; choose one");
        else if (o->resume && exists)
            st = unfinished_creation(r, o, &again, err);
        if (!st && exists && (!o->resume || again)) st = check_from_is_not_output(r, o, err);
    }
    if ((st = sweep_agree(r, st, err))) return st;
    r->reopen = o->resume && exists && !again;
    MPI_Bcast(&r->reopen, 1, MPI_INT, 0, r->comm);
    MPI_Bcast(r->out, (int)sizeof r->out, MPI_CHAR, 0, r->comm);
    return ISW_OK;
}

/* The first line where two texts differ, for a message; line numbers are 1-based. */
static void first_line_difference(const char *a, const char *b, char *buf, size_t size) {
    int line = 1;
    while (*a || *b) {
        size_t la = strcspn(a, "\n"), lb = strcspn(b, "\n");
        if (la != lb || strncmp(a, b, la) != 0) {
            snprintf(buf, size, "line %d: '%.*s' in the file's sweep vs '%.*s' now", line,
                     (int)(la > 60 ? 60 : la), a, (int)(lb > 60 ? 60 : lb), b);
            return;
        }
        a += la + (a[la] == '\n');
        b += lb + (b[lb] == '\n');
        line++;
    }
    snprintf(buf, size, "the end");
}

/* Adds to a refusal of the output what differs between its sweep text and this sweep's. */
static void explain_difference(const runner *r, const char *path, isw_error *err) {
    isw_store_info info;
    isw_error ignored;
    if (isw_store_read_info(path, &info, &ignored) != ISW_OK) return;
    char diff[256];
    size_t len = strlen(err->msg);
    if (strcmp(info.sweep, r->sw.text) != 0) {
        first_line_difference(info.sweep, r->sw.text, diff, sizeof diff);
        snprintf(err->msg + len, sizeof err->msg - len, "; first difference at %s. Resume with the original "
                 "sweep file, or write to a new file", diff);
    }
    isw_store_info_free(&info);
}

/* Refuses to create a file of `bytes` where the file system has less room (creation writes
 * every byte of it, so a run that has made its file never runs out of space for it). */
static isw_status check_space(const char *path, double bytes, isw_error *err) {
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (!slash) snprintf(dir, sizeof dir, ".");
    else if (slash == dir) dir[1] = '\0';
    else *slash = '\0';
    struct statvfs fs;
    if (statvfs(dir, &fs) != 0) return ISW_OK; /* creation will say what is wrong with the folder */
    double avail = (double)fs.f_bavail * (double)fs.f_frsize;
    struct stat sb;
    if (stat(path, &sb) == 0) avail += (double)sb.st_size; /* --force frees the old file */
    if (bytes <= avail) return ISW_OK;
    return isw_fail(err, ISW_EINPUT, "%s: the result file needs %.1f MB and its file system has %.1f MB free; "
                    "free some space or write it elsewhere", path, bytes / 1e6, avail / 1e6);
}

/* Rank 0: whether the file at path, which this sweep cannot resume as it is, can grow into it:
 * made by another sweep (another sweep text or number of tasks) or in an older format or layout
 * (without checksums; a file of this very sweep and layout that fails its checks is damaged, and
 * is refused rather than rebuilt), of the same model, seed and
 * generator, and every result in it (a done or diverged task) is a task of this sweep, so that
 * nothing is lost when the grown file replaces it. */
static int can_grow(runner *r, const char *path) {
    const isw_store_layout *lay = &r->layout.lay;
    isw_store_table tab;
    isw_error ignored;
    if (isw_store_read_table(path, &tab, &ignored) != ISW_OK) return 0;
    /* A file of this format always holds its checksums (read_table refuses it otherwise). */
    int ok = strcmp(tab.info.format, ISW_STORE_FORMAT) != 0 ||
             strcmp(tab.info.spec_hash, r->layout.spec_hash) != 0 || tab.info.T != lay->T;
    for (const char *const *m = lay->match; *m; m++) {
        const char *have = !strcmp(*m, "model") ? tab.info.model : !strcmp(*m, "seed") ? tab.info.seed
                         : !strcmp(*m, "generator") ? tab.info.generator : NULL;
        for (int i = 0; have && i < lay->n_attrs; i++)
            if (lay->attrs[i].text && !strcmp(lay->attrs[i].name, *m)) ok = ok && !strcmp(have, lay->attrs[i].text);
    }
    isw_keymap map;
    if (!ok || r->layout.shard[0] || isw_keymap_init(&map, lay->T, &ignored) != ISW_OK) {
        isw_store_table_free(&tab);
        return 0;
    }
    for (int64_t t = 0; t < lay->T; t++) {
        isw_store_row row;
        memset(&row, 0, sizeof row);
        lay->resolve_row(lay->ctx, t, &row);
        isw_keymap_put(&map, row.key, t);
    }
    for (int64_t t = 0; ok && t < tab.info.T; t++)
        if (tab.status[t] == ISW_TASK_DONE || tab.status[t] == ISW_TASK_DIVERGED)
            ok = isw_keymap_get(&map, tab.key[t]) >= 0;
    isw_keymap_free(&map);
    isw_store_table_free(&tab);
    return ok;
}

/* The origins attribute: the files rows are copied from, each with its sweep's hash. */
static isw_status origins_json(const char *const *files, int n, char **out, isw_error *err) {
    size_t cap = 64;
    for (int i = 0; i < n; i++) cap += 3 * strlen(files[i]) + 128;
    char *buf = isw_malloc(cap, err);
    if (!buf) return ISW_EINTERNAL;
    size_t len = (size_t)snprintf(buf, cap, "[");
    for (int i = 0; i < n; i++) {
        isw_store_info info;
        isw_status st = isw_store_read_info(files[i], &info, err);
        if (st) {
            free(buf);
            return st;
        }
        len += (size_t)snprintf(buf + len, cap - len, "%s{\"file\": \"", i ? ", " : "");
        for (const char *c = files[i]; *c && len + 8 < cap; c++) { /* a JSON string */
            if (*c == '"' || *c == '\\') buf[len++] = '\\';
            if ((unsigned char)*c < 0x20) len += (size_t)snprintf(buf + len, cap - len, "\\u%04x", *c);
            else buf[len++] = *c;
        }
        len += (size_t)snprintf(buf + len, cap - len, "\", \"spec_hash\": \"%.16s\"}", info.spec_hash);
        isw_store_info_free(&info);
    }
    snprintf(buf + len, cap - len, "]");
    *out = buf;
    return ISW_OK;
}

/* Rank 0: copies the finished rows of file `from` into the store (isw_store_import), adds them to
 * *copied, and says what it refused: rows failing their checksum run here; a file of an older
 * format has no checksums to check. */
static isw_status import_one(runner *r, const isw_run_opts *o, const char *from, int origin, int64_t *copied,
                             isw_error *err) {
    isw_store_import_report rep;
    isw_status st = isw_store_import(r->store, &r->layout.lay, from, origin, &rep, err);
    if (st) return st;
    *copied += rep.copied;
    if (rep.refused > 0) {
        char rows[160] = "";
        size_t len = 0;
        for (int64_t k = 0; k < rep.refused && k < ISW_IMPORT_SHOWN && len + 24 < sizeof rows; k++)
            len += (size_t)snprintf(rows + len, sizeof rows - len, "%s%lld", k ? ", " : "", (long long)rep.refused_rows[k]);
        sweep_say(r, ISW_SAY_WARNING, "%s: %lld finished row%s %s (row%s %s%s: damaged after %s written; iclsweep "
                  "verify %s names each); not copied, %s here", from, (long long)rep.refused, rep.refused > 1 ? "s" : "",
                  rep.refused > 1 ? "fail their checksums" : "fails its checksum", rep.refused > 1 ? "s" : "", rows,
                  rep.refused > ISW_IMPORT_SHOWN ? ", ..." : "", rep.refused > 1 ? "they were" : "it was", from,
                  rep.refused > 1 ? "they run" : "it runs");
    }
    if (!rep.checked && !o->quiet)
        sweep_say(r, ISW_SAY_NOTE, "%s is of an older format, without checksums: no checksums to check", from);
    return ISW_OK;
}

/* Rank 0, on a resume in place: every finished row is checked against its checksum; a row that
 * fails (its data changed after it was written) is put back as creation made it, and runs again. */
static isw_status rerun_damaged_rows(runner *r, const isw_run_opts *o, isw_error *err) {
    int64_t T = r->layout.lay.T, n_bad = 0;
    uint8_t *status = isw_malloc((size_t)T, err), *attempts = isw_malloc((size_t)T, err), *bad = isw_malloc((size_t)T, err);
    isw_status st = status && attempts && bad ? isw_store_read_states(r->store, status, attempts, err) : ISW_EINTERNAL;
    if (!st) st = isw_store_check_rows(r->store, status, bad, &n_bad, err);
    char rows[160] = "";
    size_t len = 0;
    for (int64_t t = 0; !st && t < T; t++) {
        if (!bad[t]) continue;
        if (len + 24 < sizeof rows) len += (size_t)snprintf(rows + len, sizeof rows - len, "%s%lld", len ? ", " : "", (long long)t);
        st = isw_store_reset_row(r->store, t, err);
    }
    if (!st && n_bad > 0)
        sweep_say(r, ISW_SAY_WARNING, "%s: %lld finished row%s %s (row%s %s: damaged after %s written); %s again",
                  o->out_path, (long long)n_bad, n_bad > 1 ? "s" : "", n_bad > 1 ? "fail their checksums" : "fails its checksum",
                  n_bad > 1 ? "s" : "", rows, n_bad > 1 ? "they were" : "it was", n_bad > 1 ? "they run" : "it runs");
    free(status);
    free(attempts);
    free(bad);
    return st;
}

/* Creates path (collective), after checking there is room, and copies into it the finished rows
 * of the files in from[n] (rank 0); *copied counts them. */
static isw_status create_store(runner *r, const isw_run_opts *o, const char *path, const char *const *from, int n,
                               int64_t *copied, isw_error *err) {
    const isw_store_layout *lay = &r->layout.lay;
    isw_status st = ISW_OK;
    char *json = NULL;
    if (r->rank == 0) {
        for (int i = 0; !st && i < n; i++) st = isw_store_probe(from[i], err);
        if (!st) st = check_space(path, isw_store_bytes(lay), err);
        if (!st && n > 0) st = origins_json(from, n, &json, err);
    }
    if ((st = sweep_agree(r, st, err))) return st;
    long len = json ? (long)strlen(json) : 0;
    MPI_Bcast(&len, 1, MPI_LONG, 0, r->comm);
    if (len > 0) {
        if (r->rank != 0 && !(json = malloc((size_t)len + 1)))
            st = isw_fail(err, ISW_EINTERNAL, "out of memory");
        if ((st = sweep_agree(r, st, err))) return st;
        MPI_Bcast(json, (int)len + 1, MPI_CHAR, 0, r->comm);
        st = isw_layout_set_origins(&r->layout, json, err);
        free(json);
        if ((st = sweep_agree(r, st, err))) return st;
    }
    double t0 = isw_now();
    if ((st = isw_store_create(path, lay, r->comm, &r->store, err))) return st;
    *copied = 0;
    for (int i = 0; r->rank == 0 && !st && i < n; i++) st = import_one(r, o, from[i], i, copied, err);
    if (!o->quiet && r->rank == 0 && !st)
        sweep_say(r, ISW_SAY_NOTE, "created %s (%lld tasks x %lld log points) in %.2f s%s", path, (long long)lay->T,
                (long long)lay->S, isw_now() - t0, n ? "" : "");
    if (!o->quiet && r->rank == 0 && !st && n > 0)
        sweep_say(r, ISW_SAY_NOTE, "copied %lld finished tasks from %d file%s; they are not rerun", (long long)*copied,
                n, n > 1 ? "s" : "");
    return sweep_agree(r, st, err);
}

typedef struct {
    const char *path;
    const isw_store_layout *lay;
} layout_check;

static isw_status run_check_layout(void *ctx, isw_error *err) {
    const layout_check *c = ctx;
    return isw_store_check_layout(c->path, c->lay, err);
}

/* isw_store_check_layout in a child process (rank 0 alone; the child touches no MPI). */
static isw_status check_layout_isolated(const char *path, const isw_store_layout *lay, isw_error *err) {
    layout_check c = {path, lay};
    int sig = 0;
    isw_status st = isw_run_isolated(run_check_layout, &c, ISW_PROBE_SECONDS, &sig, err);
    if (sig)
        return isw_store_crashed(path, sig, err);
    return st;
}

/* Rank 0: makes tmp (OUT.h5.growing) a new file of this run's, opened without following a link,
 * and records its identity in *dev, *ino. A leftover of an earlier grow of this sweep (stopped
 * before it took the file's place; every result is still in the file) is removed first; anything
 * else of that name is refused, never overwritten. */
static isw_status claim_growing(runner *r, const isw_run_opts *o, const char *tmp, unsigned long long *dev,
                                unsigned long long *ino, isw_error *err) {
    struct stat sb;
    if (lstat(tmp, &sb) == 0) {
        isw_store_peek_info peek;
        memset(&peek, 0, sizeof peek);
        isw_error why;
        int empty = S_ISREG(sb.st_mode) && sb.st_nlink == 1 && sb.st_size == 0; /* stopped before HDF5 wrote */
        int ours = empty || (S_ISREG(sb.st_mode) && sb.st_nlink == 1 && isw_store_peek(tmp, &peek, &why) == ISW_OK &&
                             peek.answer[ISW_PEEK_ICLSWEEP] && !strcmp(peek.spec_hash, r->layout.spec_hash));
        if (!ours)
            return isw_fail(err, ISW_EINPUT, "%s: the sweep grew, and its grown file is written as %s first, which "
                            "exists and is %s; it is never overwritten. %s still holds every result: remove or "
                            "move %s to go on", o->out_path, tmp,
                            !S_ISREG(sb.st_mode) ? "not a regular file (a link, folder or special file)"
                            : sb.st_nlink != 1 ? "a file with several names (hard links)"
                            : peek.answer[ISW_PEEK_ICLSWEEP] ? "a result file of another sweep (an earlier grow?)"
                            : "not a result file of this sweep", o->out_path, tmp);
        if (unlink(tmp) != 0)
            return isw_fail(err, ISW_EINPUT, "%s: cannot remove the leftover %s: %s", o->out_path, tmp, strerror(errno));
        if (!o->quiet)
            sweep_say(r, ISW_SAY_NOTE, "removed %s, left by a grow of this sweep that was stopped before it took the "
                      "place of %s", tmp, o->out_path);
    }
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd < 0) return isw_fail(err, ISW_EINPUT, "%s: cannot create %s: %s", o->out_path, tmp, strerror(errno));
    int ok = fstat(fd, &sb) == 0;
    close(fd);
    if (!ok) return isw_fail(err, ISW_EINPUT, "%s: cannot create %s: %s", o->out_path, tmp, strerror(errno));
    *dev = (unsigned long long)sb.st_dev;
    *ino = (unsigned long long)sb.st_ino;
    return ISW_OK;
}

/* The sweep grew (more axis values, zip points, replicates): the grown file is written beside the
 * old one as OUT.h5.growing (a new file of this run's), the old results and the --from files are
 * copied into it, and it then takes the old one's name. On any failure it is removed, so a refused
 * or failed grow leaves the old file as it was and nothing beside it. Collective. */
static isw_status grow_store(runner *r, const isw_run_opts *o, isw_error *err) {
    char tmp[4300];
    const char *from[ISW_MAX_FROM + 1] = {r->out};
    for (int i = 0; i < o->n_from; i++) from[i + 1] = o->from[i];
    snprintf(tmp, sizeof tmp, "%s.growing", r->out);
    unsigned long long dev = 0, ino = 0;
    int64_t copied = 0;
    isw_status st = r->rank == 0 ? claim_growing(r, o, tmp, &dev, &ino, err) : ISW_OK;
    if ((st = sweep_agree(r, st, err))) return st;
    st = create_store(r, o, tmp, from, o->n_from + 1, &copied, err);
    if (r->rank == 0) {
        /* What HDF5 created by name is the file claimed above, and it takes the old one's place. */
        if (!st) st = isw_owner_check_file(tmp, dev, ino, err);
        if (!st && rename(tmp, r->out) != 0)
            st = isw_fail(err, ISW_EINTERNAL, "%s: cannot put the grown file in its place: %s", o->out_path,
                          strerror(errno));
        struct stat sb;
        if (st && lstat(tmp, &sb) == 0 && (unsigned long long)sb.st_ino == ino && (unsigned long long)sb.st_dev == dev)
            unlink(tmp);
        if (!st && !o->quiet)
            sweep_say(r, ISW_SAY_NOTE, "grew %s to this sweep's %lld tasks; %lld finished ones kept", o->out_path,
                      (long long)r->layout.lay.T, (long long)copied);
    }
    return sweep_agree(r, st, err);
}

/* Opens or creates the store; on resume rank 0 first checks the file serially, then all open it,
 * then rank 0 checks that what was opened is the file it checked and compares identities. A
 * resume with a sweep that grew writes a grown file (grow_store). Every step ends in agreement. */
isw_status sweep_open_store(runner *r, const isw_run_opts *o, isw_error *err) {
    const isw_store_layout *lay = &r->layout.lay;
    isw_status st = ISW_OK;
    int64_t copied = 0;
    if (!r->reopen) {
        if ((st = create_store(r, o, r->out, o->from, o->n_from, &copied, err))) return st;
        if (r->rank == 0) st = isw_owner_check_file(r->out, 0, 0, err);
        if ((st = sweep_agree(r, st, err))) return st;
        r->reopen = o->n_from > 0; /* the copied rows are results: read the states back */
        r->created = 1;
        return ISW_OK;
    }
    int grow = 0;
    /* A crafted file must not crash rank 0 inside HDF5: its metadata is read, and checked against
     * the layout, in a child first. */
    if (r->rank == 0) st = isw_store_probe(r->out, err);
    if (r->rank == 0 && !st && (st = check_layout_isolated(r->out, lay, err)) == ISW_EINPUT) {
        grow = can_grow(r, r->out);
        if (grow) st = ISW_OK;
        else explain_difference(r, r->out, err);
    }
    if ((st = sweep_agree(r, st, err))) return st;
    MPI_Bcast(&grow, 1, MPI_INT, 0, r->comm);
    if (grow) return grow_store(r, o, err);
    if ((st = isw_store_open(r->out, lay, r->comm, &r->store, err))) return st;
    if (r->rank == 0) st = isw_owner_check_file(r->out, r->out_dev, r->out_ino, err);
    /* Damaged rows first: a finished row whose identity was damaged fails its checksum and is put
     * back with the layout's identity, so only a row of another sweep fails the comparison. */
    if (!st && r->rank == 0) st = rerun_damaged_rows(r, o, err);
    if (!st && r->rank == 0 && (st = isw_store_check_keys(r->store, lay, err)) == ISW_EINPUT)
        explain_difference(r, r->out, err);
    if ((st = sweep_agree(r, st, err))) return st;
    for (int i = 0; r->rank == 0 && !st && i < o->n_from; i++) st = import_one(r, o, o->from[i], -1, &copied, err);
    return sweep_agree(r, st, err);
}

isw_status sweep_alloc_buffers(runner *r, isw_error *err) {
    r->S = r->layout.lay.S;
    r->vals = isw_malloc((size_t)r->sw.model->n_params * sizeof *r->vals, err);
    r->cfg = isw_calloc(1, r->sw.model->cfg_size, err);
    r->traj = isw_malloc((size_t)r->model->n_traj * (size_t)r->S * sizeof *r->traj, err);
    r->final = isw_malloc(((size_t)r->model->n_final + 1) * sizeof *r->final, err);
    r->steps = isw_malloc((size_t)r->S * sizeof *r->steps, err);
    return r->vals && r->cfg && r->traj && r->final && r->steps ? ISW_OK : ISW_EINTERNAL;
}
