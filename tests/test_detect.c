/* test_detect.c — suspicious-host detection on synthetic packet streams.
 *
 * Every scenario is a stream of TrafanPackets built here; the tests assert
 * the exact set of (host, rule, role) flagged, so an extra flag fails too.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <math.h>
#include <string.h>

#include "detect.h"
#include "distinct.h"

#define S(x)   ((gint64)((x) * 1e9))          /* seconds to ns */
#define T0     G_GINT64_CONSTANT(1700000000000000000)

/* ------------------------------------------------------------------ */
/* Building streams                                                     */

static TrafanAddress
addr(const char *text)
{
    TrafanAddress a;
    memset(&a, 0, sizeof a);
    g_assert_true(trafan_address_parse(text, &a));
    return a;
}

static TrafanPacket *
push(GArray *stream, gint64 t, const char *src, const char *dst, guint8 proto, guint32 len)
{
    TrafanPacket pkt;
    memset(&pkt, 0, sizeof pkt);
    pkt.abs_ns = T0 + t;
    pkt.rel_ns = t;
    pkt.frame_len = len;
    pkt.n_ip = 1;
    pkt.ip[0].src = addr(src);
    pkt.ip[0].dst = addr(dst);
    pkt.ip[0].ip_proto = proto;
    g_array_append_val(stream, pkt);
    return &g_array_index(stream, TrafanPacket, stream->len - 1);
}

static void
tcp(GArray *s, gint64 t, const char *src, guint16 sport, const char *dst, guint16 dport,
    guint16 flags, guint32 len)
{
    TrafanPacket *p = push(s, t, src, dst, 6, len);
    TrafanTransport *tr = &p->transport[p->n_transport++];
    tr->ip_proto = 6;
    tr->tcp_flags = flags;
    tr->src_port = sport;
    tr->dst_port = dport;
    tr->src = p->ip[0].src;
    tr->dst = p->ip[0].dst;
}

static void
udp(GArray *s, gint64 t, const char *src, guint16 sport, const char *dst, guint16 dport, guint32 len)
{
    TrafanPacket *p = push(s, t, src, dst, 17, len);
    TrafanTransport *tr = &p->transport[p->n_transport++];
    tr->ip_proto = 17;
    tr->src_port = sport;
    tr->dst_port = dport;
    tr->src = p->ip[0].src;
    tr->dst = p->ip[0].dst;
}

static void
icmp(GArray *s, gint64 t, const char *src, const char *dst, guint8 type, guint8 code)
{
    gboolean v6 = strchr(src, ':') != NULL;
    TrafanPacket *p = push(s, t, src, dst, v6 ? 58 : 1, 98);
    p->icmp_family = v6 ? 6 : 4;
    p->icmp_type = type;
    p->icmp_code = code;
}

enum { FIN = TRAFAN_TCP_FIN, SYN = TRAFAN_TCP_SYN, RST = TRAFAN_TCP_RST, PSH = TRAFAN_TCP_PSH,
       ACK = TRAFAN_TCP_ACK, URG = TRAFAN_TCP_URG };

/* A complete short TCP connection: handshake, n data segments, close. */
static void
connection(GArray *s, gint64 t, const char *client, guint16 cport, const char *server, guint16 sport,
           guint n_data, guint32 data_len)
{
    tcp(s, t, client, cport, server, sport, SYN, 74);
    tcp(s, t + S(0.01), server, sport, client, cport, SYN | ACK, 74);
    tcp(s, t + S(0.02), client, cport, server, sport, ACK, 66);
    for (guint i = 0; i < n_data; i++) {
        tcp(s, t + S(0.03) + i * S(0.001), server, sport, client, cport, ACK | PSH, data_len);
        if (i % 2)
            tcp(s, t + S(0.03) + i * S(0.001), client, cport, server, sport, ACK, 66);
    }
    gint64 end = t + S(0.04) + n_data * S(0.001);
    tcp(s, end, client, cport, server, sport, FIN | ACK, 66);
    tcp(s, end + S(0.01), server, sport, client, cport, FIN | ACK, 66);
    tcp(s, end + S(0.02), client, cport, server, sport, ACK, 66);
}

static int
by_time(gconstpointer a, gconstpointer b)
{
    const TrafanPacket *x = a, *y = b;
    return x->abs_ns < y->abs_ns ? -1 : x->abs_ns > y->abs_ns;
}

static GArray *
stream_new(void)
{
    return g_array_new(FALSE, TRUE, sizeof(TrafanPacket));
}

static void
stream_sort(GArray *s)
{
    g_array_sort(s, by_time);       /* scenarios interleave several generators */
}

/* ------------------------------------------------------------------ */
/* Running and checking                                                 */

typedef struct {
    TrafanDetector  *d;
    const GPtrArray *flags;
} Run;

static Run
run_with(GArray *s, const char *const *opts)
{
    TrafanDetectConfig cfg;
    trafan_detect_config_init(&cfg);
    for (guint i = 0; opts && opts[i]; i += 2) {
        GError *error = NULL;
        g_assert_true(trafan_detect_config_set(&cfg, opts[i], opts[i + 1], &error));
        g_assert_no_error(error);
    }
    Run r = { trafan_detector_new(&cfg), NULL };
    trafan_detect_config_clear(&cfg);
    for (guint i = 0; i < s->len; i++)
        trafan_detector_add(r.d, &g_array_index(s, TrafanPacket, i));
    r.flags = trafan_detector_finish(r.d);
    return r;
}

static Run
run(GArray *s)
{
    return run_with(s, NULL);
}

static char *
flag_label(const TrafanFlag *f)
{
    char host[64];
    return g_strdup_printf("%s %s %s", trafan_address_to_str(&f->host, host), f->rule,
                           trafan_role_name(f->role));
}

static int
str_compare(gconstpointer a, gconstpointer b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The flags, as sorted "host rule role" lines, must be exactly `expected`. */
static void
assert_flags(const Run *r, const char *const *expected)
{
    GPtrArray *got = g_ptr_array_new_with_free_func(g_free);
    for (guint i = 0; i < r->flags->len; i++)
        g_ptr_array_add(got, flag_label(r->flags->pdata[i]));
    g_ptr_array_sort(got, str_compare);
    GString *g = g_string_new(NULL), *e = g_string_new(NULL);
    for (guint i = 0; i < got->len; i++)
        g_string_append_printf(g, "%s\n", (char *)got->pdata[i]);
    for (guint i = 0; expected[i]; i++)
        g_string_append_printf(e, "%s\n", expected[i]);
    if (strcmp(g->str, e->str) != 0) {
        for (guint i = 0; i < r->flags->len; i++)
            g_test_message("flag: %s", ((TrafanFlag *)r->flags->pdata[i])->summary);
    }
    g_assert_cmpstr(g->str, ==, e->str);
    g_string_free(g, TRUE);
    g_string_free(e, TRUE);
    g_ptr_array_unref(got);
}

static const TrafanFlag *
flag_of(const Run *r, const char *rule)
{
    for (guint i = 0; i < r->flags->len; i++)
        if (strcmp(((TrafanFlag *)r->flags->pdata[i])->rule, rule) == 0)
            return r->flags->pdata[i];
    g_assert_not_reached();
    return NULL;
}

static void
run_free(Run *r)
{
    trafan_detector_free(r->d);
}

static const char *const NONE[] = { NULL };

/* ------------------------------------------------------------------ */
/* Scenarios                                                            */

#define SCANNER "192.0.2.10"
#define VICTIM  "198.51.100.20"

/* SYN scan of ports 1..n in `secs`; the victim answers like a real host. */
static void
syn_scan(GArray *s, gint64 t0, guint n, double secs)
{
    for (guint p = 1; p <= n; p++) {
        gint64 t = t0 + S(secs * (p - 1) / n);
        tcp(s, t, SCANNER, 40000, VICTIM, p, SYN, 58);
        if (p == 22 || p == 80 || p == 443) {
            tcp(s, t + S(0.001), VICTIM, p, SCANNER, 40000, SYN | ACK, 58);
            tcp(s, t + S(0.002), SCANNER, 40000, VICTIM, p, RST, 54);
        } else {
            tcp(s, t + S(0.001), VICTIM, p, SCANNER, 40000, RST | ACK, 54);
        }
    }
}

static void
test_syn_scan(void)
{
    GArray *s = stream_new();
    syn_scan(s, 0, 200, 2.0);
    Run r = run(s);
    assert_flags(&r, (const char *const[]){ SCANNER " port_scan source", NULL });
    const TrafanFlag *f = flag_of(&r, "port_scan");
    g_assert_cmpfloat(f->observed, ==, 198);          /* 200 probed, 22 and 80 open */
    g_assert_cmpfloat(f->threshold, ==, 15);
    g_assert_false(f->approximate);
    g_assert_cmpuint(f->peers->len, ==, 1);
    char buf[64];
    g_assert_cmpstr(trafan_address_to_str(&g_array_index(f->peers, TrafanFlagPeer, 0).address, buf), ==, VICTIM);
    g_assert_cmpint(f->start_ns, ==, T0);
    g_assert_cmpint(f->end_ns, ==, T0 + S(2.0 * 199 / 200));
    g_assert_cmpstr(f->filter, ==, "ip.src==" SCANNER " && ip.dst==" VICTIM
                    " && !icmp && ((tcp.flags.syn==1 && tcp.flags.ack==0))");
    g_assert_nonnull(strstr(f->summary, SCANNER " probed 198 ports on " VICTIM));
    run_free(&r);
    g_array_unref(s);
}

static void
test_connect_scan(void)
{
    GArray *s = stream_new();
    for (guint p = 1; p <= 100; p++) {
        gint64 t = S(p * 0.05);
        guint16 sport = 50000 + p;
        tcp(s, t, SCANNER, sport, VICTIM, p, SYN, 74);
        if (p % 25 == 0) {         /* open: the scanner completes, then resets */
            tcp(s, t + S(0.001), VICTIM, p, SCANNER, sport, SYN | ACK, 74);
            tcp(s, t + S(0.002), SCANNER, sport, VICTIM, p, ACK, 66);
            tcp(s, t + S(0.003), SCANNER, sport, VICTIM, p, RST | ACK, 66);
        } else {
            tcp(s, t + S(0.001), VICTIM, p, SCANNER, sport, RST | ACK, 60);
        }
    }
    Run r = run(s);
    assert_flags(&r, (const char *const[]){ SCANNER " port_scan source", NULL });
    g_assert_cmpfloat(flag_of(&r, "port_scan")->observed, ==, 96);
    run_free(&r);
    g_array_unref(s);
}

static void
test_slow_scan(void)
{
    GArray *s = stream_new();
    syn_scan(s, 0, 240, 240.0);        /* one port per second for four minutes */
    Run r = run(s);
    assert_flags(&r, (const char *const[]){ SCANNER " port_scan source", NULL });
    /* The 300 s windows overlap; at least one holds most of the scan. */
    g_assert_cmpfloat(flag_of(&r, "port_scan")->observed, >=, 150);
    g_assert_cmpint(flag_of(&r, "port_scan")->window_ns, ==, S(300));
    run_free(&r);
    g_array_unref(s);
}

static void
test_udp_scan(void)
{
    GArray *s = stream_new();
    for (guint p = 1; p <= 100; p++) {
        udp(s, S(p * 0.01), SCANNER, 45000, VICTIM, p, 42);
        icmp(s, S(p * 0.01 + 0.001), VICTIM, SCANNER, 3, 3);      /* port unreachable */
    }
    Run r = run(s);
    assert_flags(&r, (const char *const[]){ SCANNER " port_scan source", NULL });
    g_assert_cmpfloat(flag_of(&r, "port_scan")->observed, ==, 100);
    g_assert_nonnull(strstr(flag_of(&r, "port_scan")->filter, "udp"));
    run_free(&r);
    g_array_unref(s);
}

static void
test_stealth_scan(void)
{
    GArray *s = stream_new();
    const guint16 kinds[] = { FIN, 0, FIN | PSH | URG };   /* FIN, NULL, Xmas */
    for (guint i = 0; i < 3; i++) {
        tcp(s, S(10 * i), SCANNER, 40000, VICTIM, 3390 + i, kinds[i], 54);
        tcp(s, S(10 * i + 0.001), VICTIM, 3390 + i, SCANNER, 40000, RST | ACK, 54);
    }
    Run r = run(s);
    assert_flags(&r, (const char *const[]){ SCANNER " port_scan source", NULL });
    const TrafanFlag *f = flag_of(&r, "port_scan");
    g_assert_cmpfloat(f->observed, ==, 3);
    g_assert_cmpfloat(f->threshold, ==, 3);
    g_assert_nonnull(strstr(f->filter, "tcp.flags.syn==0 && tcp.flags.ack==0 && tcp.flags.reset==0"));

    /* Two stealth probes are not enough. */
    g_array_set_size(s, 4);
    Run r2 = run(s);
    assert_flags(&r2, NONE);
    run_free(&r);
    run_free(&r2);
    g_array_unref(s);
}

static void
test_icmp_sweep(void)
{
    GArray *s = stream_new();
    for (guint h = 1; h <= 254; h++) {
        char dst[32];
        g_snprintf(dst, sizeof dst, "203.0.113.%u", h);
        icmp(s, S(h * 0.01), SCANNER, dst, 8, 0);
        if (h % 10 == 0)           /* a few hosts are up */
            icmp(s, S(h * 0.01 + 0.001), dst, SCANNER, 0, 0);
    }
    Run r = run(s);
    assert_flags(&r, (const char *const[]){ SCANNER " host_sweep source", NULL });
    const TrafanFlag *f = flag_of(&r, "host_sweep");
    g_assert_cmpfloat(f->observed, ==, 254 - 25);
    g_assert_cmpuint(f->peers->len, ==, 5);
    g_assert_cmpstr(f->filter, ==, "ip.src==" SCANNER " && icmp.type==8");
    run_free(&r);
    g_array_unref(s);
}

static void
test_tcp_sweep(void)
{
    GArray *s = stream_new();
    for (guint h = 1; h <= 254; h++) {
        char dst[32];
        g_snprintf(dst, sizeof dst, "203.0.113.%u", h);
        tcp(s, S(h * 0.005), SCANNER, 41000 + h, dst, 80, SYN, 58);
    }
    Run r = run(s);
    assert_flags(&r, (const char *const[]){ SCANNER " host_sweep source", NULL });
    g_assert_cmpfloat(flag_of(&r, "host_sweep")->observed, ==, 254);
    g_assert_nonnull(strstr(flag_of(&r, "host_sweep")->filter, "tcp.dstport==80"));
    run_free(&r);
    g_array_unref(s);
}

static void
test_syn_flood_single(void)
{
    GArray *s = stream_new();
    for (guint i = 0; i < 5000; i++) {
        gint64 t = S(i * 0.0004);             /* 2500 SYN/s for 2 s */
        tcp(s, t, "192.0.2.66", 1024 + i % 60000, "198.51.100.80", 80, SYN, 60);
        tcp(s, t + S(0.0001), "198.51.100.80", 80, "192.0.2.66", 1024 + i % 60000, SYN | ACK, 60);
    }
    Run r = run(s);
    assert_flags(&r, (const char *const[]){ "192.0.2.66 syn_flood source", NULL });
    const TrafanFlag *f = flag_of(&r, "syn_flood");
    g_assert_cmpfloat(f->observed, >=, 2400);
    g_assert_cmpfloat(f->observed, <=, 2500);
    g_assert_cmpstr(f->filter, ==, "ip.src==192.0.2.66 && ip.dst==198.51.100.80 && "
                    "tcp.flags.syn==1 && tcp.flags.ack==0");
    run_free(&r);
    g_array_unref(s);
}

static void
test_syn_flood_spoofed(void)
{
    GArray *s = stream_new();
    for (guint i = 0; i < 6000; i++) {
        char src[48];
        g_snprintf(src, sizeof src, "2001:db8:%x::%x", i / 256, i % 256 + 1);
        tcp(s, S(i * 0.0005), src, 1024 + i, "2001:db8:ffff::80", 443, SYN, 74);
    }
    Run r = run(s);
    assert_flags(&r, (const char *const[]){ "2001:db8:ffff::80 syn_flood target", NULL });
    const TrafanFlag *f = flag_of(&r, "syn_flood");
    g_assert_true(f->approximate);                    /* 2000 sources per window > exact_cap */
    g_assert_cmpuint(f->peers_total, >=, 1700);
    g_assert_cmpuint(f->peers_total, <=, 2300);
    g_assert_cmpuint(f->peers->len, ==, 5);
    g_assert_cmpstr(f->filter, ==, "ipv6.dst==2001:db8:ffff::80 && tcp.flags.syn==1 && tcp.flags.ack==0");
    run_free(&r);
    g_array_unref(s);
}

static void
test_icmp_flood(void)
{
    GArray *s = stream_new();
    for (guint i = 0; i < 2000; i++)
        icmp(s, S(i * 0.001), "192.0.2.77", "198.51.100.9", 8, 0);
    Run r = run(s);
    assert_flags(&r, (const char *const[]){ "192.0.2.77 icmp_flood source", NULL });
    g_assert_cmpfloat(flag_of(&r, "icmp_flood")->observed, ==, 1000);
    run_free(&r);
    g_array_unref(s);
}

static void
test_udp_flood(void)
{
    GArray *s = stream_new();
    for (guint i = 0; i < 4000; i++)
        udp(s, S(i * 0.0005), "192.0.2.88", 40000 + i % 1000, "198.51.100.9", 9999, 1400);
    Run r = run(s);
    assert_flags(&r, (const char *const[]){ "192.0.2.88 udp_flood source", NULL });
    g_assert_cmpfloat(flag_of(&r, "udp_flood")->observed, ==, 2000);
    run_free(&r);
    g_array_unref(s);
}

static void
test_bandwidth_spike(void)
{
    GArray *s = stream_new();
    for (guint sec = 0; sec < 40; sec++)
        for (guint i = 0; i < 100; i++)        /* 100 kB/s of background */
            udp(s, S(sec + i * 0.01), "192.0.2.30", 5004, "198.51.100.31", 5004, 1000);
    for (guint i = 0; i < 4000; i++)           /* 6 MB within second 30 */
        tcp(s, S(30 + i * 0.0002), "192.0.2.99", 443, "198.51.100.31", 50000, ACK, 1500);
    stream_sort(s);
    Run r = run(s);
    assert_flags(&r, (const char *const[]){ "192.0.2.99 bandwidth_spike source", NULL });
    const TrafanFlag *f = flag_of(&r, "bandwidth_spike");
    g_assert_cmpfloat(f->observed, ==, 6000000 + 100000);
    g_assert_cmpint(f->start_ns, ==, T0 + S(30));
    g_assert_cmpint(f->end_ns, ==, T0 + S(31));
    g_assert_cmpstr(f->filter, ==, "frame.time_relative >= 30.000000 && frame.time_relative < 31.000000");
    run_free(&r);
    g_array_unref(s);
}

/* Connection starts every `period` s with uniform jitter of +-jitter s. */
static void
periodic(GArray *s, const char *client, const char *server, guint n, double period, double jitter,
         guint32 seed)
{
    GRand *rand = g_rand_new_with_seed(seed);
    double t = 5;
    for (guint i = 0; i < n; i++) {
        connection(s, S(t), client, 50000 + i, server, 443, 4, 600);
        t += period + g_rand_double_range(rand, -jitter, jitter);
    }
    g_rand_free(rand);
}

static void
test_beacon(void)
{
    GArray *s = stream_new();
    periodic(s, "192.0.2.50", "203.0.113.7", 20, 30, 1.5, 1);
    tcp(s, S(100.0005), "192.0.2.50", 50003, "203.0.113.7", 443, SYN, 74);   /* a retransmission */
    stream_sort(s);
    Run r = run(s);
    assert_flags(&r, (const char *const[]){ "192.0.2.50 beacon source", NULL });
    const TrafanFlag *f = flag_of(&r, "beacon");
    g_assert_cmpfloat(f->observed, ==, 20);
    g_assert_cmpstr(f->filter, ==, "ip.src==192.0.2.50 && ip.dst==203.0.113.7 && tcp.dstport==443");
    run_free(&r);
    g_array_unref(s);
}

/* ------------------------------------------------------------------ */
/* Benign traffic                                                       */

static void
test_busy_https_server(void)
{
    GArray *s = stream_new();
    GRand *rand = g_rand_new_with_seed(7);
    for (guint c = 0; c < 3000; c++) {        /* 50 new connections/s for a minute */
        char client[32];
        g_snprintf(client, sizeof client, "203.0.113.%u", g_rand_int_range(rand, 1, 251));
        connection(s, S(c * 0.02 + g_rand_double_range(rand, 0, 0.01)), client, 20000 + c,
                   "198.51.100.10", 443, 40, 1500);
    }
    g_rand_free(rand);
    stream_sort(s);
    Run r = run(s);
    assert_flags(&r, NONE);
    run_free(&r);
    g_array_unref(s);
}

static void
test_large_download(void)
{
    GArray *s = stream_new();
    for (guint i = 0; i < 70000; i++) {       /* 105 MB in 10 s: 84 Mbit/s */
        gint64 t = S(i * 10.0 / 70000);
        tcp(s, t, "198.51.100.40", 443, "192.0.2.41", 51515, ACK, 1500);
        if (i % 2)
            tcp(s, t, "192.0.2.41", 51515, "198.51.100.40", 443, ACK, 66);
    }
    Run r = run(s);
    assert_flags(&r, NONE);
    run_free(&r);
    g_array_unref(s);
}

static void
test_dns_resolver(void)
{
    GArray *s = stream_new();
    for (guint i = 0; i < 5000; i++) {        /* 500 queries/s from 200 clients, all answered */
        char client[32];
        g_snprintf(client, sizeof client, "203.0.113.%u", i % 200 + 1);
        udp(s, S(i * 0.002), client, 30000 + i, "192.0.2.53", 53, 80);
        udp(s, S(i * 0.002 + 0.0005), "192.0.2.53", 53, client, 30000 + i, 200);
    }
    Run r = run(s);
    assert_flags(&r, NONE);
    run_free(&r);
    g_array_unref(s);
}

static void
test_human_periodic(void)
{
    /* Someone checking a page roughly every minute: jitter ~ the period. */
    GArray *s = stream_new();
    GRand *rand = g_rand_new_with_seed(3);
    double t = 0;
    for (guint i = 0; i < 40; i++) {
        connection(s, S(t), "192.0.2.60", 40000 + i, "203.0.113.8", 443, 6, 1200);
        t += 60 * -log(1 - g_rand_double(rand));     /* exponential gaps */
    }
    g_rand_free(rand);
    stream_sort(s);
    Run r = run(s);
    assert_flags(&r, NONE);
    run_free(&r);
    g_array_unref(s);
}

static void
test_time_backwards(void)
{
    GArray *s = stream_new();
    syn_scan(s, 0, 100, 1.0);
    /* Steps back of microseconds and of a day, as real captures have. */
    for (guint i = 10; i < s->len; i += 37)
        g_array_index(s, TrafanPacket, i).abs_ns -= S(0.00005);
    g_array_index(s, TrafanPacket, 150).abs_ns -= S(86400);
    Run r = run(s);
    assert_flags(&r, (const char *const[]){ SCANNER " port_scan source", NULL });
    const TrafanFlag *f = flag_of(&r, "port_scan");
    g_assert_cmpint(f->end_ns, >=, f->start_ns);
    g_assert_cmpint(f->end_ns - f->start_ns, <, S(2));
    g_assert_cmpfloat(f->observed, ==, 98);
    run_free(&r);

    /* A data packet from an hour ago does not disturb a beacon. */
    GArray *b = stream_new();
    periodic(b, "192.0.2.50", "203.0.113.7", 20, 30, 0.5, 2);
    stream_sort(b);
    guint mid = b->len / 2;
    while (g_array_index(b, TrafanPacket, mid).transport[0].tcp_flags & SYN)
        mid++;
    g_array_index(b, TrafanPacket, mid).abs_ns -= S(3600);
    Run rb = run(b);
    assert_flags(&rb, (const char *const[]){ "192.0.2.50 beacon source", NULL });
    run_free(&rb);
    g_array_unref(b);
    g_array_unref(s);
}

static void
test_allowlist(void)
{
    GArray *s = stream_new();
    syn_scan(s, 0, 100, 1.0);
    Run others = run_with(s, (const char *const[]){ "allowlist", "10.0.0.0/8, 2001:db8::/32 192.0.2.16/28", NULL });
    assert_flags(&others, (const char *const[]){ SCANNER " port_scan source", NULL });
    Run prefix = run_with(s, (const char *const[]){ "allowlist", "2001:db8::1 192.0.2.0/28", NULL });
    assert_flags(&prefix, NONE);
    Run exact = run_with(s, (const char *const[]){ "allowlist", SCANNER, NULL });
    assert_flags(&exact, NONE);
    run_free(&others);
    run_free(&prefix);
    run_free(&exact);
    g_array_unref(s);
}

/* An option's value, as a number. */
static double
option(const TrafanDetectConfig *cfg, const char *name)
{
    char *text = trafan_detect_config_get(cfg, name);
    g_assert_nonnull(text);
    double v = g_ascii_strtod(text, NULL);
    g_free(text);
    return v;
}

static void
expect_error(const char *name, const char *value, const char *fragment)
{
    TrafanDetectConfig cfg;
    GError *error = NULL;
    trafan_detect_config_init(&cfg);
    double before = option(&cfg, "port_scan_ports");
    g_assert_false(trafan_detect_config_set(&cfg, name, value, &error));
    g_assert_nonnull(error);
    if (!strstr(error->message, fragment))
        g_error("'%s' lacks '%s'", error->message, fragment);
    g_assert_cmpfloat(option(&cfg, "port_scan_ports"), ==, before);
    g_error_free(error);
    trafan_detect_config_clear(&cfg);
}

static void
test_option_errors(void)
{
    expect_error("port_scan_portz", "3", "unknown trafan option 'port_scan_portz'");
    expect_error("port_scan_portz", "3", "port_scan_stealth_ports");        /* lists valid ones */
    expect_error("port_scan_ports", "abc", "port_scan_ports: 'abc' is not an integer from 2 to");
    expect_error("port_scan_ports", "1", "from 2 to 131072");
    expect_error("port_scan_ports", "-5", "port_scan_ports");
    expect_error("port_scan_window", "1e999", "port_scan_window: '1e999' is not a number from 0.001 to 86400");
    expect_error("port_scan_window", "5s", "port_scan_window");
    expect_error("udp_flood_reply_ratio", "1.5", "from 0 to 1");
    expect_error("brute_force_ports", "22;ssh", "brute_force_ports: 'ssh' is not a port");
    expect_error("preset", "paranoid", "preset: 'paranoid' is not one of: default, seed");
    expect_error("allowlist", "192.0.2.0/33", "allowlist: '192.0.2.0/33'");
    expect_error("allowlist", "10.0.0.1, not-an-address", "'not-an-address'");

    /* Good values, with surrounding spaces and in any case. */
    TrafanDetectConfig cfg;
    trafan_detect_config_init(&cfg);
    g_assert_true(trafan_detect_config_set(&cfg, "PORT_SCAN_PORTS", " 20 ", NULL));
    g_assert_cmpfloat(option(&cfg, "port_scan_ports"), ==, 20);
    g_assert_true(trafan_detect_config_set(&cfg, "beacon_max_cv", "0.35", NULL));
    /* List values: ; | , or spaces (commas split -z options). */
    g_assert_true(trafan_detect_config_set(&cfg, "allowlist", "10.0.0.1|192.0.2.0/24;2001:db8::/32 198.51.100.7", NULL));
    g_assert_true(trafan_detect_config_set(&cfg, "brute_force_ports", "22|2222;21", NULL));
    g_assert_cmpfloat(option(&cfg, "beacon_max_cv"), ==, 0.35);
    trafan_detect_config_clear(&cfg);
}

static void
test_option_table(void)
{
    guint n;
    const TrafanDetectOption *o = trafan_detect_options(&n);
    TrafanDetectConfig cfg;
    trafan_detect_config_init(&cfg);
    g_assert_cmpuint(n, >=, 20);
    g_assert_cmpstr(o[0].name, ==, "preset");
    for (guint i = 0; i < n; i++) {
        g_assert_nonnull(o[i].title);
        g_assert_nonnull(strstr(o[i].description, "default"));
        g_assert_true(o[i].offset < sizeof(TrafanDetectConfig));
        /* Every default is accepted by its own parser and is what init set. */
        TrafanDetectConfig copy;
        trafan_detect_config_init(&copy);
        g_assert_true(trafan_detect_config_set(&copy, o[i].name, o[i].default_text, NULL));
        if (o[i].type == TRAFAN_OPT_UINT)
            g_assert_cmpuint(G_STRUCT_MEMBER(guint, &copy, o[i].offset), ==,
                             G_STRUCT_MEMBER(guint, &cfg, o[i].offset));
        if (o[i].type == TRAFAN_OPT_DOUBLE)
            g_assert_cmpfloat(G_STRUCT_MEMBER(double, &copy, o[i].offset), ==,
                              G_STRUCT_MEMBER(double, &cfg, o[i].offset));
        trafan_detect_config_clear(&copy);
    }
    trafan_detect_config_clear(&cfg);
}

static void
test_preset_seed(void)
{
    TrafanDetectConfig cfg;
    trafan_detect_config_init(&cfg);
    g_assert_cmpfloat(option(&cfg, "packet_rate_packets"), ==, 1000000);
    g_assert_true(trafan_detect_config_set(&cfg, "port_scan_ports", "30", NULL));
    g_assert_true(trafan_detect_config_set(&cfg, "preset", "seed", NULL));
    g_assert_cmpfloat(option(&cfg, "packet_rate_packets"), ==, 50);
    g_assert_cmpfloat(option(&cfg, "packet_rate_window"), ==, 10);
    g_assert_cmpfloat(option(&cfg, "bandwidth_bytes"), ==, 2000);
    g_assert_cmpfloat(option(&cfg, "port_scan_ports"), ==, 15);     /* a preset resets what came before */
    g_assert_true(trafan_detect_config_set(&cfg, "packet_rate_packets", "80", NULL));
    g_assert_cmpfloat(option(&cfg, "packet_rate_packets"), ==, 80);
    g_assert_true(trafan_detect_config_set(&cfg, "preset", "default", NULL));
    g_assert_cmpfloat(option(&cfg, "packet_rate_packets"), ==, 1000000);
    g_assert_cmpfloat(option(&cfg, "bandwidth_bytes"), ==, 125000000);
    trafan_detect_config_clear(&cfg);

    /* 60 packets of 100 bytes in 6 s: naive rules fire, real ones do not. */
    GArray *s = stream_new();
    for (guint i = 0; i < 60; i++)
        udp(s, S(i * 0.1), "192.0.2.5", 5000, "198.51.100.5", 5000, i < 30 ? 100 : 2500);
    Run seed = run_with(s, (const char *const[]){ "preset", "seed", NULL });
    assert_flags(&seed, (const char *const[]){ "192.0.2.5 bandwidth source",
                                               "192.0.2.5 packet_rate source", NULL });
    g_assert_cmpfloat(flag_of(&seed, "packet_rate")->observed, ==, 60);
    g_assert_cmpfloat(flag_of(&seed, "bandwidth")->observed, ==, 25000);
    Run dflt = run(s);
    assert_flags(&dflt, NONE);
    run_free(&seed);
    run_free(&dflt);
    g_array_unref(s);
}

/* ------------------------------------------------------------------ */
/* Merge, memory, live alerts                                           */

static GArray *
mixed_stream(void)
{
    GArray *s = stream_new();
    syn_scan(s, S(0.3), 150, 3.0);
    periodic(s, "192.0.2.50", "203.0.113.7", 25, 7, 0.3, 5);
    for (guint i = 0; i < 800; i++) {
        char src[32];
        g_snprintf(src, sizeof src, "203.0.113.%u", i % 200 + 1);
        tcp(s, S(40 + i * 0.002), src, 1024 + i, "198.51.100.80", 80, SYN, 60);
        icmp(s, S(60 + i * 0.003), "192.0.2.77", "198.51.100.9", 8, 0);
    }
    for (guint h = 1; h <= 60; h++) {
        char dst[32];
        g_snprintf(dst, sizeof dst, "203.0.113.%u", h);
        udp(s, S(100 + h * 0.7), "192.0.2.70", 5353 + 1, dst, 161, 60);
    }
    for (guint sec = 0; sec < 200; sec++)
        udp(s, S(sec + 0.5), "192.0.2.30", 5004, "198.51.100.31", 5004, 20000);
    for (guint i = 0; i < 1000; i++)
        tcp(s, S(150 + i * 0.0005), "192.0.2.99", 443, "198.51.100.31", 50000, ACK, 1500);
    for (guint i = 0; i < 40; i++)
        connection(s, S(20 + i * 0.4), "198.51.100.9", 41000 + i, "192.0.2.22", 22, 8, 300);
    for (guint i = 0; i < 1200; i++)
        udp(s, S(120 + i * 0.0025), "198.51.100.77", 40000, "192.0.2.80", 9999, 512);
    stream_sort(s);
    return s;
}

static char *
flag_dump(const TrafanFlag *f)
{
    char host[64];
    GString *s = g_string_new(NULL);
    g_string_append_printf(s, "%s %s %s %" G_GINT64_FORMAT " %" G_GINT64_FORMAT " %.9g %.9g %"
                           G_GINT64_FORMAT " %d %" G_GUINT64_FORMAT " [%s] [%s]",
                           trafan_address_to_str(&f->host, host), f->rule, trafan_role_name(f->role),
                           f->start_ns, f->end_ns, f->observed, f->threshold, f->window_ns,
                           f->approximate, f->peers_total, f->filter, f->summary);
    for (guint i = 0; i < f->peers->len; i++) {
        const TrafanFlagPeer *p = &g_array_index(f->peers, TrafanFlagPeer, i);
        g_string_append_printf(s, " %s=%" G_GUINT64_FORMAT, trafan_address_to_str(&p->address, host),
                               p->count);
    }
    return g_string_free(s, FALSE);
}

static char *
flags_dump(const GPtrArray *flags)
{
    GString *s = g_string_new(NULL);
    for (guint i = 0; i < flags->len; i++) {
        char *line = flag_dump(flags->pdata[i]);
        g_string_append_printf(s, "%s\n", line);
        g_free(line);
    }
    return g_string_free(s, FALSE);
}

/* Run the stream in n slices and merge them in order. */
/* A detector through a state file and back: bytes, normal form, load. */
static TrafanDetector *
through_state(TrafanDetector *d, const TrafanDetectConfig *cfg)
{
    GVariant *state = g_variant_ref_sink(trafan_detector_save(d));
    GBytes *bytes = g_variant_get_data_as_bytes(state);
    GVariant *read = g_variant_ref_sink(g_variant_new_from_bytes(g_variant_get_type(state), bytes, FALSE));
    GVariant *normal = g_variant_get_normal_form(read);
    GError *error = NULL;
    TrafanDetector *back = trafan_detector_load(cfg, normal, &error);
    g_assert_no_error(error);
    /* The same state, the same bytes. */
    GVariant *again = g_variant_ref_sink(trafan_detector_save(back));
    g_assert_true(g_variant_equal(state, again));
    g_variant_unref(again);
    g_variant_unref(normal);
    g_variant_unref(read);
    g_bytes_unref(bytes);
    g_variant_unref(state);
    trafan_detector_free(d);
    return back;
}

static gboolean use_states;     /* merged_dump() sends each slice through a state file */

static char *
merged_dump(GArray *s, const guint *cuts, guint n_cuts, const TrafanDetectConfig *cfg)
{
    TrafanDetector *whole = NULL;
    guint from = 0;
    for (guint c = 0; c <= n_cuts; c++) {
        guint to = c < n_cuts ? cuts[c] : s->len;
        TrafanDetector *slice = trafan_detector_new(cfg);
        for (guint i = from; i < to; i++)
            trafan_detector_add(slice, &g_array_index(s, TrafanPacket, i));
        if (use_states)
            slice = through_state(slice, cfg);
        if (whole == NULL) {
            whole = slice;
        } else {
            GError *error = NULL;
            g_assert_true(trafan_detector_merge(whole, slice, &error));
            g_assert_no_error(error);
            trafan_detector_free(slice);
        }
        from = to;
    }
    char *dump = flags_dump(trafan_detector_finish(whole));
    trafan_detector_free(whole);
    return dump;
}

static void
test_merge_equals_whole(void)
{
    GArray *s = mixed_stream();
    TrafanDetectConfig cfg;
    trafan_detect_config_init(&cfg);
    char *whole = merged_dump(s, NULL, 0, &cfg);
    /* Each rule fires, so the comparison covers them all. */
    static const char *const rules[] = { "port_scan", "host_sweep", "syn_flood", "icmp_flood",
                                         "udp_flood", "beacon", "bandwidth_spike", "brute_force" };
    for (guint r = 0; r < G_N_ELEMENTS(rules); r++)
        if (!strstr(whole, rules[r]))
            g_error("%s missing from:\n%s", rules[r], whole);
    GRand *rand = g_rand_new_with_seed(11);
    /* Through state files (megabytes each) fewer trials show the same. */
    for (guint trial = 0; trial < (use_states ? 6u : 40u); trial++) {
        guint cuts[3];
        guint n = 1 + trial % 3;
        for (guint i = 0; i < n; i++)
            cuts[i] = g_rand_int_range(rand, 1, s->len);
        for (guint i = 1; i < n; i++)       /* ascending */
            for (guint j = i; j > 0 && cuts[j] < cuts[j - 1]; j--) {
                guint x = cuts[j]; cuts[j] = cuts[j - 1]; cuts[j - 1] = x;
            }
        char *merged = merged_dump(s, cuts, n, &cfg);
        g_assert_cmpstr(merged, ==, whole);
        g_free(merged);
    }
    /* Cuts inside the scan and inside the floods, and an empty slice. */
    const guint fixed[] = { 10, 10, s->len / 2 };
    char *merged = merged_dump(s, fixed, 3, &cfg);
    g_assert_cmpstr(merged, ==, whole);
    g_free(merged);

    g_rand_free(rand);
    g_free(whole);
    trafan_detect_config_clear(&cfg);
    g_array_unref(s);
}

static void
test_merge_through_states(void)
{
    use_states = TRUE;
    test_merge_equals_whole();
    use_states = FALSE;
}

static void
test_state_refuses(void)
{
    TrafanDetectConfig a, b;
    trafan_detect_config_init(&a);
    trafan_detect_config_init(&b);
    g_assert_true(trafan_detect_config_set(&b, "port_scan_ports", "40", NULL));
    TrafanDetector *x = trafan_detector_new(&a);
    GVariant *state = g_variant_ref_sink(trafan_detector_save(x));
    GError *error = NULL;
    g_assert_null(trafan_detector_load(&b, state, &error));
    g_assert_nonnull(strstr(error->message, "port_scan_ports is 40 here, 15 in the state"));
    g_clear_error(&error);

    /* Another type, and bytes that are not a state at all. */
    GVariant *other = g_variant_ref_sink(g_variant_new("(us)", 1, "x"));
    g_assert_null(trafan_detector_load(&a, other, &error));
    g_assert_nonnull(strstr(error->message, "not a trafan detector state"));
    g_clear_error(&error);
    static const guint8 junk[] = "0123456789abcdef0123456789abcdef";
    GVariant *garbage = g_variant_ref_sink(g_variant_new_from_data(g_variant_get_type(state), junk, sizeof junk,
                                                                   FALSE, NULL, NULL));
    GVariant *normal = g_variant_get_normal_form(garbage);
    TrafanDetector *y = trafan_detector_load(&a, normal, &error);
    g_assert_null(y);           /* a version or options it cannot have */
    g_assert_nonnull(error);
    g_clear_error(&error);
    g_variant_unref(normal);
    g_variant_unref(garbage);
    g_variant_unref(other);
    g_variant_unref(state);
    trafan_detector_free(x);
    trafan_detect_config_clear(&a);
    trafan_detect_config_clear(&b);
}

static void
test_merge_refuses(void)
{
    TrafanDetectConfig a, b;
    trafan_detect_config_init(&a);
    trafan_detect_config_init(&b);
    g_assert_true(trafan_detect_config_set(&b, "port_scan_ports", "40", NULL));
    TrafanDetector *x = trafan_detector_new(&a), *y = trafan_detector_new(&b);
    GError *error = NULL;
    g_assert_false(trafan_detector_merge(x, y, &error));
    g_assert_nonnull(strstr(error->message, "different options"));
    g_clear_error(&error);
    trafan_detector_finish(y);
    TrafanDetector *z = trafan_detector_new(&a);
    trafan_detector_finish(z);
    g_assert_false(trafan_detector_merge(x, z, &error));
    g_clear_error(&error);
    trafan_detector_free(x);
    trafan_detector_free(y);
    trafan_detector_free(z);
    trafan_detect_config_clear(&a);
    trafan_detect_config_clear(&b);
}

static void
test_memory_cap(void)
{
    GArray *s = stream_new();
    for (guint p = 1; p <= 1000; p++)
        tcp(s, S(p * 0.001), SCANNER, 40000, VICTIM, p, SYN, 58);
    Run exact = run(s);
    const TrafanFlag *f = flag_of(&exact, "port_scan");
    g_assert_false(f->approximate);
    g_assert_cmpfloat(f->observed, ==, 1000);
    Run sketch = run_with(s, (const char *const[]){ "exact_cap", "16", NULL });
    assert_flags(&sketch, (const char *const[]){ SCANNER " port_scan source", NULL });
    f = flag_of(&sketch, "port_scan");
    g_assert_true(f->approximate);
    g_assert_cmpfloat(f->observed, >=, 1000 * 0.8);
    g_assert_cmpfloat(f->observed, <=, 1000 * 1.2);
    g_assert_nonnull(strstr(f->summary, "about"));

    /* Past max_tracked new keys are ignored rather than stored. */
    Run capped = run_with(s, (const char *const[]){ "max_tracked", "16", NULL });
    g_assert_cmpuint(capped.flags->len, ==, 1);
    run_free(&exact);
    run_free(&sketch);
    run_free(&capped);
    g_array_unref(s);
}

/* A spoofed UDP flood: every datagram from a new source and port, so every
 * rule makes new keys.  Under max_state_mb=8 keys are refused, the counters
 * kept stop growing, the state stays within 10 % of it and the flags say so; the
 * default budget refuses none. */
static void
test_state_budget(void)
{
    GArray *s = stream_new();
    for (guint i = 0; i < 20000; i++) {
        char src[32];
        g_snprintf(src, sizeof src, "10.%u.%u.%u", i >> 16 & 255, i >> 8 & 255, i & 255);
        udp(s, S(10 + i * 0.0001), src, (guint16)(1024 + i % 50000), "192.0.2.10", 53, 80);
    }
    Run roomy = run(s);
    TrafanDetectorUsage u = trafan_detector_usage(roomy.d);
    g_assert_cmpuint(u.budget_bytes, ==, 64u << 20);
    g_assert_cmpuint(u.refused_keys, ==, 0);
    g_assert_cmpuint(u.state_bytes, >, 16u << 20);
    assert_flags(&roomy, (const char *const[]){ "192.0.2.10 udp_flood target", NULL });

    Run tight = run_with(s, (const char *const[]){ "max_state_mb", "8", NULL });
    u = trafan_detector_usage(tight.d);
    g_assert_cmpuint(u.budget_bytes, ==, 8u << 20);
    g_assert_cmpuint(u.refused_keys, >, 0);
    g_assert_cmpuint(u.state_bytes, <=, (8u << 20) * 11 / 10);
    assert_flags(&tight, (const char *const[]){ "192.0.2.10 udp_flood target", NULL });
    g_assert_true(flag_of(&tight, "udp_flood")->approximate);
    run_free(&roomy);
    run_free(&tight);
    g_array_unref(s);
}

/* Past the budget the rules that multiply keys (pairs, flows) are refused,
 * but a rule with a handful of keys still tracks a new one: a flood that
 * turns to a second target after the first filled the budget is flagged
 * there too. */
static void
test_state_budget_new_target(void)
{
    GArray *s = stream_new();
    const char *targets[] = { "192.0.2.10", "192.0.2.20" };
    for (guint k = 0; k < G_N_ELEMENTS(targets); k++)
        for (guint i = 0; i < 20000; i++) {
            char src[32];
            guint n = k * 20000 + i;
            g_snprintf(src, sizeof src, "10.%u.%u.%u", n >> 16 & 255, n >> 8 & 255, n & 255);
            udp(s, S(10 + k * 10 + i * 0.0001), src, (guint16)(1024 + n % 50000), targets[k], 53, 80);
        }
    Run tight = run_with(s, (const char *const[]){ "max_state_mb", "2", NULL });
    TrafanDetectorUsage u = trafan_detector_usage(tight.d);
    g_assert_cmpuint(u.refused_keys, >, 0);
    assert_flags(&tight, (const char *const[]){ "192.0.2.10 udp_flood target", "192.0.2.20 udp_flood target", NULL });
    run_free(&tight);
    g_array_unref(s);
}

/* A spoofed flood where every datagram comes from a new source: past the
 * exact cap the sources are estimated, and the estimate never claims more
 * sources than datagrams. */
static void
test_udp_flood_sources_estimate(gconstpointer data)
{
    guint n = GPOINTER_TO_UINT(data);
    GArray *s = stream_new();
    for (guint i = 0; i < n; i++) {
        char src[32];
        g_snprintf(src, sizeof src, "10.%u.%u.%u", i >> 16 & 255, i >> 8 & 255, i & 255);
        udp(s, S(10 + i * 0.5 / n), src, (guint16)(1024 + i), "192.0.2.10", 53, 80);
    }
    Run r = run_with(s, (const char *const[]){ "exact_cap", "16", NULL });
    const TrafanFlag *f = flag_of(&r, "udp_flood");
    g_assert_nonnull(f);
    g_assert_true(f->approximate);
    g_assert_cmpuint(f->peers_total, <=, n);
    g_assert_cmpuint(f->peers_total, >=, n * 9 / 10);
    run_free(&r);
    g_array_unref(s);
}

/* Keys kept before the budget filled go on growing (thousands of sources
 * each probing a few more addresses): at each full count the state sheds its
 * lightest keys and stays near the budget, the heaviest (a real sweep) is
 * kept and flagged, approximate. */
static void
test_state_budget_shed(void)
{
    GArray *s = stream_new();
    for (guint round = 0; round < 20; round++) {
        for (guint h = 1; h <= 12; h++) {
            char dst[32];
            g_snprintf(dst, sizeof dst, "203.0.113.%u", round * 12 + h);
            tcp(s, S(round + h * 0.001), SCANNER, (guint16)(41000 + h), dst, 80, SYN, 58);
        }
        for (guint i = 0; i < 6000; i++) {
            char src[32], dst[32];
            g_snprintf(src, sizeof src, "10.%u.%u.%u", i >> 16 & 255, i >> 8 & 255, i & 255);
            g_snprintf(dst, sizeof dst, "198.51.%u.%u", 100 + i % 100, round + 1);
            tcp(s, S(round + 0.1 + i * 0.0001), src, (guint16)(20000 + round), dst, 80, SYN, 58);
        }
    }
    Run tight = run_with(s, (const char *const[]){ "max_state_mb", "4", NULL });
    TrafanDetectorUsage u = trafan_detector_usage(tight.d);
    g_assert_cmpuint(u.refused_keys, >, 0);
    g_assert_cmpuint(u.state_bytes, <=, (4u << 20) * 11 / 10);
    assert_flags(&tight, (const char *const[]){ SCANNER " host_sweep source", NULL });
    g_assert_true(flag_of(&tight, "host_sweep")->approximate);
    run_free(&tight);
    g_array_unref(s);
}

/* One pass (tshark without state=, the GUI) keeps no first windows once
 * judged; what it flags is the same, across windows that close too. */
static void
test_one_pass(void)
{
    GArray *s = stream_new();
    syn_scan(s, 0, 100, 1.0);
    syn_scan(s, S(400), 100, 1.0);
    Run kept = run(s);

    TrafanDetectConfig cfg;
    trafan_detect_config_init(&cfg);
    TrafanDetector *d = trafan_detector_new(&cfg), *other = trafan_detector_new(&cfg);
    trafan_detector_set_one_pass(d);
    for (guint i = 0; i < s->len; i++)
        trafan_detector_add(d, &g_array_index(s, TrafanPacket, i));
    GError *error = NULL;
    g_assert_false(trafan_detector_merge(other, d, &error));
    g_assert_nonnull(strstr(error->message, "one pass"));
    g_clear_error(&error);
    Run one = { d, trafan_detector_finish(d) };
    g_assert_cmpuint(one.flags->len, ==, kept.flags->len);
    for (guint i = 0; i < one.flags->len; i++) {
        const TrafanFlag *a = one.flags->pdata[i], *b = kept.flags->pdata[i];
        g_assert_cmpstr(a->rule, ==, b->rule);
        g_assert_cmpstr(a->summary, ==, b->summary);
        g_assert_cmpint(a->start_ns, ==, b->start_ns);
        g_assert_cmpint(a->end_ns, ==, b->end_ns);
    }
    run_free(&kept);
    run_free(&one);
    trafan_detector_free(other);
    trafan_detect_config_clear(&cfg);
    g_array_unref(s);
}

static void
test_live_alerts(void)
{
    GArray *s = stream_new();
    syn_scan(s, 0, 100, 1.0);
    tcp(s, S(400), "192.0.2.1", 1, "192.0.2.2", 2, ACK, 60);    /* time moves on: windows close */
    TrafanDetectConfig cfg;
    trafan_detect_config_init(&cfg);
    TrafanDetector *d = trafan_detector_new(&cfg);
    guint raised = 0;
    for (guint i = 0; i < s->len; i++) {
        trafan_detector_add(d, &g_array_index(s, TrafanPacket, i));
        GPtrArray *fresh = trafan_detector_take_new(d);
        for (guint j = 0; j < fresh->len; j++) {
            const TrafanFlag *f = fresh->pdata[j];
            g_assert_cmpstr(f->rule, ==, "port_scan");
            g_assert_nonnull(f->summary);
            raised++;
        }
    }
    g_assert_cmpuint(raised, ==, 1);                 /* once per (host, role, rule) */
    g_assert_cmpuint(trafan_detector_open_flags(d), ==, 1);
    g_assert_cmpuint(trafan_detector_finish(d)->len, ==, 1);
    g_assert_true(trafan_detector_finish(d) == trafan_detector_finish(d));
    trafan_detector_free(d);
    trafan_detect_config_clear(&cfg);
    g_array_unref(s);
}

/* The Statistics window judges spikes on the intervals closed so far: the
 * spike at second 30 shows once second 31 has begun, before the end. */
static void
test_peek_spike(void)
{
    GArray *s = stream_new();
    for (guint sec = 0; sec < 40; sec++)
        for (guint i = 0; i < 100; i++)
            udp(s, S(sec + i * 0.01), "192.0.2.30", 5004, "198.51.100.31", 5004, 1000);
    for (guint i = 0; i < 4000; i++)
        tcp(s, S(30 + i * 0.0002), "192.0.2.99", 443, "198.51.100.31", 50000, ACK, 1500);
    stream_sort(s);
    TrafanDetectConfig cfg;
    trafan_detect_config_init(&cfg);
    TrafanDetector *d = trafan_detector_new(&cfg);
    gint64 seen_at = -1;
    for (guint i = 0; i < s->len && seen_at < 0; i++) {
        const TrafanPacket *p = &g_array_index(s, TrafanPacket, i);
        trafan_detector_add(d, p);
        trafan_detector_peek(d);
        GPtrArray *fresh = trafan_detector_take_new(d);
        if (fresh->len) {
            g_assert_cmpstr(((const TrafanFlag *)fresh->pdata[0])->rule, ==, "bandwidth_spike");
            seen_at = p->rel_ns;
        }
    }
    g_assert_cmpint(seen_at, >=, S(31));
    g_assert_cmpint(seen_at, <, S(32));
    g_assert_cmpuint(trafan_detector_finish(d)->len, ==, 1);
    trafan_detector_free(d);
    trafan_detect_config_clear(&cfg);
    g_array_unref(s);
}

static void
test_flag_basics(void)
{
    TrafanAddress a = addr("2001:db8::5");
    TrafanFlag *f = trafan_flag_new(&a, TRAFAN_ROLE_TARGET, "syn_flood");
    g_assert_cmpstr(f->rule, ==, "syn_flood");
    g_assert_cmpuint(f->peers->len, ==, 0);
    g_assert_cmpstr(trafan_role_name(f->role), ==, "target");
    g_assert_cmpstr(trafan_role_name(TRAFAN_ROLE_SOURCE), ==, "source");
    trafan_flag_free(f);
    trafan_flag_free(NULL);
}


/* ------------------------------------------------------------------ */
/* Second-generation rules: one behaviour per case, each threshold met
 * once one below (no flag) and once at it (flag).                     */

typedef struct {
    const char *path;
    void      (*build)(GArray *s, guint n);
    guint       n;
    const char *expected;       /* "host rule role", or NULL: no flag at all */
    const char *const *opts;    /* option, value, ..., NULL */
} RuleCase;

/* n ports probed with SYNs (none accepted: syn_scan() accepts 22, 80, 443). */
static void
ports_probed(GArray *s, guint n)
{
    for (guint p = 1; p <= n; p++) {
        tcp(s, S(5 + p * 0.01), SCANNER, 40000, VICTIM, 1000 + p, SYN, 58);
        tcp(s, S(5 + p * 0.01 + 0.001), VICTIM, 1000 + p, SCANNER, 40000, RST | ACK, 54);
    }
}

/* nmap -sA: bare ACKs to n ports, answered by RST; and a client's
 * established flows to n ports of a server, seen mid-way. */
static void
ports_ack_probed(GArray *s, guint n)
{
    for (guint p = 1; p <= n; p++) {
        tcp(s, S(5 + p * 0.01), SCANNER, 40000, VICTIM, 1000 + p, ACK, 54);
        tcp(s, S(5 + p * 0.01 + 0.001), VICTIM, 1000 + p, SCANNER, 40000, RST, 54);
    }
}

static void
flows_midway(GArray *s, guint n)
{
    for (guint p = 1; p <= n; p++) {
        tcp(s, S(5 + p * 0.01), "192.0.2.61", 50000 + p, "198.51.100.61", 1000 + p, ACK, 54);
        tcp(s, S(5 + p * 0.01 + 0.002), "198.51.100.61", 1000 + p, "192.0.2.61", 50000 + p, ACK | PSH, 900);
    }
}

static void
ports_fin_probed(GArray *s, guint n)
{
    for (guint p = 1; p <= n; p++)
        tcp(s, S(5 + p * 0.01), SCANNER, 40000, VICTIM, 1000 + p, FIN, 58);
}

/* SYNs to port 445 of n addresses, none answering. */
static void
syn_sweep(GArray *s, guint n)
{
    for (guint i = 0; i < n; i++) {
        char target[32];
        g_snprintf(target, sizeof target, "10.8.0.%u", 1 + i);
        tcp(s, S(5 + i * 0.01), "10.8.0.250", 52000 + i, target, 445, SYN, 60);
    }
}

/* n packets within one second toward one target, each from another source. */
static void
spoofed_syns(GArray *s, guint n)
{
    for (guint i = 0; i < n; i++) {
        char src[32];
        g_snprintf(src, sizeof src, "203.0.%u.%u", i / 200, 1 + i % 200);
        tcp(s, S(10 + (i + 0.5) / n), src, 1024 + i, "192.0.2.10", 80, SYN, 60);
    }
}

static void
spoofed_pings(GArray *s, guint n)
{
    for (guint i = 0; i < n; i++) {
        char src[32];
        g_snprintf(src, sizeof src, "203.0.%u.%u", i / 200, 1 + i % 200);
        icmp(s, S(10 + (i + 0.5) / n), src, "192.0.2.10", 8, 0);
    }
}

static void
spoofed_datagrams(GArray *s, guint n)
{
    for (guint i = 0; i < n; i++) {
        char src[32];
        g_snprintf(src, sizeof src, "203.0.%u.%u", i / 200, 1 + i % 200);
        udp(s, S(10 + (i + 0.5) / n), src, 1024 + i, "192.0.2.10", 9999, 200);
    }
}

/* n packets of 1000 bytes from one source within one second. */
static void
one_source_packets(GArray *s, guint n)
{
    for (guint i = 0; i < n; i++)
        tcp(s, S(10 + (i + 0.5) / n), "192.0.2.44", 443, "198.51.100.44", 50000, ACK, 1000);
}

/* 30 SSH logins of n data segments each (3 + n + n / 2 + 3 packets). */
static void
ssh_logins_of(GArray *s, guint n)
{
    for (guint i = 0; i < 30; i++)
        connection(s, S(10 + i * 0.5), "198.51.100.9", 40000 + i, "192.0.2.22", 22, n, 300);
}

/* n failed SSH logins, one every 0.5 s: ~22 packets, the same bytes each. */
static void
ssh_guesses(GArray *s, guint n)
{
    for (guint i = 0; i < n; i++)
        connection(s, S(10 + i * 0.5), "198.51.100.9", 40000 + i, "192.0.2.22", 22, 8, 300);
}

/* A monitoring check of the SSH port once a minute. */
static void
ssh_monitor(GArray *s, guint n)
{
    for (guint i = 0; i < n; i++)
        connection(s, S(10 + i * 60.0), "192.0.2.200", 40000 + i, "192.0.2.22", 22, 2, 300);
}

/* Admin sessions: the same number of connections, but long ones. */
static void
ssh_sessions(GArray *s, guint n)
{
    for (guint i = 0; i < n; i++)
        connection(s, S(10 + i * 0.5), "192.0.2.201", 40000 + i, "192.0.2.22", 22, 80, 300);
}

/* nmap -PA: a bare ACK to port 80 of n addresses; live ones answer RST. */
static void
ack_sweep(GArray *s, guint n)
{
    for (guint i = 0; i < n; i++) {
        char target[32];
        g_snprintf(target, sizeof target, "10.9.%u.%u", i / 200, 1 + i % 200);
        tcp(s, S(5 + i * 0.01), "10.9.0.250", 51000, target, 80, ACK, 60);
        if (i % 3 == 0)
            tcp(s, S(5 + i * 0.01 + 0.001), target, 80, "10.9.0.250", 51000, RST, 60);
    }
}

static void
fin_sweep(GArray *s, guint n)
{
    for (guint i = 0; i < n; i++) {
        char target[32];
        g_snprintf(target, sizeof target, "10.9.0.%u", 1 + i);
        tcp(s, S(5 + i * 0.01), "10.9.0.250", 51000 + i, target, 443, FIN, 60);
    }
}

static void
timestamp_sweep(GArray *s, guint n)
{
    for (guint i = 0; i < n; i++) {
        char target[32];
        g_snprintf(target, sizeof target, "10.9.1.%u", 1 + i);
        icmp(s, S(5 + i * 0.01), "10.9.0.250", target, 13, 0);
    }
}

/* SNMP probes to n addresses of one /24 from one port, none answering. */
static void
udp_sweep(GArray *s, guint n)
{
    for (guint i = 0; i < n; i++) {
        char target[32];
        g_snprintf(target, sizeof target, "10.9.2.%u", 1 + i);
        udp(s, S(5 + i * 0.01), "10.9.0.250", 40000, target, 161, 80);
    }
}

/* The same, every target answering from the probed port. */
static void
udp_sweep_answered(GArray *s, guint n)
{
    udp_sweep(s, n);
    for (guint i = 0; i < n; i++) {
        char target[32];
        g_snprintf(target, sizeof target, "10.9.2.%u", 1 + i);
        udp(s, S(5 + i * 0.01 + 0.002), target, 161, "10.9.0.250", 40000, 120);
    }
}

/* A browser's established flows to scattered servers, seen mid-flow:
 * bare ACKs that the servers answer with data. */
static void
established_flows(GArray *s, guint n)
{
    for (guint i = 0; i < n; i++) {
        char server[32];
        g_snprintf(server, sizeof server, "203.0.%u.%u", 1 + i * 7 % 200, 1 + i * 13 % 200);
        tcp(s, S(5 + i * 0.1), "192.0.2.60", 52000 + i, server, 443, ACK, 66);
        tcp(s, S(5 + i * 0.1 + 0.02), server, 443, "192.0.2.60", 52000 + i, ACK | PSH, 1400);
    }
}

/* One source sending n unanswered datagrams a second for 3 s to one port. */
static void
udp_stream(GArray *s, guint n)
{
    for (guint sec = 0; sec < 3; sec++)
        for (guint i = 0; i < n; i++)
            udp(s, S(10 + sec + (i + 0.5) / n), "198.51.100.77", 40000, "192.0.2.80", 9999, 512);
}

/* The same, answered one for one (a game or a call). */
static void
udp_answered(GArray *s, guint n)
{
    udp_stream(s, n);
    for (guint sec = 0; sec < 3; sec++)
        for (guint i = 0; i < n; i++)
            udp(s, S(10 + sec + (i + 0.6) / n), "192.0.2.80", 9999, "198.51.100.77", 40000, 512);
}

/* One source sending n datagrams a second for 3 s to the broadcast address,
 * or to a multicast group. */
static void
broadcast_storm(GArray *s, guint n)
{
    for (guint sec = 0; sec < 3; sec++)
        for (guint i = 0; i < n; i++)
            udp(s, S(10 + sec + (i + 0.5) / n), "192.0.2.66", 40000, "255.255.255.255", 9999, 200);
}

static void
multicast_video(GArray *s, guint n)
{
    for (guint sec = 0; sec < 3; sec++)
        for (guint i = 0; i < n; i++)
            udp(s, S(10 + sec + (i + 0.5) / n), "192.0.2.67", 5004, "239.1.1.1", 5004, 1356);
}

/* A host polling its resolver every ~5 s with jitter (CV about 0.17). */
static void
resolver_polling(GArray *s, guint n)
{
    GRand *rand = g_rand_new_with_seed(7);
    double t = 5;
    for (guint i = 0; i < n; i++) {
        udp(s, S(t), "192.0.2.70", 50000 + i, "192.0.2.53", 53, 80);
        t += 5 + g_rand_double_range(rand, -1.5, 1.5);
    }
    g_rand_free(rand);
}

/* Check-ins every 30 s inside one long-lived TLS connection. */
static void
beacon_in_flow(GArray *s, guint n)
{
    tcp(s, S(1), "192.0.2.90", 50100, "203.0.113.90", 443, SYN, 74);
    tcp(s, S(1.01), "203.0.113.90", 443, "192.0.2.90", 50100, SYN | ACK, 74);
    for (guint i = 0; i < n; i++) {
        double t = 2 + i * 30.0 + (i % 3) * 0.5;
        tcp(s, S(t), "192.0.2.90", 50100, "203.0.113.90", 443, ACK | PSH, 250);
        tcp(s, S(t + 0.05), "203.0.113.90", 443, "192.0.2.90", 50100, ACK | PSH, 180);
        tcp(s, S(t + 0.06), "192.0.2.90", 50100, "203.0.113.90", 443, ACK, 66);
    }
}

/* n hosts polling one service the same regular way: a shared service. */
static void
shared_service(GArray *s, guint n)
{
    for (guint h = 0; h < n; h++) {
        char client[32];
        g_snprintf(client, sizeof client, "192.0.2.%u", 100 + h);
        for (guint i = 0; i < 12; i++)
            connection(s, S(5 + h + i * 30.0), client, 50000 + i, "198.51.100.30", 8443, 2, 400);
    }
}

/* Regular timing (CV about 0.1, not clockwork), but what the client posts
 * varies (polled content). */
static void
varying_sizes(GArray *s, guint n)
{
    GRand *rand = g_rand_new_with_seed(3);
    for (guint i = 0; i < n; i++) {
        gint64 t = S(5 + i * 30.0 + g_rand_double_range(rand, -5, 5));
        tcp(s, t, "192.0.2.95", 50000 + i, "198.51.100.31", 443, SYN, 74);
        tcp(s, t + S(0.01), "198.51.100.31", 443, "192.0.2.95", 50000 + i, SYN | ACK, 74);
        for (guint k = 0; k < 1 + (i * 7) % 9; k++)
            tcp(s, t + S(0.02 + k * 0.001), "192.0.2.95", 50000 + i, "198.51.100.31", 443, ACK | PSH, 1400);
        tcp(s, t + S(0.05), "198.51.100.31", 443, "192.0.2.95", 50000 + i, FIN | ACK, 66);
    }
    g_rand_free(rand);
}

/* One source checking in every 60 s with n servers: a scheduler past two. */
static void
scheduler(GArray *s, guint n)
{
    for (guint h = 0; h < n; h++) {
        char server[32];
        g_snprintf(server, sizeof server, "198.51.100.%u", 60 + h);
        for (guint i = 0; i < 12; i++)
            connection(s, S(5 + h * 0.2 + i * 60.0), "192.0.2.99", 50000 + h * 100 + i, server, 8443, 2, 400);
    }
}

static const char *const packet_rate_100[] = { "packet_rate_packets", "100", NULL };
static const char *const bandwidth_10k[] = { "bandwidth_bytes", "10000", "bandwidth_window", "1", NULL };

static const RuleCase rule_cases[] = {
    { "/detect/rules/port_scan/below",           ports_probed, 14, NULL, NULL },
    { "/detect/rules/port_scan/at",              ports_probed, 15, SCANNER " port_scan source", NULL },
    { "/detect/rules/port_scan/stealth-below",   ports_fin_probed, 2, NULL, NULL },
    { "/detect/rules/port_scan/stealth-at",      ports_fin_probed, 3, SCANNER " port_scan source", NULL },
    { "/detect/rules/port_scan/ack-below",       ports_ack_probed, 14, NULL, NULL },
    { "/detect/rules/port_scan/ack-at",          ports_ack_probed, 15, SCANNER " port_scan source", NULL },
    { "/detect/rules/port_scan/flows-midway",    flows_midway, 40, NULL, NULL },
    { "/detect/rules/host_sweep/syn-below",      syn_sweep, 24, NULL, NULL },
    { "/detect/rules/host_sweep/syn-at",         syn_sweep, 25, "10.8.0.250 host_sweep source", NULL },
    { "/detect/rules/syn_flood/below",           spoofed_syns, 99, NULL, NULL },
    { "/detect/rules/syn_flood/at",              spoofed_syns, 100, "192.0.2.10 syn_flood target", NULL },
    { "/detect/rules/icmp_flood/below",          spoofed_pings, 99, NULL, NULL },
    { "/detect/rules/icmp_flood/at",             spoofed_pings, 100, "192.0.2.10 icmp_flood target", NULL },
    { "/detect/rules/udp_flood/many-below",      spoofed_datagrams, 99, NULL, NULL },
    { "/detect/rules/udp_flood/many-at",         spoofed_datagrams, 100, "192.0.2.10 udp_flood target", NULL },
    { "/detect/rules/packet_rate/below",         one_source_packets, 99, NULL, packet_rate_100 },
    { "/detect/rules/packet_rate/at",            one_source_packets, 100, "192.0.2.44 packet_rate source", packet_rate_100 },
    { "/detect/rules/bandwidth/below",           one_source_packets, 9, NULL, bandwidth_10k },
    { "/detect/rules/bandwidth/at",              one_source_packets, 10, "192.0.2.44 bandwidth source", bandwidth_10k },
    { "/detect/rules/brute_force/packets-at",    ssh_logins_of, 36, "198.51.100.9 brute_force source", NULL },
    { "/detect/rules/brute_force/packets-above", ssh_logins_of, 37, NULL, NULL },
    { "/detect/rules/brute_force/below",         ssh_guesses, 29, NULL, NULL },
    { "/detect/rules/brute_force/at",            ssh_guesses, 30, "198.51.100.9 brute_force source", NULL },
    /* Not a guesser; as regular as any beacon, though. */
    { "/detect/rules/brute_force/monitor",       ssh_monitor, 40, "192.0.2.200 beacon source", NULL },
    { "/detect/rules/brute_force/sessions",      ssh_sessions, 40, NULL, NULL },
    { "/detect/rules/host_sweep/ack-below",      ack_sweep, 24, NULL, NULL },
    { "/detect/rules/host_sweep/ack-at",         ack_sweep, 25, "10.9.0.250 host_sweep source", NULL },
    { "/detect/rules/host_sweep/fin-at",         fin_sweep, 25, "10.9.0.250 host_sweep source", NULL },
    { "/detect/rules/host_sweep/timestamp-below", timestamp_sweep, 24, NULL, NULL },
    { "/detect/rules/host_sweep/timestamp-at",   timestamp_sweep, 25, "10.9.0.250 host_sweep source", NULL },
    { "/detect/rules/host_sweep/established",    established_flows, 60, NULL, NULL },
    { "/detect/rules/host_sweep/udp-below",      udp_sweep, 24, NULL, NULL },
    { "/detect/rules/host_sweep/udp-at",         udp_sweep, 25, "10.9.0.250 host_sweep source", NULL },
    { "/detect/rules/host_sweep/udp-answered",   udp_sweep_answered, 40, NULL, NULL },
    { "/detect/rules/udp_flood/source-below",    udp_stream, 255, NULL, NULL },
    { "/detect/rules/udp_flood/source-at",       udp_stream, 256, "198.51.100.77 udp_flood source", NULL },
    { "/detect/rules/udp_flood/answered",        udp_answered, 400, NULL, NULL },
    { "/detect/rules/udp_flood/broadcast-below", broadcast_storm, 99, NULL, NULL },
    { "/detect/rules/udp_flood/broadcast-at",    broadcast_storm, 100, "192.0.2.66 udp_flood source", NULL },
    { "/detect/rules/udp_flood/multicast-video", multicast_video, 1200, NULL, NULL },
    { "/detect/rules/udp_flood/multicast-at",    multicast_video, 10000, "192.0.2.67 udp_flood source", NULL },
    { "/detect/rules/beacon/resolver-jitter",    resolver_polling, 60, NULL, NULL },
    { "/detect/rules/beacon/in-flow-below",      beacon_in_flow, 9, NULL, NULL },
    { "/detect/rules/beacon/in-flow-at",         beacon_in_flow, 10, "192.0.2.90 beacon source", NULL },
    { "/detect/rules/beacon/prevalence-at",      shared_service, 2, "192.0.2.100 beacon source", NULL },
    { "/detect/rules/beacon/prevalence-above",   shared_service, 3, NULL, NULL },
    { "/detect/rules/beacon/destinations-at",    scheduler, 2, "192.0.2.99 beacon source", NULL },
    { "/detect/rules/beacon/destinations-above", scheduler, 3, NULL, NULL },
    { "/detect/rules/beacon/varying-sizes",      varying_sizes, 20, NULL, NULL },
};

static void
test_rule_case(gconstpointer data)
{
    const RuleCase *c = data;
    GArray *s = stream_new();
    c->build(s, c->n);
    stream_sort(s);
    Run r = run_with(s, c->opts);
    if (c->expected && strstr(c->path, "prevalence-at"))
        assert_flags(&r, (const char *const[]){ c->expected, "192.0.2.101 beacon source", NULL });
    else
        assert_flags(&r, (const char *const[]){ c->expected, NULL });
    run_free(&r);
    g_array_unref(s);
}


/* ------------------------------------------------------------------ */
/* Distinct counters: every form (empty, one item inline, a few in an
 * array, a hash table, a sketch) counts, saves and merges alike. */

typedef struct {
    guint    items;             /* distinct items added, item i i+1 times */
    guint    cap;
    gboolean approximate;       /* past the cap */
} DistinctCase;

static const DistinctCase distinct_cases[] = {
    { 0, 8, FALSE }, { 1, 8, FALSE }, { 2, 8, FALSE }, { 3, 8, FALSE }, { 4, 8, FALSE },
    { 5, 8, FALSE }, { 8, 8, FALSE }, { 9, 8, TRUE }, { 4, 4, FALSE }, { 5, 4, TRUE },
    { 40, 4, TRUE }, { 8, 32, FALSE }, { 9, 32, FALSE }, { 16, 32, FALSE }, { 17, 32, FALSE },
    { 32, 32, FALSE }, { 33, 32, TRUE }, { 16, 16, FALSE }, { 17, 16, TRUE },
};

static TrafanAddress
distinct_item(guint i)
{
    TrafanAddress a = { 4, { 10, 0, (guint8)(i >> 8), (guint8)i } };
    return a;
}

/* Items from..to-1, interleaved so that no item is added twice in a row. */
static void
distinct_fill(TrafanDistinct *s, guint from, guint to, guint cap)
{
    for (guint round = 0; round < to; round++)
        for (guint i = MAX(from, round); i < to; i++) {
            TrafanAddress a = distinct_item(i);
            trafan_distinct_add(s, &a, 1, cap);
        }
}

static void
assert_distinct_same(const TrafanDistinct *a, const TrafanDistinct *b)
{
    g_assert_cmpuint(trafan_distinct_count(a), ==, trafan_distinct_count(b));
    g_assert_cmpuint(trafan_distinct_exact_size(a), ==, trafan_distinct_exact_size(b));
    g_assert_cmpint(trafan_distinct_approximate(a), ==, trafan_distinct_approximate(b));
    GPtrArray *all = trafan_distinct_tallies(a);
    for (guint i = 0; i < all->len; i++) {
        const TrafanTally *t = all->pdata[i];
        g_assert_cmpuint(trafan_distinct_get(b, &t->item), ==, t->count);
    }
    g_ptr_array_unref(all);
}

static void
test_distinct_forms(gconstpointer data)
{
    const DistinctCase *c = data;
    TrafanDistinct s = { 0 }, copy = { 0 }, merged = { 0 }, later = { 0 };
    const TrafanDistinct empty = { 0 };

    distinct_fill(&s, 0, c->items, c->cap);
    g_assert_cmpint(trafan_distinct_approximate(&s), ==, c->approximate);
    guint exact = trafan_distinct_exact_size(&s);
    if (!c->approximate) {
        g_assert_cmpuint(exact, ==, c->items);
        g_assert_cmpuint(trafan_distinct_count(&s), ==, c->items);
    } else {
        g_assert_cmpuint(exact, ==, c->cap);
        g_assert_cmpfloat(fabs((double)trafan_distinct_count(&s) - c->items), <=, 0.2 * c->items);
    }
    for (guint i = 0; i < c->items; i++) {
        TrafanAddress a = distinct_item(i);
        guint64 got = trafan_distinct_get(&s, &a);
        g_assert_true(got == i + 1 || (c->approximate && got == 0));
        g_assert_cmpint(trafan_distinct_contains(&s, &a), ==, got != 0);
    }
    /* One item is held inline: no allocation to count. */
    if (c->items <= 1)
        g_assert_cmpuint(trafan_distinct_bytes(&s), ==, 0);
    else
        g_assert_cmpuint(trafan_distinct_bytes(&s), >=, exact * sizeof(TrafanTally));

    /* Saved and loaded, the same counter. */
    GVariant *saved = g_variant_ref_sink(trafan_distinct_save(&s));
    g_assert_true(trafan_distinct_load(&copy, saved, c->cap, NULL));
    assert_distinct_same(&s, &copy);
    g_variant_unref(saved);

    /* Two halves merged: the counter of the union. */
    distinct_fill(&merged, 0, c->items / 2, c->cap);
    distinct_fill(&later, c->items / 2, c->items, c->cap);
    trafan_distinct_merge(&merged, &later, c->cap);
    if (!c->approximate)
        assert_distinct_same(&s, &merged);
    else
        g_assert_true(trafan_distinct_approximate(&merged));

    trafan_distinct_clear(&s);
    g_assert_cmpmem(&s, sizeof s, &empty, sizeof empty);
    trafan_distinct_clear(&copy);
    trafan_distinct_clear(&merged);
    trafan_distinct_clear(&later);
}

/* A state file's sketch registers: up to the highest rank a hash can give
 * (65 - TRAFAN_HLL_BITS), never past it. */
static void
test_distinct_registers(void)
{
    const guint8 ranks[] = { 65 - TRAFAN_HLL_BITS, 66 - TRAFAN_HLL_BITS, 255 };
    for (guint i = 0; i < G_N_ELEMENTS(ranks); i++) {
        guint8 reg[TRAFAN_HLL_M] = { 0 };
        reg[7] = ranks[i];
        GVariant *v = g_variant_ref_sink(g_variant_new("(a((yay)t)@ay)", NULL,
            g_variant_new_fixed_array(G_VARIANT_TYPE_BYTE, reg, sizeof reg, 1)));
        TrafanDistinct s = { 0 };
        GError *error = NULL;
        gboolean ok = trafan_distinct_load(&s, v, 8, &error);
        g_assert_cmpint(ok, ==, i == 0);
        if (ok) {
            g_assert_true(trafan_distinct_approximate(&s));
            g_assert_cmpuint(trafan_distinct_count(&s), ==, 1);
        } else {
            g_assert_error(error, trafan_state_error_quark(), 1);
            g_clear_error(&error);
        }
        trafan_distinct_clear(&s);
        g_variant_unref(v);
    }
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/detect/attack/syn-scan", test_syn_scan);
    g_test_add_func("/detect/attack/connect-scan", test_connect_scan);
    g_test_add_func("/detect/attack/slow-scan", test_slow_scan);
    g_test_add_func("/detect/attack/udp-scan", test_udp_scan);
    g_test_add_func("/detect/attack/stealth-scan", test_stealth_scan);
    g_test_add_func("/detect/attack/icmp-sweep", test_icmp_sweep);
    g_test_add_func("/detect/attack/tcp-sweep", test_tcp_sweep);
    g_test_add_func("/detect/attack/syn-flood-single", test_syn_flood_single);
    g_test_add_func("/detect/attack/syn-flood-spoofed", test_syn_flood_spoofed);
    g_test_add_func("/detect/attack/icmp-flood", test_icmp_flood);
    g_test_add_func("/detect/attack/udp-flood", test_udp_flood);
    for (guint n = 1000; n <= 6000; n += 1000) {
        char *path = g_strdup_printf("/detect/attack/udp-flood-sources-estimate/%u", n);
        g_test_add_data_func(path, GUINT_TO_POINTER(n), test_udp_flood_sources_estimate);
        g_free(path);
    }
    g_test_add_func("/detect/attack/bandwidth-spike", test_bandwidth_spike);
    g_test_add_func("/detect/attack/beacon", test_beacon);
    g_test_add_func("/detect/benign/busy-https-server", test_busy_https_server);
    g_test_add_func("/detect/benign/large-download", test_large_download);
    g_test_add_func("/detect/benign/dns-resolver", test_dns_resolver);
    g_test_add_func("/detect/benign/human-periodic", test_human_periodic);
    g_test_add_func("/detect/mechanics/time-backwards", test_time_backwards);
    g_test_add_func("/detect/mechanics/allowlist", test_allowlist);
    g_test_add_func("/detect/mechanics/option-errors", test_option_errors);
    g_test_add_func("/detect/mechanics/option-table", test_option_table);
    g_test_add_func("/detect/mechanics/preset-seed", test_preset_seed);
    g_test_add_func("/detect/mechanics/merge-equals-whole", test_merge_equals_whole);
    g_test_add_func("/detect/mechanics/merge-refuses", test_merge_refuses);
    g_test_add_func("/detect/mechanics/merge-through-states", test_merge_through_states);
    g_test_add_func("/detect/mechanics/state-refuses", test_state_refuses);
    g_test_add_func("/detect/mechanics/memory-cap", test_memory_cap);
    g_test_add_func("/detect/mechanics/state-budget", test_state_budget);
    g_test_add_func("/detect/mechanics/state-budget-new-target", test_state_budget_new_target);
    g_test_add_func("/detect/mechanics/state-budget-shed", test_state_budget_shed);
    g_test_add_func("/detect/mechanics/one-pass", test_one_pass);
    g_test_add_func("/detect/mechanics/live-alerts", test_live_alerts);
    g_test_add_func("/detect/mechanics/peek-spike", test_peek_spike);
    g_test_add_func("/detect/mechanics/flag", test_flag_basics);
    g_test_add_func("/detect/distinct/registers", test_distinct_registers);
    for (guint i = 0; i < G_N_ELEMENTS(distinct_cases); i++) {
        g_autofree char *path = g_strdup_printf("/detect/distinct/items-%u-cap-%u",
                                                distinct_cases[i].items, distinct_cases[i].cap);
        g_test_add_data_func(path, &distinct_cases[i], test_distinct_forms);
    }
    for (guint i = 0; i < G_N_ELEMENTS(rule_cases); i++)
        g_test_add_data_func(rule_cases[i].path, &rule_cases[i], test_rule_case);
    return g_test_run();
}
