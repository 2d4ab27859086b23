/* mem.h -- allocation that aborts on failure.
 *
 * Allocation failure is not a condition conductor recovers from (STYLE 12):
 * these wrappers abort with a log line, so callers write caps, not NULL checks.
 */
#ifndef CD_MEM_H
#define CD_MEM_H

#include <stddef.h>

/* Each returns new memory; the caller frees it with free(). Never NULL. */
void *xmalloc(size_t n);
void *xcalloc(size_t count, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);

#endif
