/* fuzz-usbsection.c — libFuzzer target for the usb: section beyond single rules: the register, rules: as a usbguard rules.conf block, and import-rules' reading of a rules.conf. */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ptree.h"
#include "usbpolicy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        /* as a policy document with a usb: section */
        struct perrors errs = { 0 };
        struct ptree *t = NULL;
        if (ptree_parse("fuzz.yaml", (const char *)data, size, &t, &errs) == 0 && t->root) {
                struct usb_policy p;
                const struct pnode *usb = pmap_get(t->root, "usb");
                if (usb_policy_load(usb, &p, &errs) == 0) {
                        struct usb_who who = { .now = 1806480000 };
                        for (size_t i = 0; i < p.n_reg; i++) {
                                char why[200];
                                (void)usb_register_why_not(&p.reg[i], &who, why, sizeof why);
                        }
                        usb_policy_done(&p);
                }
        }
        ptree_free(t);
        perrors_clear(&errs);
        /* as a rules.conf: what import-rules prints must parse back as YAML */
        char *buf = NULL;
        size_t len = 0;
        FILE *out = open_memstream(&buf, &len), *err = fopen("/dev/null", "w");
        if (out && err && usb_rules_conf_import(out, err, "rules.conf", (const char *)data, size) == 0) {
                fflush(out);
                if (ptree_parse("imported.yaml", buf, len, &t, &errs) < 0)
                        __builtin_trap();
                size_t n = usb_policy_check(pmap_get(t->root, "usb"), &errs);
                if (n)
                        __builtin_trap(); /* every rule it printed parsed once already */
                ptree_free(t);
                perrors_clear(&errs);
        }
        if (out)
                fclose(out);
        if (err)
                fclose(err);
        free(buf);
        return 0;
}
