/* udp_flood — unanswered UDP toward one target at a high rate.
 *
 * Anchor: ntopng's flow flood (256 per second from one source) for one
 * flooder; for many sources, the volumetric and reflection floods that
 * DDoS mitigation sees (datagrams from amplifier service ports, and the
 * fragments that carry their large answers).  A service answering its
 * datagrams (DNS, QUIC, games, calls) is busy, not flooded: only traffic
 * the target answers at most udp_flood_reply_ratio of counts.  A broadcast
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
        "UDP replies per received datagram at or below which UDP traffic counts as unanswered; default 0.1, as request/response services and QUIC answer far more often",
        "0.1", 0, 1),
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
typedef struct {
    guint64        in;          /* datagrams and header-less fragments received */
    guint64        out;         /* datagrams the target sent */
    guint64        ported_in;   /* received with a header */
    guint64        response_in; /* ... of which from service ports (reflection) */
    TrafanDistinct sources;
    TrafanDistinct ports;       /* target ports hit: a flood or a scan? */
    gint64         first, last;
} Agg;

static const TrafanAggField fields[] = {
    TRAFAN_AGG_FIELD(COUNT, Agg, in),
    TRAFAN_AGG_FIELD(COUNT, Agg, out),
    TRAFAN_AGG_FIELD(COUNT, Agg, ported_in),
    TRAFAN_AGG_FIELD(COUNT, Agg, response_in),
    TRAFAN_AGG_FIELD(DISTINCT, Agg, sources),
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
        trafan_distinct_add(&a->sources, ev->src, 1, cap);
        if (ported) {
            trafan_distinct_add(&a->ports, &port, 1, cap);
            a->ported_in++;
            a->response_in += ev->udp_response;
        }
        a->first = MIN(a->first, ev->t);
        a->last = MAX(a->last, ev->t);
    }
    if (ported) {
        TrafanKey out = trafan_key(ev->src, NULL, 0, 0);
        TRAFAN_EACH_SLOT(ctx, &out, Agg, a)
            a->out++;
    }
}

static void
judge(TrafanRuleCtx *ctx, const TrafanKey *key, gconstpointer agg)
{
    const Agg *a = agg;
    const Config *c = ctx->config;

    /* A service answering its datagrams is busy, not flooded. */
    if (a->in == 0 || a->out > c->udp_flood_reply_ratio * a->in)
        return;
    TrafanFlood f = {
        .target = &key->a, .sources = &a->sources, .ports = &a->ports,
        .packets = a->in, .excess = a->in, .first = a->first, .last = a->last,
        .reflection = a->ported_in && 2 * a->response_in >= a->ported_in,
        .what = "UDP datagrams",
        .match = key->a.family == 6 ? "udp && !icmpv6" : "ip.proto==17 && !icmp",
        .rate_many = c->udp_flood_rate, .rate_one = c->udp_flood_source_rate,
        .dominance = c->udp_flood_dominance, .scan_ports = c->udp_flood_scan_ports,
        .rate_group = key->a.family == 4 && key->a.bytes[0] == 255 ? c->udp_flood_broadcast_rate
                                                                   : c->udp_flood_multicast_rate,
    };
    trafan_flood_judge(ctx, &f);
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
