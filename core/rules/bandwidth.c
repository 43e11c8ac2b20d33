/* bandwidth — one source sending more bytes per second than one host can.
 *
 * The classic naive rule, with a default no host on a gigabit link
 * exceeds; preset=seed restores 2000 bytes/s over 1 s.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "volume.h"

typedef struct {
    guint  bandwidth_bytes;     /* per second */
    double bandwidth_window;
} Config;

static const TrafanDetectOption options[] = {
    TRAFAN_OPTION_SEED(Config, bandwidth_bytes, UINT, "Bandwidth: bytes/s",
        "Bytes per second one source sends, averaged over bandwidth_window; default 125000000 (1 Gbit/s), which no single host on a gigabit link can exceed; preset seed: 2000",
        "125000000", "2000", 1, 4294967295.0),
    TRAFAN_OPTION_SEED(Config, bandwidth_window, DOUBLE, "Bandwidth: window (s)",
        "Window for bandwidth; default 10 s, so a momentary burst does not count; preset seed: 1 s",
        "10", "1", 0.001, 86400),
};

static void
judge(TrafanRuleCtx *ctx, const TrafanKey *key, gconstpointer agg)
{
    const TrafanVolume *a = agg;
    const Config *c = ctx->config;
    double rate = a->bytes / (ctx->window_ns / TRAFAN_NS_PER_S);
    if (rate < c->bandwidth_bytes)
        return;
    char r[48], thr[48], total[48], win[48];
    char *detail = g_strdup_printf("sent %s/s (%s in a %s window; threshold %s/s)",
                                   trafan_fmt_bytes(r, rate), trafan_fmt_bytes(total, a->bytes),
                                   trafan_fmt_secs(win, ctx->window_ns),
                                   trafan_fmt_bytes(thr, c->bandwidth_bytes));
    trafan_volume_emit(ctx, key, a, rate, c->bandwidth_bytes, detail);
}

const TrafanRule trafan_rule_bandwidth = {
    .name = "bandwidth",
    .anchor = "the classic per-host bandwidth threshold (ntopng host throughput)",
    .options = options, .n_options = G_N_ELEMENTS(options), .config_size = sizeof(Config),
    .events = TRAFAN_EVENT_BIT(TRAFAN_EV_FRAME),
    .observe = trafan_volume_observe,
    .window_option = "bandwidth_window", .agg = &trafan_volume_class, .judge = judge,
};
