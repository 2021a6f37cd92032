/* posture.c — the posture plugin: re-checks the terminal on start, policy change, package/antivirus change, network reconnect and daily, and asks the core for quarantine. */
#include "config.h"

#include <fcntl.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "evaluate.h"
#include "facts.h"
#include "plugin.h"
#include "posturectl.h"
#include "util.h"

#define USEC_PER_SEC 1000000ULL
#define DAILY_USEC (24ULL * 3600 * USEC_PER_SEC)
/* dpkg rewrites its status many times in one run and a reconnect brings a
 * burst of link and address events: wait until they have been quiet this
 * long before re-checking (a debounce, not a poll). */
#define SETTLE_USEC (5 * USEC_PER_SEC)
/* A re-check asked for on the bus: at most one this often, whoever asks. */
#define RECHECK_INTERVAL_USEC (30 * USEC_PER_SEC)


struct posture {
        struct sekisho_plugin_handle *h;
        char *root;
        char *since_path;               /* state: when non-compliance started */

        struct posture_policy pol;
        struct posture_policy pending;  /* from apply(), taken at the next evaluation */
        bool have_pending, in_eval;

        bool evaluated;
        struct posture_result last;
        int64_t last_time;
        char trigger[32];               /* why the next evaluation runs */
        unsigned evaluations;

        bool quarantined;
        uint64_t settle_usec;
        int64_t noncompliant_since;     /* 0: compliant (or never evaluated) */

        uint64_t recheck_usec;          /* monotonic time of the last PostureRecheck */
        unsigned rechecks_refused;      /* since then (rate limit), told in the next record */

        struct loop_source *settle, *daily, *grace, *inotify_src, *nl_src;
        int inotify_fd, nl_fd;
        char watch_state[128], nl_state[128];
};

static int64_t posture_now(void) {
#ifdef ENABLE_FAULT_INJECTION
        const char *tn = getenv("SEKISHO_TEST_NOW");
        int64_t t;
        if (tn && parse_rfc3339(tn, &t) >= 0)
                return t;
#endif
        return now_unix();
}

static void schedule(struct posture *p, const char *why, uint64_t delay_usec) {
        if (why != p->trigger)
                snprintf(p->trigger, sizeof p->trigger, "%s", why);
        int r = loop_timer_arm(p->settle, delay_usec ? p->settle_usec : 1, 0);
        if (r < 0)
                log_warning_errno(r, "posture: cannot arm the re-check timer, ignoring: %m");
}

static void save_since(struct posture *p) {
        if (p->noncompliant_since == 0) {
                if (unlink(p->since_path) < 0 && errno != ENOENT)
                        log_warning_errno(-errno, "posture: cannot remove %s, ignoring: %m", p->since_path);
                return;
        }
        char buf[32];
        int n = snprintf(buf, sizeof buf, "%lld\n", (long long)p->noncompliant_since);
        int r = write_file_atomic(p->since_path, buf, (size_t)n, 0600);
        if (r < 0)
                log_warning_errno(r, "posture: cannot write %s (the grace period restarts after a restart): %m",
                                  p->since_path);
}

static void load_since(struct posture *p) {
        _cleanup_free_ char *data = NULL;
        size_t n;
        uint64_t v;
        if (read_file_capped(p->since_path, 64, &data, &n) < 0)
                return;
        data[strcspn(data, "\n")] = '\0';
        if (parse_u64(data, &v) < 0 || v > (uint64_t)INT64_MAX) {
                plog_warning(p->h, "%s is not a time, treating non-compliance as starting now", p->since_path);
                p->noncompliant_since = posture_now();
                return;
        }
        p->noncompliant_since = (int64_t)v;
}

static void failed_list(const struct posture_result *res, char *buf, size_t size) {
        buf[0] = '\0';
        for (int i = 0; i < _PC_MAX; i++)
                if (res->c[i].status == PS_FAIL || res->c[i].status == PS_UNKNOWN) {
                        size_t l = strlen(buf);
                        snprintf(buf + l, size - l, "%s%s%s", l ? "," : "", posture_check_name((enum posture_check_id)i),
                                 res->c[i].status == PS_UNKNOWN ? "?" : "");
                }
}

static bool result_changed(const struct posture_result *a, const struct posture_result *b) {
        if (a->compliant != b->compliant)
                return true;
        for (int i = 0; i < _PC_MAX; i++)
                if (a->c[i].status != b->c[i].status)
                        return true;
        return false;
}

static void set_quarantine(struct posture *p, bool on, const char *reason) {
        if (p->quarantined == on)
                return;
        int r = sekisho_profile_request(p->h, "quarantine", on, reason);
        if (r < 0) {
                log_error_errno(r, "posture: the core refused to %s the quarantine profile: %m",
                                on ? "activate" : "deactivate");
                return;
        }
        p->quarantined = on;
        struct audit_field fields[] = {
                { "reason", reason },
                { NULL, NULL },
        };
        sekisho_audit(p->h, on ? "posture-quarantine-requested" : "posture-quarantine-released", "R7", fields);
}

/* Decide what the result means under the policy's action. */
static void enforce(struct posture *p, int64_t now) {
        char failed[512], reason[640];
        failed_list(&p->last, failed, sizeof failed);

        if (p->last.compliant) {
                if (p->noncompliant_since) {
                        p->noncompliant_since = 0;
                        save_since(p);
                }
                loop_timer_disarm(p->grace);
                set_quarantine(p, false, "posture compliant again");
                return;
        }
        if (!p->noncompliant_since) {
                p->noncompliant_since = now;
                save_since(p);
        }
        switch (p->pol.action) {
        case POSTURE_REPORT:
        case POSTURE_NOTIFY:
                loop_timer_disarm(p->grace);
                set_quarantine(p, false, "policy action no longer quarantines");
                break;
        case POSTURE_QUARANTINE:
                snprintf(reason, sizeof reason, "posture not compliant: %s", failed);
                set_quarantine(p, true, reason);
                break;
        case POSTURE_QUARANTINE_AFTER: {
                int64_t due = p->noncompliant_since + p->pol.grace_hours * 3600;
                if (now >= due) {
                        snprintf(reason, sizeof reason, "posture not compliant for over %lld hours: %s",
                                 (long long)p->pol.grace_hours, failed);
                        set_quarantine(p, true, reason);
                } else {
                        set_quarantine(p, false, "within the grace period");
                        loop_timer_arm(p->grace, (uint64_t)(due - now) * USEC_PER_SEC, 0);
                }
                break;
        }
        }
}

static int evaluate(struct posture *p) {
        struct posture_facts f;
        struct posture_result res;
        int64_t now = posture_now();

        if (p->have_pending) {
                posture_policy_clear(&p->pol);
                p->pol = p->pending;
                p->pending = (struct posture_policy){ 0 };
                p->have_pending = false;
        }
        p->in_eval = true;
        int r = posture_gather(p->root, (const char *const *)p->pol.forbidden, (const char *const *)p->pol.wine, &f);
        if (r < 0) {
                posture_facts_clear(&f);
                p->in_eval = false;
                return log_error_errno(r, "posture: cannot gather facts: %m");
        }
        posture_evaluate(&f, &p->pol, now, &res);
        posture_facts_clear(&f);

        bool changed = !p->evaluated || result_changed(&p->last, &res);
        p->last = res;
        p->last_time = now;
        p->evaluated = true;
        p->evaluations++;

        if (changed) {
                char failed[512], evidence[2048] = "";
                failed_list(&res, failed, sizeof failed);
                for (int i = 0; i < _PC_MAX; i++)
                        if (res.c[i].status == PS_FAIL || res.c[i].status == PS_UNKNOWN) {
                                size_t l = strlen(evidence);
                                snprintf(evidence + l, sizeof evidence - l, "%s%s: %s", l ? "; " : "",
                                         posture_check_name((enum posture_check_id)i), res.c[i].evidence);
                        }
                const char *action = posture_action_name(p->pol.action);
                struct audit_field fields[] = {
                        { "compliant", res.compliant ? "true" : "false" },
                        { "failed", failed },
                        { "evidence", evidence },
                        { "action", action },
                        { "trigger", p->trigger },
                        { NULL, NULL },
                };
                sekisho_audit(p->h, "posture-changed", "R5,R6,R7", fields);
                struct audit_field sig[] = {
                        { "compliant", res.compliant ? "true" : "false" },
                        { "failed", failed },
                        { "action", action },
                        { "notify", p->pol.action == POSTURE_REPORT ? "false" : "true" },
                        { NULL, NULL },
                };
                sekisho_signal(p->h, "PostureChanged", sig);
                sekisho_status_changed(p->h);
                plog_info(p->h, "%s (%s) after %s", res.compliant ? "compliant" : "not compliant",
                         res.compliant ? "all checks pass" : failed, p->trigger);
        }
        enforce(p, now);
        p->in_eval = false;
        return 0;
}

static int on_settle(struct loop_source *s, void *userdata) {
        struct posture *p = userdata;
        return evaluate(p);
}

static int on_daily(struct loop_source *s, void *userdata) {
        struct posture *p = userdata;
        snprintf(p->trigger, sizeof p->trigger, "daily");
        return evaluate(p);
}

static int on_grace(struct loop_source *s, void *userdata) {
        struct posture *p = userdata;
        snprintf(p->trigger, sizeof p->trigger, "grace-expired");
        return evaluate(p);
}

static int on_inotify(struct loop_source *s, int fd, uint32_t revents, void *userdata) {
        struct posture *p = userdata;
        char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
        bool any = false;
        for (int rounds = 0; rounds < 64; rounds++) {
                ssize_t n = read(fd, buf, sizeof buf);
                if (n < 0) {
                        if (errno == EAGAIN || errno == EINTR)
                                break;
                        return -errno;
                }
                if (n == 0)
                        break;
                any = true;
        }
        if (any)
                schedule(p, "package-or-antivirus-change", SETTLE_USEC);
        return 0;
}

/* rtnetlink: a link coming up or an address appearing means the terminal
 * may have been carried back into the office: check before it settles in. */
static int on_netlink(struct loop_source *s, int fd, uint32_t revents, void *userdata) {
        struct posture *p = userdata;
        char buf[8192] __attribute__((aligned(__alignof__(struct nlmsghdr))));
        bool reconnect = false;
        for (int rounds = 0; rounds < 64; rounds++) {
                struct sockaddr_nl sa;
                socklen_t sl = sizeof sa;
                ssize_t n = recvfrom(fd, buf, sizeof buf, MSG_DONTWAIT, (struct sockaddr *)&sa, &sl);
                if (n < 0) {
                        if (errno == EAGAIN || errno == EINTR)
                                break;
                        if (errno == ENOBUFS) { /* we missed events: re-check anyway */
                                reconnect = true;
                                continue;
                        }
                        return -errno;
                }
                if (n == 0)
                        break;
                if (sl != sizeof sa || sa.nl_family != AF_NETLINK || sa.nl_pid != 0)
                        continue; /* only the kernel speaks here */
                size_t len = (size_t)n;
                for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, len); h = NLMSG_NEXT(h, len)) {
                        if (h->nlmsg_type == RTM_NEWADDR && h->nlmsg_len >= NLMSG_LENGTH(sizeof(struct ifaddrmsg))) {
                                const struct ifaddrmsg *ifa = NLMSG_DATA(h);
                                if (ifa->ifa_scope != RT_SCOPE_HOST && ifa->ifa_scope != RT_SCOPE_NOWHERE)
                                        reconnect = true;
                        } else if (h->nlmsg_type == RTM_NEWLINK &&
                                   h->nlmsg_len >= NLMSG_LENGTH(sizeof(struct ifinfomsg))) {
                                const struct ifinfomsg *ifi = NLMSG_DATA(h);
                                if ((ifi->ifi_flags & IFF_UP) && (ifi->ifi_flags & IFF_RUNNING) &&
                                    !(ifi->ifi_flags & IFF_LOOPBACK) && (ifi->ifi_change & (IFF_UP | IFF_RUNNING)))
                                        reconnect = true;
                        }
                }
        }
        if (reconnect)
                schedule(p, "network-reconnect", SETTLE_USEC);
        return 0;
}

static void add_watch(struct posture *p, const char *rel) {
        _cleanup_free_ char *path = path_join(p->root, rel);
        if (!path)
                return;
        if (inotify_add_watch(p->inotify_fd, path, IN_CLOSE_WRITE | IN_MOVED_TO | IN_DELETE | IN_CREATE) < 0) {
                size_t l = strlen(p->watch_state);
                snprintf(p->watch_state + l, sizeof p->watch_state - l, "%s%s: %s", l ? "; " : "", rel,
                         strerror(errno));
        }
}

static void setup_triggers(struct posture *p) {
        struct loop *loop = sekisho_loop(p->h);
        int r;

        p->inotify_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
        if (p->inotify_fd < 0)
                snprintf(p->watch_state, sizeof p->watch_state, "inotify: %s", strerror(errno));
        else {
                add_watch(p, "var/lib/dpkg");
                add_watch(p, "var/lib/clamav");
                r = loop_add_io(loop, p->inotify_fd, EPOLLIN, on_inotify, p, &p->inotify_src);
                if (r < 0)
                        snprintf(p->watch_state, sizeof p->watch_state, "loop: %s", strerror(-r));
        }
        if (!p->watch_state[0])
                snprintf(p->watch_state, sizeof p->watch_state, "watching");
        else
                plog_warning(p->h, "package/antivirus changes are not watched (%s); re-checks still run daily, "
                            "on policy change and on reconnect", p->watch_state);

        p->nl_fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_ROUTE);
        if (p->nl_fd >= 0) {
                struct sockaddr_nl sa = {
                        .nl_family = AF_NETLINK,
                        .nl_groups = RTMGRP_LINK | RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR,
                };
                if (bind(p->nl_fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
                        snprintf(p->nl_state, sizeof p->nl_state, "bind: %s", strerror(errno));
                        close(p->nl_fd);
                        p->nl_fd = -1;
                } else if ((r = loop_add_io(loop, p->nl_fd, EPOLLIN, on_netlink, p, &p->nl_src)) < 0)
                        snprintf(p->nl_state, sizeof p->nl_state, "loop: %s", strerror(-r));
                else
                        snprintf(p->nl_state, sizeof p->nl_state, "watching");
        } else
                snprintf(p->nl_state, sizeof p->nl_state, "socket: %s", strerror(errno));
        if (strcmp(p->nl_state, "watching") != 0)
                plog_warning(p->h, "network reconnects are not watched (%s)", p->nl_state);
}

static void posture_free(struct posture *p) {
        if (!p)
                return;
        loop_source_free(p->settle);
        loop_source_free(p->daily);
        loop_source_free(p->grace);
        loop_source_free(p->inotify_src);
        loop_source_free(p->nl_src);
        if (p->inotify_fd >= 0)
                close(p->inotify_fd);
        if (p->nl_fd >= 0)
                close(p->nl_fd);
        posture_policy_clear(&p->pol);
        posture_policy_clear(&p->pending);
        free(p->root);
        free(p->since_path);
        free(p);
}

static int posture_init(struct sekisho_plugin_handle *h, void **ret_state) {
        const struct sekisho_env *env = sekisho_env(h);
        struct loop *loop = sekisho_loop(h);
        struct posture *p = calloc(1, sizeof *p);
        int r;

        if (!p)
                return -ENOMEM;
        p->h = h;
        p->inotify_fd = p->nl_fd = -1;
        /* Tests do not wait five seconds for a debounce. */
        p->settle_usec = env->test_mode ? 100000 : SETTLE_USEC;
        _cleanup_free_ char *dir = path_join(env->state_dir, "posture");
        p->root = strdup(env->sysroot && *env->sysroot ? env->sysroot : "/");
        if (!dir || !p->root || !(p->since_path = path_join(dir, "noncompliant-since"))) {
                posture_free(p);
                return -ENOMEM;
        }
        r = mkdir_p(dir, 0700);
        if (r < 0) {
                posture_free(p);
                return log_error_errno(r, "posture: cannot create %s: %m", dir);
        }
        /* Until the first apply(): the built-in behaviour. */
        r = posture_policy_load(NULL, &p->pol);
        if (r < 0 || (r = loop_add_timer(loop, on_settle, p, &p->settle)) < 0 ||
            (r = loop_add_timer(loop, on_daily, p, &p->daily)) < 0 ||
            (r = loop_add_timer(loop, on_grace, p, &p->grace)) < 0 ||
            (r = loop_timer_arm(p->daily, DAILY_USEC, DAILY_USEC)) < 0) {
                posture_free(p);
                return r;
        }
        load_since(p);
        setup_triggers(p);
        snprintf(p->trigger, sizeof p->trigger, "start");
        *ret_state = p;
        return 0;
}

static int posture_apply(void *state, const struct pnode *section) {
        struct posture *p = state;
        struct posture_policy np;
        int r = posture_policy_load(section, &np);
        if (r < 0)
                return r;
        posture_policy_clear(&p->pending);
        p->pending = np;
        p->have_pending = true;
        snprintf(p->trigger, sizeof p->trigger, "%s", p->evaluated ? "policy-applied" : "start");
        /* A quarantine request from inside evaluate() makes the core run
         * another apply round once this one is done (it does not call us
         * back re-entrantly); should a core ever do, defer to the loop. */
        if (p->in_eval) {
                schedule(p, p->trigger, 0);
                return 0;
        }
        loop_timer_disarm(p->settle);
        /* The policy itself is in force; a failed re-check (out of memory)
         * is logged by evaluate() and retried by the next trigger. */
        (void)evaluate(p);
        return 0;
}

static void posture_status(void *state, struct kvlist *out) {
        struct posture *p = state;
        char failed[512], ts[32];
        if (!p->evaluated) {
                kvlist_add(out, "compliant", "not yet evaluated");
        } else {
                failed_list(&p->last, failed, sizeof failed);
                format_rfc3339(p->last_time, ts);
                kvlist_add(out, "compliant", "%s", p->last.compliant ? "yes" : "no");
                if (!p->last.compliant)
                        kvlist_add(out, "failed", "%s", failed);
                kvlist_add(out, "evaluated", "%s", ts);
        }
        kvlist_add(out, "action", "%s", posture_action_name(p->pol.action));
        kvlist_add(out, "quarantine", "%s", p->quarantined ? "requested" : "no");
        if (p->noncompliant_since) {
                format_rfc3339(p->noncompliant_since, ts);
                kvlist_add(out, "noncompliant-since", "%s", ts);
        }
        kvlist_add(out, "evaluations", "%u", p->evaluations);
        kvlist_add(out, "package-watch", "%s", p->watch_state);
        kvlist_add(out, "network-watch", "%s", p->nl_state);
}

static void posture_shutdown(void *state) {
        posture_free(state);
}

/* What a re-check needs after the sandbox is in place, beyond plain file I/O. */
static const int posture_syscalls[] = {
        __NR_openat2, __NR_getdents64, __NR_newfstatat, __NR_pread64, __NR_uname, __NR_inotify_init1,
        __NR_inotify_add_watch, __NR_recvfrom, __NR_unlink, __NR_rename, __NR_fsync, -1,
};

/* PostureRecheck: the person at the terminal fixed something and asks. */
static int posture_recheck(void *state, uint32_t uid, char *msg, size_t msg_size) {
        struct posture *p = state;
        uint64_t now = now_usec_monotonic();
        if (p->recheck_usec && now - p->recheck_usec < RECHECK_INTERVAL_USEC) {
                p->rechecks_refused++;
                snprintf(msg, msg_size, "a re-check ran %llu s ago; ask again in %llu s",
                         (unsigned long long)((now - p->recheck_usec) / USEC_PER_SEC),
                         (unsigned long long)((RECHECK_INTERVAL_USEC - (now - p->recheck_usec)) / USEC_PER_SEC + 1));
                return -EBUSY;
        }
        p->recheck_usec = now;
        snprintf(p->trigger, sizeof p->trigger, "recheck by uid %u", (unsigned)uid);
        loop_timer_disarm(p->settle);
        int r = evaluate(p);
        char u[16], refused[16], failed[512];
        snprintf(u, sizeof u, "%u", (unsigned)uid);
        snprintf(refused, sizeof refused, "%u", p->rechecks_refused);
        p->rechecks_refused = 0;
        failed_list(&p->last, failed, sizeof failed);
        bool ok = r == 0 && p->evaluated;
        struct audit_field fields[] = {
                { "uid", u },
                { "result", !ok ? "error" : p->last.compliant ? "compliant" : "not-compliant" },
                { "failed", ok ? failed : "" },
                { "refused-since-last", refused },
                { NULL, NULL },
        };
        sekisho_audit(p->h, "posture-recheck", "R6,R7", fields);
        if (!ok) {
                snprintf(msg, msg_size, "the re-check could not run: %s", strerror(r < 0 ? -r : EIO));
                return r < 0 ? r : -EIO;
        }
        if (p->last.compliant)
                snprintf(msg, msg_size, "compliant");
        else
                snprintf(msg, msg_size, "not compliant: %s", failed);
        return 0;
}

static const struct sekisho_method posture_methods[] = {
        { .member = "PostureRecheck", .action = "org.sekisho.Sekisho1.posture-recheck", .call = posture_recheck },
        { NULL },
};

static size_t posture_check(const struct pnode *section, struct perrors *errs) {
        return posture_check_section(section, errs);
}

/* R5 file-sharing software, R6 permitted OS, R7 quarantine. */
static void posture_report_rows(const struct pnode *section, const struct kvlist *live, struct report_rows *out) {
        (void)live;
        const struct pnode *fs = pmap_get(section, "forbidden-software"), *os = pmap_get(section, "allowed-os"),
                           *wine = pmap_get(section, "forbidden-wine-programs");
        const char *action = pnode_str(pmap_get(section, "action"));
        bool reports_only = action && strcmp(action, "report") == 0;
        struct report_row *row = report_row_add(out, "R5", "002 ⑤ (注2); 000 §5", "posture-changed");
        if (row) {
                report_setting(row, "posture.forbidden-software", "%zu name pattern(s)",
                               fs && fs->kind == PNODE_SEQ ? fs->n : 0);
                report_setting(row, "posture.forbidden-wine-programs", "%zu file name pattern(s)",
                               wine && wine->kind == PNODE_SEQ ? wine->n : 0);
                report_setting(row, "posture.action", "%s", action ? action : "(absent)");
                if (fs && fs->kind == PNODE_SEQ && fs->n > 0)
                        report_reason(row, REPORT_ENFORCED,
                                      "file-sharing software is looked for in dpkg and rpm databases, system and "
                                      "per-user Flatpaks, snaps, AppImages and every wine prefix (file names and PE "
                                      "version resources)");
                else
                        report_reason(row, REPORT_NOT_ENFORCED, "no forbidden-software patterns: nothing is looked for");
        }
        row = report_row_add(out, "R6", "000 §5; 002 ⑤", "posture-changed");
        if (row) {
                report_setting_node(row, "posture.allowed-os", os);
                report_setting(row, "posture.action", "%s", action ? action : "(absent)");
                bool lock = false;
                int64_t minlen = 0;
                (void)pnode_bool(pmap_get(section, "require-screen-lock"), &lock);
                lock = lock || pmap_get(section, "screen-lock-max-idle-minutes");
                (void)pnode_int(pmap_get(section, "password-min-length"), &minlen);
                report_setting(row, "posture.require-screen-lock", "%s", lock ? "true" : "false");
                report_setting(row, "posture.password-min-length", "%lld", (long long)minlen);
                if (!os || os->kind != PNODE_SEQ || os->n == 0)
                        report_reason(row, REPORT_NOT_ENFORCED, "the policy permits any OS (no posture.allowed-os)");
                else
                        report_reason(row, reports_only || !lock || minlen == 0 ? REPORT_PARTIAL : REPORT_ENFORCED,
                                      "the OS and its version are checked against the permitted list%s%s%s",
                                      lock ? ", the screen lock" : "", minlen ? ", the password length" : "",
                                      reports_only ? " and only reported (action: report)"
                                      : !lock || minlen == 0 ? "; the password lock is not fully required" : "");
        }
        row = report_row_add(out, "R7", "002 ④ (注3); 002 ⑤", "posture-quarantine-");
        if (row) {
                report_setting(row, "posture.action", "%s", action ? action : "(absent)");
                bool quarantines = action && strncmp(action, "quarantine", 10) == 0;
                report_reason(row, quarantines ? REPORT_ENFORCED : REPORT_NOT_ENFORCED, "%s",
                              quarantines ? "a non-compliant terminal is quarantined (the quarantine profile)"
                                          : "posture only reports or notifies");
        }
}

/* `sekishoctl posture ...`: the posture the daemon would judge now, offline. */
static int posture_ctl(const struct sekisho_ctl_env *env, const struct pnode *section, int argc, char **argv) {
        if (argc >= 2 && strcmp(argv[1], "recheck") == 0) {
                if (argc != 2) {
                        fprintf(stderr, "usage: sekishoctl posture recheck\n");
                        return POSTURE_EXIT_USAGE;
                }
                char answer[512];
                int r = env->call(env, "PostureRecheck", answer, sizeof answer);
                if (r != 0)
                        return r;
                printf("%s\n", answer);
                return strcmp(answer, "compliant") == 0 ? POSTURE_EXIT_COMPLIANT : POSTURE_EXIT_NONCOMPLIANT;
        }
        return posture_ctl_main(argc, argv, section, env->policy_name, env->default_section, stdout, stderr);
}

SEKISHO_PLUGIN_DEFINE(posture,
        .section = "posture",
        .summary = "BYOD/OS posture checks (OS version, file-sharing software, antivirus, encryption) and quarantine",
        .check = posture_check,
        .init = posture_init,
        .apply = posture_apply,
        .status = posture_status,
        .shutdown = posture_shutdown,
        .report = posture_report_rows,
        .ctl = posture_ctl,
        .ctl_usage = "  posture [--json] [--root DIR] [--policy FILE]\n"
                     "                                  posture checks and the BYOD form data, offline\n"
                     "  posture recheck                 ask sekishod to re-check now (the active local user may)\n",
        .syscalls = posture_syscalls,
        .methods = posture_methods);
