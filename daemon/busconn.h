/* busconn.h — sekishod's D-Bus connection on its own loop (sbus.h messages, no libdbus): connect and authenticate, serve an object, asynchronous method calls and signal matches whose results arrive on the loop. */
#pragma once

#include <stdbool.h>

#include "loop.h"
#include "sbus.h"

struct busconn;

/* The default timeout of a method call, as libdbus's. */
#define BUSCONN_TIMEOUT_MS 25000

/* Connect to the system bus (DBUS_SYSTEM_BUS_ADDRESS, else the standard
 * socket) or the session bus (DBUS_SESSION_BUS_ADDRESS), authenticate as
 * this process's uid (EXTERNAL) and say Hello. Blocking, once at start-up,
 * each step bounded by BUSCONN_TIMEOUT_MS. On failure why (if not NULL)
 * says what went wrong in one line. */
int busconn_open(struct loop *l, bool system_bus, struct busconn **ret, char *why, size_t why_size);
/* The same for a D-Bus address ("unix:path=/run/x;unix:abstract=y"). */
int busconn_open_address(struct loop *l, const char *address, struct busconn **ret, char *why, size_t why_size);
/* Accepts NULL. Calls in flight are cancelled without their callbacks. */
struct busconn *busconn_free(struct busconn *b);
/* Our unique name (":1.42"); NULL when b is. */
const char *busconn_unique_name(const struct busconn *b);
bool busconn_connected(const struct busconn *b);

/* Send m (a reply, a signal, a call whose reply nobody waits for): m gets
 * the next serial. -ENOTCONN when b is NULL or disconnected; -EINVAL when
 * m cannot be sealed (sbus_msg_seal); -ENOBUFS when the bus has not read
 * what we sent before (more than 64 MiB queued). */
int busconn_send(struct busconn *b, struct sbus_msg *m);
/* Send m and wait for its reply, blocking (start-up only). r = 0 and the
 * method return; -EREMOTEIO and the error reply; -ETIMEDOUT or -ECONNRESET
 * and no reply. Other messages that arrive meanwhile are dispatched from
 * the loop later. */
int busconn_call_sync(struct busconn *b, struct sbus_msg *m, int timeout_ms, struct sbus_msg **ret_reply);

/* The reply to a call, from the loop: r = 0 and the method return;
 * -EREMOTEIO and the error reply; -ETIMEDOUT (no answer in time) or
 * -ECONNRESET (the connection was lost) and NULL. The reply is the
 * callback's to read, not to keep (sbus_msg_ref it to keep it). */
typedef void (*busconn_reply_fn)(int r, struct sbus_msg *reply, void *userdata);
/* Send m (the caller keeps its reference). timeout_ms < 0: the default.
 * owner tags the call for busconn_forget(). -ENOTCONN when b is NULL or
 * disconnected: then cb is never called. cb is never called from inside
 * busconn_call. */
int busconn_call(struct busconn *b, struct sbus_msg *m, int timeout_ms, busconn_reply_fn cb, void *userdata,
                 const void *owner);

/* Signals from sender on path, interface, member (NULL: any) go to cb. */
typedef void (*busconn_signal_fn)(struct sbus_msg *signal, void *userdata);
int busconn_match(struct busconn *b, const char *sender, const char *path, const char *interface, const char *member,
                  busconn_signal_fn cb, void *userdata, const void *owner);

/* Cancel the calls and drop the matches tagged with owner (a plugin that stops). */
void busconn_forget(struct busconn *b, const void *owner);

/* Method calls on path go to fn. fn returns false for a method it does not
 * serve: the caller then gets UnknownMethod. org.freedesktop.DBus.Peer
 * (Ping, GetMachineId) is answered on every path. One path per connection. */
typedef bool (*busconn_method_fn)(struct sbus_msg *call, void *userdata);
int busconn_serve(struct busconn *b, const char *path, busconn_method_fn fn, void *userdata);
