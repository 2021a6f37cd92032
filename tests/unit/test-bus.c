/* test-bus.c — the D-Bus service on a real loop against a private dbus-daemon, driven through busclient and raw libdbus from other connections. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include "test-skip.h"

#include <dbus/dbus.h>
#include <fcntl.h>
#include <grp.h>
#include <inttypes.h>
#include <pwd.h>
#include <signal.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "bus.h"
#include "freshness.h"
#include "busclient.h"
#include "util.h"

/* ---- a stub core: just enough of struct sekisho for bus.c ---- */

const struct sekisho_plugin *const sekisho_builtin_plugins[] = { NULL };

static struct sekisho *stub_ctx;
static struct policy stub_policy = { .serial = 7, .expires = 1800000000, .origin = (char *)"installed" };
static char *stub_active[4];
static bool stub_big;                 /* "big" profile: a plugin reports a 1 MiB detail */
static unsigned stub_reloads;

static const struct refusal_info stub_refusals[_REFUSE_MAX] = {
        [REFUSE_NONE] = { "none", 0, NULL },
        [REFUSE_IO] = { "io", 2, BUS_ERROR_PREFIX "IO" },
        [REFUSE_SIGNATURE] = { "bad-signature", 3, BUS_ERROR_PREFIX "BadSignature" },
        [REFUSE_UNKNOWN_KEY] = { "unknown-key", 4, BUS_ERROR_PREFIX "UnknownKey" },
        [REFUSE_MALFORMED] = { "malformed", 5, BUS_ERROR_PREFIX "Malformed" },
        [REFUSE_TIME] = { "time", 6, BUS_ERROR_PREFIX "Expired" },
        [REFUSE_NOT_TARGETED] = { "not-targeted", 7, BUS_ERROR_PREFIX "NotTargeted" },
        [REFUSE_SERIAL_OLD] = { "serial-old", 8, BUS_ERROR_PREFIX "SerialNotNewer" },
        [REFUSE_SERIAL_CONFLICT] = { "serial-conflict", 9, BUS_ERROR_PREFIX "SerialConflict" },
        [REFUSE_TOO_LARGE] = { "too-large", 10, BUS_ERROR_PREFIX "TooLarge" },
        [REFUSE_SERIAL_BAD] = { "serial-bad", 11, BUS_ERROR_PREFIX "SerialBad" },
};

const struct refusal_info *refusal_info(enum refusal r) {
        return (unsigned)r < _REFUSE_MAX ? &stub_refusals[r] : NULL;
}

/* The stub core keeps no audit log: bus.c's records of refused calls are checked by core-bus.sh. */
int core_audit(struct sekisho *ctx, const char *event, const char *clause, const struct audit_field *fields) {
        return 0;
}

const char *sekisho_state(const struct sekisho *ctx) { return "enforcing"; }
const char *sekisho_policy_state(const struct sekisho *ctx) { return "current"; }
const char *freshness_state(const struct sekisho *ctx) { return "fresh"; }

/* "serial: N" in the data is applied; data starting with "bad" is refused. */
enum refusal sekisho_apply_bundle(struct sekisho *ctx, const char *name, char **bundle, size_t size,
                                  const char *sig, size_t sig_size, const char *via, uint64_t *ret_serial,
                                  char *why, size_t why_size) {
        _cleanup_free_ char *data = TAKE_PTR(*bundle); /* taken, as the core takes it */
        if (data[size] != '\0' || sig[sig_size] != '\0')
                abort();     /* bus.c promises NUL-terminated copies */
        if (strncmp(data, "bad", 3) == 0 || strcmp(sig, "good-sig") != 0) {
                snprintf(why, why_size, "%s: signature does not verify under any trusted key", name);
                bus_emit(ctx->bus, "PolicyRefused",
                         (const struct audit_field[]){ { "name", name }, { "reason", "bad-signature" }, { NULL } });
                return REFUSE_SIGNATURE;
        }
        const char *s = strstr(data, "serial: ");
        uint64_t serial = s ? strtoull(s + 8, NULL, 10) : 0;
        stub_policy.serial = serial;
        char buf[32];
        snprintf(buf, sizeof buf, "%" PRIu64, serial);
        bus_emit(ctx->bus, "PolicyApplied",
                 (const struct audit_field[]){ { "serial", buf }, { "name", name }, { "via", via }, { NULL } });
        bus_properties_changed(ctx->bus);
        *ret_serial = serial;
        return REFUSE_NONE;
}

int sekisho_reload(struct sekisho *ctx) {
        stub_reloads++;
        return 0;
}

/* No plugin serves a method here (posture-recheck.sh covers them with the real daemon). */
int sekisho_find_method(struct sekisho *ctx, const char *member, const struct sekisho_method **ret_method,
                        void **ret_state) {
        return -ENOENT;
}

int sekisho_set_profile(struct sekisho *ctx, const char *owner, const char *profile, bool active,
                        const char *reason) {
        if (strcmp(owner, "admin") != 0)
                return -EINVAL;
        if (strcmp(profile, "big") == 0) {
                stub_big = active;
                return 0;
        }
        if (strcmp(profile, "travel") != 0)
                return -ENOENT;
        free(stub_active[0]);
        stub_active[0] = active ? strdup(profile) : NULL;
        ctx->n_active = active ? 1 : 0;
        bus_properties_changed(ctx->bus);
        return 0;
}

static void usb_status(void *state, struct kvlist *out) {
        kvlist_add(out, "devices", "3");
        kvlist_add(out, "model", "\xff\xfeUSB");     /* not UTF-8: must not kill libdbus */
        if (stub_big) {
                char *v = malloc(1024 * 1024 + 1);
                memset(v, 'x', 1024 * 1024);
                v[1024 * 1024] = '\0';
                kvlist_add(out, "blob", "%s", v);
                free(v);
        }
}

static const struct sekisho_plugin fake_usb = { .name = "usb", .section = "usb", .status = usb_status };
static const struct sekisho_plugin fake_net = { .name = "net", .section = "network" };

static int on_sigterm(struct loop_source *s, int fd, uint32_t revents, void *userdata) {
        struct signalfd_siginfo si;
        if (read(fd, &si, sizeof si) == sizeof si)
                loop_quit(userdata, 0);
        return 0;
}

/* The service: bus.c with the stub core on a real loop, in a child process so the
 * test's blocking client calls cannot stall it. SIGTERM closes everything cleanly. */
static pid_t service_start(void) {
        int p[2];
        assert_int_equal(pipe2(p, O_CLOEXEC), 0);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                close(p[0]);
                sigset_t ss;
                sigemptyset(&ss);
                sigaddset(&ss, SIGTERM);
                sigprocmask(SIG_BLOCK, &ss, NULL);
                int sfd = signalfd(-1, &ss, SFD_CLOEXEC | SFD_NONBLOCK);
                static struct sekisho ctx;
                static struct plugin_slot slots[2];
                slots[0] = (struct plugin_slot){ .plugin = &fake_usb, .state = &ctx, .st = PLUGIN_ENFORCING };
                slots[1] = (struct plugin_slot){ .plugin = &fake_net, .st = PLUGIN_FAILED };
                snprintf(slots[1].error, sizeof slots[1].error, "nftables is not available");
                stub_ctx = &ctx;
                struct loop_source *sig_src = NULL;
                if (loop_new(&ctx.loop) < 0 || loop_add_io(ctx.loop, sfd, EPOLLIN, on_sigterm, ctx.loop, &sig_src) < 0)
                        _exit(2);
                ctx.policy = &stub_policy;
                ctx.policy_source = "installed";
                ctx.slots = slots;
                ctx.n_slots = 2;
                ctx.active = stub_active;
                int r = bus_open(&ctx, BUS_SESSION, &ctx.bus);
                char c = r < 0 ? 'F' : 'R';
                if (write(p[1], &c, 1) != 1 || r < 0)
                        _exit(3);
                close(p[1]);
                loop_run(ctx.loop);
                ctx.bus = bus_close(ctx.bus);
                loop_source_free(sig_src);
                close(sfd);
                ctx.loop = loop_free(ctx.loop);
                free(stub_active[0]);
                dbus_shutdown();
                exit(0);     /* not _exit: let LeakSanitizer look at what bus.c left behind */
        }
        close(p[1]);
        char c = 0;
        assert_int_equal(read(p[0], &c, 1), 1);
        close(p[0]);
        assert_int_equal(c, 'R');
        return pid;
}

static void service_stop(pid_t pid) {
        int status;
        assert_int_equal(kill(pid, SIGTERM), 0);
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
}

/* ---- a private dbus-daemon ---- */

struct fixture {
        char dir[64];
        pid_t bus_pid, service_pid, polkit_pid;
        DBusConnection *c;
};

/* The bus policy of the permissive test bus. */
static const char open_policy[] =
        "  <policy context=\"default\">\n"
        "    <allow user=\"*\"/>\n"
        "    <allow own=\"*\"/>\n"
        "    <allow send_destination=\"*\" eavesdrop=\"true\"/>\n"
        "    <allow eavesdrop=\"true\"/>\n"
        "  </policy>\n";

/* A system bus's default policy (as Debian's system.conf) and a polkit
 * stand-in's rules; the shipped systemd/org.sekisho.Sekisho1.conf is included as is. */
static const char system_policy[] =
        "  <policy context=\"default\">\n"
        "    <allow user=\"*\"/>\n"
        "    <deny own=\"*\"/>\n"
        "    <deny send_type=\"method_call\"/>\n"
        "    <allow send_type=\"signal\"/>\n"
        "    <allow send_requested_reply=\"true\" send_type=\"method_return\"/>\n"
        "    <allow send_requested_reply=\"true\" send_type=\"error\"/>\n"
        "    <allow receive_type=\"method_call\"/>\n"
        "    <allow receive_type=\"method_return\"/>\n"
        "    <allow receive_type=\"error\"/>\n"
        "    <allow receive_type=\"signal\"/>\n"
        "    <allow send_destination=\"org.freedesktop.DBus\" send_interface=\"org.freedesktop.DBus\"/>\n"
        "    <allow send_destination=\"org.freedesktop.DBus\"\n"
        "           send_interface=\"org.freedesktop.DBus.Introspectable\"/>\n"
        "    <allow send_destination=\"org.freedesktop.PolicyKit1\"/>\n"
        "  </policy>\n"
        "  <policy user=\"root\">\n"
        "    <allow own=\"org.freedesktop.PolicyKit1\"/>\n"
        "  </policy>\n";

/* include: a bus policy file to include after policy, or NULL. */
static int bus_start(struct fixture *f, const char *policy, const char *include) {
        snprintf(f->dir, sizeof f->dir, "/tmp/sekisho-test-bus.XXXXXX");
        if (!mkdtemp(f->dir))
                return -1;
        chmod(f->dir, 0755);    /* the non-root caller must reach the socket */
        char conf[256], addr[512];
        snprintf(conf, sizeof conf, "%s/bus.conf", f->dir);
        FILE *cf = fopen(conf, "we");
        if (!cf)
                return -1;
        fprintf(cf,
                "<!DOCTYPE busconfig PUBLIC \"-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN\"\n"
                " \"http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd\">\n"
                "<busconfig>\n"
                "  <type>session</type>\n"
                "  <listen>unix:path=%s/socket</listen>\n"
                "  <auth>EXTERNAL</auth>\n",
                f->dir);
        fputs(policy, cf);
        if (include)
                fprintf(cf, "  <include>%s</include>\n", include);
        fputs("</busconfig>\n", cf);
        fclose(cf);

        int p[2];
        if (pipe2(p, O_CLOEXEC) < 0)
                return -1;
        f->bus_pid = fork();
        if (f->bus_pid == 0) {
                dup2(p[1], 3);     /* dup2 clears FD_CLOEXEC on the copy */
                char arg[300];
                snprintf(arg, sizeof arg, "--config-file=%s", conf);
                execlp("dbus-daemon", "dbus-daemon", arg, "--nofork", "--print-address=3", (char *)NULL);
                _exit(127);
        }
        close(p[1]);
        ssize_t n = 0, k;
        while (n < (ssize_t)sizeof addr - 1 && (k = read(p[0], addr + n, sizeof addr - 1 - (size_t)n)) > 0) {
                n += k;
                if (memchr(addr, '\n', (size_t)n))
                        break;
        }
        close(p[0]);
        if (n <= 0) {
                print_error("dbus-daemon did not start with %s\n", conf);
                return -1;
        }
        addr[n] = '\0';
        addr[strcspn(addr, "\n")] = '\0';
        setenv("DBUS_SESSION_BUS_ADDRESS", addr, 1);
        return 0;
}

static int connect_client(struct fixture *f) {
        struct busclient_error err;
        if (busclient_open(BUS_SESSION, &f->c, &err) < 0) {
                print_error("%s\n", err.message);
                return -1;
        }
        return 0;
}

static int setup(void **state) {
        struct fixture *f = calloc(1, sizeof *f);
        *state = f;
        if (bus_start(f, open_policy, NULL) < 0)
                return -1;
        f->service_pid = service_start();
        return connect_client(f);
}

static int teardown(void **state) {
        struct fixture *f = *state;
        busclient_close(f->c);
        /* The service must have shut down cleanly (and, under ASan, without leaks). */
        int status = -1;
        if (f->service_pid > 0) {
                kill(f->service_pid, SIGTERM);
                waitpid(f->service_pid, &status, 0);
        }
        if (f->polkit_pid > 0) {
                kill(f->polkit_pid, SIGKILL);
                waitpid(f->polkit_pid, NULL, 0);
        }
        if (f->bus_pid > 0) {
                kill(f->bus_pid, SIGTERM);
                waitpid(f->bus_pid, NULL, 0);
        }
        /* libdbus caches the session bus address: forget it for the next group's bus. */
        dbus_shutdown();
        char cmd[128];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
        int r = system(cmd);
        free(f);
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
                print_error("the service exited with status %d\n", status);
                return -1;
        }
        return r == 0 ? 0 : -1;
}

/* ---- helpers ---- */

static DBusMessage *call(DBusConnection *c, const char *iface, const char *member, DBusError *e, int first_type,
                         ...) {
        DBusMessage *m = dbus_message_new_method_call(BUS_NAME, BUS_PATH, iface, member);
        va_list ap;
        va_start(ap, first_type);
        assert_true(dbus_message_append_args_valist(m, first_type, ap));
        va_end(ap);
        DBusMessage *reply = dbus_connection_send_with_reply_and_block(c, m, -1, e);
        dbus_message_unref(m);
        return reply;
}

/* Get one property; the reply is kept for the iterator's lifetime. */
static DBusMessage *get_prop(DBusConnection *c, const char *name, DBusMessageIter *ret_value) {
        const char *iface = BUS_IFACE;
        DBusError e = DBUS_ERROR_INIT;
        DBusMessage *r = call(c, DBUS_INTERFACE_PROPERTIES, "Get", &e, DBUS_TYPE_STRING, &iface, DBUS_TYPE_STRING,
                              &name, DBUS_TYPE_INVALID);
        if (!r)
                print_error("Get %s: %s\n", name, e.message);
        assert_non_null(r);
        DBusMessageIter it;
        assert_true(dbus_message_iter_init(r, &it));
        assert_int_equal(dbus_message_iter_get_arg_type(&it), DBUS_TYPE_VARIANT);
        dbus_message_iter_recurse(&it, ret_value);
        return r;
}

static uint64_t get_serial(DBusConnection *c) {
        DBusMessageIter v;
        DBusMessage *r = get_prop(c, "PolicySerial", &v);
        assert_int_equal(dbus_message_iter_get_arg_type(&v), DBUS_TYPE_UINT64);
        dbus_uint64_t s;
        dbus_message_iter_get_basic(&v, &s);
        dbus_message_unref(r);
        return s;
}

/* Wait for a signal of member on our interface (or Properties); bounded by message count, not time. */
static DBusMessage *wait_signal(DBusConnection *c, const char *iface, const char *member) {
        for (int i = 0; i < 1000; i++) {
                DBusMessage *m = dbus_connection_pop_message(c);
                if (!m) {
                        assert_true(dbus_connection_read_write(c, -1));
                        continue;
                }
                if (dbus_message_is_signal(m, iface, member))
                        return m;
                dbus_message_unref(m);
        }
        fail_msg("no %s signal", member);
        return NULL;
}

static const char *dict_get(DBusMessageIter *it, const char *key) {
        DBusMessageIter a, e;
        assert_int_equal(dbus_message_iter_get_arg_type(it), DBUS_TYPE_ARRAY);
        for (dbus_message_iter_recurse(it, &a); dbus_message_iter_get_arg_type(&a) == DBUS_TYPE_DICT_ENTRY;
             dbus_message_iter_next(&a)) {
                const char *k, *v;
                dbus_message_iter_recurse(&a, &e);
                dbus_message_iter_get_basic(&e, &k);
                dbus_message_iter_next(&e);
                dbus_message_iter_get_basic(&e, &v);
                if (strcmp(k, key) == 0)
                        return v;
        }
        return NULL;
}

static char *capture_status(DBusConnection *c, bool json) {
        char *buf = NULL;
        size_t len = 0;
        FILE *out = open_memstream(&buf, &len);
        struct busclient_error err;
        assert_int_equal(busclient_status(c, out, json, &err), 0);
        fclose(out);
        return buf;
}

/* ---- tests ---- */

static void test_properties(void **state) {
        struct fixture *f = *state;
        DBusMessageIter v;
        DBusMessage *r = get_prop(f->c, "Version", &v);
        const char *s;
        dbus_message_iter_get_basic(&v, &s);
        assert_string_equal(s, PACKAGE_VERSION);
        dbus_message_unref(r);

        assert_int_equal(get_serial(f->c), 7);

        r = get_prop(f->c, "PolicyExpires", &v);
        assert_int_equal(dbus_message_iter_get_arg_type(&v), DBUS_TYPE_INT64);
        dbus_int64_t x;
        dbus_message_iter_get_basic(&v, &x);
        assert_int_equal(x, 1800000000);
        dbus_message_unref(r);

        r = get_prop(f->c, "Plugins", &v);
        char *sig = dbus_message_iter_get_signature(&v);
        assert_string_equal(sig, "a(ssa{ss})");
        dbus_free(sig);
        DBusMessageIter a, st;
        dbus_message_iter_recurse(&v, &a);
        const char *name, *pstate;
        dbus_message_iter_recurse(&a, &st);
        dbus_message_iter_get_basic(&st, &name);
        dbus_message_iter_next(&st);
        dbus_message_iter_get_basic(&st, &pstate);
        dbus_message_iter_next(&st);
        assert_string_equal(name, "usb");
        assert_string_equal(pstate, "enforcing");
        assert_string_equal(dict_get(&st, "devices"), "3");
        assert_string_equal(dict_get(&st, "model"), "??USB");
        assert_true(dbus_message_iter_next(&a));
        dbus_message_iter_recurse(&a, &st);
        dbus_message_iter_get_basic(&st, &name);
        dbus_message_iter_next(&st);
        dbus_message_iter_get_basic(&st, &pstate);
        dbus_message_iter_next(&st);
        assert_string_equal(name, "net");
        assert_string_equal(pstate, "failed");
        assert_string_equal(dict_get(&st, "error"), "nftables is not available");
        dbus_message_unref(r);

        /* Unknown property, read-only property, unknown method. */
        DBusError e = DBUS_ERROR_INIT;
        const char *iface = BUS_IFACE, *bogus = "Bogus";
        assert_null(call(f->c, DBUS_INTERFACE_PROPERTIES, "Get", &e, DBUS_TYPE_STRING, &iface, DBUS_TYPE_STRING,
                         &bogus, DBUS_TYPE_INVALID));
        assert_string_equal(e.name, "org.freedesktop.DBus.Error.UnknownProperty");
        dbus_error_free(&e);
        DBusMessage *m = dbus_message_new_method_call(BUS_NAME, BUS_PATH, DBUS_INTERFACE_PROPERTIES, "Set");
        const char *pn = "State";
        DBusMessageIter it, var;
        dbus_message_iter_init_append(m, &it);
        dbus_message_iter_append_basic(&it, DBUS_TYPE_STRING, &iface);
        dbus_message_iter_append_basic(&it, DBUS_TYPE_STRING, &pn);
        dbus_message_iter_open_container(&it, DBUS_TYPE_VARIANT, "s", &var);
        dbus_message_iter_append_basic(&var, DBUS_TYPE_STRING, &pn);
        dbus_message_iter_close_container(&it, &var);
        assert_null(dbus_connection_send_with_reply_and_block(f->c, m, -1, &e));
        dbus_message_unref(m);
        assert_string_equal(e.name, "org.freedesktop.DBus.Error.PropertyReadOnly");
        dbus_error_free(&e);
        assert_null(call(f->c, BUS_IFACE, "Explode", &e, DBUS_TYPE_INVALID));
        assert_string_equal(e.name, DBUS_ERROR_UNKNOWN_METHOD);
        dbus_error_free(&e);
}

static void test_status_output(void **state) {
        struct fixture *f = *state;
        char *text = capture_status(f->c, false);
        assert_non_null(strstr(text, "sekishod " PACKAGE_VERSION ": enforcing\n"));
        assert_non_null(strstr(text, "serial 7 (installed, current), expires 2027-01-15T08:00:00Z"));
        assert_non_null(strstr(text, "Profiles: (none)\n"));
        assert_non_null(strstr(text, "  usb        enforcing  devices=3 model=??USB\n"));
        assert_non_null(strstr(text, "  net        failed     error=\"nftables is not available\"\n"));
        free(text);
        char *json = capture_status(f->c, true);
        assert_non_null(strstr(json, "\"state\":\"enforcing\""));
        assert_non_null(strstr(json, "\"policy\":{\"serial\":7,\"source\":\"installed\",\"state\":\"current\","
                                     "\"expires\":1800000000},\"profiles\":[],"));
        assert_non_null(strstr(json, "{\"name\":\"net\",\"state\":\"failed\",\"details\":{\"error\":\"nftables is "
                                     "not available\"}}"));
        free(json);
}

/* A minimal XML well-formedness check: every tag closed in order, attributes quoted. */
static void check_xml(const char *x) {
        const char *stack[64];
        size_t depth = 0, elements = 0;
        for (const char *p = x; (p = strchr(p, '<'));) {
                if (strncmp(p, "<!--", 4) == 0) {
                        p = strstr(p, "-->");
                        assert_non_null(p);
                        continue;
                }
                const char *end = strchr(p, '>');
                assert_non_null(end);
                for (const char *q = p; q < end; q++)
                        if (*q == '"') {
                                q = strchr(q + 1, '"');
                                assert_true(q && q < end);
                        }
                if (p[1] == '!' || p[1] == '?') {
                        p = end;
                        continue;
                }
                bool closing = p[1] == '/', empty = end[-1] == '/';
                const char *n = p + (closing ? 2 : 1);
                size_t nlen = strcspn(n, " \t\n/>");
                if (closing) {
                        assert_true(depth > 0);
                        depth--;
                        assert_true(strncmp(stack[depth], n, nlen) == 0 && strcspn(stack[depth], " \t\n/>") == nlen);
                } else if (!empty) {
                        assert_true(depth < ARRAY_SIZE(stack));
                        stack[depth++] = n;
                }
                elements++;
                p = end;
        }
        assert_int_equal(depth, 0);
        assert_true(elements > 10);
}

static void test_introspect(void **state) {
        struct fixture *f = *state;
        DBusError e = DBUS_ERROR_INIT;
        DBusMessage *r = call(f->c, DBUS_INTERFACE_INTROSPECTABLE, "Introspect", &e, DBUS_TYPE_INVALID);
        assert_non_null(r);
        const char *xml;
        assert_true(dbus_message_get_args(r, &e, DBUS_TYPE_STRING, &xml, DBUS_TYPE_INVALID));
        check_xml(xml);
        assert_non_null(strstr(xml, "<interface name=\"org.sekisho.Sekisho1\">"));
        assert_non_null(strstr(xml, "<interface name=\"org.freedesktop.DBus.Properties\">"));
        assert_non_null(strstr(xml, "<method name=\"ApplyPolicy\">"));
        assert_non_null(strstr(xml, "<property name=\"Plugins\" type=\"a(ssa{ss})\" access=\"read\"/>"));
        /* Every property served is introspected, and nothing else. */
        static const char *const props[] = { "Version", "State", "PolicySerial", "PolicySource",
                                             "PolicyState", "PolicyExpires", "Freshness", "ActiveProfiles", "Plugins",
                                             "Trust", "TrustRefused" };
        size_t n = 0;
        for (const char *p = xml; (p = strstr(p, "<property ")); p++)
                n++;
        assert_int_equal(n, ARRAY_SIZE(props));
        for (size_t i = 0; i < ARRAY_SIZE(props); i++) {
                char needle[64];
                snprintf(needle, sizeof needle, "<property name=\"%s\"", props[i]);
                assert_non_null(strstr(xml, needle));
        }
        dbus_message_unref(r);
}

static void test_apply(void **state) {
        struct fixture *f = *state;
        DBusError e = DBUS_ERROR_INIT;
        dbus_bus_add_match(f->c, "type='signal',sender='" BUS_NAME "',path='" BUS_PATH "'", &e);
        assert_false(dbus_error_is_set(&e));

        const char *policy = "sekisho: 1\nserial: 42\n", *sig = "good-sig";
        uint64_t serial = 0;
        struct busclient_error err;
        int r = busclient_apply(f->c, policy, strlen(policy), sig, strlen(sig), "site.yaml", &serial, &err);
        if (r < 0)
                print_error("%s: %s\n", err.name, err.message);
        assert_int_equal(r, 0);
        assert_int_equal(serial, 42);
        assert_string_equal(err.name, "");

        DBusMessage *m = wait_signal(f->c, BUS_IFACE, "PolicyApplied");
        DBusMessageIter it;
        assert_true(dbus_message_has_signature(m, "a{ss}"));
        dbus_message_iter_init(m, &it);
        assert_string_equal(dict_get(&it, "serial"), "42");
        assert_string_equal(dict_get(&it, "name"), "site.yaml");
        assert_string_equal(dict_get(&it, "via"), "dbus");
        dbus_message_unref(m);

        m = wait_signal(f->c, DBUS_INTERFACE_PROPERTIES, "PropertiesChanged");
        assert_true(dbus_message_has_signature(m, "sa{sv}as"));
        dbus_message_unref(m);
        assert_int_equal(get_serial(f->c), 42);

        dbus_bus_remove_match(f->c, "type='signal',sender='" BUS_NAME "',path='" BUS_PATH "'", &e);
        dbus_error_free(&e);
}

static void test_apply_refused(void **state) {
        struct fixture *f = *state;
        const char *policy = "bad policy", *sig = "good-sig";
        struct busclient_error err;
        uint64_t serial = 99;
        int r = busclient_apply(f->c, policy, strlen(policy), sig, strlen(sig), "evil.yaml", &serial, &err);
        assert_int_equal(r, -EBADE);
        assert_int_equal(serial, 99);
        assert_string_equal(err.name, BUS_ERROR_PREFIX "BadSignature");
        assert_string_equal(err.message, "evil.yaml: signature does not verify under any trusted key");
        assert_int_equal(busclient_refusal(err.name), REFUSE_SIGNATURE);
        assert_int_equal(get_serial(f->c), 42);
}

static void test_apply_oversize(void **state) {
        struct fixture *f = *state;
        struct busclient_error err;
        char *big = calloc(1, POLICY_MAX_SIZE + 1);
        memset(big, 'a', POLICY_MAX_SIZE + 1);
        const char *sig = "good-sig";
        int r = busclient_apply(f->c, big, POLICY_MAX_SIZE + 1, sig, strlen(sig), "big.yaml", NULL, &err);
        assert_int_equal(r, -EBADE);
        assert_string_equal(err.name, refusal_info(REFUSE_TOO_LARGE)->dbus_error);
        assert_int_equal(busclient_refusal(err.name), REFUSE_TOO_LARGE);
        assert_non_null(strstr(err.message, "more than the limit"));
        /* An oversized signature too. */
        r = busclient_apply(f->c, "serial: 50\n", 11, big, MINISIGN_MAX_FILE + 1, "x.yaml", NULL, &err);
        assert_int_equal(r, -EBADE);
        assert_int_equal(busclient_refusal(err.name), REFUSE_TOO_LARGE);
        free(big);
        /* A bad name label. */
        r = busclient_apply(f->c, "serial: 50\n", 11, "good-sig", 8, "tab\x01name", NULL, &err);
        assert_int_equal(r, -EINVAL);
        assert_int_equal(get_serial(f->c), 42);
}

static void test_profiles_reload(void **state) {
        struct fixture *f = *state;
        struct busclient_error err;
        assert_int_equal(busclient_set_profile(f->c, "travel", true, "going to Osaka", &err), 0);
        DBusMessageIter v, a;
        DBusMessage *r = get_prop(f->c, "ActiveProfiles", &v);
        dbus_message_iter_recurse(&v, &a);
        assert_int_equal(dbus_message_iter_get_arg_type(&a), DBUS_TYPE_STRING);
        const char *p;
        dbus_message_iter_get_basic(&a, &p);
        assert_string_equal(p, "travel");
        dbus_message_unref(r);
        char *text = capture_status(f->c, false);
        assert_non_null(strstr(text, "Profiles: travel\n"));
        free(text);
        assert_int_equal(busclient_set_profile(f->c, "travel", false, "", &err), 0);

        assert_int_equal(busclient_set_profile(f->c, "nosuch", true, "", &err), -ENOENT);
        assert_string_equal(err.name, BUS_ERROR_PREFIX "NotFound");
        assert_int_equal(busclient_set_profile(f->c, "", true, "", &err), -EINVAL);
        assert_int_equal(busclient_reload(f->c, &err), 0);

        /* Wrong argument types never reach the authorization step. */
        DBusError e = DBUS_ERROR_INIT;
        const char *s = "x";
        assert_null(call(f->c, BUS_IFACE, "SetProfile", &e, DBUS_TYPE_STRING, &s, DBUS_TYPE_INVALID));
        assert_string_equal(e.name, DBUS_ERROR_INVALID_ARGS);
        dbus_error_free(&e);
        assert_null(call(f->c, BUS_IFACE, "Reload", &e, DBUS_TYPE_STRING, &s, DBUS_TYPE_INVALID));
        assert_string_equal(e.name, DBUS_ERROR_INVALID_ARGS);
        dbus_error_free(&e);
}

/* A property reply far larger than the socket buffer: the write watch must be served. */
static void test_large_reply(void **state) {
        struct fixture *f = *state;
        struct busclient_error err;
        assert_int_equal(busclient_set_profile(f->c, "big", true, "", &err), 0);
        for (int i = 0; i < 3; i++) {
                DBusMessageIter v, a, st;
                DBusMessage *r = get_prop(f->c, "Plugins", &v);
                dbus_message_iter_recurse(&v, &a);
                dbus_message_iter_recurse(&a, &st);
                dbus_message_iter_next(&st);
                dbus_message_iter_next(&st);
                assert_int_equal(strlen(dict_get(&st, "blob")), 1024 * 1024);
                dbus_message_unref(r);
        }
        assert_int_equal(busclient_set_profile(f->c, "big", false, "", &err), 0);
}

/* Any local process may send sekishod a message the bus relays but sekishod
 * refuses (here 64 variants nested around an ay: deeper than it reads). It
 * used to drop the whole connection, and with it the name: one message
 * from anyone took status and admin methods away until a restart. */
static void test_refused_message(void **state) {
        struct fixture *f = *state;
        DBusMessage *m = dbus_message_new_method_call(BUS_NAME, BUS_PATH, DBUS_INTERFACE_PROPERTIES, "Get");
        DBusMessageIter it[66];
        dbus_message_iter_init_append(m, &it[0]);
        char sig[80];
        int depth = 64;
        for (int i = 0; i < depth; i++) {
                snprintf(sig, sizeof sig, "%.*say", depth - i - 1, "vvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvv");
                assert_true(dbus_message_iter_open_container(&it[i], DBUS_TYPE_VARIANT, sig, &it[i + 1]));
        }
        assert_true(dbus_message_iter_open_container(&it[depth], DBUS_TYPE_ARRAY, "y", &it[depth + 1]));
        assert_true(dbus_message_iter_close_container(&it[depth], &it[depth + 1]));
        for (int i = depth; i > 0; i--)
                assert_true(dbus_message_iter_close_container(&it[i - 1], &it[i]));
        dbus_message_set_no_reply(m, TRUE);
        assert_true(dbus_connection_send(f->c, m, NULL));
        dbus_connection_flush(f->c);
        dbus_message_unref(m);
        DBusMessageIter v;
        const char *st;
        DBusMessage *r = get_prop(f->c, "State", &v);
        dbus_message_iter_get_basic(&v, &st);
        assert_string_equal(st, "enforcing");
        dbus_message_unref(r);
}

static void test_monitor(void **state) {
        struct fixture *f = *state;
        struct busclient_error err;
        DBusConnection *mon;
        assert_int_equal(busclient_open(BUS_SESSION, &mon, &err), 0);
        assert_int_equal(busclient_monitor_start(mon, &err), 0);
        const char *policy = "serial: 43\nlabel: \"x\"\n", *sig = "good-sig";
        assert_int_equal(busclient_apply(f->c, policy, strlen(policy), sig, 8, "two words.yaml", NULL, &err), 0);
        assert_int_equal(busclient_apply(f->c, "bad", 3, sig, 8, "b.yaml", NULL, &err), -EBADE);

        char *buf = NULL;
        size_t len = 0;
        FILE *out = open_memstream(&buf, &len);
        assert_int_equal(busclient_monitor(mon, out, false, 1, &err), 0);
        assert_int_equal(busclient_monitor(mon, out, true, 1, &err), 0);
        fclose(out);
        assert_non_null(strstr(buf, " PolicyApplied serial=43 name=\"two words.yaml\" via=dbus\n"));
        assert_non_null(strstr(buf, "\"signal\":\"PolicyRefused\",\"fields\":{\"name\":\"b.yaml\",\"reason\":"
                                    "\"bad-signature\"}}\n"));
        free(buf);
        busclient_close(mon);
}

/* The name is taken: a second service fails clearly. */
static void test_name_taken(void **state) {
        struct sekisho ctx = { 0 };
        struct bus *b = NULL;
        assert_int_equal(loop_new(&ctx.loop), 0);
        assert_int_equal(bus_open(&ctx, BUS_SESSION, &b), -EEXIST);
        assert_null(b);
        assert_int_equal(bus_open(&ctx, BUS_NONE, &b), -EINVAL);
        loop_free(ctx.loop);
}

/* Not root, and no polkit on this bus: every admin method is AccessDenied. */
static int non_root_calls(void) {
        struct busclient_error err;
        if (!freopen("/dev/null", "re", stdin))     /* no interactive polkit from a test */
                return 8;
        DBusConnection *c;
        if (busclient_open(BUS_SESSION, &c, &err) < 0) {
                fprintf(stderr, "non-root: %s\n", err.message);
                return 10;
        }
        int rc = 0;
        if (busclient_apply(c, "serial: 99\n", 11, "good-sig", 8, "x.yaml", NULL, &err) != -EACCES ||
            strcmp(err.name, DBUS_ERROR_ACCESS_DENIED) != 0 || !strstr(err.message, "polkit"))
                rc = 11;
        else if (busclient_set_profile(c, "travel", true, "", &err) != -EACCES)
                rc = 12;
        else if (busclient_reload(c, &err) != -EACCES)
                rc = 13;
        else {
                /* Reading status needs no privilege. */
                FILE *devnull = fopen("/dev/null", "we");
                if (busclient_status(c, devnull, true, &err) != 0)
                        rc = 14;
                fclose(devnull);
        }
        if (rc)
                fprintf(stderr, "non-root: step %d: %s: %s\n", rc, err.name, err.message);
        busclient_close(c);
        return rc;
}

static void test_non_root(void **state) {
        struct fixture *f = *state;
        if (geteuid() != 0) {
                assert_int_equal(non_root_calls(), 0);
        } else {
                struct passwd *pw = getpwnam("nobody");
                if (!pw)
                        skip_because("no user 'nobody': the unprivileged caller cannot be tested");
                pid_t pid = fork();
                assert_true(pid >= 0);
                if (pid == 0) {
                        if (setgroups(0, NULL) < 0 || setresgid(pw->pw_gid, pw->pw_gid, pw->pw_gid) < 0 ||
                            setresuid(pw->pw_uid, pw->pw_uid, pw->pw_uid) < 0)
                                _exit(9);
                        _exit(non_root_calls());
                }
                int status;
                assert_int_equal(waitpid(pid, &status, 0), pid);
                assert_true(WIFEXITED(status));
                assert_int_equal(WEXITSTATUS(status), 0);
        }
        assert_int_equal(get_serial(f->c), 43);
}

static void test_helpers(void **state) {
        assert_int_equal(bus_emit(NULL, "PolicyApplied", NULL), 0);
        bus_properties_changed(NULL);
        assert_string_equal(bus_error_from_errno(-EACCES), DBUS_ERROR_ACCESS_DENIED);
        assert_string_equal(bus_error_from_errno(-EPERM), DBUS_ERROR_ACCESS_DENIED);
        assert_string_equal(bus_error_from_errno(-EINVAL), DBUS_ERROR_INVALID_ARGS);
        assert_string_equal(bus_error_from_errno(-ENOENT), BUS_ERROR_PREFIX "NotFound");
        assert_string_equal(bus_error_from_errno(-ENOMEM), DBUS_ERROR_NO_MEMORY);
        assert_string_equal(bus_error_from_errno(-EIO), DBUS_ERROR_FAILED);
        assert_int_equal(busclient_refusal("org.example.Nope"), REFUSE_NONE);
        assert_int_equal(busclient_refusal(NULL), REFUSE_NONE);
}

/* Talking to a bus where sekishod is not running. */
static void test_not_running(void **state) {
        struct fixture *f = *state;
        struct busclient_error err;
        DBusConnection *mon;
        assert_int_equal(busclient_open(BUS_SESSION, &mon, &err), 0);
        assert_int_equal(busclient_monitor_start(mon, &err), 0);
        service_stop(f->service_pid);
        FILE *devnull = fopen("/dev/null", "we");
        assert_int_equal(busclient_status(f->c, devnull, false, &err), -ESRCH);
        fclose(devnull);
        assert_non_null(strstr(err.message, "not running"));
        assert_int_equal(busclient_reload(f->c, &err), -ESRCH);
        f->service_pid = service_start();
        assert_int_equal(get_serial(f->c), 7);

        /* The monitor saw the daemon go and come back. */
        char *buf = NULL;
        size_t len = 0;
        FILE *out = open_memstream(&buf, &len);
        assert_int_equal(busclient_monitor(mon, out, false, 1, &err), 0);
        assert_int_equal(busclient_monitor(mon, out, true, 1, &err), 0);
        fclose(out);
        assert_non_null(strstr(buf, " -- sekishod stopped\n"));
        assert_non_null(strstr(buf, "\"daemon\":\"started\"}\n"));
        free(buf);
        busclient_close(mon);
}


/* ---- a system-like bus: the shipped bus policy, and a polkit stand-in ---- */

static uid_t nobody_uid(void) {
        struct passwd *pw = getpwnam("nobody");
        return pw ? pw->pw_uid : 65534;
}

/* Answer CheckAuthorization like polkit would, for rules the test knows:
 * set-profile is granted to nobody (non-interactive), reload needs
 * authentication, apply-policy makes polkit fail. */
static char fake_polkit_hold[128];    /* while this file exists, reload checks are never answered */

static void fake_polkit_answer(DBusConnection *c, DBusMessage *m) {
        DBusMessage *reply = NULL;
        DBusMessageIter it, subj, dict, entry, var;
        const char *kind = NULL, *name = NULL, *action = NULL;
        dbus_uint32_t flags = 99;
        if (!dbus_message_has_signature(m, "(sa{sv})sa{ss}us")) {
                reply = dbus_message_new_error(m, DBUS_ERROR_INVALID_ARGS, "bad signature");
                goto send;
        }
        dbus_message_iter_init(m, &it);
        dbus_message_iter_recurse(&it, &subj);
        dbus_message_iter_get_basic(&subj, &kind);
        dbus_message_iter_next(&subj);
        for (dbus_message_iter_recurse(&subj, &dict); dbus_message_iter_get_arg_type(&dict) == DBUS_TYPE_DICT_ENTRY;
             dbus_message_iter_next(&dict)) {
                const char *k;
                dbus_message_iter_recurse(&dict, &entry);
                dbus_message_iter_get_basic(&entry, &k);
                dbus_message_iter_next(&entry);
                dbus_message_iter_recurse(&entry, &var);
                if (strcmp(k, "name") == 0 && dbus_message_iter_get_arg_type(&var) == DBUS_TYPE_STRING)
                        dbus_message_iter_get_basic(&var, &name);
        }
        dbus_message_iter_next(&it);
        dbus_message_iter_get_basic(&it, &action);
        dbus_message_iter_next(&it);
        dbus_message_iter_next(&it);
        dbus_message_iter_get_basic(&it, &flags);
        if (strcmp(kind, "system-bus-name") != 0 || !name) {
                reply = dbus_message_new_error(m, DBUS_ERROR_INVALID_ARGS, "bad subject");
                goto send;
        }
        if (strcmp(action, BUS_ACTION_APPLY_POLICY) == 0) {
                reply = dbus_message_new_error(m, "org.freedesktop.PolicyKit1.Error.Failed", "stand-in failure");
                goto send;
        }
        if (strcmp(action, BUS_ACTION_RELOAD) == 0 && access(fake_polkit_hold, F_OK) == 0)
                return;
        /* Who is the subject really? The test's caller must be the one asked about. */
        DBusError e = DBUS_ERROR_INIT;
        unsigned long uid = dbus_bus_get_unix_user(c, name, &e);
        dbus_error_free(&e);
        dbus_bool_t authorized = strcmp(action, BUS_ACTION_SET_PROFILE) == 0 && uid == nobody_uid() && flags == 0;
        dbus_bool_t challenge = strcmp(action, BUS_ACTION_RELOAD) == 0;
        DBusMessageIter out, st, d;
        reply = dbus_message_new_method_return(m);
        dbus_message_iter_init_append(reply, &out);
        dbus_message_iter_open_container(&out, DBUS_TYPE_STRUCT, NULL, &st);
        dbus_message_iter_append_basic(&st, DBUS_TYPE_BOOLEAN, &authorized);
        dbus_message_iter_append_basic(&st, DBUS_TYPE_BOOLEAN, &challenge);
        dbus_message_iter_open_container(&st, DBUS_TYPE_ARRAY, "{ss}", &d);
        dbus_message_iter_close_container(&st, &d);
        dbus_message_iter_close_container(&out, &st);
send:
        dbus_connection_send(c, reply, NULL);
        dbus_message_unref(reply);
}

static pid_t fake_polkit_start(const char *dir) {
        int p[2];
        assert_int_equal(pipe2(p, O_CLOEXEC), 0);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                close(p[0]);
                snprintf(fake_polkit_hold, sizeof fake_polkit_hold, "%s/hold", dir);
                DBusError e = DBUS_ERROR_INIT;
                DBusConnection *c = dbus_bus_get_private(DBUS_BUS_SESSION, &e);
                if (!c || dbus_bus_request_name(c, "org.freedesktop.PolicyKit1", DBUS_NAME_FLAG_DO_NOT_QUEUE, &e) !=
                                  DBUS_REQUEST_NAME_REPLY_PRIMARY_OWNER)
                        _exit(3);
                if (write(p[1], "R", 1) != 1)
                        _exit(4);
                close(p[1]);
                while (dbus_connection_read_write(c, -1)) {
                        DBusMessage *m;
                        while ((m = dbus_connection_pop_message(c))) {
                                if (dbus_message_is_method_call(m, "org.freedesktop.PolicyKit1.Authority",
                                                                "CheckAuthorization"))
                                        fake_polkit_answer(c, m);
                                dbus_message_unref(m);
                        }
                }
                _exit(0);
        }
        close(p[1]);
        char c = 0;
        assert_int_equal(read(p[0], &c, 1), 1);
        close(p[0]);
        return pid;
}

static int setup_system(void **state) {
        struct fixture *f = calloc(1, sizeof *f);
        *state = f;
        char conf[512];
        const char *srcdir = getenv("top_srcdir");
        snprintf(conf, sizeof conf, "%s/systemd/org.sekisho.Sekisho1.conf", srcdir ? srcdir : ".");
        _cleanup_free_ char *abs = realpath(conf, NULL);    /* dbus-daemon resolves relative to bus.conf */
        if (!abs || bus_start(f, system_policy, abs) < 0)
                return -1;
        f->service_pid = service_start();
        f->polkit_pid = fake_polkit_start(f->dir);
        return connect_client(f);
}

static void test_system_root(void **state) {
        struct fixture *f = *state;
        struct busclient_error err;
        uint64_t serial = 0;
        assert_int_equal(busclient_apply(f->c, "serial: 60\n", 11, "good-sig", 8, "root.yaml", &serial, &err), 0);
        assert_int_equal(serial, 60);
        assert_int_equal(busclient_reload(f->c, &err), 0);
}

static int system_nobody_calls(void) {
        struct busclient_error err;
        DBusConnection *c;
        if (!freopen("/dev/null", "re", stdin))
                return 8;
        if (busclient_open(BUS_SESSION, &c, &err) < 0)
                return 10;
        int rc = 0;
        DBusError e = DBUS_ERROR_INIT;
        FILE *devnull = fopen("/dev/null", "we");
        const char *iface = BUS_IFACE, *pn = "State";
        DBusMessage *r;
        /* Status and introspection are open to everyone. */
        if (busclient_status(c, devnull, false, &err) != 0)
                rc = 11;
        else if (!(r = call(c, DBUS_INTERFACE_INTROSPECTABLE, "Introspect", &e, DBUS_TYPE_INVALID)))
                rc = 12;
        /* polkit grants set-profile to this caller. */
        else if (dbus_message_unref(r), busclient_set_profile(c, "travel", true, "by nobody", &err) != 0)
                rc = 13;
        /* polkit wants authentication for reload: refused, and the reason says so. */
        else if (busclient_reload(c, &err) != -EACCES || !strstr(err.message, "authentication required"))
                rc = 14;
        /* polkit fails: refused. */
        else if (busclient_apply(c, "serial: 61\n", 11, "good-sig", 8, "n.yaml", NULL, &err) != -EACCES ||
                 !strstr(err.message, "polkit check failed"))
                rc = 15;
        /* The bus itself refuses what the policy does not list, and the name to non-root. */
        else if ((r = call(c, DBUS_INTERFACE_PROPERTIES, "Set", &e, DBUS_TYPE_STRING, &iface, DBUS_TYPE_STRING, &pn,
                           DBUS_TYPE_INVALID)) ||
                 !dbus_error_has_name(&e, DBUS_ERROR_ACCESS_DENIED))
                rc = 16;
        else {
                dbus_error_free(&e);
                if (dbus_bus_request_name(c, BUS_NAME, DBUS_NAME_FLAG_DO_NOT_QUEUE, &e) != -1 ||
                    !dbus_error_has_name(&e, DBUS_ERROR_ACCESS_DENIED))
                        rc = 17;
        }
        if (rc)
                fprintf(stderr, "nobody on the system-like bus: step %d: %s: %s / %s\n", rc, err.name, err.message,
                        e.message ? e.message : "");
        dbus_error_free(&e);
        fclose(devnull);
        busclient_close(c);
        return rc;
}

static void test_system_nobody(void **state) {
        struct fixture *f = *state;
        struct passwd *pw = getpwnam("nobody");
        if (!pw)
                skip_because("no user 'nobody': the unprivileged caller cannot be tested");
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                if (setgroups(0, NULL) < 0 || setresgid(pw->pw_gid, pw->pw_gid, pw->pw_gid) < 0 ||
                    setresuid(pw->pw_uid, pw->pw_uid, pw->pw_uid) < 0)
                        _exit(9);
                _exit(system_nobody_calls());
        }
        int status;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
        /* The granted SetProfile reached the core. */
        DBusMessageIter v, a;
        DBusMessage *r = get_prop(f->c, "ActiveProfiles", &v);
        dbus_message_iter_recurse(&v, &a);
        assert_int_equal(dbus_message_iter_get_arg_type(&a), DBUS_TYPE_STRING);
        dbus_message_unref(r);
}


/* Callers cannot pile up requests waiting for polkit: past the limit they get
 * LimitsExceeded at once, and the daemon keeps answering everyone else. The
 * requests still pending are dropped when the service closes (under ASan: no leak). */
static int system_flood_calls(void) {
        struct busclient_error err;
        DBusConnection *c;
        if (!freopen("/dev/null", "re", stdin))
                return 8;
        if (busclient_open(BUS_SESSION, &c, &err) < 0)
                return 10;
        DBusPendingCall *pending[BUS_MAX_PENDING_AUTH];
        for (size_t i = 0; i < BUS_MAX_PENDING_AUTH; i++) {
                DBusMessage *m = dbus_message_new_method_call(BUS_NAME, BUS_PATH, BUS_IFACE, "Reload");
                if (!dbus_connection_send_with_reply(c, m, &pending[i], DBUS_TIMEOUT_INFINITE))
                        return 11;
                dbus_message_unref(m);
        }
        int rc = 0;
        if (busclient_reload(c, &err) != -E2BIG || strcmp(err.name, DBUS_ERROR_LIMITS_EXCEEDED) != 0)
                rc = 12;
        if (rc)
                fprintf(stderr, "flood: step %d: %s: %s\n", rc, err.name, err.message);
        for (size_t i = 0; i < BUS_MAX_PENDING_AUTH; i++) {
                if (dbus_pending_call_get_completed(pending[i]))
                        rc = 13;     /* none may have been answered: polkit holds them */
                dbus_pending_call_cancel(pending[i]);
                dbus_pending_call_unref(pending[i]);
        }
        busclient_close(c);
        return rc;
}

static void test_system_limits(void **state) {
        struct fixture *f = *state;
        struct passwd *pw = getpwnam("nobody");
        if (!pw)
                skip_because("no user 'nobody': the unprivileged caller cannot be tested");
        char hold[128];
        snprintf(hold, sizeof hold, "%s/hold", f->dir);
        FILE *h = fopen(hold, "we");
        assert_non_null(h);
        fclose(h);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                if (setgroups(0, NULL) < 0 || setresgid(pw->pw_gid, pw->pw_gid, pw->pw_gid) < 0 ||
                    setresuid(pw->pw_uid, pw->pw_uid, pw->pw_uid) < 0)
                        _exit(9);
                _exit(system_flood_calls());
        }
        int status;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
        assert_int_equal(get_serial(f->c), 60);
        /* Root does not wait for polkit, whatever is pending. */
        struct busclient_error err;
        assert_int_equal(busclient_reload(f->c, &err), 0);
}

int main(void) {
        if (access("/usr/bin/dbus-daemon", X_OK) < 0 && system("command -v dbus-daemon >/dev/null") != 0) {
                printf("SKIP: dbus-daemon is not installed\n");
                return 77;
        }
        signal(SIGPIPE, SIG_IGN);
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_helpers),
                cmocka_unit_test(test_properties),
                cmocka_unit_test(test_status_output),
                cmocka_unit_test(test_introspect),
                cmocka_unit_test(test_apply),
                cmocka_unit_test(test_apply_refused),
                cmocka_unit_test(test_apply_oversize),
                cmocka_unit_test(test_profiles_reload),
                cmocka_unit_test(test_large_reply),
                cmocka_unit_test(test_refused_message),
                cmocka_unit_test(test_monitor),
                cmocka_unit_test(test_name_taken),
                cmocka_unit_test(test_non_root),
                cmocka_unit_test(test_not_running),
        };
        int r = cmocka_run_group_tests_name("open bus", tests, setup, teardown);

        /* The shipped bus policy on a system-like bus: needs root to own the name and to
         * switch to nobody for the caller. */
        const char *srcdir = getenv("top_srcdir");
        char conf[512];
        snprintf(conf, sizeof conf, "%s/systemd/org.sekisho.Sekisho1.conf", srcdir ? srcdir : ".");
        const struct CMUnitTest system_tests[] = {
                cmocka_unit_test(test_system_root),
                cmocka_unit_test(test_system_nobody),
                cmocka_unit_test(test_system_limits),
        };
        if (geteuid() != 0) {
                printf("SKIP: the system-bus policy tests need root\n");
                test_skipped++;
        } else if (access(conf, R_OK) < 0) {
                printf("SKIP: %s not found (set top_srcdir)\n", conf);
                test_skipped++;
        } else
                r |= cmocka_run_group_tests_name("system-like bus", system_tests, setup_system, teardown);
        dbus_shutdown();
        return test_exit(r);
}
