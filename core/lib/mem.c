/* mem.c — allocation accounting (mem.h). With glibc, this file replaces the
 * malloc family as glibc documents it ("Replacing malloc": malloc, free,
 * calloc, realloc and the aligned forms, defined by the program), each
 * forwarding to glibc's own allocator (__libc_malloc, ...) and adding or
 * subtracting malloc_usable_size() of the block to a counter: a plain one
 * for the main thread (mem_set_main_thread), an atomic one for the others.
 * Every allocation of the process is seen, libraries' and other threads'
 * (AOF fsync, asynchronous flush) included. Under AddressSanitizer the sanitizer
 * owns malloc, and its own count of live bytes is used instead. */
#include "mem.h"

#include <errno.h>
#include <malloc.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>

#if defined(__SANITIZE_ADDRESS__)
#define KEEL_MEM_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define KEEL_MEM_ASAN 1
#endif
#endif

#ifdef KEEL_MEM_ASAN

size_t __sanitizer_get_current_allocated_bytes(void); /* the sanitizer runtime's */

size_t mem_used(void)
{
    return __sanitizer_get_current_allocated_bytes();
}

void mem_set_main_thread(void) {}

#else

/* glibc's allocator under its exported names. */
void *__libc_malloc(size_t n);
void __libc_free(void *p);
void *__libc_calloc(size_t n, size_t m);
void *__libc_realloc(void *p, size_t n);
void *__libc_memalign(size_t align, size_t n);
void *__libc_valloc(size_t n);
void *__libc_pvalloc(size_t n);

/* The main thread (the one that runs commands and does nearly every
 * allocation) keeps its count in a plain variable; other threads (AOF
 * fsync, asynchronous frees) use an atomic one. A block freed by another
 * thread than the one that allocated it makes one count go down while
 * the other went up: the sum is right, so both are signed. */
static long long used_main;
static _Atomic long long used_other;
static __thread int is_main __attribute__((tls_model("initial-exec")));

static inline void add(long long n)
{
    if (is_main)
        used_main += n;
    else
        atomic_fetch_add_explicit(&used_other, n, memory_order_relaxed);
}

static inline void *counted(void *p)
{
    if (p) add((long long)malloc_usable_size(p));
    return p;
}

static inline void uncount(void *p)
{
    if (p) add(-(long long)malloc_usable_size(p));
}

void mem_set_main_thread(void)
{
    is_main = 1;
}

size_t mem_used(void)
{
    long long n = used_main + atomic_load_explicit(&used_other, memory_order_relaxed);
    return n > 0 ? (size_t)n : 0;
}

void *malloc(size_t n)
{
    return counted(__libc_malloc(n));
}

void free(void *p)
{
    uncount(p);
    __libc_free(p);
}

void *calloc(size_t n, size_t m)
{
    return counted(__libc_calloc(n, m));
}

void *realloc(void *p, size_t n)
{
    size_t before = p ? malloc_usable_size(p) : 0;
    void *q;
    if (p && n == 0) { /* glibc frees and returns NULL */
        free(p);
        return NULL;
    }
    q = __libc_realloc(p, n);
    if (!q) return NULL; /* p is untouched */
    add(-(long long)before);
    return counted(q);
}

void *reallocarray(void *p, size_t n, size_t m)
{
    size_t bytes;
    if (__builtin_mul_overflow(n, m, &bytes)) {
        errno = ENOMEM;
        return NULL;
    }
    return realloc(p, bytes);
}

void *memalign(size_t align, size_t n)
{
    return counted(__libc_memalign(align, n));
}

void *aligned_alloc(size_t align, size_t n)
{
    return counted(__libc_memalign(align, n));
}

int posix_memalign(void **out, size_t align, size_t n)
{
    void *p;
    if (align % sizeof(void *) != 0 || (align & (align - 1)) != 0) return EINVAL;
    p = __libc_memalign(align, n);
    if (!p) return ENOMEM;
    *out = counted(p);
    return 0;
}

void *valloc(size_t n)
{
    return counted(__libc_valloc(n));
}

void *pvalloc(size_t n)
{
    return counted(__libc_pvalloc(n));
}

#endif

size_t je_usable(size_t n)
{
    size_t spacing;
    int lg;
    if (n <= 8) return 8;
    if (n <= 128) return (n + 15) & ~(size_t)15;
    lg = 63 - __builtin_clzll((unsigned long long)(n - 1));
    spacing = (size_t)1 << (lg - 2);
    return (n + spacing - 1) & ~(spacing - 1);
}
