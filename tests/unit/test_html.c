/* test_html.c -- fcgi/html.c: THE escaping of the status pages (markup,
 * quotes, ampersands, bytes that are not UTF-8, control bytes), the page
 * frame, and form-encoded fields. */
#include <stdlib.h>
#include <string.h>

#include "../cutest.h"
#include "fcgi/html.h"

static char *esc(const char *s, size_t n)
{
	struct buf b;
	char *out;

	buf_init(&b, 4 * 1024 * 1024);
	html_escape(&b, s, n);
	out = strdup(buf_str(&b));
	buf_reset(&b);
	return out;
}

static void expect_esc(const char *in, const char *want)
{
	char *got = esc(in, strlen(in));

	CU_ASSERT_STRING_EQUAL(got, want);
	free(got);
}

static void test_markup_is_text(void)
{
	expect_esc("<script>alert(1)</script>", "&lt;script&gt;alert(1)&lt;/script&gt;");
	expect_esc("a \"quoted\" & 'single' name", "a &quot;quoted&quot; &amp; &#39;single&#39; name");
	expect_esc("&amp;", "&amp;amp;");
	expect_esc("plain text, été", "plain text, été");
	expect_esc("", "");
}

static void test_bad_bytes_and_controls(void)
{
	char *got = esc("a\xff" "b\xc0\xaf" "c", 7);

	CU_ASSERT_STRING_EQUAL(got, "a\xef\xbf\xbd" "b\xef\xbf\xbd\xef\xbf\xbd" "c");
	free(got);
	got = esc("x\x01y\x1bz\x7f\tl\nm", 11);
	CU_ASSERT_STRING_EQUAL(got, "xyz\tl\nm");
	free(got);
	/* a NUL inside the value does not end it early nor pass through */
	got = esc("a\0<b", 4);
	CU_ASSERT_STRING_EQUAL(got, "a&lt;b");
	free(got);
}

/* A 256 KiB body full of markup comes out whole, with no '<' left. */
static void test_large_body(void)
{
	size_t n = 256 * 1024;
	char *in = malloc(n + 1), *got;

	for (size_t i = 0; i < n; i++)
		in[i] = "<a>&\""[i % 5];
	in[n] = '\0';
	got = esc(in, n);
	CU_ASSERT_PTR_NULL(strchr(got, '<'));
	CU_ASSERT_PTR_NULL(strchr(got, '>'));
	CU_ASSERT_PTR_NULL(strchr(got, '"'));
	/* &lt; a &gt; &amp; &quot; : 4 + 1 + 4 + 5 + 6 bytes per 5, and "<a>&" at the end */
	CU_ASSERT_EQUAL(strlen(got), n / 5 * 20 + 14);
	free(in);
	free(got);
}

static void test_page_frame_escapes_user(void)
{
	struct html_page p = {.title = "T<1>", .user = "<img src=x onerror=1>", .role = "operator",
			      .tenant = "a&b", .csrf = "\"><script>", .self = "/ui/?x=\"1\""};
	struct buf b;
	const char *s;

	buf_init(&b, 1 << 20);
	html_page_begin(&b, &p);
	html_page_end(&b);
	s = buf_str(&b);
	CU_ASSERT_PTR_NOT_NULL(strstr(s, "T&lt;1&gt;"));
	CU_ASSERT_PTR_NULL(strstr(s, "<img"));
	CU_ASSERT_PTR_NULL(strstr(s, "<script"));
	CU_ASSERT_PTR_NOT_NULL(strstr(s, "a&amp;b"));
	CU_ASSERT_PTR_NOT_NULL(strstr(s, "name=\"viewport\""));
	CU_ASSERT_PTR_NOT_NULL(strstr(s, "/ui/static/conductor.css"));
	buf_reset(&b);
}

static void test_form_values(void)
{
	const char *body = "token=cdt_a%2Bb&reason=disk+full%21&csrf=&x=%zz";
	char out[64];

	CU_ASSERT_EQUAL(html_form_value(body, strlen(body), "token", out, sizeof(out)), 1);
	CU_ASSERT_STRING_EQUAL(out, "cdt_a+b");
	CU_ASSERT_EQUAL(html_form_value(body, strlen(body), "reason", out, sizeof(out)), 1);
	CU_ASSERT_STRING_EQUAL(out, "disk full!");
	CU_ASSERT_EQUAL(html_form_value(body, strlen(body), "csrf", out, sizeof(out)), 1);
	CU_ASSERT_STRING_EQUAL(out, "");
	CU_ASSERT_EQUAL(html_form_value(body, strlen(body), "x", out, sizeof(out)), -1);
	CU_ASSERT_EQUAL(html_form_value(body, strlen(body), "tok", out, sizeof(out)), 0);
	CU_ASSERT_EQUAL(html_form_value(body, strlen(body), "missing", out, sizeof(out)), 0);
	CU_ASSERT_EQUAL(html_form_value("a=%00", 5, "a", out, sizeof(out)), -1);
	CU_ASSERT_EQUAL(html_form_value(NULL, 0, "a", out, sizeof(out)), 0);
}

static CU_TestInfo TESTS[] = {
	{"markup_is_text", test_markup_is_text},
	{"bad_bytes_and_controls", test_bad_bytes_and_controls},
	{"large_body", test_large_body},
	{"page_frame_escapes_user", test_page_frame_escapes_user},
	{"form_values", test_form_values},
	CU_TEST_INFO_NULL,
};

int main(void)
{
	return cutest_run("html", TESTS);
}
