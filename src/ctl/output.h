/* output.h -- how conductorctl's API commands print what they got.
 *
 * Human output: aligned tables whose columns are as wide as their widest
 * value (a column's cap cuts a longer one with an ellipsis), "label  value"
 * blocks, relative times (ctl_relative_time), stages and health in colour
 * only when stdout is a terminal and NO_COLOR is unset (ctl_colour).
 * Whatever the API holds is printed on one line per cell: control
 * characters (a newline, an escape sequence) become spaces, bytes that are
 * not UTF-8 become '?', so no value can move the cursor or repaint a
 * terminal.
 *
 * --json: the API's data, pretty, one document followed by a newline.
 *
 * Not thread-safe (conductorctl is one thread).
 */
#ifndef CD_CTL_OUTPUT_H
#define CD_CTL_OUTPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include <json-c/json.h>

/* One column of a table. */
struct out_column {
	const char *head; /* upper case: "ID", "STAGE" */
	size_t max;       /* most characters shown; longer values are cut with "…"; 0: no cap */
	bool right;       /* right-aligned (numbers) */
};

struct table;

/* A new table with ncols columns (cols borrowed: a static array); print it
 * with table_print(), free it with table_free(). */
struct table *table_new(const struct out_column *cols, size_t ncols);

/* Adds the next cell (the rows fill left to right, ncols cells a row).
 * text NULL or "" prints "-". */
void table_cell(struct table *t, const char *text);
void table_cellf(struct table *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The cell in a colour: an SGR code ("32" green), NULL for none; only on a
 * terminal. */
void table_cell_sgr(struct table *t, const char *text, const char *sgr);
/* A job's (or task's) stage in its colour. */
void table_cell_stage(struct table *t, const char *stage);
/* An API timestamp as "3 min ago" / "in 6 days"; "-" for NULL. */
void table_cell_when(struct table *t, const char *ts);
/* Any JSON value: a string as is, null "-", an array of strings joined with
 * ",", anything else its compact JSON. */
void table_cell_json(struct table *t, struct json_object *v);

/* An object's members as "key=value key=value" (strings unquoted, other
 * values as compact JSON); "-" for NULL or {}. */
void table_cell_pairs(struct table *t, struct json_object *o);

/* How many whole rows the table holds. */
size_t table_rows(const struct table *t);

/* Prints the header (bold on a terminal) and the rows on f, each line
 * without trailing blanks. */
void table_print(const struct table *t, FILE *f);

void table_free(struct table *t);

/* "  label   value" on stdout, labels padded to one width; value NULL or ""
 * prints "-". */
void out_field(const char *label, const char *value);
void out_fieldf(const char *label, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A field showing a JSON value as table_cell_json() does. */
void out_field_json(const char *label, struct json_object *v);
/* A field whose value is coloured like a stage. */
void out_field_stage(const char *label, const char *stage);
/* A field showing an API timestamp: "2026-12-03 19:22:54 (3 min ago)". */
void out_field_when(const char *label, const char *ts);

/* A section's title ("Runs (2)") on stdout, bold on a terminal, after a
 * blank line. */
void out_section(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Text of several lines (a job's body) on stdout, each line indented, with
 * the same cleaning as a cell but newlines kept; at most max_lines lines,
 * then "… (N more lines)". */
void out_text_block(const char *text, size_t max_lines);

/* The worker holding a job's lease (the job's "lease" object, borrowed),
 * NULL when none holds it now: a released or expired lease keeps its last
 * holder, who no longer runs the job. */
const char *out_lease_holder(struct json_object *lease);

/* The SGR code of a stage's colour (NULL: none). */
const char *out_stage_sgr(const char *stage);

/* s with its SGR colour when stdout is a terminal, into out (cap bytes);
 * returns out. */
char *out_paint(char *out, size_t cap, const char *s, const char *sgr);

/* --json: v (borrowed; NULL prints null) pretty on stdout, one document. */
void out_json(struct json_object *v);

#endif
