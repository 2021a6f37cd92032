/* builtin.c — the plugins compiled in (configure --enable-<name>), in start order; built a second time with SEKISHO_TEST_BUILD for the test daemon and CLI, which add the test-only demo plugin. */
#include "config.h"

#include "plugin.h"

#ifdef ENABLE_PLUGIN_USB
extern const struct sekisho_plugin sekisho_plugin_usb;
#endif
#ifdef ENABLE_PLUGIN_NET
extern const struct sekisho_plugin sekisho_plugin_net;
#endif
#ifdef ENABLE_PLUGIN_VDI
extern const struct sekisho_plugin sekisho_plugin_vdi;
#endif
#ifdef ENABLE_PLUGIN_POSTURE
extern const struct sekisho_plugin sekisho_plugin_posture;
#endif
#ifdef ENABLE_PLUGIN_TRAVEL
extern const struct sekisho_plugin sekisho_plugin_travel;
#endif
#ifdef SEKISHO_TEST_BUILD
extern const struct sekisho_plugin sekisho_plugin_demo;
#endif

/* Enforcers first, then the plugins that decide profiles (posture asks for
 * "quarantine", travel for "travel"), then, in the test build only, the
 * demo. Stopped in reverse. */
const struct sekisho_plugin *const sekisho_builtin_plugins[] = {
#ifdef ENABLE_PLUGIN_USB
        &sekisho_plugin_usb,
#endif
#ifdef ENABLE_PLUGIN_NET
        &sekisho_plugin_net,
#endif
#ifdef ENABLE_PLUGIN_VDI
        &sekisho_plugin_vdi,
#endif
#ifdef ENABLE_PLUGIN_POSTURE
        &sekisho_plugin_posture,
#endif
#ifdef ENABLE_PLUGIN_TRAVEL
        &sekisho_plugin_travel,
#endif
#ifdef SEKISHO_TEST_BUILD
        &sekisho_plugin_demo,
#endif
        NULL,
};
