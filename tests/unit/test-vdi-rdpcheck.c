/* test-vdi-rdpcheck.c — every spelling of a FreeRDP redirection option, and hostile .rdp / /args-from input, gets the right verdict. */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "rdpcheck.h"

#define DENY_ALL_BUT_SC (VDI_RES_ALL & ~(1u << VDI_RES_SMARTCARD))

struct fake_file { const char *path; const char *data; size_t size; int err; };
static const struct fake_file *files;

static int fake_read(void *ud, const char *path, size_t max, char **ret, size_t *ret_size) {
        (void) ud;
        for (const struct fake_file *f = files; f && f->path; f++)
                if (strcmp(f->path, path) == 0) {
                        if (f->err)
                                return f->err;
                        size_t n = f->size ? f->size : strlen(f->data);
                        if (n > max)
                                return -EFBIG;
                        *ret = malloc(n + 1);
                        memcpy(*ret, f->data, n);
                        (*ret)[n] = 0;
                        *ret_size = n;
                        return 0;
                }
        return -ENOENT;
}

/* Split a space-separated command line (no quoting: tests pass argv as-is). */
static struct rdp_verdict check(unsigned deny, const char *cmdline) {
        char *copy = strdup(cmdline), *argv[64], *save = NULL;
        size_t argc = 0;
        for (char *t = strtok_r(copy, " ", &save); t && argc < 64; t = strtok_r(NULL, " ", &save))
                argv[argc++] = t;
        struct rdp_verdict v;
        assert_int_equal(rdp_check_invocation(deny, argc, argv, fake_read, NULL, &v), 0);
        free(copy);
        return v;
}

static void expect(unsigned deny, const char *cmdline, bool deny_expected, int res) {
        struct rdp_verdict v = check(deny, cmdline);
        if (v.deny != deny_expected || (deny_expected && v.res != res))
                fail_msg("'%s': deny=%d res=%d option='%s' reason='%s' (expected deny=%d res=%d)", cmdline, v.deny,
                         v.res, v.option, v.reason, deny_expected, res);
}

static void test_safe(void **s) {
        (void) s;
        expect(VDI_RES_ALL, "xfreerdp /v:127.0.0.1 -clipboard", false, 0);
        expect(VDI_RES_ALL, "xfreerdp -clipboard /v:host:3389 /u:alice /cert:ignore /f +auto-reconnect", false, 0);
        expect(VDI_RES_ALL, "xfreerdp /v:host -clipboard -drives -home-drive /sound:sys:alsa /gfx", false, 0);
        expect(0, "xfreerdp /v:host +clipboard /drive:x,/tmp --plugin cliprdr", false, 0);
        /* allowed resource stays allowed */
        expect(DENY_ALL_BUT_SC, "xfreerdp /v:host -clipboard /smartcard", false, 0);
}

static void test_clipboard(void **s) {
        (void) s;
        expect(VDI_RES_ALL, "xfreerdp /v:host", true, VDI_RES_CLIPBOARD);
        expect(VDI_RES_ALL, "xfreerdp /v:host +clipboard", true, VDI_RES_CLIPBOARD);
        expect(VDI_RES_ALL, "xfreerdp /v:host /clipboard", true, VDI_RES_CLIPBOARD);
        expect(VDI_RES_ALL, "xfreerdp /v:host /clipboard:off", true, VDI_RES_CLIPBOARD);
        expect(VDI_RES_ALL, "xfreerdp /v:host /clipboard:use-selection:PRIMARY", true, VDI_RES_CLIPBOARD);
        expect(VDI_RES_ALL, "xfreerdp /v:host +clipboard -clipboard", true, VDI_RES_CLIPBOARD);
        expect(VDI_RES_ALL, "xfreerdp /v:host -clipboard +clipboard", true, VDI_RES_CLIPBOARD);
        expect(VDI_RES_ALL, "xfreerdp /v:host +CLIPBOARD -clipboard", true, VDI_RES_CLIPBOARD);
        expect(VDI_RES_ALL, "xfreerdp /v:host -CLIPBOARD", true, RDP_RES_DOUBT);
        expect(VDI_RES_ALL, "xfreerdp /v:host -clipboard:off", true, RDP_RES_DOUBT);
        expect(VDI_RES_ALL, "xfreerdp /v:host -clipboard /vc:cliprdr", true, VDI_RES_CLIPBOARD);
        expect(VDI_RES_ALL, "xfreerdp /v:host -clipboard /vc:CLIPRDR,x", true, VDI_RES_CLIPBOARD);
}

static void test_devices(void **s) {
        (void) s;
        expect(VDI_RES_ALL, "xfreerdp /v:h -clipboard /drive:x,/tmp", true, VDI_RES_DRIVES);
        expect(VDI_RES_ALL, "xfreerdp /v:h -clipboard /DRIVE:x,/tmp", true, VDI_RES_DRIVES);
        expect(VDI_RES_ALL, "xfreerdp /v:h -clipboard +drives", true, VDI_RES_DRIVES);
        expect(VDI_RES_ALL, "xfreerdp /v:h -clipboard /drives", true, VDI_RES_DRIVES);
        expect(VDI_RES_ALL, "xfreerdp /v:h -clipboard +home-drive", true, VDI_RES_DRIVES);
        expect(VDI_RES_ALL, "xfreerdp /v:h -clipboard /a:drive,x,/tmp", true, VDI_RES_DRIVES);
        expect(VDI_RES_ALL, "xfreerdp /v:h -clipboard /addin:drive,x,/tmp", true, VDI_RES_DRIVES);
        expect(VDI_RES_ALL, "xfreerdp /v:h -clipboard /vc:rdpdr", true, VDI_RES_DRIVES);
        expect(VDI_RES_ALL, "xfreerdp /v:h -clipboard /printer", true, VDI_RES_PRINTERS);
        expect(VDI_RES_ALL, "xfreerdp /v:h -clipboard /printer:lp,drv", true, VDI_RES_PRINTERS);
        expect(VDI_RES_ALL, "xfreerdp /v:h -clipboard /a:printer", true, VDI_RES_PRINTERS);
        expect(VDI_RES_ALL, "xfreerdp /v:h -clipboard /serial:COM1,/dev/ttyS0", true, VDI_RES_SERIAL);
        expect(VDI_RES_ALL, "xfreerdp /v:h -clipboard /tty", true, VDI_RES_SERIAL);
        expect(VDI_RES_ALL, "xfreerdp /v:h -clipboard /parallel", true, VDI_RES_SERIAL);
        expect(VDI_RES_ALL, "xfreerdp /v:h -clipboard /usb:auto", true, VDI_RES_USB);
        expect(VDI_RES_ALL, "xfreerdp /v:h -clipboard /dvc:urbdrc,dev:054c:0268", true, VDI_RES_USB);
        expect(VDI_RES_ALL, "xfreerdp /v:h -clipboard /microphone", true, VDI_RES_AUDIO_IN);
        expect(VDI_RES_ALL, "xfreerdp /v:h -clipboard /mic:sys:alsa", true, VDI_RES_AUDIO_IN);
        expect(VDI_RES_ALL, "xfreerdp /v:h -clipboard /dvc:audin", true, VDI_RES_AUDIO_IN);
        expect(VDI_RES_ALL, "xfreerdp /v:h -clipboard /smartcard", true, VDI_RES_SMARTCARD);
        expect(VDI_RES_ALL, "xfreerdp /v:h -clipboard /dvc:mychannel", true, VDI_RES_CHANNELS);
        expect(VDI_RES_ALL, "xfreerdp /v:h -clipboard /vc:evil,opt", true, VDI_RES_CHANNELS);
        expect(VDI_RES_ALL, "xfreerdp /v:h -clipboard /a:anything", true, VDI_RES_CHANNELS);
        expect(VDI_RES_ALL, "xfreerdp /v:h -clipboard /rdp2tcp:/usr/bin/rdp2tcp", true, VDI_RES_CHANNELS);
        expect(VDI_RES_ALL, "xfreerdp /v:h -clipboard /ssh-agent", true, VDI_RES_CHANNELS);
        expect(VDI_RES_ALL, "xfreerdp /v:h -clipboard /sound /vc:rdpsnd", false, 0);
}

static void test_syntax_doubt(void **s) {
        (void) s;
        expect(VDI_RES_ALL, "xfreerdp --plugin cliprdr -clipboard /v:h", true, RDP_RES_DOUBT);
        expect(VDI_RES_ALL, "xfreerdp --enable-drives -clipboard /v:h", true, RDP_RES_DOUBT);
        expect(VDI_RES_ALL, "xfreerdp --disable-clipboard /v:h", true, RDP_RES_DOUBT);
        expect(VDI_RES_ALL, "xfreerdp -u alice -clipboard host", true, RDP_RES_DOUBT);
        expect(VDI_RES_ALL, "xfreerdp /v:h -clipboard hostname", true, RDP_RES_DOUBT);
        expect(VDI_RES_ALL, "xfreerdp /v:h -clipboard /no-such-option", true, RDP_RES_DOUBT);
        expect(VDI_RES_ALL, "xfreerdp /v:h -clipboard -drive:x,/tmp", true, RDP_RES_DOUBT);
        expect(VDI_RES_ALL, "xfreerdp /v:h -clipboard -f", true, RDP_RES_DOUBT);
        expect(VDI_RES_ALL, "xfreerdp /v:h -clipboard /", true, RDP_RES_DOUBT);
        expect(VDI_RES_ALL, "xfreerdp /v:h -clipboard /args-from:stdin", true, RDP_RES_DOUBT);
        expect(VDI_RES_ALL, "xfreerdp /v:h -clipboard /args-from:fd:3", true, RDP_RES_DOUBT);
        expect(VDI_RES_ALL, "xfreerdp remote.msrcIncident -clipboard", true, RDP_RES_DOUBT);
        /* empty argument and a very long argument */
        char *argv[3] = { "xfreerdp", "", NULL };
        struct rdp_verdict v;
        rdp_check_invocation(VDI_RES_ALL, 2, argv, NULL, NULL, &v);
        assert_true(v.deny);
        char *big = malloc(RDP_MAX_ARG_LEN + 10);
        memset(big, 'a', RDP_MAX_ARG_LEN + 9);
        big[0] = '/';
        big[RDP_MAX_ARG_LEN + 9] = 0;
        argv[1] = big;
        rdp_check_invocation(VDI_RES_ALL, 2, argv, NULL, NULL, &v);
        assert_true(v.deny);
        assert_int_equal(v.res, RDP_RES_DOUBT);
        assert_true(strlen(v.option) < sizeof v.option);
        free(big);
        /* control characters never reach the log */
        argv[1] = "/v:h\n\x1b[31m";
        rdp_check_invocation(VDI_RES_ALL, 2, argv, NULL, NULL, &v);
        assert_null(strchr(v.option, '\n'));
        assert_null(strchr(v.option, '\x1b'));
}

static const char utf16_rdp[] = "\xff\xfer\0e\0d\0i\0r\0e\0c\0t\0c\0l\0i\0p\0b\0o\0a\0r\0d\0:\0i\0:\0"
                                "1\0\r\0\n\0";
static const char utf16_rdp_off[] = "\xff\xfer\0e\0d\0i\0r\0e\0c\0t\0c\0l\0i\0p\0b\0o\0a\0r\0d\0:\0i\0:\0"
                                    "0\0\r\0\n\0";

static const struct fake_file test_files[] = {
        { .path = "clip.rdp", .data = "full address:s:127.0.0.1\r\nredirectclipboard:i:1\r\n" },
        { .path = "clipoff.rdp", .data = "full address:s:127.0.0.1\r\nredirectclipboard:i:0\r\n" },
        { .path = "clipoff-caps.rdp", .data = "full address:s:127.0.0.1\r\n  RedirectClipboard:I:0  \r\n" },
        { .path = "drives.rdp", .data = "redirectclipboard:i:0\ndrivestoredirect:s:*\n" },
        { .path = "drives-empty.rdp", .data = "redirectclipboard:i:0\ndrivestoredirect:s:\n" },
        { .path = "printers.rdp", .data = "redirectclipboard:i:0\nredirectprinters:i:1\n" },
        { .path = "usb.rdp", .data = "redirectclipboard:i:0\nusbdevicestoredirect:s:*\n" },
        { .path = "devs.rdp", .data = "redirectclipboard:i:0\ndevicestoredirect:s:*\n" },
        { .path = "sc.rdp", .data = "redirectclipboard:i:0\nredirectsmartcards:i:1\n" },
        { .path = "com.rdp", .data = "redirectclipboard:i:0\nredirectcomports:i:1\n" },
        { .path = "mic.rdp", .data = "redirectclipboard:i:0\naudiocapturemode:i:1\n" },
        { .path = "opt.rdp", .data = "redirectclipboard:i:0\n/drive:x,/tmp\n" },
        { .path = "odd.rdp", .data = "redirectclipboard:i:0x0\n" },
        { .path = "odd2.rdp", .data = "redirectclipboard:s:0\n" },
        { .path = "odd3.rdp", .data = "redirectclipboard\n" },
        { .path = "plus.rdp", .data = "redirectclipboard:i:0\n+clipboard\n" },
        { .path = "nul.rdp", .data = "redirectclipboard:i:0\n\0x", .size = 25 },
        { .path = "u16.rdp", .data = utf16_rdp, .size = sizeof utf16_rdp - 1 },
        { .path = "u16off.rdp", .data = utf16_rdp_off, .size = sizeof utf16_rdp_off - 1 },
        { .path = "u16odd.rdp", .data = utf16_rdp_off, .size = sizeof utf16_rdp_off - 2 },
        { .path = "unreadable.rdp", .data = "", .size = 0, .err = -EACCES },
        { .path = "huge.rdp", .data = "", .size = 0, .err = -EFBIG },
        { .path = "args.txt", .data = "/v:host\n-clipboard\n" },
        { .path = "args-bad.txt", .data = "/v:host\r\n-clipboard\r\n/drive:x,/tmp\r\n" },
        { .path = "args-nested.txt", .data = "/args-from:args.txt\n" },
        { NULL },
};

static void test_rdp_files(void **s) {
        (void) s;
        files = test_files;
        expect(VDI_RES_ALL, "xfreerdp clip.rdp", true, VDI_RES_CLIPBOARD);
        expect(VDI_RES_ALL, "xfreerdp clip.rdp -clipboard", true, VDI_RES_CLIPBOARD);
        expect(VDI_RES_ALL, "xfreerdp clipoff.rdp", false, 0);
        expect(VDI_RES_ALL, "xfreerdp CLIPOFF-CAPS.RDP", true, RDP_RES_DOUBT); /* no such file */
        expect(VDI_RES_ALL, "xfreerdp clipoff-caps.rdp", false, 0);
        expect(VDI_RES_ALL, "xfreerdp clipoff.rdp +clipboard", true, VDI_RES_CLIPBOARD);
        expect(VDI_RES_ALL, "xfreerdp drives.rdp", true, VDI_RES_DRIVES);
        expect(VDI_RES_ALL, "xfreerdp drives-empty.rdp", false, 0);
        expect(VDI_RES_ALL, "xfreerdp printers.rdp", true, VDI_RES_PRINTERS);
        expect(VDI_RES_ALL, "xfreerdp usb.rdp", true, VDI_RES_USB);
        expect(VDI_RES_ALL, "xfreerdp devs.rdp", true, VDI_RES_USB);
        expect(VDI_RES_ALL, "xfreerdp sc.rdp", true, VDI_RES_SMARTCARD);
        expect(DENY_ALL_BUT_SC, "xfreerdp sc.rdp", false, 0);
        expect(VDI_RES_ALL, "xfreerdp com.rdp", true, VDI_RES_SERIAL);
        expect(VDI_RES_ALL, "xfreerdp mic.rdp", true, VDI_RES_AUDIO_IN);
        expect(VDI_RES_ALL, "xfreerdp opt.rdp", true, VDI_RES_DRIVES);
        expect(VDI_RES_ALL, "xfreerdp odd.rdp", true, RDP_RES_DOUBT);
        expect(VDI_RES_ALL, "xfreerdp odd2.rdp", true, RDP_RES_DOUBT);
        expect(VDI_RES_ALL, "xfreerdp odd3.rdp", true, RDP_RES_DOUBT);
        expect(VDI_RES_ALL, "xfreerdp plus.rdp", true, RDP_RES_DOUBT);
        expect(VDI_RES_ALL, "xfreerdp nul.rdp", true, RDP_RES_DOUBT);
        expect(VDI_RES_ALL, "xfreerdp u16.rdp -clipboard", true, VDI_RES_CLIPBOARD);
        expect(VDI_RES_ALL, "xfreerdp u16off.rdp", false, 0);
        expect(VDI_RES_ALL, "xfreerdp u16odd.rdp", true, RDP_RES_DOUBT);
        expect(VDI_RES_ALL, "xfreerdp unreadable.rdp -clipboard", true, RDP_RES_DOUBT);
        expect(VDI_RES_ALL, "xfreerdp huge.rdp -clipboard", true, RDP_RES_DOUBT);
        expect(VDI_RES_ALL, "xfreerdp missing.rdp -clipboard", true, RDP_RES_DOUBT);
        expect(VDI_RES_ALL, "xfreerdp -clipboard /v:h other.rdp", true, RDP_RES_DOUBT);
        expect(VDI_RES_ALL, "xfreerdp3 /args-from:args.txt", false, 0);
        expect(VDI_RES_ALL, "xfreerdp3 /args-from:args-bad.txt", true, VDI_RES_DRIVES);
        expect(VDI_RES_ALL, "xfreerdp3 /args-from:args-nested.txt", true, RDP_RES_DOUBT);
        expect(VDI_RES_ALL, "xfreerdp3 /args-from:nofile", true, RDP_RES_DOUBT);
}

static void test_file_alone(void **s) {
        (void) s;
        struct rdp_verdict v;
        rdp_check_file(VDI_RES_ALL, "redirectclipboard:i:0\r\n", 23, &v);
        assert_false(v.deny);
        rdp_check_file(VDI_RES_ALL, "full address:s:x\r\n", 18, &v);
        assert_true(v.deny);
        assert_int_equal(v.res, VDI_RES_CLIPBOARD);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_safe),         cmocka_unit_test(test_clipboard),
                cmocka_unit_test(test_devices),      cmocka_unit_test(test_syntax_doubt),
                cmocka_unit_test(test_rdp_files),    cmocka_unit_test(test_file_alone),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
