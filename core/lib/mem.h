/* mem.h — the bytes the process has allocated and not freed, as the
 * allocator counts them (Redis's zmalloc_used_memory): what INFO's
 * used_memory reports and what maxmemory is compared with. */
#ifndef KEEL_MEM_H
#define KEEL_MEM_H

#include <stddef.h>

/* Bytes in use: the usable size of every live heap block (glibc), or the
 * sanitizer's count of live bytes under ASan. Cheap: two loads. */
size_t mem_used(void);
/* The calling thread is the main one (the only one that reads mem_used):
 * its allocations are counted without atomic operations. */
void mem_set_main_thread(void);
/* The usable size jemalloc (Redis's allocator) gives a request of n bytes:
 * its size classes, 8, then steps of 16 to 128, then four classes per power
 * of two. Redis's figures that read an allocation's size (MEMORY USAGE, the
 * room sdsMakeRoomFor leaves in a string) are modelled with it. */
size_t je_usable(size_t n);

#endif
