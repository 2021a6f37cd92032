/* busconn.h — a libdbus-1 connection driven by the daemon's loop: watches, timeouts, dispatch; the one service for asynchronous method calls and signal matches, results delivered on the loop. */
#pragma once

#include <dbus/dbus.h>
#include <stdbool.h>

#include "loop.h"

struct busconn;

/* Drive conn (a private connection; busconn takes a reference and closes
 * it when freed) from loop l. */
int busconn_new(struct loop *l, DBusConnection *conn, struct busconn **ret);
/* Accepts NULL. Calls in flight are cancelled without their callbacks. */
struct busconn *busconn_free(struct busconn *b);
DBusConnection *busconn_connection(struct busconn *b);

/* The reply to a call, from the loop: r = 0 and the method return;
 * -EREMOTEIO and the error reply; -ETIMEDOUT and libdbus's NoReply error
 * (timeout or lost connection). */
typedef void (*busconn_reply_fn)(int r, DBusMessage *reply, void *userdata);
/* Send m (the caller keeps its reference). timeout_ms < 0: libdbus's
 * default. owner tags the call for busconn_forget(). -ENOTCONN when b is
 * NULL or disconnected: then cb is never called. */
int busconn_call(struct busconn *b, DBusMessage *m, int timeout_ms, busconn_reply_fn cb, void *userdata,
                 const void *owner);

/* Signals from sender on path, interface, member (NULL: any) go to cb. */
typedef void (*busconn_signal_fn)(DBusMessage *signal, void *userdata);
int busconn_match(struct busconn *b, const char *sender, const char *path, const char *interface, const char *member,
                  busconn_signal_fn cb, void *userdata, const void *owner);

/* Cancel the calls and drop the matches tagged with owner (a plugin that stops). */
void busconn_forget(struct busconn *b, const void *owner);
