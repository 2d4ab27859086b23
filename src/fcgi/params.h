/* params.h -- THE generic edge parsers: query parameters (?limit, ?cursor),
 * enumerated strings and string lists of a JSON body, a batch's items
 * against a field table, the If-Match header. Each parses one thing; on bad
 * input it replies the 400 that names the field (STYLE 8) and says so, and
 * the handler just returns. Used by every handler; nothing here touches the
 * database.
 */
#ifndef CD_PARAMS_H
#define CD_PARAMS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "base/json.h"
#include "fcgi/request.h"

/* ?limit= (1..500, default 50); -1 after replying 400 naming limit. */
int limit_or_reply(struct request *req);

/* ?cursor= (opaque: the id a page continues from); 0 when absent, -1 after
 * replying 400 naming cursor. */
int64_t cursor_or_reply(struct request *req);

/* ?name= as text of 1..max bytes into out (cap > max): 1 present, 0
 * absent, -1 after replying 400 naming it. */
int query_text_or_reply(struct request *req, const char *name, char *out, size_t cap, size_t max);

/* ?name= as an id (1..18 digits, not 0); 0 when absent, -1 after replying
 * 400 naming it. */
int64_t query_id_or_reply(struct request *req, const char *name);

/* Checks item i of the JSON array arr (field `name` of the body) against
 * fields[0..n); where: out (cap bytes), "name[i]". false after replying 400
 * naming the item's field. */
bool item_or_reply(struct request *req, struct json_object *arr, size_t i, const char *name,
		   const struct json_field *fields, size_t n, char *where, size_t cap);

/* Checks that every string of the array field key of o is one of
 * allowed[0..n) (n >= 1); where: the field prefix ("" or "jobs[3].").
 * false after replying 400 naming key[i]. */
bool strings_in_or_reply(struct request *req, struct json_object *o, const char *key,
			 const char *where, const char *const *allowed, size_t n);

/* Checks that the string field key of o, when present, is one of
 * allowed[0..n); where: the field prefix. false after replying 400 naming
 * it and listing allowed. */
bool enum_or_reply(struct request *req, struct json_object *o, const char *key,
		   const char *where, const char *const *allowed, size_t n);

/* If-Match: "<rev>" (quotes optional); 0 when absent; -1 after replying
 * 400 naming If-Match. */
int64_t if_match_or_reply(struct request *req);

#endif
