/* routing.c -- per-app result routing: the router loop and its thread.
 * See routing.h for the rules. */
#include <fnmatch.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/log.h"
#include "base/mem.h"
#include "data/stream.h"
#include "domain/routing.h"

#define PAGE 100		  /* entries per read */
#define RECLAIM_PAGES 100	  /* XAUTOCLAIM pages per stream and sweep: bounded */
#define DRAIN_PAGES 1000	  /* reads of new entries in one routing_drain() */
#define REDIS_TIMEOUT_MS 2000	  /* longer than ROUTING_BLOCK_MS, as XREADGROUP BLOCK needs */
#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 2000
#define REPLY_TO_MAX 200
#define CONSUMER_MAX 128

/* ---- the reply_to rule (pure) ---------------------------------------------- */

/* Does name match one of the comma-separated glob patterns of list? */
static bool matches_any(const char *list, const char *name)
{
	char pat[REPLY_TO_MAX + 1];

	for (const char *p = list; p != NULL && *p != '\0';) {
		size_t len = strcspn(p, ",");

		if (len > 0 && len < sizeof(pat)) {
			memcpy(pat, p, len);
			pat[len] = '\0';
			if (fnmatch(pat, name, 0) == 0)
				return true;
		}
		p = p[len] == ',' ? p + len + 1 : NULL;
	}
	return false;
}

const char *routing_refusal(const struct config *cfg, const char *reply_to)
{
	size_t n;

	if (reply_to == NULL || reply_to[0] == '\0')
		return "no reply_to";
	n = strlen(reply_to);
	if (n > REPLY_TO_MAX)
		return "reply_to is longer than 200 bytes";
	for (size_t i = 0; i < n; i++)
		if (!((reply_to[i] >= 'a' && reply_to[i] <= 'z') ||
		      (reply_to[i] >= 'A' && reply_to[i] <= 'Z') ||
		      (reply_to[i] >= '0' && reply_to[i] <= '9') || strchr(":_-.", reply_to[i]) != NULL))
			return "reply_to is not a stream name (letters, digits, : _ - . only)";
	if (config_list_has(cfg->results_streams, reply_to))
		return "reply_to names a results stream (a routing loop)";
	if (strncmp(reply_to, ROUTING_DEAD_PREFIX, strlen(ROUTING_DEAD_PREFIX)) == 0)
		return "reply_to names a dead-letter stream";
	if (!matches_any(cfg->reply_to_allow, reply_to))
		return "reply_to matches no pattern of CONDUCTOR_REPLY_TO_ALLOW";
	return NULL;
}

/* ---- entries from HTTP ----------------------------------------------------- */

enum cd_err routing_enqueue(struct stream_conn *rs, const struct config *cfg, const char *stream,
			    const char *const *fields, const char *source, const char *reply_to,
			    char new_id[64], struct cd_error *e)
{
	const char **all;
	const char *refusal;
	size_t n = 0, k = 0;
	enum cd_err rc;

	new_id[0] = '\0';
	if (!config_list_has(cfg->streams, stream) && !config_list_has(cfg->results_streams, stream)) {
		cd_fail(e, CD_NOT_FOUND, "stream",
			"No stream %.100s is configured; entries go to CONDUCTOR_STREAMS or "
			"CONDUCTOR_RESULTS_STREAMS only.",
			stream);
		return cd_fail_code(e, "stream_not_found");
	}
	for (; fields[n] != NULL; n += 2) {
		if (strcmp(fields[n], "source") == 0)
			return cd_fail(e, CD_INVALID, "fields.source",
				       "source is set from your token; leave it out of fields.");
		if (strcmp(fields[n], "reply_to") == 0)
			return cd_fail(e, CD_INVALID, "fields.reply_to",
				       "Give reply_to beside fields, not inside them.");
	}
	if (reply_to != NULL && (refusal = routing_refusal(cfg, reply_to)) != NULL)
		return cd_fail(e, CD_INVALID, "reply_to", "%s (allowed: %.100s).", refusal,
			       cfg->reply_to_allow);
	all = xcalloc(n + 5, sizeof(char *));
	for (; k < n; k++)
		all[k] = fields[k];
	all[k++] = "source";
	all[k++] = source;
	if (reply_to != NULL) {
		all[k++] = "reply_to";
		all[k++] = reply_to;
	}
	/* XADD is sent once (a lost answer must not add a second copy): a PING,
	 * which may be sent again, first finds a connection Redis closed */
	rc = stream_ping(rs, e);
	if (rc == CD_OK)
		rc = stream_add(rs, stream, all, new_id, e);
	free(all);
	return rc;
}

/* ---- one router ------------------------------------------------------------ */

struct router {
	const struct config *cfg;
	const char *consumer;
	volatile sig_atomic_t *stop;
	struct stream_conn *rs;		/* NULL until connected, and after a failure */
	char **streams;			/* cfg->results_streams, split */
	const char **news;		/* ">" for each: what was never delivered */
	size_t nstreams;
	struct routing_counts counts;
	struct cd_error e;		/* the last failure */
};

/* Is name already one of r->streams? (a name listed twice is read once) */
static bool listed(const struct router *r, const char *name)
{
	for (size_t i = 0; i < r->nstreams; i++)
		if (strcmp(r->streams[i], name) == 0)
			return true;
	return false;
}

/* Sets r up for cfg and consumer: the results streams, split. */
static void router_init(struct router *r, const struct config *cfg, const char *consumer,
			volatile sig_atomic_t *stop)
{
	char *list = xstrdup(cfg->results_streams), *save = NULL;

	memset(r, 0, sizeof(*r));
	r->cfg = cfg;
	r->consumer = consumer;
	r->stop = stop;
	/* config.c admits only names and commas here; strtok_r skips empty names */
	r->streams = xcalloc(strlen(list) / 2 + 2, sizeof(char *));
	for (char *s = strtok_r(list, ",", &save); s != NULL; s = strtok_r(NULL, ",", &save))
		if (!listed(r, s))
			r->streams[r->nstreams++] = xstrdup(s);
	free(list);
	r->news = xcalloc(r->nstreams + 1, sizeof(char *));
	for (size_t i = 0; i < r->nstreams; i++)
		r->news[i] = ">";
}

/* Logs r's counts, hands them to out (may be NULL), frees what r holds. */
static void router_end(struct router *r, struct routing_counts *out)
{
	char routed[24], dead[24], taken[24], errors[24];

	snprintf(routed, sizeof(routed), "%ld", r->counts.routed);
	snprintf(dead, sizeof(dead), "%ld", r->counts.dead);
	snprintf(taken, sizeof(taken), "%ld", r->counts.reclaimed);
	snprintf(errors, sizeof(errors), "%ld", r->counts.errors);
	log_info("result routing stopped", "consumer", r->consumer, "routed", routed, "dead", dead,
		 "reclaimed", taken, "errors", errors);
	if (out != NULL)
		*out = r->counts;
	stream_close(r->rs);
	for (size_t i = 0; i < r->nstreams; i++)
		free(r->streams[i]);
	free(r->streams);
	free(r->news);
}

/* One entry on its way: the move, and when it goes to dead:<stream>, why. */
struct slot {
	struct stream_move mv;
	const char *reason;	/* NULL: to its reply_to */
	char *dead_to;		/* "dead:<stream>", owned */
	char why[96];
	const char *extra[5];	/* dead_reason, original_id */
};

/* Points s at dead:<its stream> with reason (copied). */
static void to_dead(struct slot *s, const char *reason)
{
	size_t cap = sizeof(ROUTING_DEAD_PREFIX) + strlen(s->mv.from);

	snprintf(s->why, sizeof(s->why), "%s", reason);
	s->reason = s->why;
	if (s->dead_to == NULL) {
		s->dead_to = xmalloc(cap);
		snprintf(s->dead_to, cap, ROUTING_DEAD_PREFIX "%s", s->mv.from);
	}
	s->mv.to = s->dead_to;
	s->extra[0] = "dead_reason";
	s->extra[1] = s->why;
	s->extra[2] = "original_id";
	s->extra[3] = s->mv.en->id;
	s->extra[4] = NULL;
	s->mv.extra = s->extra;
}

/* Counts and logs what the move of slot s did. */
static void account(struct router *r, const struct slot *s)
{
	const struct stream_move *mv = &s->mv;

	if (mv->new_id[0] == '\0')
		return;
	if (s->reason == NULL) {
		r->counts.routed++;
		log_debug("result routed", "stream", mv->from, "original_id", mv->en->id, "reply_to",
			  mv->to, "new_id", mv->new_id);
		return;
	}
	r->counts.dead++;
	log_warn("result dead-lettered", "stream", mv->from, "original_id", mv->en->id, "dead_id",
		 mv->new_id, "source", stream_entry_field(mv->en, "source"), "reply_to",
		 stream_entry_field(mv->en, "reply_to"), "reason", s->reason);
}

/* stream_move_many() over the slots named by idx[0..n). */
static enum cd_err move_slots(struct router *r, struct slot *slots, const size_t *idx, size_t n)
{
	struct stream_move *mv = xcalloc(n + 1, sizeof(*mv));
	enum cd_err rc;

	for (size_t k = 0; k < n; k++)
		mv[k] = slots[idx[k]].mv;
	rc = stream_move_many(r->rs, r->cfg->results_group, mv, n, &r->e);
	for (size_t k = 0; k < n; k++) {
		slots[idx[k]].mv = mv[k];
		if (rc == CD_OK)
			account(r, &slots[idx[k]]);
	}
	free(mv);
	return rc;
}

/* Routes v[0..n) -- entries of `stream`, or each of its own .stream when
 * stream is NULL: each to its reply_to, the refused ones to dead:<stream>
 * with the reason, all in one stream_move_many(); then those whose reply_to
 * held no stream to dead:<stream> in a second. On failure the entries not
 * moved stay pending (for the drain after the reconnect). */
static enum cd_err route_all(struct router *r, const struct stream_entry *v, size_t n,
			     const char *stream)
{
	struct slot *slots = xcalloc(n + 1, sizeof(*slots));
	size_t *idx = xcalloc(n + 1, sizeof(*idx)), m = 0, again = 0;
	enum cd_err rc = CD_OK;

	for (size_t i = 0; i < n && rc == CD_OK; i++) {
		const char *reply_to = stream_entry_field(&v[i], "reply_to"), *refusal;
		struct slot *s = &slots[m];

		s->mv.from = stream != NULL ? stream : v[i].stream;
		s->mv.en = &v[i];
		if (v[i].nfields == 0) { /* deleted while pending: nothing to route */
			rc = stream_ack(r->rs, s->mv.from, r->cfg->results_group, v[i].id, &r->e);
			continue;
		}
		refusal = routing_refusal(r->cfg, reply_to);
		if (refusal != NULL)
			to_dead(s, refusal);
		else
			s->mv.to = reply_to;
		idx[m] = m;
		m++;
	}
	if (rc == CD_OK)
		rc = move_slots(r, slots, idx, m);
	/* reply_to held another type: to dead:<stream>; a dead stream that is
	 * not a stream leaves the entry pending (never lost) */
	for (size_t i = 0; i < m && rc == CD_OK; i++) {
		char why[96];

		if (slots[i].mv.wrong_type[0] == '\0')
			continue;
		if (slots[i].reason != NULL) {
			rc = cd_fail(&r->e, CD_CONFLICT, "results_streams",
				     "%s holds a %s, not a stream: results that cannot be routed "
				     "stay pending.",
				     slots[i].dead_to, slots[i].mv.wrong_type);
			break;
		}
		snprintf(why, sizeof(why), "reply_to holds a %s, not a stream",
			 slots[i].mv.wrong_type);
		to_dead(&slots[i], why);
		idx[again++] = i;
	}
	if (rc == CD_OK && again > 0)
		rc = move_slots(r, slots, idx, again);
	for (size_t i = 0; i < n; i++)
		free(slots[i].dead_to);
	free(slots);
	free(idx);
	return rc;
}

/* Connects and makes sure every results stream has the group. */
static enum cd_err prepare(struct router *r)
{
	enum cd_err rc = CD_OK;

	if (r->rs == NULL)
		rc = stream_open(r->cfg->redis_url, REDIS_TIMEOUT_MS, &r->rs, &r->e);
	for (size_t i = 0; i < r->nstreams && rc == CD_OK; i++)
		rc = stream_group_ensure(r->rs, r->streams[i], r->cfg->results_group, &r->e);
	return rc;
}

/* Finishes this consumer's own pending entries (what it read and had not
 * moved when it died or failed): XREADGROUP from id 0, page after page, each
 * stream's cursor after the last entry it gave. */
static enum cd_err drain_own(struct router *r)
{
	char **ids = xcalloc(r->nstreams, sizeof(char *));
	enum cd_err rc = CD_OK;
	bool more = true;

	for (size_t i = 0; i < r->nstreams; i++)
		ids[i] = xstrdup("0");
	while (more && rc == CD_OK && !*r->stop) {
		struct stream_entry *v = NULL;
		size_t n = 0;
		bool nogroup = false;

		rc = stream_read_group(r->rs, r->cfg->results_group, r->consumer,
				       (const char *const *)r->streams, (const char *const *)ids,
				       r->nstreams, PAGE, 0, &v, &n, &nogroup, &r->e);
		if (rc == CD_OK && nogroup)
			rc = cd_fail(&r->e, CD_UNAVAILABLE, "results_streams",
				     "a results stream or its group vanished while reading");
		if (rc == CD_OK)
			rc = route_all(r, v, n, NULL);
		for (size_t k = 0; rc == CD_OK && k < n; k++)
			for (size_t i = 0; i < r->nstreams; i++)
				if (strcmp(v[k].stream, r->streams[i]) == 0) {
					free(ids[i]);
					ids[i] = xstrdup(v[k].id);
				}
		more = n > 0;
		stream_entries_free(v, n);
	}
	for (size_t i = 0; i < r->nstreams; i++)
		free(ids[i]);
	free(ids);
	return rc;
}

/* Takes over and routes the entries other routers left pending longer than
 * routing_reclaim_s (their router died). */
static enum cd_err reclaim(struct router *r)
{
	enum cd_err rc = CD_OK;

	for (size_t i = 0; i < r->nstreams && rc == CD_OK; i++) {
		char cursor[64] = "0-0", next[64];

		for (int page = 0; page < RECLAIM_PAGES && rc == CD_OK; page++) {
			struct stream_entry *v = NULL;
			size_t n = 0;
			bool missing = false;

			rc = stream_autoclaim(r->rs, r->streams[i], r->cfg->results_group,
					      r->consumer, r->cfg->routing_reclaim_s * 1000, cursor,
					      PAGE, &v, &n, next, &missing, &r->e);
			if (rc == CD_OK && n > 0) {
				log_info("results taken over from another router", "stream",
					 r->streams[i], "consumer", r->consumer);
				r->counts.reclaimed += (long)n;
				rc = route_all(r, v, n, r->streams[i]);
			}
			stream_entries_free(v, n);
			if (missing || strcmp(next, "0-0") == 0)
				break;
			snprintf(cursor, sizeof(cursor), "%s", next);
		}
	}
	return rc;
}

/* One read of new entries (blocking up to block_ms; 0: not at all),
 * routed. n: how many it gave. gone: a stream or the group vanished
 * (deleted by someone): prepare again. */
static enum cd_err read_new(struct router *r, int block_ms, size_t *n, bool *gone)
{
	struct stream_entry *v = NULL;
	enum cd_err rc;

	rc = stream_read_group(r->rs, r->cfg->results_group, r->consumer,
			       (const char *const *)r->streams, (const char *const *)r->news,
			       r->nstreams, PAGE, block_ms, &v, n, gone, &r->e);
	if (rc == CD_OK)
		rc = route_all(r, v, *n, NULL);
	stream_entries_free(v, *n);
	return rc;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Sleeps ms in steps of 50 ms, returning early once *stop is set. */
static void nap(volatile sig_atomic_t *stop, long ms)
{
	for (long slept = 0; slept < ms && !*stop; slept += 50) {
		struct timespec ts = {0, 50 * 1000 * 1000};

		nanosleep(&ts, NULL);
	}
}

enum cd_err routing_check_config(const struct config *cfg, struct cd_error *e)
{
	static const char *const KEYS[] = {"redis_url", "results_streams", "results_group",
					   "reply_to_allow"};
	enum cd_err rc = CD_OK;

	for (size_t i = 0; i < sizeof(KEYS) / sizeof(KEYS[0]) && rc == CD_OK; i++)
		rc = config_require(cfg, KEYS[i], e);
	return rc;
}

/* routing_check_config() and the consumer name. */
static enum cd_err check_config(const struct config *cfg, const char *consumer,
				struct cd_error *e)
{
	enum cd_err rc = routing_check_config(cfg, e);

	if (rc == CD_OK && (consumer == NULL || consumer[0] == '\0' ||
			    strlen(consumer) > CONSUMER_MAX))
		rc = cd_fail(e, CD_CONFIG, "consumer", "a router's consumer name must be 1 to %d bytes.",
			     CONSUMER_MAX);
	return rc;
}

enum cd_err routing_run(const struct config *cfg, const char *consumer, volatile sig_atomic_t *stop,
			struct routing_counts *out, struct cd_error *e)
{
	struct router r;
	double next_reclaim = 0;
	long backoff = BACKOFF_MIN_MS;
	bool ready = false;
	enum cd_err rc;

	rc = check_config(cfg, consumer, e);
	if (rc != CD_OK)
		return rc;
	router_init(&r, cfg, consumer, stop);
	log_info("result routing started", "streams", cfg->results_streams, "group",
		 cfg->results_group, "consumer", consumer, "reply_to_allow", cfg->reply_to_allow);
	while (!*stop) {
		bool gone = false;
		size_t n = 0;

		cd_error_reset(&r.e);
		rc = ready ? CD_OK : prepare(&r);
		/* first what this consumer had read and not moved (a restart, a failure) */
		if (rc == CD_OK && !ready)
			rc = drain_own(&r);
		ready = rc == CD_OK;
		if (rc == CD_OK && now_s() >= next_reclaim) {
			rc = reclaim(&r);
			next_reclaim = now_s() + (double)(cfg->routing_reclaim_s + 1) / 2;
		}
		if (rc == CD_OK)
			rc = read_new(&r, ROUTING_BLOCK_MS, &n, &gone);
		if (rc == CD_OK) {
			if (backoff > BACKOFF_MIN_MS)
				log_info("result routing recovered", "consumer", consumer);
			backoff = BACKOFF_MIN_MS;
			ready = !gone;
			continue;
		}
		r.counts.errors++;
		/* the first failure of a streak is a warning; its repeats are not news */
		log_write(backoff == BACKOFF_MIN_MS ? LOG_WARN : LOG_DEBUG,
			  "result routing failed; retrying", "error", cd_err_name(rc), "field",
			  r.e.field, "detail", r.e.message, (const char *)0);
		stream_close(r.rs);
		r.rs = NULL;
		ready = false;
		nap(stop, backoff);
		backoff = backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : backoff * 2;
	}
	router_end(&r, out);
	return CD_OK;
}

enum cd_err routing_drain(const struct config *cfg, const char *consumer,
			  struct routing_counts *out, struct cd_error *e)
{
	static volatile sig_atomic_t never;
	struct router r;
	bool gone = false;
	size_t n = 1;
	enum cd_err rc;

	rc = check_config(cfg, consumer, e);
	if (rc != CD_OK)
		return rc;
	router_init(&r, cfg, consumer, &never);
	rc = prepare(&r);
	if (rc == CD_OK)
		rc = drain_own(&r);
	if (rc == CD_OK)
		rc = reclaim(&r);
	for (int page = 0; rc == CD_OK && n > 0 && !gone && page < DRAIN_PAGES; page++)
		rc = read_new(&r, 0, &n, &gone);
	if (rc != CD_OK) {
		r.counts.errors++;
		*e = r.e;
	}
	router_end(&r, out);
	return rc;
}

/* ---- the thread ------------------------------------------------------------ */

struct routing_thread {
	const struct config *cfg;
	char consumer[CONSUMER_MAX + 1];
	volatile sig_atomic_t stop;
	struct routing_counts counts;
	pthread_t tid;
};

static void *thread_main(void *arg)
{
	struct routing_thread *t = arg;
	struct cd_error e;
	sigset_t pipe;

	/* a write to a connection Redis closed fails with EPIPE instead of
	 * killing the process (hiredis writes without MSG_NOSIGNAL) */
	sigemptyset(&pipe);
	sigaddset(&pipe, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &pipe, NULL);
	cd_error_reset(&e);
	if (routing_run(t->cfg, t->consumer, &t->stop, &t->counts, &e) != CD_OK)
		log_error("result routing did not start", "field", e.field, "detail", e.message);
	return NULL;
}

enum cd_err routing_start_thread(const struct config *cfg, const char *consumer,
				 struct routing_thread **out, struct cd_error *e)
{
	struct routing_thread *t;
	enum cd_err rc;

	*out = NULL;
	rc = check_config(cfg, consumer, e);
	if (rc != CD_OK)
		return rc;
	t = xcalloc(1, sizeof(*t));
	t->cfg = cfg;
	snprintf(t->consumer, sizeof(t->consumer), "%s", consumer);
	if (pthread_create(&t->tid, NULL, thread_main, t) != 0) {
		free(t);
		return cd_fail(e, CD_INTERNAL, NULL, "could not start the routing thread");
	}
	*out = t;
	return CD_OK;
}

void routing_stop_thread(struct routing_thread *t, struct routing_counts *out)
{
	if (t == NULL)
		return;
	t->stop = 1;
	pthread_join(t->tid, NULL);
	if (out != NULL)
		*out = t->counts;
	free(t);
}

struct routing_thread *routing_start_if_on(const struct config *cfg)
{
	struct routing_thread *t = NULL;
	char consumer[CONSUMER_MAX + 1];
	struct cd_error e;

	if (!cfg->result_routing)
		return NULL;
	cd_error_reset(&e);
	routing_consumer_name(consumer, sizeof(consumer), NULL);
	if (routing_start_thread(cfg, consumer, &t, &e) != CD_OK)
		log_error("result routing did not start", "field", e.field, "detail", e.message);
	return t;
}

void routing_consumer_name(char *out, size_t cap, const char *suffix)
{
	char host[256] = "";

	if (gethostname(host, sizeof(host) - 1) != 0 || host[0] == '\0')
		snprintf(host, sizeof(host), "localhost");
	if (suffix != NULL && suffix[0] != '\0')
		snprintf(out, cap, "%.100s-%.27s", host, suffix);
	else
		snprintf(out, cap, "%.128s", host);
}
