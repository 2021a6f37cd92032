/* lock.h — one sekishod per state directory: an flock(2) on STATE-DIR/sekishod.lock. */
#pragma once

#include <sys/types.h>

/* Take the lock, held until the process exits (the fd is returned and
 * stays open). Another process holding it: -EBUSY, its pid (from the file)
 * in *ret_holder (0 if unknown). */
int state_dir_lock(const char *state_dir, int *ret_fd, pid_t *ret_holder);
