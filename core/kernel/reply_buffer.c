/* reply_buffer.c — each client's reply buffer size (reply_buffer.h), by
 * Redis 7.0's rules, decided here without knowing any protocol; the
 * adapter owns the buffer and resizes it when told (resize_reply_buffer). */
#include "reply_buffer.h"

#include "client.h"

long long g_reply_buffer_peak_reset_ms = REPLY_BUFFER_PEAK_RESET_DEFAULT;
bool g_reply_buffer_resizing = true;
long long g_reply_buffer_shrinks, g_reply_buffer_expands;

static struct client *cursor; /* the cron's next client */

void reply_buffer_note(struct client *c, size_t used)
{
    if (used > c->rb_size) used = c->rb_size;
    if (used > c->rb_peak) c->rb_peak = used;
}

size_t reply_buffer_usable(size_t n)
{
    size_t group, step;
    if (n <= 8) return 8;
    if (n <= 128) return (n + 15) & ~(size_t)15;
    /* four classes per doubling: (2^k, 2^(k+1)] in steps of 2^(k-2) */
    group = (size_t)1 << (63 - __builtin_clzll((unsigned long long)(n - 1)));
    step = group / 4;
    return (n + step - 1) / step * step;
}

/* Redis's clientsCronResizeOutputBuffer for one client. */
static void resize_one(struct client *c, long long now_ms)
{
    size_t shrink_to = c->rb_size / 2, expand_to = c->rb_size * 2, want = 0;
    size_t qbuf = 0, qfree = 0, obl = 0, oll = 0, omem = 0;
    if (!g_reply_buffer_resizing || !c->adapter || !c->adapter->resize_reply_buffer) return;
    if (shrink_to >= REPLY_BUFFER_MIN && c->rb_peak < shrink_to) {
        want = c->rb_peak + 1 > REPLY_BUFFER_MIN ? c->rb_peak + 1 : REPLY_BUFFER_MIN;
        g_reply_buffer_shrinks++;
    } else if (expand_to < REPLY_BUFFER_MAX * 2 && c->rb_peak == c->rb_size) {
        want = expand_to < REPLY_BUFFER_MAX ? expand_to : REPLY_BUFFER_MAX;
        g_reply_buffer_expands++;
    }
    /* The peak restarts from what the buffer holds now, so an idle
     * client's buffer shrinks at the next visit. */
    if (g_reply_buffer_peak_reset_ms >= 0 &&
        now_ms - c->rb_peak_reset_ms >= g_reply_buffer_peak_reset_ms) {
        if (c->adapter->buffers) c->adapter->buffers(c, &qbuf, &qfree, &obl, &oll, &omem);
        c->rb_peak = obl < c->rb_size ? obl : c->rb_size;
        c->rb_peak_reset_ms = now_ms;
    }
    if (want) {
        c->rb_size = reply_buffer_usable(want);
        if (c->rb_peak > c->rb_size) c->rb_peak = c->rb_size;
        c->adapter->resize_reply_buffer(c, c->rb_size);
    }
}

void reply_buffer_cron(int hz, long long now_ms)
{
    long long n, i;
    /* Redis's clientsCron: numclients / hz clients a call, at least 5. */
    n = hz > 0 ? g_clients.count / hz : g_clients.count;
    if (n < 5) n = g_clients.count < 5 ? g_clients.count : 5;
    for (i = 0; i < n && g_clients.count > 0; i++) {
        struct client *c;
        if (!cursor) cursor = g_clients.head;
        c = cursor;
        cursor = cursor->next;
        resize_one(c, now_ms);
    }
}

static void on_client_free(struct client *c)
{
    if (cursor == c) cursor = c->next;
}

void reply_buffer_init(void)
{
    client_on_free(on_client_free);
}
