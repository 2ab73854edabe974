/* HDF5's own reasons, and the store's HDF5 set-up (store_int.h): its error stack says what failed, where our messages would
 * otherwise guess ("disk full, quota, or the file was removed?").
 *
 * HDF5 clears its error stack at the start of every API call, so the cleanup after a failed call
 * (closing a dataspace, say) would wipe the reason before a caller could read it. Instead of
 * HDF5's default handler, which prints the whole stack, we install one that records the innermost
 * entry of the failing call's stack at the moment it fails; the store's messages then quote the
 * last reason recorded. The store runs HDF5 from one thread (the owner heartbeat never calls it),
 * so one buffer serves. */
#include <stdio.h>
#include <string.h>

#include "store_int.h"

static char last_reason[256];

/* H5Ewalk2 callback: keeps the first entry of an upward walk, the innermost function's. */
static herr_t keep_innermost(unsigned n, const H5E_error2_t *e, void *data) {
    char *out = data, major[96] = "", minor[96] = "";
    if (n > 0) return 0;
    H5Eget_msg(e->maj_num, NULL, major, sizeof major);
    H5Eget_msg(e->min_num, NULL, minor, sizeof minor);
    snprintf(out, sizeof last_reason, "%s: %s%s%s", major[0] ? major : "HDF5", minor[0] ? minor : "error",
             e->desc && e->desc[0] ? " - " : "", e->desc ? e->desc : "");
    return 0;
}

/* The automatic handler: HDF5 calls it when an API call fails, before the call returns. */
static herr_t record(hid_t stack, void *unused) {
    (void)unused;
    char reason[sizeof last_reason] = "";
    H5Ewalk2(stack, H5E_WALK_UPWARD, keep_innermost, reason);
    if (reason[0]) memcpy(last_reason, reason, sizeof last_reason);
    return 0;
}

void isw_h5_setup(void) {
    H5Eset_auto2(H5E_DEFAULT, record, NULL);
    /* Unregistered, the class cannot traverse: opening through an external link fails at once,
     * instead of opening (or blocking on) the file it names. Repeating it is harmless. */
    if (H5Lis_registered(H5L_TYPE_EXTERNAL) > 0) H5Lunregister(H5L_TYPE_EXTERNAL);
    last_reason[0] = '\0';
}

const char *isw_h5_reason(void) { return last_reason[0] ? last_reason : "HDF5 gave no reason"; }
