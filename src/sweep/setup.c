/* `iclsweep run`, the set-up (run_int.h): every rank agrees on the sweep and on the result file.
 *
 * Set-up is collective and agreed: rank 0 reads the sweep file and decides whether the output may
 * be created or resumed; every rank parses the same text, so every rank has the same grid. Every
 * step ends in sweep_agree, so a failure on one rank reaches all of them instead of leaving the
 * others waiting in a later collective call. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

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

/* Refuses an output that is not a regular file (a device, FIFO, socket or folder), or that is the
 * sweep file itself under any spelling of its path. *exists says whether it is there. */
static isw_status check_output_kind(const isw_run_opts *o, int *exists, isw_error *err) {
    struct stat out, in;
    *exists = stat(o->out_path, &out) == 0;
    if (!*exists) return ISW_OK;
    if (!S_ISREG(out.st_mode))
        return isw_fail(err, ISW_EINPUT, "%s is not a regular file (a %s); the result file must be a regular "
                        "file or a new path", o->out_path, S_ISDIR(out.st_mode) ? "folder" : S_ISFIFO(out.st_mode)
                        ? "FIFO" : S_ISCHR(out.st_mode) || S_ISBLK(out.st_mode) ? "device" : S_ISSOCK(out.st_mode)
                        ? "socket" : "special file");
    if (stat(o->sweep_path, &in) == 0 && in.st_dev == out.st_dev && in.st_ino == out.st_ino)
        return isw_fail(err, ISW_EINPUT, "%s is the sweep file itself; refusing to write the results over it "
                        "(name another output with -o)", o->out_path);
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

/* Rank 0 decides whether the output may be created or continued (--resume on a file that is
 * not there starts it, so a job script is one line whatever happened before); all ranks get the
 * verdict, and r->reopen. */
isw_status sweep_check_output(runner *r, const isw_run_opts *o, isw_error *err) {
    isw_status st = ISW_OK;
    int exists = 0;
    if (r->rank == 0) {
        st = check_output_kind(o, &exists, err);
        /* Taken before anything reads, truncates or writes the file, and held to the end. */
        if (!st) st = isw_owner_take(&r->owner, o->out_path, err);
        if (st) {
        } else if (!o->resume && exists && !o->force)
            st = isw_fail(err, ISW_EINPUT, "%s already exists; refusing to overwrite it (use --resume to "
                          "continue it, or --force to start over)", o->out_path);
        else if (o->retry_failed && !o->resume)
            st = isw_fail(err, ISW_EINPUT, "--retry-failed goes with --resume");
        else if (o->resume && o->force)
            st = isw_fail(err, ISW_EINPUT, "--resume and --force contradict each other; choose one");
    }
    if ((st = sweep_agree(r, st, err))) return st;
    r->reopen = o->resume && exists;
    MPI_Bcast(&r->reopen, 1, MPI_INT, 0, r->comm);
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
 * same model, seed and generator, and every result in it (a done or diverged task) is a task of
 * this sweep, so that nothing is lost when the grown file replaces it. */
static int can_grow(runner *r, const char *path) {
    const isw_store_layout *lay = &r->layout.lay;
    isw_store_table tab;
    isw_error ignored;
    if (isw_store_read_table(path, &tab, &ignored) != ISW_OK) return 0;
    int ok = 1;
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
    for (int i = 0; r->rank == 0 && !st && i < n; i++) {
        int64_t k = 0;
        st = isw_store_import(r->store, lay, from[i], i, &k, err);
        *copied += k;
    }
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

/* Opens or creates the store; on resume rank 0 first checks the file serially, then all open it,
 * then rank 0 compares identities. A resume with a sweep that grew (more axis values, zip points,
 * replicates) writes the grown file beside the old one, copies the old results into it, and then
 * puts it in the old one's place. Every step ends in agreement. */
isw_status sweep_open_store(runner *r, const isw_run_opts *o, isw_error *err) {
    const isw_store_layout *lay = &r->layout.lay;
    isw_status st = ISW_OK;
    int64_t copied = 0;
    if (!r->reopen) {
        if ((st = create_store(r, o, o->out_path, o->from, o->n_from, &copied, err))) return st;
        r->reopen = o->n_from > 0; /* the copied rows are results: read the states back */
        r->created = 1;
        return ISW_OK;
    }
    int grow = 0;
    /* A crafted file must not crash rank 0 inside HDF5: its metadata is read, and checked against
     * the layout, in a child first. */
    if (r->rank == 0) st = isw_store_probe(o->out_path, err);
    if (r->rank == 0 && !st && (st = check_layout_isolated(o->out_path, lay, err)) == ISW_EINPUT) {
        grow = can_grow(r, o->out_path);
        if (grow) st = ISW_OK;
        else explain_difference(r, o->out_path, err);
    }
    if ((st = sweep_agree(r, st, err))) return st;
    MPI_Bcast(&grow, 1, MPI_INT, 0, r->comm);
    if (grow) {
        char tmp[4200];
        const char *from[ISW_MAX_FROM + 1] = {o->out_path};
        for (int i = 0; i < o->n_from; i++) from[i + 1] = o->from[i];
        snprintf(tmp, sizeof tmp, "%s.growing", o->out_path);
        if ((st = create_store(r, o, tmp, from, o->n_from + 1, &copied, err))) return st;
        /* The grown file holds every result of the old one: it takes the old one's name. */
        if (r->rank == 0 && rename(tmp, o->out_path) != 0)
            st = isw_fail(err, ISW_EINTERNAL, "%s: cannot put the grown file in its place: %s", o->out_path,
                          strerror(errno));
        if (!st && r->rank == 0 && !o->quiet)
            sweep_say(r, ISW_SAY_NOTE, "grew %s to this sweep's %lld tasks; %lld finished ones kept", o->out_path,
                    (long long)lay->T, (long long)copied);
        return sweep_agree(r, st, err);
    }
    if ((st = isw_store_open(o->out_path, lay, r->comm, &r->store, err))) return st;
    if (r->rank == 0 && (st = isw_store_check_keys(r->store, lay, err)) == ISW_EINPUT)
        explain_difference(r, o->out_path, err);
    if ((st = sweep_agree(r, st, err))) return st;
    for (int i = 0; r->rank == 0 && !st && i < o->n_from; i++) {
        int64_t k = 0;
        st = isw_store_import(r->store, lay, o->from[i], -1, &k, err);
    }
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
