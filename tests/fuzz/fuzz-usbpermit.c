/* fuzz-usbpermit.c — libFuzzer target for the usb plugin's permits file (state_dir/usb/permits): parse, query, save. */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "usbpermit.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        struct usb_permits ps;
        char err[200];
        if (usb_permits_parse((const char *)data, size, &ps, err, sizeof err) == 0) {
                if (ps.n > USB_MAX_PERMITS)
                        __builtin_trap();
                for (size_t i = 0; i < ps.n; i++)
                        if (ps.v[i].expires <= ps.v[i].granted || strlen(ps.v[i].label) >= sizeof ps.v[i].label)
                                __builtin_trap();
                (void)usb_permits_next_expiry(&ps, 1000);
                usb_permits_expire(&ps, 1000);
                usb_permits_remove(&ps, NULL);
                usb_permits_done(&ps);
        } else if (!memchr(err, '\0', sizeof err))
                __builtin_trap();
        int64_t d;
        char dur[32];
        size_t n = size < sizeof dur - 1 ? size : sizeof dur - 1;
        memcpy(dur, data, n);
        dur[n] = '\0';
        if (usb_parse_duration(dur, &d) == 0 && (d < USB_PERMIT_MIN_SECONDS || d > USB_PERMIT_MAX_SECONDS))
                __builtin_trap();
        return 0;
}
