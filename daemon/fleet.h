/* fleet.h — the officer's view of a fleet from a collector's journal: which terminal runs which serial, which are stale, silent, quarantined, travelling. */
#pragma once

#include <stdint.h>
#include <stdio.h>

enum fleet_format { FLEET_TEXT, FLEET_JSON, FLEET_HTML };

/* A terminal whose newest heartbeat is older than this is silent. */
#define FLEET_SILENT_USEC (2ull * 3600 * 1000000)

/* One line (row, object) per terminal that ever sent a record to the
 * journal files in journal_dir; those to look at first. Negative errno when
 * the directory cannot be read as a journal. */
int fleet_report(const char *journal_dir, enum fleet_format format, uint64_t silent_usec, FILE *out);
