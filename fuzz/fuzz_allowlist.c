/* fuzz_allowlist.c — libFuzzer target: any bytes as the allowlist, through
 * the public option API, then a detector using what was accepted.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <stdint.h>
#include <string.h>

#include "detect.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = g_strndup((const char *)data, size);
    TrafanDetectConfig cfg;
    GError *error = NULL;

    trafan_detect_config_init(&cfg);
    if (trafan_detect_config_set(&cfg, "allowlist", text, &error)) {
        /* Accepted: a source it names is never flagged, whatever it sends. */
        TrafanDetector *d = trafan_detector_new(&cfg);
        TrafanPacket pkt;

        memset(&pkt, 0, sizeof pkt);
        pkt.protocol = g_intern_string("tcp");
        pkt.frame_len = 60;
        pkt.n_ip = pkt.n_transport = 1;
        trafan_address_parse("10.0.0.1", &pkt.ip[0].src);
        trafan_address_parse("10.0.0.2", &pkt.ip[0].dst);
        pkt.ip[0].ip_proto = 6;
        pkt.transport[0].ip_proto = 6;
        pkt.transport[0].tcp_flags = 0x02;
        pkt.transport[0].src = pkt.ip[0].src;
        pkt.transport[0].dst = pkt.ip[0].dst;
        for (guint port = 1; port <= 64; port++) {
            pkt.transport[0].dst_port = (guint16)port;
            pkt.abs_ns += 1000;
            trafan_detector_add(d, &pkt);
        }
        trafan_detector_finish(d);
        trafan_detector_free(d);
    } else {
        g_assert(error && strstr(error->message, "allowlist"));
        g_error_free(error);
    }
    trafan_detect_config_clear(&cfg);
    g_free(text);
    return 0;
}
