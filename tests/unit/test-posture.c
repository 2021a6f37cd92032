/* test-posture.c — posture parsers on good and hostile input, the checks on every fixture root, the report, and the plugin's quarantine decisions with a stub core. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "default-fragment.h"
#include "evaluate.h"
#include "facts.h"
#include "loop.h"
#include "plugin.h"
#include "posturectl.h"
#include "ptree.h"
#include "stub-core.h"
#include "util.h"

/* sekishoctl's entry point needs the policy store; posture-report.sh runs it for real. */
struct sekisho_ctl_env;

extern const struct sekisho_plugin sekisho_plugin_posture;

/* 2026-11-22T00:00:00Z: the fixtures' "fresh" databases are 9 hours old then. */
#define NOW 1795305600

static char *fixture(const char *name) {
        const char *top = getenv("top_srcdir");
        char *p;
        assert_true(asprintf(&p, "%s/tests/data/posture/%s", top ? top : ".", name) > 0);
        return p;
}

/* ---- os-release ---- */

static void test_osrelease(void **state) {
        struct osrelease o;
        char why[256];
        const char *good = "# comment\nNAME=\"Debian GNU/Linux\"\nID=debian\nVERSION_ID='12'\n"
                           "PRETTY_NAME=\"say \\\"hi\\\" \\$x \\\\ done\"\n  VERSION_CODENAME=bookworm  \n\nFOO=bar\\ baz\n";
        assert_int_equal(osrelease_parse(good, strlen(good), &o, why, sizeof why), 0);
        assert_string_equal(o.id, "debian");
        assert_string_equal(o.version_id, "12");
        assert_string_equal(o.codename, "bookworm");
        assert_string_equal(o.pretty_name, "say \"hi\" $x \\ done");

        const char *arch = "NAME=\"Arch Linux\"\nID=arch\nBUILD_ID=rolling\n";
        assert_int_equal(osrelease_parse(arch, strlen(arch), &o, why, sizeof why), 0);
        assert_string_equal(o.version_id, "");
        assert_string_equal(o.build_id, "rolling");

        static const char *const bad[] = {
                "ID=debian\nVERSION_ID=\"12\n",           /* unterminated */
                "ID=debian\nNAME=$(reboot)\n",            /* expansion */
                "ID=debian\nNAME=\"a`id`\"\n",            /* expansion in quotes */
                "ID=debian\nID=ubuntu\n",                 /* twice */
                "ID=Debian\n",                            /* upper case ID */
                "ID=debian\nVERSION_ID=\"12 13\"\n",      /* space in VERSION_ID */
                "ID=debian\nthis is not a line\n",
                "ID=debian\nNAME=\"a\"b\n",               /* concatenation */
                "NAME=x\n",                               /* no ID */
                "ID=debian\nNAME=a;b\n",
                "=x\nID=debian\n",
                "ID=deb\\",
        };
        for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
                why[0] = '\0';
                assert_int_equal(osrelease_parse(bad[i], strlen(bad[i]), &o, why, sizeof why), -EINVAL);
                assert_true(why[0] != '\0');
        }
        char bin[] = "ID=debian\n\0VERSION_ID=12\n";
        assert_int_equal(osrelease_parse(bin, sizeof bin - 1, &o, why, sizeof why), -EINVAL);
        char *huge = malloc(OSRELEASE_MAX + 10);
        memset(huge, 'a', OSRELEASE_MAX + 10);
        assert_int_equal(osrelease_parse(huge, OSRELEASE_MAX + 10, &o, why, sizeof why), -EFBIG);
        memcpy(huge, "ID=", 3);
        assert_int_equal(osrelease_parse(huge, OSRELEASE_MAX, &o, why, sizeof why), -EINVAL); /* long line */
        free(huge);
}

/* ---- dpkg status ---- */

#define PKG(n, v, s) "Package: " n "\nStatus: " s "\nVersion: " v "\nDescription: x\n long\n .\n more\n\n"

/* dpkgstatus_parse() takes a buffer of its own, as the plugin reads one. */
static int parse_status(const char *text, size_t size, struct pkgdb *db, char *why, size_t why_size) {
        char *copy = memdup_nul(text, size);
        return dpkgstatus_parse(&copy, size, db, why, why_size);
}

static void test_dpkgstatus(void **state) {
        struct pkgdb db;
        char why[256];
        const char *good = PKG("qbittorrent", "4.5.2-3", "install ok installed")
                PKG("deluge", "2.0", "deinstall ok config-files") PKG("libc6", "2.36-9", "install ok unpacked");
        assert_int_equal(parse_status(good, strlen(good), &db, why, sizeof why), 0);
        assert_int_equal(db.n, 3);
        assert_non_null(pkgdb_find(&db, "qbittorrent"));
        assert_null(pkgdb_find(&db, "deluge")); /* only config files left */
        assert_non_null(pkgdb_find(&db, "libc6"));
        pkgdb_clear(&db);

        assert_int_equal(parse_status("", 0, &db, why, sizeof why), 0);
        assert_int_equal(db.n, 0);
        pkgdb_clear(&db);

        static const char *const bad[] = {
                PKG("a", "1", "install ok installed") "Package: b\nStatus: install ok inst", /* truncated */
                "Package: a\nStatus: install ok installed\nVersion: 1\n",                      /* no final empty line */
                "Package: a\nVersion: 1\n\n",                                                   /* no Status */
                "Status: install ok installed\nVersion: 1\n\n",                                 /* no Package */
                "Package: a\nPackage: b\nStatus: install ok installed\n\n",                     /* duplicate */
                "Package: A\nStatus: install ok installed\n\n",                                 /* bad name */
                "Package: a\nStatus: install ok\n\n",                                           /* two words */
                "Package: a\nStatus: install ok flying\n\n",                                    /* unknown state */
                "Package: a\nStatus: install ok installed\nVersion: 1:\n\n",                    /* bad version */
                " continuation\n\n",                                                            /* no field */
                "Package: a\nnot a field\n\n",
                "Package: a\nStatus: install ok installed\nX: \xff\xfe\n\n",                    /* not UTF-8 */
        };
        for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
                why[0] = '\0';
                int r = parse_status(bad[i], strlen(bad[i]), &db, why, sizeof why);
                if (r != -EINVAL)
                        fail_msg("case %zu: got %d", i, r);
                assert_true(why[0] != '\0');
        }
        char bin[] = "Package: a\0\nStatus: install ok installed\n\n";
        assert_int_equal(parse_status(bin, sizeof bin - 1, &db, why, sizeof why), -EINVAL);
        assert_non_null(strstr(why, "NUL"));

        /* A line longer than the bound. */
        size_t n = DPKG_STATUS_MAX_LINE + 100;
        char *big = malloc(n + 64);
        int off = sprintf(big, "Package: a\nStatus: install ok installed\nDescription: ");
        memset(big + off, 'x', n);
        memcpy(big + off + n, "\n\n", 3);
        assert_int_equal(parse_status(big, strlen(big), &db, why, sizeof why), -EINVAL);
        assert_non_null(strstr(why, "longer"));
        free(big);
}

/* ---- ClamAV headers ---- */

static void header(char *buf, const char *text) {
        memset(buf, ' ', CLAMAV_HEADER_SIZE);
        memcpy(buf, text, strlen(text));
}

static void test_clamav_header(void **state) {
        char h[CLAMAV_HEADER_SIZE];
        int64_t t;
        uint64_t v;
        header(h, "ClamAV-VDB:16 Apr 2020 07-58 -0400:25784:2267600:63:92baacd59fd26e6bcf03077add78d209:sig:raynman:1587038337");
        assert_int_equal(clamav_header_parse(h, sizeof h, &t, &v), 0);
        assert_int_equal(t, 1587038280); /* 2020-04-16T11:58:00Z */
        assert_int_equal(v, 25784);
        header(h, "ClamAV-VDB:09 Jan 2025 09-00 +0000:62:1:90:X:X:b");  /* no stime */
        assert_int_equal(clamav_header_parse(h, sizeof h, &t, &v), 0);

        static const char *const bad[] = {
                "ClamAV-VDB:31 Feb 2026 08-32 +0000:1:1:90:X:X:x:1",   /* no such day */
                "ClamAV-VDB:16 Apr 2020 07:58 -0400:1:1:90:X:X:x:1",   /* colon in time */
                "ClamAV-VDB:16 Foo 2020 07-58 -0400:1:1:90:X:X:x:1",
                "ClamAV-VDB:16 Apr 2020 07-58 -0400:x:1:90:X:X:x:1",
                "ClamAV-VDB:16 Apr 2020 25-58 -0400:1:1:90:X:X:x:1",
                "ClamAV-VDB:16 Apr 2020 07-58 -0400:1:1:90:X:X:x:1:extra",
                "ClamAV-VDB:16 Apr 2020 07-58 -0400:1:1:90:X:X:x:1 junk",
                "ClamAV-VDX:16 Apr 2020 07-58 -0400:1:1:90:X:X:x:1",
                "ClamAV-VDB:",
                "",
        };
        for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
                header(h, bad[i]);
                if (clamav_header_parse(h, sizeof h, &t, &v) != -EINVAL)
                        fail_msg("case %zu accepted", i);
        }
        header(h, "ClamAV-VDB:09 Jan 2025 09-00 +0000:62:1:90:X:X:b");
        h[100] = '\n';
        assert_int_equal(clamav_header_parse(h, sizeof h, &t, &v), -EINVAL);
        assert_int_equal(clamav_header_parse(h, 100, &t, &v), -EINVAL); /* short */
}

/* ---- checks on the fixture roots ---- */

static const char strict[] = "posture:\n"
                             "  action: quarantine-after\n"
                             "  grace-hours: 24\n"
                             "  allowed-os:\n"
                             "    - { id: debian, min-version: \"12.5\" }\n"
                             "    - { id: ubuntu, min-version: \"22.04.4\", max-version: \"24.04.99\" }\n"
                             "    - { id: fedora, min-version: \"40\" }\n"
                             "    - { id: arch, rolling: true }\n"
                             "  require-antivirus: true\n"
                             "  max-signature-age-days: 3\n"
                             "  require-encryption: true\n";

static struct ptree *parse(const char *text) {
        struct ptree *t = NULL;
        struct perrors errs = { 0 };
        int r = ptree_parse("test.yaml", text, strlen(text), &t, &errs);
        if (r < 0)
                fail_msg("%s", perrors_first(&errs));
        perrors_clear(&errs);
        return t;
}

/* A posture section as the plugin gets it: text's section over the default fragment's. */
static struct ptree *effective(const char *text) {
        struct ptree *d = default_fragment("posture"), *t = parse(text);
        assert_non_null(d);
        struct ptree *m = ptree_merge("test.yaml", pmap_get(d->root, "posture"), pmap_get(t->root, "posture"));
        assert_non_null(m);
        ptree_free(t);
        ptree_free(d);
        return m;
}

/* The default fragment's wine patterns (NULL-terminated in pol->wine). */
static void default_policy(struct posture_policy *pol) {
        struct ptree *d = default_fragment("posture");
        assert_non_null(d);
        assert_int_equal(posture_policy_load(pmap_get(d->root, "posture"), pol), 0);
        ptree_free(d);
}

/* Evaluate a fixture under the strict policy; want is one letter per
 * check in enum order: p(ass) f(ail) u(nknown) s(kip). */
static void expect(const char *root, const char *want, bool compliant) {
        struct ptree *t = effective(strict);
        struct perrors errs = { 0 };
        const struct pnode *sec = t->root;
        assert_int_equal(posture_check_section(sec, &errs), 0);
        perrors_clear(&errs);
        struct posture_policy pol;
        assert_int_equal(posture_policy_load(sec, &pol), 0);
        struct posture_facts f;
        char *path = fixture(root);
        assert_int_equal(posture_gather(path, (const char *const *)pol.forbidden, (const char *const *)pol.wine, &f), 0);
        struct posture_result res;
        posture_evaluate(&f, &pol, NOW, &res);
        char got[_PC_MAX + 1];
        for (int i = 0; i < _PC_MAX; i++)
                got[i] = "pfus"[res.c[i].status];
        got[_PC_MAX] = '\0';
        if (strcmp(got, want) != 0 || res.compliant != compliant) {
                for (int i = 0; i < _PC_MAX; i++)
                        print_error("  %s %s: %s\n", posture_status_name(res.c[i].status),
                                    posture_check_name((enum posture_check_id)i), res.c[i].evidence);
                fail_msg("%s: got %s, want %s", root, got, want);
        }
        free(path);
        posture_facts_clear(&f);
        posture_policy_clear(&pol);
        ptree_free(t);
}

static void test_fixtures(void **state) {
        /*                         os.a os.v sw  wine av  sig root home lock pwlen pwage */
        expect("debian-12.2",          "pfppffffsss", false);
        expect("debian-12.8",          "ppppppppsss", true);
        expect("ubuntu-22.04",         "pfpppfppsss", false);
        expect("ubuntu-24.04",         "ppfpppppsss", false);
        expect("fedora-41",            "ppupffppsss", false);
        expect("arch",                 "ppupffffsss", false);
        expect("qbittorrent",          "ppffppppsss", false);
        expect("bad-no-osrelease",     "uuppffffsss", false);
        expect("bad-osrelease",        "uuppffffsss", false);
        expect("bad-truncated-status", "pfupffffsss", false);
        expect("bad-binary-status",    "pfupffffsss", false);
        expect("bad-clamav",           "pppppuppsss", false);
        expect("bad-odd-versions",     "puppffffsss", false);
        expect("no-such-root",         "uuupuuuusss", false);
}

static void test_facts_detail(void **state) {
        struct posture_facts f;
        struct posture_policy pol;
        default_policy(&pol);
        const char *const *posture_default_wine_patterns = (const char *const *)pol.wine;
        char *path = fixture("debian-12.2");
        assert_int_equal(posture_gather(path, (const char *const *)pol.forbidden, posture_default_wine_patterns, &f), 0);
        assert_string_equal(f.os_version, "12.2");
        assert_string_equal(f.maker, "LENOVO");
        assert_string_equal(f.model, "ThinkPad X1 Carbon Gen 9 (20XW003XJP)");
        assert_string_equal(f.kernel, "6.1.0-13-amd64");
        assert_int_equal(f.screen_lock, TRI_UNKNOWN);
        posture_facts_clear(&f);
        free(path);

        path = fixture("ubuntu-22.04");
        assert_int_equal(posture_gather(path, (const char *const *)pol.forbidden, posture_default_wine_patterns, &f), 0);
        assert_string_equal(f.os_version, "22.04.3");
        assert_string_equal(f.os_file, "/usr/lib/os-release");
        posture_facts_clear(&f);
        free(path);

        path = fixture("arch");
        assert_int_equal(posture_gather(path, (const char *const *)pol.forbidden, posture_default_wine_patterns, &f), 0);
        assert_true(f.os_rolling);
        posture_facts_clear(&f);
        free(path);

        path = fixture("bad-clamav");
        assert_int_equal(posture_gather(path, (const char *const *)pol.forbidden, posture_default_wine_patterns, &f), 0);
        assert_false(f.sig_known);
        assert_non_null(strstr(f.sig_evidence, "header"));
        posture_facts_clear(&f);
        free(path);
        posture_policy_clear(&pol);
}

/* A status file over the bound is refused before it is read (sparse file, no 64 MiB written). */
static void test_huge_status(void **state) {
        char dir[] = "/tmp/posture-huge.XXXXXX";
        assert_non_null(mkdtemp(dir));
        char p[256];
        snprintf(p, sizeof p, "%s/var/lib/dpkg", dir);
        assert_int_equal(mkdir_p(p, 0755), 0);
        snprintf(p, sizeof p, "%s/var/lib/dpkg/status", dir);
        int fd = open(p, O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
        assert_true(fd >= 0);
        assert_int_equal(ftruncate(fd, (off_t)DPKG_STATUS_MAX + 1), 0);
        close(fd);
        struct posture_facts f;
        assert_int_equal(posture_gather(dir, NULL, NULL, &f), 0);
        assert_false(f.pkgs_known);
        assert_non_null(strstr(f.pkgs_reason, "too large"));
        posture_facts_clear(&f);
        unlink(p);
        /* An unreadable ClamAV database: a directory named daily.cvd. */
        snprintf(p, sizeof p, "%s/var/lib/clamav/daily.cvd", dir);
        assert_int_equal(mkdir_p(p, 0755), 0);
        assert_int_equal(posture_gather(dir, NULL, NULL, &f), 0);
        assert_false(f.sig_known);
        assert_non_null(strstr(f.sig_evidence, "cannot be read"));
        posture_facts_clear(&f);
        char cmd[300];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
        assert_int_equal(system(cmd), 0);
}

/* ---- the section schema ---- */

static size_t errors_for(const char *yaml, const char *want) {
        struct ptree *t = parse(yaml);
        struct perrors errs = { 0 };
        size_t n = posture_check_section(pmap_get(t->root, "posture"), &errs);
        if (want) {
                bool found = false;
                for (size_t i = 0; i < errs.n; i++)
                        found = found || strstr(errs.msgs[i], want);
                if (!found)
                        fail_msg("no error containing '%s' (first: %s)", want, perrors_first(&errs));
        }
        perrors_clear(&errs);
        ptree_free(t);
        return n;
}

static void test_section(void **state) {
        assert_int_equal(errors_for(strict, NULL), 0);
        assert_true(errors_for("posture: { actoin: report }\n", "actoin") > 0);
        assert_true(errors_for("posture: { action: nuke }\n", "action") > 0);
        assert_true(errors_for("posture: { allowed-os: [ { id: debian, min-version: \"x y\" } ] }\n", "min-version") > 0);
        assert_true(errors_for("posture: { allowed-os: [ { id: debian, min-version: \"12.5\", max-version: \"12.1\" } ] }\n",
                               "lower") > 0);
        assert_true(errors_for("posture: { allowed-os: [ { min-version: \"12\" } ] }\n", NULL) > 0);
        assert_true(errors_for("posture: { allowed-os: [ debian ] }\n", "mappings") > 0);
        assert_true(errors_for("posture: { allowed-os: [ { id: Debian } ] }\n", "os-release") > 0);
        assert_true(errors_for("posture: { forbidden-software: [ \"a/b\" ] }\n", "pattern") > 0);
        assert_true(errors_for("posture: { max-signature-age-days: 0 }\n", NULL) > 0);
        assert_true(errors_for("posture: { require-encryption: maybe }\n", NULL) > 0);
        assert_true(errors_for("posture: [ 1 ]\n", NULL) > 0);
}

/* ---- the offline report ---- */

static char *run_ctl(int *rc, const char *a1, const char *a2, const char *a3, const char *a4, const char *a5) {
        char *argv[] = { (char *)"posture", (char *)a1, (char *)a2, (char *)a3, (char *)a4, (char *)a5, NULL };
        int argc = 1;
        while (argv[argc])
                argc++;
        char *buf = NULL, *ebuf = NULL;
        size_t n = 0, en = 0;
        FILE *out = open_memstream(&buf, &n), *err = open_memstream(&ebuf, &en);
        setenv("SEKISHO_TEST_NOW", "2026-11-22T00:00:00Z", 1);
        struct ptree *d = default_fragment("posture");
        assert_non_null(d);
        const struct pnode *sec = pmap_get(d->root, "posture");
        *rc = posture_ctl_main(argc, argv, sec, "embedded default", sec, out, err);
        ptree_free(d);
        fclose(out);
        fclose(err);
        free(ebuf);
        return buf;
}

static void test_ctl(void **state) {
        char *policy = fixture("strict.yaml"), *root = fixture("debian-12.2"), *good = fixture("debian-12.8");
        int rc;
        char *s = run_ctl(&rc, "--json", "--root", root, "--policy", policy);
        assert_int_equal(rc, POSTURE_EXIT_NONCOMPLIANT);
        assert_non_null(strstr(s, "{\"compliant\":false,"));
        assert_non_null(strstr(s, "\"id\":\"os.version\",\"status\":\"fail\",\"evidence\":\"debian 12.2 < 12.5 required"));
        assert_non_null(strstr(s, "\"maker\":\"LENOVO\""));
        assert_non_null(strstr(s, "\"version\":\"12.2\""));
        assert_non_null(strstr(s, "\"remediation\":{\"ja\":\""));
        free(s);
        s = run_ctl(&rc, "--root", good, "--policy", policy, NULL);
        assert_int_equal(rc, POSTURE_EXIT_COMPLIANT);
        assert_non_null(strstr(s, "COMPLIANT"));
        assert_non_null(strstr(s, "Latitude 5440"));
        free(s);
        s = run_ctl(&rc, "--bogus", NULL, NULL, NULL, NULL);
        assert_int_equal(rc, POSTURE_EXIT_USAGE);
        free(s);
        s = run_ctl(&rc, "--policy", "/nonexistent.yaml", NULL, NULL, NULL);
        assert_int_equal(rc, POSTURE_EXIT_BAD_POLICY);
        free(s);
        free(policy);
        free(root);
        free(good);
}

/* ---- the plugin with a stub core ---- */

static void copy_tree(const char *from, const char *to) {
        char cmd[1024];
        snprintf(cmd, sizeof cmd, "rm -rf '%s' && cp -a '%s' '%s'", to, from, to);
        assert_int_equal(system(cmd), 0);
}

static void pump(struct sekisho_plugin_handle *c, unsigned want_evaluations, void *state) {
        struct kvlist kv = { 0 };
        for (int i = 0; i < 100; i++) {
                loop_iterate(c->loop, 100);
                sekisho_plugin_posture.status(state, &kv);
                unsigned n = 0;
                for (size_t k = 0; k < kv.n; k++)
                        if (strcmp(kv.keys[k], "evaluations") == 0)
                                n = (unsigned)atoi(kv.values[k]);
                kvlist_clear(&kv);
                if (n >= want_evaluations)
                        return;
        }
        fail_msg("no evaluation %u", want_evaluations);
}

static void test_plugin(void **state_) {
        char tmp[] = "/tmp/posture-plugin.XXXXXX";
        assert_non_null(mkdtemp(tmp));
        char root[300], statedir[300], status_path[400];
        snprintf(root, sizeof root, "%s/root", tmp);
        snprintf(statedir, sizeof statedir, "%s/state", tmp);
        snprintf(status_path, sizeof status_path, "%s/var/lib/dpkg/status", root);
        char *src = fixture("qbittorrent");
        copy_tree(src, root);
        free(src);

        struct sekisho_plugin_handle *c;
        assert_int_equal(stub_core_new(&sekisho_plugin_posture, statedir, root, &c), 0);
        void *st = NULL;
        assert_int_equal(sekisho_plugin_posture.init(c, &st), 0);

        /* report: not compliant, recorded, no quarantine */
        struct ptree *t = effective("posture: { action: report }\n");
        assert_int_equal(sekisho_plugin_posture.apply(st, t->root), 0);
        ptree_free(t);
        pump(c, 1, st);
        assert_int_equal(c->profile_requests, 0);
        assert_true(stub_count(c, NULL, NULL, "audit posture-changed compliant=false failed=software.forbidden,software.wine") > 0);
        assert_true(stub_count(c, NULL, NULL, "signal PostureChanged compliant=false") > 0);
        assert_true(stub_count(c, NULL, NULL, "notify=false") > 0);

        /* quarantine-after with 24 h grace: still no quarantine, the start is remembered */
        t = effective("posture: { action: quarantine-after, grace-hours: 24 }\n");
        assert_int_equal(sekisho_plugin_posture.apply(st, t->root), 0);
        ptree_free(t);
        pump(c, 2, st);
        assert_int_equal(c->profile_requests, 0);
        char since[400];
        snprintf(since, sizeof since, "%s/posture/noncompliant-since", statedir);
        assert_int_equal(access(since, F_OK), 0);

        /* grace 0: quarantine now */
        t = effective("posture: { action: quarantine-after, grace-hours: 0 }\n");
        assert_int_equal(sekisho_plugin_posture.apply(st, t->root), 0);
        ptree_free(t);
        pump(c, 3, st);
        assert_int_equal(c->profile_requests, 1);
        assert_true(c->profile_active);
        assert_string_equal(c->profile, "quarantine");
        assert_non_null(strstr(c->last_reason, "software.forbidden"));
        assert_true(stub_count(c, NULL, NULL, "audit posture-quarantine-requested") > 0);

        /* Re-applying the same policy (the core does on a profile switch) changes nothing. */
        t = effective("posture: { action: quarantine-after, grace-hours: 0 }\n");
        assert_int_equal(sekisho_plugin_posture.apply(st, t->root), 0);
        ptree_free(t);
        pump(c, 4, st);
        assert_int_equal(c->profile_requests, 1);

        /* The user removes qbittorrent and aria2 and the Winny folder: dpkg rewrites its
         * status, inotify sees it, the re-check releases the quarantine. */
        char cmd[1200];
        snprintf(cmd, sizeof cmd,
                 "cd '%s' && rm -rf home/taro/.wine/drive_c/Winny && python3 -c \"import sys;"
                 "p=open('var/lib/dpkg/status').read().split('\\n\\n');"
                 "q=[x for x in p if x and 'Package: qbittorrent' not in x and 'Package: aria2' not in x];"
                 "open('var/lib/dpkg/status-new','w').write('\\n\\n'.join(q)+'\\n\\n')\" && "
                 "mv var/lib/dpkg/status-new var/lib/dpkg/status",
                 root);
        assert_int_equal(system(cmd), 0);
        pump(c, 5, st);
        assert_int_equal(c->profile_requests, 2);
        assert_false(c->profile_active);
        assert_true(stub_count(c, NULL, NULL, "audit posture-changed compliant=true") > 0);
        assert_true(stub_count(c, NULL, NULL, "trigger=package-or-antivirus-change") > 0);
        assert_true(stub_count(c, NULL, NULL, "audit posture-quarantine-released") > 0);
        assert_int_equal(access(since, F_OK), -1);

        struct kvlist kv = { 0 };
        sekisho_plugin_posture.status(st, &kv);
        bool ok = false;
        for (size_t k = 0; k < kv.n; k++)
                ok = ok || (strcmp(kv.keys[k], "compliant") == 0 && strcmp(kv.values[k], "yes") == 0);
        assert_true(ok);
        kvlist_clear(&kv);

        sekisho_plugin_posture.shutdown(st);
        stub_core_free(c);
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
        assert_int_equal(system(cmd), 0);
}

int main(void) {
        log_setup("test-posture", false);
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_osrelease),   cmocka_unit_test(test_dpkgstatus), cmocka_unit_test(test_clamav_header),
                cmocka_unit_test(test_fixtures),    cmocka_unit_test(test_facts_detail), cmocka_unit_test(test_huge_status),
                cmocka_unit_test(test_section),     cmocka_unit_test(test_ctl),        cmocka_unit_test(test_plugin),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
