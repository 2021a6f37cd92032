/* policy.h — policies, signed bundles, the trusted keys, this terminal's identity and the crash-safe policy store. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "minisign.h"
#include "ptree.h"

#define POLICY_MAX_SIZE (4u * 1024 * 1024)   /* cap checked before a bundle is read */
#define POLICY_FORMAT 1
#define POLICY_CLOCK_SKEW (5 * 60)           /* seconds an "issued" may lie in the future */

/* Why a bundle is refused. One table gives each its stable id (audit log,
 * D-Bus signal), its sekishoctl exit code and its D-Bus error name. */
enum refusal {
        REFUSE_NONE = 0,
        REFUSE_IO,
        REFUSE_SIGNATURE,
        REFUSE_UNKNOWN_KEY,
        REFUSE_MALFORMED,
        REFUSE_TIME,
        REFUSE_NOT_TARGETED,
        REFUSE_SERIAL_OLD,
        REFUSE_SERIAL_CONFLICT,
        REFUSE_TOO_LARGE,
        REFUSE_SERIAL_BAD,
        REFUSE_APPLY_FAILED,
        REFUSE_NO_SPACE,          /* the store's or the audit log's file system is full */
        REFUSE_STORE_FAILED,      /* the store or the audit log cannot be written otherwise */
        _REFUSE_MAX,
};

struct refusal_info {
        const char *id;           /* "bad-signature", ... */
        int exit_code;            /* sekishoctl policy verify/apply */
        const char *dbus_error;   /* org.sekisho.Sekisho1.Error.* */
};
/* Why writing the store or the audit log failed: no-space for ENOSPC and
 * EDQUOT (the officer frees space), store-failed for anything else. */
enum refusal refusal_for_write_error(int r);
const struct refusal_info *refusal_info(enum refusal r);

/* This terminal, from /etc/sekisho/sekisho.conf (YAML). */
struct sekisho_conf {
        char *terminal_id;
        char **groups;
        size_t n_groups;
        bool audit_syslog;
        char *repository;        /* base URL sekisho-fetch pulls from (NULL: bundles are pushed) */
        char *repository_ca;     /* a CA file for it (NULL: the system's CAs) */
        char *repository_proxy;  /* a proxy for it (NULL: the environment's) */
};
int conf_load(const char *path, struct sekisho_conf *ret, struct perrors *errs);
void conf_done(struct sekisho_conf *c);

/* The keys this terminal trusts, from the signed trust root (keys.d/root.yaml,
 * sekisho-trust(5)) or, without one, from the keys.d/NAME.pub files (each a
 * policy key, threshold 1). Read by trust.c; every file is trusted only if
 * root (or the user the program runs as) owns it and its directory and no
 * one else can write them (OpenSSH's StrictModes). */
enum trust_role { ROLE_ROOT = 1u << 0, ROLE_POLICY = 1u << 1, ROLE_TIMESTAMP = 1u << 2 };
#define TRUST_ROLES 3
#define TRUST_MAX_KEYS 64

struct trust_key {
        struct minisign_pubkey pub;
        char *name;                  /* the .pub file, or the root's name: for the key */
        unsigned roles;              /* enum trust_role bits */
        int64_t not_before, not_after; /* 0: unbounded */
};

struct keyring {
        struct trust_key *keys;
        size_t n;
        uint8_t (*revoked)[MINISIGN_KEYNUM_BYTES];
        size_t n_revoked;
        unsigned threshold[TRUST_ROLES];  /* root, policy, timestamp; 0: role has no keys */
        /* The trust root in force (root_version 0: keys.d mode, no root). */
        uint64_t root_version;
        int64_t root_issued, root_expires;
        bool has_lower_serial;
        uint64_t lower_serial;             /* the anti-rollback serial goes down to this (recovery) */
        char *root_data, *root_sig;        /* its exact bytes, to keep as the anchor */
        size_t root_size, root_sig_size;
        uint8_t root_digest[32];
        bool root_new;                     /* accepted now, not yet the anchor in the state directory */
        struct perrors problems;           /* files and roots refused: status, report, audit log */
};

/* The trust in force: the anchor (state_dir/trust/root.yaml, the root this
 * terminal accepted last), or a newer keys_dir/root.yaml signed by the
 * anchor's root threshold and its own (root_new then set; the daemon makes it
 * the anchor), or with no anchor a self-signed keys_dir/root.yaml (the
 * provisioning), or the keys_dir/NAME.pub files. Every refusal goes to ret->problems.
 * Fails only for lack of memory. */
int keyring_load(const char *keys_dir, const char *state_dir, int64_t now, struct keyring *ret);
void keyring_done(struct keyring *k);
/* The key with this id that holds role (NULL if none). */
const struct trust_key *keyring_find(const struct keyring *k, const uint8_t keynum[MINISIGN_KEYNUM_BYTES], unsigned role);
bool keyring_revoked(const struct keyring *k, const uint8_t keynum[MINISIGN_KEYNUM_BYTES]);
const char *trust_role_name(unsigned role);

/* Parse a trust root document (hostile input before its signatures are
 * checked); keys, roles, thresholds, revoked keys, version, times. */
int trust_root_parse(const char *file, const char *data, size_t size, struct keyring *ret, struct perrors *errs);

/* Count the distinct keys holding role, valid at `at` and not revoked,
 * whose signature in sig_text verifies data. A signature that does not
 * verify, or a block that does not parse, is an error (-EBADMSG, why).
 * Unknown keys are not counted; the first is named in ret_unknown (may be NULL). */
int trust_count_signers(const struct keyring *k, unsigned role, int64_t at, const char *data, size_t size,
                        const char *sig_text, size_t sig_size, struct minisign_pubkey *ret_signers, size_t *ret_n,
                        uint8_t ret_unknown[MINISIGN_KEYNUM_BYTES], char *why, size_t why_size);

/* Is this root document, with these signatures, the next trust root after
 * current (NULL: the first, self-signed)? 0, or -EPERM with the reason. */
int trust_root_verify(const struct keyring *current, const char *file, const char *data, size_t size, const char *sig,
                      size_t sig_size, int64_t now, struct keyring *ret, char *why, size_t why_size);

/* Make ring's root the anchor in state_dir (atomic, durable). */
int trust_save_anchor(const char *state_dir, const struct keyring *ring);

/* StrictModes: open path (a directory when dir) for reading only if it is
 * owned by root or by the euid and not writable by group or others. -EPERM
 * with the problem in why ("owned by uid 65534, not root"). */
int trust_open_strict(const char *path, bool dir, int *ret_fd, char *why, size_t why_size);

/* A parsed, validated policy. */
struct policy {
        struct ptree *tree;
        char *data;                  /* the exact bytes (for identity checks and re-install) */
        size_t size;
        uint64_t serial;
        int64_t issued, expires;     /* 0 when absent (only the embedded default) */
        uint8_t digest[32];          /* BLAKE2b-256 of the bytes */
        struct minisign_pubkey signers[MINISIGN_MAX_SIGS]; /* the trusted keys that signed it (bundle_verify) */
        size_t n_signers;
        char *origin;                /* "embedded", "installed", "previous", "bundle" */
        struct ptree *profiles;      /* the embedded default's profiles with this policy's merged over them */
};
struct policy *policy_free(struct policy *p);

/* Parse and validate: core header keys, every plugin's section, and each
 * profile merged over the base (so its errors are found before it is ever
 * activated). All problems go to errs. */
int policy_parse(const char *file, const char *data, size_t size, struct policy **ret, struct perrors *errs);

/* The policy compiled into the binary. Never fails unless out of memory. */
int policy_embedded(struct policy **ret);

/* Does policy name this terminal in applies-to (or have none)? */
bool policy_targets(const struct policy *p, const struct sekisho_conf *conf);

/* The profile a policy's freshness: applies when its timestamps are stale (freshness.c). */
#define FRESHNESS_DEFAULT_PROFILE "stale"
#define FRESHNESS_DEFAULT_GRACE_HOURS 24

/* The longest profile name anyone may request (D-Bus SetProfile, plugins). */
#define PROFILE_NAME_MAX 64

/* The profiles in force with a policy: the embedded default's, with the
 * policy's merged over them like every other key (a profile the policy
 * leaves out is the default's; one it names is merged key by key over the
 * default's of that name). A map of name -> overlay, in order: the
 * default's first, then the policy's new ones. NULL if there are none. */
const struct pnode *policy_profiles(const struct policy *p);
/* The policy's freshness: section (issue 19): NULL when it asks for no
 * repository timestamps; else the profile to apply once stale, and in
 * *ret_grace_s how long after that happens (defaults filled in). */
const char *policy_freshness(const struct policy *p, int64_t *ret_grace_s);

/* The embedded default, parsed once: constant data for the life of the
 * process, never freed. Every key a policy leaves out takes its value from
 * it (see policy_effective_section). NULL only if the build is broken. */
const struct policy *policy_defaults(void);

/* The embedded default's section (NULL if it has none). */
const struct pnode *policy_default_section(const char *section);

/* The section a plugin applies: the embedded default's section with the
 * policy's merged over it (so a key the policy leaves out keeps its default
 * value), then each active profile, in the policy's order. The result's root
 * is NULL when nothing defines the section. Free with ptree_free(). */
int policy_effective_section(const struct policy *p, const char *section, char *const *active, size_t n_active,
                             struct ptree **ret);

/* Everything a bundle is checked against. */
struct bundle_check {
        const struct keyring *keys;
        const struct sekisho_conf *conf;
        uint64_t highest_serial;       /* highest ever in force */
        const uint8_t *installed_digest; /* digest of the installed policy with that serial, or NULL */
        const uint64_t *bad_serials;
        size_t n_bad_serials;
        int64_t now;
        bool installed;                /* re-verifying an installed policy: skip serial and time */
        /* Installed only: the keys that verified it when it was installed
         * (the store keeps them), trusted unless revoked since: a rotated-out
         * key keeps the policy it signed in force until a new one arrives. */
        const struct minisign_pubkey *recorded;
        size_t n_recorded;
};

/* What a bundle needs beyond a valid policy (the embedded default has none
 * of it): serial 1 or more, 'issued', 'expires' after it. Returns the number
 * of errors added to errs. One check for the terminal and for `sekishoctl
 * policy check/sign`, so both say the same. */
size_t policy_check_bundle(const struct policy *p, struct perrors *errs);

/* Verify a bundle: signature first (nothing is parsed before it passes),
 * then policy, time window, target, serial. On refusal returns the reason
 * and a one-line message in why (naming the file, and line:col for policy
 * errors); all policy errors go to errs when errs is not NULL. *ret_noop is
 * set when the same serial with identical bytes is already installed.
 * Takes *bundle (malloc'd, size bytes and a NUL, as read_file_capped() gives): the policy keeps it as its
 * bytes, or it is freed; *bundle is NULL on return. */
enum refusal bundle_verify(const struct bundle_check *bc, const char *file, char **bundle, size_t size,
                           const char *sig, size_t sig_size, struct policy **ret, bool *ret_noop,
                           char *why, size_t why_size, struct perrors *errs);

/* Read FILE and FILE.minisig (size-capped) and verify them as above. */
enum refusal bundle_verify_files(const struct bundle_check *bc, const char *file, struct policy **ret,
                                 bool *ret_noop, char *why, size_t why_size, struct perrors *errs);

/* The policy store under a state directory:
 *   policies/<serial>/policy.yaml{,.minisig}   installed bundles
 *   current -> policies/<serial>               the one in force (atomic symlink)
 *   serial                                     highest serial ever in force (anti-rollback)
 *   bad-serials                                serials that failed to apply
 *   serials-lowered                            serials above a trust root's lower-serial: never counted again
 * Previous good policies are kept (the newest few). */
struct store {
        char *dir;
        uint64_t highest_serial;
        uint64_t *bad;
        size_t n_bad;
        uint64_t *uncounted;         /* serials-lowered: installed above a lowered highest serial */
        size_t n_uncounted;
};
int store_open(const char *state_dir, bool create, struct store **ret);
struct store *store_close(struct store *s);

/* Fill bc's serial fields from the store (keys, conf and now stay as set). */
void store_bundle_check(const struct store *s, struct bundle_check *bc, uint8_t digest_buf[32]);

/* Install a verified bundle atomically; the old policy stays in force until
 * the final rename, and a crash at any point leaves old or new, never none.
 * The anti-rollback serial does not move: see store_commit(). */
int store_install(struct store *s, const struct policy *p, const char *sig, size_t sig_size);

/* The installed policy with this serial is in force (every plugin applied
 * it): raise the anti-rollback serial to it, never lower it. A refused or
 * reverted bundle is never committed, so it blocks no older serial. */
int store_commit(struct store *s, uint64_t serial);

/* The recovery from a mistaken huge serial: a trust root's lower-serial
 * brings the anti-rollback serial down (durably), never up. */
int store_lower_serial(struct store *s, uint64_t serial);
/* The highest serial as it will be once a newly accepted root's
 * lower-serial is applied (offline tools see what the daemon will do). */
uint64_t store_effective_highest(const struct store *s, const struct keyring *keys);

/* Remember a serial that failed to apply, and point current back to the
 * newest good one below it (if any). */
int store_mark_bad(struct store *s, uint64_t serial);

/* Start-up choice: the installed policy, re-verified; else the newest
 * previous good one; else the embedded default. Never fails for a bad
 * store: every rejected candidate is reported through warn (may be NULL). */
struct store_choice {
        struct policy *policy;
        const char *source;          /* "installed", "previous", "embedded" */
        char reason[512];            /* why an installed policy was not used, or "" */
};
int store_choose(struct store *s, const struct keyring *keys, const struct sekisho_conf *conf, int64_t now,
                 struct store_choice *ret);

/* Offline: the policy the daemon would put in force now, chosen as at its
 * start (identity from config, keys from keys_dir). Never fails for a bad or
 * missing store: that means the embedded default, with the reason in
 * ret->reason; problems with config or keys go to errs (may be NULL).
 * ret_highest (may be NULL) gets the highest serial ever in force. */
int policy_in_force(const char *state_dir, const char *keys_dir, const char *config, struct store_choice *ret,
                    uint64_t *ret_highest, struct perrors *errs);

/* Is an active policy past its expiry? (stays in force, reported stale) */
static inline bool policy_is_stale(const struct policy *p, int64_t now) { return p->expires && now >= p->expires; }
