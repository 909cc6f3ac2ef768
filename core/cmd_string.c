/* cmd_string.c — the string group: GET SET and friends. Values are
 * `struct kv` strings (core/object.h); every mutation goes through the store. */
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../config/config.h"
#include "commands_gen.h"
#include "kernel.h"
#include "store.h"
#include "util.h"

/* Reply with e's string value. */
static void reply_string(struct reply *r, struct kv *e)
{
    struct strview sv;
    kv_string_view(e, &sv);
    reply_bulk(r, sv.p, sv.n);
}

/* GET key */
void cmd_get(struct exec *x)
{
    struct kv *e = store_lookup_read(x->db, ARGP(x, A_GET_key), ARGN(x, A_GET_key));
    if (!e) {
        reply_null(x->r);
        return;
    }
    if (e->type != OBJ_STRING) {
        reply_err(x->r, E_WRONGTYPE);
        return;
    }
    reply_string(x->r, e);
}

/* SET key value [NX | XX] [GET] [EX seconds | PX milliseconds |
 *     EXAT unix-time-seconds | PXAT unix-time-milliseconds | KEEPTTL] */
void cmd_set(struct exec *x)
{
    const char *key = ARGP(x, A_SET_key), *val = ARGP(x, A_SET_value);
    size_t klen = ARGN(x, A_SET_key), vlen = ARGN(x, A_SET_value);
    bool nx = HAS(x, A_SET_condition_nx) && ARG(x, A_SET_condition)->choice == 0;
    bool xx = HAS(x, A_SET_condition) && ARG(x, A_SET_condition)->choice == 1;
    bool get = HAS(x, A_SET_get);
    struct argval *exp = ARG(x, A_SET_expiration);
    long long when = -1;
    struct kv *old, *e;

    if (exp->present && exp->choice != 4) {
        static const int slots[] = {A_SET_expiration_seconds, A_SET_expiration_milliseconds,
                                    A_SET_expiration_unix_time_seconds,
                                    A_SET_expiration_unix_time_milliseconds};
        long long v = ARGI(x, slots[exp->choice]);
        bool secs = exp->choice == 0 || exp->choice == 2;
        if (v <= 0 || (secs && v > LLONG_MAX / 1000)) {
            reply_errorf(x->r, "ERR invalid expire time in '%s' command", "set");
            return;
        }
        if (secs) v *= 1000;
        if (exp->choice <= 1) {
            long long now = util_mstime();
            if (v > LLONG_MAX - now) {
                reply_errorf(x->r, "ERR invalid expire time in '%s' command", "set");
                return;
            }
            v += now;
        }
        when = v;
    }
    old = store_lookup_write(x->db, key, klen);
    if (get) {
        if (old && old->type != OBJ_STRING) {
            reply_err(x->r, E_WRONGTYPE);
            return;
        }
        if (old) reply_string(x->r, old);
        else reply_null(x->r);
    }
    if ((nx && old) || (xx && !old)) {
        if (!get) reply_null(x->r);
        return;
    }
    e = kv_new_string(key, klen, val, vlen, true);
    e = store_set(x->db, e, exp->present && exp->choice == 4, "set", NOTIFY_STRING);
    if (when != -1) store_set_expire(x->db, e, when, "expire");
    if (!get) reply_ok(x->r);
}
