/* Row writes while a sweep runs (independent MPI-IO, one task's row at a time), and closing.
 *
 * Each call writes raw data only, into datasets created at their final size, so workers never
 * touch metadata and never wait for each other. Messages name the dataset and the row. */
#include <stdio.h>
#include <string.h>

#include "store_int.h"

static isw_status write_fail(isw_error *err, const isw_store *st, const char *group, const char *name, int64_t t) {
    return isw_fail(err, ISW_EINTERNAL, "%s: writing %s%s row %lld failed: %s", st->path, group, name, (long long)t,
                    isw_h5_reason());
}

/* Writes the one value v (memory type of kind) into row t of column c. */
static int put_cell(isw_store *st, int c, int64_t t, const void *v) {
    return isw_h5_write_rows(st->col[c], st->dxpl, st->types[isw_store_cols[c].kind], t, 1, 1, v);
}

isw_status isw_store_read_states(isw_store *st, uint8_t *status, uint8_t *attempts, isw_error *err) {
    if (!isw_h5_read_rows(st->col[COL_status], st->dxpl, st->types[KIND_STATUS], 0, st->T, status))
        return isw_fail(err, ISW_EINPUT, "%s: cannot read /tasks/status", st->path);
    if (!isw_h5_read_rows(st->col[COL_attempts], st->dxpl, st->types[KIND_U8], 0, st->T, attempts))
        return isw_fail(err, ISW_EINPUT, "%s: cannot read /tasks/attempts", st->path);
    for (int64_t t = 0; t < st->T; t++)
        if (status[t] >= ISW_TASK_N_STATES)
            return isw_fail(err, ISW_EINPUT, "%s: /tasks/status of row %lld is %u, not a task state (damaged "
                            "or forged file)", st->path, (long long)t, status[t]);
    return ISW_OK;
}

isw_status isw_store_mark_running(isw_store *st, int64_t t, int attempts, int rank, isw_error *err) {
    uint8_t a = (uint8_t)(attempts > 255 ? 255 : attempts), s = ISW_TASK_RUNNING;
    int32_t r = rank;
    if (!put_cell(st, COL_attempts, t, &a)) return write_fail(err, st, "/tasks/", "attempts", t);
    if (!put_cell(st, COL_rank, t, &r)) return write_fail(err, st, "/tasks/", "rank", t);
    if (!put_cell(st, COL_status, t, &s)) return write_fail(err, st, "/tasks/", "status", t);
    return ISW_OK;
}

isw_status isw_store_write_result(isw_store *st, int64_t t, const double *traj, const double *final, int state,
                                  const isw_task_account *acc, isw_error *err) {
    isw_error_text msg;
    memset(msg, 0, sizeof msg);
    snprintf(msg, sizeof msg, "%s", acc->error ? acc->error : "");
    /* Durability order: the row's data, then its bookkeeping and its checksum (checksum.c), and
     * only then its state. Each write
     * is a blocking MPI-IO write of raw data (no metadata), so a kill between two of them leaves
     * the state as it was (running), which --resume runs again. */
    for (int i = 0; i < st->n_traj; i++)
        if (!isw_h5_write_rows(st->traj[i], st->dxpl, H5T_NATIVE_DOUBLE, t, 1, st->S, traj + (size_t)i * (size_t)st->S))
            return write_fail(err, st, "/traj/", st->traj_defs[i].name, t);
    for (int i = 0; i < st->n_final; i++)
        if (!isw_h5_write_rows(st->final[i], st->dxpl, H5T_NATIVE_DOUBLE, t, 1, 1, final + i))
            return write_fail(err, st, "/final/", st->final_defs[i].name, t);
    uint8_t s = (uint8_t)state;
    uint64_t sum = isw_store_row_checksum(st, t, traj, final, state, acc->steps_done);
    const void *cells[] = {&acc->wall_s, &acc->cpu_s, &acc->peak_rss, &acc->resumes, &acc->steps_done, msg, &sum};
    const int cols[] = {COL_wall_s, COL_cpu_s, COL_peak_rss, COL_resumes, COL_steps_done, COL_error, COL_checksum};
    for (unsigned k = 0; k < sizeof cols / sizeof cols[0]; k++)
        if (!put_cell(st, cols[k], t, cells[k])) return write_fail(err, st, "/tasks/", isw_store_cols[cols[k]].name, t);
    if (!put_cell(st, COL_status, t, &s)) return write_fail(err, st, "/tasks/", "status", t);
    return ISW_OK;
}

isw_status isw_store_write_progress(isw_store *st, int64_t t, const double *traj, int64_t ckpt_step, isw_error *err) {
    for (int i = 0; i < st->n_traj; i++)
        if (!isw_h5_write_rows(st->traj[i], st->dxpl, H5T_NATIVE_DOUBLE, t, 1, st->S, traj + (size_t)i * (size_t)st->S))
            return write_fail(err, st, "/traj/", st->traj_defs[i].name, t);
    return put_cell(st, COL_ckpt_step, t, &ckpt_step) ? ISW_OK : write_fail(err, st, "/tasks/", "ckpt_step", t);
}

isw_status isw_store_read_ckpt_steps(isw_store *st, int64_t *ckpt_step, isw_error *err) {
    if (!isw_h5_read_rows(st->col[COL_ckpt_step], st->dxpl, st->types[KIND_I64], 0, st->T, ckpt_step))
        return isw_fail(err, ISW_EINPUT, "%s: cannot read /tasks/ckpt_step: %s", st->path, isw_h5_reason());
    return ISW_OK;
}

isw_status isw_store_check_rows(isw_store *st, const uint8_t *status, uint8_t *bad, int64_t *n_bad, isw_error *err) {
    isw_checker *c = NULL;
    *n_bad = 0;
    isw_status rc = isw_checker_from_store(st, &c, err);
    if (!rc) rc = isw_checker_run(c, status, bad, err);
    for (int64_t t = 0; !rc && t < st->T; t++) *n_bad += bad[t] != ISW_ROW_OK;
    isw_checker_free(c);
    return rc;
}

isw_status isw_store_set_state(isw_store *st, int64_t t, int state, isw_error *err) {
    uint8_t s = (uint8_t)state;
    return put_cell(st, COL_status, t, &s) ? ISW_OK : write_fail(err, st, "/tasks/", "status", t);
}

isw_status isw_store_close(isw_store *st, isw_error *err) {
    if (!st) return ISW_OK;
    char path[512];
    snprintf(path, sizeof path, "%s", st->path ? st->path : "?");
    hid_t file = st->file;
    st->file = -1;
    isw_store_free(st);
    if (file >= 0 && H5Fclose(file) < 0)
        return isw_fail(err, ISW_EINTERNAL, "%s: closing the result file failed: %s", path, isw_h5_reason());
    return ISW_OK;
}
