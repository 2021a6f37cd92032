/* fuzz-usbdesc.c — libFuzzer target for the sysfs "descriptors" parser and the device hash (device-controlled bytes). */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>

#include "usbdesc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static struct usb_desc d;
        char why[160];
        if (usbdesc_parse(data, size, &d, why, sizeof why) == 0) {
                char h[USB_HASH_B64];
                usbdesc_hash("name", "046d", "c31c", "serial", data, &d, h);
                struct usb_iftype alts[8];
                for (size_t i = 0; i < d.n_ifs; i++)
                        (void)usbdesc_interface_types(&d, d.ifs[i].config, d.ifs[i].number, alts, 8);
                if (d.processed != size)
                        __builtin_trap(); /* a successful parse consumes everything */
        }
        return 0;
}
