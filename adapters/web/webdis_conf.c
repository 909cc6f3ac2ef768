/* webdis_conf.c — webdis.json as Keel's configuration (see webdis_conf.h). */
#include "webdis_conf.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config.h"
#include "registry.h"
#include "resp_encode.h"
#include "util.h"

static const char *file;

static void warn(const char *key, const char *why)
{
    fprintf(stderr, "keel: %s: '%s' %s\n", file, key, why);
}

static bool set(const char *key, const char *name, const char *value)
{
    const char *err = config_set(name, value, true);
    if (!err) return true;
    fprintf(stderr, "keel: %s: '%s' (as %s %s): %s\n", file, key, name, value, err);
    return false;
}

/* A scalar as config text. */
static bool text(json_t *v, char *buf, size_t len)
{
    if (json_is_string(v))
        snprintf(buf, len, "%s", json_string_value(v));
    else if (json_is_integer(v))
        snprintf(buf, len, "%lld", (long long)json_integer_value(v));
    else if (json_is_true(v) || json_is_false(v))
        snprintf(buf, len, "%s", json_is_true(v) ? "yes" : "no");
    else
        return false;
    return true;
}

/* The words of a JSON array of strings appended to (or removed from) a
 * space-separated list. */
static bool in_words(const struct obuf *l, const char *w)
{
    const char *p = l->buf ? l->buf : "", *e = p + l->len;
    size_t n = strlen(w);
    while (p < e) {
        const char *sp = memchr(p, ' ', (size_t)(e - p));
        size_t k = sp ? (size_t)(sp - p) : (size_t)(e - p);
        if (k == n && strncasecmp(p, w, n) == 0) return true;
        p += k + 1;
    }
    return false;
}

static void add_word(struct obuf *l, const char *w)
{
    if (in_words(l, w)) return;
    if (l->len) obuf_append(l, " ", 1);
    obuf_append(l, w, strlen(w));
}

static void add_all(struct obuf *l)
{
    int i;
    for (i = 0; registry_commands[i]; i++)
        add_word(l, registry_commands[i]->name);
}

static void remove_word(struct obuf *l, const char *w)
{
    struct obuf out = {0};
    const char *p = l->buf ? l->buf : "", *e = p + l->len;
    size_t n = strlen(w);
    while (p < e) {
        const char *sp = memchr(p, ' ', (size_t)(e - p));
        size_t k = sp ? (size_t)(sp - p) : (size_t)(e - p);
        if (!(k == n && strncasecmp(p, w, n) == 0)) {
            if (out.len) obuf_append(&out, " ", 1);
            obuf_append(&out, p, k);
        }
        p += k + 1;
    }
    obuf_free(l);
    *l = out;
}

static bool acl(json_t *rules)
{
    struct obuf dis = {0};
    size_t i, k;
    json_t *r, *w;
    bool ok = true;
    char *text0;
    if (!json_is_array(rules)) {
        warn("acl", "is not an array: ignored");
        return true;
    }
    /* First what is disabled, then what unconditional rules enable. */
    json_array_foreach(rules, i, r)
    {
        json_t *d = json_object_get(r, "disabled");
        bool cond = json_object_get(r, "ip") || json_object_get(r, "http_basic_auth");
        if (!json_is_array(d)) continue;
        if (cond)
            warn("acl",
                 "rule with \"ip\" or \"http_basic_auth\": its \"disabled\" applies to every "
                 "client (Keel has no per-client rules)");
        json_array_foreach(d, k, w)
        {
            if (!json_is_string(w)) continue;
            if (!strcmp(json_string_value(w), "*"))
                add_all(&dis);
            else
                add_word(&dis, json_string_value(w));
        }
    }
    json_array_foreach(rules, i, r)
    {
        json_t *en = json_object_get(r, "enabled");
        bool cond = json_object_get(r, "ip") || json_object_get(r, "http_basic_auth");
        if (!json_is_array(en)) continue;
        if (cond) {
            warn("acl", "rule with \"ip\" or \"http_basic_auth\": its \"enabled\" is ignored "
                        "(Keel has no per-client rules)");
            continue;
        }
        json_array_foreach(en, k, w) if (json_is_string(w)) remove_word(&dis, json_string_value(w));
    }
    /* Words that are not commands (Webdis does not check them) are dropped:
     * http-disabled-commands takes command names only. */
    {
        struct obuf known = {0};
        const char *p = dis.buf ? dis.buf : "", *e = p + dis.len;
        while (p < e) {
            const char *sp = memchr(p, ' ', (size_t)(e - p));
            size_t n = sp ? (size_t)(sp - p) : (size_t)(e - p);
            if (registry_lookup(p, n)) {
                if (known.len) obuf_append(&known, " ", 1);
                obuf_append(&known, p, n);
            } else {
                char name[80];
                snprintf(name, sizeof(name), "%.*s", (int)(n > 64 ? 64 : n), p);
                warn(name, "in acl is not a command: ignored");
            }
            p += n + 1;
        }
        obuf_free(&dis);
        dis = known;
    }
    text0 = xmalloc(dis.len + 1);
    if (dis.len) memcpy(text0, dis.buf, dis.len);
    text0[dis.len] = 0;
    ok = set("acl", "http-disabled-commands", text0);
    free(text0);
    obuf_free(&dis);
    return ok;
}

static const char *loglevel(long long v)
{
    return v <= 2 ? "warning" : v <= 4 ? "notice" : v <= 7 ? "verbose" : "debug";
}

bool webdis_conf_load(const char *path)
{
    static const struct {
        const char *key, *name;
    } map[] = {
        {"http_host", "http-bind"},
        {"http_port", "http-port"},
        {"redis_host", "bind"},
        {"redis_port", "port"},
        {"database", "http-database"},
        {"default_root", "http-default-root"},
        {"websockets", "http-websockets"},
        {"http_max_request_size", "http-max-body-size"},
        {"daemonize", "daemonize"},
        {"pidfile", "pidfile"},
        {"logfile", "logfile"},
    };
    static const char *const ignored[] = {"redis_auth", "threads",   "pool_size_per_thread",
                                          "user",       "group",     "ssl",
                                          "hiredis",    "verbosity", NULL};
    json_error_t je;
    json_t *root, *v;
    const char *key;
    bool ok = true;
    file = path;
    root = json_load_file(path, 0, &je);
    if (!root || !json_is_object(root)) {
        fprintf(stderr, "keel: %s: not a webdis.json object: %s (line %d)\n", path,
                root ? "not an object" : je.text, je.line);
        json_decref(root);
        return false;
    }
    json_object_foreach(root, key, v)
    {
        size_t i;
        char buf[4096];
        bool done = false;
        for (i = 0; i < sizeof(map) / sizeof(map[0]) && !done; i++) {
            if (strcmp(key, map[i].key)) continue;
            done = true;
            if (!config_find(map[i].name, strlen(map[i].name))) {
                warn(key, "has no Keel setting here: ignored");
            } else if (!text(v, buf, sizeof(buf))) {
                warn(key, "is not a string, number or boolean: ignored");
            } else if (!set(key, map[i].name, buf)) {
                ok = false;
            }
        }
        if (done) continue;
        if (!strcmp(key, "acl")) {
            if (!acl(v)) ok = false;
            continue;
        }
        if (!strcmp(key, "verbosity") && json_is_integer(v)) {
            if (!set(key, "loglevel", loglevel((long long)json_integer_value(v)))) ok = false;
            continue;
        }
        for (i = 0; ignored[i]; i++)
            if (!strcmp(key, ignored[i])) break;
        if (ignored[i])
            warn(key, "configures what Keel does not have (Keel is the Redis server): ignored");
        else
            warn(key, "is an unknown key: ignored");
    }
    json_decref(root);
    return ok;
}
