/* config_cmd.c -- `conductorctl config`: the effective configuration, every
 * key of base/config.c's table with its value and where the value came from
 * (default, file, environment; later winning), secrets masked.
 *
 *   KEY            VALUE                                  SOURCE
 *   database_url   postgresql://conductor:****@db/c       environment (CONDUCTOR_DATABASE_URL)
 *   token          ********                               file (/etc/conductor/conductor.env)
 *
 * --json: {file, keys: [{key, variable, value, source, secret}]}.
 * It never prints a secret: every value goes through config_value_text with
 * masked set (a secret key's value whole, a password inside a URL). A bad
 * key ends it with exit status 2 and the key named, like every binary.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "base/config.h"
#include "base/mem.h"
#include "ctl/ctl.h"

#define VALUE_MAX 1100 /* a URL key's longest value, and room to spare */
#define VALUE_COLUMN_MAX 60

static int cmd_config(struct ctl *ctl)
{
	enum config_source *src = xcalloc(config_nkeys(), sizeof(*src));
	struct json_object *keys = json_object_new_array(), *out = json_object_new_object();
	const char *file = ctl->config_file;
	char value[VALUE_MAX], var[80];
	struct cd_error e;
	int width = 0, vwidth = 2, status = CTL_EXIT_OK;

	cd_error_reset(&e);
	if (ctl->argc != 0) {
		status = ctl_usage("config");
		goto out;
	}
	if (config_load_sources(&ctl->cfg, file, src, &e) != CD_OK) {
		status = ctl_fail(&e);
		goto out;
	}
	/* columns as wide as their longest cell; a very long value (pools) only
	 * pushes its own line's source out */
	for (size_t i = 0; i < config_nkeys(); i++) {
		config_value_text(&ctl->cfg, i, true, value, sizeof(value));
		if ((int)strlen(config_key_name(i)) > width)
			width = (int)strlen(config_key_name(i));
		if ((int)strlen(value) > vwidth && strlen(value) <= VALUE_COLUMN_MAX)
			vwidth = (int)strlen(value);
	}
	if (!ctl->json)
		printf("# defaults, then %s%s, then the environment (later wins); secrets masked\n"
		       "%-*s  %-*s  %s\n",
		       file ? "the file " : "no --config file", file ? file : "", width, "KEY",
		       vwidth, "VALUE", "SOURCE");
	for (size_t i = 0; i < config_nkeys(); i++) {
		struct json_object *k = json_object_new_object();

		config_value_text(&ctl->cfg, i, true, value, sizeof(value));
		config_key_variable(i, var, sizeof(var));
		json_object_object_add(k, "key", json_object_new_string(config_key_name(i)));
		json_object_object_add(k, "variable", json_object_new_string(var));
		json_object_object_add(k, "value", json_object_new_string(value));
		json_object_object_add(k, "source",
				       json_object_new_string(config_source_name(src[i])));
		json_object_object_add(k, "secret", json_object_new_boolean(config_key_secret(i)));
		json_object_array_add(keys, k);
		if (ctl->json)
			continue;
		printf("%-*s  %-*s  %s", width, config_key_name(i), vwidth, value[0] ? value : "\"\"",
		       config_source_name(src[i]));
		if (src[i] == CONFIG_SOURCE_ENV)
			printf(" (%s)", var);
		else if (src[i] == CONFIG_SOURCE_FILE)
			printf(" (%s)", file);
		putchar('\n');
	}
	if (ctl->json) {
		json_object_object_add(out, "file", file ? json_object_new_string(file) : NULL);
		json_object_object_add(out, "keys", json_object_get(keys));
		printf("%s\n", json_object_to_json_string_ext(out, JSON_C_TO_STRING_PRETTY |
									JSON_C_TO_STRING_NOSLASHESCAPE));
	}
out:
	json_object_put(out);
	json_object_put(keys);
	config_free(&ctl->cfg);
	free(src);
	return status;
}

const struct ctl_command CTL_CONFIG_COMMANDS[] = {
	{"config", NULL, cmd_config, CTL_NEEDS_NOTHING, "",
	 "print the effective configuration: every key, its value and where it came from",
	 "SOURCE is default, file (the --config file) or environment (the CONDUCTOR_*\n"
	 "variable named); later wins. Secrets are masked: tokens and API keys whole,\n"
	 "passwords inside database_url and redis_url. --json prints\n"
	 "{file, keys: [{key, variable, value, source, secret}]}.\n"
	 "Example: " PROGRAM " config --config /etc/conductor/conductor.env"},
};
const size_t CTL_CONFIG_NCOMMANDS = sizeof(CTL_CONFIG_COMMANDS) / sizeof(CTL_CONFIG_COMMANDS[0]);
