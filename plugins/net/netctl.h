/* netctl.h — the offline `sekishoctl net show` verb: prints table inet sekisho and its drop counters. */
#pragma once

#include <stdbool.h>
#include <stdio.h>

/* Print our table as nft shows it (unless counters_only), then one line per
 * drop class. Returns 0, or -ENOENT (with a message on out) when the table
 * is not loaded in this network namespace, or -errno. Needs CAP_NET_ADMIN. */
int netctl_show(FILE *out, bool counters_only);
