/* core.c — the daemon context: start-up order, plugins, profiles, bundle install and revert, signals. */
#include "config.h"

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <malloc.h>
#include <inttypes.h>
#include <signal.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sodium.h>

#include "bus.h"
#include "core.h"
#include "evidence.h"
#include "freshness.h"
#include "inbox.h"
#include "lock.h"
#include "sandbox.h"
#include "tlsprobe.h"
#include "util.h"


static void write_status_file(struct sekisho *ctx);

#define STATUS_MIN_INTERVAL_USEC 100000

static void status_flush(struct sekisho *ctx) {
        ctx->status_pending = false;
        ctx->status_written_usec = now_usec_monotonic();
        if (ctx->bus)
                bus_properties_changed(ctx->bus);
        write_status_file(ctx);
}

static int on_status_timer(struct loop_source *s, void *userdata) {
        status_flush(userdata);
        return 0;
}

/* At once when the last refresh is older than 100 ms; otherwise once at the
 * end of that interval, so a burst of USB events writes the file a few
 * times, not once per event. */
void core_status_changed(struct sekisho *ctx) {
        uint64_t since = now_usec_monotonic() - ctx->status_written_usec;
        if (!ctx->status_timer || since >= STATUS_MIN_INTERVAL_USEC) {
                status_flush(ctx);
                return;
        }
        if (!ctx->status_pending && loop_timer_arm(ctx->status_timer, STATUS_MIN_INTERVAL_USEC - since, 0) == 0)
                ctx->status_pending = true;
}

const char *sekisho_state(const struct sekisho *ctx) {
        if (!ctx->policy)
                return "starting";
        for (size_t i = 0; i < ctx->n_slots; i++)
                if (ctx->slots[i].st == PLUGIN_FAILED)
                        return "degraded";
        return "enforcing";
}

const char *sekisho_policy_state(const struct sekisho *ctx) {
        if (!ctx->policy || strcmp(ctx->policy_source, "embedded") == 0)
                return "default";
        return ctx->policy_stale ? "stale" : "current";
}

/* ---- audit and signals ---- */

int core_audit(struct sekisho *ctx, const char *event, const char *clause, const struct audit_field *fields) {
        if (!ctx->audit)
                return -ENOTCONN;
        int r = audit_write(ctx->audit, event, clause, fields, NULL);
        if (r < 0)
                log_error_errno(r, "Cannot write audit record %s", event);
        return r;
}

/* Audit record plus signal for policy events. */
static void policy_event(struct sekisho *ctx, const char *event, const char *signal, const struct audit_field *f) {
        core_audit(ctx, event, CLAUSE_POLICY, f);
        evidence_checkpoint(ctx);
        if (signal)
                bus_emit(ctx->bus, signal, f);
}

/* ---- plugins and profiles ---- */

static bool profile_defined(const struct sekisho *ctx, const char *name) {
        return ctx->policy && pmap_get(policy_profiles(ctx->policy), name);
}

static void active_clear(struct sekisho *ctx) {
        for (size_t i = 0; i < ctx->n_active; i++)
                free(ctx->active[i]);
        free(ctx->active);
        ctx->active = NULL;
        ctx->n_active = 0;
}

/* Active profiles: those the policy defines and someone requests, in the policy's order. */
static int compute_active(struct sekisho *ctx, char ***ret, size_t *ret_n) {
        const struct pnode *profiles = ctx->policy ? policy_profiles(ctx->policy) : NULL;
        size_t n = 0;
        char **list = calloc(pmap_len(profiles) + 1, sizeof *list);
        if (!list)
                return -ENOMEM;
        for (size_t i = 0; i < pmap_len(profiles); i++) {
                const char *name = pmap_key(profiles, i)->scalar;
                bool wanted = false;
                for (size_t j = 0; j < ctx->n_requests && !wanted; j++)
                        wanted = strcmp(ctx->requests[j].profile, name) == 0;
                if (wanted && !(list[n++] = strdup(name))) {
                        for (size_t k = 0; k + 1 < n; k++)
                                free(list[k]);
                        free(list);
                        return -ENOMEM;
                }
        }
        *ret = list;
        *ret_n = n;
        return 0;
}

static bool same_list(char **a, size_t na, char **b, size_t nb) {
        if (na != nb)
                return false;
        for (size_t i = 0; i < na; i++)
                if (strcmp(a[i], b[i]) != 0)
                        return false;
        return true;
}

static int apply_slot(struct sekisho *ctx, struct plugin_slot *slot) {
        struct ptree *eff = NULL;
        int r = policy_effective_section(ctx->policy, slot->plugin->section, ctx->active, ctx->n_active, &eff);
        if (r < 0)
                return r;
        slot->handle.reason[0] = '\0';
        r = slot->plugin->apply(slot->state, eff->root);
        ptree_free(eff);
        return r;
}

/* Apply the policy in force to every running plugin. Profile requests made
 * during a round are collected and trigger one more round (bounded). */
static int apply_all(struct sekisho *ctx, const char **ret_failed) {
        int first = 0;
        for (unsigned round = 0; round < 4; round++) {
                char **act;
                size_t n_act;
                int r = compute_active(ctx, &act, &n_act);
                if (r < 0)
                        return r;
                active_clear(ctx);
                ctx->active = act;
                ctx->n_active = n_act;
                ctx->applying = true;
                for (size_t i = 0; i < ctx->n_slots; i++) {
                        struct plugin_slot *slot = &ctx->slots[i];
                        if (slot->st == PLUGIN_STOPPED || !slot->state)
                                continue;
                        r = apply_slot(ctx, slot);
                        if (r < 0) {
                                log_error_errno(r, "Plugin %s failed to apply the policy%s%s", slot->plugin->name,
                                                slot->handle.reason[0] ? ": " : "", slot->handle.reason);
                                if (!first) {
                                        first = r;
                                        if (ret_failed)
                                                *ret_failed = slot->plugin->name;
                                }
                        }
                }
                ctx->applying = false;
                /* Did a plugin change the profile set while applying? */
                r = compute_active(ctx, &act, &n_act);
                if (r < 0)
                        return r;
                bool same = same_list(act, n_act, ctx->active, ctx->n_active);
                for (size_t i = 0; i < n_act; i++)
                        free(act[i]);
                free(act);
                if (same || first)
                        break;
        }
        status_flush(ctx); /* policy and profile changes show at once */
        return first;
}

static int save_admin_profiles(struct sekisho *ctx) {
        _cleanup_free_ char *buf = NULL;
        size_t len = 0, cap = 0;
        for (size_t i = 0; i < ctx->n_requests; i++) {
                if (strcmp(ctx->requests[i].owner, "admin") != 0)
                        continue;
                size_t n = strlen(ctx->requests[i].profile);
                if (ARRAY_GROW(buf, cap, len + n + 1) < 0)
                        return -ENOMEM;
                memcpy(buf + len, ctx->requests[i].profile, n);
                buf[len + n] = '\n';
                len += n + 1;
        }
        _cleanup_free_ char *path = path_join(ctx->opt.state_dir, "profiles.admin");
        return path ? write_file_atomic(path, buf ? buf : "", len, 0600) : -ENOMEM;
}

static size_t count_requests(const struct sekisho *ctx, const char *owner) {
        size_t n = 0;
        for (size_t i = 0; i < ctx->n_requests; i++)
                n += strcmp(ctx->requests[i].owner, owner) == 0;
        return n;
}

int sekisho_set_profile(struct sekisho *ctx, const char *owner, const char *profile, bool active, const char *reason) {
        size_t i;
        for (i = 0; i < ctx->n_requests; i++)
                if (strcmp(ctx->requests[i].owner, owner) == 0 && strcmp(ctx->requests[i].profile, profile) == 0)
                        break;
        bool present = i < ctx->n_requests;
        if (present == active)
                return 0;
        /* Turning on what the policy in force does not define would change
         * nothing while saying it did. (Before the first policy, at start,
         * saved requests are restored unchecked.) */
        if (active && ctx->policy && !profile_defined(ctx, profile))
                return -ENOENT;
        if (active) {
                if (!profile[0] || strlen(profile) > PROFILE_NAME_MAX || !string_is_clean_utf8(profile, strlen(profile)))
                        return -EINVAL;
                if (count_requests(ctx, owner) >= PROFILE_REQUESTS_MAX)
                        return -E2BIG;
                if (ARRAY_GROW(ctx->requests, ctx->cap_requests, ctx->n_requests + 1) < 0)
                        return -ENOMEM;
                struct profile_request *nr = ctx->requests;
                nr[ctx->n_requests].profile = strdup(profile);
                nr[ctx->n_requests].owner = strdup(owner);
                if (!nr[ctx->n_requests].profile || !nr[ctx->n_requests].owner) {
                        free(nr[ctx->n_requests].profile);
                        free(nr[ctx->n_requests].owner);
                        return -ENOMEM;
                }
                ctx->n_requests++;
        } else {
                free(ctx->requests[i].profile);
                free(ctx->requests[i].owner);
                ctx->requests[i] = ctx->requests[--ctx->n_requests];
        }
        if (strcmp(owner, "admin") == 0) {
                int r = save_admin_profiles(ctx);
                if (r < 0)
                        log_warning_errno(r, "Cannot save the operator's profiles; they are lost at the next start");
        }
        const struct audit_field f[] = {
                { "profile", profile }, { "by", owner }, { "reason", reason ? reason : "" },
                { "defined", profile_defined(ctx, profile) ? "yes" : "no (the policy has no such profile)" },
                { NULL },
        };
        policy_event(ctx, active ? "profile.requested" : "profile.released", "ProfileChanged", f);
        log_notice("Profile %s %s by %s: %s", profile, active ? "requested" : "released", owner, reason ? reason : "");
        if (ctx->applying)
                return 0; /* apply_all() notices and runs another round */
        int r = apply_all(ctx, NULL);
        if (ctx->enforcing_usec)
                evidence_heartbeat(ctx); /* the collector sees a quarantine when it starts */
        return r;
}

static void load_admin_profiles(struct sekisho *ctx) {
        _cleanup_free_ char *path = path_join(ctx->opt.state_dir, "profiles.admin"), *data = NULL;
        if (!path || read_file_capped(path, PROFILE_REQUESTS_MAX * (PROFILE_NAME_MAX + 1), &data, NULL) < 0)
                return;
        for (char *save = NULL, *tok = strtok_r(data, "\n", &save); tok; tok = strtok_r(NULL, "\n", &save)) {
                ctx->applying = true; /* no apply yet: plugins start after this */
                sekisho_set_profile(ctx, "admin", tok, true, "restored at start");
                ctx->applying = false;
        }
}

static bool plugin_selected(const struct sekisho *ctx, const struct sekisho_plugin *p) {
        if (!ctx->opt.plugins)
                return !p->test_only;
        size_t n = strlen(p->name);
        for (const char *s = ctx->opt.plugins; *s;) {
                size_t len = strcspn(s, ",");
                if (len == n && strncmp(s, p->name, n) == 0)
                        return true;
                s += len + (s[len] == ',');
        }
        return false;
}

static int check_plugin_list(const char *list) {
        if (!list)
                return 0;
        for (const char *s = list; *s;) {
                size_t len = strcspn(s, ",");
                char name[64];
                snprintf(name, sizeof name, "%.*s", (int)(len < 63 ? len : 63), s);
                if (!plugin_find(name)) {
                        log_error("--plugins: unknown plugin '%s' (built in:%s)", name, "");
                        for (const struct sekisho_plugin *const *p = sekisho_builtin_plugins; *p; p++)
                                log_error("  %s — %s", (*p)->name, (*p)->summary);
                        return -EINVAL;
                }
                s += len + (s[len] == ',');
        }
        return 0;
}

static int start_plugins(struct sekisho *ctx) {
        size_t n = 0;
        for (const struct sekisho_plugin *const *p = sekisho_builtin_plugins; *p; p++)
                n++;
        ctx->slots = calloc(n ? n : 1, sizeof *ctx->slots);
        if (!ctx->slots)
                return -ENOMEM;
        for (const struct sekisho_plugin *const *p = sekisho_builtin_plugins; *p; p++) {
                struct plugin_slot *slot = &ctx->slots[ctx->n_slots++];
                slot->plugin = *p;
                slot->handle = (struct sekisho_plugin_handle){ .ctx = ctx, .plugin = *p };
                if (!plugin_selected(ctx, *p))
                        continue;
                int r = (*p)->init(&slot->handle, &slot->state);
                if (r < 0) {
                        busconn_forget(bus_connection(ctx->bus), &slot->handle);
                        slot->st = PLUGIN_FAILED;
                        slot->state = NULL;
                        snprintf(slot->error, sizeof slot->error, "could not start: %s%s%s", strerror(-r),
                                 slot->handle.reason[0] ? ": " : "", slot->handle.reason);
                        log_error("Plugin %s %s; the other plugins keep enforcing", (*p)->name, slot->error);
                        const struct audit_field f[] = { { "plugin", (*p)->name }, { "error", slot->error }, { NULL } };
                        core_audit(ctx, "plugin.failed", NULL, f);
                        continue;
                }
                slot->st = PLUGIN_ENFORCING;
                log_info("Plugin %s started", (*p)->name);
        }
        return 0;
}

/* ---- policy in force ---- */

/* Mark plugins whose apply failed, so status shows it loudly. */
static void mark_failed(struct sekisho *ctx, const char *name, int r) {
        for (size_t i = 0; i < ctx->n_slots; i++)
                if (strcmp(ctx->slots[i].plugin->name, name) == 0) {
                        ctx->slots[i].st = PLUGIN_FAILED;
                        snprintf(ctx->slots[i].error, sizeof ctx->slots[i].error, "could not apply policy: %s%s%s",
                                 strerror(-r), ctx->slots[i].handle.reason[0] ? ": " : "", ctx->slots[i].handle.reason);
                }
}

static int on_expiry(struct loop_source *s, void *userdata);

static void arm_expiry(struct sekisho *ctx) {
        int64_t now = now_unix();
        ctx->policy_stale = policy_is_stale(ctx->policy, now);
        if (!ctx->expiry_timer)
                return;
        if (ctx->policy->expires && !ctx->policy_stale)
                loop_timer_arm(ctx->expiry_timer, (uint64_t)(ctx->policy->expires - now) * 1000000u, 0);
        else
                loop_timer_disarm(ctx->expiry_timer);
}

static int on_expiry(struct loop_source *s, void *userdata) {
        struct sekisho *ctx = userdata;
        arm_expiry(ctx);
        if (!ctx->policy_stale)
                return 0;
        char serial[32], t[32];
        snprintf(serial, sizeof serial, "%" PRIu64, ctx->policy->serial);
        format_rfc3339(ctx->policy->expires, t);
        log_warning("Policy serial %s expired at %s; it stays in force (stale) until a new bundle arrives", serial, t);
        const struct audit_field f[] = { { "serial", serial }, { "expired", t }, { NULL } };
        policy_event(ctx, "policy.stale", "PolicyStale", f);
        evidence_heartbeat(ctx);
        status_flush(ctx);
        return 0;
}

/* The wall clock was set (an NTP step, a wrong RTC corrected, date -s): the
 * expiry and freshness timers counted boot time from the old clock, so what
 * the new one makes due is judged now, not hours later. */
static int on_clock_set(struct loop_source *s, void *userdata) {
        struct sekisho *ctx = userdata;
        if (!ctx->policy)
                return 0;
        log_info("The system clock was set: policy expiry and freshness judged again");
        if (ctx->policy_stale)
                arm_expiry(ctx);
        else
                on_expiry(s, ctx);
        freshness_evaluate(ctx);
        status_flush(ctx);
        return 0;
}

/* Put p in force. On a plugin failure, returns the error with p NOT in force
 * (the previous policy re-applied), so the caller can mark it bad. Only a
 * policy every plugin applied raises the anti-rollback serial. */
static int enforce(struct sekisho *ctx, struct policy *p, const char *source, const char **ret_failed) {
        struct policy *old = ctx->policy;
        const char *old_source = ctx->policy_source;
        ctx->policy = p;
        ctx->policy_source = source;
        const char *failed = NULL;
        int r = apply_all(ctx, &failed);
        if (ret_failed)
                *ret_failed = failed;
        if (r < 0 && old) {
                ctx->policy = old;
                ctx->policy_source = old_source;
                int q = apply_all(ctx, &failed);
                if (q < 0) {
                        log_error_errno(q, "Re-applying the previous policy failed too");
                        mark_failed(ctx, failed ? failed : "?", q);
                }
                return r;
        }
        if (r < 0)
                mark_failed(ctx, failed ? failed : "?", r);
        else if (strcmp(source, "embedded") != 0) {
                int q = store_commit(ctx->store, p->serial);
                if (q < 0)
                        log_warning_errno(q, "Cannot record serial %" PRIu64 " as the highest in force", p->serial);
        }
        policy_free(old);
        arm_expiry(ctx);
        malloc_trim(0); /* a large policy's parsing and checking is over: give its pages back */
        return r;
}

void sekisho_refusal_event(struct sekisho *ctx, const char *name, const char *via, enum refusal rf, const char *why) {
        const struct audit_field f[] = {
                { "file", name }, { "via", via }, { "reason", refusal_info(rf)->id }, { "message", why }, { NULL },
        };
        log_warning("Refused policy %s (%s): %s", name, via, why);
        policy_event(ctx, "policy.refused", "PolicyRefused", f);
}

enum refusal sekisho_apply_bundle(struct sekisho *ctx, const char *name, char **data, size_t size,
                                  const char *sig, size_t sig_size, const char *via, uint64_t *ret_serial,
                                  char *why, size_t why_size) {
        uint8_t digest[32];
        struct bundle_check bc = { .keys = &ctx->keys, .conf = &ctx->conf, .now = now_unix() };
        store_bundle_check(ctx->store, &bc, digest);
        struct policy *p = NULL;
        bool noop = false;
        enum refusal rf = bundle_verify(&bc, name, data, size, sig, sig_size, &p, &noop, why, why_size, NULL);
        if (rf != REFUSE_NONE) {
                sekisho_refusal_event(ctx, name, via, rf, why);
                return rf;
        }
        char serial[32];
        snprintf(serial, sizeof serial, "%" PRIu64, p->serial);
        if (ret_serial)
                *ret_serial = p->serial;
        if (noop) {
                snprintf(why, why_size, "%s: serial %s is already installed", name, serial);
                const struct audit_field f[] = { { "file", name }, { "via", via }, { "serial", serial }, { NULL } };
                policy_event(ctx, "policy.unchanged", NULL, f);
                policy_free(p);
                return REFUSE_NONE;
        }
        int r = evidence_policy_intent(ctx, name, via, p, why, why_size);
        if (r < 0) {
                log_error("Refused policy %s (%s): %s", name, via, why);
                policy_free(p);
                status_flush(ctx); /* the audit failure shows in the status */
                return refusal_for_write_error(r);
        }
        r = store_install(ctx->store, p, sig, sig_size);
        if (r < 0) {
                snprintf(why, why_size, "%s: cannot install under %s: %s", name, ctx->opt.state_dir, strerror(-r));
                rf = refusal_for_write_error(r);
                sekisho_refusal_event(ctx, name, via, rf, why);
                policy_free(p);
                return rf;
        }
        fault_point("apply-installed");
        const char *failed = NULL;
        r = enforce(ctx, p, "installed", &failed);
        if (r < 0) {
                /* Runtime revert: the last good policy is back in force; never this serial again. */
                uint64_t bad = p->serial;
                policy_free(p);
                store_mark_bad(ctx->store, bad);
                snprintf(why, why_size, "%s: serial %s could not be applied by plugin %s (%s); reverted to serial %" PRIu64,
                         name, serial, failed ? failed : "?", strerror(-r), ctx->policy->serial);
                sekisho_refusal_event(ctx, name, via, REFUSE_APPLY_FAILED, why);
                return REFUSE_APPLY_FAILED;
        }
        snprintf(why, why_size, "%s: serial %s applied", name, serial);
        char digest_hex[65];
        hex_encode(ctx->policy->digest, 32, digest_hex);
        const struct audit_field f[] = {
                { "file", name }, { "via", via }, { "serial", serial }, { "sha", digest_hex }, { NULL },
        };
        log_notice("Applied policy %s serial %s (%s)", name, serial, via);
        policy_event(ctx, "policy.applied", "PolicyApplied", f);
        if (audit_last_error(ctx->audit) == 0)
                evidence_policy_recorded(ctx);
        freshness_evaluate(ctx);
        evidence_heartbeat(ctx);
        return REFUSE_NONE;
}

/* Load this terminal's identity (start and SIGHUP). */
static void load_identity(struct sekisho *ctx) {
        struct perrors errs = { 0 };
        struct sekisho_conf conf = { 0 };
        if (conf_load(ctx->opt.config, &conf, &errs) < 0) {
                for (size_t i = 0; i < errs.n; i++)
                        log_error("%s", errs.msgs[i]);
                log_error("Keeping the identity in use (%s)", ctx->conf.terminal_id ? ctx->conf.terminal_id : "none");
        } else {
                conf_done(&ctx->conf);
                ctx->conf = conf;
        }
        perrors_clear(&errs);
}

/* "root v3 (policy 2 of 3, expires ...)" or "keys.d (2 keys)": what the audit record and the log say. */
static void trust_summary(const struct keyring *k, char *out, size_t size) {
        size_t n_policy = 0;
        for (size_t i = 0; i < k->n; i++)
                n_policy += (k->keys[i].roles & ROLE_POLICY) != 0;
        if (k->root_version) {
                char t[32];
                format_rfc3339(k->root_expires, t);
                snprintf(out, size, "trust root version %" PRIu64 ", policy keys %u of %zu, expires %s", k->root_version,
                         k->threshold[1], n_policy, t);
        } else
                snprintf(out, size, "keys.d, %zu policy key%s", n_policy, n_policy == 1 ? "" : "s");
}

/* Load the trusted keys (start, SIGHUP, and whenever keys.d changes). A
 * newly accepted trust root becomes the anchor here, after its lower-serial
 * (if any) is durable. Every refused file is logged and audited. */
static void load_trust(struct sekisho *ctx) {
        struct keyring keys = { 0 };
        int r = keyring_load(ctx->opt.keys_dir, ctx->opt.state_dir, now_unix(), &keys);
        if (r < 0) {
                log_error_errno(r, "Cannot load the trusted keys; keeping those in use");
                return;
        }
        for (size_t i = 0; i < keys.problems.n; i++) {
                bool known = false;
                for (size_t j = 0; j < ctx->keys.problems.n && !known; j++)
                        known = strcmp(ctx->keys.problems.msgs[j], keys.problems.msgs[i]) == 0;
                log_warning("Trust: %s", keys.problems.msgs[i]);
                if (!known) {
                        const struct audit_field f[] = { { "message", keys.problems.msgs[i] }, { NULL } };
                        core_audit(ctx, "trust.refused", NULL, f);
                }
        }
        if (keys.root_new) {
                char v[32], from[32], to[32];
                snprintf(v, sizeof v, "%" PRIu64, keys.root_version);
                if (keys.has_lower_serial && ctx->store && keys.lower_serial < ctx->store->highest_serial) {
                        snprintf(from, sizeof from, "%" PRIu64, ctx->store->highest_serial);
                        snprintf(to, sizeof to, "%" PRIu64, keys.lower_serial);
                        const struct audit_field f[] = { { "root-version", v }, { "from", from }, { "to", to }, { NULL } };
                        core_audit(ctx, "trust.serial-lowered", NULL, f);
                        r = store_lower_serial(ctx->store, keys.lower_serial);
                        if (r < 0) {
                                log_error_errno(r, "Cannot lower the highest serial to %s; trust root version %s not accepted", to, v);
                                keyring_done(&keys);
                                return;
                        }
                        log_notice("Highest serial lowered from %s to %s by trust root version %s", from, to, v);
                }
                r = trust_save_anchor(ctx->opt.state_dir, &keys);
                if (r < 0) {
                        log_error_errno(r, "Cannot keep trust root version %s in %s; not accepted", v, ctx->opt.state_dir);
                        keyring_done(&keys);
                        return;
                }
                char digest[65];
                hex_encode(keys.root_digest, 32, digest);
                const struct audit_field f[] = { { "version", v }, { "sha", digest }, { NULL } };
                core_audit(ctx, "trust.root-accepted", NULL, f);
                log_notice("Trust root version %s accepted", v);
                keys.root_new = false;
        }
        char before[160], after[160];
        trust_summary(&ctx->keys, before, sizeof before);
        trust_summary(&keys, after, sizeof after);
        bool changed = ctx->keys.n != keys.n || ctx->keys.root_version != keys.root_version;
        for (size_t i = 0; i < keys.n && !changed; i++)
                changed = memcmp(&ctx->keys.keys[i].pub, &keys.keys[i].pub, sizeof keys.keys[i].pub) != 0;
        if (changed && ctx->policy) { /* at start, daemon.started names the trust */
                const struct audit_field f[] = { { "trust", after }, { NULL } };
                core_audit(ctx, "trust.loaded", NULL, f);
        }
        if (keys.n == 0)
                log_warning("No trusted policy key (%s): no bundle can be installed", ctx->opt.keys_dir);
        else if (changed)
                log_info("Trusted: %s", after);
        keyring_done(&ctx->keys);
        ctx->keys = keys;
        snprintf(ctx->trust_summary, sizeof ctx->trust_summary, "%s", after);
}

/* Choose the policy to use from the store and put it in force. */
static int load_policy(struct sekisho *ctx, const char *why_event) {
        struct store_choice c;
        int r = store_choose(ctx->store, &ctx->keys, &ctx->conf, now_unix(), &c);
        if (r < 0)
                return log_error_errno(r, "No policy at all (not even the embedded default)");
        const char *failed = NULL;
        if (ctx->policy && c.policy->serial == ctx->policy->serial &&
            memcmp(c.policy->digest, ctx->policy->digest, 32) == 0 && strcmp(c.source, ctx->policy_source) == 0) {
                policy_free(c.policy); /* the same policy: re-apply it all the same */
                r = apply_all(ctx, &failed);
        } else {
                uint64_t serial = c.policy->serial;
                r = enforce(ctx, c.policy, c.source, &failed);
                if (r < 0 && ctx->policy != c.policy) {
                        store_mark_bad(ctx->store, serial);
                        policy_free(c.policy);
                }
        }
        char s[32];
        snprintf(s, sizeof s, "%" PRIu64, ctx->policy->serial);
        const struct audit_field f[] = {
                { "serial", s }, { "source", ctx->policy_source }, { "state", sekisho_policy_state(ctx) },
                { "fallback-reason", c.reason }, { NULL },
        };
        policy_event(ctx, why_event, NULL, f);
        if (c.reason[0])
                log_warning("Not using the installed policy: %s", c.reason);
        log_info("Policy in force: serial %s from %s (%s)", s, ctx->policy_source, sekisho_policy_state(ctx));
        return r;
}

/* keys.d is watched like the inbox: a key added, removed, replaced or
 * re-moded, or a new trust root, is in force once the burst is over, without
 * a reload. The policy in force stays unless the trust root changed (a root
 * can revoke the key that signed it). */
#define TRUST_SETTLE_USEC 200000u

static int on_trust_settle(struct loop_source *s, void *userdata) {
        struct sekisho *ctx = userdata;
        uint64_t version = ctx->keys.root_version;
        load_trust(ctx);
        if (ctx->keys.root_version != version)
                load_policy(ctx, "policy.reloaded");
        core_status_changed(ctx);
        return 0;
}

static int on_trust_inotify(struct loop_source *s, int fd, uint32_t revents, void *userdata) {
        struct sekisho *ctx = userdata;
        char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
        while (read(fd, buf, sizeof buf) > 0)
                ;
        loop_timer_arm(ctx->trust_settle, TRUST_SETTLE_USEC, 0);
        return 0;
}

static int watch_trust(struct sekisho *ctx) {
        ctx->trust_fd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
        if (ctx->trust_fd < 0)
                return -errno;
        /* IN_ATTRIB: a chmod or chown changes what StrictModes allows. */
        if (inotify_add_watch(ctx->trust_fd, ctx->opt.keys_dir,
                              IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_CREATE | IN_ATTRIB |
                                      IN_DELETE_SELF | IN_MOVE_SELF) < 0)
                return -errno;
        int r = loop_add_timer(ctx->loop, on_trust_settle, ctx, &ctx->trust_settle);
        if (r == 0)
                r = loop_add_io(ctx->loop, ctx->trust_fd, EPOLLIN, on_trust_inotify, ctx, &ctx->trust_src);
        return r;
}

int sekisho_reload(struct sekisho *ctx) {
        log_info("Reloading keys, identity and the installed policy");
        load_identity(ctx);
        load_trust(ctx);
        return load_policy(ctx, "policy.reloaded");
}

/* ---- signals, readiness ---- */

static int on_signal(struct loop_source *s, int fd, uint32_t revents, void *userdata) {
        struct sekisho *ctx = userdata;
        struct signalfd_siginfo si;
        while (read(fd, &si, sizeof si) == sizeof si) {
                switch (si.ssi_signo) {
                case SIGTERM:
                case SIGINT:
                        log_info("Stopping on signal %u", si.ssi_signo);
                        loop_quit(ctx->loop, 0);
                        break;
                case SIGHUP:
                        sekisho_reload(ctx);
                        break;
                }
        }
        return 0;
}

static int setup_signals(struct sekisho *ctx) {
        sigset_t mask;
        sigemptyset(&mask);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGHUP);
        if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
                return -errno;
        signal(SIGPIPE, SIG_IGN);
        ctx->signal_fd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
        if (ctx->signal_fd < 0)
                return -errno;
        return loop_add_io(ctx->loop, ctx->signal_fd, EPOLLIN, on_signal, ctx, &ctx->signal_src);
}

/* sd_notify(3) without libsystemd: one datagram to $NOTIFY_SOCKET. */
static void notify_systemd(const char *msg) {
        const char *path = getenv("NOTIFY_SOCKET");
        if (!path || (path[0] != '/' && path[0] != '@') || strlen(path) >= sizeof(((struct sockaddr_un *)0)->sun_path))
                return;
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        memcpy(sa.sun_path, path, strlen(path));
        if (sa.sun_path[0] == '@')
                sa.sun_path[0] = '\0';
        _cleanup_close_ int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd >= 0)
                sendto(fd, msg, strlen(msg), MSG_NOSIGNAL, (struct sockaddr *)&sa,
                       (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(path)));
}

/* status.json in the state directory: what `sekishoctl status` shows when no bus is reachable. */
static void write_status_file(struct sekisho *ctx) {
        if (!ctx->policy)
                return;
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);
        if (!f)
                return;
        fprintf(f, "{\"version\":\"%s\",\"pid\":%ld,\"state\":\"%s\",\"policy\":{\"serial\":%" PRIu64
                   ",\"source\":\"%s\",\"state\":\"%s\",\"expires\":%lld},\"profiles\":[",
                PACKAGE_VERSION, (long)getpid(), sekisho_state(ctx), ctx->policy->serial, ctx->policy_source,
                sekisho_policy_state(ctx), (long long)ctx->policy->expires);
        for (size_t i = 0; i < ctx->n_active; i++) {
                if (i)
                        fputc(',', f);
                json_write_string(f, ctx->active[i]);
        }
        fprintf(f, "],\"freshness\":\"%s\",", freshness_state(ctx));
        if (audit_last_error(ctx->audit) < 0) { /* a policy change is refused while this lasts */
                fputs("\"audit-error\":", f);
                json_write_string(f, ctx->audit ? strerror(-audit_last_error(ctx->audit)) : "the audit log cannot be opened");
                fputc(',', f);
        }
        fputs("\"trust\":", f);
        json_write_string(f, ctx->trust_summary);
        fputs(",\"trust-refused\":[", f);
        for (size_t i = 0; i < ctx->keys.problems.n; i++) {
                if (i)
                        fputc(',', f);
                json_write_string(f, ctx->keys.problems.msgs[i]);
        }
        fputs("],\"plugins\":[", f);
        for (size_t i = 0; i < ctx->n_slots; i++) {
                struct plugin_slot *slot = &ctx->slots[i];
                static const char *const names[] = { "stopped", "enforcing", "failed" };
                fprintf(f, "%s{\"name\":\"%s\",\"state\":\"%s\",\"details\":{", i ? "," : "", slot->plugin->name,
                        names[slot->st]);
                struct kvlist kv = { 0 };
                if (slot->error[0])
                        kvlist_add(&kv, "error", "%s", slot->error);
                if (slot->st == PLUGIN_ENFORCING && slot->plugin->status)
                        slot->plugin->status(slot->state, &kv);
                for (size_t k = 0; k < kv.n; k++) {
                        if (k)
                                fputc(',', f);
                        json_write_string(f, kv.keys[k]);
                        fputc(':', f);
                        json_write_string(f, kv.values[k]);
                }
                kvlist_clear(&kv);
                fputs("}}", f);
        }
        fputs("]}\n", f);
        if (fclose(f) == 0) {
                _cleanup_free_ char *path = path_join(ctx->opt.state_dir, "status.json");
                if (path)
                        write_file_replace(path, buf, len, 0644);
        }
        free(buf);
}

/* ---- life cycle ---- */

int sekisho_new(const struct sekisho_options *opt, struct sekisho **ret) {
        struct sekisho *ctx = calloc(1, sizeof *ctx);
        if (!ctx)
                return -ENOMEM;
        ctx->opt = *opt;
        ctx->signal_fd = ctx->lock_fd = ctx->trust_fd = -1;
        ctx->policy_source = "none";
        ctx->env.state_dir = opt->state_dir;
        ctx->env.sysroot = opt->sysroot ? opt->sysroot : "/";
        ctx->env.test_mode = opt->bus != BUS_SYSTEM;
        ctx->started_usec = now_usec_monotonic();
        int r = check_plugin_list(opt->plugins);
        if (r == 0)
                r = loop_new(&ctx->loop);
        if (r == 0)
                r = netclaims_new(&ctx->claims);
        if (r < 0) {
                loop_free(ctx->loop);
                free(ctx);
                return r;
        }
        *ret = ctx;
        return 0;
}

/* Before anything in the state directory is read: two daemons on one store
 * would apply every bundle twice and interleave their audit records. */
static int take_state_lock(struct sekisho *ctx) {
        pid_t holder;
        int r = state_dir_lock(ctx->opt.state_dir, &ctx->lock_fd, &holder);
        if (r == -EBUSY && holder > 0)
                return log_error_errno(r, "Another sekishod (pid %ld) runs on %s; not starting a second one",
                                       (long)holder, ctx->opt.state_dir);
        if (r < 0)
                return log_error_errno(r, "Cannot lock the state directory %s", ctx->opt.state_dir);
        return 0;
}

/* The helper cannot be restarted once the sandbox forbids fork and execve:
 * probes fail (never "home") until sekishod restarts, and the audit says so. */
static void on_probe_helper_exit(const char *why, void *userdata) {
        struct sekisho *ctx = userdata;
        log_error("%s; trusted-network probes fail until sekishod restarts", why);
        const struct audit_field f[] = { { "reason", why }, { NULL } };
        core_audit(ctx, "probe-helper.exited", NULL, f);
}

int sekisho_start(struct sekisho *ctx) {
        if (sodium_init() < 0)
                return log_error_errno(-EIO, "libsodium failed to initialise");
        int r = setup_signals(ctx);
        if (r < 0)
                return log_error_errno(r, "Cannot set up signal handling");
        r = mkdir_p(ctx->opt.state_dir, 0700);
        if (r < 0)
                return log_error_errno(r, "Cannot create state directory %s", ctx->opt.state_dir);
        r = take_state_lock(ctx);
        if (r < 0)
                return r;
        load_identity(ctx);

        evidence_open(ctx);

        r = store_open(ctx->opt.state_dir, true, &ctx->store);
        if (r < 0)
                return log_error_errno(r, "Cannot open the policy store in %s", ctx->opt.state_dir);
        load_trust(ctx);
        r = loop_add_clock_watch(ctx->loop, on_clock_set, ctx, &ctx->clock_watch);
        if (r < 0)
                return log_error_errno(r, "Cannot watch the system clock");
        r = loop_add_timer(ctx->loop, on_expiry, ctx, &ctx->expiry_timer);
        if (r < 0)
                return log_error_errno(r, "Cannot create the expiry timer");
        r = loop_add_timer(ctx->loop, on_status_timer, ctx, &ctx->status_timer);
        if (r < 0)
                return log_error_errno(r, "Cannot create the status timer");

        /* Pick the policy first so profile requests can be checked against it, then start plugins. */
        struct store_choice c;
        r = store_choose(ctx->store, &ctx->keys, &ctx->conf, now_unix(), &c);
        if (r < 0)
                return log_error_errno(r, "No policy at all (not even the embedded default)");
        load_admin_profiles(ctx);
        /* The bus first, so what plugins signal while starting reaches listeners;
         * no method call is dispatched before the loop runs. */
        if (ctx->opt.bus != BUS_NONE) {
                r = bus_open(ctx, ctx->opt.bus, &ctx->bus);
                if (r == -EEXIST) /* another sekishod: two deciders would fight over devices */
                        return log_error_errno(r, "Another sekishod owns %s; not starting a second one", BUS_NAME);
                if (r < 0)
                        log_error_errno(r, "D-Bus service not available; enforcing without it");
        }
#ifdef HAVE_TLS_PROBE_HELPER
        /* Before the plugins (they may probe while starting) and the sandbox (it forbids execve). */
        r = tls_probe_helper_start(ctx->loop, ctx->opt.probe_helper, on_probe_helper_exit, ctx);
        if (r < 0)
                log_error_errno(r, "Cannot start or watch %s; trusted-network probes may fail", ctx->opt.probe_helper);
#endif
        r = start_plugins(ctx);
        if (r < 0)
                return log_error_errno(r, "Cannot start plugins");
        const char *failed = NULL;
        ctx->policy = NULL;
        r = enforce(ctx, c.policy, c.source, &failed);
        if (r < 0) {
                if (c.policy->serial && strcmp(c.source, "embedded") != 0) {
                        /* The installed policy does not apply: fall back, once, to the embedded default. */
                        store_mark_bad(ctx->store, c.policy->serial);
                        struct policy *def;
                        if (policy_embedded(&def) == 0) {
                                policy_free(ctx->policy);
                                ctx->policy = NULL;
                                enforce(ctx, def, "embedded", NULL);
                        }
                }
        }
        ctx->enforcing_usec = now_usec_monotonic();
        char s[32], ms[32];
        snprintf(s, sizeof s, "%" PRIu64, ctx->policy->serial);
        snprintf(ms, sizeof ms, "%.3f", (double)(ctx->enforcing_usec - ctx->started_usec) / 1000.0);
        char trust[160];
        trust_summary(&ctx->keys, trust, sizeof trust);
        const struct audit_field f[] = {
                { "version", PACKAGE_VERSION }, { "serial", s }, { "source", ctx->policy_source },
                { "state", sekisho_policy_state(ctx) }, { "fallback-reason", c.reason }, { "startup-ms", ms },
                { "trust", trust }, { NULL },
        };
        core_audit(ctx, "daemon.started", NULL, f);
        evidence_reconcile(ctx);
        r = freshness_start(ctx);
        if (r < 0)
                return log_error_errno(r, "Cannot start the freshness checks");
        evidence_heartbeat(ctx);
        if (c.reason[0])
                log_warning("Not using the installed policy: %s", c.reason);

        r = watch_trust(ctx);
        if (r < 0)
                log_error_errno(r, "%s is not watched; a changed key is seen after `sekishoctl reload`", ctx->opt.keys_dir);

        r = inbox_start(ctx, ctx->opt.inbox, &ctx->inbox);
        if (r < 0)
                log_error_errno(r, "The inbox %s is not watched; bundles can still be applied over D-Bus", ctx->opt.inbox);

        if (ctx->opt.no_sandbox)
                log_warning("Running WITHOUT the seccomp sandbox (--no-sandbox)");
        else {
                const int *extra[16];
                unsigned n = 0;
                for (size_t i = 0; i < ctx->n_slots && n < ARRAY_SIZE(extra); i++)
                        if (ctx->slots[i].st != PLUGIN_STOPPED && ctx->slots[i].plugin->syscalls)
                                extra[n++] = ctx->slots[i].plugin->syscalls;
                char why[384];
                r = sandbox_install(extra, n, why, sizeof why);
                if (r < 0) {
                        log_error("Cannot install the seccomp sandbox: %s", why);
                        return r;
                }
#ifdef ENABLE_FAULT_INJECTION
                const char *probe = getenv("SEKISHO_TEST_SECCOMP_PROBE");
                if (probe && strcmp(probe, "execve") == 0) {
                        char *argv[] = { (char *)"/bin/true", NULL };
                        execve(argv[0], argv, environ);
                        log_error("execve was not stopped by the sandbox");
                }
#endif
        }
        log_notice("sekisho %s %s: policy serial %s from %s (%s), %s ms after start", PACKAGE_VERSION,
                   sekisho_state(ctx), s, ctx->policy_source, sekisho_policy_state(ctx), ms);
        /* Starting (plugins probing, the audit log opened, the sandbox built)
         * peaks well above what the daemon keeps: the free pages go back. */
        malloc_trim(0);
        notify_systemd("READY=1\nSTATUS=enforcing");
        return 0;
}

int sekisho_run(struct sekisho *ctx) {
        int r = loop_run(ctx->loop);
        notify_systemd("STOPPING=1");
        core_audit(ctx, "daemon.stopped", NULL, NULL);
        return r;
}

struct sekisho *sekisho_free(struct sekisho *ctx) {
        if (!ctx)
                return NULL;
        freshness_free(ctx);
        /* No claim changes reach a plugin that is stopping (its rules stay). */
        ctx->claims = netclaims_free(ctx->claims);
        /* Plugins stop in reverse order; what they enforced stays in the kernel (fail-closed). */
        for (size_t i = ctx->n_slots; i-- > 0;) {
                busconn_forget(bus_connection(ctx->bus), &ctx->slots[i].handle);
                if (ctx->slots[i].state && ctx->slots[i].plugin->shutdown)
                        ctx->slots[i].plugin->shutdown(ctx->slots[i].state);
        }
        free(ctx->slots);
        tls_probe_helper_stop();
        ctx->bus = bus_close(ctx->bus);
        loop_source_free(ctx->signal_src);
        ctx->inbox = inbox_free(ctx->inbox);
        loop_source_free(ctx->trust_src);
        loop_source_free(ctx->trust_settle);
        closep(&ctx->trust_fd);
        loop_source_free(ctx->expiry_timer);
        loop_source_free(ctx->clock_watch);
        loop_source_free(ctx->status_timer);
        loop_source_free(ctx->checkpoint_timer);
        closep(&ctx->signal_fd);
        closep(&ctx->lock_fd);
        for (size_t i = 0; i < ctx->n_requests; i++) {
                free(ctx->requests[i].profile);
                free(ctx->requests[i].owner);
        }
        free(ctx->requests);
        active_clear(ctx);
        policy_free(ctx->policy);
        store_close(ctx->store);
        audit_close(ctx->audit);
        keyring_done(&ctx->keys);
        conf_done(&ctx->conf);
        loop_free(ctx->loop);
        free(ctx);
        return NULL;
}

int sekisho_find_method(struct sekisho *ctx, const char *member, const struct sekisho_method **ret_method,
                        void **ret_state) {
        for (size_t i = 0; i < ctx->n_slots; i++) {
                const struct plugin_slot *slot = &ctx->slots[i];
                if (slot->st == PLUGIN_STOPPED || !slot->state || !slot->plugin->methods)
                        continue;
                for (const struct sekisho_method *m = slot->plugin->methods; m->member; m++)
                        if (strcmp(m->member, member) == 0) {
                                *ret_method = m;
                                *ret_state = slot->state;
                                return 0;
                        }
        }
        return -ENOENT;
}
