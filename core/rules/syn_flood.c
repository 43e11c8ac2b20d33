/* syn_flood — SYNs toward one target that no handshake follows, or
 * SYN-ACKs it never asked for (the reflection of a SYN flood spoofing it).
 *
 * Anchor: ntopng's SYN flood alert (rate of half-open handshakes) and
 * Suricata's flow-based SYN flood rules.  Handshakes that clients complete
 * (the ACKs the target receives) are subtracted: a busy server is not
 * flooded.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "flood.h"

typedef struct {
    double syn_flood_rate;
    double syn_flood_window;
    double syn_flood_dominance;
    guint  syn_flood_scan_ports;
} Config;

static const TrafanDetectOption options[] = {
    TRAFAN_OPTION(Config, syn_flood_rate, DOUBLE, "SYN flood: rate (/s)",
        "SYNs per second toward one target beyond the handshakes its clients complete (or SYN-ACKs it never asked for); default 100, far above what a healthy server leaves unanswered",
        "100", 0.001, 1e12),
    TRAFAN_OPTION(Config, syn_flood_window, DOUBLE, "SYN flood: window (s)",
        "Window over which the rate is measured; default 1 s, so that short bursts show their true rate",
        "1", 0.001, 3600),
    TRAFAN_OPTION(Config, syn_flood_dominance, DOUBLE, "SYN flood: dominant source share",
        "Share of the SYNs from the top source above which that source is flagged; below it the target is flagged with its sources summarised; default 0.5",
        "0.5", 0.01, 1),
    TRAFAN_OPTION(Config, syn_flood_scan_ports, UINT, "SYN flood: ports of a scan",
        "Distinct target ports from one dominant source that make the burst a port scan (port_scan's concern), not a flood; default 15",
        "15", 2, 131072),
};

enum { SYN, SYNACK, N_KIND };

/* Key (target); trafan_window_key holds what every host sent and received,
 * in sketches, so that hosts that receive no SYN need no key. */
typedef struct {
    guint64        in[N_KIND];  /* SYNs, SYN-ACKs received */
    TrafanCounts  *acks_in;     /* bare ACKs received: handshakes completed (and going on) */
    TrafanCounts  *syns_out;    /* SYNs sent: SYN-ACKs asked for */
    TrafanDistinct sources[N_KIND];
    TrafanDistinct ports[N_KIND];
    gint64         first[N_KIND], last[N_KIND];
} Agg;

static const TrafanAggField fields[] = {
    TRAFAN_AGG_FIELD(COUNT, Agg, in),
    TRAFAN_AGG_FIELD(COUNTS, Agg, acks_in),
    TRAFAN_AGG_FIELD(COUNTS, Agg, syns_out),
    TRAFAN_AGG_FIELD(DISTINCT, Agg, sources),
    TRAFAN_AGG_FIELD(DISTINCT, Agg, ports),
    TRAFAN_AGG_FIELD(FIRST, Agg, first),
    TRAFAN_AGG_FIELD(LAST, Agg, last),
};
static const TrafanAggClass agg_class = TRAFAN_AGG_CLASS(Agg, fields);

static void
observe(TrafanRuleCtx *ctx, const TrafanEvent *ev)
{
    guint f = ev->tcp_flags;
    gboolean syn = f & TRAFAN_TCP_SYN, ack = f & TRAFAN_TCP_ACK;
    guint cap = trafan_exact_cap(ctx);

    if (f & TRAFAN_TCP_RST)
        return;
    if (!syn) {
        /* A handshake ends with a bare ACK: those are what to count. */
        if (f == TRAFAN_TCP_ACK)
            TRAFAN_EACH_SLOT(ctx, &trafan_window_key, Agg, a)
                trafan_counts_add(&a->acks_in, ev->dst, 1);
        return;
    }
    guint kind = ack ? SYNACK : SYN;
    TrafanKey k = trafan_key(ev->dst, NULL, 0, 0);
    TrafanAddress port = trafan_port_item(0, ev->dport);
    TRAFAN_EACH_SLOT(ctx, &k, Agg, a) {
        a->in[kind]++;
        trafan_distinct_add(&a->sources[kind], ev->src, 1, cap);
        trafan_distinct_add(&a->ports[kind], &port, 1, cap);
        a->first[kind] = MIN(a->first[kind], ev->t);
        a->last[kind] = MAX(a->last[kind], ev->t);
    }
    if (kind == SYN)
        TRAFAN_EACH_SLOT(ctx, &trafan_window_key, Agg, a)
            trafan_counts_add(&a->syns_out, ev->src, 1);
}

static void
judge(TrafanRuleCtx *ctx, const TrafanKey *key, gconstpointer agg)
{
    const Agg *a = agg, *all = trafan_judged_agg(ctx, &trafan_window_key);
    const Config *c = ctx->config;
    if (key->a.family == 0 || all == NULL)
        return;                 /* the window-wide tallies */
    /* Sketches may count more, never fewer: the flood counted is a floor. */
    guint64 acks_in = trafan_counts_get(all->acks_in, &key->a);
    guint64 syns_out = trafan_counts_get(all->syns_out, &key->a);
    const char *match[N_KIND] = { "tcp.flags.syn==1 && tcp.flags.ack==0",
                                  "tcp.flags.syn==1 && tcp.flags.ack==1" };
    const char *what[N_KIND] = { "SYNs", "unsolicited SYN-ACKs" };
    /* SYNs its clients never followed with an ACK; SYN-ACKs it never asked for. */
    const guint64 excess[N_KIND] = { a->in[SYN] - MIN(acks_in, a->in[SYN]),
                                     a->in[SYNACK] - MIN(syns_out, a->in[SYNACK]) };

    for (guint kind = 0; kind < N_KIND; kind++) {
        TrafanFlood f = {
            .target = &key->a, .many = TRUE, .sources = &a->sources[kind], .ports = &a->ports[kind],
            .packets = a->in[kind], .excess = excess[kind],
            .first = a->first[kind], .last = a->last[kind], .reflection = kind == SYNACK,
            .what = what[kind], .match = match[kind],
            .rate_many = c->syn_flood_rate, .rate_one = c->syn_flood_rate,
            .dominance = c->syn_flood_dominance, .scan_ports = c->syn_flood_scan_ports,
        };
        trafan_flood_judge(ctx, &f);
    }
}

const TrafanRule trafan_rule_syn_flood = {
    .name = "syn_flood",
    .anchor = "ntopng SYN flood alert; Suricata flow-based SYN flood rules",
    .options = options, .n_options = G_N_ELEMENTS(options), .config_size = sizeof(Config),
    .events = TRAFAN_EVENT_BIT(TRAFAN_EV_TCP),
    .observe = observe,
    .source_peers = "destinations in all",
    .window_option = "syn_flood_window", .agg = &agg_class, .judge = judge,
};
