/* main.c -- conductorctl: the admin CLI. Commands are rows of COMMANDS; each
 * opens the database through the same data layer the routes use.
 *
 *   conductorctl tenant create NAME | tenant list
 *   conductorctl token create --role ROLE --name NAME [--tenant T] [--expires-in S]
 *   conductorctl token list | token revoke --name NAME
 * `--help` anywhere prints the usage of what it follows, with no configuration.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "base/cli.h"
#include "base/json.h"
#include "base/log.h"
#include "data/db.h"
#include "data/db_auth.h"
#include "domain/tokens.h"

#define PROGRAM "conductorctl"

struct ctl {
	struct config cfg;
	struct db *db;
	int argc;
	char **argv;	/* the command's own arguments, after "token create" */
};

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: " PROGRAM " [--config FILE] COMMAND ...\n"
		"\n"
		"Commands:\n"
		"  tenant create NAME                 create a tenant\n"
		"  tenant list                        list tenants\n"
		"  token create --role ROLE --name NAME [--tenant T] [--expires-in SECONDS]\n"
		"                                     create a token and print it once, alone on\n"
		"                                     the last line of stdout. ROLE: admin, operator,\n"
		"                                     submitter, worker, controller, readonly,\n"
		"                                     metrics (GET /metrics only).\n"
		"                                     Without --tenant: every tenant for admin,\n"
		"                                     tenant \"default\" for the other roles.\n"
		"  token list                         list tokens (never their secrets)\n"
		"  token revoke --name NAME           revoke a token; seen on the next request\n"
		"\n"
		"  --help, --version\n");
	config_print_help(out);
}

/* Reports e on stderr and returns the exit status for it. */
static int fail(const struct cd_error *e)
{
	fprintf(stderr, PROGRAM ": %s\n", e->message);
	return e->err == CD_INVALID || e->err == CD_CONFIG ? 2 : 1;
}

static int cmd_tenant_create(struct ctl *ctl)
{
	struct cd_error e;

	cd_error_reset(&e);
	if (ctl->argc != 1) {
		fprintf(stderr, PROGRAM ": usage: tenant create NAME\n");
		return 2;
	}
	if (db_tenants_create(ctl->db, ctl->argv[0], &e) != CD_OK)
		return fail(&e);
	printf("created tenant %s\n", ctl->argv[0]);
	return 0;
}

static int cmd_tenant_list(struct ctl *ctl)
{
	struct json_object *rows = NULL;
	struct cd_error e;

	cd_error_reset(&e);
	if (db_tenants_list(ctl->db, &rows, &e) != CD_OK)
		return fail(&e);
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
		fprintf(stderr, PROGRAM ": usage: token create --role ROLE --name NAME "
				"[--tenant T] [--expires-in SECONDS]\n");
		return 2;
	}
	if (tokens_create(ctl->db, f.tenant, f.role, f.name, f.expires_in, token, &e) != CD_OK)
		return fail(&e);
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
		return fail(&e);
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
		fprintf(stderr, PROGRAM ": usage: token revoke --name NAME\n");
		return 2;
	}
	if (db_auth_revoke(ctl->db, f.name, &e) != CD_OK)
		return fail(&e);
	printf("revoked token %s\n", f.name);
	return 0;
}

/* THE command table. */
static const struct {
	const char *noun, *verb;
	int (*run)(struct ctl *ctl);
	const char *usage;	/* the arguments, for `NOUN VERB --help` */
} COMMANDS[] = {
	{"tenant", "create", cmd_tenant_create, "tenant create NAME"},
	{"tenant", "list", cmd_tenant_list, "tenant list"},
	{"token", "create", cmd_token_create,
	 "token create --role ROLE --name NAME [--tenant T] [--expires-in SECONDS]"},
	{"token", "list", cmd_token_list, "token list"},
	{"token", "revoke", cmd_token_revoke, "token revoke --name NAME"},
};
#define NCOMMANDS (sizeof(COMMANDS) / sizeof(COMMANDS[0]))

/* `conductorctl NOUN [VERB] ... --help`: the usage of the commands named,
 * printed before any configuration is read (none is needed to ask). False
 * when no argument is --help or -h. */
static bool help_asked(int argc, char **argv)
{
	bool asked = false;
	size_t shown = 0;

	for (int i = 0; i < argc; i++)
		asked |= strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0;
	if (!asked)
		return false;
	for (size_t i = 0; i < NCOMMANDS; i++) {
		if (argc < 1 || strcmp(argv[0], COMMANDS[i].noun) != 0 ||
		    (argc >= 2 && argv[1][0] != '-' && strcmp(argv[1], COMMANDS[i].verb) != 0))
			continue;
		printf("%s" PROGRAM " %s\n", shown++ ? "       " : "Usage: ", COMMANDS[i].usage);
	}
	if (shown == 0)
		usage(stdout);
	else
		printf("\nSee " PROGRAM " --help for every command and the configuration.\n");
	return true;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"config", required_argument, NULL, 'c'},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
		{NULL, 0, NULL, 0},
	};
	const char *config_file = NULL;
	struct ctl ctl;
	struct cd_error e;
	int c, status;

	memset(&ctl, 0, sizeof(ctl));
	while ((c = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
		switch (c) {
		case 'c': config_file = optarg; break;
		case 'h': usage(stdout); return 0;
		case 'V': cli_print_version(PROGRAM); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (help_asked(argc - optind, argv + optind))
		return 0;
	if (argc - optind < 2) {
		/* the whole usage is 50 lines: name the problem, point at --help */
		fprintf(stderr, PROGRAM ": %s%s; a command is a noun and a verb (tenant list, "
				"token create ...); see --help\n",
			argc - optind == 0 ? "no command" : "unknown command ",
			argc - optind == 0 ? "" : argv[optind]);
		return 2;
	}
	for (size_t i = 0; i < NCOMMANDS; i++) {
		if (strcmp(argv[optind], COMMANDS[i].noun) != 0 ||
		    strcmp(argv[optind + 1], COMMANDS[i].verb) != 0)
			continue;
		cli_load_config(&ctl.cfg, PROGRAM, config_file);
		cd_error_reset(&e);
		if (config_require(&ctl.cfg, "database_url", &e) != CD_OK)
			cli_die_config(PROGRAM, &e);
		if (db_open(ctl.cfg.database_url, &ctl.db, &e) != CD_OK) {
			config_free(&ctl.cfg);
			return fail(&e);
		}
		ctl.argc = argc - optind - 2;
		ctl.argv = argv + optind + 2;
		status = COMMANDS[i].run(&ctl);
		db_close(ctl.db);
		config_free(&ctl.cfg);
		return status;
	}
	fprintf(stderr, PROGRAM ": unknown command %s %s; see --help\n", argv[optind],
		argv[optind + 1]);
	return 2;
}
