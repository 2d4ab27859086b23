/* test_crypto.c -- base/crypto.c: SHA-256 against the NIST vectors and the
 * padding boundaries (55/56/63/64/65 bytes), base64url (RFC 4648 vectors with
 * the URL alphabet and no padding), hex, crypto_equal and crypto_random. */
#include <stdlib.h>
#include <string.h>

#include "../cutest.h"
#include "base/crypto.h"

static void check_sha(const void *data, size_t n, const char *want)
{
	char hex[2 * SHA256_LEN + 1];

	crypto_sha256_hex(data, n, hex);
	CU_ASSERT_STRING_EQUAL(hex, want);
}

static void test_sha256_empty(void)
{
	check_sha("", 0, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

static void test_sha256_abc(void)
{
	check_sha("abc", 3, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

static void test_sha256_448_bits(void)
{
	const char *m = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";

	check_sha(m, strlen(m), "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

static void test_sha256_896_bits(void)
{
	const char *m = "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmno"
			"ijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu";

	check_sha(m, strlen(m), "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
}

static void test_sha256_million_a(void)
{
	size_t n = 1000000;
	char *m = malloc(n);

	CU_ASSERT_FATAL(m != NULL);
	memset(m, 'a', n);
	check_sha(m, n, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
	free(m);
}

/* Digests of n 'a' bytes, from `printf 'a%.0s' $(seq n) | sha256sum`. */
static void test_sha256_padding_boundaries(void)
{
	static const struct {
		size_t n;
		const char *hex;
	} V[] = {
		{55, "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318"},
		{56, "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a"},
		{63, "7d3e74a05d7db15bce4ad9ec0658ea98e3f06eeecf16b4c6fff2da457ddc2f34"},
		{64, "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb"},
		{65, "635361c48bb9eab14198e76ea8ab7f1a41685d6ad62aa9146d301d4f17eb0ae0"},
	};
	char m[65];

	memset(m, 'a', sizeof(m));
	for (size_t i = 0; i < sizeof(V) / sizeof(V[0]); i++)
		check_sha(m, V[i].n, V[i].hex);
}

static void test_sha256_raw_matches_hex(void)
{
	uint8_t d[SHA256_LEN];
	char hex[2 * SHA256_LEN + 1];

	crypto_sha256("abc", 3, d);
	CU_ASSERT_EQUAL(d[0], 0xba);
	CU_ASSERT_EQUAL(d[1], 0x78);
	CU_ASSERT_EQUAL(d[31], 0xad);
	crypto_hex(d, sizeof(d), hex);
	CU_ASSERT_STRING_EQUAL(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

static void check_b64(const char *in, size_t n, const char *want)
{
	char out[64];
	size_t len;

	memset(out, '#', sizeof(out));
	len = crypto_base64url((const uint8_t *)in, n, out);
	CU_ASSERT_STRING_EQUAL(out, want);
	CU_ASSERT_EQUAL(len, strlen(want));
}

/* RFC 4648 section 10, without the '=' padding. */
static void test_base64url_rfc4648_vectors(void)
{
	check_b64("", 0, "");
	check_b64("f", 1, "Zg");
	check_b64("fo", 2, "Zm8");
	check_b64("foo", 3, "Zm9v");
	check_b64("foob", 4, "Zm9vYg");
	check_b64("fooba", 5, "Zm9vYmE");
	check_b64("foobar", 6, "Zm9vYmFy");
}

static void test_base64url_alphabet(void)
{
	/* standard base64 would give "+/8=" and "//8=" */
	check_b64("\xfb\xff", 2, "-_8");
	check_b64("\xff\xff\xff", 3, "____");
	check_b64("\xfb\xef\xbe", 3, "----");
	check_b64("\x00\x00\x00", 3, "AAAA");
}

static void test_base64url_32_bytes_is_43_chars(void)
{
	uint8_t raw[32];
	char out[45];

	memset(raw, 0xa5, sizeof(raw));
	CU_ASSERT_EQUAL(crypto_base64url(raw, sizeof(raw), out), 43);
	CU_ASSERT_EQUAL(strlen(out), 43);
}

static void test_hex(void)
{
	const uint8_t in[] = {0x00, 0x01, 0x7f, 0x80, 0xab, 0xff};
	char out[2 * sizeof(in) + 1];

	crypto_hex(in, sizeof(in), out);
	CU_ASSERT_STRING_EQUAL(out, "00017f80abff");
	crypto_hex(in, 0, out);
	CU_ASSERT_STRING_EQUAL(out, "");
}

static void test_equal(void)
{
	char a[32], b[32];

	memset(a, 'x', sizeof(a));
	memcpy(b, a, sizeof(b));
	CU_ASSERT_TRUE(crypto_equal(a, b, sizeof(a)));
	CU_ASSERT_TRUE(crypto_equal(a, b, 0));
	/* a difference anywhere is seen: first, middle, last byte, one bit */
	for (size_t pos = 0; pos < sizeof(a); pos++) {
		b[pos] ^= 0x01;
		CU_ASSERT_FALSE(crypto_equal(a, b, sizeof(a)));
		b[pos] ^= 0x01;
	}
	b[31] = 'y';
	CU_ASSERT_FALSE(crypto_equal(a, b, 32));
	/* only n bytes are compared */
	CU_ASSERT_TRUE(crypto_equal(a, b, 31));
	b[0] = (char)0x80;
	CU_ASSERT_FALSE(crypto_equal(a, b, 1));
}

static void test_random_fills_and_differs(void)
{
	uint8_t a[32], b[32], zero[32];

	memset(a, 0, sizeof(a));
	memset(b, 0, sizeof(b));
	memset(zero, 0, sizeof(zero));
	crypto_random(a, sizeof(a));
	crypto_random(b, sizeof(b));
	/* 2^-256 chance of a false failure */
	CU_ASSERT_NOT_EQUAL(memcmp(a, zero, sizeof(a)), 0);
	CU_ASSERT_NOT_EQUAL(memcmp(a, b, sizeof(a)), 0);
}

static void test_random_large_request(void)
{
	size_t n = 1 << 20;
	uint8_t *p = calloc(1, n);
	size_t zeros = 0;

	CU_ASSERT_FATAL(p != NULL);
	crypto_random(p, n);
	/* the tail is filled too: a zero run of 4096 bytes does not happen */
	for (size_t i = n - 4096; i < n; i++)
		zeros += p[i] == 0;
	CU_ASSERT_TRUE(zeros < 4096);
	free(p);
}

static CU_TestInfo TESTS[] = {
	{"sha256_empty", test_sha256_empty},
	{"sha256_abc", test_sha256_abc},
	{"sha256_448_bits", test_sha256_448_bits},
	{"sha256_896_bits", test_sha256_896_bits},
	{"sha256_million_a", test_sha256_million_a},
	{"sha256_padding_boundaries", test_sha256_padding_boundaries},
	{"sha256_raw_matches_hex", test_sha256_raw_matches_hex},
	{"base64url_rfc4648_vectors", test_base64url_rfc4648_vectors},
	{"base64url_alphabet", test_base64url_alphabet},
	{"base64url_32_bytes_is_43_chars", test_base64url_32_bytes_is_43_chars},
	{"hex", test_hex},
	{"equal", test_equal},
	{"random_fills_and_differs", test_random_fills_and_differs},
	{"random_large_request", test_random_large_request},
	CU_TEST_INFO_NULL,
};

int main(void)
{
	return cutest_run("crypto", TESTS);
}
