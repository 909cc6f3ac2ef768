/* fuzz_resp_parse.c — libFuzzer target for proto/resp_parse.c.
 *
 * Input: byte 0 picks the parser's configuration (authenticated or not,
 * small or default limits), bytes 1-2 a split point; the rest is a stream
 * of client bytes. The stream is parsed three ways — whole, split in two
 * at the chosen point, and one byte at a time — and each way must give the
 * same sequence of results (commands with identical argv, empties, the
 * same protocol error). Along the way: consumed <= available and > 0 for
 * every command, argc >= 1, every multibulk argv entry lies inside the
 * command's own bytes, and protocol errors carry Redis's prefix. Any
 * violation aborts (a crash for libFuzzer). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_util.h"

#include "resp_parse.h"

struct cfg {
    long long max_bulk, max_mbulk;
    bool authenticated;
};

static void init(struct resp_parser *p, const struct cfg *c)
{
    resp_parser_init(p, c->max_bulk, c->max_mbulk);
    p->authenticated = c->authenticated;
}

/* Check and record one non-MORE result. */
static void record(struct out *o, struct resp_parser *p, enum resp_result r, const char *buf,
                   size_t len, int argc, const struct argv_ref *argv, size_t used)
{
    unsigned char tag = (unsigned char)r;
    int i;
    put(o, &tag, 1);
    if (r == RESP_ERROR) {
        size_t n = strnlen(p->err, sizeof(p->err));
        CHECK(n < sizeof(p->err));
        CHECK(strncmp(p->err, "Protocol error: ", 16) == 0);
        put(o, p->err, n);
        return;
    }
    CHECK(r == RESP_CMD || r == RESP_EMPTY);
    CHECK(used > 0);
    CHECK(used <= len);
    put(o, &used, sizeof(used));
    if (r == RESP_EMPTY) return;
    CHECK(argc >= 1);
    CHECK(argv != NULL);
    put(o, &argc, sizeof(argc));
    for (i = 0; i < argc; i++) {
        CHECK(argv[i].p != NULL || argv[i].n == 0);
        if (buf[0] == '*') {
            CHECK(argv[i].p >= buf);
            CHECK(argv[i].n <= used);
            CHECK(argv[i].p + argv[i].n <= buf + used);
            CHECK((long long)argv[i].n <= p->max_bulk);
        }
        put(o, &argv[i].n, sizeof(argv[i].n));
        if (argv[i].n) {
            /* touch every byte (ASan checks the range) */
            put(o, argv[i].p, argv[i].n);
        }
    }
}

/* Parse [pos, len) from where the parser stands; returns the new position.
 * *stop is set on an error. */
static size_t drain(struct resp_parser *p, struct out *o, const char *buf, size_t pos, size_t len,
                    bool *stop)
{
    while (!*stop && pos < len) {
        int argc = 0;
        struct argv_ref *argv = NULL;
        size_t used = 0;
        enum resp_result r = resp_parse(p, buf + pos, len - pos, &argc, &argv, &used);
        if (r == RESP_MORE) break;
        record(o, p, r, buf + pos, len - pos, argc, argv, used);
        if (r == RESP_ERROR)
            *stop = true;
        else
            pos += used;
    }
    return pos;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const long long bulks[] = {512LL * 1024 * 1024, 16, 0, 1};
    static const long long mbulks[] = {1024 * 1024, 4, 1, 0};
    struct cfg c;
    struct out whole = {0}, split = {0}, trickle = {0};
    struct resp_parser p;
    const char *buf;
    size_t len, k, pos, have, step;
    bool stop;
    char *copy;

    if (size < 3) return 0;
    c.authenticated = !(data[0] & 1);
    c.max_bulk = bulks[(data[0] >> 1) & 3];
    c.max_mbulk = mbulks[(data[0] >> 3) & 3];
    k = (size_t)data[1] | (size_t)data[2] << 8;
    /* An exact-size heap copy, so ASan catches any read past the end. */
    len = size - 3;
    copy = malloc(len ? len : 1);
    CHECK(copy != NULL);
    memcpy(copy, data + 3, len);
    buf = copy;
    if (len)
        k %= len + 1;
    else
        k = 0;

    /* 1. whole */
    init(&p, &c);
    stop = false;
    drain(&p, &whole, buf, 0, len, &stop);
    resp_parser_free(&p);

    /* 2. the first k bytes, then everything */
    init(&p, &c);
    stop = false;
    pos = drain(&p, &split, buf, 0, k, &stop);
    drain(&p, &split, buf, pos, len, &stop);
    resp_parser_free(&p);

    /* 3. a few more bytes per call (one at a time for short inputs) */
    init(&p, &c);
    stop = false;
    pos = 0;
    step = 1 + len / 512;
    for (have = 1; !stop; have += step) {
        if (have > len) have = len;
        pos = drain(&p, &trickle, buf, pos, have, &stop);
        if (have == len) break;
    }
    resp_parser_free(&p);

    CHECK(whole.n == split.n && (whole.n == 0 || memcmp(whole.b, split.b, whole.n) == 0));
    CHECK(whole.n == trickle.n && (whole.n == 0 || memcmp(whole.b, trickle.b, whole.n) == 0));

    /* The hint never claims less than what was already parsed. */
    init(&p, &c);
    {
        int argc;
        struct argv_ref *argv;
        size_t used = 0;
        if (resp_parse(&p, buf, len, &argc, &argv, &used) == RESP_MORE) {
            size_t hint = resp_parse_hint(&p);
            CHECK(hint == 0 || hint > len);
        }
    }
    resp_parser_free(&p);

    free(whole.b);
    free(split.b);
    free(trickle.b);
    free(copy);
    return 0;
}
