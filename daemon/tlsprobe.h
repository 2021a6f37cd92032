/* tlsprobe.h — the one trusted-network probe of the core: a TLS handshake with a pinned server (travel's home network, the net plugin's office), done by the sekisho-probe helper and answered on the loop. */
#pragma once

#include <stdint.h>

#define TLS_PIN_LEN 32 /* SHA-256 of the server's SubjectPublicKeyInfo */

struct loop;
struct tls_probe;
enum probe_result { PROBE_HOME, PROBE_PIN_MISMATCH, PROBE_FAILED };
const char *probe_result_name(enum probe_result r);
typedef void (*tls_probe_fn)(enum probe_result r, const char *detail, void *userdata);
/* Connect to host:port (IP literal), handshake (TLS >= 1.2), hash the
 * server's SubjectPublicKeyInfo with SHA-256 and compare with pin. cb is
 * called exactly once (not from inside this call) unless the probe is freed
 * first. PROBE_HOME means: the pinned server answered (the trusted network).
 * Without a running helper every probe reports PROBE_FAILED, saying why. */
int tls_probe_start(struct loop *l, const char *server, const char *sni, const uint8_t pin[TLS_PIN_LEN],
                    uint64_t timeout_usec, tls_probe_fn cb, void *userdata, struct tls_probe **ret);
struct tls_probe *tls_probe_free(struct tls_probe *p);

/* Start the helper (path: the sekisho-probe program), once, before the
 * seccomp sandbox forbids fork and execve: it cannot be restarted later, so
 * after it ends probes fail until sekishod restarts. With a loop, its end
 * is noticed there: on_exit gets why ("exited with status 1", "killed by
 * signal 9"). Returns 0 or -errno (the helper is then not running). */
typedef void (*tls_probe_helper_exit_fn)(const char *why, void *userdata);
int tls_probe_helper_start(struct loop *l, const char *path, tls_probe_helper_exit_fn on_exit, void *userdata);
/* Close the channel: the helper sees its end and exits. */
void tls_probe_helper_stop(void);
