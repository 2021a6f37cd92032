/* nftobj.c — the drop counters of table inet sekisho read straight from nf_tables (one GETOBJ dump on plain netlink): a status read or `sekishoctl net show --counters` does not load libnftables. */
#include "config.h"

#include <arpa/inet.h>
#include <endian.h>
#include <errno.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <string.h>
#include <unistd.h>

#include "net.h"
#include "nlraw.h"

struct read {
        struct net_counters *c;
        unsigned found;
};

/* A string attribute equal to s (NUL-terminated within it). */
static bool attr_is(const struct nlattr *a, const char *s) {
        size_t len = strlen(s);
        return a && nlraw_len(a) >= len + 1 && memcmp(nlraw_data(a), s, len + 1) == 0;
}

static int on_obj(const struct nlmsghdr *h, void *userdata) {
        struct read *rd = userdata;
        const struct nlattr *tb[NFTA_OBJ_MAX + 1], *data[NFTA_COUNTER_MAX + 1];
        if (h->nlmsg_type != ((NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_NEWOBJ) ||
            !nlraw_parse_msg(h, sizeof(struct nfgenmsg), tb, NFTA_OBJ_MAX) || !attr_is(tb[NFTA_OBJ_TABLE], NET_TABLE) ||
            !tb[NFTA_OBJ_DATA])
                return 0;
        int c = 0;
        while (c < _NET_C_MAX && !attr_is(tb[NFTA_OBJ_NAME], net_class_names[c]))
                c++;
        if (c == _NET_C_MAX)
                return 0; /* not one of ours */
        nlraw_parse(nlraw_data(tb[NFTA_OBJ_DATA]), nlraw_len(tb[NFTA_OBJ_DATA]), data, NFTA_COUNTER_MAX);
        if (!data[NFTA_COUNTER_PACKETS] || nlraw_len(data[NFTA_COUNTER_PACKETS]) != 8 || !data[NFTA_COUNTER_BYTES] ||
            nlraw_len(data[NFTA_COUNTER_BYTES]) != 8)
                return 0;
        uint64_t v;
        memcpy(&v, nlraw_data(data[NFTA_COUNTER_PACKETS]), 8);
        rd->c->packets[c] = be64toh(v);
        memcpy(&v, nlraw_data(data[NFTA_COUNTER_BYTES]), 8);
        rd->c->bytes[c] = be64toh(v);
        rd->found++;
        return 0;
}

int net_counters_read(struct net_counters *ret) {
        int fd = nlraw_open(NETLINK_NETFILTER, 0, false);
        if (fd < 0)
                return fd;
        struct net_counters c = { 0 };
        struct read rd = { .c = &c };
        int r = -EINTR;
        for (int tries = 0; r == -EINTR && tries < 5; tries++) {
                struct nfgenmsg g = { .nfgen_family = NFPROTO_INET, .version = NFNETLINK_V0 };
                struct nlraw_req req;
                uint32_t type = htonl(NFT_OBJECT_COUNTER);
                nlraw_req_init(&req, (NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_GETOBJ, NLM_F_DUMP, &g, sizeof g);
                nlraw_put(&req, NFTA_OBJ_TABLE, NET_TABLE, sizeof NET_TABLE);
                nlraw_put(&req, NFTA_OBJ_TYPE, &type, sizeof type);
                c = (struct net_counters){ 0 };
                rd.found = 0;
                r = nlraw_call(fd, &req, on_obj, &rd);
        }
        close(fd);
        if (r < 0)
                return r;
        if (rd.found == 0)
                return -ENOENT; /* no table of ours here */
        *ret = c;
        return 0;
}
