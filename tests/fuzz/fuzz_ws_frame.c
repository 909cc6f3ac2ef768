/* fuzz_ws_frame.c — libFuzzer target for adapters/ws/ws_frame.c, the
 * WebSocket frame reader.
 *
 * Input: byte 0 picks the maximum message size (bits 0-1), the input's
 * form (bit 2) and whether data messages are discarded after the first
 * one (bit 3); bytes 1-2 seed the sizes of the pieces the bytes are fed
 * in. The rest is either
 *   raw:        a stream of client bytes, as read from the socket, or
 *   structured: frames to build, each a header byte (bit 7 FIN, bits 0-3
 *               the opcode, bits 4-6: 0-4 a normal masked frame, 5
 *               unmasked, 6 with an RSV bit, 7 a long payload), a length
 *               byte (a long payload: 300 times it, for the 16- and 64-bit
 *               length forms) and the payload's bytes; masked with keys of
 *               the target's own; up to 256 KB of frames.
 * The stream is read twice — fed whole, and in pieces of pseudo-random
 * sizes — and both must give the same transcript (the complete messages,
 * control frames, close and error; the chunks of a message cut short by
 * an error are left out: how much of it arrives depends on the pieces).
 * Along the way: a message's first chunk and only it is flagged first, an
 * end comes only after chunks, complete text messages are UTF-8 and no
 * message is over the maximum, control payloads are at most 125 bytes,
 * close codes are valid and reasons UTF-8, error codes are 1002, 1007 or
 * 1009 (1002 when broken), nothing comes after a close or an error, and
 * nothing is delivered once discarded. In structured form the transcript
 * must also equal that of a reference model of RFC 6455's rules (as the
 * reader applies them: UTF-8 checked at each fragment's end but for an
 * incomplete sequence). Any violation aborts. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_util.h"

#include "json_reply.h" /* json_utf8_valid */
#include "ws_frame.h"

/* A transcript token: a tag, a number, then bytes. */
static void tok(struct out *o, char tag, unsigned long long v, const void *p, size_t n)
{
    char h[40];
    int hl = snprintf(h, sizeof(h), "%c%llu:%zu:", tag, v, n);
    put(o, h, (size_t)hl);
    put(o, p, n);
}

static uint32_t rnd(uint32_t *s)
{
    *s = *s * 1103515245u + 12345u;
    return *s >> 8;
}

static bool close_code_ok(unsigned c)
{
    return (c >= 1000 && c <= 1011 && c != 1004 && c != 1005 && c != 1006) ||
           (c >= 3000 && c <= 4999);
}

/* Read stream[0..n) with a fresh reader, in pieces (piece_max 0: whole);
 * the transcript into o. */
static void drive(const unsigned char *stream, size_t n, uint64_t max, bool discard, uint32_t seed,
                  size_t piece_max, struct out *o)
{
    struct ws_frame_reader r;
    struct out msg = {0};
    bool in_msg = false, binary = false, done = false, discarded = false;
    size_t off = 0;
    CHECK(ws_frame_init(&r, max));
    do {
        size_t k = piece_max ? 1 + rnd(&seed) % piece_max : n - off;
        if (k > n - off) k = n - off;
        ws_frame_feed(&r, n ? stream + off : NULL, k);
        off += k;
        for (;;) {
            struct ws_frame_ev ev;
            enum ws_frame_event e = ws_frame_next(&r, &ev);
            CHECK(e == ev.type);
            if (e == WS_FRAME_MORE) break;
            CHECK(!done);
            switch (e) {
            case WS_FRAME_DATA:
                CHECK(!discarded);
                CHECK(ev.first == !in_msg);
                CHECK(ev.len == 0 || ev.data != NULL);
                if (ev.first) {
                    binary = ev.binary;
                    msg.n = 0;
                }
                CHECK(ev.binary == binary);
                put(&msg, ev.data, ev.len);
                CHECK(msg.n <= max);
                in_msg = true;
                break;
            case WS_FRAME_END:
                CHECK(!discarded);
                CHECK(in_msg);
                in_msg = false;
                if (!binary) CHECK(!msg.n || json_utf8_valid((const char *)msg.b, msg.n));
                tok(o, binary ? 'B' : 'T', 0, msg.b, msg.n);
                if (discard) {
                    ws_frame_discard(&r);
                    discarded = true;
                }
                break;
            case WS_FRAME_PING:
            case WS_FRAME_PONG:
                CHECK(ev.len <= 125);
                tok(o, e == WS_FRAME_PING ? 'P' : 'O', 0, ev.data, ev.len);
                break;
            case WS_FRAME_CLOSE:
                CHECK(ev.len <= 123);
                CHECK(ev.code ? close_code_ok(ev.code) : ev.len == 0);
                CHECK(json_utf8_valid((const char *)ev.data, ev.len));
                tok(o, 'C', ev.code, ev.data, ev.len);
                done = true;
                break;
            case WS_FRAME_ERROR:
                CHECK(ev.code == 1002 || ev.code == 1007 || ev.code == 1009);
                CHECK(!ev.broken || ev.code == 1002);
                tok(o, 'X', ev.code * 2u + ev.broken, NULL, 0);
                done = true;
                break;
            default:
                CHECK(0);
            }
        }
    } while (off < n);
    ws_frame_free(&r);
    free(msg.b);
}

/* ---- structured form: frames built, and the reference model ---- */

static size_t utf8_whole(const unsigned char *p, size_t n)
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

struct model {
    uint64_t max;
    bool stopped;
    int msg_op; /* -1: no message */
    struct out msg;
};

/* The reference: one complete frame (as sent) and its events. */
static void model_frame(struct model *m, bool fin, unsigned rsv, unsigned op, bool masked,
                        const unsigned char *p, size_t n, struct out *o)
{
    if (m->stopped) return;
    m->stopped = true;                   /* until the frame is found good */
    if ((op & 8) && (n > 125 || !fin)) { /* wslay refuses the header */
        tok(o, 'X', 1002 * 2 + 1, NULL, 0);
        return;
    }
    if (rsv || !masked || ((op & 8) && op > 10) || (!(op & 8) && op > 2) ||
        (op == 0 && m->msg_op < 0) || ((op == 1 || op == 2) && m->msg_op >= 0)) {
        tok(o, 'X', 1002 * 2, NULL, 0);
        return;
    }
    if (op & 8) {
        if (op == 9 || op == 10) {
            tok(o, op == 9 ? 'P' : 'O', 0, p, n);
            m->stopped = false;
            return;
        }
        if (n == 1 || (n >= 2 && !close_code_ok((unsigned)(p[0] << 8 | p[1])))) {
            tok(o, 'X', 1002 * 2, NULL, 0);
            return;
        }
        if (n >= 2 && !json_utf8_valid((const char *)p + 2, n - 2)) {
            tok(o, 'X', 1007 * 2, NULL, 0);
            return;
        }
        tok(o, 'C', n >= 2 ? (unsigned)(p[0] << 8 | p[1]) : 0, n >= 2 ? p + 2 : NULL,
            n >= 2 ? n - 2 : 0);
        return;
    }
    if (op) {
        m->msg_op = (int)op;
        m->msg.n = 0;
    }
    if (m->msg.n + n > m->max) {
        tok(o, 'X', 1009 * 2, NULL, 0);
        return;
    }
    put(&m->msg, p, n);
    if (m->msg_op == 1 && (n || fin)) {
        size_t ok = fin ? m->msg.n : utf8_whole(m->msg.b, m->msg.n);
        if (ok && !json_utf8_valid((const char *)m->msg.b, ok)) {
            tok(o, 'X', 1007 * 2, NULL, 0);
            return;
        }
    }
    if (fin) {
        tok(o, m->msg_op == 2 ? 'B' : 'T', 0, m->msg.b, m->msg.n);
        m->msg_op = -1;
    }
    m->stopped = false;
}

/* Build the frames the input describes into s; the reference transcript
 * into o. */
static void build(const unsigned char *d, size_t n, uint64_t max, uint32_t seed, struct out *s,
                  struct out *o)
{
    struct model m = {max, false, -1, {0}};
    struct out payload = {0};
    size_t i = 0;
    while (i < n && s->n < (1u << 18)) {
        unsigned h = d[i++], special = (h >> 4) & 7, op = h & 0xf;
        bool fin = h & 0x80, masked = special != 5;
        unsigned rsv = special == 6 ? 4 : 0;
        size_t len = i < n ? d[i++] : 0, k, hl = 2;
        unsigned char hdr[14], key[4];
        if (special == 7) len *= 300;
        payload.n = 0;
        for (k = 0; k < len; k++) { /* the input's bytes, repeated when short */
            unsigned char c =
                i + k < n ? d[i + k] : (unsigned char)(n > i ? d[i + k % (n - i)] : k);
            put(&payload, &c, 1);
        }
        i += len < n - i ? len : n - i;
        hdr[0] = (unsigned char)((fin ? 0x80 : 0) | rsv << 4 | op);
        if (len < 126) {
            hdr[1] = (unsigned char)len;
        } else if (len < 65536) {
            hdr[1] = 126;
            hdr[2] = (unsigned char)(len >> 8);
            hdr[3] = (unsigned char)len;
            hl = 4;
        } else {
            hdr[1] = 127;
            for (k = 0; k < 8; k++)
                hdr[2 + k] = (unsigned char)((uint64_t)len >> (56 - 8 * k));
            hl = 10;
        }
        if (masked) {
            uint32_t kv = rnd(&seed);
            hdr[1] |= 0x80;
            memcpy(key, &kv, 4);
            memcpy(hdr + hl, key, 4);
            hl += 4;
        }
        put(s, hdr, hl);
        for (k = 0; k < len; k++) {
            unsigned char c = payload.b[k] ^ (masked ? key[k % 4] : 0);
            put(s, &c, 1);
        }
        model_frame(&m, fin, rsv, op, masked, payload.b, len, o);
    }
    free(payload.b);
    free(m.msg.b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const uint64_t maxes[] = {16, 200, 70000, 1u << 20};
    static const size_t pieces[] = {1, 7, 64, 5000};
    struct out whole = {0}, split = {0}, stream = {0}, ref = {0};
    uint64_t max;
    size_t piece;
    bool structured, discard;
    uint32_t seed;
    if (size < 3) return 0;
    max = maxes[data[0] & 3];
    structured = data[0] & 4;
    discard = data[0] & 8;
    seed = (uint32_t)data[1] << 8 | data[2];
    if (structured)
        build(data + 3, size - 3, max, seed, &stream, &ref);
    else
        put(&stream, data + 3, size - 3);
    drive(stream.b, stream.n, max, discard, seed, 0, &whole);
    piece = pieces[(data[0] >> 4) & 3];
    if (piece == 1 && stream.n > 16384) piece = 7; /* byte by byte: for short streams */
    drive(stream.b, stream.n, max, discard, seed, piece, &split);
    CHECK(whole.n == split.n && (whole.n == 0 || memcmp(whole.b, split.b, whole.n) == 0));
    if (structured && !discard)
        CHECK(ref.n == whole.n && (ref.n == 0 || memcmp(ref.b, whole.b, ref.n) == 0));
    free(whole.b);
    free(split.b);
    free(stream.b);
    free(ref.b);
    return 0;
}
