/* fuzz_packets.c — libFuzzer target: any bytes as a stream of packet
 * records, through the statistics, the detector and every report.
 *
 * The records keep the tap's promises (times within TRAFAN_TIME_LIMIT_NS,
 * at most TRAFAN_MAX_LAYERS headers, interned protocol names) and nothing
 * else: any addresses, ports, flags, sizes and time steps, backwards too.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <stdint.h>
#include <string.h>

#include "detect.h"
#include "report.h"
#include "stats.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct {
    const uint8_t *p, *end;
} Reader;

static guint64
take(Reader *r, guint bytes)
{
    guint64 v = 0;

    for (guint i = 0; i < bytes; i++)
        v = v << 8 | (r->p < r->end ? *r->p++ : 0);
    return v;
}

/* An address from a small pool (so that hosts meet again), or any. */
static void
take_address(Reader *r, TrafanAddress *a)
{
    guint8 pick = (guint8)take(r, 1);

    memset(a, 0, sizeof *a);
    a->family = pick & 0x80 ? 6 : 4;
    if (pick & 0x40) {
        for (guint i = 0; i < (a->family == 4 ? 4u : 16u); i++)
            a->bytes[i] = (guint8)take(r, 1);
    } else if (a->family == 4) {
        a->bytes[0] = 10;
        a->bytes[3] = pick & 0x3f;
    } else {
        a->bytes[0] = 0xfd;
        a->bytes[15] = pick & 0x3f;
    }
}

static gint64
limited(gint64 ns)
{
    return CLAMP(ns, -TRAFAN_TIME_LIMIT_NS, TRAFAN_TIME_LIMIT_NS);
}

static const char *const protocols[] = { "tcp", "udp", "tls", "dns", "icmp", "arp", "data", "frame" };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    Reader r = { data, data + size };
    guint8 setup = (guint8)take(&r, 1);
    TrafanConfig config;
    TrafanDetectConfig detect;
    gint64 t = (gint64)(take(&r, 1) << 24) * 1000000000;    /* from the epoch to past 2500 */
    gint64 first = t;

    /* Small caps and odd intervals, so that folding and sketches run. */
    trafan_config_init(&config);
    config.max_hosts = setup & 1 ? 1 + (setup >> 4) : config.max_hosts;
    config.interval_us = setup & 2 ? 1 + (gint64)(setup >> 2) * 997 : config.interval_us;
    trafan_detect_config_init(&detect);
    g_assert(trafan_detect_config_set(&detect, "preset", setup & 4 ? "seed" : "default", NULL));
    if (setup & 8)
        g_assert(trafan_detect_config_set(&detect, "exact_cap", "16", NULL));

    TrafanStats *stats = trafan_stats_new(&config);
    TrafanDetector *detector = trafan_detector_new(&detect);
    for (guint n = 0; r.p < r.end && n < 4096; n++) {
        TrafanPacket pkt;
        guint8 shape = (guint8)take(&r, 1);
        guint8 step = (guint8)take(&r, 1);

        memset(&pkt, 0, sizeof pkt);
        /* Mostly small steps; sometimes a jump of up to +-2^61 ns (73 years). */
        if (step == 0xff)
            t = limited(t + ((gint64)take(&r, 7) - (G_GINT64_CONSTANT(1) << 55)) * 64);
        else
            t = limited(t + (gint64)(step - 16) * (shape & 0x80 ? 1000000000 : 1000));
        pkt.abs_ns = t;
        pkt.rel_ns = limited(t - first);
        pkt.frame_len = (guint32)take(&r, 2) + (shape & 0x40 ? (guint32)take(&r, 2) << 16 : 0);
        pkt.protocol = g_intern_static_string(protocols[shape & 7]);
        pkt.n_ip = (shape >> 3) & 3;
        if ((shape & 0x38) == 0x38)
            pkt.n_ip = TRAFAN_MAX_LAYERS;
        for (guint i = 0; i < pkt.n_ip; i++) {
            take_address(&r, &pkt.ip[i].src);
            take_address(&r, &pkt.ip[i].dst);
            pkt.ip[i].ip_proto = (guint8)take(&r, 1);
        }
        if (pkt.n_ip) {
            const TrafanIpLayer *inner = &pkt.ip[pkt.n_ip - 1];
            guint8 kind = (guint8)take(&r, 1);

            if (kind & 1) {
                TrafanTransport *tp = &pkt.transport[pkt.n_transport++];
                tp->ip_proto = kind & 2 ? 6 : 17;
                tp->tcp_flags = kind & 2 ? (guint16)take(&r, 1) : 0;
                tp->src_port = (guint16)take(&r, 2);
                tp->dst_port = (guint16)take(&r, 2);
                tp->src = inner->src;
                tp->dst = inner->dst;
            } else if (kind & 4) {
                pkt.icmp_family = inner->src.family;
                pkt.icmp_type = (guint8)take(&r, 1);
                pkt.icmp_code = (guint8)take(&r, 1);
            }
        }
        trafan_stats_add(stats, &pkt);
        trafan_detector_add(detector, &pkt);
        if (step == 0x80) {
            trafan_detector_peek(detector);
            trafan_detector_take_new(detector);
        }
    }

    const GPtrArray *flags = trafan_detector_finish(detector);
    trafan_stats_finish(stats);
    TrafanDetectorUsage usage = trafan_detector_usage(detector);
    TrafanReportOptions opts = { .top = setup & 0x10 ? 0 : 3, .filter = "fuzz", .flags = flags, .detector = &usage };
    for (TrafanFormat f = TRAFAN_FORMAT_TEXT; f <= TRAFAN_FORMAT_CSV; f++)
        g_string_free(trafan_report(stats, &opts, f), TRUE);
    g_string_free(trafan_report_dot(stats, &opts), TRUE);

    trafan_detector_free(detector);
    trafan_stats_free(stats);
    trafan_detect_config_clear(&detect);
    return 0;
}
