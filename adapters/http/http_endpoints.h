/* http_endpoints.h — Keel's own HTTP endpoints under /_: /_commands (the
 * schema registry), /_health and /_metrics (Prometheus text). They read the
 * registry and the stats API (core/kernel/stats.h) directly. */
#ifndef KEEL_HTTP_ENDPOINTS_H
#define KEEL_HTTP_ENDPOINTS_H

#include <stdbool.h>
#include <stddef.h>

#include "resp_encode.h" /* struct obuf */

/* Answer path (without the query) if it is one of the endpoints: the
 * status, content type and body (appended to out). False when it is not. */
bool http_endpoint(const char *path, size_t n, int *status, const char **ctype, struct obuf *out);
/* Free the cached /_commands document (shutdown). */
void http_endpoints_free(void);

#endif
