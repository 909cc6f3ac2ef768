/* http_assets.c — serving the browser dashboard: maps /_dashboard,
 * /_dashboard/<file> and /_keel.js to the files compiled into the binary
 * (http_assets_table, generated from web/dashboard/ by
 * scripts/gen_assets.py), or, with http-assets-dir set, to the same names
 * in that folder (for developing the page without rebuilding). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config.h"
#include "http_assets.h"

static const struct http_asset *by_name(const char *name, size_t n)
{
    const struct http_asset *a;
    for (a = http_assets_table; a->name; a++)
        if (strlen(a->name) == n && memcmp(a->name, name, n) == 0) return a;
    return NULL;
}

/* The file `name` of http-assets-dir, read whole into a malloc'd buffer. */
static char *read_dir_file(const char *dir, const char *name, size_t *len)
{
    char path[4096];
    FILE *f;
    char *buf;
    long sz;
    if (snprintf(path, sizeof(path), "%s/%s", dir, name) >= (int)sizeof(path)) return NULL;
    if (!(f = fopen(path, "rb"))) return NULL;
    if (fseek(f, 0, SEEK_END) != 0 || (sz = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
        fclose(f);
        return NULL;
    }
    buf = malloc((size_t)sz + 1);
    if (buf && fread(buf, 1, (size_t)sz, f) != (size_t)sz) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    *len = (size_t)sz;
    return buf;
}

bool http_asset_find(const char *path, size_t plen, const char **ctype, const char **data,
                     size_t *len, char **buf)
{
    static const char pre[] = "/_dashboard";
    const size_t pl = sizeof(pre) - 1;
    const char *name;
    size_t n;
    const struct http_asset *a;
    *buf = NULL;
    if (plen == 9 && memcmp(path, "/_keel.js", 9) == 0) {
        name = "keel.js";
        n = 7;
    } else if (plen >= pl && memcmp(path, pre, pl) == 0 &&
               (plen == pl || (plen == pl + 1 && path[pl] == '/'))) {
        name = "index.html";
        n = 10;
    } else if (plen > pl + 1 && memcmp(path, pre, pl) == 0 && path[pl] == '/') {
        name = path + pl + 1;
        n = plen - pl - 1;
    } else {
        return false;
    }
    /* Only the names the table knows: no path in the name, no other file. */
    if (!(a = by_name(name, n))) return false;
    *ctype = a->ctype;
    if (g_config.http_assets_dir && g_config.http_assets_dir[0]) {
        if (!(*buf = read_dir_file(g_config.http_assets_dir, a->name, len))) return false;
        *data = *buf;
        return true;
    }
    *data = (const char *)a->data;
    *len = a->len;
    return true;
}

bool http_asset_wants_page(const char *accept, size_t alen)
{
    static const char t[] = "text/html";
    size_t i;
    for (i = 0; i + sizeof(t) - 1 <= alen; i++)
        if (strncasecmp(accept + i, t, sizeof(t) - 1) == 0) return true;
    return false;
}
