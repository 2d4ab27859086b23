/* deps.c -- Kahn's algorithm over the batch-internal edges; see deps.h.
 * n is at most 1000 (the batch limit), so key lookup is a linear scan. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/mem.h"
#include "domain/deps.h"

/* Index of the item whose key is ref, or -1. */
static long find_key(const struct deps_item *items, size_t n, const char *ref)
{
	for (size_t i = 0; i < n; i++)
		if (items[i].key != NULL && strcmp(items[i].key, ref) == 0)
			return (long)i;
	return -1;
}

/* Follows edges among unplaced items from start until one repeats, and
 * writes the repeating loop's keys into cycle. */
static void name_cycle(const struct deps_item *items, size_t n, const bool *placed, size_t start,
		       struct buf *cycle)
{
	size_t *seen_at = xcalloc(n, sizeof(*seen_at)); /* step+1 when visited */
	size_t *path = xcalloc(n + 1, sizeof(*path));
	size_t cur = start, step = 0;

	while (seen_at[cur] == 0) {
		seen_at[cur] = ++step;
		path[step - 1] = cur;
		for (size_t r = 0; r < items[cur].nrefs; r++) {
			long d = find_key(items, n, items[cur].refs[r]);

			if (d >= 0 && !placed[d]) {
				cur = (size_t)d;
				break;
			}
		}
	}
	for (size_t i = seen_at[cur] - 1; i < step; i++)
		buf_printf(cycle, "%s%s", i == seen_at[cur] - 1 ? "" : ", ", items[path[i]].key);
	free(seen_at);
	free(path);
}

enum cd_err deps_order(const struct deps_item *items, size_t n, size_t *order, struct buf *cycle,
		       struct cd_error *e)
{
	bool *placed = xcalloc(n ? n : 1, sizeof(*placed));
	long **dep_idx = xcalloc(n ? n : 1, sizeof(*dep_idx)); /* batch-internal deps, -1 outside */
	size_t done = 0;
	enum cd_err rc = CD_OK;

	for (size_t i = 0; i < n; i++) {
		if (items[i].key != NULL && find_key(items, n, items[i].key) != (long)i) {
			char field[64];

			snprintf(field, sizeof(field), "jobs[%zu].idempotency_key", i);
			rc = cd_fail(e, CD_INVALID, field, "%s repeats a key used earlier in the batch.",
				     field);
			goto out;
		}
	}
	for (size_t i = 0; i < n; i++) {
		dep_idx[i] = xcalloc(items[i].nrefs ? items[i].nrefs : 1, sizeof(long));
		for (size_t r = 0; r < items[i].nrefs; r++)
			dep_idx[i][r] = find_key(items, n, items[i].refs[r]);
	}
	/* Repeatedly place every item whose batch-internal deps are placed. */
	while (done < n) {
		bool progress = false;

		for (size_t i = 0; i < n; i++) {
			bool ready = !placed[i];

			for (size_t r = 0; ready && r < items[i].nrefs; r++)
				ready = dep_idx[i][r] < 0 || placed[dep_idx[i][r]];
			if (ready) {
				placed[i] = true;
				order[done++] = i;
				progress = true;
			}
		}
		if (!progress)
			break;
	}
	if (done < n) {
		size_t start = 0;

		while (placed[start])
			start++;
		name_cycle(items, n, placed, start, cycle);
		rc = cd_fail(e, CD_DEPENDENCY_CYCLE, "deps", "These jobs depend on each other in a cycle: %s.",
			     buf_str(cycle));
	}
out:
	for (size_t i = 0; i < n; i++)
		free(dep_idx[i]);
	free(dep_idx);
	free(placed);
	return rc;
}
