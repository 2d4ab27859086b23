/* test_routes.c -- fcgi/routes.c against tests/data/routes.tsv: the compiled
 * route table and the route x role matrix the integration suite walks must
 * be the same rows in the same order (method, pattern, handler name, roles),
 * and no method+pattern may appear twice.
 * Roles in the file: "-" for no authentication, "admin" for admin only,
 * otherwise the non-admin roles in enum order (admin is implied). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../cutest.h"
#include "domain/tokens.h"
#include "fcgi/routes.h"

#define MAX_ROWS 256

struct tsv_row {
	int line;
	char method[16];
	char pattern[256];
	char handler[128];
	char roles[256];
};

static struct tsv_row ROWS[MAX_ROWS];
static size_t NROWS;
static int LOADED; /* 1 loaded, -1 failed */

/* Copies field into out (cap bytes); false when it does not fit or is empty. */
static bool take(const char *field, char *out, size_t cap)
{
	if (field == NULL || field[0] == '\0' || strlen(field) >= cap)
		return false;
	memcpy(out, field, strlen(field) + 1);
	return true;
}

/* Reads $top_srcdir/tests/data/routes.tsv into ROWS; reports and returns -1
 * when it cannot. */
static int load_tsv(void)
{
	const char *top = getenv("top_srcdir");
	char path[4096], line[1024];
	int lineno = 0;
	FILE *f;

	if (LOADED != 0)
		return LOADED;
	LOADED = -1;
	if (top == NULL) {
		fprintf(stderr, "\ntest_routes: top_srcdir is not set; run it through `make check` "
				"or as `top_srcdir=/path/to/conductor ./test_routes`\n");
		return -1;
	}
	snprintf(path, sizeof(path), "%s/tests/data/routes.tsv", top);
	f = fopen(path, "r");
	if (f == NULL) {
		fprintf(stderr, "\ntest_routes: cannot open %s\n", path);
		return -1;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		struct tsv_row *r;
		char *save = NULL, *extra;
		size_t len = strlen(line);

		lineno++;
		while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			line[--len] = '\0';
		if (line[0] == '#' || line[0] == '\0')
			continue;
		if (NROWS == MAX_ROWS) {
			fprintf(stderr, "\ntest_routes: more than %d rows\n", MAX_ROWS);
			fclose(f);
			return -1;
		}
		r = &ROWS[NROWS];
		r->line = lineno;
		if (!take(strtok_r(line, "\t", &save), r->method, sizeof(r->method)) ||
		    !take(strtok_r(NULL, "\t", &save), r->pattern, sizeof(r->pattern)) ||
		    !take(strtok_r(NULL, "\t", &save), r->handler, sizeof(r->handler)) ||
		    !take(strtok_r(NULL, "\t", &save), r->roles, sizeof(r->roles)) ||
		    (extra = strtok_r(NULL, "\t", &save)) != NULL) {
			fprintf(stderr, "\ntest_routes: %s line %d is not method<TAB>pattern<TAB>"
					"handler<TAB>roles\n", path, lineno);
			fclose(f);
			return -1;
		}
		NROWS++;
	}
	fclose(f);
	LOADED = 1;
	return 1;
}

/* The roles column a table row should have. */
static void roles_column(unsigned roles, char *out, size_t cap)
{
	size_t o = 0;

	out[0] = '\0';
	if (roles == 0) {
		snprintf(out, cap, "-");
		return;
	}
	if ((roles & ~ROLE_BIT(ROLE_ADMIN)) == 0) {
		snprintf(out, cap, "admin");
		return;
	}
	for (int r = 0; r < ROLE_COUNT; r++) {
		if (r == ROLE_ADMIN || !(roles & ROLE_BIT(r)))
			continue;
		o += (size_t)snprintf(out + o, cap - o, "%s%s", o ? "," : "", tokens_role_name(r));
		if (o >= cap)
			break;
	}
}

static void test_tsv_loads(void)
{
	if (load_tsv() < 0)
		CU_FAIL_FATAL("tests/data/routes.tsv could not be read (see stderr)");
	CU_ASSERT_TRUE(NROWS > 0);
}

static void test_row_count(void)
{
	if (load_tsv() < 0)
		CU_FAIL_FATAL("tests/data/routes.tsv could not be read (see stderr)");
	if (NROWS != ROUTES_COUNT)
		fprintf(stderr, "\n  routes.tsv has %zu rows, routes.c has %zu\n", NROWS, ROUTES_COUNT);
	CU_ASSERT_EQUAL(NROWS, ROUTES_COUNT);
}

/* Reports one differing column of row i. */
static void mismatch(size_t i, const char *column, const char *table, const char *tsv)
{
	if (strcmp(table, tsv) == 0)
		return;
	fprintf(stderr, "\n  row %zu (routes.tsv line %d) %s: routes.c has \"%s\", routes.tsv \"%s\"",
		i + 1, ROWS[i].line, column, table, tsv);
	CU_FAIL("routes.tsv differs from routes.c (see stderr)");
}

static void test_rows_equal_table(void)
{
	size_t n;

	if (load_tsv() < 0)
		CU_FAIL_FATAL("tests/data/routes.tsv could not be read (see stderr)");
	n = NROWS < ROUTES_COUNT ? NROWS : ROUTES_COUNT;
	for (size_t i = 0; i < n; i++) {
		char roles[256];

		roles_column(ROUTES[i].roles, roles, sizeof(roles));
		mismatch(i, "method", ROUTES[i].method, ROWS[i].method);
		mismatch(i, "pattern", ROUTES[i].pattern, ROWS[i].pattern);
		mismatch(i, "handler", ROUTES[i].name, ROWS[i].handler);
		mismatch(i, "roles", roles, ROWS[i].roles);
	}
	for (size_t i = n; i < ROUTES_COUNT; i++) {
		char roles[256];

		roles_column(ROUTES[i].roles, roles, sizeof(roles));
		fprintf(stderr, "\n  missing from routes.tsv: %s\t%s\t%s\t%s", ROUTES[i].method,
			ROUTES[i].pattern, ROUTES[i].name, roles);
	}
	for (size_t i = n; i < NROWS; i++)
		fprintf(stderr, "\n  routes.tsv line %d is not in routes.c: %s %s", ROWS[i].line,
			ROWS[i].method, ROWS[i].pattern);
	if (NROWS != ROUTES_COUNT)
		fputc('\n', stderr);
	CU_ASSERT_EQUAL(NROWS, ROUTES_COUNT);
}

static void test_table_rows_are_sane(void)
{
	for (size_t i = 0; i < ROUTES_COUNT; i++) {
		const struct route *r = &ROUTES[i];

		CU_ASSERT_PTR_NOT_NULL(r->handler);
		CU_ASSERT_PTR_NOT_NULL_FATAL(r->name);
		CU_ASSERT_PTR_NOT_NULL_FATAL(r->pattern);
		CU_ASSERT_EQUAL(r->pattern[0], '/');
		/* no bit beyond the roles that exist */
		CU_ASSERT_EQUAL(r->roles & ~(unsigned)ROLES_ALL, 0);
		/* handlers follow api_<area>_<action> */
		CU_ASSERT_EQUAL(strncmp(r->name, "api_", 4), 0);
	}
}

static void test_no_duplicate_method_and_pattern(void)
{
	for (size_t i = 0; i < ROUTES_COUNT; i++)
		for (size_t j = i + 1; j < ROUTES_COUNT; j++)
			if (strcmp(ROUTES[i].method, ROUTES[j].method) == 0 &&
			    strcmp(ROUTES[i].pattern, ROUTES[j].pattern) == 0) {
				fprintf(stderr, "\n  routes.c rows %zu and %zu are both %s %s", i + 1,
					j + 1, ROUTES[i].method, ROUTES[i].pattern);
				CU_FAIL("duplicate route in routes.c");
			}
	if (load_tsv() < 0)
		CU_FAIL_FATAL("tests/data/routes.tsv could not be read (see stderr)");
	for (size_t i = 0; i < NROWS; i++)
		for (size_t j = i + 1; j < NROWS; j++)
			if (strcmp(ROWS[i].method, ROWS[j].method) == 0 &&
			    strcmp(ROWS[i].pattern, ROWS[j].pattern) == 0) {
				fprintf(stderr, "\n  routes.tsv lines %d and %d are both %s %s",
					ROWS[i].line, ROWS[j].line, ROWS[i].method, ROWS[i].pattern);
				CU_FAIL("duplicate route in routes.tsv");
			}
}

static void test_roles_column_encoding(void)
{
	char s[256];

	/* the encoding this test relies on, pinned */
	roles_column(0, s, sizeof(s));
	CU_ASSERT_STRING_EQUAL(s, "-");
	roles_column(ROLE_BIT(ROLE_ADMIN), s, sizeof(s));
	CU_ASSERT_STRING_EQUAL(s, "admin");
	roles_column(ROLES_ALL, s, sizeof(s));
	CU_ASSERT_STRING_EQUAL(s, "operator,submitter,worker,controller,readonly,metrics");
	roles_column(ROLE_BIT(ROLE_READONLY) | ROLE_BIT(ROLE_OPERATOR), s, sizeof(s));
	CU_ASSERT_STRING_EQUAL(s, "operator,readonly");
	roles_column(ROLE_BIT(ROLE_WORKER) | ROLE_BIT(ROLE_ADMIN), s, sizeof(s));
	CU_ASSERT_STRING_EQUAL(s, "worker");
}

static CU_TestInfo TESTS[] = {
	{"tsv_loads", test_tsv_loads},
	{"row_count", test_row_count},
	{"rows_equal_table", test_rows_equal_table},
	{"table_rows_are_sane", test_table_rows_are_sane},
	{"no_duplicate_method_and_pattern", test_no_duplicate_method_and_pattern},
	{"roles_column_encoding", test_roles_column_encoding},
	CU_TEST_INFO_NULL,
};

int main(void)
{
	return cutest_run("routes", TESTS);
}
