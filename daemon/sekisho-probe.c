/* sekisho-probe.c — the trusted-network probe helper: started by sekishod before its sandbox, it holds OpenSSL so sekishod does not, and does each pinned TLS handshake in a child of its own. */
#include "config.h"

#include <arpa/inet.h>
#include <linux/capability.h>
#include <netinet/in.h>
#include <poll.h>
#include <seccomp.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "probewire.h"
#include "sandbox.h"
#include "util.h"

/* Why there is no certificate-chain validation: the pin is the trust
 * anchor. A completed TLS 1.2/1.3 handshake proves the peer holds the
 * private key of the certificate it sent (CertificateVerify, or the signed
 * ServerKeyExchange), so a matching SPKI hash proves the peer is our
 * server, whatever its certificate says. Only IP literals are accepted:
 * the visited network controls DNS. Captive portals and interception
 * proxies present another key and so count as "not home". */

#define CONTROL_FD 3  /* from sekishod (tlsprobe.c) */
#define CHILDREN_MAX 8 /* probes at once; more are answered "busy" */

/* What a probe child may do: talk on its sockets, wait, compute. No open():
 * without capabilities and without a path to open, uid 0 reaches no file.
 * The unit's bounding set has no CAP_SETUID, so the helper cannot become
 * another user; it gives up every capability instead. */
static const int helper_syscalls[] = {
        SCMP_SYS(read), SCMP_SYS(write), SCMP_SYS(writev), SCMP_SYS(close), SCMP_SYS(fstat), SCMP_SYS(newfstatat),
        SCMP_SYS(recvmsg), SCMP_SYS(sendmsg), SCMP_SYS(recvfrom), SCMP_SYS(sendto), SCMP_SYS(socket),
        SCMP_SYS(connect), SCMP_SYS(getsockopt), SCMP_SYS(setsockopt), SCMP_SYS(getsockname), SCMP_SYS(shutdown),
        SCMP_SYS(poll), SCMP_SYS(ppoll), SCMP_SYS(fcntl), SCMP_SYS(clone), SCMP_SYS(wait4), SCMP_SYS(alarm),
        SCMP_SYS(exit), SCMP_SYS(exit_group), SCMP_SYS(mmap), SCMP_SYS(munmap), SCMP_SYS(mprotect), SCMP_SYS(brk),
        SCMP_SYS(mremap), SCMP_SYS(madvise), SCMP_SYS(getrandom), SCMP_SYS(futex), SCMP_SYS(clock_gettime),
        SCMP_SYS(gettimeofday), SCMP_SYS(rt_sigaction), SCMP_SYS(rt_sigprocmask), SCMP_SYS(rt_sigreturn),
        SCMP_SYS(getpid), SCMP_SYS(gettid), SCMP_SYS(getppid), SCMP_SYS(getuid), SCMP_SYS(geteuid),
        SCMP_SYS(getgid), SCMP_SYS(getegid), SCMP_SYS(set_robust_list), SCMP_SYS(rseq), SCMP_SYS(restart_syscall),
        -1,
};

static uint64_t now_ms(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Wait for events on fd until deadline: 1 ready, 0 timed out. */
static int wait_fd(int fd, short events, uint64_t deadline) {
        for (;;) {
                uint64_t now = now_ms();
                if (now >= deadline)
                        return 0;
                struct pollfd p = { .fd = fd, .events = events };
                int r = poll(&p, 1, (int)(deadline - now));
                if (r > 0)
                        return 1;
                if (r < 0 && errno != EINTR)
                        return 0;
        }
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

/* One probe, blocking, in a child: the result, with a reason in detail. */
static enum probe_result probe(SSL_CTX *ctx, const struct probe_request *q, char *detail, size_t size) {
        uint64_t deadline = now_ms() + q->timeout_usec / 1000;
        struct sockaddr_storage ss = { 0 };
        socklen_t sl;
        struct sockaddr_in *in4 = (struct sockaddr_in *)&ss;
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
        if (inet_pton(AF_INET, q->host, &in4->sin_addr) == 1) {
                in4->sin_family = AF_INET;
                in4->sin_port = htons(q->port);
                sl = sizeof *in4;
        } else if (inet_pton(AF_INET6, q->host, &in6->sin6_addr) == 1) {
                in6->sin6_family = AF_INET6;
                in6->sin6_port = htons(q->port);
                sl = sizeof *in6;
        } else {
                snprintf(detail, size, "not an IP address: %s", q->host);
                return PROBE_FAILED;
        }
        int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_TCP);
        if (fd < 0) {
                snprintf(detail, size, "socket: %s", strerror(errno));
                return PROBE_FAILED;
        }
        if (connect(fd, (struct sockaddr *)&ss, sl) < 0 && errno != EINPROGRESS) {
                snprintf(detail, size, "connect: %s", strerror(errno));
                return PROBE_FAILED;
        }
        if (!wait_fd(fd, POLLOUT, deadline)) {
                snprintf(detail, size, "timed out");
                return PROBE_FAILED;
        }
        int err = 0;
        socklen_t len = sizeof err;
        if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
                err = errno;
        if (err) {
                snprintf(detail, size, "connect: %s", strerror(err));
                return PROBE_FAILED;
        }
        SSL *ssl = SSL_new(ctx);
        if (!ssl || SSL_set_fd(ssl, fd) != 1) {
                snprintf(detail, size, "out of memory");
                return PROBE_FAILED;
        }
        if (q->sni[0])
                SSL_set_tlsext_host_name(ssl, q->sni);
        SSL_set_connect_state(ssl);
        for (;;) {
                ERR_clear_error();
                int r = SSL_do_handshake(ssl);
                if (r == 1)
                        break;
                int e = SSL_get_error(ssl, r);
                if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) {
                        unsigned long code = ERR_peek_error();
                        char buf[120];
                        ERR_error_string_n(code, buf, sizeof buf);
                        snprintf(detail, size, "TLS handshake failed: %s", code ? buf : "connection closed");
                        return PROBE_FAILED;
                }
                if (!wait_fd(fd, e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, deadline)) {
                        snprintf(detail, size, "timed out");
                        return PROBE_FAILED;
                }
        }
        X509 *cert = SSL_get1_peer_certificate(ssl);
        if (!cert) {
                snprintf(detail, size, "server sent no certificate");
                return PROBE_FAILED;
        }
        uint8_t got[TLS_PIN_LEN];
        int k = spki_sha256(cert, got);
        X509_free(cert);
        if (k < 0) {
                snprintf(detail, size, "cannot hash the server's public key");
                return PROBE_FAILED;
        }
        SSL_shutdown(ssl); /* best effort close_notify */
        if (CRYPTO_memcmp(got, q->pin, TLS_PIN_LEN) != 0) {
                char hex[2 * TLS_PIN_LEN + 1];
                hex_encode(got, TLS_PIN_LEN, hex);
                snprintf(detail, size, "server key SHA-256 %s does not match the pin", hex);
                return PROBE_PIN_MISMATCH;
        }
        snprintf(detail, size, "pinned key matched (%s)", SSL_get_version(ssl));
        return PROBE_HOME;
}

static void answer(int fd, enum probe_result r, const char *detail) {
        struct probe_reply a = { .magic = PROBE_WIRE_MAGIC, .result = r };
        snprintf(a.detail, sizeof a.detail, "%s", detail);
        (void)send(fd, &a, sizeof a, MSG_NOSIGNAL);
}

/* Receive one request and the probe's socket: 1 with both, 0 at the end of
 * the channel (sekishod went away), -1 for a message to drop. */
static int receive(struct probe_request *q, int *ret_fd) {
        char buf[sizeof *q + 1];
        union {
                struct cmsghdr h;
                char buf[CMSG_SPACE(4 * sizeof(int))];
        } ctl;
        struct iovec iov = { .iov_base = buf, .iov_len = sizeof buf };
        struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.buf, .msg_controllen = sizeof ctl.buf };
        ssize_t n = recvmsg(CONTROL_FD, &m, MSG_CMSG_CLOEXEC);
        if (n == 0)
                return 0;
        if (n < 0)
                return errno == EINTR ? -1 : 0;
        int fd = -1, extra = 0;
        for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c)) {
                if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
                        continue;
                size_t k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
                for (size_t i = 0; i < k; i++) {
                        int f;
                        memcpy(&f, CMSG_DATA(c) + i * sizeof(int), sizeof f);
                        if (fd < 0)
                                fd = f;
                        else {
                                close(f);
                                extra++;
                        }
                }
        }
        if (fd < 0 || extra || (m.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) || probe_request_parse(buf, (size_t)n, q) < 0) {
                if (fd >= 0) {
                        answer(fd, PROBE_FAILED, "malformed request to sekisho-probe");
                        close(fd);
                }
                return -1;
        }
        *ret_fd = fd;
        return 1;
}

/* No capabilities left, none to regain. */
static int drop_privileges(void) {
        struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
        struct __user_cap_data_struct d[2] = { { 0 } };
        if (syscall(SYS_capset, &h, d) < 0)
                return -errno;
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
                return -errno;
        return 0;
}

int main(int argc, char **argv) {
        log_setup("sekisho-probe", false);
        int type = 0;
        socklen_t tl = sizeof type;
        if (argc > 1 || getsockopt(CONTROL_FD, SOL_SOCKET, SO_TYPE, &type, &tl) < 0 || type != SOCK_SEQPACKET) {
                fprintf(stderr, "sekisho-probe: started by sekishod only (it talks on fd %d)\n", CONTROL_FD);
                return 2;
        }
        /* Everything that reads files happens now: OpenSSL's configuration and algorithms. */
        if (OPENSSL_init_ssl(0, NULL) != 1)
                return log_error_errno(-EIO, "OpenSSL failed to initialise"), 1;
        SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
        if (!ctx)
                return log_error_errno(-ENOMEM, "SSL_CTX_new failed"), 1;
        SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
        SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL); /* the pin decides, see above */
        EVP_MD_free(EVP_MD_fetch(NULL, "SHA256", NULL));
        int r = drop_privileges();
        if (r < 0)
                return log_error_errno(r, "Cannot drop privileges"), 1;
        char why[384];
        r = sandbox_install_only(helper_syscalls, why, sizeof why);
        if (r < 0) {
                log_error("Cannot install the seccomp sandbox: %s", why);
                return 1;
        }

        unsigned children = 0;
        for (;;) {
                struct probe_request q;
                int fd;
                int k = receive(&q, &fd);
                if (k == 0) {
                        SSL_CTX_free(ctx);
                        return 0;
                }
                while (children > 0 && waitpid(-1, NULL, WNOHANG) > 0)
                        children--;
                if (k < 0)
                        continue;
                if (children >= CHILDREN_MAX) {
                        answer(fd, PROBE_FAILED, "sekisho-probe is busy: too many probes at once");
                        close(fd);
                        continue;
                }
                pid_t pid = fork();
                if (pid == 0) {
                        close(CONTROL_FD);
                        alarm((unsigned)(q.timeout_usec / 1000000) + 2); /* a backstop for a stuck handshake */
                        char detail[PROBE_DETAIL_MAX];
                        enum probe_result res = probe(ctx, &q, detail, sizeof detail);
                        answer(fd, res, detail);
                        _exit(0);
                }
                if (pid < 0)
                        answer(fd, PROBE_FAILED, "sekisho-probe cannot fork");
                else
                        children++;
                close(fd);
        }
}
