/* handler.c -- shared handler steps; see handler.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "data/stream.h"
#include "fcgi/handler.h"
#include "fcgi/response.h"

bool id_or_reply(struct request *req, const char *thing, int64_t *out)
{
	const char *s = request_param(req, "id");
	char *end, code[32];
	struct cd_error e;

	if (s != NULL && s[0] >= '0' && s[0] <= '9' && strlen(s) <= 18 &&
	    (*out = strtoll(s, &end, 10)) > 0 && *end == '\0')
		return true;
	if (s == NULL)
		s = "";
	cd_error_reset(&e);
	/* at most 40 bytes of the id, never half a character (the escaper
	 * turns bytes that are not UTF-8 into U+FFFD) */
	cd_fail(&e, CD_NOT_FOUND, "id", "No %s %.*s exists in this tenant.", thing,
		(int)buf_utf8_cut(s, strnlen(s, 40)), s);
	snprintf(code, sizeof(code), "%s_not_found", thing);
	cd_fail_code(&e, code);
	reply_error(req, &e);
	return false;
}

void reply_text_or_error(struct request *req, enum cd_err rc, char *text,
			 const struct cd_error *e)
{
	if (rc == CD_OK)
		reply_ok_text(req, text);
	else
		reply_error(req, e);
	free(text);
}

struct stream_conn *redis_or_null(struct request *req, struct cd_error *e)
{
	if (req->w->redis == NULL)
		stream_open(req->w->cfg->redis_url, REDIS_TIMEOUT_MS, &req->w->redis, e);
	return req->w->redis;
}
