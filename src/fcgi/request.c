/* request.c -- request set-up, ids, parameters and lazy per-thread connections.
 * See request.h. */
#include <stdio.h>
#include <string.h>

#include "base/crypto.h"
#include "base/log.h"
#include "data/db.h"
#include "fcgi/request.h"

void request_init(struct request *req, struct worker *w)
{
	memset(req, 0, sizeof(*req));
	req->w = w;
	req->query = "";
	req->status = 200;
	req->out_type = "application/json";
	req->cache_control = "no-store";
	cd_error_reset(&req->err);
	buf_init(&req->out_headers, 4096);
	buf_init(&req->out, RESPONSE_BODY_MAX);
}

void request_reset(struct request *req)
{
	buf_reset(&req->out_headers);
	buf_reset(&req->out);
}

static bool printable_id(const char *s)
{
	size_t n = 0;

	for (; s[n] != '\0'; n++)
		if ((unsigned char)s[n] < 0x21 || (unsigned char)s[n] > 0x7e || n >= 128)
			return false;
	return n > 0;
}

void request_set_id(struct request *req, const char *client_id)
{
	uint8_t raw[12];

	if (client_id != NULL && printable_id(client_id)) {
		snprintf(req->request_id, sizeof(req->request_id), "%s", client_id);
		return;
	}
	crypto_random(raw, sizeof(raw));
	memcpy(req->request_id, "req_", 4);
	crypto_hex(raw, sizeof(raw), req->request_id + 4);
}

const char *request_param(const struct request *req, const char *name)
{
	for (int i = 0; i < req->nparams; i++)
		if (strcmp(req->params[i].name, name) == 0)
			return req->params[i].value;
	return NULL;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int request_decode(const char *src, size_t n, char *out, size_t cap)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		char c = src[i];

		if (c == '%') {
			int hi, lo;

			if (i + 2 >= n)
				return -1;
			hi = hexval(src[i + 1]);
			lo = hexval(src[i + 2]);
			if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
				return -1;
			c = (char)(hi << 4 | lo);
			i += 2;
		}
		if (o + 1 >= cap)
			return -1;
		out[o++] = c;
	}
	out[o] = '\0';
	return 0;
}

int request_query(const struct request *req, const char *name, char *out, size_t cap)
{
	size_t nlen = strlen(name);
	const char *p = req->query;

	while (p != NULL && *p != '\0') {
		const char *amp = strchr(p, '&');
		size_t len = amp ? (size_t)(amp - p) : strlen(p);

		if (len > nlen && strncmp(p, name, nlen) == 0 && p[nlen] == '=')
			return request_decode(p + nlen + 1, len - nlen - 1, out, cap) < 0 ? -1 : 1;
		if (len == nlen && strncmp(p, name, nlen) == 0) {
			if (cap > 0)
				out[0] = '\0';
			return 1;
		}
		p = amp ? amp + 1 : NULL;
	}
	return 0;
}

struct db *request_db(struct request *req, struct cd_error *e)
{
	return worker_db(req->w, e);
}

struct db *worker_db(struct worker *w, struct cd_error *e)
{
	if (w->db == NULL && (db_open(w->cfg->database_url, &w->db, e) != CD_OK ||
			      db_use_generic_plans(w->db, e) != CD_OK)) {
		log_error("database connection failed", "error", e ? e->message : "");
		db_close(w->db);
		w->db = NULL;
		cd_fail(e, CD_UNAVAILABLE, NULL, "The database is unavailable; try again shortly.");
		return NULL;
	}
	return w->db;
}
