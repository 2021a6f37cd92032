/* audit.h — the hash-chained JSON-lines audit log and its verifier. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/* One field of a record. A NULL-name entry ends a list. Values are strings;
 * numbers are written as strings too, so the format stays one shape. */
struct audit_field {
        const char *name;
        const char *value;
};

/* Hash: BLAKE2b-256 of the previous record's line (without its newline),
 * hex. The first record of a log has prev = 64 zeros. */
#define AUDIT_HASH_HEX 64

struct audit;

/* Open (create) the log at path, find the last record to continue the
 * chain. to_syslog also sends each record to syslog (LOG_AUTHPRIV). */
int audit_open(const char *path, const char *host, bool to_syslog, struct audit **ret);
struct audit *audit_close(struct audit *a);

/* Append one record: {"seq":N,"time":..,"host":..,"event":..,"clause":..,
 * <fields>,"prev":..}. Written with one write() and fdatasync()ed.
 * ret_seq (may be NULL) receives the record's sequence number. */
int audit_write(struct audit *a, const char *event, const char *clause, const struct audit_field *fields,
                uint64_t *ret_seq);

/* Verify a whole log. Returns 0 if the chain is intact; otherwise -EBADMSG
 * with a one-line description of the first break (line number, what is
 * wrong) in why. Reports the number of records in *ret_count. */
int audit_verify(const char *path, char *why, size_t why_size, uint64_t *ret_count);
