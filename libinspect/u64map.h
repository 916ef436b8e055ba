/*
 * A small open-addressing hash map from non-zero 64-bit keys (inodes, PIDs)
 * to array indices. Internal to libinspect.
 */
#ifndef INSPECT_U64MAP_H
#define INSPECT_U64MAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct u64map {
	uint64_t *keys; /* 0 marks an empty slot */
	size_t *vals;
	size_t cap; /* power of two */
	size_t n;
};

/* Returns a pointer to KEY's value, or NULL when absent. */
size_t *u64map_get(const struct u64map *m, uint64_t key);
/* Inserts or overwrites; returns -1 on ENOMEM. */
int u64map_put(struct u64map *m, uint64_t key, size_t val);
void u64map_free(struct u64map *m);

#endif
