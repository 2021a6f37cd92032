/* sekishoctl.c — the admin and operator CLI: policy check/sign/verify/apply/show, status, audit. */
#include "config.h"

#include <getopt.h>
#include <inttypes.h>
#include <string.h>
#include <sodium.h>
#include <termios.h>

#include "busclient.h"
#include "json.h"
#include "core.h"
#include "report.h"
#include "view.h"
#include "sbom.h"
#include "seal.h"
#include "fleet.h"
#include "repo.h"
#include "util.h"

struct ctl {
        const char *state_dir, *keys_dir, *config, *audit_log, *key, *comment, *password_file, *sbom, *checkpoints, *seal, *seal_interval, *journal_dir, *hours;
        enum bus_kind bus;
        bool json, html;
};

static int usage(void) {
        fprintf(stderr,
                "Usage: sekishoctl [OPTIONS] COMMAND ...\n\n"
                "Policies:\n"
                "  policy check FILE...            check policies; print OK or FILE:LINE:COL: message\n"
                "  policy sign --key KEY FILE      write FILE.minisig (minisign -V compatible)\n"
                "  policy verify FILE              would FILE + FILE.minisig be installed here now?\n"
                "  policy apply FILE               install FILE + FILE.minisig through the daemon\n"
                "  policy show                     the policy in force: serial, source, state\n"
                "Trust (sekisho-trust(5)):\n"
                "  trust show [--json]             keys, roles, thresholds, version, expiry, refused files\n"
                "  trust sign --key KEY FILE       add this key's signature to FILE.minisig\n"
                "  trust check FILE                would FILE be accepted as the next trust root here?\n"
                "  trust install FILE              check, then put FILE + FILE.minisig in the keys directory\n"
                "Daemon:\n"
                "  status [--json]                 daemon, policy and plugin status\n"
                "  profile on|off NAME [REASON]    activate or release a profile as the operator\n"
                "  reload                          re-read keys, identity and the installed policy\n"
                "  monitor [--json]                print the daemon's signals as they come\n"
                "  report [--json|--html]          requirements R1-R11: policy setting, enforced now, audit evidence\n"
                "  sbom                            print the package's SBOM (SPDX 2.3 JSON; --sbom FILE)\n"
                "  repo publish DIR TARGET [BUNDLE.yaml] --key TIMESTAMP-KEY [--hours N]\n"
                "                                  put a signed bundle in a static repository and sign its timestamp\n"
                "                                  (without BUNDLE: re-sign the timestamp; checked as terminals will)\n"
                "  fleet report --journal-dir DIR [--json|--html]\n"
                "                                  every terminal in a collector's journal: serial, stale, silent, not enforced\n"
                "Audit:\n"
                "  audit show [FILE]               print the audit log\n"
                "  audit verify [FILE...]          exit 0 only if the hash chain is intact; a rotated series\n"
                "                                  oldest first (audit.log.2 audit.log.1 audit.log)\n"
                "    --checkpoints FILE            also against the checkpoints a collector holds (syslog file)\n"
                "    --seal KEY                    also every seal, with the officer's verification key\n"
                "  audit seal-init [--seal-interval SECONDS]\n"
                "                                  start forward-secure sealing; prints the verification key\n");
        for (const struct sekisho_plugin *const *p = sekisho_builtin_plugins; *p; p++)
                if ((*p)->ctl && (*p)->ctl_usage)
                        fprintf(stderr, "Plugin %s:\n%s", (*p)->name, (*p)->ctl_usage);
        fprintf(stderr, "\n"
                "Options: --state-dir DIR --keys-dir DIR --config FILE --audit-log FILE\n"
                "         --key SECRETKEY --trusted-comment TEXT --password-file FILE\n"
                "         --bus=system|session|none --json --html --sbom FILE --journal-dir DIR\n\n"
                "Exit codes of policy verify/apply: 0 ok, 1 unreadable, 10 bad or missing signature,\n"
                "11 unknown key, 12 malformed policy, 13 expired or not yet valid, 14 not targeted at\n"
                "this terminal, 15 serial not newer, 16 serial conflict, 17 too large, 18 serial known bad,\n"
                "19 failed to apply (reverted), 20 no space left for the store or the audit log,\n"
                "21 the store or the audit log cannot be written; 4 not authorised.\n");
        return 2;
}

/* ---- policy ---- */

static int cmd_policy_check(struct ctl *c, int argc, char **argv) {
        if (argc < 1)
                return usage();
        int rc = 0;
        for (int i = 0; i < argc; i++) {
                _cleanup_free_ char *data = NULL;
                size_t size;
                struct perrors errs = { 0 };
                int r = read_file_capped(argv[i], POLICY_MAX_SIZE, &data, &size);
                if (r < 0) {
                        fprintf_vis(stdout, "%s: %s", argv[i], r == -EFBIG ? "larger than the policy size limit" : strerror(-r));
                        rc = 1;
                        continue;
                }
                struct policy *p = NULL;
                r = policy_parse(argv[i], data, size, &p, &errs);
                if (r == 0 && policy_check_bundle(p, &errs) > 0)
                        r = -EINVAL;
                for (size_t k = 0; k < errs.n; k++)
                        fprintf_vis(stdout, "%s", errs.msgs[k]);
                if (r < 0)
                        rc = 1;
                perrors_clear(&errs);
                policy_free(p);
        }
        if (rc == 0)
                printf("OK\n");
        return rc;
}

static char *read_password(const char *file) {
        _cleanup_free_ char *data = NULL;
        if (file) {
                if (read_file_capped(file, 1024, &data, NULL) < 0)
                        return NULL;
        } else {
                if (!isatty(STDIN_FILENO))
                        return NULL;
                struct termios old, t;
                /* Echo off before the prompt shows: nothing typed after it is ever echoed. */
                if (tcgetattr(STDIN_FILENO, &old) < 0)
                        return NULL;
                t = old;
                t.c_lflag &= ~(tcflag_t)ECHO;
                if (tcsetattr(STDIN_FILENO, TCSAFLUSH, &t) < 0)
                        return NULL;
                fprintf(stderr, "Password: ");
                data = calloc(1, 1024);
                if (data && !fgets(data, 1024, stdin))
                        data[0] = '\0';
                tcsetattr(STDIN_FILENO, TCSANOW, &old);
                fputc('\n', stderr);
        }
        if (data)
                data[strcspn(data, "\r\n")] = '\0';
        return TAKE_PTR(data);
}

/* The officer's secret key from --key: unencrypted (minisign -G -W) or
 * encrypted (minisign -G), its password from --password-file or asked on
 * the terminal without echo. Prints why not. Wipe *ret when done. */
static int load_seckey(struct ctl *c, struct minisign_seckey *ret) {
        _cleanup_free_ char *key = NULL;
        size_t key_size;
        char why[160];
        int r = read_file_capped(c->key, MINISIGN_MAX_FILE, &key, &key_size);
        if (r < 0) {
                fprintf_vis(stderr, "%s: %s", c->key, strerror(-r));
                return r;
        }
        r = minisign_parse_seckey(key, key_size, NULL, ret, why, sizeof why);
        if (r == -ENOKEY) {
                _cleanup_free_ char *pw = read_password(c->password_file);
                if (pw)
                        r = minisign_parse_seckey(key, key_size, pw, ret, why, sizeof why);
                else
                        snprintf(why, sizeof why, "the key is encrypted: give --password-file FILE or run on a terminal%s%s",
                                 c->password_file ? ", and " : "", c->password_file ? "the password file cannot be read" : "");
                if (pw)
                        sodium_memzero(pw, strlen(pw));
        }
        if (r < 0)
                fprintf_vis(stderr, "%s: %s", c->key, why);
        return r;
}

static int cmd_policy_sign(struct ctl *c, int argc, char **argv) {
        if (argc != 1 || !c->key) {
                fprintf(stderr, "sekishoctl: policy sign needs --key SECRETKEY and one FILE\n");
                return 2;
        }
        _cleanup_free_ char *data = NULL, *sig = NULL, *sigpath = NULL;
        size_t size;
        int r = read_file_capped(argv[0], POLICY_MAX_SIZE, &data, &size);
        if (r < 0) {
                fprintf_vis(stderr, "%s: %s", argv[0], r == -EFBIG ? "larger than the policy size limit" : strerror(-r));
                return 1;
        }
        /* Refuse to sign what no terminal would accept. */
        struct perrors errs = { 0 };
        struct policy *p = NULL;
        r = policy_parse(argv[0], data, size, &p, &errs);
        if (r == 0 && policy_check_bundle(p, &errs) > 0)
                r = -EINVAL, p = policy_free(p);
        for (size_t k = 0; k < errs.n; k++)
                fprintf_vis(stderr, "%s", errs.msgs[k]);
        perrors_clear(&errs);
        if (r < 0)
                return 1;
        struct minisign_seckey sk;
        r = load_seckey(c, &sk);
        if (r < 0) {
                policy_free(p);
                return 1;
        }
        char comment[256];
        if (c->comment)
                snprintf(comment, sizeof comment, "%s", c->comment);
        else
                snprintf(comment, sizeof comment, "timestamp:%lld\tfile:%s\tserial:%" PRIu64, (long long)now_unix(),
                         strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0], p->serial);
        policy_free(p);
        r = minisign_sign(&sk, data, size, "signature from sekishoctl", comment, &sig);
        sodium_memzero(&sk, sizeof sk);
        if (r < 0 || asprintf(&sigpath, "%s.minisig", argv[0]) < 0) {
                fprintf_vis(stderr, "%s: cannot sign: %s", argv[0], strerror(r < 0 ? -r : ENOMEM));
                return 1;
        }
        r = write_file_atomic(sigpath, sig, strlen(sig), 0644);
        if (r < 0) {
                fprintf_vis(stderr, "%s: %s", sigpath, strerror(-r));
                return 1;
        }
        fprintf_vis(stdout, "%s", sigpath);
        return 0;
}

static int cmd_policy_verify(struct ctl *c, int argc, char **argv) {
        if (argc != 1)
                return usage();
        struct perrors errs = { 0 };
        struct sekisho_conf conf = { 0 };
        struct keyring keys = { 0 };
        if (conf_load(c->config, &conf, &errs) < 0) {
                fprintf_vis(stdout, "%s", perrors_first(&errs) ? perrors_first(&errs) : c->config);
                perrors_clear(&errs);
                return 1;
        }
        int r = keyring_load(c->keys_dir, c->state_dir, now_unix(), &keys);
        for (size_t i = 0; i < keys.problems.n; i++)
                fprintf_vis(stderr, "%s", keys.problems.msgs[i]);
        if (r < 0)
                fprintf_vis(stderr, "%s: %s", c->keys_dir, strerror(-r));
        struct store *s = NULL;
        uint8_t digest[32];
        struct bundle_check bc = { .keys = &keys, .conf = &conf, .now = now_unix() };
        if (store_open(c->state_dir, false, &s) == 0) {
                store_bundle_check(s, &bc, digest);
                bc.highest_serial = store_effective_highest(s, &keys);
        }
        struct policy *p = NULL;
        bool noop = false;
        char why[512];
        enum refusal rf = bundle_verify_files(&bc, argv[0], &p, &noop, why, sizeof why, &errs);
        if (rf == REFUSE_NONE)
                fprintf_vis(stdout, "%s: OK, serial %" PRIu64 "%s", argv[0], p->serial, noop ? " (already installed)" : "");
        else {
                fprintf_vis(stdout, "%s", why);
                for (size_t i = 0; i < errs.n; i++)
                        if (strcmp(errs.msgs[i], why) != 0)
                                fprintf_vis(stdout, "%s", errs.msgs[i]);
        }
        perrors_clear(&errs);
        policy_free(p);
        store_close(s);
        keyring_done(&keys);
        conf_done(&conf);
        return refusal_info(rf)->exit_code;
}

static int cmd_policy_show(struct ctl *c, int argc, char **argv) {
        struct store_choice ch;
        uint64_t highest = 0;
        int r = policy_in_force(c->state_dir, c->keys_dir, c->config, &ch, &highest, NULL);
        if (r < 0) {
                fprintf(stderr, "sekishoctl: no policy at all: %s\n", strerror(-r));
                return 1;
        }
        const char *state = strcmp(ch.source, "embedded") == 0     ? "default"
                            : policy_is_stale(ch.policy, now_unix()) ? "stale"
                                                                     : "current";
        char issued[32] = "-", expires[32] = "-", digest[65];
        if (ch.policy->issued)
                format_rfc3339(ch.policy->issued, issued);
        if (ch.policy->expires)
                format_rfc3339(ch.policy->expires, expires);
        hex_encode(ch.policy->digest, 32, digest);
        if (c->json) {
                printf("{\"serial\":%" PRIu64 ",\"source\":\"%s\",\"state\":\"%s\",\"issued\":\"%s\",\"expires\":\"%s\","
                       "\"highest_serial\":%" PRIu64 ",\"digest\":\"%s\",\"reason\":",
                       ch.policy->serial, ch.source, state, issued, expires, highest, digest);
                json_write_string(stdout, ch.reason);
                printf("}\n");
        } else {
                printf("serial:   %" PRIu64 "\nsource:   %s\nstate:    %s\nissued:   %s\nexpires:  %s\n"
                       "highest:  %" PRIu64 "\ndigest:   %s\n",
                       ch.policy->serial, ch.source, state, issued, expires, highest, digest);
                if (ch.reason[0])
                        fprintf_vis(stdout, "note:     %s", ch.reason);
        }
        policy_free(ch.policy);
        return 0;
}

/* ---- trust ---- */

static void print_key(const struct trust_key *key, bool json, bool first) {
        char id[17], nb[32] = "-", na[32] = "-", roles[64] = "";
        minisign_keynum_hex(key->pub.keynum, id);
        if (key->not_before)
                format_rfc3339(key->not_before, nb);
        if (key->not_after)
                format_rfc3339(key->not_after, na);
        for (unsigned i = 0; i < TRUST_ROLES; i++)
                if (key->roles & (1u << i))
                        snprintf(roles + strlen(roles), sizeof roles - strlen(roles), "%s%s", roles[0] ? "," : "",
                                 trust_role_name(1u << i));
        if (json) {
                printf("%s{\"id\":\"%s\",\"roles\":\"%s\",\"not-before\":\"%s\",\"not-after\":\"%s\",\"name\":", first ? "" : ",",
                       id, roles, nb, na);
                json_write_string(stdout, key->name);
                printf("}");
        } else
                fprintf_vis(stdout, "  %s  %-22s %s .. %s  %s", id, roles, nb, na, key->name);
}

/* The trust in force here, as the daemon loads it: for the officer and the auditor. */
static int cmd_trust_show(struct ctl *c, int argc, char **argv) {
        if (argc != 0)
                return usage();
        struct keyring k = { 0 };
        int r = keyring_load(c->keys_dir, c->state_dir, now_unix(), &k);
        if (r < 0) {
                fprintf(stderr, "sekishoctl: %s\n", strerror(-r));
                return 1;
        }
        char issued[32] = "-", expires[32] = "-";
        if (k.root_version) {
                format_rfc3339(k.root_issued, issued);
                format_rfc3339(k.root_expires, expires);
        }
        if (c->json) {
                printf("{\"source\":\"%s\",\"version\":%" PRIu64 ",\"issued\":\"%s\",\"expires\":\"%s\",\"pending\":%s,"
                       "\"thresholds\":{\"root\":%u,\"policy\":%u,\"timestamp\":%u},\"keys\":[",
                       k.root_version ? "root" : "keys.d", k.root_version, issued, expires, k.root_new ? "true" : "false",
                       k.threshold[0], k.threshold[1], k.threshold[2]);
                for (size_t i = 0; i < k.n; i++)
                        print_key(&k.keys[i], true, i == 0);
                printf("],\"revoked\":[");
                for (size_t i = 0; i < k.n_revoked; i++) {
                        char id[17];
                        minisign_keynum_hex(k.revoked[i], id);
                        printf("%s\"%s\"", i ? "," : "", id);
                }
                printf("],\"problems\":[");
                for (size_t i = 0; i < k.problems.n; i++) {
                        if (i)
                                putchar(',');
                        json_write_string(stdout, k.problems.msgs[i]);
                }
                printf("]}\n");
        } else {
                if (k.root_version)
                        printf("trust root: version %" PRIu64 "%s, issued %s, expires %s\n"
                               "thresholds: root %u, policy %u, timestamp %u\n", k.root_version,
                               k.root_new ? " (new: accepted when sekishod next loads it)" : "", issued, expires,
                               k.threshold[0], k.threshold[1], k.threshold[2]);
                else
                        fprintf_vis(stdout, "trust: the .pub files in %s (no trust root), policy threshold 1", c->keys_dir);
                printf("keys:\n");
                for (size_t i = 0; i < k.n; i++)
                        print_key(&k.keys[i], false, i == 0);
                for (size_t i = 0; i < k.n_revoked; i++) {
                        char id[17];
                        minisign_keynum_hex(k.revoked[i], id);
                        printf("  %s  revoked\n", id);
                }
                for (size_t i = 0; i < k.problems.n; i++)
                        fprintf_vis(stdout, "refused: %s", k.problems.msgs[i]);
        }
        r = k.problems.n ? 3 : 0;
        keyring_done(&k);
        return r;
}

/* Would this terminal accept FILE (+ FILE.minisig) as its next trust root? With install, put it in keys.d. */
static int trust_check_or_install(struct ctl *c, const char *file, bool install) {
        _cleanup_free_ char *data = NULL, *sig = NULL, *sigpath = NULL;
        size_t size, sig_size;
        int r = read_file_capped(file, 256 * 1024, &data, &size);
        if (r < 0 || asprintf(&sigpath, "%s.minisig", file) < 0) {
                fprintf_vis(stderr, "%s: %s", file, strerror(r < 0 ? -r : ENOMEM));
                return 1;
        }
        r = read_file_capped(sigpath, MINISIGN_MAX_FILE, &sig, &sig_size);
        if (r < 0) {
                fprintf_vis(stderr, "%s: %s", sigpath, r == -ENOENT ? "missing: sign it with sekishoctl trust sign" : strerror(-r));
                return 10;
        }
        struct keyring cur = { 0 }, next = { 0 };
        r = keyring_load(c->keys_dir, c->state_dir, now_unix(), &cur);
        if (r < 0)
                return 1;
        char why[512];
        r = trust_root_verify(cur.root_version ? &cur : NULL, file, data, size, sig, sig_size, now_unix(), &next, why,
                              sizeof why);
        if (r == 0 && cur.root_version && next.root_size == cur.root_size &&
            memcmp(next.root_data, cur.root_data, cur.root_size) == 0)
                snprintf(why, sizeof why, "%s: version %" PRIu64 " is already the trust root", file, cur.root_version);
        else if (r == 0)
                snprintf(why, sizeof why, "%s: OK, trust root version %" PRIu64 "%s", file, next.root_version,
                         cur.root_version ? " follows the one in force" : " (the first on this terminal)");
        keyring_done(&cur);
        keyring_done(&next);
        fprintf_vis(r < 0 ? stderr : stdout, "%s", why);
        if (r < 0)
                return 11;
        if (!install)
                return 0;
        _cleanup_free_ char *doc_to = path_join(c->keys_dir, "root.yaml"), *sig_to = path_join(c->keys_dir, "root.yaml.minisig");
        /* The signatures first: the daemon reads the pair once the document is there. */
        r = doc_to && sig_to ? write_file_atomic(sig_to, sig, sig_size, 0644) : -ENOMEM;
        if (r == 0)
                r = write_file_atomic(doc_to, data, size, 0644);
        if (r < 0) {
                fprintf_vis(stderr, "%s: %s", c->keys_dir, strerror(-r));
                return 1;
        }
        fprintf_vis(stdout, "installed as %s", doc_to);
        return 0;
}

static int cmd_trust_check(struct ctl *c, int argc, char **argv) {
        return argc == 1 ? trust_check_or_install(c, argv[0], false) : usage();
}

static int cmd_trust_install(struct ctl *c, int argc, char **argv) {
        return argc == 1 ? trust_check_or_install(c, argv[0], true) : usage();
}

/* Add this key's signature to FILE.minisig (one block per signer; a threshold of officers each run it). */
static int cmd_trust_sign(struct ctl *c, int argc, char **argv) {
        if (argc != 1 || !c->key) {
                fprintf(stderr, "sekishoctl: trust sign needs --key SECRETKEY and one FILE\n");
                return 2;
        }
        _cleanup_free_ char *data = NULL, *old = NULL, *sig = NULL, *sigpath = NULL, *all = NULL;
        size_t size, old_size = 0;
        int r = read_file_capped(argv[0], 256 * 1024, &data, &size);
        if (r < 0 || asprintf(&sigpath, "%s.minisig", argv[0]) < 0) {
                fprintf_vis(stderr, "%s: %s", argv[0], strerror(r < 0 ? -r : ENOMEM));
                return 1;
        }
        struct perrors errs = { 0 };
        struct keyring doc = { 0 };
        r = trust_root_parse(argv[0], data, size, &doc, &errs);
        for (size_t k = 0; k < errs.n; k++)
                fprintf_vis(stderr, "%s", errs.msgs[k]);
        perrors_clear(&errs);
        keyring_done(&doc);
        if (r < 0)
                return 1;
        r = read_file_capped(sigpath, MINISIGN_MAX_FILE, &old, &old_size);
        if (r < 0 && r != -ENOENT) {
                fprintf_vis(stderr, "%s: %s", sigpath, strerror(-r));
                return 1;
        }
        struct minisign_seckey sk;
        if (load_seckey(c, &sk) < 0)
                return 1;
        char comment[160];
        snprintf(comment, sizeof comment, "timestamp:%lld\tfile:%s", (long long)now_unix(),
                 strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0]);
        r = minisign_sign(&sk, data, size, "signature from sekishoctl (trust root)", c->comment ? c->comment : comment, &sig);
        sodium_memzero(&sk, sizeof sk);
        if (r < 0 || asprintf(&all, "%s%s%s", old ? old : "", old && old_size && old[old_size - 1] != '\n' ? "\n" : "", sig) < 0) {
                fprintf_vis(stderr, "%s: cannot sign: %s", argv[0], strerror(r < 0 ? -r : ENOMEM));
                return 1;
        }
        r = write_file_atomic(sigpath, all, strlen(all), 0644);
        if (r < 0) {
                fprintf_vis(stderr, "%s: %s", sigpath, strerror(-r));
                return 1;
        }
        fprintf_vis(stdout, "%s", sigpath);
        return 0;
}

/* ---- daemon ---- */

/* Connect to the daemon; prints why not. */
static DBusConnection *connect_daemon(struct ctl *c) {
        DBusConnection *conn = NULL;
        struct busclient_error err = { 0 };
        if (busclient_open(c->bus, &conn, &err) < 0) {
                fprintf(stderr, "sekishoctl: cannot reach the bus: %s\n", err.message);
                return NULL;
        }
        return conn;
}

/* One place turns a failed call into a message and an exit code. */
static int call_failed(int r, const struct busclient_error *err) {
        if (r == -ESRCH)
                fprintf(stderr, "sekishoctl: sekishod is not running (for bundles without a daemon: drop them into the inbox)\n");
        else
                fprintf_vis(stderr, "sekishoctl: %s%s%s", err->message, err->name[0] ? " — " : "", err->name);
        if (r == -EBADE)
                return refusal_info(busclient_refusal(err->name))->exit_code;
        return r == -EACCES ? 4 : 1;
}

static int cmd_policy_apply(struct ctl *c, int argc, char **argv) {
        if (argc != 1)
                return usage();
        _cleanup_free_ char *data = NULL, *sig = NULL, *sigpath = NULL;
        size_t size, sig_size;
        int r = read_file_capped(argv[0], POLICY_MAX_SIZE, &data, &size);
        if (r < 0) {
                fprintf_vis(stderr, "%s: %s", argv[0], r == -EFBIG ? "larger than the policy size limit" : strerror(-r));
                return refusal_info(r == -EFBIG ? REFUSE_TOO_LARGE : REFUSE_IO)->exit_code;
        }
        if (asprintf(&sigpath, "%s.minisig", argv[0]) < 0)
                return 1;
        r = read_file_capped(sigpath, MINISIGN_MAX_FILE, &sig, &sig_size);
        if (r < 0) {
                fprintf_vis(stderr, "%s: %s", sigpath, r == -ENOENT ? "missing signature" : strerror(-r));
                return refusal_info(REFUSE_SIGNATURE)->exit_code;
        }
        DBusConnection *conn = connect_daemon(c);
        if (!conn)
                return 1;
        struct busclient_error err = { 0 };
        uint64_t serial = 0;
        r = busclient_apply(conn, data, size, sig, sig_size, argv[0], &serial, &err);
        busclient_close(conn);
        if (r < 0)
                return call_failed(r, &err);
        fprintf_vis(stdout, "%s: serial %" PRIu64 " in force", argv[0], serial);
        return 0;
}

static int cmd_status(struct ctl *c, int argc, char **argv) {
        DBusConnection *conn = NULL;
        struct busclient_error err = { 0 };
        int r = busclient_open(c->bus, &conn, &err);
        if (r == 0) {
                r = busclient_status(conn, stdout, c->json, &err);
                busclient_close(conn);
                if (r == 0)
                        return 0;
                if (r != -ESRCH)
                        return call_failed(r, &err);
        }
        /* No daemon on the bus: the status file the daemon keeps (it may be old). */
        _cleanup_free_ char *path = path_join(c->state_dir, "status.json"), *data = NULL;
        r = path ? read_file_capped(path, 1 << 20, &data, NULL) : -ENOMEM;
        if (r < 0) {
                fprintf(stderr, "sekishoctl: sekishod is not reachable and there is no status file (%s: %s)\n",
                        path ? path : "", strerror(-r));
                return 1;
        }
        if (!c->json)
                printf("sekishod is not reachable on the bus; last status written by it (%s):\n", path);
        fputs(data, stdout);
        return 0;
}

static int cmd_profile(struct ctl *c, int argc, char **argv) {
        if (argc < 2 || argc > 3 || (strcmp(argv[0], "on") != 0 && strcmp(argv[0], "off") != 0))
                return usage();
        DBusConnection *conn = connect_daemon(c);
        if (!conn)
                return 1;
        struct busclient_error err = { 0 };
        int r = busclient_set_profile(conn, argv[1], strcmp(argv[0], "on") == 0, argc == 3 ? argv[2] : "operator", &err);
        busclient_close(conn);
        return r < 0 ? call_failed(r, &err) : 0;
}

static int cmd_reload(struct ctl *c, int argc, char **argv) {
        DBusConnection *conn = connect_daemon(c);
        if (!conn)
                return 1;
        struct busclient_error err = { 0 };
        int r = busclient_reload(conn, &err);
        busclient_close(conn);
        return r < 0 ? call_failed(r, &err) : 0;
}

static int cmd_monitor(struct ctl *c, int argc, char **argv) {
        DBusConnection *conn = connect_daemon(c);
        if (!conn)
                return 1;
        struct busclient_error err = { 0 };
        int r = busclient_monitor(conn, stdout, c->json, 0, &err);
        busclient_close(conn);
        return r < 0 ? call_failed(r, &err) : 0;
}

static int cmd_report(struct ctl *c, int argc, char **argv) {
        if (argc != 0 || (c->json && c->html))
                return usage();
        struct report_options o = { c->state_dir, c->keys_dir, c->config, c->audit_log, c->bus,
                                    c->html ? REPORT_HTML : c->json ? REPORT_JSON : REPORT_TEXT, c->sbom };
        int r = report_run(&o, stdout);
        if (r < 0)
                fprintf(stderr, "sekishoctl: no report: %s\n", strerror(-r));
        return r < 0 ? 1 : 0;
}

/* repo publish DIR TARGET [BUNDLE.yaml] --key TIMESTAMP-KEY [--hours N]: lay out and sign the repository. */
static int cmd_repo(struct ctl *c, int argc, char **argv) {
        if (argc < 3 || argc > 4 || strcmp(argv[0], "publish") != 0 || !c->key)
                return usage();
        uint64_t hours = 24;
        if (c->hours && (parse_u64(c->hours, &hours) < 0 || hours < 1 || hours > 24 * 366)) {
                fprintf(stderr, "sekishoctl: --hours wants 1 to 8784\n");
                return 2;
        }
        struct keyring keys = { 0 };
        int r = keyring_load(c->keys_dir, c->state_dir, now_unix(), &keys);
        for (size_t i = 0; i < keys.problems.n; i++)
                fprintf_vis(stderr, "%s", keys.problems.msgs[i]);
        struct minisign_seckey sk;
        if (r < 0 || load_seckey(c, &sk) < 0) {
                keyring_done(&keys);
                return 1;
        }
        const struct repo_publish o = { .dir = argv[1], .target = argv[2], .bundle = argc == 4 ? argv[3] : NULL,
                                        .hours = (int64_t)hours, .timestamp_key = &sk, .keys = &keys };
        char why[512];
        r = repo_publish(&o, why, sizeof why);
        sodium_memzero(&sk, sizeof sk);
        keyring_done(&keys);
        fprintf_vis(r < 0 ? stderr : stdout, "%s", why);
        return r < 0 ? 1 : 0;
}

/* fleet report --journal-dir DIR: the collector's view of every terminal. */
static int cmd_fleet(struct ctl *c, int argc, char **argv) {
        if (argc != 1 || strcmp(argv[0], "report") != 0 || !c->journal_dir || (c->json && c->html))
                return usage();
        int r = fleet_report(c->journal_dir, c->html ? FLEET_HTML : c->json ? FLEET_JSON : FLEET_TEXT, FLEET_SILENT_USEC,
                             stdout);
        if (r < 0)
                fprintf(stderr, "sekishoctl: %s: cannot read as a journal directory: %s\n", c->journal_dir, strerror(-r));
        return r < 0 ? 1 : 0;
}

/* The SBOM as installed, byte for byte, once it is known to be sekisho's SPDX 2.3 document. */
static int cmd_sbom(struct ctl *c, int argc, char **argv) {
        if (argc != 0)
                return usage();
        struct sbom b;
        _cleanup_free_ char *data = NULL;
        size_t size;
        int r = sbom_read(c->sbom, &b, &data, &size);
        if (r < 0) {
                fprintf(stderr, "sekishoctl: %s: %s\n", c->sbom,
                        r == -EBADMSG ? "not an SPDX 2.3 SBOM of sekisho" : strerror(-r));
                return 1;
        }
        fwrite(data, 1, size, stdout);
        return fflush(stdout) == 0 && !ferror(stdout) ? 0 : 1;
}

/* ---- audit ---- */

static int audit_verify_cmd(struct ctl *c, const char *const *files, size_t n_files) {
        char why[1024];
        uint64_t n;
        struct audit_verify_options o = { 0 };
        _cleanup_free_ struct audit_checkpoint *cps = NULL;
        if (c->checkpoints) {
                _cleanup_free_ char *data = NULL;
                size_t size;
                int r = read_file_capped(c->checkpoints, 1u << 30, &data, &size);
                if (r < 0) {
                        fprintf_vis(stderr, "%s: %s", c->checkpoints, strerror(-r));
                        return 1;
                }
                r = audit_checkpoints_parse(data, size, &cps, &o.n_checkpoints, why, sizeof why);
                if (r < 0) {
                        fprintf_vis(stderr, "%s: %s", c->checkpoints, why);
                        return 1;
                }
                if (o.n_checkpoints == 0) {
                        fprintf_vis(stderr, "%s: no sekisho-checkpoint lines", c->checkpoints);
                        return 1;
                }
                o.checkpoints = cps;
        }
        struct seal_key key;
        if (c->seal) {
                if (seal_key_parse(c->seal, &key) < 0) {
                        fprintf(stderr, "--seal: not a verification key (SEED-HEX/START/INTERVAL)\n");
                        return 1;
                }
                o.seal = &key;
        }
        int r = audit_verify_series(files, n_files, &o, why, sizeof why, &n);
        sodium_memzero(&key, sizeof key);
        fprintf_vis(stdout, "%s", why);
        return r < 0 ? 1 : 0;
}

static int cmd_audit(struct ctl *c, int argc, char **argv) {
        if (argc < 1)
                return usage();
        if (strcmp(argv[0], "verify") == 0) {
                const char *def[] = { c->audit_log };
                return argc > 1 ? audit_verify_cmd(c, (const char *const *)argv + 1, (size_t)argc - 1)
                                : audit_verify_cmd(c, def, 1);
        }
        if (strcmp(argv[0], "seal-init") == 0 && argc == 1) {
                uint64_t interval = SEAL_DEFAULT_INTERVAL;
                if (c->seal_interval && (parse_u64(c->seal_interval, &interval) < 0 || interval == 0))
                        return usage();
                _cleanup_free_ char *path = path_join(c->state_dir, "audit.seal");
                char key[160];
                int r = path ? seal_init(path, now_unix(), interval, key, sizeof key) : -ENOMEM;
                if (r < 0) {
                        fprintf_vis(stderr, "%s: %s", path ? path : c->state_dir,
                                    r == -EEXIST ? "sealing is already set up" : strerror(-r));
                        return 1;
                }
                printf("Verification key (keep it off this terminal; `sekishoctl audit verify --seal KEY`):\n%s\n", key);
                sodium_memzero(key, sizeof key);
                return 0;
        }
        if (argc > 2)
                return usage();
        const char *file = argc == 2 ? argv[1] : c->audit_log;
        if (strcmp(argv[0], "show") == 0) {
                _cleanup_fclose_ FILE *f = fopen(file, "re");
                if (!f) {
                        fprintf_vis(stderr, "%s: %s", file, strerror(errno));
                        return 1;
                }
                char buf[8192];
                size_t n;
                while ((n = fread(buf, 1, sizeof buf, f)) > 0)
                        fwrite(buf, 1, n, stdout);
                return 0;
        }
        return usage();
}

/* A plugin's bus method, for its verb (struct sekisho_ctl_env.call). */
static int ctl_plugin_call(const struct sekisho_ctl_env *env, const char *member, char *ret, size_t ret_size) {
        struct ctl *c = env->call_userdata;
        DBusConnection *conn = connect_daemon(c);
        if (!conn)
                return 1;
        struct busclient_error err = { 0 };
        int r = busclient_plugin_call(conn, member, ret, ret_size, &err);
        busclient_close(conn);
        return r < 0 ? call_failed(r, &err) : 0;
}

/* `sekishoctl NAME ...`: the plugin's verb, given the effective section the
 * daemon applies now (policy in force, active profiles), worked out here once. */
static int run_plugin(struct ctl *c, const struct sekisho_plugin *plugin, int argc, char **argv) {
        struct view v;
        int r = view_load(c->state_dir, c->keys_dir, c->config, c->bus, &v);
        if (r < 0) {
                fprintf(stderr, "sekishoctl %s: no policy to work with: %s\n", plugin->name, strerror(-r));
                return 1;
        }
        struct ptree *section = NULL;
        r = view_section(&v, plugin->section, &section);
        if (r < 0) {
                view_done(&v);
                fprintf(stderr, "sekishoctl %s: %s\n", plugin->name, strerror(-r));
                return 1;
        }
        const struct sekisho_ctl_env env = {
                .state_dir = c->state_dir, .keys_dir = c->keys_dir, .config = c->config, .audit_log = c->audit_log,
                .policy_name = v.policy_name, .active = v.active, .n_active = v.n_active, .live = v.live,
                .default_section = policy_default_section(plugin->section),
                .call = ctl_plugin_call, .call_userdata = c,
        };
        r = plugin->ctl(&env, section->root, argc, argv);
        ptree_free(section);
        view_done(&v);
        return r;
}

/* Parse sekishoctl's options; optstring "+h" stops at the command, "h" takes them anywhere. */
static int parse_options(struct ctl *c, int argc, char **argv, const char *optstring) {
        enum { ARG_STATE = 0x100, ARG_KEYS, ARG_CONFIG, ARG_AUDIT, ARG_KEY, ARG_COMMENT, ARG_PWFILE, ARG_BUS, ARG_JSON, ARG_HTML, ARG_SBOM, ARG_CHECKPOINTS, ARG_SEAL, ARG_SEAL_INTERVAL, ARG_JOURNAL_DIR, ARG_HOURS };
        static const struct option opts[] = {
                { "state-dir", required_argument, NULL, ARG_STATE },
                { "keys-dir", required_argument, NULL, ARG_KEYS },
                { "config", required_argument, NULL, ARG_CONFIG },
                { "audit-log", required_argument, NULL, ARG_AUDIT },
                { "key", required_argument, NULL, ARG_KEY },
                { "trusted-comment", required_argument, NULL, ARG_COMMENT },
                { "password-file", required_argument, NULL, ARG_PWFILE },
                { "bus", required_argument, NULL, ARG_BUS },
                { "json", no_argument, NULL, ARG_JSON },
                { "html", no_argument, NULL, ARG_HTML },
                { "sbom", required_argument, NULL, ARG_SBOM },
                { "checkpoints", required_argument, NULL, ARG_CHECKPOINTS },
                { "seal", required_argument, NULL, ARG_SEAL },
                { "seal-interval", required_argument, NULL, ARG_SEAL_INTERVAL },
                { "journal-dir", required_argument, NULL, ARG_JOURNAL_DIR },
                { "hours", required_argument, NULL, ARG_HOURS },
                { "help", no_argument, NULL, 'h' },
                { NULL, 0, NULL, 0 },
        };
        int o;
        while ((o = getopt_long(argc, argv, optstring, opts, NULL)) >= 0) {
                switch (o) {
                case ARG_STATE: c->state_dir = optarg; break;
                case ARG_KEYS: c->keys_dir = optarg; break;
                case ARG_CONFIG: c->config = optarg; break;
                case ARG_AUDIT: c->audit_log = optarg; break;
                case ARG_KEY: c->key = optarg; break;
                case ARG_COMMENT: c->comment = optarg; break;
                case ARG_PWFILE: c->password_file = optarg; break;
                case ARG_JSON: c->json = true; break;
                case ARG_HTML: c->html = true; break;
                case ARG_SBOM: c->sbom = optarg; break;
                case ARG_CHECKPOINTS: c->checkpoints = optarg; break;
                case ARG_SEAL: c->seal = optarg; break;
                case ARG_SEAL_INTERVAL: c->seal_interval = optarg; break;
                case ARG_JOURNAL_DIR: c->journal_dir = optarg; break;
                case ARG_HOURS: c->hours = optarg; break;
                case ARG_BUS: c->bus = strcmp(optarg, "session") == 0 ? BUS_SESSION
                                     : strcmp(optarg, "none") == 0  ? BUS_NONE
                                                                    : BUS_SYSTEM; break;
                case 'h': usage(); exit(0);
                default: return -EINVAL;
                }
        }
        return 0;
}

int main(int argc, char **argv) {
        struct ctl c = {
                .state_dir = LOCALSTATEDIR "/lib/sekisho",
                .keys_dir = SYSCONFDIR "/sekisho/keys.d",
                .config = SYSCONFDIR "/sekisho/sekisho.conf",
                .audit_log = LOCALSTATEDIR "/log/sekisho/audit.log",
                .sbom = SBOM_PATH,
                .bus = BUS_SYSTEM,
        };
        log_setup("sekishoctl", false);
        if (sodium_init() < 0)
                return 1;
        /* Options before the command; a plugin's command gets the rest of the line as it is. */
        if (parse_options(&c, argc, argv, "+h") < 0)
                return usage();
        const struct sekisho_plugin *plugin = optind < argc ? plugin_find(argv[optind]) : NULL;
        if (plugin && plugin->ctl)
                return run_plugin(&c, plugin, argc - optind, argv + optind);
        /* The core's commands take their options anywhere: parse the whole line again, permuting. */
        optind = 0;
        if (parse_options(&c, argc, argv, "h") < 0)
                return usage();
        argc -= optind;
        argv += optind;
        if (argc < 1)
                return usage();
        if (strcmp(argv[0], "policy") == 0 && argc >= 2) {
                static const struct { const char *verb; int (*fn)(struct ctl *, int, char **); } verbs[] = {
                        { "check", cmd_policy_check }, { "sign", cmd_policy_sign },
                        { "verify", cmd_policy_verify }, { "show", cmd_policy_show },
                        { "apply", cmd_policy_apply },
                };
                for (size_t i = 0; i < ARRAY_SIZE(verbs); i++)
                        if (strcmp(argv[1], verbs[i].verb) == 0)
                                return verbs[i].fn(&c, argc - 2, argv + 2);
                return usage();
        }
        if (strcmp(argv[0], "trust") == 0 && argc >= 2) {
                static const struct { const char *verb; int (*fn)(struct ctl *, int, char **); } verbs[] = {
                        { "show", cmd_trust_show }, { "check", cmd_trust_check },
                        { "install", cmd_trust_install }, { "sign", cmd_trust_sign },
                };
                for (size_t i = 0; i < ARRAY_SIZE(verbs); i++)
                        if (strcmp(argv[1], verbs[i].verb) == 0)
                                return verbs[i].fn(&c, argc - 2, argv + 2);
                return usage();
        }
        static const struct { const char *verb; int (*fn)(struct ctl *, int, char **); } daemon_verbs[] = {
                { "status", cmd_status }, { "profile", cmd_profile }, { "reload", cmd_reload },
                { "monitor", cmd_monitor }, { "report", cmd_report }, { "sbom", cmd_sbom },
                { "fleet", cmd_fleet }, { "repo", cmd_repo },
        };
        for (size_t i = 0; i < ARRAY_SIZE(daemon_verbs); i++)
                if (strcmp(argv[0], daemon_verbs[i].verb) == 0)
                        return daemon_verbs[i].fn(&c, argc - 1, argv + 1);
        if (strcmp(argv[0], "audit") == 0)
                return cmd_audit(&c, argc - 1, argv + 1);
        return usage();
}
