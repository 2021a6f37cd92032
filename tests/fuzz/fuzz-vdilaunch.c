/* fuzz-vdilaunch.c — libFuzzer target: the launcher's three inputs, a person's request (first byte even), the plan (odd) and the network plugin's in-force file (first byte 2), through the parsers and the argv they imply. */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "launch.h"
#include "netclaim.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        if (size < 1 || size > VDI_REQUEST_MAX)
                return 0;
        static struct vdi_plan plan;
        char why[256];
        if (data[0] == 2) {
                /* Whatever the text, an answer for a cgroup it may name, and for one it cannot. */
                const char *text = (const char *) data + 1;
                size_t len = size - 1;
                const char *sp = memchr(text, ' ', len), *nl = sp ? memchr(sp, '\n', len - (size_t) (sp - text)) : NULL;
                char cg[VDI_CGROUP_MAX] = "a";
                if (nl && (size_t) (nl - sp - 1) < sizeof cg) {
                        memcpy(cg, sp + 1, (size_t) (nl - sp - 1));
                        cg[nl - sp - 1] = '\0';
                }
                int r = netclaims_in_force_has(text, len, cg, strtoull(text, NULL, 10));
                if (r != 0 && r != 1 && r != -EBADMSG)
                        abort();
                if (netclaims_in_force_has(text, len, "", 0) == 1)
                        abort(); /* no line names an empty path */
                return 0;
        }
        if (data[0] & 1) {
                if (vdi_plan_parse((const char *) data + 1, size - 1, &plan, why, sizeof why) == 0) {
                        char *text = NULL;
                        struct vdi_plan again;
                        if (vdi_plan_format(&plan, &text) == 0 &&
                            (vdi_plan_parse(text, strlen(text), &again, why, sizeof why) < 0 ||
                             memcmp(&again.servers, &plan.servers, sizeof plan.servers) != 0))
                                abort(); /* what we write we must read back the same */
                        free(text);
                }
                return 0;
        }
        /* A request under a fixed plan: FreeRDP approved, everything denied, one server. */
        memset(&plan, 0, sizeof plan);
        plan.client = VDI_CLIENT_FREERDP;
        plan.deny = VDI_RES_ALL;
        strcpy(plan.cgroup, VDI_DEFAULT_CGROUP);
        strcpy(plan.servers[0].host, "198.51.100.10");
        plan.n_servers = 1;
        char *buf = malloc(size - 1 ? size - 1 : 1);
        if (!buf)
                return 0;
        memcpy(buf, data + 1, size - 1);
        struct vdi_request rq;
        if (vdi_request_parse(buf, size - 1, &rq) == 0) {
                char **argv = NULL;
                size_t argc;
                if (vdi_plan_argv(&plan, &rq, "/usr/bin/xfreerdp", &argv, &argc, why, sizeof why) == 0) {
                        free(argv[1]);
                        free(argv);
                }
        }
        free(buf);
        return 0;
}
