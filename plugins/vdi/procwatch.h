/* procwatch.h — exec notifications from the kernel's proc connector (NETLINK_CONNECTOR, CN_IDX_PROC). */
#pragma once

#include <stdint.h>
#include <sys/types.h>

#include "loop.h"

struct procwatch;

/* Called for every exec (the thread group id and the kernel's CLOCK_MONOTONIC
 * time of the exec in ns), and with pid 0 after the kernel dropped events
 * (socket overrun): the caller should rescan. */
typedef void (*procwatch_fn)(void *userdata, pid_t tgid, uint64_t exec_ns);

/* Opens and subscribes the socket and registers it with the loop. Needs
 * CAP_NET_ADMIN and works only in the initial network and PID namespace
 * (elsewhere the kernel refuses the socket or never sends events). */
int procwatch_new(struct loop *l, procwatch_fn cb, void *userdata, struct procwatch **ret);
struct procwatch *procwatch_free(struct procwatch *w);
unsigned long procwatch_events(const struct procwatch *w);
unsigned long procwatch_overruns(const struct procwatch *w);
