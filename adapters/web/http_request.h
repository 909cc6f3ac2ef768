/* http_request.h — turning an HTTP request into commands, shared by the
 * HTTP and WebSocket adapters: Webdis's URL form
 * (/[db/]CMD/arg1/.../argN[.ext][?query], each argument %XX-decoded and
 * binary-safe, '+' as space), the query string, and JSON command arrays
 * (["SET","k","v"] or a batch [["SET","k","v"],["GET","k"]]; strings and
 * numbers, 64-bit integers exact). The decoded arguments live in a
 * `struct cmdbuf` the caller owns. */
#ifndef KEEL_HTTP_REQUEST_H
#define KEEL_HTTP_REQUEST_H

#include <stdbool.h>
#include <stddef.h>

#include "registry.h" /* struct argv_ref */

/* One or more decoded commands: argv arrays over one byte arena. */
struct cmdbuf {
    char *bytes;
    size_t blen, bcap;
    struct argv_ref *argv; /* all commands' arguments, back to back */
    int argc, acap;
    int *cmd_start, *cmd_argc; /* per command: first index into argv, count */
    int ncmd, ccap;
};

void cmdbuf_reset(struct cmdbuf *b);
void cmdbuf_free(struct cmdbuf *b);
/* Pointers in argv are fixed up by this (call after the last append). */
void cmdbuf_finish(struct cmdbuf *b);

/* Webdis path: "/7/GET/k.json". Fills one command into b, sets *db (-1 when
 * not given) and the extension (without the dot, "" when none). Returns
 * false on an empty command. */
bool http_decode_path(const char *path, size_t n, struct cmdbuf *b, int *db, char *ext,
                      size_t extlen);
/* A %XX-decoded value ('+' as space) appended as one argument of the
 * current command (for PUT bodies: raw=true appends bytes undecoded). */
void cmdbuf_add_arg(struct cmdbuf *b, const char *p, size_t n, bool raw);
/* Start a new command in b. */
void cmdbuf_begin(struct cmdbuf *b);

/* The URL path of a request whose body carries the command(s): it may
 * give the database and the format ("/", "/7", "/7/.raw", "/.json"),
 * nothing else. Returns false with why set (a 400) when it names a command
 * too (the ambiguous case: which one would run?). */
bool http_path_db_format(const char *path, size_t n, int *db, char *ext, size_t extlen, char *why,
                         size_t whylen);
/* Is a POST body JSON? Content-Type application/json, or no Content-Type
 * and a body whose first non-blank byte is '['. */
bool http_body_is_json(const char *ctype, size_t ctlen, const char *body, size_t n);

/* JSON body: a command array, or an array of them (batch). Returns false
 * and sets err when the JSON is not one of those shapes. *batch tells
 * which form it was. */
bool http_decode_json(const char *p, size_t n, struct cmdbuf *b, bool *batch, char *err,
                      size_t errlen);

/* An atomic batch runs as MULTI, its commands, EXEC. A transaction-control
 * command inside it (MULTI EXEC DISCARD WATCH UNWATCH: the TRANSACTION ACL
 * category; and RESET), or the batch arriving while the connection is
 * already inside MULTI, would break that: such a batch is refused whole,
 * before anything runs. Returns the error text, or NULL to run it. */
const char *cmdbuf_atomic_refusal(const struct cmdbuf *b, bool in_multi);

/* Query string: the value of `name` (still %-encoded), or NULL. */
const char *http_query_get(const char *query, size_t qlen, const char *name, size_t *vlen);
/* %XX-decode (and '+' -> ' ') into out (at least n bytes); returns length. */
size_t http_urldecode(const char *p, size_t n, char *out);

#endif
