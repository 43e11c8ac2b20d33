/* icmp_flood — ICMP echo requests toward one target at a high rate.
 *
 * Anchor: ntopng's ICMP flood alert.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "flood.h"

typedef struct {
    double icmp_flood_rate;
    double icmp_flood_window;
    double icmp_flood_dominance;
} Config;

static const TrafanDetectOption options[] = {
    TRAFAN_OPTION(Config, icmp_flood_rate, DOUBLE, "ICMP flood: rate (/s)",
        "ICMP echo requests per second toward one target; default 100, a hundred times ping's default rate",
        "100", 0.001, 1e12),
    TRAFAN_OPTION(Config, icmp_flood_window, DOUBLE, "ICMP flood: window (s)",
        "Window over which the rate is measured; default 1 s",
        "1", 0.001, 3600),
    TRAFAN_OPTION(Config, icmp_flood_dominance, DOUBLE, "ICMP flood: dominant source share",
        "Share of the requests from the top source above which that source is flagged; below it the target is flagged with its sources summarised; default 0.5",
        "0.5", 0.01, 1),
};

/* Key (target). */
typedef struct {
    guint64        requests;
    TrafanDistinct sources;
    gint64         first, last;
} Agg;

static const TrafanAggField fields[] = {
    TRAFAN_AGG_FIELD(COUNT, Agg, requests),
    TRAFAN_AGG_FIELD(DISTINCT, Agg, sources),
    TRAFAN_AGG_FIELD(FIRST, Agg, first),
    TRAFAN_AGG_FIELD(LAST, Agg, last),
};
static const TrafanAggClass agg_class = TRAFAN_AGG_CLASS(Agg, fields);

static void
observe(TrafanRuleCtx *ctx, const TrafanEvent *ev)
{
    if (ev->icmp_type != (ev->proto == 58 ? 128 : 8))
        return;
    TrafanKey k = trafan_key(ev->dst, NULL, 0, 0);
    TRAFAN_EACH_SLOT(ctx, &k, Agg, a) {
        a->requests++;
        trafan_distinct_add(&a->sources, ev->src, 1, trafan_exact_cap(ctx));
        a->first = MIN(a->first, ev->t);
        a->last = MAX(a->last, ev->t);
    }
}

static void
judge(TrafanRuleCtx *ctx, const TrafanKey *key, gconstpointer agg)
{
    const Agg *a = agg;
    const Config *c = ctx->config;
    TrafanFlood f = {
        .target = &key->a, .many = TRUE, .sources = &a->sources, .packets = a->requests, .excess = a->requests,
        .first = a->first, .last = a->last, .what = "ICMP echo requests",
        .match = key->a.family == 6 ? "icmpv6.type==128" : "icmp.type==8",
        .rate_many = c->icmp_flood_rate, .rate_one = c->icmp_flood_rate,
        .dominance = c->icmp_flood_dominance,
    };
    trafan_flood_judge(ctx, &f);
}

const TrafanRule trafan_rule_icmp_flood = {
    .name = "icmp_flood",
    .anchor = "ntopng ICMP flood alert",
    .options = options, .n_options = G_N_ELEMENTS(options), .config_size = sizeof(Config),
    .events = TRAFAN_EVENT_BIT(TRAFAN_EV_ICMP),
    .observe = observe,
    .source_peers = "destinations in all",
    .window_option = "icmp_flood_window", .agg = &agg_class, .judge = judge,
};
