/* loop.c — a small epoll loop: io sources, timerfd timers, deferred frees so a callback may remove itself. */
#include "config.h"

#include <string.h>
#include <sys/timerfd.h>

#include "loop.h"
#include "util.h"

struct loop_source {
        struct loop *loop;
        int fd;
        bool is_timer;
        bool is_clock;                  /* a clock watch (is_timer too) */
        bool dead;
        loop_io_fn io;
        loop_timer_fn timer;
        void *userdata;
        struct loop_source *next_dead;
};

struct loop {
        int epfd;
        bool quit;
        int code;
        unsigned dispatching;
        struct loop_source *dead;
        uint64_t wakeups;
};

int loop_new(struct loop **ret) {
        struct loop *l = calloc(1, sizeof *l);
        if (!l)
                return -ENOMEM;
        l->epfd = epoll_create1(EPOLL_CLOEXEC);
        if (l->epfd < 0) {
                int r = -errno;
                free(l);
                return r;
        }
        *ret = l;
        return 0;
}

static void loop_reap(struct loop *l) {
        while (l->dead) {
                struct loop_source *s = l->dead;
                l->dead = s->next_dead;
                free(s);
        }
}

struct loop *loop_free(struct loop *l) {
        if (!l)
                return NULL;
        loop_reap(l);
        closep(&l->epfd);
        free(l);
        return NULL;
}

static int source_new(struct loop *l, int fd, uint32_t events, struct loop_source **ret) {
        struct loop_source *s = calloc(1, sizeof *s);
        if (!s)
                return -ENOMEM;
        s->loop = l;
        s->fd = fd;
        struct epoll_event ev = { .events = events, .data.ptr = s };
        if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
                int r = -errno;
                free(s);
                return r;
        }
        *ret = s;
        return 0;
}

int loop_add_io(struct loop *l, int fd, uint32_t events, loop_io_fn cb, void *userdata, struct loop_source **ret) {
        struct loop_source *s;
        int r = source_new(l, fd, events, &s);
        if (r < 0)
                return r;
        s->io = cb;
        s->userdata = userdata;
        *ret = s;
        return 0;
}

int loop_source_set_events(struct loop_source *s, uint32_t events) {
        struct epoll_event ev = { .events = events, .data.ptr = s };
        return epoll_ctl(s->loop->epfd, EPOLL_CTL_MOD, s->fd, &ev) < 0 ? -errno : 0;
}

int loop_add_timer(struct loop *l, loop_timer_fn cb, void *userdata, struct loop_source **ret) {
        int fd = timerfd_create(CLOCK_BOOTTIME, TFD_CLOEXEC | TFD_NONBLOCK);
        if (fd < 0)
                return -errno;
        struct loop_source *s;
        int r = source_new(l, fd, EPOLLIN, &s);
        if (r < 0) {
                close(fd);
                return r;
        }
        s->is_timer = true;
        s->timer = cb;
        s->userdata = userdata;
        *ret = s;
        return 0;
}

/* Far in the future, absolute, cancelled when the clock is set (timerfd_create(2)). */
static int clock_watch_arm(int fd) {
        struct itimerspec its = { .it_value.tv_sec = (time_t)((UINTMAX_C(1) << (sizeof(time_t) * 8 - 1)) - 1) };
        return timerfd_settime(fd, TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET, &its, NULL) < 0 ? -errno : 0;
}

int loop_add_clock_watch(struct loop *l, loop_timer_fn cb, void *userdata, struct loop_source **ret) {
        int fd = timerfd_create(CLOCK_REALTIME, TFD_CLOEXEC | TFD_NONBLOCK);
        if (fd < 0)
                return -errno;
        struct loop_source *s;
        int r = clock_watch_arm(fd);
        if (r >= 0)
                r = source_new(l, fd, EPOLLIN, &s);
        if (r < 0) {
                close(fd);
                return r;
        }
        s->is_timer = s->is_clock = true;
        s->timer = cb;
        s->userdata = userdata;
        *ret = s;
        return 0;
}

static void usec_to_ts(uint64_t usec, struct timespec *ts) {
        ts->tv_sec = (time_t)(usec / 1000000u);
        ts->tv_nsec = (long)(usec % 1000000u) * 1000;
}

int loop_timer_arm(struct loop_source *s, uint64_t usec_from_now, uint64_t interval_usec) {
        struct itimerspec its = { 0 };
        usec_to_ts(usec_from_now ? usec_from_now : 1, &its.it_value);
        usec_to_ts(interval_usec, &its.it_interval);
        return timerfd_settime(s->fd, 0, &its, NULL) < 0 ? -errno : 0;
}

int loop_timer_disarm(struct loop_source *s) {
        struct itimerspec its = { 0 };
        return timerfd_settime(s->fd, 0, &its, NULL) < 0 ? -errno : 0;
}

struct loop_source *loop_source_free(struct loop_source *s) {
        if (!s)
                return NULL;
        struct loop *l = s->loop;
        epoll_ctl(l->epfd, EPOLL_CTL_DEL, s->fd, NULL);
        if (s->is_timer)
                closep(&s->fd);
        s->dead = true;
        /* Another event for s may still be pending in this round: free later. */
        s->next_dead = l->dead;
        l->dead = s;
        if (!l->dispatching)
                loop_reap(l);
        return NULL;
}

int loop_iterate(struct loop *l, int timeout_ms) {
        struct epoll_event evs[16];
        int n = epoll_wait(l->epfd, evs, (int)ARRAY_SIZE(evs), timeout_ms);
        if (n < 0)
                return errno == EINTR ? 0 : -errno;
        l->wakeups++;
        l->dispatching++;
        for (int i = 0; i < n; i++) {
                struct loop_source *s = evs[i].data.ptr;
                if (s->dead)
                        continue;
                int r;
                if (s->is_clock) {
                        uint64_t expirations;
                        if (read(s->fd, &expirations, sizeof expirations) >= 0 || errno != ECANCELED)
                                continue;
                        r = clock_watch_arm(s->fd);
                        if (r >= 0)
                                r = s->timer(s, s->userdata);
                } else if (s->is_timer) {
                        uint64_t expirations;
                        if (read(s->fd, &expirations, sizeof expirations) < 0 && errno == EAGAIN)
                                continue;
                        r = s->timer(s, s->userdata);
                } else
                        r = s->io(s, s->fd, evs[i].events, s->userdata);
                if (r < 0)
                        log_warning_errno(r, "An event source callback failed, ignoring");
        }
        l->dispatching--;
        if (!l->dispatching)
                loop_reap(l);
        return n;
}

int loop_run(struct loop *l) {
        while (!l->quit) {
                int r = loop_iterate(l, -1);
                if (r < 0)
                        return r;
        }
        return l->code;
}

void loop_quit(struct loop *l, int code) {
        l->quit = true;
        l->code = code;
}

uint64_t loop_wakeups(const struct loop *l) { return l->wakeups; }
