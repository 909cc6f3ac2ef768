/* adapters.c — the list of protocol adapters (adapters.h): one line each. */
#include "adapters.h"

#include "http_conn.h"
#include "resp_conn.h"
#include "ws_conn.h"

const struct adapter_def *const adapters[] = {
    &resp_adapter_def,
    &http_adapter_def,
    &ws_adapter_def,
    NULL,
};
