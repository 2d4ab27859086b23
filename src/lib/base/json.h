/* json.h -- the strict JSON reader and the field validators.
 *
 * json-c's own tokener accepts duplicate keys (the last wins) and NUL bytes
 * inside strings, so request bodies go through json_parse_strict() instead:
 * RFC 8259 exactly, one value, depth at most JSON_MAX_DEPTH, valid UTF-8,
 * no \u0000, no duplicate keys, integers within int64. The result is a json-c
 * tree so the rest of the code uses one JSON library.
 *
 * Input is denied by default (kcgi's habit): json_check_object() takes the
 * table of fields a body may carry, and refuses any other key, a wrong type,
 * an out-of-range integer or a too-long string, naming the field.
 * Thread-safety: reentrant.
 */
#ifndef CD_JSON_H
#define CD_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "base/err.h"

#define JSON_MAX_DEPTH 64

/* Parses text[0..n). out: a new tree the caller frees with json_object_put().
 * Returns CD_INVALID with e->field set to the path of the fault ("body" for
 * the top level, "manifest.items[2]" below it). */
enum cd_err json_parse_strict(const char *text, size_t n, struct json_object **out,
			      struct cd_error *e);

enum json_field_type {
	JF_STRING,	/* min..max: length in bytes */
	JF_INT,		/* min..max: value */
	JF_NUMBER,	/* any JSON number; min..max: value */
	JF_BOOL,
	JF_OBJECT,	/* max: serialized size in bytes (0: no limit) */
	JF_ARRAY,	/* min..max: number of items */
	JF_STRING_ARRAY, /* array of strings; min..max: items; item_max: bytes each */
};

/* One row of a body's field table. */
struct json_field {
	const char *name;
	enum json_field_type type;
	bool required;
	int64_t min, max;
	int64_t item_max;	/* JF_STRING_ARRAY: each item's length limit */
	bool nullable;		/* JSON null accepted (treated as absent) */
};

/* Checks obj (which must be a JSON object) against fields[0..n).
 * where: the name of obj for messages ("body", "retry"). */
enum cd_err json_check_object(struct json_object *obj, const char *where,
			      const struct json_field *fields, size_t n, struct cd_error *e);

/* Readers for a checked object: borrowed values, the default when absent or null. */
const char *json_get_string(struct json_object *obj, const char *key, const char *dflt);
int64_t json_get_int(struct json_object *obj, const char *key, int64_t dflt);
bool json_get_bool(struct json_object *obj, const char *key, bool dflt);
/* Borrowed; NULL when absent or null. */
struct json_object *json_get(struct json_object *obj, const char *key);

#endif
