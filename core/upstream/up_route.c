/* up_route.c — the cluster map of upstream mode (up_route.h): nodes, key
 * slots, the slot owners from CLUSTER SLOTS. */
#include "up_route.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

struct up_route g_up;

/* CRC16-CCITT (XMODEM: polynomial 0x1021, initial 0), the checksum Redis
 * Cluster's key slots use; computed bitwise, then cached in a table. */
static uint16_t crc_table[256];
static bool crc_ready;

static void crc_init(void)
{
    int i, b;
    for (i = 0; i < 256; i++) {
        uint16_t c = (uint16_t)(i << 8);
        for (b = 0; b < 8; b++)
            c = (uint16_t)((c & 0x8000) ? (c << 1) ^ 0x1021 : c << 1);
        crc_table[i] = c;
    }
    crc_ready = true;
}

uint16_t up_crc16(const char *p, size_t n)
{
    uint16_t crc = 0;
    size_t i;
    if (!crc_ready) crc_init();
    for (i = 0; i < n; i++)
        crc = (uint16_t)((crc << 8) ^ crc_table[((crc >> 8) ^ (unsigned char)p[i]) & 0xff]);
    return crc;
}

unsigned up_keyslot(const char *key, size_t n)
{
    size_t s, e;
    for (s = 0; s < n; s++)
        if (key[s] == '{') break;
    if (s < n) {
        for (e = s + 1; e < n; e++)
            if (key[e] == '}') break;
        /* a tag: the bytes between the first { and the next }, if any */
        if (e < n && e != s + 1) return up_crc16(key + s + 1, e - s - 1) & (UP_SLOTS - 1);
    }
    return up_crc16(key, n) & (UP_SLOTS - 1);
}

void up_route_init(void)
{
    int i;
    memset(&g_up, 0, sizeof(g_up));
    for (i = 0; i < UP_SLOTS; i++)
        g_up.slot_node[i] = -1;
}

int up_node_get(const char *host, size_t hlen, int port)
{
    struct up_node *nd;
    int i;
    if (hlen >= sizeof(nd->host)) return -1;
    for (i = 0; i < g_up.nnodes; i++) {
        nd = &g_up.nodes[i];
        if (nd->port == port && strlen(nd->host) == hlen && memcmp(nd->host, host, hlen) == 0)
            return i;
    }
    if (g_up.nnodes == UP_MAX_NODES) return -1;
    nd = &g_up.nodes[g_up.nnodes];
    memset(nd, 0, sizeof(*nd));
    char addr[sizeof(nd->addr)];
    memcpy(nd->host, host, hlen);
    nd->host[hlen] = 0;
    nd->port = port;
    nd->up = true;
    snprintf(addr, sizeof(addr), "%.*s:%d", (int)hlen, host, port);
    memcpy(nd->addr, addr, sizeof(addr));
    return g_up.nnodes++;
}

int up_node_parse(const char *addr, size_t n)
{
    const char *colon = NULL;
    long long port;
    size_t i;
    for (i = 0; i < n; i++)
        if (addr[i] == ':') colon = addr + i;
    if (!colon || !util_str2ll(colon + 1, (size_t)(addr + n - colon - 1), &port) || port <= 0 ||
        port > 65535)
        return -1;
    /* "[::1]:7000" as well as "::1:7000" */
    if (colon > addr && addr[0] == '[' && colon[-1] == ']')
        return up_node_get(addr + 1, (size_t)(colon - addr - 2), (int)port);
    return up_node_get(addr, (size_t)(colon - addr), (int)port);
}

static bool int_of(const struct up_value *v, long long *out)
{
    if (v->type == UV_INT) {
        *out = v->i;
        return true;
    }
    return v->type == UV_BULK && util_str2ll(v->s, v->n, out);
}

bool up_route_load_slots(const struct up_value *v, const char *from_host)
{
    int16_t map[UP_SLOTS];
    long long k, s, start, end, port;
    int i, ok = 0;
    if (v->type != UV_ARRAY) return false;
    for (i = 0; i < UP_SLOTS; i++)
        map[i] = -1;
    for (k = 0; k < v->i; k++) {
        const struct up_value *r = &v->elem[k], *m;
        const char *host;
        size_t hlen;
        int node;
        if (r->type != UV_ARRAY || r->i < 3 || !int_of(&r->elem[0], &start) ||
            !int_of(&r->elem[1], &end) || start < 0 || end >= UP_SLOTS || start > end)
            return false;
        m = &r->elem[2];
        if (m->type != UV_ARRAY || m->i < 2 || !int_of(&m->elem[1], &port)) return false;
        if (m->elem[0].type == UV_BULK && m->elem[0].n > 0 &&
            !(m->elem[0].n == 1 && m->elem[0].s[0] == '?')) {
            host = m->elem[0].s;
            hlen = m->elem[0].n;
        } else {
            host = from_host;
            hlen = strlen(from_host);
        }
        node = up_node_get(host, hlen, (int)port);
        if (node < 0) return false;
        for (s = start; s <= end; s++)
            map[s] = (int16_t)node;
    }
    for (i = 0; i < g_up.nnodes; i++)
        g_up.nodes[i].master = false;
    for (i = 0; i < UP_SLOTS; i++) {
        g_up.slot_node[i] = map[i];
        if (map[i] >= 0) {
            g_up.nodes[map[i]].master = true;
            ok++;
        }
    }
    g_up.slots_ok = ok;
    g_up.cluster = true;
    g_up.ready = ok > 0;
    g_up.refreshes++;
    return true;
}

void up_route_single(int node)
{
    int i;
    for (i = 0; i < g_up.nnodes; i++)
        g_up.nodes[i].master = i == node;
    for (i = 0; i < UP_SLOTS; i++)
        g_up.slot_node[i] = (int16_t)node;
    g_up.slots_ok = UP_SLOTS;
    g_up.cluster = false;
    g_up.ready = true;
    g_up.refreshes++;
}

int up_route_masters_slots(int *out, int *first_slot, int max)
{
    bool seen[UP_MAX_NODES] = {false};
    int i, n = 0;
    for (i = 0; i < UP_SLOTS && n < max; i++) {
        int nd = g_up.slot_node[i];
        if (nd >= 0 && !seen[nd]) {
            seen[nd] = true;
            if (first_slot) first_slot[n] = i;
            out[n++] = nd;
        }
    }
    return n;
}

int up_route_masters(int *out, int max)
{
    return up_route_masters_slots(out, NULL, max);
}

int up_route_any(void)
{
    int m[UP_MAX_NODES], n = up_route_masters(m, UP_MAX_NODES), i;
    for (i = 0; i < n; i++)
        if (g_up.nodes[m[i]].up) return m[i];
    if (n > 0) return m[0];
    return g_up.nnodes > 0 ? 0 : -1;
}

void up_node_count(int node, long long usec, bool error)
{
    struct up_node *nd;
    if (node < 0 || node >= g_up.nnodes) return;
    nd = &g_up.nodes[node];
    nd->calls++;
    nd->usec += usec;
    if (error) nd->errors++;
}

const char *up_route_state(void)
{
    int m[UP_MAX_NODES], n = up_route_masters(m, UP_MAX_NODES), i, up = 0;
    if (!g_up.ready || n == 0) return "down";
    for (i = 0; i < n; i++)
        up += g_up.nodes[m[i]].up;
    if (up == 0) return "down";
    return up == n && g_up.slots_ok == UP_SLOTS ? "ok" : "degraded";
}
