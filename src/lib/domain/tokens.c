/* tokens.c -- token format, hashing, roles and authentication; see tokens.h.
 *
 * The lookup is by hash through a unique index, so the time it takes says
 * nothing about how close a guess was; the stored hash is still compared in
 * constant time before the token is accepted.
 *
 * The cache of verified tokens is this file's one mutable global (STYLE 19
 * allows configuration and metrics only; a per-process cache is the point
 * here: any thread may serve a worker's next request). It holds principals
 * by the token's SHA-256, never the token, and never decides alone: each
 * use arms the connection's guard, so the database still says whether the
 * token is live, in the round trip of the request's first statement.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "base/buf.h"
#include "base/crypto.h"
#include "base/log.h"
#include "data/db_auth.h"
#include "domain/tokens.h"

static const char *const ROLE_NAMES[ROLE_COUNT] = {
	[ROLE_ADMIN] = "admin",
	[ROLE_OPERATOR] = "operator",
	[ROLE_SUBMITTER] = "submitter",
	[ROLE_WORKER] = "worker",
	[ROLE_CONTROLLER] = "controller",
	[ROLE_READONLY] = "readonly",
	[ROLE_METRICS] = "metrics",
};

const char *tokens_role_name(enum role role)
{
	return (unsigned)role < ROLE_COUNT ? ROLE_NAMES[role] : "unknown";
}

int tokens_role_parse(const char *s)
{
	for (int i = 0; i < ROLE_COUNT; i++)
		if (strcmp(s, ROLE_NAMES[i]) == 0)
			return i;
	return -1;
}

void tokens_generate(char out[TOKEN_LEN + 1])
{
	uint8_t raw[32];

	crypto_random(raw, sizeof(raw));
	memcpy(out, TOKEN_PREFIX, 4);
	crypto_base64url(raw, sizeof(raw), out + 4);
}

bool tokens_well_formed(const char *s, size_t n)
{
	if (s == NULL || n != TOKEN_LEN || memcmp(s, TOKEN_PREFIX, 4) != 0)
		return false;
	for (size_t i = 4; i < n; i++) {
		char c = s[i];

		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '_'))
			return false;
	}
	return true;
}

void tokens_hash(const char *token, size_t n, char out[65])
{
	crypto_sha256_hex(token, n, out);
}

/* The 401 or the 503, decided by whether any live token exists. */
static enum cd_err refuse(struct db *db, const char *why, struct cd_error *e)
{
	bool any = true;
	enum cd_err rc = db_auth_any_live(db, &any, e);

	if (rc != CD_OK)
		return rc;
	if (!any)
		return cd_fail(e, CD_AUTH_NOT_CONFIGURED, NULL,
			       "No API token exists yet, so every request is refused. Create one with "
			       "`conductorctl token create --role admin --name NAME`.");
	return cd_fail(e, CD_UNAUTHORIZED, "Authorization", "%s", why);
}

enum cd_err tokens_authenticate(struct db *db, const char *token, size_t n,
				struct principal *out, struct cd_error *e)
{
	struct db_token row;
	char hash[65];
	enum cd_err rc;
	int role;

	if (token == NULL || n == 0)
		return refuse(db, "Send Authorization: Bearer <token>.", e);
	if (!tokens_well_formed(token, n))
		return refuse(db, "The bearer token is malformed: a token is cdt_ and 43 base64url characters.", e);
	tokens_hash(token, n, hash);
	rc = db_auth_lookup(db, hash, &row, e);
	if (rc == CD_NOT_FOUND)
		return refuse(db, "The token is unknown, revoked or expired.", e);
	if (rc != CD_OK)
		return rc;
	role = tokens_role_parse(row.role);
	if (!crypto_equal(row.hash, hash, 64) || role < 0)
		return refuse(db, "The token is unknown, revoked or expired.", e);
	memset(out, 0, sizeof(*out));
	out->role = (enum role)role;
	out->tenant_id = row.tenant_id;
	snprintf(out->tenant, sizeof(out->tenant), "%s", row.tenant_id ? row.tenant : "*");
	snprintf(out->name, sizeof(out->name), "%s", row.name);
	return CD_OK;
}

/* ---- the cache of verified tokens --------------------------------------- */

#define CACHE_SLOTS 256 /* direct-mapped by the hash's first byte */
#define CACHE_TTL_S 30	/* then a full lookup again */

struct cached {
	char hash[65]; /* "" when the slot is empty */
	struct principal p;
	long at_s;     /* when it was verified (CLOCK_MONOTONIC) */
};

static struct cached cache[CACHE_SLOTS];
static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;

static long mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec;
}

static struct cached *slot_of(const char hash[65])
{
	static const char HEX[] = "0123456789abcdef";
	size_t hi = (size_t)(strchr(HEX, hash[0]) - HEX), lo = (size_t)(strchr(HEX, hash[1]) - HEX);

	return &cache[(hi << 4 | lo) % CACHE_SLOTS];
}

/* out: the principal cached for hash within the TTL; false when none. */
static bool cache_find(const char hash[65], struct principal *out)
{
	struct cached *c = slot_of(hash);
	bool hit;

	pthread_mutex_lock(&cache_lock);
	hit = c->hash[0] != '\0' && crypto_equal(c->hash, hash, 64) &&
	      mono_s() - c->at_s < CACHE_TTL_S;
	if (hit)
		*out = c->p;
	pthread_mutex_unlock(&cache_lock);
	return hit;
}

static void cache_put(const char hash[65], const struct principal *p)
{
	struct cached *c = slot_of(hash);

	pthread_mutex_lock(&cache_lock);
	memcpy(c->hash, hash, 65);
	c->p = *p;
	c->at_s = mono_s();
	pthread_mutex_unlock(&cache_lock);
}

static void cache_forget(const char hash[65])
{
	struct cached *c = slot_of(hash);

	pthread_mutex_lock(&cache_lock);
	if (crypto_equal(c->hash, hash, 64))
		c->hash[0] = '\0';
	pthread_mutex_unlock(&cache_lock);
}

enum cd_err tokens_authenticate_guarded(struct db *db, const char *token, size_t n,
					struct principal *out, bool *guarded,
					struct cd_error *e)
{
	char hash[65];
	enum cd_err rc;

	*guarded = false;
	if (token == NULL || !tokens_well_formed(token, n))
		return tokens_authenticate(db, token, n, out, e);
	tokens_hash(token, n, hash);
	if (cache_find(hash, out)) {
		db_auth_guard(db, hash);
		*guarded = true;
		return CD_OK;
	}
	rc = tokens_authenticate(db, token, n, out, e);
	if (rc == CD_OK)
		cache_put(hash, out);
	return rc;
}

enum cd_err tokens_guard_end(struct db *db, const char *token, size_t n, struct cd_error *e)
{
	struct principal p;
	char hash[65];
	enum cd_err rc = db_guard_end(db, e);

	if (rc != CD_UNAUTHORIZED)
		return rc;
	tokens_hash(token, n, hash);
	cache_forget(hash);
	/* the refusal a request without the cache gets: 401, or 503 when no
	 * live token is left at all */
	cd_error_reset(e);
	rc = tokens_authenticate(db, token, n, &p, e);
	if (rc == CD_OK)
		rc = cd_fail(e, CD_UNAUTHORIZED, "Authorization", "The token is unknown, revoked or expired.");
	return rc;
}

/* ---- creating tokens ------------------------------------------------------ */

enum cd_err tokens_create(struct db *db, const char *tenant, const char *role,
			  const char *name, int64_t expires_in_s, char out[TOKEN_LEN + 1],
			  struct cd_error *e)
{
	char hash[65];
	int r = tokens_role_parse(role);

	if (r < 0)
		return cd_fail(e, CD_INVALID, "role",
			       "role must be admin, operator, submitter, worker, controller or readonly.");
	if (name == NULL || name[0] == '\0' || strlen(name) > 128)
		return cd_fail(e, CD_INVALID, "name", "name must be 1 to 128 characters.");
	if (expires_in_s < 0)
		return cd_fail(e, CD_INVALID, "expires_in", "expires-in must be a positive number of seconds.");
	if (tenant == NULL && r != ROLE_ADMIN)
		tenant = "default";
	tokens_generate(out);
	tokens_hash(out, TOKEN_LEN, hash);
	return db_auth_create(db, tenant, role, name, hash, expires_in_s, e);
}

void tokens_actor_json(const struct principal *p, char *out, size_t cap)
{
	struct buf b;

	buf_init(&b, TOKENS_ACTOR_MAX);
	buf_puts(&b, "{\"name\":\"");
	buf_json_escape(&b, p->name, strlen(p->name));
	buf_printf(&b, "\",\"role\":\"%s\"}", tokens_role_name(p->role));
	snprintf(out, cap, "%s", buf_str(&b));
	buf_reset(&b);
}
