/* routes.h -- THE route table and the dispatcher that applies it:
 * match (404/405), authenticate and authorize (401/403/503), check the media
 * type (415), then call the handler. tests/data/routes.tsv mirrors the table
 * and a unit test keeps the two equal. */
#ifndef CD_ROUTES_H
#define CD_ROUTES_H

#include <stddef.h>

#include "fcgi/router.h"

extern const struct route ROUTES[];
extern const size_t ROUTES_COUNT;

/* Runs one request through the table; always leaves a response in req. */
void routes_dispatch(struct request *req);

#endif
