/* journal.h — audit records as structured journal entries over journald's native protocol, so a collector can query them by field. */
#pragma once

#include <stddef.h>

#define JOURNAL_SOCKET "/run/systemd/journal/socket"

struct journal;

/* A datagram socket for journald at path (JOURNAL_SOCKET). -ENOENT when no
 * journald listens there (a site without systemd-journald: syslog serves). */
int journal_open(const char *path, struct journal **ret);
struct journal *journal_close(struct journal *j);

/* One audit record (a JSON line as audit.c writes it) as one entry: MESSAGE
 * is the line itself, and each of its members a field SEKISHO_NAME (upper
 * case, '-' as '_'; "host" is SEKISHO_TERMINAL), so `journalctl
 * SEKISHO_EVENT=usb.blocked` finds it. Best effort: journald may drop
 * entries under load; the audit log file is the record of truth. */
int journal_send_record(struct journal *j, const char *line, size_t len);

/* The field name for an audit record member into out: SEKISHO_ + the name
 * upper-cased, anything but [A-Z0-9] as '_', at most 64 bytes. */
void journal_field_name(const char *member, char out[65]);
