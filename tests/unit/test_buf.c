/* test_buf.c -- base/buf.c: appends, the hard cap with its sticky overflow,
 * and buf_json_escape. */
#include <string.h>

#include "../cutest.h"
#include "base/buf.h"

static void test_append_puts_printf(void)
{
	struct buf b;

	buf_init(&b, 1024);
	CU_ASSERT_STRING_EQUAL(buf_str(&b), "");
	CU_ASSERT_TRUE(buf_append(&b, "ab", 2));
	CU_ASSERT_TRUE(buf_puts(&b, "cd"));
	CU_ASSERT_TRUE(buf_printf(&b, "-%d-%s", 42, "x"));
	CU_ASSERT_STRING_EQUAL(buf_str(&b), "abcd-42-x");
	CU_ASSERT_EQUAL(b.len, 9);
	CU_ASSERT_FALSE(buf_overflowed(&b));
	buf_reset(&b);
	CU_ASSERT_STRING_EQUAL(buf_str(&b), "");
	CU_ASSERT_EQUAL(b.len, 0);
}

static void test_append_zero_bytes(void)
{
	struct buf b;

	buf_init(&b, 16);
	CU_ASSERT_TRUE(buf_append(&b, "", 0));
	CU_ASSERT_STRING_EQUAL(buf_str(&b), "");
	CU_ASSERT_EQUAL(b.len, 0);
	buf_reset(&b);
}

static void test_grows_past_initial_allocation(void)
{
	struct buf b;
	char chunk[100];

	memset(chunk, 'x', sizeof(chunk));
	buf_init(&b, 100000);
	for (int i = 0; i < 50; i++)
		CU_ASSERT_TRUE(buf_append(&b, chunk, sizeof(chunk)));
	CU_ASSERT_EQUAL(b.len, 5000);
	CU_ASSERT_EQUAL(strlen(buf_str(&b)), 5000);
	CU_ASSERT_FALSE(buf_overflowed(&b));
	buf_reset(&b);
}

static void test_cap_exactly_reached_is_fine(void)
{
	struct buf b;

	buf_init(&b, 4);
	CU_ASSERT_TRUE(buf_puts(&b, "abcd"));
	CU_ASSERT_FALSE(buf_overflowed(&b));
	CU_ASSERT_STRING_EQUAL(buf_str(&b), "abcd");
	buf_reset(&b);
}

static void test_overflow_is_sticky(void)
{
	struct buf b;

	buf_init(&b, 4);
	CU_ASSERT_TRUE(buf_puts(&b, "abc"));
	CU_ASSERT_FALSE(buf_puts(&b, "de"));
	CU_ASSERT_TRUE(buf_overflowed(&b));
	/* the refused append left the contents alone */
	CU_ASSERT_STRING_EQUAL(buf_str(&b), "abc");
	/* a later append that would fit is still ignored */
	CU_ASSERT_FALSE(buf_puts(&b, "d"));
	CU_ASSERT_FALSE(buf_append(&b, "", 0));
	CU_ASSERT_FALSE(buf_printf(&b, "%s", "z"));
	CU_ASSERT_STRING_EQUAL(buf_str(&b), "abc");
	CU_ASSERT_EQUAL(b.len, 3);
	CU_ASSERT_TRUE(buf_overflowed(&b));
	/* reset makes it usable again */
	buf_reset(&b);
	CU_ASSERT_FALSE(buf_overflowed(&b));
	CU_ASSERT_TRUE(buf_puts(&b, "wxyz"));
	CU_ASSERT_STRING_EQUAL(buf_str(&b), "wxyz");
	buf_reset(&b);
}

static void test_printf_over_cap(void)
{
	struct buf b;

	buf_init(&b, 8);
	CU_ASSERT_FALSE(buf_printf(&b, "%s", "123456789"));
	CU_ASSERT_TRUE(buf_overflowed(&b));
	CU_ASSERT_STRING_EQUAL(buf_str(&b), "");
	buf_reset(&b);
}

static void test_huge_append_overflows_without_wrapping(void)
{
	struct buf b;

	buf_init(&b, 16);
	CU_ASSERT_TRUE(buf_puts(&b, "a"));
	CU_ASSERT_FALSE(buf_append(&b, "x", (size_t)-1));
	CU_ASSERT_TRUE(buf_overflowed(&b));
	CU_ASSERT_STRING_EQUAL(buf_str(&b), "a");
	buf_reset(&b);
}

static void test_json_escape_quotes_and_backslash(void)
{
	struct buf b;
	const char *s = "say \"hi\" \\ there";

	buf_init(&b, 1024);
	CU_ASSERT_TRUE(buf_json_escape(&b, s, strlen(s)));
	CU_ASSERT_STRING_EQUAL(buf_str(&b), "say \\\"hi\\\" \\\\ there");
	buf_reset(&b);
}

static void test_json_escape_newline_tab_cr(void)
{
	struct buf b;
	const char *s = "a\nb\tc\rd";

	buf_init(&b, 1024);
	CU_ASSERT_TRUE(buf_json_escape(&b, s, strlen(s)));
	CU_ASSERT_STRING_EQUAL(buf_str(&b), "a\\nb\\tc\\rd");
	buf_reset(&b);
}

static void test_json_escape_control_chars(void)
{
	struct buf b;
	const char s[] = "x\001y\037z\010";

	buf_init(&b, 1024);
	CU_ASSERT_TRUE(buf_json_escape(&b, s, sizeof(s) - 1));
	CU_ASSERT_STRING_EQUAL(buf_str(&b), "x\\u0001y\\u001fz\\u0008");
	buf_reset(&b);
}

static void test_json_escape_embedded_nul(void)
{
	struct buf b;
	const char s[] = {'a', '\0', 'b'};

	buf_init(&b, 1024);
	CU_ASSERT_TRUE(buf_json_escape(&b, s, sizeof(s)));
	CU_ASSERT_STRING_EQUAL(buf_str(&b), "a\\u0000b");
	buf_reset(&b);
}

static void test_json_escape_passes_utf8_and_slash(void)
{
	struct buf b;
	const char *s = "caf\xc3\xa9 a/b \x7f";

	buf_init(&b, 1024);
	CU_ASSERT_TRUE(buf_json_escape(&b, s, strlen(s)));
	CU_ASSERT_STRING_EQUAL(buf_str(&b), s);
	buf_reset(&b);
}

static void test_json_escape_respects_cap(void)
{
	struct buf b;
	const char *s = "\"\"\"\"";

	buf_init(&b, 6);
	CU_ASSERT_FALSE(buf_json_escape(&b, s, strlen(s)));
	CU_ASSERT_TRUE(buf_overflowed(&b));
	CU_ASSERT_TRUE(b.len <= 6);
	buf_reset(&b);
}

static CU_TestInfo TESTS[] = {
	{"append_puts_printf", test_append_puts_printf},
	{"append_zero_bytes", test_append_zero_bytes},
	{"grows_past_initial_allocation", test_grows_past_initial_allocation},
	{"cap_exactly_reached_is_fine", test_cap_exactly_reached_is_fine},
	{"overflow_is_sticky", test_overflow_is_sticky},
	{"printf_over_cap", test_printf_over_cap},
	{"huge_append_overflows_without_wrapping", test_huge_append_overflows_without_wrapping},
	{"json_escape_quotes_and_backslash", test_json_escape_quotes_and_backslash},
	{"json_escape_newline_tab_cr", test_json_escape_newline_tab_cr},
	{"json_escape_control_chars", test_json_escape_control_chars},
	{"json_escape_embedded_nul", test_json_escape_embedded_nul},
	{"json_escape_passes_utf8_and_slash", test_json_escape_passes_utf8_and_slash},
	{"json_escape_respects_cap", test_json_escape_respects_cap},
	CU_TEST_INFO_NULL,
};

int main(void)
{
	return cutest_run("buf", TESTS);
}
