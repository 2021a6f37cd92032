/* vdi-policy.c — checks the vdi: section and turns it into a deny mask and per-client permissions. */
#include "config.h"

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
                                     "unknown VDI client '%s' (expected freerdp, remmina, citrix, horizon, spice or gnome-connections)",
                                     s ? s : "");
                }
        }
        const struct pnode *sc = pmap_get(section, "smartcard");
        if (sc && pnode_str(sc) && strcmp(pnode_str(sc), "deny") == 0 && seq_has(dev, "smartcard"))
                perr(errs, sc, "smartcard: deny contradicts allow-devices, which lists smartcard");
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
        if (!section)
                return;
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
