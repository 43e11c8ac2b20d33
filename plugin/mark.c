/* mark.c — the `trafan` post-dissector: each flag as fields on the packets
 * it is about (trafan.flag, trafan.rule, trafan.role, trafan.host, ...) and
 * as expert information, the way TCP analysis marks its findings.
 *
 * The first pass decides (on !pinfo->fd->visited): the packet's IP and
 * transport headers, read from the fields this post-dissector asks for,
 * go to a detector of its own.  When the sequential pass ends (Wireshark's
 * post-sequential cleanup; in Wireshark also once the file is read and
 * every frame decided) the detector is finished, so that later passes
 * (tshark -2, every refilter in Wireshark) mark the earlier packets of a
 * window too.  A packet is marked by a flag when it lies within the flag's
 * start and end and the flag's own display filter, compiled once, selects
 * it.  That filter needs its fields in the tree: a filter-only listener on
 * the "trafan" tap carries the union of the flags' filters, and Wireshark
 * primes every tap listener's fields before it dissects a packet.
 *
 * Detection costs as much as tshark's -z trafan,stat, so it runs only where
 * the fields can be used: always in Wireshark, and in tshark when the first
 * packet's tree refers to trafan (a -Y/-R filter naming a trafan field, -V,
 * PDML or JSON output) or a trafan tap asks for it (-z trafan,flags, a
 * -z trafan,stat filter on trafan's fields).  Otherwise the fields are
 * released after the first packet.  Without a flag a packet costs one
 * comparison.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#define WS_BUILD_DLL
#include <string.h>

#include <wireshark.h>
#include <epan/packet.h>
#include <epan/expert.h>
#include <epan/proto_data.h>
#include <epan/tap.h>
#include <epan/epan_dissect.h>
#include <epan/plugin_if.h>
#include <epan/dfilter/dfilter.h>
#include <epan/dissectors/packet-icmp.h>

#include "compat.h"
#include "detect.h"
#include "tap.h"
#include "trafan-plugin.h"

#define NS_PER_S G_GINT64_CONSTANT(1000000000)

static int proto_trafan = -1;
static int hf_flag = -1, hf_rule = -1, hf_role = -1, hf_host = -1, hf_summary = -1, hf_filter = -1;
static int hf_observed = -1, hf_threshold = -1, hf_window = -1, hf_start = -1, hf_end = -1;
static gint ett_trafan = -1, ett_flag = -1;
static int trafan_tap = -1;
static dissector_handle_t trafan_handle;

/* One expert item per rule, so that Expert Information groups the flags
 * by rule; severity by rule: floods are errors, probing, brute force and
 * beacons warnings, the volume rules notes.  A rule not listed here uses
 * the last entry. */
static struct {
    const char   *rule;
    const char   *name;         /* expert filter field */
    const char   *summary;
    int           severity;
    expert_field  ei;
} experts[] = {
    { "port_scan", "trafan.port_scan", "Suspicious host: port_scan", PI_WARN, EI_INIT },
    { "host_sweep", "trafan.host_sweep", "Suspicious host: host_sweep", PI_WARN, EI_INIT },
    { "syn_flood", "trafan.syn_flood", "Suspicious host: syn_flood", PI_ERROR, EI_INIT },
    { "icmp_flood", "trafan.icmp_flood", "Suspicious host: icmp_flood", PI_ERROR, EI_INIT },
    { "udp_flood", "trafan.udp_flood", "Suspicious host: udp_flood", PI_ERROR, EI_INIT },
    { "beacon", "trafan.beacon", "Suspicious host: beacon", PI_WARN, EI_INIT },
    { "brute_force", "trafan.brute_force", "Suspicious host: brute_force", PI_WARN, EI_INIT },
    { "packet_rate", "trafan.packet_rate", "Suspicious host: packet_rate", PI_NOTE, EI_INIT },
    { "bandwidth", "trafan.bandwidth", "Suspicious host: bandwidth", PI_NOTE, EI_INIT },
    { "bandwidth_spike", "trafan.bandwidth_spike", "Suspicious host: bandwidth_spike", PI_NOTE, EI_INIT },
    { NULL, "trafan.other", "Suspicious host", PI_WARN, EI_INIT },
};

/* What the first pass reads: the IP and transport headers. */
static struct {
    int ip, ip_src, ip_dst, ip_proto;
    int ipv6, ipv6_src, ipv6_dst, ipv6_nxt;
    int tcp, tcp_srcport, tcp_dstport, tcp_flags;
    int udp, udp_srcport, udp_dstport;
    int icmp, icmpv6;
} hf_in;

typedef struct {
    const TrafanFlag *flag;     /* owned by the detector */
    char             *label;    /* "port_scan source 192.168.1.7" */
    char             *filter_text;
    dfilter_t        *filter;   /* NULL: the filter does not compile */
    expert_field     *expert;
} Mark;

static struct {
    TrafanDetectConfig config;
    gboolean           undecided;   /* the pass's first packet is to come */
    gboolean           requested;   /* by a trafan tap (tshark -z trafan,flags) */
    TrafanDetector    *detector;    /* NULL: nothing to decide */
    GPtrArray         *marks;       /* Mark *, in the order decided */
    GHashTable        *mark_of;     /* TrafanFlag * -> Mark * */
    gboolean           finished;    /* the first pass is over */
    gboolean           live;        /* packets arrive as they happen */
    gint64             next_peek_ns;
    guint32            decided_frames;  /* frames the first pass has seen */
    TrafanTimeBase     time_base;   /* times as the detector counts them */
    gboolean           gui;         /* inside Wireshark's GUI */
    guint              watch;       /* GUI: the source that waits for the pass's end */
    char              *primer_filter;   /* the listener's filter, NULL: none */
    TrafanPacket       pkt;
} state;

/* ---- the first pass: packets to the detector ----------------------------- */

typedef struct {
    TrafanPacket  *pkt;
    TrafanAddress  src, dst;        /* of the innermost IP header so far */
} Reader;

static gboolean
read_address(const field_info *fi, TrafanAddress *out)
{
    memset(out, 0, sizeof *out);
    if (!fi->ds_tvb || (fi->length != 4 && fi->length != 16))
        return FALSE;
    out->family = fi->length == 4 ? 4 : 6;
    tvb_memcpy(fi->ds_tvb, out->bytes, fi->start, fi->length);
    return TRUE;
}

static guint
read_uint(const field_info *fi)
{
    return fi->length == 1 ? trafan_tvb_get_u8(fi->ds_tvb, fi->start) : tvb_get_ntohs(fi->ds_tvb, fi->start);
}

typedef struct {
    const field_info *src, *dst, *next, *sport, *dport, *flags;
} Header;

static void
header_field(proto_node *node, gpointer data)
{
    Header *h = data;
    const field_info *fi = PNODE_FINFO(node);
    int id = fi ? fi->hfinfo->id : -1;

    if (id < 0)
        return;
    if (id == hf_in.ip_src || id == hf_in.ipv6_src)
        h->src = fi;
    else if (id == hf_in.ip_dst || id == hf_in.ipv6_dst)
        h->dst = fi;
    else if (id == hf_in.ip_proto || id == hf_in.ipv6_nxt)
        h->next = fi;
    else if (id == hf_in.tcp_srcport || id == hf_in.udp_srcport)
        h->sport = fi;
    else if (id == hf_in.tcp_dstport || id == hf_in.udp_dstport)
        h->dport = fi;
    else if (id == hf_in.tcp_flags)
        h->flags = fi;
}

/* One top-level protocol item.  Headers quoted inside an ICMP error hang
 * under the ICMP item, not at the top, and so are skipped as Wireshark's
 * own taps skip them. */
static void
read_layer(proto_node *node, gpointer data)
{
    Reader *r = data;
    TrafanPacket *pkt = r->pkt;
    const field_info *fi = PNODE_FINFO(node);
    int id = fi ? fi->hfinfo->id : -1;
    Header h = { 0 };

    if (id != hf_in.ip && id != hf_in.ipv6 && id != hf_in.tcp && id != hf_in.udp)
        return;
    proto_tree_children_foreach(node, header_field, &h);
    if (id == hf_in.ip || id == hf_in.ipv6) {
        TrafanIpLayer *ip = &pkt->ip[pkt->n_ip];
        if (pkt->n_ip < TRAFAN_MAX_LAYERS && h.src && h.dst && h.next
            && read_address(h.src, &ip->src) && read_address(h.dst, &ip->dst)) {
            ip->ip_proto = (guint8)read_uint(h.next);
            r->src = ip->src;
            r->dst = ip->dst;
            pkt->n_ip++;
        }
    } else if (pkt->n_transport < TRAFAN_MAX_LAYERS && h.sport && h.dport && r->src.family) {
        TrafanTransport *tp = &pkt->transport[pkt->n_transport++];
        tp->ip_proto = id == hf_in.tcp ? 6 : 17;
        tp->tcp_flags = h.flags ? read_uint(h.flags) & 0x0FFF : 0;
        tp->src_port = (guint16)read_uint(h.sport);
        tp->dst_port = (guint16)read_uint(h.dport);
        tp->src = r->src;
        tp->dst = r->dst;
    }
}

/* The outermost ICMP message, kept by the ICMP dissectors as per-frame data
 * (as tap.c reads it). */
static void
read_icmp(packet_info *pinfo, TrafanPacket *pkt)
{
    guint8 next = pkt->n_ip ? pkt->ip[pkt->n_ip - 1].ip_proto : 0;
    int proto = next == 1 ? hf_in.icmp : next == 58 ? hf_in.icmpv6 : -1;
    const icmp_info_t *icmp;

    if (proto < 0 || !(icmp = p_get_proto_data(wmem_file_scope(), pinfo, proto, 0)))
        return;
    pkt->icmp_family = next == 1 ? 4 : 6;
    pkt->icmp_type = icmp->type;
    pkt->icmp_code = icmp->code;
}

/* ---- flags -------------------------------------------------------------- */

static expert_field *
expert_for(const char *rule)
{
    guint i = 0;

    while (experts[i].rule && strcmp(experts[i].rule, rule) != 0)
        i++;
    return &experts[i].ei;
}

static void
mark_free(gpointer data)
{
    Mark *m = data;

    g_free(m->label);
    g_free(m->filter_text);
    if (m->filter)
        dfilter_free(m->filter);
    g_free(m);
}

/* The filter-only listener: Wireshark primes its fields before each packet. */
static tap_packet_status
primer_packet(void *tapdata _U_, packet_info *pinfo _U_, epan_dissect_t *edt _U_, const void *data _U_,
              tap_flags_t flags _U_)
{
    return TAP_PACKET_DONT_REDRAW;
}

static void
update_primer(void)
{
    GString *filter = g_string_new(NULL);
    GString *failure;

    for (guint i = 0; i < state.marks->len; i++) {
        const Mark *m = g_ptr_array_index(state.marks, i);
        if (m->filter)
            g_string_append_printf(filter, "%s(%s)", filter->len ? " || " : "", m->filter_text);
    }
    if (filter->len == 0 || g_strcmp0(filter->str, state.primer_filter) == 0) {
        g_string_free(filter, TRUE);
        return;
    }
    failure = state.primer_filter ? set_tap_dfilter(&state, filter->str)
                                  : register_tap_listener("trafan", &state, filter->str, TL_IS_DISSECTOR_HELPER,
                                                          NULL, primer_packet, NULL, NULL);
    if (failure) {
        ws_warning("trafan: the flags' filters do not compile together: %s", failure->str);
        g_string_free(failure, TRUE);
        g_string_free(filter, TRUE);
        return;
    }
    g_free(state.primer_filter);
    state.primer_filter = g_string_free(filter, FALSE);
}

/* A new flag, or one whose filter changed as its window grew. */
static void
track(const TrafanFlag *f)
{
    Mark *m = g_hash_table_lookup(state.mark_of, f);
    char host[TRAFAN_ADDRSTRLEN];
    const char *text;
    char *error = NULL;

    if (!m) {
        m = g_new0(Mark, 1);
        m->flag = f;
        m->label = g_strdup_printf("%s %s %s", f->rule, trafan_role_name(f->role),
                                   trafan_address_to_str(&f->host, host));
        m->expert = expert_for(f->rule);
        g_ptr_array_add(state.marks, m);
        g_hash_table_insert(state.mark_of, (gpointer)f, m);
    }
    text = f->filter ? f->filter : "";
    if (m->filter_text && strcmp(m->filter_text, text) == 0)
        return;
    g_free(m->filter_text);
    m->filter_text = g_strdup(text);
    if (m->filter)
        dfilter_free(m->filter);
    m->filter = NULL;
    if (*m->filter_text && !trafan_dfilter_compile(m->filter_text, &m->filter, &error)) {
        ws_warning("trafan: the filter of %s does not compile: %s", m->label, error);
        g_free(error);
    }
}

static void
track_new(void)
{
    GPtrArray *fresh = trafan_detector_take_new(state.detector);

    for (guint i = 0; i < fresh->len; i++)
        track(g_ptr_array_index(fresh, i));
    if (fresh->len)
        update_primer();
}

static void *
display_filter_of(capture_file *cf, void *data _U_)
{
    return cf && cf->dfilter ? g_strdup(cf->dfilter) : NULL;
}

/* Wireshark shows the packets a display filter selected during the pass;
 * one that names a trafan field is applied again to the finished flags.
 * Wireshark skips a filter equal to the current one (plugin_if cannot
 * force it), so the text gains or loses a trailing space. */
static gboolean
refilter(gpointer data _U_)
{
    char *filter = plugin_if_get_capture_file(display_filter_of, NULL);

    if (filter && strstr(filter, "trafan")) {
        gsize len = strlen(filter);
        char *again = len && filter[len - 1] == ' ' ? g_strndup(filter, len - 1) : g_strconcat(filter, " ", NULL);
        plugin_if_apply_filter(again, TRUE);
        g_free(again);
    }
    g_free(filter);
    return G_SOURCE_REMOVE;
}

/* End of the sequential pass: every flag with its final window. */
static void
finish_pass(void)
{
    const GPtrArray *flags;

    if (!state.detector || state.finished)
        return;
    state.finished = TRUE;
    flags = trafan_detector_finish(state.detector);
    for (guint i = 0; i < flags->len; i++)
        track(g_ptr_array_index(flags, i));
    update_primer();
    if (state.gui)
        g_idle_add(refilter, NULL);
}

static void
decide(packet_info *pinfo, proto_tree *tree)
{
    Reader r = { &state.pkt, { 0 }, { 0 } };
    TrafanPacket *pkt = &state.pkt;

    trafan_packet_clear(pkt);
    trafan_time_set(&state.time_base, pkt, &pinfo->abs_ts, &pinfo->rel_ts);
    pkt->frame_len = pinfo->fd->pkt_len;
    pkt->link_group = trafan_link_group(pinfo);
    proto_tree_children_foreach(tree, read_layer, &r);
    read_icmp(pinfo, pkt);
    trafan_detector_add(state.detector, pkt);
    state.decided_frames++;

    /* Decisions are collected once per second of capture time; while
     * capturing, also on windows still open (as tshark's live alerts). */
    if (pkt->abs_ns >= state.next_peek_ns) {
        if (state.next_peek_ns == G_MININT64)
            state.live = ABS(g_get_real_time() * 1000 - pkt->abs_ns) < 300 * NS_PER_S;
        state.next_peek_ns = pkt->abs_ns + NS_PER_S;
        if (state.live)
            trafan_detector_peek(state.detector);
        track_new();
    }
}

/* ---- later passes: the marks -------------------------------------------- */

/* A detector time (ns from the capture's epoch base) as Wireshark's. */
static nstime_t
absolute_time(gint64 ns)
{
    nstime_t t = NSTIME_INIT_SECS_NSECS(ns / NS_PER_S, ns % NS_PER_S);

    if (t.nsecs < 0) {
        t.nsecs += NS_PER_S;
        t.secs--;
    }
    t.secs += state.time_base.epoch_s;
    return t;
}

/* A frame's time as the detector counts it. */
static gint64
detector_time(packet_info *pinfo)
{
    trafan_time_set(&state.time_base, &state.pkt, &pinfo->abs_ts, &pinfo->rel_ts);
    return state.pkt.abs_ns;
}

static void
annotate(tvbuff_t *tvb, packet_info *pinfo, proto_tree *tree, proto_item **top, const Mark *m)
{
    const TrafanFlag *f = m->flag;
    char host[TRAFAN_ADDRSTRLEN];
    nstime_t start = absolute_time(f->start_ns), end = absolute_time(f->end_ns);
    proto_tree *sub;
    proto_item *item;

    if (!*top) {
        *top = proto_tree_add_item(tree, proto_trafan, tvb, 0, 0, ENC_NA);
        proto_item_set_generated(*top);
        proto_item_append_text(*top, ": %s", m->label);
    } else {
        proto_item_append_text(*top, ", %s", m->label);
    }
    sub = proto_item_add_subtree(*top, ett_trafan);
    item = proto_tree_add_string(sub, hf_flag, tvb, 0, 0, m->label);
    proto_item_set_generated(item);
    sub = proto_item_add_subtree(item, ett_flag);
    proto_item_set_generated(proto_tree_add_string(sub, hf_rule, tvb, 0, 0, f->rule));
    proto_item_set_generated(proto_tree_add_string(sub, hf_role, tvb, 0, 0, trafan_role_name(f->role)));
    proto_item_set_generated(proto_tree_add_string(sub, hf_host, tvb, 0, 0, trafan_address_to_str(&f->host, host)));
    proto_item_set_generated(proto_tree_add_double(sub, hf_observed, tvb, 0, 0, f->observed));
    proto_item_set_generated(proto_tree_add_double(sub, hf_threshold, tvb, 0, 0, f->threshold));
    proto_item_set_generated(proto_tree_add_double(sub, hf_window, tvb, 0, 0, (double)f->window_ns / NS_PER_S));
    proto_item_set_generated(proto_tree_add_time(sub, hf_start, tvb, 0, 0, &start));
    proto_item_set_generated(proto_tree_add_time(sub, hf_end, tvb, 0, 0, &end));
    proto_item_set_generated(proto_tree_add_string(sub, hf_summary, tvb, 0, 0, f->summary ? f->summary : ""));
    proto_item_set_generated(proto_tree_add_string(sub, hf_filter, tvb, 0, 0, m->filter_text));
    expert_add_info_format(pinfo, item, m->expert, "%s: %s", m->label, f->summary ? f->summary : "");
}

/* Within the window, and selected by the flag's own filter.  Before the
 * pass ends a flag's window may still grow: up to one window past its
 * last known packet. */
static gboolean
selects(const Mark *m, gint64 t, proto_tree *tree)
{
    const TrafanFlag *f = m->flag;
    gint64 end = state.finished ? f->end_ns : f->end_ns + MAX(f->window_ns, NS_PER_S);
    epan_dissect_t edt;

    if (t < f->start_ns || t > end || !m->filter)
        return FALSE;
    memset(&edt, 0, sizeof edt);
    edt.tree = tree;
    return dfilter_apply_edt(m->filter, &edt);
}

static void want_input_fields(gboolean want);

/* Wireshark's GUI answers plugin_if's status request; tshark does not. */
static gboolean
in_gui(void)
{
    ws_info_t *info = NULL;

    plugin_if_get_ws_info(&info);
    return info && info->ws_info_supported;
}

/* Wireshark runs the post-sequential cleanup after reading a file but not
 * after redissecting it for changed preferences: the first pass is over
 * once the file is read and every frame has been decided. */
static gboolean
first_pass_over(void)
{
    ws_info_t *info = NULL;

    plugin_if_get_ws_info(&info);
    return info && info->ws_info_supported && info->cf_state == FILE_READ_DONE
           && state.decided_frames >= info->cf_count;
}

/* GUI: the first pass ends when the file is read and every frame decided. */
static gboolean
watch_first_pass(gpointer data _U_)
{
    if (state.detector && !state.finished && !first_pass_over())
        return G_SOURCE_CONTINUE;
    state.watch = 0;
    finish_pass();
    return G_SOURCE_REMOVE;
}

/* Does tshark's command line name trafan's fields, or print whole trees
 * (-V, -T pdml/json/ek), before the first packet says so?  Where the
 * command line cannot be read, assume it does. */
static gboolean
fields_on_command_line(void)
{
    char *args = NULL;
    gsize len = 0;
    gboolean named = FALSE;

    if (!g_file_get_contents("/proc/self/cmdline", &args, &len, NULL))
        return TRUE;
    const char *previous = "";
    for (gsize i = 0; i < len; i += strlen(args + i) + 1) {
        const char *a = args + i;
        gboolean preference = strcmp(previous, "-o") == 0 || g_str_has_prefix(a, "-o");
        if ((strstr(a, "trafan.") && !preference) || strcmp(a, "-V") == 0 || strcmp(a, "pdml") == 0 ||
            strcmp(a, "json") == 0 || strcmp(a, "jsonraw") == 0 || strcmp(a, "ek") == 0)
            named = TRUE;
        previous = a;
    }
    g_free(args);
    return named;
}

/* On the pass's first packet: is anyone going to look at the fields? */
static void
start_pass(proto_tree *tree)
{
    GError *error = NULL;

    state.undecided = FALSE;
    state.gui = in_gui();
    if (!state.requested && !state.gui && !proto_field_is_referenced(tree, proto_trafan)) {
        want_input_fields(FALSE);
        return;
    }
    want_input_fields(TRUE);
    trafan_detect_config_init(&state.config);
    if (!trafan_prefs_apply(&state.config, &error)) {
        /* Reported by Wireshark's preference checks; run on defaults. */
        g_error_free(error);
        trafan_detect_config_clear(&state.config);
        trafan_detect_config_init(&state.config);
    }
    state.detector = trafan_detector_new(&state.config);
    trafan_detector_set_one_pass(state.detector);
    state.next_peek_ns = G_MININT64;
    state.decided_frames = 0;
    if (state.gui)
        state.watch = g_timeout_add(250, watch_first_pass, NULL);
}

static int
dissect_trafan(tvbuff_t *tvb, packet_info *pinfo, proto_tree *tree, void *data _U_)
{
    proto_item *top = NULL;
    gint64 t;

    if (!tree)
        return 0;
    if (!pinfo->fd->visited && !state.finished) {
        if (state.undecided)
            start_pass(tree);
        if (state.detector)
            decide(pinfo, tree);
    }
    if (state.marks->len == 0)
        return 0;

    t = detector_time(pinfo);
    for (guint i = 0; i < state.marks->len; i++) {
        const Mark *m = g_ptr_array_index(state.marks, i);
        if (selects(m, t, tree)) {
            annotate(tvb, pinfo, tree, &top, m);
            tap_queue_packet(trafan_tap, pinfo, m->flag);
        }
    }
    return top ? tvb_captured_length(tvb) : 0;
}

/* ---- life cycle ----------------------------------------------------------- */

static void
forget(void)
{
    if (state.watch)
        g_source_remove(state.watch);
    state.watch = 0;
    if (state.primer_filter)
        remove_tap_listener(&state);
    g_clear_pointer(&state.primer_filter, g_free);
    g_ptr_array_set_size(state.marks, 0);
    g_hash_table_remove_all(state.mark_of);
    g_clear_pointer(&state.detector, trafan_detector_free);
    trafan_detect_config_clear(&state.config);
    state.finished = FALSE;
    state.time_base.chosen = FALSE;
}

/* Asked of the first pass only: so a tree is built and holds them. */
static void
want_input_fields(gboolean want)
{
    const int *ids = &hf_in.ip;
    GArray *wanted = NULL;

    if (want) {
        wanted = g_array_new(FALSE, FALSE, sizeof(int));
        for (guint i = 0; i < sizeof hf_in / sizeof(int); i++)
            if (ids[i] > 0 && &ids[i] != &hf_in.icmp && &ids[i] != &hf_in.icmpv6)
                g_array_append_val(wanted, ids[i]);
    }
    set_postdissector_wanted_hfids(trafan_handle, wanted);
}

/* A new file, a reload, changed preferences: start afresh.  tshark decides
 * once, before the first packet, whether to build protocol trees, and
 * wanted fields make it build them for every packet: so they are asked for
 * only where they will be used (Wireshark, a trafan tap), and otherwise
 * from the second packet of a run whose display filter names trafan's
 * fields (which builds trees anyway). */
static void
mark_init(void)
{
    forget();
    state.undecided = proto_is_protocol_enabled(find_protocol_by_id(proto_trafan));
    /* Asked of the whole first pass, its first packet included (a scan
     * starting at frame 1), but only where the fields will be read: tshark
     * decides once, before that packet, to build protocol trees for every
     * packet when a post-dissector wants fields, which costs any run with
     * the plugin installed 1.27 times the dissection. */
    want_input_fields(state.undecided && (state.requested || in_gui() || fields_on_command_line()));
}

void
trafan_mark_register(void)
{
    static hf_register_info hf[] = {
        { &hf_flag, { "Flag", "trafan.flag", FT_STRING, BASE_NONE, NULL, 0,
                      "A suspicious-host flag this packet belongs to: rule, role and host", HFILL } },
        { &hf_rule, { "Rule", "trafan.rule", FT_STRING, BASE_NONE, NULL, 0,
                      "The rule that raised the flag (port_scan, syn_flood, ...)", HFILL } },
        { &hf_role, { "Role", "trafan.role", FT_STRING, BASE_NONE, NULL, 0,
                      "The flagged host's role: source or target", HFILL } },
        { &hf_host, { "Host", "trafan.host", FT_STRING, BASE_NONE, NULL, 0, "The flagged host", HFILL } },
        { &hf_observed, { "Observed", "trafan.observed", FT_DOUBLE, BASE_NONE, NULL, 0,
                          "What the rule measured", HFILL } },
        { &hf_threshold, { "Threshold", "trafan.threshold", FT_DOUBLE, BASE_NONE, NULL, 0,
                           "What it was measured against", HFILL } },
        { &hf_window, { "Window (s)", "trafan.window", FT_DOUBLE, BASE_NONE, NULL, 0,
                        "The rule's window in seconds (0: the whole capture)", HFILL } },
        { &hf_start, { "Start", "trafan.start", FT_ABSOLUTE_TIME, ABSOLUTE_TIME_LOCAL, NULL, 0,
                       "The flag's first packet", HFILL } },
        { &hf_end, { "End", "trafan.end", FT_ABSOLUTE_TIME, ABSOLUTE_TIME_LOCAL, NULL, 0,
                     "The flag's last packet", HFILL } },
        { &hf_summary, { "Summary", "trafan.summary", FT_STRING, BASE_NONE, NULL, 0,
                         "What the flag says", HFILL } },
        { &hf_filter, { "Filter", "trafan.filter", FT_STRING, BASE_NONE, NULL, 0,
                        "The display filter that selects the flag's packets", HFILL } },
    };
    static gint *ett[] = { &ett_trafan, &ett_flag };
    static ei_register_info ei[G_N_ELEMENTS(experts)];

    for (guint i = 0; i < G_N_ELEMENTS(experts); i++)
        ei[i] = (ei_register_info){ &experts[i].ei,
                                    { experts[i].name, PI_SECURITY, experts[i].severity, experts[i].summary, EXPFILL } };

    proto_trafan = proto_register_protocol("Traffic Analysis flags (trafan)", "trafan", "trafan");
    proto_register_field_array(proto_trafan, hf, array_length(hf));
    proto_register_subtree_array(ett, array_length(ett));
    expert_register_field_array(expert_register_protocol(proto_trafan), ei, array_length(ei));
    trafan_tap = register_tap("trafan");
    trafan_menu_register(proto_trafan);

    state.marks = g_ptr_array_new_with_free_func(mark_free);
    state.mark_of = g_hash_table_new(g_direct_hash, g_direct_equal);
    trafan_handle = create_dissector_handle(dissect_trafan, proto_trafan);
    register_postdissector(trafan_handle);
    register_init_routine(mark_init);
    register_postseq_cleanup_routine(finish_pass);
    register_cleanup_routine(forget);
}

void
trafan_mark_handoff(void)
{
    static const struct { int *id; const char *name; } inputs[] = {
        { &hf_in.ip, "ip" }, { &hf_in.ip_src, "ip.src" }, { &hf_in.ip_dst, "ip.dst" },
        { &hf_in.ip_proto, "ip.proto" },
        { &hf_in.ipv6, "ipv6" }, { &hf_in.ipv6_src, "ipv6.src" }, { &hf_in.ipv6_dst, "ipv6.dst" },
        { &hf_in.ipv6_nxt, "ipv6.nxt" },
        { &hf_in.tcp, "tcp" }, { &hf_in.tcp_srcport, "tcp.srcport" }, { &hf_in.tcp_dstport, "tcp.dstport" },
        { &hf_in.tcp_flags, "tcp.flags" },
        { &hf_in.udp, "udp" }, { &hf_in.udp_srcport, "udp.srcport" }, { &hf_in.udp_dstport, "udp.dstport" },
        { &hf_in.icmp, "icmp" }, { &hf_in.icmpv6, "icmpv6" },
    };

    for (guint i = 0; i < G_N_ELEMENTS(inputs); i++)
        *inputs[i].id = proto_registrar_get_id_byname(inputs[i].name);
}

gint64
trafan_mark_reference_ns(packet_info *pinfo)
{
    detector_time(pinfo);
    return state.pkt.abs_ns - state.pkt.rel_ns;
}

void
trafan_mark_request(void)
{
    state.requested = TRUE;
}

int
trafan_mark_protocol(void)
{
    return proto_trafan;
}
