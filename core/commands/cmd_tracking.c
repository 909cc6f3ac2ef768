/* cmd_tracking.c — the client-side caching subcommands of CLIENT:
 * TRACKING, CACHING, GETREDIR, TRACKINGINFO, with Redis 7.0's checks in
 * Redis's order. The tracking machinery is core/events/tracking.c. */
#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "commands_gen.h"
#include "kernel.h"
#include "tracking.h"
#include "util.h"

/* Redis's stringCheckPrefix: one is a prefix of the other. */
static bool overlap(const char *a, size_t an, const char *b, size_t bn)
{
    return memcmp(a, b, an < bn ? an : bn) == 0;
}

/* Redis's errors print prefixes with %s: they stop at a NUL byte. */
static size_t cstr_len(const char *p, size_t n)
{
    const char *z = memchr(p, 0, n);
    return z ? (size_t)(z - p) : n;
}

/* Redis's checkPrefixCollisionsOrReply, including its quirk: a collision
 * between two new prefixes found after the first one is reported, and
 * tracking is still enabled (the command then also answers OK). Returns
 * false when the command must stop. */
static bool check_prefixes(struct exec *x, const char *const *p, const size_t *n, size_t np)
{
    struct client *c = x->c;
    size_t i, j, k, nold = (c->flags & CF_TRACKING) ? tracking_prefix_count(c) : 0;
    for (i = 0; i < np; i++) {
        for (k = 0; k < nold; k++) {
            size_t olen;
            const char *old = tracking_prefix(c, k, &olen);
            if (overlap(old, olen, p[i], n[i])) {
                reply_errorf(x->r,
                             "ERR Prefix '%.*s' overlaps with an existing prefix '%.*s'. "
                             "Prefixes for a single client must not overlap.",
                             (int)cstr_len(p[i], n[i]), p[i], (int)cstr_len(old, olen), old);
                return false;
            }
        }
        for (j = i + 1; j < np; j++) {
            if (overlap(p[i], n[i], p[j], n[j])) {
                reply_errorf(x->r,
                             "ERR Prefix '%.*s' overlaps with another provided prefix '%.*s'. "
                             "Prefixes for a single client must not overlap.",
                             (int)cstr_len(p[i], n[i]), p[i], (int)cstr_len(p[j], n[j]), p[j]);
                return i != 0;
            }
        }
    }
    return true;
}

/* CLIENT TRACKING <ON | OFF> [REDIRECT client-id] [PREFIX prefix [PREFIX prefix ...]] [BCAST]
 *     [OPTIN] [OPTOUT] [NOLOOP] */
void cmd_client_tracking(struct exec *x)
{
    struct client *c = x->c;
    const struct argval *pa = ARG(x, A_CLIENT_TRACKING_prefix);
    unsigned options = 0, cur = tracking_flags(c);
    long long redir = 0;
    const char *pstack[8], **p = pstack;
    size_t nstack[8], *n = nstack, np = 0, i;
    bool on;

    /* Redis's loop checks REDIRECT's client as it meets it: REDIRECT is
     * keel_defer (errors after it wait for this check) and keel_once (a
     * second one is "can only redirect to a single other client"); ON|OFF
     * is read after the options (keel_deferred_error). */
    if (HAS(x, A_CLIENT_TRACKING_client_id)) {
        redir = ARGI(x, A_CLIENT_TRACKING_client_id);
        if (redir <= 0 || !client_by_id((uint64_t)redir)) {
            reply_error(x->r, "ERR The client ID you want redirect to does not exist");
            return;
        }
    }
    if (!arg_ok(x, A_CLIENT_TRACKING_deferred) || !arg_ok(x, A_CLIENT_TRACKING_status)) return;
    on = ARG(x, A_CLIENT_TRACKING_status)->choice == 0;
    if (HAS(x, A_CLIENT_TRACKING_bcast)) options |= TRK_BCAST;
    if (HAS(x, A_CLIENT_TRACKING_optin)) options |= TRK_OPTIN;
    if (HAS(x, A_CLIENT_TRACKING_optout)) options |= TRK_OPTOUT;
    if (HAS(x, A_CLIENT_TRACKING_noloop)) options |= TRK_NOLOOP;

    if (!on) {
        tracking_disable(c);
        reply_ok(x->r);
        return;
    }
    if (pa->present && pa->count > 0) {
        np = (size_t)pa->count;
        if (np > 8) {
            p = xmalloc(np * sizeof(*p));
            n = xmalloc(np * sizeof(*n));
        }
        for (i = 0; i < np; i++) {
            const struct argv_ref *w = &x->argv[pa->list[i]];
            p[i] = w->p;
            n[i] = w->n;
        }
    }
    if (!(options & TRK_BCAST) && np) {
        reply_error(x->r, "ERR PREFIX option requires BCAST mode to be enabled");
        goto done;
    }
    if ((c->flags & CF_TRACKING) && !(cur & TRK_BCAST) != !(options & TRK_BCAST)) {
        reply_error(x->r, "ERR You can't switch BCAST mode on/off before disabling tracking for "
                          "this client, and then re-enabling it with a different mode.");
        goto done;
    }
    if ((options & TRK_BCAST) && (options & (TRK_OPTIN | TRK_OPTOUT))) {
        reply_error(x->r, "ERR OPTIN and OPTOUT are not compatible with BCAST");
        goto done;
    }
    if ((options & TRK_OPTIN) && (options & TRK_OPTOUT)) {
        reply_error(x->r, "ERR You can't specify both OPTIN mode and OPTOUT mode");
        goto done;
    }
    if (((options & TRK_OPTIN) && (cur & TRK_OPTOUT)) ||
        ((options & TRK_OPTOUT) && (cur & TRK_OPTIN))) {
        reply_error(x->r, "ERR You can't switch OPTIN/OPTOUT mode before disabling tracking for "
                          "this client, and then re-enabling it with a different mode.");
        goto done;
    }
    if ((options & TRK_BCAST) && !check_prefixes(x, p, n, np)) goto done;
    tracking_enable(c, (uint64_t)redir, options, p, n, np);
    reply_ok(x->r);
done:
    if (p != pstack) {
        free(p);
        free(n);
    }
}

/* CLIENT CACHING <YES | NO> */
void cmd_client_caching(struct exec *x)
{
    unsigned f = tracking_flags(x->c);
    bool yes = ARG(x, A_CLIENT_CACHING_mode)->choice == 0;
    if (!(x->c->flags & CF_TRACKING)) {
        reply_error(x->r, "ERR CLIENT CACHING can be called only when the client is in tracking "
                          "mode with OPTIN or OPTOUT mode enabled");
        return;
    }
    if (!arg_ok(x, A_CLIENT_CACHING_mode)) return; /* neither YES nor NO: after the mode check */
    if (yes && !(f & TRK_OPTIN)) {
        reply_error(x->r,
                    "ERR CLIENT CACHING YES is only valid when tracking is enabled in OPTIN mode.");
        return;
    }
    if (!yes && !(f & TRK_OPTOUT)) {
        reply_error(x->r,
                    "ERR CLIENT CACHING NO is only valid when tracking is enabled in OPTOUT mode.");
        return;
    }
    tracking_set_caching(x->c);
    reply_ok(x->r);
}

/* CLIENT GETREDIR */
void cmd_client_getredir(struct exec *x)
{
    reply_int(x->r, tracking_redirect(x->c));
}

/* CLIENT TRACKINGINFO */
void cmd_client_trackinginfo(struct exec *x)
{
    struct client *c = x->c;
    unsigned f = tracking_flags(c);
    bool on = (c->flags & CF_TRACKING) != 0;
    int nflags = 1;
    size_t i, np = on ? tracking_prefix_count(c) : 0;

    if (f & TRK_BCAST) nflags++;
    if (f & TRK_OPTIN) nflags += (f & TRK_CACHING) ? 2 : 1;
    if (f & TRK_OPTOUT) nflags += (f & TRK_CACHING) ? 2 : 1;
    if (f & TRK_NOLOOP) nflags++;
    if (f & TRK_BROKEN_REDIR) nflags++;

    reply_map(x->r, 3);
    reply_cstr(x->r, "flags");
    reply_set(x->r, nflags);
    reply_cstr(x->r, on ? "on" : "off");
    if (f & TRK_BCAST) reply_cstr(x->r, "bcast");
    if (f & TRK_OPTIN) {
        reply_cstr(x->r, "optin");
        if (f & TRK_CACHING) reply_cstr(x->r, "caching-yes");
    }
    if (f & TRK_OPTOUT) {
        reply_cstr(x->r, "optout");
        if (f & TRK_CACHING) reply_cstr(x->r, "caching-no");
    }
    if (f & TRK_NOLOOP) reply_cstr(x->r, "noloop");
    if (f & TRK_BROKEN_REDIR) reply_cstr(x->r, "broken_redirect");
    reply_cstr(x->r, "redirect");
    reply_int(x->r, tracking_redirect(c));
    reply_cstr(x->r, "prefixes");
    reply_array(x->r, (long long)np);
    for (i = 0; i < np; i++) {
        size_t len;
        const char *p = tracking_prefix(c, i, &len);
        reply_bulk(x->r, p, len);
    }
}
