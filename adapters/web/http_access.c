/* http_access.c — network allow list, password check, allowed origins and
 * commands disabled over HTTP/WebSocket (see http_access.h). The lists are
 * config strings; each is re-parsed only when its text changes. */
#include "http_access.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "acl.h"
#include "client.h"
#include "config.h"
#include "reply.h"
#include "util.h"
#include "http_parse.h"
#include "http_request.h"
#include "registry.h"
#include "webdis_conf.h"

struct cidr {
    int family;
    unsigned char addr[16];
    int bits;
};

static struct {
    char *text;
    struct cidr *v;
    int n;
} nets;

static bool parse_cidr(const char *w, struct cidr *c)
{
    char buf[80];
    const char *slash = strchr(w, '/');
    size_t al = slash ? (size_t)(slash - w) : strlen(w);
    int maxbits;
    if (al >= sizeof(buf)) return false;
    memcpy(buf, w, al);
    buf[al] = 0;
    if (inet_pton(AF_INET, buf, c->addr) == 1) {
        c->family = AF_INET;
        maxbits = 32;
    } else if (inet_pton(AF_INET6, buf, c->addr) == 1) {
        c->family = AF_INET6;
        maxbits = 128;
    } else {
        return false;
    }
    c->bits = maxbits;
    if (slash) {
        char *end;
        long b = strtol(slash + 1, &end, 10);
        if (*end || end == slash + 1 || b < 0 || b > maxbits) return false;
        c->bits = (int)b;
    }
    return true;
}

static void load_nets(void)
{
    const char *s = g_config.http_allow_networks ? g_config.http_allow_networks : "";
    char **w;
    size_t *wl;
    int n, i;
    if (nets.text && strcmp(nets.text, s) == 0) return;
    free(nets.text);
    free(nets.v);
    nets.text = xstrdup(s);
    nets.v = NULL;
    nets.n = 0;
    n = util_split_args(s, strlen(s), &w, &wl);
    if (n <= 0) return;
    nets.v = xcalloc((size_t)n, sizeof(*nets.v));
    for (i = 0; i < n; i++)
        if (parse_cidr(w[i], &nets.v[nets.n])) nets.n++;
    util_free_words(w, wl, n);
}

/* Is the http-allow-networks value well formed? (its config check) */
static bool networks_valid(const char *s)
{
    char **w;
    size_t *wl;
    int n, i;
    bool ok = true;
    struct cidr c;
    n = util_split_args(s, strlen(s), &w, &wl);
    if (n < 0) return false;
    for (i = 0; i < n; i++)
        if (!parse_cidr(w[i], &c)) ok = false;
    util_free_words(w, wl, n);
    return ok;
}

static bool prefix_match(const unsigned char *a, const unsigned char *b, int bits)
{
    int full = bits / 8, rest = bits % 8;
    if (memcmp(a, b, (size_t)full) != 0) return false;
    if (rest) {
        unsigned char mask = (unsigned char)(0xff << (8 - rest));
        if ((a[full] & mask) != (b[full] & mask)) return false;
    }
    return true;
}

bool http_network_allowed(const struct sockaddr *sa)
{
    unsigned char a4[4], a6[16];
    int i;
    bool v4 = false, v6 = false;
    load_nets();
    if (sa->sa_family == AF_INET) {
        memcpy(a4, &((const struct sockaddr_in *)sa)->sin_addr, 4);
        v4 = true;
    } else if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;
        memcpy(a6, &s6->sin6_addr, 16);
        v6 = true;
        /* An IPv4-mapped address also matches IPv4 networks. */
        if (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr)) {
            memcpy(a4, a6 + 12, 4);
            v4 = true;
        }
    } else {
        return true; /* unix sockets: local */
    }
    for (i = 0; i < nets.n; i++) {
        const struct cidr *c = &nets.v[i];
        if (c->family == AF_INET && v4 && prefix_match(a4, c->addr, c->bits)) return true;
        if (c->family == AF_INET6 && v6 && prefix_match(a6, c->addr, c->bits)) return true;
    }
    return false;
}

static bool secret_eq(const char *a, size_t an, const char *b, size_t bn)
{
    unsigned char d = an != bn;
    size_t i, n = an < bn ? an : bn;
    for (i = 0; i < n; i++)
        d |= (unsigned char)(a[i] ^ b[i]);
    return d == 0;
}

static int b64val(char c)
{
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+' || c == '-') return 62;
    if (c == '/' || c == '_') return 63;
    return -1;
}

/* Decode base64 into out (n*3/4 bytes at most); -1 on bad input. */
static long b64decode(const char *p, size_t n, char *out)
{
    size_t i, o = 0;
    unsigned v = 0;
    int bits = 0;
    for (i = 0; i < n; i++) {
        int x;
        if (p[i] == '=') break;
        x = b64val(p[i]);
        if (x < 0) return -1;
        v = (v << 6) | (unsigned)x;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (char)((v >> bits) & 0xff);
        }
    }
    return (long)o;
}

/* Does the request present the secret pw (as ?token=/?_token=, Bearer,
 * or Basic "<any user>:<pw>")? */
static bool presents(const struct http_request *req, const char *token, size_t token_len,
                     const char *pw)
{
    size_t pwl = strlen(pw);
    const struct http_header *h;
    if (token) {
        char *dec = xmalloc(token_len + 1);
        size_t dl = http_urldecode(token, token_len, dec);
        bool ok = secret_eq(dec, dl, pw, pwl);
        free(dec);
        if (ok) return true;
    }
    h = http_header(req, "authorization");
    if (!h) return false;
    if (h->vlen > 7 && util_eqci(h->value, 7, "bearer "))
        return secret_eq(h->value + 7, h->vlen - 7, pw, pwl);
    if (h->vlen > 6 && util_eqci(h->value, 6, "basic ")) {
        char *dec = xmalloc(h->vlen);
        long dl = b64decode(h->value + 6, h->vlen - 6, dec);
        bool ok = false;
        if (dl > 0) {
            const char *colon = memchr(dec, ':', (size_t)dl);
            if (colon) ok = secret_eq(colon + 1, (size_t)(dec + dl - colon - 1), pw, pwl);
        }
        free(dec);
        return ok;
    }
    return false;
}

/* Whether a Bearer / ?token= value is one of http-tokens' ("<token> <user>
 * ..." pairs), and its user (NULL: no such user). Every token is compared,
 * in constant time. */
static bool token_user(const char *t, size_t n, struct acl_user **user)
{
    const char *s = g_config.http_tokens ? g_config.http_tokens : "";
    bool found = false;
    char **w;
    size_t *wl;
    int nw = util_split_args(s, strlen(s), &w, &wl), i;
    *user = NULL;
    for (i = 0; i + 1 < nw; i += 2)
        if (secret_eq(t, n, w[i], wl[i]) && !found) {
            found = true;
            *user = acl_find(w[i + 1], wl[i + 1]);
        }
    if (nw > 0) util_free_words(w, wl, nw);
    return found;
}

/* A bearer secret: a mapped token runs as its user (refused if that user
 * does not exist or is off), anything else is tried as the default user's
 * password. */
static bool bearer(struct client *c, const char *t, size_t n)
{
    struct acl_user *u;
    if (token_user(t, n, &u)) {
        if (!u || !u->on) return false;
        c->user = u;
        return true;
    }
    return acl_authenticate(c, "default", 7, t, n);
}

bool http_authorized(struct client *c, const struct http_request *req, const char *token,
                     size_t token_len)
{
    const struct http_header *h = http_header(req, "authorization");
    c->user = NULL;
    /* under webdis.json rules with http_basic_auth, Basic selects rules
     * (webdis_conf.c), it is not a Keel user's password */
    if (h && h->vlen > 6 && util_eqci(h->value, 6, "basic ") && webdis_acl_uses_basic()) h = NULL;
    if (h && h->vlen > 6 && util_eqci(h->value, 6, "basic ")) {
        char *dec = xmalloc(h->vlen);
        long dl = b64decode(h->value + 6, h->vlen - 6, dec);
        bool ok = false;
        if (dl > 0) {
            const char *colon = memchr(dec, ':', (size_t)dl);
            if (colon)
                ok = acl_authenticate(c, dec, (size_t)(colon - dec), colon + 1,
                                      (size_t)(dec + dl - colon - 1));
        }
        free(dec);
        return ok;
    }
    if (h && h->vlen > 7 && util_eqci(h->value, 7, "bearer "))
        return bearer(c, h->value + 7, h->vlen - 7);
    if (token) {
        char *dec = xmalloc(token_len + 1);
        size_t dl = http_urldecode(token, token_len, dec);
        bool ok = bearer(c, dec, dl);
        free(dec);
        return ok;
    }
    return acl_default_authenticates();
}

bool http_readonly_refused(const struct argv_ref *argv, int argc)
{
    struct command *cmd = argc > 0 ? registry_lookup(argv[0].p, argv[0].n) : NULL;
    if (!cmd) return false; /* unknown: the kernel's own error */
    if (cmd->nsub > 0 && argc > 1) {
        struct command *sub = registry_lookup_sub(cmd, argv[1].p, argv[1].n);
        if (sub) cmd = sub;
    }
    return !(cmd->flags & CMD_READONLY);
}

void http_readonly_text(char *buf, size_t len, const struct argv_ref *argv, int argc)
{
    struct command *cmd = argc > 0 ? registry_lookup(argv[0].p, argv[0].n) : NULL;
    const char *name = cmd ? cmd->name : "";
    if (cmd && cmd->nsub > 0 && argc > 1) {
        struct command *sub = registry_lookup_sub(cmd, argv[1].p, argv[1].n);
        if (sub) name = sub->fullname;
    }
    snprintf(buf, len, "NOPERM this user has no permissions to run the '%s' command", name);
}

enum http_auth http_authorize(struct client *c, const struct http_request *req, const char *token,
                              size_t token_len)
{
    const char *ro = g_config.http_readonly_token;
    if (ro && ro[0] && presents(req, token, token_len, ro)) {
        c->user = NULL; /* the default user, held to readonly commands */
        return HTTP_AUTH_READONLY;
    }
    return http_authorized(c, req, token, token_len) ? HTTP_AUTH_FULL : HTTP_AUTH_NONE;
}

bool http_may_read_stats(struct client *c)
{
    static const struct command *info;
    struct argv_ref argv[1] = {{"INFO", 4}};
    int pos = 0;
    if (!info) info = registry_lookup("info", 4);
    return info && acl_check_cmd(acl_client_user(c), info, 1, argv, &pos) == ACL_OK;
}

/* Is `w` one of the space-separated words of list (case-insensitive)? */
static bool in_list(const char *list, const char *w, size_t n, bool nocase)
{
    const char *s = list;
    if (!s) return false;
    while (*s) {
        size_t l;
        while (*s == ' ' || *s == '\t' || *s == ',')
            s++;
        l = strcspn(s, " \t,");
        if (l == 0) break;
        if (l == n && (nocase ? strncasecmp(s, w, n) == 0 : memcmp(s, w, n) == 0)) return true;
        s += l;
    }
    return false;
}

bool http_origin_allowed(const char *origin, size_t n)
{
    const char *l = g_config.http_allowed_origins;
    if (!l) return false;
    if (in_list(l, "*", 1, false)) return true;
    return in_list(l, origin, n, true);
}

/* The disabled list, split once per change of its text. */
static struct {
    char *text;
    char **w;
    size_t *wl;
    int n;
    unsigned long version;
    uint64_t lenmask; /* bit l set: some word has length l (l < 64) */
} disabled;

bool http_command_disabled(const char *name, size_t n)
{
    const char *s = g_config.http_disabled_commands ? g_config.http_disabled_commands : "";
    int i;
    if (n == 0) return false;
    if (disabled.version != g_config_version && (!disabled.text || strcmp(disabled.text, s) != 0)) {
        if (disabled.n > 0) util_free_words(disabled.w, disabled.wl, disabled.n);
        free(disabled.text);
        disabled.text = xstrdup(s);
        disabled.n = util_split_args(s, strlen(s), &disabled.w, &disabled.wl);
        if (disabled.n < 0) disabled.n = 0;
        disabled.lenmask = 0;
        for (i = 0; i < disabled.n; i++)
            disabled.lenmask |= disabled.wl[i] < 64 ? 1ULL << disabled.wl[i] : 1ULL << 63;
    }
    disabled.version = g_config_version;
    /* Most command names have no disabled word of their length. */
    if (!(disabled.lenmask & (n < 64 ? 1ULL << n : 1ULL << 63))) return false;
    for (i = 0; i < disabled.n; i++)
        if (disabled.wl[i] == n && strncasecmp(disabled.w[i], name, n) == 0) return true;
    return false;
}

bool http_command_refused(const char *name, size_t n, const char *addr, const char *auth,
                          size_t authlen)
{
    return http_command_disabled(name, n) || !webdis_acl_allows(name, n, addr, auth, authlen);
}

static const char *check_networks(const char *value)
{
    return networks_valid(value) ? NULL : "Invalid network (expected address/bits)";
}

void http_access_register_config(void)
{
    config_register_check("http-allow-networks", check_networks);
    config_register_json_loader(webdis_conf_load); /* webdis.json as the config file */
}

void http_disabled_text(char *buf, size_t len, const char *name, size_t n)
{
    snprintf(buf, len, "command '%.*s' is disabled over HTTP and WebSocket", (int)(n > 64 ? 64 : n),
             name);
}

void http_refuse_disabled(struct client *c, struct reply *r, const char *name, size_t n)
{
    char why[160];
    http_disabled_text(why, sizeof(why), name, n);
    reply_errorf(r, "ERR %s", why);
    if (c->flags & CF_MULTI) c->flags |= CF_DIRTY_EXEC;
}
