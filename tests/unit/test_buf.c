/* test_buf.c -- base/buf.c: appends, the hard cap with its sticky overflow,
 * buf_json_escape (valid UTF-8 JSON whatever the input) and the UTF-8
 * helpers. */
#include <string.h>

#include "../cutest.h"
#include "base/buf.h"
#include "base/json.h"

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

/* Escapes s[0..n) into a JSON string and parses it back with the strict
 * parser (which refuses anything that is not UTF-8); returns the escaped
 * text in out. */
static void escape_parses(const char *s, size_t n, char *out, size_t cap)
{
	struct json_object *v = NULL;
	struct cd_error e;
	struct buf b;

	buf_init(&b, 1 << 16);
	buf_puts(&b, "\"");
	CU_ASSERT_TRUE(buf_json_escape(&b, s, n));
	buf_puts(&b, "\"");
	CU_ASSERT_EQUAL(json_parse_strict(buf_str(&b), b.len, &v, &e), CD_OK);
	CU_ASSERT_PTR_NOT_NULL(v);
	json_object_put(v);
	snprintf(out, cap, "%s", buf_str(&b));
	buf_reset(&b);
}

static void test_json_escape_replaces_invalid_utf8(void)
{
	static const struct {
		const char *in, *want;
	} CASES[] = {
		{"\xff\xfe", "\"\\ufffd\\ufffd\""},		/* never a UTF-8 byte */
		{"a\xc3", "\"a\\ufffd\""},			/* cut off at the end */
		{"\xc3(", "\"\\ufffd(\""},			/* lead byte, no continuation */
		{"\x80z", "\"\\ufffdz\""},			/* stray continuation byte */
		{"\xc0\xaf", "\"\\ufffd\\ufffd\""},		/* overlong '/' */
		{"\xed\xa0\x80", "\"\\ufffd\\ufffd\\ufffd\""},	/* a surrogate */
		{"\xf4\x90\x80\x80", "\"\\ufffd\\ufffd\\ufffd\\ufffd\""}, /* past U+10FFFF */
		{"\xe2\x82", "\"\\ufffd\\ufffd\""},		/* 3-byte char cut short */
		{"ok \xe2\x82\xac \xf0\x9f\x98\x80", "\"ok \xe2\x82\xac \xf0\x9f\x98\x80\""}, /* valid */
	};
	char out[256];

	for (size_t i = 0; i < sizeof(CASES) / sizeof(CASES[0]); i++) {
		escape_parses(CASES[i].in, strlen(CASES[i].in), out, sizeof(out));
		CU_ASSERT_STRING_EQUAL(out, CASES[i].want);
	}
}

/* Every byte string of length 1 to 3 over bytes that matter to UTF-8
 * escapes into JSON the strict parser accepts (NUL aside: the parser refuses
 * \u0000 on purpose; json_escape_embedded_nul covers it). */
static void test_json_escape_always_valid(void)
{
	static const unsigned char BYTES[] = {0x01, 0x1f, '"', '\\', 'a', 0x7f, 0x80, 0xbf,
					      0xc0, 0xc2, 0xdf, 0xe0, 0xed, 0xef, 0xf0, 0xf4,
					      0xf5, 0xff};
	const size_t nb = sizeof(BYTES);
	char s[3], out[64];

	for (size_t i = 0; i < nb; i++)
		for (size_t j = 0; j < nb; j++)
			for (size_t k = 0; k < nb; k++) {
				s[0] = (char)BYTES[i], s[1] = (char)BYTES[j], s[2] = (char)BYTES[k];
				escape_parses(s, 1, out, sizeof(out));
				escape_parses(s, 2, out, sizeof(out));
				escape_parses(s, 3, out, sizeof(out));
			}
}

static void test_utf8_len(void)
{
	CU_ASSERT_EQUAL(buf_utf8_len("a", 1), 1);
	CU_ASSERT_EQUAL(buf_utf8_len("\xc3\xa9", 2), 2);
	CU_ASSERT_EQUAL(buf_utf8_len("\xc3\xa9", 1), 0);
	CU_ASSERT_EQUAL(buf_utf8_len("\xe2\x82\xac", 3), 3);
	CU_ASSERT_EQUAL(buf_utf8_len("\xf0\x9f\x98\x80", 4), 4);
	CU_ASSERT_EQUAL(buf_utf8_len("\xff", 1), 0);
	CU_ASSERT_EQUAL(buf_utf8_len("", 0), 0);
}

static void test_utf8_cut_on_a_character_boundary(void)
{
	const char *e3 = "a\xc3\xa9\xc3\xa9";	/* a e-acute e-acute: 5 bytes */
	const char *euro = "\xe2\x82\xac\xe2\x82\xac"; /* two euro signs */

	CU_ASSERT_EQUAL(buf_utf8_cut(e3, 5), 5);
	CU_ASSERT_EQUAL(buf_utf8_cut(e3, 4), 3); /* the second e-acute would be cut */
	CU_ASSERT_EQUAL(buf_utf8_cut(e3, 3), 3);
	CU_ASSERT_EQUAL(buf_utf8_cut(e3, 2), 1);
	CU_ASSERT_EQUAL(buf_utf8_cut(e3, 1), 1);
	CU_ASSERT_EQUAL(buf_utf8_cut(e3, 0), 0);
	CU_ASSERT_EQUAL(buf_utf8_cut(euro, 6), 6);
	CU_ASSERT_EQUAL(buf_utf8_cut(euro, 5), 3);
	CU_ASSERT_EQUAL(buf_utf8_cut(euro, 4), 3);
	CU_ASSERT_EQUAL(buf_utf8_cut("\xf0\x9f\x98\x80", 3), 0);
	CU_ASSERT_EQUAL(buf_utf8_cut("abc", 2), 2);
	/* bytes that are no character anyway are left to the escaper */
	CU_ASSERT_EQUAL(buf_utf8_cut("a\xff", 2), 2);
	CU_ASSERT_EQUAL(buf_utf8_cut("a\x80\x80\x80\x80", 5), 5);
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
	{"json_escape_replaces_invalid_utf8", test_json_escape_replaces_invalid_utf8},
	{"json_escape_always_valid", test_json_escape_always_valid},
	{"utf8_len", test_utf8_len},
	{"utf8_cut_on_a_character_boundary", test_utf8_cut_on_a_character_boundary},
	CU_TEST_INFO_NULL,
};

int main(void)
{
	return cutest_run("buf", TESTS);
}
