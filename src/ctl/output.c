/* output.c -- conductorctl's human and --json output (see output.h): tables
 * sized by their data, label blocks, colour only on a terminal, every value
 * cleaned to one line of printable UTF-8. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/json.h"
#include "base/mem.h"
#include "ctl/ctl.h"
#include "ctl/output.h"

#define CELL_BYTES_MAX (64 * 1024)  /* a cell's cleaned text, before its cut */
#define TABLE_ROWS_MAX 1000000      /* past it, rows are counted, not kept */
#define LABEL_WIDTH 13              /* out_field's label column */
#define ELLIPSIS "\xe2\x80\xa6"     /* U+2026 */
#define SGR_BOLD "1"

struct cell {
	char *text;      /* owned; cleaned, already cut to its column's max */
	size_t chars;    /* its width in characters */
	const char *sgr; /* static; NULL: no colour */
};

struct table {
	const struct out_column *cols;
	size_t ncols;
	struct cell *cells; /* rows * ncols, row-major */
	size_t ncells, alloc;
	size_t dropped; /* cells past TABLE_ROWS_MAX */
};

/* ---- cleaning ----------------------------------------------------------- */

/* Appends s[0..n) to b as printable UTF-8: control characters become spaces
 * (newline kept when keep_nl), bytes that are not UTF-8 '?'. Returns the
 * characters appended. */
static size_t clean(struct buf *b, const char *s, size_t n, bool keep_nl)
{
	size_t chars = 0;

	for (size_t i = 0; i < n;) {
		unsigned char ch = (unsigned char)s[i];
		size_t len = buf_utf8_len(s + i, n - i);

		if (len == 0) {
			buf_puts(b, "?");
			i++;
		} else if (len == 1 && (ch < 0x20 || ch == 0x7f)) {
			buf_puts(b, ch == '\n' && keep_nl ? "\n" : " ");
			i++;
		} else if (len == 2 && ch == 0xc2 && (unsigned char)s[i + 1] < 0xa0) {
			buf_puts(b, " "); /* C1 controls (U+0080..U+009F): CSI among them */
			i += 2;
		} else {
			buf_append(b, s + i, len);
			i += len;
		}
		chars++;
	}
	return chars;
}

/* The byte length of the first max characters of clean UTF-8 text. */
static size_t bytes_of_chars(const char *s, size_t max)
{
	size_t i = 0;

	for (size_t c = 0; c < max && s[i] != '\0'; c++) {
		size_t len = buf_utf8_len(s + i, strlen(s + i));

		i += len ? len : 1;
	}
	return i;
}

/* ---- colour ------------------------------------------------------------- */

/* One table of stages and health words to their colours. */
static const struct {
	const char *word;
	const char *sgr;
} COLOURS[] = {
	{"shipped", "32"},     {"failed", "31"},   {"dead_letter", "31"}, {"cancelled", "2"},
	{"blocked", "33"},     {"assigned", "36"}, {"building", "36"},    {"review", "36"},
	{"testing", "36"},     {"ok", "32"},       {"degraded", "33"},    {"down", "31"},
	{"running", "32"},     {"paused", "33"},   {"draining", "33"},    {"leader", "32"},
	{"standby", "2"},      {"stopped", "2"},   {"error", "31"},       {"starting", "36"},
	{"stopping", "33"},    {"destroyed", "2"},
};

const char *out_stage_sgr(const char *stage)
{
	for (size_t i = 0; stage != NULL && i < sizeof(COLOURS) / sizeof(COLOURS[0]); i++)
		if (strcmp(COLOURS[i].word, stage) == 0)
			return COLOURS[i].sgr;
	return NULL;
}

const char *out_lease_holder(struct json_object *lease)
{
	if (strcmp(json_get_string(lease, "status", ""), "held") != 0)
		return NULL;
	return json_get_string(lease, "holder", NULL);
}

char *out_paint(char *out, size_t cap, const char *s, const char *sgr)
{
	if (sgr != NULL && ctl_colour(stdout))
		snprintf(out, cap, "\033[%sm%s\033[0m", sgr, s);
	else
		snprintf(out, cap, "%s", s);
	return out;
}

/* ---- tables ------------------------------------------------------------- */

struct table *table_new(const struct out_column *cols, size_t ncols)
{
	struct table *t = xcalloc(1, sizeof(*t));

	t->cols = cols;
	t->ncols = ncols;
	return t;
}

void table_cell_sgr(struct table *t, const char *text, const char *sgr)
{
	const struct out_column *col = &t->cols[t->ncells % t->ncols];
	struct cell *c;
	struct buf b;
	size_t n;

	if (t->ncells / t->ncols >= TABLE_ROWS_MAX) {
		t->dropped++;
		return;
	}
	if (t->ncells == t->alloc) {
		t->alloc = t->alloc ? t->alloc * 2 : 16 * t->ncols;
		t->cells = xrealloc(t->cells, t->alloc * sizeof(*t->cells));
	}
	c = &t->cells[t->ncells++];
	if (text == NULL || text[0] == '\0')
		text = "-";
	buf_init(&b, CELL_BYTES_MAX + 8);
	n = strlen(text);
	c->chars = clean(&b, text, buf_utf8_cut(text, n < CELL_BYTES_MAX ? n : CELL_BYTES_MAX),
	                 false);
	if (col->max > 0 && c->chars > col->max) {
		size_t keep = bytes_of_chars(buf_str(&b), col->max - 1);

		c->text = xmalloc(keep + sizeof(ELLIPSIS));
		memcpy(c->text, buf_str(&b), keep);
		memcpy(c->text + keep, ELLIPSIS, sizeof(ELLIPSIS));
		c->chars = col->max;
	} else {
		c->text = xstrdup(buf_str(&b));
	}
	buf_reset(&b);
	c->sgr = sgr;
}

void table_cell(struct table *t, const char *text)
{
	table_cell_sgr(t, text, NULL);
}

void table_cellf(struct table *t, const char *fmt, ...)
{
	char text[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	table_cell(t, text);
}

void table_cell_stage(struct table *t, const char *stage)
{
	table_cell_sgr(t, stage, out_stage_sgr(stage));
}

void table_cell_when(struct table *t, const char *ts)
{
	char when[64];

	table_cell(t, ctl_relative_time(ts, 0, when, sizeof(when)));
}

/* Appends v as a person reads it: a string as is, null "-", an array of
 * strings joined with ",", anything else its compact JSON. */
static void json_text(struct buf *b, struct json_object *v)
{
	bool strings = json_object_is_type(v, json_type_array);

	if (v == NULL || json_object_is_type(v, json_type_string)) {
		buf_puts(b, v ? json_object_get_string(v) : "-");
		return;
	}
	for (size_t i = 0; strings && i < json_object_array_length(v); i++)
		strings = json_object_is_type(json_object_array_get_idx(v, i), json_type_string);
	if (strings) {
		for (size_t i = 0; i < json_object_array_length(v); i++)
			buf_printf(b, "%s%s", i ? "," : "",
			           json_object_get_string(json_object_array_get_idx(v, i)));
		return;
	}
	buf_puts(b, json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN |
	                                                  JSON_C_TO_STRING_NOSLASHESCAPE));
}

void table_cell_json(struct table *t, struct json_object *v)
{
	struct buf b;

	buf_init(&b, CELL_BYTES_MAX);
	json_text(&b, v);
	table_cell(t, buf_str(&b));
	buf_reset(&b);
}

void table_cell_pairs(struct table *t, struct json_object *o)
{
	struct buf b;

	if (o == NULL || !json_object_is_type(o, json_type_object)) {
		table_cell_json(t, o);
		return;
	}
	buf_init(&b, CELL_BYTES_MAX);
	json_object_object_foreach(o, key, v) {
		buf_printf(&b, "%s%s=", b.len ? " " : "", key);
		json_text(&b, v);
	}
	table_cell(t, buf_str(&b));
	buf_reset(&b);
}

size_t table_rows(const struct table *t)
{
	return t->ncells / t->ncols;
}

/* Prints one cell padded to width (the last column unpadded). */
static void print_cell(FILE *f, const char *text, size_t chars, size_t width,
                       const struct out_column *col, const char *sgr, bool last, bool colour)
{
	size_t pad = width > chars ? width - chars : 0;

	if (col->right)
		fprintf(f, "%*s", (int)pad, "");
	if (sgr != NULL && colour)
		fprintf(f, "\033[%sm%s\033[0m", sgr, text);
	else
		fputs(text, f);
	if (!col->right && !last)
		fprintf(f, "%*s", (int)pad, "");
	if (!last)
		fputs("  ", f);
}

void table_print(const struct table *t, FILE *f)
{
	bool colour = ctl_colour(f);
	size_t rows = table_rows(t);
	size_t *width = xcalloc(t->ncols, sizeof(*width));

	for (size_t c = 0; c < t->ncols; c++) {
		width[c] = strlen(t->cols[c].head);
		for (size_t r = 0; r < rows; r++)
			if (t->cells[r * t->ncols + c].chars > width[c])
				width[c] = t->cells[r * t->ncols + c].chars;
	}
	for (size_t c = 0; c < t->ncols; c++)
		print_cell(f, t->cols[c].head, strlen(t->cols[c].head), width[c], &t->cols[c],
		           SGR_BOLD, c + 1 == t->ncols, colour);
	fputc('\n', f);
	for (size_t r = 0; r < rows; r++) {
		for (size_t c = 0; c < t->ncols; c++) {
			const struct cell *cell = &t->cells[r * t->ncols + c];

			print_cell(f, cell->text, cell->chars, width[c], &t->cols[c], cell->sgr,
			           c + 1 == t->ncols, colour);
		}
		fputc('\n', f);
	}
	if (t->dropped > 0)
		fprintf(f, ELLIPSIS " %zu more rows not shown (--json prints them all)\n",
		        t->dropped / t->ncols);
	free(width);
}

void table_free(struct table *t)
{
	if (t == NULL)
		return;
	for (size_t i = 0; i < t->ncells; i++)
		free(t->cells[i].text);
	free(t->cells);
	free(t);
}

/* ---- label blocks ------------------------------------------------------- */

/* Prints "  label" padded, then value cleaned, in sgr's colour. */
static void field(const char *label, const char *value, const char *sgr)
{
	struct buf b;
	size_t n;

	if (value == NULL || value[0] == '\0')
		value = "-";
	n = strlen(value);
	buf_init(&b, CELL_BYTES_MAX + 8);
	clean(&b, value, buf_utf8_cut(value, n < CELL_BYTES_MAX ? n : CELL_BYTES_MAX), false);
	printf("  %-*s ", LABEL_WIDTH, label);
	if (sgr != NULL && ctl_colour(stdout))
		printf("\033[%sm%s\033[0m\n", sgr, buf_str(&b));
	else
		printf("%s\n", buf_str(&b));
	buf_reset(&b);
}

void out_field(const char *label, const char *value)
{
	field(label, value, NULL);
}

void out_fieldf(const char *label, const char *fmt, ...)
{
	char value[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(value, sizeof(value), fmt, ap);
	va_end(ap);
	field(label, value, NULL);
}

void out_field_json(const char *label, struct json_object *v)
{
	struct buf b;

	buf_init(&b, CELL_BYTES_MAX);
	json_text(&b, v);
	field(label, buf_str(&b), NULL);
	buf_reset(&b);
}

void out_field_stage(const char *label, const char *stage)
{
	field(label, stage, out_stage_sgr(stage));
}

void out_field_when(const char *label, const char *ts)
{
	char when[64];

	if (ts == NULL) {
		field(label, NULL, NULL);
		return;
	}
	/* "2026-12-03T19:22:54.178Z" -> "2026-12-03 19:22:54" */
	out_fieldf(label, "%.10s %.8s UTC (%s)", ts, strlen(ts) >= 19 ? ts + 11 : "",
	           ctl_relative_time(ts, 0, when, sizeof(when)));
}

void out_section(const char *fmt, ...)
{
	char title[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(title, sizeof(title), fmt, ap);
	va_end(ap);
	if (ctl_colour(stdout))
		printf("\n\033[" SGR_BOLD "m%s\033[0m\n", title);
	else
		printf("\n%s\n", title);
}

void out_text_block(const char *text, size_t max_lines)
{
	size_t lines = 0, total = 1, n = strlen(text);
	const char *line = text;
	struct buf b;

	buf_init(&b, n + n / 2 + 8);
	clean(&b, text, n, true);
	for (const char *p = buf_str(&b); *p != '\0'; p++)
		total += *p == '\n';
	line = buf_str(&b);
	while (*line != '\0' && lines < max_lines) {
		size_t len = strcspn(line, "\n");

		printf("    %.*s\n", (int)len, line);
		lines++;
		line += len + (line[len] == '\n');
	}
	if (lines < total && *line != '\0')
		printf("    " ELLIPSIS " (%zu more lines; --json prints it all)\n", total - lines);
	buf_reset(&b);
}

/* ---- --json ------------------------------------------------------------- */

void out_json(struct json_object *v)
{
	printf("%s\n", v == NULL ? "null"
	                         : json_object_to_json_string_ext(
	                               v, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
	                                      JSON_C_TO_STRING_NOSLASHESCAPE));
}
