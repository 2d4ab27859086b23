/* deps.h -- dependency order inside a batch submit. Pure: no I/O.
 *
 * Items may name other items of the same batch by idempotency_key; a
 * reference to anything else is left for the database to resolve. The batch
 * is written in an order where every referenced item comes first; a cycle
 * is refused naming the keys on it.
 */
#ifndef CD_DEPS_H
#define CD_DEPS_H

#include <stddef.h>

#include "base/buf.h"
#include "base/err.h"

struct deps_item {
	const char *key;		/* idempotency_key, or NULL */
	const char *const *refs;	/* its deps: ids or keys */
	size_t nrefs;
};

/* order: out, a permutation of 0..n-1 (n entries) with dependencies first.
 * CD_INVALID (field jobs[i].idempotency_key) for a key used twice;
 * CD_DEPENDENCY_CYCLE with the keys of one cycle in e->message and in
 * cycle (comma-separated) when there is one. */
enum cd_err deps_order(const struct deps_item *items, size_t n, size_t *order, struct buf *cycle,
		       struct cd_error *e);

#endif
