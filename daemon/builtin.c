/* builtin.c — the plugins compiled in (configure --enable-<name>), in start order. */
#include "config.h"

#include "plugin.h"

#define BUILTIN(id) extern const struct sekisho_plugin sekisho_plugin_##id;
#ifdef ENABLE_PLUGIN_DEMO
BUILTIN(demo)
#endif
#ifdef ENABLE_PLUGIN_USB
BUILTIN(usb)
#endif
#ifdef ENABLE_PLUGIN_NET
BUILTIN(net)
#endif

const struct sekisho_plugin *const sekisho_builtin_plugins[] = {
#ifdef ENABLE_PLUGIN_USB
        &sekisho_plugin_usb,
#endif
#ifdef ENABLE_PLUGIN_DEMO
        &sekisho_plugin_demo,
#endif
#ifdef ENABLE_PLUGIN_NET
        &sekisho_plugin_net,
#endif
        NULL,
};
