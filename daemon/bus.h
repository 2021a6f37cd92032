/* bus.h — the org.sekisho.Sekisho1 D-Bus service (libdbus-1 on the daemon's loop). */
#pragma once

#include "audit.h"
#include "core.h"

#define BUS_NAME "org.sekisho.Sekisho1"
#define BUS_PATH "/org/sekisho/Sekisho1"
#define BUS_IFACE "org.sekisho.Sekisho1"
#define BUS_ERROR_PREFIX "org.sekisho.Sekisho1.Error."

/* Connect, claim the name and serve on the context's loop. */
int bus_open(struct sekisho *ctx, enum bus_kind kind, struct bus **ret);
struct bus *bus_close(struct bus *b);

/* Emit a signal whose single argument is a{ss} of the fields. */
int bus_emit(struct bus *b, const char *signal, const struct audit_field *fields);

/* Announce that status properties changed (PropertiesChanged). */
void bus_properties_changed(struct bus *b);
