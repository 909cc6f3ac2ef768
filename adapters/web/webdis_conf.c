/* webdis_conf.c — webdis.json as Keel's configuration (see webdis_conf.h). */
#include "webdis_conf.h"

#include <arpa/inet.h>
#include <jansson.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config.h"
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

/* Webdis's acl rules, kept as loaded: each matches a client by its
 * "http_basic_auth" (the Authorization: Basic value, compared as Webdis
 * does with the base64 of "user:password") and "ip" (an IPv4 CIDR), and
 * then enables and disables commands; the last matching rule that names a
 * command decides, a rule's "disabled" over its "enabled". */
struct acl_rule {
    char *auth_b64; /* NULL: any */
    bool has_cidr;
    uint32_t subnet, mask;
    struct obuf en, dis; /* space-separated names, "*" for all */
};
static struct acl_rule *rules;
static int nrules;

static bool parse_cidr4(const char *s, uint32_t *subnet, uint32_t *mask)
{
    char buf[32];
    const char *slash = strchr(s, '/');
    size_t al = slash ? (size_t)(slash - s) : strlen(s);
    struct in_addr a;
    long bits = 32;
    if (al >= sizeof(buf)) return false;
    memcpy(buf, s, al);
    buf[al] = 0;
    if (inet_pton(AF_INET, buf, &a) != 1) return false;
    if (slash) {
        char *end;
        bits = strtol(slash + 1, &end, 10);
        if (*end || end == slash + 1 || bits < 0 || bits > 32) return false;
    }
    *mask = bits == 0 ? 0 : 0xffffffffu << (32 - bits);
    *subnet = ntohl(a.s_addr) & *mask;
    return true;
}

static void words(struct obuf *o, json_t *arr)
{
    size_t k;
    json_t *w;
    if (!json_is_array(arr)) return;
    json_array_foreach(arr, k, w) if (json_is_string(w)) add_word(o, json_string_value(w));
}

static bool acl(json_t *list)
{
    size_t i;
    json_t *r;
    if (!json_is_array(list)) {
        warn("acl", "is not an array: ignored");
        return true;
    }
    rules = xcalloc(json_array_size(list) + 1, sizeof(*rules));
    json_array_foreach(list, i, r)
    {
        struct acl_rule *a = &rules[nrules];
        json_t *auth = json_object_get(r, "http_basic_auth"), *ip = json_object_get(r, "ip");
        if (!json_is_object(r)) continue;
        if (json_is_string(auth)) {
            const char *up = json_string_value(auth);
            size_t n = strlen(up);
            a->auth_b64 = xmalloc(4 * ((n + 2) / 3) + 1);
            EVP_EncodeBlock((unsigned char *)a->auth_b64, (const unsigned char *)up, (int)n);
        }
        if (json_is_string(ip)) {
            if (!parse_cidr4(json_string_value(ip), &a->subnet, &a->mask)) {
                fprintf(stderr, "keel: %s: acl: bad \"ip\" '%s' (an IPv4 CIDR)\n", file,
                        json_string_value(ip));
                return false;
            }
            a->has_cidr = true;
        }
        words(&a->en, json_object_get(r, "enabled"));
        words(&a->dis, json_object_get(r, "disabled"));
        nrules++;
    }
    /* Webdis's rules replace Keel's default refusals: what the file does
     * not disable stays allowed, as under Webdis. */
    return set("acl", "http-disabled-commands", "");
}

bool webdis_acl_allows(const char *name, size_t n, const char *addr, const char *auth,
                       size_t authlen)
{
    bool ok = true, have_ip = false;
    uint32_t ip = 0;
    char cmd[64];
    int i;
    if (nrules == 0) return true;
    if (n == 0 || n >= sizeof(cmd)) return true; /* the kernel answers it */
    memcpy(cmd, name, n);
    cmd[n] = 0;
    if (addr) {
        /* "a.b.c.d:port" (an IPv6 peer matches no "ip" rule, as in Webdis) */
        char buf[64];
        const char *colon = strrchr(addr, ':');
        size_t al = colon ? (size_t)(colon - addr) : strlen(addr);
        struct in_addr a;
        if (al < sizeof(buf)) {
            memcpy(buf, addr, al);
            buf[al] = 0;
            if (inet_pton(AF_INET, buf, &a) == 1) {
                ip = ntohl(a.s_addr);
                have_ip = true;
            }
        }
    }
    for (i = 0; i < nrules; i++) {
        const struct acl_rule *a = &rules[i];
        if (a->auth_b64) {
            size_t bl = strlen(a->auth_b64);
            if (!auth || authlen < 6 || strncasecmp(auth, "basic ", 6) != 0 || authlen - 6 != bl ||
                memcmp(auth + 6, a->auth_b64, bl) != 0)
                continue;
        }
        if (a->has_cidr && (!have_ip || (ip & a->mask) != a->subnet)) continue;
        if (in_words(&a->en, cmd) || in_words(&a->en, "*")) ok = true;
        if (in_words(&a->dis, cmd) || in_words(&a->dis, "*")) ok = false;
    }
    return ok;
}

bool webdis_acl_uses_basic(void)
{
    int i;
    for (i = 0; i < nrules; i++)
        if (rules[i].auth_b64) return true;
    return false;
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
