/* buf.h -- a growable byte buffer with a hard cap (after curl's dynbuf).
 *
 * Appends are sticky: once an append would pass the cap, the buffer is marked
 * overflowed and every later append is ignored, so a builder appends freely
 * and checks buf_overflowed() once at the end (SQLite's habit).
 * The data is always NUL-terminated.
 */
#ifndef CD_BUF_H
#define CD_BUF_H

#include <stdbool.h>
#include <stddef.h>

struct buf {
	char *data;	/* owned; NUL-terminated; NULL until the first append */
	size_t len;
	size_t alloc;
	size_t cap;	/* the most bytes it may ever hold */
	bool overflow;
};

/* Sets up b in the caller's storage with a cap of cap bytes. */
void buf_init(struct buf *b, size_t cap);
/* Frees b's data and leaves it empty and reusable. NULL-safe. */
void buf_reset(struct buf *b);
/* Appends; false (and sticky overflow) when the cap would be passed. */
bool buf_append(struct buf *b, const void *p, size_t n);
bool buf_puts(struct buf *b, const char *s);
bool buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Appends s as the inside of a JSON string (no quotes), escaped. Whatever s
 * holds, what is appended is valid UTF-8 JSON: a byte that does not start a
 * valid UTF-8 sequence (a stray byte, an overlong form, a surrogate, a
 * character cut off by n) becomes \ufffd. */
bool buf_json_escape(struct buf *b, const char *s, size_t n);
/* The length (1..4) of the valid UTF-8 character at s[0..n), 0 when the bytes
 * there are not one (or n is 0). */
size_t buf_utf8_len(const char *s, size_t n);
/* The longest prefix of s[0..n) that does not end inside a multi-byte
 * character: where to truncate text without cutting a character in half. */
size_t buf_utf8_cut(const char *s, size_t n);
/* The contents, "" when empty. Borrowed until the next append or reset. */
const char *buf_str(const struct buf *b);
bool buf_overflowed(const struct buf *b);

#endif
