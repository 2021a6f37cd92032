/* tlsprobe.c — trusted network detection for every plugin (travel: home, net: office): a non-blocking TLS handshake on the daemon's loop with the pinned server, comparing the SPKI SHA-256. */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "loop.h"
#include "tlsprobe.h"
#include "util.h"

/* Why there is no certificate-chain validation: the pin is the trust
 * anchor. A completed TLS 1.2/1.3 handshake proves the peer holds the
 * private key of the certificate it sent (CertificateVerify, or the signed
 * ServerKeyExchange), so a matching SPKI hash proves the peer is our
 * server, whatever its certificate says. Only IP literals are accepted:
 * the visited network controls DNS, and resolving would block the loop.
 * Captive portals and interception proxies present another key and so
 * count as "not home". */

struct tls_probe {
        struct loop *loop;
        int fd;
        SSL_CTX *ctx;
        SSL *ssl;
        bool connected;
        uint8_t pin[TLS_PIN_LEN];
        struct loop_source *io, *timer, *defer;
        tls_probe_fn cb;
        void *userdata;
        enum probe_result result;
        char detail[160];
        bool finished;
};

const char *probe_result_name(enum probe_result r) {
        switch (r) {
        case PROBE_HOME: return "home";
        case PROBE_PIN_MISMATCH: return "pin-mismatch";
        default: return "failed";
        }
}

struct tls_probe *tls_probe_free(struct tls_probe *p) {
        if (!p)
                return NULL;
        loop_source_free(p->io);
        loop_source_free(p->timer);
        loop_source_free(p->defer);
        if (p->ssl)
                SSL_free(p->ssl);
        if (p->ctx)
                SSL_CTX_free(p->ctx);
        if (p->fd >= 0)
                close(p->fd);
        free(p);
        return NULL;
}

/* Report once, from a loop callback; the callback may free the probe. */
static void finish(struct tls_probe *p, enum probe_result r, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void finish(struct tls_probe *p, enum probe_result r, const char *fmt, ...) {
        if (p->finished)
                return;
        p->finished = true;
        p->result = r;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(p->detail, sizeof p->detail, fmt, ap);
        va_end(ap);
        p->io = loop_source_free(p->io);
        loop_timer_disarm(p->timer);
        if (p->ssl)
                SSL_shutdown(p->ssl); /* best effort close_notify; non-blocking */
        p->cb(r, p->detail, p->userdata);
}

static int spki_sha256(X509 *cert, uint8_t out[TLS_PIN_LEN]) {
        unsigned char *der = NULL;
        int len = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(cert), &der);
        if (len <= 0)
                return -EINVAL;
        unsigned int mdlen = 0;
        int ok = EVP_Digest(der, (size_t)len, out, &mdlen, EVP_sha256(), NULL);
        OPENSSL_free(der);
        return ok && mdlen == TLS_PIN_LEN ? 0 : -EINVAL;
}

static void step(struct tls_probe *p) {
        if (!p->connected) {
                int err = 0;
                socklen_t len = sizeof err;
                if (getsockopt(p->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
                        err = errno;
                if (err) {
                        finish(p, PROBE_FAILED, "connect: %s", strerror(err));
                        return;
                }
                p->connected = true;
        }
        ERR_clear_error();
        int r = SSL_do_handshake(p->ssl);
        if (r == 1) {
                X509 *cert = SSL_get1_peer_certificate(p->ssl);
                uint8_t got[TLS_PIN_LEN];
                if (!cert) {
                        finish(p, PROBE_FAILED, "server sent no certificate");
                        return;
                }
                int k = spki_sha256(cert, got);
                X509_free(cert);
                if (k < 0) {
                        finish(p, PROBE_FAILED, "cannot hash the server's public key");
                        return;
                }
                if (CRYPTO_memcmp(got, p->pin, TLS_PIN_LEN) != 0) {
                        char hex[2 * TLS_PIN_LEN + 1];
                        hex_encode(got, TLS_PIN_LEN, hex);
                        finish(p, PROBE_PIN_MISMATCH, "server key SHA-256 %s does not match the pin", hex);
                        return;
                }
                finish(p, PROBE_HOME, "pinned key matched (%s)", SSL_get_version(p->ssl));
                return;
        }
        int e = SSL_get_error(p->ssl, r);
        if (e == SSL_ERROR_WANT_READ)
                loop_source_set_events(p->io, EPOLLIN);
        else if (e == SSL_ERROR_WANT_WRITE)
                loop_source_set_events(p->io, EPOLLOUT);
        else {
                unsigned long code = ERR_peek_error();
                char buf[120];
                ERR_error_string_n(code, buf, sizeof buf);
                finish(p, PROBE_FAILED, "TLS handshake failed: %s", code ? buf : "connection closed");
        }
}

static int on_io(struct loop_source *s, int fd, uint32_t revents, void *userdata) {
        struct tls_probe *p = userdata;
        step(p);
        return 0;
}

static int on_timeout(struct loop_source *s, void *userdata) {
        struct tls_probe *p = userdata;
        finish(p, PROBE_FAILED, "timed out");
        return 0;
}

static int on_defer(struct loop_source *s, void *userdata) {
        struct tls_probe *p = userdata;
        char why[sizeof p->detail];
        snprintf(why, sizeof why, "%s", p->detail); /* finish() writes p->detail */
        finish(p, p->result, "%s", why);
        return 0;
}

int tls_probe_start(struct loop *l, const char *server, const char *sni, const uint8_t pin[TLS_PIN_LEN],
                    uint64_t timeout_usec, tls_probe_fn cb, void *userdata, struct tls_probe **ret) {
        char host[64];
        uint16_t port;
        int r = parse_host_port(server, host, sizeof host, &port);
        if (r < 0)
                return r;
        struct tls_probe *p = calloc(1, sizeof *p);
        if (!p)
                return -ENOMEM;
        p->fd = -1;
        p->loop = l;
        p->cb = cb;
        p->userdata = userdata;
        memcpy(p->pin, pin, TLS_PIN_LEN);

        struct sockaddr_storage ss = { 0 };
        socklen_t sl;
        struct sockaddr_in *in4 = (struct sockaddr_in *)&ss;
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
        if (inet_pton(AF_INET, host, &in4->sin_addr) == 1) {
                in4->sin_family = AF_INET;
                in4->sin_port = htons(port);
                sl = sizeof *in4;
        } else if (inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
                in6->sin6_family = AF_INET6;
                in6->sin6_port = htons(port);
                sl = sizeof *in6;
        } else {
                free(p);
                return -EINVAL;
        }

        r = -ENOMEM;
        if (!(p->ctx = SSL_CTX_new(TLS_client_method())))
                goto fail;
        SSL_CTX_set_min_proto_version(p->ctx, TLS1_2_VERSION);
        SSL_CTX_set_verify(p->ctx, SSL_VERIFY_NONE, NULL); /* the pin decides, see above */
        if (!(p->ssl = SSL_new(p->ctx)))
                goto fail;
        if (sni && *sni)
                SSL_set_tlsext_host_name(p->ssl, sni);
        SSL_set_connect_state(p->ssl);

        p->fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_TCP);
        if (p->fd < 0) {
                r = -errno;
                goto fail;
        }
        if (SSL_set_fd(p->ssl, p->fd) != 1)
                goto fail;
        r = loop_add_timer(l, on_timeout, p, &p->timer);
        if (r < 0)
                goto fail;
        r = loop_timer_arm(p->timer, timeout_usec ? timeout_usec : 5000000, 0);
        if (r < 0)
                goto fail;
        if (connect(p->fd, (struct sockaddr *)&ss, sl) < 0 && errno != EINPROGRESS) {
                /* report from the loop, never from inside start */
                p->finished = false;
                p->result = PROBE_FAILED;
                snprintf(p->detail, sizeof p->detail, "connect: %s", strerror(errno));
                r = loop_add_timer(l, on_defer, p, &p->defer);
                if (r < 0 || (r = loop_timer_arm(p->defer, 1, 0)) < 0)
                        goto fail;
                loop_timer_disarm(p->timer);
                *ret = p;
                return 0;
        }
        r = loop_add_io(l, p->fd, EPOLLOUT, on_io, p, &p->io);
        if (r < 0)
                goto fail;
        *ret = p;
        return 0;
fail:
        tls_probe_free(p);
        return r;
}
