/* test_stats.c — unit tests of the statistics core on synthetic packets.
 *
 * Every scenario is built here from TrafanPacket records; no tshark is
 * involved.  Each test asserts exact figures, so a miscount fails.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <locale.h>
#include <string.h>

#include <glib/gstdio.h>
#include <json-glib/json-glib.h>

#include "flag.h"
#include "options.h"
#include "report.h"
#include "stats.h"

#define T0     G_GINT64_CONSTANT(1700000000000000000)   /* absolute time of rel 0 */
#define MS(x)  ((gint64)(x) * G_GINT64_CONSTANT(1000000))
#define SEC(x) ((gint64)(x) * G_GINT64_CONSTANT(1000000000))

/* ------------------------------------------------------------------ */
/* Building packets                                                     */

static TrafanAddress
addr(const char *text)
{
    TrafanAddress a;

    g_assert_true(trafan_address_parse(text, &a));
    return a;
}

static TrafanAddress
pseudo(guint8 family)
{
    TrafanAddress a;

    memset(&a, 0, sizeof a);
    a.family = family;
    return a;
}

/* A frame at relative time t_ns (absolute T0 + t_ns) with no IP header. */
static TrafanPacket
frame(gint64 t_ns, guint32 len, const char *protocol)
{
    TrafanPacket p;

    memset(&p, 0, sizeof p);
    p.abs_ns = T0 + t_ns;
    p.rel_ns = t_ns;
    p.frame_len = len;
    p.protocol = g_intern_string(protocol);
    return p;
}

/* Add one (more, inner) IP header. */
static void
push_ip(TrafanPacket *p, const char *src, const char *dst)
{
    g_assert_cmpuint(p->n_ip, <, TRAFAN_MAX_LAYERS);
    p->ip[p->n_ip].src = addr(src);
    p->ip[p->n_ip].dst = addr(dst);
    p->ip[p->n_ip].ip_proto = 0;
    p->n_ip++;
}

/* A TCP (6) or UDP (17) header on the innermost IP header. */
static void
push_transport(TrafanPacket *p, guint8 ip_proto, guint16 sport, guint16 dport)
{
    TrafanTransport *tp = &p->transport[p->n_transport++];

    g_assert_cmpuint(p->n_ip, >, 0);
    p->ip[p->n_ip - 1].ip_proto = ip_proto;
    memset(tp, 0, sizeof *tp);
    tp->ip_proto = ip_proto;
    tp->src_port = sport;
    tp->dst_port = dport;
    tp->src = p->ip[p->n_ip - 1].src;
    tp->dst = p->ip[p->n_ip - 1].dst;
}

/* One IPv4 or IPv6 frame (the family follows from the addresses). */
static TrafanPacket
ip_packet(gint64 t_ns, guint32 len, const char *protocol, const char *src, const char *dst)
{
    TrafanPacket p = frame(t_ns, len, protocol);

    push_ip(&p, src, dst);
    return p;
}

static void
add_ip(TrafanStats *stats, gint64 t_ns, guint32 len, const char *protocol, const char *src, const char *dst)
{
    TrafanPacket p = ip_packet(t_ns, len, protocol, src, dst);

    trafan_stats_add(stats, &p);
}

static void
add_l4(TrafanStats *stats, gint64 t_ns, guint32 len, guint8 ip_proto,
       const char *src, guint16 sport, const char *dst, guint16 dport)
{
    TrafanPacket p = ip_packet(t_ns, len, ip_proto == 6 ? "tcp" : "udp", src, dst);

    push_transport(&p, ip_proto, sport, dport);
    trafan_stats_add(stats, &p);
}

static TrafanStats *
stats_new_with(gint64 interval_us, guint max_hosts)
{
    TrafanConfig config;

    trafan_config_init(&config);
    if (interval_us)
        config.interval_us = interval_us;
    if (max_hosts)
        config.max_hosts = max_hosts;
    return trafan_stats_new(&config);
}

static TrafanStats *
stats_new(void)
{
    return stats_new_with(0, 0);
}

/* ------------------------------------------------------------------ */
/* Looking results up                                                   */

static const TrafanConversation *
find_conv_addr(const TrafanStats *stats, const TrafanAddress *x, const TrafanAddress *y)
{
    GPtrArray *rows = trafan_stats_sorted_conversations(stats, 0);
    const TrafanConversation *found = NULL;

    for (guint i = 0; i < rows->len; i++) {
        const TrafanConversation *c = g_ptr_array_index(rows, i);
        if ((trafan_address_equal(&c->a, x) && trafan_address_equal(&c->b, y))
            || (trafan_address_equal(&c->a, y) && trafan_address_equal(&c->b, x))) {
            g_assert_null(found);       /* one conversation per pair */
            found = c;
        }
    }
    g_ptr_array_unref(rows);
    return found;
}

static const TrafanConversation *
find_conv(const TrafanStats *stats, const char *x, const char *y)
{
    TrafanAddress ax = addr(x), ay = addr(y);
    const TrafanConversation *c = find_conv_addr(stats, &ax, &ay);

    g_assert_nonnull(c);
    return c;
}

static const TrafanHost *
find_host(const TrafanStats *stats, const char *text)
{
    TrafanAddress a = addr(text);
    const TrafanHost *h = trafan_stats_host(stats, &a);

    g_assert_nonnull(h);
    return h;
}

static const TrafanProtocolCount *
find_protocol(const TrafanStats *stats, const char *name)
{
    GPtrArray *all = trafan_stats_sorted_protocols(stats, 0);
    const TrafanProtocolCount *found = NULL;

    for (guint i = 0; i < all->len; i++)
        if (strcmp(((const TrafanProtocolCount *)g_ptr_array_index(all, i))->protocol, name) == 0)
            found = g_ptr_array_index(all, i);
    g_ptr_array_unref(all);
    return found;
}

static const TrafanProtocolCount *
find_count(const GArray *counts, const char *name)
{
    for (guint i = 0; i < counts->len; i++) {
        const TrafanProtocolCount *c = &g_array_index(counts, TrafanProtocolCount, i);
        if (c->protocol == g_intern_string(name))
            return c;
    }
    return NULL;
}

static void
assert_address(const TrafanAddress *a, const char *expected)
{
    char buf[TRAFAN_ADDRSTRLEN];

    g_assert_cmpstr(trafan_address_to_str(a, buf), ==, expected);
}

static guint
host_ports(const TrafanHost *h)
{
    return trafan_host_dst_ports(h);
}

/* The buckets, as "index:packets:bytes" joined by spaces. */
static char *
buckets_str(const TrafanStats *stats)
{
    GString *s = g_string_new(NULL);

    for (guint i = 0; i < trafan_stats_buckets(stats)->len; i++) {
        const TrafanBucket *b = &g_array_index(trafan_stats_buckets(stats), TrafanBucket, i);
        g_string_append_printf(s, "%s%" G_GINT64_FORMAT ":%" G_GUINT64_FORMAT ":%" G_GUINT64_FORMAT,
                               i ? " " : "", b->index, b->packets, b->bytes);
    }
    return g_string_free(s, FALSE);
}

static void
assert_buckets(const TrafanStats *stats, const char *expected)
{
    char *got = buckets_str(stats);

    g_assert_cmpstr(got, ==, expected);
    g_free(got);
}

static const TrafanReportOptions no_options = { .top = 0 };

static char *
report_json(TrafanStats *stats, const TrafanReportOptions *opts)
{
    trafan_stats_finish(stats);
    return g_string_free(trafan_report_json(stats, opts ? opts : &no_options), FALSE);
}

/* ------------------------------------------------------------------ */
/* Conversations                                                        */

static void
test_conversation_direction(void)
{
    TrafanStats *stats = stats_new();

    /* a is the source of the first packet, even though it sorts higher. */
    add_ip(stats, MS(0), 100, "tcp", "10.0.0.2", "10.0.0.1");
    add_ip(stats, MS(1), 40, "tcp", "10.0.0.1", "10.0.0.2");
    add_ip(stats, MS(2), 60, "tcp", "10.0.0.1", "10.0.0.2");
    add_ip(stats, MS(3), 7, "tcp", "10.0.0.2", "10.0.0.1");

    g_assert_cmpuint(trafan_stats_n_conversations(stats), ==, 1);
    const TrafanConversation *c = find_conv(stats, "10.0.0.1", "10.0.0.2");
    assert_address(&c->a, "10.0.0.2");
    assert_address(&c->b, "10.0.0.1");
    g_assert_cmpuint(c->a_to_b_packets, ==, 2);
    g_assert_cmpuint(c->a_to_b_bytes, ==, 107);
    g_assert_cmpuint(c->b_to_a_packets, ==, 2);
    g_assert_cmpuint(c->b_to_a_bytes, ==, 100);
    g_assert_cmpuint(trafan_stats_packets(stats), ==, 4);
    g_assert_cmpuint(trafan_stats_bytes(stats), ==, 207);
    trafan_stats_free(stats);
}

static void
test_conversation_time_span(void)
{
    TrafanStats *stats = stats_new();

    /* Time goes backwards twice: first/last are the minimum and maximum. */
    add_ip(stats, SEC(5), 10, "udp", "10.0.0.1", "10.0.0.2");
    add_ip(stats, SEC(2), 10, "udp", "10.0.0.2", "10.0.0.1");
    add_ip(stats, SEC(9), 10, "udp", "10.0.0.1", "10.0.0.2");
    add_ip(stats, SEC(7), 10, "udp", "10.0.0.1", "10.0.0.2");

    const TrafanConversation *c = find_conv(stats, "10.0.0.1", "10.0.0.2");
    g_assert_cmpint(c->first_ns, ==, T0 + SEC(2));
    g_assert_cmpint(c->last_ns, ==, T0 + SEC(9));
    assert_address(&c->a, "10.0.0.1");
    g_assert_cmpint(trafan_stats_first_ns(stats), ==, T0 + SEC(2));
    g_assert_cmpint(trafan_stats_last_ns(stats), ==, T0 + SEC(9));
    g_assert_cmpint(trafan_stats_ref_ns(stats), ==, T0);
    trafan_stats_free(stats);
}

static void
test_conversation_protocols(void)
{
    TrafanStats *stats = stats_new();

    add_ip(stats, MS(0), 100, "dns", "10.0.0.1", "10.0.0.2");
    add_ip(stats, MS(1), 200, "tls", "10.0.0.2", "10.0.0.1");
    add_ip(stats, MS(2), 300, "tls", "10.0.0.1", "10.0.0.2");
    add_ip(stats, MS(3), 50, "dns", "10.0.0.2", "10.0.0.1");
    add_ip(stats, MS(4), 1000, "http", "10.0.0.3", "10.0.0.1");   /* another pair */

    const TrafanConversation *c = find_conv(stats, "10.0.0.1", "10.0.0.2");
    g_assert_cmpuint(c->protocols->len, ==, 2);
    /* First seen first, each name interned. */
    g_assert_true(g_array_index(c->protocols, TrafanProtocolCount, 0).protocol == g_intern_string("dns"));
    g_assert_true(g_array_index(c->protocols, TrafanProtocolCount, 1).protocol == g_intern_string("tls"));
    g_assert_cmpuint(find_count(c->protocols, "dns")->packets, ==, 2);
    g_assert_cmpuint(find_count(c->protocols, "dns")->bytes, ==, 150);
    g_assert_cmpuint(find_count(c->protocols, "tls")->packets, ==, 2);
    g_assert_cmpuint(find_count(c->protocols, "tls")->bytes, ==, 500);
    g_assert_null(find_count(c->protocols, "http"));
    trafan_stats_free(stats);
}

static void
test_conversation_self(void)
{
    TrafanStats *stats = stats_new();

    /* LAND: source == destination.  Wireshark's tables count it as sent by
     * a (a -> b), and the endpoint both sends and receives it. */
    add_ip(stats, MS(0), 60, "tcp", "10.0.0.9", "10.0.0.9");
    add_ip(stats, MS(1), 60, "tcp", "10.0.0.9", "10.0.0.9");
    trafan_stats_finish(stats);

    g_assert_cmpuint(trafan_stats_n_conversations(stats), ==, 1);
    const TrafanConversation *c = find_conv(stats, "10.0.0.9", "10.0.0.9");
    g_assert_cmpuint(c->a_to_b_packets, ==, 2);
    g_assert_cmpuint(c->a_to_b_bytes, ==, 120);
    g_assert_cmpuint(c->b_to_a_packets, ==, 0);
    g_assert_cmpuint(c->b_to_a_bytes, ==, 0);

    g_assert_cmpuint(trafan_stats_n_hosts(stats), ==, 1);
    const TrafanHost *h = find_host(stats, "10.0.0.9");
    g_assert_cmpuint(h->tx_packets, ==, 2);
    g_assert_cmpuint(h->tx_bytes, ==, 120);
    g_assert_cmpuint(h->rx_packets, ==, 2);
    g_assert_cmpuint(h->rx_bytes, ==, 120);
    g_assert_cmpuint(h->peers, ==, 1);
    trafan_stats_free(stats);
}

static void
test_conversation_tunnel(void)
{
    TrafanStats *stats = stats_new();
    TrafanPacket p = frame(MS(0), 200, "tcp");

    /* IPv6 in IPv4 (6in4), then TCP inside. */
    push_ip(&p, "192.0.2.1", "192.0.2.2");
    push_ip(&p, "2001:db8::1", "2001:db8::2");
    push_transport(&p, 6, 40000, 443);
    trafan_stats_add(stats, &p);

    g_assert_cmpuint(trafan_stats_packets(stats), ==, 1);
    g_assert_cmpuint(trafan_stats_bytes(stats), ==, 200);
    g_assert_cmpuint(trafan_stats_n_conversations(stats), ==, 2);
    const TrafanConversation *outer = find_conv(stats, "192.0.2.1", "192.0.2.2");
    const TrafanConversation *inner = find_conv(stats, "2001:db8::1", "2001:db8::2");
    g_assert_cmpuint(outer->a_to_b_packets, ==, 1);
    g_assert_cmpuint(outer->a_to_b_bytes, ==, 200);
    g_assert_cmpuint(inner->a_to_b_packets, ==, 1);
    g_assert_cmpuint(inner->a_to_b_bytes, ==, 200);
    g_assert_cmpuint(trafan_stats_n_hosts(stats), ==, 4);
    g_assert_cmpuint(find_host(stats, "192.0.2.1")->tx_bytes, ==, 200);
    g_assert_cmpuint(find_host(stats, "2001:db8::2")->rx_bytes, ==, 200);
    g_assert_cmpuint(host_ports(find_host(stats, "2001:db8::1")), ==, 1);
    g_assert_cmpuint(host_ports(find_host(stats, "192.0.2.1")), ==, 0);
    /* The frame counts once in protocols and bandwidth. */
    g_assert_cmpuint(find_protocol(stats, "tcp")->packets, ==, 1);
    assert_buckets(stats, "0:1:200");
    trafan_stats_free(stats);
}

static void
test_conversation_mixed_families(void)
{
    TrafanStats *stats = stats_new();

    add_ip(stats, MS(0), 100, "tcp", "10.0.0.1", "10.0.0.2");
    add_ip(stats, MS(1), 300, "tcp", "2001:db8::1", "2001:db8::2");
    add_ip(stats, MS(2), 200, "tcp", "::ffff:10.0.0.1", "::ffff:10.0.0.2");

    g_assert_cmpuint(trafan_stats_n_conversations(stats), ==, 3);
    g_assert_cmpuint(trafan_stats_n_hosts(stats), ==, 6);
    /* Sorted biggest first, whatever the family. */
    GPtrArray *rows = trafan_stats_sorted_conversations(stats, 0);
    g_assert_cmpuint(rows->len, ==, 3);
    assert_address(&((TrafanConversation *)g_ptr_array_index(rows, 0))->a, "2001:db8::1");
    assert_address(&((TrafanConversation *)g_ptr_array_index(rows, 1))->a, "::ffff:10.0.0.1");
    assert_address(&((TrafanConversation *)g_ptr_array_index(rows, 2))->a, "10.0.0.1");
    g_ptr_array_unref(rows);
    /* An IPv4-mapped IPv6 address is not the IPv4 host. */
    g_assert_cmpuint(find_host(stats, "10.0.0.1")->tx_bytes, ==, 100);
    g_assert_cmpuint(find_host(stats, "::ffff:10.0.0.1")->tx_bytes, ==, 200);
    trafan_stats_free(stats);
}

static void
test_conversation_both_directions(void)
{
    TrafanStats *stats = stats_new();
    TrafanPacket p;

    add_ip(stats, MS(0), 10, "udp", "10.0.0.1", "10.0.0.2");
    add_ip(stats, MS(1), 20, "udp", "10.0.0.2", "10.0.0.1");
    add_ip(stats, MS(2), 30, "udp", "2001:db8::2", "2001:db8::1");
    add_ip(stats, MS(3), 40, "udp", "2001:db8::1", "2001:db8::2");

    /* Bytes past the IPv4 address must not split the conversation. */
    p = ip_packet(MS(4), 50, "udp", "10.0.0.2", "10.0.0.1");
    memset(p.ip[0].src.bytes + 4, 0xAB, 12);
    memset(p.ip[0].dst.bytes + 4, 0xCD, 12);
    trafan_stats_add(stats, &p);

    g_assert_cmpuint(trafan_stats_n_conversations(stats), ==, 2);
    g_assert_cmpuint(trafan_stats_n_hosts(stats), ==, 4);
    const TrafanConversation *c4 = find_conv(stats, "10.0.0.2", "10.0.0.1");
    assert_address(&c4->a, "10.0.0.1");
    g_assert_cmpuint(c4->a_to_b_packets, ==, 1);
    g_assert_cmpuint(c4->a_to_b_bytes, ==, 10);
    g_assert_cmpuint(c4->b_to_a_packets, ==, 2);
    g_assert_cmpuint(c4->b_to_a_bytes, ==, 70);
    const TrafanConversation *c6 = find_conv(stats, "2001:db8::1", "2001:db8::2");
    assert_address(&c6->a, "2001:db8::2");
    g_assert_cmpuint(c6->a_to_b_bytes, ==, 30);
    g_assert_cmpuint(c6->b_to_a_bytes, ==, 40);
    trafan_stats_free(stats);
}

/* ------------------------------------------------------------------ */
/* Hosts                                                                */

static void
test_host_tx_rx(void)
{
    TrafanStats *stats = stats_new();

    add_ip(stats, MS(0), 100, "tcp", "10.0.0.1", "10.0.0.2");
    add_ip(stats, MS(1), 200, "tcp", "10.0.0.2", "10.0.0.1");
    add_ip(stats, MS(2), 400, "tcp", "10.0.0.1", "10.0.0.3");

    const TrafanHost *h1 = find_host(stats, "10.0.0.1");
    g_assert_cmpuint(h1->tx_packets, ==, 2);
    g_assert_cmpuint(h1->tx_bytes, ==, 500);
    g_assert_cmpuint(h1->rx_packets, ==, 1);
    g_assert_cmpuint(h1->rx_bytes, ==, 200);
    const TrafanHost *h3 = find_host(stats, "10.0.0.3");
    g_assert_cmpuint(h3->tx_packets, ==, 0);
    g_assert_cmpuint(h3->rx_packets, ==, 1);
    g_assert_cmpuint(h3->rx_bytes, ==, 400);

    GPtrArray *rows = trafan_stats_sorted_hosts(stats, 0);
    g_assert_cmpuint(rows->len, ==, 3);
    assert_address(&((TrafanHost *)g_ptr_array_index(rows, 0))->address, "10.0.0.1");
    assert_address(&((TrafanHost *)g_ptr_array_index(rows, 1))->address, "10.0.0.3");
    assert_address(&((TrafanHost *)g_ptr_array_index(rows, 2))->address, "10.0.0.2");
    g_ptr_array_unref(rows);
    trafan_stats_free(stats);
}

static void
test_host_peers(void)
{
    TrafanStats *stats = stats_new();

    add_ip(stats, MS(0), 10, "tcp", "10.0.0.1", "10.0.0.2");
    add_ip(stats, MS(1), 10, "tcp", "10.0.0.2", "10.0.0.1");
    add_ip(stats, MS(2), 10, "tcp", "10.0.0.1", "10.0.0.3");
    add_ip(stats, MS(3), 10, "tcp", "10.0.0.4", "10.0.0.1");
    add_ip(stats, MS(4), 10, "tcp", "10.0.0.4", "10.0.0.1");
    trafan_stats_finish(stats);

    g_assert_cmpuint(find_host(stats, "10.0.0.1")->peers, ==, 3);
    g_assert_cmpuint(find_host(stats, "10.0.0.2")->peers, ==, 1);
    g_assert_cmpuint(find_host(stats, "10.0.0.3")->peers, ==, 1);
    g_assert_cmpuint(find_host(stats, "10.0.0.4")->peers, ==, 1);

    /* Finishing again does not count twice. */
    add_ip(stats, MS(5), 10, "tcp", "10.0.0.2", "10.0.0.3");
    trafan_stats_finish(stats);
    g_assert_cmpuint(find_host(stats, "10.0.0.1")->peers, ==, 3);
    g_assert_cmpuint(find_host(stats, "10.0.0.2")->peers, ==, 2);
    g_assert_cmpuint(find_host(stats, "10.0.0.3")->peers, ==, 2);
    trafan_stats_free(stats);
}

static void
test_host_dst_ports(void)
{
    TrafanStats *stats = stats_new();

    add_l4(stats, MS(0), 60, 6, "10.0.0.1", 40000, "10.0.0.2", 80);
    add_l4(stats, MS(1), 60, 6, "10.0.0.1", 40001, "10.0.0.2", 80);   /* same (tcp, 80) */
    add_l4(stats, MS(2), 60, 17, "10.0.0.1", 40002, "10.0.0.2", 80);  /* (udp, 80) is another */
    add_l4(stats, MS(3), 60, 6, "10.0.0.1", 40003, "10.0.0.3", 443);
    add_l4(stats, MS(4), 60, 6, "10.0.0.2", 80, "10.0.0.1", 40000);   /* the reply */
    add_ip(stats, MS(5), 60, "icmp", "10.0.0.3", "10.0.0.1");         /* no port */

    g_assert_cmpuint(host_ports(find_host(stats, "10.0.0.1")), ==, 3);
    g_assert_cmpuint(host_ports(find_host(stats, "10.0.0.2")), ==, 1);
    g_assert_cmpuint(host_ports(find_host(stats, "10.0.0.3")), ==, 0);

    const TrafanHost *h1 = find_host(stats, "10.0.0.1");
    g_assert_true(g_hash_table_contains(h1->dst_ports, GUINT_TO_POINTER(6u << 16 | 80)));
    g_assert_true(g_hash_table_contains(h1->dst_ports, GUINT_TO_POINTER(17u << 16 | 80)));
    g_assert_true(g_hash_table_contains(h1->dst_ports, GUINT_TO_POINTER(6u << 16 | 443)));

    /* Two are kept without a table, and repeats count once on either side. */
    add_l4(stats, MS(6), 60, 6, "10.0.0.2", 80, "10.0.0.1", 40000);
    add_l4(stats, MS(7), 60, 6, "10.0.0.2", 80, "10.0.0.3", 22);
    add_l4(stats, MS(8), 60, 6, "10.0.0.2", 80, "10.0.0.3", 22);
    g_assert_cmpuint(host_ports(find_host(stats, "10.0.0.2")), ==, 2);
    g_assert_null(find_host(stats, "10.0.0.2")->dst_ports);
    add_l4(stats, MS(9), 60, 6, "10.0.0.1", 40000, "10.0.0.2", 80);
    g_assert_cmpuint(host_ports(find_host(stats, "10.0.0.1")), ==, 3);
    trafan_stats_free(stats);
}

static void
test_host_first_last(void)
{
    TrafanStats *stats = stats_new();

    add_ip(stats, MS(500), 10, "tcp", "10.0.0.1", "10.0.0.2");
    add_ip(stats, MS(100), 10, "tcp", "10.0.0.3", "10.0.0.2");  /* backwards */
    add_ip(stats, MS(900), 10, "tcp", "10.0.0.2", "10.0.0.1");
    add_ip(stats, MS(300), 10, "tcp", "10.0.0.1", "10.0.0.3");

    const TrafanHost *h1 = find_host(stats, "10.0.0.1");
    g_assert_cmpint(h1->first_ns, ==, T0 + MS(300));
    g_assert_cmpint(h1->last_ns, ==, T0 + MS(900));
    const TrafanHost *h2 = find_host(stats, "10.0.0.2");
    g_assert_cmpint(h2->first_ns, ==, T0 + MS(100));
    g_assert_cmpint(h2->last_ns, ==, T0 + MS(900));
    const TrafanHost *h3 = find_host(stats, "10.0.0.3");
    g_assert_cmpint(h3->first_ns, ==, T0 + MS(100));
    g_assert_cmpint(h3->last_ns, ==, T0 + MS(300));
    trafan_stats_free(stats);
}

/* ------------------------------------------------------------------ */
/* Protocols                                                            */

static void
test_protocols_interned(void)
{
    TrafanStats *stats = stats_new();
    char name[8];
    TrafanPacket p;

    add_ip(stats, MS(0), 100, "tcp", "10.0.0.1", "10.0.0.2");
    add_ip(stats, MS(1), 150, "dns", "10.0.0.1", "10.0.0.2");
    /* A name built at run time, interned: the same counter as the literal. */
    g_strlcpy(name, "tc", sizeof name);
    g_strlcat(name, "p", sizeof name);
    p = ip_packet(MS(2), 50, "x", "10.0.0.2", "10.0.0.1");
    p.protocol = g_intern_string(name);
    trafan_stats_add(stats, &p);

    g_assert_cmpuint(trafan_stats_n_protocols(stats), ==, 2);
    g_assert_cmpuint(find_protocol(stats, "tcp")->packets, ==, 2);
    g_assert_cmpuint(find_protocol(stats, "tcp")->bytes, ==, 150);
    g_assert_cmpuint(find_protocol(stats, "dns")->packets, ==, 1);
    g_assert_cmpuint(find_protocol(stats, "dns")->bytes, ==, 150);
    g_assert_null(find_protocol(stats, "x"));

    /* Same bytes: more packets first, then by name. */
    GPtrArray *rows = trafan_stats_sorted_protocols(stats, 0);
    g_assert_cmpstr(((TrafanProtocolCount *)g_ptr_array_index(rows, 0))->protocol, ==, "tcp");
    g_assert_cmpstr(((TrafanProtocolCount *)g_ptr_array_index(rows, 1))->protocol, ==, "dns");
    g_ptr_array_unref(rows);
    trafan_stats_free(stats);
}

static void
test_protocols_non_ip(void)
{
    TrafanStats *stats = stats_new();
    TrafanPacket p = frame(MS(0), 42, "arp");

    trafan_stats_add(stats, &p);
    p = frame(MS(1), 64, "lldp");
    trafan_stats_add(stats, &p);
    add_ip(stats, MS(2), 100, "udp", "10.0.0.1", "10.0.0.2");
    trafan_stats_finish(stats);

    g_assert_cmpuint(trafan_stats_packets(stats), ==, 3);
    g_assert_cmpuint(trafan_stats_bytes(stats), ==, 206);
    g_assert_cmpuint(find_protocol(stats, "arp")->packets, ==, 1);
    g_assert_cmpuint(find_protocol(stats, "arp")->bytes, ==, 42);
    g_assert_cmpuint(find_protocol(stats, "lldp")->bytes, ==, 64);
    /* Only the IP frame makes a conversation and hosts. */
    g_assert_cmpuint(trafan_stats_n_conversations(stats), ==, 1);
    g_assert_cmpuint(trafan_stats_n_hosts(stats), ==, 2);
    g_assert_cmpuint(find_host(stats, "10.0.0.1")->tx_bytes, ==, 100);
    g_assert_cmpuint(find_host(stats, "10.0.0.2")->rx_bytes, ==, 100);
    trafan_stats_free(stats);
}

/* ------------------------------------------------------------------ */
/* Bandwidth                                                            */

static void
test_bandwidth_rounding(void)
{
    TrafanStats *stats = stats_new();
    TrafanPacket p;

    /* Relative time rounded to the microsecond: 0.9999994995 s stays in
     * interval 0, 0.9999995 s is 1.000000 s and goes to interval 1. */
    p = frame(0, 1, "a");
    trafan_stats_add(stats, &p);
    p = frame(999999499, 2, "a");
    trafan_stats_add(stats, &p);
    p = frame(999999500, 4, "a");
    trafan_stats_add(stats, &p);
    p = frame(SEC(2) - 501, 8, "a");
    trafan_stats_add(stats, &p);
    p = frame(SEC(2) - 500, 16, "a");
    trafan_stats_add(stats, &p);
    assert_buckets(stats, "0:2:3 1:2:12 2:1:16");
    trafan_stats_free(stats);
}

static void
test_bandwidth_backwards(void)
{
    TrafanStats *stats = stats_new();
    TrafanPacket p;

    /* A negative relative time before anything: the current interval, 0. */
    p = frame(-MS(500), 1, "a");
    trafan_stats_add(stats, &p);
    p = frame(MS(3500), 2, "a");
    trafan_stats_add(stats, &p);
    /* Earlier than the current interval (3): stays in 3. */
    p = frame(MS(1200), 4, "a");
    trafan_stats_add(stats, &p);
    p = frame(-SEC(7), 8, "a");
    trafan_stats_add(stats, &p);
    p = frame(MS(5100), 16, "a");
    trafan_stats_add(stats, &p);
    p = frame(MS(4000), 32, "a");
    trafan_stats_add(stats, &p);
    assert_buckets(stats, "0:1:1 3:3:14 5:2:48");
    trafan_stats_free(stats);
}

static void
test_bandwidth_subsecond(void)
{
    TrafanStats *stats = stats_new_with(250000, 0);
    TrafanPacket p;

    p = frame(MS(100), 1, "a");
    trafan_stats_add(stats, &p);
    p = frame(MS(249), 2, "a");
    trafan_stats_add(stats, &p);
    p = frame(MS(250) - 500, 4, "a");           /* rounds up to 0.250000 */
    trafan_stats_add(stats, &p);
    p = frame(MS(600), 8, "a");
    trafan_stats_add(stats, &p);
    p = frame(MS(1000), 16, "a");
    trafan_stats_add(stats, &p);
    assert_buckets(stats, "0:2:3 1:1:4 2:1:8 4:1:16");
    trafan_stats_free(stats);

    /* The smallest interval, one microsecond. */
    stats = stats_new_with(1, 0);
    p = frame(0, 1, "a");
    trafan_stats_add(stats, &p);
    p = frame(1499, 2, "a");
    trafan_stats_add(stats, &p);
    p = frame(1500, 4, "a");
    trafan_stats_add(stats, &p);
    assert_buckets(stats, "0:1:1 1:1:2 2:1:4");
    trafan_stats_free(stats);
}

static void
test_bandwidth_sparse(void)
{
    TrafanStats *stats = stats_new();
    TrafanPacket p;

    p = frame(MS(100), 10, "a");
    trafan_stats_add(stats, &p);
    p = frame(MS(5200), 20, "a");
    trafan_stats_add(stats, &p);
    p = frame(SEC(3600), 30, "a");
    trafan_stats_add(stats, &p);
    /* Empty intervals are absent: three buckets for an hour. */
    assert_buckets(stats, "0:1:10 5:1:20 3600:1:30");

    char *json = report_json(stats, NULL);
    g_assert_nonnull(strstr(json, "{\"start\":3600.000000,\"packets\":1,\"bytes\":30,"));
    g_assert_null(strstr(json, "\"start\":1.000000"));
    g_free(json);
    trafan_stats_free(stats);
}

static void
test_bandwidth_protocols(void)
{
    TrafanStats *stats = stats_new();

    add_ip(stats, MS(0), 100, "tcp", "10.0.0.1", "10.0.0.2");
    add_ip(stats, MS(10), 200, "dns", "10.0.0.1", "10.0.0.2");
    add_ip(stats, MS(20), 300, "tcp", "10.0.0.1", "10.0.0.2");
    add_ip(stats, MS(1500), 50, "dns", "10.0.0.1", "10.0.0.2");

    g_assert_cmpuint(trafan_stats_buckets(stats)->len, ==, 2);
    const TrafanBucket *b0 = &g_array_index(trafan_stats_buckets(stats), TrafanBucket, 0);
    const TrafanBucket *b1 = &g_array_index(trafan_stats_buckets(stats), TrafanBucket, 1);
    g_assert_cmpuint(b0->protocols->len, ==, 2);
    g_assert_cmpuint(find_count(b0->protocols, "tcp")->bytes, ==, 400);
    g_assert_cmpuint(find_count(b0->protocols, "tcp")->packets, ==, 2);
    g_assert_cmpuint(find_count(b0->protocols, "dns")->bytes, ==, 200);
    g_assert_cmpuint(b1->protocols->len, ==, 1);
    g_assert_cmpuint(find_count(b1->protocols, "dns")->bytes, ==, 50);
    g_assert_null(find_count(b1->protocols, "tcp"));

    char *json = report_json(stats, NULL);
    g_assert_nonnull(strstr(json, "\"protocol_bytes\":{\"tcp\":400,\"dns\":200}"));
    g_assert_nonnull(strstr(json, "\"protocol_bytes\":{\"dns\":50}"));
    g_free(json);
    trafan_stats_free(stats);
}

/* ------------------------------------------------------------------ */
/* Host cap                                                             */

static void
test_host_cap(void)
{
    TrafanStats *stats = stats_new_with(0, 3);
    TrafanAddress other4 = pseudo(TRAFAN_FAMILY_OTHER4), other6 = pseudo(TRAFAN_FAMILY_OTHER6);

    add_l4(stats, MS(0), 100, 6, "10.0.0.1", 1000, "10.0.0.2", 80);   /* kept: .1 .2 */
    add_l4(stats, MS(1), 200, 6, "10.0.0.1", 1001, "10.0.0.3", 80);   /* kept: .3 */
    add_l4(stats, MS(2), 400, 6, "10.0.0.1", 1002, "10.0.0.4", 81);   /* .4 folded */
    add_l4(stats, MS(3), 800, 17, "10.0.0.5", 53, "10.0.0.1", 5000);  /* .5 folded */
    add_l4(stats, MS(4), 1600, 17, "10.0.0.5", 53, "10.0.0.1", 5001); /* .5 again */
    add_ip(stats, MS(5), 3200, "udp", "2001:db8::1", "2001:db8::1");  /* folded LAND */
    trafan_stats_finish(stats);

    g_assert_cmpuint(trafan_stats_packets(stats), ==, 6);
    g_assert_cmpuint(trafan_stats_bytes(stats), ==, 6300);
    g_assert_cmpuint(trafan_stats_n_hosts(stats), ==, 5);       /* 3 kept, 2 pseudo-hosts */
    g_assert_cmpuint(trafan_stats_hosts_aggregated(stats), ==, 3);
    g_assert_true(trafan_stats_hosts_aggregated_exact(stats));

    const TrafanHost *o4 = trafan_stats_host(stats, &other4);
    const TrafanHost *o6 = trafan_stats_host(stats, &other6);
    g_assert_nonnull(o4);
    g_assert_nonnull(o6);
    g_assert_cmpuint(o4->aggregated, ==, 2);
    g_assert_cmpuint(o6->aggregated, ==, 1);
    g_assert_cmpuint(o4->tx_packets, ==, 2);
    g_assert_cmpuint(o4->tx_bytes, ==, 2400);
    g_assert_cmpuint(o4->rx_packets, ==, 1);
    g_assert_cmpuint(o4->rx_bytes, ==, 400);
    g_assert_cmpuint(host_ports(o4), ==, 2);        /* (udp, 5000), (udp, 5001) */
    g_assert_cmpuint(o4->peers, ==, 1);
    g_assert_cmpuint(o6->tx_bytes, ==, 3200);
    g_assert_cmpuint(o6->rx_bytes, ==, 3200);
    assert_address(&o4->address, "other IPv4");
    assert_address(&o6->address, "other IPv6");

    const TrafanHost *h1 = find_host(stats, "10.0.0.1");
    g_assert_cmpuint(h1->tx_bytes, ==, 700);
    g_assert_cmpuint(h1->rx_bytes, ==, 2400);
    g_assert_cmpuint(h1->peers, ==, 3);
    g_assert_cmpuint(host_ports(h1), ==, 2);        /* (tcp, 80), (tcp, 81) */

    /* Totals stay exact: every IP header is one tx and one rx. */
    guint64 tx = 0, rx = 0;
    GPtrArray *hosts = trafan_stats_sorted_hosts(stats, 0);
    for (guint i = 0; i < hosts->len; i++) {
        tx += ((TrafanHost *)g_ptr_array_index(hosts, i))->tx_bytes;
        rx += ((TrafanHost *)g_ptr_array_index(hosts, i))->rx_bytes;
    }
    g_ptr_array_unref(hosts);
    g_assert_cmpuint(tx, ==, 6300);
    g_assert_cmpuint(rx, ==, 6300);

    /* .1 <-> other IPv4: a is .1 (it sent first); .5's packets are b -> a. */
    TrafanAddress a1 = addr("10.0.0.1");
    const TrafanConversation *c = find_conv_addr(stats, &a1, &other4);
    g_assert_nonnull(c);
    assert_address(&c->a, "10.0.0.1");
    g_assert_cmpuint(c->a_to_b_packets, ==, 1);
    g_assert_cmpuint(c->a_to_b_bytes, ==, 400);
    g_assert_cmpuint(c->b_to_a_packets, ==, 2);
    g_assert_cmpuint(c->b_to_a_bytes, ==, 2400);
    c = find_conv_addr(stats, &other6, &other6);
    g_assert_nonnull(c);
    g_assert_cmpuint(c->a_to_b_bytes, ==, 3200);
    g_assert_cmpuint(trafan_stats_n_conversations(stats), ==, 4);

    TrafanReportOptions opts = { .top = 0, .filter = NULL, .flags = NULL };
    GString *text = trafan_report_text(stats, &opts);
    g_assert_nonnull(strstr(text->str, "max_hosts=3 reached: 3 further hosts"));
    g_string_free(text, TRUE);
    char *json = report_json(stats, NULL);
    g_assert_nonnull(strstr(json, "\"max_hosts\":3,\"hosts_aggregated\":3,\"hosts_aggregated_exact\":true"));
    g_assert_nonnull(strstr(json, "\"address\":\"other IPv4\""));
    g_assert_nonnull(strstr(json, "\"aggregated\":2}"));
    g_free(json);
    trafan_stats_free(stats);
}

static void
test_host_cap_overflow(void)
{
    TrafanStats *stats = stats_new_with(0, 1);
    TrafanAddress other4 = pseudo(TRAFAN_FAMILY_OTHER4);

    /* One host kept; the aggregated set holds at most max_hosts, so with
     * three folded hosts the count is a lower bound, marked as such. */
    add_ip(stats, MS(0), 10, "udp", "10.0.0.1", "10.0.0.2");
    add_ip(stats, MS(1), 10, "udp", "10.0.0.1", "10.0.0.3");
    add_ip(stats, MS(2), 10, "udp", "10.0.0.4", "10.0.0.1");
    add_ip(stats, MS(3), 10, "udp", "10.0.0.2", "10.0.0.1");
    trafan_stats_finish(stats);

    g_assert_cmpuint(trafan_stats_n_hosts(stats), ==, 2);
    g_assert_cmpuint(trafan_stats_hosts_aggregated(stats), ==, 1);
    g_assert_false(trafan_stats_hosts_aggregated_exact(stats));
    const TrafanHost *o4 = trafan_stats_host(stats, &other4);
    g_assert_cmpuint(o4->tx_packets + o4->rx_packets, ==, 4);
    g_assert_cmpuint(find_host(stats, "10.0.0.1")->tx_packets, ==, 2);
    g_assert_cmpuint(find_host(stats, "10.0.0.1")->rx_packets, ==, 2);
    g_assert_cmpuint(trafan_stats_n_conversations(stats), ==, 1);

    GString *text = trafan_report_text(stats, &no_options);
    g_assert_nonnull(strstr(text->str, "max_hosts=1 reached: more than 1 further hosts"));
    g_string_free(text, TRUE);
    char *json = report_json(stats, NULL);
    g_assert_nonnull(strstr(json, "\"hosts_aggregated\":1,\"hosts_aggregated_exact\":false"));
    g_free(json);
    trafan_stats_free(stats);
}

/* ------------------------------------------------------------------ */
/* Merging slices                                                       */

static const char *const stream_protocols[] = { "tcp", "udp", "dns", "tls", "http", "icmp", "arp" };

static void
random_address(GRand *rand, char buf[TRAFAN_ADDRSTRLEN], gboolean v6)
{
    if (v6)
        g_snprintf(buf, TRAFAN_ADDRSTRLEN, "2001:db8::%x", g_rand_int_range(rand, 1, 41));
    else
        g_snprintf(buf, TRAFAN_ADDRSTRLEN, "10.0.%d.%d", g_rand_int_range(rand, 0, 3), g_rand_int_range(rand, 1, 21));
}

/* A stream with ~100 hosts, both families, tunnels, LAND frames, non-IP
 * frames and backward time steps; rel_ns = abs_ns - abs_ns of the first. */
static GArray *
random_stream(guint32 seed, guint n)
{
    GArray *stream = g_array_sized_new(FALSE, FALSE, sizeof(TrafanPacket), n);
    GRand *rand = g_rand_new_with_seed(seed);
    gint64 t = 123456789;

    for (guint i = 0; i < n; i++) {
        const char *proto = stream_protocols[g_rand_int_range(rand, 0, G_N_ELEMENTS(stream_protocols))];
        TrafanPacket p = frame(t, (guint32)g_rand_int_range(rand, 42, 1515), proto);
        char src[TRAFAN_ADDRSTRLEN], dst[TRAFAN_ADDRSTRLEN];

        if (strcmp(proto, "arp") != 0) {
            gboolean v6 = g_rand_int_range(rand, 0, 3) == 0;
            if (g_rand_int_range(rand, 0, 10) == 0) {           /* tunnel */
                random_address(rand, src, FALSE);
                random_address(rand, dst, FALSE);
                push_ip(&p, src, dst);
            }
            random_address(rand, src, v6);
            if (g_rand_int_range(rand, 0, 50) == 0)
                strcpy(dst, src);                               /* LAND */
            else
                random_address(rand, dst, v6);
            push_ip(&p, src, dst);
            if (strcmp(proto, "icmp") != 0)
                push_transport(&p, strcmp(proto, "tcp") == 0 || strcmp(proto, "tls") == 0
                                   || strcmp(proto, "http") == 0 ? 6 : 17,
                               (guint16)g_rand_int_range(rand, 1024, 65536),
                               (guint16)g_rand_int_range(rand, 1, 40));
        }
        g_array_append_val(stream, p);

        /* Mostly forward in steps up to 80 ms; sometimes back up to 1.5 s. */
        if (g_rand_int_range(rand, 0, 20) == 0)
            t -= g_rand_int_range(rand, 0, 1500000000);
        else
            t += g_rand_int_range(rand, 0, 80000000);
    }
    g_rand_free(rand);
    /* Relative to the first frame, as Wireshark has it. */
    for (guint i = 0; i < stream->len; i++) {
        TrafanPacket *p = &g_array_index(stream, TrafanPacket, i);
        p->rel_ns = p->abs_ns - (T0 + 123456789);
    }
    return stream;
}

static char *
reports_of(TrafanStats *stats)
{
    trafan_stats_finish(stats);
    GString *json = trafan_report_json(stats, &no_options);
    GString *csv = trafan_report_csv(stats, &no_options);
    GString *dot = trafan_report_dot(stats, &no_options);
    char *all = g_strconcat(json->str, "\n----\n", csv->str, "\n----\n", dot->str, NULL);

    g_string_free(json, TRUE);
    g_string_free(csv, TRUE);
    g_string_free(dot, TRUE);
    return all;
}

/* Equal texts, or fail naming the first line that differs. */
static void
assert_same_text(const char *got, const char *expected)
{
    if (strcmp(got, expected) == 0)
        return;
    char **g = g_strsplit(got, "\n", -1), **e = g_strsplit(expected, "\n", -1);
    guint i = 0;
    while (g[i] && e[i] && strcmp(g[i], e[i]) == 0)
        i++;
    g_error("texts differ at line %u:\n  got:      %s\n  expected: %s", i + 1,
            g[i] ? g[i] : "(end)", e[i] ? e[i] : "(end)");
}

/* Accumulate stream[from, to) in a new state. */
static TrafanStats *
slice_stats(const GArray *stream, guint from, guint to, gint64 interval_us)
{
    TrafanStats *stats = stats_new_with(interval_us, 0);

    for (guint i = from; i < to; i++)
        trafan_stats_add(stats, &g_array_index(stream, TrafanPacket, i));
    return stats;
}

/* cuts: ascending, ending with the stream length. */
static char *
merged_reports(const GArray *stream, const guint *cuts, guint n_cuts, gint64 interval_us, gboolean into_empty)
{
    TrafanStats *acc = into_empty ? stats_new_with(interval_us, 0) : NULL;
    guint from = 0;

    for (guint i = 0; i < n_cuts; i++) {
        TrafanStats *slice = slice_stats(stream, from, cuts[i], interval_us);
        from = cuts[i];
        if (!acc) {
            acc = slice;
            continue;
        }
        GError *error = NULL;
        g_assert_true(trafan_stats_merge(acc, slice, &error));
        g_assert_no_error(error);
        trafan_stats_free(slice);
    }
    g_assert_cmpuint(from, ==, stream->len);
    char *reports = reports_of(acc);
    trafan_stats_free(acc);
    return reports;
}

static void
test_merge_equals_single_pass(void)
{
    const guint n = 4000;
    GArray *stream = random_stream(20240611, n);
    const gint64 intervals[] = { 1000000, 100000, 1 };
    const guint cuts_a[] = { 2000, n };
    const guint cuts_b[] = { 1, 2, 999, 1000, 2500, n - 1, n };
    const guint cuts_c[] = { 0, 700, 700, 2100, 3333, n, n };   /* empty slices too */
    const struct { const guint *cuts; guint n; } splits[] = {
        { cuts_a, G_N_ELEMENTS(cuts_a) }, { cuts_b, G_N_ELEMENTS(cuts_b) }, { cuts_c, G_N_ELEMENTS(cuts_c) },
    };

    for (guint k = 0; k < G_N_ELEMENTS(intervals); k++) {
        TrafanStats *whole = slice_stats(stream, 0, n, intervals[k]);

        /* The stream really has what the test is about. */
        if (k == 0) {
            g_assert_cmpuint(trafan_stats_n_hosts(whole), >, 80);
            g_assert_cmpuint(trafan_stats_buckets(whole)->len, >, 10);
            g_assert_cmpint(trafan_stats_first_ns(whole), <, T0 + 123456789);
        }
        char *expected = reports_of(whole);
        trafan_stats_free(whole);

        for (guint s = 0; s < G_N_ELEMENTS(splits); s++) {
            for (int into_empty = 0; into_empty <= 1; into_empty++) {
                char *got = merged_reports(stream, splits[s].cuts, splits[s].n, intervals[k], into_empty);
                if (strcmp(got, expected) != 0)
                    g_test_message("interval %" G_GINT64_FORMAT " us, split %u, into_empty %d",
                                   intervals[k], s, into_empty);
                assert_same_text(got, expected);
                g_free(got);
            }
        }
        g_free(expected);
    }
    g_array_free(stream, TRUE);
}

/* What the detector held: the JSON's last member; a text line only once
 * keys were refused. */
static void
test_report_detector_usage(gconstpointer data)
{
    const TrafanDetectorUsage *usage = data;
    TrafanStats *stats = stats_new();
    add_ip(stats, MS(1), 100, "tcp", "10.0.0.1", "10.0.0.2");
    TrafanReportOptions opts = { .detector = usage };
    char *json = report_json(stats, &opts);
    char *member = g_strdup_printf(",\n\"detector\":{\"state_bytes\":%" G_GUINT64_FORMAT ",\"budget_bytes\":67108864,"
                                   "\"refused_keys\":%" G_GUINT64_FORMAT "}}\n", usage->state_bytes, usage->refused_keys);
    g_assert_true(g_str_has_suffix(json, member));
    GString *text = trafan_report_text(stats, &opts);
    const char *line = strstr(text->str, "Detector memory max_state_mb=64 reached: ");
    if (usage->refused_keys)
        g_assert_true(line && g_str_has_prefix(line + strlen("Detector memory max_state_mb=64 reached: "), "7 keys were refused or dropped"));
    else
        g_assert_null(line);
    g_string_free(text, TRUE);
    g_free(member);
    g_free(json);
    trafan_stats_free(stats);
}

static const TrafanDetectorUsage usage_cases[] = {
    { 123456, 64u << 20, 0 },
    { 67000000, 64u << 20, 7 },
};

static TrafanStats *sample_stats(void);

/* A state through its serialised bytes and back, as a state file carries it. */
static TrafanStats *
through_bytes(const TrafanStats *stats)
{
    GVariant *saved = g_variant_ref_sink(trafan_stats_save(stats));
    GBytes *bytes = g_variant_get_data_as_bytes(saved);
    GVariant *read = g_variant_new_from_bytes(G_VARIANT_TYPE(TRAFAN_STATS_VARIANT_TYPE), bytes, FALSE);
    GError *error = NULL;
    TrafanStats *loaded = trafan_stats_load(read, &error);

    g_assert_no_error(error);
    g_variant_unref(g_variant_ref_sink(read));
    g_bytes_unref(bytes);
    g_variant_unref(saved);
    return loaded;
}

/* Saved and loaded slices merge into exactly the whole, and a loaded state
 * reports as the original (host order, buckets, time reference included). */
static void
test_state_round_trip(void)
{
    const guint n = 4000, cuts[] = { 1, 999, 2500, n };
    GArray *stream = random_stream(20240611, n);
    TrafanStats *whole = slice_stats(stream, 0, n, 100000), *acc = NULL;
    TrafanStats *copy = through_bytes(whole);
    char *expected = reports_of(whole), *again = reports_of(copy);
    guint from = 0;

    assert_same_text(again, expected);
    for (guint i = 0; i < G_N_ELEMENTS(cuts); i++) {
        TrafanStats *slice = slice_stats(stream, from, cuts[i], 100000), *loaded = through_bytes(slice);
        GError *error = NULL;

        from = cuts[i];
        trafan_stats_free(slice);
        if (!acc) {
            acc = loaded;
            continue;
        }
        g_assert_true(trafan_stats_merge(acc, loaded, &error));
        trafan_stats_free(loaded);
    }
    char *merged = reports_of(acc);
    assert_same_text(merged, expected);

    g_free(merged);
    g_free(again);
    g_free(expected);
    trafan_stats_free(acc);
    trafan_stats_free(copy);
    trafan_stats_free(whole);
    g_array_free(stream, TRUE);
}

/* A state with a host listed twice, or a conversation between unknown
 * hosts, is refused rather than loaded. */
static void
test_state_inconsistent(void)
{
    TrafanStats *stats = sample_stats();
    GVariant *saved = g_variant_ref_sink(trafan_stats_save(stats));
    GVariant *hosts = g_variant_get_child_value(saved, 12);
    GVariant *first = g_variant_get_child_value(hosts, 0);
    GVariant *pair[] = { first, first };
    GVariant *twice = g_variant_ref_sink(g_variant_new_array(NULL, pair, 2));
    GVariant *none = g_variant_ref_sink(g_variant_new_array(g_variant_get_type(first), NULL, 0));
    GVariant *cases[] = { twice, none };
    const char *messages[] = { "a host is invalid or listed twice", "between unknown hosts" };
    GError *error = NULL;

    for (guint c = 0; c < G_N_ELEMENTS(cases); c++) {
        gsize n = g_variant_n_children(saved);
        GVariant **children = g_new(GVariant *, n);
        for (gsize i = 0; i < n; i++)
            children[i] = i == 12 ? g_variant_ref(cases[c]) : g_variant_get_child_value(saved, i);
        GVariant *bad = g_variant_ref_sink(g_variant_new_tuple(children, n));

        g_assert_null(trafan_stats_load(bad, &error));
        g_assert_nonnull(strstr(error->message, messages[c]));
        g_clear_error(&error);
        for (gsize i = 0; i < n; i++)
            g_variant_unref(children[i]);
        g_free(children);
        g_variant_unref(bad);
    }
    g_variant_unref(twice);
    g_variant_unref(none);
    g_variant_unref(first);
    g_variant_unref(hosts);
    g_variant_unref(saved);
    trafan_stats_free(stats);
}

/* The host cap across slices.  Exact as long as no slice folds hosts by
 * itself (a slice knows only its own hosts): the merge meets a later
 * slice's new hosts in the order that slice met them.  Here slice 3 has two IPv6 hosts
 * that both fold into "other IPv6": their conversation becomes the pseudo-
 * host's self-conversation, all a -> b as in one pass. */
static void
test_merge_host_cap(void)
{
    const char *const stream[][2] = {
        { "10.0.0.1", "10.0.0.2" },         /* slice 1 */
        { "10.0.0.2", "10.0.0.1" },
        { "10.0.0.3", "10.0.0.1" },         /* slice 2: .3 is the third host, kept */
        { "10.0.0.4", "10.0.0.1" },         /* .4 folded in the whole capture */
        { "10.0.0.1", "10.0.0.4" },
        { "10.0.0.3", "10.0.0.4" },
        { "2001:db8::1", "2001:db8::2" },   /* slice 3: both folded */
        { "2001:db8::2", "2001:db8::1" },
    };
    const guint cut[] = { 2, 6 };
    TrafanStats *whole = stats_new_with(0, 3), *acc = NULL, *slice = NULL;

    for (guint i = 0; i <= G_N_ELEMENTS(stream); i++) {
        if (i == 0 || i == cut[0] || i == cut[1] || i == G_N_ELEMENTS(stream)) {
            if (slice && acc) {
                GError *error = NULL;
                g_assert_true(trafan_stats_merge(acc, slice, &error));
                g_assert_no_error(error);
                trafan_stats_free(slice);
            } else if (slice) {
                acc = slice;
            }
            slice = i < G_N_ELEMENTS(stream) ? stats_new_with(0, 3) : NULL;
        }
        if (i == G_N_ELEMENTS(stream))
            break;
        TrafanPacket p = ip_packet(MS(i * 100), 100 + i, "udp", stream[i][0], stream[i][1]);
        push_transport(&p, 17, 1000, (guint16)(53 + i));
        trafan_stats_add(whole, &p);
        trafan_stats_add(slice, &p);
    }

    char *expected = reports_of(whole), *got = reports_of(acc);
    assert_same_text(got, expected);
    g_assert_cmpuint(trafan_stats_hosts_aggregated(acc), ==, 3);
    g_assert_nonnull(strstr(expected, "\"hosts_aggregated\":3,\"hosts_aggregated_exact\":true"));
    g_free(expected);
    g_free(got);
    trafan_stats_free(whole);
    trafan_stats_free(acc);
}

/* Two hosts new in the same packet at the cap: the source is met first, in
 * one pass and in the merge alike, although its address sorts later. */
static void
test_merge_host_cap_same_packet(void)
{
    TrafanStats *whole = stats_new_with(0, 3), *first = stats_new_with(0, 3), *second = stats_new_with(0, 3);
    TrafanPacket p1 = ip_packet(MS(0), 100, "udp", "10.0.0.1", "10.0.0.2");
    TrafanPacket p2 = ip_packet(MS(100), 200, "udp", "10.0.0.9", "10.0.0.3");
    GError *error = NULL;

    trafan_stats_add(whole, &p1);
    trafan_stats_add(whole, &p2);
    trafan_stats_add(first, &p1);
    trafan_stats_add(second, &p2);
    g_assert_true(trafan_stats_merge(first, second, &error));
    g_assert_no_error(error);

    char *expected = reports_of(whole), *got = reports_of(first);
    assert_same_text(got, expected);
    g_assert_nonnull(strstr(expected, "\"address\":\"10.0.0.9\""));
    g_assert_null(strstr(expected, "\"address\":\"10.0.0.3\""));
    g_free(expected);
    g_free(got);
    trafan_stats_free(whole);
    trafan_stats_free(first);
    trafan_stats_free(second);
}

static void
test_merge_mismatch(void)
{
    TrafanStats *a = stats_new_with(1000000, 0), *b = stats_new_with(500000, 0);
    GError *error = NULL;

    add_ip(a, MS(0), 10, "udp", "10.0.0.1", "10.0.0.2");
    add_ip(b, MS(10), 10, "udp", "10.0.0.1", "10.0.0.2");
    g_assert_false(trafan_stats_merge(a, b, &error));
    g_assert_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE);
    g_assert_nonnull(strstr(error->message, "interval"));
    g_clear_error(&error);
    g_assert_cmpuint(trafan_stats_packets(a), ==, 1);        /* untouched */
    trafan_stats_free(b);

    /* Same interval, another time reference. */
    b = stats_new_with(1000000, 0);
    TrafanPacket p = ip_packet(MS(10), 10, "udp", "10.0.0.1", "10.0.0.2");
    p.rel_ns = MS(5);
    trafan_stats_add(b, &p);
    g_assert_false(trafan_stats_merge(a, b, &error));
    g_assert_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE);
    g_clear_error(&error);
    g_assert_cmpuint(trafan_stats_packets(a), ==, 1);
    trafan_stats_free(b);

    /* An empty state of the same interval merges as a no-op. */
    b = stats_new_with(1000000, 0);
    g_assert_true(trafan_stats_merge(a, b, &error));
    g_assert_no_error(error);
    g_assert_cmpuint(trafan_stats_packets(a), ==, 1);
    trafan_stats_free(b);
    trafan_stats_free(a);
}

/* ------------------------------------------------------------------ */
/* Reports                                                              */

static JsonNode *
parse_json(const char *text)
{
    JsonParser *parser = json_parser_new();
    GError *error = NULL;

    if (!json_parser_load_from_data(parser, text, -1, &error))
        g_test_message("invalid JSON:\n%s", text);
    g_assert_no_error(error);
    JsonNode *root = json_node_copy(json_parser_get_root(parser));
    g_object_unref(parser);
    g_assert_true(JSON_NODE_HOLDS_OBJECT(root));
    return root;
}

/* Every key present, with a value of the given kind: 'n' number, 's'
 * string, 'o' object, 'a' array. */
static void
assert_keys(JsonObject *obj, const char *spec)
{
    char **items = g_strsplit(spec, " ", -1);

    for (char **item = items; *item; item++) {
        const char *colon = strchr(*item, ':');
        char *key = g_strndup(*item, (gsize)(colon - *item));
        JsonNode *node = json_object_get_member(obj, key);

        if (!node)
            g_error("key \"%s\" missing", key);
        switch (colon[1]) {
        case 'n':
            g_assert_true(JSON_NODE_HOLDS_VALUE(node));
            g_assert_true(json_node_get_value_type(node) == G_TYPE_INT64
                          || json_node_get_value_type(node) == G_TYPE_DOUBLE);
            break;
        case 's':
            g_assert_true(JSON_NODE_HOLDS_VALUE(node));
            g_assert_true(json_node_get_value_type(node) == G_TYPE_STRING);
            break;
        case 'o':
            g_assert_true(JSON_NODE_HOLDS_OBJECT(node));
            break;
        case 'a':
            g_assert_true(JSON_NODE_HOLDS_ARRAY(node));
            break;
        default:
            g_assert_not_reached();
        }
        g_free(key);
    }
    g_strfreev(items);
}

/* A small capture with both families, a tunnel, non-IP frames, an awkward
 * protocol name and a backwards step. */
static TrafanStats *
sample_stats(void)
{
    TrafanStats *stats = stats_new_with(250000, 0);
    TrafanPacket p;

    add_l4(stats, MS(0), 100, 6, "10.0.0.1", 40000, "10.0.0.2", 80);
    add_l4(stats, MS(10), 1500, 6, "10.0.0.2", 80, "10.0.0.1", 40000);
    add_l4(stats, MS(300), 80, 17, "2001:db8::1", 5353, "2001:db8::fb", 53);
    add_ip(stats, -MS(500), 64, "icmpv6", "2001:db8::fb", "2001:db8::1");
    p = frame(MS(700), 42, "arp");
    trafan_stats_add(stats, &p);
    p = frame(MS(800), 300, "we\"ird\\name");
    push_ip(&p, "192.0.2.1", "192.0.2.2");
    push_ip(&p, "::ffff:1.2.3.4", "2001:db8::1");
    trafan_stats_add(stats, &p);
    trafan_stats_finish(stats);
    return stats;
}

static GPtrArray *
sample_flags(void)
{
    GPtrArray *flags = g_ptr_array_new_with_free_func((GDestroyNotify)trafan_flag_free);
    TrafanAddress host = addr("10.0.0.1"), target = addr("2001:db8::fb");
    TrafanFlag *f;
    TrafanFlagPeer peer = { addr("10.0.0.2"), 7 };

    f = trafan_flag_new(&host, TRAFAN_ROLE_SOURCE, "port_scan");
    f->start_ns = T0;
    f->end_ns = T0 + MS(10);
    f->observed = 2.5;
    f->threshold = 100;
    f->window_ns = SEC(1);
    g_array_append_val(f->peers, peer);
    f->peers_total = 1;
    f->filter = g_strdup("ip.src == 10.0.0.1 && tcp.flags.syn == 1");
    f->summary = g_strdup("10.0.0.1 probed \"many\" ports, fast");
    g_ptr_array_add(flags, f);

    f = trafan_flag_new(&host, TRAFAN_ROLE_SOURCE, "syn_flood");
    f->observed = 1000;
    f->threshold = 0.125;
    g_ptr_array_add(flags, f);

    f = trafan_flag_new(&target, TRAFAN_ROLE_TARGET, "udp_flood");
    g_ptr_array_add(flags, f);
    return flags;
}

static void
test_report_json(void)
{
    TrafanStats *stats = sample_stats();
    GPtrArray *flags = sample_flags();
    TrafanReportOptions opts = { .top = 0, .filter = "tcp || \"x\"", .flags = flags };
    char *json = report_json(stats, &opts);
    JsonNode *root = parse_json(json);
    JsonObject *top = json_node_get_object(root);

    assert_keys(top, "capture:o conversations:a hosts:a protocols:a bandwidth:o flags:a");

    JsonObject *capture = json_object_get_object_member(top, "capture");
    assert_keys(capture, "packets:n bytes:n first_time:n last_time:n duration:n filter:s");
    g_assert_cmpint(json_object_get_int_member(capture, "packets"), ==, 6);
    g_assert_cmpint(json_object_get_int_member(capture, "bytes"), ==, 2086);
    g_assert_cmpfloat_with_epsilon(json_object_get_double_member(capture, "duration"), 1.3, 1e-9);
    g_assert_cmpfloat_with_epsilon(json_object_get_double_member(capture, "first_time"), (T0 - MS(500)) / 1e9, 1e-6);
    g_assert_cmpstr(json_object_get_string_member(capture, "filter"), ==, "tcp || \"x\"");
    g_assert_nonnull(strstr(json, "\"duration\":1.300000000,"));

    JsonArray *convs = json_object_get_array_member(top, "conversations");
    g_assert_cmpuint(json_array_get_length(convs), ==, 4);
    guint64 conv_bytes = 0;
    for (guint i = 0; i < json_array_get_length(convs); i++) {
        JsonObject *c = json_array_get_object_element(convs, i);
        assert_keys(c, "a:s b:s a_to_b_packets:n a_to_b_bytes:n b_to_a_packets:n b_to_a_bytes:n "
                       "start:n duration:n protocols:o");
        TrafanAddress check;
        g_assert_true(trafan_address_parse(json_object_get_string_member(c, "a"), &check));
        g_assert_true(trafan_address_parse(json_object_get_string_member(c, "b"), &check));
        conv_bytes += json_object_get_int_member(c, "a_to_b_bytes") + json_object_get_int_member(c, "b_to_a_bytes");
    }
    g_assert_cmpuint(conv_bytes, ==, 1600 + 144 + 300 + 300);
    JsonObject *c0 = json_array_get_object_element(convs, 0);        /* biggest */
    g_assert_cmpstr(json_object_get_string_member(c0, "a"), ==, "10.0.0.1");
    g_assert_cmpint(json_object_get_int_member(c0, "b_to_a_bytes"), ==, 1500);
    g_assert_cmpint(json_object_get_int_member(json_object_get_object_member(c0, "protocols"), "tcp"), ==, 2);
    g_assert_cmpfloat_with_epsilon(json_object_get_double_member(c0, "duration"), 0.01, 1e-12);

    JsonArray *hosts = json_object_get_array_member(top, "hosts");
    g_assert_cmpuint(json_array_get_length(hosts), ==, 7);
    for (guint i = 0; i < json_array_get_length(hosts); i++)
        assert_keys(json_array_get_object_element(hosts, i),
                    "address:s tx_packets:n tx_bytes:n rx_packets:n rx_bytes:n peers:n dst_ports:n");
    JsonObject *h0 = json_array_get_object_element(hosts, 0);
    g_assert_cmpstr(json_object_get_string_member(h0, "address"), ==, "10.0.0.1");
    g_assert_cmpint(json_object_get_int_member(h0, "dst_ports"), ==, 1);
    g_assert_cmpint(json_object_get_int_member(h0, "peers"), ==, 1);

    JsonArray *protocols = json_object_get_array_member(top, "protocols");
    g_assert_cmpuint(json_array_get_length(protocols), ==, 5);
    gboolean weird = FALSE;
    for (guint i = 0; i < json_array_get_length(protocols); i++) {
        JsonObject *p = json_array_get_object_element(protocols, i);
        assert_keys(p, "name:s packets:n bytes:n");
        weird |= strcmp(json_object_get_string_member(p, "name"), "we\"ird\\name") == 0;
    }
    g_assert_true(weird);

    JsonObject *bandwidth = json_object_get_object_member(top, "bandwidth");
    assert_keys(bandwidth, "interval:n buckets:a");
    g_assert_cmpfloat(json_object_get_double_member(bandwidth, "interval"), ==, 0.25);
    JsonArray *buckets = json_object_get_array_member(bandwidth, "buckets");
    /* 0 (0, 10 ms), 1 (300 ms, then -0.5 s: the current interval), 2, 3. */
    g_assert_cmpuint(json_array_get_length(buckets), ==, 4);
    guint64 bucket_bytes = 0;
    for (guint i = 0; i < json_array_get_length(buckets); i++) {
        JsonObject *b = json_array_get_object_element(buckets, i);
        assert_keys(b, "start:n packets:n bytes:n");
        g_assert_cmpfloat(json_object_get_double_member(b, "start"), ==, 0.25 * (i == 0 ? 0 : i));
        bucket_bytes += json_object_get_int_member(b, "bytes");
    }
    g_assert_cmpuint(bucket_bytes, ==, 2086);
    g_assert_cmpint(json_object_get_int_member(json_array_get_object_element(buckets, 0), "packets"), ==, 2);
    g_assert_cmpint(json_object_get_int_member(json_array_get_object_element(buckets, 1), "bytes"), ==, 144);

    JsonArray *jflags = json_object_get_array_member(top, "flags");
    g_assert_cmpuint(json_array_get_length(jflags), ==, 3);
    JsonObject *f0 = json_array_get_object_element(jflags, 0);
    g_assert_cmpstr(json_object_get_string_member(f0, "host"), ==, "10.0.0.1");
    g_assert_cmpstr(json_object_get_string_member(f0, "rule"), ==, "port_scan");
    g_assert_cmpstr(json_object_get_string_member(f0, "role"), ==, "source");
    g_assert_cmpstr(json_object_get_string_member(f0, "summary"), ==, "10.0.0.1 probed \"many\" ports, fast");
    g_assert_cmpfloat(json_object_get_double_member(f0, "observed"), ==, 2.5);
    g_assert_cmpstr(json_object_get_string_member(json_array_get_object_element(jflags, 2), "role"), ==, "target");

    json_node_unref(root);
    g_free(json);
    g_ptr_array_unref(flags);
    trafan_stats_free(stats);
}

/* A locale that writes 0,5 for 0.5, if one is installed. */
static const char *
comma_locale(void)
{
    static const char *const candidates[] = {
        "de_DE.UTF-8", "de_DE.utf8", "de_DE", "fr_FR.UTF-8", "fr_FR.utf8", "nl_NL.UTF-8",
        "es_ES.UTF-8", "it_IT.UTF-8", "ru_RU.UTF-8", "pt_BR.UTF-8", "sv_SE.UTF-8",
    };

    for (guint i = 0; i < G_N_ELEMENTS(candidates); i++) {
        if (setlocale(LC_ALL, candidates[i]) && strcmp(localeconv()->decimal_point, ",") == 0)
            return candidates[i];
    }
    setlocale(LC_ALL, "C");
    return NULL;
}

static void
test_report_locale(void)
{
    TrafanStats *stats = sample_stats();
    GPtrArray *flags = sample_flags();
    TrafanReportOptions opts = { .top = 0, .filter = NULL, .flags = flags };
    TrafanFormat formats[] = { TRAFAN_FORMAT_TEXT, TRAFAN_FORMAT_JSON, TRAFAN_FORMAT_CSV };
    GString *in_c[G_N_ELEMENTS(formats)];
    GString *dot_c = trafan_report_dot(stats, &opts);

    setlocale(LC_ALL, "C");
    for (guint i = 0; i < G_N_ELEMENTS(formats); i++)
        in_c[i] = trafan_report(stats, &opts, formats[i]);

    const char *name = comma_locale();
    if (!name) {
        g_test_skip("no locale with a comma decimal separator is installed");
    } else {
        g_test_message("locale %s", name);
        for (guint i = 0; i < G_N_ELEMENTS(formats); i++) {
            GString *local = trafan_report(stats, &opts, formats[i]);
            g_assert_cmpstr(local->str, ==, in_c[i]->str);
            g_string_free(local, TRUE);
        }
        GString *dot = trafan_report_dot(stats, &opts);
        g_assert_cmpstr(dot->str, ==, dot_c->str);
        g_string_free(dot, TRUE);
        /* And still valid JSON, read in that locale. */
        JsonNode *root = parse_json(in_c[1]->str);
        json_node_unref(root);
        setlocale(LC_ALL, "C");
    }
    /* In any locale: dots, never commas, inside numbers. */
    g_assert_nonnull(strstr(in_c[1]->str, "\"observed\":2.500,"));
    g_assert_nonnull(strstr(in_c[1]->str, "\"threshold\":0.125,"));
    g_assert_nonnull(strstr(in_c[1]->str, "\"interval\":0.250000,"));

    for (guint i = 0; i < G_N_ELEMENTS(formats); i++)
        g_string_free(in_c[i], TRUE);
    g_string_free(dot_c, TRUE);
    g_ptr_array_unref(flags);
    trafan_stats_free(stats);
}

/* The lines of the CSV section "# name". */
static char **
csv_section(const char *csv, const char *name)
{
    char *header = g_strdup_printf("# %s\n", name);
    const char *start = strstr(csv, header);

    g_assert_nonnull(start);
    start += strlen(header);
    const char *end = strstr(start, "\n\n");
    char *body = end ? g_strndup(start, (gsize)(end - start)) : g_strdup(start);
    g_strchomp(body);
    char **lines = g_strsplit(body, "\n", -1);
    g_free(body);
    g_free(header);
    return lines;
}

static void
test_report_csv(void)
{
    TrafanStats *stats = stats_new();
    GPtrArray *flags = g_ptr_array_new_with_free_func((GDestroyNotify)trafan_flag_free);
    TrafanAddress host = addr("10.0.0.1");
    TrafanFlag *f = trafan_flag_new(&host, TRAFAN_ROLE_SOURCE, "port_scan");

    f->summary = g_strdup("say \"hi\", twice");
    f->filter = g_strdup("tcp");
    g_ptr_array_add(flags, f);
    add_ip(stats, MS(0), 100, "tcp", "10.0.0.1", "10.0.0.2");
    add_ip(stats, MS(0), 100, "tcp", "10.0.0.1", "10.0.0.2");
    add_ip(stats, MS(0), 100, "udp", "10.0.0.2", "10.0.0.1");
    add_ip(stats, MS(0), 5, "a\"b,c", "2001:db8::1", "2001:db8::2");
    trafan_stats_finish(stats);

    TrafanReportOptions opts = { .top = 0, .filter = NULL, .flags = flags };
    GString *csv = trafan_report_csv(stats, &opts);
    char **conv = csv_section(csv->str, "conversations");
    g_assert_cmpstr(conv[0], ==, "Address A,Address B,A->B Packets,A->B Bytes,B->A Packets,B->A Bytes,"
                                 "Packets,Bytes,Rel Start (s),Duration (s),Protocols (packets)");
    /* A cell with a comma is quoted. */
    g_assert_cmpstr(conv[1], ==, "10.0.0.1,10.0.0.2,2,200,1,100,3,300,0.000000000,0.000000000,\"tcp:2,udp:1\"");
    g_assert_cmpstr(conv[2], ==, "2001:db8::1,2001:db8::2,1,5,0,0,1,5,0.000000000,0.000000000,\"a\"\"b,c:1\"");
    g_assert_null(conv[3]);
    char **protocols = csv_section(csv->str, "protocols");
    g_assert_cmpstr(protocols[3], ==, "\"a\"\"b,c\",1,5");
    char **bandwidth = csv_section(csv->str, "bandwidth");
    /* A quote in a column title too. */
    g_assert_cmpstr(bandwidth[0], ==, "Start (s),Packets,Bytes,tcp Bytes,udp Bytes,\"a\"\"b,c Bytes\"");
    g_assert_cmpstr(bandwidth[1], ==, "0.000000,4,305,200,100,5");
    char **flag_rows = csv_section(csv->str, "flags");
    g_assert_true(g_str_has_suffix(flag_rows[1], ",tcp,\"say \"\"hi\"\", twice\""));
    g_assert_true(g_str_has_prefix(flag_rows[1], "10.0.0.1,source,port_scan,"));

    g_strfreev(conv);
    g_strfreev(protocols);
    g_strfreev(bandwidth);
    g_strfreev(flag_rows);
    g_string_free(csv, TRUE);
    g_ptr_array_unref(flags);
    trafan_stats_free(stats);
}

/* ---- a small reader of the DOT that trafan writes -------------------- */

typedef struct {
    char       *a, *b;          /* node: b == NULL */
    GHashTable *attrs;
} DotItem;

static void
dot_item_free(gpointer data)
{
    DotItem *item = data;

    g_free(item->a);
    g_free(item->b);
    g_hash_table_destroy(item->attrs);
    g_free(item);
}

/* A double-quoted ID at *p; fails the test on anything else. */
static char *
dot_quoted(const char **p)
{
    GString *s = g_string_new(NULL);

    g_assert_cmpint(**p, ==, '"');
    for ((*p)++; **p != '"'; (*p)++) {
        g_assert_cmpint(**p, !=, '\0');
        if (**p == '\\') {
            (*p)++;
            g_string_append_c(s, **p == 'n' ? '\n' : **p);
        } else {
            g_string_append_c(s, **p);
        }
    }
    (*p)++;
    return g_string_free(s, FALSE);
}

/* " [key="value", key="value"];" — every value quoted. */
static GHashTable *
dot_attrs(const char **p)
{
    GHashTable *attrs = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);

    g_assert_true(g_str_has_prefix(*p, " ["));
    *p += 2;
    for (;;) {
        const char *key = *p;
        while (g_ascii_isalnum(**p) || **p == '_')
            (*p)++;
        g_assert_true(*p > key);
        char *name = g_strndup(key, (gsize)(*p - key));
        g_assert_cmpint(**p, ==, '=');
        (*p)++;
        g_hash_table_insert(attrs, name, dot_quoted(p));
        if (g_str_has_prefix(*p, ", ")) {
            *p += 2;
            continue;
        }
        g_assert_cmpstr(*p, ==, "];");
        return attrs;
    }
}

static GPtrArray *
dot_parse(const char *dot, GHashTable **graph_attrs)
{
    GPtrArray *items = g_ptr_array_new_with_free_func(dot_item_free);
    char **lines = g_strsplit(dot, "\n", -1);

    g_assert_cmpstr(lines[0], ==, "graph \"trafan\" {");
    g_assert_true(g_str_has_prefix(lines[1], "  graph"));
    const char *p = lines[1] + strlen("  graph");
    *graph_attrs = dot_attrs(&p);
    guint i;
    for (i = 2; lines[i] && strcmp(lines[i], "}") != 0; i++) {
        DotItem *item = g_new0(DotItem, 1);
        p = lines[i];
        g_assert_true(g_str_has_prefix(p, "  "));
        p += 2;
        item->a = dot_quoted(&p);
        if (g_str_has_prefix(p, " -- ")) {
            p += 4;
            item->b = dot_quoted(&p);
        }
        item->attrs = dot_attrs(&p);
        g_ptr_array_add(items, item);
    }
    g_assert_cmpstr(lines[i], ==, "}");
    g_assert_cmpstr(lines[i + 1], ==, "");
    g_assert_null(lines[i + 2]);
    g_strfreev(lines);
    return items;
}

static const DotItem *
dot_node(const GPtrArray *items, const char *name)
{
    for (guint i = 0; i < items->len; i++) {
        const DotItem *item = g_ptr_array_index(items, i);
        if (!item->b && strcmp(item->a, name) == 0)
            return item;
    }
    return NULL;
}

static void
test_report_dot(void)
{
    TrafanStats *stats = sample_stats();
    GPtrArray *flags = sample_flags();
    TrafanReportOptions opts = { .top = 0, .filter = "ip.addr == \"x\"", .flags = flags };
    GString *dot = trafan_report_dot(stats, &opts);
    GHashTable *graph;
    GPtrArray *items = dot_parse(dot->str, &graph);
    guint nodes = 0, edges = 0;

    g_assert_cmpstr(g_hash_table_lookup(graph, "packets"), ==, "6");
    g_assert_cmpstr(g_hash_table_lookup(graph, "filter"), ==, "ip.addr == \"x\"");
    g_assert_cmpstr(g_hash_table_lookup(graph, "interval"), ==, "0.250000");

    GHashTable *seen = g_hash_table_new(g_str_hash, g_str_equal);
    for (guint i = 0; i < items->len; i++) {
        const DotItem *item = g_ptr_array_index(items, i);
        if (item->b) {
            edges++;
            /* Both ends are nodes. */
            g_assert_nonnull(dot_node(items, item->a));
            g_assert_nonnull(dot_node(items, item->b));
        } else {
            nodes++;
            g_assert_false(g_hash_table_contains(seen, item->a));   /* one node per host */
            g_hash_table_add(seen, item->a);
        }
    }
    g_hash_table_destroy(seen);
    g_assert_cmpuint(nodes, ==, trafan_stats_n_hosts(stats));
    g_assert_cmpuint(edges, ==, trafan_stats_n_conversations(stats));

    /* IPv6 addresses intact. */
    const DotItem *v6 = dot_node(items, "2001:db8::fb");
    g_assert_nonnull(v6);
    g_assert_cmpstr(g_hash_table_lookup(v6->attrs, "family"), ==, "6");
    g_assert_nonnull(dot_node(items, "::ffff:1.2.3.4"));

    /* Flags: a source with two rules, a target, and an unflagged host. */
    const DotItem *src = dot_node(items, "10.0.0.1");
    g_assert_cmpstr(g_hash_table_lookup(src->attrs, "flag"), ==, "true");
    g_assert_cmpstr(g_hash_table_lookup(src->attrs, "rule"), ==, "port_scan,syn_flood");
    g_assert_cmpstr(g_hash_table_lookup(src->attrs, "role"), ==, "source");
    g_assert_cmpstr(g_hash_table_lookup(v6->attrs, "flag"), ==, "true");
    g_assert_cmpstr(g_hash_table_lookup(v6->attrs, "rule"), ==, "udp_flood");
    g_assert_cmpstr(g_hash_table_lookup(v6->attrs, "role"), ==, "target");
    const DotItem *plain = dot_node(items, "10.0.0.2");
    g_assert_null(g_hash_table_lookup(plain->attrs, "flag"));
    g_assert_cmpstr(g_hash_table_lookup(plain->attrs, "tx_bytes"), ==, "1500");

    /* The edge to a listed peer carries the rule. */
    for (guint i = 0; i < items->len; i++) {
        const DotItem *item = g_ptr_array_index(items, i);
        if (item->b && strcmp(item->a, "10.0.0.1") == 0) {
            g_assert_cmpstr(item->b, ==, "10.0.0.2");
            g_assert_cmpstr(g_hash_table_lookup(item->attrs, "flag"), ==, "port_scan");
            g_assert_cmpstr(g_hash_table_lookup(item->attrs, "bytes"), ==, "1600");
        } else if (item->b) {
            g_assert_null(g_hash_table_lookup(item->attrs, "flag"));
        }
    }

    g_ptr_array_unref(items);
    g_hash_table_destroy(graph);
    g_string_free(dot, TRUE);
    g_ptr_array_unref(flags);
    trafan_stats_free(stats);
}

/* A host's rules are listed each once, by exact name: "bandwidth" is not
 * taken for part of "bandwidth_spike". */
static void
test_report_dot_rule_names(void)
{
    TrafanStats *stats = sample_stats();
    GPtrArray *flags = g_ptr_array_new_with_free_func((GDestroyNotify)trafan_flag_free);
    TrafanAddress host = addr("10.0.0.1");
    const char *rules[] = { "bandwidth_spike", "bandwidth", "bandwidth_spike" };

    for (guint i = 0; i < G_N_ELEMENTS(rules); i++)
        g_ptr_array_add(flags, trafan_flag_new(&host, TRAFAN_ROLE_SOURCE, rules[i]));

    TrafanReportOptions opts = { .top = 0, .filter = NULL, .flags = flags };
    GString *dot = trafan_report_dot(stats, &opts);
    GHashTable *graph;
    GPtrArray *items = dot_parse(dot->str, &graph);

    g_assert_cmpstr(g_hash_table_lookup(dot_node(items, "10.0.0.1")->attrs, "rule"), ==, "bandwidth_spike,bandwidth");
    g_ptr_array_unref(items);
    g_hash_table_destroy(graph);
    g_string_free(dot, TRUE);
    g_ptr_array_unref(flags);
    trafan_stats_free(stats);
}

/* The lines of a text report section, from its title to the blank line. */
static char **
text_section_lines(const char *text, const char *title)
{
    const char *start = strstr(text, title);

    g_assert_nonnull(start);
    const char *end = strstr(start, "\n\n");
    char *body = end ? g_strndup(start, (gsize)(end - start)) : g_strdup(start);
    char **lines = g_strsplit(body, "\n", -1);
    g_free(body);
    return lines;
}

static void
test_report_text_top(void)
{
    TrafanStats *stats = stats_new();
    char dst[32];

    for (int i = 0; i < 5; i++) {
        g_snprintf(dst, sizeof dst, "10.0.1.%d", i);
        add_ip(stats, MS(i), (guint32)(i + 1) * 100, "tcp", "10.0.0.1", dst);
    }
    trafan_stats_finish(stats);

    TrafanReportOptions opts = { .top = 2, .filter = NULL, .flags = NULL };
    GString *text = trafan_report_text(stats, &opts);
    char **conv = text_section_lines(text->str, "Conversations, IPv4 and IPv6 (");
    g_assert_cmpstr(conv[0], ==, "Conversations, IPv4 and IPv6 (5 rows, top 2):");
    g_assert_true(g_str_has_prefix(conv[1], "Address A"));
    g_assert_true(g_str_has_prefix(conv[2], "10.0.0.1   10.0.1.4 "));
    g_assert_true(g_str_has_prefix(conv[3], "10.0.0.1   10.0.1.3 "));
    g_assert_cmpstr(conv[4], ==, "(3 more rows; top=0 shows all)");
    g_assert_null(conv[5]);
    char **hosts = text_section_lines(text->str, "Hosts (");
    g_assert_cmpstr(hosts[0], ==, "Hosts (6 rows, top 2):");
    g_assert_cmpstr(hosts[4], ==, "(4 more rows; top=0 shows all)");
    g_assert_null(strstr(text->str, "10.0.1.2"));
    g_assert_nonnull(strstr(text->str, "Filter: <No Filter>"));
    g_assert_nonnull(strstr(text->str, "Packets: 5  Bytes: 1500"));
    g_strfreev(conv);
    g_strfreev(hosts);
    g_string_free(text, TRUE);

    opts.top = 0;
    text = trafan_report_text(stats, &opts);
    g_assert_nonnull(strstr(text->str, "Conversations, IPv4 and IPv6 (5 rows):\n"));
    g_assert_nonnull(strstr(text->str, "10.0.1.2"));
    g_assert_null(strstr(text->str, "more rows"));
    g_string_free(text, TRUE);
    trafan_stats_free(stats);
}

/* The first N rows found without a full sort are the full sort's first N,
 * ties (equal bytes and packets) included. */
static void
test_sorted_limit(gconstpointer data)
{
    guint limit = GPOINTER_TO_UINT(data);
    TrafanStats *stats = stats_new();
    char src[32], dst[32];

    for (guint i = 0; i < 200; i++) {
        g_snprintf(src, sizeof src, "10.0.%u.%u", i % 7, i % 5);
        g_snprintf(dst, sizeof dst, "10.1.%u.%u", i % 11, i % 3);
        add_ip(stats, MS(i), 60 + (i * 37) % 9 * 100, "tcp", src, dst);
    }
    trafan_stats_finish(stats);

    GPtrArray *(*views[])(const TrafanStats *, guint) = {
        trafan_stats_sorted_conversations, trafan_stats_sorted_hosts, trafan_stats_sorted_protocols,
    };
    for (guint v = 0; v < G_N_ELEMENTS(views); v++) {
        GPtrArray *all = views[v](stats, 0), *first = views[v](stats, limit);
        g_assert_cmpuint(first->len, ==, MIN(limit, all->len));
        for (guint i = 0; i < first->len; i++)
            g_assert_true(g_ptr_array_index(first, i) == g_ptr_array_index(all, i));
        g_ptr_array_unref(all);
        g_ptr_array_unref(first);
    }
    trafan_stats_free(stats);
}

static void
test_report_text_negative_time(void)
{
    TrafanStats *stats = stats_new();
    GString *s;

    /* The first frame is the reference; a later one is half a second older. */
    add_ip(stats, 0, 100, "tcp", "10.0.0.1", "10.0.0.2");
    add_ip(stats, -MS(500), 60, "udp", "10.0.0.3", "10.0.0.4");
    trafan_stats_finish(stats);

    s = trafan_report_text(stats, &no_options);
    char **conv = text_section_lines(s->str, "Conversations, IPv4 and IPv6 (");
    g_assert_true(g_str_has_prefix(conv[3], "10.0.0.3"));
    g_assert_nonnull(strstr(conv[3], "  -0.500000000  "));
    g_assert_nonnull(strstr(conv[2], "   0.000000000  "));  /* right-aligned with it */
    g_strfreev(conv);
    g_string_free(s, TRUE);

    char *json = report_json(stats, NULL);
    g_assert_nonnull(strstr(json, "\"start\":-0.500000000,"));
    g_assert_nonnull(strstr(json, "\"first_seen\":-0.500000000,"));
    g_free(json);

    const struct { gint64 ns; const char *text; } cases[] = {
        { 0, "0.000000000" }, { 1, "0.000000001" }, { -1, "-0.000000001" },
        { -MS(500), "-0.500000000" }, { -SEC(1) - MS(500), "-1.500000000" },
        { T0 + 123, "1700000000.000000123" }, { G_MININT64, "-9223372036.854775808" },
    };
    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        s = g_string_new(NULL);
        trafan_append_seconds(s, cases[i].ns);
        g_assert_cmpstr(s->str, ==, cases[i].text);
        g_string_free(s, TRUE);
    }
    trafan_stats_free(stats);
}

static void
test_report_write_dir(void)
{
    TrafanStats *stats = sample_stats();
    GError *error = NULL;
    char *tmp = g_dir_make_tmp("trafan-test-XXXXXX", &error);
    char *dir = g_build_filename(tmp, "sub", "dir", NULL);
    static const char *const files[] = {
        "conversations.csv", "hosts.csv", "protocols.csv", "bandwidth.csv", "flags.csv",
        "report.json", "graph.dot",
    };

    g_assert_no_error(error);
    g_assert_true(trafan_report_write_dir(stats, &no_options, dir, &error));
    g_assert_no_error(error);
    for (guint i = 0; i < G_N_ELEMENTS(files); i++) {
        char *path = g_build_filename(dir, files[i], NULL);
        char *content = NULL;
        g_assert_true(g_file_get_contents(path, &content, NULL, &error));
        g_assert_no_error(error);
        if (strcmp(files[i], "report.json") == 0) {
            GString *json = trafan_report_json(stats, &no_options);
            g_assert_cmpstr(content, ==, json->str);
            g_string_free(json, TRUE);
        }
        g_free(content);
        g_assert_cmpint(g_remove(path), ==, 0);
        g_free(path);
    }
    g_assert_cmpint(g_rmdir(dir), ==, 0);
    char *sub = g_build_filename(tmp, "sub", NULL);
    g_assert_cmpint(g_rmdir(sub), ==, 0);
    g_assert_cmpint(g_rmdir(tmp), ==, 0);
    g_free(sub);
    g_free(dir);
    g_free(tmp);
    trafan_stats_free(stats);
}

/* ------------------------------------------------------------------ */
/* Options                                                              */

static void
test_options_valid(void)
{
    TrafanRunOptions opts;
    GError *error = NULL;

    trafan_run_options_init(&opts);
    g_assert_true(trafan_run_options_parse(&opts, "", &error));
    g_assert_no_error(error);
    g_assert_cmpint(opts.format, ==, TRAFAN_FORMAT_TEXT);
    g_assert_cmpuint(opts.top, ==, TRAFAN_DEFAULT_TOP);
    g_assert_cmpint(opts.stats.interval_us, ==, 1000000);
    g_assert_cmpuint(opts.stats.max_hosts, ==, TRAFAN_DEFAULT_MAX_HOSTS);
    g_assert_null(opts.filter);
    g_assert_null(opts.out_dir);
    trafan_run_options_clear(&opts);

    trafan_run_options_init(&opts);
    g_assert_true(trafan_run_options_parse(&opts, NULL, &error));
    g_assert_no_error(error);
    trafan_run_options_clear(&opts);

    trafan_run_options_init(&opts);
    g_assert_true(trafan_run_options_parse(&opts,
        ",format=json,top=5,interval=0.25,out=/x,max_hosts=7,live=2,tree=1,ip.src==1.2.3.4 && tcp", &error));
    g_assert_no_error(error);
    g_assert_cmpint(opts.format, ==, TRAFAN_FORMAT_JSON);
    g_assert_cmpuint(opts.top, ==, 5);
    g_assert_cmpint(opts.stats.interval_us, ==, 250000);
    g_assert_cmpstr(opts.out_dir, ==, "/x");
    g_assert_cmpuint(opts.stats.max_hosts, ==, 7);
    g_assert_cmpuint(opts.live_seconds, ==, 2);
    g_assert_true(opts.protocol_tree);
    g_assert_cmpstr(opts.filter, ==, "ip.src==1.2.3.4 && tcp");
    trafan_run_options_clear(&opts);

    /* Later values win; top=0 means all; csv. */
    trafan_run_options_init(&opts);
    g_assert_true(trafan_run_options_parse(&opts, ",format=json,format=csv,top=0,out=/a,out=/b,tree=0", &error));
    g_assert_no_error(error);
    g_assert_cmpint(opts.format, ==, TRAFAN_FORMAT_CSV);
    g_assert_cmpuint(opts.top, ==, 0);
    g_assert_cmpstr(opts.out_dir, ==, "/b");
    g_assert_false(opts.protocol_tree);
    g_assert_null(opts.filter);
    trafan_run_options_clear(&opts);
}

static void
test_options_filter(void)
{
    const struct { const char *args, *filter; TrafanFormat format; } cases[] = {
        /* The filter runs from the first non-option element to the end. */
        { ",tcp.port==80,format=json", "tcp.port==80,format=json", TRAFAN_FORMAT_TEXT },
        { ",format=json,ip.addr in {10.0.0.1,10.0.0.2}", "ip.addr in {10.0.0.1,10.0.0.2}", TRAFAN_FORMAT_JSON },
        { ",tcp", "tcp", TRAFAN_FORMAT_TEXT },
        { ",x==1,format=json", "x==1,format=json", TRAFAN_FORMAT_TEXT },     /* == is no option */
        { ",frame.len>=100", "frame.len>=100", TRAFAN_FORMAT_TEXT },
        { ",format=csv, udp ", "udp", TRAFAN_FORMAT_CSV },
        { ",format=csv,", NULL, TRAFAN_FORMAT_CSV },
        { ",", NULL, TRAFAN_FORMAT_TEXT },
    };

    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        TrafanRunOptions opts;
        GError *error = NULL;

        trafan_run_options_init(&opts);
        g_assert_true(trafan_run_options_parse(&opts, cases[i].args, &error));
        g_assert_no_error(error);
        g_assert_cmpstr(opts.filter, ==, cases[i].filter);
        g_assert_cmpint(opts.format, ==, cases[i].format);
        trafan_run_options_clear(&opts);
    }
}

static void
test_options_unknown(void)
{
    TrafanRunOptions opts;
    GError *error = NULL;

    trafan_run_options_init(&opts);
    g_assert_false(trafan_run_options_parse(&opts, ",top=3,formt=json,tcp", &error));
    g_assert_error(error, G_OPTION_ERROR, G_OPTION_ERROR_UNKNOWN_OPTION);
    g_assert_nonnull(strstr(error->message, "\"formt\""));
    static const char *const valid[] = { "format=", "top=", "interval=", "out=", "max_hosts=", "live=", "tree=" };
    for (guint i = 0; i < G_N_ELEMENTS(valid); i++)
        g_assert_nonnull(strstr(error->message, valid[i]));
    g_clear_error(&error);
    trafan_run_options_clear(&opts);
}

static void
test_options_bad_values(void)
{
    static const char *const bad[] = {
        ",format=xml", ",format=", ",top=-1", ",top=x", ",top=99999999999", ",interval=0", ",interval=1.5s",
        ",interval=0.0000001", ",interval=86401", ",interval=-1", ",interval=", ",max_hosts=0",
        ",max_hosts=-3", ",tree=2", ",tree=yes", ",live=86401", ",live=1.5", ",out=",
        ",out=/tmp/x,tree=2",
    };

    for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
        TrafanRunOptions opts;
        GError *error = NULL;

        trafan_run_options_init(&opts);
        if (trafan_run_options_parse(&opts, bad[i], &error))
            g_error("accepted %s", bad[i]);
        g_assert_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE);
        /* The message names the option and quotes the value. */
        const char *eq = strchr(bad[i] + 1, '=');
        char *name = g_strndup(bad[i] + 1, (gsize)(eq - bad[i] - 1));
        if (!strchr(eq, ','))
            g_assert_nonnull(strstr(error->message, name));
        g_free(name);
        g_clear_error(&error);
        trafan_run_options_clear(&opts);
    }
}

static void
test_options_trailing(void)
{
    TrafanRunOptions opts;
    GError *error = NULL;

    /* "-z trafan,statx": the tail "x" is not ",...". */
    trafan_run_options_init(&opts);
    g_assert_false(trafan_run_options_parse(&opts, "x", &error));
    g_assert_nonnull(error);
    g_assert_nonnull(strstr(error->message, "\"x\""));
    g_clear_error(&error);
    g_assert_false(trafan_run_options_parse(&opts, "format=json", &error));
    g_assert_nonnull(error);
    g_clear_error(&error);
    trafan_run_options_clear(&opts);
}

static void
test_parse_interval(void)
{
    const struct { const char *text; gint64 us; } good[] = {
        { "1", 1000000 }, { "0.25", 250000 }, { "0.000001", 1 }, { "86400", G_GINT64_CONSTANT(86400000000) },
        { ".5", 500000 }, { "10.000100", 10000100 }, { "007", 7000000 },
    };
    static const char *const bad[] = {
        "", "0", "0.0", "0.0000001", "1.5s", "5.", ".", "-1", "+1", " 1", "1e3", "86400.000001", "1,5", "0x10",
    };

    for (guint i = 0; i < G_N_ELEMENTS(good); i++) {
        gint64 us = -1;
        g_assert_true(trafan_parse_interval(good[i].text, &us));
        g_assert_cmpint(us, ==, good[i].us);
    }
    for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
        gint64 us = 0;
        if (trafan_parse_interval(bad[i], &us))
            g_error("accepted interval \"%s\"", bad[i]);
    }
}

/* ------------------------------------------------------------------ */
/* Addresses                                                            */

static void
test_address_ipv4(void)
{
    static const char *const texts[] = { "0.0.0.0", "10.0.0.1", "192.168.1.254", "255.255.255.255" };
    static const char *const bad[] = {
        "", "1.2.3", "256.1.1.1", "1.2.3.4/24", "1.2.3.4 ", "host", "1.2.3.4.5", "2001:db8::1::2", "::ffff:1.2.3",
        "12345::", "[::1]",
    };
    char buf[TRAFAN_ADDRSTRLEN];
    TrafanAddress a;

    for (guint i = 0; i < G_N_ELEMENTS(texts); i++) {
        g_assert_true(trafan_address_parse(texts[i], &a));
        g_assert_cmpuint(a.family, ==, 4);
        g_assert_cmpstr(trafan_address_to_str(&a, buf), ==, texts[i]);
    }
    a = addr("192.168.1.254");
    g_assert_cmpuint(a.bytes[0], ==, 192);
    g_assert_cmpuint(a.bytes[3], ==, 254);
    for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
        if (trafan_address_parse(bad[i], &a))
            g_error("parsed \"%s\"", bad[i]);
    }
    a = pseudo(TRAFAN_FAMILY_OTHER4);
    g_assert_cmpstr(trafan_address_to_str(&a, buf), ==, "other IPv4");
    a = pseudo(TRAFAN_FAMILY_OTHER6);
    g_assert_cmpstr(trafan_address_to_str(&a, buf), ==, "other IPv6");
}

static void
test_address_ipv6(void)
{
    /* RFC 5952, as glibc's inet_ntop (and so Wireshark) prints it. */
    const struct { const char *in, *out; } cases[] = {
        { "2001:0db8:0000:0000:0000:0000:0000:0001", "2001:db8::1" },
        { "2001:DB8::A", "2001:db8::a" },
        { "::", "::" },
        { "::1", "::1" },
        { "::ffff:1.2.3.4", "::ffff:1.2.3.4" },
        { "::FFFF:0102:0304", "::ffff:1.2.3.4" },
        { "2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1" },        /* first longest run */
        { "2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1" },     /* a single 0 stays */
        { "fe80:0:0:0:1:0:0:0", "fe80::1:0:0:0" },
        { "2001:db8:0:0:0:1:0:0", "2001:db8::1:0:0" },
        { "1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8" },
        { "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff" },
    };
    char buf[TRAFAN_ADDRSTRLEN];

    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        TrafanAddress a;
        g_assert_true(trafan_address_parse(cases[i].in, &a));
        g_assert_cmpuint(a.family, ==, 6);
        g_assert_cmpstr(trafan_address_to_str(&a, buf), ==, cases[i].out);
    }
    TrafanAddress a = addr("2001:db8::1");
    g_assert_cmpuint(a.bytes[0], ==, 0x20);
    g_assert_cmpuint(a.bytes[1], ==, 0x01);
    g_assert_cmpuint(a.bytes[15], ==, 0x01);
}

static void
test_address_compare(void)
{
    /* Ascending: IPv4 before IPv6, then by bytes. */
    static const char *const order[] = {
        "0.0.0.0", "9.255.255.255", "10.0.0.1", "10.0.0.2", "10.0.1.0", "255.255.255.255",
        "::", "::1", "::ffff:0.0.0.1", "2001:db8::1", "2001:db8::2", "fe80::1",
    };

    for (guint i = 0; i < G_N_ELEMENTS(order); i++) {
        for (guint j = 0; j < G_N_ELEMENTS(order); j++) {
            TrafanAddress a = addr(order[i]), b = addr(order[j]);
            int c = trafan_address_compare(&a, &b);
            if (i < j)
                g_assert_cmpint(c, <, 0);
            else if (i > j)
                g_assert_cmpint(c, >, 0);
            else
                g_assert_cmpint(c, ==, 0);
        }
    }
    TrafanAddress o4 = pseudo(TRAFAN_FAMILY_OTHER4), v6 = addr("::1");
    g_assert_cmpint(trafan_address_compare(&v6, &o4), <, 0);
}

static void
test_address_hash_equal(void)
{
    TrafanAddress a = addr("10.1.2.3"), b = addr("10.1.2.3"), c = addr("10.1.2.4");
    TrafanAddress v6 = addr("::"), mapped = addr("::ffff:10.1.2.3");

    /* The bytes past an IPv4 address do not matter. */
    memset(b.bytes + 4, 0x5A, 12);
    g_assert_true(trafan_address_equal(&a, &b));
    g_assert_cmpuint(trafan_address_hash(&a), ==, trafan_address_hash(&b));
    g_assert_cmpint(trafan_address_compare(&a, &b), ==, 0);
    g_assert_false(trafan_address_equal(&a, &c));
    g_assert_cmpuint(trafan_address_hash(&a), !=, trafan_address_hash(&c));

    /* Same bytes, another family: different. */
    memcpy(v6.bytes, a.bytes, 4);
    g_assert_false(trafan_address_equal(&a, &v6));
    g_assert_false(trafan_address_equal(&a, &mapped));

    GHashTable *set = g_hash_table_new(trafan_address_hash, trafan_address_equal);
    g_hash_table_add(set, &a);
    g_hash_table_add(set, &v6);
    g_hash_table_add(set, &mapped);
    g_assert_true(g_hash_table_contains(set, &b));
    g_assert_false(g_hash_table_contains(set, &c));
    g_hash_table_add(set, &b);
    g_assert_cmpuint(g_hash_table_size(set), ==, 3);
    g_hash_table_destroy(set);
}

/* ------------------------------------------------------------------ */

int
main(int argc, char **argv)
{
    setlocale(LC_ALL, "C");
    g_test_init(&argc, &argv, NULL);

    g_test_add_func("/conversation/direction", test_conversation_direction);
    g_test_add_func("/conversation/time-span", test_conversation_time_span);
    g_test_add_func("/conversation/protocols", test_conversation_protocols);
    g_test_add_func("/conversation/self", test_conversation_self);
    g_test_add_func("/conversation/tunnel", test_conversation_tunnel);
    g_test_add_func("/conversation/mixed-families", test_conversation_mixed_families);
    g_test_add_func("/conversation/both-directions", test_conversation_both_directions);

    g_test_add_func("/host/tx-rx", test_host_tx_rx);
    g_test_add_func("/host/peers", test_host_peers);
    g_test_add_func("/host/dst-ports", test_host_dst_ports);
    g_test_add_func("/host/first-last", test_host_first_last);
    g_test_add_func("/host/cap", test_host_cap);
    g_test_add_func("/host/cap-overflow", test_host_cap_overflow);

    g_test_add_func("/protocol/interned", test_protocols_interned);
    g_test_add_func("/protocol/non-ip", test_protocols_non_ip);

    g_test_add_func("/bandwidth/rounding", test_bandwidth_rounding);
    g_test_add_func("/bandwidth/backwards", test_bandwidth_backwards);
    g_test_add_func("/bandwidth/subsecond", test_bandwidth_subsecond);
    g_test_add_func("/bandwidth/sparse", test_bandwidth_sparse);
    g_test_add_func("/bandwidth/protocols", test_bandwidth_protocols);

    g_test_add_func("/merge/equals-single-pass", test_merge_equals_single_pass);
    g_test_add_func("/merge/host-cap", test_merge_host_cap);
    g_test_add_func("/merge/host-cap-same-packet", test_merge_host_cap_same_packet);
    g_test_add_func("/merge/mismatch", test_merge_mismatch);
    g_test_add_func("/state/round-trip", test_state_round_trip);
    g_test_add_func("/state/inconsistent", test_state_inconsistent);

    g_test_add_func("/report/json", test_report_json);
    g_test_add_data_func("/report/detector-usage/within", &usage_cases[0], test_report_detector_usage);
    g_test_add_data_func("/report/detector-usage/refused", &usage_cases[1], test_report_detector_usage);
    g_test_add_func("/report/locale", test_report_locale);
    g_test_add_func("/report/csv", test_report_csv);
    g_test_add_func("/report/dot", test_report_dot);
    g_test_add_func("/report/dot-rule-names", test_report_dot_rule_names);
    g_test_add_func("/report/text-top", test_report_text_top);
    static const guint limits[] = { 1, 2, 10, 76, 77, 78, 1000 };
    for (guint i = 0; i < G_N_ELEMENTS(limits); i++) {
        char *path = g_strdup_printf("/report/sorted-limit/%u", limits[i]);
        g_test_add_data_func(path, GUINT_TO_POINTER(limits[i]), test_sorted_limit);
        g_free(path);
    }
    g_test_add_func("/report/text-negative-time", test_report_text_negative_time);
    g_test_add_func("/report/write-dir", test_report_write_dir);

    g_test_add_func("/options/valid", test_options_valid);
    g_test_add_func("/options/filter", test_options_filter);
    g_test_add_func("/options/unknown", test_options_unknown);
    g_test_add_func("/options/bad-values", test_options_bad_values);
    g_test_add_func("/options/trailing", test_options_trailing);
    g_test_add_func("/options/interval", test_parse_interval);

    g_test_add_func("/address/ipv4", test_address_ipv4);
    g_test_add_func("/address/ipv6", test_address_ipv6);
    g_test_add_func("/address/compare", test_address_compare);
    g_test_add_func("/address/hash-equal", test_address_hash_equal);

    return g_test_run();
}
