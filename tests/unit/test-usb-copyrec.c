/* test-usb-copyrec.c — the copy record on a real kernel: fanotify on a tmpfs the test mounts in its own mount namespace, 100 000 small files, records bounded and summarised, the copy never waiting for the recorder. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "copyrec.h"
#include "mountinfo.h"
#include "stub-core.h"
#include "test-skip.h"

#define FILES 100000

static const struct sekisho_plugin fake_usb = { .name = "usb" };
static char mnt[256];
static dev_t mnt_dev;
static struct sekisho_plugin_handle *core;

/* What the records said, summed as they come. */
static struct {
        uint64_t copies, summaries, summarised, overflowed_summaries;
        uint64_t max_recorded_per_window;
        char first_file[512], first_size[32], first_user[64], first_device[64], first_serial[64];
} seen;

/* The value of a field, "" when the record has none (then the checks below fail on it). */
static const char *field(const struct audit_field *f, const char *name) {
        for (; f && f->name; f++)
                if (strcmp(f->name, name) == 0)
                        return f->value ? f->value : "";
        return "";
}

static void on_record(struct sekisho_plugin_handle *h, const char *kind, const char *name, const char *clause,
                      const struct audit_field *f) {
        if (strcmp(kind, "audit") != 0)
                return;
        if (strcmp(name, "usb.copy") == 0) {
                if (seen.copies++ == 0) {
                        snprintf(seen.first_file, sizeof seen.first_file, "%s", field(f, "file"));
                        snprintf(seen.first_size, sizeof seen.first_size, "%s", field(f, "size"));
                        snprintf(seen.first_user, sizeof seen.first_user, "%s", field(f, "user"));
                        snprintf(seen.first_device, sizeof seen.first_device, "%s", field(f, "device"));
                        snprintf(seen.first_serial, sizeof seen.first_serial, "%s", field(f, "serial"));
                }
        } else if (strcmp(name, "usb.copy.summary") == 0) {
                seen.summaries++;
                seen.summarised += strtoull(field(f, "files"), NULL, 10);
                uint64_t rec = strtoull(field(f, "recorded"), NULL, 10);
                if (rec > seen.max_recorded_per_window)
                        seen.max_recorded_per_window = rec;
                if (strncmp(field(f, "overflow"), "yes", 3) == 0)
                        seen.overflowed_summaries++;
        }
}

static int identify(void *ctx, dev_t dev, const char *mountpoint, bool ro, struct copyrec_labels *ret) {
        if (dev != mnt_dev)
                return 0;
        snprintf(ret->name, sizeof ret->name, "総務課 USB 3");
        snprintf(ret->serial, sizeof ret->serial, "SER0001");
        snprintf(ret->port, sizeof ret->port, "1-2");
        return 1;
}

/* n small files in dir, as cp would leave them: open, write, close. */
static int write_files(const char *dir, unsigned n) {
        if (mkdir(dir, 0755) < 0)
                return -errno;
        char path[512];
        for (unsigned i = 0; i < n; i++) {
                snprintf(path, sizeof path, "%s/f%06u", dir, i);
                int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
                if (fd < 0 || write(fd, "x", 1) != 1)
                        return -errno;
                close(fd);
        }
        return 0;
}

static unsigned max_queued(void) {
        FILE *f = fopen("/proc/sys/fs/fanotify/max_queued_events", "re");
        unsigned n = 16384;
        if (f) {
                if (fscanf(f, "%u", &n) != 1)
                        n = 16384;
                fclose(f);
        }
        return n;
}

static bool private_ns;

static int setup(void **state) {
        /* A private mount namespace: the tmpfs mounts are seen by this process (and its child) only. */
        private_ns = geteuid() == 0 && unshare(CLONE_NEWNS) == 0 && mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == 0;
        snprintf(mnt, sizeof mnt, "%s/copyrec-mnt.XXXXXX", ".");
        if (private_ns && !mkdtemp(mnt))
                private_ns = false;
        return 0;
}

static int teardown(void **state) {
        if (private_ns)
                rmdir(mnt);
        return 0;
}

/* A fresh tmpfs for each test (a stick as the kernel sees a filesystem). */
static bool mount_stick(void) {
        struct stat st;
        if (!private_ns || mount("tmpfs", mnt, "tmpfs", 0, "size=600m,nr_inodes=200000") < 0)
                return false;
        if (stat(mnt, &st) < 0) {
                umount2(mnt, MNT_DETACH);
                return false;
        }
        mnt_dev = st.st_dev;
        return true;
}

static struct copyrec *start(void) {
        memset(&seen, 0, sizeof seen);
        assert_int_equal(stub_core_new(&fake_usb, "/nonexistent", NULL, &core), 0);
        core->no_records = true;
        core->on_record = on_record;
        struct copyrec *c = NULL;
        int r = copyrec_new(core, identify, NULL, &c);
        if (r == -EPERM || r == -ENOSYS)
                return NULL;
        assert_int_equal(r, 0);
        assert_int_equal(copyrec_rescan(c), 0);
        return c;
}

/* The writer never waits for the recorder: 100 000 files are written while
 * nothing reads the queue at all (this process is the recorder, and it is
 * busy writing). The queue holds max_queued_events, the kernel says the rest
 * overflowed, and the records say exactly that: the first COPYREC_BURST one
 * by one, the rest summarised with "overflow: yes". */
static void test_copy_not_stalled(void **state) {
        if (!mount_stick())
                skip_because("needs root and a private mount namespace for a tmpfs");
        struct copyrec *c = start();
        if (!c) {
                core = stub_core_free(core);
                umount2(mnt, MNT_DETACH);
                skip_because("fanotify needs CAP_SYS_ADMIN");
        }
        size_t watched;
        uint64_t rec, sum, ovf;
        copyrec_counts(c, &rec, &sum, &watched, &ovf);
        assert_int_equal(watched, 1);

        char dir[300];
        snprintf(dir, sizeof dir, "%s/stalled", mnt);
        assert_int_equal(write_files(dir, FILES), 0); /* returns: the copy did not wait */
        do
                assert_int_equal(copyrec_drain(c), 0);
        while (loop_iterate(sekisho_loop(core), 0) > 0);
        copyrec_flush(c);
        copyrec_counts(c, &rec, &sum, &watched, &ovf);
        print_message("stopped recorder: %" PRIu64 " recorded, %" PRIu64 " summarised in %" PRIu64 " summaries, "
                      "%" PRIu64 " overflow(s), %u queued at most\n",
                      seen.copies, seen.summarised, seen.summaries, ovf, max_queued());
        assert_true(ovf >= 1);
        assert_true(seen.overflowed_summaries >= 1);
        /* every event the kernel queued is accounted for, one way or the other */
        assert_int_equal(seen.copies + seen.summarised, max_queued());
        assert_true(seen.copies <= COPYREC_BURST * seen.summaries);
        assert_true(seen.max_recorded_per_window <= COPYREC_BURST);
        /* one record, field by field: the name as written, its size, who, which stick */
        assert_non_null(strstr(seen.first_file, "/stalled/f"));
        assert_string_equal(seen.first_size, "1");
        assert_string_equal(seen.first_user, "root");
        assert_string_equal(seen.first_device, "総務課 USB 3");
        assert_string_equal(seen.first_serial, "SER0001");
        copyrec_free(c);
        core = stub_core_free(core);
        assert_int_equal(umount2(mnt, MNT_DETACH), 0);
}

/* A copy of 100 000 files while the recorder runs beside it (a child
 * writes, this process records): every file is accounted for (recorded or
 * summarised) unless the kernel said its queue overflowed, and the log holds
 * at most COPYREC_BURST file records per window with one summary each. */
static void test_copy_live(void **state) {
        if (!mount_stick())
                skip_because("needs root and a private mount namespace for a tmpfs");
        struct copyrec *c = start();
        if (!c) {
                core = stub_core_free(core);
                umount2(mnt, MNT_DETACH);
                skip_because("fanotify needs CAP_SYS_ADMIN");
        }
        char dir[300];
        snprintf(dir, sizeof dir, "%s/live", mnt);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0)
                _exit(write_files(dir, FILES) == 0 ? 0 : 1);
        int status = 0;
        for (;;) {
                loop_iterate(sekisho_loop(core), 50);
                pid_t w = waitpid(pid, &status, WNOHANG);
                if (w == pid)
                        break;
                assert_int_equal(w, 0);
        }
        assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        do
                assert_int_equal(copyrec_drain(c), 0);
        while (loop_iterate(sekisho_loop(core), 0) > 0);
        copyrec_flush(c);
        uint64_t rec, sum, ovf;
        size_t watched;
        copyrec_counts(c, &rec, &sum, &watched, &ovf);
        print_message("live recorder: %" PRIu64 " recorded, %" PRIu64 " summarised in %" PRIu64 " summaries, "
                      "%" PRIu64 " overflow(s)\n",
                      seen.copies, seen.summarised, seen.summaries, ovf);
        if (ovf == 0)
                assert_int_equal(seen.copies + seen.summarised, FILES);
        else
                assert_true(seen.overflowed_summaries >= 1 && seen.copies + seen.summarised < FILES);
        assert_true(seen.summaries >= 1);
        assert_true(seen.max_recorded_per_window <= COPYREC_BURST);
        assert_true(seen.copies <= COPYREC_BURST * (seen.summaries + 1));
        copyrec_free(c);
        core = stub_core_free(core);
        assert_int_equal(umount2(mnt, MNT_DETACH), 0);
}

/* The limit alone, on a made-up clock. */
static void test_limit(void **state) {
        struct copyrec_limit l = { 0 };
        uint64_t t = 1000;
        for (unsigned i = 0; i < COPYREC_BURST; i++)
                assert_true(copyrec_limit_admit(&l, t));
        assert_false(copyrec_limit_admit(&l, t));
        l.summarised++;
        assert_false(copyrec_limit_due(&l, t + COPYREC_WINDOW_USEC - 1));
        assert_true(copyrec_limit_due(&l, t + COPYREC_WINDOW_USEC));
        copyrec_limit_reset(&l);
        assert_true(copyrec_limit_admit(&l, t + COPYREC_WINDOW_USEC));
        /* a quiet window (no summary owed) closes by itself */
        for (unsigned i = 1; i < COPYREC_BURST; i++)
                assert_true(copyrec_limit_admit(&l, t + COPYREC_WINDOW_USEC));
        assert_false(copyrec_limit_due(&l, t + 3 * COPYREC_WINDOW_USEC));
        assert_true(copyrec_limit_admit(&l, t + 3 * COPYREC_WINDOW_USEC));
        assert_int_equal(l.recorded, 1);
}

/* Mount points as the kernel escapes them (udisks names them after labels). */
static void test_mountinfo(void **state) {
        char l1[] = "120 29 8:17 / /media/user/E2E\\040copy\\011stick ro,nosuid,nodev shared:66 - vfat /dev/sdb1 rw\n";
        struct mountinfo_entry m;
        assert_int_equal(mountinfo_parse_line(l1, &m), 0);
        assert_int_equal(m.major, 8);
        assert_int_equal(m.minor, 17);
        assert_string_equal(m.mountpoint, "/media/user/E2E copy\tstick");
        assert_true(m.read_only);
        char l2[] = "36 35 98:0 /mnt1 /mnt/parent rw,noatime,errors=ro master:1 - ext3 /dev/root ro";
        assert_int_equal(mountinfo_parse_line(l2, &m), 0);
        assert_string_equal(m.mountpoint, "/mnt/parent");
        assert_false(m.read_only); /* "errors=ro" and the super options are not the mount's */
        char l3[] = "1 2 x:1 / /a rw", l4[] = "1 2 8:1 / a rw", l5[] = "1 2 8:1 /", l6[] = "1 2 8:1 / /a\\9 rw";
        assert_int_equal(mountinfo_parse_line(l3, &m), -EBADMSG);
        assert_int_equal(mountinfo_parse_line(l4, &m), -EBADMSG);
        assert_int_equal(mountinfo_parse_line(l5, &m), -EBADMSG);
        assert_int_equal(mountinfo_parse_line(l6, &m), 0);
        assert_string_equal(m.mountpoint, "/a\\9"); /* not an escape: kept as it is */
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_limit),
                cmocka_unit_test(test_mountinfo),
                cmocka_unit_test(test_copy_not_stalled),
                cmocka_unit_test(test_copy_live),
        };
        int failed = cmocka_run_group_tests(tests, setup, teardown);
        return test_exit(failed);
}
