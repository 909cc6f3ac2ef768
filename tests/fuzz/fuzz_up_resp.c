/* fuzz_up_resp.c — libFuzzer target for adapters/upstream/up_resp.c, the
 * decoder of upstream replies (RESP2 and RESP3).
 *
 * Input: bytes 0-1 a split point; the rest is a stream of server bytes.
 * It is decoded twice — whole, and fed in two pieces at the split point —
 * and each way must give the same transcript: every decoded reply replayed
 * as RESP3 through the RESP encoder, then how the stream ended (incomplete
 * or a protocol error). A reply is taken only once complete: an
 * incomplete one leaves the buffer untouched. Any violation aborts. */
#include <event2/buffer.h>
#include <stdint.h>
#include <string.h>

#include "fuzz_util.h"

#include "obuf.h"
#include "resp_encode.h"
#include "up_value.h"
#include "upstream.h"

static void decode(const uint8_t *a, size_t an, const uint8_t *b, size_t bn, struct out *o)
{
    struct evbuffer *in = evbuffer_new();
    struct obuf ob;
    struct reply r;
    struct up_value v;
    int rc, replies = 0;
    memset(&ob, 0, sizeof(ob));
    r.ops = &resp_reply_ops;
    r.ctx = &ob;
    r.resp = 3;
    r.nerr = 0;
    evbuffer_add(in, a, an);
    for (int part = 0; part < 2; part++) {
        for (;;) {
            size_t before = evbuffer_get_length(in);
            rc = up_resp_read(in, &v);
            if (rc != 1) {
                CHECK(evbuffer_get_length(in) == before);
                break;
            }
            CHECK(evbuffer_get_length(in) < before);
            ob.len = 0;
            up_value_replay(&v, &r);
            put(o, ob.buf, ob.len);
            up_value_clear(&v);
            replies++;
        }
        if (rc < 0) break; /* a protocol error ends the connection */
        if (part == 0) evbuffer_add(in, b, bn);
    }
    put(o, rc < 0 ? "!" : ".", 1);
    obuf_free(&ob);
    evbuffer_free(in);
    (void)replies;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct out whole = {0}, split = {0};
    size_t cut;
    if (size < 2) return 0;
    cut = (size_t)(data[0] | data[1] << 8);
    data += 2;
    size -= 2;
    if (cut > size) cut = size;
    decode(data, size, NULL, 0, &whole);
    decode(data, cut, data + cut, size - cut, &split);
    /* a stream cut short by an error may stop earlier when split (the
     * error is seen at the same byte either way) */
    CHECK(whole.n == split.n && memcmp(whole.b, split.b, whole.n) == 0);
    free(whole.b);
    free(split.b);
    return 0;
}
