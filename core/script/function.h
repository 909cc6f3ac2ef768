/* function.h — the function libraries (function.c) as the FUNCTION and
 * FCALL commands (cmd_function.c) see them. */
#ifndef KEEL_FUNCTION_H
#define KEEL_FUNCTION_H

#include <stdbool.h>
#include <stddef.h>

typedef struct lua_State lua_State;
struct flib;

struct ffunc {
    char *name;
    char *desc; /* NULL: none */
    int flags;  /* SF_* */
    int ref;    /* the callback, in the interpreter's registry */
    struct flib *lib;
};

struct flib {
    char *name;
    char *code; /* the whole code, metadata line included */
    size_t codelen;
    struct ffunc *f;
    int nf;
};

extern struct flib **g_flibs; /* in load order */
extern int g_nflibs;

lua_State *function_lua(void);
struct flib *function_lib(const char *name);
struct ffunc *function_find(const char *name, size_t n);
bool function_delete(const char *name);
void function_flush(void);

#endif
