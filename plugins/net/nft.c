/* nft.c — the network plugin's thin wrapper over libnftables: loaded on first use, run a script as one transaction, list, and capture nft's own error text. */
#include "config.h"

#include <errno.h>
#include <nftables/libnftables.h>
#include <string.h>

#include "dl.h"
#include "kernel.h"
#include "util.h"

/* libnftables is loaded on first use (daemon/dl.c says why); the header gives the types. */
#define NET_NFT_FUNCS(X)                                                                                        \
        X(nft_ctx_new) X(nft_ctx_free) X(nft_ctx_buffer_output) X(nft_ctx_buffer_error)                         \
        X(nft_ctx_get_output_buffer) X(nft_ctx_get_error_buffer) X(nft_run_cmd_from_buffer)

static struct {
        NET_NFT_FUNCS(DL_FIELD)
} nft;
static char nft_load_error[256];
static const char *const nft_libs[] = { "libnftables.so.1", NULL };
static bool nft_loaded;

static int nft_load(void) {
        if (nft_loaded)
                return 0;
        int r = DL_LOAD(nft, NET_NFT_FUNCS, nft_libs, nft_load_error, sizeof nft_load_error);
        nft_loaded = r == 0;
        return r;
}

void net_nft_unload(void) {
        if (!nft_loaded)
                return;
        dl_unload(nft_libs);
        nft_loaded = false;
}

const char *net_nft_load_error(void) { return nft_load_error[0] ? nft_load_error : "no error"; }

int net_nft_new(struct nft_ctx **ret) {
        int r = nft_load();
        if (r < 0)
                return r;
        struct nft_ctx *ctx = nft.nft_ctx_new(NFT_CTX_DEFAULT);
        if (!ctx)
                return -ENOMEM;
        if (nft.nft_ctx_buffer_output(ctx) < 0 || nft.nft_ctx_buffer_error(ctx) < 0) {
                nft.nft_ctx_free(ctx);
                return -ENOMEM;
        }
        *ret = ctx;
        return 0;
}

void net_nft_free(struct nft_ctx *ctx) {
        if (ctx)
                nft.nft_ctx_free(ctx);
}

/* nft's error text, trimmed to its first line ("Error: ...: File exists"),
 * which one log line and one audit field can carry; the rest is nft's
 * echo of the (long, generated) input with carets under it. */
static char *error_text(struct nft_ctx *ctx) {
        const char *e = nft.nft_ctx_get_error_buffer(ctx);
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
        (void)nft.nft_ctx_get_output_buffer(ctx);
        (void)nft.nft_ctx_get_error_buffer(ctx);
        int r = nft.nft_run_cmd_from_buffer(ctx, script);
        (void)nft.nft_ctx_get_output_buffer(ctx);
        if (r == 0)
                return 0;
        if (ret_err)
                *ret_err = error_text(ctx);
        else
                (void)nft.nft_ctx_get_error_buffer(ctx);
        return -EINVAL;
}

int net_nft_list(struct nft_ctx *ctx, const char *cmd, char **ret_out, char **ret_err) {
        (void)nft.nft_ctx_get_output_buffer(ctx);
        (void)nft.nft_ctx_get_error_buffer(ctx);
        int r = nft.nft_run_cmd_from_buffer(ctx, cmd);
        const char *out = nft.nft_ctx_get_output_buffer(ctx);
        if (r != 0) {
                if (ret_err)
                        *ret_err = error_text(ctx);
                return -ENOENT;
        }
        (void)nft.nft_ctx_get_error_buffer(ctx);
        *ret_out = strdup(out ? out : "");
        return *ret_out ? 0 : -ENOMEM;
}
