/* client_limits.c — client-output-buffer-limit (client_limits.h): the
 * config value in Redis's syntax, and the hard/soft limit check for a
 * client's pending output (pub/sub clients by the pubsub class). */
#include "client_limits.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "client_info.h"
#include "config.h"
#include "log.h"
#include "util.h"

#define OBUF_DEFAULT "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60"

struct obuf_limit g_obuf_limits[OBUF_NCLASSES] = {
    {0, 0, 0},
    {256ULL * 1024 * 1024, 64ULL * 1024 * 1024, 60},
    {32ULL * 1024 * 1024, 8ULL * 1024 * 1024, 60},
};
char *g_obuf_limit_text;

/* A memory value (config_parse_memory) from a word of the value's text. */
static bool memory_word(const char *p, size_t n, unsigned long long *out)
{
    char buf[128];
    if (n >= sizeof(buf)) return false;
    memcpy(buf, p, n);
    buf[n] = 0;
    return config_parse_memory(buf, out);
}

static int class_by_name(const char *p, size_t n)
{
    if (n == 6 && !strncasecmp(p, "normal", 6)) return OBUF_NORMAL;
    if (n == 5 && !strncasecmp(p, "slave", 5)) return OBUF_REPLICA;
    if (n == 7 && !strncasecmp(p, "replica", 7)) return OBUF_REPLICA;
    if (n == 6 && !strncasecmp(p, "pubsub", 6)) return OBUF_PUBSUB;
    return -1; /* includes "master", which has no limits */
}

static void obuf_limit_format(void)
{
    static const char *const names[OBUF_NCLASSES] = {"normal", "slave", "pubsub"};
    char buf[512];
    size_t off = 0;
    int i;
    for (i = 0; i < OBUF_NCLASSES; i++)
        off += (size_t)snprintf(buf + off, sizeof(buf) - off, "%s%s %llu %llu %lld", i ? " " : "",
                                names[i], g_obuf_limits[i].hard, g_obuf_limits[i].soft,
                                g_obuf_limits[i].soft_seconds);
    free(g_obuf_limit_text);
    g_obuf_limit_text = xstrdup(buf);
}

/* CONFIG SET client-output-buffer-limit "<class> <hard> <soft> <seconds> ...":
 * as Redis, the value is split on single spaces, every group is checked
 * before any is applied, and the classes not named keep their limits. */
const char *obuf_limit_config_set(const struct config_entry *e, const char *v)
{
    struct obuf_limit vals[OBUF_NCLASSES];
    bool set[OBUF_NCLASSES] = {false, false, false};
    const char *w[4];
    size_t wl[4];
    const char *p = v;
    int nw = 0, i;
    (void)e;
    memcpy(vals, g_obuf_limits, sizeof(vals));
    if (*v) {
        /* Count the words first: Redis refuses a count not a multiple of 4. */
        int total = 1;
        for (p = v; *p; p++)
            if (*p == ' ') total++;
        if (total % 4) return "Wrong number of arguments in buffer limit configuration.";
        p = v;
        while (1) {
            const char *sp = strchr(p, ' ');
            size_t n = sp ? (size_t)(sp - p) : strlen(p);
            w[nw] = p;
            wl[nw] = n;
            if (++nw == 4) {
                int cls = class_by_name(w[0], wl[0]);
                unsigned long long hard, soft;
                char num[64], *end;
                long long secs;
                if (cls < 0) return "Invalid client class specified in buffer limit configuration.";
                if (wl[3] >= sizeof(num))
                    return "Error in hard, soft or soft_seconds setting in buffer limit "
                           "configuration.";
                memcpy(num, w[3], wl[3]);
                num[wl[3]] = 0;
                /* strtoll into an int, as Redis: large values wrap. */
                secs = (int)strtoll(num, &end, 10);
                if (!memory_word(w[1], wl[1], &hard) || !memory_word(w[2], wl[2], &soft) ||
                    secs < 0 || *end)
                    return "Error in hard, soft or soft_seconds setting in buffer limit "
                           "configuration.";
                vals[cls].hard = hard;
                vals[cls].soft = soft;
                vals[cls].soft_seconds = secs;
                set[cls] = true;
                nw = 0;
            }
            if (!sp) break;
            p = sp + 1;
        }
    }
    for (i = 0; i < OBUF_NCLASSES; i++)
        if (set[i]) g_obuf_limits[i] = vals[i];
    obuf_limit_format();
    return NULL;
}

bool obuf_limit_reached(struct client *c, size_t pending, long long *soft_since_ms)
{
    /* Redis's getClientType for limits: replicas are "slave", subscribed
     * clients "pubsub". */
    const struct obuf_limit *l = &g_obuf_limits[(c->flags & CF_REPLICA) ? OBUF_REPLICA
                                                : c->nsubs > 0          ? OBUF_PUBSUB
                                                                        : OBUF_NORMAL];
    bool hard = l->hard && pending >= l->hard;
    bool soft = l->soft && pending >= l->soft;
    if (soft) {
        long long now = util_mstime();
        if (*soft_since_ms == 0) {
            *soft_since_ms = now;
            soft = false; /* the first time: start the clock */
        } else if ((now - *soft_since_ms) / 1000 <= l->soft_seconds) {
            soft = false; /* not for long enough yet */
        }
    } else {
        *soft_since_ms = 0;
    }
    if (hard || soft) {
        char info[1024];
        client_info_line(c, info, sizeof(info));
        log_warning("Client %s scheduled to be closed ASAP for overcoming of output buffer limits.",
                    info);
        return true;
    }
    return false;
}
