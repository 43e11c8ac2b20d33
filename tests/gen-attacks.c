/* gen-attacks.c — write one small pcap per detection scenario, attack and
 * benign, plus expected.tsv (file, host, rule, role) naming the flags each
 * should raise.  A benign file has one row with empty host, rule and role.
 *
 *   gen-attacks DIR
 *
 * Classic pcap, Ethernet, correct IPv4 header and TCP/UDP/ICMP checksums;
 * addresses from the documentation ranges (RFC 5737, RFC 3849).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <glib.h>
#include <glib/gstdio.h>

#define T0 1700000000.0

enum { FIN = 0x01, SYN = 0x02, RST = 0x04, PSH = 0x08, ACK = 0x10, URG = 0x20 };

typedef struct {
    double t;
    guint  seq;                 /* keeps equal times in the order written */
    size_t len;
    guint8 data[];
} Record;

/* Records are kept and written sorted by time on close, so scenarios may
 * interleave generators freely. */
typedef struct {
    FILE      *out;
    GPtrArray *records;
} Pcap;

static FILE *expected;

static void
put16(guint8 *p, guint v) { p[0] = (guint8)(v >> 8); p[1] = (guint8)v; }

static void
put32le(FILE *f, guint32 v)
{
    guint8 b[4] = { (guint8)v, (guint8)(v >> 8), (guint8)(v >> 16), (guint8)(v >> 24) };
    fwrite(b, 1, 4, f);
}

static guint32
sum16(const guint8 *p, size_t n, guint32 sum)
{
    for (size_t i = 0; i + 1 < n; i += 2)
        sum += (guint32)p[i] << 8 | p[i + 1];
    if (n & 1)
        sum += (guint32)p[n - 1] << 8;
    return sum;
}

static guint16
fold(guint32 sum)
{
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (guint16)~sum;
}

static Pcap *
pcap_open(const char *dir, const char *name)
{
    char *path = g_build_filename(dir, name, NULL);
    Pcap *p = g_new0(Pcap, 1);
    p->out = fopen(path, "wb");
    if (p->out == NULL)
        g_error("%s: %s", path, g_strerror(errno));
    put32le(p->out, 0xa1b2c3d4);
    put32le(p->out, 2 | 4u << 16);          /* version 2.4 */
    put32le(p->out, 0);
    put32le(p->out, 0);
    put32le(p->out, 65535);
    put32le(p->out, 1);                     /* Ethernet */
    p->records = g_ptr_array_new_with_free_func(g_free);
    g_free(path);
    return p;
}

static int
by_time(gconstpointer a, gconstpointer b)
{
    const Record *x = *(Record *const *)a, *y = *(Record *const *)b;
    if (x->t != y->t)
        return x->t < y->t ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static void
pcap_close(Pcap *p)
{
    g_ptr_array_sort(p->records, by_time);
    for (guint i = 0; i < p->records->len; i++) {
        const Record *r = p->records->pdata[i];
        double when = T0 + r->t;
        guint32 sec = (guint32)floor(when), usec = (guint32)llround((when - sec) * 1e6);
        if (usec >= 1000000) {
            sec++;
            usec -= 1000000;
        }
        put32le(p->out, sec);
        put32le(p->out, usec);
        put32le(p->out, (guint32)r->len);
        put32le(p->out, (guint32)r->len);
        fwrite(r->data, 1, r->len, p->out);
    }
    if (fclose(p->out) != 0)
        g_error("write failed: %s", g_strerror(errno));
    g_ptr_array_unref(p->records);
    g_free(p);
}

static void
expect(const char *file, const char *host, const char *rule, const char *role)
{
    fprintf(expected, "%s\t%s\t%s\t%s\n", file, host, rule, role);
}

/* One IP packet carrying `proto` with the given L4 header and zero payload. */
static void
emit(Pcap *p, double t, const char *src, const char *dst, guint8 proto, const guint8 *l4,
     size_t l4_len, size_t payload)
{
    guint8 frame[1600] = { 0 };
    gboolean v6 = strchr(src, ':') != NULL;
    size_t ip_len = v6 ? 40 : 20, total = ip_len + l4_len + payload;
    guint8 s[16], d[16];
    int fam = v6 ? AF_INET6 : AF_INET;

    g_assert(total + 14 <= sizeof frame);
    if (inet_pton(fam, src, s) != 1 || inet_pton(fam, dst, d) != 1)
        g_error("bad address %s or %s", src, dst);
    memcpy(frame, "\x02\x00\x00\x00\x00\x02\x02\x00\x00\x00\x00\x01", 12);
    put16(frame + 12, v6 ? 0x86dd : 0x0800);
    guint8 *ip = frame + 14, *l = ip + ip_len;
    memcpy(l, l4, l4_len);

    /* Transport checksum over the pseudo-header. */
    guint32 sum = 0;
    guint8 pseudo[40] = { 0 };
    size_t addr_len = v6 ? 16 : 4;
    memcpy(pseudo, s, addr_len);
    memcpy(pseudo + addr_len, d, addr_len);
    if (proto != 1) {
        sum = sum16(pseudo, 2 * addr_len, 0) + proto + (guint32)(l4_len + payload);
    }
    size_t ck = proto == 6 ? 16 : proto == 17 ? 6 : 2;
    put16(l + ck, 0);
    put16(l + ck, fold(sum16(l, l4_len + payload, sum)));

    if (v6) {
        ip[0] = 0x60;
        put16(ip + 4, (guint)(l4_len + payload));
        ip[6] = proto;
        ip[7] = 64;
        memcpy(ip + 8, s, 16);
        memcpy(ip + 24, d, 16);
    } else {
        static guint16 id;
        ip[0] = 0x45;
        put16(ip + 2, (guint)total);
        put16(ip + 4, ++id);
        ip[8] = 64;
        ip[9] = proto;
        memcpy(ip + 12, s, 4);
        memcpy(ip + 16, d, 4);
        put16(ip + 10, fold(sum16(ip, 20, 0)));
    }

    Record *r = g_malloc(sizeof *r + total + 14);
    r->t = t;
    r->seq = p->records->len;
    r->len = total + 14;
    memcpy(r->data, frame, r->len);
    g_ptr_array_add(p->records, r);
}

static void
tcp(Pcap *p, double t, const char *src, guint sport, const char *dst, guint dport, guint flags,
    size_t payload)
{
    guint8 h[20] = { 0 };
    put16(h, sport);
    put16(h + 2, dport);
    put16(h + 4, 0x1000);                   /* seq */
    if (flags & ACK)
        put16(h + 8, 0x2000);               /* ack */
    h[12] = 5 << 4;
    h[13] = (guint8)flags;
    put16(h + 14, 65535);
    emit(p, t, src, dst, 6, h, sizeof h, payload);
}

static void
udp(Pcap *p, double t, const char *src, guint sport, const char *dst, guint dport, size_t payload)
{
    guint8 h[8] = { 0 };
    put16(h, sport);
    put16(h + 2, dport);
    put16(h + 4, (guint)(8 + payload));
    emit(p, t, src, dst, 17, h, sizeof h, payload);
}

static void
echo(Pcap *p, double t, const char *src, const char *dst, gboolean reply, guint seq)
{
    gboolean v6 = strchr(src, ':') != NULL;
    guint8 h[8] = { 0 };
    h[0] = v6 ? (reply ? 129 : 128) : (reply ? 0 : 8);
    put16(h + 4, 0x1234);
    put16(h + 6, seq);
    emit(p, t, src, dst, v6 ? 58 : 1, h, sizeof h, 48);
}

/* ICMP port unreachable quoting the UDP datagram src:sport -> dst:dport. */
static void
port_unreachable(Pcap *p, double t, const char *victim, const char *scanner, guint sport, guint dport)
{
    guint8 h[8 + 28] = { 0 };
    guint8 *ip = h + 8, *u = ip + 20;
    h[0] = 3;
    h[1] = 3;
    ip[0] = 0x45;
    put16(ip + 2, 28);
    ip[8] = 64;
    ip[9] = 17;
    inet_pton(AF_INET, scanner, ip + 12);
    inet_pton(AF_INET, victim, ip + 16);
    put16(ip + 10, fold(sum16(ip, 20, 0)));
    put16(u, sport);
    put16(u + 2, dport);
    put16(u + 4, 8);
    emit(p, t, victim, scanner, 1, h, sizeof h, 0);
}

static void
connection(Pcap *p, double t, const char *client, guint cport, const char *server, guint sport,
           guint n_data, size_t data_len)
{
    tcp(p, t, client, cport, server, sport, SYN, 0);
    tcp(p, t + 0.01, server, sport, client, cport, SYN | ACK, 0);
    tcp(p, t + 0.02, client, cport, server, sport, ACK, 0);
    tcp(p, t + 0.021, client, cport, server, sport, ACK | PSH, 300);
    for (guint i = 0; i < n_data; i++) {
        tcp(p, t + 0.03 + i * 0.001, server, sport, client, cport, ACK | PSH, data_len);
        if (i % 2)
            tcp(p, t + 0.03 + i * 0.001, client, cport, server, sport, ACK, 0);
    }
    double end = t + 0.04 + n_data * 0.001;
    tcp(p, end, client, cport, server, sport, FIN | ACK, 0);
    tcp(p, end + 0.01, server, sport, client, cport, FIN | ACK, 0);
    tcp(p, end + 0.02, client, cport, server, sport, ACK, 0);
}

#define SCANNER "192.0.2.10"
#define VICTIM  "198.51.100.20"

/* ------------------------------------------------------------------ */
/* Scenarios: each writes its file and its expected rows.               */

static void
syn_scan(Pcap *p, double t0, guint ports, double secs)
{
    for (guint port = 1; port <= ports; port++) {
        double t = t0 + secs * (port - 1) / ports;
        tcp(p, t, SCANNER, 40000, VICTIM, port, SYN, 0);
        if (port == 22 || port == 80) {
            tcp(p, t + 0.001, VICTIM, port, SCANNER, 40000, SYN | ACK, 0);
            tcp(p, t + 0.002, SCANNER, 40000, VICTIM, port, RST, 0);
        } else {
            tcp(p, t + 0.001, VICTIM, port, SCANNER, 40000, RST | ACK, 0);
        }
    }
}

static void
gen_scans(const char *dir)
{
    Pcap *p = pcap_open(dir, "attack_syn_scan.pcap");
    syn_scan(p, 0, 200, 2.0);
    pcap_close(p);
    expect("attack_syn_scan.pcap", SCANNER, "port_scan", "source");

    p = pcap_open(dir, "attack_connect_scan.pcap");
    for (guint port = 1; port <= 100; port++) {
        double t = port * 0.05;
        guint sport = 50000 + port;
        tcp(p, t, SCANNER, sport, VICTIM, port, SYN, 0);
        if (port % 25 == 0) {
            tcp(p, t + 0.001, VICTIM, port, SCANNER, sport, SYN | ACK, 0);
            tcp(p, t + 0.002, SCANNER, sport, VICTIM, port, ACK, 0);
            tcp(p, t + 0.003, SCANNER, sport, VICTIM, port, RST | ACK, 0);
        } else {
            tcp(p, t + 0.001, VICTIM, port, SCANNER, sport, RST | ACK, 0);
        }
    }
    pcap_close(p);
    expect("attack_connect_scan.pcap", SCANNER, "port_scan", "source");

    p = pcap_open(dir, "attack_slow_scan.pcap");
    syn_scan(p, 0, 200, 200.0);             /* one port per second */
    pcap_close(p);
    expect("attack_slow_scan.pcap", SCANNER, "port_scan", "source");

    p = pcap_open(dir, "attack_udp_scan.pcap");
    for (guint port = 1; port <= 100; port++) {
        udp(p, port * 0.01, SCANNER, 45000, VICTIM, port, 0);
        port_unreachable(p, port * 0.01 + 0.001, VICTIM, SCANNER, 45000, port);
    }
    pcap_close(p);
    expect("attack_udp_scan.pcap", SCANNER, "port_scan", "source");

    p = pcap_open(dir, "attack_stealth_scan.pcap");
    const guint kinds[] = { FIN, 0, FIN | PSH | URG };
    for (guint i = 0; i < 3; i++) {
        tcp(p, 10.0 * i, SCANNER, 40000, VICTIM, 3390 + i, kinds[i], 0);
        tcp(p, 10.0 * i + 0.001, VICTIM, 3390 + i, SCANNER, 40000, RST | ACK, 0);
    }
    pcap_close(p);
    expect("attack_stealth_scan.pcap", SCANNER, "port_scan", "source");

    p = pcap_open(dir, "attack_icmp_sweep.pcap");
    for (guint h = 1; h <= 254; h++) {
        char dst[32];
        g_snprintf(dst, sizeof dst, "203.0.113.%u", h);
        echo(p, h * 0.01, SCANNER, dst, FALSE, h);
        if (h % 10 == 0)
            echo(p, h * 0.01 + 0.001, dst, SCANNER, TRUE, h);
    }
    pcap_close(p);
    expect("attack_icmp_sweep.pcap", SCANNER, "host_sweep", "source");

    p = pcap_open(dir, "attack_tcp_sweep.pcap");
    for (guint h = 1; h <= 254; h++) {
        char dst[32];
        g_snprintf(dst, sizeof dst, "203.0.113.%u", h);
        tcp(p, h * 0.005, SCANNER, 41000 + h, dst, 80, SYN, 0);
    }
    pcap_close(p);
    expect("attack_tcp_sweep.pcap", SCANNER, "host_sweep", "source");
}

static void
gen_floods(const char *dir)
{
    Pcap *p = pcap_open(dir, "attack_syn_flood_single.pcap");
    for (guint i = 0; i < 5000; i++) {
        double t = i * 0.0004;
        tcp(p, t, "192.0.2.66", 1024 + i, "198.51.100.80", 80, SYN, 0);
        tcp(p, t + 0.0001, "198.51.100.80", 80, "192.0.2.66", 1024 + i, SYN | ACK, 0);
    }
    pcap_close(p);
    expect("attack_syn_flood_single.pcap", "192.0.2.66", "syn_flood", "source");

    p = pcap_open(dir, "attack_syn_flood_spoofed.pcap");
    for (guint i = 0; i < 6000; i++) {
        char src[48];
        g_snprintf(src, sizeof src, "2001:db8:%x::%x", i / 256, i % 256 + 1);
        tcp(p, i * 0.0005, src, 1024 + i, "2001:db8:ffff::80", 443, SYN, 0);
    }
    pcap_close(p);
    expect("attack_syn_flood_spoofed.pcap", "2001:db8:ffff::80", "syn_flood", "target");

    p = pcap_open(dir, "attack_icmp_flood.pcap");
    for (guint i = 0; i < 2000; i++)
        echo(p, i * 0.001, "192.0.2.77", "198.51.100.9", FALSE, i);
    pcap_close(p);
    expect("attack_icmp_flood.pcap", "192.0.2.77", "icmp_flood", "source");

    p = pcap_open(dir, "attack_udp_flood.pcap");
    for (guint i = 0; i < 4000; i++)
        udp(p, i * 0.0005, "192.0.2.88", 40000 + i % 1000, "198.51.100.9", 9999, 1358);
    pcap_close(p);
    expect("attack_udp_flood.pcap", "192.0.2.88", "udp_flood", "source");
}

static void
gen_other(const char *dir)
{
    Pcap *p = pcap_open(dir, "attack_bandwidth_spike.pcap");
    for (guint sec = 0; sec < 40; sec++) {
        for (guint i = 0; i < 100; i++) {
            double t = sec + i * 0.01;
            udp(p, t, "192.0.2.30", 5004, "198.51.100.31", 5004, 958);
            if (sec == 30 && i < 40)        /* a 6 MB burst within second 30 */
                for (guint k = 0; k < 100; k++)
                    tcp(p, t + k * 0.0001, "192.0.2.99", 443, "198.51.100.31", 50000, ACK, 1446);
        }
    }
    pcap_close(p);
    expect("attack_bandwidth_spike.pcap", "192.0.2.99", "bandwidth_spike", "source");

    p = pcap_open(dir, "attack_beacon.pcap");
    GRand *rand = g_rand_new_with_seed(1);
    double t = 5;
    for (guint i = 0; i < 20; i++) {
        connection(p, t, "192.0.2.50", 50000 + i, "203.0.113.7", 443, 4, 600);
        t += 30 + g_rand_double_range(rand, -1.5, 1.5);
    }
    g_rand_free(rand);
    pcap_close(p);
    expect("attack_beacon.pcap", "192.0.2.50", "beacon", "source");
}

static void
gen_benign(const char *dir)
{
    /* A busy HTTPS server: 3000 short connections from 250 clients in a minute. */
    Pcap *p = pcap_open(dir, "benign_https_server.pcap");
    GRand *rand = g_rand_new_with_seed(7);
    for (guint c = 0; c < 3000; c++) {
        char client[32];
        g_snprintf(client, sizeof client, "203.0.113.%d", g_rand_int_range(rand, 1, 251));
        connection(p, c * 0.02, client, 20000 + c, "198.51.100.10", 443, 10, 1400);
    }
    g_rand_free(rand);
    pcap_close(p);
    expect("benign_https_server.pcap", "", "", "");

    p = pcap_open(dir, "benign_download.pcap");
    connection(p, 0, "192.0.2.41", 51515, "198.51.100.40", 443, 0, 0);
    for (guint i = 0; i < 40000; i++) {
        double t = 0.1 + i * 10.0 / 40000;
        tcp(p, t, "198.51.100.40", 443, "192.0.2.41", 51516, ACK, 1446);
        if (i % 2)
            tcp(p, t, "192.0.2.41", 51516, "198.51.100.40", 443, ACK, 0);
    }
    pcap_close(p);
    expect("benign_download.pcap", "", "", "");

    p = pcap_open(dir, "benign_dns_resolver.pcap");
    for (guint i = 0; i < 5000; i++) {
        char client[32];
        g_snprintf(client, sizeof client, "203.0.113.%u", i % 200 + 1);
        udp(p, i * 0.002, client, 30000 + i % 30000, "192.0.2.53", 53, 40);
        udp(p, i * 0.002 + 0.0005, "192.0.2.53", 53, client, 30000 + i % 30000, 160);
    }
    pcap_close(p);
    expect("benign_dns_resolver.pcap", "", "", "");

    p = pcap_open(dir, "benign_human_periodic.pcap");
    rand = g_rand_new_with_seed(3);
    double t = 0;
    for (guint i = 0; i < 40; i++) {
        connection(p, t, "192.0.2.60", 40000 + i, "203.0.113.8", 443, 6, 1200);
        t += 1 + 60 * -log(1 - g_rand_double(rand));
    }
    g_rand_free(rand);
    pcap_close(p);
    expect("benign_human_periodic.pcap", "", "", "");

    /* Only the victim's answers to a scan (a one-way tap). */
    p = pcap_open(dir, "benign_victim_answers.pcap");
    for (guint port = 1; port <= 200; port++)
        tcp(p, port * 0.01, VICTIM, port, SCANNER, 40000, port == 80 ? SYN | ACK : RST | ACK, 0);
    pcap_close(p);
    expect("benign_victim_answers.pcap", "", "", "");
}

int
main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s DIR\n", argv[0]);
        return 2;
    }
    if (g_mkdir_with_parents(argv[1], 0755) != 0) {
        fprintf(stderr, "%s: %s\n", argv[1], g_strerror(errno));
        return 1;
    }
    char *path = g_build_filename(argv[1], "expected.tsv", NULL);
    expected = fopen(path, "w");
    if (expected == NULL) {
        fprintf(stderr, "%s: %s\n", path, g_strerror(errno));
        return 1;
    }
    fprintf(expected, "file\thost\trule\trole\n");
    gen_scans(argv[1]);
    gen_floods(argv[1]);
    gen_other(argv[1]);
    gen_benign(argv[1]);
    fclose(expected);
    g_free(path);
    return 0;
}
