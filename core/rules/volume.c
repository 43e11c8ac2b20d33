/* volume.c — per-source packets and bytes, for packet_rate and bandwidth.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "volume.h"

static const TrafanAggField fields[] = {
    TRAFAN_AGG_FIELD(COUNT, TrafanVolume, packets),
    TRAFAN_AGG_FIELD(COUNT, TrafanVolume, bytes),
    TRAFAN_AGG_FIELD(DISTINCT, TrafanVolume, peers),
    TRAFAN_AGG_FIELD(FIRST, TrafanVolume, first),
    TRAFAN_AGG_FIELD(LAST, TrafanVolume, last),
};
const TrafanAggClass trafan_volume_class = TRAFAN_AGG_CLASS(TrafanVolume, fields);

void
trafan_volume_observe(TrafanRuleCtx *ctx, const TrafanEvent *ev)
{
    if (ev->src == NULL)
        return;
    TrafanKey k = trafan_key(ev->src, NULL, 0, 0);
    TRAFAN_EACH_SLOT(ctx, &k, TrafanVolume, a) {
        a->packets++;
        a->bytes += ev->bytes;
        trafan_distinct_add(&a->peers, ev->dst, 1, trafan_exact_cap(ctx));
        a->first = MIN(a->first, ev->t);
        a->last = MAX(a->last, ev->t);
    }
}

void
trafan_volume_emit(TrafanRuleCtx *ctx, const TrafanKey *key, const TrafanVolume *a,
                   double observed, double threshold, char *detail)
{
    char src[TRAFAN_ADDRSTRLEN];
    TrafanVerdict v = {
        .host = key->a, .role = TRAFAN_ROLE_SOURCE,
        .start = a->first, .end = a->last, .observed = observed, .threshold = threshold,
        .approximate = trafan_distinct_approximate(&a->peers),
        .peers_total = trafan_distinct_count(&a->peers), .detail = detail,
    };
    v.n_peers = trafan_distinct_top(&a->peers, v.peers, TRAFAN_TOP_PEERS);
    trafan_addr_text(&key->a, src);
    v.clause = g_strdup_printf("%s.src==%s", trafan_ipf(&key->a), src);
    v.broad = g_strdup(v.clause);
    trafan_emit(ctx, &v);
}
