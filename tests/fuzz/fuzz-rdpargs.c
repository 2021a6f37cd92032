/* fuzz-rdpargs.c — libFuzzer target: FreeRDP argument lists (NUL-separated, as /proc/PID/cmdline) through the invocation checker. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rdpcheck.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Any file an argument names reads as the input's tail after a 0xff byte. */
struct ctx { const uint8_t *file; size_t file_size; };

static int fake_read(void *userdata, const char *path, size_t max, char **ret, size_t *ret_size) {
        struct ctx *c = userdata;
        (void) path;
        if (!c->file)
                return -2;
        if (c->file_size > max)
                return -27;
        *ret = malloc(c->file_size + 1);
        if (!*ret)
                return -12;
        memcpy(*ret, c->file, c->file_size);
        (*ret)[c->file_size] = 0;
        *ret_size = c->file_size;
        return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        if (size > 1 << 20)
                return 0;
        struct ctx c = { 0 };
        const uint8_t *ff = memchr(data, 0xff, size);
        size_t argsize = size;
        if (ff) {
                c.file = ff + 1;
                c.file_size = size - (size_t) (ff - data) - 1;
                argsize = (size_t) (ff - data);
        }
        char *buf = malloc(argsize + 1);
        if (!buf)
                return 0;
        memcpy(buf, data, argsize);
        buf[argsize] = 0;
        size_t argc = 1;
        for (size_t i = 0; i < argsize; i++)
                if (buf[i] == 0)
                        argc++;
        char **argv = calloc(argc + 1, sizeof *argv);
        if (!argv) {
                free(buf);
                return 0;
        }
        size_t k = 0;
        for (size_t i = 0; i <= argsize && k < argc; k++) {
                argv[k] = buf + i;
                i += strlen(buf + i) + 1;
        }
        for (unsigned deny = 0; deny <= VDI_RES_ALL; deny += 0x55) {
                struct rdp_verdict v;
                rdp_check_invocation(deny | 1u, k, argv, fake_read, &c, &v);
                if (v.deny && (!memchr(v.option, 0, sizeof v.option) || !memchr(v.reason, 0, sizeof v.reason)))
                        abort();
                for (const char *p = v.option; *p; p++)
                        if ((unsigned char) *p < 0x20 || (unsigned char) *p >= 0x7f)
                                abort(); /* only printable ASCII reaches the log */
        }
        free(argv);
        free(buf);
        return 0;
}
