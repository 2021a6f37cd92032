/* test-report-rows.c — each plugin's compliance-report rows, judged from sections that do and do not enforce, offline and with live status. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "plugin.h"
#include "policy.h"
#include "util.h"

/* The plugin's rows for the effective section of a policy (header added),
 * with profiles active; live may be NULL (daemon not running). */
static struct report_rows rows_for(const char *plugin, const char *body, char *const *active, size_t n_active,
                                   const struct kvlist *live) {
        const struct sekisho_plugin *p = plugin_find(plugin);
        if (!p)
                skip();
        assert_non_null(p->report);
        char *text = NULL;
        assert_true(asprintf(&text, "sekisho: 1\nserial: 1\n%s", body) > 0);
        struct policy *pol = NULL;
        struct perrors errs = { 0 };
        int r = policy_parse("test.yaml", text, strlen(text), &pol, &errs);
        if (r < 0)
                fail_msg("%s", perrors_first(&errs) ? perrors_first(&errs) : "policy_parse failed");
        perrors_clear(&errs);
        free(text);
        struct ptree *section = NULL;
        assert_int_equal(policy_effective_section(pol, p->section, active, n_active, &section), 0);
        struct report_rows rows = { 0 };
        p->report(section->root, live, &rows);
        ptree_free(section);
        policy_free(pol);
        return rows;
}

static const struct report_row *row(const struct report_rows *rows, const char *id) {
        for (size_t i = 0; i < rows->n; i++)
                if (strcmp(rows->v[i].requirement, id) == 0)
                        return &rows->v[i];
        fail_msg("no row for %s", id);
        return NULL;
}

static void expect(const char *plugin, const char *body, const char *id, enum report_state want, const char *why) {
        struct report_rows rows = rows_for(plugin, body, NULL, 0, NULL);
        const struct report_row *r = row(&rows, id);
        if (r->state != want || (why && !strstr(r->reason, why)))
                fail_msg("%s %s under '%s': state %d (want %d), reason '%s' (want '%s'); setting '%s'", plugin, id, body,
                         r->state, want, r->reason, why ? why : "", r->setting);
        report_rows_clear(&rows);
}

static void test_usb(void **state) {
        (void)state;
        expect("usb", "", "R1", REPORT_ENFORCED, "blocks mass storage");
        expect("usb", "usb: { default: block, rules: [allow] }\n", "R1", REPORT_NOT_ENFORCED,
               "a USB stick is authorized: rule 1 (allow) allows it");
        expect("usb", "usb: { default: allow, rules: [] }\n", "R1", REPORT_NOT_ENFORCED, "the default is allow");
        expect("usb", "usb: { rules: [\"allow with-interface one-of { 03:*:* }\"] }\n", "R1", REPORT_NOT_ENFORCED,
               "a keyboard with a storage interface gets its storage");
        expect("usb", "usb: { rules: [\"allow with-interface one-of { 03:*:* } allow-interfaces { 03:*:* }\"] }\n", "R1",
               REPORT_ENFORCED, NULL);
        /* The embedded default's travel profile keeps storage out even under an allow-all policy. */
        char *travel[] = { (char *)"travel" };
        struct report_rows rows = rows_for("usb", "usb: { default: block, rules: [allow] }\n", travel, 1, NULL);
        assert_int_equal(row(&rows, "R1")->state, REPORT_ENFORCED);
        report_rows_clear(&rows);
}

static void test_usb_live(void **state) {
        (void)state;
        struct kvlist live = { 0 };
        kvlist_add(&live, "devices-attached", "3");
        kvlist_add(&live, "mass-storage", "blocked");
        kvlist_add(&live, "devices-not-decided-under-policy", "1");
        struct report_rows rows = rows_for("usb", "", NULL, 0, &live);
        assert_int_equal(row(&rows, "R1")->state, REPORT_NOT_ENFORCED);
        assert_non_null(strstr(row(&rows, "R1")->reason, "1 of 3 attached device(s) were not decided under it"));
        report_rows_clear(&rows);
        kvlist_clear(&live);

        kvlist_add(&live, "devices-attached", "3");
        kvlist_add(&live, "mass-storage", "blocked");
        kvlist_add(&live, "devices-not-decided-under-policy", "0");
        rows = rows_for("usb", "", NULL, 0, &live);
        assert_int_equal(row(&rows, "R1")->state, REPORT_ENFORCED);
        assert_non_null(strstr(row(&rows, "R1")->setting, "usb.default: block"));
        report_rows_clear(&rows);
        kvlist_clear(&live);

        /* What the daemon applies wins over what the files say. */
        kvlist_add(&live, "mass-storage", "a USB stick is authorized: rule 1 (allow) allows it");
        kvlist_add(&live, "devices-not-decided-under-policy", "0");
        rows = rows_for("usb", "", NULL, 0, &live);
        assert_int_equal(row(&rows, "R1")->state, REPORT_NOT_ENFORCED);
        report_rows_clear(&rows);
        kvlist_clear(&live);
}

static void test_net(void **state) {
        (void)state;
        expect("net", "", "R4", REPORT_ENFORCED, NULL);
        expect("net", "", "R5", REPORT_ENFORCED, NULL);
        expect("net", "", "R8", REPORT_PARTIAL, "nor a destination allow-list");
        expect("net", "network: { peer-to-peer: allow }\n", "R4", REPORT_NOT_ENFORCED, "allows it");
        expect("net", "network: { file-sharing: allow }\n", "R5", REPORT_NOT_ENFORCED, NULL);
        expect("net", "network: { allow-destinations: [ { host: 192.0.2.10, proto: tcp, port: 443 } ] }\n", "R8",
               REPORT_ENFORCED, NULL);
        expect("net", "network: { public-networks: { vpn-endpoints: [198.51.100.10], vpn-interfaces: [wg0] } }\n", "R8",
               REPORT_ENFORCED, "kill switch");
        expect("net", "network: { public-networks: { office-server: \"192.0.2.1:443\", "
               "spki-sha256: \"47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\", vpn-endpoints: [198.51.100.10], "
               "vpn-interfaces: [wg0] } }\n", "R8", REPORT_ENFORCED, "pinned TLS handshake");
}

static void test_vdi(void **state) {
        (void)state;
        expect("vdi", "", "R3", REPORT_ENFORCED, "5 of 5");
        expect("vdi", "vdi: { clipboard: allow }\n", "R3", REPORT_PARTIAL, "4 of 5");
        expect("vdi", "vdi: { clipboard: allow, drives: allow, printers: allow, usb-redirect: allow, serial-ports: allow }\n",
               "R3", REPORT_NOT_ENFORCED, "0 of 5");
        /* With servers: which clients are approved, locked or refused, and why. */
        expect("vdi", "vdi: { servers: [\"198.51.100.10:3389\"], client: freerdp }\n", "R3", REPORT_ENFORCED,
               "reachable only from the approved client's cgroup");
        struct report_rows rows = rows_for("vdi", "vdi: { servers: [\"198.51.100.10\"], client: spice }\n", NULL, 0, NULL);
        const struct report_row *r3 = row(&rows, "R3");
        assert_non_null(strstr(r3->setting, "vdi.client: spice (refused)"));
        assert_non_null(strstr(r3->setting, "clients: approved none; locked freerdp,remmina;"));
        assert_non_null(strstr(r3->setting, "spice(clipboard)"));
        assert_non_null(strstr(r3->setting, "vnc(clipboard)"));
        assert_non_null(strstr(r3->setting, "browser(clipboard)"));
        assert_non_null(strstr(r3->reason, "the approved client is refused: SPICE"));
        report_rows_clear(&rows);
        /* Approved and lockable, but without a launcher: refused, and listed as such. */
        rows = rows_for("vdi", "vdi: { servers: [\"198.51.100.10\"], client: remmina }\n", NULL, 0, NULL);
        r3 = row(&rows, "R3");
        assert_non_null(strstr(r3->setting, "vdi.client: remmina (refused)"));
        assert_non_null(strstr(r3->setting, "clients: approved none; locked freerdp;"));
        assert_non_null(strstr(r3->setting, "remmina(no launcher)"));
        assert_non_null(strstr(r3->reason, "launcher for FreeRDP only"));
        report_rows_clear(&rows);
}

static void test_posture(void **state) {
        (void)state;
        expect("posture", "", "R5", REPORT_ENFORCED, NULL);
        expect("posture", "", "R6", REPORT_NOT_ENFORCED, "any OS");
        expect("posture", "", "R7", REPORT_NOT_ENFORCED, NULL);
        expect("posture", "posture: { forbidden-software: [] }\n", "R5", REPORT_NOT_ENFORCED, NULL);
        const char *strict = "posture: { action: quarantine, allowed-os: [ { id: debian, min-version: \"12\" } ] }\n";
        /* R6 asks for a password lock too: the OS list alone is partial. */
        expect("posture", strict, "R6", REPORT_PARTIAL, "password lock is not fully required");
        expect("posture",
               "posture: { action: quarantine, allowed-os: [ { id: debian } ], require-screen-lock: true,"
               " password-min-length: 12 }\n",
               "R6", REPORT_ENFORCED, "the screen lock, the password length");
        expect("posture", strict, "R7", REPORT_ENFORCED, "quarantined");
        expect("posture", "posture: { allowed-os: [ { id: debian } ] }\n", "R6", REPORT_PARTIAL, "only reported");
}

static void test_travel(void **state) {
        (void)state;
        expect("travel", "", "R2", REPORT_NOT_ENFORCED, "no reset on return");
        expect("travel", "", "R11", REPORT_PARTIAL, NULL);
        const char *trip = "travel:\n  high-risk-regions: [CN]\n  return:\n    reset: true\n    grace: 24h\n"
                           "    home-server: 192.0.2.10:443\n    server-name: home.example.lg.jp\n"
                           "    spki-sha256: 47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n"
                           "  reset-plan:\n    luks-volumes: [/dev/disk/by-partlabel/home]\n";
        expect("travel", trip, "R2", REPORT_ENFORCED, NULL);
        expect("travel", trip, "R11", REPORT_ENFORCED, "cryptographic erase");
}

int main(void) {
        log_setup("test-report-rows", false);
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_usb),     cmocka_unit_test(test_usb_live), cmocka_unit_test(test_net),
                cmocka_unit_test(test_vdi),     cmocka_unit_test(test_posture),  cmocka_unit_test(test_travel),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
