/* gen-attacks.c — write one small pcap per detection scenario, attack and
 * benign, plus expected.tsv (file, host, rule, role) naming the flags each
 * should raise.  A benign file has one row with empty host, rule and role.
 *
 *   gen-attacks DIR
 *
 * Classic pcap, Ethernet, correct IPv4 header and TCP/UDP/ICMP checksums;
 * addresses from the documentation ranges (RFC 5737, RFC 3849), except a
 * peer-to-peer swarm's, scattered over the Internet as real swarms are.
 * Each scenario is written as the real thing behaves: both directions,
 * TCP sequence numbers kept, the tools' timing and message sizes, jitter
 * from a seeded PRNG (the files are the same on every run).
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

/* One IP packet carrying `proto` with the given L4 header and payload
 * (`data`, or zeros when NULL: encrypted bytes matter to no rule). */
static void
emit(Pcap *p, double t, const char *src, const char *dst, guint8 proto, const guint8 *l4,
     size_t l4_len, const void *data, size_t payload)
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
    if (data)
        memcpy(l + l4_len, data, payload);

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
put32(guint8 *p, guint32 v) { put16(p, v >> 16); put16(p + 2, v & 0xffff); }

static void
tcp_segment(Pcap *p, double t, const char *src, guint sport, const char *dst, guint dport,
            guint flags, guint32 seq, guint32 ack, const void *data, size_t payload)
{
    guint8 h[20] = { 0 };
    put16(h, sport);
    put16(h + 2, dport);
    put32(h + 4, seq);
    if (flags & ACK)
        put32(h + 8, ack);
    h[12] = 5 << 4;
    h[13] = (guint8)flags;
    put16(h + 14, 65535);
    emit(p, t, src, dst, 6, h, sizeof h, data, payload);
}

static void
tcp(Pcap *p, double t, const char *src, guint sport, const char *dst, guint dport, guint flags,
    size_t payload)
{
    tcp_segment(p, t, src, sport, dst, dport, flags, 0x1000, 0x2000, NULL, payload);
}

static void
udp(Pcap *p, double t, const char *src, guint sport, const char *dst, guint dport, size_t payload)
{
    guint8 h[8] = { 0 };
    put16(h, sport);
    put16(h + 2, dport);
    put16(h + 4, (guint)(8 + payload));
    emit(p, t, src, dst, 17, h, sizeof h, NULL, payload);
}

static void
echo(Pcap *p, double t, const char *src, const char *dst, gboolean reply, guint seq)
{
    gboolean v6 = strchr(src, ':') != NULL;
    guint8 h[8] = { 0 };
    h[0] = v6 ? (reply ? 129 : 128) : (reply ? 0 : 8);
    put16(h + 4, 0x1234);
    put16(h + 6, seq);
    emit(p, t, src, dst, v6 ? 58 : 1, h, sizeof h, NULL, 48);
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
    emit(p, t, victim, scanner, 1, h, sizeof h, NULL, 0);
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

    /* nmap -sA -p1-1000 (firewall mapping): bare ACKs from one source port;
     * the host answers RST on the 900 ports its firewall lets through. */
    p = pcap_open(dir, "attack_ack_scan.pcap");
    for (guint port = 1; port <= 1000; port++) {
        double t = port * 0.002;
        tcp_segment(p, t, SCANNER, 58211, VICTIM, port, ACK, 0, 0x6b2c11d0, NULL, 0);
        if (port % 10)
            tcp_segment(p, t + 0.0004, VICTIM, port, SCANNER, 58211, RST, 0x6b2c11d0, 0, NULL, 0);
    }
    pcap_close(p);
    expect("attack_ack_scan.pcap", SCANNER, "port_scan", "source");

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

/* ------------------------------------------------------------------ */
/* Real conversations: sequence numbers kept, both directions, seeded    */
/* jitter.  The tap sits beside the server (or the target): what the     */
/* far side sends back reaches it one round trip later.                  */

static double
uniform(GRand *r, double lo, double hi)
{
    return g_rand_double_range(r, lo, hi);
}

/* Waiting time of a Poisson process. */
static double
expo(GRand *r, double mean)
{
    return -mean * log(1 - g_rand_double(r));
}

typedef struct {
    Pcap       *p;
    const char *client, *server;
    guint       cport, sport;
    guint32     cseq, sseq;     /* next sequence number of each side */
    double      rtt;            /* tap -> client -> tap */
} Flow;

static Flow
flow_new(Pcap *p, GRand *r, const char *client, guint cport, const char *server, guint sport,
         double rtt)
{
    Flow f = { p, client, server, cport, sport, g_rand_int(r), g_rand_int(r), rtt };
    return f;
}

/* A segment of `len` bytes: `data`, or zeros (encrypted content matters to
 * no rule).  SYN and FIN take one sequence number. */
static void
flow_send(Flow *f, double t, gboolean from_client, guint flags, const void *data, size_t len)
{
    guint32 *seq = from_client ? &f->cseq : &f->sseq, ack = from_client ? f->sseq : f->cseq;
    if (from_client)
        tcp_segment(f->p, t, f->client, f->cport, f->server, f->sport, flags, *seq, ack, data, len);
    else
        tcp_segment(f->p, t, f->server, f->sport, f->client, f->cport, flags, *seq, ack, data, len);
    *seq += (guint32)len + ((flags & (SYN | FIN)) ? 1 : 0);
}

/* The handshake; returns when the client's ACK passes the tap. */
static double
flow_open(Flow *f, double t)
{
    flow_send(f, t, TRUE, SYN, NULL, 0);
    flow_send(f, t + 0.0001, FALSE, SYN | ACK, NULL, 0);
    flow_send(f, t + 0.0001 + f->rtt, TRUE, ACK, NULL, 0);
    return t + 0.0001 + f->rtt;
}

/* One message: text, or len bytes in segments of at most one MSS. */
static void
flow_data(Flow *f, double t, gboolean from_client, const char *text, size_t len)
{
    if (text) {
        flow_send(f, t, from_client, PSH | ACK, text, strlen(text));
        return;
    }
    for (; len > 1448; len -= 1448, t += 0.00012)
        flow_send(f, t, from_client, ACK, NULL, 1448);
    flow_send(f, t, from_client, PSH | ACK, NULL, len);
}

static void
flow_ack(Flow *f, double t, gboolean from_client)
{
    flow_send(f, t, from_client, ACK, NULL, 0);
}

/* FIN from one side, FIN back, last ACK; returns the end. */
static double
flow_close(Flow *f, double t, gboolean client_first)
{
    double answer = client_first ? 0.0002 : f->rtt, last = client_first ? f->rtt : 0.0002;
    flow_send(f, t, client_first, FIN | ACK, NULL, 0);
    flow_send(f, t + answer, !client_first, FIN | ACK, NULL, 0);
    flow_send(f, t + answer + last, client_first, ACK, NULL, 0);
    return t + answer + last;
}

static void
icmp(Pcap *p, double t, const char *src, const char *dst, guint type, guint id, guint seq,
     size_t payload)
{
    guint8 h[8] = { 0 };
    h[0] = (guint8)type;
    put16(h + 4, id);
    put16(h + 6, seq);
    emit(p, t, src, dst, 1, h, sizeof h, NULL, payload);
}

/* An address outside the documentation ranges, scattered over the
 * Internet's /8s as a peer-to-peer swarm is. */
static void
scattered_address(GRand *r, char buf[32])
{
    static const guint8 firsts[] = { 24, 31, 37, 46, 62, 73, 77, 78, 79, 80, 81, 82, 83, 84, 85,
                                     86, 87, 88, 89, 90, 91, 93, 94, 95, 109, 151, 176, 178, 185,
                                     188, 193, 194, 195, 212, 213, 217 };
    g_snprintf(buf, 32, "%u.%u.%u.%u", firsts[g_rand_int_range(r, 0, G_N_ELEMENTS(firsts))],
               g_rand_int_range(r, 0, 256), g_rand_int_range(r, 0, 256), g_rand_int_range(r, 1, 255));
}

/* Linux's ephemeral ports: a random start, then the next free ones. */
static guint
next_port(GRand *r, guint *port)
{
    *port += g_rand_int_range(r, 1, 3);
    if (*port > 60999)
        *port = 32768 + *port % 1000;
    return *port;
}

/* ------------------------------------------------------------------ */
/* Brute force and its look-alikes                                      */

static const char *const passwords[] = {
    "123456", "password", "12345678", "qwerty", "123456789", "12345", "1234", "111111",
    "1234567", "dragon", "123123", "baseball", "abc123", "football", "monkey", "letmein",
    "696969", "shadow", "master", "666666", "qwertyuiop", "123321", "mustang", "1234567890",
    "michael", "654321", "superman", "1qaz2wsx", "7777777", "121212", "000000", "qazwsx",
    "123qwe", "killer", "trustno1", "jordan", "jennifer", "zxcvbnm", "asdfgh", "hunter",
    "buster", "soccer", "harley", "batman", "andrew", "tigger", "sunshine", "iloveyou",
    "charlie", "robert",
};

/* SSH binary packets in clear (RFC 4253 6): a payload, padded to `size`. */
typedef struct {
    guint8 buf[1448];
    size_t len;
} SshOut;

static guint8 *
ssh_string(guint8 *p, const void *data, size_t len)
{
    put32(p, (guint32)len);
    if (data)
        memcpy(p + 4, data, len);
    return p + 4 + len;
}

static void
ssh_packet(SshOut *o, const guint8 *payload, size_t payload_len, size_t size)
{
    guint8 *pkt = o->buf + o->len;
    g_assert(o->len + size <= sizeof o->buf && size >= payload_len + 9 && size - payload_len - 5 <= 255);
    put32(pkt, (guint32)(size - 4));
    pkt[4] = (guint8)(size - 5 - payload_len);
    memcpy(pkt + 5, payload, payload_len);
    memset(pkt + 5 + payload_len, 0, size - 5 - payload_len);
    o->len += size;
}

/* KEXINIT: the algorithms OpenSSH and libssh agree on; `size` as sent. */
static void
ssh_kexinit(Flow *f, double t, gboolean from_client, size_t size)
{
    static const char *const lists[10] = {
        "curve25519-sha256", "ssh-ed25519", "chacha20-poly1305@openssh.com",
        "chacha20-poly1305@openssh.com", "umac-64-etm@openssh.com", "umac-64-etm@openssh.com",
        "none", "none", "", "",
    };
    guint8 payload[400] = { 20 }, *p = payload + 17;     /* code, cookie */
    for (guint i = 0; i < 10; i++)
        p = ssh_string(p, lists[i], strlen(lists[i]));
    p += 5;                                             /* first_kex_packet_follows, reserved */
    SshOut o = { .len = 0 };
    size_t n = (size_t)(p - payload);
    /* Real KEXINITs list many algorithms: pad the first list's weight into
     * the padding field's reach by sending the rest as padding packets. */
    ssh_packet(&o, payload, n, MIN(size, n + 5 + 255) & ~(size_t)7);
    while (o.len + 16 <= size) {
        static const guint8 ignore[] = { 2, 0, 0, 0, 0 };  /* SSH_MSG_IGNORE, empty */
        ssh_packet(&o, ignore, sizeof ignore, MIN(size - o.len, sizeof ignore + 5 + 255) & ~(size_t)7);
    }
    flow_send(f, t, from_client, PSH | ACK, o.buf, o.len);
}

/* KEX_ECDH_INIT (client) or KEX_ECDH_REPLY (server), ed25519 host key. */
static void
ssh_ecdh(Flow *f, double t, gboolean from_client)
{
    guint8 payload[256] = { 0 }, blob[51], sig[83], *p = payload + 1;
    if (from_client) {
        payload[0] = 30;
        p = ssh_string(p, NULL, 32);                    /* Q_C */
    } else {
        payload[0] = 31;
        memset(blob, 0, sizeof blob);
        memset(sig, 0, sizeof sig);
        ssh_string(ssh_string(blob, "ssh-ed25519", 11), NULL, 32);
        ssh_string(ssh_string(sig, "ssh-ed25519", 11), NULL, 64);
        p = ssh_string(p, blob, sizeof blob);          /* K_S */
        p = ssh_string(p, NULL, 32);                    /* Q_S */
        p = ssh_string(p, sig, sizeof sig);             /* signature */
    }
    size_t n = (size_t)(p - payload);
    SshOut o = { .len = 0 };
    ssh_packet(&o, payload, n, (n + 5 + 4 + 7) & ~(size_t)7);
    flow_send(f, t, from_client, PSH | ACK, o.buf, o.len);
}

static void
ssh_newkeys(Flow *f, double t, gboolean from_client)
{
    static const guint8 code[] = { 21 };
    SshOut o = { .len = 0 };
    ssh_packet(&o, code, 1, 16);
    flow_send(f, t, from_client, PSH | ACK, o.buf, o.len);
}

/* The SSH transport up to user authentication, as libssh and OpenSSH do
 * it: banners, key exchange, new keys, the ssh-userauth service.  Returns
 * when the server's SERVICE_ACCEPT has reached the client. */
static double
ssh_transport(Flow *f, double t, const char *client_banner)
{
    double rtt = f->rtt;
    flow_data(f, t + 0.002, FALSE, "SSH-2.0-OpenSSH_8.9p1 Ubuntu-3ubuntu0.6\r\n", 0);
    t += 0.002 + rtt;
    flow_data(f, t, TRUE, client_banner, 0);
    ssh_kexinit(f, t + 0.0003, TRUE, 1012);
    ssh_kexinit(f, t + 0.0006, FALSE, 1080);
    t += 0.0006 + rtt;
    ssh_ecdh(f, t, TRUE);
    t += 0.004;                                             /* the host key's signature */
    ssh_ecdh(f, t, FALSE);
    ssh_newkeys(f, t + 0.00005, FALSE);
    t += rtt;
    ssh_newkeys(f, t, TRUE);
    flow_data(f, t + 0.0002, TRUE, NULL, 52);               /* SERVICE_REQUEST */
    flow_data(f, t + 0.0004, FALSE, NULL, 52);              /* SERVICE_ACCEPT */
    return t + 0.0004 + rtt;
}

/* One failed hydra SSH login: the "none" method, one password, the
 * failure after pam_unix's delay, and the server closing: 20 packets. */
static double
ssh_failed_login(Pcap *p, GRand *r, double t, const char *client, guint cport,
                 const char *server, double rtt, const char *password)
{
    Flow f = flow_new(p, r, client, cport, server, 22, rtt);
    t = ssh_transport(&f, flow_open(&f, t), "SSH-2.0-libssh_0.9.6\r\n");
    flow_data(&f, t, TRUE, NULL, 68);                       /* USERAUTH_REQUEST none */
    flow_data(&f, t + 0.0003, FALSE, NULL, 68);             /* USERAUTH_FAILURE */
    t += 0.0003 + rtt;
    flow_data(&f, t, TRUE, NULL, 84 + 16 * (strlen(password) / 16));  /* password, padded */
    flow_ack(&f, t + 0.04, FALSE);
    t += uniform(r, 2.0, 2.4);                              /* pam_unix's failure delay */
    flow_data(&f, t, FALSE, NULL, 68);                      /* USERAUTH_FAILURE */
    return flow_close(&f, t + 0.0005, FALSE);
}

/* One failed FTP login against vsftpd: 14 packets. */
static double
ftp_failed_login(Pcap *p, GRand *r, double t, const char *client, guint cport,
                 const char *server, double rtt, const char *user, const char *password)
{
    char line[64];
    Flow f = flow_new(p, r, client, cport, server, 21, rtt);
    t = flow_open(&f, t);
    flow_data(&f, t + 0.001, FALSE, "220 (vsFTPd 3.0.5)\r\n", 0);
    t += 0.001 + rtt;
    g_snprintf(line, sizeof line, "USER %s\r\n", user);
    flow_data(&f, t, TRUE, line, 0);
    flow_data(&f, t + 0.0003, FALSE, "331 Please specify the password.\r\n", 0);
    t += 0.0003 + rtt;
    g_snprintf(line, sizeof line, "PASS %s\r\n", password);
    flow_data(&f, t, TRUE, line, 0);
    flow_ack(&f, t + 0.04, FALSE);
    t += uniform(r, 1.0, 1.05);                             /* delay_failed_login */
    flow_data(&f, t, FALSE, "530 Login incorrect.\r\n", 0);
    t += rtt;
    flow_data(&f, t, TRUE, "QUIT\r\n", 0);
    flow_data(&f, t + 0.0003, FALSE, "221 Goodbye.\r\n", 0);
    return flow_close(&f, t + 0.0004, FALSE);
}

/* One failed RDP login with NLA: X.224, TLS, CredSSP with NTLM, the
 * logon failure, and the server closing: 18 packets. */
static double
rdp_failed_login(Pcap *p, GRand *r, double t, const char *client, guint cport,
                 const char *server, double rtt, const char *password)
{
    Flow f = flow_new(p, r, client, cport, server, 3389, rtt);
    t = flow_open(&f, t);
    flow_data(&f, t, TRUE, NULL, 47);                       /* X.224 Connection Request */
    flow_data(&f, t + 0.0005, FALSE, NULL, 19);             /* Connection Confirm */
    t += 0.0005 + rtt;
    flow_data(&f, t, TRUE, NULL, 310);                      /* ClientHello */
    flow_data(&f, t + 0.001, FALSE, NULL, 1364);            /* ServerHello .. ServerHelloDone */
    t += 0.001 + rtt;
    flow_data(&f, t, TRUE, NULL, 126);                      /* ClientKeyExchange .. Finished */
    flow_data(&f, t + 0.001, FALSE, NULL, 51);              /* ChangeCipherSpec, Finished */
    t += 0.001 + rtt;
    flow_data(&f, t, TRUE, NULL, 85);                       /* TSRequest: NTLM NEGOTIATE */
    flow_data(&f, t + 0.001, FALSE, NULL, 290);             /* NTLM CHALLENGE */
    t += 0.001 + rtt;
    flow_data(&f, t, TRUE, NULL, 530 + 2 * strlen(password)); /* NTLM AUTHENTICATE */
    flow_ack(&f, t + 0.04, FALSE);
    t += uniform(r, 0.15, 0.3);                             /* the domain controller says no */
    flow_data(&f, t, FALSE, NULL, 63);                      /* TSRequest: STATUS_LOGON_FAILURE */
    flow_ack(&f, t + rtt, TRUE);
    return flow_close(&f, t + 0.001, FALSE);
}

typedef enum { SSH_LOGIN, FTP_LOGIN, RDP_LOGIN } LoginKind;

/* hydra: `tasks` parallel tasks, each trying the next password as soon as
 * its previous attempt is closed. */
static void
hydra(Pcap *p, GRand *r, LoginKind kind, const char *attacker, const char *server, double rtt,
      guint tasks, guint attempts)
{
    double next[16];
    guint port = g_rand_int_range(r, 33000, 60000);
    g_assert(tasks <= G_N_ELEMENTS(next));
    for (guint i = 0; i < tasks; i++)
        next[i] = uniform(r, 0, 0.05);
    for (guint a = 0; a < attempts; a++) {
        guint task = 0;
        for (guint i = 1; i < tasks; i++)
            if (next[i] < next[task])
                task = i;
        const char *password = passwords[a % G_N_ELEMENTS(passwords)];
        double t = next[task], end;
        if (kind == SSH_LOGIN)
            end = ssh_failed_login(p, r, t, attacker, next_port(r, &port), server, rtt, password);
        else if (kind == FTP_LOGIN)
            end = ftp_failed_login(p, r, t, attacker, next_port(r, &port), server, rtt,
                                   a < G_N_ELEMENTS(passwords) ? "admin" : "ftp", password);
        else
            end = rdp_failed_login(p, r, t, attacker, next_port(r, &port), server, rtt, password);
        next[task] = end + uniform(r, 0.001, 0.01);
    }
}

/* Nagios' check_ssh: connect, read the banner, send its own, and leave
 * once the server's KEXINIT arrives: 9 packets. */
static void
ssh_check(Pcap *p, GRand *r, double t, const char *monitor, guint cport, const char *server)
{
    Flow f = flow_new(p, r, monitor, cport, server, 22, 0.0004);
    t = flow_open(&f, t);
    flow_data(&f, t + 0.002, FALSE, "SSH-2.0-OpenSSH_8.9p1 Ubuntu-3ubuntu0.6\r\n", 0);
    t += 0.002 + f.rtt;
    flow_data(&f, t, TRUE, "SSH-2.0-check_ssh_2.3.3\r\n", 0);
    ssh_kexinit(&f, t + 0.0003, FALSE, 1080);
    flow_close(&f, t + 0.0003 + f.rtt, TRUE);
}

/* An administrator's interactive SSH session: typed commands (a packet
 * each way per keystroke), their output, thinking pauses; an idle stretch
 * kept alive by ServerAliveInterval=60. */
static void
ssh_session(Pcap *p, GRand *r, double t, double length, const char *admin, guint cport,
            const char *server, double idle_from, double idle_for)
{
    Flow f = flow_new(p, r, admin, cport, server, 22, 0.012);
    t = ssh_transport(&f, flow_open(&f, t), "SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n");
    flow_data(&f, t, TRUE, NULL, 564);                      /* publickey, signed */
    flow_data(&f, t + 0.002, FALSE, NULL, 36);              /* USERAUTH_SUCCESS */
    t += 0.002 + f.rtt;
    flow_data(&f, t, TRUE, NULL, 112);                      /* session channel, pty, shell */
    flow_data(&f, t + 0.01, FALSE, NULL, 1020);             /* motd and prompt */
    t += 0.01 + f.rtt + uniform(r, 1, 4);
    double start = t, end = t + length;
    gboolean idled = FALSE;
    while (t < end) {
        if (!idled && t - start >= idle_from) {
            for (double k = t + 60; k < t + idle_for; k += 60) {
                flow_data(&f, k, TRUE, NULL, 52);           /* keepalive@openssh.com */
                flow_data(&f, k + 0.0004, FALSE, NULL, 28);
                flow_ack(&f, k + 0.0004 + f.rtt, TRUE);
            }
            t += idle_for;
            idled = TRUE;
        }
        guint keys = g_rand_int_range(r, 3, 30);
        for (guint k = 0; k < keys; k++) {
            flow_data(&f, t, TRUE, NULL, 36);
            flow_data(&f, t + 0.0003, FALSE, NULL, 36);     /* the echo */
            flow_ack(&f, t + 0.0003 + f.rtt, TRUE);
            t += uniform(r, 0.06, 0.35);
        }
        flow_data(&f, t, TRUE, NULL, 36);                   /* Enter */
        size_t out = (size_t)(60 + expo(r, 1500));
        double u = t + 0.005;
        for (size_t sent = 0; sent < out; sent += 1448, u += 0.0002)
            flow_data(&f, u, FALSE, NULL, MIN(1448, out - sent));
        flow_ack(&f, u + f.rtt, TRUE);
        t = u + 1 + expo(r, 9);                             /* reading, thinking */
    }
    flow_data(&f, t, TRUE, NULL, 36);                       /* exit */
    flow_data(&f, t + 0.001, FALSE, NULL, 120);
    flow_close(&f, t + 0.002, FALSE);
}

static void
gen_brute_force(const char *dir)
{
    GRand *r = g_rand_new_with_seed(21);
    Pcap *p = pcap_open(dir, "attack_bruteforce_ssh.pcap");
    hydra(p, r, SSH_LOGIN, "192.0.2.101", "198.51.100.22", 0.03, 4, 100);
    pcap_close(p);
    expect("attack_bruteforce_ssh.pcap", "192.0.2.101", "brute_force", "source");

    /* The same over IPv6, fewer tasks and attempts. */
    p = pcap_open(dir, "attack_bruteforce_ssh_ipv6.pcap");
    hydra(p, r, SSH_LOGIN, "2001:db8:1::101", "2001:db8:ffff::22", 0.03, 2, 40);
    pcap_close(p);
    expect("attack_bruteforce_ssh_ipv6.pcap", "2001:db8:1::101", "brute_force", "source");

    p = pcap_open(dir, "attack_bruteforce_ftp.pcap");
    hydra(p, r, FTP_LOGIN, "192.0.2.102", "198.51.100.21", 0.02, 4, 100);
    pcap_close(p);
    expect("attack_bruteforce_ftp.pcap", "192.0.2.102", "brute_force", "source");

    p = pcap_open(dir, "attack_bruteforce_rdp.pcap");
    hydra(p, r, RDP_LOGIN, "192.0.2.103", "198.51.100.23", 0.045, 2, 60);
    pcap_close(p);
    expect("attack_bruteforce_rdp.pcap", "192.0.2.103", "brute_force", "source");

    /* A monitoring server checks three SSH servers once a minute for 45 min:
     * 45 short, alike connections to each, too slow to be guessing. */
    p = pcap_open(dir, "benign_ssh_monitoring.pcap");
    guint port = 40000;
    for (guint i = 0; i < 45; i++)
        for (guint s = 0; s < 3; s++) {
            char server[32];
            g_snprintf(server, sizeof server, "198.51.100.%u", 22 + s);
            ssh_check(p, r, 60.0 * i + 2.0 * s + uniform(r, 0, 0.25), "192.0.2.120",
                      next_port(r, &port), server);
        }
    pcap_close(p);
    expect("benign_ssh_monitoring.pcap", "", "", "");

    /* An administrator's three sessions in an hour, one left idle 10 min. */
    p = pcap_open(dir, "benign_ssh_admin.pcap");
    ssh_session(p, r, 0, 900, "192.0.2.130", 51022, "198.51.100.22", 1e9, 0);
    ssh_session(p, r, 1200, 1500, "192.0.2.130", 51388, "198.51.100.22", 300, 600);
    ssh_session(p, r, 3000, 400, "192.0.2.130", 52410, "198.51.100.22", 1e9, 0);
    pcap_close(p);
    expect("benign_ssh_admin.pcap", "", "", "");
    g_rand_free(r);
}

/* ------------------------------------------------------------------ */
/* Sweeps without SYNs, floods from one source, and their victims       */

typedef enum { LIVE_ANSWERS, LIVE_REFUSES, SILENT } Liveness;

/* What a /24 holds: a host that answers the probe, one that refuses it
 * (RST, port unreachable), or nothing (no host, or a firewall). */
static Liveness
liveness(GRand *r, double answers, double refuses)
{
    double x = g_rand_double(r);
    return x < answers ? LIVE_ANSWERS : x < answers + refuses ? LIVE_REFUSES : SILENT;
}

/* nmap against 203.0.113.0/24, about 250 probes a second, one
 * retransmission a second later for targets that stayed silent. */
#define NMAP_PACE 0.004

/* nmap -sn -PA80: bare ACKs; a live host answers RST (seq = the probe's ack). */
static void
ack_sweep(Pcap *p, GRand *r)
{
    for (guint h = 1; h <= 254; h++) {
        char dst[32];
        g_snprintf(dst, sizeof dst, "203.0.113.%u", h);
        double t = h * NMAP_PACE + uniform(r, 0, 0.002);
        guint sport = g_rand_int_range(r, 33000, 65000);
        guint32 ack = g_rand_int(r);
        Liveness l = liveness(r, 0, 0.3);
        tcp_segment(p, t, SCANNER, sport, dst, 80, ACK, g_rand_int(r), ack, NULL, 0);
        if (l == LIVE_REFUSES)
            tcp_segment(p, t + uniform(r, 0.0005, 0.003), dst, 80, SCANNER, sport, RST, ack, 0, NULL, 0);
        else
            tcp_segment(p, t + 1.0 + uniform(r, 0, 0.1), SCANNER, sport, dst, 80, ACK, g_rand_int(r),
                        ack, NULL, 0);
    }
}

/* nmap -Pn -sF/-sN/-sX -p port: a closed port answers RST-ACK, an open or
 * filtered one stays silent. */
static void
stealth_sweep(Pcap *p, GRand *r, guint flags, guint port)
{
    for (guint h = 1; h <= 254; h++) {
        char dst[32];
        g_snprintf(dst, sizeof dst, "203.0.113.%u", h);
        double t = h * NMAP_PACE + uniform(r, 0, 0.002);
        guint sport = g_rand_int_range(r, 33000, 65000);
        Liveness l = liveness(r, 0.1, 0.55);
        tcp_segment(p, t, SCANNER, sport, dst, port, flags, 0x4f1c2a00 + h, 0, NULL, 0);
        if (l == LIVE_REFUSES)
            tcp_segment(p, t + uniform(r, 0.0005, 0.003), dst, port, SCANNER, sport, RST | ACK, 0,
                        0x4f1c2a00 + h + 1, NULL, 0);
        else
            tcp_segment(p, t + 1.0 + uniform(r, 0, 0.1), SCANNER, sport, dst, port, flags,
                        0x4f1c2a00 + h, 0, NULL, 0);
    }
}

/* nmap -Pn -sU -p161: an SNMP get-request; an agent answers, a host without
 * one says port unreachable. */
static void
udp_sweep(Pcap *p, GRand *r)
{
    for (guint h = 1; h <= 254; h++) {
        char dst[32];
        g_snprintf(dst, sizeof dst, "203.0.113.%u", h);
        double t = h * NMAP_PACE + uniform(r, 0, 0.002);
        Liveness l = liveness(r, 0.08, 0.4);
        udp(p, t, SCANNER, 53421, dst, 161, 40);
        if (l == LIVE_ANSWERS)
            udp(p, t + uniform(r, 0.001, 0.01), dst, 161, SCANNER, 53421, g_rand_int_range(r, 80, 200));
        else if (l == LIVE_REFUSES)
            port_unreachable(p, t + uniform(r, 0.0005, 0.003), dst, SCANNER, 53421, 161);
        else
            udp(p, t + 1.0 + uniform(r, 0, 0.1), SCANNER, 53421, dst, 161, 40);
    }
}

/* nmap -sn -PP (timestamp, type 13) or -PM (address mask, type 17). */
static void
icmp_sweep(Pcap *p, GRand *r, guint type, double answering)
{
    guint id = g_rand_int_range(r, 1, 65536);
    for (guint h = 1; h <= 254; h++) {
        char dst[32];
        g_snprintf(dst, sizeof dst, "203.0.113.%u", h);
        double t = h * NMAP_PACE + uniform(r, 0, 0.002);
        size_t body = type == 13 ? 12 : 4;
        icmp(p, t, SCANNER, dst, type, id, 0, body);
        if (liveness(r, answering, 0) == LIVE_ANSWERS)
            icmp(p, t + uniform(r, 0.0005, 0.003), dst, SCANNER, type + 1, id, 0, body);
        else
            icmp(p, t + 1.0 + uniform(r, 0, 0.1), SCANNER, dst, type, id, 1, body);
    }
}

static void
gen_sweeps(const char *dir)
{
    GRand *r = g_rand_new_with_seed(31);
    Pcap *p = pcap_open(dir, "attack_ack_sweep.pcap");
    ack_sweep(p, r);
    pcap_close(p);
    expect("attack_ack_sweep.pcap", SCANNER, "host_sweep", "source");

    static const struct { const char *file; guint flags, port; } stealth[] = {
        { "attack_fin_sweep.pcap", FIN, 445 },
        { "attack_null_sweep.pcap", 0, 3389 },
        { "attack_xmas_sweep.pcap", FIN | PSH | URG, 22 },
    };
    for (guint i = 0; i < G_N_ELEMENTS(stealth); i++) {
        p = pcap_open(dir, stealth[i].file);
        stealth_sweep(p, r, stealth[i].flags, stealth[i].port);
        pcap_close(p);
        expect(stealth[i].file, SCANNER, "host_sweep", "source");
    }

    p = pcap_open(dir, "attack_udp_sweep.pcap");
    udp_sweep(p, r);
    pcap_close(p);
    expect("attack_udp_sweep.pcap", SCANNER, "host_sweep", "source");

    p = pcap_open(dir, "attack_icmp_timestamp_sweep.pcap");
    icmp_sweep(p, r, 13, 0.3);
    pcap_close(p);
    expect("attack_icmp_timestamp_sweep.pcap", SCANNER, "host_sweep", "source");

    p = pcap_open(dir, "attack_icmp_mask_sweep.pcap");
    icmp_sweep(p, r, 17, 0.02);
    pcap_close(p);
    expect("attack_icmp_mask_sweep.pcap", SCANNER, "host_sweep", "source");

    /* The answers alone (a tap on the targets' side): live hosts' RSTs to an
     * ACK ping, echo replies, SNMP responses.  None of them probes anything. */
    p = pcap_open(dir, "benign_sweep_answers.pcap");
    for (guint h = 1; h <= 254; h++) {
        char src[32];
        g_snprintf(src, sizeof src, "203.0.113.%u", h);
        double t = h * NMAP_PACE;
        if (h % 3 == 0)
            tcp_segment(p, t, src, 80, SCANNER, 40000 + h, RST, g_rand_int(r), 0, NULL, 0);
        if (h % 4 == 0)
            echo(p, t + 2, src, SCANNER, TRUE, h);
        if (h % 6 == 0)
            udp(p, t + 4, src, 161, SCANNER, 53421, 120);
    }
    pcap_close(p);
    expect("benign_sweep_answers.pcap", "", "", "");
    g_rand_free(r);
}

/* Datagrams of 480-560 bytes from one source to target:port, a Poisson
 * process at `rate` per second from t0 for `secs`. */
static void
udp_stream(Pcap *p, GRand *r, double t0, double secs, double rate, const char *src, guint sport,
           const char *dst, guint dport, size_t lo, size_t hi, GArray *times)
{
    for (double t = t0 + expo(r, 1 / rate); t < t0 + secs; t += expo(r, 1 / rate)) {
        udp(p, t, src, sport, dst, dport, g_rand_int_range(r, (gint32)lo, (gint32)hi + 1));
        if (times)
            g_array_append_val(times, t);
    }
}

static void
gen_udp_floods(const char *dir)
{
    GRand *r = g_rand_new_with_seed(41);
    /* 300 datagrams a second for 8 s at a game server's port; the server
     * drops what is no game packet. */
    Pcap *p = pcap_open(dir, "attack_udp_flood_one_source.pcap");
    udp_stream(p, r, 0.5, 8, 300, "192.0.2.140", 61000, "198.51.100.60", 27015, 480, 560, NULL);
    pcap_close(p);
    expect("attack_udp_flood_one_source.pcap", "192.0.2.140", "udp_flood", "source");

    /* The same flood while the server keeps serving its six players (30
     * packets a second each way): the flood itself is never answered. */
    p = pcap_open(dir, "attack_udp_flood_busy_server.pcap");
    for (guint i = 0; i < 6; i++) {
        char player[32];
        g_snprintf(player, sizeof player, "203.0.113.%u", 40 + i);
        for (double t = uniform(r, 0, 0.033); t < 20; t += 1 / 30.0 + uniform(r, -0.002, 0.002)) {
            udp(p, t, player, 27005, "198.51.100.60", 27015, g_rand_int_range(r, 60, 120));
            udp(p, t + 0.004, "198.51.100.60", 27015, player, 27005, g_rand_int_range(r, 200, 700));
        }
    }
    udp_stream(p, r, 6, 8, 300, "192.0.2.140", 61000, "198.51.100.60", 27015, 480, 560, NULL);
    pcap_close(p);
    expect("attack_udp_flood_busy_server.pcap", "192.0.2.140", "udp_flood", "source");

    /* 400 a second at a closed port; the victim answers port unreachable up
     * to its ICMP rate limit (200 a second, as FreeBSD's icmplim). */
    p = pcap_open(dir, "attack_udp_flood_victim_answers.pcap");
    GArray *times = g_array_new(FALSE, FALSE, sizeof(double));
    udp_stream(p, r, 0.5, 8, 400, "192.0.2.141", 51234, "198.51.100.61", 5060, 480, 560, times);
    double second = -1;
    guint answered = 0;
    for (guint i = 0; i < times->len; i++) {
        double t = g_array_index(times, double, i);
        if (floor(t) != second) {
            second = floor(t);
            answered = 0;
        }
        if (answered++ < 200)
            port_unreachable(p, t + 0.0002, "198.51.100.61", "192.0.2.141", 51234, 5060);
    }
    g_array_unref(times);
    pcap_close(p);
    expect("attack_udp_flood_victim_answers.pcap", "192.0.2.141", "udp_flood", "source");

    /* A discovery client gone wrong: 300 broadcasts a second for 5 s. */
    p = pcap_open(dir, "attack_broadcast_storm.pcap");
    udp_stream(p, r, 0.2, 5, 300, "192.0.2.190", 17500, "255.255.255.255", 17500, 120, 180, NULL);
    pcap_close(p);
    expect("attack_broadcast_storm.pcap", "192.0.2.190", "udp_flood", "source");

    /* An IPTV channel: MPEG-TS (7 x 188 bytes) to a multicast group at
     * 8 Mbit/s, about 800 datagrams a second, for 5 s. */
    p = pcap_open(dir, "benign_multicast_iptv.pcap");
    for (double t = 0; t < 5; t += 1 / 800.0 + uniform(r, -0.0002, 0.0002))
        udp(p, t, "192.0.2.195", 49200, "239.1.1.1", 5000, 1316);
    pcap_close(p);
    expect("benign_multicast_iptv.pcap", "", "", "");

    /* A LAN's discovery chatter for 2 min: 20 hosts' mDNS and LLMNR
     * queries, SSDP M-SEARCH bursts (3 copies), DHCP and NetBIOS broadcasts. */
    p = pcap_open(dir, "benign_lan_discovery.pcap");
    for (guint h = 0; h < 20; h++) {
        char host[32];
        g_snprintf(host, sizeof host, "192.0.2.%u", 100 + h);
        for (double t = uniform(r, 0, 10); t < 120; t += expo(r, 15)) {
            switch (g_rand_int_range(r, 0, 5)) {
            case 0:
                udp(p, t, host, 5353, "224.0.0.251", 5353, g_rand_int_range(r, 30, 400));
                break;
            case 1:
                udp(p, t, host, (guint)g_rand_int_range(r, 49152, 65535), "224.0.0.252", 5355, 40);
                break;
            case 2:
                for (guint k = 0; k < 3; k++)
                    udp(p, t + k * 0.1, host, 50123, "239.255.255.250", 1900, 125);
                break;
            case 3:
                udp(p, t, "0.0.0.0", 68, "255.255.255.255", 67, 300);
                break;
            default:
                udp(p, t, host, 137, "192.0.2.255", 137, 50);
                break;
            }
        }
    }
    pcap_close(p);
    expect("benign_lan_discovery.pcap", "", "", "");
    g_rand_free(r);
}

/* ------------------------------------------------------------------ */
/* Periodic pollers, telemetry, streams and peers: all benign           */

/* Interval `mean` with uniform jitter of +-share: CV = share / sqrt(3). */
static double
jittered(GRand *r, double mean, double share)
{
    return mean * (1 + uniform(r, -share, share));
}

static void
gen_pollers(const char *dir)
{
    GRand *r = g_rand_new_with_seed(51);
    /* A service resolving its API's name every 5 s, jitter +-33% (CV 0.19):
     * A and AAAA in parallel from one socket, as glibc does. */
    Pcap *p = pcap_open(dir, "benign_dns_polling.pcap");
    double t = 1;
    for (guint i = 0; i < 120; i++, t += jittered(r, 5, 0.33)) {
        guint port = g_rand_int_range(r, 32768, 61000);
        udp(p, t, "192.0.2.150", port, "192.0.2.53", 53, 36);
        udp(p, t + 0.00005, "192.0.2.150", port, "192.0.2.53", 53, 36);
        udp(p, t + uniform(r, 0.0004, 0.002), "192.0.2.53", 53, "192.0.2.150", port, 68);
        udp(p, t + uniform(r, 0.0004, 0.002), "192.0.2.53", 53, "192.0.2.150", port, 80);
    }
    pcap_close(p);
    expect("benign_dns_polling.pcap", "", "", "");

    /* ntpd (from port 123) and chrony (from an ephemeral port) polling four
     * pool servers every 64 s for 40 min. */
    p = pcap_open(dir, "benign_ntp_polling.pcap");
    for (guint s = 0; s < 4; s++) {
        char server[32];
        g_snprintf(server, sizeof server, "203.0.113.%u", 123 + s);
        const char *client = s < 2 ? "192.0.2.151" : "192.0.2.152";
        for (t = uniform(r, 0, 10); t < 2400; t += 64 * (s < 2 ? 1 : uniform(r, 0.95, 1.05))) {
            guint port = s < 2 ? 123 : (guint)g_rand_int_range(r, 32768, 61000);
            double back = t + uniform(r, 0.01, 0.04);
            udp(p, t, client, port, server, 123, 48);
            udp(p, back, server, 123, client, port, 48);
        }
    }
    pcap_close(p);
    expect("benign_ntp_polling.pcap", "", "", "");

    /* Ten hosts' management agents poll one update API once a minute
     * (+-5%) for 20 min: a shared service. */
    p = pcap_open(dir, "benign_update_service.pcap");
    for (guint h = 0; h < 10; h++) {
        char host[32];
        guint port = g_rand_int_range(r, 33000, 60000);
        g_snprintf(host, sizeof host, "192.0.2.%u", 60 + h);
        for (t = uniform(r, 0, 60); t < 1200; t += jittered(r, 60, 0.05)) {
            Flow f = flow_new(p, r, host, next_port(r, &port), "198.51.100.100", 443, 0.02);
            double u = flow_open(&f, t);
            flow_data(&f, u, TRUE, NULL, 517);              /* ClientHello */
            flow_data(&f, u + 0.001, FALSE, NULL, 2900);    /* ServerHello .. Finished */
            u += 0.001 + f.rtt;
            flow_data(&f, u, TRUE, NULL, 64 + 420);         /* Finished; GET /v1/updates */
            flow_data(&f, u + 0.03, FALSE, NULL, 310);      /* 304 Not Modified */
            flow_close(&f, u + 0.03 + f.rtt, TRUE);
        }
    }
    pcap_close(p);
    expect("benign_update_service.pcap", "", "", "");
    g_rand_free(r);
}

static void
gen_telemetry(const char *dir)
{
    GRand *r = g_rand_new_with_seed(61);
    /* One collector for 30 s: syslog from 30 servers (0.5-3 messages a
     * second each), NetFlow v9 from a router (about 100 export packets a
     * second), statsd from an application (about 150 a second).  Nothing
     * goes back. */
    const char *collector = "198.51.100.50";
    Pcap *p = pcap_open(dir, "benign_telemetry_collector.pcap");
    for (guint h = 0; h < 30; h++) {
        char host[32];
        g_snprintf(host, sizeof host, "192.0.2.%u", 10 + h);
        udp_stream(p, r, 0, 30, uniform(r, 0.5, 3), host, 514, collector, 514, 80, 400, NULL);
    }
    udp_stream(p, r, 0, 30, 100, "192.0.2.1", 49152, collector, 2055, 1300, 1460, NULL);
    udp_stream(p, r, 0, 30, 150, "192.0.2.210", 41234, collector, 8125, 30, 90, NULL);
    pcap_close(p);
    expect("benign_telemetry_collector.pcap", "", "", "");

    /* statsd alone at about 200 a second: below the one-source threshold. */
    p = pcap_open(dir, "benign_statsd_exporter.pcap");
    udp_stream(p, r, 0, 30, 200, "192.0.2.211", 41235, collector, 8125, 30, 90, NULL);
    pcap_close(p);
    expect("benign_statsd_exporter.pcap", "", "", "");
    g_rand_free(r);
}

static void
gen_streams(const char *dir)
{
    GRand *r = g_rand_new_with_seed(71);
    /* A QUIC download of 6 MB at about 1,500 packets a second; the client
     * acknowledges every other packet for the first 100, then every tenth
     * (Chrome's ACK decimation), as in real captures. */
    Pcap *p = pcap_open(dir, "benign_quic_download.pcap");
    const char *client = "192.0.2.160", *server = "198.51.100.70";
    udp(p, 0, client, 54321, server, 443, 1250);            /* Initial, padded */
    udp(p, 0.021, server, 443, client, 54321, 1250);        /* Initial, Handshake */
    udp(p, 0.0211, server, 443, client, 54321, 1250);
    udp(p, 0.0212, server, 443, client, 54321, 980);
    udp(p, 0.042, client, 54321, server, 443, 120);         /* Handshake; request */
    double t = 0.065;
    guint since_ack = 0;
    for (guint i = 0; i < 4500; i++) {
        udp(p, t, server, 443, client, 54321, 1350);
        if (++since_ack >= (i < 100 ? 2u : 10u)) {
            udp(p, t + 0.0003, client, 54321, server, 443, g_rand_int_range(r, 36, 60));
            since_ack = 0;
        }
        t += expo(r, 1 / 1500.0);
    }
    pcap_close(p);
    expect("benign_quic_download.pcap", "", "", "");

    /* A video call through a conferencing server for 20 s: the client sends
     * its camera (about 130 packets a second) and voice (50), and receives
     * three participants' video (90 each) and the mixed voice (50). */
    p = pcap_open(dir, "benign_video_call.pcap");
    client = "192.0.2.170";
    server = "198.51.100.90";
    udp_stream(p, r, 0, 20, 130, client, 60001, server, 8801, 900, 1200, NULL);
    udp_stream(p, r, 0, 20, 50, client, 60001, server, 8801, 90, 180, NULL);
    for (guint i = 0; i < 3; i++)
        udp_stream(p, r, 0.02, 20, 90, server, 8801, client, 60001, 700, 1200, NULL);
    udp_stream(p, r, 0.02, 20, 50, server, 8801, client, 60001, 90, 180, NULL);
    pcap_close(p);
    expect("benign_video_call.pcap", "", "", "");
    g_rand_free(r);
}

static void
gen_peers_and_servers(const char *dir)
{
    GRand *r = g_rand_new_with_seed(81);
    /* A BitTorrent node for 5 min: 250 peers from the tracker, scattered over
     * the Internet on their own ports (most random, some 6881 or 51413);
     * half never answer (SYN retried at 1 s and 3 s) or refuse; DHT
     * get_peers to 400 nodes, most of which reply. */
    Pcap *p = pcap_open(dir, "benign_p2p_node.pcap");
    const char *node = "192.0.2.180";
    guint port = 40000;
    for (guint i = 0; i < 250; i++) {
        char peer[32];
        scattered_address(r, peer);
        double x = g_rand_double(r), t = uniform(r, 0, 300);
        guint pport = x < 0.1 ? 6881 : x < 0.2 ? 51413 : (guint)g_rand_int_range(r, 10000, 65000);
        double fate = g_rand_double(r);
        Flow f = flow_new(p, r, node, next_port(r, &port), peer, pport, uniform(r, 0.02, 0.25));
        if (fate < 0.4) {
            static const double retries[] = { 0, 1, 3 };    /* Linux: 1 s, then doubling */
            for (guint k = 0; k < G_N_ELEMENTS(retries); k++)
                tcp_segment(p, t + retries[k], node, f.cport, peer, pport, SYN, f.cseq, 0, NULL, 0);
        } else if (fate < 0.5) {
            flow_send(&f, t, TRUE, SYN, NULL, 0);
            tcp_segment(p, t + f.rtt, peer, pport, node, f.cport, RST | ACK, 0, f.cseq, NULL, 0);
        } else {
            double u = flow_open(&f, t);
            flow_data(&f, u, TRUE, NULL, 68);               /* handshake */
            flow_data(&f, u + f.rtt, FALSE, NULL, 68);
            u += f.rtt;
            flow_data(&f, u + 0.001, TRUE, NULL, 40);       /* bitfield, interested */
            flow_data(&f, u + f.rtt, FALSE, NULL, 120);
            guint blocks = g_rand_int_range(r, 0, 7);
            for (guint b = 0; b < blocks; b++) {
                u += uniform(r, 0.05, 0.5);
                flow_data(&f, u, TRUE, NULL, 17);           /* request */
                flow_data(&f, u + f.rtt, FALSE, NULL, 16397);  /* piece */
                flow_ack(&f, u + f.rtt + 0.001, TRUE);
            }
            flow_close(&f, u + 1, g_rand_boolean(r));
        }
    }
    for (guint i = 0; i < 400; i++) {
        char peer[32];
        scattered_address(r, peer);
        double t = uniform(r, 0, 300);
        guint pport = g_rand_int_range(r, 1025, 65535);
        udp(p, t, node, 51413, peer, pport, 94);
        if (g_rand_double(r) < 0.7)
            udp(p, t + uniform(r, 0.03, 0.3), peer, pport, node, 51413, g_rand_int_range(r, 150, 420));
    }
    pcap_close(p);
    expect("benign_p2p_node.pcap", "", "", "");

    /* An IMAPS server for 30 min: 200 mail clients each checking every
     * 5 minutes (TLS, LOGIN, SELECT, LOGOUT). */
    p = pcap_open(dir, "benign_imaps_server.pcap");
    for (guint c = 0; c < 200; c++) {
        char client[32];
        g_snprintf(client, sizeof client, "203.0.113.%u", c + 1);
        port = g_rand_int_range(r, 33000, 60000);
        double rtt = uniform(r, 0.005, 0.08);
        for (double t = uniform(r, 0, 300); t < 1800; t += 300 + uniform(r, -1, 1)) {
            Flow f = flow_new(p, r, client, next_port(r, &port), "198.51.100.25", 993, rtt);
            double u = flow_open(&f, t);
            flow_data(&f, u, TRUE, NULL, 517);
            flow_data(&f, u + 0.001, FALSE, NULL, 3100);
            u += 0.001 + rtt;
            flow_data(&f, u, TRUE, NULL, 80);
            flow_data(&f, u + 0.001, FALSE, NULL, 120);     /* * OK greeting */
            u += 0.001 + rtt;
            flow_data(&f, u, TRUE, NULL, 60 + g_rand_int_range(r, 0, 20));  /* LOGIN */
            flow_data(&f, u + 0.01, FALSE, NULL, 150);
            u += 0.01 + rtt;
            flow_data(&f, u, TRUE, NULL, 40);               /* SELECT INBOX */
            flow_data(&f, u + 0.005, FALSE, NULL, 300 + g_rand_int_range(r, 0, 3000));
            u += 0.005 + rtt;
            flow_data(&f, u, TRUE, NULL, 30);               /* LOGOUT */
            flow_data(&f, u + 0.001, FALSE, NULL, 80);
            flow_close(&f, u + 0.002, FALSE);
        }
    }
    pcap_close(p);
    expect("benign_imaps_server.pcap", "", "", "");
    g_rand_free(r);
}

/* ------------------------------------------------------------------ */
/* Command-and-control beacons                                          */

/* One HTTPS check-in on a new connection: TLS, a GET carrying the implant's
 * metadata, a small "no tasks" answer. */
static void
https_check_in(Pcap *p, GRand *r, double t, const char *implant, guint cport, const char *c2)
{
    Flow f = flow_new(p, r, implant, cport, c2, 443, 0.06);
    double u = flow_open(&f, t);
    flow_data(&f, u, TRUE, NULL, 517);
    flow_data(&f, u + 0.002, FALSE, NULL, 2450);
    u += 0.002 + f.rtt;
    flow_data(&f, u, TRUE, NULL, 126 + 380);
    flow_data(&f, u + 0.004, FALSE, NULL, 51 + 260);
    flow_close(&f, u + 0.004 + f.rtt, TRUE);
}

/* Cobalt Strike's sleep with jitter: sleep - uniform(0, jitter * sleep). */
static void
https_beacon(Pcap *p, GRand *r, const char *implant, const char *c2, double sleep, double jitter,
             guint n)
{
    guint port = g_rand_int_range(r, 49152, 60000);
    double t = uniform(r, 0, sleep);
    for (guint i = 0; i < n; i++, t += sleep - uniform(r, 0, jitter * sleep))
        https_check_in(p, r, t, implant, next_port(r, &port), c2);
}

static void
gen_beacons(const char *dir)
{
    GRand *r = g_rand_new_with_seed(91);
    Pcap *p = pcap_open(dir, "attack_beacon_tls_jitter.pcap");
    https_beacon(p, r, "192.0.2.55", "203.0.113.77", 60, 0.2, 30);
    pcap_close(p);
    expect("attack_beacon_tls_jitter.pcap", "192.0.2.55", "beacon", "source");

    /* One TLS connection held open for 25 min; every 30 s (+-10%) the implant
     * asks for tasks in a small record and gets a small answer. */
    p = pcap_open(dir, "attack_beacon_long_flow.pcap");
    Flow f = flow_new(p, r, "192.0.2.56", 49876, "203.0.113.78", 443, 0.06);
    double t = flow_open(&f, 3);
    flow_data(&f, t, TRUE, NULL, 517);
    flow_data(&f, t + 0.002, FALSE, NULL, 2450);
    t += 0.002 + f.rtt;
    flow_data(&f, t, TRUE, NULL, 126);
    flow_data(&f, t + 0.003, FALSE, NULL, 51);
    for (guint i = 0; i < 50; i++) {
        t += jittered(r, 30, 0.1);
        flow_data(&f, t, TRUE, NULL, 141);
        flow_data(&f, t + 0.002, FALSE, NULL, 93);
        flow_ack(&f, t + 0.002 + f.rtt, TRUE);
    }
    flow_close(&f, t + 30, TRUE);
    pcap_close(p);
    expect("attack_beacon_long_flow.pcap", "192.0.2.56", "beacon", "source");

    /* Two infected hosts, one C2: prevalence 2 is still a C2's. */
    p = pcap_open(dir, "attack_beacon_two_hosts.pcap");
    https_beacon(p, r, "192.0.2.57", "203.0.113.79", 45, 0.2, 25);
    https_beacon(p, r, "192.0.2.58", "203.0.113.79", 45, 0.2, 25);
    pcap_close(p);
    expect("attack_beacon_two_hosts.pcap", "192.0.2.57", "beacon", "source");
    expect("attack_beacon_two_hosts.pcap", "192.0.2.58", "beacon", "source");
    g_rand_free(r);
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
    gen_brute_force(argv[1]);
    gen_sweeps(argv[1]);
    gen_udp_floods(argv[1]);
    gen_pollers(argv[1]);
    gen_telemetry(argv[1]);
    gen_streams(argv[1]);
    gen_peers_and_servers(argv[1]);
    gen_beacons(argv[1]);
    fclose(expected);
    g_free(path);
    return 0;
}
