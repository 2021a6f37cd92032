/* netclaim.h — destinations one plugin reserves for the sockets of one cgroup, kept by the core and enforced by the network plugin. */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* Bounds: what any one plugin may reserve, and the watchers the core keeps. */
#define NETCLAIMS_PER_OWNER 256
#define NETCLAIMS_WATCHERS 4

/* One reservation, as the claiming plugin states it (see plugin.h,
 * sekisho_net_claim_set()). Strings are copied by the registry. */
struct sekisho_net_claim {
        const char *destination;  /* address, prefix or host name, as in network: allow-destinations */
        const char *protocol;     /* "tcp", "udp", or NULL for both */
        uint16_t port_lo, port_hi; /* 0, 0: every port */
        const char *cgroup;       /* cgroup v2 path below the hierarchy's root, e.g. "sekisho.slice/sekisho-vdi.slice" */
        const char *owner;        /* set by the registry: the claiming plugin's name */
};

typedef void (*sekisho_net_claims_fn)(void *userdata);

struct netclaims;

int netclaims_new(struct netclaims **ret);
struct netclaims *netclaims_free(struct netclaims *reg);
/* Replace every claim of owner with v[0..n) (n = 0 drops them) and tell the
 * watchers, if anything changed. -EINVAL for an empty destination or cgroup,
 * an unknown protocol or port_lo > port_hi; -E2BIG above NETCLAIMS_PER_OWNER.
 * On error nothing changes. */
int netclaims_set(struct netclaims *reg, const char *owner, const struct sekisho_net_claim *v, size_t n);
/* Every claim, of every owner, in a stable order (owner, then as given).
 * Valid until the next netclaims_set(). */
size_t netclaims_get(const struct netclaims *reg, const struct sekisho_net_claim **ret);
/* Call cb(userdata) after each change. -ENOSPC above NETCLAIMS_WATCHERS. */
int netclaims_watch(struct netclaims *reg, sekisho_net_claims_fn cb, void *userdata);
/* Stop calling cb(userdata) (a plugin shutting down). */
void netclaims_unwatch(struct netclaims *reg, sekisho_net_claims_fn cb, void *userdata);

/* What the network plugin has in force for the claimed cgroups, for the
 * programs that start processes in them (the VDI launcher). The plugin
 * rewrites STATE_DIR/NETCLAIMS_IN_FORCE (atomically) after every ruleset
 * it loads: one line "ID PATH" per claimed cgroup, ID being the cgroup's
 * id (its inode number) the rules in the kernel match, 0 when it did not
 * exist (its destinations are then refused to every program). A cgroup
 * made afresh has a new id: until the file names that id, a process in it
 * is refused what was claimed for it. */
#define NETCLAIMS_IN_FORCE "net/cgroups-in-force"
#define NETCLAIMS_IN_FORCE_MAX (64u * 1024u)
/* The file's text for paths[i] with ids[i] (malloc'ed, NUL-terminated). */
int netclaims_in_force_format(char *const *paths, const uint64_t *ids, size_t n, char **ret);
/* 1 when text names cgroup with id, 0 when not, -EBADMSG when a line is
 * not "ID PATH". */
int netclaims_in_force_has(const char *text, size_t size, const char *cgroup, uint64_t id);
