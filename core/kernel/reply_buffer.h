/* reply_buffer.h — the size of each client's reply buffer, as Redis 7.0's
 * clientsCronResizeOutputBuffer decides it (reply_buffer.c): the peak use
 * since the last reset, growth when the peak filled the buffer (up to
 * 16 KB), shrinking when it stayed under half (down to 1 KB), INFO's
 * reply_buffer_shrinks / reply_buffer_expands, and DEBUG REPLYBUFFER's
 * settings. The numbers live in struct client (rb_size, rb_peak); the
 * buffer itself is the adapter's, resized through its hook. */
#ifndef KEEL_REPLY_BUFFER_H
#define KEEL_REPLY_BUFFER_H

#include <stdbool.h>
#include <stddef.h>

struct client;

#define REPLY_BUFFER_MAX 16384 /* Redis's PROTO_REPLY_CHUNK_BYTES */
#define REPLY_BUFFER_MIN 1024  /* PROTO_REPLY_MIN_BYTES */
#define REPLY_BUFFER_PEAK_RESET_DEFAULT 5000

/* DEBUG REPLYBUFFER PEAK-RESET-TIME (ms, -1: never) and RESIZING. */
extern long long g_reply_buffer_peak_reset_ms;
extern bool g_reply_buffer_resizing;
/* INFO stats (CONFIG RESETSTAT zeroes them). */
extern long long g_reply_buffer_shrinks, g_reply_buffer_expands;

/* The adapter holds `used` bytes of output about to be written: raise the
 * peak (what of it fits in the buffer). */
void reply_buffer_note(struct client *c, size_t used);
/* The bytes an allocation of n really gives (jemalloc's size classes,
 * which redis-server 7.0 reports: Keel allocates the same). */
size_t reply_buffer_usable(size_t n);
/* The cron's share (numclients / hz a call, at least 5): resize and
 * reset peaks. */
void reply_buffer_cron(int hz, long long now_ms);
/* Wiring (core_init.c): forget freed clients. */
void reply_buffer_init(void);

#endif
