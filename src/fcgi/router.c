/* router.c -- segment-by-segment pattern matching; see router.h. */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "fcgi/router.h"

/* Matches path against pattern, filling params. */
static bool match(const char *pattern, const char *path, struct route_param *params, int *np)
{
	const char *p = pattern, *s = path;

	*np = 0;
	while (*p != '\0' && *s != '\0') {
		if (*p != '/' || *s != '/')
			return false;
		p++, s++;
		const char *pend = strchr(p, '/');
		const char *send = strchr(s, '/');
		size_t plen = pend ? (size_t)(pend - p) : strlen(p);
		size_t slen = send ? (size_t)(send - s) : strlen(s);

		if (plen > 2 && p[0] == '{' && p[plen - 1] == '}') {
			struct route_param *rp;

			if (slen == 0 || *np >= ROUTE_MAX_PARAMS)
				return false;
			rp = &params[*np];
			snprintf(rp->name, sizeof(rp->name), "%.*s", (int)(plen - 2), p + 1);
			if (request_decode(s, slen, rp->value, sizeof(rp->value)) < 0 ||
			    strchr(rp->value, '/') != NULL)
				return false;
			(*np)++;
		} else if (plen != slen || memcmp(p, s, plen) != 0) {
			return false;
		}
		p += plen, s += slen;
	}
	return *p == '\0' && *s == '\0';
}

/* HEAD is GET without the body (RFC 9110 9.3.2): a GET row answers it too. */
static bool method_matches(const char *row, const char *method)
{
	return strcmp(row, method) == 0 || (strcmp(row, "GET") == 0 && strcmp(method, "HEAD") == 0);
}

/* Adds method to the Allow list allow[0..cap) of used bytes, once; a method
 * that does not fit is left out whole. */
static void allow_add(char *allow, size_t cap, size_t *used, const char *method)
{
	int w;

	if (cap == 0 || strstr(allow, method) != NULL)
		return;
	w = snprintf(allow + *used, cap - *used, "%s%s", *used ? ", " : "", method);
	if (w > 0 && (size_t)w < cap - *used)
		*used += (size_t)w;
	else
		allow[*used] = '\0';
}

enum cd_err router_match(const struct route *table, size_t n, const char *method,
			 const char *path, const struct route **out,
			 struct route_param params[ROUTE_MAX_PARAMS], int *nparams, char *allow,
			 size_t allow_cap, struct cd_error *e)
{
	struct route_param scratch[ROUTE_MAX_PARAMS];
	bool path_known = false;
	size_t used = 0;

	*out = NULL;
	*nparams = 0;
	if (allow_cap > 0)
		allow[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		int np;

		if (!match(table[i].pattern, path, scratch, &np))
			continue;
		if (method_matches(table[i].method, method)) {
			memcpy(params, scratch, sizeof(scratch[0]) * (size_t)np);
			*nparams = np;
			*out = &table[i];
			return CD_OK;
		}
		allow_add(allow, allow_cap, &used, table[i].method);
		if (strcmp(table[i].method, "GET") == 0)
			allow_add(allow, allow_cap, &used, "HEAD");
		path_known = true;
	}
	if (path_known) {
		cd_fail(e, CD_METHOD_NOT_ALLOWED, "method", "%s is not allowed on %s; use %s.", method,
			path, allow);
		return CD_METHOD_NOT_ALLOWED;
	}
	cd_fail(e, CD_NOT_FOUND, "path", "No route matches %s %s.", method, path);
	cd_fail_code(e, "route_not_found");
	return CD_NOT_FOUND;
}
