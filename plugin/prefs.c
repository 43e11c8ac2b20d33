/* prefs.c — every detection threshold as a Wireshark preference of module
 * "trafan" (-o trafan.NAME:VALUE, the Preferences dialog), generated from
 * the core's option table.
 *
 * Wireshark 4.0 has no floating-point preference, so fractional options are
 * string preferences; every value is validated by the core when a run
 * starts, so a bad one is reported by name.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#define WS_BUILD_DLL
#include <string.h>

#include <wireshark.h>
#include <epan/prefs.h>

#include "compat.h"
#include "detect.h"
#include "trafan-plugin.h"

typedef union {
    guint        uint_value;
    trafan_pref_bool bool_value;
    const char  *text;          /* owned by the preferences system */
} PrefValue;

static PrefValue *values;       /* one per option of trafan_detect_options() */

#define TREE_ROWS_DEFAULT 100u
#define TREE_ROWS_MAX     100000u
static guint tree_rows = TREE_ROWS_DEFAULT;

void
trafan_prefs_register(void)
{
    module_t *module = prefs_register_stat("trafan", "Traffic Analysis (trafan)",
                                           "Thresholds of trafan's suspicious-host rules", NULL);
    guint n;
    const TrafanDetectOption *options = trafan_detect_options(&n);

    values = g_new0(PrefValue, n);
    for (guint i = 0; i < n; i++) {
        const TrafanDetectOption *o = &options[i];

        switch (o->type) {
        case TRAFAN_OPT_UINT:
            values[i].uint_value = (guint)g_ascii_strtoull(o->default_text, NULL, 10);
            prefs_register_uint_preference(module, o->name, o->title, o->description, 10, &values[i].uint_value);
            break;
        case TRAFAN_OPT_BOOL:
            values[i].bool_value = strcmp(o->default_text, "true") == 0;
            prefs_register_bool_preference(module, o->name, o->title, o->description, &values[i].bool_value);
            break;
        default:
            values[i].text = g_strdup(o->default_text);
            prefs_register_string_preference(module, o->name, o->title, o->description, &values[i].text);
            break;
        }
    }
    prefs_register_uint_preference(module, "tree_rows", "Rows per branch of the Statistics window",
                                   "Children of each branch of Statistics > Traffic Analysis and -z trafan,tree: "
                                   "the top N by packets, the rest in one \"(others)\" row (1 to 100000; default 100)",
                                   10, &tree_rows);
}

guint
trafan_prefs_tree_rows(void)
{
    return CLAMP(tree_rows, 1, TREE_ROWS_MAX);
}

static char *
pref_text(const TrafanDetectOption *o, const PrefValue *v)
{
    switch (o->type) {
    case TRAFAN_OPT_UINT:
        return g_strdup_printf("%u", v->uint_value);
    case TRAFAN_OPT_BOOL:
        return g_strdup(v->bool_value ? "true" : "false");
    default:
        return g_strdup(v->text ? v->text : "");
    }
}

/* The preferences a user changed, onto cfg: the preset first, because it
 * resets the thresholds, then the others.  Unchanged ones are left alone so
 * that they do not undo the preset. */
gboolean
trafan_prefs_apply(TrafanDetectConfig *cfg, GError **error)
{
    guint n;
    const TrafanDetectOption *options = trafan_detect_options(&n);

    if (tree_rows < 1 || tree_rows > TREE_ROWS_MAX) {
        g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                    "preference trafan.tree_rows: invalid value \"%u\": expected a whole number from 1 to %u",
                    tree_rows, TREE_ROWS_MAX);
        return FALSE;
    }
    for (int pass = 0; pass < 2; pass++) {
        for (guint i = 0; i < n; i++) {
            const TrafanDetectOption *o = &options[i];
            gboolean is_preset = strcmp(o->name, "preset") == 0;
            char *text;
            gboolean ok = TRUE;

            if (is_preset != (pass == 0))
                continue;
            text = pref_text(o, &values[i]);
            if (strcmp(text, o->default_text) != 0 && !trafan_detect_config_set(cfg, o->name, text, error)) {
                g_prefix_error(error, "preference trafan.%s: ", o->name);
                ok = FALSE;
            }
            g_free(text);
            if (!ok)
                return FALSE;
        }
    }
    return TRUE;
}
