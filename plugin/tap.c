/* tap.c — Wireshark's ip, ipv6, tcp, udp and frame taps as TrafanPacket
 * records, without the protocol tree.
 *
 * Wireshark calls the listeners of one frame in the order the taps were
 * queued.  The frame dissector queues the "frame" tap after every other
 * dissector, so the ip/ipv6/tcp/udp listeners fill the record and the frame
 * listener hands it on.  Quoted headers inside ICMP errors are not tapped
 * (pinfo->flags.in_error_pkt), exactly as Wireshark's own tables skip them.
 *
 * The highest layer is the last entry of pinfo->layers, the list that
 * frame.protocols prints.  With a protocol tree Wireshark also drops from it
 * a layer whose dissector added nothing to the tree (call_dissector_work()),
 * e.g. HTTP handed the first segment of a PDU still being reassembled; that
 * test needs the tree, so such frames (about 0.1% of frames in real traffic)
 * keep their upper layer unless the user asks for the tree (tree=1).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#define WS_BUILD_DLL
#include <stdio.h>
#include <string.h>

#include <wireshark.h>
#include <epan/packet.h>
#include <epan/proto_data.h>
#include <epan/tap.h>
#include <epan/dissectors/packet-ip.h>
#include <epan/dissectors/packet-tcp.h>
#include <epan/dissectors/packet-udp.h>
#include <epan/dissectors/packet-icmp.h>

#include "compat.h"
#include "tap.h"

#define NS_PER_S G_GINT64_CONSTANT(1000000000)

struct TrafanTap {
    TrafanTapCallbacks callbacks;
    gpointer           user_data;
    guint32            frame_num;   /* the frame `pkt` is being filled for */
    TrafanPacket       pkt;
    guint              n_listeners;
    GHashTable        *names;       /* proto id -> interned filter name */
    int                last_proto_id;   /* ... and the previous frame's */
    const char        *last_name;
    int                proto_icmp;
    int                proto_trafan;    /* our own post-dissector: never a highest layer */
    int                proto_icmpv6;
    TrafanTimeBase     time_base;
    gboolean           warned_layers;
};

/* Registration order.  The last listener registered carries reset, draw and
 * finish: the frame listener, or "udp" for a caller with a frame listener
 * of its own (trafan_tap_frame()). */
static const char *const tap_names[] = { "ip", "ipv6", "tcp", "udp", "frame" };

static TrafanPacket *
record_for(TrafanTap *tap, const packet_info *pinfo)
{
    if (tap->frame_num != pinfo->num) {
        tap->frame_num = pinfo->num;
        trafan_packet_clear(&tap->pkt);
    }
    return &tap->pkt;
}

static gboolean
address_from_ws(TrafanAddress *out, const address *addr)
{
    memset(out, 0, sizeof *out);
    if (addr->type == AT_IPv4 && addr->len == 4) {
        out->family = 4;
        memcpy(out->bytes, addr->data, 4);
        return TRUE;
    }
    if (addr->type == AT_IPv6 && addr->len == 16) {
        out->family = 6;
        memcpy(out->bytes, addr->data, 16);
        return TRUE;
    }
    return FALSE;
}

/* Wireshark's tables count every header; say once that trafan does not. */
static gboolean
layer_room(TrafanTap *tap, const packet_info *pinfo, guint n)
{
    if (n < TRAFAN_MAX_LAYERS)
        return TRUE;
    if (!tap->warned_layers) {
        tap->warned_layers = TRUE;
        fprintf(stderr, "tshark: trafan: warning: frame %u has more than %d nested IP, TCP or UDP headers; "
                "trafan counts the first %d of each (Wireshark's tables count them all)\n",
                pinfo->num, TRAFAN_MAX_LAYERS, TRAFAN_MAX_LAYERS);
    }
    return FALSE;
}

static void
add_ip_layer(TrafanTap *tap, const packet_info *pinfo, const address *src, const address *dst, guint8 proto)
{
    TrafanPacket *pkt = record_for(tap, pinfo);

    if (!layer_room(tap, pinfo, pkt->n_ip))
        return;
    TrafanIpLayer *ip = &pkt->ip[pkt->n_ip];
    if (address_from_ws(&ip->src, src) && address_from_ws(&ip->dst, dst)) {
        ip->ip_proto = proto;
        pkt->n_ip++;
    }
}

static tap_packet_status
ip_packet(void *data, packet_info *pinfo, epan_dissect_t *edt _U_, const void *header, tap_flags_t flags _U_)
{
    const ws_ip4 *ip = header;

    add_ip_layer(data, pinfo, &ip->ip_src, &ip->ip_dst, ip->ip_proto);
    return TAP_PACKET_DONT_REDRAW;
}

static tap_packet_status
ipv6_packet(void *data, packet_info *pinfo, epan_dissect_t *edt _U_, const void *header, tap_flags_t flags _U_)
{
    const ws_ip6 *ip6 = header;

    add_ip_layer(data, pinfo, &ip6->ip6_src, &ip6->ip6_dst, ip6->ip6_nxt);
    return TAP_PACKET_DONT_REDRAW;
}

static void
add_transport(TrafanTap *tap, const packet_info *pinfo, guint8 proto, guint16 flags,
              guint16 sport, guint16 dport, const address *src, const address *dst)
{
    TrafanPacket *pkt = record_for(tap, pinfo);

    if (!layer_room(tap, pinfo, pkt->n_transport))
        return;
    TrafanTransport *tp = &pkt->transport[pkt->n_transport];
    if (address_from_ws(&tp->src, src) && address_from_ws(&tp->dst, dst)) {
        tp->ip_proto = proto;
        tp->tcp_flags = flags;
        tp->src_port = sport;
        tp->dst_port = dport;
        pkt->n_transport++;
    }
}

static tap_packet_status
tcp_packet(void *data, packet_info *pinfo, epan_dissect_t *edt _U_, const void *header, tap_flags_t flags _U_)
{
    const tcp_info_t *tcp = header;

    add_transport(data, pinfo, 6, tcp->th_flags, tcp->th_sport, tcp->th_dport, &tcp->ip_src, &tcp->ip_dst);
    return TAP_PACKET_DONT_REDRAW;
}

static tap_packet_status
udp_packet(void *data, packet_info *pinfo, epan_dissect_t *edt _U_, const void *header, tap_flags_t flags _U_)
{
    const e_udphdr *udp = header;

    add_transport(data, pinfo, 17, 0, udp->uh_sport, udp->uh_dport, &udp->ip_src, &udp->ip_dst);
    return TAP_PACKET_DONT_REDRAW;
}

/* The last entry of frame.protocols, as a stable interned string; trafan's
 * own post-dissector, which marks flagged packets, is not the frame's. */
static const char *
highest_layer(TrafanTap *tap, const packet_info *pinfo)
{
    wmem_list_frame_t *last = wmem_list_tail(pinfo->layers);
    if (last && GPOINTER_TO_INT(wmem_list_frame_data(last)) == tap->proto_trafan)
        last = wmem_list_frame_prev(last);
    int proto_id = last && wmem_list_frame_prev(last) ? GPOINTER_TO_INT(wmem_list_frame_data(last)) : -1;
    const char *name;

    if (proto_id == tap->last_proto_id && tap->last_name)
        return tap->last_name;
    name = g_hash_table_lookup(tap->names, GINT_TO_POINTER(proto_id));
    if (!name) {
        name = g_intern_string(proto_id >= 0 ? proto_get_protocol_filter_name(proto_id) : "frame");
        g_hash_table_insert(tap->names, GINT_TO_POINTER(proto_id), (gpointer)name);
    }
    tap->last_proto_id = proto_id;
    tap->last_name = name;
    return name;
}

/* The ICMP dissectors keep type and code as per-frame data; the outermost
 * message is stored last and found first. */
static void
add_icmp(TrafanTap *tap, packet_info *pinfo, TrafanPacket *pkt)
{
    guint8 next = pkt->n_ip ? pkt->ip[pkt->n_ip - 1].ip_proto : 0;
    int proto = next == 1 ? tap->proto_icmp : next == 58 ? tap->proto_icmpv6 : -1;
    const icmp_info_t *icmp;

    if (proto < 0 || !(icmp = p_get_proto_data(wmem_file_scope(), pinfo, proto, 0)))
        return;
    pkt->icmp_family = next == 1 ? 4 : 6;
    pkt->icmp_type = icmp->type;
    pkt->icmp_code = icmp->code;
}

/* secs.nsecs in ns, held within +-TRAFAN_TIME_LIMIT_NS. */
static gint64
limited_ns(gint64 secs, gint64 nsecs)
{
    const gint64 limit_s = TRAFAN_TIME_LIMIT_NS / NS_PER_S - 1;

    if (secs > limit_s)
        return TRAFAN_TIME_LIMIT_NS;
    if (secs < -limit_s)
        return -TRAFAN_TIME_LIMIT_NS;
    return secs * NS_PER_S + nsecs;
}

/* A time as abs_ns counts it: from the epoch, or for a capture out of that
 * range (a pcapng shifted before 1970 reads as year 2541) from its first
 * frame's second, so that its times and durations stay exact. */
void
trafan_time_set(TrafanTimeBase *base, TrafanPacket *pkt, const nstime_t *abs, const nstime_t *rel)
{
    const gint64 limit_s = TRAFAN_TIME_LIMIT_NS / NS_PER_S - 1;
    gint64 secs = abs->secs;

    if (!base->chosen) {
        /* With a time reference, every slice of a capture takes the same base. */
        gint64 first_s = base->has_time_ref ? base->time_ref_ns / NS_PER_S : secs;
        base->chosen = TRUE;
        base->epoch_s = first_s > limit_s || first_s < -limit_s ? first_s : 0;
    }
    if (__builtin_sub_overflow(secs, base->epoch_s, &secs))
        secs = base->epoch_s > 0 ? G_MININT64 : G_MAXINT64;
    pkt->epoch_base_s = base->epoch_s;
    pkt->abs_ns = limited_ns(secs, abs->nsecs);
    if (base->has_time_ref)
        pkt->rel_ns = limited_ns(abs->secs - base->time_ref_ns / NS_PER_S, abs->nsecs - base->time_ref_ns % NS_PER_S);
    else
        pkt->rel_ns = limited_ns(rel->secs, rel->nsecs);
}

gboolean
trafan_link_group(const packet_info *pinfo)
{
    return pinfo->dl_dst.type == AT_ETHER && pinfo->dl_dst.len == 6 &&
           (((const guint8 *)pinfo->dl_dst.data)[0] & 1);      /* the group bit */
}

const TrafanPacket *
trafan_tap_frame(TrafanTap *tap, packet_info *pinfo)
{
    TrafanPacket *pkt = record_for(tap, pinfo);

    trafan_time_set(&tap->time_base, pkt, &pinfo->abs_ts, &pinfo->rel_ts);
    pkt->frame_len = pinfo->fd->pkt_len;
    pkt->protocol = highest_layer(tap, pinfo);
    pkt->link_group = trafan_link_group(pinfo);
    add_icmp(tap, pinfo, pkt);
    /* The next listener call, of whatever tap, starts a new record. */
    tap->frame_num = 0;
    return pkt;
}

static tap_packet_status
frame_packet(void *data, packet_info *pinfo, epan_dissect_t *edt _U_, const void *unused _U_, tap_flags_t flags _U_)
{
    TrafanTap *tap = data;

    tap->callbacks.packet(trafan_tap_frame(tap, pinfo), tap->user_data);
    return TAP_PACKET_REDRAW;
}

static void
life_reset(void *data)
{
    TrafanTap *tap = data;

    tap->frame_num = 0;
    tap->time_base.chosen = FALSE;
    trafan_packet_clear(&tap->pkt);
    if (tap->callbacks.reset)
        tap->callbacks.reset(tap->user_data);
}

static void
life_draw(void *data)
{
    TrafanTap *tap = data;

    if (tap->callbacks.draw)
        tap->callbacks.draw(tap->user_data);
}

static void
life_finish(void *data)
{
    TrafanTap *tap = data;

    if (tap->callbacks.finish)
        tap->callbacks.finish(tap->user_data);
    g_hash_table_destroy(tap->names);
    g_free(tap);
}

TrafanTap *
trafan_tap_start(const char *filter, gboolean need_tree, const TrafanTapCallbacks *callbacks,
                 gpointer user_data, char **error)
{
    static const tap_packet_cb packet_cbs[] = { ip_packet, ipv6_packet, tcp_packet, udp_packet, frame_packet };
    TrafanTap *tap = g_new0(TrafanTap, 1);

    tap->callbacks = *callbacks;
    tap->user_data = user_data;
    tap->names = g_hash_table_new(g_direct_hash, g_direct_equal);
    tap->proto_icmp = proto_get_id_by_filter_name("icmp");
    tap->proto_trafan = proto_get_id_by_filter_name("trafan");
    tap->proto_icmpv6 = proto_get_id_by_filter_name("icmpv6");

    tap->n_listeners = callbacks->packet ? G_N_ELEMENTS(tap_names) : G_N_ELEMENTS(tap_names) - 1;
    for (guint i = 0; i < tap->n_listeners; i++) {
        gboolean last = i + 1 == tap->n_listeners;  /* carries reset, draw and finish */
        guint flags = last && need_tree ? TL_REQUIRES_PROTO_TREE : TL_REQUIRES_NOTHING;
        GString *failure = register_tap_listener(tap_names[i], tap, filter, flags,
                                                 last ? life_reset : NULL, packet_cbs[i],
                                                 last ? life_draw : NULL,
                                                 last ? life_finish : NULL);
        if (failure) {
            *error = g_string_free(failure, FALSE);
            for (guint j = 0; j < i; j++)
                remove_tap_listener(tap);
            g_hash_table_destroy(tap->names);
            g_free(tap);
            return NULL;
        }
    }
    return tap;
}

void
trafan_tap_set_time_ref(TrafanTap *tap, gint64 time_ref_ns)
{
    tap->time_base.has_time_ref = TRUE;
    tap->time_base.time_ref_ns = time_ref_ns;
}

void
trafan_tap_stop(TrafanTap *tap)
{
    /* One removal per listener; the last listener's finish frees `tap`. */
    for (guint i = 0, n = tap->n_listeners; i < n; i++)
        remove_tap_listener(tap);
}
