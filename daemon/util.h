/* util.h — logging, cleanup attributes and crash-safe file helpers shared by every sekisho program. */
#pragma once

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define _printf_(a, b) __attribute__((format(printf, a, b)))
#define _cleanup_(f) __attribute__((cleanup(f)))
#define _unused_ __attribute__((unused))

/* Cleanup helpers: each accepts a pointer to NULL / -1 and does nothing then. */
static inline void freep(void *p) { free(*(void **)p); }
static inline void closep(int *fd) { if (*fd >= 0) { int e = errno; close(*fd); errno = e; } }
static inline void fclosep(FILE **f) { if (*f) fclose(*f); }
#define _cleanup_free_ _cleanup_(freep)
#define _cleanup_close_ _cleanup_(closep)
#define _cleanup_fclose_ _cleanup_(fclosep)

/* Hand an owned pointer or fd out of a cleanup scope. */
#define TAKE_PTR(p) ({ __typeof__(p) _t = (p); (p) = NULL; _t; })
#define TAKE_FD(fd) ({ int _t = (fd); (fd) = -1; _t; })

/* Logging. Messages go to stderr; under systemd (JOURNAL_STREAM set) each
 * line carries its syslog priority as "<N>" so the journal files it right.
 * The *_errno variants append strerror(-r) and return r, so callers can
 * "return log_error_errno(r, ...)". */
enum log_level { LOG_LVL_ERR = 3, LOG_LVL_WARNING = 4, LOG_LVL_NOTICE = 5, LOG_LVL_INFO = 6, LOG_LVL_DEBUG = 7 };
void log_setup(const char *ident, bool verbose);
void log_msg(enum log_level lvl, int r, const char *fmt, ...) _printf_(3, 4);
/* The same with "prefix: " before the message (prefix may be NULL). */
void log_msgv(enum log_level lvl, int r, const char *prefix, const char *fmt, va_list ap) _printf_(4, 0);
#define log_error(...) log_msg(LOG_LVL_ERR, 0, __VA_ARGS__)
#define log_warning(...) log_msg(LOG_LVL_WARNING, 0, __VA_ARGS__)
#define log_notice(...) log_msg(LOG_LVL_NOTICE, 0, __VA_ARGS__)
#define log_info(...) log_msg(LOG_LVL_INFO, 0, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_LVL_DEBUG, 0, __VA_ARGS__)
#define log_error_errno(r, ...) ({ int _r = (r); log_msg(LOG_LVL_ERR, _r, __VA_ARGS__); _r < 0 ? _r : -_r; })
#define log_warning_errno(r, ...) ({ int _r = (r); log_msg(LOG_LVL_WARNING, _r, __VA_ARGS__); _r < 0 ? _r : -_r; })

/* Read a whole file, refusing (-EFBIG) one larger than max bytes before
 * reading it. The buffer is NUL-terminated (not counted in *ret_size). */
int read_file_capped(const char *path, size_t max, char **ret_data, size_t *ret_size);
int read_fd_capped(int fd, size_t max, char **ret_data, size_t *ret_size);

/* Crash-safe replace: write to a temporary file in the same directory,
 * fsync it, rename over path, fsync the directory. */
int write_file_atomic(const char *path, const void *data, size_t size, mode_t mode);
/* The same without fsync: readers never see a partial file, but a crash
 * may lose the update (caches, status files). */
int write_file_replace(const char *path, const void *data, size_t size, mode_t mode);
/* write(2) until done, retrying on EINTR. */
int write_all(int fd, const void *data, size_t size);
int fsync_directory_of(const char *path);
int mkdir_p(const char *path, mode_t mode);

/* The one growable array: make room for need elements of elem_size in
 * items (capacity *cap, doubled as it grows). Returns the array, moved or
 * not, with *cap updated; NULL (items and *cap untouched) on overflow or
 * out of memory. ARRAY_GROW assigns it and gives 0 or -ENOMEM. */
void *array_grow(void *items, size_t *cap, size_t need, size_t elem_size);
#define ARRAY_GROW(items, cap, need)                                                    \
        ({                                                                              \
                void *_g = array_grow((items), &(cap), (need), sizeof *(items));        \
                _g ? ((items) = _g, 0) : -ENOMEM;                                       \
        })

/* The one key/value container: pairs in order, duplicates kept (a plugin's
 * status, key=value files). */
struct kvlist {
        char **keys, **values;
        size_t n, cap;
};
int kvlist_add(struct kvlist *l, const char *key, const char *fmt, ...) _printf_(3, 4);
int kvlist_add_n(struct kvlist *l, const char *key, size_t key_len, const char *value, size_t value_len);
/* The last value given for key, or NULL (also for a NULL list: no live status). */
const char *kvlist_get(const struct kvlist *l, const char *key);
void kvlist_clear(struct kvlist *l);

/* Join dir and name with a '/', allocated. NULL on OOM. */
char *path_join(const char *dir, const char *name);

/* A copy of n bytes with a NUL after them (they may hold NULs of their own), as read_file_capped() gives. */
char *memdup_nul(const void *p, size_t n);

/* Test-only fault hook (built with --enable-fault-injection): when the
 * environment variable SEKISHO_FAULT names this step, the process kills
 * itself with SIGKILL right there, as a power loss would. */
void fault_point(const char *step);

/* Monotonic and wall clocks. */
uint64_t now_usec_monotonic(void);
int64_t now_unix(void);

/* Hex encode len bytes into out (2*len+1 bytes). */
void hex_encode(const uint8_t *in, size_t len, char *out);
/* Append a formatted string to the NUL-terminated text in buf, cut at size. */
void buf_append(char *buf, size_t size, const char *fmt, ...) _printf_(3, 4);
/* gettext for domain from $SEKISHO_LOCALEDIR or localedir; LANGUAGE works
 * on a system that has only the C locale (C.UTF-8 is used then). */
void gettext_setup(const char *domain, const char *localedir);

/* Exactly 2n hex digits (either case) into out[n]; -EINVAL otherwise. */
int hex_decode(const char *s, uint8_t *out, size_t n);
/* A file or target name safe in a path and a URL: [A-Za-z0-9._-]+, no leading dot. */
bool name_is_plain(const char *s);

/* Strict integer parsing: whole string, base 10, range-checked. */
int parse_u64(const char *s, uint64_t *ret);

/* RFC 3339 timestamp ("2026-11-20T09:00:00+09:00", "Z" allowed) to Unix
 * time; -EINVAL if malformed. format_rfc3339 writes UTC with "Z". */
int parse_rfc3339(const char *s, int64_t *ret);
void format_rfc3339(int64_t t, char out[static 32]);

/* vis(3)-style escaping, the one used for every string from outside that
 * reaches the journal, stderr or a terminal: backslash, C0/C1 controls,
 * DEL, line separators and bidi overrides become \\, \n, \t, \r, \xNN or
 * \uNNNN; malformed UTF-8 bytes become \xNN; other text is kept. out is
 * always NUL-terminated, cut only between whole escapes. Returns its length. */
size_t str_vis(char *out, size_t out_size, const char *in);
/* Format one line, escape it with str_vis, print it with a newline. */
void fprintf_vis(FILE *f, const char *fmt, ...) _printf_(2, 3);

/* True if s is valid UTF-8 without control characters other than tab. */
bool string_is_clean_utf8(const char *s, size_t len);

/* Append a JSON string literal (with quotes, control characters escaped) to f. */
void json_write_string(FILE *f, const char *s);
/* s as HTML text or attribute value: & < > " ' escaped, control bytes as '?'. */
void html_write_string(FILE *f, const char *s);

/* A SHA-256 SPKI pin: base64 (44 characters, curl's "sha256//" prefix allowed) or 64 hex digits. */
int parse_spki_pin(const char *s, uint8_t ret[32]);
/* "192.0.2.10:443" or "[2001:db8::1]:443": an IP literal (no name) and a port 1..65535. */
int parse_host_port(const char *s, char *host, size_t host_size, uint16_t *ret_port);
