/* test_schema.c -- data/db_schema.c against the sql/ directory: the
 * migrations this build expects are exactly the files of sql/, in order,
 * named NNN_lower_snake with consecutive numbers from 001, and
 * db_schema_expected() is the last of them. No database is needed. */
#include <dirent.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../cutest.h"
#include "data/db.h"

#define MAX_FILES 1000

static char *FILES[MAX_FILES]; /* the names of sql/NNN_name.sql without ".sql", sorted; owned */
static size_t NFILES;

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int load_files(void)
{
	const char *top = getenv("top_srcdir");
	char path[4096];
	struct dirent *d;
	DIR *dir;

	if (top == NULL) {
		fprintf(stderr, "\ntest_schema: top_srcdir is not set; run it through `make check` "
				"or as `top_srcdir=/path/to/conductor ./test_schema`\n");
		return -1;
	}
	snprintf(path, sizeof(path), "%s/sql", top);
	dir = opendir(path);
	if (dir == NULL) {
		fprintf(stderr, "\ntest_schema: cannot open %s\n", path);
		return -1;
	}
	while ((d = readdir(dir)) != NULL && NFILES < MAX_FILES) {
		size_t len = strlen(d->d_name);

		if (len <= 4 || strcmp(d->d_name + len - 4, ".sql") != 0)
			continue;
		FILES[NFILES] = strndup(d->d_name, len - 4);
		NFILES++;
	}
	closedir(dir);
	qsort(FILES, NFILES, sizeof(FILES[0]), cmp_str);
	return 0;
}

static int suite_init(void)
{
	return load_files() < 0 ? 1 : 0;
}

static int suite_cleanup(void)
{
	for (size_t i = 0; i < NFILES; i++)
		free(FILES[i]);
	NFILES = 0;
	return 0;
}

static void test_sql_dir_has_files(void)
{
	CU_ASSERT_TRUE(NFILES > 0);
}

static void test_list_equals_sql_dir(void)
{
	size_t n = 0;
	const char *const *list = db_schema_migrations(&n);

	CU_ASSERT_PTR_NOT_NULL_FATAL(list);
	if (n != NFILES)
		fprintf(stderr, "\n  DB_MIGRATIONS has %zu names, sql/ has %zu files\n", n, NFILES);
	CU_ASSERT_EQUAL(n, NFILES);
	for (size_t i = 0; i < n && i < NFILES; i++) {
		if (strcmp(list[i], FILES[i]) != 0)
			fprintf(stderr, "\n  position %zu: DB_MIGRATIONS has %s, sql/ has %s.sql\n", i + 1,
				list[i], FILES[i]);
		CU_ASSERT_STRING_EQUAL(list[i], FILES[i]);
	}
	for (size_t i = n; i < NFILES; i++)
		fprintf(stderr, "\n  sql/%s.sql is not in DB_MIGRATIONS (db_schema.c)\n", FILES[i]);
	for (size_t i = NFILES; i < n; i++)
		fprintf(stderr, "\n  DB_MIGRATIONS names %s, which has no sql/ file\n", list[i]);
}

static void test_names_and_numbering(void)
{
	size_t n = 0;
	const char *const *list = db_schema_migrations(&n);
	regex_t re;

	CU_ASSERT_EQUAL_FATAL(regcomp(&re, "^[0-9]{3}_[a-z0-9_]+$", REG_EXTENDED | REG_NOSUB), 0);
	for (size_t i = 0; i < n; i++) {
		char want[24];

		if (regexec(&re, list[i], 0, NULL, 0) != 0)
			fprintf(stderr, "\n  migration name %s is not NNN_lower_snake\n", list[i]);
		CU_ASSERT_EQUAL(regexec(&re, list[i], 0, NULL, 0), 0);
		snprintf(want, sizeof(want), "%03zu_", i + 1);
		if (strncmp(list[i], want, 4) != 0)
			fprintf(stderr, "\n  migration %zu is %s; expected it to start %s\n", i + 1,
				list[i], want);
		CU_ASSERT_EQUAL(strncmp(list[i], want, 4), 0);
	}
	/* the same rule for the files, in case the list is short */
	for (size_t i = 0; i < NFILES; i++)
		CU_ASSERT_EQUAL(regexec(&re, FILES[i], 0, NULL, 0), 0);
	regfree(&re);
}

static void test_expected_is_last(void)
{
	size_t n = 0;
	const char *const *list = db_schema_migrations(&n);

	CU_ASSERT_TRUE_FATAL(n > 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(db_schema_expected());
	CU_ASSERT_STRING_EQUAL(db_schema_expected(), list[n - 1]);
	if (NFILES > 0)
		CU_ASSERT_STRING_EQUAL(db_schema_expected(), FILES[NFILES - 1]);
}

static CU_TestInfo TESTS[] = {
	{"sql_dir_has_files", test_sql_dir_has_files},
	{"list_equals_sql_dir", test_list_equals_sql_dir},
	{"names_and_numbering", test_names_and_numbering},
	{"expected_is_last", test_expected_is_last},
	CU_TEST_INFO_NULL,
};

int main(void)
{
	return cutest_run_with("schema", TESTS, suite_init, suite_cleanup);
}
