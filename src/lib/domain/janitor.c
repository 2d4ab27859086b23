/* janitor.c -- reclaim or dead-letter stuck stream entries. See janitor.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "base/log.h"
#include "base/mem.h"
#include "data/db_reaper.h"
#include "domain/janitor.h"

#define PAGE 100		/* entries per XAUTOCLAIM */
#define MAX_PAGES 100		/* per stream and pass: a pass stays bounded */
#define DEAD_PREFIX "dead:"

long janitor_deliveries(const char *carried, long pending_count)
{
	long before = 0, now = pending_count > 1 ? pending_count - 1 : 0;
	char *end = NULL;

	if (carried != NULL) {
		errno = 0;
		before = strtol(carried, &end, 10);
		if (errno != 0 || end == carried || *end != '\0' || before < 0 || before > 1000000)
			before = 0;
	}
	return before + now;
}

enum janitor_verdict janitor_decide(long deliveries, long max_deliveries)
{
	return deliveries <= max_deliveries ? JANITOR_REQUEUE : JANITOR_DEAD;
}

/* The runtime event of a dead-lettered entry, as JSON text (caller frees). */
static char *dead_event(const char *stream, const struct stream_entry *en, const char *dead_id,
			long deliveries, const char *reason)
{
	struct json_object *o = json_object_new_object();
	const char *keep[] = {"source", "reply_to"};
	char *text;

	json_object_object_add(o, "stream", json_object_new_string(stream));
	json_object_object_add(o, "original_id", json_object_new_string(en->id));
	json_object_object_add(o, "dead_id", json_object_new_string(dead_id));
	json_object_object_add(o, "deliveries", json_object_new_int64(deliveries));
	json_object_object_add(o, "reason", json_object_new_string(reason));
	for (size_t i = 0; i < sizeof(keep) / sizeof(keep[0]); i++) {
		const char *v = stream_entry_field(en, keep[i]);

		if (v != NULL)
			json_object_object_add(o, keep[i], json_object_new_string(v));
	}
	text = xstrdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	json_object_put(o);
	return text;
}

static enum cd_err dead_letter(struct db *db, struct stream_conn *rs, const struct config *cfg,
			       const char *stream, const struct stream_entry *en, long deliveries,
			       struct cd_error *e)
{
	size_t cap = sizeof(DEAD_PREFIX) + strlen(stream);
	char reason[160], count[24], dead_id[64], *to = xmalloc(cap), *event;
	const char *extra[] = {"dead_reason",	   reason, "original_id", en->id,
			       JANITOR_DELIVERIES_FIELD, count,  NULL};
	enum cd_err rc;

	snprintf(reason, sizeof(reason),
		 "delivered %ld times (limit %ld), idle over %ld s without an ack", deliveries,
		 cfg->max_deliveries, cfg->reclaim_idle_s);
	snprintf(count, sizeof(count), "%ld", deliveries);
	snprintf(to, cap, DEAD_PREFIX "%s", stream);
	rc = stream_move(rs, stream, cfg->stream_group, en, to, extra, dead_id, e);
	if (rc == CD_OK) {
		log_warn("stream entry dead-lettered", "stream", stream, "original_id", en->id,
			 "dead_id", dead_id, "deliveries", count);
		event = dead_event(stream, en, dead_id, deliveries, reason);
		rc = db_reaper_runtime_event(db, "stream_entry_dead_lettered", event, e);
		free(event);
	}
	free(to);
	return rc;
}

static enum cd_err requeue(struct stream_conn *rs, const struct config *cfg, const char *stream,
			   const struct stream_entry *en, long deliveries, struct cd_error *e)
{
	char count[24], new_id[64];
	const char *extra[] = {JANITOR_DELIVERIES_FIELD, count, NULL};
	enum cd_err rc;

	snprintf(count, sizeof(count), "%ld", deliveries);
	rc = stream_move(rs, stream, cfg->stream_group, en, stream, extra, new_id, e);
	if (rc == CD_OK)
		log_info("stream entry reclaimed", "stream", stream, "original_id", en->id,
			 "new_id", new_id, "deliveries", count);
	return rc;
}

/* Handles one page of claimed entries. */
static enum cd_err handle_page(struct db *db, struct stream_conn *rs, const struct config *cfg,
			       const char *stream, const struct stream_entry *v, size_t n,
			       struct janitor_counts *out, struct cd_error *e)
{
	enum cd_err rc = CD_OK;

	for (size_t i = 0; i < n && rc == CD_OK; i++) {
		long pending = 0, deliveries;

		rc = stream_delivery_count(rs, stream, cfg->stream_group, v[i].id, &pending, e);
		if (rc != CD_OK)
			break;
		deliveries = janitor_deliveries(stream_entry_field(&v[i], JANITOR_DELIVERIES_FIELD),
						pending);
		if (janitor_decide(deliveries, cfg->max_deliveries) == JANITOR_REQUEUE) {
			rc = requeue(rs, cfg, stream, &v[i], deliveries, e);
			out->requeued += rc == CD_OK;
		} else {
			rc = dead_letter(db, rs, cfg, stream, &v[i], deliveries, e);
			out->dead += rc == CD_OK;
		}
	}
	return rc;
}

static enum cd_err sweep_stream(struct db *db, struct stream_conn *rs, const struct config *cfg,
				const char *stream, struct janitor_counts *out, struct cd_error *e)
{
	char cursor[64] = "0-0", next[64];
	enum cd_err rc = CD_OK;

	for (int page = 0; page < MAX_PAGES && rc == CD_OK; page++) {
		struct stream_entry *v = NULL;
		size_t n = 0;
		bool missing = false;

		rc = stream_autoclaim(rs, stream, cfg->stream_group, JANITOR_CONSUMER,
				      cfg->reclaim_idle_s * 1000, cursor, PAGE, &v, &n, next,
				      &missing, e);
		if (rc == CD_OK && missing) {
			out->missing++;
			log_debug("stream or group missing", "stream", stream, "group",
				  cfg->stream_group);
		}
		if (rc == CD_OK)
			rc = handle_page(db, rs, cfg, stream, v, n, out, e);
		stream_entries_free(v, n);
		if (missing || strcmp(next, "0-0") == 0)
			break;
		snprintf(cursor, sizeof(cursor), "%s", next);
	}
	return rc;
}

enum cd_err janitor_sweep(struct db *db, struct stream_conn *rs, const struct config *cfg,
			  struct janitor_counts *out, struct cd_error *e)
{
	char *list = xstrdup(cfg->streams), *save = NULL;
	enum cd_err rc = CD_OK;

	memset(out, 0, sizeof(*out));
	/* config.c admits only names and commas here; strtok_r skips empty names */
	for (char *s = strtok_r(list, ",", &save); s != NULL && rc == CD_OK;
	     s = strtok_r(NULL, ",", &save))
		rc = sweep_stream(db, rs, cfg, s, out, e);
	free(list);
	return rc;
}
