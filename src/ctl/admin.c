/* admin.c -- conductorctl's commands straight on the database: tenants and
 * tokens. They need only database_url, so that the first admin token can be
 * made before the API is reachable (everything else goes over HTTP).
 *
 *   conductorctl tenant create NAME | tenant list
 *   conductorctl token create --role ROLE --name NAME [--tenant T] [--expires-in S]
 *   conductorctl token list | token revoke --name NAME
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "base/json.h"
#include "ctl/ctl.h"
#include "data/db.h"
#include "data/db_auth.h"
#include "domain/tokens.h"

#define TOKEN_CREATE_ARGS "--role ROLE --name NAME [--tenant T] [--expires-in SECONDS]"

static int cmd_tenant_create(struct ctl *ctl)
{
	struct cd_error e;

	cd_error_reset(&e);
	if (ctl->argc != 1) {
		return ctl_usage("tenant create NAME");
	}
	if (db_tenants_create(ctl->db, ctl->argv[0], &e) != CD_OK)
		return ctl_fail(&e);
	printf("created tenant %s\n", ctl->argv[0]);
	return 0;
}

static int cmd_tenant_list(struct ctl *ctl)
{
	struct json_object *rows = NULL;
	struct cd_error e;

	cd_error_reset(&e);
	if (db_tenants_list(ctl->db, &rows, &e) != CD_OK)
		return ctl_fail(&e);
	printf("%-32s %s\n", "NAME", "CREATED");
	for (size_t i = 0; i < json_object_array_length(rows); i++) {
		struct json_object *r = json_object_array_get_idx(rows, i);

		printf("%-32s %s\n", json_get_string(r, "name", "-"), json_get_string(r, "created_at", "-"));
	}
	json_object_put(rows);
	return 0;
}

/* Parses --name/--role/--tenant/--expires-in from the command's arguments. */
struct token_flags {
	const char *name, *role, *tenant;
	int64_t expires_in;
};

static int parse_token_flags(struct ctl *ctl, struct token_flags *f)
{
	static const struct option opts[] = {
		{"name", required_argument, NULL, 'n'},
		{"role", required_argument, NULL, 'r'},
		{"tenant", required_argument, NULL, 't'},
		{"expires-in", required_argument, NULL, 'e'},
		{NULL, 0, NULL, 0},
	};
	char *end;
	int c;

	memset(f, 0, sizeof(*f));
	optind = 0;
	while ((c = getopt_long(ctl->argc + 1, ctl->argv - 1, "", opts, NULL)) != -1) {
		switch (c) {
		case 'n': f->name = optarg; break;
		case 'r': f->role = optarg; break;
		case 't': f->tenant = optarg; break;
		case 'e':
			f->expires_in = strtoll(optarg, &end, 10);
			if (*end != '\0' || end == optarg || f->expires_in <= 0) {
				fprintf(stderr, PROGRAM ": --expires-in takes a positive number of seconds\n");
				return 2;
			}
			break;
		default: return 2;
		}
	}
	return 0;
}

static int cmd_token_create(struct ctl *ctl)
{
	struct token_flags f;
	struct cd_error e;
	char token[TOKEN_LEN + 1];

	cd_error_reset(&e);
	if (parse_token_flags(ctl, &f) != 0)
		return 2;
	if (f.role == NULL || f.name == NULL) {
		return ctl_usage("token create " TOKEN_CREATE_ARGS);
	}
	if (tokens_create(ctl->db, f.tenant, f.role, f.name, f.expires_in, token, &e) != CD_OK)
		return ctl_fail(&e);
	fprintf(stderr, "created %s token %s for tenant %s; it is shown once:\n", f.role, f.name,
		f.tenant ? f.tenant : (strcmp(f.role, "admin") == 0 ? "*" : "default"));
	printf("%s\n", token);
	return 0;
}

static int cmd_token_list(struct ctl *ctl)
{
	struct json_object *rows = NULL;
	struct cd_error e;

	cd_error_reset(&e);
	if (db_auth_list(ctl->db, &rows, &e) != CD_OK)
		return ctl_fail(&e);
	printf("%-24s %-16s %-10s %-20s %-20s %s\n", "NAME", "TENANT", "ROLE", "CREATED", "EXPIRES",
	       "REVOKED");
	for (size_t i = 0; i < json_object_array_length(rows); i++) {
		struct json_object *r = json_object_array_get_idx(rows, i);

		printf("%-24s %-16s %-10s %-20s %-20s %s\n", json_get_string(r, "name", "-"),
		       json_get_string(r, "tenant", "-"), json_get_string(r, "role", "-"),
		       json_get_string(r, "created_at", "-"), json_get_string(r, "expires_at", "-"),
		       json_get_string(r, "revoked_at", "-"));
	}
	json_object_put(rows);
	return 0;
}

static int cmd_token_revoke(struct ctl *ctl)
{
	struct token_flags f;
	struct cd_error e;

	cd_error_reset(&e);
	if (parse_token_flags(ctl, &f) != 0)
		return 2;
	if (f.name == NULL) {
		return ctl_usage("token revoke --name NAME");
	}
	if (db_auth_revoke(ctl->db, f.name, &e) != CD_OK)
		return ctl_fail(&e);
	printf("revoked token %s\n", f.name);
	return 0;
}

const struct ctl_command CTL_ADMIN_COMMANDS[] = {
	{"tenant", "create", cmd_tenant_create, CTL_NEEDS_DB, "NAME", "create a tenant",
	 "Example: " PROGRAM " tenant create acme"},
	{"tenant", "list", cmd_tenant_list, CTL_NEEDS_DB, "", "list tenants",
	 "Example: " PROGRAM " tenant list"},
	{"token", "create", cmd_token_create, CTL_NEEDS_DB, TOKEN_CREATE_ARGS,
	 "create a token and print it once, alone on the last line of stdout",
	 "ROLE: admin, operator, submitter, worker, controller, readonly, metrics\n"
	 "(GET /metrics only). Without --tenant: every tenant for admin, tenant\n"
	 "\"default\" for the other roles.\n"
	 "Example: " PROGRAM " token create --role worker --name gpu-box-1 --expires-in 2592000"},
	{"token", "list", cmd_token_list, CTL_NEEDS_DB, "", "list tokens (never their secrets)",
	 "Example: " PROGRAM " token list"},
	{"token", "revoke", cmd_token_revoke, CTL_NEEDS_DB, "--name NAME",
	 "revoke a token; refused from the next request on",
	 "Example: " PROGRAM " token revoke --name gpu-box-1"},
};
const size_t CTL_ADMIN_NCOMMANDS = sizeof(CTL_ADMIN_COMMANDS) / sizeof(CTL_ADMIN_COMMANDS[0]);
