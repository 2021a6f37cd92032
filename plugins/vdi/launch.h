/* launch.h — what the vdi plugin tells the launcher (the plan) and what a person's sekisho-rdp asks it (the request): formats, parsers, argv. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vdi-caps.h"

#define VDI_MAX_SERVERS  64
#define VDI_HOST_MAX     256
#define VDI_CGROUP_MAX   200
#define VDI_PLAN_MAX     (64u * 1024u)
#define VDI_REQUEST_MAX  (64u * 1024u)
#define VDI_REQUEST_ARGS 256
#define VDI_REQUEST_ENV  9
#define VDI_REQUEST_MAGIC "sekisho-vdi-launch/1"
/* Where sekisho puts the approved client unless the policy says otherwise (the
 * launcher service's delegated cgroup, see systemd/sekisho-vdi.service). */
#define VDI_DEFAULT_CGROUP "sekisho.slice/sekisho-vdi.service/client"

/* One VDI server: an address, prefix or host name, and a port (0: every port). */
struct vdi_server {
        char host[VDI_HOST_MAX];
        uint16_t port;
};

/* The plan: the approved client, what it must keep off, where it runs, which servers it may reach. */
struct vdi_plan {
        int client;                      /* enum vdi_client, VDI_CLIENT_NONE: none approved */
        unsigned deny;                   /* 1u << enum vdi_res */
        char cgroup[VDI_CGROUP_MAX];
        char refused[192];               /* why the approved client cannot be started ("" if it can) */
        size_t n_servers;
        struct vdi_server servers[VDI_MAX_SERVERS];
};

/* "HOST", "HOST:PORT", "[V6]:PORT", a bare IPv6 address or a prefix. -EINVAL with nothing filled. */
int vdi_server_parse(const char *s, struct vdi_server *ret);
/* A cgroup v2 path below the root the approved client may be kept in: relative, no "..", not a user's. */
bool vdi_cgroup_valid(const char *s);

/* The plan as text (malloc'd), and back. Parse: -EBADMSG naming the line in why. */
int vdi_plan_format(const struct vdi_plan *p, char **ret);
int vdi_plan_parse(const char *data, size_t size, struct vdi_plan *ret, char *why, size_t why_size);

/* The server of the plan a person's "HOST[:PORT]" names (default port: the client's), or NULL. */
const struct vdi_server *vdi_plan_server(const struct vdi_plan *p, const char *target, uint16_t *ret_port);

/* The request: NUL-separated strings: magic, flags ("dry-run" or "-"), NAME=VALUE
 * environment entries from a short list, "--", then the target and the person's options. */
struct vdi_request {
        bool dry_run;
        const char *env[VDI_REQUEST_ENV];   /* "NAME=VALUE", pointing into the buffer */
        size_t n_env;
        const char *args[VDI_REQUEST_ARGS]; /* args[0] the target */
        size_t n_args;
};
int vdi_request_format(bool dry_run, char *const *envp, size_t argc, char *const *argv, char **ret, size_t *ret_size);
/* buf must stay alive while ret is used. -EBADMSG for anything malformed. */
int vdi_request_parse(const char *buf, size_t size, struct vdi_request *ret);

/* The client's argv for a request under the plan (the executable path is argv[0]
 * and filled by the caller). Refusals return -EPERM with the reason in why. */
int vdi_plan_argv(const struct vdi_plan *p, const struct vdi_request *rq, const char *exe, char ***ret_argv,
                  size_t *ret_argc, char *why, size_t why_size);
