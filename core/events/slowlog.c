/* slowlog.c — owns the slow log (slowlog.h): a list of entries, newest
 * first, trimmed to slowlog-max-len. The kernel calls slowlog_after_command
 * after each command through its `ran` hook (wired in core_init.c). Entries
 * are built as Redis 7.0's slowlogCreateEntry does: at most 32 arguments
 * (the last one says how many more there were), each cut at 128 bytes. */
#include "slowlog.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "blocking.h"
#include "client.h"
#include "config.h"
#include "registry.h"

#define SLOWLOG_ENTRY_MAX_ARGC 32
#define SLOWLOG_ENTRY_MAX_STRING 128

static struct slowlog_entry *head;
static long long count;
static long long next_id;

const struct slowlog_entry *slowlog_first(void)
{
    return head;
}

long long slowlog_len(void)
{
    return count;
}

static void free_entry(struct slowlog_entry *e)
{
    int j;
    for (j = 0; j < e->argc; j++)
        free(e->argv[j]);
    free(e->argv);
    free(e->argvlen);
    free(e->addr);
    free(e->name);
    free(e);
}

static char *xdup(const char *p, size_t n)
{
    char *s = malloc(n + 1);
    if (!s) abort();
    memcpy(s, p, n);
    s[n] = 0;
    return s;
}

/* Keep at most max entries (drop the oldest). */
static void trim(long long max)
{
    struct slowlog_entry **pp = &head, *e;
    long long i = 0;
    if (count <= max) return;
    while (*pp && i < max) {
        pp = &(*pp)->next;
        i++;
    }
    e = *pp;
    *pp = NULL;
    while (e) {
        struct slowlog_entry *n = e->next;
        free_entry(e);
        count--;
        e = n;
    }
}

void slowlog_reset(void)
{
    trim(0);
}

static bool word_is(const struct argv_ref *w, const char *s)
{
    return w->n == strlen(s) && !strncasecmp(w->p, s, w->n);
}

/* Arguments Redis 7.0 redacts before logging: AUTH's, ACL SETUSER's, HELLO's AUTH pair
 * (found the way HELLO parses its options), MIGRATE's AUTH / AUTH2 words
 * (as its option loop meets them), and the values CONFIG SET gives to its
 * sensitive configs (requirepass, masterauth, masteruser). MONITOR redacts the same. */
bool slowlog_arg_redacted(struct exec *x, int j)
{
    const char *name = x->cmd->fullname;
    int k;
    if (!strcmp(name, "auth")) return j >= 1;
    if (!strcmp(name, "acl|setuser")) return j >= 2; /* the user and every rule */
    if (!strcmp(name, "config|set"))
        return j >= 3 && (j - 3) % 2 == 0 &&
               (word_is(&x->argv[j - 1], "requirepass") || word_is(&x->argv[j - 1], "masterauth") ||
                word_is(&x->argv[j - 1], "masteruser"));
    if (!strcmp(name, "migrate")) {
        for (k = 6; k < x->argc; k++) {
            int more = x->argc - 1 - k;
            if (word_is(&x->argv[k], "copy") || word_is(&x->argv[k], "replace")) continue;
            if (word_is(&x->argv[k], "auth") && more >= 1) {
                if (j == k + 1) return true;
                k += 1;
            } else if (word_is(&x->argv[k], "auth2") && more >= 2) {
                if (j == k + 1 || j == k + 2) return true;
                k += 2;
            } else {
                break; /* KEYS (the rest are keys) or a syntax error */
            }
        }
        return false;
    }
    if (strcmp(name, "hello") != 0) return false;
    for (k = 2; k < x->argc; k++) {
        int more = x->argc - 1 - k;
        if (word_is(&x->argv[k], "auth") && more >= 2) {
            if (j == k + 1 || j == k + 2) return true;
            k += 2;
        } else if (word_is(&x->argv[k], "setname") && more >= 1) {
            k++;
        } else {
            break;
        }
    }
    return false;
}

static struct slowlog_entry *create_entry(struct exec *x, long long usec)
{
    struct slowlog_entry *e = calloc(1, sizeof(*e));
    struct client *c = x->c;
    char addr[128] = "", laddr[128] = "";
    int fd = -1, argc = x->argc, slargc = argc, j;
    if (!e) abort();
    if (slargc > SLOWLOG_ENTRY_MAX_ARGC) slargc = SLOWLOG_ENTRY_MAX_ARGC;
    e->argc = slargc;
    /* No arguments: a command ended by CLIENT UNBLOCK (Redis 7.0 logs it
     * with an empty command line). */
    e->argv = calloc(slargc ? (size_t)slargc : 1, sizeof(char *));
    e->argvlen = calloc(slargc ? (size_t)slargc : 1, sizeof(size_t));
    if (!e->argv || !e->argvlen) abort();
    for (j = 0; j < slargc; j++) {
        char buf[SLOWLOG_ENTRY_MAX_STRING + 64];
        const char *p = x->argv[j].p;
        size_t n = x->argv[j].n;
        if (slargc != argc && j == slargc - 1) {
            n = (size_t)snprintf(buf, sizeof(buf), "... (%d more arguments)", argc - slargc + 1);
            p = buf;
        } else if (slowlog_arg_redacted(x, j)) {
            p = "(redacted)";
            n = strlen(p);
        } else if (n > SLOWLOG_ENTRY_MAX_STRING) {
            int k;
            memcpy(buf, p, SLOWLOG_ENTRY_MAX_STRING);
            k = snprintf(buf + SLOWLOG_ENTRY_MAX_STRING, sizeof(buf) - SLOWLOG_ENTRY_MAX_STRING,
                         "... (%lu more bytes)", (unsigned long)(n - SLOWLOG_ENTRY_MAX_STRING));
            n = SLOWLOG_ENTRY_MAX_STRING + (size_t)k;
            p = buf;
        }
        e->argv[j] = xdup(p, n);
        e->argvlen[j] = n;
    }
    if (c->adapter && c->adapter->describe)
        c->adapter->describe(c, addr, sizeof(addr), laddr, sizeof(laddr), &fd);
    e->addr = xdup(addr, strlen(addr));
    e->name = xdup(c->name ? c->name : "", c->name ? strlen(c->name) : 0);
    e->time = (long long)time(NULL);
    e->duration = usec;
    e->id = next_id++;
    return e;
}

void slowlog_after_command(struct exec *x, long long usec)
{
    if (x->cmd->flags & CMD_SKIP_SLOWLOG) return;
    /* A blocked command is logged when it is served (it runs again); a
     * WAIT that waited is not logged, as in Redis 7.0. */
    if (x->parked || blocking_still_waiting(x)) return;
    if (g_config.slowlog_log_slower_than < 0) return;
    if (usec >= g_config.slowlog_log_slower_than) {
        struct slowlog_entry *e = create_entry(x, usec);
        e->next = head;
        head = e;
        count++;
    }
    trim(g_config.slowlog_max_len);
}
