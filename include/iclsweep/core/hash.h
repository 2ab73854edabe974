/* Stable 64-bit hashes for task identities and seeds.
 *
 * These values are stored in result files and decide which task is which on --resume, so they
 * must never change between versions or machines: byte-oriented FNV-1a 64, the byte count XORed
 * in, then the MurmurHash3 64-bit finalizer fmix64 (FNV alone mixes its last bytes poorly).
 * tests/unit/test_golden.c pins known answers computed apart from this code. */
#ifndef ICLSWEEP_HASH_H
#define ICLSWEEP_HASH_H

#include <stddef.h>
#include <stdint.h>

/* Hash of n bytes. */
uint64_t isw_hash_bytes(const void *data, size_t n);
/* Hash of a NUL-terminated string. */
uint64_t isw_hash_str(const char *s);
/* The MurmurHash3 fmix64 avalanche of x. */
uint64_t isw_mix64(uint64_t x);
/* h folded with the hash of n more bytes: a digest of several arrays, part by part. */
uint64_t isw_hash_more(uint64_t h, const void *data, size_t n);
/* A task's seed from the sweep seed and the task's identity: the hash of both as 8 little-endian
 * bytes each. */
uint64_t isw_task_seed(uint64_t sweep_seed, uint64_t identity);

#endif
