/* expect.h -- what the integration suites (test_http, test_fleet,
 * test_control) share, written once so that they read answers and report
 * failures alike: JSON accessors, assertions that name the caller's file and
 * line, requests that fail the test on a transport error, the suite's
 * database connection and its SQL helpers, tenants of their own with a token
 * per role, jobs read back, and the suite's set-up, tear-down and
 * <NAME>_ONLY filter.
 *
 * Ownership: the JSON accessors return pointers borrowed from the object they
 * are given (valid while it lives; a missing string reads ""); fmt()'s string
 * and the responses of call()/callf() belong to the caller (free(),
 * http_resp_free()); tenants and their tokens belong to this module until the
 * suite's tear-down.
 */
#ifndef CD_EXPECT_H
#define CD_EXPECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "../cutest.h"
#include "http_client.h"

#define IDLEN     24  /* a job id as a string, with room to spare */
#define CLAIM_MAX 100 /* the API's max_jobs */

/* ---- JSON ----------------------------------------------------------------- */

/* The string at key; "" when absent or null. */
const char *str_at(struct json_object *o, const char *key);
/* The value at key; NULL when absent or null. */
struct json_object *obj_at(struct json_object *o, const char *key);
/* Is key present in o with the value null? */
bool null_at(struct json_object *o, const char *key);
/* The integer at key, or -1 when absent or null. */
int64_t int_at(struct json_object *o, const char *key);
/* true only for a boolean true at key. */
bool bool_at(struct json_object *o, const char *key);
/* Is key present with a boolean value? */
bool is_bool_at(struct json_object *o, const char *key);
bool is_array(struct json_object *o);
/* The length of an array; 0 for anything else. */
size_t len_of(struct json_object *arr);
/* Item i of an array; NULL past its end. */
struct json_object *item_at(struct json_object *arr, size_t i);
/* The envelope's data. */
struct json_object *data_of(const struct http_resp *r);
/* An error envelope's details.field. */
const char *field_of(const struct http_resp *r);

/* ---- assertions that name the caller's line ------------------------------ */

/* One CUnit assertion reported at file:line. */
#define CHECK_AT(cond, line, text) check_at((cond), __FILE__, (line), (text))
void check_at(bool ok, const char *file, int line, const char *text);

/* The status is s; says what came instead. Returns whether it was. */
#define EXPECT_STATUS(r, s) expect_status_at(&(r), (s), __FILE__, __LINE__)
bool expect_status_at(const struct http_resp *r, long status, const char *file, int line);

/* An error envelope with this status and code, its request id the header's
 * (five assertions). */
#define EXPECT_ERROR(r, s, code) expect_error_at(&(r), (s), (code), __FILE__, __LINE__)
void expect_error_at(const struct http_resp *r, long status, const char *code, const char *file,
                     int line);

/* A body refused: method path body sent with token answers an error envelope
 * 400 invalid_request whose details.field is field (six assertions); says
 * which request when not. */
#define EXPECT_REFUSED(token, method, path, body, field)                                           \
	expect_refused_at((token), (method), (path), (body), (field), __FILE__, __LINE__)
void expect_refused_at(const char *token, const char *method, const char *path, const char *body,
                       const char *field, const char *file, int line);

#define EXPECT_STR(got, want) expect_str_at((got), (want), __FILE__, __LINE__)
void expect_str_at(const char *got, const char *want, const char *file, int line);

#define EXPECT_INT(got, want) expect_int_at((got), (want), __FILE__, __LINE__)
void expect_int_at(int64_t got, int64_t want, const char *file, int line);

/* ---- HTTP ----------------------------------------------------------------- */

/* A new string (caller frees); aborts when out of memory. */
char *fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));

/* One request; a transport error fails an assertion and answers status 0.
 * The response is the caller's (http_resp_free). */
struct http_resp call(const char *method, const char *path, const char *token, const char *body,
                      const char *const *headers);

/* call() with a formatted body. */
struct http_resp callf(const char *method, const char *path, const char *token, const char *f, ...)
    __attribute__((format(printf, 4, 5)));

/* ---- the database --------------------------------------------------------- */

/* sql runs on the suite's connection with text parameters: a NULL-terminated
 * list of up to 4. */

/* The integer in row 0, column 0; -1 when it failed (said on stderr) or was
 * null. */
long long pg_int(const char *sql, ...);
/* The text in row 0, column 0 into out ("" when none or null); returns out. */
const char *pg_str(char *out, size_t cap, const char *sql, ...);
/* Runs a statement; returns the rows it touched, or -1 when it failed: its
 * SQLSTATE then goes to state (6 bytes), or with state NULL why is said on
 * stderr. */
long long pg_cmd(char *state, const char *sql, ...);

/* ---- tenants and tokens --------------------------------------------------- */

struct tenant {
	char name[64]; /* <tenant prefix>-<what>-<run tag> */
	char tid[24];  /* tenants.id, for SQL */
	/* tokens of this tenant, named <token prefix>-<what>-<run tag>-<role's
	 * first letter>; operator and controller only with control_roles, else
	 * NULL */
	char *submitter, *worker, *reader, *operator, * controller;
};

/* A new tenant of the suite's with its tokens; NULL when conductorctl failed
 * or the suite has made too many. */
struct tenant *tenant_new(const char *what);

/* ---- jobs ----------------------------------------------------------------- */

struct claimed {
	int n;
	char id[CLAIM_MAX][IDLEN];
	int64_t epoch[CLAIM_MAX];
	int64_t attempts[CLAIM_MAX];
	char priority[CLAIM_MAX][16];
};

/* Reads a claim's answer into out, in answer order; asserts at file:line
 * that each job is assigned and held by factory (two assertions a job).
 * Returns out->n. */
int claimed_of(const struct http_resp *r, const char *factory, struct claimed *out,
               const char *file, int line);

/* What a job (a step, too) looks like now. */
struct snap {
	long status;
	char stage[24], lease_status[16], holder[64];
	int64_t rev, epoch, attempts;
};

/* GET /v1/fleet/jobs/<id> with t's readonly token. */
struct snap snap_job(const struct tenant *t, const char *id);

/* The job answered 200 and is as it was (one assertion). */
#define EXPECT_UNCHANGED(a, b) expect_unchanged_at(&(a), &(b), __FILE__, __LINE__)
void expect_unchanged_at(const struct snap *before, const struct snap *after, const char *file,
                         int line);

/* ---- the suite ------------------------------------------------------------ */

struct suite {
	const char *name;          /* "fleet": CUnit's suite, messages say test_fleet, and
	                            * FLEET_ONLY=name[,name] runs only those tests */
	const char *tenant_prefix; /* "fleet": tenants are fleet-<what>-<run tag>, their
	                            * tokens f-<what>-<run tag>-<role's first letter> */
	bool control_roles;        /* tenants get operator and controller tokens too */
};

/* Keeps the tests <NAME>_ONLY names, connects to $CONDUCTOR_DATABASE_URL, runs
 * the tests, frees the tenants and disconnects; returns cutest's result. */
int suite_run(const struct suite *s, CU_TestInfo *tests);

/* ---- the fake provider (tools/fake-provider) ------------------------------ */

/* method <the fake's root>/path with body (NULL: none): its control routes
 * (/_fake/mode, /_fake/state, /_fake/reset). The root is
 * $CONDUCTOR_RUNPOD_API_URL without its /runpod/v1. Returns the answer's
 * JSON (the caller puts it), NULL when there was none. Not thread-safe. */
struct json_object *fake_call(const char *method, const char *path, const char *body);

#endif
