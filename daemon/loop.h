/* loop.h — the daemon's single epoll event loop: fds, timers, and nothing else. */
#pragma once

#include <stdint.h>
#include <sys/epoll.h>

struct loop;
struct loop_source;

/* Callbacks return 0, or a negative errno that is logged by the loop and
 * otherwise ignored (a source never stops the loop by failing). */
typedef int (*loop_io_fn)(struct loop_source *s, int fd, uint32_t revents, void *userdata);
typedef int (*loop_timer_fn)(struct loop_source *s, void *userdata);

int loop_new(struct loop **ret);
struct loop *loop_free(struct loop *l);

/* Watch fd for events (EPOLLIN, EPOLLOUT, ...). The fd stays owned by the
 * caller; free the source before closing it. */
int loop_add_io(struct loop *l, int fd, uint32_t events, loop_io_fn cb, void *userdata,
                struct loop_source **ret);
int loop_source_set_events(struct loop_source *s, uint32_t events);

/* A timer backed by its own timerfd (CLOCK_BOOTTIME, so suspend counts).
 * Disarmed until loop_timer_arm(); interval 0 means one-shot. */
int loop_add_timer(struct loop *l, loop_timer_fn cb, void *userdata, struct loop_source **ret);
int loop_timer_arm(struct loop_source *s, uint64_t usec_from_now, uint64_t interval_usec);
int loop_timer_disarm(struct loop_source *s);

/* cb runs whenever CLOCK_REALTIME is set (an NTP step, the RTC corrected,
 * date -s), not as it merely runs on: the timers above count boot time, so
 * whatever is due by the wall clock must be judged again then. */
int loop_add_clock_watch(struct loop *l, loop_timer_fn cb, void *userdata, struct loop_source **ret);

/* Removes the source from the loop. Safe to call from its own callback. */
struct loop_source *loop_source_free(struct loop_source *s);

/* Run until loop_quit(); returns the code given to loop_quit(). */
int loop_run(struct loop *l);
void loop_quit(struct loop *l, int code);

/* One round of dispatch with the given timeout in ms (-1 blocks): for tests
 * and for start-up code that must pump the loop before running it. */
int loop_iterate(struct loop *l, int timeout_ms);

/* Counts epoll wake-ups, so a benchmark can prove an idle loop sleeps. */
uint64_t loop_wakeups(const struct loop *l);
