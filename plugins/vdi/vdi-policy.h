/* vdi-policy.h — the vdi: policy section: schema check and the effective deny set. */
#pragma once

#include <stdbool.h>

#include "launch.h"
#include "ptree.h"
#include "vdi-caps.h"

struct vdi_policy {
        unsigned deny;                              /* 1u << enum vdi_res */
        bool client_allowed[_VDI_CLIENT_MAX];
        bool server_enforced[_VDI_CLIENT_MAX];
        int client;                                 /* vdi.client: the approved client, VDI_CLIENT_NONE */
        char cgroup[VDI_CGROUP_MAX];                /* vdi.client-cgroup */
        size_t n_servers;                           /* vdi.servers */
        struct vdi_server servers[VDI_MAX_SERVERS];
};

/* Pure: report every problem of the section (NULL is fine) into errs. */
size_t vdi_policy_check(const struct pnode *section, struct perrors *errs);

/* The effective policy of a checked section; NULL = strict built-in (everything denied, every
 * client allowed to run only where it can be locked). */
void vdi_policy_from_section(const struct pnode *section, struct vdi_policy *ret);

/* Why a client must not run at all under p: returns the clause ("vdi.allow-clients",
 * "vdi.clipboard", ...) and the resource in *ret_res (-1 for allow-clients), or NULL if
 * the client may run (its invocation may still need checking). */
const char *vdi_policy_refuses(const struct vdi_policy *p, const struct vdi_client_info *c, int *ret_res);

/* "vdi.<key>" for a resource. */
const char *vdi_clause(int res);
