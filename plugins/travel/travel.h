/* travel.h — the travel plugin's policy model, persisted state machine, probes and reset plan, shared by sekishod, sekisho-reset and sekishoctl. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "ptree.h"
#include "tlsprobe.h"
#include "util.h"

/* ---- limits (everything read from outside is bounded) ---- */
#define TRAVEL_MAX_TRIPS 256
#define TRAVEL_MAX_REGIONS 300
#define TRAVEL_MAX_PATHS 64
#define TRAVEL_MAX_ARGS 32
#define TRAVEL_ID_MAX 64
#define TRAVEL_PATH_MAX 1024
#define TRAVEL_MAX_TRIP_DAYS 366
#define TRAVEL_KV_MAX_SIZE (64 * 1024)
#define TRAVEL_KV_MAX_LINES 2048
#define TRAVEL_CLOCK_SKEW 600          /* seconds a wall clock may step back before we call it "far off" */
#define TRAVEL_DEFAULT_GRACE (24 * 3600)
#define TRAVEL_PIN_LEN 32              /* SHA-256 */
#define TRAVEL_RESET_ID_LEN 32         /* hex digits of 16 random bytes */
#define TRAVEL_DEFAULT_ACK_TIMEOUT 600 /* seconds the reset waits for the collector's hand-over */
#define TRAVEL_MAX_ACK_TIMEOUT (24 * 3600)
#define TRAVEL_CONTACT_MAX 128

/* ---- ISO 3166-1 alpha-2 ---- */
bool iso3166_alpha2_valid(const char *code);

/* ---- policy (the travel: section, parsed) ---- */
struct travel_trip {
        char id[TRAVEL_ID_MAX + 1];
        char destination[3];
        int64_t start, end;
        bool high_risk;
        bool returned;    /* a signed bundle confirms the terminal is back */
        bool cancelled;   /* the trip did not happen / the reset is called off */
};

struct reset_plan {
        char *volumes[TRAVEL_MAX_PATHS];
        size_t n_volumes;
        char *credentials[TRAVEL_MAX_PATHS];
        size_t n_credentials;
        char *wipe[TRAVEL_MAX_PATHS];
        size_t n_wipe;
        char *restore[TRAVEL_MAX_ARGS + 1]; /* argv, NULL-terminated */
        size_t n_restore;
        bool reboot;
        /* The whole-machine reset (i22-boot): the root volume is erased by the
         * initramfs at the next boot; the running system only schedules it. */
        char *root_volume;         /* "/dev/..." or "PARTLABEL=label"; NULL: no root reset */
        char *journal_dir;         /* on a partition that is not erased; default TRAVEL_JOURNAL_DIR */
        char *restore_image;       /* a filesystem image written into a new LUKS2 root volume */
        bool factory_repart;       /* factory-reset=systemd-repart */
        bool drive_erase;          /* drive-erase=auto (default) | none */
        /* The hand-over to the collector before the first destructive step. */
        char reset_id[TRAVEL_RESET_ID_LEN + 1]; /* lowercase hex, set when the reset is ordered ("" before) */
        int64_t ack_timeout;           /* seconds to wait for the collector to have the hand-over record */
        bool hold_without_ack;         /* on-no-ack: hold; false: proceed, recorded "not acknowledged" */
};

struct travel_policy {
        char regions[TRAVEL_MAX_REGIONS][3];
        size_t n_regions;
        struct travel_trip *trips;
        size_t n_trips;
        char profile[TRAVEL_ID_MAX + 1];
        /* return: */
        bool reset;
        int64_t grace;                 /* seconds */
        int64_t probe_interval;        /* seconds between home-network probes while awaiting return */
        char server[128];              /* "192.0.2.10:443" or "[2001:db8::1]:443" */
        char server_name[256];         /* SNI, optional */
        uint8_t pin[TRAVEL_PIN_LEN];
        bool have_pin;
        struct reset_plan plan;
        char contact[TRAVEL_CONTACT_MAX + 1]; /* whom the person at the terminal calls ("" if not set) */
};

/* Validate a travel: section (NULL = absent, fine). Pure: no side effects.
 * Returns the number of errors added. */
size_t travel_policy_check(const struct pnode *section, struct perrors *errs);
/* Parse a section that passed travel_policy_check into *ret (NULL section:
 * the strict built-in behaviour: no trips, no reset). */
int travel_policy_parse(const struct pnode *section, struct travel_policy *ret);
void travel_policy_clear(struct travel_policy *p);
const struct travel_trip *travel_policy_find_trip(const struct travel_policy *p, const char *id);

/* Small parsers, exported for tests and fuzzers. */
int parse_duration(const char *s, int64_t *ret);              /* "90s" "30m" "24h" "2d" "0" */
bool travel_path_ok(const char *p);   /* absolute, clean, no "..", no control chars */
bool travel_wipe_path_ok(const char *p); /* travel_path_ok and not a system top-level directory */
bool travel_volume_ok(const char *v);    /* travel_path_ok, or "PARTLABEL=" and a plain label */

void reset_plan_clear(struct reset_plan *plan);
int reset_plan_copy(const struct reset_plan *src, struct reset_plan *dst);

/* What a reset depends on and so must not erase: /boot (the kernel and
 * initramfs that may carry it out), the files of its restore action, a
 * restore image if given, and where its plan and journal live: journal_dir
 * if given (an initramfs-driven reset keeps them there), else the state
 * directory. Returns the number stored in out. */
struct reset_dependency {
        const char *what;              /* "the reset journal's directory", ... */
        const char *path;
};
#define TRAVEL_MAX_DEPENDENCIES (TRAVEL_MAX_ARGS + 4)
size_t reset_dependencies(const struct reset_plan *plan, const char *state_dir, const char *journal_dir,
                          const char *restore_image, struct reset_dependency out[TRAVEL_MAX_DEPENDENCIES]);
/* The first dependency that removing or wiping path would erase (path is
 * it, lies above it or below it, compared lexically), or NULL. */
const struct reset_dependency *reset_path_endangers(const char *path, const struct reset_dependency *deps, size_t n);
/* Does the file system holding path live on the block device dev (itself,
 * a partition of it, or through device-mapper, e.g. LUKS, on top of it)?
 * 1 yes, 0 no, negative errno when it cannot be told. sysfs is normally "/sys". */
int path_on_device(const char *path, dev_t dev, const char *sysfs);
/* The device number of a listed volume: stat, or where /dev holds no disks
 * (sekishod runs with PrivateDevices=) sysfs by name for /dev/NAME,
 * /dev/mapper/NAME and /dev/disk/by-partlabel/LABEL. -ENODEV: cannot tell. */
int volume_devno(const char *volume, const char *sysfs, dev_t *ret);
/* Every LUKS volume of the plan against deps: -EBUSY and why if one holds
 * a dependency; -ENODEV and why if a volume could not be identified (the
 * rest were checked); 0 if none holds any. */
int reset_plan_devices_check(const struct reset_plan *plan, const struct reset_dependency *deps, size_t n,
                             const char *sysfs, char *why, size_t size);

/* The hand-over before the first destructive step (sekisho-reset): an
 * audit record travel.reset.handover with the decision and its evidence,
 * sent to the journal, then a wait, at most plan->ack_timeout seconds,
 * until systemd-journal-upload's state says the collector has it.
 * 0 acknowledged, -ETIMEDOUT not (the caller applies on-no-ack), other
 * negative errno on failure. ret_detail: one line for the journal. */
struct handover_env {
        const char *trip;
        const char *return_proof;      /* how the return was proven */
        const char *audit_log;         /* sekisho-reset's own chain */
        const char *journal_socket;    /* journald's native socket ("" or NULL: none) */
        const char *read_journal;      /* directory of journal files to find the record in (NULL: the system's) */
        const char *upload_state;      /* systemd-journal-upload's --save-state file */
};
int reset_handover(const struct reset_plan *plan, const struct handover_env *env, char *ret_detail, size_t detail_size);
/* One record of sekisho-reset's: its own chain (env->audit_log), and the journal where there is one. */
struct audit_field;
int reset_record(const struct handover_env *env, const char *event, const struct audit_field *fields);
/* After the re-provisioned system's first boot: the record
 * travel.reset.complete (reset id, result done/failed, drive erase, steps)
 * from dir/journal and dir/plan, then dir/journal renamed journal.acked. */
int reset_send_completion(const char *dir, const struct handover_env *env, char *ret_detail, size_t detail_size);

/* ---- key=value files (state, plan, journal): bounded, line based ---- */
/* Parsed into the one key/value container (util.h: kvlist_get for the last value). */
int kv_parse(const char *data, size_t size, struct kvlist *ret);
int kv_load(const char *path, struct kvlist *ret);        /* -ENOENT if missing */
int kv_get_i64(const struct kvlist *kv, const char *key, int64_t *ret);

/* Plan file (written by the daemon, read by sekisho-reset and sekishoctl). */
int reset_plan_format(const struct reset_plan *plan, const char *trip, char **ret, size_t *ret_size);
int reset_plan_from_kv(const struct kvlist *kv, struct reset_plan *ret);
bool reset_id_ok(const char *s); /* TRAVEL_RESET_ID_LEN lowercase hex digits */
void reset_plan_print(const struct reset_plan *plan, FILE *out);

/* ---- the persisted state machine ---- */
enum travel_phase {
        TRAVEL_HOME,
        TRAVEL_TRAVELLING,
        TRAVEL_RETURNED,
        TRAVEL_RESET_PENDING,
        TRAVEL_RESET_DONE,
        _TRAVEL_PHASE_MAX,
};
const char *travel_phase_name(enum travel_phase p);
int travel_phase_from_name(const char *s, enum travel_phase *ret);

#define TRAVEL_MAX_DONE 64

struct travel_state {
        enum travel_phase phase;
        char trip[TRAVEL_ID_MAX + 1];
        char destination[3];
        bool high_risk;
        int64_t trip_end;              /* snapshot: the trip may leave later policies */
        int64_t since;                 /* when this phase began (wall) */
        int64_t deadline;              /* reset-pending: end of the grace period */
        int64_t last_wall;             /* latest wall clock ever seen: a clock set back cannot undo a trip */
        bool reset_requested;          /* StartUnit sent (or about to be): no cancellation any more */
        bool sessions_locked;
        char hold[160];                /* why we are held (clock, unit missing, ...), "" if not */
        char reset_id[TRAVEL_RESET_ID_LEN + 1]; /* set when the reset is ordered; "" before */
        char return_proof[64];         /* how the return was proven: "signed-policy" or "pinned-tls" */
        char done[TRAVEL_MAX_DONE][TRAVEL_ID_MAX + 1]; /* trips finished: never start again */
        size_t n_done;
};

void travel_state_init(struct travel_state *s);
int travel_state_load(const char *path, struct travel_state *ret);  /* -ENOENT: fresh */
int travel_state_save(const char *path, const struct travel_state *s);
int travel_state_format(const struct travel_state *s, char **ret, size_t *ret_size);
int travel_state_from_kv(const struct kvlist *kv, struct travel_state *ret);
bool travel_state_trip_done(const struct travel_state *s, const char *id);

/* One transition, for the audit log and the TravelStateChanged signal. */
struct travel_transition {
        enum travel_phase from, to;
        char trip[TRAVEL_ID_MAX + 1];
        char reason[160];
};
#define TRAVEL_MAX_TRANSITIONS 4

/* What the evaluation wants the daemon to do. */
struct travel_eval {
        struct travel_transition t[TRAVEL_MAX_TRANSITIONS];
        size_t n;
        bool want_profile;             /* the travel profile should be active */
        bool want_probe;               /* awaiting return: probe the home network */
        bool want_reset;               /* grace over: lock sessions and start the reset unit */
        bool clock_back;               /* the wall clock stepped back beyond the skew */
        int64_t next_wakeup;           /* wall time of the next boundary (0 = none) */
};

struct travel_inputs {
        int64_t now;                   /* wall clock */
        bool home_proven;              /* a pinned TLS handshake with the home server just succeeded */
        bool reset_complete;           /* sekisho-reset's journal says it finished */
};

/* The pure transition function: given the state, the policy in force and
 * the inputs, move the state on (in place) and say what to do. No I/O. */
void travel_evaluate(struct travel_state *s, const struct travel_policy *p, const struct travel_inputs *in,
                     struct travel_eval *ret);

/* ---- trusted network detection: the core's probe (tlsprobe.h) ---- */
_Static_assert(TRAVEL_PIN_LEN == TLS_PIN_LEN, "one pin length");

/* ---- files under state_dir/travel/ ---- */
#define TRAVEL_STATE_FILE "state"
#define TRAVEL_PLAN_FILE "reset-plan"
#define TRAVEL_JOURNAL_FILE "reset-journal"
#define TRAVEL_RESET_UNIT "sekisho-reset.service"
/* The whole-machine reset's files, in the plan's journal-dir (not erased). */
#define TRAVEL_JOURNAL_DIR "/boot/sekisho-reset"
#define TRAVEL_BOOT_PLAN "plan"
#define TRAVEL_BOOT_JOURNAL "journal"

/* ---- sekishoctl travel status|plan (the lead wires the verbs) ---- */
int travelctl_status(const char *state_dir, bool json, FILE *out);
int travelctl_plan(const char *state_dir, FILE *out);
struct sekisho_ctl_env;
int travel_ctl(const struct sekisho_ctl_env *env, const struct pnode *section, int argc, char **argv);
extern const char travel_ctl_usage[];
