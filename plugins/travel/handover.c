/* handover.c — before a reset erases anything: the decision and its evidence as an audit record in the journal, then a bounded wait until systemd-journal-upload's saved cursor has passed that record (sekisho-reset only: it links libsystemd, sekishod does not). */
#include "config.h"

#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/inotify.h>
#include <systemd/sd-journal.h>
#include <unistd.h>

#include "audit.h"
#include "journal.h"
#include "travel.h"
#include "util.h"

#define CURSOR_MAX 512

/* The seqnum id and seqnum of a journal cursor ("s=ID;i=N;b=...;..."). */
static int cursor_position(const char *c, char id[33], uint64_t *ret_seq) {
        const char *s = strstr(c, "s="), *i = strstr(c, ";i=");
        if (!s || s != c || !i || i - (s + 2) != 32)
                return -EBADMSG;
        memcpy(id, s + 2, 32);
        id[32] = 0;
        char *end;
        errno = 0;
        unsigned long long v = strtoull(i + 3, &end, 16);
        if (errno || end == i + 3 || (*end != ';' && *end != 0))
                return -EBADMSG;
        *ret_seq = v;
        return 0;
}

/* Has the uploader's cursor reached ours? Journal seqnums count up within
 * one seqnum id (journald keeps it across rotation); another id is not
 * comparable and proves nothing. */
static bool cursor_reached(const char *uploaded, const char *ours) {
        char a[33], b[33];
        uint64_t x, y;
        return cursor_position(uploaded, a, &x) == 0 && cursor_position(ours, b, &y) == 0 && strcmp(a, b) == 0 && x >= y;
}

/* LAST_CURSOR= of journal-upload's state file into out ("" if none yet). */
static void uploaded_cursor(const char *state, char *out, size_t size) {
        _cleanup_free_ char *data = NULL;
        size_t len;
        out[0] = 0;
        if (read_file_capped(state, 4096, &data, &len) < 0)
                return;
        for (char *line = strtok(data, "\n"); line; line = strtok(NULL, "\n"))
                if (strncmp(line, "LAST_CURSOR=", 12) == 0)
                        snprintf(out, size, "%s", line + 12);
}

static int64_t left_ms(uint64_t deadline) {
        uint64_t now = now_usec_monotonic();
        return now >= deadline ? 0 : (int64_t)((deadline - now) / 1000) + 1;
}

/* The cursor of our record in the local journal, once journald has it. */
static int find_record(const char *dir, const char *reset_id, uint64_t deadline, char *out, size_t size) {
        sd_journal *j = NULL;
        int r = dir ? sd_journal_open_directory(&j, dir, 0) : sd_journal_open(&j, SD_JOURNAL_LOCAL_ONLY | SD_JOURNAL_SYSTEM);
        if (r < 0)
                return r;
        char m[64];
        snprintf(m, sizeof m, "SEKISHO_RESET_ID=%s", reset_id);
        if ((r = sd_journal_add_match(j, m, 0)) < 0 ||
            (r = sd_journal_add_match(j, "SEKISHO_EVENT=travel.reset.handover", 0)) < 0)
                goto out;
        for (;;) {
                if ((r = sd_journal_seek_tail(j)) < 0 || (r = sd_journal_previous(j)) < 0)
                        goto out;
                if (r > 0) {
                        char *c = NULL;
                        if ((r = sd_journal_get_cursor(j, &c)) >= 0) {
                                snprintf(out, size, "%s", c);
                                free(c);
                                r = 0;
                        }
                        goto out;
                }
                int64_t ms = left_ms(deadline);
                if (ms == 0) {
                        r = -ETIMEDOUT;
                        goto out;
                }
                if ((r = sd_journal_wait(j, (uint64_t)(ms < 1000 ? ms : 1000) * 1000)) < 0)
                        goto out;
        }
out:
        sd_journal_close(j);
        return r;
}

/* Wait until upload_state's cursor passes ours: inotify on its directory
 * (journal-upload renames a new file into place), a look every second too. */
static int wait_uploaded(const char *upload_state, const char *ours, uint64_t deadline) {
        _cleanup_free_ char *dir = strdup(upload_state);
        if (!dir)
                return -ENOMEM;
        char *slash = strrchr(dir, '/');
        if (slash && slash != dir)
                *slash = 0;
        _cleanup_close_ int fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
        if (fd >= 0)
                (void)inotify_add_watch(fd, dir, IN_MOVED_TO | IN_CLOSE_WRITE | IN_CREATE);
        for (;;) {
                char up[CURSOR_MAX];
                uploaded_cursor(upload_state, up, sizeof up);
                if (up[0] && cursor_reached(up, ours))
                        return 0;
                int64_t ms = left_ms(deadline);
                if (ms == 0)
                        return -ETIMEDOUT;
                struct pollfd p = { .fd = fd, .events = POLLIN };
                if (poll(&p, fd >= 0 ? 1 : 0, (int)(ms < 1000 ? ms : 1000)) > 0) {
                        char buf[4096];
                        while (read(fd, buf, sizeof buf) > 0)
                                ;
                }
        }
}

int reset_record(const struct handover_env *env, const char *event, const struct audit_field *f) {
        char host[256] = "unknown";
        (void)gethostname(host, sizeof host - 1);
        struct audit *a = NULL;
        int r = audit_open(env->audit_log, host, true, &a);
        if (r < 0)
                return r;
        struct journal *j = NULL;
        if (env->journal_socket && env->journal_socket[0] && journal_open(env->journal_socket, &j) == 0)
                audit_set_journal(a, j); /* journald ships it (journal-upload) and forwards it to syslog */
        r = audit_write(a, event, "R2,R11", f, NULL);
        audit_close(a);
        return r;
}

int reset_handover(const struct reset_plan *plan, const struct handover_env *env, char *ret_detail, size_t detail_size) {
        if (!reset_id_ok(plan->reset_id))
                return -EINVAL;
        uint64_t start = now_usec_monotonic(), deadline = start + (uint64_t)plan->ack_timeout * 1000000u;
        _cleanup_free_ char *plan_text = NULL;
        size_t plan_len;
        int r = reset_plan_format(plan, env->trip, &plan_text, &plan_len);
        if (r < 0)
                return r;
        /* the plan as one line of its key=value lines, comment and trip left out */
        for (char *p = plan_text; *p; p++)
                if (*p == '\n')
                        *p = ' ';
        const char *plan_line = strstr(plan_text, "format=");
        char timeout[32];
        snprintf(timeout, sizeof timeout, "%lld", (long long)plan->ack_timeout);
        const struct audit_field f[] = {
                { "reset-id", plan->reset_id },
                { "trip", env->trip },
                { "return-proof", env->return_proof && env->return_proof[0] ? env->return_proof : "unknown" },
                { "plan", plan_line ? plan_line : plan_text },
                { "ack-timeout", timeout },
                { "on-no-ack", plan->hold_without_ack ? "hold" : "proceed" },
                { NULL, NULL },
        };
        int w = reset_record(env, "travel.reset.handover", f);

        /* Provable only where journal-upload keeps its cursor: the record in
         * the journal, and the uploader past it. Syslog forwarding reports
         * no delivery; there the wait proves nothing and is skipped. */
        char ours[CURSOR_MAX];
        _cleanup_free_ char *state_dir = strdup(env->upload_state);
        if (!state_dir)
                return -ENOMEM;
        char *slash = strrchr(state_dir, '/');
        if (slash && slash != state_dir)
                *slash = 0;
        if (w < 0) /* a full or broken log must not stop the reset: on-no-ack decides */
                snprintf(ret_detail, detail_size, "cannot write the hand-over record to %s: %s", env->audit_log,
                         strerror(-w)), r = -ETIMEDOUT;
        else if (!env->journal_socket || !env->journal_socket[0] || access(env->journal_socket, W_OK) < 0)
                snprintf(ret_detail, detail_size, "no journald at %s: the hand-over cannot be proven",
                         env->journal_socket ? env->journal_socket : "-"), r = -ETIMEDOUT;
        else if (access(state_dir, F_OK) < 0)
                snprintf(ret_detail, detail_size,
                         "no systemd-journal-upload state in %s: delivery cannot be proven (syslog forwarding does not report it)",
                         state_dir), r = -ETIMEDOUT;
        else if ((r = find_record(env->read_journal, plan->reset_id, deadline, ours, sizeof ours)) < 0)
                snprintf(ret_detail, detail_size, "the hand-over record is not in the local journal: %s", strerror(-r));
        else if ((r = wait_uploaded(env->upload_state, ours, deadline)) < 0)
                snprintf(ret_detail, detail_size, "systemd-journal-upload did not pass the record within %lld s",
                         (long long)plan->ack_timeout);
        else
                snprintf(ret_detail, detail_size, "systemd-journal-upload passed cursor %s", ours);
        if (r < 0)
                r = -ETIMEDOUT;

        char waited[32];
        snprintf(waited, sizeof waited, "%llu", (unsigned long long)((now_usec_monotonic() - start) / 1000000u));
        const struct audit_field g[] = {
                { "reset-id", plan->reset_id },
                { "trip", env->trip },
                { "ack", r == 0 ? "acknowledged" : "not acknowledged" },
                { "then", r == 0 || !plan->hold_without_ack ? "proceed" : "hold" },
                { "waited", waited },
                { "detail", ret_detail },
                { NULL, NULL },
        };
        (void)reset_record(env, "travel.reset.ack", g); /* best effort: the reset's own journal records it too */
        return r;
}

int reset_send_completion(const char *dir, const struct handover_env *env, char *ret_detail, size_t detail_size) {
        _cleanup_free_ char *plan_path = path_join(dir, "plan"), *journal_path = path_join(dir, "journal"),
                            *acked = path_join(dir, "journal.acked");
        if (!plan_path || !journal_path || !acked)
                return -ENOMEM;
        struct kvlist plan = { 0 }, j = { 0 };
        int r = kv_load(journal_path, &j);
        if (r < 0) {
                snprintf(ret_detail, detail_size, "cannot read %s: %s", journal_path, strerror(-r));
                return r;
        }
        (void)kv_load(plan_path, &plan); /* the journal carries the plan's lines too */
        const char *id = kvlist_get(&j, "reset-id") ? kvlist_get(&j, "reset-id") : kvlist_get(&plan, "reset-id");
        const char *trip = kvlist_get(&j, "intent") ? kvlist_get(&j, "intent") : kvlist_get(&plan, "trip");
        if (!reset_id_ok(id)) {
                snprintf(ret_detail, detail_size, "neither %s nor %s names the reset (reset-id=)", journal_path, plan_path);
                kvlist_clear(&plan);
                kvlist_clear(&j);
                return -EBADMSG;
        }
        const char *complete = kvlist_get(&j, "complete");
        bool done = complete && strcmp(complete, "yes") == 0;
        size_t n_done = 0;
        char failed[256] = "";
        for (size_t i = 0; i < j.n; i++) {
                n_done += strcmp(j.keys[i], "done") == 0;
                if (strcmp(j.keys[i], "failed") == 0)
                        buf_append(failed, sizeof failed, "%s%s", failed[0] ? "," : "", j.values[i]);
        }
        char steps[320];
        snprintf(steps, sizeof steps, "%zu done%s%s", n_done, failed[0] ? "; failed: " : "", failed);
        const char *erase = kvlist_get(&j, "drive-erase");
        const char *ack = kvlist_get(&j, "ack");
        const struct audit_field f[] = {
                { "reset-id", id },
                { "trip", trip ? trip : "-" },
                { "result", done ? "done" : "failed" },
                { "drive-erase", erase ? erase : "not recorded" },
                { "ack", ack ? ack : "not recorded" },
                { "steps", steps },
                { NULL, NULL },
        };
        r = reset_record(env, "travel.reset.complete", f);
        snprintf(ret_detail, detail_size, "reset %s: %s (%s)", id, done ? "done" : "failed", steps);
        kvlist_clear(&plan);
        kvlist_clear(&j);
        if (r < 0)
                return r;
        /* Sent: this boot's record is the acknowledgement; do not send it again. */
        if (rename(journal_path, acked) < 0)
                return -errno;
        (void)fsync_directory_of(acked);
        return 0;
}
