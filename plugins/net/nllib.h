/* nllib.h — libnl (core, route, netfilter) as a table of functions filled on first use: learn.c, ct.c and nflog.c call it as NL(name)(...). */
#pragma once

#include <netlink/cache.h>
#include <netlink/msg.h>
#include <netlink/netfilter/ct.h>
#include <netlink/netfilter/log.h>
#include <netlink/netfilter/log_msg.h>
#include <netlink/netfilter/nfnl.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/route.h>

#include "dl.h"

/* Every libnl function the plugin calls; the types come from libnl's headers. */
#define NET_NL_FUNCS(X) \
        X(nfnl_ct_alloc_cache) \
        X(nfnl_ct_del) \
        X(nfnl_ct_get_dst) \
        X(nfnl_ct_get_dst_port) \
        X(nfnl_ct_get_family) \
        X(nfnl_ct_get_proto) \
        X(nfnl_ct_get_src) \
        X(nfnl_log_alloc) \
        X(nfnl_log_create) \
        X(nfnl_log_delete) \
        X(nfnl_log_msg_get_payload) \
        X(nfnl_log_msg_get_prefix) \
        X(nfnl_log_pf_bind) \
        X(nfnl_log_put) \
        X(nfnl_log_set_copy_mode) \
        X(nfnl_log_set_copy_range) \
        X(nfnl_log_set_group) \
        X(nl_addr_get_binary_addr) \
        X(nl_addr_get_family) \
        X(nl_addr_get_len) \
        X(nl_addr_get_prefixlen) \
        X(nl_cache_foreach) \
        X(nl_cache_free) \
        X(nl_cache_mngr_add) \
        X(nl_cache_mngr_alloc) \
        X(nl_cache_mngr_data_ready) \
        X(nl_cache_mngr_free) \
        X(nl_cache_mngr_get_fd) \
        X(nl_cache_nitems) \
        X(nl_cache_refill) \
        X(nl_connect) \
        X(nl_geterror) \
        X(nl_msg_parse) \
        X(nl_recvmsgs_default) \
        X(nl_socket_alloc) \
        X(nl_socket_disable_seq_check) \
        X(nl_socket_free) \
        X(nl_socket_get_fd) \
        X(nl_socket_modify_cb) \
        X(nl_socket_set_buffer_size) \
        X(nl_socket_set_nonblocking) \
        X(rtnl_addr_get_ifindex) \
        X(rtnl_addr_get_local) \
        X(rtnl_addr_get_peer) \
        X(rtnl_addr_get_prefixlen) \
        X(rtnl_link_get) \
        X(rtnl_link_get_arptype) \
        X(rtnl_link_get_flags) \
        X(rtnl_link_get_name) \
        X(rtnl_link_put) \
        X(rtnl_route_foreach_nexthop) \
        X(rtnl_route_get_dst) \
        X(rtnl_route_get_table) \
        X(rtnl_route_get_type) \
        X(rtnl_route_nh_get_gateway) \
        X(rtnl_route_nh_get_ifindex)

struct net_nl {
        NET_NL_FUNCS(DL_FIELD)
};
extern struct net_nl net_nl;
#define NL(f) (net_nl.f)

/* Loads libnl once (0 when it is already there); -ELIBACC or -ELIBBAD with
 * net_nl_load_error() naming the library or the missing function. */
int net_nl_load(void);
const char *net_nl_load_error(void);
