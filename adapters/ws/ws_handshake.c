/* ws_handshake.c — the WebSocket opening handshake (ws_handshake.h): the
 * checks of an upgrade request, the subprotocol and mode, the accept key
 * (SHA1 + base64 with OpenSSL), the 101 answer and the HTTP error answers
 * of a refused handshake. */
#include "ws_handshake.h"

#include <openssl/evp.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "http_parse.h"

static const char ws_guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

void ws_accept_key(const char *key, size_t klen, char out[29])
{
    unsigned char md[SHA_DIGEST_LENGTH];
    char buf[128];
    if (klen > sizeof(buf) - sizeof(ws_guid)) klen = sizeof(buf) - sizeof(ws_guid);
    memcpy(buf, key, klen);
    memcpy(buf + klen, ws_guid, sizeof(ws_guid) - 1);
    SHA1((const unsigned char *)buf, klen + sizeof(ws_guid) - 1, md);
    EVP_EncodeBlock((unsigned char *)out, md, SHA_DIGEST_LENGTH);
    out[28] = 0;
}

/* A valid key is the base64 form of 16 bytes: 22 characters and "==". */
static bool key_valid(const char *k, size_t n)
{
    static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t i;
    if (n != 24 || k[22] != '=' || k[23] != '=') return false;
    for (i = 0; i < 22; i++)
        if (!memchr(b64, k[i], sizeof(b64) - 1)) return false;
    /* The last character carries 2 bits: the 4 low bits must be zero. */
    return strchr("AQgw", k[21]) != NULL;
}

static bool header_is(const struct http_header *h, const char *v)
{
    size_t n = strlen(v);
    const char *p = h->value;
    size_t l = h->vlen;
    while (l && (*p == ' ' || *p == '\t'))
        p++, l--;
    while (l && (p[l - 1] == ' ' || p[l - 1] == '\t'))
        l--;
    return l == n && strncasecmp(p, v, n) == 0;
}

size_t ws_handshake_refusal(char *buf, size_t len, int status, const char *reason, const char *msg)
{
    char body[256];
    int bl = snprintf(body, sizeof(body), "{\"error\":\"%s\"}", msg);
    int n =
        snprintf(buf, len,
                 "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\n"
                 "Content-Length: %d\r\nSec-WebSocket-Version: 13\r\nConnection: close\r\n\r\n%s",
                 status, reason, bl, body);
    if (n < 0) return 0;
    return (size_t)n < len ? (size_t)n : len - 1;
}

/* The path of the request target, without the query. */
static size_t target_path(const struct http_request *req)
{
    const char *q = memchr(req->target, '?', req->target_len);
    return q ? (size_t)(q - req->target) : req->target_len;
}

/* The first of the client's subprotocols that Keel speaks ("" if none). */
static const char *pick_protocol(const struct http_request *req)
{
    static const char *const known[] = {"json", "resp3", "resp2", NULL};
    const struct http_header *h = http_header(req, "Sec-WebSocket-Protocol");
    const char *p, *e;
    if (!h) return "";
    p = h->value;
    e = h->value + h->vlen;
    while (p < e) {
        const char *s, *t;
        int i;
        while (p < e && (*p == ' ' || *p == '\t' || *p == ','))
            p++;
        s = p;
        while (p < e && *p != ',')
            p++;
        t = p;
        while (t > s && (t[-1] == ' ' || t[-1] == '\t'))
            t--;
        for (i = 0; known[i]; i++)
            if ((size_t)(t - s) == strlen(known[i]) &&
                strncasecmp(s, known[i], (size_t)(t - s)) == 0)
                return known[i];
    }
    return "";
}

static bool refuse(struct ws_handshake *hs, int status, const char *reason, const char *error)
{
    hs->status = status;
    hs->reason = reason;
    hs->error = error;
    return false;
}

bool ws_handshake_check(const struct http_request *req, struct ws_handshake *hs)
{
    const struct http_header *key = http_header(req, "Sec-WebSocket-Key");
    const struct http_header *ver = http_header(req, "Sec-WebSocket-Version");
    size_t plen = target_path(req);
    const char *proto;
    char accept[29];
    int n;

    memset(hs, 0, sizeof(*hs));
    if (req->method != HM_GET || !req->upgrade_ws)
        return refuse(hs, 400, "Bad Request",
                      "a WebSocket upgrade is a GET with Upgrade: websocket");
    /* RFC 6455 4.1: the handshake is HTTP/1.1 or later. */
    if (req->minor < 1) return refuse(hs, 400, "Bad Request", "a WebSocket upgrade needs HTTP/1.1");
    /* Webdis's own test client sends no version: accepted as 13. */
    if (ver && !header_is(ver, "13"))
        return refuse(hs, 400, "Bad Request", "Sec-WebSocket-Version must be 13");
    if (!key || !key_valid(key->value, key->vlen))
        return refuse(hs, 400, "Bad Request", "missing or invalid Sec-WebSocket-Key");
    if (plen == 1 && req->target[0] == '/') {
        hs->mode = WS_JSON;
        hs->resp = 3;
    } else if (plen == 6 && !memcmp(req->target, "/.json", 6)) {
        hs->mode = WS_JSON;
        hs->resp = 2;
        hs->webdis = true;
    } else if (plen == 5 && !memcmp(req->target, "/.raw", 5)) {
        hs->mode = WS_RESP;
        hs->resp = 2;
        hs->webdis = true;
    } else {
        return refuse(hs, 404, "Not Found", "WebSocket endpoints are /, /.json and /.raw");
    }
    proto = pick_protocol(req);
    if (proto[0]) hs->webdis = false; /* a subprotocol asks for Keel's modes */
    if (!strcmp(proto, "json")) {
        hs->mode = WS_JSON;
        hs->resp = 3;
    } else if (!strcmp(proto, "resp3")) {
        hs->mode = WS_RESP;
        hs->resp = 3;
    } else if (!strcmp(proto, "resp2")) {
        hs->mode = WS_RESP;
        hs->resp = 2;
    }
    hs->proto = proto;

    ws_accept_key(key->value, key->vlen, accept);
    n = snprintf(hs->response, sizeof(hs->response),
                 "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                 "Connection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n%s%s%s\r\n",
                 accept, proto[0] ? "Sec-WebSocket-Protocol: " : "", proto, proto[0] ? "\r\n" : "");
    hs->rlen = (size_t)n;
    return true;
}
