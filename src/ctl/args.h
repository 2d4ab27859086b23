/* args.h -- what conductorctl's API commands share to read their own
 * arguments: flags through getopt_long with one way of saying what is wrong,
 * whole numbers in a range, a file or stdin ("-") read with a cap, a JSON
 * object read from one, the string lists that repeated flags build, ids put
 * in paths; and the one way a command calls the API (args_call).
 *
 * Every argument failure here is a usage error: the function prints
 * "conductorctl NOUN VERB: <what is wrong>" on stderr and the command exits
 * CTL_EXIT_USAGE (2).
 */
#ifndef CD_CTL_ARGS_H
#define CD_CTL_ARGS_H

#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>

#include <json-c/json.h>

#include "ctl/client.h"
#include "ctl/ctl.h"

#define ARGS_FILE_MAX (8 * 1024 * 1024) /* the most a file (or stdin) given to a command holds */

/* The next flag of the command's arguments (getopt_long over ctl->argv):
 * its short code, -1 after the last; '?' after printing what is wrong (an
 * unknown flag, a missing value) and pointing at `NOUN VERB --help`. The
 * first call starts over (call args_start() first). cmd: "jobs submit". */
void args_start(void);
int args_next(struct ctl *ctl, const char *cmd, const struct option *opts);

/* For a command without flags: false after saying that a flag is unknown. */
bool args_none(struct ctl *ctl, const char *cmd);

/* The operands left after the flags: count and first (borrowed argv). */
int args_rest(const struct ctl *ctl, char ***first);

/* Parses text as a whole number in [min, max] into *out; false after
 * printing "cmd: flag takes a whole number from min to max". */
bool args_int(const char *cmd, const char *flag, const char *text, long long min, long long max,
              long long *out);

/* Reads path ("-": stdin) whole into a new NUL-terminated string (caller
 * frees) and its length; false after printing why (cannot open, over
 * ARGS_FILE_MAX). */
bool args_read(const char *cmd, const char *path, char **out, size_t *n);

/* Reads path ("-": stdin) as one JSON object, parsed strictly (base/json.h):
 * a new tree (caller puts) into *out; false after printing where it is
 * wrong. */
bool args_json_object(const char *cmd, const char *path, struct json_object **out);

/* The JSON object of the command's FILE operand (n: how many operands are
 * at first; 0 or 1), or a new empty object when there is none: a new tree
 * (caller puts) into *out; false after saying what is wrong. */
bool args_object_operand(const char *cmd, int n, char **first, struct json_object **out);

/* Appends value (a string) to the array at key of o, creating it; the array
 * a repeated flag builds (--capability linux --capability gpu). */
void args_push(struct json_object *o, const char *key, const char *value);

/* Puts src's members over dst's (the flags over a file's object): a member
 * that is an object in both is merged member by member (--retry-max sets
 * retry.max and keeps the file's retry.backoff_s); any other replaces. */
void args_merge(struct json_object *dst, struct json_object *src);

/* prefix + id percent-encoded (client_escape) + suffix into out, so that an
 * id is always one path segment: "/v1/fleet/jobs/" "7" "/runs". False after
 * printing that the id is too long. */
bool args_path(char *out, size_t cap, const char *cmd, const char *prefix, const char *id,
               const char *suffix);

/* METHOD path with body (borrowed, NULL: none) through ctl->api into a
 * (free with client_answer_free() whatever the return). Returns CTL_EXIT_OK,
 * or the exit status of the failure after printing its message as the API
 * gave it (ctl_fail: 1 refused, 3 unreachable). */
int args_call(struct ctl *ctl, const char *method, const char *path, struct json_object *body,
              struct client_answer *a);

/* Prints "cmd: message" and returns CTL_EXIT_USAGE. */
int args_fail(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
