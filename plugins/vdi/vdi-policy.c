/* vdi-policy.c — checks the vdi: section and turns it into a deny mask and per-client permissions. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "vdi-policy.h"

static const char *const allow_deny[] = { "allow", "deny", NULL };
static const char *const devices[] = { "keyboard", "mouse", "smartcard", "biometric", NULL };

static const struct pkey vdi_keys[] = {
        { .name = "clipboard", .type = PT_ENUM, .values = allow_deny },
        { .name = "drives", .type = PT_ENUM, .values = allow_deny },
        { .name = "printers", .type = PT_ENUM, .values = allow_deny },
        { .name = "serial-ports", .type = PT_ENUM, .values = allow_deny },
        { .name = "usb-redirect", .type = PT_ENUM, .values = allow_deny },
        { .name = "audio-input", .type = PT_ENUM, .values = allow_deny },
        { .name = "smartcard", .type = PT_ENUM, .values = allow_deny },
        { .name = "virtual-channels", .type = PT_ENUM, .values = allow_deny },
        { .name = "allow-devices", .type = PT_STRING_SEQ },
        { .name = "allow-clients", .type = PT_STRING_SEQ },
        { .name = "server-enforced", .type = PT_STRING_SEQ },
        { .name = "servers", .type = PT_STRING_SEQ },
        { .name = "client", .type = PT_STRING },
        { .name = "client-cgroup", .type = PT_STRING },
        { .name = NULL },
};

static const char *const clauses[_VDI_RES_MAX] = {
        [VDI_RES_CLIPBOARD] = "vdi.clipboard",   [VDI_RES_DRIVES] = "vdi.drives",
        [VDI_RES_PRINTERS] = "vdi.printers",     [VDI_RES_SERIAL] = "vdi.serial-ports",
        [VDI_RES_USB] = "vdi.usb-redirect",      [VDI_RES_AUDIO_IN] = "vdi.audio-input",
        [VDI_RES_SMARTCARD] = "vdi.smartcard",   [VDI_RES_CHANNELS] = "vdi.virtual-channels",
};

const char *vdi_clause(int res) {
        return res >= 0 && res < _VDI_RES_MAX ? clauses[res] : "vdi";
}

static bool seq_has(const struct pnode *seq, const char *s) {
        if (!seq || seq->kind != PNODE_SEQ)
                return false;
        for (size_t i = 0; i < seq->n; i++)
                if (seq->children[i]->kind == PNODE_SCALAR && strcmp(seq->children[i]->scalar, s) == 0)
                        return true;
        return false;
}

size_t vdi_policy_check(const struct pnode *section, struct perrors *errs) {
        size_t before = errs->n_errors;
        pmap_check(section, vdi_keys, errs);
        if (!section || section->kind != PNODE_MAP)
                return errs->n_errors - before;

        const struct pnode *dev = pmap_get(section, "allow-devices");
        if (dev && dev->kind == PNODE_SEQ)
                for (size_t i = 0; i < dev->n; i++) {
                        const char *s = pnode_str(dev->children[i]);
                        bool ok = false;
                        for (const char *const *d = devices; s && *d; d++)
                                ok = ok || strcmp(*d, s) == 0;
                        if (!ok)
                                perr(errs, dev->children[i], "unknown device kind '%s' (expected keyboard, mouse, smartcard or biometric)",
                                     s ? s : "");
                }
        const char *lists[] = { "allow-clients", "server-enforced" };
        for (size_t l = 0; l < 2; l++) {
                const struct pnode *seq = pmap_get(section, lists[l]);
                if (!seq || seq->kind != PNODE_SEQ)
                        continue;
                for (size_t i = 0; i < seq->n; i++) {
                        const char *s = pnode_str(seq->children[i]);
                        if (!vdi_client_by_key(s))
                                perr(errs, seq->children[i],
                                     "unknown VDI client '%s' (expected %s)", s ? s : "", VDI_CLIENT_KEYS);
                }
        }
        const struct pnode *sc = pmap_get(section, "smartcard");
        if (sc && pnode_str(sc) && strcmp(pnode_str(sc), "deny") == 0 && seq_has(dev, "smartcard"))
                perr(errs, sc, "smartcard: deny contradicts allow-devices, which lists smartcard");
        const struct pnode *servers = pmap_get(section, "servers");
        if (servers && servers->kind == PNODE_SEQ) {
                if (servers->n > VDI_MAX_SERVERS)
                        perr(errs, servers, "servers: more than %d entries", VDI_MAX_SERVERS);
                for (size_t i = 0; i < servers->n; i++) {
                        struct vdi_server sv;
                        if (vdi_server_parse(pnode_str(servers->children[i]), &sv) < 0)
                                perr(errs, servers->children[i],
                                     "servers: '%.64s' is not HOST, HOST:PORT, [IPv6]:PORT or a prefix",
                                     pnode_str(servers->children[i]) ? pnode_str(servers->children[i]) : "");
                }
        }
        const struct pnode *client = pmap_get(section, "client");
        if (client && pnode_str(client) && !vdi_client_by_key(pnode_str(client)))
                perr(errs, client, "unknown VDI client '%.64s' (expected one of the capability table: %s)", pnode_str(client),
                     VDI_CLIENT_KEYS);
        if (client && pnode_str(client) && seq_has(pmap_get(section, "allow-clients"), pnode_str(client)) == false &&
            pmap_get(section, "allow-clients"))
                perr(errs, client, "client: '%.64s' is not in allow-clients", pnode_str(client));
        const struct pnode *cg = pmap_get(section, "client-cgroup");
        if (cg && pnode_str(cg) && !vdi_cgroup_valid(pnode_str(cg)))
                perr(errs, cg, "client-cgroup: '%.64s' is not a cgroup path below the root outside user.slice "
                     "(letters, digits, . - _ @ /; no '..')", pnode_str(cg));
        if (client && !servers)
                perr(errs, client, "client: names the approved client of no server (add servers:)");
        return errs->n_errors - before;
}

void vdi_policy_from_section(const struct pnode *section, struct vdi_policy *ret) {
        memset(ret, 0, sizeof *ret);
        ret->deny = VDI_RES_ALL;
        const struct pnode *clients = pmap_get(section, "allow-clients");
        const struct pnode *server = pmap_get(section, "server-enforced");
        for (size_t c = 0; c < _VDI_CLIENT_MAX; c++) {
                ret->client_allowed[c] = !clients || seq_has(clients, vdi_clients[c].key);
                ret->server_enforced[c] = seq_has(server, vdi_clients[c].key);
        }
        ret->client = VDI_CLIENT_NONE;
        snprintf(ret->cgroup, sizeof ret->cgroup, "%s", VDI_DEFAULT_CGROUP);
        if (!section)
                return;
        const struct vdi_client_info *approved = vdi_client_by_key(pnode_str(pmap_get(section, "client")));
        const struct pnode *servers = pmap_get(section, "servers");
        if (approved)
                ret->client = (int) approved->id;
        for (size_t i = 0; servers && servers->kind == PNODE_SEQ && i < servers->n && ret->n_servers < VDI_MAX_SERVERS; i++)
                if (vdi_server_parse(pnode_str(servers->children[i]), &ret->servers[ret->n_servers]) == 0)
                        ret->n_servers++;
        const char *cg = pnode_str(pmap_get(section, "client-cgroup"));
        if (cg && vdi_cgroup_valid(cg))
                snprintf(ret->cgroup, sizeof ret->cgroup, "%s", cg);
        for (int r = 0; r < _VDI_RES_MAX; r++) {
                const char *v = pnode_str(pmap_get(section, vdi_res_key(r)));
                bool allow = v && strcmp(v, "allow") == 0;
                if (!v && r == VDI_RES_SMARTCARD)
                        allow = seq_has(pmap_get(section, "allow-devices"), "smartcard");
                if (allow)
                        ret->deny &= ~(1u << r);
        }
}

const char *vdi_policy_refuses(const struct vdi_policy *p, const struct vdi_client_info *c, int *ret_res) {
        *ret_res = -1;
        if (!p->client_allowed[c->id])
                return "vdi.allow-clients";
        for (int r = 0; r < _VDI_RES_MAX; r++) {
                if (!(p->deny & (1u << r)))
                        continue;
                if (c->enforce[r] == VDI_ENF_REFUSE ||
                    (c->enforce[r] == VDI_ENF_SERVER && !p->server_enforced[c->id])) {
                        *ret_res = r;
                        return clauses[r];
                }
        }
        return NULL;
}
