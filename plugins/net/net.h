/* net.h — the network plugin's internal types: addresses and ranges, the parsed network: section, the learned topology, the ruleset generator. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "ptree.h"

/* The nftables table we own, and the NFLOG group our drop chains log to
 * (rate-limited in the kernel, read by the daemon: see net.c). */
#define NET_TABLE "sekisho"
#define NET_NFLOG_GROUP 3141
/* Base chain priority: filter - 10, before the usual filter tables (0) and
 * firewalld (filter + 10), after conntrack (-200) and NAT (-100 / 100). */
#define NET_PRIORITY "filter - 10"

/* Bounds on what a policy or the kernel can make us hold. */
#define NET_MAX_ENTRIES 65536        /* entries in one list of the section */
#define NET_MAX_TOPO 4096            /* learned prefixes/gateways per family */
#define NET_MAX_NAME 253             /* a DNS name */
#define NET_MAX_FS_PORTS 256         /* file-sharing-ports entries */
#define NET_MAX_EXEMPT_IF 32         /* exempt-interfaces entries */
#define NET_HOSTS_MAX (1u << 20)     /* /etc/hosts, resolv.conf: read at most this much */

/* One address range [lo, hi] of one family, bytes in network order
 * (4 used for AF_INET, 16 for AF_INET6). A prefix is a range too. */
struct net_range {
        int family;
        uint8_t lo[16], hi[16];
};

struct net_ranges {
        struct net_range *v;
        size_t n, cap;
};

int net_ranges_add(struct net_ranges *l, const struct net_range *r);
void net_ranges_clear(struct net_ranges *l);
/* Sort by family, then address, without merging. */
void net_ranges_sort(struct net_ranges *l);
/* Sort and merge overlapping or adjacent ranges (same family). */
void net_ranges_normalize(struct net_ranges *l);
bool net_ranges_contains(const struct net_ranges *l, int family, const uint8_t *addr);
bool net_ranges_equal(const struct net_ranges *a, const struct net_ranges *b);

static inline size_t net_addr_len(int family) { return family == 4 ? 4 : 16; }
#define NET_V4 4
#define NET_V6 6

/* Parse "ADDR" or "ADDR/LEN" (IPv4 or IPv6). Host bits set behind the
 * prefix are refused (-EINVAL, *why says so), as are out-of-range lengths.
 * why is a short static reason on failure. */
int net_parse_cidr(const char *s, struct net_range *ret, const char **why);
/* Prefix of an address with len bits kept (for learned addresses). */
void net_range_from_prefix(int family, const uint8_t *addr, unsigned len, struct net_range *ret);
bool net_range_overlaps(const struct net_range *a, const struct net_range *b);
bool net_range_covers(const struct net_range *outer, const struct net_range *inner);
/* Write "a", "a/len" or "a-b" into out. */
void net_range_format(const struct net_range *r, char *out, size_t size);

/* True if s is a syntactically valid DNS host name (RFC 1123 labels). */
bool net_valid_hostname(const char *s);

/* Look name up in an /etc/hosts text (case-insensitive). Adds each address
 * to out as a single-address range. Returns the number found. */
size_t net_hosts_lookup(const char *hosts, size_t size, const char *name, struct net_ranges *out);
/* nameserver lines of a resolv.conf text into out (loopback skipped). */
void net_resolv_parse(const char *text, size_t size, struct net_ranges *out);

/* A cgroup v2 path below the hierarchy's root, as claims and the policy's
 * cgroup: name it: "a/b.slice", components of [A-Za-z0-9._@:-], no "." or
 * "..", at most NET_MAX_CGROUP bytes (it goes into the nft script quoted). */
#define NET_MAX_CGROUP 255
bool net_valid_cgroup(const char *s);
/* Its depth below the root: the level of `socket cgroupv2 level N`. */
unsigned net_cgroup_level(const char *s);

/* Ports "N" or "A-B" in 0..65535 (0 refused). */
int net_parse_ports(const char *s, uint16_t *lo, uint16_t *hi);

/* ---- the network: section ---- */

enum net_proto { NET_PROTO_ANY = 0, NET_PROTO_TCP = 6, NET_PROTO_UDP = 17 };

/* An entry of allow-destinations or management: address/prefix or name,
 * optionally limited to a protocol and port range. */
struct net_dest {
        struct net_range range;      /* when name is NULL */
        char *name;                  /* a host name, resolved at apply from /etc/hosts */
        enum net_proto proto;
        uint16_t port_lo, port_hi;   /* 0,0: every port */
        char *cgroup;                /* only sockets of this cgroup v2 (path below its root) may reach it; NULL: any */
        bool cg_missing;             /* the cgroup could not be made: the destination is refused to everyone */
        const struct pnode *at;      /* where it came from (valid while the tree lives) */
};

struct net_dests {
        struct net_dest *v;
        size_t n, cap;
};

int net_dests_add(struct net_dests *l, const struct net_dest *d);
/* Frees each entry's name and cgroup. */
void net_dests_clear(struct net_dests *l);

enum net_discovery { NET_DISC_NETBIOS, NET_DISC_MDNS, NET_DISC_LLMNR, NET_DISC_SSDP, NET_DISC_WSD, _NET_DISC_MAX };
extern const char *const net_discovery_names[];

struct net_policy {
        bool peer_deny;              /* peer-to-peer: deny */
        bool fileshare_deny;         /* file-sharing: deny */
        bool allow_dns;              /* DNS servers in use stay reachable */
        bool allowlist;              /* allow-destinations present */
        bool discovery_allowed[_NET_DISC_MAX];
        struct net_dests peers;      /* allow-peers (no proto/port) */
        struct net_dests dests;      /* allow-destinations */
        struct net_dests mgmt;       /* management */
        struct net_dests dns;        /* dns-servers: resolvers the policy names (no proto/port) */
        uint16_t fs_lo[NET_MAX_FS_PORTS], fs_hi[NET_MAX_FS_PORTS];
        size_t n_fs;
        /* exempt-interfaces: this machine's own virtual networks (globs) */
        char exempt_if[NET_MAX_EXEMPT_IF][16];
        size_t n_exempt_if;
        /* forward-exempt-interfaces: forwarded traffic in or out of these is left alone (names, or a prefix and '*') */
        char fwd_exempt_if[NET_MAX_EXEMPT_IF][16];
        size_t n_fwd_exempt_if;
        /* public-networks (R8): outside the proven office, only the VPN */
        bool public_nets;
        char office_server[64];      /* IP literal and port of the pinned office server */
        char office_sni[NET_MAX_NAME + 1];
        uint8_t office_pin[32];      /* SHA-256 of its SubjectPublicKeyInfo */
        struct net_dest office;      /* the same as a destination (tcp, its port) */
        struct net_dests vpn;        /* vpn-endpoints */
        char vpn_if[NET_MAX_EXEMPT_IF][16]; /* vpn-interfaces: the tunnel (names or prefix*) */
        size_t n_vpn_if;
        struct net_dests core;       /* core-network: never reachable outside the office (addresses, prefixes) */
};

/* Parse and validate a network: section (NULL: the strict built-in
 * behaviour). Every problem goes to errs (FILE:LINE:COL); returns the
 * number added. ret may be NULL (check only). Pure: no lookups. */
size_t net_policy_parse(const struct pnode *section, struct net_policy *ret, struct perrors *errs);
void net_policy_done(struct net_policy *p);

/* ---- what the kernel told us ---- */

struct net_topo {
        struct net_ranges onlink;    /* on-link prefixes of link-layer interfaces, both families */
        struct net_ranges gw;        /* next-hop routers (IPv6: link-local) */
        struct net_ranges dns;       /* name servers in use */
        struct net_ranges local;     /* our own addresses */
};
void net_topo_done(struct net_topo *t);
bool net_topo_sets_equal(const struct net_topo *a, const struct net_topo *b);

/* Addresses of policy entries after name resolution. */
struct net_resolved {
        struct net_ranges peers;
        struct net_ranges dns;       /* dns-servers */
        struct net_dests dests;      /* names replaced by their addresses */
        struct net_dests claims;     /* destinations reserved for one cgroup (cgroup: entries, then other plugins' claims) */
        const char *cg_prefix;       /* the cgroup v2 root below /sys/fs/cgroup ("" or "unified/"); NULL: none, claims refuse all */
        struct net_dests vpn;        /* vpn-endpoints, names resolved */
        struct net_ranges core;      /* core-network */
        bool public_mode;            /* public-networks and the office not proven: only the VPN (set by the caller) */
        char **unresolved;           /* "name (FILE:LINE:COL)" for each name not found */
        size_t n_unresolved, cap_unresolved;
};
/* Resolve the names of p and of claims (may be NULL: other plugins' claims,
 * each with a cgroup) through the hosts text (may be NULL). Entries with a
 * cgroup go to ret->claims, their cgroup borrowed from p or claims. */
int net_resolve(const struct net_policy *p, const struct net_dests *claims, const char *hosts, size_t hosts_size,
                struct net_resolved *ret);
void net_resolved_done(struct net_resolved *r);

/* ---- rule generation ---- */

/* Drop classes: each has a named counter and a chain drop_<name>. */
enum net_class {
        NET_C_PEER_OUT, NET_C_PEER_IN, NET_C_DISCOVERY, NET_C_BITTORRENT, NET_C_DHT, NET_C_UTP,
        NET_C_FS_PORT, NET_C_DEST_OUT, NET_C_DEST_IN, NET_C_FILESHARE_DPI, _NET_C_MAX
};
extern const char *const net_class_names[];

struct net_counters {
        uint64_t packets[_NET_C_MAX], bytes[_NET_C_MAX];
};

/* The whole table as one nft script: "add table; delete table; table {...}"
 * (one transaction). counters (may be NULL) carries values over a reload;
 * log_group < 0 leaves the NFLOG notices out. */
int net_ruleset(FILE *f, const struct net_policy *p, const struct net_resolved *res, const struct net_topo *t,
                const struct net_counters *counters, int log_group);
/* Only the learned sets: flush and refill them (one transaction). */
int net_ruleset_sets(FILE *f, const struct net_topo *t, const struct net_topo *old);
/* The learned sets as data, for the direct netlink refill (nftset.c): the
 * elements the script above gives nft (the set's fixed extras, then the
 * family's ranges), sorted, not merged. */
struct net_setfill {
        const char *name;            /* "onlink4", ... (static) */
        int family;
        struct net_ranges ranges;
};
#define NET_TOPO_SETS 6
/* The learned sets whose elements differ between t and old (old NULL:
 * every one), as net_ruleset_sets() would rewrite them; *ret_n of them. */
int net_topo_fills(const struct net_topo *t, const struct net_topo *old, struct net_setfill ret[NET_TOPO_SETS],
                   size_t *ret_n);
void net_setfills_done(struct net_setfill *f, size_t n);
/* The drop counters of table inet sekisho in this network namespace,
 * straight from nf_tables (nftobj.c); -ENOENT when the table is not here. */
int net_counters_read(struct net_counters *ret);

/* Would this connection be dropped by the rules for p/res/t? Used to pick the
 * conntrack entries to cut after a switch. remote is the other end; outbound
 * is true when we opened it. port is the remote port for outbound, the local
 * port for inbound. */
bool net_conn_forbidden(const struct net_policy *p, const struct net_resolved *res, const struct net_topo *t,
                        int family, const uint8_t *remote, bool outbound, int proto, uint16_t port);

/* A bounded summary of a logged packet (NFLOG payload, an IP header). */
struct net_pkt {
        int family;
        uint8_t src[16], dst[16];
        int proto;
        uint16_t sport, dport;
};
int net_pkt_parse(const uint8_t *p, size_t len, int family_hint, struct net_pkt *ret);
