/* lockdown.h — mandatory client configuration (Citrix All_Regions.ini, Horizon view-mandatory-config, Remmina profiles), kept in place with inotify. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "loop.h"
#include "plugin.h"

struct lockdown;

/* Called for every file sekisho had to (re)write: client key, path, what was wrong
 * ("created", "changed", "was a symlink", ...), and whether a watch event caused it. */
typedef void (*lockdown_fn)(void *userdata, const char *client, const char *path, const char *what, bool tampered);

int lockdown_new(struct loop *l, const char *sysroot, lockdown_fn cb, void *userdata, struct lockdown **ret);
struct lockdown *lockdown_free(struct lockdown *ld);

/* Write every lockdown for the deny mask and (re)establish the watches. Idempotent. */
int lockdown_apply(struct lockdown *ld, unsigned deny);
void lockdown_status(struct lockdown *ld, struct kvlist *out);

/* Pure helpers, exposed for tests and fuzzing. */
int lockdown_citrix_ini(unsigned deny, char **ret, size_t *ret_size);
int lockdown_citrix_usb(unsigned deny, char **ret, size_t *ret_size);
int lockdown_horizon(unsigned deny, char **ret, size_t *ret_size);
/* The profile with every denied resource's keys forced in its [remmina] group. */
int lockdown_remmina_profile(unsigned deny, const char *old, size_t old_size, char **ret, size_t *ret_size);
