/* test_output.c -- ctl/output.c: conductorctl's tables (columns as wide as
 * their widest value in characters, not bytes; a value past its column's cap
 * cut to exactly the cap with an ellipsis; right-aligned numbers; no
 * trailing blanks), every value cleaned to one line of printable UTF-8
 * (C0 and C1 controls, DEL, bytes that are not UTF-8), and no colour when
 * the output is not a terminal. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../cutest.h"
#include "ctl/output.h"

/* What table_print writes for t, as a new string. */
static char *printed(struct table *t)
{
	char *text = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&text, &n);

	table_print(t, f);
	fclose(f);
	return text;
}

static void test_columns_as_wide_as_their_data(void)
{
	static const struct out_column COLS[] = {{"ID", 0, true}, {"NAME", 0, false}, {"END", 0, false}};
	struct table *t = table_new(COLS, 3);
	char *out;

	table_cell(t, "7");
	table_cell(t, "été");          /* 3 characters, 5 bytes */
	table_cell(t, "x");
	table_cell(t, "1234");
	table_cell(t, "a longer name");
	table_cell(t, NULL);           /* "-" */
	CU_ASSERT_EQUAL(table_rows(t), 2);
	out = printed(t);
	CU_ASSERT_STRING_EQUAL(out, "  ID  NAME           END\n"
	                            "   7  été            x\n"
	                            "1234  a longer name  -\n");
	free(out);
	table_free(t);
}

static void test_long_values_cut_with_an_ellipsis(void)
{
	static const struct out_column COLS[] = {{"K", 6, false}, {"V", 0, false}};
	struct table *t = table_new(COLS, 2);
	char *out;

	table_cell(t, "abcdef");  /* exactly the cap: kept */
	table_cell(t, "1");
	table_cell(t, "abcdefg"); /* one more: 5 characters and the ellipsis */
	table_cell(t, "2");
	table_cell(t, "ééééééé"); /* cut between characters, never inside one */
	table_cell(t, "3");
	out = printed(t);
	CU_ASSERT_STRING_EQUAL(out, "K       V\n"
	                            "abcdef  1\n"
	                            "abcde\xe2\x80\xa6  2\n"
	                            "ééééé\xe2\x80\xa6  3\n");
	free(out);
	table_free(t);
}

static void test_values_cleaned_to_one_printable_line(void)
{
	static const struct out_column COLS[] = {{"V", 0, false}};
	struct table *t = table_new(COLS, 1);
	char *out;

	table_cell(t, "a\nb\tc\033[31md\x7f");   /* C0 controls and DEL */
	table_cell(t, "e\xc2\x9b" "31mf");       /* C1 CSI */
	table_cell(t, "g\xff\xfeh\xe2\x82i");    /* not UTF-8, a cut character */
	out = printed(t);
	CU_ASSERT_STRING_EQUAL(out, "V\n"
	                            "a b c [31md \n"
	                            "e 31mf\n"
	                            "g??h??i\n");
	free(out);
	table_free(t);
}

static void test_json_cells_and_pairs(void)
{
	static const struct out_column COLS[] = {{"A", 0, false}, {"B", 0, false}};
	struct table *t = table_new(COLS, 2);
	struct json_object *caps = json_tokener_parse("[\"linux\",\"gpu\"]");
	struct json_object *ins = json_tokener_parse("{\"model\":\"m\",\"turns\":3,\"x\":[1]}");
	char *out;

	table_cell_json(t, caps);
	table_cell_pairs(t, ins);
	table_cell_json(t, NULL);
	table_cell_pairs(t, NULL);
	out = printed(t);
	CU_ASSERT_STRING_EQUAL(out, "A          B\n"
	                            "linux,gpu  model=m turns=3 x=[1]\n"
	                            "-          -\n");
	free(out);
	table_free(t);
	json_object_put(caps);
	json_object_put(ins);
}

static void test_no_colour_off_a_terminal(void)
{
	static const struct out_column COLS[] = {{"STAGE", 0, false}};
	struct table *t = table_new(COLS, 1);
	char *out, painted[64];

	table_cell_stage(t, "failed");
	out = printed(t); /* a memstream is no terminal */
	CU_ASSERT_PTR_NULL(strchr(out, '\033'));
	CU_ASSERT_STRING_EQUAL(out_stage_sgr("failed"), "31");
	CU_ASSERT_PTR_NULL(out_stage_sgr("queued"));
	CU_ASSERT_STRING_EQUAL(out_paint(painted, sizeof(painted), "shipped", "32"), "shipped");
	free(out);
	table_free(t);
}

static CU_TestInfo TESTS[] = {
	{"columns_as_wide_as_their_data", test_columns_as_wide_as_their_data},
	{"long_values_cut_with_an_ellipsis", test_long_values_cut_with_an_ellipsis},
	{"values_cleaned_to_one_printable_line", test_values_cleaned_to_one_printable_line},
	{"json_cells_and_pairs", test_json_cells_and_pairs},
	{"no_colour_off_a_terminal", test_no_colour_off_a_terminal},
	CU_TEST_INFO_NULL,
};

int main(void)
{
	return cutest_run("output", TESTS);
}
