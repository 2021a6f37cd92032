/* copyrec.h — the record of what is copied to approved sticks: fanotify on their filesystems, one audit record per file closed after writing, rate-limited with a summary. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct sekisho_plugin_handle;
struct copyrec;

#define COPYREC_BURST 100                          /* file records per device and window */
#define COPYREC_WINDOW_USEC (10ULL * 1000 * 1000)  /* then one summary record for the rest */

/* What a stick's records say it is. */
struct copyrec_labels {
        char name[256];      /* the register entry's name, else the product string */
        char serial[256];
        char port[64];
};

/* Is the filesystem on dev, mounted at mountpoint, on an approved stick?
 * 1 with ret filled: record copies to it; 0: not ours; <0: error. Called
 * for every new mount (not for one already watched). */
typedef int (*copyrec_identify_fn)(void *ctx, dev_t dev, const char *mountpoint, bool mounted_read_only,
                                   struct copyrec_labels *ret);

/* fanotify (CAP_SYS_ADMIN) and a watch on mountinfo, on the plugin's loop. */
int copyrec_new(struct sekisho_plugin_handle *h, copyrec_identify_fn identify, void *ctx, struct copyrec **ret);
/* Pending summaries are written first. Accepts NULL. */
struct copyrec *copyrec_free(struct copyrec *c);
/* Look at the mount table again (the plugin calls it after a policy change). */
int copyrec_rescan(struct copyrec *c);
/* Read what the kernel has queued now (tests pump it; the loop does too). */
int copyrec_drain(struct copyrec *c);
/* Write the summaries of every window with files left unrecorded, now. */
void copyrec_flush(struct copyrec *c);
/* Files recorded one by one, files summarised, filesystems watched, queue overflows. */
void copyrec_counts(const struct copyrec *c, uint64_t *ret_recorded, uint64_t *ret_summarised, size_t *ret_watched,
                    uint64_t *ret_overflows);

/* The rate limit alone: per device, COPYREC_BURST records per window,
 * the rest counted for the window's summary. */
struct copyrec_limit {
        uint64_t window_start;        /* monotonic usec; 0: no window open */
        uint64_t recorded;            /* records in this window */
        uint64_t summarised, bytes;   /* files (and their bytes) left to the summary */
        bool overflow;                /* the kernel's queue overflowed meanwhile: more were written than counted */
};
/* Is the window open at now over, with a summary owed? Then write it
 * and copyrec_limit_reset(). */
bool copyrec_limit_due(const struct copyrec_limit *l, uint64_t now);
/* Opens a window at now if none is open. true: record this file one by
 * one; false: count it (the caller adds it to summarised and bytes). */
bool copyrec_limit_admit(struct copyrec_limit *l, uint64_t now);
void copyrec_limit_reset(struct copyrec_limit *l);
