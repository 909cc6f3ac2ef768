/* http_assets.h — the dashboard's files (web/dashboard/, compiled in by
 * scripts/gen_assets.py) and the paths that serve them. */
#ifndef HTTP_ASSETS_H
#define HTTP_ASSETS_H

#include <stdbool.h>
#include <stddef.h>

struct http_asset {
    const char *name;  /* "index.html" */
    const char *ctype; /* its Content-Type */
    const unsigned char *data;
    size_t len;
};

/* The generated table, ended by a NULL name. */
extern const struct http_asset http_assets_table[];

/* The Content-Security-Policy sent with every asset: same origin only, no
 * inline script. */
#define HTTP_ASSETS_CSP                                                                            \
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "              \
    "connect-src 'self' ws: wss:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"

/* The asset a path names: "/_dashboard" (and "/_dashboard/") is index.html,
 * "/_dashboard/<name>" a file, "/_keel.js" the client module. With
 * http-assets-dir set, the file is read from that folder instead into *buf
 * (the caller frees it). Returns false when the path names no asset. */
bool http_asset_find(const char *path, size_t plen, const char **ctype, const char **data,
                     size_t *len, char **buf);

/* Is this request for "/" from a browser (Accept: text/html, GET)? */
bool http_asset_wants_page(const char *accept, size_t alen);

#endif
