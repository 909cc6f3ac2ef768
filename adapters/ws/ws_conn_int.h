/* ws_conn_int.h — what ws_conn.c (the connection: states, framing,
 * closing, input, RESP mode, tails) and ws_job.c (JSON requests run as
 * kernel jobs and the shapes of their replies) share: the connection's
 * struct and the few calls each makes into the other. Not for other
 * files: ws_conn.h is the adapter's interface. */
#ifndef KEEL_WS_CONN_INT_H
#define KEEL_WS_CONN_INT_H

#include <event2/event.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <wslay/wslay.h>

#include "conn.h"
#include "json_reply.h"
#include "obuf.h"
#include "reply.h"
#include "resp_parse.h"
#include "stream_tail.h"
#include "ws_frame.h"
#include "ws_handshake.h"
#include "ws_json.h"
#include "ws_webdis.h"

/* Output one round of processing may produce before it is written (and
 * client-output-buffer-limit applied): later input waits for the next round. */
#define WS_OUT_BATCH (256 * 1024)
/* What a connection's side buffers (the JSON reply, RESP replies before
 * framing, a batch) keep once emptied; the input queue keeps four times
 * it. More goes back (obuf_trim): a big reply's memory is not kept. */
#define WS_SIDE_KEEP (16 * 1024)

/* The JSON request being run: its commands, where it stands, and the
 * reply being assembled for a batch. */
struct job {
    bool active;
    struct ws_json_req rq; /* the decoded request (its cmdbuf: the commands) */
    int ncmd;
    int nsteps; /* ncmd, or ncmd + 2 (MULTI, the commands, EXEC) when atomic */
    int next;   /* the next step to submit */
    int cur;    /* the command whose replies arrive now (-1: MULTI/EXEC) */
    bool batch, atomic;
    /* An atomic batch's phase: MULTI's OK and the QUEUED replies are
     * swallowed (QUEUEING), then EXEC's answer comes (EXEC_NEXT): an array
     * whose elements follow (EXEC_ARRAY), or an error or null, kept in body
     * (EXEC_OTHER). */
    enum { AT_NONE, AT_QUEUEING, AT_EXEC_NEXT, AT_EXEC_ARRAY, AT_EXEC_OTHER } phase;
    int exec_idx;
    char *id; /* the request's id as raw JSON text (NULL: none): idbuf or malloc'd */
    char idbuf[48];
    size_t idlen;
    struct obuf body; /* batch: the entries so far */
    int nentries;
};

/* A JSON request's reply still upstream (upstream mode's pipelining): where
 * it goes when it comes, in order: a batch's entry, or its own frame (with
 * the request's id, else named by the command). bytes: id, then name. */
struct ws_deferred {
    struct ws_deferred *next;
    bool batch;
    size_t idlen, namelen, cap; /* cap: room in bytes */
    char bytes[];
};

struct ws_conn {
    /* the base: socket, in (bytes read, handed to the frame reader at
     * once), out (frames, and first the 101 response), client */
    struct conn conn;
    enum ws_mode mode;
    struct ws_webdis wd; /* Webdis's shapes on /.json and /.raw (ws_webdis.h) */
    char auth[256];      /* the upgrade's Authorization (webdis.json acl rules) */
    size_t authlen;
    struct event *tev;          /* the linger timer of a closing connection */
    wslay_event_context_ptr ws; /* sends the control frames */
    struct ws_frame_reader rd;  /* parses the incoming frames */
    /* JSON mode: complete messages waiting to run, each [len (size_t)][binary?][bytes] */
    struct obuf inq;
    size_t inq_off;
    size_t inq_done; /* end of the last complete message (a partial one may follow) */
    /* reading frames: off once a close is queued after a protocol error
     * or the peer's close frame */
    bool rd_on;
    bool close_recv; /* the peer's close frame arrived */
    /* the data message being received (reassembled straight into inq or
     * qbuf) */
    bool rx_data;  /* the message in progress is one we keep */
    size_t rx_hdr; /* JSON: its header's offset in inq */
    struct json_sink js;
    struct reply_ops jops; /* json_reply_ops with EXEC's array intercepted */
    struct job job;
    struct ws_deferred *dq_head, *dq_tail, *replaying;
    struct ws_deferred *dq_spare; /* the last one replayed, kept for the next */
    struct reply dsaved;          /* the client's sink while a deferred reply replays */
    struct obuf scratch;          /* a wrapper prefix being built */
    int vagg;                     /* the aggregate kind of the top-level value in progress */
    /* RESP mode: the byte stream of the messages, its parser, the replies */
    char *qbuf;
    size_t qlen, qcap;
    struct resp_parser parser;
    struct obuf rout;
    size_t fbound;           /* a frame boundary in conn.out (at or before out.sent once written) */
    struct stream_tail tail; /* {"tail":...}: the stream followed */
    struct json_sink tjs;    /* ... its XREAD replies */
    struct reply saved;      /* the client's sink while a tail runs */
    bool close_queued;
    bool close_written;              /* our own close frame (not wslay's) is in out */
    bool wr_shut;                    /* closing: our side is shut down, input is drained */
    unsigned long long written_seen; /* conn.written as of the last linger check */
};
/* ws_conn.c */
/* One data frame whose payload is a + b + d. Nothing after a close frame. */
void ws_emit(struct ws_conn *c, unsigned opcode, const char *a, size_t an, const char *b, size_t bn,
             const char *d, size_t dn);
/* True (and out_full set) once WS_OUT_BATCH of output waits. */
bool ws_out_big(struct ws_conn *c);
/* Start the closing handshake with code and reason; fail: stop reading. */
void ws_enter_closing(struct ws_conn *c, uint16_t code, const char *reason, bool fail);

/* ws_job.c */
void ws_reset_job(struct ws_conn *c);
/* client_adapter.defer (client.h); ws_deferred_free at release. */
bool ws_defer(struct client *cl, enum defer_step step);
void ws_deferred_free(struct ws_conn *c);
/* Park until the pipelined replies still out are in (true), or not (false:
 * none are). */
bool ws_settle(struct ws_conn *c);
/* {"error":msg} ({"id":..,"error":..} with an id) in a frame of its own. */
void ws_error_frame(struct ws_conn *c, const char *id, size_t idlen, const char *msg);
/* The JSON sink's callbacks (json_reply.h) and EXEC's array interception. */
void ws_js_begin(struct json_sink *s, int agg, bool is_error, void *arg);
void ws_js_end(struct json_sink *s, void *arg);
void ws_js_aggregate(struct reply *r, enum reply_agg kind, long long n);
/* Decode one request message into c->job (false: answered as malformed). */
bool ws_job_start(struct ws_conn *c, const char *msg, size_t len);
/* Run the current request's steps until it is done or the client parks. */
void ws_job_run(struct ws_conn *c);

#endif
