/* ui.h -- what the status pages' files share (fcgi/ui_session.c,
 * fcgi/ui_pages.c): the session behind a request and its CSRF token.
 *
 * The cookie "cd_session" holds a random id (32 bytes, base64url); the
 * database keeps its SHA-256 only (data/db_ui.h). The CSRF token of a session
 * is SHA-256("conductor-csrf:" + id) in hex: tied to the session, unknowable
 * without its cookie, stored nowhere. Handlers' prototypes are in api.h.
 */
#ifndef CD_UI_H
#define CD_UI_H

#include <stdbool.h>

#include "base/buf.h"
#include "fcgi/html.h"
#include "fcgi/request.h"

#define UI_SESSION_TTL_S (12 * 3600) /* a browser session lasts 12 hours */
#define UI_PAGE_MAX (8 * 1024 * 1024) /* a page's cap */

/* The session of a request. */
struct ui_session {
	char hash[65];	/* SHA-256 hex of the session id */
	char csrf[65];	/* its CSRF token */
};

/* Finds req's live session and fills req->principal from its token (an
 * admin acts in tenant "default"). false after answering 303 to the login
 * page (no, unknown or expired session, revoked token) or 503. */
bool ui_session_or_redirect(struct request *req, struct ui_session *s);

/* For a POST: the form's "csrf" field is s's token, else false after
 * answering 403 (nothing changed). */
bool ui_csrf_or_refuse(struct request *req, const struct ui_session *s);

/* May this session's role press buttons (operator, admin)? */
bool ui_can_operate(const struct request *req);

/* An error page with the status of err and message (escaped). */
void ui_reply_error(struct request *req, enum cd_err err, const char *message);

/* Starts a page (a buf with UI_PAGE_MAX, the frame of the session's user);
 * self: the page's path and query for the refresh toggle. */
void ui_page_begin(struct request *req, const struct ui_session *s, struct buf *b,
		   const char *title, const char *self);
/* Ends b, answers it (200, or 500 when it passed its cap) and frees it. */
void ui_page_end(struct request *req, struct buf *b);

#endif
