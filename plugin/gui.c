/* gui.c — Statistics ▸ Traffic Analysis (trafan) in Wireshark: a stats
 * tree with the suspicious hosts, protocols, hosts and conversations.
 *
 * The stats tree listens to the "frame" tap, which the frame dissector
 * queues after every other tap, so by then trafan's own ip/ipv6/tcp/udp
 * listeners have filled the frame's record; the tree's filter decides
 * whether the record counts.
 *
 * Packets go into trafan's own model (core/stats.h), not into the tree:
 * Wireshark's stats_tree appends a child by walking its siblings, so a
 * child per host or conversation makes a flood capture quadratic.  The
 * branches are drawn from the model whenever Wireshark redraws the window:
 * the top `tree_rows` children by packets, found through a hash, and one
 * "(others)" child with the rest, as the text report folds its tables.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#define WS_BUILD_DLL
#include <wireshark.h>
#include <epan/packet.h>
#include <epan/stats_tree.h>
#include <wsutil/report_message.h>

#include "compat.h"
#include "detect.h"
#include "stats.h"
#include "tap.h"
#include "trafan-plugin.h"

#define OTHERS "(others)"

static const char st_flags[] = "Suspicious hosts";
static const char st_protocols[] = "Protocols (highest layer)";
static const char st_hosts[] = "Hosts (packets sent or received)";
static const char st_conversations[] = "Conversations";

/* One branch of the tree: its node, and the children made so far. */
typedef struct {
    const char *title;
    int         node;
    GHashTable *drawn;      /* child name -> the draw that last showed it */
    guint       draw;       /* draws so far */
} Branch;

/* How to rank and name the rows of one of the model's tables. */
typedef struct {
    guint64 (*packets)(gconstpointer row);
    int     (*tie)(gconstpointer a, gconstpointer b);  /* among equal counts */
    char   *(*name)(gconstpointer row);
} RowKind;

typedef struct {
    stats_tree         *st;
    TrafanTap          *tap;
    TrafanDetectConfig  detect;
    TrafanDetector     *detector;
    TrafanStats        *stats;
    guint64             ip_layers;      /* IP headers counted: the host and conversation totals */
    guint               rows;           /* children per branch */
    guint               flags_shown, flags_folded;
    Branch              flags, protocols, hosts, conversations;
} GuiRun;

static GHashTable *runs;        /* stats_tree * -> GuiRun *: one per open window */

/* ---- the model's rows ------------------------------------------------------- */

static guint64
protocol_packets(gconstpointer row)
{
    return ((const TrafanProtocolCount *)row)->packets;
}

static int
protocol_tie(gconstpointer a, gconstpointer b)
{
    return strcmp(((const TrafanProtocolCount *)a)->protocol, ((const TrafanProtocolCount *)b)->protocol);
}

static char *
protocol_name(gconstpointer row)
{
    return g_strdup(((const TrafanProtocolCount *)row)->protocol);
}

static guint64
host_packets(gconstpointer row)
{
    const TrafanHost *h = row;

    return h->tx_packets + h->rx_packets;
}

static int
host_tie(gconstpointer a, gconstpointer b)
{
    return trafan_address_compare(&((const TrafanHost *)a)->address, &((const TrafanHost *)b)->address);
}

static char *
host_name(gconstpointer row)
{
    char text[TRAFAN_ADDRSTRLEN];

    return g_strdup(trafan_address_to_str(&((const TrafanHost *)row)->address, text));
}

static guint64
conversation_packets(gconstpointer row)
{
    const TrafanConversation *c = row;

    return c->a_to_b_packets + c->b_to_a_packets;
}

/* A conversation's addresses in order, as its name shows them. */
static void
conversation_ends(const TrafanConversation *c, const TrafanAddress **low, const TrafanAddress **high)
{
    gboolean in_order = trafan_address_compare(&c->a, &c->b) <= 0;

    *low = in_order ? &c->a : &c->b;
    *high = in_order ? &c->b : &c->a;
}

static int
conversation_tie(gconstpointer pa, gconstpointer pb)
{
    const TrafanAddress *a_low, *a_high, *b_low, *b_high;
    int by_low;

    conversation_ends(pa, &a_low, &a_high);
    conversation_ends(pb, &b_low, &b_high);
    by_low = trafan_address_compare(a_low, b_low);
    return by_low ? by_low : trafan_address_compare(a_high, b_high);
}

static char *
conversation_name(gconstpointer row)
{
    const TrafanAddress *low, *high;
    char a[TRAFAN_ADDRSTRLEN], b[TRAFAN_ADDRSTRLEN];

    conversation_ends(row, &low, &high);
    return g_strdup_printf("%s <-> %s", trafan_address_to_str(low, a), trafan_address_to_str(high, b));
}

static const RowKind protocol_rows = { protocol_packets, protocol_tie, protocol_name };
static const RowKind host_rows = { host_packets, host_tie, host_name };
static const RowKind conversation_rows = { conversation_packets, conversation_tie, conversation_name };

/* ---- the top rows of a table ---------------------------------------------- */

/* Does row a rank before row b: more packets, then the tie order. */
static gboolean
ranks_before(const RowKind *kind, gconstpointer a, gconstpointer b)
{
    guint64 pa = kind->packets(a), pb = kind->packets(b);

    return pa != pb ? pa > pb : kind->tie(a, b) < 0;
}

/* heap[0] is the lowest-ranked row kept. */
static void
sift_down(const RowKind *kind, gpointer *heap, guint n, guint i)
{
    for (;;) {
        guint low = i, left = 2 * i + 1, right = left + 1;

        if (left < n && ranks_before(kind, heap[low], heap[left]))
            low = left;
        if (right < n && ranks_before(kind, heap[low], heap[right]))
            low = right;
        if (low == i)
            return;
        gpointer t = heap[i];
        heap[i] = heap[low];
        heap[low] = t;
        i = low;
    }
}

static void
sift_up(const RowKind *kind, gpointer *heap, guint i)
{
    while (i > 0) {
        guint parent = (i - 1) / 2;

        if (!ranks_before(kind, heap[parent], heap[i]))
            return;
        gpointer t = heap[i];
        heap[i] = heap[parent];
        heap[parent] = t;
        i = parent;
    }
}

static int
compare_rank(gconstpointer a, gconstpointer b, gpointer kind)
{
    gconstpointer ra = *(const gconstpointer *)a, rb = *(const gconstpointer *)b;

    return ranks_before(kind, ra, rb) ? -1 : ranks_before(kind, rb, ra) ? 1 : 0;
}

/* The `top` best-ranked rows seen, in a heap of `top`: O(rows log top)
 * whatever the table's size. */
typedef struct {
    const RowKind *kind;
    guint          top;
    GPtrArray     *heap;
    guint64        total_packets;
} Ranking;

static void
ranking_add(gconstpointer row, gpointer data)
{
    Ranking *r = data;

    r->total_packets += r->kind->packets(row);
    if (r->heap->len < r->top) {
        g_ptr_array_add(r->heap, (gpointer)row);
        sift_up(r->kind, r->heap->pdata, r->heap->len - 1);
    } else if (r->top && ranks_before(r->kind, row, r->heap->pdata[0])) {
        r->heap->pdata[0] = (gpointer)row;
        sift_down(r->kind, r->heap->pdata, r->heap->len, 0);
    }
}

static void
ranking_add_conversation(const TrafanConversation *conv, gpointer r)
{
    ranking_add(conv, r);
}

static void
ranking_add_host(const TrafanHost *host, gpointer r)
{
    ranking_add(host, r);
}

static void
ranking_add_protocol(const TrafanProtocolCount *protocol, gpointer r)
{
    ranking_add(protocol, r);
}

/* The rows kept, best first. */
static void
ranking_sort(Ranking *r)
{
    g_ptr_array_sort_with_data(r->heap, compare_rank, (gpointer)r->kind);
}

/* ---- drawing the branches ----------------------------------------------- */

static void
branch_init(Branch *b, stats_tree *st, const char *title)
{
    b->title = title;
    b->node = stats_tree_create_node(st, title, 0, STAT_DT_INT, TRUE);
    if (b->drawn)
        g_hash_table_remove_all(b->drawn);
    else
        b->drawn = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    b->draw = 0;
}

static void
branch_clear(Branch *b)
{
    g_clear_pointer(&b->drawn, g_hash_table_destroy);
}

/* Set a child's count, remembering that this draw showed it. */
static void
branch_set(stats_tree *st, Branch *b, char *name, guint64 packets)
{
    set_stat_node(st, name, b->node, FALSE, (gint)MIN(packets, G_MAXINT));
    g_hash_table_insert(b->drawn, name, GUINT_TO_POINTER(b->draw));
}

/* The top rows of table under branch b, the rest in "(others)".  A child
 * shown by an earlier draw and no longer among the top is set to 0 (its
 * packets are in "(others)"), since a stats tree cannot drop a node. */
static void
draw_branch(GuiRun *run, Branch *b, Ranking *r, guint64 branch_total)
{
    guint64 shown = 0;
    GHashTableIter it;
    gpointer name, draw;

    ranking_sort(r);
    b->draw++;
    set_stat_node(run->st, b->title, 0, TRUE, (gint)MIN(branch_total, G_MAXINT));
    for (guint i = 0; i < r->heap->len; i++) {
        guint64 packets = r->kind->packets(r->heap->pdata[i]);

        branch_set(run->st, b, r->kind->name(r->heap->pdata[i]), packets);
        shown += packets;
    }
    if (r->total_packets > shown || g_hash_table_contains(b->drawn, OTHERS))
        branch_set(run->st, b, g_strdup(OTHERS), r->total_packets - shown);
    g_hash_table_iter_init(&it, b->drawn);
    while (g_hash_table_iter_next(&it, &name, &draw))
        if (GPOINTER_TO_UINT(draw) != b->draw)
            set_stat_node(run->st, name, b->node, FALSE, 0);
    g_ptr_array_unref(r->heap);
}

static void
show_new_flags(GuiRun *run)
{
    GPtrArray *fresh = trafan_detector_take_new(run->detector);

    for (guint i = 0; i < fresh->len; i++) {
        const TrafanFlag *f = g_ptr_array_index(fresh, i);
        char host[TRAFAN_ADDRSTRLEN];

        tick_stat_node(run->st, st_flags, 0, TRUE);
        if (run->flags_shown == run->rows) {
            run->flags_folded++;
            set_stat_node(run->st, OTHERS, run->flags.node, FALSE, (gint)MIN(run->flags_folded, G_MAXINT));
            continue;
        }
        /* The flag, and under it what it says and how to select its packets. */
        char *name = g_strdup_printf("%s %s (%s)", trafan_address_to_str(&f->host, host), f->rule,
                                     trafan_role_name(f->role));
        int node = tick_stat_node(run->st, name, run->flags.node, TRUE);
        tick_stat_node(run->st, f->summary ? f->summary : "", node, FALSE);
        tick_stat_node(run->st, f->filter ? f->filter : "", node, FALSE);
        run->flags_shown++;
        g_free(name);
    }
}

/* ---- the tap's life cycle --------------------------------------------------- */

static void
start_accumulators(GuiRun *run)
{
    TrafanConfig config;

    trafan_config_init(&config);
    trafan_detector_free(run->detector);
    trafan_stats_free(run->stats);
    run->detector = trafan_detector_new(&run->detect);
    trafan_detector_set_one_pass(run->detector);
    run->stats = trafan_stats_new(&config);
    run->ip_layers = 0;
    run->flags_shown = run->flags_folded = 0;
}

/* Wireshark redraws its windows from time to time and at the end of a pass:
 * the moment to bring the branches up to date, and to show flags whose
 * window is still open, such as a scan answered by the last packets. */
static void
gui_tap_draw(gpointer data)
{
    GuiRun *run = data;

    if (!run->detector)
        return;
    trafan_detector_peek(run->detector);
    show_new_flags(run);

    Ranking protocols = { &protocol_rows, run->rows, g_ptr_array_new(), 0 };
    Ranking hosts = { &host_rows, run->rows, g_ptr_array_new(), 0 };
    Ranking conversations = { &conversation_rows, run->rows, g_ptr_array_new(), 0 };
    trafan_stats_foreach_protocol(run->stats, ranking_add_protocol, &protocols);
    trafan_stats_foreach_host(run->stats, ranking_add_host, &hosts);
    trafan_stats_foreach_conversation(run->stats, ranking_add_conversation, &conversations);
    draw_branch(run, &run->protocols, &protocols, trafan_stats_packets(run->stats));
    draw_branch(run, &run->hosts, &hosts, run->ip_layers);
    draw_branch(run, &run->conversations, &conversations, run->ip_layers);
}

/* Wireshark reads the packets again (a reload, a new filter). */
static void
gui_tap_reset(gpointer data)
{
    start_accumulators(data);
}

static void
gui_tap_finish(gpointer data)
{
    GuiRun *run = data;

    trafan_detector_free(run->detector);
    trafan_stats_free(run->stats);
    trafan_detect_config_clear(&run->detect);
    branch_clear(&run->flags);
    branch_clear(&run->protocols);
    branch_clear(&run->hosts);
    branch_clear(&run->conversations);
    g_free(run);
}

/* The preferences, as -z trafan,stat takes them: tshark stops on a bad one;
 * Wireshark says which and runs on the defaults. */
static void
apply_preferences(GuiRun *run)
{
    GError *error = NULL;

    if (trafan_prefs_apply(&run->detect, &error))
        return;
    if (trafan_running_in_tshark())
        trafan_fail("invalid preference", error->message);
    report_failure("Traffic Analysis (trafan): invalid %s; using the defaults", error->message);
    g_error_free(error);
    trafan_detect_config_clear(&run->detect);
    trafan_detect_config_init(&run->detect);
}

static void
gui_init(stats_tree *st)
{
    static const TrafanTapCallbacks callbacks = { NULL, gui_tap_reset, gui_tap_draw, gui_tap_finish };
    GuiRun *run = g_hash_table_lookup(runs, st);
    char *failure = NULL;

    if (!run) {
        run = g_new0(GuiRun, 1);
        run->st = st;
        trafan_detect_config_init(&run->detect);
        apply_preferences(run);
        run->tap = trafan_tap_start(NULL, FALSE, &callbacks, run, &failure);
        g_free(failure);
        g_hash_table_insert(runs, st, run);
    }
    /* init also runs when Wireshark rebuilds the tree (a reload). */
    run->rows = trafan_prefs_tree_rows();
    start_accumulators(run);
    branch_init(&run->flags, st, st_flags);
    branch_init(&run->protocols, st, st_protocols);
    branch_init(&run->hosts, st, st_hosts);
    branch_init(&run->conversations, st, st_conversations);
}

static tap_packet_status
gui_packet(stats_tree *st, packet_info *pinfo, epan_dissect_t *edt _U_, const void *data _U_, tap_flags_t flags _U_)
{
    GuiRun *run = g_hash_table_lookup(runs, st);
    const TrafanPacket *pkt;

    if (!run || !run->tap)
        return TAP_PACKET_DONT_REDRAW;
    pkt = trafan_tap_frame(run->tap, pinfo);
    trafan_stats_add(run->stats, pkt);
    trafan_detector_add(run->detector, pkt);
    run->ip_layers += pkt->n_ip;
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
