/* port_scan — one source probing many ports of one target.
 *
 * Anchor: Zeek's scan.zeek (15 ports in 5 minutes).  Probes are SYNs the
 * target never accepts (no SYN-ACK on that port), FIN/NULL/Xmas segments,
 * bare ACKs and FIN-ACKs (nmap -sA and -sM), seen by the bare RSTs that
 * refuse them, and UDP datagrams to a port; a port that accepted a
 * connection is a service in use, not a probe.  No TCP stack sends FIN/NULL/Xmas outside a
 * connection, so a few of those make a scan by themselves.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "rule.h"

typedef struct {
    guint  port_scan_ports;
    guint  port_scan_stealth_ports;
    double port_scan_window;
} Config;

static const TrafanDetectOption options[] = {
    TRAFAN_OPTION(Config, port_scan_ports, UINT, "Port scan: ports",
        "Distinct unanswered or refused ports of one target that make a port scan; default 15, as Zeek's scan.zeek",
        "15", 2, 131072),
    TRAFAN_OPTION(Config, port_scan_stealth_ports, UINT, "Port scan: stealth ports",
        "Distinct ports probed with FIN, NULL or Xmas segments (no SYN, no ACK) that make a scan by themselves; default 3, as no TCP stack sends those outside a connection",
        "3", 1, 65536),
    TRAFAN_OPTION(Config, port_scan_window, DOUBLE, "Port scan: window (s)",
        "Window for port_scan; default 300 s, as Zeek's scan.zeek, so that slow scans count too",
        "300", 0.001, 86400),
};

enum { PROBE_SYN = 1, PROBE_STEALTH = 2, PROBE_UDP = 4, PROBE_ACK = 8 };

/* Key (scanner, target). */
typedef struct {
    TrafanDistinct ports;       /* probed ports */
    TrafanDistinct stealth;     /* probed with FIN/NULL/Xmas */
    TrafanDistinct accepted;    /* answered with SYN-ACK: connections, not probes */
    guint64        kinds;
    gint64         first, last; /* of the probes */
} Agg;

static const TrafanAggField fields[] = {
    TRAFAN_AGG_FIELD(DISTINCT, Agg, ports),
    TRAFAN_AGG_FIELD(DISTINCT, Agg, stealth),
    TRAFAN_AGG_FIELD(DISTINCT, Agg, accepted),
    TRAFAN_AGG_FIELD(BITS, Agg, kinds),
    TRAFAN_AGG_FIELD(FIRST, Agg, first),
    TRAFAN_AGG_FIELD(LAST, Agg, last),
};
static const TrafanAggClass agg_class = TRAFAN_AGG_CLASS(Agg, fields);

static void
probe(TrafanRuleCtx *ctx, const TrafanEvent *ev, const TrafanAddress *scanner,
      const TrafanAddress *target, guint16 port, guint kind)
{
    TrafanKey k = trafan_key(scanner, target, 0, 0);
    TrafanAddress item = trafan_port_item(ev->proto, port);
    guint cap = trafan_exact_cap(ctx);

    TRAFAN_EACH_SLOT(ctx, &k, Agg, a) {
        if (kind == 0) {        /* the target accepted a connection on port */
            trafan_distinct_add(&a->accepted, &item, 1, cap);
            continue;
        }
        trafan_distinct_add(&a->ports, &item, 1, cap);
        if (kind == PROBE_STEALTH)
            trafan_distinct_add(&a->stealth, &item, 1, cap);
        a->kinds |= kind;
        a->first = MIN(a->first, ev->t);
        a->last = MAX(a->last, ev->t);
    }
}

static void
observe(TrafanRuleCtx *ctx, const TrafanEvent *ev)
{
    if (ev->kind == TRAFAN_EV_UDP) {
        if (!ev->udp_response)
            probe(ctx, ev, ev->src, ev->dst, ev->dport, PROBE_UDP);
        return;
    }
    guint f = ev->tcp_flags;
    gboolean syn = f & TRAFAN_TCP_SYN, ack = f & TRAFAN_TCP_ACK;
    if (f & TRAFAN_TCP_RST) {
        /* A bare RST answers a segment outside any connection: the target
         * refusing a bare ACK or FIN-ACK (nmap -sA, -sM).  (A refused SYN
         * gets RST-ACK.)  Only these few packets cost anything here. */
        if (!ack)
            probe(ctx, ev, ev->dst, ev->src, ev->sport, PROBE_ACK);
        return;
    }
    if (syn && !ack)
        probe(ctx, ev, ev->src, ev->dst, ev->dport, PROBE_SYN);
    else if (syn)
        probe(ctx, ev, ev->dst, ev->src, ev->sport, 0);
    else if (!ack)
        probe(ctx, ev, ev->src, ev->dst, ev->dport, PROBE_STEALTH);
}

static char *
probe_filter(guint64 kinds, const TrafanAddress *src)
{
    GString *s = g_string_new(NULL);
    const char *sep = "";
    g_string_append_printf(s, "!%s && (", src->family == 6 ? "icmpv6" : "icmp");
    if (kinds & PROBE_SYN) {
        g_string_append(s, "(tcp.flags.syn==1 && tcp.flags.ack==0)");
        sep = " || ";
    }
    if (kinds & PROBE_STEALTH) {
        g_string_append_printf(s, "%s(tcp.flags.syn==0 && tcp.flags.ack==0 && tcp.flags.reset==0)", sep);
        sep = " || ";
    }
    if (kinds & PROBE_ACK) {
        g_string_append_printf(s, "%s(tcp.flags.syn==0 && tcp.flags.ack==1 && tcp.flags.push==0 && tcp.flags.reset==0 && tcp.len==0)", sep);
        sep = " || ";
    }
    if (kinds & PROBE_UDP)
        g_string_append_printf(s, "%sudp", sep);
    g_string_append(s, ")");
    return g_string_free(s, FALSE);
}

static void
judge(TrafanRuleCtx *ctx, const TrafanKey *key, gconstpointer agg)
{
    const Agg *a = agg;
    const Config *c = ctx->config;
    guint64 probed = trafan_distinct_count(&a->ports);
    guint64 stealth = trafan_distinct_count(&a->stealth);
    if (a->first > a->last || (probed < c->port_scan_ports && stealth < c->port_scan_stealth_ports))
        return;                 /* most keys: a connection or two */
    guint64 answered = trafan_distinct_overlap(&a->accepted, &a->ports);
    guint64 failed = probed > answered ? probed - answered : 0;
    gboolean by_ports = failed >= c->port_scan_ports;

    if (!by_ports && stealth < c->port_scan_stealth_ports)
        return;

    char src[TRAFAN_ADDRSTRLEN], dst[TRAFAN_ADDRSTRLEN], dur[48], win[48];
    TrafanVerdict v = {
        .host = key->a, .role = TRAFAN_ROLE_SOURCE,
        .start = a->first, .end = a->last,
        .observed = by_ports ? failed : stealth,
        .threshold = by_ports ? c->port_scan_ports : c->port_scan_stealth_ports,
        .approximate = trafan_distinct_approximate(&a->ports) || trafan_distinct_approximate(&a->stealth),
        .n_peers = 1, .peers_total = 1,
    };
    v.peers[0].item = key->b;
    v.peers[0].count = failed;
    trafan_addr_text(&key->a, src);
    trafan_addr_text(&key->b, dst);
    GString *detail = g_string_new(NULL);
    g_string_append_printf(detail, "probed %s%" G_GUINT64_FORMAT " ports on %s",
                           v.approximate ? "about " : "", failed, dst);
    if (stealth)
        g_string_append_printf(detail, " (%" G_GUINT64_FORMAT " with FIN/NULL/Xmas probes)", stealth);
    g_string_append_printf(detail, " in %s (threshold %u%s in %s)", trafan_fmt_secs(dur, a->last - a->first),
                           (guint)v.threshold, by_ports ? "" : " stealth-probed ports",
                           trafan_fmt_secs(win, ctx->window_ns));
    v.detail = g_string_free(detail, FALSE);
    char *probes = probe_filter(a->kinds, &key->a);
    v.clause = g_strdup_printf("%s.src==%s && %s.dst==%s && %s", trafan_ipf(&key->a), src,
                               trafan_ipf(&key->b), dst, probes);
    v.broad = g_strdup_printf("%s.src==%s && %s", trafan_ipf(&key->a), src, probes);
    g_free(probes);
    trafan_emit(ctx, &v);
}

const TrafanRule trafan_rule_port_scan = {
    .name = "port_scan",
    .anchor = "Zeek scan.zeek (15 ports in 5 min)",
    .options = options, .n_options = G_N_ELEMENTS(options), .config_size = sizeof(Config),
    .events = TRAFAN_EVENT_BIT(TRAFAN_EV_TCP) | TRAFAN_EVENT_BIT(TRAFAN_EV_UDP),
    .observe = observe,
    .source_peers = "hosts scanned in all",
    .window_option = "port_scan_window", .agg = &agg_class, .judge = judge,
};
