/* test-vdi-lockdown.c — lockdown file contents per deny set, Remmina profile rewriting, policy section checks and decisions. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lockdown.h"
#include "vdi-policy.h"
#include "vdi-proc.h"

static void test_citrix(void **s) {
        (void) s;
        char *c;
        size_t n;
        assert_int_equal(lockdown_citrix_ini(VDI_RES_ALL, &c, &n), 0);
        assert_non_null(strstr(c, "[Virtual Channels\\Clipboard]\nClipboardAllowed=False\n"));
        assert_non_null(strstr(c, "CDMAllowed=Off"));
        assert_non_null(strstr(c, "CPMAllowed=Off"));
        assert_non_null(strstr(c, "COMAllowed=Off"));
        assert_non_null(strstr(c, "AllowAudioInput=Off"));
        assert_non_null(strstr(c, "SmartCardAllowed=False"));
        free(c);
        assert_int_equal(lockdown_citrix_ini(1u << VDI_RES_DRIVES, &c, &n), 0);
        assert_null(strstr(c, "ClipboardAllowed"));
        assert_non_null(strstr(c, "CDMAllowed=Off"));
        free(c);
        assert_int_equal(lockdown_horizon(VDI_RES_ALL, &c, &n), 0);
        assert_non_null(strstr(c, "view.usbAutoConnectOnInsert = \"FALSE\""));
        free(c);
}

static void test_remmina(void **s) {
        (void) s;
        const char *old = "[remmina]\nname=a\ndisableclipboard=0\n  sharefolder = /home/a\nshareprinter=1\n"
                          "[other]\ndisableclipboard=0\n";
        char *c;
        size_t n;
        assert_int_equal(lockdown_remmina_profile(VDI_RES_ALL & ~(1u << VDI_RES_SMARTCARD), old, strlen(old), &c, &n), 0);
        assert_non_null(strstr(c, "[remmina]\nname=a\ndisableclipboard=1\nsharefolder=\nshareprinter=0\n"));
        assert_null(strstr(c, "/home/a"));
        assert_null(strstr(c, "sharesmartcard"));
        assert_non_null(strstr(c, "[other]\ndisableclipboard=0\n")); /* other groups untouched */
        /* idempotent */
        char *c2;
        size_t n2;
        assert_int_equal(lockdown_remmina_profile(VDI_RES_ALL & ~(1u << VDI_RES_SMARTCARD), c, n, &c2, &n2), 0);
        assert_int_equal(n, n2);
        assert_memory_equal(c, c2, n);
        free(c2);
        free(c);
        /* no group at all, no final newline */
        assert_int_equal(lockdown_remmina_profile(1u << VDI_RES_CLIPBOARD, "name=x", 6, &c, &n), 0);
        assert_string_equal(c, "name=x\n[remmina]\ndisableclipboard=1\n");
        free(c);
        assert_int_equal(lockdown_remmina_profile(1u << VDI_RES_CLIPBOARD, "a\0b", 3, &c, &n), -EBADMSG);
}

static void test_policy(void **s) {
        (void) s;
        const char *doc = "vdi:\n  clipboard: allow\n  drives: deny\n  allow-devices: [keyboard, smartcard]\n"
                          "  allow-clients: [freerdp, spice]\n";
        struct ptree *t = NULL;
        struct perrors errs = { 0 };
        assert_int_equal(ptree_parse("t.yaml", doc, strlen(doc), &t, &errs), 0);
        const struct pnode *sec = pmap_get(t->root, "vdi");
        assert_int_equal(vdi_policy_check(sec, &errs), 0);
        struct vdi_policy p;
        vdi_policy_from_section(sec, &p);
        assert_false(p.deny & (1u << VDI_RES_CLIPBOARD));
        assert_true(p.deny & (1u << VDI_RES_DRIVES));
        assert_true(p.deny & (1u << VDI_RES_PRINTERS)); /* absent: denied */
        assert_false(p.deny & (1u << VDI_RES_SMARTCARD)); /* from allow-devices */
        assert_true(p.client_allowed[VDI_CLIENT_FREERDP]);
        assert_false(p.client_allowed[VDI_CLIENT_CITRIX]);
        int res;
        assert_string_equal(vdi_policy_refuses(&p, &vdi_clients[VDI_CLIENT_CITRIX], &res), "vdi.allow-clients");
        assert_string_equal(vdi_policy_refuses(&p, &vdi_clients[VDI_CLIENT_SPICE], &res), "vdi.drives");
        assert_null(vdi_policy_refuses(&p, &vdi_clients[VDI_CLIENT_FREERDP], &res));
        ptree_free(t);

        const char *bad = "vdi:\n  clipboard: maybe\n  colour: red\n  allow-devices: [toaster]\n"
                          "  allow-clients: [mstsc]\n  smartcard: deny\n";
        const char *bad2 = "vdi:\n  smartcard: deny\n  allow-devices: [smartcard]\n";
        assert_int_equal(ptree_parse("t.yaml", bad, strlen(bad), &t, &errs), 0);
        assert_true(vdi_policy_check(pmap_get(t->root, "vdi"), &errs) >= 4);
        ptree_free(t);
        perrors_clear(&errs);
        assert_int_equal(ptree_parse("t.yaml", bad2, strlen(bad2), &t, &errs), 0);
        assert_int_equal(vdi_policy_check(pmap_get(t->root, "vdi"), &errs), 1);
        assert_non_null(strstr(perrors_first(&errs), "t.yaml:2:"));
        ptree_free(t);
        perrors_clear(&errs);

        /* NULL section: strict built-in, everything denied; Horizon needs server-side settings. */
        vdi_policy_from_section(NULL, &p);
        assert_int_equal(p.deny, VDI_RES_ALL);
        assert_non_null(vdi_policy_refuses(&p, &vdi_clients[VDI_CLIENT_HORIZON], &res));
        assert_null(vdi_policy_refuses(&p, &vdi_clients[VDI_CLIENT_REMMINA], &res));
}

static void test_caps_table(void **s) {
        (void) s;
        /* Every client has an enforcement and a line of explanation for every resource. */
        for (size_t c = 0; c < _VDI_CLIENT_MAX; c++) {
                assert_int_equal(vdi_clients[c].id, (int) c);
                for (int r = 0; r < _VDI_RES_MAX; r++)
                        assert_non_null(vdi_clients[c].how[r]);
                for (const char *const *e = vdi_clients[c].execs; *e; e++)
                        assert_ptr_equal(vdi_client_by_exec(*e), &vdi_clients[c]);
        }
        assert_null(vdi_client_by_exec("bash"));
        assert_null(vdi_client_by_exec("xfreerdp.sh"));
        assert_null(vdi_client_by_exec(""));
}

static struct vdi_decision remmina(const char *arg1, const char *arg2) {
        struct vdi_proc p = { .pid = getpid(), .uid = getuid(), .gid = getgid() };
        char *argv[] = { "remmina", (char *) arg1, (char *) arg2, NULL };
        p.argv = argv;
        p.argc = arg2 ? 3 : arg1 ? 2 : 1;
        p.proc_fd = open("/proc/self", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        struct vdi_policy pol;
        vdi_policy_from_section(NULL, &pol);
        struct vdi_decision d;
        vdi_decide(&pol, &vdi_clients[VDI_CLIENT_REMMINA], &p, &d);
        close(p.proc_fd);
        return d;
}

static void test_remmina_invocation(void **s) {
        (void) s;
        char dir[] = "/tmp/test-vdi-XXXXXX";
        assert_non_null(mkdtemp(dir));
        char good[64], bad[64];
        snprintf(good, sizeof good, "%s/good.remmina", dir);
        snprintf(bad, sizeof bad, "%s/bad.remmina", dir);
        char *locked;
        size_t n;
        assert_int_equal(lockdown_remmina_profile(VDI_RES_ALL, "[remmina]\nserver=x\n", 18, &locked, &n), 0);
        FILE *f = fopen(good, "we");
        fwrite(locked, 1, n, f);
        fclose(f);
        free(locked);
        f = fopen(bad, "we");
        fputs("[remmina]\nserver=x\ndisableclipboard=0\n", f);
        fclose(f);

        /* A test run with loader variables set is itself "injected": only the denials can be checked then. */
        bool clean_env = !getenv("LD_PRELOAD") && !getenv("LD_AUDIT") && !getenv("LD_LIBRARY_PATH");
        if (clean_env) {
                assert_false(remmina(NULL, NULL).kill);         /* the GUI: profiles are locked on disk */
                assert_false(remmina("-c", good).kill);
        }
        assert_true(remmina("-c", bad).kill);
        char opt[96];
        snprintf(opt, sizeof opt, "--connect=%s", bad);
        assert_true(remmina(opt, NULL).kill);
        assert_true(remmina("-c", "rdp://192.0.2.1").kill);
        assert_true(remmina("-c", "/tmp/x.rdp").kill);
        assert_true(remmina("-c", "/nonexistent/a.remmina").kill);
        unlink(good);
        unlink(bad);
        rmdir(dir);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_citrix),
                cmocka_unit_test(test_remmina),
                cmocka_unit_test(test_policy),
                cmocka_unit_test(test_caps_table),
                cmocka_unit_test(test_remmina_invocation),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
