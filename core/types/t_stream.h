/* t_stream.h — the stream value type, laid out as Redis 7.0 keeps it: a rax
 * keyed by each node's 128-bit big-endian master id whose values are
 * listpacks in Redis's stream node format (master entry: count, deleted,
 * master field count, the master fields, 0; then per entry: flags, ms and
 * seq deltas from the master id, the values alone when the fields are the
 * master's (SAMEFIELDS) else num-fields and field/value pairs, and the
 * lp-count of the entry), bounded by stream-node-max-bytes / -entries.
 * Consumer groups (a rax by name) keep a PEL (rax of 128-bit ids → struct
 * snack) and consumers (rax by name) with their own PEL pointing at the
 * same nacks. Structure only: no arguments, no replies (cmd_stream*.c). */
#ifndef KEEL_T_STREAM_H
#define KEEL_T_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rax.h"

struct sid {
    uint64_t ms, seq;
};

#define SF_NONE 0
#define SF_DELETED 1
#define SF_SAMEFIELDS 2

struct stream {
    struct rax *rax; /* master id (16 bytes BE) → listpack */
    uint64_t length;
    struct sid last_id;
    struct sid first_id;
    struct sid max_deleted_id;
    uint64_t entries_added;
    struct rax *cgroups; /* name → struct sgroup (NULL until the first group) */
    void **tail;         /* the last node's value slot in rax (NULL: look it up) */
    unsigned char tail_key[16];
};

struct sconsumer;
struct snack { /* a pending (delivered, not acknowledged) entry */
    long long delivery_time;
    uint64_t delivery_count;
    struct sconsumer *consumer;
};

struct sconsumer {
    long long seen_time;
    char *name;
    size_t nlen;
    struct rax *pel; /* id → the group's struct snack (shared) */
};

#define SCG_INVALID_READ (-1LL) /* entries_read unknown (Redis's SCG_INVALID_ENTRIES_READ) */

struct sgroup {
    struct sid last_id;
    long long entries_read;
    struct rax *pel;       /* id → struct snack (owned) */
    struct rax *consumers; /* name → struct sconsumer */
};

static inline int sid_cmp(const struct sid *a, const struct sid *b)
{
    if (a->ms != b->ms) return a->ms < b->ms ? -1 : 1;
    if (a->seq != b->seq) return a->seq < b->seq ? -1 : 1;
    return 0;
}
void sid_encode(unsigned char out[16], const struct sid *id);
void sid_decode(const unsigned char in[16], struct sid *id);
/* "ms-seq" text into buf (at least 42 bytes); returns its length. */
int sid_format(char *buf, const struct sid *id);
/* Parse "ms[-seq]" (seq defaults to missing_seq when absent). "-" and "+"
 * are the smallest and largest ids when allow_special. *seq_given tells
 * whether the seq part was there; with allow_auto_seq "ms-*" parses with
 * *seq_given false. Returns false when the text is not an id. */
bool sid_parse(const char *p, size_t n, uint64_t missing_seq, bool allow_special,
               bool allow_auto_seq, struct sid *id, bool *seq_given);
/* The id after / before id: false when there is none (max / 0-0). */
bool sid_incr(struct sid *id);
bool sid_decr(struct sid *id);

struct stream *stream_new(void);
void stream_free_value(void *ptr, int enc);
/* What freeing it costs (the lazy-free threshold): nodes, groups, pending entries. */
size_t stream_free_effort(void *ptr, int enc);
void *stream_dup_value(void *ptr, int enc);

/* Append an entry: use_id NULL for an automatic id ("*"), else the id with
 * seq_given false for "ms-*". Returns 0 with *added, EDOM (the id is not
 * greater than the top item) or ERANGE (no id is left: "ms-*" after
 * ms-18446744073709551615, which Redis 7.0 answers as "Elements are too
 * large to be stored"). */
int stream_append(struct stream *s, const char *const *fields, const size_t *lens, long nfields,
                  const struct sid *use_id, bool seq_given, struct sid *added);

/* Walk entries between start and end (inclusive), forward or backward,
 * skipping deleted ones. After stream_iter_next gives an id, read its
 * fields with stream_iter_field until it returns false. */
struct stream_iter {
    struct stream *s;
    struct sid start, end;
    bool rev, fresh;
    struct rax_iter ri;
    unsigned char *lp;
    unsigned char *cur;          /* forward: next entry's flags; backward: its lp-count */
    unsigned char *master_first; /* first master field */
    long long master_nfields;
    struct sid master_id;
    /* the current entry */
    long long flags, nfields, fi;
    unsigned char *fp, *mfp; /* next value (or field) / next master field */
};
void stream_iter_start(struct stream_iter *it, struct stream *s, const struct sid *start,
                       const struct sid *end, bool rev);
bool stream_iter_next(struct stream_iter *it, struct sid *id, long long *nfields);
bool stream_iter_field(struct stream_iter *it, const char **f, size_t *fl, char *fbuf,
                       const char **v, size_t *vl, char *vbuf);
void stream_iter_stop(struct stream_iter *it);

/* Delete one entry by id: true when it existed. Keeps first_id and
 * max_deleted_id as XDEL does. */
bool stream_delete(struct stream *s, const struct sid *id);
/* Is there a live entry with this id? */
bool stream_has_entry(struct stream *s, const struct sid *id);
/* A stream from an untrusted source (RESTORE, an RDB image) is whole:
 * every node in the node layout above with its counts right, ids strictly
 * increasing from each node's master id, length the live entries, and
 * last_id not before the last entry. */
bool stream_validate(struct stream *s);
/* First / last live id (0-0 when empty): false when the stream is empty. */
bool stream_edge_id(struct stream *s, bool first, struct sid *id);

enum stream_trim_strategy { TRIM_NONE, TRIM_MAXLEN, TRIM_MINID };
/* Trim as XADD/XTRIM do: whole nodes first; with approx, never inside a
 * node; limit (0: none) caps the entries removed. Returns how many. */
long long stream_trim(struct stream *s, enum stream_trim_strategy how, long long maxlen,
                      const struct sid *minid, bool approx, long long limit);

/* Consumer groups. */
struct sgroup *stream_group_find(struct stream *s, const char *name, size_t n);
/* NULL when a group of that name exists. */
struct sgroup *stream_group_create(struct stream *s, const char *name, size_t n,
                                   const struct sid *id, long long entries_read);
bool stream_group_destroy(struct stream *s, const char *name, size_t n);
struct sconsumer *stream_consumer_find(struct sgroup *g, const char *name, size_t n);
/* Creates when absent; *created (if given) tells. */
struct sconsumer *stream_consumer_get(struct sgroup *g, const char *name, size_t n, long long now,
                                      bool *created);
/* Deletes a consumer and its pending entries; returns how many it had. */
long long stream_consumer_delete(struct sgroup *g, const char *name, size_t n);
struct snack *snack_new(struct sconsumer *c, long long now);
/* Estimate of the entries after the group's last id (Redis 7.0's lag); -1: unknown. */
/* XINFO's lag of a group: false when it cannot be known (Redis's null).
 * Negative when ENTRIESREAD was set past the entries added, as Redis's. */
bool stream_group_lag(struct stream *s, struct sgroup *g, long long *lag);
/* entries_read estimate for an id: as Redis's streamEstimateDistanceFromFirstEverEntry. */
long long stream_estimate_distance(struct stream *s, const struct sid *id);
bool stream_range_has_tombstones(struct stream *s, const struct sid *start, const struct sid *end);

#endif
