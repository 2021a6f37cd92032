/* travel.c — the travel plugin: runs the persisted trip state machine, requests the travel profile, probes the home network and orders the factory reset. */
#include "config.h"

#include <limits.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>


#include "plugin.h"
#include "sbus.h"
#include "travel.h"
#include "util.h"

/* Requirements: R1 (USB off in high-risk places, through the travel
 * profile), R2 (factory state on return), R11 (cryptographic erase, done
 * by sekisho-reset, never by this process). */

#define PROBE_TIMEOUT_USEC (5 * 1000000ull)
#define PROBE_BACKOFF_MAX 3600
#define RETRY_RESET_USEC (300 * 1000000ull)
#define MAX_SLEEP_SEC (6 * 3600) /* re-check wall-clock boundaries at least this often while a boundary is pending */


struct travel {
        struct sekisho_plugin_handle *h;
        char *dir, *state_path, *plan_path, *journal_path;
        struct travel_state st;
        struct travel_policy pol;
        int profile_active; /* -1 unknown, 0, 1 */
        char active_profile[TRAVEL_ID_MAX + 1]; /* the name requested, so a renamed profile is released */

        struct loop_source *timer;       /* next wall-clock boundary */
        struct loop_source *probe_timer; /* next home-network probe */
        struct tls_probe *probe;
        int64_t probe_backoff;
        bool probe_waiting;              /* probe_timer armed */
        char last_probe[200];
        bool home_proven;                /* consumed by the next evaluation */
        int netlink_fd;                  /* address changes, only while awaiting return */
        struct loop_source *netlink_src;
        bool clock_back_reported;
        int reminder_stage;              /* reset-pending: 1 = "an hour left" sent, 2 = "ten minutes left" sent */
        uint64_t last_notice_usec;       /* monotonic: re-applying the policy does not repeat a fresh notice */

        bool watching_jobs;              /* JobRemoved matched and Subscribe sent */
        bool lock_inflight, start_inflight, unit_started;
        char job[128];                   /* systemd's job for the reset unit, to match JobRemoved */
        struct loop_source *retry_timer;

        /* weak signal: time zone */
        int inotify_fd;
        struct loop_source *inotify_src;
        char tz[256];
};

static void evaluate(struct travel *t);

/* ---- audit and signals ---- */

static void emit(struct travel *t, const char *event, const char *signal, const struct audit_field *fields) {
        sekisho_audit(t->h, event, "R1,R2", fields);
        if (signal)
                sekisho_signal(t->h, signal, fields);
}

static void audit_simple(struct travel *t, const char *event, const char *signal, const char *what) {
        const struct audit_field f[] = {
                { "trip", t->st.trip[0] ? t->st.trip : "-" },
                { "state", travel_phase_name(t->st.phase) },
                { "detail", what },
                { NULL, NULL },
        };
        emit(t, event, signal, f);
}

static void notice_reset_pending(struct travel *t) {
        int64_t left = t->st.deadline - now_unix();
        if (left < 0)
                left = 0;
        char secs[32], deadline[32], en[512], ja[768];
        snprintf(secs, sizeof secs, "%lld", (long long)left);
        format_rfc3339(t->st.deadline, deadline);
        long long h = left / 3600, m = (left % 3600) / 60;
        const char *contact = t->pol.contact;
        snprintf(en, sizeof en,
                 "This terminal returned from a high-risk region. It will be locked and reset to factory state in "
                 "%lld h %lld min (at %s). Save your work to the server now.%s%s%s",
                 h, m, deadline, contact[0] ? " Questions: call " : "", contact, contact[0] ? "." : "");
        snprintf(ja, sizeof ja,
                 "この端末は高リスク地域から帰着しました。%lld時間%lld分後（%s）にロックされ、工場出荷状態に初期化されます。"
                 "作業中のデータを今すぐサーバーに保存してください。%s%s",
                 h, m, deadline, contact[0] ? "お問い合わせ先: " : "", contact);
        const struct audit_field f[] = {
                { "kind", "reset-scheduled" }, { "trip", t->st.trip }, { "seconds-left", secs },
                { "deadline", deadline },       { "message", en },      { "message-ja", ja },
                { contact[0] ? "contact" : NULL, contact },
                { NULL, NULL },
        };
        sekisho_signal(t->h, "TravelNotice", f);
        t->last_notice_usec = now_usec_monotonic();
}

/* ---- persistence ---- */

static int save(struct travel *t) {
        int r = travel_state_save(t->state_path, &t->st);
        if (r < 0)
                plog_error_errno(t->h, r, "cannot write %s", t->state_path);
        sekisho_status_changed(t->h); /* every save is a decision the status shows */
        return r;
}

static int write_plan(struct travel *t) {
        _cleanup_free_ char *data = NULL;
        size_t size;
        struct reset_plan plan = t->pol.plan; /* the policy's, with this reset's id: only read */
        memcpy(plan.reset_id, t->st.reset_id, sizeof plan.reset_id);
        int r = reset_plan_format(&plan, t->st.trip, &data, &size);
        if (r < 0)
                return r;
        r = write_file_atomic(t->plan_path, data, size, 0600);
        if (r < 0)
                plog_error_errno(t->h, r, "cannot write %s", t->plan_path);
        return r;
}

/* The journal sekisho-reset keeps: complete for our trip? */
static bool reset_complete(struct travel *t) {
        struct kvlist kv = { 0 };
        if (t->st.phase != TRAVEL_RESET_PENDING || kv_load(t->journal_path, &kv) < 0)
                return false;
        const char *trip = kvlist_get(&kv, "intent");
        const char *done = kvlist_get(&kv, "complete");
        bool ok = trip && done && strcmp(trip, t->st.trip) == 0 && strcmp(done, "yes") == 0;
        kvlist_clear(&kv);
        return ok;
}

/* ---- the reset order: lock sessions, then StartUnit ---- */

static void start_unit(struct travel *t);

static int on_retry(struct loop_source *s, void *userdata) {
        evaluate(userdata);
        return 0;
}

static void hold(struct travel *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void hold(struct travel *t, const char *fmt, ...) {
        char buf[sizeof t->st.hold];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(buf, sizeof buf, fmt, ap);
        va_end(ap);
        if (strcmp(buf, t->st.hold) != 0) {
                snprintf(t->st.hold, sizeof t->st.hold, "%s", buf);
                save(t);
                plog_warning(t->h, "%s", buf);
                audit_simple(t, "travel-held", "TravelStateChanged", buf);
        }
}

/* ---- systemd and logind, through the core's D-Bus call service ---- */

#define SYSTEMD_NAME "org.freedesktop.systemd1"
#define SYSTEMD_PATH "/org/freedesktop/systemd1"
#define SYSTEMD_MANAGER "org.freedesktop.systemd1.Manager"
#define SYSTEMD_CALL_TIMEOUT_MS 25000 /* systemd answers StartUnit once the job is queued, not when it finishes */

/* What a reply says: the error name and its message, or the first object path. */
static void reply_parts(int r, struct sbus_msg *reply, const char **ret_error, const char **ret_detail) {
        const char *detail = NULL;
        *ret_error = r >= 0  ? NULL
                     : reply ? sbus_msg_error_name(reply)
                     : r == -ETIMEDOUT ? "no answer in time"
                                       : "the bus went away";
        if (!reply || sbus_read(reply, r < 0 ? "s" : "o", &detail) < 0)
                detail = "";
        *ret_detail = detail;
}

/* A method call on systemd's or logind's manager; the reply goes to cb. */
static int manager_call(struct travel *t, const char *service, const char *path, const char *interface,
                        const char *method, const char *unit, sekisho_reply_fn cb) {
        struct sbus_msg *m = sbus_call_new(service, path, interface, method);
        int r = !m ? -ENOMEM : unit ? sbus_append(m, "ss", unit, "replace") : 0;
        if (r >= 0)
                r = sekisho_bus_call(t->h, m, SYSTEMD_CALL_TIMEOUT_MS, cb, t);
        sbus_msg_unref(m);
        return r;
}

static void on_start_unit(int r, struct sbus_msg *reply, void *userdata) {
        struct travel *t = userdata;
        const char *error_name, *detail;
        reply_parts(r, reply, &error_name, &detail);
        t->start_inflight = false;
        if (r < 0) {
                if (strcmp(error_name, "org.freedesktop.systemd1.NoSuchUnit") == 0)
                        hold(t, "reset unit %s is missing: %s", TRAVEL_RESET_UNIT, detail);
                else
                        hold(t, "cannot start %s: %s: %s", TRAVEL_RESET_UNIT, error_name, detail);
                loop_timer_arm(t->retry_timer, RETRY_RESET_USEC, 0);
                return;
        }
        t->unit_started = true;
        snprintf(t->job, sizeof t->job, "%s", detail);
        t->st.hold[0] = 0;
        save(t);
        const struct audit_field f[] = {
                { "trip", t->st.trip }, { "unit", TRAVEL_RESET_UNIT }, { "job", detail }, { NULL, NULL },
        };
        emit(t, "travel-reset-started", "TravelStateChanged", f);
}

/* systemd's JobRemoved(id, job, unit, result) for the reset unit's job:
 * "done" means sekisho-reset exited 0 (its journal says complete; usually
 * the reboot comes first), anything else is a failure to report. The
 * journal keeps the progress; try again later. */
static void on_job_removed(struct sbus_msg *m, void *userdata) {
        struct travel *t = userdata;
        uint32_t id;
        const char *job = NULL, *unit = NULL, *result = NULL;
        if (sbus_read(m, "uoss", &id, &job, &unit, &result) < 0 ||
            strcmp(unit, TRAVEL_RESET_UNIT) != 0 || !t->unit_started || strcmp(job, t->job) != 0)
                return;
        t->unit_started = false;
        t->job[0] = 0;
        if (strcmp(result, "done") == 0) {
                evaluate(t);
                return;
        }
        const struct audit_field f[] = {
                { "trip", t->st.trip }, { "unit", unit }, { "result", result }, { NULL, NULL },
        };
        emit(t, "travel-reset-failed", "TravelStateChanged", f);
        hold(t, "%s ended with result '%s'; its journal keeps the progress; retrying later", unit, result);
        loop_timer_arm(t->retry_timer, RETRY_RESET_USEC, 0);
}

static void ignore_reply(int r, struct sbus_msg *reply, void *userdata) {}

/* Best effort: the reset does not depend on seeing its job end. The match is
 * in place before the StartUnit sent after it reaches systemd (the bus keeps
 * our messages in order); systemd sends job signals only to subscribers. */
static void watch_jobs(struct travel *t) {
        if (t->watching_jobs)
                return;
        t->watching_jobs = sekisho_bus_match(t->h, SYSTEMD_NAME, SYSTEMD_PATH, SYSTEMD_MANAGER, "JobRemoved",
                                             on_job_removed, t) == 0 &&
                           manager_call(t, SYSTEMD_NAME, SYSTEMD_PATH, SYSTEMD_MANAGER, "Subscribe", NULL,
                                        ignore_reply) == 0;
}

static void start_unit(struct travel *t) {
        if (t->start_inflight || t->unit_started)
                return;
        watch_jobs(t);
        int r = manager_call(t, SYSTEMD_NAME, SYSTEMD_PATH, SYSTEMD_MANAGER, "StartUnit", TRAVEL_RESET_UNIT,
                             on_start_unit);
        if (r < 0) {
                if (r == -ENOTCONN)
                        hold(t, "cannot reach the system bus to start %s", TRAVEL_RESET_UNIT);
                else
                        hold(t, "cannot ask systemd to start %s: %s", TRAVEL_RESET_UNIT, strerror(-r));
                loop_timer_arm(t->retry_timer, RETRY_RESET_USEC, 0);
                return;
        }
        t->start_inflight = true;
}

static void on_lock(int r, struct sbus_msg *reply, void *userdata) {
        struct travel *t = userdata;
        const char *error_name, *detail;
        reply_parts(r, reply, &error_name, &detail);
        t->lock_inflight = false;
        if (r < 0) {
                /* Locking is a courtesy to the user; the reset is what R2 asks. */
                plog_warning(t->h, "logind LockSessions failed: %s: %s; starting the reset anyway", error_name, detail);
                audit_simple(t, "travel-lock-failed", NULL, error_name);
        } else {
                t->st.sessions_locked = true;
                save(t);
                audit_simple(t, "travel-sessions-locked", NULL, "logind LockSessions");
        }
        start_unit(t);
}

static void order_reset(struct travel *t) {
        if (!t->st.reset_requested) {
                /* One id names this reset from the hand-over to the completion
                 * record the re-provisioned system sends. */
                uint8_t id[TRAVEL_RESET_ID_LEN / 2];
                if (getrandom(id, sizeof id, 0) != (ssize_t)sizeof id) {
                        plog_error_errno(t->h, -errno, "cannot draw a reset id");
                        loop_timer_arm(t->retry_timer, RETRY_RESET_USEC, 0);
                        return;
                }
                hex_encode(id, sizeof id, t->st.reset_id);
                /* Recorded before systemd is asked: sekisho-reset refuses to act
                 * unless the state says a reset was requested. */
                if (write_plan(t) < 0) {
                        loop_timer_arm(t->retry_timer, RETRY_RESET_USEC, 0);
                        return;
                }
                t->st.reset_requested = true;
                if (save(t) < 0) {
                        t->st.reset_requested = false; /* not on disk: sekisho-reset would refuse */
                        t->st.reset_id[0] = 0;
                        loop_timer_arm(t->retry_timer, RETRY_RESET_USEC, 0);
                        return;
                }
                audit_simple(t, "travel-reset-requested", "TravelStateChanged", "grace period over");
        }
        if (!t->st.sessions_locked && !t->lock_inflight &&
            manager_call(t, "org.freedesktop.login1", "/org/freedesktop/login1", "org.freedesktop.login1.Manager",
                         "LockSessions", NULL, on_lock) == 0) {
                t->lock_inflight = true;
                return;
        }
        if (!t->lock_inflight)
                start_unit(t);
}

/* ---- trusted network detection ---- */

static void on_probe(enum probe_result r, const char *detail, void *userdata) {
        struct travel *t = userdata;
        char why[160];
        snprintf(why, sizeof why, "%s", detail); /* detail lives in the probe */
        detail = why;
        t->probe = tls_probe_free(t->probe);
        snprintf(t->last_probe, sizeof t->last_probe, "%s: %s", probe_result_name(r), detail);
        sekisho_status_changed(t->h);
        if (r == PROBE_HOME) {
                t->probe_backoff = 0;
                t->home_proven = true;
                evaluate(t);
                return;
        }
        if (r == PROBE_PIN_MISMATCH) {
                /* captive portal, interception, an attacker's network: not home */
                const struct audit_field f[] = {
                        { "trip", t->st.trip }, { "server", t->pol.server }, { "detail", detail }, { NULL, NULL },
                };
                emit(t, "travel-pin-mismatch", NULL, f);
        }
        plog_info(t->h, "home network not proven: %s", t->last_probe);
        int64_t next = t->probe_backoff ? t->probe_backoff * 2 : t->pol.probe_interval;
        if (next > PROBE_BACKOFF_MAX)
                next = PROBE_BACKOFF_MAX;
        t->probe_backoff = next;
        t->probe_waiting = loop_timer_arm(t->probe_timer, (uint64_t)next * 1000000u, 0) == 0;
}

static void start_probe(struct travel *t) {
        if (t->probe || !t->pol.have_pin || !t->pol.server[0])
                return;
        int r = tls_probe_start(sekisho_loop(t->h), t->pol.server, t->pol.server_name, t->pol.pin,
                                PROBE_TIMEOUT_USEC, on_probe, t, &t->probe);
        if (r < 0)
                plog_warning_errno(t->h, r, "cannot probe %s", t->pol.server);
}

static int on_probe_timer(struct loop_source *s, void *userdata) {
        struct travel *t = userdata;
        t->probe_waiting = false;
        start_probe(t);
        return 0;
}

/* ---- network changes: probe again at once instead of waiting for the backoff ---- */

static int on_netlink(struct loop_source *s, int fd, uint32_t revents, void *userdata) {
        struct travel *t = userdata;
        char buf[8192];
        bool any = false;
        while (recv(fd, buf, sizeof buf, MSG_DONTWAIT) > 0)
                any = true; /* contents do not matter: something changed, look again */
        if (!any || t->probe)
                return 0;
        /* debounce: let DHCP and routes settle, then probe once */
        t->probe_backoff = 0;
        t->probe_waiting = loop_timer_arm(t->probe_timer, 2 * 1000000u, 0) == 0;
        return 0;
}

static void watch_network(struct travel *t, bool on) {
        if (!on) {
                t->netlink_src = loop_source_free(t->netlink_src);
                if (t->netlink_fd >= 0)
                        close(t->netlink_fd);
                t->netlink_fd = -1;
                return;
        }
        if (t->netlink_fd >= 0)
                return;
        int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, NETLINK_ROUTE);
        if (fd < 0)
                return;
        struct sockaddr_nl sa = { .nl_family = AF_NETLINK, .nl_groups = RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR };
        if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 ||
            loop_add_io(sekisho_loop(t->h), fd, EPOLLIN, on_netlink, t, &t->netlink_src) < 0) {
                plog_debug(t->h, "not watching address changes; probing on the timer only");
                close(fd);
                return;
        }
        t->netlink_fd = fd;
}

/* ---- weak signal: time zone (audit and notice only, never a transition) ---- */

static void read_tz(struct travel *t, char *out, size_t size) {
        _cleanup_free_ char *p = path_join(sekisho_env(t->h)->sysroot, "etc/localtime");
        out[0] = 0;
        if (!p)
                return;
        ssize_t n = readlink(p, out, size - 1);
        if (n < 0) {
                struct stat st;
                snprintf(out, size, "%s", stat(p, &st) == 0 ? "(file)" : "(none)");
                return;
        }
        out[n] = 0;
        if (!string_is_clean_utf8(out, (size_t)n))
                snprintf(out, size, "(unreadable)");
}

static int on_inotify(struct loop_source *s, int fd, uint32_t revents, void *userdata) {
        struct travel *t = userdata;
        char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
        bool relevant = false;
        for (;;) {
                ssize_t n = read(fd, buf, sizeof buf);
                if (n <= 0)
                        break;
                for (char *p = buf; p < buf + n;) {
                        struct inotify_event *ev = (struct inotify_event *)p;
                        if (ev->len && strcmp(ev->name, "localtime") == 0)
                                relevant = true;
                        p += sizeof *ev + ev->len;
                }
        }
        if (!relevant)
                return 0;
        char tz[sizeof t->tz];
        read_tz(t, tz, sizeof tz);
        if (strcmp(tz, t->tz) == 0)
                return 0;
        const struct audit_field f[] = {
                { "signal", "timezone" }, { "from", t->tz }, { "to", tz }, { "state", travel_phase_name(t->st.phase) },
                { "detail", "weak signal: recorded only; never a reset" }, { NULL, NULL },
        };
        emit(t, "travel-weak-signal", "TravelNotice", f);
        snprintf(t->tz, sizeof t->tz, "%s", tz);
        return 0;
}

static void watch_tz(struct travel *t) {
        _cleanup_free_ char *etc = path_join(sekisho_env(t->h)->sysroot, "etc");
        if (!etc)
                return;
        read_tz(t, t->tz, sizeof t->tz);
        t->inotify_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
        if (t->inotify_fd < 0)
                return;
        if (inotify_add_watch(t->inotify_fd, etc, IN_CREATE | IN_MOVED_TO | IN_CLOSE_WRITE | IN_DELETE | IN_ONLYDIR) < 0 ||
            loop_add_io(sekisho_loop(t->h), t->inotify_fd, EPOLLIN, on_inotify, t, &t->inotify_src) < 0) {
                plog_debug(t->h, "not watching %s for time zone changes", etc);
                close(t->inotify_fd);
                t->inotify_fd = -1;
        }
}

/* ---- evaluation ---- */

static int on_timer(struct loop_source *s, void *userdata) {
        evaluate(userdata);
        return 0;
}

static void evaluate(struct travel *t) {
        struct travel_state before = t->st;
        struct travel_inputs in = {
                .now = now_unix(),
                .home_proven = t->home_proven,
                .reset_complete = reset_complete(t),
        };
        t->home_proven = false;
        struct travel_eval e;
        travel_evaluate(&t->st, &t->pol, &in, &e);

        if (memcmp(&before, &t->st, sizeof before) != 0)
                save(t);

        if (e.clock_back && !t->clock_back_reported) {
                t->clock_back_reported = true;
                audit_simple(t, "travel-clock", "TravelNotice", t->st.hold);
        } else if (!e.clock_back)
                t->clock_back_reported = false;

        for (size_t i = 0; i < e.n; i++) {
                const struct travel_transition *tr = &e.t[i];
                char deadline[32] = "";
                if (tr->to == TRAVEL_RESET_PENDING)
                        format_rfc3339(t->st.deadline, deadline);
                const struct audit_field f[] = {
                        { "from", travel_phase_name(tr->from) },
                        { "to", travel_phase_name(tr->to) },
                        { "trip", tr->trip[0] ? tr->trip : "-" },
                        { "destination", t->st.destination[0] ? t->st.destination : "-" },
                        { "risk", t->st.high_risk ? "high" : "normal" },
                        { "reason", tr->reason },
                        { deadline[0] ? "deadline" : NULL, deadline },
                        { NULL, NULL },
                };
                plog_notice(t->h, "%s -> %s (%s): %s", travel_phase_name(tr->from), travel_phase_name(tr->to),
                           tr->trip, tr->reason);
                emit(t, "travel-state", "TravelStateChanged", f);
                if (tr->to == TRAVEL_RESET_PENDING) {
                        write_plan(t);
                        notice_reset_pending(t);
                }
                if (tr->from == TRAVEL_RESET_PENDING) {
                        t->unit_started = false;
                        loop_timer_disarm(t->retry_timer);
                }
        }

        if (t->profile_active == 1 && strcmp(t->active_profile, t->pol.profile) != 0) {
                /* the policy renamed the profile: give up the old name first */
                sekisho_profile_request(t->h, t->active_profile, false, "profile renamed by the policy");
                t->profile_active = 0;
        }
        if (e.want_profile != (t->profile_active == 1)) {
                char reason[160];
                snprintf(reason, sizeof reason, "%s trip %s (%s)",
                         e.want_profile ? "high-risk" : "no high-risk", t->st.trip[0] ? t->st.trip : "-",
                         travel_phase_name(t->st.phase));
                t->profile_active = e.want_profile;
                snprintf(t->active_profile, sizeof t->active_profile, "%s", t->pol.profile);
                int r = sekisho_profile_request(t->h, t->pol.profile, e.want_profile, reason);
                if (r < 0) {
                        plog_error_errno(t->h, r, "cannot %s profile %s", e.want_profile ? "request" : "release",
                                        t->pol.profile);
                        t->profile_active = -1;
                }
        }

        if (e.want_probe) {
                if (!t->pol.have_pin || !t->pol.server[0])
                        hold(t, "trip over; waiting for strong return evidence (no home-server pinned: a signed bundle "
                                "must set returned: true)");
                else {
                        watch_network(t, true);
                        if (!t->probe && !t->probe_waiting)
                                start_probe(t);
                }
        } else {
                watch_network(t, false);
                t->probe = tls_probe_free(t->probe);
                loop_timer_disarm(t->probe_timer);
                t->probe_waiting = false;
                t->probe_backoff = 0;
        }

        if (e.want_reset)
                order_reset(t);

        /* reminders before the grace period ends: one hour, ten minutes */
        if (t->st.phase == TRAVEL_RESET_PENDING && !t->st.reset_requested) {
                static const int64_t marks[] = { 3600, 600 };
                int64_t left = t->st.deadline - in.now;
                for (int i = 0; i < 2; i++) {
                        if (left <= marks[i] && t->reminder_stage < i + 1 && left > 0) {
                                t->reminder_stage = i + 1;
                                if (e.n == 0) /* entering reset-pending already sent one */
                                        notice_reset_pending(t);
                        } else if (left > marks[i] && (e.next_wakeup == 0 || t->st.deadline - marks[i] < e.next_wakeup))
                                e.next_wakeup = t->st.deadline - marks[i];
                }
        } else
                t->reminder_stage = 0;

        if (e.next_wakeup) {
                int64_t d = e.next_wakeup - in.now;
                if (d < 1)
                        d = 1;
                if (d > MAX_SLEEP_SEC)
                        d = MAX_SLEEP_SEC;
                loop_timer_arm(t->timer, (uint64_t)d * 1000000u, 0);
        } else
                loop_timer_disarm(t->timer);
}

/* ---- plugin callbacks ---- */

static size_t travel_check(const struct pnode *section, struct perrors *errs) {
        return travel_policy_check(section, errs);
}

static void travel_free(struct travel *t) {
        if (!t)
                return;
        tls_probe_free(t->probe);
        loop_source_free(t->timer);
        loop_source_free(t->probe_timer);
        loop_source_free(t->retry_timer);
        loop_source_free(t->inotify_src);
        watch_network(t, false);
        if (t->inotify_fd >= 0)
                close(t->inotify_fd);
        travel_policy_clear(&t->pol);
        free(t->dir);
        free(t->state_path);
        free(t->plan_path);
        free(t->journal_path);
        free(t);
}

static int travel_init(struct sekisho_plugin_handle *h, void **ret_state) {
        struct travel *t = calloc(1, sizeof *t);
        if (!t)
                return -ENOMEM;
        t->h = h;
        t->inotify_fd = -1;
        t->netlink_fd = -1;
        t->profile_active = -1;
        travel_state_init(&t->st);
        (void)travel_policy_parse(NULL, &t->pol);
        struct loop *l = sekisho_loop(h);
        int r = -ENOMEM;
        if (!(t->dir = path_join(sekisho_env(h)->state_dir, "travel")) ||
            !(t->state_path = path_join(t->dir, TRAVEL_STATE_FILE)) || !(t->plan_path = path_join(t->dir, TRAVEL_PLAN_FILE)) ||
            !(t->journal_path = path_join(t->dir, TRAVEL_JOURNAL_FILE)))
                goto fail;
        if ((r = mkdir_p(t->dir, 0700)) < 0 || (r = loop_add_timer(l, on_timer, t, &t->timer)) < 0 ||
            (r = loop_add_timer(l, on_probe_timer, t, &t->probe_timer)) < 0 ||
            (r = loop_add_timer(l, on_retry, t, &t->retry_timer)) < 0)
                goto fail;

        r = travel_state_load(t->state_path, &t->st);
        if (r == -ENOENT)
                travel_state_init(&t->st);
        else if (r < 0) {
                /* Unreadable state: keep the evidence, start again; every signed
                 * trip that has begun and is not known finished re-enters
                 * "travelling", so nothing is forgotten in the unsafe direction. */
                _cleanup_free_ char *aside = path_join(t->dir, "state.corrupt");
                plog_error_errno(t->h, r, "%s is unreadable; moved to %s, starting from home", t->state_path,
                                aside ? aside : "?");
                if (aside)
                        (void)rename(t->state_path, aside);
                travel_state_init(&t->st);
                audit_simple(t, "travel-state-corrupt", NULL, "state file unreadable; restarted from home");
        }
        watch_tz(t);
        *ret_state = t;
        return 0;
fail:
        travel_free(t);
        return r;
}

/* The plan's LUKS volumes against the devices what the reset depends on
 * lives on: erasing one of them would cut the ground from under the reset
 * (its journal, the initramfs, the restore files). 0, or -EBUSY with the
 * reason in why. Paths are compared lexically by policy check; this is
 * the part only the running system can tell. A volume the sandbox cannot
 * identify is logged: sekisho-reset checks again before it starts. */
static int check_plan_devices(struct travel *t, const struct reset_plan *plan, char *why, size_t size) {
        _cleanup_free_ char *boot = path_join(sekisho_env(t->h)->sysroot, "boot");
        if (!boot)
                return -ENOMEM;
        struct reset_dependency deps[TRAVEL_MAX_DEPENDENCIES];
        size_t n = reset_dependencies(plan, sekisho_env(t->h)->state_dir, plan->root_volume ? plan->journal_dir : NULL, plan->root_volume ? plan->restore_image : NULL, deps);
        for (size_t k = 0; k < n; k++)
                if (strcmp(deps[k].path, "/boot") == 0)
                        deps[k].path = boot;
        int r = reset_plan_devices_check(plan, deps, n, "/sys", why, size);
        if (r == -ENODEV) {
                plog_warning(t->h, "%s; sekisho-reset checks it before the reset starts", why);
                return 0;
        }
        return r;
}

static int travel_apply(void *state, const struct pnode *section) {
        struct travel *t = state;
        struct travel_policy p;
        int r = travel_policy_parse(section, &p);
        if (r < 0)
                return sekisho_fail(t->h, r, "cannot take the travel section in; the previous one stays in force");
        char why[TRAVEL_PATH_MAX * 2 + 128];
        if (!t->st.reset_requested && (r = check_plan_devices(t, &p.plan, why, sizeof why)) < 0) {
                travel_policy_clear(&p);
                if (r == -EBUSY) {
                        const struct audit_field f[] = { { "reason", why }, { NULL, NULL } };
                        sekisho_audit(t->h, "travel.reset.refused", "R2", f);
                }
                return sekisho_fail(t->h, r, "%s; the previous policy stays in force", r == -EBUSY ? why : "cannot check the reset plan");
        }
        travel_policy_clear(&t->pol);
        t->pol = p;
        if (t->st.phase == TRAVEL_RESET_PENDING && !t->st.reset_requested)
                write_plan(t); /* a newer signed plan may still change it during the grace period */
        evaluate(t);
        if (t->st.phase == TRAVEL_RESET_PENDING && !t->st.reset_requested &&
            (t->last_notice_usec == 0 || now_usec_monotonic() - t->last_notice_usec > 600 * 1000000ull))
                notice_reset_pending(t); /* a restart or a new bundle: tell again, at most every 10 min */
        return 0;
}

static void travel_status(void *state, struct kvlist *out) {
        struct travel *t = state;
        kvlist_add(out, "state", "%s", travel_phase_name(t->st.phase));
        if (t->st.trip[0]) {
                kvlist_add(out, "trip", "%s", t->st.trip);
                kvlist_add(out, "destination", "%s", t->st.destination);
                kvlist_add(out, "risk", "%s", t->st.high_risk ? "high" : "normal");
        }
        if (t->st.phase == TRAVEL_RESET_PENDING) {
                char d[32];
                format_rfc3339(t->st.deadline, d);
                kvlist_add(out, "reset-deadline", "%s", d);
                kvlist_add(out, "reset-requested", "%s", t->st.reset_requested ? "yes" : "no");
                if (t->st.reset_id[0])
                        kvlist_add(out, "reset-id", "%s", t->st.reset_id); /* what the collector's records carry */
        }
        kvlist_add(out, "profile", "%s", t->profile_active == 1 ? t->active_profile : "none");
        kvlist_add(out, "trips", "%zu", t->pol.n_trips);
        kvlist_add(out, "reset-on-return", "%s", t->pol.reset ? "yes" : "no");
        if (t->last_probe[0])
                kvlist_add(out, "last-probe", "%s", t->last_probe);
        struct kvlist j = { 0 };
        if (t->st.phase == TRAVEL_RESET_PENDING && kv_load(t->journal_path, &j) == 0) {
                /* sekisho-reset's progress, as far as its journal tells */
                size_t done = 0, failed = 0;
                for (size_t i = 0; i < j.n; i++) {
                        done += strcmp(j.keys[i], "done") == 0;
                        failed += strcmp(j.keys[i], "failed") == 0;
                }
                kvlist_add(out, "reset-journal", "%s, %zu step(s) done, %zu failure(s)",
                           kvlist_get(&j, "complete") ? "complete" : "in progress", done, failed);
                kvlist_clear(&j);
        }
        if (t->st.hold[0])
                kvlist_add(out, "held", "%s", t->st.hold);
}

static void travel_shutdown(void *state) {
        travel_free(state);
}

static const struct pnode *node_at(const struct pnode *n, const char *a, const char *b) {
        return pmap_get(b ? pmap_get(n, a) : n, b ? b : a);
}

/* R2 factory reset on return, R11 cryptographic erase. */
static void travel_report(const struct pnode *section, const struct kvlist *live, struct report_rows *out) {
        (void)live;
        struct report_row *row = report_row_add(out, "R2", "000 §4; 004 注3", "travel-");
        if (row) {
                const char *reset = pnode_str(node_at(section, "return", "reset"));
                report_setting(row, "travel.return.reset", "%s", reset ? reset : "(absent)");
                report_setting_node(row, "travel.high-risk-regions", pmap_get(section, "high-risk-regions"));
                if (reset && strcmp(reset, "true") == 0)
                        report_reason(row, REPORT_ENFORCED, "a return from a high-risk region schedules the factory reset");
                else
                        report_reason(row, REPORT_NOT_ENFORCED, "travel.return.reset is off: no reset on return");
        }
        row = report_row_add(out, "R11", "004 (図表41, 表7-1-1)", "travel-reset-");
        if (row) {
                const struct pnode *luks = node_at(section, "reset-plan", "luks-volumes");
                report_setting_node(row, "travel.reset-plan", pmap_get(section, "reset-plan"));
                if (luks && luks->kind == PNODE_SEQ && luks->n > 0)
                        report_reason(row, REPORT_ENFORCED, "the factory reset destroys every LUKS keyslot and header "
                                      "(cryptographic erase)");
                else
                        report_reason(row, REPORT_PARTIAL, "no LUKS volumes in the reset plan: no cryptographic erase by "
                                      "sekisho");
        }
}

SEKISHO_PLUGIN_DEFINE(travel,
        .section = "travel",
        .summary = "high-risk travel state, travel profile and factory-reset orchestration",
        .check = travel_check,
        .init = travel_init,
        .apply = travel_apply,
        .status = travel_status,
        .shutdown = travel_shutdown,
        .report = travel_report,
        .ctl = travel_ctl,
        .ctl_usage = travel_ctl_usage);
