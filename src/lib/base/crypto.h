/* crypto.h -- the few primitives conductor needs: SHA-256, random bytes,
 * base64url, hex and constant-time comparison.
 *
 * SHA-256 is implemented here (FIPS 180-4) rather than linking a crypto
 * library for one function; tests check it against the NIST vectors.
 * Thread-safety: all reentrant.
 */
#ifndef CD_CRYPTO_H
#define CD_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SHA256_LEN 32

/* out: the 32-byte digest of data[0..n). */
void crypto_sha256(const void *data, size_t n, uint8_t out[SHA256_LEN]);
/* out: the lower-case hex of the digest (65 bytes with the NUL). */
void crypto_sha256_hex(const void *data, size_t n, char out[2 * SHA256_LEN + 1]);
/* Fills out with n bytes from getrandom(2); aborts if the kernel refuses. */
void crypto_random(void *out, size_t n);
/* Encodes n bytes as unpadded base64url into out (needs 4*ceil(n/3)+1 bytes);
 * returns the length written. */
size_t crypto_base64url(const uint8_t *in, size_t n, char *out);
/* Encodes n bytes as lower-case hex into out (2n+1 bytes). */
void crypto_hex(const uint8_t *in, size_t n, char *out);
/* true when a[0..n) == b[0..n); time depends on n only. */
bool crypto_equal(const void *a, const void *b, size_t n);

#endif
