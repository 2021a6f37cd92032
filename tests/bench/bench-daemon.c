/* bench-daemon.c — sekishod start to "enforcing" (READY=1), then idle wake-ups per minute and RSS, of sekishod and of its probe helper. */
#include "config.h"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sched.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>

#include "util.h"

#define STARTS 21

static int cmp_u64(const void *a, const void *b) {
        uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
        return x < y ? -1 : x > y;
}

static long status_field(pid_t pid, const char *field) {
        char path[64], line[256];
        snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
        FILE *f = fopen(path, "re");
        long v = -1;
        while (f && fgets(line, sizeof line, f))
                if (strncmp(line, field, strlen(field)) == 0)
                        v = strtol(line + strlen(field) + 1, NULL, 10);
        if (f)
                fclose(f);
        return v;
}

/* Wake-ups of the daemon's own threads: voluntary context switches (a thread
 * that slept and was woken) summed over /proc/PID/task/N/status. Involuntary
 * ones are other processes preempting it on a busy machine, not wake-ups;
 * the process-wide /proc/PID/status counts only the main thread. */
static long task_wakeups(pid_t pid, long *ret_threads) {
        char dirpath[64];
        snprintf(dirpath, sizeof dirpath, "/proc/%d/task", (int)pid);
        DIR *d = opendir(dirpath);
        long sum = 0, threads = 0;
        struct dirent *de;
        while (d && (de = readdir(d))) {
                char *end;
                long tid = strtol(de->d_name, &end, 10);
                if (*end || tid <= 0)
                        continue;
                char path[128], line[256];
                snprintf(path, sizeof path, "/proc/%d/task/%ld/status", (int)pid, tid);
                FILE *f = fopen(path, "re");
                while (f && fgets(line, sizeof line, f))
                        if (strncmp(line, "voluntary_ctxt_switches:", 24) == 0)
                                sum += strtol(line + 24, NULL, 10);
                if (f) {
                        fclose(f);
                        threads++;
                }
        }
        if (d)
                closedir(d);
        *ret_threads = threads;
        return d ? sum : -1;
}

/* Resident kB of the mappings whose file name contains one of names
 * (NULL-terminated), from /proc/PID/smaps. */
static long rss_of(pid_t pid, const char *const *names) {
        char path[64], line[512];
        snprintf(path, sizeof path, "/proc/%d/smaps", (int)pid);
        FILE *f = fopen(path, "re");
        if (!f)
                return -1;
        long sum = 0;
        bool match = false;
        while (fgets(line, sizeof line, f)) {
                unsigned long lo, hi;
                if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2) {
                        match = false;
                        for (const char *const *n = names; *n; n++)
                                match |= strstr(line, *n) != NULL;
                } else if (match && strncmp(line, "Rss:", 4) == 0)
                        sum += strtol(line + 4, NULL, 10);
        }
        fclose(f);
        return sum;
}

/* Proportional set size in kB (shared pages divided among their users), from smaps_rollup. */
static long pss_of(pid_t pid) {
        char path[64], line[256];
        snprintf(path, sizeof path, "/proc/%d/smaps_rollup", (int)pid);
        FILE *f = fopen(path, "re");
        long v = -1;
        while (f && v < 0 && fgets(line, sizeof line, f))
                if (strncmp(line, "Pss:", 4) == 0)
                        v = strtol(line + 4, NULL, 10);
        if (f)
                fclose(f);
        return v;
}

/* A private dbus-daemon on DIR/bus, so that sekishod serves its name as on a
 * terminal (its connection's memory counts); -1 when dbus-daemon is missing. */
static pid_t start_bus(const char *dir) {
        char address[300];
        snprintf(address, sizeof address, "--address=unix:path=%s/bus", dir);
        pid_t pid = fork();
        if (pid == 0) {
                int null = open("/dev/null", O_RDWR);
                dup2(null, 1);
                dup2(null, 2);
                execlp("dbus-daemon", "dbus-daemon", "--session", address, "--nofork", "--nopidfile", (char *)NULL);
                _exit(127);
        }
        char path[300];
        snprintf(path, sizeof path, "%s/bus", dir);
        for (int i = 0; pid > 0 && i < 500 && access(path, F_OK) < 0; i++)
                usleep(10000);
        if (pid < 0 || access(path, F_OK) < 0)
                return -1;
        snprintf(address, sizeof address, "unix:path=%s/bus", dir);
        setenv("DBUS_SESSION_BUS_ADDRESS", address, 1);
        return pid;
}

/* Start sekishod with NOTIFY_SOCKET pointing at us; returns its pid once READY=1 arrived. */
static pid_t start(const char *daemon, const char *helper, const char *dir, const char *sock_path, int sock, int netns,
                   bool bus, uint64_t *ret_usec) {
        uint64_t t0 = now_usec_monotonic();
        pid_t pid = fork();
        if (pid == 0) {
                char state[256], audit[256], conf[256], keys[256];
                snprintf(state, sizeof state, "%s/state", dir);
                snprintf(audit, sizeof audit, "%s/audit.log", dir);
                snprintf(conf, sizeof conf, "%s/none.conf", dir);
                snprintf(keys, sizeof keys, "%s/keys.d", dir);
                setenv("NOTIFY_SOCKET", sock_path, 1);
                /* The bench's network namespace, so that the net plugin runs and
                 * loads its table there, as on a terminal (test mode refuses the
                 * host's namespace); without one, it refuses. */
                if (netns >= 0)
                        (void)setns(netns, CLONE_NEWNET);
                int null = open("/dev/null", O_WRONLY);
                dup2(null, 2);
                execl(daemon, daemon, "--foreground", bus ? "--bus=session" : "--bus=none", "--state-dir", state, "--audit-log", audit,
                      "--config", conf, "--keys-dir", keys, "--probe-helper", helper, (char *)NULL);
                _exit(127);
        }
        char buf[256];
        struct pollfd p = { .fd = sock, .events = POLLIN };
        for (;;) {
                if (poll(&p, 1, 10000) <= 0)
                        return -1;
                ssize_t n = recv(sock, buf, sizeof buf - 1, 0);
                if (n <= 0)
                        return -1;
                buf[n] = '\0';
                if (strstr(buf, "READY=1"))
                        break;
        }
        *ret_usec = now_usec_monotonic() - t0;
        return pid;
}

/* The child of pid named comm (sekisho-probe), or -1. */
static pid_t child_named(pid_t pid, const char *comm) {
        char path[64], name[32];
        snprintf(path, sizeof path, "/proc/%d/task/%d/children", (int)pid, (int)pid);
        FILE *f = fopen(path, "re");
        long c;
        pid_t found = -1;
        while (f && found < 0 && fscanf(f, "%ld", &c) == 1) {
                snprintf(path, sizeof path, "/proc/%ld/comm", c);
                FILE *g = fopen(path, "re");
                if (g && fgets(name, sizeof name, g) && strncmp(name, comm, strlen(comm)) == 0)
                        found = (pid_t)c;
                if (g)
                        fclose(g);
        }
        if (f)
                fclose(f);
        return found;
}

int main(int argc, char **argv) {
        const char *daemon = argc > 1 ? argv[1] : "./sekishod";
        int idle_seconds = argc > 2 ? atoi(argv[2]) : 20;
        /* The helper beside the daemon in the build tree, unless named. */
        char helper[512];
        const char *slash = strrchr(daemon, '/');
        snprintf(helper, sizeof helper, "%.*ssekisho-probe", slash ? (int)(slash - daemon + 1) : 0, daemon);
        if (argc > 3)
                snprintf(helper, sizeof helper, "%s", argv[3]);
        char dir[] = "/tmp/sekisho-bench.XXXXXX";
        if (!mkdtemp(dir))
                return 1;
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        snprintf(sa.sun_path, sizeof sa.sun_path, "%s/notify", dir);
        int sock = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (sock < 0 || bind(sock, (struct sockaddr *)&sa, sizeof sa) < 0)
                return 1;

        /* A named network namespace (as `ip netns add` makes: test mode accepts
         * those), removed at the end with the daemon's table in it. */
        char ns_name[64], cmd[160];
        snprintf(ns_name, sizeof ns_name, "sekisho-bench-%d", (int)getpid());
        snprintf(cmd, sizeof cmd, "ip netns add %s 2>/dev/null", ns_name);
        int netns = -1;
        if (system(cmd) == 0) {
                snprintf(cmd, sizeof cmd, "/run/netns/%s", ns_name);
                netns = open(cmd, O_RDONLY | O_CLOEXEC);
        }

        pid_t bus = start_bus(dir);
        uint64_t t[STARTS];
        pid_t pid = -1;
        for (int i = 0; i < STARTS; i++) {
                pid = start(daemon, helper, dir, sa.sun_path, sock, netns, bus > 0, &t[i]);
                if (pid < 0) {
                        fprintf(stderr, "bench-daemon: %s did not become ready\n", daemon);
                        return 1;
                }
                if (i + 1 < STARTS) {
                        kill(pid, SIGTERM);
                        waitpid(pid, NULL, 0);
                }
        }
        qsort(t, STARTS, sizeof *t, cmp_u64);
        printf("bench-daemon: start to enforcing (exec to READY=1, embedded default, all built-in plugins), %d starts\n",
               STARTS);
        printf("  median %.2f ms   p90 %.2f ms   (target: under 50 ms)\n", t[STARTS / 2] / 1000.0,
               t[STARTS * 9 / 10] / 1000.0);

        /* Idle: context switches of the daemon over the window, scaled to a minute;
         * after the net plugin's second of quiet before it drops libnftables. */
        sleep(3);
        long threads0, threads1;
        long v0 = task_wakeups(pid, &threads0);
        sleep((unsigned)idle_seconds);
        long v1 = task_wakeups(pid, &threads1);
        long rss = status_field(pid, "VmRSS"), hwm = status_field(pid, "VmHWM");
        printf("  idle wake-ups: %.1f per minute over %d s (target: 0); counted as voluntary_ctxt_switches summed over "
               "the daemon's own %ld thread(s) in /proc/%d/task/*/status, so other processes preempting it do not "
               "count; but every exec on this machine wakes the vdi plugin's process watch (proc connector), so "
               "builds and tests running beside the benchmark do\n",
               (double)(v1 - v0) * 60.0 / idle_seconds, idle_seconds, threads1, (int)pid);
        static const char *const nftlibs[] = { "/libnftables.so", "/libnftnl.so", "/libgmp.so", "/libjansson.so",
                                               "/libxtables.so", "/libmnl.so", NULL };
        /* Whether net runs: its table, as the daemon's status says. */
        char status_path[300];
        snprintf(status_path, sizeof status_path, "%s/state/status.json", dir);
        _cleanup_free_ char *status = NULL;
        size_t status_size;
        bool net_runs = read_file_capped(status_path, 1u << 20, &status, &status_size) == 0 &&
                        strstr(status, "inet sekisho loaded") != NULL;
        printf("  idle RSS: %.2f MiB (peak %.2f MiB, PSS %.2f MiB) (target: under 4 MiB); %s; test mode: usb refuses "
               "to start outside umockdev and maps nothing of its own; %s\n",
               rss / 1024.0, hwm / 1024.0, pss_of(pid) / 1024.0,
               bus > 0 ? "serving its name on a private dbus-daemon" : "no bus (dbus-daemon not found)",
               net_runs ? "net runs in a network namespace of the bench's, its table loaded there"
                        : "net did not load its table (no network namespace: not root?)");
        if (net_runs)
                printf("  of which the net plugin's libraries (libnftables and what it pulls in, dropped after a "
                       "quiet second; its netlink is its own): %.2f MiB\n", rss_of(pid, nftlibs) / 1024.0);
        /* OpenSSL is in sekisho-probe, the helper sekishod starts (issue 21): none of it in sekishod. */
        static const char *const openssl[] = { "/libssl.so", "/libcrypto.so", NULL };
        long ssl = rss_of(pid, openssl);
        if (ssl >= 0)
                printf("  of which OpenSSL (libssl, libcrypto) in sekishod: %.2f MiB\n", ssl / 1024.0);
        pid_t hp = child_named(pid, "sekisho-probe");
        if (hp > 0)
                printf("  idle RSS of its TLS probe helper sekisho-probe (pid %d, a process of its own, OpenSSL %.2f MiB): "
                       "%.2f MiB (PSS %.2f MiB)\n",
                       (int)hp, rss_of(hp, openssl) / 1024.0, status_field(hp, "VmRSS") / 1024.0, pss_of(hp) / 1024.0);
        else
                printf("  no TLS probe helper running (%s not found or not built)\n", helper);
        kill(pid, SIGTERM);
        waitpid(pid, NULL, 0);
        if (bus > 0) {
                kill(bus, SIGTERM);
                waitpid(bus, NULL, 0);
        }
        if (netns >= 0) {
                snprintf(cmd, sizeof cmd, "ip netns delete %s", ns_name);
                if (system(cmd) != 0)
                        fprintf(stderr, "bench-daemon: could not delete the network namespace %s\n", ns_name);
        }
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
        return system(cmd) == 0 ? 0 : 1;
}
