/* audit.h — the hash-chained JSON-lines audit log: writer, start-up checks, rotation, checkpoints and verifier. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

/* One field of a record. A NULL-name entry ends a list. Values are strings;
 * numbers are written as strings too, so the format stays one shape. */
struct audit_field {
        const char *name;
        const char *value;
};

/* Hash: BLAKE2b-256 of the previous record's line (without its newline),
 * hex. The first record of a chain has prev = 64 zeros; the first record of
 * a rotated file is "audit.continued" and chains to the previous file. */
#define AUDIT_HASH_HEX 64

struct audit;

/* Open (create) the log at path and find the last record to continue the
 * chain. Bytes after the last record (a torn write) are ended and a
 * record "audit.repaired" naming them (offset, length, hash) is appended,
 * never dropped silently. An empty log next to a rotated "path.1"
 * continues that file's chain. to_syslog also sends each record to
 * syslog (LOG_AUTHPRIV). Writers in other processes (sekisho-reset) are
 * serialised by an flock on the log. */
int audit_open(const char *path, const char *host, bool to_syslog, struct audit **ret);
struct audit *audit_close(struct audit *a);

/* What the daemon remembers of the log (sequence, hash, offset, inode)
 * lives at anchor_path, in the state directory, where deleting or
 * cutting the log and its head does not reach. Compare it with the log:
 * if records the anchor saw are gone or changed, *ret_gap is filled, the
 * old anchor is kept as anchor_path.evidence-SEQ, and the next record
 * (write it at once: "audit.truncated" with missing-from and missing-to) takes the sequence
 * after the last one written, so the gap shows in the numbering. After
 * this call every record also updates the anchor. */
struct audit_gap {
        bool found;
        uint64_t from, to;                   /* missing (or replaced) records */
        char old_hash[AUDIT_HASH_HEX + 1];   /* the anchor's hash of record `to` */
        char what[160];                      /* one line for the journal */
        char evidence[256];                  /* where the old anchor is kept */
};
int audit_anchor(struct audit *a, const char *anchor_path, struct audit_gap *ret_gap);

/* Rotate when the file would grow beyond max_bytes (0: never); keep
 * path.1 .. path.KEEP. The new file starts with "audit.continued", whose
 * prev is the hash of the previous file's last record. */
void audit_set_rotation(struct audit *a, uint64_t max_bytes, unsigned keep);

/* Append one record: {"seq":N,"time":..,"host":..,"event":..,"clause":..,
 * <fields>,"prev":..}. Written with one write() and fdatasync()ed before
 * this returns 0; a failed or short write is undone (ftruncate), so the log
 * never holds half a record we wrote. ret_seq (may be NULL) receives the
 * record's sequence number. */
int audit_write(struct audit *a, const char *event, const char *clause, const struct audit_field *fields,
                uint64_t *ret_seq);

/* 0 if the last write succeeded, else its -errno (for the status). */
/* Send every record from now on to the journal too, with its fields
 * (journal.h); instead of syslog, which journald would only duplicate.
 * The audit log takes j over. */
struct journal;
void audit_set_journal(struct audit *a, struct journal *j);

int audit_last_error(const struct audit *a);

/* A checkpoint: the sequence and hash of the last record, sent to the
 * journal and syslog so a collector holds it apart from the terminal:
 * "sekisho-checkpoint seq=N hash=HEX host=ID". */
void audit_checkpoint(struct audit *a);

/* Forward-secure sealing (seal.h): with a sealing state at seal_path, each
 * checkpoint also appends "audit.sealed" (epoch, MAC of its seq and prev
 * under the current epoch's key), the key moving forward first. */
void audit_set_seal(struct audit *a, const char *seal_path);

struct audit_checkpoint {
        uint64_t seq;
        char hash[AUDIT_HASH_HEX + 1];
};
/* Find every checkpoint line in a collector's file (syslog, journal
 * export; other lines are ignored). Sorted by seq. -EBADMSG if a line that
 * claims to be a checkpoint is malformed (why says where). */
int audit_checkpoints_parse(const char *data, size_t size, struct audit_checkpoint **ret, size_t *ret_n, char *why,
                            size_t why_size);

/* Verify a log, or a rotated series oldest first ("audit.log.2 audit.log.1
 * audit.log"). Returns 0 if the chain is intact; otherwise -EBADMSG with a
 * one-line description of the first break in why. Checks the head of the
 * last file, the start of the first, every repair and truncation record,
 * and, when checkpoints are given, that every checkpointed record is there
 * with that hash. Reports the number of records in *ret_count. */
struct seal_key;
struct audit_verify_options {
        const struct audit_checkpoint *checkpoints;
        size_t n_checkpoints;
        const struct seal_key *seal;   /* the officer's verification key: check every audit.sealed record */
};
int audit_verify_series(const char *const *paths, size_t n_paths, const struct audit_verify_options *o, char *why,
                        size_t why_size, uint64_t *ret_count);
int audit_verify(const char *path, char *why, size_t why_size, uint64_t *ret_count);
