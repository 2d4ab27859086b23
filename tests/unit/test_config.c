/* test_config.c -- base/config.c: defaults, the --config file (key=value,
 * CONDUCTOR_KEY=value, export, comments), the environment winning over both,
 * refusals that name the key, config_require and config_parse_redis_url.
 * Each test starts from an environment without any CONDUCTOR_* variable. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../cutest.h"
#include "base/config.h"

extern char **environ;

/* Unsets every CONDUCTOR_* variable (names collected first: unsetenv
 * rewrites environ). */
static void clear_env(void)
{
	char names[64][128];
	size_t n;

	do {
		n = 0;
		for (char **env = environ; *env != NULL && n < 64; env++) {
			const char *eq = strchr(*env, '=');
			size_t len = eq ? (size_t)(eq - *env) : strlen(*env);

			if (strncmp(*env, "CONDUCTOR_", 10) != 0 || len >= sizeof(names[0]))
				continue;
			memcpy(names[n], *env, len);
			names[n][len] = '\0';
			n++;
		}
		for (size_t i = 0; i < n; i++)
			unsetenv(names[i]);
	} while (n == 64);
}

/* Writes text to a new temporary file; path: out (at least 32 bytes). */
static void write_temp(const char *text, char *path)
{
	int fd;
	size_t len = strlen(text);

	strcpy(path, "/tmp/conductor_cfg_XXXXXX");
	fd = mkstemp(path);
	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_FATAL(write(fd, text, len) == (ssize_t)len);
	close(fd);
}

/* Loads the configuration from text as a --config file. */
static enum cd_err load_text(const char *text, struct config *cfg, struct cd_error *e)
{
	char path[32];
	enum cd_err rc;

	write_temp(text, path);
	cd_error_reset(e);
	rc = config_load(cfg, path, e);
	unlink(path);
	return rc;
}

static void test_defaults(void)
{
	struct config cfg;
	struct cd_error e;

	clear_env();
	cd_error_reset(&e);
	CU_ASSERT_EQUAL_FATAL(config_load(&cfg, NULL, &e), CD_OK);
	CU_ASSERT_STRING_EQUAL(cfg.database_url, "");
	CU_ASSERT_STRING_EQUAL(cfg.redis_url, "redis://127.0.0.1:6379");
	CU_ASSERT_STRING_EQUAL(cfg.listen, "");
	CU_ASSERT_EQUAL(cfg.threads, 0);
	CU_ASSERT_STRING_EQUAL(cfg.log_level, "info");
	CU_ASSERT_STRING_EQUAL(cfg.url, "");
	CU_ASSERT_STRING_EQUAL(cfg.token, "");
	CU_ASSERT_STRING_EQUAL(cfg.admin_token, "");
	CU_ASSERT_STRING_EQUAL(cfg.streams, "");
	CU_ASSERT_STRING_EQUAL(cfg.stream_group, "workers");
	CU_ASSERT_EQUAL(cfg.factory_stale_s, 60);
	CU_ASSERT_EQUAL(cfg.reclaim_idle_s, 900);
	CU_ASSERT_EQUAL(cfg.max_deliveries, 3);
	CU_ASSERT_EQUAL(cfg.retention_days, 30);
	CU_ASSERT_EQUAL(cfg.claim_wait_max, 0);
	config_free(&cfg);
	CU_ASSERT_PTR_NULL(cfg.database_url);
	CU_ASSERT_PTR_NULL(cfg.redis_url);
	config_free(NULL);
}

static void test_env_overrides_defaults(void)
{
	struct config cfg;
	struct cd_error e;

	clear_env();
	setenv("CONDUCTOR_DATABASE_URL", "postgresql:///conductor", 1);
	setenv("CONDUCTOR_THREADS", "8", 1);
	setenv("CONDUCTOR_LOG_LEVEL", "debug", 1);
	setenv("CONDUCTOR_REDIS_URL", "unix:/run/redis.sock?db=1", 1);
	setenv("CONDUCTOR_STREAMS", "tasks:image,tasks:text", 1);
	/* a CONDUCTOR_ name that is not a key is left to whoever set it */
	setenv("CONDUCTOR_SOMETHING_ELSE", "whatever", 1);
	cd_error_reset(&e);
	CU_ASSERT_EQUAL_FATAL(config_load(&cfg, NULL, &e), CD_OK);
	CU_ASSERT_STRING_EQUAL(cfg.database_url, "postgresql:///conductor");
	CU_ASSERT_EQUAL(cfg.threads, 8);
	CU_ASSERT_STRING_EQUAL(cfg.log_level, "debug");
	CU_ASSERT_STRING_EQUAL(cfg.redis_url, "unix:/run/redis.sock?db=1");
	CU_ASSERT_STRING_EQUAL(cfg.streams, "tasks:image,tasks:text");
	/* untouched keys keep their defaults */
	CU_ASSERT_STRING_EQUAL(cfg.stream_group, "workers");
	CU_ASSERT_EQUAL(cfg.retention_days, 30);
	config_free(&cfg);
	clear_env();
}

static void test_file_forms(void)
{
	struct config cfg;
	struct cd_error e;

	clear_env();
	CU_ASSERT_EQUAL_FATAL(load_text("# conductor configuration\n"
					"\n"
					"database_url=postgresql:///c?host=/tmp\n"
					"   # an indented comment\n"
					"CONDUCTOR_THREADS=4\n"
					"export CONDUCTOR_TOKEN=cdt_abc\n"
					"export retention_days = 7\n"
					"  stream_group =  grp  \n"
					"\t\n"
					"LOG_LEVEL=warn\n",
					&cfg, &e),
			      CD_OK);
	/* only the first '=' splits */
	CU_ASSERT_STRING_EQUAL(cfg.database_url, "postgresql:///c?host=/tmp");
	CU_ASSERT_EQUAL(cfg.threads, 4);
	CU_ASSERT_STRING_EQUAL(cfg.token, "cdt_abc");
	CU_ASSERT_EQUAL(cfg.retention_days, 7);
	CU_ASSERT_STRING_EQUAL(cfg.stream_group, "grp");
	CU_ASSERT_STRING_EQUAL(cfg.log_level, "warn");
	CU_ASSERT_STRING_EQUAL(cfg.redis_url, "redis://127.0.0.1:6379");
	config_free(&cfg);
}

static void test_file_without_final_newline(void)
{
	struct config cfg;
	struct cd_error e;

	clear_env();
	CU_ASSERT_EQUAL_FATAL(load_text("threads=3", &cfg, &e), CD_OK);
	CU_ASSERT_EQUAL(cfg.threads, 3);
	config_free(&cfg);
}

static void test_env_overrides_file(void)
{
	struct config cfg;
	struct cd_error e;

	clear_env();
	setenv("CONDUCTOR_THREADS", "16", 1);
	setenv("CONDUCTOR_URL", "http://env", 1);
	CU_ASSERT_EQUAL_FATAL(load_text("threads=4\nurl=http://file\nlisten=/tmp/s.sock\n", &cfg, &e),
			      CD_OK);
	CU_ASSERT_EQUAL(cfg.threads, 16);
	CU_ASSERT_STRING_EQUAL(cfg.url, "http://env");
	CU_ASSERT_STRING_EQUAL(cfg.listen, "/tmp/s.sock");
	config_free(&cfg);
	clear_env();
}

static void test_file_unknown_key(void)
{
	struct config cfg;
	struct cd_error e;

	clear_env();
	CU_ASSERT_EQUAL(load_text("threads=2\n# comment\nbogus_key=1\n", &cfg, &e), CD_CONFIG);
	CU_ASSERT_EQUAL(e.err, CD_CONFIG);
	CU_ASSERT_STRING_EQUAL(e.field, "bogus_key");
	CU_ASSERT_PTR_NOT_NULL(strstr(e.message, "line 3"));
	CU_ASSERT_PTR_NOT_NULL(strstr(e.message, "bogus_key"));
	/* what was read before the fault is kept, and freed */
	CU_ASSERT_EQUAL(cfg.threads, 2);
	config_free(&cfg);
}

static void test_file_line_without_equals(void)
{
	struct config cfg;
	struct cd_error e;

	clear_env();
	CU_ASSERT_EQUAL(load_text("threads=2\njust words\n", &cfg, &e), CD_CONFIG);
	CU_ASSERT_PTR_NOT_NULL(strstr(e.message, "line 2"));
	config_free(&cfg);
}

static void test_file_missing(void)
{
	struct config cfg;
	struct cd_error e;

	clear_env();
	cd_error_reset(&e);
	CU_ASSERT_EQUAL(config_load(&cfg, "/nonexistent/conductor.conf", &e), CD_CONFIG);
	CU_ASSERT_STRING_EQUAL(e.field, "config");
	CU_ASSERT_PTR_NOT_NULL(strstr(e.message, "/nonexistent/conductor.conf"));
	config_free(&cfg);
}

static void expect_file_refusal(const char *text, const char *key, const char *line)
{
	struct config cfg;
	struct cd_error e;

	CU_ASSERT_EQUAL(load_text(text, &cfg, &e), CD_CONFIG);
	CU_ASSERT_EQUAL(e.err, CD_CONFIG);
	CU_ASSERT_STRING_EQUAL(e.field, key);
	CU_ASSERT_PTR_NOT_NULL(strstr(e.message, key));
	if (line != NULL)
		CU_ASSERT_PTR_NOT_NULL(strstr(e.message, line));
	config_free(&cfg);
}

static void test_bad_int(void)
{
	clear_env();
	expect_file_refusal("threads=abc\n", "threads", "line 1");
	expect_file_refusal("threads=100000\n", "threads", NULL);
	expect_file_refusal("threads=-1\n", "threads", NULL);
	expect_file_refusal("threads=4x\n", "threads", NULL);
	expect_file_refusal("threads=\n", "threads", NULL);
	expect_file_refusal("threads=99999999999999999999999\n", "threads", NULL);
	expect_file_refusal("\nfactory_stale_s=0\n", "factory_stale_s", "line 2");
}

static void test_bad_int_in_env(void)
{
	struct config cfg;
	struct cd_error e;

	clear_env();
	setenv("CONDUCTOR_THREADS", "abc", 1);
	cd_error_reset(&e);
	CU_ASSERT_EQUAL(config_load(&cfg, NULL, &e), CD_CONFIG);
	CU_ASSERT_STRING_EQUAL(e.field, "threads");
	CU_ASSERT_PTR_NOT_NULL(strstr(e.message, "CONDUCTOR_THREADS"));
	config_free(&cfg);
	clear_env();
}

static void test_bad_log_level(void)
{
	clear_env();
	expect_file_refusal("log_level=verbose\n", "log_level", NULL);
	expect_file_refusal("log_level=\n", "log_level", NULL);
}

static void test_bad_redis_url(void)
{
	struct config cfg;
	struct cd_error e;

	clear_env();
	expect_file_refusal("redis_url=http://localhost\n", "redis_url", NULL);
	expect_file_refusal("redis_url=redis://h:0\n", "redis_url", NULL);
	setenv("CONDUCTOR_REDIS_URL", "unix:relative.sock", 1);
	cd_error_reset(&e);
	CU_ASSERT_EQUAL(config_load(&cfg, NULL, &e), CD_CONFIG);
	CU_ASSERT_STRING_EQUAL(e.field, "redis_url");
	config_free(&cfg);
	clear_env();
}

static void test_bad_stream_list(void)
{
	clear_env();
	expect_file_refusal("streams=a b\n", "streams", NULL);
	expect_file_refusal("streams=a;b\n", "streams", NULL);
}

static void test_require(void)
{
	struct config cfg;
	struct cd_error e;

	clear_env();
	CU_ASSERT_EQUAL_FATAL(config_load(&cfg, NULL, &e), CD_OK);
	cd_error_reset(&e);
	CU_ASSERT_EQUAL(config_require(&cfg, "database_url", &e), CD_CONFIG);
	CU_ASSERT_EQUAL(e.err, CD_CONFIG);
	CU_ASSERT_STRING_EQUAL(e.field, "database_url");
	CU_ASSERT_PTR_NOT_NULL(strstr(e.message, "CONDUCTOR_DATABASE_URL"));
	/* the variable name is accepted too, and names the short key */
	cd_error_reset(&e);
	CU_ASSERT_EQUAL(config_require(&cfg, "CONDUCTOR_URL", &e), CD_CONFIG);
	CU_ASSERT_STRING_EQUAL(e.field, "url");
	CU_ASSERT_EQUAL(config_require(&cfg, "redis_url", &e), CD_OK);
	CU_ASSERT_EQUAL(config_require(&cfg, "threads", &e), CD_OK);
	CU_ASSERT_EQUAL(config_set(&cfg, "database_url", "postgresql:///x", &e), CD_OK);
	CU_ASSERT_EQUAL(config_require(&cfg, "database_url", &e), CD_OK);
	CU_ASSERT_NOT_EQUAL(config_require(&cfg, "no_such_key", &e), CD_OK);
	config_free(&cfg);
}

static void test_set_unknown_key(void)
{
	struct config cfg;
	struct cd_error e;

	clear_env();
	CU_ASSERT_EQUAL_FATAL(config_load(&cfg, NULL, &e), CD_OK);
	cd_error_reset(&e);
	CU_ASSERT_EQUAL(config_set(&cfg, "CONDUCTOR_NOPE", "1", &e), CD_CONFIG);
	CU_ASSERT_STRING_EQUAL(e.field, "CONDUCTOR_NOPE");
	/* a refused value leaves the old one in place */
	CU_ASSERT_EQUAL(config_set(&cfg, "threads", "2000", &e), CD_CONFIG);
	CU_ASSERT_EQUAL(cfg.threads, 0);
	CU_ASSERT_EQUAL(config_set(&cfg, "log_level", "loud", &e), CD_CONFIG);
	CU_ASSERT_STRING_EQUAL(cfg.log_level, "info");
	config_free(&cfg);
}

/* ---- redis URLs ------------------------------------------------------ */

static void test_redis_url_tcp(void)
{
	struct redis_target t;
	struct cd_error e;

	CU_ASSERT_EQUAL(config_parse_redis_url("redis://h:1234/2", &t, &e), CD_OK);
	CU_ASSERT_STRING_EQUAL(t.host, "h");
	CU_ASSERT_EQUAL(t.port, 1234);
	CU_ASSERT_EQUAL(t.db, 2);
	CU_ASSERT_STRING_EQUAL(t.path, "");

	CU_ASSERT_EQUAL(config_parse_redis_url("redis://h", &t, &e), CD_OK);
	CU_ASSERT_STRING_EQUAL(t.host, "h");
	CU_ASSERT_EQUAL(t.port, 6379);
	CU_ASSERT_EQUAL(t.db, 0);

	CU_ASSERT_EQUAL(config_parse_redis_url("redis://cache.internal/15", &t, &e), CD_OK);
	CU_ASSERT_STRING_EQUAL(t.host, "cache.internal");
	CU_ASSERT_EQUAL(t.port, 6379);
	CU_ASSERT_EQUAL(t.db, 15);

	CU_ASSERT_EQUAL(config_parse_redis_url("redis://127.0.0.1:65535/", &t, &e), CD_OK);
	CU_ASSERT_STRING_EQUAL(t.host, "127.0.0.1");
	CU_ASSERT_EQUAL(t.port, 65535);
	CU_ASSERT_EQUAL(t.db, 0);
}

static void test_redis_url_unix(void)
{
	struct redis_target t;
	struct cd_error e;

	CU_ASSERT_EQUAL(config_parse_redis_url("unix:/tmp/x.sock?db=3", &t, &e), CD_OK);
	CU_ASSERT_STRING_EQUAL(t.path, "/tmp/x.sock");
	CU_ASSERT_STRING_EQUAL(t.host, "");
	CU_ASSERT_EQUAL(t.db, 3);

	CU_ASSERT_EQUAL(config_parse_redis_url("unix:///tmp/x.sock", &t, &e), CD_OK);
	CU_ASSERT_STRING_EQUAL(t.path, "/tmp/x.sock");
	CU_ASSERT_EQUAL(t.db, 0);

	CU_ASSERT_EQUAL(config_parse_redis_url("unix:/tmp/x.sock", &t, &e), CD_OK);
	CU_ASSERT_STRING_EQUAL(t.path, "/tmp/x.sock");
	CU_ASSERT_EQUAL(t.db, 0);
}

static void expect_redis_refusal(const char *url)
{
	struct redis_target t;
	struct cd_error e;

	cd_error_reset(&e);
	CU_ASSERT_EQUAL(config_parse_redis_url(url, &t, &e), CD_CONFIG);
	CU_ASSERT_STRING_EQUAL(e.field, "redis_url");
	CU_ASSERT_NOT_EQUAL(e.message[0], '\0');
}

static void test_redis_url_refusals(void)
{
	expect_redis_refusal("redis://");
	expect_redis_refusal("redis://:6379");
	expect_redis_refusal("redis:///0");
	expect_redis_refusal("redis://h:0");
	expect_redis_refusal("redis://h:70000");
	expect_redis_refusal("redis://h:65536");
	expect_redis_refusal("redis://h:");
	expect_redis_refusal("redis://h:12ab");
	expect_redis_refusal("redis://h:-1");
	expect_redis_refusal("redis://h/16");
	expect_redis_refusal("redis://h/-1");
	expect_redis_refusal("redis://h/x");
	expect_redis_refusal("redis://user:pw@h:6379");
	expect_redis_refusal("unix:tmp/x.sock");
	expect_redis_refusal("unix:");
	expect_redis_refusal("unix:/tmp/x.sock?db=16");
	expect_redis_refusal("unix:/tmp/x.sock?db=");
	expect_redis_refusal("unix:/tmp/x.sock?db=1x");
	expect_redis_refusal("unix:/tmp/x.sock?timeout=1");
	expect_redis_refusal("http://h:6379");
	expect_redis_refusal("rediss://h:6379");
	expect_redis_refusal("");
}

/* A db number past INT_MAX must not wrap into 0..15. */
static void test_redis_url_db_no_wraparound(void)
{
	expect_redis_refusal("redis://h/4294967298");
	expect_redis_refusal("redis://h:6379/4294967296");
	expect_redis_refusal("unix:/tmp/x.sock?db=4294967299");
	expect_redis_refusal("redis://h/99999999999999999999999");
}

/* A whole file as a new string (caller frees); NULL when it cannot be read. */
static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *text = NULL;
	size_t cap = 0, len = 0, got;

	if (f == NULL)
		return NULL;
	do {
		cap += 1 << 16;
		text = realloc(text, cap + 1);
		got = fread(text + len, 1, cap - len, f);
		len += got;
	} while (got > 0);
	fclose(f);
	text[len] = '\0';
	return text;
}

/* Every configuration key is a row of README's configuration table (found
 * missing once: CONDUCTOR_CLAIM_WAIT_MAX), read from --help's own table. */
static void test_every_key_in_the_readme_table(void)
{
	const char *top = getenv("top_srcdir");
	char *readme, *table, *end, *help = NULL, *line, *save = NULL, path[4096];
	size_t help_len = 0;
	FILE *out = open_memstream(&help, &help_len);
	int keys = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(top);
	snprintf(path, sizeof(path), "%s/README.md", top);
	readme = slurp(path);
	CU_ASSERT_PTR_NOT_NULL_FATAL(readme);
	/* the section "## Configuration", up to the next one */
	table = strstr(readme, "\n## Configuration");
	CU_ASSERT_PTR_NOT_NULL_FATAL(table);
	if ((end = strstr(table + 1, "\n## ")) != NULL)
		*end = '\0';
	config_print_help(out);
	fclose(out);
	for (line = strtok_r(help, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char var[64], row[80];

		if (sscanf(line, " %63[A-Z_]", var) != 1 || strncmp(var, "CONDUCTOR_", 10) != 0)
			continue;
		keys++;
		snprintf(row, sizeof(row), "`%s`", var);
		if (strstr(table, row) == NULL)
			fprintf(stderr, "\n  README's configuration table lacks %s\n", var);
		CU_ASSERT_PTR_NOT_NULL(strstr(table, row));
	}
	CU_ASSERT(keys >= 10);
	free(help);
	free(readme);
}

/* tools/up's header says the thread count tools/stack really uses. */
static void test_tools_up_header_says_the_stack_default(void)
{
	const char *top = getenv("top_srcdir");
	char path[4096], *up, *stack, *at;
	int said = -1, used = -2;

	CU_ASSERT_PTR_NOT_NULL_FATAL(top);
	snprintf(path, sizeof(path), "%s/tools/up", top);
	up = slurp(path);
	snprintf(path, sizeof(path), "%s/tools/stack", top);
	stack = slurp(path);
	CU_ASSERT_PTR_NOT_NULL_FATAL(up);
	CU_ASSERT_PTR_NOT_NULL_FATAL(stack);
	if ((at = strstr(up, "CONDUCTOR_FCGI_THREADS (default ")) != NULL)
		said = atoi(at + strlen("CONDUCTOR_FCGI_THREADS (default "));
	if ((at = strstr(stack, "${CONDUCTOR_FCGI_THREADS:-")) != NULL)
		used = atoi(at + strlen("${CONDUCTOR_FCGI_THREADS:-"));
	CU_ASSERT_EQUAL(said, used);
	free(up);
	free(stack);
}

/* The index of key name in the table; -1 when absent. */
static long key_index(const char *name)
{
	for (size_t i = 0; i < config_nkeys(); i++)
		if (strcmp(config_key_name(i), name) == 0)
			return (long)i;
	return -1;
}

/* Each key's source: the default, the --config file, the environment (which
 * wins over the file for a key set in both). */
static void test_sources(void)
{
	enum config_source src[128];
	struct config cfg;
	struct cd_error e;
	char path[32];

	clear_env();
	CU_ASSERT_FATAL(config_nkeys() <= sizeof(src) / sizeof(src[0]));
	write_temp("log_level=debug\nthreads=3\n", path);
	setenv("CONDUCTOR_THREADS", "4", 1);
	setenv("CONDUCTOR_STREAM_GROUP", "g", 1);
	cd_error_reset(&e);
	CU_ASSERT_EQUAL_FATAL(config_load_sources(&cfg, path, src, &e), CD_OK);
	unlink(path);
	CU_ASSERT_EQUAL(src[key_index("log_level")], CONFIG_SOURCE_FILE);
	CU_ASSERT_EQUAL(src[key_index("threads")], CONFIG_SOURCE_ENV);
	CU_ASSERT_EQUAL(src[key_index("stream_group")], CONFIG_SOURCE_ENV);
	CU_ASSERT_EQUAL(src[key_index("retention_days")], CONFIG_SOURCE_DEFAULT);
	CU_ASSERT_STRING_EQUAL(config_source_name(CONFIG_SOURCE_FILE), "file");
	CU_ASSERT_STRING_EQUAL(config_source_name(CONFIG_SOURCE_ENV), "environment");
	CU_ASSERT_STRING_EQUAL(config_source_name(CONFIG_SOURCE_DEFAULT), "default");
	config_free(&cfg);
	clear_env();
}

/* The secret keys by name, and a future *_api_key masked with no one
 * remembering to. */
static void test_secret_keys(void)
{
	CU_ASSERT_TRUE(config_key_secret((size_t)key_index("token")));
	CU_ASSERT_TRUE(config_key_secret((size_t)key_index("admin_token")));
	CU_ASSERT_TRUE(config_key_secret((size_t)key_index("runpod_api_key")));
	CU_ASSERT_TRUE(config_key_secret((size_t)key_index("do_api_key")));
	CU_ASSERT_FALSE(config_key_secret((size_t)key_index("database_url")));
	CU_ASSERT_FALSE(config_key_secret((size_t)key_index("stream_group")));
	CU_ASSERT_FALSE(config_key_secret(config_nkeys()));
	CU_ASSERT_PTR_NULL(config_key_name(config_nkeys()));
}

static void expect_masked(const char *url, const char *want)
{
	char out[256];

	config_mask_url(url, out, sizeof(out));
	CU_ASSERT_STRING_EQUAL(out, want);
	if (strcmp(out, want) != 0)
		fprintf(stderr, "mask of %s: %s, not %s\n", url, out, want);
}

static void test_mask_url(void)
{
	expect_masked("postgresql://conductor:s3cr@t@db.example:5432/conductor",
		      "postgresql://conductor:****@db.example:5432/conductor");
	expect_masked("postgresql://conductor@db/c", "postgresql://conductor@db/c");
	expect_masked("postgresql:///conductor?host=/run/pg&password=hunter2&sslmode=off",
		      "postgresql:///conductor?host=/run/pg&password=****&sslmode=off");
	expect_masked("host=/run/pg password=hunter2 dbname=c", "host=/run/pg password=**** dbname=c");
	expect_masked("password='hun ter\\'2' dbname=c", "password=**** dbname=c");
	expect_masked("redis://:hunter2@127.0.0.1:6379/0", "redis://:****@127.0.0.1:6379/0");
	expect_masked("unix:/run/redis.sock?db=1", "unix:/run/redis.sock?db=1");
	expect_masked("https://u:p@api.example/v1/x@y", "https://u:****@api.example/v1/x@y");
	expect_masked("mypassword=x", "mypassword=x");
	expect_masked("", "");
}

/* config_value_text: secrets masked whole, URL passwords masked, numbers
 * and switches as text; unmasked as stored. */
static void test_value_text(void)
{
	struct config cfg;
	struct cd_error e;
	char out[256];

	clear_env();
	setenv("CONDUCTOR_TOKEN", "cdt_supersecret", 1);
	setenv("CONDUCTOR_DATABASE_URL", "postgresql://u:pw@h/d", 1);
	cd_error_reset(&e);
	CU_ASSERT_EQUAL_FATAL(config_load(&cfg, NULL, &e), CD_OK);
	config_value_text(&cfg, (size_t)key_index("token"), true, out, sizeof(out));
	CU_ASSERT_STRING_EQUAL(out, "********");
	config_value_text(&cfg, (size_t)key_index("token"), false, out, sizeof(out));
	CU_ASSERT_STRING_EQUAL(out, "cdt_supersecret");
	config_value_text(&cfg, (size_t)key_index("admin_token"), true, out, sizeof(out));
	CU_ASSERT_STRING_EQUAL(out, "");
	config_value_text(&cfg, (size_t)key_index("database_url"), true, out, sizeof(out));
	CU_ASSERT_STRING_EQUAL(out, "postgresql://u:****@h/d");
	config_value_text(&cfg, (size_t)key_index("retention_days"), true, out, sizeof(out));
	CU_ASSERT_STRING_EQUAL(out, "30");
	config_value_text(&cfg, (size_t)key_index("result_routing"), true, out, sizeof(out));
	CU_ASSERT_STRING_EQUAL(out, "off");
	config_value_text(&cfg, (size_t)key_index("token"), true, out, 4);
	CU_ASSERT_STRING_EQUAL(out, "***");
	config_free(&cfg);
	clear_env();
}

static CU_TestInfo TESTS[] = {
	{"every_key_in_the_readme_table", test_every_key_in_the_readme_table},
	{"tools_up_header_says_the_stack_default", test_tools_up_header_says_the_stack_default},
	{"defaults", test_defaults},
	{"env_overrides_defaults", test_env_overrides_defaults},
	{"file_forms", test_file_forms},
	{"file_without_final_newline", test_file_without_final_newline},
	{"env_overrides_file", test_env_overrides_file},
	{"file_unknown_key", test_file_unknown_key},
	{"file_line_without_equals", test_file_line_without_equals},
	{"file_missing", test_file_missing},
	{"bad_int", test_bad_int},
	{"bad_int_in_env", test_bad_int_in_env},
	{"bad_log_level", test_bad_log_level},
	{"bad_redis_url", test_bad_redis_url},
	{"bad_stream_list", test_bad_stream_list},
	{"require", test_require},
	{"set_unknown_key", test_set_unknown_key},
	{"redis_url_tcp", test_redis_url_tcp},
	{"redis_url_unix", test_redis_url_unix},
	{"redis_url_refusals", test_redis_url_refusals},
	{"redis_url_db_no_wraparound", test_redis_url_db_no_wraparound},
	{"sources", test_sources},
	{"secret_keys", test_secret_keys},
	{"mask_url", test_mask_url},
	{"value_text", test_value_text},
	CU_TEST_INFO_NULL,
};

int main(void)
{
	return cutest_run("config", TESTS);
}
