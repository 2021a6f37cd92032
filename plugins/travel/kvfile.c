/* kvfile.c — bounded "key=value" line files for the travel state, the reset plan and the reset journal. */
#include "config.h"

#include <string.h>

#include "travel.h"
#include "util.h"

static bool key_ok(const char *k, size_t len) {
        if (len == 0 || len > 32)
                return false;
        for (size_t i = 0; i < len; i++)
                if (!((k[i] >= 'a' && k[i] <= 'z') || (k[i] >= '0' && k[i] <= '9') || k[i] == '-'))
                        return false;
        return true;
}

/* Lines "key=value", '#' comments and blank lines ignored. Anything else,
 * a control character, a line too long, or too many lines: -EBADMSG. */
int kv_parse(const char *data, size_t size, struct kvlist *ret) {
        struct kvlist kv = { 0 };
        if (size > TRAVEL_KV_MAX_SIZE)
                return -EFBIG;
        const char *p = data, *end = data + size;
        int r = 0;
        while (p < end) {
                const char *nl = memchr(p, '\n', (size_t)(end - p));
                size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
                const char *line = p;
                p = nl ? nl + 1 : end;
                if (len == 0 || line[0] == '#')
                        continue;
                const char *eq = memchr(line, '=', len);
                if (!string_is_clean_utf8(line, len) || memchr(line, '\t', len) || memchr(line, 0, len) || !eq ||
                    !key_ok(line, (size_t)(eq - line)))
                        r = -EBADMSG;
                else if (kv.n >= TRAVEL_KV_MAX_LINES)
                        r = -E2BIG;
                else
                        r = kvlist_add_n(&kv, line, (size_t)(eq - line), eq + 1, len - (size_t)(eq - line) - 1);
                if (r < 0) {
                        kvlist_clear(&kv);
                        return r;
                }
        }
        *ret = kv;
        return 0;
}

int kv_load(const char *path, struct kvlist *ret) {
        _cleanup_free_ char *data = NULL;
        size_t size;
        int r = read_file_capped(path, TRAVEL_KV_MAX_SIZE, &data, &size);
        if (r < 0)
                return r;
        return kv_parse(data, size, ret);
}

int kv_get_i64(const struct kvlist *kv, const char *key, int64_t *ret) {
        const char *v = kvlist_get(kv, key);
        if (!v)
                return -ENOENT;
        bool neg = v[0] == '-';
        uint64_t u;
        if (parse_u64(neg ? v + 1 : v, &u) < 0 || u > INT64_MAX)
                return -EINVAL;
        *ret = neg ? -(int64_t)u : (int64_t)u;
        return 0;
}

/* ---- reset plan file ---- */

struct buf {
        char *data;
        size_t len, cap;
        bool oom;
};

static void buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void buf_printf(struct buf *b, const char *fmt, ...) {
        if (b->oom)
                return;
        for (;;) {
                va_list ap;
                va_start(ap, fmt);
                int n = vsnprintf(b->data ? b->data + b->len : NULL, b->data ? b->cap - b->len : 0, fmt, ap);
                va_end(ap);
                if (n < 0) {
                        b->oom = true;
                        return;
                }
                if (b->data && b->len + (size_t)n < b->cap) {
                        b->len += (size_t)n;
                        return;
                }
                if (ARRAY_GROW(b->data, b->cap, b->len + (size_t)n + 1) < 0) {
                        b->oom = true;
                        return;
                }
        }
}

static int buf_finish(struct buf *b, char **ret, size_t *ret_size) {
        if (b->oom || !b->data) {
                free(b->data);
                return -ENOMEM;
        }
        *ret = b->data;
        *ret_size = b->len;
        return 0;
}

int reset_plan_format(const struct reset_plan *plan, const char *trip, char **ret, size_t *ret_size) {
        struct buf b = { 0 };
        buf_printf(&b, "# sekisho reset plan, written by sekishod from the signed policy in force\n");
        buf_printf(&b, "format=1\ntrip=%s\n", trip ? trip : "");
        for (size_t i = 0; i < plan->n_volumes; i++)
                buf_printf(&b, "luks-volume=%s\n", plan->volumes[i]);
        for (size_t i = 0; i < plan->n_credentials; i++)
                buf_printf(&b, "credential=%s\n", plan->credentials[i]);
        for (size_t i = 0; i < plan->n_wipe; i++)
                buf_printf(&b, "wipe-directory=%s\n", plan->wipe[i]);
        for (size_t i = 0; i < plan->n_restore; i++)
                buf_printf(&b, "restore-arg=%s\n", plan->restore[i]);
        buf_printf(&b, "reboot=%s\n", plan->reboot ? "yes" : "no");
        /* the whole-machine reset, carried out by the initramfs */
        if (plan->root_volume) {
                buf_printf(&b, "root-volume=%s\n", plan->root_volume);
                buf_printf(&b, "journal-dir=%s\n", plan->journal_dir ? plan->journal_dir : TRAVEL_JOURNAL_DIR);
                if (plan->restore_image)
                        buf_printf(&b, "restore-image=%s\n", plan->restore_image);
                if (plan->factory_repart)
                        buf_printf(&b, "factory-reset=systemd-repart\n");
                buf_printf(&b, "drive-erase=%s\n", plan->drive_erase ? "auto" : "none");
        }
        /* the hand-over before the first destructive step */
        if (plan->reset_id[0])
                buf_printf(&b, "reset-id=%s\n", plan->reset_id);
        buf_printf(&b, "ack-timeout=%lld\non-no-ack=%s\n", (long long)plan->ack_timeout,
                   plan->hold_without_ack ? "hold" : "proceed");
        return buf_finish(&b, ret, ret_size);
}

static int add_checked(char **dst, size_t *n, size_t max, const char *v, bool (*ok)(const char *)) {
        if (*n >= max || (ok && !ok(v)))
                return -EBADMSG;
        if (!(dst[*n] = strdup(v)))
                return -ENOMEM;
        (*n)++;
        return 0;
}

static int set_once(char **dst, const char *v, bool (*ok)(const char *)) {
        if (*dst || !ok(v))
                return -EBADMSG;
        return (*dst = strdup(v)) ? 0 : -ENOMEM;
}

bool reset_id_ok(const char *s) {
        return s && strlen(s) == TRAVEL_RESET_ID_LEN && strspn(s, "0123456789abcdef") == TRAVEL_RESET_ID_LEN;
}

int reset_plan_from_kv(const struct kvlist *kv, struct reset_plan *ret) {
        struct reset_plan p = { .reboot = true, .drive_erase = true, .ack_timeout = TRAVEL_DEFAULT_ACK_TIMEOUT };
        const char *fmt = kvlist_get(kv, "format");
        if (!fmt || strcmp(fmt, "1") != 0)
                return -EPROTONOSUPPORT;
        int r = 0;
        for (size_t i = 0; i < kv->n && r >= 0; i++) {
                const char *k = kv->keys[i], *v = kv->values[i];
                if (strcmp(k, "luks-volume") == 0)
                        r = add_checked(p.volumes, &p.n_volumes, TRAVEL_MAX_PATHS, v, travel_path_ok);
                else if (strcmp(k, "credential") == 0)
                        r = add_checked(p.credentials, &p.n_credentials, TRAVEL_MAX_PATHS, v, travel_wipe_path_ok);
                else if (strcmp(k, "wipe-directory") == 0)
                        r = add_checked(p.wipe, &p.n_wipe, TRAVEL_MAX_PATHS, v, travel_wipe_path_ok);
                else if (strcmp(k, "restore-arg") == 0)
                        r = add_checked(p.restore, &p.n_restore, TRAVEL_MAX_ARGS, v,
                                        p.n_restore == 0 ? travel_path_ok : NULL);
                else if (strcmp(k, "reboot") == 0) {
                        if (strcmp(v, "yes") == 0)
                                p.reboot = true;
                        else if (strcmp(v, "no") == 0)
                                p.reboot = false;
                        else
                                r = -EBADMSG;
                } else if (strcmp(k, "reset-id") == 0) {
                        if (reset_id_ok(v))
                                strcpy(p.reset_id, v);
                        else
                                r = -EBADMSG;
                } else if (strcmp(k, "ack-timeout") == 0) {
                        uint64_t u;
                        if (parse_u64(v, &u) < 0 || u > TRAVEL_MAX_ACK_TIMEOUT)
                                r = -EBADMSG;
                        else
                                p.ack_timeout = (int64_t)u;
                } else if (strcmp(k, "on-no-ack") == 0) {
                        if (strcmp(v, "hold") == 0 || strcmp(v, "proceed") == 0)
                                p.hold_without_ack = strcmp(v, "hold") == 0;
                        else
                                r = -EBADMSG;
                }
                /* the whole-machine reset */
                else if (strcmp(k, "root-volume") == 0)
                        r = set_once(&p.root_volume, v, travel_volume_ok);
                else if (strcmp(k, "journal-dir") == 0)
                        r = set_once(&p.journal_dir, v, travel_wipe_path_ok);
                else if (strcmp(k, "restore-image") == 0)
                        r = set_once(&p.restore_image, v, travel_path_ok);
                else if (strcmp(k, "factory-reset") == 0)
                        r = strcmp(v, "systemd-repart") == 0 && !p.factory_repart ? (p.factory_repart = true, 0) : -EBADMSG;
                else if (strcmp(k, "drive-erase") == 0) {
                        if (strcmp(v, "auto") == 0 || strcmp(v, "none") == 0)
                                p.drive_erase = strcmp(v, "auto") == 0;
                        else
                                r = -EBADMSG;
                }
        }
        /* a root reset needs exactly one way back to a factory state, and its journal */
        if (r >= 0 && p.root_volume && (!!p.restore_image == p.factory_repart))
                r = -EBADMSG;
        if (r >= 0 && !p.root_volume && (p.journal_dir || p.restore_image || p.factory_repart))
                r = -EBADMSG;
        if (r >= 0 && p.root_volume && !p.journal_dir && !(p.journal_dir = strdup(TRAVEL_JOURNAL_DIR)))
                r = -ENOMEM;
        if (r < 0) {
                reset_plan_clear(&p);
                return r;
        }
        *ret = p;
        return 0;
}

void reset_plan_print(const struct reset_plan *plan, FILE *out) {
        size_t step = 1;
        fprintf(out, "%zu. hand the decision over to the collector (reset id %s) and wait up to %lld s for it; "
                     "if not acknowledged: %s\n",
                step++, plan->reset_id[0] ? plan->reset_id : "set when ordered", (long long)plan->ack_timeout,
                plan->hold_without_ack ? "hold" : "proceed");
        fprintf(out, "%zu. write the final audit record and sync it to disk and syslog\n", step++);
        for (size_t i = 0; i < plan->n_volumes; i++) {
                fprintf(out, "%zu. destroy every LUKS keyslot of %s\n", step++, plan->volumes[i]);
                fprintf(out, "%zu. overwrite the LUKS header and keyslot area of %s\n", step++, plan->volumes[i]);
        }
        for (size_t i = 0; i < plan->n_credentials; i++)
                fprintf(out, "%zu. remove credential %s\n", step++, plan->credentials[i]);
        for (size_t i = 0; i < plan->n_wipe; i++)
                fprintf(out, "%zu. wipe the contents of %s\n", step++, plan->wipe[i]);
        if (plan->n_restore) {
                fprintf(out, "%zu. run the restore action:", step++);
                for (size_t i = 0; i < plan->n_restore; i++)
                        fprintf(out, " %s", plan->restore[i]);
                fputc('\n', out);
        }
        if (plan->root_volume) {
                fprintf(out, "%zu. schedule the reset of the root volume %s for the next boot (journal in %s)\n", step++,
                        plan->root_volume, plan->journal_dir ? plan->journal_dir : TRAVEL_JOURNAL_DIR);
                fprintf(out, "%zu. reboot; the initramfs destroys every LUKS keyslot and the header of %s\n", step++,
                        plan->root_volume);
                fprintf(out, "%zu. %s\n", step++,
                        plan->drive_erase ? "the drive's own cryptographic erase where the drive supports it (NVMe Format, SES=2)"
                                          : "no drive erase (drive-erase: none)");
                if (plan->restore_image)
                        fprintf(out, "%zu. a new LUKS2 root volume with a new key, holding the restore image %s\n", step++,
                                plan->restore_image);
                else
                        fprintf(out, "%zu. systemd's factory reset (systemd-repart --factory-reset=yes)\n", step++);
                fprintf(out, "%zu. reboot into the factory state\n", step);
                return;
        }
        fprintf(out, "%zu. %s\n", step, plan->reboot ? "reboot" : "do not reboot (reboot: false)");
}

/* ---- state file ---- */

static const char *const phase_names[_TRAVEL_PHASE_MAX] = {
        [TRAVEL_HOME] = "home",
        [TRAVEL_TRAVELLING] = "travelling",
        [TRAVEL_RETURNED] = "returned",
        [TRAVEL_RESET_PENDING] = "reset-pending",
        [TRAVEL_RESET_DONE] = "reset-done",
};

const char *travel_phase_name(enum travel_phase p) {
        return p < _TRAVEL_PHASE_MAX ? phase_names[p] : "invalid";
}

int travel_phase_from_name(const char *s, enum travel_phase *ret) {
        for (int i = 0; i < _TRAVEL_PHASE_MAX; i++)
                if (s && strcmp(s, phase_names[i]) == 0) {
                        *ret = (enum travel_phase)i;
                        return 0;
                }
        return -EINVAL;
}

void travel_state_init(struct travel_state *s) {
        *s = (struct travel_state){ .phase = TRAVEL_HOME };
}

int travel_state_format(const struct travel_state *s, char **ret, size_t *ret_size) {
        struct buf b = { 0 };
        buf_printf(&b, "# sekisho travel state; written atomically by sekishod\n");
        buf_printf(&b, "format=1\nphase=%s\n", travel_phase_name(s->phase));
        if (s->trip[0])
                buf_printf(&b, "trip=%s\ndestination=%s\nrisk=%s\ntrip-end=%lld\n", s->trip, s->destination,
                           s->high_risk ? "high" : "normal", (long long)s->trip_end);
        buf_printf(&b, "since=%lld\n", (long long)s->since);
        if (s->deadline)
                buf_printf(&b, "deadline=%lld\n", (long long)s->deadline);
        buf_printf(&b, "last-wall=%lld\n", (long long)s->last_wall);
        buf_printf(&b, "reset-requested=%s\n", s->reset_requested ? "yes" : "no");
        buf_printf(&b, "sessions-locked=%s\n", s->sessions_locked ? "yes" : "no");
        if (s->hold[0]) {
                /* The reason may quote a D-Bus error from another process: keep
                 * it to printable ASCII so it can never break the file's lines. */
                char clean[sizeof s->hold];
                size_t i = 0;
                for (; s->hold[i] && i < sizeof clean - 1; i++)
                        clean[i] = (unsigned char)s->hold[i] >= 0x20 && (unsigned char)s->hold[i] < 0x7f ? s->hold[i] : '?';
                clean[i] = 0;
                buf_printf(&b, "hold=%s\n", clean);
        }
        for (size_t i = 0; i < s->n_done; i++)
                buf_printf(&b, "done=%s\n", s->done[i]);
        if (s->reset_id[0])
                buf_printf(&b, "reset-id=%s\n", s->reset_id);
        if (s->return_proof[0])
                buf_printf(&b, "return-proof=%s\n", s->return_proof);
        return buf_finish(&b, ret, ret_size);
}

static bool yes(const char *v) {
        return v && strcmp(v, "yes") == 0;
}

int travel_state_from_kv(const struct kvlist *kv, struct travel_state *ret) {
        struct travel_state s;
        travel_state_init(&s);
        const char *fmt = kvlist_get(kv, "format");
        if (!fmt || strcmp(fmt, "1") != 0)
                return -EPROTONOSUPPORT;
        if (travel_phase_from_name(kvlist_get(kv, "phase"), &s.phase) < 0)
                return -EBADMSG;
        const char *trip = kvlist_get(kv, "trip");
        if (trip) {
                const char *dest = kvlist_get(kv, "destination");
                if (strlen(trip) > TRAVEL_ID_MAX || !dest || strlen(dest) != 2)
                        return -EBADMSG;
                strcpy(s.trip, trip);
                memcpy(s.destination, dest, 3);
                const char *risk = kvlist_get(kv, "risk");
                s.high_risk = !risk || strcmp(risk, "normal") != 0; /* unreadable risk counts as high */
                if (kv_get_i64(kv, "trip-end", &s.trip_end) < 0)
                        return -EBADMSG;
        } else if (s.phase != TRAVEL_HOME && s.phase != TRAVEL_RESET_DONE)
                return -EBADMSG;
        if (kv_get_i64(kv, "since", &s.since) < 0)
                return -EBADMSG;
        (void)kv_get_i64(kv, "deadline", &s.deadline);
        (void)kv_get_i64(kv, "last-wall", &s.last_wall);
        if (s.phase == TRAVEL_RESET_PENDING && s.deadline == 0)
                return -EBADMSG;
        s.reset_requested = yes(kvlist_get(kv, "reset-requested"));
        s.sessions_locked = yes(kvlist_get(kv, "sessions-locked"));
        const char *hold = kvlist_get(kv, "hold");
        if (hold)
                snprintf(s.hold, sizeof s.hold, "%s", hold);
        for (size_t i = 0; i < kv->n; i++)
                if (strcmp(kv->keys[i], "done") == 0 && strlen(kv->values[i]) <= TRAVEL_ID_MAX) {
                        if (s.n_done == TRAVEL_MAX_DONE) { /* forget the oldest */
                                memmove(s.done[0], s.done[1], sizeof s.done[0] * (TRAVEL_MAX_DONE - 1));
                                s.n_done--;
                        }
                        strcpy(s.done[s.n_done++], kv->values[i]);
                }
        const char *rid = kvlist_get(kv, "reset-id");
        if (rid && !reset_id_ok(rid))
                return -EBADMSG;
        if (rid)
                strcpy(s.reset_id, rid);
        const char *proof = kvlist_get(kv, "return-proof");
        if (proof)
                snprintf(s.return_proof, sizeof s.return_proof, "%s", proof);
        *ret = s;
        return 0;
}

int travel_state_load(const char *path, struct travel_state *ret) {
        struct kvlist kv = { 0 };
        int r = kv_load(path, &kv);
        if (r < 0)
                return r;
        r = travel_state_from_kv(&kv, ret);
        kvlist_clear(&kv);
        return r;
}

int travel_state_save(const char *path, const struct travel_state *s) {
        _cleanup_free_ char *data = NULL;
        size_t size;
        int r = travel_state_format(s, &data, &size);
        if (r < 0)
                return r;
        return write_file_atomic(path, data, size, 0600);
}

bool travel_state_trip_done(const struct travel_state *s, const char *id) {
        for (size_t i = 0; i < s->n_done; i++)
                if (strcmp(s->done[i], id) == 0)
                        return true;
        return false;
}
