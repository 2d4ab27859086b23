/* metrics.c -- this process's counters and the exposition writer. See metrics.h.
 *
 * The slots are one flat array of atomics: the plain counters, then per route
 * slot (routes + "unmatched") a count per status, the cumulative histogram
 * buckets (the last one +Inf, i.e. the request count) and the latency sum in
 * microseconds. A slot's delta is its value since the last take:
 * metrics_take exchanges it with 0, so two concurrent takes never both see
 * the same count.
 */
#include <math.h> /* INFINITY, isinf, isnan: macros, no libm */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/mem.h"
#include "base/metrics.h"

const double METRICS_BUCKETS[METRICS_NBUCKETS] = {0.001, 0.005, 0.01, 0.025, 0.05, 0.1,
						  0.25,	 0.5,	1,    2.5,   10};

#define NSTATUS (METRICS_STATUS_MAX - METRICS_STATUS_MIN + 1)
#define NB (METRICS_NBUCKETS + 1) /* the bounds and +Inf */

static const char *const COUNTER_NAMES[METRICS_COUNTER_COUNT] = {
	[METRICS_CLAIMS] = "conductor_claims_total",
	[METRICS_SHIPPED] = "conductor_jobs_shipped_total",
	[METRICS_LEASES_REAPED] = "conductor_leases_reaped_total",
};

/* Set once by metrics_init, before the threads start; read-only after. */
static const char *const *route_names;
static size_t nroutes = 0; /* route slots, "unmatched" included; 0 before init */
static _Atomic uint64_t *slots;
static size_t nslots = METRICS_COUNTER_COUNT;
static _Atomic uint64_t counters[METRICS_COUNTER_COUNT];

/* Offsets of each kind in the flat slot space. */
static size_t req_base(void) { return METRICS_COUNTER_COUNT; }
static size_t bucket_base(void) { return req_base() + nroutes * NSTATUS; }
static size_t sum_base(void) { return bucket_base() + nroutes * NB; }

static _Atomic uint64_t *slot(size_t i)
{
	return i < METRICS_COUNTER_COUNT ? &counters[i] : &slots[i - METRICS_COUNTER_COUNT];
}

void metrics_init(const char *const *routes, size_t n)
{
	route_names = routes;
	nroutes = n + 1;
	slots = xcalloc(nroutes * (NSTATUS + NB + 1), sizeof(*slots));
	nslots = METRICS_COUNTER_COUNT + nroutes * (NSTATUS + NB + 1);
}

void metrics_count(enum metrics_counter c, uint64_t n)
{
	if (c < METRICS_COUNTER_COUNT && n > 0)
		atomic_fetch_add_explicit(&counters[c], n, memory_order_relaxed);
}

void metrics_request(size_t route, int status, double seconds)
{
	size_t r;

	if (nroutes == 0)
		return;
	r = route < nroutes - 1 ? route : nroutes - 1;
	if (status < METRICS_STATUS_MIN || status > METRICS_STATUS_MAX)
		status = METRICS_STATUS_MAX;
	if (!(seconds >= 0))
		seconds = 0;
	atomic_fetch_add_explicit(slot(req_base() + r * NSTATUS + (size_t)(status - METRICS_STATUS_MIN)),
				  1, memory_order_relaxed);
	/* cumulative: every bucket whose bound the latency does not pass, from
	 * +Inf down while metrics_take goes up, so that a take running
	 * meanwhile never takes a lower bucket's count without the higher ones'
	 * (the stored buckets stay cumulative) */
	for (size_t b = NB; b-- > 0;)
		if (b == NB - 1 || seconds <= METRICS_BUCKETS[b])
			atomic_fetch_add_explicit(slot(bucket_base() + r * NB + b), 1,
						  memory_order_seq_cst);
	atomic_fetch_add_explicit(slot(sum_base() + r), (uint64_t)(seconds * 1e6 + 0.5),
				  memory_order_relaxed);
}

/* What slot i counts, with value v. */
static struct metrics_delta describe(size_t i, uint64_t v)
{
	struct metrics_delta d = {.route = "", .value = (double)v, .slot = i};
	size_t r;

	if (i < req_base()) {
		d.name = COUNTER_NAMES[i];
	} else if (i < bucket_base()) {
		r = (i - req_base()) / NSTATUS;
		d.name = "conductor_http_requests_total";
		d.status = METRICS_STATUS_MIN + (int)((i - req_base()) % NSTATUS);
		d.route = r < nroutes - 1 ? route_names[r] : METRICS_UNMATCHED;
	} else if (i < sum_base()) {
		size_t b = (i - bucket_base()) % NB;

		r = (i - bucket_base()) / NB;
		d.name = "conductor_http_request_duration_seconds_bucket";
		d.le = b < METRICS_NBUCKETS ? METRICS_BUCKETS[b] : INFINITY;
		d.route = r < nroutes - 1 ? route_names[r] : METRICS_UNMATCHED;
	} else {
		r = i - sum_base();
		d.name = "conductor_http_request_duration_seconds_sum";
		d.value = (double)v / 1e6;
		d.route = r < nroutes - 1 ? route_names[r] : METRICS_UNMATCHED;
	}
	return d;
}

size_t metrics_take(struct metrics_delta *out, size_t cap)
{
	size_t n = 0;

	for (size_t i = 0; i < nslots && n < cap; i++) {
		uint64_t v;

		if (atomic_load_explicit(slot(i), memory_order_relaxed) == 0)
			continue;
		v = atomic_exchange_explicit(slot(i), 0, memory_order_seq_cst);
		if (v != 0)
			out[n++] = describe(i, v);
	}
	return n;
}

void metrics_give_back(const struct metrics_delta *d, size_t n)
{
	for (size_t k = 0; k < n; k++) {
		/* a sum slot counts microseconds; its delta says seconds */
		uint64_t v = nroutes > 0 && d[k].slot >= sum_base()
				     ? (uint64_t)(d[k].value * 1e6 + 0.5)
				     : (uint64_t)d[k].value;

		if (d[k].slot < nslots)
			atomic_fetch_add_explicit(slot(d[k].slot), v, memory_order_relaxed);
	}
}

/* ---- the exposition format --------------------------------------------- */

/* Appends s with \\ and \n escaped, and \" too when quote. */
static void put_escaped(struct buf *b, const char *s, bool quote)
{
	for (; *s != '\0'; s++) {
		if (*s == '\\')
			buf_puts(b, "\\\\");
		else if (*s == '\n')
			buf_puts(b, "\\n");
		else if (*s == '"' && quote)
			buf_puts(b, "\\\"");
		else
			buf_append(b, s, 1);
	}
}

void metrics_family(struct buf *b, const char *name, const char *type, const char *help)
{
	buf_printf(b, "# HELP %s ", name);
	put_escaped(b, help, false);
	buf_printf(b, "\n# TYPE %s %s\n", name, type);
}

void metrics_le(double le, char *out, size_t cap)
{
	if (isinf(le)) {
		snprintf(out, cap, "+Inf");
		return;
	}
	/* %.17g spells 0.1 as 0.10000000000000001: take the shortest that reads
	 * back, without an exponent when one exists (10, not 1e+01) */
	for (int pass = 0; pass < 2; pass++)
		for (int p = 1; p <= 17; p++) {
			snprintf(out, cap, "%.*g", p, le);
			if (strtod(out, NULL) == le && (pass == 1 || strchr(out, 'e') == NULL))
				return;
		}
}

void metrics_sample(struct buf *b, const char *name, const char *const *labels, size_t nlabels,
		    double value)
{
	char v[40];

	buf_puts(b, name);
	if (nlabels > 0) {
		buf_puts(b, "{");
		for (size_t i = 0; i < nlabels; i++) {
			buf_printf(b, "%s%s=\"", i > 0 ? "," : "", labels[2 * i]);
			put_escaped(b, labels[2 * i + 1], true);
			buf_puts(b, "\"");
		}
		buf_puts(b, "}");
	}
	if (isnan(value))
		snprintf(v, sizeof(v), "NaN");
	else if (isinf(value))
		snprintf(v, sizeof(v), value > 0 ? "+Inf" : "-Inf");
	else if (value > -1e15 && value < 1e15 && value == (double)(long long)value)
		snprintf(v, sizeof(v), "%.0f", value);
	else
		metrics_le(value, v, sizeof(v));
	buf_printf(b, " %s\n", v);
}
