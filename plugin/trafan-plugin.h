/* trafan-plugin.h — the Wireshark surfaces, each in its own file.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef TRAFAN_PLUGIN_H
#define TRAFAN_PLUGIN_H

#include <glib.h>
#include "detect.h"

void     trafan_cli_register(void);     /* cli.c: tshark -z trafan,stat */
void     trafan_prefs_register(void);   /* prefs.c: module "trafan" */
void     trafan_gui_register(void);     /* gui.c: the Statistics menu */
/* mark.c: the `trafan` post-dissector.  Each packet it marks is tapped on
 * tap "trafan" with the flag (const TrafanFlag *) as data. */
void     trafan_mark_register(void);
void     trafan_mark_handoff(void);
int      trafan_mark_protocol(void);
void     trafan_mark_request(void);     /* decide even if no field is asked for */
/* The time flags count from (the first frame's, as TrafanPacket.abs_ns). */
struct _packet_info;
gint64   trafan_mark_reference_ns(struct _packet_info *pinfo);
void     trafan_table_register(void);   /* table.c: Suspicious Hosts */
void     trafan_menu_register(int proto); /* menu.c: Tools > Traffic Analysis */
/* The preferences the user changed, onto a detection config; an invalid
 * one (trafan.tree_rows included) is an error naming it. */
gboolean trafan_prefs_apply(TrafanDetectConfig *cfg, GError **error);
/* Children per branch of the Statistics window (preference trafan.tree_rows). */
guint    trafan_prefs_tree_rows(void);

/* cli.c: "tshark: trafan: WHAT: DETAIL" on stderr, control characters
 * escaped, and exit status 1. */
G_NORETURN void trafan_fail(const char *what, const char *detail);
/* Is this tshark (which ends on a bad argument) rather than Wireshark? */
gboolean trafan_running_in_tshark(void);

#endif
