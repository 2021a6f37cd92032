/* bench-policy.c — verify + parse + install of a signed policy with 10 000 rules: median and p90 time. */
#include "config.h"

#include <inttypes.h>
#include <malloc.h>
#include <sodium.h>
#include <string.h>
#include <sys/resource.h>

#include "plugin.h"
#include "policy.h"
#include "util.h"

#define RULES 10000
#define RUNS 21

static int cmp_u64(const void *a, const void *b) {
        uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
        return x < y ? -1 : x > y;
}

/* The rules: the USB plugin's section when it is built in; otherwise the
 * same number of list entries in applies-to, so the figure still measures
 * verify + YAML + validation + install of a document that size. */
static char *make_policy(uint64_t serial, const char **what) {
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);
        fprintf(f, "sekisho: 1\nserial: %" PRIu64 "\nissued: 2026-01-01T00:00:00Z\nexpires: 2099-01-01T00:00:00Z\n",
                serial);
        if (plugin_find_section("usb")) {
                *what = "usb rules";
                fprintf(f, "usb:\n  default: block\n  rules:\n");
                for (int i = 0; i < RULES; i++)
                        fprintf(f, "    - allow id %04x:%04x serial \"SN%06d\" with-interface one-of { 03:00:01 03:01:01 }\n",
                                0x1000 + i % 0xe000, i, i);
        } else {
                *what = "applies-to entries (usb plugin not built in)";
                fprintf(f, "applies-to:\n");
                for (int i = 0; i < RULES; i++)
                        fprintf(f, "  - host:terminal-%06d-with-a-name-as-long-as-a-usb-rule-line-is-in-practice\n", i);
                fprintf(f, "  - \"*\"\n");
        }
        fclose(f);
        return buf;
}

int main(int argc, char **argv) {
        if (sodium_init() < 0)
                return 1;
        log_setup("bench-policy", false);
        char dir[] = "/tmp/sekisho-bench.XXXXXX";
        if (!mkdtemp(dir))
                return 1;
        struct minisign_seckey sk;
        struct minisign_pubkey pk;
        randombytes_buf(sk.keynum, sizeof sk.keynum);
        memcpy(pk.keynum, sk.keynum, sizeof pk.keynum);
        crypto_sign_keypair(pk.pk, sk.sk);
        struct trust_key tk = { .pub = pk, .roles = ROLE_POLICY };
        struct keyring keys = { .keys = &tk, .n = 1, .threshold = { 0, 1, 0 } };
        struct sekisho_conf conf = { .terminal_id = (char *)"bench" };
        struct store *s;
        if (store_open(dir, true, &s) < 0)
                return 1;

        uint64_t t[RUNS], tv[RUNS], ti[RUNS], pf[RUNS];
        size_t size = 0;
        const char *what = "";
        for (int i = 0; i < RUNS; i++) {
                char *data = make_policy((uint64_t)i + 1, &what), *sig = NULL;
                size = strlen(data);
                if (minisign_sign(&sk, data, size, "bench", "bench", &sig) < 0)
                        return 1;
                uint8_t digest[32];
                struct bundle_check bc = { .keys = &keys, .conf = &conf, .now = now_unix() };
                store_bundle_check(s, &bc, digest);
                struct policy *p = NULL;
                char why[512];
                struct rusage ru0, ru1;
                getrusage(RUSAGE_SELF, &ru0);
                uint64_t t0 = now_usec_monotonic();
                enum refusal rf = bundle_verify(&bc, "bench.yaml", &data, size, sig, strlen(sig), &p, NULL, why, sizeof why, NULL);
                if (rf != REFUSE_NONE) {
                        fprintf(stderr, "refused: %s\n", why);
                        return 1;
                }
                uint64_t t1 = now_usec_monotonic();
                if (store_install(s, p, sig, strlen(sig)) < 0)
                        return 1;
                t[i] = now_usec_monotonic() - t0;
                getrusage(RUSAGE_SELF, &ru1);
                pf[i] = (uint64_t)(ru1.ru_minflt - ru0.ru_minflt);
                tv[i] = t1 - t0;
                ti[i] = t[i] - tv[i];
                policy_free(p);
                free(data);
                free(sig);
                /* sekishod gives the free pages back after each policy it enforces (core.c): so each install
                 * here starts from a trimmed heap too, and pays for every page it touches. */
                malloc_trim(0);
        }
        qsort(t, RUNS, sizeof *t, cmp_u64);
        qsort(tv, RUNS, sizeof *tv, cmp_u64);
        qsort(ti, RUNS, sizeof *ti, cmp_u64);
        qsort(pf, RUNS, sizeof *pf, cmp_u64);
        printf("bench-policy: verify+parse+install, %d %s, %zu bytes, %d runs\n", RULES, what, size, RUNS);
        printf("  median %.2f ms   p90 %.2f ms   min %.2f ms   (target: median under 20 ms)\n", t[RUNS / 2] / 1000.0,
               t[RUNS * 9 / 10] / 1000.0, t[0] / 1000.0);
        printf("  of which verify+parse+validate median %.2f ms, crash-safe install (fsyncs) median %.2f ms\n",
               tv[RUNS / 2] / 1000.0, ti[RUNS / 2] / 1000.0);
        printf("  page faults per install median %" PRIu64 " (memory taken fresh from the kernel: costly on a VM)\n", pf[RUNS / 2]);
        store_close(s);
        char cmd[128];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
        return system(cmd) == 0 ? 0 : 1;
}
