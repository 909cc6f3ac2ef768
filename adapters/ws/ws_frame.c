/* ws_frame.c — the WebSocket frame reader (ws_frame.h): wslay's frame
 * parser fed from the caller's bytes, and the checks of RFC 6455 its event
 * layer would make (RSV bits, opcodes, masking, fragmentation order,
 * control frames, close codes, message size, UTF-8 of text messages and
 * close reasons), turned into events; and the header of a server's
 * frames. */
#include "ws_frame.h"

#include <string.h>
#include <sys/types.h>
#include <wslay/wslay.h>

#include "json_reply.h" /* json_utf8_valid */

/* wslay's frame parser pulls the bytes fed. */
static ssize_t fr_recv(uint8_t *buf, size_t len, int flags, void *user)
{
    struct ws_frame_reader *r = user;
    size_t n = r->inlen - r->inoff;
    (void)flags;
    if (n == 0) return -1; /* wslay_frame_recv answers WSLAY_ERR_WANT_READ */
    if (n > len) n = len;
    memcpy(buf, r->in + r->inoff, n);
    r->inoff += n;
    return (ssize_t)n;
}

bool ws_frame_init(struct ws_frame_reader *r, uint64_t max_message)
{
    static const struct wslay_frame_callbacks fcbs = {NULL, fr_recv, NULL};
    memset(r, 0, sizeof(*r));
    r->max_message = max_message;
    r->msg_op = -1;
    if (wslay_frame_context_init(&r->fr, &fcbs, r) != 0) {
        r->fr = NULL;
        return false;
    }
    return true;
}

void ws_frame_free(struct ws_frame_reader *r)
{
    if (r->fr) wslay_frame_context_free(r->fr);
    r->fr = NULL;
}

void ws_frame_feed(struct ws_frame_reader *r, const void *buf, size_t len)
{
    r->in = buf;
    r->inlen = len;
    r->inoff = 0;
}

void ws_frame_discard(struct ws_frame_reader *r)
{
    r->discard = true;
}

/* The peer broke the protocol: the reader stops. */
static enum ws_frame_event fail(struct ws_frame_reader *r, struct ws_frame_ev *ev, uint16_t code,
                                bool broken)
{
    r->stopped = true;
    ev->type = WS_FRAME_ERROR;
    ev->code = code;
    ev->broken = broken;
    return WS_FRAME_ERROR;
}

/* fail() for a check that answers a bool. */
static bool reject(struct ws_frame_reader *r, struct ws_frame_ev *ev, uint16_t code)
{
    fail(r, ev, code, false);
    return false;
}

/* Close codes a peer may send (RFC 6455 7.4; 1004-1006 and 1015 are never
 * sent in a frame). */
static bool close_code_valid(unsigned code)
{
    return (code >= 1000 && code <= 1011 && code != 1004 && code != 1005 && code != 1006) ||
           (code >= 3000 && code <= 4999);
}

/* Length of the prefix of p[0..n) that does not end inside a UTF-8
 * sequence: an incomplete one at the end waits for the next chunk. */
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

/* UTF-8 check with an ASCII fast path (8 bytes at a time). */
static bool utf8_valid(const unsigned char *p, size_t n)
{
    size_t i = 0;
    while (i + 8 <= n) {
        uint64_t w;
        memcpy(&w, p + i, 8);
        if (w & 0x8080808080808080ull) break;
        i += 8;
    }
    return json_utf8_valid((const char *)p + i, n - i);
}

/* A chunk of a text message: check what it completes (all of it when it
 * is the message's last), keep an incomplete sequence at its end in r->u8
 * for the next chunk. The verdicts are those of checking all the
 * message's bytes so far at each chunk (but for an incomplete sequence at
 * the end): the sequence kept starts with a lead byte, and the validator
 * reads a sequence's length from its lead byte. */
static bool utf8_chunk(struct ws_frame_reader *r, const unsigned char *p, size_t n, bool last)
{
    size_t ok;
    if (r->u8len && n < 8) {
        /* A short chunk: check the kept bytes and it as one. */
        unsigned char t[4 + 8];
        size_t m = r->u8len + n;
        memcpy(t, r->u8, r->u8len);
        memcpy(t + r->u8len, p, n);
        ok = last ? m : utf8_whole(t, m);
        if (!utf8_valid(t, ok)) return false;
        r->u8len = m - ok;
        memcpy(r->u8, t + ok, r->u8len);
        return true;
    }
    if (r->u8len) {
        /* The kept sequence completes within the chunk's first bytes. */
        unsigned char t[4];
        unsigned char b = r->u8[0];
        size_t k = (size_t)(b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : 2) - r->u8len;
        memcpy(t, r->u8, r->u8len);
        memcpy(t + r->u8len, p, k);
        if (!json_utf8_valid((const char *)t, r->u8len + k)) return false;
        p += k;
        n -= k;
        r->u8len = 0;
    }
    ok = last ? n : utf8_whole(p, n);
    if (!utf8_valid(p, ok)) return false;
    r->u8len = n - ok;
    memcpy(r->u8, p + ok, r->u8len);
    return true;
}

/* A frame starts: what the event layer of wslay checked, checked here. */
static bool frame_start(struct ws_frame_reader *r, const struct wslay_frame_iocb *io,
                        struct ws_frame_ev *ev)
{
    uint8_t op = io->opcode;
    /* No extension is negotiated: RSV bits must be clear; a client masks
     * its frames. (wslay_frame_recv rejected control frames over 125 bytes
     * or fragmented.) */
    if (io->rsv || !io->mask) return reject(r, ev, WSLAY_CODE_PROTOCOL_ERROR);
    if (op & 0x8) {
        if (op != WSLAY_CONNECTION_CLOSE && op != WSLAY_PING && op != WSLAY_PONG)
            return reject(r, ev, WSLAY_CODE_PROTOCOL_ERROR);
        r->ctrl_len = 0; /* control frames may come between fragments */
    } else if (op == WSLAY_CONTINUATION_FRAME) {
        if (r->msg_op < 0) /* nothing to continue */
            return reject(r, ev, WSLAY_CODE_PROTOCOL_ERROR);
    } else if (op == WSLAY_TEXT_FRAME || op == WSLAY_BINARY_FRAME) {
        if (r->msg_op >= 0) /* a new message inside a fragmented one */
            return reject(r, ev, WSLAY_CODE_PROTOCOL_ERROR);
        r->msg_op = op;
        r->msg_len = 0;
        r->msg_first = true;
        r->u8len = 0;
    } else {
        return reject(r, ev, WSLAY_CODE_PROTOCOL_ERROR);
    }
    /* The whole message counts against max_message. */
    if (!(op & 0x8) && r->msg_len + io->payload_length > r->max_message)
        return reject(r, ev, WSLAY_CODE_MESSAGE_TOO_BIG);
    r->op = op;
    r->fin = io->fin;
    r->left = io->payload_length;
    r->mid = true;
    return true;
}

/* A complete control frame. */
static enum ws_frame_event control(struct ws_frame_reader *r, struct ws_frame_ev *ev)
{
    ev->data = r->ctrl;
    ev->len = r->ctrl_len;
    if (r->op == WSLAY_PING) return ev->type = WS_FRAME_PING;
    if (r->op == WSLAY_PONG) return ev->type = WS_FRAME_PONG;
    /* a close frame */
    if (r->ctrl_len == 1) return fail(r, ev, WSLAY_CODE_PROTOCOL_ERROR, false);
    if (r->ctrl_len >= 2) {
        uint16_t code = (uint16_t)(r->ctrl[0] << 8 | r->ctrl[1]);
        if (!close_code_valid(code)) return fail(r, ev, WSLAY_CODE_PROTOCOL_ERROR, false);
        if (!json_utf8_valid((const char *)r->ctrl + 2, r->ctrl_len - 2))
            return fail(r, ev, WSLAY_CODE_INVALID_FRAME_PAYLOAD_DATA, false);
        ev->code = code;
        ev->data = r->ctrl + 2;
        ev->len = r->ctrl_len - 2;
    }
    r->stopped = true; /* nothing is read after a close frame */
    return ev->type = WS_FRAME_CLOSE;
}

enum ws_frame_event ws_frame_next(struct ws_frame_reader *r, struct ws_frame_ev *ev)
{
    memset(ev, 0, sizeof(*ev));
    if (r->end_pending) {
        r->end_pending = false;
        return ev->type = WS_FRAME_END;
    }
    while (!r->stopped) {
        struct wslay_frame_iocb io;
        ssize_t n = wslay_frame_recv(r->fr, &io);
        bool end, last;
        if (n < 0) {
            if (n == WSLAY_ERR_WANT_READ) break;
            /* WSLAY_ERR_PROTO: a control frame over 125 bytes or
             * fragmented, or a bad length encoding. */
            return fail(r, ev, WSLAY_CODE_PROTOCOL_ERROR, true);
        }
        if (!r->mid && !frame_start(r, &io, ev)) return WS_FRAME_ERROR;
        if (io.data_length > r->left) /* cannot happen: wslay keeps frame alignment */
            return fail(r, ev, WSLAY_CODE_PROTOCOL_ERROR, true);
        r->left -= io.data_length;
        end = r->left == 0;
        if (end) r->mid = false;
        if (r->op & 0x8) {
            memcpy(r->ctrl + r->ctrl_len, io.data, io.data_length);
            r->ctrl_len += io.data_length;
            if (end) return control(r, ev);
            continue;
        }
        r->msg_len += io.data_length;
        last = end && r->fin;
        if (r->discard) {
            if (last) r->msg_op = -1;
            continue;
        }
        /* Text messages must be UTF-8 (checked across fragments). */
        if (r->msg_op == WSLAY_TEXT_FRAME && (io.data_length || last) &&
            !utf8_chunk(r, io.data, io.data_length, last))
            return fail(r, ev, WSLAY_CODE_INVALID_FRAME_PAYLOAD_DATA, false);
        if (io.data_length == 0 && !r->msg_first) {
            if (!last) continue;
            r->msg_op = -1;
            return ev->type = WS_FRAME_END;
        }
        ev->type = WS_FRAME_DATA;
        ev->data = io.data;
        ev->len = io.data_length;
        ev->first = r->msg_first;
        ev->binary = r->msg_op == WSLAY_BINARY_FRAME;
        r->msg_first = false;
        if (last) {
            r->msg_op = -1;
            r->end_pending = true;
        }
        return WS_FRAME_DATA;
    }
    r->in = NULL;
    r->inlen = r->inoff = 0;
    return ev->type = WS_FRAME_MORE;
}

size_t ws_frame_header(unsigned char h[WS_FRAME_HEADER_MAX], unsigned opcode, uint64_t n)
{
    int i;
    h[0] = (unsigned char)(0x80 | opcode);
    if (n < 126) {
        h[1] = (unsigned char)n;
        return 2;
    }
    if (n < 65536) {
        h[1] = 126;
        h[2] = (unsigned char)(n >> 8);
        h[3] = (unsigned char)n;
        return 4;
    }
    h[1] = 127;
    for (i = 0; i < 8; i++)
        h[2 + i] = (unsigned char)(n >> (56 - 8 * i));
    return 10;
}

size_t ws_frame_size(const unsigned char *p)
{
    size_t len = p[1] & 0x7f, hl = 2;
    int i;
    if (len == 126) {
        len = (size_t)p[2] << 8 | p[3];
        hl = 4;
    } else if (len == 127) {
        len = 0;
        for (i = 0; i < 8; i++)
            len = len << 8 | p[2 + i];
        hl = 10;
    }
    return hl + len;
}
