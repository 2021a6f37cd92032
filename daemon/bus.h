/* bus.h — the org.sekisho.Sekisho1 D-Bus service, on the daemon's own connection (busconn.h, sbus.h). */
#pragma once

#include "audit.h"
#include "busconn.h"
#include "core.h"

#define BUS_NAME "org.sekisho.Sekisho1"
#define BUS_PATH "/org/sekisho/Sekisho1"
#define BUS_IFACE "org.sekisho.Sekisho1"
#define BUS_ERROR_PREFIX "org.sekisho.Sekisho1.Error."

/* polkit action ids, one per admin method (systemd/org.sekisho.Sekisho1.policy). */
#define BUS_ACTION_APPLY_POLICY "org.sekisho.Sekisho1.apply-policy"
#define BUS_ACTION_SET_PROFILE "org.sekisho.Sekisho1.set-profile"
#define BUS_ACTION_RELOAD "org.sekisho.Sekisho1.reload"

/* Non-root admin calls waiting for polkit at one time, and the policy bytes
 * held for them (ApplyPolicy carries up to 4 MiB); more are refused with
 * LimitsExceeded, so callers cannot pile up held messages. Root never waits
 * for polkit and is never held back by them. All calls still waiting for
 * the bus to name their uid are capped at four times these. */
#define BUS_MAX_PENDING_AUTH 32
#define BUS_MAX_PENDING_BYTES (16u * 1024 * 1024)

/* Connect, claim the name and serve on the context's loop. Connecting and
 * claiming the name are the only blocking steps (once, at start-up); -EEXIST
 * when another process owns the name. */
int bus_open(struct sekisho *ctx, enum bus_kind kind, struct bus **ret);
/* Accepts NULL. Pending authorizations are dropped without a reply. */
struct bus *bus_close(struct bus *b);

/* The connection, for method calls to other services (busconn.h); NULL
 * when b is. */
struct busconn *bus_connection(struct bus *b);

/* Emit a signal whose single argument is a{ss} of the fields (NULL-name
 * terminated; NULL fields means none). Strings that are not valid UTF-8
 * are sent with the bad bytes replaced by '?'. b may be NULL (--bus=none):
 * then nothing is sent and 0 is returned. -EINVAL for a bad signal name. */
int bus_emit(struct bus *b, const char *signal, const struct audit_field *fields);

/* Announce that status properties changed (PropertiesChanged with every
 * property's current value). b may be NULL. */
void bus_properties_changed(struct bus *b);

/* The one mapping from a negative errno to a D-Bus error name. */
const char *bus_error_from_errno(int r);
