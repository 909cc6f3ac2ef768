/* ws_handshake.h — the WebSocket opening handshake (RFC 6455 section 4.2)
 * on the server side: checking an upgrade request (method, HTTP version,
 * Upgrade and Connection headers, Sec-WebSocket-Version and -Key, the
 * endpoint), picking the subprotocol and the mode it implies, the
 * Sec-WebSocket-Accept key and the 101 answer, and the HTTP error answer
 * of a refused handshake. No connection state: ws_conn.c uses it. */
#ifndef KEEL_WS_HANDSHAKE_H
#define KEEL_WS_HANDSHAKE_H

#include <stdbool.h>
#include <stddef.h>

struct http_request;

/* What the messages of the connection carry. */
enum ws_mode {
    WS_JSON, /* JSON commands and replies in text frames */
    WS_RESP  /* a RESP byte stream in binary frames */
};

/* The outcome of ws_handshake_check. */
struct ws_handshake {
    /* accepted */
    enum ws_mode mode;
    int resp;           /* the RESP version the client starts with (2 or 3) */
    const char *proto;  /* the subprotocol chosen (a static string, "" if none) */
    bool webdis;        /* /.json or /.raw without subprotocol: Webdis's shapes (ws_webdis.h) */
    char response[256]; /* the 101 Switching Protocols answer */
    size_t rlen;
    /* refused: the HTTP status, its reason phrase and the error message */
    int status;
    const char *reason, *error;
};

/* Check the upgrade request req. true: accepted, hs->mode, resp, proto and
 * the 101 answer filled in. false: refused, hs->status (400 for a bad
 * handshake: not a GET, no Upgrade: websocket, HTTP/1.0, a
 * Sec-WebSocket-Version other than 13 (none at all is accepted, as Webdis
 * does), a bad Sec-WebSocket-Key; 404 for an unknown
 * endpoint), reason and error filled in. */
bool ws_handshake_check(const struct http_request *req, struct ws_handshake *hs);

/* The HTTP answer of a refused handshake, written into buf[0..len)
 * (truncated to fit, NUL-terminated): {"error":msg} with the status,
 * Sec-WebSocket-Version: 13 and Connection: close. Returns its length. */
size_t ws_handshake_refusal(char *buf, size_t len, int status, const char *reason, const char *msg);

/* Sec-WebSocket-Accept for a client key: base64(SHA1(key + GUID)); out
 * must hold at least 29 bytes (28 + NUL). */
void ws_accept_key(const char *key, size_t klen, char out[29]);

#endif
