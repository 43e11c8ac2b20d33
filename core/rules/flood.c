/* flood.c — the verdict shared by syn_flood, icmp_flood and udp_flood.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <string.h>

#include "flood.h"

void
trafan_flood_judge(TrafanRuleCtx *ctx, const TrafanFlood *f)
{
    TrafanTally top[TRAFAN_TOP_PEERS];
    guint n_top = f->top ? MIN(f->n_top, TRAFAN_TOP_PEERS)
                         : trafan_distinct_top(f->sources, top, TRAFAN_TOP_PEERS);
    if (f->top)
        memcpy(top, f->top, n_top * sizeof *top);
    gboolean one_source = !f->reflection && n_top > 0 && top[0].count >= f->dominance * f->excess;
    gboolean group = f->group || trafan_is_group(f->target);
    double seconds = ctx->window_ns / TRAFAN_NS_PER_S;
    /* One flooder is judged on what it sent itself. */
    double rate = (one_source ? MIN(top[0].count, f->excess) : f->excess) / seconds;
    double threshold = group ? f->rate_group : one_source ? f->rate_one : f->rate_many;

    /* A group address is no victim: only one source storming it is judged. */
    if (group && (!one_source || f->rate_group <= 0))
        return;
    if (f->excess == 0 || rate < threshold || (!one_source && !f->many))
        return;
    /* One source hitting many ports is a port scan, which port_scan reports. */
    if (one_source && f->ports && trafan_distinct_count(f->ports) >= f->scan_ports)
        return;

    char tgt[TRAFAN_ADDRSTRLEN], src[TRAFAN_ADDRSTRLEN], rate_text[G_ASCII_DTOSTR_BUF_SIZE];
    char thr[G_ASCII_DTOSTR_BUF_SIZE], dur[48], win[48];
    const char *ip = trafan_ipf(f->target);
    TrafanVerdict v = {
        .start = f->first, .end = f->last, .observed = rate, .threshold = threshold,
        .approximate = trafan_distinct_approximate(f->sources),
    };
    trafan_addr_text(f->target, tgt);
    trafan_fmt_number(rate_text, sizeof rate_text, rate);
    trafan_fmt_number(thr, sizeof thr, threshold);
    trafan_fmt_secs(dur, f->last - f->first);
    trafan_fmt_secs(win, ctx->window_ns);
    if (one_source) {
        v.host = top[0].item;
        v.role = TRAFAN_ROLE_SOURCE;
        v.n_peers = 1;
        v.peers[0].item = *f->target;
        v.peers[0].count = top[0].count;
        v.peers_total = 1;
        trafan_addr_text(&top[0].item, src);
        v.detail = g_strdup_printf("sent %s %s/s to %s for %s (threshold %s/s over %s)", rate_text,
                                   f->what, tgt, dur, thr, win);
        v.clause = g_strdup_printf("%s.src==%s && %s.dst==%s && %s", trafan_ipf(&top[0].item), src,
                                   ip, tgt, f->match);
        v.broad = g_strdup_printf("%s.src==%s && %s", trafan_ipf(&top[0].item), src, f->match);
    } else {
        v.host = *f->target;
        v.role = TRAFAN_ROLE_TARGET;
        v.n_peers = n_top;
        memcpy(v.peers, top, sizeof top);
        /* The sketch's estimate may pass what it counted: never more sources than packets. */
        v.peers_total = MIN(trafan_distinct_count(f->sources), f->packets);
        v.detail = g_strdup_printf("received %s %s/s from %s%" G_GUINT64_FORMAT " sources%s for %s "
                                   "(threshold %s/s over %s)", rate_text, f->what,
                                   v.approximate ? "about " : "", v.peers_total,
                                   f->reflection ? " (reflection)" : "", dur, thr, win);
        v.clause = g_strdup_printf("%s.dst==%s && %s", ip, tgt, f->match);
        v.broad = g_strdup(v.clause);
    }
    trafan_emit(ctx, &v);
}
