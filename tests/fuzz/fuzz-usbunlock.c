/* fuzz-usbunlock.c — libFuzzer target for unlock codes as typed (normalise, verify under a fixed key) and the unlock state file. */
#include "config.h"

#include <stdint.h>
#include <string.h>

#include "usbunlock.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static const uint8_t key[USB_UNLOCK_KEY_LEN] = { 1, 2, 3, 4, 5, 6, 7, 8 };
        char typed[128];
        size_t n = size < sizeof typed - 1 ? size : sizeof typed - 1;
        memcpy(typed, data, n);
        typed[n] = '\0';
        struct usb_unlock u;
        if (usb_unlock_verify(key, "0123456789abcdef0123456789abcdef", typed, 1806480000, &u) == 0 &&
            (u.expires <= 1806480000 || u.expires > 1806480000 + 31 * 86400 ||
             (u.scope != USB_UNLOCK_DEVICE && u.scope != USB_UNLOCK_HID)))
                __builtin_trap();
        struct usb_unlock_state st;
        if (usb_unlock_state_parse((const char *)data, size, &st) == 0) {
                if (st.n_used > USB_UNLOCK_MAX_USED || st.n_failed > USB_UNLOCK_MAX_FAILED)
                        __builtin_trap();
                int64_t retry;
                (void)usb_unlock_may_try(&st, 1806480000, &retry);
                (void)usb_unlock_record(&st, NULL, 0, 1806480000);
        }
        return 0;
}
