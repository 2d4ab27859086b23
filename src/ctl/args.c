/* args.c -- a command's own arguments (see args.h): flags, numbers, files,
 * JSON objects; every mistake said in one line naming the command. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/json.h"
#include "base/mem.h"
#include "ctl/args.h"
#include "ctl/client.h"

int args_fail(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, PROGRAM " %s: ", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return CTL_EXIT_USAGE;
}

void args_start(void)
{
	optind = 0;
}

int args_next(struct ctl *ctl, const char *cmd, const struct option *opts)
{
	int c;

	opterr = 0; /* getopt would name argv[0], the verb; we name the command */
	c = getopt_long(ctl->argc + 1, ctl->argv - 1, ":", opts, NULL);
	if (c == '?' || c == ':') {
		const char *arg = (ctl->argv - 1)[optind - 1];

		if (c == ':')
			args_fail(cmd, "%s needs a value; see " PROGRAM " %s --help", arg, cmd);
		else if (optopt != 0)
			args_fail(cmd, "unknown flag -%c; see " PROGRAM " %s --help", optopt, cmd);
		else
			args_fail(cmd, "unknown flag %s; see " PROGRAM " %s --help", arg, cmd);
		return '?';
	}
	return c;
}

bool args_none(struct ctl *ctl, const char *cmd)
{
	static const struct option none[] = {{NULL, 0, NULL, 0}};

	args_start();
	return args_next(ctl, cmd, none) == -1;
}

int args_rest(const struct ctl *ctl, char ***first)
{
	int from = optind > 0 ? optind : 1;

	*first = ctl->argv - 1 + from;
	return ctl->argc + 1 - from;
}

bool args_int(const char *cmd, const char *flag, const char *text, long long min, long long max,
              long long *out)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(text, &end, 10);
	if (errno != 0 || end == text || *end != '\0' || v < min || v > max) {
		args_fail(cmd, "%s takes a whole number from %lld to %lld, not \"%s\"", flag, min, max,
		          text);
		return false;
	}
	*out = v;
	return true;
}

bool args_read(const char *cmd, const char *path, char **out, size_t *n)
{
	bool in = strcmp(path, "-") == 0;
	FILE *f = in ? stdin : fopen(path, "rb");
	size_t got = 0, alloc = 4096;
	char *text;

	if (f == NULL) {
		args_fail(cmd, "cannot read %s: %s", path, strerror(errno));
		return false;
	}
	text = xmalloc(alloc);
	for (;;) {
		size_t r;

		if (got + 1 == alloc) {
			if (alloc > ARGS_FILE_MAX)
				break;
			alloc *= 2;
			text = xrealloc(text, alloc);
		}
		r = fread(text + got, 1, alloc - 1 - got, f);
		got += r;
		if (r == 0)
			break;
	}
	if (ferror(f) || got > ARGS_FILE_MAX) {
		args_fail(cmd, ferror(f) ? "cannot read %s" : "%s holds more than %d bytes",
		          in ? "stdin" : path, ARGS_FILE_MAX);
		free(text);
		if (!in)
			fclose(f);
		return false;
	}
	if (!in)
		fclose(f);
	text[got] = '\0';
	*out = text;
	*n = got;
	return true;
}

bool args_json_object(const char *cmd, const char *path, struct json_object **out)
{
	struct json_object *o = NULL;
	struct cd_error e;
	size_t n;
	char *text;

	cd_error_reset(&e);
	if (!args_read(cmd, path, &text, &n))
		return false;
	if (json_parse_strict(text, n, &o, &e) != CD_OK) {
		args_fail(cmd, "%s: %s", strcmp(path, "-") == 0 ? "stdin" : path, e.message);
		free(text);
		return false;
	}
	free(text);
	if (!json_object_is_type(o, json_type_object)) {
		args_fail(cmd, "%s must hold one JSON object ({...})",
		          strcmp(path, "-") == 0 ? "stdin" : path);
		json_object_put(o);
		return false;
	}
	*out = o;
	return true;
}

bool args_object_operand(const char *cmd, int n, char **first, struct json_object **out)
{
	if (n > 1) {
		args_fail(cmd, "one FILE at most (a JSON object; - for stdin), not %d", n);
		return false;
	}
	if (n == 1)
		return args_json_object(cmd, first[0], out);
	*out = json_object_new_object();
	return true;
}

void args_push(struct json_object *o, const char *key, const char *value)
{
	struct json_object *arr = NULL;

	if (!json_object_object_get_ex(o, key, &arr) || !json_object_is_type(arr, json_type_array)) {
		arr = json_object_new_array();
		json_object_object_add(o, key, arr); /* steals arr */
	}
	json_object_array_add(arr, json_object_new_string(value));
}

void args_merge(struct json_object *dst, struct json_object *src)
{
	json_object_object_foreach(src, key, v) {
		struct json_object *old = NULL;

		if (json_object_object_get_ex(dst, key, &old) &&
		    json_object_is_type(old, json_type_object) && json_object_is_type(v, json_type_object))
			args_merge(old, v);
		else
			json_object_object_add(dst, key, json_object_get(v));
	}
}

bool args_path(char *out, size_t cap, const char *cmd, const char *prefix, const char *id,
               const char *suffix)
{
	if (snprintf(out, cap, "%s", prefix) >= (int)cap || !client_escape(out, cap, id) ||
	    strlen(out) + strlen(suffix) >= cap) {
		args_fail(cmd, "the id \"%.40s...\" is too long", id);
		return false;
	}
	strcat(out, suffix);
	return true;
}

int args_call(struct ctl *ctl, const char *method, const char *path, struct json_object *body,
              struct client_answer *a)
{
	struct cd_error e;

	cd_error_reset(&e);
	if (client_call_json(ctl->api, method, path, body, a, &e) != CD_OK)
		return ctl_fail(&e);
	return CTL_EXIT_OK;
}
