/* freshness.c — the repository's signed timestamps on the terminal: a repository frozen on yesterday's valid bundle (TUF's freeze attack) makes the policy stale, and after the policy's grace its stale profile applies. A timestamp never selects a bundle. */
#include "config.h"

#include <inttypes.h>
#include <string.h>

#include "bus.h"
#include "freshness.h"
#include "timestamp.h"
#include "util.h"

#define CLOCK_SKEW 300                        /* seconds a timestamp may be issued in our future */
#define OWNER "freshness"

struct freshness {
        struct timestamp ts;
        bool have;                            /* a timestamp was accepted (and still verifies) */
        char requested[PROFILE_NAME_MAX + 1]; /* the profile requested while stale, "" when fresh */
        bool told_stale;                      /* the person was told the timestamps are stale */
        struct loop_source *timer;
        char *dir;                            /* STATE/freshness */
};

static bool for_us(const struct sekisho *ctx, const char *target) {
        if (strcmp(target, "all") == 0)
                return true;
        if (strncmp(target, "host:", 5) == 0)
                return ctx->conf.terminal_id && strcmp(target + 5, ctx->conf.terminal_id) == 0;
        for (size_t i = 0; i < ctx->conf.n_groups; i++)
                if (strcmp(target + 6, ctx->conf.groups[i]) == 0)
                        return true;
        return false;
}

/* Parse, check it is ours, count its timestamp-role signers. 0, or -EPERM/-EBADMSG with why. */
static int verify(const struct sekisho *ctx, const char *name, const char *data, size_t size, const char *sig,
                  size_t sig_size, struct timestamp *ret, char *why, size_t why_size) {
        struct perrors errs = { 0 };
        int r = timestamp_parse(name, data, size, ret, &errs);
        if (r < 0) {
                snprintf(why, why_size, "%s", perrors_first(&errs) ? perrors_first(&errs) : "malformed");
                perrors_clear(&errs);
                return -EBADMSG;
        }
        perrors_clear(&errs);
        unsigned threshold = ctx->keys.threshold[2];
        if (threshold == 0) {
                snprintf(why, why_size, "%s: the trust root names no timestamp key (role timestamp)", name);
                return -EPERM;
        }
        struct minisign_pubkey signers[MINISIGN_MAX_SIGS];
        size_t n = 0;
        uint8_t unknown[MINISIGN_KEYNUM_BYTES];
        char w[256] = "";
        r = trust_count_signers(&ctx->keys, ROLE_TIMESTAMP, now_unix(), data, size, sig, sig_size, signers, &n, unknown,
                                w, sizeof w);
        if (r < 0) {
                snprintf(why, why_size, "%s: %s", name, w[0] ? w : "bad signature");
                return -EPERM;
        }
        if (n < threshold) {
                snprintf(why, why_size, "%s: signed by %zu timestamp key(s), the trust root asks for %u", name, n,
                         threshold);
                return -EPERM;
        }
        if (!for_us(ctx, ret->target)) {
                snprintf(why, why_size, "%s: for %s, not this terminal", name, ret->target);
                return -EPERM;
        }
        if (ret->issued > now_unix() + CLOCK_SKEW) {
                snprintf(why, why_size, "%s: issued in the future", name);
                return -EPERM;
        }
        return 0;
}

const char *freshness_state(const struct sekisho *ctx) {
        const struct freshness *f = ctx->fresh;
        if (!f || !f->have)
                return "none";
        if (now_unix() >= f->ts.expires)
                return "expired";
        if (ctx->policy && f->ts.serial > ctx->policy->serial)
                return "behind";        /* the current bundle is not installed here */
        return "fresh";
}

/* When the stale profile is due (0: never, the policy does not ask: no profile). */
static int64_t stale_at(const struct sekisho *ctx, const char *profile, int64_t g) {
        const struct freshness *f = ctx->fresh;
        if (!profile)
                return 0;
        if (!f->have)
                return (ctx->policy->issued ? ctx->policy->issued : now_unix()) + g;
        if (f->ts.serial > ctx->policy->serial)
                return f->ts.issued + g;   /* the bundle it names did not arrive within the grace */
        return f->ts.expires + g;
}

/* For the person at the terminal (FreshnessNotice, shown by sekisho-notify in
 * their language): what it means and whom to contact. kind: "stale" (the
 * timestamps expired or name a bundle that did not come; when: until when it
 * was confirmed, due: when the stale profile applies, "" if it already does
 * or never will), "profile" (the stale profile applies now), "fresh" (both
 * over). */
static void notice(struct sekisho *ctx, const char *kind, const char *state, const char *profile, const char *when,
                   const char *due) {
        char en[640], ja[1024];
        if (strcmp(kind, "stale") == 0) {
                snprintf(en, sizeof en, "This terminal could not confirm with the policy server that its security policy "
                         "is current (confirmed until %s). The current policy stays in force. Connect to the office "
                         "network; if this message stays, contact your information security officer.%s%s%s",
                         when[0] ? when : "never", due[0] ? " Stricter restrictions apply from " : "", due,
                         due[0] ? "." : "");
                snprintf(ja, sizeof ja, "この端末のセキュリティポリシーが最新であることをポリシー配信サーバーで確認できません"
                         "（確認できた期限：%s）。現在のポリシーは引き続き適用されています。庁内ネットワークに接続して"
                         "ください。このお知らせが続く場合は情報セキュリティ担当者に連絡してください。%s%s",
                         when[0] ? when : "なし", due, due[0] ? "から、より厳しい制限が適用されます。" : "");
        } else if (strcmp(kind, "profile") == 0) {
                snprintf(en, sizeof en, "This terminal's security policy could not be confirmed as current, so the stricter "
                         "restrictions the policy sets for this case now apply (profile %s; for example, USB storage "
                         "may be blocked). Connect to the office network so the terminal gets the current policy, and "
                         "contact your information security officer.", profile);
                snprintf(ja, sizeof ja, "この端末のセキュリティポリシーが最新であることを確認できないため、ポリシーがこの場合"
                         "に定めるより厳しい制限（プロファイル %s。例：USBメモリの使用禁止）を適用しました。最新のポリシー"
                         "を受け取れるよう庁内ネットワークに接続し、情報セキュリティ担当者に連絡してください。", profile);
        } else {
                snprintf(en, sizeof en, "The security policy of this terminal is confirmed current again; the restrictions "
                         "for an unconfirmed policy were lifted.");
                snprintf(ja, sizeof ja, "この端末のセキュリティポリシーが最新であることを再び確認しました。未確認時の制限を"
                         "解除しました。");
        }
        const struct audit_field fl[] = {
                { "kind", kind }, { "freshness", state }, { "profile", profile }, { "confirmed-until", when },
                { "due", due },   { "message", en },      { "message-ja", ja },   { NULL },
        };
        bus_emit(ctx->bus, "FreshnessNotice", fl);
}

static int on_timer(struct loop_source *s, void *userdata) {
        freshness_evaluate(userdata);
        return 0;
}

void freshness_evaluate(struct sekisho *ctx) {
        struct freshness *f = ctx->fresh;
        if (!f || !ctx->policy)
                return;
        int64_t g = 0;
        const char *req = policy_freshness(ctx->policy, &g);
        int64_t now = now_unix(), due = stale_at(ctx, req, g);
        bool stale = req && now >= due;
        const char *want = stale ? req : "";
        const char *state = freshness_state(ctx);
        bool stale_state = freshness_is_stale(state), was = f->told_stale || f->requested[0];
        char until[32] = "";
        if (f->have)
                format_rfc3339(f->ts.expires, until);
        if (stale_state && !f->told_stale) {
                char when[32] = "";
                if (req && !stale)
                        format_rfc3339(due, when);
                notice(ctx, "stale", state, req ? req : "", until, when);
        }
        f->told_stale = stale_state;
        if (strcmp(want, f->requested) != 0) {
                char serial[32];
                snprintf(serial, sizeof serial, "%" PRIu64, f->have ? f->ts.serial : 0);
                const struct audit_field fl[] = {
                        { "freshness", state }, { "timestamp-serial", serial }, { "timestamp-expires", until },
                        { "profile", stale ? want : f->requested }, { NULL },
                };
                if (stale)
                        log_warning("The repository's timestamp is %s (%s); applying profile %s", state,
                                    f->have ? until : "none ever received", want);
                core_audit(ctx, stale ? "freshness.stale" : "freshness.fresh", "R9", fl);
                char old[sizeof f->requested];
                snprintf(old, sizeof old, "%s", f->requested);
                snprintf(f->requested, sizeof f->requested, "%s", want);
                int r = 0;
                if (old[0])
                        r = sekisho_set_profile(ctx, OWNER, old, false, "the repository's timestamp is fresh again");
                if (r >= 0 && stale)
                        r = sekisho_set_profile(ctx, OWNER, want, true, "the repository's timestamp is stale");
                if (r < 0)
                        log_error_errno(r, "Cannot change the freshness profile");
                if (stale)
                        notice(ctx, "profile", state, want, until, "");
        }
        if (was && !stale && !stale_state)
                notice(ctx, "fresh", state, "", until, "");
        if (f->timer) {
                int64_t next = req && !stale ? due : 0;
                if (f->have && f->ts.expires > now && (!next || f->ts.expires < next))
                        next = f->ts.expires;   /* the state shown changes then */
                if (next > now)
                        loop_timer_arm(f->timer, (uint64_t)(next - now) * 1000000u, 0);
                else
                        loop_timer_disarm(f->timer);
        }
        core_status_changed(ctx);
}

static int store(struct freshness *f, const char *data, size_t size, const char *sig, size_t sig_size) {
        _cleanup_free_ char *path = path_join(f->dir, "timestamp.yaml"), *spath = path_join(f->dir, "timestamp.yaml.minisig");
        if (!path || !spath)
                return -ENOMEM;
        int r = mkdir_p(f->dir, 0700);
        if (r >= 0)
                r = write_file_atomic(spath, sig, sig_size, 0600);
        if (r >= 0)
                r = write_file_atomic(path, data, size, 0600);
        return r;
}

enum refusal freshness_offer(struct sekisho *ctx, const char *name, const char *data, size_t size, const char *sig,
                             size_t sig_size, char *why, size_t why_size) {
        struct freshness *f = ctx->fresh;
        struct timestamp ts;
        int r = f ? verify(ctx, name, data, size, sig, sig_size, &ts, why, why_size) : -ENOTCONN;
        if (r == 0 && f->have && ts.issued <= f->ts.issued) {
                snprintf(why, why_size, "%s: issued no later than the timestamp in force (a replay)", name);
                r = -EPERM;
        }
        if (r == 0 && (r = store(f, data, size, sig, sig_size)) < 0)
                snprintf(why, why_size, "%s: cannot keep it: %s", name, strerror(-r));
        if (r < 0) {
                if (r == -ENOTCONN)
                        snprintf(why, why_size, "%s: timestamps are not handled", name);
                const struct audit_field fl[] = { { "file", name }, { "reason", why }, { NULL } };
                log_warning("Timestamp refused: %s", why);
                core_audit(ctx, "freshness.refused", "R9", fl);
                return r == -EBADMSG ? REFUSE_MALFORMED : r == -EPERM ? REFUSE_SIGNATURE : REFUSE_STORE_FAILED;
        }
        f->ts = ts;
        f->have = true;
        char serial[32], until[32];
        snprintf(serial, sizeof serial, "%" PRIu64, ts.serial);
        format_rfc3339(ts.expires, until);
        const struct audit_field fl[] = {
                { "file", name }, { "target", ts.target }, { "timestamp-serial", serial }, { "timestamp-expires", until },
                { "freshness", freshness_state(ctx) }, { NULL },
        };
        core_audit(ctx, "freshness.timestamp", "R9", fl);
        snprintf(why, why_size, "%s: timestamp for serial %s until %s", name, serial, until);
        freshness_evaluate(ctx);
        return REFUSE_NONE;
}

int freshness_start(struct sekisho *ctx) {
        struct freshness *f = calloc(1, sizeof *f);
        if (!f)
                return -ENOMEM;
        ctx->fresh = f;
        f->dir = path_join(ctx->opt.state_dir, "freshness");
        if (!f->dir)
                return -ENOMEM;
        /* The one kept from before: it still has to verify under today's trust. */
        char why[512];
        _cleanup_free_ char *path = path_join(f->dir, "timestamp.yaml"), *spath = path_join(f->dir, "timestamp.yaml.minisig");
        _cleanup_free_ char *data = NULL, *sig = NULL;
        if (!path || !spath)
                return -ENOMEM;
        size_t size, sig_size;
        if (read_file_capped(path, TIMESTAMP_MAX_SIZE, &data, &size) == 0 &&
            read_file_capped(spath, MINISIGN_MAX_FILE, &sig, &sig_size) == 0) {
                if (verify(ctx, path, data, size, sig, sig_size, &f->ts, why, sizeof why) == 0)
                        f->have = true;
                else
                        log_warning("The kept timestamp no longer verifies: %s", why);
        }
        int r = loop_add_timer(ctx->loop, on_timer, ctx, &f->timer);
        if (r < 0)
                return r;
        freshness_evaluate(ctx);
        return 0;
}

void freshness_free(struct sekisho *ctx) {
        if (!ctx->fresh)
                return;
        loop_source_free(ctx->fresh->timer);
        free(ctx->fresh->dir);
        free(ctx->fresh);
        ctx->fresh = NULL;
}
