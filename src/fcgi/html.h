/* html.h -- THE HTML escaping of conductor's status pages, and the page frame.
 *
 * Every value that comes from a client or the database reaches a page only
 * through html_escape() / html_text(): & < > " ' become entities, bytes that
 * are not valid UTF-8 become U+FFFD, and control bytes other than tab and
 * newline are dropped, so a value can never open a tag, close an attribute or
 * smuggle a character the browser would decode differently.
 * Pure: no I/O; unit-tested in tests/unit/test_html.c.
 */
#ifndef CD_HTML_H
#define CD_HTML_H

#include <stdbool.h>
#include <stddef.h>

#include "base/buf.h"

/* Appends s[0..n) escaped for HTML text and quoted attribute values. */
bool html_escape(struct buf *b, const char *s, size_t n);
/* html_escape of a NUL-terminated string; NULL appends nothing. */
bool html_text(struct buf *b, const char *s);

/* What the frame around a page shows. */
struct html_page {
	const char *title;	/* escaped; "Overview" */
	const char *user;	/* the token's name, escaped; NULL on the login page */
	const char *role;	/* its role; NULL on the login page */
	const char *tenant;	/* its tenant; NULL on the login page */
	const char *csrf;	/* the session's CSRF token (for the logout form); NULL: none */
	int refresh_s;		/* > 0: the page reloads itself (a meta refresh, no script) */
	const char *self;	/* the page's own path+query, for the refresh toggle; NULL: none */
};

/* Appends the doctype, head (viewport, the stylesheet) and the navigation. */
void html_page_begin(struct buf *b, const struct html_page *p);
/* Closes what html_page_begin opened. */
void html_page_end(struct buf *b);

/* A hidden input carrying the CSRF token, for every POST form. */
void html_csrf_input(struct buf *b, const char *csrf);

/* The value of field name in an application/x-www-form-urlencoded body
 * body[0..n): '+' is a space, %xx decoded, into out (cap bytes).
 * Returns 1 when present, 0 when absent, -1 when too long or badly encoded
 * (a %xx that is malformed or decodes to NUL). */
int html_form_value(const char *body, size_t n, const char *name, char *out, size_t cap);

#endif
