/* fuzz-usbrule.c — libFuzzer target for the USB rule parser and matcher (policy rules are admin input, but still hostile to us). */
#include "config.h"

#include <stdint.h>
#include <string.h>

#include "usbrule.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        struct usb_rule r;
        struct usbrule_error e;
        if (usbrule_parse((const char *)data, size, &r, &e) == 0) {
                static const struct usb_iftype ifs[2] = { { 3, 1, 1, USB_IF_MATCH_ALL }, { 8, 6, 0x50, USB_IF_MATCH_ALL } };
                struct usb_devinfo d = { .vid = "046d", .pid = "c31c", .name = "Keyboard", .serial = "",
                                         .hash = "x", .parent_hash = "y", .port = "1-1", .connect_type = "hotplug",
                                         .ifs = ifs, .n_ifs = 2 };
                (void)usbrule_matches(&r, &d);
                (void)usbrule_interface_allowed(&r, ifs, 2);
                usbrule_done(&r);
        } else if (e.col < 1 || e.col > size + 1)
                __builtin_trap(); /* the column must point into the rule */
        return 0;
}
