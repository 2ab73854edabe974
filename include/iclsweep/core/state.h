/* A trainer's whole state as named regions of its memory, and their packed form: what a task's
 * checkpoint holds (docs/adding-a-model.md, "Checkpoints"; docs/architecture.md).
 *
 * A trainer lists, in one place, every piece of memory that changes while it trains (weights,
 * optimizer moments, the positions of its random streams, its step, running sums, the history of
 * its log points); the list is the same, region for region and byte for byte, for every trainer
 * set up for the same task. Packing writes the regions after a table of their names, kinds and
 * sizes and a tag naming the task; unpacking checks all of it (mark, format, checksum, tag, the
 * table against the live trainer's, the sizes) before it copies a single byte, so a damaged,
 * truncated or foreign checkpoint is refused with a message and leaves the trainer as it was set
 * up: the task then starts over. A random generator is saved as its key, stream and position and
 * restored by seeking (isw_rng_seek), so a checkpoint holds no computed-ahead words and refuses a
 * generator of another seed or stream. Nothing here allocates or does I/O. */
#ifndef ICLSWEEP_STATE_H
#define ICLSWEEP_STATE_H

#include <stddef.h>
#include <stdint.h>

#include "iclsweep/core/error.h"
#include "iclsweep/core/rng.h"

typedef enum {
    ISW_REGION_BYTES = 1, /* plain memory: ptr[bytes] */
    ISW_REGION_RNG = 2,   /* an isw_rng, saved as key, stream and position */
    ISW_REGION_INT = 3,   /* ints that index memory: each must lie in [lo, hi] */
    ISW_REGION_INT64 = 4  /* int64_t likewise */
} isw_region_kind;

typedef struct {
    const char *name; /* unique within a state; a static string */
    isw_region_kind kind;
    void *ptr;
    size_t bytes;   /* the memory's size (RNG: sizeof(isw_rng), unused) */
    int64_t lo, hi; /* INT, INT64: the range every element must lie in */
} isw_state_region;

#define ISW_STATE_MAX_REGIONS 32

typedef struct {
    isw_state_region r[ISW_STATE_MAX_REGIONS];
    int n;
    int overflow; /* more regions were added than fit: packing and unpacking refuse the state */
} isw_state;

/* An empty state. */
void isw_state_init(isw_state *s);
/* Adds plain memory ptr[bytes] as region `name` (bytes may be 0). */
void isw_state_bytes(isw_state *s, const char *name, void *ptr, size_t bytes);
/* Adds count elements of the array ptr, or the one value *ptr. */
#define ISW_STATE_ARRAY(s, name, ptr, count) isw_state_bytes((s), (name), (ptr), sizeof *(ptr) * (size_t)(count))
#define ISW_STATE_VALUE(s, name, ptr) isw_state_bytes((s), (name), (ptr), sizeof *(ptr))
/* Adds count ints (int64_t) at ptr that the trainer uses as positions or indices: a checkpoint
 * whose values fall outside [lo, hi] is refused, so that no saved number can send the trainer
 * outside its memory. */
void isw_state_ints(isw_state *s, const char *name, int *ptr, size_t count, int64_t lo, int64_t hi);
void isw_state_int64s(isw_state *s, const char *name, int64_t *ptr, size_t count, int64_t lo, int64_t hi);
/* Adds the generator *rng as region `name`. */
void isw_state_rng(isw_state *s, const char *name, isw_rng *rng);
/* Adds every region of `more` after those of s. */
void isw_state_append(isw_state *s, const isw_state *more);
/* Bytes of the regions' own data (what the state weighs, without table and tag). */
size_t isw_state_data_bytes(const isw_state *s);

/* Bytes of s packed with `tag` (a short text naming what the state is of: the task). */
size_t isw_state_packed_size(const isw_state *s, const char *tag);
/* Packs s and tag into out[isw_state_packed_size(s, tag)]. ISW_EINTERNAL when s overflowed. */
isw_status isw_state_pack(const isw_state *s, const char *tag, unsigned char *out, isw_error *err);
/* Copies the packed state in[size] into s's memory (generators seeked), after checking that it
 * is a packed state of this format, intact (its checksum), of `tag`, and of exactly s's regions
 * (names, kinds, sizes, in order), with every INT and INT64 value in its range. ISW_EINPUT with
 * what is wrong otherwise, and then nothing of s has been written. */
isw_status isw_state_unpack(const isw_state *s, const char *tag, const unsigned char *in, size_t size,
                            isw_error *err);

#endif
