/* gui.c — Statistics ▸ Traffic Analysis (trafan) in Wireshark: a stats
 * tree with the suspicious hosts, protocols, hosts and conversations.
 *
 * The stats tree listens to the "frame" tap, which the frame dissector
 * queues after every other tap, so by then trafan's own ip/ipv6/tcp/udp
 * listeners have filled the frame's record; the tree's filter decides
 * whether the record counts.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#define WS_BUILD_DLL
#include <wireshark.h>
#include <epan/packet.h>
#include <epan/stats_tree.h>

#include "compat.h"
#include "detect.h"
#include "stats.h"
#include "tap.h"
#include "trafan-plugin.h"

#define NS_PER_S G_GINT64_CONSTANT(1000000000)

static const char st_flags[] = "Suspicious hosts";
static const char st_protocols[] = "Protocols (highest layer)";
static const char st_hosts[] = "Hosts (packets sent or received)";
static const char st_conversations[] = "Conversations";

typedef struct {
    stats_tree         *st;
    TrafanTap          *tap;
    TrafanDetectConfig  detect;
    TrafanDetector     *detector;
    int                 flags_node, protocols_node, hosts_node, conversations_node;
} GuiRun;

static GHashTable *runs;        /* stats_tree * -> GuiRun *: one per open window */

static void
gui_tap_finish(gpointer data)
{
    GuiRun *run = data;

    trafan_detector_free(run->detector);
    trafan_detect_config_clear(&run->detect);
    g_free(run);
}

static void show_new_flags(stats_tree *st, GuiRun *run);

/* Wireshark redraws its windows from time to time and at the end of a pass:
 * the moment to show flags whose window is still open, such as a scan
 * answered by the last packets. */
static void
gui_tap_draw(gpointer data)
{
    GuiRun *run = data;

    if (!run->detector)
        return;
    trafan_detector_peek(run->detector);
    show_new_flags(run->st, run);
}

static void
gui_init(stats_tree *st)
{
    static const TrafanTapCallbacks callbacks = { NULL, NULL, gui_tap_draw, gui_tap_finish };
    GuiRun *run = g_hash_table_lookup(runs, st);
    GError *error = NULL;
    char *failure = NULL;

    if (!run) {
        run = g_new0(GuiRun, 1);
        run->st = st;
        trafan_detect_config_init(&run->detect);
        if (!trafan_prefs_apply(&run->detect, &error)) {
            /* Already reported by Wireshark's preference checks; run on defaults. */
            g_error_free(error);
            trafan_detect_config_clear(&run->detect);
            trafan_detect_config_init(&run->detect);
        }
        run->tap = trafan_tap_start(NULL, FALSE, &callbacks, run, &failure);
        g_free(failure);
        g_hash_table_insert(runs, st, run);
    }
    /* init also runs when Wireshark restarts the tree (a reload). */
    trafan_detector_free(run->detector);
    run->detector = trafan_detector_new(&run->detect);

    run->flags_node = stats_tree_create_node(st, st_flags, 0, STAT_DT_INT, TRUE);
    run->protocols_node = stats_tree_create_node(st, st_protocols, 0, STAT_DT_INT, TRUE);
    run->hosts_node = stats_tree_create_node(st, st_hosts, 0, STAT_DT_INT, TRUE);
    run->conversations_node = stats_tree_create_node(st, st_conversations, 0, STAT_DT_INT, TRUE);
}

static void
show_new_flags(stats_tree *st, GuiRun *run)
{
    GPtrArray *fresh = trafan_detector_take_new(run->detector);

    for (guint i = 0; i < fresh->len; i++) {
        const TrafanFlag *f = g_ptr_array_index(fresh, i);
        char host[TRAFAN_ADDRSTRLEN];
        char *name = g_strdup_printf("%s %s (%s)", trafan_address_to_str(&f->host, host), f->rule,
                                     trafan_role_name(f->role));

        /* The flag, and under it what it says and how to select its packets. */
        tick_stat_node(st, st_flags, 0, TRUE);
        int node = tick_stat_node(st, name, run->flags_node, TRUE);
        tick_stat_node(st, f->summary ? f->summary : "", node, FALSE);
        tick_stat_node(st, f->filter ? f->filter : "", node, FALSE);
        g_free(name);
    }
}

static tap_packet_status
gui_packet(stats_tree *st, packet_info *pinfo, epan_dissect_t *edt _U_, const void *data _U_, tap_flags_t flags _U_)
{
    GuiRun *run = g_hash_table_lookup(runs, st);
    const TrafanPacket *pkt;
    char a[TRAFAN_ADDRSTRLEN], b[TRAFAN_ADDRSTRLEN];

    if (!run || !run->tap)
        return TAP_PACKET_DONT_REDRAW;
    pkt = trafan_tap_frame(run->tap, pinfo);
    trafan_detector_add(run->detector, pkt);

    tick_stat_node(st, st_protocols, 0, TRUE);
    tick_stat_node(st, pkt->protocol, run->protocols_node, FALSE);
    for (guint i = 0; i < pkt->n_ip; i++) {
        const TrafanIpLayer *ip = &pkt->ip[i];
        gboolean in_order = trafan_address_compare(&ip->src, &ip->dst) <= 0;
        char *pair;

        trafan_address_to_str(&ip->src, a);
        trafan_address_to_str(&ip->dst, b);
        tick_stat_node(st, st_hosts, 0, TRUE);
        tick_stat_node(st, a, run->hosts_node, FALSE);
        if (!trafan_address_equal(&ip->src, &ip->dst))
            tick_stat_node(st, b, run->hosts_node, FALSE);
        pair = g_strdup_printf("%s <-> %s", in_order ? a : b, in_order ? b : a);
        tick_stat_node(st, st_conversations, 0, TRUE);
        tick_stat_node(st, pair, run->conversations_node, FALSE);
        g_free(pair);
    }
    return TAP_PACKET_REDRAW;
}

static void
gui_cleanup(stats_tree *st)
{
    GuiRun *run = g_hash_table_lookup(runs, st);

    if (!run)
        return;
    g_hash_table_remove(runs, st);
    if (run->tap)
        trafan_tap_stop(run->tap);      /* frees run through gui_tap_finish */
    else
        gui_tap_finish(run);
}

void
trafan_gui_register(void)
{
    runs = g_hash_table_new(g_direct_hash, g_direct_equal);
    stats_tree_register_plugin("frame", "trafan", "Traffic Analysis (trafan)", 0,
                               gui_packet, gui_init, gui_cleanup);
}
