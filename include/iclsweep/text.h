/* Small text helpers for messages. */
#ifndef ICLSWEEP_TEXT_H
#define ICLSWEEP_TEXT_H

/* Levenshtein distance between a and b (ASCII, case-sensitive), capped at 64. */
int isw_edit_distance(const char *a, const char *b);

/* The candidate nearest to word if it is near enough to be a likely typo, else NULL.
 * candidates[n]. */
const char *isw_suggest(const char *word, const char *const *candidates, int n);

#endif
