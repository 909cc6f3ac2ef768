/* webdis_info.h — INFO as today's Webdis answers it in JSON: an object
 * with one member per "field:value" line of the INFO text, section
 * headers ("# Server") and blank lines skipped, values as strings. */
#ifndef KEEL_WEBDIS_INFO_H
#define KEEL_WEBDIS_INFO_H

#include <stddef.h>

#include "reply.h"

/* Call fn for each field of an INFO text; returns the number of fields. */
size_t webdis_info_fields(const char *p, size_t n,
                          void (*fn)(void *arg, const char *k, size_t kl, const char *v, size_t vl),
                          void *arg);

/* Fill ops with the JSON sink's (json_reply.h), a top-level string reply
 * written as that object: for a request whose command is INFO. ctx:
 * struct json_sink *. */
void webdis_info_ops(struct reply_ops *ops);

#endif
