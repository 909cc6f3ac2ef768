/* up_route.h — upstream mode's map of the cluster: the nodes Keel knows
 * (with their per-node figures for INFO, /_metrics and /_health), Redis
 * Cluster's key slots (CRC16 with {hash tags}) and which node owns each
 * slot, loaded from a CLUSTER SLOTS reply. Protocol-free: the upstream
 * adapter feeds it decoded replies. */
#ifndef KEEL_UP_ROUTE_H
#define KEEL_UP_ROUTE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "up_value.h"

#define UP_SLOTS 16384
#define UP_MAX_NODES 128

struct up_node {
    char host[64];
    int port;
    char addr[80];                 /* host:port */
    bool master;                   /* owns slots in the last map (or the single server) */
    bool up;                       /* its last connection worked */
    long long calls, errors, usec; /* replies, error replies and failures, time waited */
    long long fails;               /* connections lost or refused */
    long long down_since_ms;       /* 0 while up */
};

struct up_route {
    bool enabled; /* upstream mode */
    bool ready;   /* a slot map (or the single server) is known */
    bool cluster; /* the upstream is a Redis Cluster (else one server) */
    int nnodes;
    struct up_node nodes[UP_MAX_NODES];
    int16_t slot_node[UP_SLOTS]; /* -1: no owner known */
    int slots_ok;                /* slots with an owner */
    long long refreshes;         /* slot maps loaded */
    long long redirects;         /* MOVED and ASK replies followed */
};
extern struct up_route g_up;

/* Redis Cluster's slot of a key: CRC16 (XMODEM) of the key, or of its
 * {hash tag} when it has a non-empty one, modulo 16384. */
uint16_t up_crc16(const char *p, size_t n);
unsigned up_keyslot(const char *key, size_t n);

void up_route_init(void);
/* The node at host:port, added if new (-1: the table is full). */
int up_node_get(const char *host, size_t hlen, int port);
/* Parse "host:port" (the last colon splits) into a node. */
int up_node_parse(const char *addr, size_t n);
/* Load a CLUSTER SLOTS reply; a node announcing an empty host is at
 * from_host (the host that answered). False: not a slot map. */
bool up_route_load_slots(const struct up_value *v, const char *from_host);
/* The single-server mode: every slot to node. */
void up_route_single(int node);
/* The masters (nodes owning slots) in the order of their first slot: the
 * fan-out order and SCAN's node numbering. Returns how many. */
int up_route_masters(int *out, int max);
/* The same with each master's first slot (a fan-out part or a SCAN step
 * follows that slot if its master changes). */
int up_route_masters_slots(int *out, int *first_slot, int max);
/* Any master that is up (the first one otherwise; -1: none known). */
int up_route_any(void);
/* "ok" (a slot map and every master up), "degraded" (a master down),
 * "down" (no map, or no master reachable): INFO and /_health. */
const char *up_route_state(void);
/* A node's figures after one request (error: an error reply or a failure). */
void up_node_count(int node, long long usec, bool error);

#endif
