/* freshness.h — the repository's signed timestamps on the terminal: stale when frozen, a profile after the policy's grace (see freshness.c). */
#pragma once

#include "core.h"

/* Load the kept timestamp (re-verified under today's trust), arm the timer,
 * evaluate. After the policy is in force. */
int freshness_start(struct sekisho *ctx);
void freshness_free(struct sekisho *ctx);

/* A timestamp pair from the inbox: signed by the trust root's timestamp
 * threshold, for this terminal, issued after the one in force. Kept in the
 * state directory and audited (freshness.timestamp); a refusal is audited
 * too (freshness.refused) and returned with why. It never selects a bundle. */
enum refusal freshness_offer(struct sekisho *ctx, const char *name, const char *data, size_t size, const char *sig,
                             size_t sig_size, char *why, size_t why_size);

/* Again after the policy or the time changed: request or release the
 * policy's freshness profile (owner "freshness"). */
void freshness_evaluate(struct sekisho *ctx);

/* "none", "fresh", "behind" (it names a newer serial than the one in
 * force), "expired". */
const char *freshness_state(const struct sekisho *ctx);
