/* html.c -- escaping and the page frame; see html.h. */
#include <string.h>

#include "fcgi/html.h"
#include "fcgi/request.h"

#define STYLESHEET "/ui/static/conductor.css"

bool html_escape(struct buf *b, const char *s, size_t n)
{
	size_t i = 0;

	while (i < n) {
		unsigned char c = (unsigned char)s[i];
		size_t len;

		switch (c) {
		case '&': buf_puts(b, "&amp;"); i++; continue;
		case '<': buf_puts(b, "&lt;"); i++; continue;
		case '>': buf_puts(b, "&gt;"); i++; continue;
		case '"': buf_puts(b, "&quot;"); i++; continue;
		case '\'': buf_puts(b, "&#39;"); i++; continue;
		default: break;
		}
		if (c < 0x20 || c == 0x7f) {
			/* tab, newline and carriage return are text; other controls go */
			if (c == '\t' || c == '\n' || c == '\r')
				buf_append(b, s + i, 1);
			i++;
			continue;
		}
		len = buf_utf8_len(s + i, n - i);
		if (len == 0) {
			buf_puts(b, "\xef\xbf\xbd"); /* U+FFFD */
			i++;
			continue;
		}
		buf_append(b, s + i, len);
		i += len;
	}
	return !buf_overflowed(b);
}

bool html_text(struct buf *b, const char *s)
{
	return s == NULL || html_escape(b, s, strlen(s));
}

void html_csrf_input(struct buf *b, const char *csrf)
{
	buf_puts(b, "<input type=\"hidden\" name=\"csrf\" value=\"");
	html_text(b, csrf);
	buf_puts(b, "\">");
}

void html_page_begin(struct buf *b, const struct html_page *p)
{
	buf_puts(b, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
		    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
		    "<meta name=\"color-scheme\" content=\"light dark\">");
	if (p->refresh_s > 0)
		buf_printf(b, "<meta http-equiv=\"refresh\" content=\"%d\">", p->refresh_s);
	buf_puts(b, "<title>");
	html_text(b, p->title);
	buf_puts(b, " · conductor</title><link rel=\"stylesheet\" href=\"" STYLESHEET "\"></head>"
		    "<body><header><a class=\"brand\" href=\"/ui/\">conductor</a>");
	if (p->user != NULL) {
		buf_puts(b, "<nav><a href=\"/ui/\">Overview</a><a href=\"/ui/jobs\">Jobs</a>"
			    "<a href=\"/ui/workers\">Workers</a><a href=\"/ui/runtimes\">Runtimes</a></nav>"
			    "<div class=\"who\"><span>");
		html_text(b, p->user);
		buf_puts(b, " (");
		html_text(b, p->role);
		buf_puts(b, ", ");
		html_text(b, p->tenant);
		buf_puts(b, ")</span>");
		if (p->self != NULL) {
			buf_puts(b, "<a class=\"refresh\" href=\"");
			html_text(b, p->self);
			buf_puts(b, strchr(p->self, '?') ? "&amp;" : "?");
			buf_puts(b, p->refresh_s > 0 ? "refresh=0\">auto-refresh: on" :
						       "refresh=10\">auto-refresh: off");
			buf_puts(b, "</a>");
		}
		if (p->csrf != NULL) {
			buf_puts(b, "<form method=\"post\" action=\"/ui/logout\" class=\"inline\">");
			html_csrf_input(b, p->csrf);
			buf_puts(b, "<button type=\"submit\" id=\"logout\">Log out</button></form>");
		}
		buf_puts(b, "</div>");
	}
	buf_puts(b, "</header><main>\n<h1>");
	html_text(b, p->title);
	buf_puts(b, "</h1>\n");
}

void html_page_end(struct buf *b)
{
	buf_puts(b, "</main></body></html>\n");
}

int html_form_value(const char *body, size_t n, const char *name, char *out, size_t cap)
{
	size_t nlen = strlen(name), i = 0;

	while (i < n) {
		const char *amp = memchr(body + i, '&', n - i);
		size_t end = amp ? (size_t)(amp - body) : n;

		if (end - i > nlen && memcmp(body + i, name, nlen) == 0 && body[i + nlen] == '=') {
			size_t vlen = end - i - nlen - 1;
			char raw[4096];

			if (vlen >= sizeof(raw))
				return -1;
			memcpy(raw, body + i + nlen + 1, vlen);
			for (size_t k = 0; k < vlen; k++)
				if (raw[k] == '+')
					raw[k] = ' ';
			return request_decode(raw, vlen, out, cap) < 0 ? -1 : 1;
		}
		i = end + 1;
	}
	if (cap > 0)
		out[0] = '\0';
	return 0;
}
