/* compat.h — the Wireshark API differences between 4.0, 4.4 and 4.6, kept
 * in one place.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef TRAFAN_COMPAT_H
#define TRAFAN_COMPAT_H

#include <wireshark.h>
#include <ws_version.h>

#define TRAFAN_WS_AT_LEAST(major, minor) \
    (WIRESHARK_VERSION_MAJOR > (major) || \
     (WIRESHARK_VERSION_MAJOR == (major) && WIRESHARK_VERSION_MINOR >= (minor)))

/* 4.2+ asks a plugin what it is (plugin_describe(), <wsutil/plugins.h>, a
 * header 4.0 does not install); without it `tshark -G plugins` says
 * "unknown". */
#if TRAFAN_WS_AT_LEAST(4, 2)
#include <wsutil/plugins.h>
#define TRAFAN_PLUGIN_DESCRIBE(flags) \
    WS_DLL_PUBLIC uint32_t plugin_describe(void); \
    uint32_t plugin_describe(void) { return (flags); }
#else
#define TRAFAN_PLUGIN_DESCRIBE(flags)
#endif

/* Boolean preferences point at a gboolean in 4.0 and at a bool from 4.2. */
#if TRAFAN_WS_AT_LEAST(4, 2)
typedef bool trafan_pref_bool;
#else
typedef gboolean trafan_pref_bool;
#endif

/* A -z init callback returns void up to 4.4 and bool (accepted) from 4.6. */
#if TRAFAN_WS_AT_LEAST(4, 5)
typedef bool trafan_stat_init_ret;
#define TRAFAN_STAT_INIT_RETURN(ok) return (ok)
#else
typedef void trafan_stat_init_ret;
#define TRAFAN_STAT_INIT_RETURN(ok) do { (void)(ok); return; } while (0)
#endif

/* Display filters report errors as a string up to 4.0 and as a df_error_t
 * from 4.2.  trafan_dfilter_compile() sets *error (g_free it) on failure. */
#include <epan/dfilter/dfilter.h>
static inline gboolean
trafan_dfilter_compile(const char *text, dfilter_t **df, char **error)
{
#if TRAFAN_WS_AT_LEAST(4, 2)
    df_error_t *failure = NULL;

    if (dfilter_compile(text, df, &failure))
        return TRUE;
    *error = g_strdup(failure && failure->msg ? failure->msg : "invalid filter");
    df_error_free(&failure);
    return FALSE;
#else
    return dfilter_compile(text, df, error);
#endif
}

/* tvb_get_guint8() is deprecated from 4.4 for tvb_get_uint8(). */
#if TRAFAN_WS_AT_LEAST(4, 4)
#define trafan_tvb_get_u8 tvb_get_uint8
#else
#define trafan_tvb_get_u8 tvb_get_guint8
#endif

#endif
