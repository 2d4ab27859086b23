/* buf.c -- capped growable buffer; see buf.h. */

#include <stdarg.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "base/buf.h"
#include "base/mem.h"

void buf_init(struct buf *b, size_t cap)
{
	memset(b, 0, sizeof(*b));
	b->cap = cap;
}

void buf_reset(struct buf *b)
{
	if (b == NULL)
		return;
	free(b->data);
	b->data = NULL;
	b->len = b->alloc = 0;
	b->overflow = false;
}

static bool reserve(struct buf *b, size_t extra)
{
	size_t need;

	if (b->overflow)
		return false;
	if (extra > b->cap || b->len > b->cap - extra) {
		b->overflow = true;
		return false;
	}
	need = b->len + extra + 1;
	if (need > b->alloc) {
		size_t n = b->alloc ? b->alloc : 256;

		while (n < need)
			n *= 2;
		b->data = xrealloc(b->data, n);
		b->alloc = n;
	}
	return true;
}

bool buf_append(struct buf *b, const void *p, size_t n)
{
	if (!reserve(b, n))
		return false;
	if (n > 0)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return true;
}

bool buf_puts(struct buf *b, const char *s)
{
	return buf_append(b, s, strlen(s));
}

bool buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || !reserve(b, (size_t)n))
		return false;
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return true;
}

bool buf_json_escape(struct buf *b, const char *s, size_t n)
{
	size_t i, start = 0;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		char esc[8];

		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		buf_append(b, s + start, i - start);
		switch (c) {
		case '"': buf_puts(b, "\\\""); break;
		case '\\': buf_puts(b, "\\\\"); break;
		case '\n': buf_puts(b, "\\n"); break;
		case '\r': buf_puts(b, "\\r"); break;
		case '\t': buf_puts(b, "\\t"); break;
		default:
			snprintf(esc, sizeof(esc), "\\u%04x", c);
			buf_puts(b, esc);
		}
		start = i + 1;
	}
	return buf_append(b, s + start, n - start);
}

const char *buf_str(const struct buf *b)
{
	return b->data ? b->data : "";
}

bool buf_overflowed(const struct buf *b)
{
	return b->overflow;
}
