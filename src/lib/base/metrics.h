/* metrics.h -- this process's counters (atomics, STYLE 19) and THE writer of
 * the Prometheus text exposition format (version 0.0.4).
 *
 * Counting: claims, jobs shipped and leases reaped are plain counters; every
 * HTTP request counts once per (route slot, status) and once in its route
 * slot's latency histogram. A route slot is an index into the route table
 * given to metrics_init (the pattern, never the raw path), or the one
 * "unmatched" slot past its end. Counting is lock-free and never allocates.
 *
 * Persisting: a process never exposes its own counters. Its counts since the
 * last flush are taken (metrics_take, an atomic exchange per slot) and added
 * to rows in PostgreSQL by data/db_metrics.c; the scrape reads the sums of
 * those rows, so every process on every host is counted, and a restart
 * loses at most the counts of its last flush interval (README, Metrics).
 *
 * Writing: metrics_family writes HELP and TYPE once per family;
 * metrics_sample writes one sample line with its labels escaped. Pure.
 */
#ifndef CD_METRICS_H
#define CD_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"

enum metrics_counter {
	METRICS_CLAIMS = 0,	 /* jobs handed out by claims */
	METRICS_SHIPPED,	 /* jobs that reached shipped */
	METRICS_LEASES_REAPED,	 /* expired leases the reaper took back */
	METRICS_COUNTER_COUNT
};

/* The histogram's upper bounds in seconds (then +Inf). */
#define METRICS_NBUCKETS 11
extern const double METRICS_BUCKETS[METRICS_NBUCKETS];

#define METRICS_STATUS_MIN 100
#define METRICS_STATUS_MAX 599
#define METRICS_UNMATCHED "unmatched" /* the route label of a request no row matched */

/* Sizes the per-route slots: routes[0..n) are the route patterns (borrowed
 * for the process's life). Call once, before any thread counts; a process
 * that counts no requests (the reaper) need not call it. */
void metrics_init(const char *const *routes, size_t n);

/* Adds n to counter c. Thread-safe. */
void metrics_count(enum metrics_counter c, uint64_t n);

/* Counts one HTTP request: route is an index given to metrics_init, or any
 * value >= n for "unmatched"; status outside 100..599 counts as 599.
 * Thread-safe. */
void metrics_request(size_t route, int status, double seconds);

/* One counted row as PostgreSQL stores it: name and its labels (route, status
 * ("" or a number), le ("" or a bound)). */
struct metrics_delta {
	const char *name;	/* static */
	const char *route;	/* "" when none; borrowed from metrics_init */
	int status;		/* 0 when none */
	double le;		/* the bucket's bound; 0 when none (+Inf: INFINITY) */
	double value;		/* what to add */
	size_t slot;		/* which slot it came from (for metrics_give_back) */
};

/* Takes every nonzero count since the last take (resetting it), at most cap.
 * out: the deltas; returns how many. What does not fit stays for the next
 * take. Thread-safe; concurrent takes never take a count twice. */
size_t metrics_take(struct metrics_delta *out, size_t cap);

/* Gives back deltas a flush could not store, so they are not lost. */
void metrics_give_back(const struct metrics_delta *d, size_t n);

/* ---- the exposition format --------------------------------------------- */

/* "# HELP name help\n# TYPE name type\n"; help is escaped (\\ and \n). */
void metrics_family(struct buf *b, const char *name, const char *type, const char *help);

/* "name{k1="v1",...} value\n": labels are nlabels (key, value) pairs, values
 * escaped (\\, \" and \n); integral values print without a fraction, +Inf
 * as "+Inf". */
void metrics_sample(struct buf *b, const char *name, const char *const *labels, size_t nlabels,
		    double value);

/* A bucket bound as its le label: "0.005", ..., "+Inf". out: >= 32 bytes. */
void metrics_le(double le, char *out, size_t cap);

#endif
