/* kernel.h — the network plugin's kernel-facing parts: topology learning (rtnetlink dumps, nlraw.c), libnftables, conntrack cuts, NFLOG notices. */
#pragma once

#include "loop.h"
#include "net.h"

/* ---- topology ---- */
struct net_learn;
/* changed() is called from the loop after a batch of rtnetlink changes, or
 * when resolv.conf below sysroot (etc/, run/systemd/resolve/) changes. */
int net_learn_new(struct loop *loop, const char *sysroot, void (*changed)(void *userdata), void *userdata,
                  struct net_learn **ret);
struct net_learn *net_learn_free(struct net_learn *l);
/* A snapshot of what the caches say now, plus the name servers of
 * sysroot's resolv.conf (and systemd-resolved's upstream list). */
/* Links whose names match one of exempt (globs, n_exempt) contribute no
 * on-link prefixes: this machine's own container or VM networks. */
int net_learn_topo(struct net_learn *l, const char *sysroot, const char (*exempt)[16], size_t n_exempt,
                   struct net_topo *ret);
/* Read name servers only (also for the offline CLI). */
void net_read_dns(const char *sysroot, struct net_ranges *out);

/* ---- libnftables ---- */
struct nft_ctx;
/* -ELIBACC/-ELIBBAD: libnftables could not be loaded; net_nft_load_error() says why, naming it. */
int net_nft_new(struct nft_ctx **ret);
const char *net_nft_load_error(void);
void net_nft_free(struct nft_ctx *ctx);
/* libnftables (with libnftnl, jansson, libxtables and gmp behind it: 1.6 MiB
 * resident) out of the process again, every context freed first; the next
 * net_nft_new() loads it anew. */
void net_nft_unload(void);
/* Run a script as one transaction. On failure returns -EINVAL (or -ENOMEM)
 * and, when ret_err is not NULL, nft's own message (caller frees). */
int net_nft_run(struct nft_ctx *ctx, const char *script, char **ret_err);
/* Run a listing command and return its text output (caller frees). */
int net_nft_list(struct nft_ctx *ctx, const char *cmd, char **ret_out, char **ret_err);

/* ---- the learned sets without nft (nftset.c) ---- */
struct net_nftset;
/* A NETLINK_NETFILTER socket (close-on-exec), kept between updates. */
int net_nftset_new(struct net_nftset **ret);
struct net_nftset *net_nftset_free(struct net_nftset *s);
/* Flush and refill the n sets of table inet sekisho in one nf_tables batch,
 * one transaction: 0, or the first error the kernel acked (-ENOENT: a set
 * or the table is missing; the batch then changed nothing), -EEXIST for
 * overlapping ranges (nft refuses them too). After an error the socket may
 * hold stale replies: free it and make a new one. */
int net_nftset_refill(struct net_nftset *s, const struct net_setfill *fills, size_t n);

/* ---- conntrack ---- */
/* Delete the conntrack entries of connections the rules now forbid.
 * *ret_cut gets the number deleted. */
int net_ct_cut(const struct net_policy *p, const struct net_resolved *res, const struct net_topo *t, unsigned *ret_cut);

/* ---- NFLOG ---- */
struct net_nflog;
typedef void (*net_nflog_fn)(void *userdata, const char *prefix, const struct net_pkt *pkt);
int net_nflog_open(struct loop *loop, int group, net_nflog_fn cb, void *userdata, struct net_nflog **ret);
struct net_nflog *net_nflog_close(struct net_nflog *n);

/* ---- the cgroups of claimed destinations (cgroup.c) ---- */
struct net_cgwatch;
/* changed() is called from the loop when a claimed cgroup the loaded rules
 * name was removed or re-created (its id changed): reload them. in_force is
 * the file that says which ids the rules in the kernel name (netclaim.h,
 * NETCLAIMS_IN_FORCE; NULL: none): it is emptied here (nothing is proven
 * yet) and rewritten by net_cgwatch_publish(). */
int net_cgwatch_new(struct loop *loop, const char *in_force, void (*changed)(void *userdata), void *userdata,
                    struct net_cgwatch **ret);
struct net_cgwatch *net_cgwatch_free(struct net_cgwatch *w);
/* Before loading res: find the cgroup v2 hierarchy (res->cg_prefix), make
 * each claimed cgroup that is missing (cg_missing where that fails: the
 * destination is refused to everyone), remember their ids and watch them.
 * res->cg_prefix points into w until the next call. */
int net_cgwatch_prepare(struct net_cgwatch *w, struct net_resolved *res);
/* The rules prepared for are in the kernel now: say so in the in_force file,
 * for the launcher that waits to start a client in a cgroup it just made. */
void net_cgwatch_publish(struct net_cgwatch *w);
