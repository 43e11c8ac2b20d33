/* udp_flood — unanswered UDP toward one target at a high rate.
 *
 * Anchor: ntopng's flow flood (256 per second from one source) for one
 * flooder; for many sources, the volumetric and reflection floods that
 * DDoS mitigation sees (datagrams from amplifier service ports, and the
 * fragments that carry their large answers).  A service answering its
 * datagrams (DNS, QUIC, games, calls) is busy, not flooded: only sources
 * the target answers at most udp_flood_reply_ratio of count.  Many sources
 * make a flood when they are reflectors answering what the target never
 * asked, or throw their source ports away (most datagrams a new flow, as
 * flood tools send); steady senders to a service (telemetry to a
 * collector, VPN sessions) are judged one by one.  A broadcast
 * address or multicast group has no victim: one source storming it is
 * flagged, at its own rate (a broadcast storm is far below a video stream).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "flood.h"

typedef struct {
    double udp_flood_rate;
    double udp_flood_source_rate;
    double udp_flood_window;
    double udp_flood_reply_ratio;
    double udp_flood_dominance;
    guint  udp_flood_scan_ports;
    double udp_flood_broadcast_rate;
    double udp_flood_multicast_rate;
} Config;

static const TrafanDetectOption options[] = {
    TRAFAN_OPTION(Config, udp_flood_rate, DOUBLE, "UDP flood: rate (/s)",
        "UDP datagrams (and fragments) per second from many (spoofed or reflecting) sources toward one target that answers fewer than udp_flood_reply_ratio of them; default 100",
        "100", 0.001, 1e12),
    TRAFAN_OPTION(Config, udp_flood_source_rate, DOUBLE, "UDP flood: one-source rate (/s)",
        "The same from one dominant source; default 256, as ntopng's flow flood",
        "256", 0.001, 1e12),
    TRAFAN_OPTION(Config, udp_flood_window, DOUBLE, "UDP flood: window (s)",
        "Window over which the rate is measured; default 1 s, so that short bursts show their true rate",
        "1", 0.001, 3600),
    TRAFAN_OPTION(Config, udp_flood_reply_ratio, DOUBLE, "UDP flood: reply ratio",
        "Datagrams a target sends back to a source per datagram received, at or below which that source counts as unanswered; default 0.02, as request/response services, calls, games and QUIC (which acknowledges at least one packet in ten) answer far more often",
        "0.02", 0, 1),
    TRAFAN_OPTION(Config, udp_flood_dominance, DOUBLE, "UDP flood: dominant source share",
        "Share of the datagrams from the top source above which that source is flagged; below it the target is flagged with its sources summarised; default 0.5",
        "0.5", 0.01, 1),
    TRAFAN_OPTION(Config, udp_flood_scan_ports, UINT, "UDP flood: ports of a scan",
        "Distinct target ports from one dominant source that make the burst a port scan (port_scan's concern), not a flood; default 15",
        "15", 2, 131072),
    TRAFAN_OPTION(Config, udp_flood_broadcast_rate, DOUBLE, "UDP flood: broadcast rate (/s)",
        "Datagrams per second one source sends to the broadcast address that make a broadcast storm; default 100, where DHCP, NetBIOS and discovery protocols send a few",
        "100", 0.001, 1e12),
    TRAFAN_OPTION(Config, udp_flood_multicast_rate, DOUBLE, "UDP flood: multicast rate (/s)",
        "Datagrams per second one source sends to one multicast group that make a flood; default 10000, above multicast video (an HD stream is about 1000 per second)",
        "10000", 0.001, 1e12),
};

/* Key (target). */
/* Key (target); trafan_window_key holds the datagrams each pair of hosts
 * sent, in a sketch, so that a target's answers to each source are known
 * without a key per sender. */
typedef struct {
    guint64        in;          /* datagrams and header-less fragments received */
    guint64        ported_in;   /* received with a header */
    TrafanCounts  *pairs;       /* trafan_window_key only: datagrams per (sender, receiver) */
    TrafanDistinct sources;     /* datagrams per source */
    TrafanDistinct responders;  /* datagrams per source from service ports */
    TrafanDistinct flows;       /* (source, source port) pairs */
    guint64        link_group;  /* sent to a link-layer group address: a subnet broadcast */
    TrafanDistinct ports;       /* target ports hit: a flood or a scan? */
    gint64         first, last;
} Agg;

static const TrafanAggField fields[] = {
    TRAFAN_AGG_FIELD(COUNT, Agg, in),
    TRAFAN_AGG_FIELD(COUNT, Agg, ported_in),
    TRAFAN_AGG_FIELD(COUNTS, Agg, pairs),
    TRAFAN_AGG_FIELD(DISTINCT, Agg, sources),
    TRAFAN_AGG_FIELD(DISTINCT, Agg, responders),
    TRAFAN_AGG_FIELD(DISTINCT, Agg, flows),
    TRAFAN_AGG_FIELD(BITS, Agg, link_group),
    TRAFAN_AGG_FIELD(DISTINCT, Agg, ports),
    TRAFAN_AGG_FIELD(FIRST, Agg, first),
    TRAFAN_AGG_FIELD(LAST, Agg, last),
};
static const TrafanAggClass agg_class = TRAFAN_AGG_CLASS(Agg, fields);

static void
observe(TrafanRuleCtx *ctx, const TrafanEvent *ev)
{
    guint cap = trafan_exact_cap(ctx);
    gboolean ported = ev->kind == TRAFAN_EV_UDP;
    TrafanKey k = trafan_key(ev->dst, NULL, 0, 0);
    TrafanAddress port = trafan_port_item(0, ev->dport);

    TRAFAN_EACH_SLOT(ctx, &k, Agg, a) {
        a->in++;
        a->link_group |= ev->link_group;
        trafan_distinct_add(&a->sources, ev->src, 1, cap);
        if (ported) {
            trafan_distinct_add(&a->ports, &port, 1, cap);
            a->ported_in++;
            if (ev->udp_response)
                trafan_distinct_add(&a->responders, ev->src, 1, cap);
            TrafanAddress sport = trafan_port_item(17, ev->sport);
            TrafanAddress flow = trafan_pair_item(ev->src, &sport);
            trafan_distinct_add(&a->flows, &flow, 1, cap);
        }
        a->first = MIN(a->first, ev->t);
        a->last = MAX(a->last, ev->t);
    }
    if (ported) {
        TrafanAddress pair = trafan_pair_item(ev->src, ev->dst);
        TRAFAN_EACH_SLOT(ctx, &trafan_window_key, Agg, a)
            trafan_counts_add(&a->pairs, &pair, 1);
    }
}

static void
judge(TrafanRuleCtx *ctx, const TrafanKey *key, gconstpointer agg)
{
    const Agg *a = agg, *all = trafan_judged_agg(ctx, &trafan_window_key);
    const Config *c = ctx->config;
    if (key->a.family == 0 || all == NULL || a->in == 0)
        return;

    /* Per source: a source the target answers is a conversation (a client,
     * a player, a QUIC server), not a flooder; answers to sources past the
     * exact cap are not known, so those count as unanswered. */
    double noise = trafan_counts_noise(all->pairs);
    GPtrArray *tallies = trafan_distinct_tallies(&a->sources);
    g_ptr_array_sort(tallies, trafan_tally_by_count);
    GArray *flooders = g_array_new(FALSE, FALSE, sizeof(TrafanTally));
    guint64 answered = 0, unasked_responses = 0;
    for (guint i = 0; i < tallies->len; i++) {
        const TrafanTally *t = tallies->pdata[i];
        TrafanAddress pair = trafan_pair_item(&key->a, &t->item);
        double replies = trafan_counts_get(all->pairs, &pair) - noise;
        if (replies > c->udp_flood_reply_ratio * t->count) {
            answered += t->count;
            continue;
        }
        if (replies <= 0)       /* never asked: an answer to nothing */
            unasked_responses += trafan_distinct_get(&a->responders, &t->item);
        g_array_append_val(flooders, *t);
    }
    g_ptr_array_unref(tallies);

    guint64 excess = a->in - MIN(answered, a->in);
    guint64 ported = a->ported_in - MIN(answered, a->ported_in);
    gboolean reflection = ported && 2 * unasked_responses >= ported;
    /* Flood tools throw source addresses and ports away (most datagrams a
     * new flow); services and exporters keep theirs. */
    gboolean throwaway = 2 * trafan_distinct_count(&a->flows) >= ported;
    TrafanFlood f = {
        .target = &key->a, .sources = &a->sources, .ports = &a->ports,
        .top = (const TrafanTally *)flooders->data, .n_top = flooders->len,
        .many = reflection || throwaway,
        .packets = a->in, .excess = excess, .first = a->first, .last = a->last,
        .reflection = reflection,
        .what = "UDP datagrams",
        .match = key->a.family == 6 ? "udp && !icmpv6" : "ip.proto==17 && !icmp",
        .rate_many = c->udp_flood_rate, .rate_one = c->udp_flood_source_rate,
        .dominance = c->udp_flood_dominance, .scan_ports = c->udp_flood_scan_ports,
        .group = a->link_group != 0,
        .rate_group = (key->a.family == 4 && key->a.bytes[0] == 255) || (a->link_group && !trafan_is_group(&key->a))
                      ? c->udp_flood_broadcast_rate : c->udp_flood_multicast_rate,
    };
    trafan_flood_judge(ctx, &f);
    g_array_unref(flooders);
}

const TrafanRule trafan_rule_udp_flood = {
    .name = "udp_flood",
    .anchor = "ntopng flow flood (256/s from one source); volumetric and reflection DDoS",
    .options = options, .n_options = G_N_ELEMENTS(options), .config_size = sizeof(Config),
    .events = TRAFAN_EVENT_BIT(TRAFAN_EV_UDP) | TRAFAN_EVENT_BIT(TRAFAN_EV_UDP_FRAGMENT),
    .observe = observe,
    .source_peers = "destinations in all",
    .window_option = "udp_flood_window", .agg = &agg_class, .judge = judge,
};
