/* body.c -- strict JSON bodies for handlers; see body.h. */
#include "fcgi/body.h"
#include "fcgi/response.h"

bool body_object_or_reply(struct request *req, const struct json_field *fields, size_t n,
			  struct json_object **out)
{
	struct json_object *obj = NULL;
	struct cd_error e;

	*out = NULL;
	cd_error_reset(&e);
	if (req->body_len == 0) {
		obj = json_object_new_object();
	} else if (json_parse_strict(req->body, req->body_len, &obj, &e) != CD_OK) {
		reply_error(req, &e);
		return false;
	}
	if (json_check_object(obj, "body", fields, n, &e) != CD_OK) {
		json_object_put(obj);
		reply_error(req, &e);
		return false;
	}
	*out = obj;
	return true;
}
