/* nft.c — the network plugin's thin wrapper over libnftables: loaded on first use, run a script as one transaction, list, and capture nft's own error text. */
#include "config.h"

#include <dlfcn.h>
#include <errno.h>
#include <nftables/libnftables.h>
#include <string.h>

#include "kernel.h"
#include "util.h"

/* libnftables and what it pulls in (libnftnl, libmnl, jansson, libxtables,
 * gmp: about 0.6 MiB resident before a context exists) are mapped only when
 * the plugin first needs nft, not by every process linking the core
 * (sekishoctl, sekisho-notify, a daemon whose net plugin does not run).
 * The header gives the types; dlsym the addresses. */
#define NFT_LIBRARY "libnftables.so.1"

static struct {
        void *dl;
        __typeof__(&nft_ctx_new) ctx_new;
        __typeof__(&nft_ctx_free) ctx_free;
        __typeof__(&nft_ctx_buffer_output) buffer_output;
        __typeof__(&nft_ctx_buffer_error) buffer_error;
        __typeof__(&nft_ctx_get_output_buffer) get_output_buffer;
        __typeof__(&nft_ctx_get_error_buffer) get_error_buffer;
        __typeof__(&nft_run_cmd_from_buffer) run_cmd_from_buffer;
} nft;
static char nft_load_error[256];

static int nft_load(void) {
        if (nft.dl)
                return 0;
        void *dl = dlopen(NFT_LIBRARY, RTLD_NOW | RTLD_LOCAL);
        if (!dl) {
                snprintf(nft_load_error, sizeof nft_load_error, "%s", dlerror());
                return -ELIBACC;
        }
        const char *missing = NULL;
#define SYM(field, name)                                                \
        if (!missing && !(nft.field = (__typeof__(nft.field))dlsym(dl, #name))) \
                missing = #name;
        SYM(ctx_new, nft_ctx_new)
        SYM(ctx_free, nft_ctx_free)
        SYM(buffer_output, nft_ctx_buffer_output)
        SYM(buffer_error, nft_ctx_buffer_error)
        SYM(get_output_buffer, nft_ctx_get_output_buffer)
        SYM(get_error_buffer, nft_ctx_get_error_buffer)
        SYM(run_cmd_from_buffer, nft_run_cmd_from_buffer)
#undef SYM
        if (missing) {
                snprintf(nft_load_error, sizeof nft_load_error, "%s has no %s", NFT_LIBRARY, missing);
                dlclose(dl);
                return -ELIBBAD;
        }
        nft.dl = dl;
        return 0;
}

const char *net_nft_load_error(void) {
        return nft_load_error[0] ? nft_load_error : "no error";
}

int net_nft_new(struct nft_ctx **ret) {
        int r = nft_load();
        if (r < 0)
                return r;
        struct nft_ctx *ctx = nft.ctx_new(NFT_CTX_DEFAULT);
        if (!ctx)
                return -ENOMEM;
        if (nft.buffer_output(ctx) < 0 || nft.buffer_error(ctx) < 0) {
                nft.ctx_free(ctx);
                return -ENOMEM;
        }
        *ret = ctx;
        return 0;
}

void net_nft_free(struct nft_ctx *ctx) {
        if (ctx)
                nft.ctx_free(ctx);
}

/* nft's error text, trimmed to its first line ("Error: ...: File exists"),
 * which one log line and one audit field can carry; the rest is nft's
 * echo of the (long, generated) input with carets under it. */
static char *error_text(struct nft_ctx *ctx) {
        const char *e = nft.get_error_buffer(ctx);
        if (!e || !*e)
                e = "nft refused the ruleset (no message)";
        log_debug("network: nft said: %.4000s", e);
        size_t n = strcspn(e, "\n");
        if (n > 1024)
                n = 1024;
        char *s = strndup(e, n);
        if (!s)
                return NULL;
        while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == ' '))
                s[--n] = '\0';
        return s;
}

int net_nft_run(struct nft_ctx *ctx, const char *script, char **ret_err) {
        /* Drain anything left from an earlier command. */
        (void)nft.get_output_buffer(ctx);
        (void)nft.get_error_buffer(ctx);
        int r = nft.run_cmd_from_buffer(ctx, script);
        (void)nft.get_output_buffer(ctx);
        if (r == 0)
                return 0;
        if (ret_err)
                *ret_err = error_text(ctx);
        else
                (void)nft.get_error_buffer(ctx);
        return -EINVAL;
}

int net_nft_list(struct nft_ctx *ctx, const char *cmd, char **ret_out, char **ret_err) {
        (void)nft.get_output_buffer(ctx);
        (void)nft.get_error_buffer(ctx);
        int r = nft.run_cmd_from_buffer(ctx, cmd);
        const char *out = nft.get_output_buffer(ctx);
        if (r != 0) {
                if (ret_err)
                        *ret_err = error_text(ctx);
                return -ENOENT;
        }
        (void)nft.get_error_buffer(ctx);
        *ret_out = strdup(out ? out : "");
        return *ret_out ? 0 : -ENOMEM;
}
