/* notify.c — keyspace notifications: the store-event observer that
 * publishes `__keyspace@<db>__:<key>` (message: the event name) and
 * `__keyevent@<db>__:<event>` (message: the key) for the classes enabled by
 * `notify-keyspace-events`, whose parsing and normalised text are Redis's. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pubsub.h"
#include "store.h"
#include "util.h"

/* Redis's NOTIFY_ALL: every class letter 'A' stands for (not m, not n). */
#define NOTIFY_ALL                                                                                 \
    (NOTIFY_GENERIC | NOTIFY_STRING | NOTIFY_LIST | NOTIFY_SET | NOTIFY_HASH | NOTIFY_ZSET |       \
     NOTIFY_EXPIRED | NOTIFY_EVICTED | NOTIFY_STREAM | NOTIFY_MODULE)

static int notify_flags;
char *g_notify_keyspace_events;

static int flags_from_string(const char *s)
{
    int flags = 0;
    for (; *s; s++) {
        switch (*s) {
        case 'A':
            flags |= NOTIFY_ALL;
            break;
        case 'g':
            flags |= NOTIFY_GENERIC;
            break;
        case '$':
            flags |= NOTIFY_STRING;
            break;
        case 'l':
            flags |= NOTIFY_LIST;
            break;
        case 's':
            flags |= NOTIFY_SET;
            break;
        case 'h':
            flags |= NOTIFY_HASH;
            break;
        case 'z':
            flags |= NOTIFY_ZSET;
            break;
        case 'x':
            flags |= NOTIFY_EXPIRED;
            break;
        case 'e':
            flags |= NOTIFY_EVICTED;
            break;
        case 'K':
            flags |= NOTIFY_KEYSPACE;
            break;
        case 'E':
            flags |= NOTIFY_KEYEVENT;
            break;
        case 't':
            flags |= NOTIFY_STREAM;
            break;
        case 'm':
            flags |= NOTIFY_KEY_MISS;
            break;
        case 'd':
            flags |= NOTIFY_MODULE;
            break;
        case 'n':
            flags |= NOTIFY_NEW;
            break;
        default:
            return -1;
        }
    }
    return flags;
}

/* Redis's keyspaceEventsFlagsToString: 'A' when all of it is on (which
 * hides 'n'), then K, E and m. */
static void flags_to_string(int flags, char *out)
{
    static const struct {
        int flag;
        char c;
    } order[] = {{NOTIFY_GENERIC, 'g'}, {NOTIFY_STRING, '$'},  {NOTIFY_LIST, 'l'},
                 {NOTIFY_SET, 's'},     {NOTIFY_HASH, 'h'},    {NOTIFY_ZSET, 'z'},
                 {NOTIFY_EXPIRED, 'x'}, {NOTIFY_EVICTED, 'e'}, {NOTIFY_STREAM, 't'},
                 {NOTIFY_MODULE, 'd'},  {NOTIFY_NEW, 'n'}};
    size_t i, n = 0;
    if ((flags & NOTIFY_ALL) == NOTIFY_ALL) {
        out[n++] = 'A';
    } else {
        for (i = 0; i < sizeof(order) / sizeof(order[0]); i++)
            if (flags & order[i].flag) out[n++] = order[i].c;
    }
    if (flags & NOTIFY_KEYSPACE) out[n++] = 'K';
    if (flags & NOTIFY_KEYEVENT) out[n++] = 'E';
    if (flags & NOTIFY_KEY_MISS) out[n++] = 'm';
    out[n] = 0;
}

const char *notify_config_set(const struct config_entry *e, const char *v)
{
    char text[32];
    int flags = flags_from_string(v);
    (void)e;
    if (flags < 0) return "Invalid event class character. Use 'Ag$lshzxeKEtmdn'.";
    notify_flags = flags;
    flags_to_string(flags, text);
    free(g_notify_keyspace_events);
    g_notify_keyspace_events = xstrdup(text);
    return NULL;
}

/* Publish on a channel built as prefix + "<db>__:" + suffix. */
static void publish_on(const char *prefix, size_t plen, int dbid, const char *suffix, size_t slen,
                       const char *msg, size_t mlen)
{
    char small[256], *ch = small;
    char num[24];
    int nlen = util_ll2str(num, dbid);
    size_t len = plen + (size_t)nlen + 3 + slen;
    if (len > sizeof(small)) ch = xmalloc(len);
    memcpy(ch, prefix, plen);
    memcpy(ch + plen, num, (size_t)nlen);
    memcpy(ch + plen + nlen, "__:", 3);
    memcpy(ch + plen + nlen + 3, suffix, slen);
    pubsub_publish(ch, len, msg, mlen);
    if (ch != small) free(ch);
}

void notify_observer(const struct store_event *ev, void *priv)
{
    size_t elen;
    (void)priv;
    /* An event nobody asked for costs this branch. Whole-database events
     * (flushdb, swapdb) are not notified, as in Redis. */
    if (!(notify_flags & ev->klass) || !ev->key || !ev->name) return;
    elen = strlen(ev->name);
    if (notify_flags & NOTIFY_KEYSPACE)
        publish_on("__keyspace@", 11, ev->db->id, ev->key, ev->klen, ev->name, elen);
    if (notify_flags & NOTIFY_KEYEVENT)
        publish_on("__keyevent@", 11, ev->db->id, ev->name, elen, ev->key, ev->klen);
}
