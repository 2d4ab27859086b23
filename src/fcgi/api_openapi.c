/* api_openapi.c -- GET /v1/openapi.json: the API described for every
 * language; the document is fcgi/openapi.c's. */
#include "fcgi/api.h"
#include "fcgi/openapi.h"
#include "fcgi/response.h"

/* GET /v1/openapi.json   no auth
 * The OpenAPI 3.1 document itself (no envelope). Cacheable: it changes only
 * with the binary, and names nothing of a tenant. */
void api_openapi_get(struct request *req)
{
	req->cache_control = "public, max-age=300";
	reply_document(req, "application/json", openapi_document());
}
