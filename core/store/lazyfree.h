/* lazyfree.h — freeing off the main thread, as Redis's lazy free: one
 * background thread frees whole keyspaces (FLUSHALL/FLUSHDB ASYNC) and big
 * values (UNLINK; DEL, expiry and overwrites when the lazyfree-lazy-* configs
 * say so); INFO's lazyfree_pending_objects and lazyfreed_objects count them. */
#ifndef KEEL_LAZYFREE_H
#define KEEL_LAZYFREE_H

#include <stdbool.h>
#include <stddef.h>

#include "dict.h"
#include "object.h"

/* The config entries (config/config_table.c points at them; 0 no, 1 yes). */
extern int lazyfree_lazy_expire;     /* lazyfree-lazy-expire */
extern int lazyfree_lazy_server_del; /* lazyfree-lazy-server-del: overwrites, implicit deletes */
extern int lazyfree_lazy_user_del;   /* lazyfree-lazy-user-del: DEL as UNLINK */
extern int lazyfree_lazy_user_flush; /* lazyfree-lazy-user-flush: FLUSHALL/FLUSHDB default */
extern int lazyfree_replica_flush;   /* replica-lazy-flush: a replica's flush before a full sync */

/* Redis's LAZYFREE_THRESHOLD: a value that costs more than this many
 * allocations to free goes to the thread. */
#define LAZYFREE_THRESHOLD 64

/* A value type's free effort (Redis's lazyfreeGetFreeEffort): list nodes,
 * hash table or skiplist entries; types without one count 1. core_init
 * registers them. */
typedef size_t (*lazyfree_effort_fn)(void *ptr, int enc);
void lazyfree_set_effort(int obj_type, lazyfree_effort_fn fn);

/* Free e, already out of its database: when async and its value's effort
 * is over LAZYFREE_THRESHOLD the value is freed by the thread. */
void lazyfree_kv(struct kv *e, bool async);
/* Free every entry of d (moved out of a database) and d on the thread. */
void lazyfree_dict(struct dict *d);

unsigned long long lazyfree_pending_objects(void);
unsigned long long lazyfree_freed_objects(void);
void lazyfree_reset_stats(void); /* CONFIG RESETSTAT */
/* Wait until the thread has freed everything queued (shutdown, tests). */
void lazyfree_drain(void);

#endif
