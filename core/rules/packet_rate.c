/* packet_rate — one source sending very many packets.
 *
 * The classic naive rule, kept with a default no ordinary host reaches
 * (above a saturated gigabit bulk transfer); preset=seed restores 50
 * packets in 10 s.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "volume.h"

typedef struct {
    guint  packet_rate_packets;
    double packet_rate_window;
} Config;

static const TrafanDetectOption options[] = {
    TRAFAN_OPTION_SEED(Config, packet_rate_packets, UINT, "Packet rate: packets",
        "Packets one source sends within packet_rate_window; default 1000000 in 10 s (100 kpps), above a saturated gigabit bulk transfer (about 81 kpps); preset seed: 50",
        "1000000", "50", 1, 4294967295.0),
    TRAFAN_OPTION(Config, packet_rate_window, DOUBLE, "Packet rate: window (s)",
        "Window for packet_rate; default 10 s",
        "10", 0.001, 86400),
};

static void
judge(TrafanRuleCtx *ctx, const TrafanKey *key, gconstpointer agg)
{
    const TrafanVolume *a = agg;
    const Config *c = ctx->config;
    if (a->packets < c->packet_rate_packets)
        return;
    char dur[48], win[48];
    char *detail = g_strdup_printf("sent %" G_GUINT64_FORMAT " packets in %s (threshold %u in %s)",
                                   a->packets, trafan_fmt_secs(dur, a->last - a->first),
                                   c->packet_rate_packets, trafan_fmt_secs(win, ctx->window_ns));
    trafan_volume_emit(ctx, key, a, a->packets, c->packet_rate_packets, detail);
}

const TrafanRule trafan_rule_packet_rate = {
    .name = "packet_rate",
    .anchor = "the classic per-host packet-rate threshold (ntopng host packet thresholds)",
    .options = options, .n_options = G_N_ELEMENTS(options), .config_size = sizeof(Config),
    .events = TRAFAN_EVENT_BIT(TRAFAN_EV_FRAME),
    .observe = trafan_volume_observe,
    .window_option = "packet_rate_window", .agg = &trafan_volume_class, .judge = judge,
};
