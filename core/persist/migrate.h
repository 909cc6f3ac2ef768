/* migrate.h — MIGRATE's connection cache, closed by the cron (migrate.c). */
#ifndef KEEL_MIGRATE_H
#define KEEL_MIGRATE_H

/* Close MIGRATE connections idle for more than 10 seconds (server cron). */
void migrate_cron(void);

#endif
