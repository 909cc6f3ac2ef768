/* fuzz_ws_json.c — libFuzzer target for adapters/ws/ws_json.c, the
 * decoder of JSON-mode WebSocket requests.
 *
 * Input: one message. It is decoded with the fast scanner allowed and
 * with the general (jansson) decoder only. When the message is UTF-8 (the
 * connection lets no other through) both must agree on everything:
 * success, the error message, the id, the batch and atomic flags and every
 * argument's bytes — in particular, whatever the fast path accepts, the
 * general decoding gives the same argv. Along the way: a success has at
 * least one command of at least one argument, one command unless a batch,
 * atomic only with batch, argv inside the request's arena; the id lies
 * inside the message; a failure has a message. The commands decoded are
 * then written back as JSON (jansson) and decoded again (fast path
 * allowed): the same arguments must come back. A request struct reused
 * from earlier inputs must decode as a fresh one does. Any violation
 * aborts. */
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_util.h"

#include "json_reply.h" /* json_utf8_valid */
#include "ws_json.h"

/* The invariants of one decoding of msg. */
static void check_one(const struct ws_json_req *rq, bool ok, const char *msg, size_t len)
{
    int k, i;
    if (rq->id) CHECK(rq->id >= msg && rq->idlen >= 1 && rq->id + rq->idlen <= msg + len);
    if (!ok) {
        CHECK(rq->err[0] != 0);
        return;
    }
    CHECK(rq->cb.ncmd >= 1);
    CHECK(rq->batch || rq->cb.ncmd == 1);
    CHECK(!rq->atomic || rq->batch);
    for (k = 0; k < rq->cb.ncmd; k++) {
        CHECK(rq->cb.cmd_argc[k] >= 1);
        CHECK(rq->cb.cmd_start[k] + rq->cb.cmd_argc[k] <= rq->cb.argc);
        for (i = 0; i < rq->cb.cmd_argc[k]; i++) {
            const struct argv_ref *a = &rq->cb.argv[rq->cb.cmd_start[k] + i];
            CHECK(a->n == 0 || (a->p >= rq->cb.bytes && a->p + a->n <= rq->cb.bytes + rq->cb.blen));
        }
    }
}

/* Do a and b hold the same result? */
static bool same(const struct ws_json_req *a, bool oka, const struct ws_json_req *b, bool okb)
{
    int i;
    if (oka != okb) return false;
    if (!a->id != !b->id || a->idlen != b->idlen || (a->id && memcmp(a->id, b->id, a->idlen)))
        return false;
    if (!oka) return strcmp(a->err, b->err) == 0;
    if (a->batch != b->batch || a->atomic != b->atomic || a->cb.ncmd != b->cb.ncmd ||
        a->cb.argc != b->cb.argc)
        return false;
    for (i = 0; i < a->cb.ncmd; i++)
        if (a->cb.cmd_start[i] != b->cb.cmd_start[i] || a->cb.cmd_argc[i] != b->cb.cmd_argc[i])
            return false;
    for (i = 0; i < a->cb.argc; i++)
        if (a->cb.argv[i].n != b->cb.argv[i].n ||
            (a->cb.argv[i].n && memcmp(a->cb.argv[i].p, b->cb.argv[i].p, a->cb.argv[i].n)))
            return false;
    return true;
}

/* The commands of rq written back as JSON (a command or a batch of them,
 * every argument a string), decoded again: the same arguments. */
static void round_trip(const struct ws_json_req *rq)
{
    struct ws_json_req back = {0};
    json_t *root = json_array();
    char *text;
    bool ok;
    int k, i;
    for (k = 0; k < rq->cb.ncmd; k++) {
        json_t *cmd = rq->batch ? json_array() : root;
        for (i = 0; i < rq->cb.cmd_argc[k]; i++) {
            const struct argv_ref *a = &rq->cb.argv[rq->cb.cmd_start[k] + i];
            json_t *s = json_stringn(a->p, a->n);
            CHECK(s != NULL); /* the arguments of a UTF-8 message are UTF-8 */
            json_array_append_new(cmd, s);
        }
        if (rq->batch) json_array_append_new(root, cmd);
    }
    text = json_dumps(root, JSON_COMPACT | JSON_ENCODE_ANY);
    CHECK(text != NULL);
    ok = ws_json_decode(&back, text, strlen(text), 0);
    CHECK(ok);
    CHECK(back.batch == rq->batch && !back.atomic && !back.id);
    CHECK(back.cb.ncmd == rq->cb.ncmd && back.cb.argc == rq->cb.argc);
    for (i = 0; i < rq->cb.argc; i++)
        CHECK(back.cb.argv[i].n == rq->cb.argv[i].n &&
              (back.cb.argv[i].n == 0 ||
               memcmp(back.cb.argv[i].p, rq->cb.argv[i].p, back.cb.argv[i].n) == 0));
    free(text);
    json_decref(root);
    ws_json_req_free(&back);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct ws_json_req reused; /* decodes input after input */
    struct ws_json_req fast = {0}, general = {0};
    /* An exact-size copy: reading past the message shows up in ASan. */
    char *msg = malloc(size ? size : 1);
    bool okf, okg, okr;
    CHECK(msg != NULL);
    if (size) memcpy(msg, data, size);
    okf = ws_json_decode(&fast, msg, size, 0);
    okg = ws_json_decode(&general, msg, size, WS_JSON_NO_FAST);
    okr = ws_json_decode(&reused, msg, size, 0);
    check_one(&fast, okf, msg, size);
    check_one(&general, okg, msg, size);
    CHECK(!general.fast);
    CHECK(same(&fast, okf, &reused, okr) && fast.fast == reused.fast);
    if (json_utf8_valid(msg, size)) {
        CHECK(same(&fast, okf, &general, okg));
        if (okf) round_trip(&fast);
    }
    ws_json_req_free(&fast);
    ws_json_req_free(&general);
    free(msg);
    return 0;
}
