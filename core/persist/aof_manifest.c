/* aof_manifest.c — the AOF manifest, pure (aof.h): parsing and formatting
 * Redis 7.0's manifest text (file, seq, type lines, quoting as Redis does),
 * and the list operations the log's file management builds on. No I/O. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aof.h"
#include "rdb.h" /* struct sbuf */
#include "util.h"

void aof_file_set(struct aof_file *f, const char *name, long long seq, char type)
{
    f->name = xstrdup(name);
    f->seq = seq;
    f->type = type;
}

void aof_manifest_free(struct aof_manifest *m)
{
    int i;
    if (m->base) {
        free(m->base->name);
        free(m->base);
    }
    for (i = 0; i < m->nincr; i++)
        free(m->incr[i].name);
    for (i = 0; i < m->nhist; i++)
        free(m->hist[i].name);
    free(m->incr);
    free(m->hist);
    memset(m, 0, sizeof(*m));
}

void aof_manifest_add(struct aof_file **v, int *n, const char *name, long long seq, char type)
{
    *v = xrealloc(*v, sizeof(**v) * (size_t)(*n + 1));
    aof_file_set(&(*v)[*n], name, seq, type);
    (*n)++;
}

void aof_manifest_dup(struct aof_manifest *dst, const struct aof_manifest *src)
{
    int i;
    memset(dst, 0, sizeof(*dst));
    if (src->base) {
        dst->base = xmalloc(sizeof(*dst->base));
        aof_file_set(dst->base, src->base->name, src->base->seq, 'b');
    }
    for (i = 0; i < src->nincr; i++)
        aof_manifest_add(&dst->incr, &dst->nincr, src->incr[i].name, src->incr[i].seq, 'i');
    for (i = 0; i < src->nhist; i++)
        aof_manifest_add(&dst->hist, &dst->nhist, src->hist[i].name, src->hist[i].seq, 'h');
    dst->base_seq = src->base_seq;
    dst->incr_seq = src->incr_seq;
}

bool aof_manifest_parse(const char *text, size_t len, struct aof_manifest *m, char *err,
                        size_t errlen)
{
    size_t off = 0;
    int lines = 0;
    long long maxseq = 0;
    const char *e = NULL;
    memset(m, 0, sizeof(*m));
    while (off < len && !e) {
        const char *nl = memchr(text + off, '\n', len - off);
        size_t ll = nl ? (size_t)(nl - (text + off)) : len - off;
        const char *line = text + off;
        char **w = NULL;
        size_t *wl = NULL;
        int n, i;
        const char *name = NULL;
        long long seq = 0;
        char type = 0;
        off += ll + (nl ? 1 : 0);
        if (ll > 0 && line[0] == '#') continue;
        if (!nl || ll + 1 > 1024) {
            e = "The AOF manifest file contains too long line";
            break;
        }
        while (ll > 0 && (line[ll - 1] == '\r' || line[ll - 1] == ' ' || line[ll - 1] == '\t'))
            ll--;
        while (ll > 0 && (line[0] == ' ' || line[0] == '\t'))
            line++, ll--;
        if (ll == 0) {
            e = "Invalid AOF manifest file format";
            break;
        }
        n = util_split_args(line, ll, &w, &wl);
        if (n < 6 || (n % 2)) {
            if (n > 0) util_free_words(w, wl, n);
            e = "Invalid AOF manifest file format";
            break;
        }
        for (i = 0; i < n; i += 2) {
            if (!strcasecmp(w[i], "file")) {
                name = w[i + 1];
                if (strchr(name, '/')) e = "File can't be a path, just a filename";
            } else if (!strcasecmp(w[i], "seq")) {
                seq = atoll(w[i + 1]);
            } else if (!strcasecmp(w[i], "type")) {
                type = w[i + 1][0];
            }
        }
        if (!e && (!name || !seq || !type)) e = "Invalid AOF manifest file format";
        if (!e) {
            if (type == 'b') {
                if (m->base) {
                    e = "Found duplicate base file information";
                } else {
                    m->base = xmalloc(sizeof(*m->base));
                    aof_file_set(m->base, name, seq, 'b');
                    m->base_seq = seq;
                }
            } else if (type == 'h') {
                aof_manifest_add(&m->hist, &m->nhist, name, seq, 'h');
            } else if (type == 'i') {
                if (seq <= maxseq) {
                    e = "Found a non-monotonic sequence number";
                } else {
                    aof_manifest_add(&m->incr, &m->nincr, name, seq, 'i');
                    m->incr_seq = seq;
                    maxseq = seq;
                }
            } else {
                e = "Unknown AOF file type";
            }
        }
        util_free_words(w, wl, n);
        lines++;
    }
    if (!e && lines == 0) e = "Found an empty AOF manifest";
    if (e) {
        snprintf(err, errlen, "%s", e);
        aof_manifest_free(m);
        return false;
    }
    return true;
}

static bool needs_repr(const char *s)
{
    for (; *s; s++)
        if (*s <= ' ' || *s == '"' || *s == '\'' || *s == '\\' || (unsigned char)*s >= 127)
            return true;
    return false;
}

static void cat_file(struct sbuf *b, const struct aof_file *f)
{
    char tmp[64];
    int n;
    sbuf_append(b, "file ", 5);
    if (needs_repr(f->name)) {
        const char *s;
        sbuf_append(b, "\"", 1);
        for (s = f->name; *s; s++) {
            unsigned char c = (unsigned char)*s;
            if (c == '"' || c == '\\') {
                char e[2] = {'\\', (char)c};
                sbuf_append(b, e, 2);
            } else if (c == '\n')
                sbuf_append(b, "\\n", 2);
            else if (c == '\r')
                sbuf_append(b, "\\r", 2);
            else if (c == '\t')
                sbuf_append(b, "\\t", 2);
            else if (c < 32 || c >= 127) {
                n = snprintf(tmp, sizeof(tmp), "\\x%02x", c);
                sbuf_append(b, tmp, (size_t)n);
            } else
                sbuf_append(b, s, 1);
        }
        sbuf_append(b, "\"", 1);
    } else {
        sbuf_append(b, f->name, strlen(f->name));
    }
    n = snprintf(tmp, sizeof(tmp), " seq %lld type %c\n", f->seq, f->type);
    sbuf_append(b, tmp, (size_t)n);
}

char *aof_manifest_format(const struct aof_manifest *m, size_t *len)
{
    struct sbuf b;
    int i;
    sbuf_init(&b);
    if (m->base) cat_file(&b, m->base);
    for (i = 0; i < m->nhist; i++)
        cat_file(&b, &m->hist[i]);
    for (i = 0; i < m->nincr; i++)
        cat_file(&b, &m->incr[i]);
    sbuf_append(&b, "", 1);
    *len = b.len - 1;
    return (char *)b.p;
}
