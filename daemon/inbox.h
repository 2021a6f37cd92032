/* inbox.h — the drop directory for bundles (NAME.yaml + NAME.yaml.minisig), watched with inotify. */
#pragma once

#include "core.h"

struct inbox;

/* Watch dir. A pair is read only when both files are complete (closed or
 * moved in) and quiet; an applied pair is removed, a refused one moved to
 * dir/refused/ (the newest 64 pairs kept; each one dropped is a record); a
 * half alone for a day is moved there too, with a record. Every name is
 * seen, however many: one full scan after each burst of events and at
 * start. */
int inbox_start(struct sekisho *ctx, const char *dir, struct inbox **ret);
struct inbox *inbox_free(struct inbox *in);
