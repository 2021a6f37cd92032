/* facts.h — what the posture check knows about a system, gathered from files under a root directory. */
#pragma once

#include <dirent.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Bounds on what a hostile file can make us read or allocate. */
#define OSRELEASE_MAX (64u * 1024)
#define OSRELEASE_MAX_LINE 4096
#define DPKG_STATUS_MAX (64u * 1024 * 1024)
#define DPKG_STATUS_MAX_LINE (64u * 1024)
#define DPKG_STATUS_MAX_PACKAGES 200000
#define MOUNTINFO_MAX (1024u * 1024)
#define CLAMAV_HEADER_SIZE 512
#define CLAMAV_MAX_DBS 64
#define FACT_REASON 256

/* A fact is known, or unknown with a reason; never a guess. */
enum tristate { TRI_UNKNOWN = -1, TRI_NO = 0, TRI_YES = 1 };

struct osrelease {
        char id[64];
        char id_like[256];
        char name[128];
        char version[128];
        char version_id[64];
        char codename[64];
        char pretty_name[256];
        char build_id[64];
};

/* Parse os-release(5) text: KEY=value lines, values unquoted, 'single' or
 * "double" quoted with the shell escapes \\ \" \$ \`. Anything a shell would
 * expand or that os-release(5) does not allow makes the whole file
 * malformed (-EINVAL, reason in why): we never half-read who we are. */
int osrelease_parse(const char *data, size_t size, struct osrelease *ret, char *why, size_t why_size);

struct pkg {
        const char *name;
        const char *version;    /* "" when the paragraph has none */
        const char *arch;       /* "" when the paragraph has none */
        const char *status;     /* the third word of Status: installed, config-files, ... */
};

struct pkgdb {
        char *buf;              /* owned copy of the file; the strings point into it */
        struct pkg *pkgs;
        size_t n, cap;
};

/* Parse a dpkg status file. Refuses (-EINVAL, reason with the line number
 * in why) binary data, over-long lines, a file that does not end with the
 * empty line dpkg always writes (truncated), paragraphs without Package or
 * Status, duplicate fields and versions dpkg itself would refuse.
 * Takes *data (malloc'd, size bytes and a NUL, as read_fd_capped() gives) and
 * parses it in place: the pkgdb keeps it, or it is freed; *data is NULL on
 * return. A desktop's status file is megabytes: a copy cost a third of the check. */
int dpkgstatus_parse(char **data, size_t size, struct pkgdb *ret, char *why, size_t why_size);
void pkgdb_clear(struct pkgdb *db);
/* True if the package's files are on disk (installed, unpacked, half-*, triggers-*). */
bool pkg_present(const struct pkg *p);
/* The first present package with that name, or NULL. */
const struct pkg *pkgdb_find(const struct pkgdb *db, const char *name);

/* A ClamAV .cvd/.cld header: "ClamAV-VDB:DD Mon YYYY HH-MM +ZZZZ:version:
 * sigs:flevel:md5:dsig:builder[:stime]" padded with spaces to 512 bytes.
 * Returns the build time as Unix time, or -EINVAL. */
int clamav_header_parse(const char *buf, size_t size, int64_t *ret_time, uint64_t *ret_version);

/* Where a piece of software came from: decides how it is named, matched
 * and removed (the remediation text). */
enum sw_source { SW_DPKG, SW_RPM, SW_FLATPAK, SW_FLATPAK_USER, SW_SNAP, SW_APPIMAGE, SW_WINE, _SW_MAX };
const char *sw_source_name(enum sw_source s);   /* "dpkg", "rpm", "flatpak", ... */

struct sw_item {
        enum sw_source src;
        char *name;             /* package name, app ID, snap name, file name */
        char *version;          /* "" when unknown */
        char *where;            /* path (AppImage, wine) or "" */
};

struct swlist {
        struct sw_item *v;
        size_t n, cap;
};
#define SWLIST_MAX 100000
int swlist_add(struct swlist *l, enum sw_source src, const char *name, const char *version, const char *where);
void swlist_clear(struct swlist *l);

/* Does a name match one of the forbidden-software patterns (NULL-terminated;
 * NULL: none)? dpkg names exactly, every other source case-insensitively
 * by each of its names: a Flatpak's ID and the ID's last part
 * (org.qbittorrent.qBittorrent: qbittorrent), an AppImage's file name
 * without .AppImage and without the version after the name
 * (qBittorrent-4.6.0_x86_64.AppImage: qbittorrent). */
bool sw_name_forbidden(const char *const *patterns, const char *name, bool casefold);
bool sw_forbidden(const char *const *patterns, const struct sw_item *it);

/* Is the file system mounted at a point on dm-crypt? */
struct storage_fact {
        enum tristate encrypted;
        char evidence[FACT_REASON];  /* what we saw, or why unknown */
};

struct posture_facts {
        /* OS */
        bool os_known;
        char os_reason[FACT_REASON];
        char os_file[32];            /* /etc/os-release or /usr/lib/os-release */
        struct osrelease os;
        bool os_rolling;             /* no VERSION_ID */
        char os_version[64];         /* the version policies compare: point release if known */
        char os_version_source[FACT_REASON];
        char kernel[128];            /* "" if unknown */
        char kernel_reason[FACT_REASON];

        /* Hardware, for the BYOD application form */
        char maker[128], model[160];

        /* Packages */
        bool pkgs_known;             /* the dpkg database was read */
        bool dpkg_present;           /* there is one (read or not) */
        char pkgs_reason[FACT_REASON];
        struct pkgdb pkgs;

        /* Software beyond dpkg: rpm packages, Flatpaks, snaps, AppImages
         * (software.c). rpm_known: an rpm database was read. */
        struct swlist sw;
        bool rpm_present, rpm_known;
        char rpm_reason[FACT_REASON];
        size_t n_by_source[_SW_MAX];
        char scan_note[FACT_REASON];   /* a bounded scan that stopped early says so here */

        /* Forbidden Windows programs found in wine prefixes (by file name or
         * PE version resource), and how many prefixes were searched. */
        struct swlist wine;
        size_t wine_prefixes;

        /* Password policy (desktop.c): -1 when unknown, with a reason. */
        int pw_min_len;
        char pw_min_len_evidence[FACT_REASON];
        int pw_max_days;
        char pw_max_days_evidence[FACT_REASON];

        /* Antivirus */
        enum tristate clamav;
        char clamav_evidence[FACT_REASON];
        bool sig_known;
        bool sig_none;               /* known: there are no databases at all */
        int64_t sig_time;            /* newest database build time */
        char sig_evidence[FACT_REASON];

        /* Storage */
        struct storage_fact root_fs, home_fs;

        /* Screen lock, over every user with GNOME or KDE settings: YES only
         * if all of them lock; lock_idle_max the longest idle time (seconds)
         * before one of them locks. */
        enum tristate screen_lock;
        char screen_lock_reason[512];
        int64_t lock_idle_max;
};

/* Gather every fact from files under root ("/" for this system). Each fact
 * that cannot be read honestly is left unknown with a reason. Returns 0, or
 * -ENOMEM (facts half-filled; caller must still posture_facts_clear()). */
int posture_gather(const char *root, const char *const *forbidden_patterns, const char *const *wine_patterns,
                   struct posture_facts *f);
void posture_facts_clear(struct posture_facts *f);

/* ---- for the gatherers (facts.c, software.c, desktop.c) ---- */

/* Open or read a path inside the root: absolute symlinks resolve inside it
 * (openat2 RESOLVE_IN_ROOT), so a test root never reads the host. */
int root_open(int rootfd, const char *path, int flags);
int root_read(int rootfd, const char *path, size_t max, char **ret, size_t *ret_size);
bool root_exists(int rootfd, const char *path);
DIR *root_opendir(int rootfd, const char *path);
void closedirp(DIR **d);
#define _cleanup_closedir_ _cleanup_(closedirp)

/* software.c: rpm, Flatpak, snap, AppImages and wine prefixes. */
void gather_software(int rootfd, const char *root, const char *const *forbidden, const char *const *wine_patterns,
                     struct posture_facts *f);
/* The package database this OS keeps that we read: "dpkg", "rpm", or NULL
 * (pacman, apk, ...: software.forbidden can never be answered there). */
const char *os_package_db(const char *os_id);

/* desktop.c: screen lock (GNOME dconf, KDE kscreenlockerrc) and password policy (PAM, login.defs). */
void gather_screen_lock(int rootfd, struct posture_facts *f);
void gather_password(int rootfd, struct posture_facts *f);

/* KConfig text (kscreenlockerrc, written by the user): [Group] headers and
 * key=value lines. The value of group/key into out (the last one wins);
 * "[$i]" on the group or the key marks it immutable (a system file's value
 * the user's file cannot change). -ENOENT if absent, -EINVAL with the line
 * number in why for a line that is neither. */
int kconfig_get(const char *data, size_t size, const char *group, const char *key, char *out, size_t out_size,
                bool *immutable, char *why, size_t why_size);
