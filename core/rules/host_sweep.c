/* host_sweep — one source probing many addresses on one service.
 *
 * Anchor: Zeek's scan.zeek address scan (25 hosts in 5 minutes).  Probes:
 * TCP SYNs, bare ACKs (nmap -PA: a live host answers with RST) and
 * FIN/NULL/Xmas segments; UDP datagrams; ICMP echo, timestamp and
 * address-mask requests.  A target that answers (any TCP segment but a RST
 * from the probed port, a UDP datagram back, the ICMP reply) is a service
 * in use; the sweep is what stays silent or refuses.  Bare ACKs and UDP
 * are also what established flows and peer-to-peer overlays send to
 * scattered peers, so those count only when the silent targets comb a
 * neighbourhood (one /16 or /48).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <string.h>

#include "rule.h"

typedef struct {
    guint  host_sweep_hosts;
    double host_sweep_window;
} Config;

static const TrafanDetectOption options[] = {
    TRAFAN_OPTION(Config, host_sweep_hosts, UINT, "Host sweep: hosts",
        "Distinct unanswered addresses one source probes on one service (TCP or UDP port, ICMP echo, timestamp or address-mask request) that make a sweep; default 25, as Zeek's scan.zeek address scan",
        "25", 2, 4294967295.0),
    TRAFAN_OPTION(Config, host_sweep_window, DOUBLE, "Host sweep: window (s)",
        "Window for host_sweep; default 300 s, as Zeek's scan.zeek",
        "300", 0.001, 86400),
};

enum { PROBE_SYN = 1, PROBE_ACK = 2, PROBE_STEALTH = 4, PROBE_OTHER = 8 };

/* Key (scanner, -, protocol, port or ICMP request type). */
typedef struct {
    TrafanDistinct targets;     /* probed addresses, with probe counts */
    TrafanDistinct answered;    /* those that answered */
    guint64        kinds;
    gint64         first, last;
} Agg;

static const TrafanAggField fields[] = {
    TRAFAN_AGG_FIELD(DISTINCT, Agg, targets),
    TRAFAN_AGG_FIELD(DISTINCT, Agg, answered),
    TRAFAN_AGG_FIELD(BITS, Agg, kinds),
    TRAFAN_AGG_FIELD(FIRST, Agg, first),
    TRAFAN_AGG_FIELD(LAST, Agg, last),
};
static const TrafanAggClass agg_class = TRAFAN_AGG_CLASS(Agg, fields);

static void
sweep(TrafanRuleCtx *ctx, gint64 t, const TrafanAddress *scanner, guint8 proto, guint16 port,
      const TrafanAddress *peer, guint kind)
{
    if (trafan_is_group(peer))
        return;
    TrafanKey k = trafan_key(scanner, NULL, proto, port);
    guint cap = trafan_exact_cap(ctx);
    TRAFAN_EACH_SLOT(ctx, &k, Agg, a) {
        if (kind == 0) {
            trafan_distinct_add(&a->answered, peer, 1, cap);
            continue;
        }
        trafan_distinct_add(&a->targets, peer, 1, cap);
        a->kinds |= kind;
        a->first = MIN(a->first, t);
        a->last = MAX(a->last, t);
    }
}

/* ICMP requests that probe for live hosts, and their replies. */
static guint8
icmp_request_of_reply(guint8 proto, guint8 type)
{
    if (proto == 58)
        return type == 129 ? 128 : 0;
    return type == 0 ? 8 : type == 14 ? 13 : type == 18 ? 17 : 0;
}

static gboolean
icmp_is_probe(guint8 proto, guint8 type)
{
    return proto == 58 ? type == 128 : type == 8 || type == 13 || type == 17;
}

static void
observe(TrafanRuleCtx *ctx, const TrafanEvent *ev)
{
    if (ev->link_group)
        return;                 /* one packet to a whole subnet is no sweep */
    switch (ev->kind) {
    case TRAFAN_EV_TCP: {
        guint f = ev->tcp_flags;
        if (f & TRAFAN_TCP_RST)
            return;             /* a refusal is no answer */
        gboolean syn = f & TRAFAN_TCP_SYN, ack = f & TRAFAN_TCP_ACK;
        if (syn && !ack)
            sweep(ctx, ev->t, ev->src, 6, ev->dport, ev->dst, PROBE_SYN);
        else if (!syn && !ack)
            sweep(ctx, ev->t, ev->src, 6, ev->dport, ev->dst, PROBE_STEALTH);
        else if (f == TRAFAN_TCP_ACK && ev->dport < ev->sport)
            sweep(ctx, ev->t, ev->src, 6, ev->dport, ev->dst, PROBE_ACK);
        /* What the target sends back from the probed (lower) port answers. */
        if (ack && (syn || ev->sport < ev->dport))
            sweep(ctx, ev->t, ev->dst, 6, ev->sport, ev->src, 0);
        break;
    }
    case TRAFAN_EV_UDP:
        /* A reply goes back to the port the probe came from: a datagram
         * answers only if the one it replies to would have been a probe (a
         * client's request to a service answers nothing). */
        if (!trafan_udp_is_response(ev->dport, ev->sport))
            sweep(ctx, ev->t, ev->dst, 17, ev->sport, ev->src, 0);
        if (!ev->udp_response)
            sweep(ctx, ev->t, ev->src, 17, ev->dport, ev->dst, PROBE_OTHER);
        break;
    case TRAFAN_EV_ICMP: {
        guint8 request = icmp_request_of_reply(ev->proto, ev->icmp_type);
        if (icmp_is_probe(ev->proto, ev->icmp_type))
            sweep(ctx, ev->t, ev->src, ev->proto, ev->icmp_type, ev->dst, PROBE_OTHER);
        else if (request)
            sweep(ctx, ev->t, ev->dst, ev->proto, request, ev->src, 0);
        break;
    }
    default:
        break;
    }
}

/* The most silent targets within one /16 (IPv4) or /48 (IPv6). */
static guint64
locality(const Agg *a)
{
    GHashTable *nets = trafan_tally_table();
    guint64 best = 0;
    GPtrArray *targets = trafan_distinct_tallies(&a->targets);

    for (guint i = 0; i < targets->len; i++) {
        const TrafanAddress *t = &((const TrafanTally *)targets->pdata[i])->item;
        if (trafan_distinct_contains(&a->answered, t))
            continue;
        TrafanAddress net = { .family = t->family };
        memcpy(net.bytes, t->bytes, t->family == 4 ? 2 : 6);
        TrafanTally *seen = g_hash_table_lookup(nets, &net);
        if (seen == NULL) {
            seen = g_new0(TrafanTally, 1);
            seen->item = net;
            g_hash_table_insert(nets, &seen->item, seen);
        }
        best = MAX(best, ++seen->count);
    }
    g_hash_table_unref(nets);
    g_ptr_array_unref(targets);
    return best;
}

static const char *
icmp_request_name(guint8 type)
{
    return type == 13 ? "ICMP timestamp requests" : type == 17 ? "ICMP address-mask requests"
                                                               : "ICMP echo requests";
}

static char *
tcp_probe_filter(guint64 kinds)
{
    GString *s = g_string_new(NULL);
    static const struct { guint kind; const char *test; } tests[] = {
        { PROBE_SYN, "(tcp.flags.syn==1 && tcp.flags.ack==0)" },
        { PROBE_ACK, "tcp.flags==0x010" },
        { PROBE_STEALTH, "(tcp.flags.syn==0 && tcp.flags.ack==0 && tcp.flags.reset==0)" },
    };
    for (guint i = 0; i < G_N_ELEMENTS(tests); i++)
        if (kinds & tests[i].kind)
            g_string_append_printf(s, "%s%s", s->len ? " || " : "", tests[i].test);
    if (g_bit_nth_lsf((gulong)kinds, -1) != g_bit_nth_msf((gulong)kinds, -1)) {
        g_string_prepend_c(s, '(');
        g_string_append_c(s, ')');
    }
    return g_string_free(s, FALSE);
}

static void
judge(TrafanRuleCtx *ctx, const TrafanKey *key, gconstpointer agg)
{
    const Agg *a = agg;
    const Config *c = ctx->config;
    if (a->first > a->last)
        return;                 /* answers only */
    guint64 probed = trafan_distinct_count(&a->targets);
    if (probed < c->host_sweep_hosts)
        return;                 /* most keys: a few probes */
    guint64 answered = trafan_distinct_overlap(&a->answered, &a->targets);
    guint64 silent = probed > answered ? probed - answered : 0;
    if (silent < c->host_sweep_hosts)
        return;
    /* Peer-to-peer overlays and established flows reach scattered peers; a
     * sweep combs a neighbourhood.  (Past exact_cap this looks at the exact part.) */
    gboolean ambiguous = key->proto == 17 || (key->proto == 6 && a->kinds == PROBE_ACK);
    if (ambiguous && locality(a) < MIN(c->host_sweep_hosts, trafan_distinct_exact_size(&a->targets)))
        return;

    char src[TRAFAN_ADDRSTRLEN], dur[48], win[48], service[64];
    TrafanVerdict v = {
        .host = key->a, .role = TRAFAN_ROLE_SOURCE,
        .start = a->first, .end = a->last,
        .observed = silent, .threshold = c->host_sweep_hosts,
        .approximate = trafan_distinct_approximate(&a->targets), .peers_total = silent,
    };
    v.n_peers = trafan_distinct_top(&a->targets, v.peers, TRAFAN_TOP_PEERS);
    trafan_addr_text(&key->a, src);
    const char *ip = trafan_ipf(&key->a);
    if (key->proto == 1) {
        v.clause = g_strdup_printf("ip.src==%s && icmp.type==%u", src, key->port);
        g_snprintf(service, sizeof service, "with %s", icmp_request_name((guint8)key->port));
    } else if (key->proto == 58) {
        v.clause = g_strdup_printf("ipv6.src==%s && icmpv6.type==128", src);
        g_snprintf(service, sizeof service, "with ICMPv6 echo requests");
    } else if (key->proto == 6) {
        char *probes = tcp_probe_filter(a->kinds);
        v.clause = g_strdup_printf("%s.src==%s && !icmp && !icmpv6 && tcp.dstport==%u && %s",
                                   ip, src, key->port, probes);
        g_free(probes);
        g_snprintf(service, sizeof service, "on tcp/%u%s", key->port,
                   a->kinds == PROBE_ACK ? " with bare ACKs" : "");
    } else {
        v.clause = g_strdup_printf("%s.src==%s && !icmp && !icmpv6 && udp.dstport==%u", ip, src, key->port);
        g_snprintf(service, sizeof service, "on udp/%u", key->port);
    }
    v.detail = g_strdup_printf("probed %s%" G_GUINT64_FORMAT " hosts %s without answer in %s "
                               "(threshold %u in %s)", v.approximate ? "about " : "", silent,
                               service, trafan_fmt_secs(dur, a->last - a->first), c->host_sweep_hosts,
                               trafan_fmt_secs(win, ctx->window_ns));
    v.broad = g_strdup_printf("%s.src==%s", ip, src);
    trafan_emit(ctx, &v);
}

const TrafanRule trafan_rule_host_sweep = {
    .name = "host_sweep",
    .anchor = "Zeek scan.zeek address scan (25 hosts in 5 min)",
    .options = options, .n_options = G_N_ELEMENTS(options), .config_size = sizeof(Config),
    .events = TRAFAN_EVENT_BIT(TRAFAN_EV_TCP) | TRAFAN_EVENT_BIT(TRAFAN_EV_UDP) |
              TRAFAN_EVENT_BIT(TRAFAN_EV_ICMP),
    .observe = observe,
    .window_option = "host_sweep_window", .agg = &agg_class, .judge = judge,
};
