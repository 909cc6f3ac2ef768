/* ws_frame.h — reading a client's WebSocket frames (RFC 6455 section 5):
 * bytes in, events out (and the headers of the frames a server writes). Frames are parsed with
 * wslay's frame API (wslay_frame_recv); on top of it this reader does what wslay's event layer
 * would, without its per-byte work and copies: reassembly order of fragmented messages, control
 * frames between fragments, RSV/opcode/ masking rules, close codes and reasons, the maximum message
 * size, and UTF-8 validation of text messages across fragments and chunk boundaries. It knows
 * nothing of connections or event loops, so it can be unit-tested and fuzzed.
 *
 * Use: ws_frame_feed() the bytes read, then call ws_frame_next() until it
 * answers WS_FRAME_MORE (all of them taken; feed more later). A data
 * message arrives as WS_FRAME_DATA chunks (the first flagged `first`,
 * possibly empty) and then WS_FRAME_END; control frames arrive whole, also
 * between the chunks of a fragmented message. After WS_FRAME_CLOSE or
 * WS_FRAME_ERROR the reader reads nothing more (ws_frame_next answers
 * WS_FRAME_MORE, dropping what is fed). */
#ifndef KEEL_WS_FRAME_H
#define KEEL_WS_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum ws_frame_event {
    WS_FRAME_MORE,  /* all the fed bytes are taken: feed more */
    WS_FRAME_DATA,  /* a chunk of a data message: data/len, first, binary */
    WS_FRAME_END,   /* the data message whose chunks came is complete */
    WS_FRAME_PING,  /* a ping: its payload in data/len (answer with a pong) */
    WS_FRAME_PONG,  /* a pong: its payload in data/len */
    WS_FRAME_CLOSE, /* a valid close frame: code (0: none given), the reason in data/len */
    WS_FRAME_ERROR  /* the peer broke the protocol: close the connection with `code` */
};

struct ws_frame_ev {
    enum ws_frame_event type;
    /* DATA: the chunk; PING/PONG: the payload; CLOSE: the reason (UTF-8).
     * Valid until the next ws_frame_next call. */
    const unsigned char *data;
    size_t len;
    bool first;  /* DATA: the message's first chunk */
    bool binary; /* DATA: a binary message (else text, checked to be UTF-8) */
    /* CLOSE: the peer's code (0: none). ERROR: the code to close with:
     * 1002 protocol error, 1007 invalid UTF-8 (a text message or a close
     * reason), 1009 a message over max_message. */
    uint16_t code;
    /* ERROR: the frame stream itself cannot be parsed (a bad length
     * encoding, a control frame over 125 bytes or fragmented): nothing
     * after it can be read, not even a close frame. */
    bool broken;
};

struct wslay_frame_context;

struct ws_frame_reader {
    /* The largest data message (all its fragments) accepted, checked at
     * each data frame's start: the owner may change it between feeds. */
    uint64_t max_message;
    /* private */
    struct wslay_frame_context *fr;
    const unsigned char *in; /* the bytes fed, not yet handed to wslay */
    size_t inlen, inoff;
    bool stopped;  /* after CLOSE or ERROR */
    bool discard;  /* data messages are no longer delivered nor UTF-8-checked */
    bool mid;      /* inside a frame: more of its payload follows */
    uint8_t op;    /* the frame's opcode */
    bool fin;      /* its FIN bit */
    uint64_t left; /* its payload bytes still to come */
    int msg_op;    /* the data message in progress: text or binary, -1 between messages */
    uint64_t msg_len;
    bool msg_first;      /* its first chunk is not delivered yet */
    bool end_pending;    /* WS_FRAME_END is the next event */
    unsigned char u8[4]; /* text: the end of the last chunk, an incomplete UTF-8 sequence */
    size_t u8len;
    unsigned char ctrl[125]; /* a control frame's payload */
    size_t ctrl_len;
};

/* A reader for a server: client frames must be masked. Returns false when
 * out of memory. The reader must stay where it is until ws_frame_free
 * (wslay keeps its address). */
bool ws_frame_init(struct ws_frame_reader *r, uint64_t max_message);
void ws_frame_free(struct ws_frame_reader *r);

/* Hand over bytes read from the peer. They are not copied: they must stay
 * in place until ws_frame_next answers WS_FRAME_MORE. Bytes fed before
 * that and not taken yet are dropped. */
void ws_frame_feed(struct ws_frame_reader *r, const void *buf, size_t len);

/* The next event (also stored in ev->type). */
enum ws_frame_event ws_frame_next(struct ws_frame_reader *r, struct ws_frame_ev *ev);

/* From now on (the message in progress included) data messages are read
 * and checked for their framing and size, but not delivered, nor checked
 * to be UTF-8: for a connection that no longer runs what it receives but
 * still waits for the close frame. There is no way back. */
void ws_frame_discard(struct ws_frame_reader *r);

/* ---- writing: a server's frames (FIN set, not masked) ---- */

#define WS_FRAME_HEADER_MAX 10

/* The header of a frame with opcode and an n-byte payload, into h; returns
 * its length (2, 4 or 10). */
size_t ws_frame_header(unsigned char h[WS_FRAME_HEADER_MAX], unsigned opcode, uint64_t n);
/* The size (header and payload) of the unmasked frame whose complete
 * header starts at p. */
size_t ws_frame_size(const unsigned char *p);

#endif
