/* lazyfree.c — the lazy-free thread (lazyfree.h): a queue of jobs (a value
 * detached from its entry, or a whole keyspace dict) served by one thread,
 * started at the first job, with Redis's counters: pending objects (queued,
 * not yet freed) and freed objects (since start or CONFIG RESETSTAT). */
#include "lazyfree.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "util.h"

int lazyfree_lazy_expire, lazyfree_lazy_server_del, lazyfree_lazy_user_del,
    lazyfree_lazy_user_flush, lazyfree_replica_flush;

static lazyfree_effort_fn effort_fn[OBJ_TYPES];

struct job {
    struct job *next;
    struct dict *d; /* a keyspace, or NULL */
    void *ptr;      /* a value: what obj_ops[type].free_value frees */
    int type, enc;
    unsigned long long objects; /* what it counts for */
};

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER, idle_cv = PTHREAD_COND_INITIALIZER;
static struct job *head, *tail;
static bool started, busy;
static atomic_ullong pending, freed;

void lazyfree_set_effort(int obj_type, lazyfree_effort_fn fn)
{
    if (obj_type >= 0 && obj_type < OBJ_TYPES) effort_fn[obj_type] = fn;
}

static void free_entry(struct dnode *n)
{
    kv_free((struct kv *)n);
}

static void run_job(struct job *j)
{
    if (j->d) {
        dict_release(j->d, free_entry);
        free(j->d);
    } else if (obj_ops[j->type].free_value) {
        obj_ops[j->type].free_value(j->ptr, j->enc);
    }
    atomic_fetch_sub(&pending, j->objects);
    atomic_fetch_add(&freed, j->objects);
    free(j);
}

static void *thread_main(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&mu);
    for (;;) {
        struct job *j;
        while (!head)
            pthread_cond_wait(&cv, &mu);
        j = head;
        head = j->next;
        if (!head) tail = NULL;
        busy = true;
        pthread_mutex_unlock(&mu);
        run_job(j);
        pthread_mutex_lock(&mu);
        busy = false;
        if (!head) pthread_cond_broadcast(&idle_cv);
    }
    return NULL;
}

static void submit(struct job *j)
{
    atomic_fetch_add(&pending, j->objects);
    pthread_mutex_lock(&mu);
    if (!started) {
        pthread_t t;
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        started = pthread_create(&t, &attr, thread_main, NULL) == 0;
        pthread_attr_destroy(&attr);
        if (!started) { /* no thread: free it here */
            pthread_mutex_unlock(&mu);
            run_job(j);
            return;
        }
    }
    j->next = NULL;
    if (tail)
        tail->next = j;
    else
        head = j;
    tail = j;
    pthread_cond_signal(&cv);
    pthread_mutex_unlock(&mu);
}

void lazyfree_kv(struct kv *e, bool async)
{
    struct job *j;
    size_t effort;
    if (!async || e->type == OBJ_STRING || !obj_ops[e->type].free_value) {
        kv_free(e);
        return;
    }
    effort = effort_fn[e->type] ? effort_fn[e->type](e->v.ptr, (int)e->enc) : 1;
    if (effort <= LAZYFREE_THRESHOLD) {
        kv_free(e);
        return;
    }
    j = xcalloc(1, sizeof(*j));
    j->ptr = e->v.ptr;
    j->type = (int)e->type;
    j->enc = (int)e->enc;
    j->objects = 1;
    free(e); /* the entry itself: key, expire and header; the value is the job's */
    submit(j);
}

void lazyfree_dict(struct dict *d)
{
    struct job *j = xcalloc(1, sizeof(*j));
    j->d = d;
    j->objects = dict_size(d);
    submit(j);
}

unsigned long long lazyfree_pending_objects(void)
{
    return atomic_load(&pending);
}

unsigned long long lazyfree_freed_objects(void)
{
    return atomic_load(&freed);
}

void lazyfree_reset_stats(void)
{
    atomic_store(&freed, 0);
}

void lazyfree_drain(void)
{
    pthread_mutex_lock(&mu);
    while (head || busy)
        pthread_cond_wait(&idle_cv, &mu);
    pthread_mutex_unlock(&mu);
}
