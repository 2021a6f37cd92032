/* view.c — what sekishoctl sees of this terminal: the policy in force, the daemon's status and active profiles, read once for the report and the plugins' verbs. */
#include "config.h"

#include <inttypes.h>
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>

#include "busclient.h"
#include "util.h"
#include "view.h"

#define VIEW_STATUS_MAX (1u << 20)

/* Is pid a running sekishod? (its comm, not just any process reusing the pid;
 * the tests run the same daemon as sekishod-test) */
static bool daemon_alive(pid_t pid) {
        char path[64];
        snprintf(path, sizeof path, "/proc/%d/comm", (int)pid);
        _cleanup_free_ char *comm = NULL;
        if (read_file_capped(path, 64, &comm, NULL) < 0)
                return false;
        comm[strcspn(comm, "\n")] = '\0';
        return strcmp(comm, "sekishod") == 0 || strcmp(comm, "sekishod-test") == 0 || strcmp(comm, "lt-sekishod") == 0;
}

static void note_add(struct view *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note_add(struct view *v, const char *fmt, ...) {
        size_t l = strlen(v->note);
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(v->note + l, sizeof v->note - l, fmt, ap);
        va_end(ap);
}

static void status_from_bus(struct view *v, enum bus_kind bus) {
        if (bus == BUS_NONE) {
                note_add(v, "no bus asked for");
                return;
        }
        DBusConnection *c = NULL;
        struct busclient_error err = { 0 };
        int r = busclient_open(bus, &c, &err);
        if (r == 0) {
                char *buf = NULL;
                size_t len = 0;
                FILE *f = open_memstream(&buf, &len);
                r = f ? busclient_status(c, f, true, &err) : -ENOMEM;
                if (f)
                        fclose(f);
                busclient_close(c);
                if (r == 0 && json_parse(buf, len, &v->status) == 0) {
                        v->live = true;
                        note_add(v, "live status from sekishod over D-Bus");
                }
                free(buf);
        }
        if (!v->live)
                note_add(v, "sekishod is not reachable on the bus (%.300s)", err.message[0] ? err.message : strerror(-r));
}

static void status_from_file(struct view *v, const char *state_dir) {
        _cleanup_free_ char *path = path_join(state_dir, "status.json"), *data = NULL;
        size_t size;
        int r = path ? read_file_capped(path, VIEW_STATUS_MAX, &data, &size) : -ENOMEM;
        v->from_file = true;
        if (r < 0) {
                note_add(v, "; no status file (%s: %s)", path ? path : "", strerror(-r));
                return;
        }
        if (json_parse(data, size, &v->status) < 0) {
                note_add(v, "; %s is not valid JSON: ignored", path);
                return;
        }
        struct stat st;
        char t[32] = "?";
        if (stat(path, &st) == 0)
                format_rfc3339(st.st_mtime, t);
        /* A daemon started without a bus (--bus=none) still keeps its status file current. */
        uint64_t pid = 0;
        if (json_u64(json_get(v->status, "pid"), &pid) && pid > 1 && pid < INT32_MAX && daemon_alive((pid_t)pid)) {
                v->live = true;
                note_add(v, "; sekishod (pid %" PRIu64 ") is running: status from its status file %s (written %s)", pid,
                         path, t);
                return;
        }
        note_add(v, "; last status written by sekishod at %s (%s); nothing is enforced while it is not running", t,
                 path);
}

/* The daemon and the files must tell the same story. */
static void check_serial(struct view *v) {
        uint64_t serial;
        if (!json_u64(json_get(json_get(v->status, "policy"), "serial"), &serial) ||
            serial == v->choice.policy->serial)
                return;
        note_add(v, "; NOTE: sekishod reports serial %" PRIu64 " in force, the state directory says %" PRIu64, serial,
                 v->choice.policy->serial);
}

/* The profiles the daemon has active; a daemon that is not running has none. */
static int get_profiles(struct view *v) {
        const struct json *p = json_get(v->status, "profiles");
        if (!v->live || !p || p->type != JSON_ARRAY || !p->n)
                return 0;
        v->active = calloc(p->n, sizeof *v->active);
        if (!v->active)
                return -ENOMEM;
        for (size_t i = 0; i < p->n; i++)
                if (json_string(p->items[i]))
                        v->active[v->n_active++] = p->items[i]->text; /* owned by status */
        return 0;
}

int view_load(const char *state_dir, const char *keys_dir, const char *config, enum bus_kind bus, struct view *v) {
        *v = (struct view){ 0 };
        int r = policy_in_force(state_dir, keys_dir, config, &v->choice, &v->highest, NULL);
        if (r < 0)
                return r;
        if (strcmp(v->choice.source, "embedded") == 0)
                snprintf(v->policy_name, sizeof v->policy_name, "embedded default");
        else
                snprintf(v->policy_name, sizeof v->policy_name, "%s policy (serial %" PRIu64 ")", v->choice.source,
                         v->choice.policy->serial);
        status_from_bus(v, bus);
        if (!v->live)
                status_from_file(v, state_dir);
        check_serial(v);
        r = get_profiles(v);
        if (r < 0)
                view_done(v);
        return r;
}

void view_done(struct view *v) {
        free(v->active);
        json_free(v->status);
        policy_free(v->choice.policy);
        *v = (struct view){ 0 };
}

int view_section(const struct view *v, const char *section, struct ptree **ret) {
        return policy_effective_section(v->choice.policy, section, v->active, v->n_active, ret);
}
