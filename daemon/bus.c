/* bus.c — placeholder until the D-Bus service lands: only --bus=none works. */
#include "config.h"

#include "bus.h"
#include "util.h"

int bus_open(struct sekisho *ctx, enum bus_kind kind, struct bus **ret) {
        log_error("This build has no D-Bus service yet; use --bus=none");
        return -EOPNOTSUPP;
}
struct bus *bus_close(struct bus *b) { return NULL; }
int bus_emit(struct bus *b, const char *signal, const struct audit_field *fields) { return 0; }
void bus_properties_changed(struct bus *b) {}
