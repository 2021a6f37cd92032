/* fuzz-vdilaunch.c — libFuzzer target: the launcher's two inputs, a person's request (first byte even) and the plan (odd), through the parsers and the argv they imply. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "launch.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        if (size < 1 || size > VDI_REQUEST_MAX)
                return 0;
        static struct vdi_plan plan;
        char why[256];
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
