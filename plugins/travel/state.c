/* state.c — the travel state machine: home -> travelling -> returned -> reset-pending -> reset-done, as a pure function of state, policy and evidence. */
#include "config.h"

#include <string.h>

#include "travel.h"
#include "util.h"

static void add_transition(struct travel_state *s, struct travel_eval *e, enum travel_phase to, int64_t now,
                           const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static void add_transition(struct travel_state *s, struct travel_eval *e, enum travel_phase to, int64_t now,
                           const char *fmt, ...) {
        if (e->n < TRAVEL_MAX_TRANSITIONS) {
                struct travel_transition *t = &e->t[e->n++];
                t->from = s->phase;
                t->to = to;
                snprintf(t->trip, sizeof t->trip, "%s", s->trip);
                va_list ap;
                va_start(ap, fmt);
                vsnprintf(t->reason, sizeof t->reason, fmt, ap);
                va_end(ap);
        }
        s->phase = to;
        s->since = now;
}

static void mark_done(struct travel_state *s) {
        if (!s->trip[0] || travel_state_trip_done(s, s->trip))
                return;
        if (s->n_done == TRAVEL_MAX_DONE) {
                memmove(s->done[0], s->done[1], sizeof s->done[0] * (TRAVEL_MAX_DONE - 1));
                s->n_done--;
        }
        strcpy(s->done[s->n_done++], s->trip);
}

static void clear_trip(struct travel_state *s) {
        s->trip[0] = 0;
        s->destination[0] = 0;
        s->high_risk = false;
        s->trip_end = 0;
        s->deadline = 0;
        s->reset_requested = false;
        s->sessions_locked = false;
        s->reset_id[0] = 0;
        s->return_proof[0] = 0;
}

/* The trip that should be in progress now: started, not cancelled, not
 * already finished. The earliest start wins (trips do not overlap). */
static const struct travel_trip *due_trip(const struct travel_state *s, const struct travel_policy *p, int64_t now) {
        const struct travel_trip *best = NULL;
        for (size_t i = 0; i < p->n_trips; i++) {
                const struct travel_trip *t = &p->trips[i];
                if (t->cancelled || t->start > now || travel_state_trip_done(s, t->id))
                        continue;
                if (!best || t->start < best->start)
                        best = t;
        }
        return best;
}

static void wake_at(struct travel_eval *e, int64_t t) {
        if (t > 0 && (e->next_wakeup == 0 || t < e->next_wakeup))
                e->next_wakeup = t;
}

void travel_evaluate(struct travel_state *s, const struct travel_policy *p, const struct travel_inputs *in,
                     struct travel_eval *e) {
        *e = (struct travel_eval){ 0 };
        int64_t now = in->now;

        /* A wall clock set back must not end or avoid a trip: use the latest
         * time we have ever seen, and say so. A clock set forward only makes
         * trips start early and deadlines come sooner, and return still
         * needs the pinned handshake. */
        if (s->last_wall > 0 && now + TRAVEL_CLOCK_SKEW < s->last_wall) {
                e->clock_back = true;
                snprintf(s->hold, sizeof s->hold, "wall clock is %lld s behind the latest time seen; using the latest",
                         (long long)(s->last_wall - now));
                now = s->last_wall;
        } else {
                if (strncmp(s->hold, "wall clock", 10) == 0)
                        s->hold[0] = 0;
                if (now > s->last_wall)
                        s->last_wall = now;
        }

        for (int round = 0; round < TRAVEL_MAX_TRANSITIONS; round++) {
                enum travel_phase before = s->phase;
                const struct travel_trip *t = s->trip[0] ? travel_policy_find_trip(p, s->trip) : NULL;

                switch (s->phase) {
                case TRAVEL_HOME:
                case TRAVEL_RESET_DONE: {
                        const struct travel_trip *d = due_trip(s, p, now);
                        if (!d) {
                                for (size_t i = 0; i < p->n_trips; i++)
                                        if (!p->trips[i].cancelled && p->trips[i].start > now &&
                                            !travel_state_trip_done(s, p->trips[i].id))
                                                wake_at(e, p->trips[i].start);
                                break;
                        }
                        clear_trip(s);
                        snprintf(s->trip, sizeof s->trip, "%s", d->id);
                        memcpy(s->destination, d->destination, 3);
                        s->high_risk = d->high_risk;
                        s->trip_end = d->end;
                        add_transition(s, e, TRAVEL_TRAVELLING, now, "trip to %s (%s risk) began", d->destination,
                                       d->high_risk ? "high" : "normal");
                        /* the transition's trip names the new trip */
                        snprintf(e->t[e->n - 1].trip, sizeof e->t[0].trip, "%s", d->id);
                        break;
                }
                case TRAVEL_TRAVELLING:
                        if (t) {
                                s->trip_end = t->end;
                                if (t->high_risk)
                                        s->high_risk = true; /* risk only ever goes up during a trip */
                                if (t->cancelled) {
                                        mark_done(s);
                                        add_transition(s, e, TRAVEL_HOME, now, "trip cancelled by a signed policy");
                                        clear_trip(s);
                                        break;
                                }
                        }
                        if (now < s->trip_end) {
                                wake_at(e, s->trip_end);
                                break;
                        }
                        if (t && t->returned) {
                                strcpy(s->return_proof, "signed-policy");
                                add_transition(s, e, TRAVEL_RETURNED, now, "return confirmed by a signed policy");
                                break;
                        }
                        if (in->home_proven) {
                                strcpy(s->return_proof, "pinned-tls");
                                add_transition(s, e, TRAVEL_RETURNED, now,
                                               "home network proven by a TLS handshake with the pinned server");
                                break;
                        }
                        e->want_probe = true;
                        break;
                case TRAVEL_RETURNED:
                        if (s->high_risk && p->reset && !(t && t->cancelled)) {
                                s->deadline = now + p->grace;
                                s->reset_requested = false;
                                add_transition(s, e, TRAVEL_RESET_PENDING, now,
                                               "factory reset after a high-risk trip; grace period %lld s",
                                               (long long)p->grace);
                        } else {
                                mark_done(s);
                                add_transition(s, e, TRAVEL_HOME, now,
                                               s->high_risk ? "the policy does not ask for a reset"
                                                            : "normal-risk trip: no reset");
                                clear_trip(s);
                        }
                        break;
                case TRAVEL_RESET_PENDING:
                        if (in->reset_complete) {
                                mark_done(s);
                                add_transition(s, e, TRAVEL_RESET_DONE, now, "sekisho-reset finished");
                                clear_trip(s);
                                s->hold[0] = 0;
                                break;
                        }
                        if (!s->reset_requested && ((t && t->cancelled) || !p->reset)) {
                                mark_done(s);
                                add_transition(s, e, TRAVEL_HOME, now,
                                               "reset cancelled by a newer signed policy during the grace period");
                                clear_trip(s);
                                break;
                        }
                        if (now >= s->deadline)
                                e->want_reset = true;
                        else
                                wake_at(e, s->deadline);
                        break;
                default:
                        break;
                }
                if (s->phase == before)
                        break;
        }

        e->want_profile = s->high_risk && (s->phase == TRAVEL_TRAVELLING || s->phase == TRAVEL_RETURNED ||
                                           s->phase == TRAVEL_RESET_PENDING);
}
