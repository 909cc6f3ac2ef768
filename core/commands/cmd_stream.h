/* cmd_stream.h — what the stream command files share (cmd_stream.c: the
 * entry commands and XREAD; cmd_stream_group.c: consumer groups): typed
 * lookups, id arguments, and replying with a range of entries. */
#ifndef KEEL_CMD_STREAM_H
#define KEEL_CMD_STREAM_H

#include <stdbool.h>

#include "kernel.h"
#include "t_stream.h"

#define ERR_INVALID_ID "ERR Invalid stream ID specified as stream command argument"
#define XREAD_BLOCKED_DEFAULT_COUNT 1000

struct kv;
struct stream *stream_of(struct kv *e);
/* Look a key up: NULL when missing or of another type (then WRONGTYPE was
 * replied and *bad set). */
struct kv *xlookup(struct exec *x, const char *key, size_t n, bool write, bool *bad);
/* A strict id (no - or +): false after replying the error. */
bool xparse_id(struct exec *x, const char *p, size_t n, uint64_t missing_seq, struct sid *id);
/* Bulk-reply an id. */
void xreply_id(struct reply *r, const struct sid *id);

/* Reply entries start..end (count 0: all) as [id, [f, v, ...]] pairs; with
 * a group, as XREADGROUP serves them (history from the consumer's PEL, or
 * new entries delivered into the PEL). Returns how many were replied. */
#define XRANGE_NOACK 1
#define XRANGE_HISTORY 2
#define XRANGE_NEW_CONSUMER 4 /* the consumer was made by this read (NOACK propagates it) */
long long xreply_range(struct exec *x, struct stream *s, const struct sid *start,
                       const struct sid *end, long long count, bool rev, struct sgroup *g,
                       struct sconsumer *c, int flags, const char *key, size_t klen,
                       const char *gname, size_t glen);

/* Propagate the XCLAIM ... FORCE JUSTID LASTID that gives a replica / the
 * AOF the same pending entry (as Redis's streamPropagateXCLAIM). */
void xpropagate_claim(struct exec *x, const char *key, size_t klen, const char *gname, size_t glen,
                      const struct sgroup *g, const struct sid *id, const struct snack *nack);

/* XREAD and XREADGROUP: one body (cmd_stream.c). */
struct xread_args {
    long long count;
    bool block;
    long long block_ms;
    int streams_slot, ids_slot;
    const char *group, *consumer;
    size_t glen, clen;
    bool noack;
};
void xread_generic(struct exec *x, const struct xread_args *a);

#endif
