/* plugin.c — trafan's entry points for Wireshark's plugin loader.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#define WS_BUILD_DLL
#include <wireshark.h>
#include <epan/packet.h>
#include <epan/tap.h>

#include "compat.h"
#include "trafan-plugin.h"

WS_DLL_PUBLIC_DEF const char plugin_version[] = TRAFAN_VERSION;
WS_DLL_PUBLIC_DEF const int plugin_want_major = WIRESHARK_VERSION_MAJOR;
WS_DLL_PUBLIC_DEF const int plugin_want_minor = WIRESHARK_VERSION_MINOR;

WS_DLL_PUBLIC void plugin_register(void);
TRAFAN_PLUGIN_DESCRIBE(WS_PLUGIN_DESC_DISSECTOR | WS_PLUGIN_DESC_TAP_LISTENER)

/* Called from register_all_tap_listeners(), once the dissectors exist. */
static void
register_surfaces(void)
{
    trafan_prefs_register();
    trafan_cli_register();
    trafan_gui_register();
    trafan_table_register();
}

void
plugin_register(void)
{
    static const proto_plugin dissector = { trafan_mark_register, trafan_mark_handoff };
    static const tap_plugin plugin = { register_surfaces };

    proto_register_plugin(&dissector);
    tap_register_plugin(&plugin);
}
