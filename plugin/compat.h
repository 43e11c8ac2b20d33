/* compat.h — the few Wireshark API differences between 4.0, 4.4 and 4.6,
 * kept in one place.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef TRAFAN_COMPAT_H
#define TRAFAN_COMPAT_H

#include <ws_version.h>

#define TRAFAN_WS_AT_LEAST(major, minor) \
    (WIRESHARK_VERSION_MAJOR > (major) || \
     (WIRESHARK_VERSION_MAJOR == (major) && WIRESHARK_VERSION_MINOR >= (minor)))

/* Boolean preferences point at a gboolean in 4.0 and at a bool later. */
#if TRAFAN_WS_AT_LEAST(4, 2)
#include <stdbool.h>
typedef bool trafan_pref_bool;
#else
typedef gboolean trafan_pref_bool;
#endif

#endif
