/* sekisho-fetch.c — pull this terminal's bundle from a static repository (any HTTP server or CDN): one conditional request when nothing changed, every size capped, handed to the inbox atomically. */
#include "config.h"

#include <curl/curl.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "minisign.h"
#include "policy.h"
#include "timestamp.h"
#include "util.h"

#define ETAG_MAX 256
#define URL_MAX 2048
#define CONNECT_TIMEOUT_S 30L
#define TRANSFER_TIMEOUT_S 600L
#define LOW_SPEED_BYTES 64L         /* slower than this ... */
#define LOW_SPEED_TIME_S 60L        /* ... for this long: give up (a stalled server) */
#define MAX_REDIRECTS 5L

/* Exit codes a timer and a test can tell apart. */
enum {
        EXIT_FETCH_OK = 0,          /* handed over, or nothing new */
        EXIT_FETCH_FAILED = 1,      /* network, server or local error: try again later */
        EXIT_FETCH_REFUSED = 2,     /* the repository served something wrong (size, digest, syntax) */
        EXIT_FETCH_USAGE = 64,
};

struct fetcher {
        CURL *curl;
        const struct sekisho_conf *conf;
        const char *state_dir, *inbox;
        bool verbose;
        char errbuf[CURL_ERROR_SIZE];
};

struct body {
        char *data;
        size_t n, max;
        bool too_big;
};

static size_t body_write(char *ptr, size_t size, size_t nmemb, void *userdata) {
        struct body *b = userdata;
        size_t len = size * nmemb;
        if (len > b->max - b->n) {
                b->too_big = true;
                return 0;            /* aborts the transfer: CURLE_WRITE_ERROR */
        }
        char *p = realloc(b->data, b->n + len + 1);
        if (!p)
                return 0;
        memcpy(p + b->n, ptr, len);
        b->data = p;
        b->n += len;
        b->data[b->n] = '\0';
        return len;
}

/* GET url into *body (at most max bytes). With etag_in, a conditional
 * request. Returns the HTTP status (200, 304, 404, ...) or a negative errno:
 * -EFBIG for a body over max, -EIO for a transfer that failed (the reason
 * logged). etag_out, if given, receives the response's ETag ("" if none). */
static int http_get(struct fetcher *f, const char *url, size_t max, const char *etag_in, struct body *body,
                    char etag_out[ETAG_MAX]) {
        *body = (struct body){ .max = max };
        struct curl_slist *hdrs = NULL;
        char cond[ETAG_MAX + 32];
        if (etag_in && *etag_in) {
                snprintf(cond, sizeof cond, "If-None-Match: %s", etag_in);
                hdrs = curl_slist_append(NULL, cond);
                if (!hdrs)
                        return -ENOMEM;
        }
        curl_easy_setopt(f->curl, CURLOPT_URL, url);
        curl_easy_setopt(f->curl, CURLOPT_HTTPHEADER, hdrs);
        curl_easy_setopt(f->curl, CURLOPT_WRITEFUNCTION, body_write);
        curl_easy_setopt(f->curl, CURLOPT_WRITEDATA, body);
        curl_easy_setopt(f->curl, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)max);
        f->errbuf[0] = '\0';
        CURLcode c = curl_easy_perform(f->curl);
        curl_easy_setopt(f->curl, CURLOPT_HTTPHEADER, NULL);
        curl_slist_free_all(hdrs);

        if (body->too_big || c == CURLE_FILESIZE_EXCEEDED) {
                log_error("%s: larger than the limit of %zu bytes; refused", url, max);
                free(body->data);
                body->data = NULL;
                return -EFBIG;
        }
        if (c != CURLE_OK) {
                log_error("%s: %s", url, f->errbuf[0] ? f->errbuf : curl_easy_strerror(c));
                free(body->data);
                body->data = NULL;
                return -EIO;
        }
        long status = 0;
        curl_easy_getinfo(f->curl, CURLINFO_RESPONSE_CODE, &status);
        if (etag_out) {
                struct curl_header *h;
                etag_out[0] = '\0';
                if (curl_easy_header(f->curl, "ETag", 0, CURLH_HEADER, -1, &h) == CURLHE_OK &&
                    strlen(h->value) < ETAG_MAX && string_is_clean_utf8(h->value, strlen(h->value)))
                        strcpy(etag_out, h->value);
        }
        if (f->verbose)
                log_info("%s: HTTP %ld, %zu bytes", url, status, body->n);
        return (int)status;
}

/* Log a refusal of what the repository served (exit 2). */
#define refuse(...) (log_error(__VA_ARGS__), -EBADMSG)

/* The repository's directory for a target: host/ID/, group/NAME/, all/. */
static void target_dir(const char *target, char *out, size_t size) {
        if (strncmp(target, "host:", 5) == 0)
                snprintf(out, size, "host/%s", target + 5);
        else if (strncmp(target, "group:", 6) == 0)
                snprintf(out, size, "group/%s", target + 6);
        else
                snprintf(out, size, "all");
}

static int state_path(struct fetcher *f, const char *tdir, const char *name, char *out, size_t size) {
        int n = snprintf(out, size, "%s/%s/%s", f->state_dir, tdir, name);
        return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

static void state_read(struct fetcher *f, const char *tdir, const char *name, char *out, size_t size) {
        char path[PATH_MAX];
        _cleanup_free_ char *data = NULL;
        size_t n;
        out[0] = '\0';
        if (state_path(f, tdir, name, path, sizeof path) < 0 || read_file_capped(path, size - 1, &data, &n) < 0)
                return;
        memcpy(out, data, n);
        out[n] = '\0';
        out[strcspn(out, "\n")] = '\0';
}

static int state_write(struct fetcher *f, const char *tdir, const char *name, const void *data, size_t size) {
        char path[PATH_MAX], dir[PATH_MAX];
        int r = state_path(f, tdir, name, path, sizeof path);
        if (r < 0)
                return r;
        snprintf(dir, sizeof dir, "%s/%s", f->state_dir, tdir);
        r = mkdir_p(dir, 0700);
        if (r >= 0)
                r = write_file_atomic(path, data, size, 0600);
        if (r < 0)
                log_error_errno(r, "Cannot write %s", path);
        return r;
}

static int url_for(struct fetcher *f, const char *tdir, const char *name, char out[URL_MAX]) {
        const char *base = f->conf->repository;
        size_t bl = strlen(base);
        int n = snprintf(out, URL_MAX, "%s%s%s/%s", base, bl && base[bl - 1] == '/' ? "" : "/", tdir, name);
        return n < 0 || n >= URL_MAX ? -ENAMETOOLONG : 0;
}

/* The current timestamp of the first target the repository has for us:
 * host:ID, then each group in the order sekisho.conf lists them, then all.
 * 1 with *ret filled (fresh from the server or, on 304, from the state
 * directory), 0 when the repository has nothing for this terminal. */
static int current_timestamp(struct fetcher *f, struct timestamp *ret, char tdir_out[PATH_MAX], bool *ret_new) {
        const struct sekisho_conf *c = f->conf;
        size_t n_targets = 2 + c->n_groups;
        for (size_t i = 0; i < n_targets; i++) {
                char target[TIMESTAMP_NAME_MAX + 8], tdir[PATH_MAX], url[URL_MAX], etag[ETAG_MAX], new_etag[ETAG_MAX];
                if (i == 0)
                        snprintf(target, sizeof target, "host:%s", c->terminal_id ? c->terminal_id : "");
                else if (i < n_targets - 1)
                        snprintf(target, sizeof target, "group:%s", c->groups[i - 1]);
                else
                        strcpy(target, "all");
                if (!timestamp_target_ok(target)) {
                        log_warning("%s: not a name a repository can serve (letters, digits, . _ -); skipped", target);
                        continue;
                }
                target_dir(target, tdir, sizeof tdir);
                if (url_for(f, tdir, "timestamp.yaml", url) < 0)
                        return log_error_errno(-ENAMETOOLONG, "The repository URL is too long");

                state_read(f, tdir, "etag", etag, sizeof etag);
                _cleanup_free_ char *cached = NULL;
                size_t cached_size = 0;
                char cached_path[PATH_MAX];
                bool have_cached = state_path(f, tdir, "timestamp.yaml", cached_path, sizeof cached_path) == 0 &&
                                   read_file_capped(cached_path, TIMESTAMP_MAX_SIZE, &cached, &cached_size) == 0;
                struct body b;
                int status = http_get(f, url, TIMESTAMP_MAX_SIZE, have_cached ? etag : NULL, &b, new_etag);
                _cleanup_free_ char *data = b.data;
                if (status < 0)
                        return status;
                if (status == 404 || status == 410)
                        continue;
                const char *text;
                size_t size;
                if (status == 304 && have_cached) {
                        text = cached;
                        size = cached_size;
                } else if (status == 200) {
                        text = data;
                        size = b.n;
                } else {
                        log_error("%s: the server answered HTTP %d", url, status);
                        return -EIO;
                }

                struct perrors errs = { 0 };
                int r = timestamp_parse(url, text ? text : "", size, ret, &errs);
                if (r < 0) {
                        log_error("%s", perrors_first(&errs));
                        perrors_clear(&errs);
                        return -EBADMSG;
                }
                perrors_clear(&errs);
                if (strcmp(ret->target, target) != 0)
                        return refuse("%s: names target %s, not %s; refused", url, ret->target, target);
                if (status == 200) {
                        /* Its signature too: the daemon verifies both (fetching is not trusting). */
                        char sig_url[URL_MAX];
                        struct body sig;
                        url_for(f, tdir, "timestamp.yaml.minisig", sig_url);
                        int s = http_get(f, sig_url, MINISIGN_MAX_FILE, NULL, &sig, NULL);
                        _cleanup_free_ char *sig_data = sig.data;
                        if (s != 200) {
                                if (s > 0)
                                        log_error("%s: the server answered HTTP %d", sig_url, s);
                                return s == -EFBIG ? -EBADMSG : -EIO;
                        }
                        if ((r = state_write(f, tdir, "timestamp.yaml.minisig", sig.data, sig.n)) < 0 ||
                            (r = state_write(f, tdir, "timestamp.yaml", data, b.n)) < 0 ||
                            (r = state_write(f, tdir, "etag", new_etag, strlen(new_etag))) < 0)
                                return r;
                }
                strcpy(tdir_out, tdir);
                *ret_new = status == 200;
                return 1;
        }
        return 0;
}

/* Download the bundle and its signature the timestamp names, check size and
 * digest, and hand both to the inbox: the signature first, the bundle last
 * (the inbox takes a pair when its .yaml is moved in). */
static int hand_over(struct fetcher *f, const struct timestamp *ts, const char *tdir) {
        char url[URL_MAX], sig_name[TIMESTAMP_NAME_MAX + 16];
        snprintf(sig_name, sizeof sig_name, "%s.minisig", ts->bundle);
        struct body b, sig;
        int r = url_for(f, tdir, ts->bundle, url);
        if (r < 0)
                return r;
        int status = http_get(f, url, (size_t)ts->size, NULL, &b, NULL);
        _cleanup_free_ char *data = b.data;
        if (status == -EFBIG)
                return refuse("%s: more bytes than the %" PRIu64 " the timestamp names; refused", url, ts->size);
        if (status != 200) {
                if (status > 0)
                        log_error("%s: the server answered HTTP %d", url, status);
                return -EIO;
        }
        if (b.n != ts->size)
                return refuse("%s: %zu bytes, the timestamp names %" PRIu64 "; refused", url, b.n, ts->size);
        uint8_t digest[32];
        crypto_hash_sha256(digest, (const unsigned char *)b.data, b.n);
        if (sodium_memcmp(digest, ts->sha256, sizeof digest) != 0)
                return refuse("%s: its SHA-256 is not the one the timestamp names; refused", url);

        url_for(f, tdir, sig_name, url);
        status = http_get(f, url, MINISIGN_MAX_FILE, NULL, &sig, NULL);
        _cleanup_free_ char *sig_data = sig.data;
        if (status != 200) {
                if (status > 0)
                        log_error("%s: the server answered HTTP %d", url, status);
                return status == -EFBIG ? -EBADMSG : -EIO;
        }

        char path[PATH_MAX];
        snprintf(path, sizeof path, "%s/fetched-%" PRIu64 ".yaml.minisig", f->inbox, ts->serial);
        r = write_file_atomic(path, sig.data, sig.n, 0600);
        if (r >= 0) {
                snprintf(path, sizeof path, "%s/fetched-%" PRIu64 ".yaml", f->inbox, ts->serial);
                r = write_file_atomic(path, b.data, b.n, 0600);
        }
        if (r < 0)
                return log_error_errno(r, "Cannot hand the bundle to %s", path);
        log_info("Handed serial %" PRIu64 " (%s, %s) to %s", ts->serial, ts->target, ts->bundle, f->inbox);
        return 0;
}

/* The timestamp as fetched, to sekishod too: each re-signed one keeps the
 * terminal fresh (the daemon verifies it; see freshness.c). After the
 * bundle it names, so the daemon judges it with that bundle in place. */
static int hand_timestamp(struct fetcher *f, const char *tdir) {
        static const char *const names[] = { "timestamp.yaml.minisig", "timestamp.yaml" };
        for (size_t i = 0; i < 2; i++) {
                char from[PATH_MAX], to[PATH_MAX];
                _cleanup_free_ char *data = NULL;
                size_t size;
                int r = state_path(f, tdir, names[i], from, sizeof from);
                if (r >= 0)
                        r = read_file_capped(from, TIMESTAMP_MAX_SIZE, &data, &size);
                snprintf(to, sizeof to, "%s/fetched.%s", f->inbox, names[i]);
                if (r >= 0)
                        r = write_file_atomic(to, data, size, 0600);
                if (r < 0)
                        return log_error_errno(r, "Cannot hand the timestamp to %s", f->inbox);
        }
        return 0;
}

static int fetch(struct fetcher *f) {
        struct timestamp ts;
        char tdir[PATH_MAX];
        bool new_timestamp = false;
        int r = current_timestamp(f, &ts, tdir, &new_timestamp);
        if (r <= 0) {
                if (r == 0)
                        log_warning("%s has no bundle for this terminal (host:%s, its groups, all)", f->conf->repository,
                                    f->conf->terminal_id ? f->conf->terminal_id : "");
                return r;
        }
        if (ts.expires <= now_unix()) {
                char when[32];
                format_rfc3339(ts.expires, when);
                log_warning("The repository's timestamp for %s expired at %s: it is not being re-signed, or something "
                            "between here and the signer serves an old one", ts.target, when);
        }
        char handed[2 * 32 + 1], want[2 * 32 + 1];
        state_read(f, tdir, "handed", handed, sizeof handed);
        hex_encode(ts.sha256, sizeof ts.sha256, want);
        if (strcmp(handed, want) != 0) {
                r = hand_over(f, &ts, tdir);
                if (r < 0)
                        return r;
                r = state_write(f, tdir, "handed", want, strlen(want));
                if (r < 0)
                        return r;
        } else if (f->verbose)
                log_info("Serial %" PRIu64 " of %s already handed over", ts.serial, ts.target);
        return new_timestamp ? hand_timestamp(f, tdir) : 0;
}

static int setup_curl(struct fetcher *f) {
        const struct sekisho_conf *c = f->conf;
        bool plain = strncmp(c->repository, "http://", 7) == 0;
        if (!plain && strncmp(c->repository, "https://", 8) != 0)
                return log_error_errno(-EINVAL, "repository must be an https:// (or http://) URL: %s", c->repository);
        const char *proto = plain ? "http,https" : "https";
        char ua[64];
        snprintf(ua, sizeof ua, "sekisho-fetch/%s", PACKAGE_VERSION);
        CURL *h = f->curl;
        if (curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, proto) != CURLE_OK ||
            curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, plain ? "http,https" : "https") != CURLE_OK)
                return log_error_errno(-ENOTSUP, "libcurl refuses the protocol list %s", proto);
        curl_easy_setopt(h, CURLOPT_ERRORBUFFER, f->errbuf);
        curl_easy_setopt(h, CURLOPT_USERAGENT, ua);
        curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
        curl_easy_setopt(h, CURLOPT_MAXREDIRS, MAX_REDIRECTS);
        curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, CONNECT_TIMEOUT_S);
        curl_easy_setopt(h, CURLOPT_TIMEOUT, TRANSFER_TIMEOUT_S);
        curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, LOW_SPEED_BYTES);
        curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, LOW_SPEED_TIME_S);
        curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
        curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
        if (c->repository_ca)
                curl_easy_setopt(h, CURLOPT_CAINFO, c->repository_ca);
        /* Without repository-proxy, libcurl takes https_proxy, http_proxy and
         * no_proxy from the environment (the unit's, from /etc/sekisho/fetch.env). */
        if (c->repository_proxy)
                curl_easy_setopt(h, CURLOPT_PROXY, c->repository_proxy);
        return 0;
}

static void usage(FILE *out) {
        fprintf(out, "Usage: sekisho-fetch [--config FILE] [--inbox DIR] [--state-dir DIR] [--verbose]\n"
                     "Fetch this terminal's policy bundle from the repository named in sekisho.conf\n"
                     "and hand it to sekishod's inbox. Exit 0: handed over or nothing new; 1: try\n"
                     "again later; 2: the repository served something refused.\n");
}

int main(int argc, char **argv) {
        static const struct option opts[] = {
                { "config", required_argument, NULL, 'c' },
                { "inbox", required_argument, NULL, 'i' },
                { "state-dir", required_argument, NULL, 's' },
                { "verbose", no_argument, NULL, 'v' },
                { "help", no_argument, NULL, 'h' },
                { 0 },
        };
        const char *config = SYSCONFDIR "/sekisho/sekisho.conf";
        struct fetcher f = { .state_dir = LOCALSTATEDIR "/lib/sekisho/fetch", .inbox = LOCALSTATEDIR "/lib/sekisho/inbox" };
        for (int o; (o = getopt_long(argc, argv, "c:i:s:vh", opts, NULL)) != -1;) {
                switch (o) {
                case 'c': config = optarg; break;
                case 'i': f.inbox = optarg; break;
                case 's': f.state_dir = optarg; break;
                case 'v': f.verbose = true; break;
                case 'h': usage(stdout); return EXIT_FETCH_OK;
                default: usage(stderr); return EXIT_FETCH_USAGE;
                }
        }
        if (optind != argc) {
                usage(stderr);
                return EXIT_FETCH_USAGE;
        }
        log_setup("sekisho-fetch", f.verbose);
        if (sodium_init() < 0)
                return EXIT_FETCH_FAILED;

        struct sekisho_conf conf = { 0 };
        struct perrors errs = { 0 };
        if (conf_load(config, &conf, &errs) < 0) {
                for (size_t i = 0; i < errs.n; i++)
                        log_error("%s", errs.msgs[i]);
                perrors_clear(&errs);
                return EXIT_FETCH_FAILED;
        }
        if (!conf.repository) {
                log_info("%s names no repository: this terminal gets its bundles pushed; nothing to fetch", config);
                conf_done(&conf);
                return EXIT_FETCH_OK;
        }
        f.conf = &conf;
        int r = -ENOMEM;
        if (curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK && (f.curl = curl_easy_init())) {
                r = setup_curl(&f);
                if (r >= 0)
                        r = fetch(&f);
        } else
                log_error("libcurl failed to initialise");
        if (f.curl)
                curl_easy_cleanup(f.curl);
        curl_global_cleanup();
        conf_done(&conf);
        return r >= 0 ? EXIT_FETCH_OK : r == -EBADMSG || r == -EFBIG ? EXIT_FETCH_REFUSED : EXIT_FETCH_FAILED;
}
