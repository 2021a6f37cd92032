/* vdi.c — the vdi plugin: keeps VDI clients from redirecting clipboard, drives, printers and devices (exec watch + client lockdown). */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "lockdown.h"
#include "plugin.h"
#include "procwatch.h"
#include "util.h"
#include "vdi-policy.h"
#include "vdi-proc.h"

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_pidfd_send_signal
#define SYS_pidfd_send_signal 424
#endif

struct vdi {
        struct sekisho_plugin_handle *h;
        char *sysroot;
        struct vdi_policy pol;
        bool applied;
        struct procwatch *pw;       /* only while the policy names no servers (no claim to rely on) */
        char watch_error[256];
        bool watch_checked;              /* the exec watch was opened once (see exec_watch) */
        char *plan_path;            /* STATE_DIR/vdi/launch-plan, read by the launcher service */
        char refused[192];          /* why the approved client cannot be started, "" if it can */
        struct lockdown *ld;
        bool lockdown_off;
        unsigned long checked, stopped, exited_early, allowed;
        uint32_t lat_us[1024];      /* exec -> SIGKILL, the last 1024 stops */
        uint32_t work_us[1024];     /* event received -> SIGKILL: our own share of it */
        size_t n_lat;
        uint64_t event_ns;          /* when the current exec event was received */
};


static size_t vdi_check(const struct pnode *section, struct perrors *errs) {
        return vdi_policy_check(section, errs);
}

/* User name from SYSROOT/etc/passwd (no NSS inside the sandboxed daemon). */
static void user_name(const char *sysroot, uid_t uid, char *out, size_t out_size) {
        snprintf(out, out_size, "%u", (unsigned) uid);
        _cleanup_free_ char *path = path_join(sysroot, "etc/passwd"), *data = NULL;
        if (!path || read_file_capped(path, 4u * 1024 * 1024, &data, NULL) < 0)
                return;
        for (char *line = data, *nl; line && *line; line = nl ? nl + 1 : NULL) {
                nl = strchr(line, '\n');
                if (nl)
                        *nl = 0;
                char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL, *c3 = c2 ? strchr(c2 + 1, ':') : NULL;
                if (!c3)
                        continue;
                *c1 = 0;
                *c3 = 0;
                uint64_t u;
                if (parse_u64(c2 + 1, &u) == 0 && u == uid && string_is_clean_utf8(line, strlen(line))) {
                        snprintf(out, out_size, "%.64s", line);
                        return;
                }
        }
}

static void report_stop(struct vdi *v, const struct vdi_client_info *c, const struct vdi_proc *p,
                        const struct vdi_decision *d) {
        char pid[16], uid[16], user[80], exe[96];
        snprintf(pid, sizeof pid, "%d", (int) p->pid);
        snprintf(uid, sizeof uid, "%u", (unsigned) p->uid);
        user_name(v->sysroot, p->uid, user, sizeof user);
        rdp_sanitize(p->exe_base[0] ? p->exe_base : p->argv0_base, exe, sizeof exe);
        const char *res = d->res >= 0 ? vdi_res_key(d->res) : d->res == RDP_RES_DOUBT ? "in-doubt" : "client";
        plog_notice(v->h, "stopped %s (%s, pid %s, user %s): %s %s [%s]", c->display, exe, pid, user, d->option,
                   d->reason, d->clause);
        const struct audit_field fields[] = {
                { "client", c->key }, { "exe", exe },         { "pid", pid },         { "uid", uid },
                { "user", user },     { "resource", res },    { "option", d->option }, { "reason", d->reason },
                { NULL, NULL },
        };
        (void) sekisho_audit(v->h, "vdi-client-stopped", d->clause, fields);
        struct audit_field sig[ARRAY_SIZE(fields) + 1];
        memcpy(sig, fields, sizeof fields);
        sig[ARRAY_SIZE(fields) - 1] = (struct audit_field) { "clause", d->clause };
        sig[ARRAY_SIZE(fields)] = (struct audit_field) { NULL, NULL };
        (void) sekisho_signal(v->h, "ClientStopped", sig);
}

static uint64_t mono_ns(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000000u + (uint64_t) ts.tv_nsec;
}

/* Look at one process; stop it if it is a known client the policy forbids. */
static void inspect(struct vdi *v, pid_t pid, uint64_t exec_ns) {
        if (pid <= 0 || pid == getpid())
                return;
        /* Pin the process first: whatever we read below and then signal is this one. */
        _cleanup_close_ int pidfd = (int) syscall(SYS_pidfd_open, pid, 0);
        if (pidfd < 0) {
                v->exited_early++;
                plog_debug(v->h, "process %d exited before it could be read; nothing to decide", (int) pid);
                return;
        }
        struct vdi_proc p;
        int r = vdi_proc_read("/proc", pid, &p);
        if (r < 0) {
                if (r == -ENOEXEC)
                        ; /* kernel thread */
                else if (r == -ESRCH)
                        v->exited_early++, plog_debug(v->h, "process %d exited before it could be read; nothing to decide", (int) pid);
                else
                        log_warning_errno(r, "vdi: cannot read process %d", (int) pid);
                vdi_proc_done(&p);
                return;
        }
        const struct vdi_client_info *c = vdi_proc_client(&p);
        if (!c) {
                vdi_proc_done(&p);
                return; /* not a VDI client: never touched */
        }
        v->checked++;
        struct vdi_decision d;
        vdi_decide(&v->pol, c, &p, &d);
        if (!d.kill) {
                v->allowed++;
                plog_info(v->h, "%s (pid %d, uid %u) may run: every denied channel is off", c->display, (int) pid,
                         (unsigned) p.uid);
                vdi_proc_done(&p);
                return;
        }
        if (syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0) < 0) {
                if (errno == ESRCH)
                        plog_info(v->h, "%s (pid %d) exited before it could be stopped", c->display, (int) pid);
                else
                        plog_error(v->h, "cannot stop %s (pid %d): %s", c->display, (int) pid, strerror(errno));
                vdi_proc_done(&p);
                return;
        }
        if (exec_ns) {
                uint64_t now = mono_ns();
                uint64_t us = now > exec_ns ? (now - exec_ns) / 1000 : 0;
                uint64_t wus = now > v->event_ns ? (now - v->event_ns) / 1000 : 0;
                v->work_us[v->n_lat % ARRAY_SIZE(v->work_us)] = wus > UINT32_MAX ? UINT32_MAX : (uint32_t) wus;
                v->lat_us[v->n_lat++ % ARRAY_SIZE(v->lat_us)] = us > UINT32_MAX ? UINT32_MAX : (uint32_t) us;
        }
        v->stopped++;
        report_stop(v, c, &p, &d);
        vdi_proc_done(&p);
}

static void rescan(struct vdi *v) {
        DIR *d = opendir("/proc");
        if (!d) {
                plog_error(v->h, "cannot scan /proc: %s", strerror(errno));
                return;
        }
        /* Cheap first look (one readlink): only executables named as a known client are
         * inspected in full. A renamed client started with a client's argv[0] before
         * the daemon is not recognised here; at exec it is. */
        for (struct dirent *de; (de = readdir(d));) {
                uint64_t pid;
                if (parse_u64(de->d_name, &pid) < 0 || pid == 0 || pid >= (1u << 30))
                        continue;
                char link[32 + NAME_MAX], exe[PATH_MAX];
                snprintf(link, sizeof link, "/proc/%s/exe", de->d_name);
                ssize_t n = readlink(link, exe, sizeof exe - 1);
                if (n <= 0)
                        continue;
                exe[n] = 0;
                char *base = strrchr(exe, '/');
                base = base ? base + 1 : exe;
                char *del = strstr(base, " (deleted)");
                if (del)
                        *del = 0;
                if (vdi_client_by_exec(base))
                        inspect(v, (pid_t) pid, 0);
        }
        closedir(d);
}

static void on_exec(void *userdata, pid_t tgid, uint64_t exec_ns) {
        struct vdi *v = userdata;
        v->event_ns = mono_ns();
        if (!v->applied)
                return;
        if (tgid == 0) {
                plog_warning(v->h, "the kernel dropped exec events; re-checking every running process");
                rescan(v);
                return;
        }
        inspect(v, tgid, exec_ns);
}

static void on_lockdown(void *userdata, const char *client, const char *path, const char *what, bool tampered) {
        struct vdi *v = userdata;
        if (tampered)
                plog_notice(v->h, "restored %s lockdown %s: it %s", client, path, what);
        else
                plog_info(v->h, "wrote %s lockdown %s (it %s)", client, path, what);
        const struct audit_field fields[] = {
                { "client", client }, { "file", path }, { "what", what }, { "cause", tampered ? "tampered" : "apply" },
                { NULL, NULL },
        };
        (void) sekisho_audit(v->h, tampered ? "vdi-lockdown-restored" : "vdi-lockdown-written", "vdi", fields);
}

static int vdi_init(struct sekisho_plugin_handle *h, void **ret_state) {
        struct vdi *v = calloc(1, sizeof *v);
        if (!v)
                return -ENOMEM;
        v->h = h;
        const struct sekisho_env *env = sekisho_env(h);
        v->sysroot = strdup(env && env->sysroot ? env->sysroot : "/");
        if (!v->sysroot) {
                free(v);
                return -ENOMEM;
        }
        vdi_policy_from_section(NULL, &v->pol);
        _cleanup_free_ char *dir = path_join(env && env->state_dir ? env->state_dir : "/var/lib/sekisho", "vdi");
        v->plan_path = dir ? path_join(dir, "launch-plan") : NULL;
        if (!v->plan_path) {
                free(v->sysroot);
                free(v);
                return -ENOMEM;
        }
        int r;
        /* Test and demo runs never touch the host's client configuration or home directories. */
        v->lockdown_off = env && env->test_mode && strcmp(v->sysroot, "/") == 0;
        if (v->lockdown_off)
                plog_notice(v->h, "test mode without --sysroot: client lockdown files are not written");
        r = lockdown_new(sekisho_loop(h), v->sysroot, on_lockdown, v, &v->ld);
        if (r < 0) {
                free(v->plan_path);
                free(v->sysroot);
                free(v);
                return r;
        }
        *ret_state = v;
        return 0;
}

/* The exec watch is needed only while no server is claimed: then the approved cgroup alone
 * reaches the servers and nothing on the machine wakes the daemon at exec. */
static void exec_watch(struct vdi *v, bool want) {
        if (!want) {
                /* Opened once even so, while the first policy is applied and fork is still
                 * allowed (procwatch checks the connector's ids once, with a child): a later
                 * policy without servers reopens it under the sandbox. */
                if (!v->pw && !v->watch_checked)
                        (void) procwatch_new(sekisho_loop(v->h), on_exec, v, &v->pw);
                v->watch_checked = true;
                v->pw = procwatch_free(v->pw);
                snprintf(v->watch_error, sizeof v->watch_error, "off: the servers are claimed for cgroup %s", v->pol.cgroup);
                return;
        }
        if (v->pw)
                return;
        int r = procwatch_new(sekisho_loop(v->h), on_exec, v, &v->pw);
        if (r < 0) {
                /* Loud, but the lockdown files still protect what they can. */
                snprintf(v->watch_error, sizeof v->watch_error, "%s%s", strerror(-r),
                         r == -EPERM || r == -EACCES ? " (needs CAP_NET_ADMIN)"
                                                     : " (the proc connector answers only in the initial network and PID namespace)");
                plog_error(v->h, "cannot watch process executions: %s; VDI clients are NOT checked at start", v->watch_error);
                const struct audit_field fields[] = { { "facility", "proc-connector" }, { "error", v->watch_error }, { NULL, NULL } };
                (void) sekisho_audit(v->h, "vdi-exec-watch-unavailable", "vdi", fields);
        }
}

/* Why the approved client cannot be started under the policy, into out ("" if it can). */
static const char *approved_refusal(const struct vdi_policy *p, char *out, size_t size) {
        out[0] = 0;
        if (p->client == VDI_CLIENT_NONE)
                return NULL;
        const struct vdi_client_info *c = &vdi_clients[p->client];
        int res;
        const char *clause = vdi_policy_refuses(p, c, &res);
        if (clause && res >= 0)
                snprintf(out, size, "%s cannot keep %s off (%s)", c->display, vdi_res_name(res), c->how[res]);
        else if (clause)
                snprintf(out, size, "%s is not in vdi.allow-clients", c->display);
        else if (p->client != VDI_CLIENT_FREERDP) {
                snprintf(out, size, "sekisho has a launcher for FreeRDP only; %s cannot be started in the approved cgroup",
                         c->display);
                clause = "vdi.client";
        }
        return clause;
}

/* Publish the plan for the launcher and claim the servers for the approved cgroup. */
static int publish(struct vdi *v) {
        const char *clause = approved_refusal(&v->pol, v->refused, sizeof v->refused);
        if (clause) {
                const struct vdi_client_info *c = &vdi_clients[v->pol.client];
                plog_notice(v->h, "approved client %s refused: %s", c->display, v->refused);
                const struct audit_field fields[] = { { "client", c->key }, { "reason", v->refused }, { NULL, NULL } };
                (void) sekisho_audit(v->h, "vdi-client-refused", clause, fields);
        }
        struct sekisho_net_claim claims[VDI_MAX_SERVERS];
        for (size_t i = 0; i < v->pol.n_servers; i++)
                claims[i] = (struct sekisho_net_claim) {
                        .destination = v->pol.servers[i].host,
                        .port_lo = v->pol.servers[i].port,
                        .port_hi = v->pol.servers[i].port,
                        .cgroup = v->pol.cgroup,
                };
        int r = sekisho_net_claim_set(v->h, claims, v->pol.n_servers);
        if (r < 0)
                return sekisho_fail(v->h, r, "cannot claim the VDI servers for cgroup %s", v->pol.cgroup);
        _cleanup_free_ struct vdi_plan *plan = calloc(1, sizeof *plan);
        if (!plan)
                return -ENOMEM;
        plan->client = v->pol.client;
        plan->deny = v->pol.deny;
        snprintf(plan->cgroup, sizeof plan->cgroup, "%s", v->pol.cgroup);
        snprintf(plan->refused, sizeof plan->refused, "%s", v->refused);
        plan->n_servers = v->pol.n_servers;
        memcpy(plan->servers, v->pol.servers, sizeof plan->servers);
        _cleanup_free_ char *text = NULL;
        r = vdi_plan_format(plan, &text);
        if (r < 0)
                return r;
        _cleanup_free_ char *dir = strdup(v->plan_path);
        if (!dir)
                return -ENOMEM;
        *strrchr(dir, '/') = 0;
        r = mkdir_p(dir, 0755);
        if (r >= 0)
                r = write_file_atomic(v->plan_path, text, strlen(text), 0644);
        if (r < 0)
                return sekisho_fail(v->h, r, "cannot write the launch plan %s", v->plan_path);
        return 0;
}

static int vdi_apply(void *state, const struct pnode *section) {
        struct vdi *v = state;
        vdi_policy_from_section(section, &v->pol);
        v->applied = true;
        exec_watch(v, v->pol.n_servers == 0);
        int r = v->lockdown_off ? 0 : lockdown_apply(v->ld, v->pol.deny);
        int p = publish(v);
        if (v->pw)
                rescan(v); /* clients already running when the policy changed */
        else if (v->pol.n_servers == 0)
                return -EPROTONOSUPPORT; /* reported FAILED: without claims the exec watch is the core of R3 */
        return p < 0 ? p : r < 0 ? r : 0;
}

static int cmp_u32(const void *a, const void *b) {
        uint32_t x = *(const uint32_t *) a, y = *(const uint32_t *) b;
        return x < y ? -1 : x > y;
}

static void vdi_status(void *state, struct kvlist *out) {
        struct vdi *v = state;
        size_t n = v->n_lat < ARRAY_SIZE(v->lat_us) ? v->n_lat : ARRAY_SIZE(v->lat_us);
        for (unsigned k = 0; k < 2 && n > 0; k++) {
                uint32_t sorted[ARRAY_SIZE(v->lat_us)];
                memcpy(sorted, k == 0 ? v->lat_us : v->work_us, n * sizeof sorted[0]);
                qsort(sorted, n, sizeof sorted[0], cmp_u32);
                kvlist_add(out, k == 0 ? "exec-to-kill-us" : "event-to-kill-us", "p50 %u, p99 %u, max %u over %zu stops",
                           sorted[n / 2], sorted[(n * 99) / 100], sorted[n - 1], n);
        }
        char denied[256] = "";
        for (int r = 0; r < _VDI_RES_MAX; r++)
                if (v->pol.deny & (1u << r)) {
                        size_t len = strlen(denied);
                        snprintf(denied + len, sizeof denied - len, "%s%s", len ? "," : "", vdi_res_key(r));
                }
        kvlist_add(out, "denied", "%s", denied[0] ? denied : "(none)");
        kvlist_add(out, "exec-watch", "%s", v->pw ? "active" : v->watch_error);
        kvlist_add(out, "approved-client", "%s", v->pol.client >= 0 ? vdi_clients[v->pol.client].key : "(none)");
        kvlist_add(out, "approved-cgroup", "%s", v->pol.cgroup);
        kvlist_add(out, "servers-claimed", "%zu", v->pol.n_servers);
        if (v->refused[0])
                kvlist_add(out, "approved-refused", "%s", v->refused);
        kvlist_add(out, "clients-checked", "%lu", v->checked);
        kvlist_add(out, "clients-stopped", "%lu", v->stopped);
        kvlist_add(out, "exited-before-read", "%lu", v->exited_early);
        kvlist_add(out, "exec-events", "%lu", procwatch_events(v->pw));
        kvlist_add(out, "exec-overruns", "%lu", procwatch_overruns(v->pw));
        lockdown_status(v->ld, out);
}

static void vdi_shutdown(void *state) {
        struct vdi *v = state;
        if (!v)
                return;
        procwatch_free(v->pw);
        lockdown_free(v->ld);
        free(v->plan_path);
        free(v->sysroot);
        free(v);
}

static const int vdi_syscalls[] = {
        SYS_pidfd_open, SYS_pidfd_send_signal, SYS_openat2, SYS_readlinkat, SYS_recvfrom, SYS_sendto,
        SYS_inotify_add_watch, SYS_inotify_rm_watch, SYS_renameat, SYS_unlinkat, SYS_mkdirat, SYS_fchown,
        SYS_fchmod, SYS_getdents64, SYS_fsync, SYS_newfstatat, SYS_fstat, SYS_openat, -1,
};

/* R3: every redirection class denied, the servers reachable only from the approved client's
 * cgroup, and for every client of the capability table whether it is approved, locked or refused. */
static void vdi_report(const struct pnode *section, const struct kvlist *live, struct report_rows *out) {
        static const char *const classes[] = { "clipboard", "drives", "printers", "usb-redirect", "serial-ports" };
        struct report_row *row = report_row_add(out, "R3", "004 意見① (別紙)", "vdi-");
        if (!row)
                return;
        size_t denied = 0;
        char name[64];
        for (size_t i = 0; i < ARRAY_SIZE(classes); i++) {
                const char *v = pnode_str(pmap_get(section, classes[i]));
                snprintf(name, sizeof name, "vdi.%s", classes[i]);
                report_setting(row, name, "%s", v ? v : "(absent)");
                denied += v && strcmp(v, "deny") == 0;
        }
        report_setting_node(row, "vdi.allow-devices", pmap_get(section, "allow-devices"));
        report_setting_node(row, "vdi.servers", pmap_get(section, "servers"));
        _cleanup_free_ struct vdi_policy *pol = calloc(1, sizeof *pol);
        if (!pol)
                return;
        vdi_policy_from_section(section, pol);
        char refusal[192];
        const char *refused_clause = approved_refusal(pol, refusal, sizeof refusal);
        report_setting(row, "vdi.client", "%s%s", pol->client >= 0 ? vdi_clients[pol->client].key : "(none)",
                       refused_clause ? " (refused)" : "");
        /* Every client of the table: approved (the launcher starts it), locked (may run, every
         * denied channel held off), or refused with the first resource it cannot keep off, or
         * because it is approved but sekisho has no launcher for it. */
        char locked[160] = "", refused[256] = "";
        for (size_t c = 0; c < _VDI_CLIENT_MAX; c++) {
                const struct vdi_client_info *ci = &vdi_clients[c];
                int res;
                const char *why = vdi_policy_refuses(pol, ci, &res);
                if ((int) c == pol->client && !why) {
                        if (!refused_clause)
                                continue;
                        why = "no launcher";
                }
                char *buf = why ? refused : locked;
                size_t size = why ? sizeof refused : sizeof locked, len = strlen(buf);
                snprintf(buf + len, size - len, "%s%s%s%s%s", len ? "," : "", ci->key, why ? "(" : "",
                         !why ? "" : res >= 0 ? vdi_res_key(res) : (int) c == pol->client ? why : "not allowed", why ? ")" : "");
        }
        report_setting(row, "clients", "approved %s; locked %s; refused %s",
                       pol->client >= 0 && !refused_clause ? vdi_clients[pol->client].key : "none", locked[0] ? locked : "none",
                       refused[0] ? refused : "none");
        bool all = denied == ARRAY_SIZE(classes);
        report_reason(row, all ? REPORT_ENFORCED : denied ? REPORT_PARTIAL : REPORT_NOT_ENFORCED,
                      "%zu of %zu redirection classes denied; %s%s%s%s", denied, ARRAY_SIZE(classes),
                      pol->n_servers ? "the VDI servers are reachable only from the approved client's cgroup (sekisho-rdp)"
                                     : "no vdi.servers: clients are checked at exec and stopped",
                      live ? "" : " while sekishod runs", refused_clause ? "; the approved client is refused: " : "",
                      refused_clause ? refusal : "");
}

SEKISHO_PLUGIN_DEFINE(vdi,
        .section = "vdi",
        .summary = "keeps VDI clients from redirecting clipboard, drives, printers and devices",
        .check = vdi_check,
        .init = vdi_init,
        .apply = vdi_apply,
        .status = vdi_status,
        .shutdown = vdi_shutdown,
        .report = vdi_report,
        .syscalls = vdi_syscalls);
