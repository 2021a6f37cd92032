/* evaluate.h — the posture: section of a policy, and the checks it asks for evaluated against gathered facts. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "facts.h"
#include "ptree.h"

enum posture_action {
        POSTURE_REPORT,            /* audit record and status only */
        POSTURE_NOTIFY,            /* and a desktop notification through the PostureChanged signal */
        POSTURE_QUARANTINE_AFTER,  /* notify, then quarantine when still failing after grace-hours */
        POSTURE_QUARANTINE,        /* quarantine as soon as a check fails */
};

struct os_rule {
        char *id;
        char *min, *max;           /* NULL if not given */
        bool rolling;              /* a release without VERSION_ID is allowed */
};

struct posture_policy {
        enum posture_action action;
        int64_t grace_hours;
        struct os_rule *os;        /* NULL/0: OS is not checked */
        size_t n_os;
        bool check_os;
        char **forbidden;          /* fnmatch patterns on software names, NULL-terminated (sw_forbidden()) */
        size_t n_forbidden;
        char **wine;               /* fnmatch patterns (case-insensitive) on file names under wine prefixes */
        size_t n_wine;
        bool require_antivirus;
        int64_t max_sig_age_days;  /* 0: not checked */
        bool require_encryption;
        bool require_screen_lock;
        int64_t lock_max_idle_minutes;   /* 0: not checked (implies require_screen_lock) */
        int64_t password_min_length;     /* 0: not checked */
        int64_t password_max_age_days;   /* 0: not checked */
};

/* The checks in their stable order; ids are part of the interface (JSON,
 * audit log, remediation pages): never rename one. */
enum posture_check_id {
        PC_OS_ALLOWED,
        PC_OS_VERSION,
        PC_SOFTWARE_FORBIDDEN,
        PC_SOFTWARE_WINE,
        PC_AV_INSTALLED,
        PC_AV_SIGNATURES,
        PC_STORAGE_ROOT,
        PC_STORAGE_HOME,
        PC_SCREEN_LOCK,
        PC_PASSWORD_LENGTH,
        PC_PASSWORD_AGE,
        _PC_MAX,
};

enum posture_status { PS_PASS, PS_FAIL, PS_UNKNOWN, PS_SKIP };

struct posture_check {
        enum posture_status status;
        char evidence[512];
        /* How to fix this finding with the tool that installed it ("" : the
         * general text of posture_remedy()). */
        char fix_en[640], fix_ja[640];
};

struct posture_result {
        bool compliant;            /* no check failed and none is unknown */
        unsigned failed, unknown;
        struct posture_check c[_PC_MAX];
};

const char *posture_check_name(enum posture_check_id id);     /* "os.version", ... */
const char *posture_status_name(enum posture_status s);       /* "pass", "fail", "unknown", "skip" */
const char *posture_action_name(enum posture_action a);
const char *posture_remedy(enum posture_check_id id, bool japanese);
/* The remediation of one check of a result: its own fix text, else the general one. */
const char *posture_fix(const struct posture_result *res, enum posture_check_id id, bool japanese);

/* Validate a posture: section (NULL is fine) without side effects. */
size_t posture_check_section(const struct pnode *section, struct perrors *errs);

/* Build the policy from a section that passed posture_check_section() (NULL:
 * the strict built-in behaviour: report the default file-sharing list). */
int posture_policy_load(const struct pnode *section, struct posture_policy *ret);
void posture_policy_clear(struct posture_policy *p);

/* Pure: the same facts, policy and time give the same result. */
void posture_evaluate(const struct posture_facts *f, const struct posture_policy *p, int64_t now,
                      struct posture_result *ret);

