/* posturectl.c — the posture report in text and JSON, and the offline `sekishoctl posture` verb built on it. */
#include "config.h"

#include <getopt.h>
#include <string.h>

#include "posturectl.h"
#include "util.h"

static void os_line(const struct posture_facts *f, char *buf, size_t size) {
        if (!f->os_known)
                snprintf(buf, size, "unknown (%s)", f->os_reason);
        else
                snprintf(buf, size, "%s", f->os.pretty_name[0] ? f->os.pretty_name
                                           : f->os.name[0]      ? f->os.name
                                                                : f->os.id);
}

static void version_line(const struct posture_facts *f, char *buf, size_t size) {
        if (!f->os_known)
                snprintf(buf, size, "unknown");
        else if (f->os_rolling)
                snprintf(buf, size, "rolling release%s%s", f->os.build_id[0] ? ", build " : "", f->os.build_id);
        else
                snprintf(buf, size, "%s", f->os_version);
}

static void field(FILE *out, const char *name, const char *value, bool comma) {
        json_write_string(out, name);
        fputc(':', out);
        json_write_string(out, value);
        if (comma)
                fputc(',', out);
}

void posture_report_write(FILE *out, const char *root, const char *policy_name, int64_t now,
                          const struct posture_facts *f, const struct posture_policy *p,
                          const struct posture_result *res, bool json) {
        char ts[32], os[300], ver[128];
        format_rfc3339(now, ts);
        os_line(f, os, sizeof os);
        version_line(f, ver, sizeof ver);

        if (json) {
                fprintf(out, "{\"compliant\":%s,", res->compliant ? "true" : "false");
                field(out, "root", root, true);
                field(out, "time", ts, true);
                field(out, "policy", policy_name, true);
                field(out, "action", posture_action_name(p->action), true);
                fprintf(out, "\"failed\":%u,\"unknown\":%u,", res->failed, res->unknown);
                fputs("\"form\":{", out);
                field(out, "maker", f->maker, true);
                field(out, "model", f->model, true);
                field(out, "os", os, true);
                field(out, "os_id", f->os_known ? f->os.id : "unknown", true);
                field(out, "version", ver, true);
                field(out, "version_source", f->os_known ? f->os_version_source : "", true);
                field(out, "kernel", f->kernel[0] ? f->kernel : "unknown", false);
                fputs("},\"checks\":[", out);
                for (int i = 0; i < _PC_MAX; i++) {
                        fputs(i ? ",{" : "{", out);
                        field(out, "id", posture_check_name((enum posture_check_id)i), true);
                        field(out, "status", posture_status_name(res->c[i].status), true);
                        field(out, "evidence", res->c[i].evidence, true);
                        fputs("\"remediation\":{", out);
                        field(out, "ja", posture_fix(res, (enum posture_check_id)i, true), true);
                        field(out, "en", posture_fix(res, (enum posture_check_id)i, false), false);
                        fputs("}}", out);
                }
                fputs("]}\n", out);
                return;
        }

        fprintf(out, "sekisho posture report for %s at %s (policy: %s, action: %s)\n\n", root, ts, policy_name,
                posture_action_name(p->action));
        fprintf(out, "BYOD application form / BYOD利用申請の記載事項\n");
        fprintf(out, "  Maker / メーカー:     %s\n", f->maker);
        fprintf(out, "  Model / 機種:         %s\n", f->model);
        fprintf(out, "  OS:                   %s\n", os);
        fprintf(out, "  Version / バージョン: %s%s%s%s\n", ver, f->os_known && !f->os_rolling ? " (" : "",
                f->os_known && !f->os_rolling ? f->os_version_source : "", f->os_known && !f->os_rolling ? ")" : "");
        fprintf(out, "  Kernel / カーネル:    %s\n\n", f->kernel[0] ? f->kernel : "unknown");
        if (res->compliant)
                fprintf(out, "Result: COMPLIANT / 結果: 適合\n\n");
        else
                fprintf(out, "Result: NOT COMPLIANT (%u failed, %u unknown) / 結果: 不適合（不合格 %u、判定不能 %u）\n\n",
                        res->failed, res->unknown, res->failed, res->unknown);
        for (int i = 0; i < _PC_MAX; i++) {
                const char *st = res->c[i].status == PS_FAIL      ? "FAIL"
                                 : res->c[i].status == PS_UNKNOWN ? "UNKNOWN"
                                 : res->c[i].status == PS_PASS    ? "pass"
                                                                  : "skip";
                fprintf(out, "  %-8s %-24s %s\n", st, posture_check_name((enum posture_check_id)i), res->c[i].evidence);
                if (res->c[i].status == PS_FAIL || res->c[i].status == PS_UNKNOWN) {
                        fprintf(out, "           対処: %s\n", posture_fix(res, (enum posture_check_id)i, true));
                        fprintf(out, "           To fix: %s\n", posture_fix(res, (enum posture_check_id)i, false));
                }
        }
}

static void usage(FILE *out) {
        fputs("Usage: sekishoctl posture [--json] [--root DIR] [--policy FILE]\n"
              "Evaluate this terminal's posture (OS, software, antivirus, encryption) offline.\n"
              "  --json         machine-readable report\n"
              "  --root DIR     read the system under DIR instead of /\n"
              "  --policy FILE  use the posture: section of FILE (not signature-checked)\n"
              "Exit: 0 compliant, 1 not compliant, 2 usage error, 3 invalid policy file.\n",
              out);
}

int posture_ctl_main(int argc, char *argv[], const struct pnode *installed_section, const char *installed_name,
                     const struct pnode *default_section, FILE *out, FILE *err) {
        static const struct option opts[] = {
                { "json", no_argument, NULL, 'j' },
                { "root", required_argument, NULL, 'r' },
                { "policy", required_argument, NULL, 'p' },
                { "help", no_argument, NULL, 'h' },
                { NULL, 0, NULL, 0 },
        };
        bool json = false;
        const char *root = "/", *policy_file = NULL;
        int c;

        optind = 0;
        opterr = 0;
        while ((c = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
                switch (c) {
                case 'j': json = true; break;
                case 'r': root = optarg; break;
                case 'p': policy_file = optarg; break;
                case 'h': usage(out); return POSTURE_EXIT_COMPLIANT;
                default:
                        fprintf(err, "sekishoctl posture: unknown option '%s'\n", argv[optind - 1]);
                        usage(err);
                        return POSTURE_EXIT_USAGE;
                }
        }
        if (optind < argc) {
                fprintf(err, "sekishoctl posture: unexpected argument '%s'\n", argv[optind]);
                return POSTURE_EXIT_USAGE;
        }

        struct ptree *tree = NULL, *merged = NULL;
        const struct pnode *section = installed_section;
        const char *policy_name = installed_name ? installed_name : "policy in force";
        if (policy_file) {
                _cleanup_free_ char *data = NULL;
                size_t size;
                struct perrors errs = { 0 };
                int r = read_file_capped(policy_file, 4u * 1024 * 1024, &data, &size);
                if (r < 0) {
                        fprintf(err, "%s: %s\n", policy_file, strerror(-r));
                        return POSTURE_EXIT_BAD_POLICY;
                }
                r = ptree_parse(policy_file, data, size, &tree, &errs);
                if (r >= 0) {
                        section = tree->root && tree->root->kind == PNODE_MAP ? pmap_get(tree->root, "posture") : NULL;
                        posture_check_section(section, &errs);
                }
                if (r < 0 || errs.n_errors > 0) {
                        for (size_t i = 0; i < errs.n; i++)
                                fprintf(err, "%s\n", errs.msgs[i]);
                        perrors_clear(&errs);
                        ptree_free(tree);
                        return POSTURE_EXIT_BAD_POLICY;
                }
                perrors_clear(&errs);
                policy_name = policy_file;
                /* The file's section over the embedded default's, as a bundle would be. */
                merged = ptree_merge(policy_file, default_section, section);
                if (!merged) {
                        ptree_free(tree);
                        return POSTURE_EXIT_USAGE;
                }
                section = merged->root;
        }

        struct posture_policy pol;
        struct posture_facts f;
        struct posture_result res;
        int r = posture_policy_load(section, &pol);
        if (r < 0) {
                ptree_free(merged);
                ptree_free(tree);
                fprintf(err, "sekishoctl posture: %s\n", strerror(-r));
                return POSTURE_EXIT_USAGE;
        }
        int64_t now = now_unix();
#ifdef ENABLE_FAULT_INJECTION
        /* Test hook: evaluate as of a fixed time, so fixtures do not age. */
        const char *tn = getenv("SEKISHO_TEST_NOW");
        int64_t t;
        if (tn && parse_rfc3339(tn, &t) >= 0)
                now = t;
#endif
        r = posture_gather(root, (const char *const *)pol.forbidden, (const char *const *)pol.wine, &f);
        if (r < 0) {
                posture_facts_clear(&f);
                posture_policy_clear(&pol);
                ptree_free(merged);
                ptree_free(tree);
                fprintf(err, "sekishoctl posture: %s\n", strerror(-r));
                return POSTURE_EXIT_USAGE;
        }
        posture_evaluate(&f, &pol, now, &res);
        posture_report_write(out, root, policy_name, now, &f, &pol, &res, json);
        fflush(out);
        posture_facts_clear(&f);
        posture_policy_clear(&pol);
        ptree_free(merged);
        ptree_free(tree);
        return res.compliant ? POSTURE_EXIT_COMPLIANT : POSTURE_EXIT_NONCOMPLIANT;
}
