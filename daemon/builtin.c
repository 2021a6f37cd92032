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
#ifdef ENABLE_PLUGIN_TRAVEL
BUILTIN(travel)
#endif

const struct sekisho_plugin *const sekisho_builtin_plugins[] = {
#ifdef ENABLE_PLUGIN_USB
        &sekisho_plugin_usb,
#endif
#ifdef ENABLE_PLUGIN_DEMO
        &sekisho_plugin_demo,
#endif
#ifdef ENABLE_PLUGIN_TRAVEL
        &sekisho_plugin_travel,
#endif
        NULL,
};
