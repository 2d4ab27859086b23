/* test_tokens.c -- domain/tokens.c without a database: the token shape
 * (tokens_generate, tokens_well_formed), tokens_hash, and role names. */
#include <ctype.h>
#include <string.h>

#include "../cutest.h"
#include "base/crypto.h"
#include "domain/tokens.h"

static bool base64url_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '_';
}

static void test_generate_shape(void)
{
	char t[TOKEN_LEN + 1];

	memset(t, '#', sizeof(t));
	tokens_generate(t);
	CU_ASSERT_EQUAL(TOKEN_LEN, 47);
	CU_ASSERT_EQUAL(strlen(t), TOKEN_LEN);
	CU_ASSERT_EQUAL(strncmp(t, TOKEN_PREFIX, 4), 0);
	CU_ASSERT_EQUAL(strncmp(t, "cdt_", 4), 0);
	for (size_t i = 4; i < TOKEN_LEN; i++)
		CU_ASSERT_TRUE(base64url_char(t[i]));
	CU_ASSERT_TRUE(tokens_well_formed(t, strlen(t)));
}

static void test_generated_tokens_differ(void)
{
	char a[TOKEN_LEN + 1], b[TOKEN_LEN + 1];

	tokens_generate(a);
	tokens_generate(b);
	CU_ASSERT_STRING_NOT_EQUAL(a, b);
}

static void test_well_formed_refusals(void)
{
	char t[TOKEN_LEN + 2];

	tokens_generate(t);
	CU_ASSERT_TRUE(tokens_well_formed(t, TOKEN_LEN));

	/* wrong prefix */
	t[0] = 'x';
	CU_ASSERT_FALSE(tokens_well_formed(t, TOKEN_LEN));
	t[0] = 'c';
	t[3] = '-';
	CU_ASSERT_FALSE(tokens_well_formed(t, TOKEN_LEN));
	t[3] = '_';
	memcpy(t, "CDT_", 4);
	CU_ASSERT_FALSE(tokens_well_formed(t, TOKEN_LEN));
	memcpy(t, "cdt_", 4);
	CU_ASSERT_TRUE(tokens_well_formed(t, TOKEN_LEN));

	/* wrong length: 46 and 48 */
	CU_ASSERT_FALSE(tokens_well_formed(t, TOKEN_LEN - 1));
	t[TOKEN_LEN] = 'A';
	t[TOKEN_LEN + 1] = '\0';
	CU_ASSERT_FALSE(tokens_well_formed(t, TOKEN_LEN + 1));
	t[TOKEN_LEN] = '\0';
	CU_ASSERT_FALSE(tokens_well_formed(t, 0));
	CU_ASSERT_FALSE(tokens_well_formed("cdt_", 4));

	/* a character outside base64url, at the start, middle and end of the body */
	static const char BAD[] = {'+', '/', '=', ' ', '.', '\0', '\n', (char)0xc3};
	static const size_t AT[] = {4, 20, TOKEN_LEN - 1};

	for (size_t i = 0; i < sizeof(BAD); i++)
		for (size_t j = 0; j < sizeof(AT) / sizeof(AT[0]); j++) {
			char saved = t[AT[j]];

			t[AT[j]] = BAD[i];
			CU_ASSERT_FALSE(tokens_well_formed(t, TOKEN_LEN));
			t[AT[j]] = saved;
		}
	CU_ASSERT_TRUE(tokens_well_formed(t, TOKEN_LEN));

	CU_ASSERT_FALSE(tokens_well_formed(NULL, TOKEN_LEN));
	CU_ASSERT_FALSE(tokens_well_formed(NULL, 0));
}

static void test_well_formed_accepts_full_alphabet(void)
{
	/* 43 characters spanning A-Z a-z 0-9 - _ */
	const char *t = "cdt_AZaz09-_ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghi";

	CU_ASSERT_EQUAL(strlen(t), TOKEN_LEN);
	CU_ASSERT_TRUE(tokens_well_formed(t, strlen(t)));
}

static void test_hash_is_sha256_hex(void)
{
	char t[TOKEN_LEN + 1], h[65], want[65];

	tokens_generate(t);
	memset(h, '#', sizeof(h));
	tokens_hash(t, TOKEN_LEN, h);
	crypto_sha256_hex(t, TOKEN_LEN, want);
	CU_ASSERT_STRING_EQUAL(h, want);
	CU_ASSERT_EQUAL(strlen(h), 64);
	for (size_t i = 0; i < 64; i++)
		CU_ASSERT_TRUE(isdigit((unsigned char)h[i]) || (h[i] >= 'a' && h[i] <= 'f'));

	/* a known value, so the hash is not just "whatever crypto says" */
	tokens_hash("abc", 3, h);
	CU_ASSERT_STRING_EQUAL(h, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

static void test_hash_uses_length(void)
{
	char a[65], b[65];

	tokens_hash("cdt_abcdef", 10, a);
	tokens_hash("cdt_abcdefXYZ", 10, b);
	CU_ASSERT_STRING_EQUAL(a, b);
	tokens_hash("cdt_abcdef", 9, b);
	CU_ASSERT_STRING_NOT_EQUAL(a, b);
}

static void test_role_round_trip(void)
{
	static const char *const NAMES[ROLE_COUNT] = {
		"admin", "operator", "submitter", "worker", "controller", "readonly", "metrics",
	};

	CU_ASSERT_EQUAL(ROLE_COUNT, 7);
	for (int r = 0; r < ROLE_COUNT; r++) {
		CU_ASSERT_STRING_EQUAL(tokens_role_name((enum role)r), NAMES[r]);
		CU_ASSERT_EQUAL(tokens_role_parse(NAMES[r]), r);
		CU_ASSERT_EQUAL(tokens_role_parse(tokens_role_name((enum role)r)), r);
	}
	CU_ASSERT_EQUAL(tokens_role_parse("admin"), ROLE_ADMIN);
	CU_ASSERT_EQUAL(tokens_role_parse("readonly"), ROLE_READONLY);
}

static void test_role_parse_refusals(void)
{
	CU_ASSERT_EQUAL(tokens_role_parse("root"), -1);
	CU_ASSERT_EQUAL(tokens_role_parse(""), -1);
	CU_ASSERT_EQUAL(tokens_role_parse("Admin"), -1);
	CU_ASSERT_EQUAL(tokens_role_parse("admin "), -1);
	CU_ASSERT_EQUAL(tokens_role_parse("adm"), -1);
	CU_ASSERT_EQUAL(tokens_role_parse("unknown"), -1);
	CU_ASSERT_STRING_EQUAL(tokens_role_name(ROLE_COUNT), "unknown");
	CU_ASSERT_STRING_EQUAL(tokens_role_name((enum role)-1), "unknown");
}

static void test_role_bits(void)
{
	CU_ASSERT_EQUAL(ROLE_BIT(ROLE_ADMIN), 1u);
	CU_ASSERT_EQUAL(ROLE_BIT(ROLE_READONLY), 32u);
	CU_ASSERT_EQUAL(ROLE_BIT(ROLE_METRICS), 64u);
	CU_ASSERT_EQUAL(ROLES_ALL, 127u);
}

static CU_TestInfo TESTS[] = {
	{"generate_shape", test_generate_shape},
	{"generated_tokens_differ", test_generated_tokens_differ},
	{"well_formed_refusals", test_well_formed_refusals},
	{"well_formed_accepts_full_alphabet", test_well_formed_accepts_full_alphabet},
	{"hash_is_sha256_hex", test_hash_is_sha256_hex},
	{"hash_uses_length", test_hash_uses_length},
	{"role_round_trip", test_role_round_trip},
	{"role_parse_refusals", test_role_parse_refusals},
	{"role_bits", test_role_bits},
	CU_TEST_INFO_NULL,
};

int main(void)
{
	return cutest_run("tokens", TESTS);
}
