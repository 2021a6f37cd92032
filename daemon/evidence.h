/* evidence.h — the daemon's side of the audit log: start-up checks, write-ahead policy records, reconcile, checkpoints. */
#pragma once

#include "core.h"

/* Open the audit log, compare it with the daemon's memory of it (the
 * anchor in the state directory) and record any cut; arm the hourly
 * checkpoint. A log that cannot be opened is logged; the daemon runs on,
 * but refuses policy changes (evidence_policy_intent fails). */
int evidence_open(struct sekisho *ctx);

/* Write-ahead: the record of the change, durable before the change is
 * made. Nonzero: no record, so no change (why says so). */
int evidence_policy_intent(struct sekisho *ctx, const char *name, const char *via, const struct policy *p, char *why,
                           size_t why_size);

/* The change is in force and its policy.applied record is written:
 * remember which policy the log last recorded as applied. */
void evidence_policy_recorded(struct sekisho *ctx);

/* At start, once the policy is in force: an installed policy the log has
 * no policy.applied record for (a crash between switch and record) gets
 * one, marked recovered. */
void evidence_reconcile(struct sekisho *ctx);

/* A checkpoint (seq + hash) to the journal and syslog: at least hourly
 * and after every policy change. */
void evidence_checkpoint(struct sekisho *ctx);

/* The terminal's compliance summary as one record (terminal.heartbeat): the
 * serial and its state (current, stale, default), the daemon's state, the
 * active profiles, each requirement's state (req-R1: enforced, ...) judged
 * by the plugins' report rows as `sekishoctl report` judges them, and the
 * list of those not enforced. At start, hourly, and after each change of
 * policy, staleness or profiles: a collector sees which terminal is out of
 * policy, and since when. */
void evidence_heartbeat(struct sekisho *ctx);
