/* lock.c — one sekishod per state directory: the lock a second daemon finds taken, with the holder's pid. */
#include "config.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>

#include "lock.h"
#include "util.h"

int state_dir_lock(const char *state_dir, int *ret_fd, pid_t *ret_holder) {
        _cleanup_free_ char *path = path_join(state_dir, "sekishod.lock");
        if (!path)
                return -ENOMEM;
        *ret_holder = 0;
        _cleanup_close_ int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY, 0600);
        if (fd < 0)
                return -errno;
        if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
                if (errno != EWOULDBLOCK)
                        return -errno;
                char buf[32] = "";
                ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
                uint64_t v;
                buf[n > 0 ? n : 0] = '\0';
                buf[strcspn(buf, "\n")] = '\0';
                if (parse_u64(buf, &v) == 0)
                        *ret_holder = (pid_t)v;
                return -EBUSY;
        }
        /* Ours now: the pid is for the message the next one prints, not a lock in itself. */
        char buf[32];
        int n = snprintf(buf, sizeof buf, "%ld\n", (long)getpid());
        if (ftruncate(fd, 0) < 0)
                return -errno;
        ssize_t k = pwrite(fd, buf, (size_t)n, 0);
        if (k != n)
                return k < 0 ? -errno : -EIO;
        *ret_fd = TAKE_FD(fd);
        return 0;
}
