/* test_ws_frame.c — unit tests for adapters/ws/ws_frame.c, the WebSocket
 * frame reader: single and fragmented messages (the same events however
 * the bytes are split), control frames between fragments, 16- and 64-bit
 * lengths, close frames (codes valid and invalid, reasons), UTF-8 of text
 * messages across fragments and chunk boundaries (also against a
 * reference: the check ws_conn.c made before the split), the maximum message
 * size, the framing rules (masking, RSV bits, opcodes, fragment order,
 * control frames fragmented or too long, non-minimal lengths), nothing
 * read after a close or an error, discard mode; and the headers of a
 * server's frames. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_reply.h" /* json_utf8_valid, for the reference */
#include "ws_frame.h"
#include "unit.h"

/* ---- building frames ---- */

struct fb {
    unsigned char *b;
    size_t n, cap;
};

static void fb_put(struct fb *f, const void *p, size_t n)
{
    if (f->n + n > f->cap) {
        f->cap = (f->n + n) * 2 + 64;
        f->b = realloc(f->b, f->cap);
        ck_assert_ptr_nonnull(f->b);
    }
    memcpy(f->b + f->n, p, n);
    f->n += n;
}

static void fb_free(struct fb *f)
{
    free(f->b);
    memset(f, 0, sizeof(*f));
}

/* A frame: FIN, RSV bits, opcode, masked or not, the payload. */
static void frame(struct fb *f, bool fin, unsigned rsv, unsigned op, bool mask, const void *p,
                  size_t n)
{
    static const unsigned char key[4] = {0x37, 0xfa, 0x21, 0x3d};
    unsigned char h[14];
    size_t hl = 2, i;
    h[0] = (unsigned char)((fin ? 0x80 : 0) | (rsv & 7) << 4 | (op & 0xf));
    if (n < 126) {
        h[1] = (unsigned char)n;
    } else if (n < 65536) {
        h[1] = 126;
        h[2] = (unsigned char)(n >> 8);
        h[3] = (unsigned char)n;
        hl = 4;
    } else {
        h[1] = 127;
        for (i = 0; i < 8; i++)
            h[2 + i] = (unsigned char)((uint64_t)n >> (56 - 8 * i));
        hl = 10;
    }
    if (mask) {
        h[1] |= 0x80;
        memcpy(h + hl, key, 4);
        hl += 4;
    }
    fb_put(f, h, hl);
    for (i = 0; i < n; i++) {
        unsigned char c = ((const unsigned char *)p)[i];
        if (mask) c ^= key[i % 4];
        fb_put(f, &c, 1);
    }
}

/* The usual client frame: masked, no RSV bits. */
#define FRAME(f, fin, op, lit) frame(f, fin, 0, op, true, lit, sizeof(lit) - 1)

/* ---- reading them ---- */

/* The events as text: a run of DATA chunks is one token ("T:<data>" or
 * "B:<data>" when it starts a message, "+:<data>" when it continues one
 * after another event), "E" a message end, "ping:<p>", "pong:<p>",
 * "close:<code>:<reason>", "err:<code>" ("err:<code>!" when broken); bytes
 * outside printable ASCII as \xHH. */
struct tr {
    char *s;
    size_t n, cap;
    bool in_data; /* the last token is a DATA run */
    bool in_msg;  /* a message's chunks came, its end not yet */
    bool done;    /* CLOSE or ERROR came */
};

static void tr_raw(struct tr *t, const char *p, size_t n)
{
    if (t->n + n + 1 > t->cap) {
        t->cap = (t->n + n + 1) * 2;
        t->s = realloc(t->s, t->cap);
        ck_assert_ptr_nonnull(t->s);
    }
    memcpy(t->s + t->n, p, n);
    t->n += n;
    t->s[t->n] = 0;
}

static void tr_bytes(struct tr *t, const unsigned char *p, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++) {
        char x[5];
        if (p[i] >= 0x20 && p[i] < 0x7f && p[i] != '\\') {
            tr_raw(t, (const char *)p + i, 1);
        } else {
            snprintf(x, sizeof(x), "\\x%02x", p[i]);
            tr_raw(t, x, 4);
        }
    }
}

static void tr_tok(struct tr *t, const char *tok)
{
    if (t->n) tr_raw(t, " ", 1);
    tr_raw(t, tok, strlen(tok));
}

/* Take every event of what was fed, checking the reader's promises. */
static void drain(struct ws_frame_reader *r, struct tr *t)
{
    struct ws_frame_ev ev;
    char tok[64];
    for (;;) {
        enum ws_frame_event e = ws_frame_next(r, &ev);
        ck_assert_int_eq(e, ev.type);
        if (e == WS_FRAME_MORE) return;
        ck_assert_msg(!t->done, "an event after a close or an error");
        if (e != WS_FRAME_DATA) t->in_data = false;
        switch (e) {
        case WS_FRAME_DATA:
            ck_assert(ev.first == !t->in_msg);
            ck_assert(ev.len == 0 || ev.data != NULL);
            if (ev.first)
                tr_tok(t, ev.binary ? "B:" : "T:");
            else if (!t->in_data)
                tr_tok(t, "+:");
            tr_bytes(t, ev.data, ev.len);
            t->in_data = t->in_msg = true;
            break;
        case WS_FRAME_END:
            ck_assert(t->in_msg);
            t->in_msg = false;
            tr_tok(t, "E");
            break;
        case WS_FRAME_PING:
        case WS_FRAME_PONG:
            ck_assert_uint_le(ev.len, 125);
            tr_tok(t, e == WS_FRAME_PING ? "ping:" : "pong:");
            tr_bytes(t, ev.data, ev.len);
            break;
        case WS_FRAME_CLOSE:
            snprintf(tok, sizeof(tok), "close:%u:", ev.code);
            tr_tok(t, tok);
            tr_bytes(t, ev.data, ev.len);
            t->done = true;
            break;
        case WS_FRAME_ERROR:
            snprintf(tok, sizeof(tok), "err:%u%s", ev.code, ev.broken ? "!" : "");
            tr_tok(t, tok);
            t->done = true;
            break;
        default:
            ck_abort_msg("unknown event %d", (int)e);
        }
    }
}

/* Feed buf[0..n) to r in pieces of step bytes (0: at once); the events. */
static void feed_into(struct ws_frame_reader *r, const void *buf, size_t n, size_t step,
                      struct tr *t)
{
    size_t off = 0;
    if (step == 0) step = n ? n : 1;
    do {
        size_t k = n - off < step ? n - off : step;
        ws_frame_feed(r, (const unsigned char *)buf + off, k);
        drain(r, t);
        off += k;
    } while (off < n);
}

/* A fresh reader (maximum message max) fed buf in pieces of step bytes:
 * its transcript (owned by a static buffer until the next call). */
static const char *run(const void *buf, size_t n, size_t step, uint64_t max)
{
    static char *last;
    struct ws_frame_reader r;
    struct tr t = {0};
    ck_assert(ws_frame_init(&r, max));
    feed_into(&r, buf, n, step, &t);
    ws_frame_free(&r);
    free(last);
    last = t.s ? t.s : strdup("");
    return last;
}

/* The transcript of f must be `want` however the bytes are split. */
static void expect_all_splits(const struct fb *f, uint64_t max, const char *want)
{
    size_t step;
    ck_assert_str_eq(run(f->b, f->n, 0, max), want);
    for (step = 1; step <= f->n && step <= 64; step++)
        ck_assert_msg(strcmp(run(f->b, f->n, step, max), want) == 0,
                      "split every %zu bytes: got '%s', want '%s'", step,
                      run(f->b, f->n, step, max), want);
}

#define MAX (1u << 20)

/* ---- tests ---- */

START_TEST(single_messages)
{
    struct fb f = {0};
    FRAME(&f, true, 1, "hello");
    FRAME(&f, true, 2, "\x00\xff\x80");
    FRAME(&f, true, 1, "");
    expect_all_splits(&f, MAX, "T:hello E B:\\x00\\xff\\x80 E T: E");
    fb_free(&f);
}
END_TEST

START_TEST(fragmentation)
{
    struct fb f = {0};
    FRAME(&f, false, 1, "Hel");
    FRAME(&f, false, 0, "");
    FRAME(&f, true, 0, "lo");
    FRAME(&f, false, 2, "");
    FRAME(&f, true, 0, "bin");
    expect_all_splits(&f, MAX, "T:Hello E B:bin E");
    fb_free(&f);

    /* An empty last fragment ends the message without data. */
    FRAME(&f, false, 1, "ab");
    FRAME(&f, true, 0, "");
    ck_assert_str_eq(run(f.b, f.n, 0, MAX), "T:ab E");
    fb_free(&f);
}
END_TEST

START_TEST(control_between_fragments)
{
    struct fb f = {0};
    FRAME(&f, false, 1, "a");
    FRAME(&f, true, 9, "p1");
    FRAME(&f, false, 0, "b");
    FRAME(&f, true, 10, "q");
    FRAME(&f, true, 9, "");
    FRAME(&f, true, 0, "c");
    FRAME(&f, true, 8,
          "\x03\xe8"
          "bye");
    FRAME(&f, true, 1, "after close");
    expect_all_splits(&f, MAX, "T:a ping:p1 +:b pong:q ping: +:c E close:1000:bye");
    fb_free(&f);
}
END_TEST

START_TEST(long_lengths)
{
    struct fb f = {0};
    static char big[70000];
    struct tr t = {0};
    struct ws_frame_reader r;
    size_t i, got = 0;
    for (i = 0; i < sizeof(big); i++)
        big[i] = (char)('a' + i % 26);
    frame(&f, true, 0, 1, true, big, 200);   /* 16-bit length */
    frame(&f, true, 0, 2, true, big, 70000); /* 64-bit length */
    frame(&f, true, 0, 1, true, big, 65535); /* the largest 16-bit length */
    ck_assert(ws_frame_init(&r, MAX));
    ws_frame_feed(&r, f.b, f.n);
    for (;;) {
        struct ws_frame_ev ev;
        enum ws_frame_event e = ws_frame_next(&r, &ev);
        if (e == WS_FRAME_MORE) break;
        if (e == WS_FRAME_DATA) {
            ck_assert(memcmp(ev.data, big + got, ev.len) == 0);
            got += ev.len;
        } else {
            ck_assert_int_eq(e, WS_FRAME_END);
            tr_tok(&t, got == 200 ? "200" : got == 70000 ? "70000" : got == 65535 ? "65535" : "?");
            got = 0;
        }
    }
    ck_assert_str_eq(t.s, "200 70000 65535");
    ws_frame_free(&r);
    free(t.s);
    fb_free(&f);
}
END_TEST

START_TEST(close_codes)
{
    static const unsigned valid[] = {1000, 1001, 1002, 1003, 1007, 1008, 1011, 3000, 4999};
    static const unsigned invalid[] = {0,    999,  1004, 1005, 1006, 1012,
                                       1015, 1100, 2999, 5000, 65535};
    struct fb f = {0};
    char want[64];
    size_t i;
    for (i = 0; i < sizeof(valid) / sizeof(valid[0]); i++) {
        unsigned char p[2] = {(unsigned char)(valid[i] >> 8), (unsigned char)valid[i]};
        frame(&f, true, 0, 8, true, p, 2);
        snprintf(want, sizeof(want), "close:%u:", valid[i]);
        ck_assert_str_eq(run(f.b, f.n, 0, MAX), want);
        fb_free(&f);
    }
    for (i = 0; i < sizeof(invalid) / sizeof(invalid[0]); i++) {
        unsigned char p[2] = {(unsigned char)(invalid[i] >> 8), (unsigned char)invalid[i]};
        frame(&f, true, 0, 8, true, p, 2);
        ck_assert_str_eq(run(f.b, f.n, 0, MAX), "err:1002");
        fb_free(&f);
    }
    /* No code at all is allowed; one byte is not. */
    FRAME(&f, true, 8, "");
    ck_assert_str_eq(run(f.b, f.n, 0, MAX), "close:0:");
    fb_free(&f);
    FRAME(&f, true, 8, "\x03");
    ck_assert_str_eq(run(f.b, f.n, 0, MAX), "err:1002");
    fb_free(&f);
    /* The reason must be UTF-8. */
    FRAME(&f, true, 8,
          "\x03\xe8"
          "\xc3\xa9t\xc3\xa9");
    expect_all_splits(&f, MAX, "close:1000:\\xc3\\xa9t\\xc3\\xa9");
    fb_free(&f);
    FRAME(&f, true, 8,
          "\x03\xe8"
          "\xc3");
    ck_assert_str_eq(run(f.b, f.n, 0, MAX), "err:1007");
    fb_free(&f);
}
END_TEST

START_TEST(utf8_across_boundaries)
{
    static const char *const good[] = {"\xf0\x9f\x98\x80", "\xe2\x82\xac", "\xc3\xa9",
                                       "\xf4\x8f\xbf\xbf", "\xed\x9f\xbf"};
    static const char *const bad[] = {
        "\xe0\x80\x80",     /* overlong */
        "\xed\xa0\x80",     /* a surrogate */
        "\xf4\x90\x80\x80", /* past U+10FFFF */
        "\xc0\xaf",         /* overlong */
        "\x80",             /* a lone continuation byte */
        "\xf8\x88\x80\x80\x80",
        "\xc3(", /* a lead byte without its continuation */
    };
    struct fb f = {0};
    size_t i, cut;
    /* Valid sequences cut at every place between two fragments (and the
     * bytes split every way): accepted. */
    for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        size_t n = strlen(good[i]);
        for (cut = 0; cut <= n; cut++) {
            struct tr want = {0};
            frame(&f, false, 0, 1, true, "x", 1);
            frame(&f, false, 0, 0, true, good[i], cut);
            frame(&f, true, 0, 0, true, good[i] + cut, n - cut);
            tr_tok(&want, "T:x");
            tr_bytes(&want, (const unsigned char *)good[i], n);
            tr_tok(&want, "E");
            expect_all_splits(&f, MAX, want.s);
            free(want.s);
            fb_free(&f);
            /* ... with a ping after the cut and a long chunk after it */
            {
                struct tr want2 = {0};
                char tail[64];
                snprintf(tail, sizeof(tail), "%s and some more ASCII", good[i] + cut);
                frame(&f, false, 0, 1, true, good[i], cut);
                frame(&f, true, 0, 9, true, "", 0);
                frame(&f, true, 0, 0, true, tail, strlen(tail));
                tr_tok(&want2, "T:");
                tr_bytes(&want2, (const unsigned char *)good[i], cut);
                tr_tok(&want2, "ping: +:");
                tr_bytes(&want2, (const unsigned char *)tail, strlen(tail));
                tr_tok(&want2, "E");
                expect_all_splits(&f, MAX, want2.s);
                free(want2.s);
                fb_free(&f);
            }
        }
    }
    /* Invalid ones, whole or cut anywhere: 1007. */
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        size_t n = strlen(bad[i]);
        for (cut = 0; cut <= n; cut++) {
            size_t step;
            frame(&f, false, 0, 1, true, bad[i], cut);
            frame(&f, true, 0, 0, true, bad[i] + cut, n - cut);
            for (step = 0; step <= f.n; step++) {
                const char *got = run(f.b, f.n, step, MAX);
                size_t gl = strlen(got);
                ck_assert_msg(gl >= 8 && strcmp(got + gl - 8, "err:1007") == 0,
                              "'%s' cut at %zu, split %zu: %s", bad[i], cut, step, got);
            }
            fb_free(&f);
        }
    }
    /* A sequence the message ends inside of. */
    FRAME(&f, false, 1, "ab");
    FRAME(&f, true, 0, "\xe2\x82");
    ck_assert_str_eq(run(f.b, f.n, 0, MAX), "T:ab err:1007");
    fb_free(&f);
    /* An invalid byte is found in the chunk it comes in: the ping after it
     * is not seen. */
    FRAME(&f, false, 1, "a\xff b");
    FRAME(&f, true, 9, "p");
    FRAME(&f, true, 0, "b");
    ck_assert_str_eq(run(f.b, f.n, 0, MAX), "err:1007");
    fb_free(&f);
    /* ... but a byte >= 0xc0 that ends a chunk counts as the start of a
     * sequence the next chunk completes (even 0xff, never valid): it is
     * judged with the next chunk. */
    FRAME(&f, false, 1, "a\xff");
    FRAME(&f, true, 9, "p");
    FRAME(&f, true, 0, "b");
    ck_assert_str_eq(run(f.b, f.n, 0, MAX), "T:a\\xff ping:p err:1007");
    fb_free(&f);
    /* A sequence cut by a fragment waits for the next one, across a ping. */
    FRAME(&f, false, 1, "\xe2\x82");
    FRAME(&f, true, 9, "p");
    FRAME(&f, true, 0, "\xac");
    ck_assert_str_eq(run(f.b, f.n, 0, MAX), "T:\\xe2\\x82 ping:p +:\\xac E");
    fb_free(&f);
    /* Binary messages are not checked. */
    FRAME(&f, true, 2, "\xff\xfe");
    ck_assert_str_eq(run(f.b, f.n, 0, MAX), "B:\\xff\\xfe E");
    fb_free(&f);
}
END_TEST

/* The reference for UTF-8 checks (how ws_conn.c checked before the reader
 * was split out of it): at each chunk of a text message (wslay's: the
 * part of a frame's payload within one feed), all the bytes received so
 * far but an incomplete sequence at their end are checked. */
static size_t ref_whole(const unsigned char *p, size_t n)
{
    size_t k;
    for (k = 1; k <= 3 && k <= n; k++) {
        unsigned char b = p[n - k];
        if ((b & 0xc0) == 0x80) continue;
        if (b >= 0xc0 && (size_t)(b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : 2) > k) return n - k;
        return n;
    }
    return n;
}

static uint32_t rnd(uint32_t *s)
{
    *s = *s * 1103515245u + 12345u;
    return *s >> 8;
}

START_TEST(utf8_matches_reference)
{
    static const unsigned char alpha[] = {'a',  0xc3, 0xa9, 0xe2, 0x82, 0xac, 0xf0, 0x9f, 0x98,
                                          0x80, 0xed, 0xa0, 0xff, 0xc0, 0xbf, 0xf4, 0x90, 0xe0};
    static const char *const chars[] = {"a",
                                        "bc",
                                        "\xc3\xa9",
                                        "\xe2\x82\xac",
                                        "\xf0\x9f\x98\x80",
                                        "\xf4\x8f\xbf\xbf",
                                        "\xed\x9f\xbf",
                                        "\xe0\xa0\x80"};
    uint32_t seed = 7;
    int iter;
    for (iter = 0; iter < 20000; iter++) {
        unsigned char msg[48];
        size_t len = rnd(&seed) % sizeof(msg), nfr = 1 + rnd(&seed) % 4, step = rnd(&seed) % 17;
        size_t cuts[5], pstart[4], i, k, nchunks = 0, fail_at = (size_t)-1;
        size_t chunk_off[64], chunk_len[64];
        bool chunk_last[64];
        struct fb f = {0};
        struct tr want = {0};
        const char *got;
        if (iter % 2) { /* bytes from the pieces of UTF-8 */
            for (i = 0; i < len; i++)
                msg[i] =
                    rnd(&seed) % 3 ? alpha[rnd(&seed) % sizeof(alpha)] : (unsigned char)rnd(&seed);
        } else { /* valid characters, now and then one byte changed */
            for (i = 0; i < len;) {
                const char *c = chars[rnd(&seed) % (sizeof(chars) / sizeof(chars[0]))];
                size_t cl = strlen(c);
                if (i + cl > len) break;
                memcpy(msg + i, c, cl);
                i += cl;
            }
            len = i;
            if (len && rnd(&seed) % 4 == 0)
                msg[rnd(&seed) % len] = alpha[rnd(&seed) % sizeof(alpha)];
        }
        /* fragments [cuts[k], cuts[k+1]) */
        cuts[0] = 0;
        cuts[nfr] = len;
        for (k = 1; k < nfr; k++)
            cuts[k] = len ? rnd(&seed) % (len + 1) : 0;
        for (k = 1; k < nfr; k++) /* sort */
            for (i = k; i > 0 && cuts[i] < cuts[i - 1]; i--) {
                size_t t = cuts[i];
                cuts[i] = cuts[i - 1];
                cuts[i - 1] = t;
            }
        for (k = 0; k < nfr; k++) {
            size_t n = cuts[k + 1] - cuts[k];
            frame(&f, k == nfr - 1, 0, k ? 0 : 1, true, msg + cuts[k], n);
            pstart[k] = f.n - n;
        }
        /* wslay's chunks: each frame's payload cut at the feed boundaries */
        for (k = 0; k < nfr; k++) {
            size_t a = pstart[k], e = pstart[k] + cuts[k + 1] - cuts[k];
            do {
                size_t b = step ? (a / step + 1) * step : e;
                if (b > e) b = e;
                chunk_off[nchunks] = cuts[k] + (a - pstart[k]);
                chunk_len[nchunks] = b - a;
                chunk_last[nchunks] = k == nfr - 1 && b == e;
                nchunks++;
                a = b;
            } while (a < e);
        }
        {
            size_t unval = 0;
            for (i = 0; i < nchunks && fail_at == (size_t)-1; i++) {
                size_t end = chunk_off[i] + chunk_len[i], m = unval + chunk_len[i], ok;
                if (!chunk_len[i] && !chunk_last[i]) continue;
                ok = chunk_last[i] ? m : ref_whole(msg + end - m, m);
                if (!json_utf8_valid((const char *)msg + end - m, ok)) fail_at = i;
                unval = m - ok;
            }
        }
        if (fail_at == (size_t)-1) {
            tr_tok(&want, "T:");
            tr_bytes(&want, msg, len);
            tr_tok(&want, "E");
        } else {
            if (fail_at > 0) {
                tr_tok(&want, "T:");
                tr_bytes(&want, msg, chunk_off[fail_at]);
            }
            tr_tok(&want, "err:1007");
        }
        got = run(f.b, f.n, step, MAX);
        ck_assert_msg(strcmp(got, want.s) == 0, "iteration %d (step %zu): got '%s', want '%s'",
                      iter, step, got, want.s);
        free(want.s);
        fb_free(&f);
    }
}
END_TEST

START_TEST(oversized_messages)
{
    struct fb f = {0};
    /* Exactly the maximum, in one frame or several. */
    FRAME(&f, true, 1, "0123456789");
    FRAME(&f, false, 2, "01234");
    FRAME(&f, true, 0, "56789");
    expect_all_splits(&f, 10, "T:0123456789 E B:0123456789 E");
    fb_free(&f);
    /* One byte more: refused at the frame's start, before its data. */
    FRAME(&f, true, 1, "0123456789A");
    ck_assert_str_eq(run(f.b, f.n, 0, 10), "err:1009");
    ck_assert_str_eq(run(f.b, f.n, 1, 10), "err:1009");
    fb_free(&f);
    FRAME(&f, false, 1, "012345");
    FRAME(&f, true, 9, "control frames do not count");
    FRAME(&f, true, 0, "6789A");
    expect_all_splits(&f, 10, "T:012345 ping:control frames do not count err:1009");
    fb_free(&f);
    /* The count starts again with each message. */
    FRAME(&f, true, 1, "0123456789");
    FRAME(&f, true, 1, "0123456789");
    ck_assert_str_eq(run(f.b, f.n, 0, 10), "T:0123456789 E T:0123456789 E");
    fb_free(&f);
    /* A huge announced length is refused at the first payload byte (wslay
     * reports a frame with its first bytes), without waiting for the rest. */
    {
        unsigned char h[] = {0x82, 0xff, 0, 0, 1, 0, 0, 0, 0, 0, 1, 2, 3, 4, 'x'};
        ck_assert_str_eq(run(h, sizeof(h) - 1, 0, MAX), "");
        ck_assert_str_eq(run(h, sizeof(h), 0, MAX), "err:1009");
    }
}
END_TEST

START_TEST(framing_rules)
{
    struct fb f = {0};
    /* A client's frames must be masked. */
    frame(&f, true, 0, 1, false, "hi", 2);
    ck_assert_str_eq(run(f.b, f.n, 0, MAX), "err:1002");
    fb_free(&f);
    frame(&f, true, 0, 9, false, "", 0);
    ck_assert_str_eq(run(f.b, f.n, 0, MAX), "err:1002");
    fb_free(&f);
    /* ... after a good one */
    FRAME(&f, true, 1, "ok");
    frame(&f, true, 0, 1, false, "hi", 2);
    expect_all_splits(&f, MAX, "T:ok E err:1002");
    fb_free(&f);
    /* No RSV bit without an extension. */
    frame(&f, true, 4, 1, true, "hi", 2);
    ck_assert_str_eq(run(f.b, f.n, 0, MAX), "err:1002");
    fb_free(&f);
    frame(&f, true, 1, 9, true, "", 0);
    ck_assert_str_eq(run(f.b, f.n, 0, MAX), "err:1002");
    fb_free(&f);
    /* Reserved opcodes, data and control. */
    FRAME(&f, true, 3, "x");
    ck_assert_str_eq(run(f.b, f.n, 0, MAX), "err:1002");
    fb_free(&f);
    FRAME(&f, true, 0xb, "x");
    ck_assert_str_eq(run(f.b, f.n, 0, MAX), "err:1002");
    fb_free(&f);
    /* A continuation with nothing to continue; a new message inside a
     * fragmented one. */
    FRAME(&f, true, 0, "x");
    ck_assert_str_eq(run(f.b, f.n, 0, MAX), "err:1002");
    fb_free(&f);
    FRAME(&f, false, 1, "a");
    FRAME(&f, true, 1, "b");
    ck_assert_str_eq(run(f.b, f.n, 0, MAX), "T:a err:1002");
    fb_free(&f);
    /* The frame stream itself broken: a fragmented control frame, one
     * over 125 bytes, lengths not in their shortest form. */
    FRAME(&f, false, 9, "p");
    ck_assert_str_eq(run(f.b, f.n, 0, MAX), "err:1002!");
    fb_free(&f);
    {
        char p[126];
        memset(p, 'p', sizeof(p));
        frame(&f, true, 0, 9, true, p, sizeof(p));
        ck_assert_str_eq(run(f.b, f.n, 0, MAX), "err:1002!");
        fb_free(&f);
    }
    {
        unsigned char h16[] = {0x81, 0xfe, 0x00, 0x7d, 1, 2, 3, 4};
        unsigned char h64[] = {0x81, 0xff, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 1, 2, 3, 4};
        unsigned char top[] = {0x81, 0xff, 0x80, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4};
        ck_assert_str_eq(run(h16, sizeof(h16), 0, MAX), "err:1002!");
        ck_assert_str_eq(run(h64, sizeof(h64), 1, MAX), "err:1002!");
        ck_assert_str_eq(run(top, sizeof(top), 0, MAX), "err:1002!");
    }
}
END_TEST

START_TEST(nothing_after_the_end)
{
    struct fb f = {0};
    struct ws_frame_reader r;
    struct tr t = {0};
    /* After an error, more bytes give no event. */
    FRAME(&f, true, 3, "x");
    ck_assert(ws_frame_init(&r, MAX));
    feed_into(&r, f.b, f.n, 0, &t);
    fb_free(&f);
    FRAME(&f, true, 1, "more");
    FRAME(&f, true, 8, "");
    feed_into(&r, f.b, f.n, 0, &t);
    ck_assert_str_eq(t.s, "err:1002");
    ws_frame_free(&r);
    free(t.s);
    fb_free(&f);
}
END_TEST

START_TEST(discard_mode)
{
    struct fb f = {0};
    struct ws_frame_reader r;
    struct tr t = {0};
    ck_assert(ws_frame_init(&r, 10));
    /* A message begun, then discarded with the next ones: not delivered,
     * their UTF-8 not checked; control frames still come. */
    FRAME(&f, false, 1, "ab");
    feed_into(&r, f.b, f.n, 0, &t);
    ck_assert_str_eq(t.s, "T:ab");
    fb_free(&f);
    ws_frame_discard(&r);
    t.in_msg = false;
    FRAME(&f, true, 0, "\xff");
    FRAME(&f, true, 1, "\xc3");
    FRAME(&f, true, 9, "p");
    FRAME(&f, true, 2, "xyz");
    FRAME(&f, true, 8, "\x03\xe8");
    feed_into(&r, f.b, f.n, 1, &t);
    ck_assert_str_eq(t.s, "T:ab ping:p close:1000:");
    ws_frame_free(&r);
    free(t.s);
    fb_free(&f);
    /* The framing and the size are still checked. */
    memset(&t, 0, sizeof(t));
    ck_assert(ws_frame_init(&r, 10));
    ws_frame_discard(&r);
    FRAME(&f, true, 1, "0123456789A");
    feed_into(&r, f.b, f.n, 0, &t);
    ck_assert_str_eq(t.s, "err:1009");
    ws_frame_free(&r);
    free(t.s);
    fb_free(&f);
    memset(&t, 0, sizeof(t));
    ck_assert(ws_frame_init(&r, 10));
    ws_frame_discard(&r);
    FRAME(&f, true, 0, "x");
    feed_into(&r, f.b, f.n, 0, &t);
    ck_assert_str_eq(t.s, "err:1002");
    ws_frame_free(&r);
    free(t.s);
    fb_free(&f);
}
END_TEST

START_TEST(max_message_changes_between_feeds)
{
    struct fb f = {0};
    struct ws_frame_reader r;
    struct tr t = {0};
    ck_assert(ws_frame_init(&r, 100));
    FRAME(&f, true, 1, "0123456789");
    feed_into(&r, f.b, f.n, 0, &t);
    r.max_message = 5;
    feed_into(&r, f.b, f.n, 0, &t);
    ck_assert_str_eq(t.s, "T:0123456789 E err:1009");
    ws_frame_free(&r);
    free(t.s);
    fb_free(&f);
}
END_TEST

START_TEST(server_frame_headers)
{
    static const uint64_t lens[] = {0, 1, 125, 126, 127, 65535, 65536, 1u << 24, 1ull << 40};
    static const unsigned char h65536[] = {0x82, 127, 0, 0, 0, 0, 0, 1, 0, 0};
    unsigned char h[WS_FRAME_HEADER_MAX];
    size_t i, hl;
    hl = ws_frame_header(h, 1, 5);
    ck_assert_uint_eq(hl, 2);
    ck_assert(h[0] == 0x81 && h[1] == 5);
    hl = ws_frame_header(h, 8, 300);
    ck_assert_uint_eq(hl, 4);
    ck_assert(h[0] == 0x88 && h[1] == 126 && h[2] == 1 && h[3] == 44);
    hl = ws_frame_header(h, 2, 65536);
    ck_assert_uint_eq(hl, 10);
    ck_assert(memcmp(h, h65536, 10) == 0);
    for (i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
        hl = ws_frame_header(h, 2, lens[i]);
        ck_assert_uint_eq(hl, lens[i] < 126 ? 2 : lens[i] < 65536 ? 4 : 10);
        ck_assert_uint_eq(ws_frame_size(h), hl + lens[i]);
    }
}
END_TEST

static Suite *ws_frame_suite(void)
{
    Suite *s = suite_create("ws_frame");
    TCase *tc = unit_tcase("frame", 120);
    tcase_add_test(tc, single_messages);
    tcase_add_test(tc, fragmentation);
    tcase_add_test(tc, control_between_fragments);
    tcase_add_test(tc, long_lengths);
    tcase_add_test(tc, close_codes);
    tcase_add_test(tc, utf8_across_boundaries);
    tcase_add_test(tc, utf8_matches_reference);
    tcase_add_test(tc, oversized_messages);
    tcase_add_test(tc, framing_rules);
    tcase_add_test(tc, nothing_after_the_end);
    tcase_add_test(tc, discard_mode);
    tcase_add_test(tc, max_message_changes_between_feeds);
    tcase_add_test(tc, server_frame_headers);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return unit_run(ws_frame_suite());
}
