/* mem.c — allocation accounting (mem.h). With glibc, this file replaces the
 * malloc family as glibc documents it ("Replacing malloc": malloc, free,
 * calloc, realloc and the aligned forms, defined by the program), each
 * forwarding to glibc's own allocator (__libc_malloc, ...) and adding or
 * subtracting malloc_usable_size() of the block to one relaxed atomic
 * counter. Every allocation of the process is seen, libraries' and other
 * threads' (AOF fsync, asynchronous flush) included, at the cost of one
 * uncontended atomic add per call. Under AddressSanitizer the sanitizer
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

#else

/* glibc's allocator under its exported names. */
void *__libc_malloc(size_t n);
void __libc_free(void *p);
void *__libc_calloc(size_t n, size_t m);
void *__libc_realloc(void *p, size_t n);
void *__libc_memalign(size_t align, size_t n);
void *__libc_valloc(size_t n);
void *__libc_pvalloc(size_t n);

static _Atomic size_t used;

static inline void *counted(void *p)
{
    if (p) atomic_fetch_add_explicit(&used, malloc_usable_size(p), memory_order_relaxed);
    return p;
}

static inline void uncount(void *p)
{
    if (p) atomic_fetch_sub_explicit(&used, malloc_usable_size(p), memory_order_relaxed);
}

size_t mem_used(void)
{
    return atomic_load_explicit(&used, memory_order_relaxed);
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
    atomic_fetch_sub_explicit(&used, before, memory_order_relaxed);
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
