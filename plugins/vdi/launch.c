/* launch.c — the plan the vdi plugin writes for the launcher and the request sekisho-rdp sends it: strict parsers, and the client's argv the policy implies. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "launch.h"
#include "rdpcheck.h"

static bool host_char(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '-' ||
               c == '_' || c == ':' || c == '/';
}

static int parse_port(const char *s, uint16_t *ret) {
        unsigned long v = 0;
        if (!*s || strlen(s) > 5)
                return -EINVAL;
        for (const char *c = s; *c; c++) {
                if (*c < '0' || *c > '9')
                        return -EINVAL;
                v = v * 10 + (unsigned long) (*c - '0');
        }
        if (v == 0 || v > 65535)
                return -EINVAL;
        *ret = (uint16_t) v;
        return 0;
}

int vdi_server_parse(const char *s, struct vdi_server *ret) {
        struct vdi_server out = { .port = 0 };
        if (!s || !*s)
                return -EINVAL;
        const char *host = s, *port = NULL;
        size_t hlen;
        if (s[0] == '[') {
                const char *close = strchr(s, ']');
                if (!close || close == s + 1)
                        return -EINVAL;
                host = s + 1;
                hlen = (size_t) (close - host);
                if (close[1] == ':')
                        port = close + 2;
                else if (close[1])
                        return -EINVAL;
        } else {
                const char *colon = strchr(s, ':');
                if (colon && !strchr(colon + 1, ':')) { /* exactly one colon: HOST:PORT */
                        hlen = (size_t) (colon - s);
                        port = colon + 1;
                } else
                        hlen = strlen(s); /* a name, an IPv4 address, or a bare IPv6 address */
        }
        if (hlen == 0 || hlen >= sizeof out.host || host[0] == '-' || host[0] == '/')
                return -EINVAL;
        for (size_t i = 0; i < hlen; i++)
                if (!host_char(host[i]))
                        return -EINVAL;
        if (port && parse_port(port, &out.port) < 0)
                return -EINVAL;
        memcpy(out.host, host, hlen);
        *ret = out;
        return 0;
}

bool vdi_cgroup_valid(const char *s) {
        size_t n = s ? strlen(s) : 0;
        if (n == 0 || n >= VDI_CGROUP_MAX || s[0] == '/' || s[n - 1] == '/' || strstr(s, "//") ||
            strncmp(s, "user.slice", 10) == 0)
                return false;
        for (const char *seg = s; seg; seg = strchr(seg, '/') ? strchr(seg, '/') + 1 : NULL)
                if (seg[0] == '.' && (seg[1] == '/' || seg[1] == 0 || (seg[1] == '.' && (seg[2] == '/' || seg[2] == 0))))
                        return false;
        for (const char *c = s; *c; c++)
                if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') || *c == '.' ||
                      *c == '-' || *c == '_' || *c == '@' || *c == '/'))
                        return false;
        return true;
}

int vdi_plan_format(const struct vdi_plan *p, char **ret) {
        size_t cap = 1024 + p->n_servers * (VDI_HOST_MAX + 16);
        char *b = malloc(cap);
        if (!b)
                return -ENOMEM;
        size_t n = (size_t) snprintf(b, cap, "# sekisho vdi launch plan: written by sekishod's vdi plugin, read by sekisho-rdp --listen\n"
                                             "client %s\ncgroup %s\ndeny",
                                     p->client >= 0 ? vdi_clients[p->client].key : "-", p->cgroup);
        for (int r = 0; r < _VDI_RES_MAX; r++)
                if (p->deny & (1u << r))
                        n += (size_t) snprintf(b + n, cap - n, " %s", vdi_res_key(r));
        n += (size_t) snprintf(b + n, cap - n, "\n");
        if (p->refused[0])
                n += (size_t) snprintf(b + n, cap - n, "refused %s\n", p->refused);
        for (size_t i = 0; i < p->n_servers && n < cap; i++)
                n += (size_t) snprintf(b + n, cap - n, strchr(p->servers[i].host, ':') ? "server [%s] %u\n" : "server %s %u\n",
                                       p->servers[i].host, p->servers[i].port);
        if (n >= cap) {
                free(b);
                return -E2BIG;
        }
        *ret = b;
        return 0;
}

static int res_by_key(const char *k) {
        for (int r = 0; r < _VDI_RES_MAX; r++)
                if (strcmp(vdi_res_key(r), k) == 0)
                        return r;
        return -1;
}

int vdi_plan_parse(const char *data, size_t size, struct vdi_plan *ret, char *why, size_t why_size) {
        struct vdi_plan *p = ret;
        memset(p, 0, sizeof *p);
        p->client = VDI_CLIENT_NONE;
        bool have_client = false, have_cgroup = false, have_deny = false;
        if (size > VDI_PLAN_MAX || memchr(data, 0, size)) {
                snprintf(why, why_size, "too large or not text");
                return -EBADMSG;
        }
        unsigned lineno = 0;
        for (size_t off = 0; off < size;) {
                const char *nl = memchr(data + off, '\n', size - off);
                size_t len = nl ? (size_t) (nl - (data + off)) : size - off;
                char line[VDI_HOST_MAX + 64];
                lineno++;
                if (len >= sizeof line) {
                        snprintf(why, why_size, "line %u: too long", lineno);
                        return -EBADMSG;
                }
                memcpy(line, data + off, len);
                line[len] = 0;
                off += len + 1;
                if (line[0] == '#' || line[0] == 0)
                        continue;
                char *arg = strchr(line, ' ');
                if (!arg && strcmp(line, "deny") == 0)
                        arg = line + len; /* nothing denied */
                else if (!arg) {
                        snprintf(why, why_size, "line %u: no value", lineno);
                        return -EBADMSG;
                }
                if (*arg)
                        *arg++ = 0;
                if (strcmp(line, "client") == 0 && !have_client) {
                        const struct vdi_client_info *c = vdi_client_by_key(arg);
                        if (!c && strcmp(arg, "-") != 0)
                                goto bad;
                        p->client = c ? (int) c->id : VDI_CLIENT_NONE;
                        have_client = true;
                } else if (strcmp(line, "cgroup") == 0 && !have_cgroup) {
                        if (!vdi_cgroup_valid(arg))
                                goto bad;
                        snprintf(p->cgroup, sizeof p->cgroup, "%s", arg);
                        have_cgroup = true;
                } else if (strcmp(line, "deny") == 0 && !have_deny) {
                        for (char *save = NULL, *w = strtok_r(arg, " ", &save); w; w = strtok_r(NULL, " ", &save)) {
                                int r = res_by_key(w);
                                if (r < 0)
                                        goto bad;
                                p->deny |= 1u << r;
                        }
                        have_deny = true;
                } else if (strcmp(line, "refused") == 0 && !p->refused[0] && *arg) {
                        snprintf(p->refused, sizeof p->refused, "%s", arg);
                } else if (strcmp(line, "server") == 0) {
                        char *sp = strrchr(arg, ' ');
                        uint16_t port = 0;
                        if (!sp || p->n_servers >= VDI_MAX_SERVERS)
                                goto bad;
                        *sp = 0;
                        if (strcmp(sp + 1, "0") != 0 && parse_port(sp + 1, &port) < 0)
                                goto bad;
                        struct vdi_server *s = &p->servers[p->n_servers];
                        if (vdi_server_parse(arg, s) < 0 || s->port != 0)
                                goto bad;
                        s->port = port;
                        p->n_servers++;
                } else
                        goto bad;
                continue;
        bad:
                snprintf(why, why_size, "line %u: bad or repeated '%.32s'", lineno, line);
                return -EBADMSG;
        }
        if (!have_client || !have_cgroup || !have_deny) {
                snprintf(why, why_size, "client, cgroup or deny missing");
                return -EBADMSG;
        }
        return 0;
}

static uint16_t default_port(int client) {
        return client == VDI_CLIENT_CITRIX ? 1494 : client == VDI_CLIENT_HORIZON ? 443 : 3389;
}

const struct vdi_server *vdi_plan_server(const struct vdi_plan *p, const char *target, uint16_t *ret_port) {
        struct vdi_server t;
        if (vdi_server_parse(target, &t) < 0 || strchr(t.host, '/'))
                return NULL;
        uint16_t port = t.port ? t.port : default_port(p->client);
        for (size_t i = 0; i < p->n_servers; i++)
                if (strcmp(p->servers[i].host, t.host) == 0 && (p->servers[i].port == 0 || p->servers[i].port == port)) {
                        *ret_port = port;
                        return &p->servers[i];
                }
        return NULL;
}

int vdi_request_format(bool dry_run, char *const *envp, size_t argc, char *const *argv, char **ret, size_t *ret_size) {
        static const char *const names[] = { "DISPLAY", "XAUTHORITY", "WAYLAND_DISPLAY", "XDG_RUNTIME_DIR",
                                             "LANG", "LC_ALL", "LC_MESSAGES", "XDG_CONFIG_HOME", NULL };
        size_t cap = VDI_REQUEST_MAX, n = 0;
        char *b = malloc(cap);
        if (!b)
                return -ENOMEM;
#define PUT(s)                                                                       \
        do {                                                                         \
                size_t l_ = strlen(s) + 1;                                           \
                if (n + l_ > cap) {                                                  \
                        free(b);                                                     \
                        return -E2BIG;                                               \
                }                                                                    \
                memcpy(b + n, (s), l_);                                              \
                n += l_;                                                             \
        } while (0)
        PUT(VDI_REQUEST_MAGIC);
        PUT(dry_run ? "dry-run" : "-");
        for (char *const *e = envp; e && *e; e++)
                for (const char *const *nm = names; *nm; nm++) {
                        size_t l = strlen(*nm);
                        if (strncmp(*e, *nm, l) == 0 && (*e)[l] == '=')
                                PUT(*e);
                }
        PUT("--");
        if (argc == 0 || argc > VDI_REQUEST_ARGS) {
                free(b);
                return -E2BIG;
        }
        for (size_t i = 0; i < argc; i++)
                PUT(argv[i]);
#undef PUT
        *ret = b;
        *ret_size = n;
        return 0;
}

static bool env_ok(const char *s, size_t len) {
        static const char *const names[] = { "DISPLAY=", "XAUTHORITY=", "WAYLAND_DISPLAY=", "XDG_RUNTIME_DIR=",
                                             "LANG=", "LC_ALL=", "LC_MESSAGES=", "XDG_CONFIG_HOME=", NULL };
        if (len > 1024)
                return false;
        for (size_t i = 0; i < len; i++)
                if ((unsigned char) s[i] < 0x20 || s[i] == 0x7f)
                        return false;
        for (const char *const *nm = names; *nm; nm++)
                if (strncmp(s, *nm, strlen(*nm)) == 0)
                        return true;
        return false;
}

int vdi_request_parse(const char *buf, size_t size, struct vdi_request *ret) {
        memset(ret, 0, sizeof *ret);
        if (size == 0 || size > VDI_REQUEST_MAX || buf[size - 1] != 0)
                return -EBADMSG;
        const char *s = buf, *end = buf + size;
        int part = 0; /* 0 magic, 1 flags, 2 env, 3 args */
        for (; s < end; s += strlen(s) + 1) {
                size_t len = strlen(s);
                switch (part) {
                case 0:
                        if (strcmp(s, VDI_REQUEST_MAGIC) != 0)
                                return -EBADMSG;
                        part = 1;
                        break;
                case 1:
                        if (strcmp(s, "dry-run") != 0 && strcmp(s, "-") != 0)
                                return -EBADMSG;
                        ret->dry_run = s[0] == 'd';
                        part = 2;
                        break;
                case 2:
                        if (strcmp(s, "--") == 0) {
                                part = 3;
                                break;
                        }
                        if (ret->n_env >= VDI_REQUEST_ENV || !env_ok(s, len))
                                return -EBADMSG;
                        for (size_t i = 0; i < ret->n_env; i++) /* one value per name */
                                if (strncmp(ret->env[i], s, (size_t) (strchr(s, '=') - s) + 1) == 0)
                                        return -EBADMSG;
                        ret->env[ret->n_env++] = s;
                        break;
                default:
                        if (ret->n_args >= VDI_REQUEST_ARGS || len > RDP_MAX_ARG_LEN)
                                return -EBADMSG;
                        ret->args[ret->n_args++] = s;
                }
        }
        return part == 3 && ret->n_args > 0 ? 0 : -EBADMSG;
}

int vdi_plan_argv(const struct vdi_plan *p, const struct vdi_request *rq, const char *exe, char ***ret_argv,
                  size_t *ret_argc, char *why, size_t why_size) {
        if (p->client == VDI_CLIENT_NONE) {
                snprintf(why, why_size, "the policy approves no VDI client (vdi.client)");
                return -EPERM;
        }
        if (p->refused[0]) {
                snprintf(why, why_size, "%s", p->refused);
                return -EPERM;
        }
        if (p->client != VDI_CLIENT_FREERDP) {
                snprintf(why, why_size, "sekisho-rdp starts FreeRDP; the policy approves %s", vdi_clients[p->client].display);
                return -EPERM;
        }
        uint16_t port;
        const char *target = rq->args[0];
        if (!vdi_plan_server(p, target, &port)) {
                char safe[96];
                rdp_sanitize(target, safe, sizeof safe);
                snprintf(why, why_size, "%s is not a VDI server the policy names (vdi.servers)", safe);
                return -EPERM;
        }
        struct vdi_server t;
        (void) vdi_server_parse(target, &t);
        size_t cap = rq->n_args + 8, n = 0;
        char **argv = calloc(cap, sizeof *argv), *v = malloc(VDI_HOST_MAX + 16);
        if (!argv || !v) {
                free(argv);
                free(v);
                return -ENOMEM;
        }
        snprintf(v, VDI_HOST_MAX + 16, strchr(t.host, ':') ? "/v:[%s]:%u" : "/v:%s:%u", t.host, port);
        argv[n++] = (char *) exe;
        argv[n++] = v;
        /* FreeRDP turns the clipboard on by default; every other channel is off unless asked for. */
        if (p->deny & (1u << VDI_RES_CLIPBOARD))
                argv[n++] = "-clipboard";
        if (!(p->deny & (1u << VDI_RES_SMARTCARD)))
                argv[n++] = "/smartcard";
        for (size_t i = 1; i < rq->n_args; i++)
                argv[n++] = (char *) rq->args[i];
        argv[n] = NULL;
        struct rdp_verdict verdict;
        int r = rdp_check_invocation(p->deny, n, argv, NULL, NULL, &verdict);
        if (r < 0 || verdict.deny) {
                if (r < 0)
                        snprintf(why, why_size, "%s", strerror(-r));
                else
                        snprintf(why, why_size, "'%s': %s", verdict.option, verdict.reason);
                free(v);
                free(argv);
                return r < 0 ? r : -EPERM;
        }
        *ret_argv = argv;
        *ret_argc = n;
        return 0;
}
