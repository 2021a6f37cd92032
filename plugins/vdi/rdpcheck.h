/* rdpcheck.h — decides whether a FreeRDP invocation (argv, .rdp file, /args-from file) keeps every denied channel off. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "vdi-caps.h"

/* Bounds on what an invocation may make us read. Anything past them is
 * "in doubt" and denied. */
#define RDP_MAX_ARGS     4096
#define RDP_MAX_ARG_LEN  8192
#define RDP_MAX_FILE     (256u * 1024u)
#define RDP_MAX_LINES    20000

/* Pseudo resource in a verdict: the invocation could not be understood. */
#define RDP_RES_DOUBT (-1)

struct rdp_verdict {
        bool deny;
        int res;                 /* enum vdi_res, or RDP_RES_DOUBT */
        char option[96];         /* the offending option, printable ASCII only, maybe truncated */
        char reason[192];        /* one line for the log and the user */
};

/* Reads a file an invocation names (connection file, /args-from file) the
 * way the client would see it. Returns 0 and a malloc'd NUL-terminated
 * buffer, or a negative errno (-EFBIG when over max). */
typedef int (*rdp_read_fn)(void *userdata, const char *path, size_t max, char **ret_data, size_t *ret_size);

/* Check argv (argv[0] is the program) against the denied resources (a
 * mask of 1u << enum vdi_res). rd may be NULL: every named file is then
 * "in doubt". Always fills *v; returns 0, or -ENOMEM. */
int rdp_check_invocation(unsigned deny, size_t argc, char *const *argv, rdp_read_fn rd, void *userdata,
                         struct rdp_verdict *v);

/* Check an .rdp connection file on its own, as if it were started with
 * no other options (so clipboard must be explicitly off in it). */
int rdp_check_file(unsigned deny, const char *data, size_t size, struct rdp_verdict *v);

/* Copy s into out as printable ASCII ('?' for anything else), truncated with "...". */
void rdp_sanitize(const char *s, char *out, size_t out_size);
