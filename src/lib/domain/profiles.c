/* profiles.c -- profile names and references (see profiles.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domain/profiles.h"

static bool name_char(char c, bool first)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (!first && (c == '.' || c == '_' || c == '-'));
}

enum cd_err profiles_check_name(const char *name, const char *field, struct cd_error *e)
{
	size_t n = strlen(name);

	for (size_t i = 0; i < n && n <= PROFILE_NAME_MAX; i++)
		if (!name_char(name[i], i == 0))
			n = 0; /* fails below */
	if (n == 0 || n > PROFILE_NAME_MAX)
		return cd_fail(e, CD_INVALID, field,
		               "%s must be 1 to %d of A-Z a-z 0-9 . _ -, starting with a letter "
		               "or a digit.",
		               field, PROFILE_NAME_MAX);
	return CD_OK;
}

int profiles_parse_version(const char *s)
{
	char *end;
	long v;

	if (s == NULL || s[0] < '1' || s[0] > '9' || strlen(s) > 9)
		return -1;
	v = strtol(s, &end, 10);
	return *end == '\0' && v >= 1 && v <= PROFILE_VERSION_MAX ? (int)v : -1;
}

enum cd_err profiles_parse_ref(const char *ref, const char *field, char *name, size_t cap,
                               int *version, struct cd_error *e)
{
	const char *at = strchr(ref, '@');
	size_t n = at != NULL ? (size_t)(at - ref) : strlen(ref);

	*version = 0;
	if (n >= cap || n > PROFILE_NAME_MAX)
		return cd_fail(e, CD_INVALID, field, "%s: the name is longer than %d bytes.", field,
		               PROFILE_NAME_MAX);
	memcpy(name, ref, n);
	name[n] = '\0';
	if (profiles_check_name(name, field, e) != CD_OK)
		return CD_INVALID;
	if (at != NULL && (*version = profiles_parse_version(at + 1)) < 0)
		return cd_fail(e, CD_INVALID, field,
		               "%s must be \"name\" (the latest version) or \"name@v\" with v a "
		               "version number from 1.",
		               field);
	return CD_OK;
}
