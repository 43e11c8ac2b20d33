/* gen-traffic.c — write a large, realistic-looking capture for the benchmark.
 *
 *   gen-traffic [-n PACKETS] [-H HOSTS] [-d SECONDS] [-s SEED] [-6 PERCENT] -o FILE
 *   gen-traffic -m flows|synflood|udpconv [-n PACKETS] [-s SEED] -o FILE
 *
 * Classic pcap, Ethernet.  Clients and servers in 10.0.0.0/8 and fd00::/8
 * (IPv6 share of hosts -6, default 30 %), talking:
 *   - TLS over TCP 443: handshake, a valid ClientHello (SNI, key share...),
 *     ServerHello, then application-data records, several requests a
 *     connection, closed with close_notify and FIN (some RST, some left open);
 *   - HTTP/1.1 over TCP 80: GET/POST requests, 200/304/404 responses with
 *     correct Content-Length;
 *   - DNS over UDP 53: A/AAAA queries with EDNS0, answers (some via a CNAME),
 *     some NXDOMAIN;
 *   - QUIC-looking UDP 443: long-header Initial/Handshake packets, then
 *     short-header packets with random (protected) payload;
 *   - ICMP / ICMPv6 echo, and a few ARP requests and replies.
 * TCP carries timestamps (66/86-byte ACKs, 1514-byte full segments), a
 * slow-start-like pacing of responses and an ACK every second segment.
 * IPv4 header, TCP, UDP and ICMP checksums are correct; timestamps strictly
 * increase over about -d seconds.  Every host appears at least once (when
 * -n allows).  The same options and seed give the same file, byte for byte.
 *
 * On success prints "key value" lines (packets, hosts, ipv4_hosts, ...).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#define EPOCH 1700000000ULL     /* 2023-11-14 22:13:20 UTC */

enum { FIN = 0x01, SYN = 0x02, RST = 0x04, PSH = 0x08, ACK = 0x10 };
enum { C2S = 0, S2C = 1 };
enum { K_TCP, K_UDP, K_ICMP, K_ARP };                      /* packet kinds */
enum { S_TLS, S_HTTP, S_QUIC, S_DNS, S_PING, S_ARP };       /* session kinds */
enum { CH_BYTES, CH_RANDOM, CH_TEXT, CH_TLS, CH_QUIC_SHORT }; /* chunk kinds */

typedef struct {
    gboolean v6;
    guint8   addr[16];          /* IPv4 in the first 4 bytes */
    guint8   mac[6];
    guint16  ip_id;
    char    *name;              /* servers: their DNS name */
} Host;

/* A piece of one direction's byte stream. */
typedef struct {
    guint32 off, len;
    guint8  kind, type;
    guint8 *data;               /* CH_BYTES */
} Chunk;

typedef struct {
    guint8   kind;
    gboolean v6;
    guint32  id;
    guint    client, server;
    guint16  cport, sport;
    guint32  isn[2], tsbase[2];
    guint32  flow;              /* IPv6 flow label */
    guint8   ttl_s;             /* TTL/hop limit of the server's packets */
    guint16  window[2];
    guint32  rtt;               /* microseconds */
    guint64  last_t;
    guint8   cid[2][8];         /* QUIC connection IDs */
    GArray  *chunks[2];
    guint32  end[2];            /* stream lengths */
} Session;

/* One packet to write: the bytes are made when written. */
typedef struct {
    guint64 t;                  /* microseconds from the start */
    guint32 sess;
    guint32 off;                /* stream offset of the payload */
    guint32 seq, ack;           /* TCP; ICMP: seq in seq */
    guint16 len;                /* payload length */
    guint8  kind, dir, flags;
} Pkt;

typedef struct {
    GRand     *r;
    guint64    seed;
    guint64    span;            /* microseconds */
    Host      *hosts;
    guint      n_hosts;
    GArray    *clients[2], *servers[2], *resolvers[2];  /* [v6] host indices */
    GPtrArray *sessions;
    GArray    *pkts;
} Plan;

/* ---- small helpers -------------------------------------------------- */

static void put16(guint8 *p, guint v) { p[0] = (guint8)(v >> 8); p[1] = (guint8)v; }
static void put32(guint8 *p, guint32 v) { put16(p, v >> 16); put16(p + 2, v & 0xffff); }

static guint64
mix64(guint64 x)
{
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

static guint32 rnd(Plan *p, guint32 lo, guint32 hi) { return (guint32)g_rand_int_range(p->r, (gint32)lo, (gint32)hi + 1); }
static double  unif(Plan *p) { return g_rand_double(p->r); }
static gboolean chance(Plan *p, double pr) { return g_rand_double(p->r) < pr; }

/* log-uniform in [lo, hi] */
static guint32
logu(Plan *p, double lo, double hi)
{
    return (guint32)exp(log(lo) + unif(p) * (log(hi) - log(lo)));
}

static guint64
expo(Plan *p, double mean)
{
    return (guint64)(-mean * log(1.0 - unif(p)));
}

static guint32
sum16(const guint8 *b, size_t n, guint32 s)
{
    for (size_t i = 0; i + 1 < n; i += 2)
        s += (guint32)b[i] << 8 | b[i + 1];
    if (n & 1)
        s += (guint32)b[n - 1] << 8;
    return s;
}

static guint16
fold(guint32 s)
{
    while (s >> 16)
        s = (s & 0xffff) + (s >> 16);
    return (guint16)~s;
}

/* ---- streams -------------------------------------------------------- */

static guint32
add_chunk(Session *s, int dir, guint8 kind, guint8 type, guint32 len, const guint8 *data)
{
    Chunk c = { s->end[dir], len, kind, type, data ? g_memdup2(data, len) : NULL };
    g_array_append_val(s->chunks[dir], c);
    s->end[dir] += len;
    return c.off;
}

static guint32 add_bytes(Session *s, int dir, GByteArray *b) { return add_chunk(s, dir, CH_BYTES, 0, b->len, b->data); }
static guint32 add_random(Session *s, int dir, guint32 len) { return add_chunk(s, dir, CH_RANDOM, 0, len, NULL); }
static guint32 add_text(Session *s, int dir, guint32 len) { return add_chunk(s, dir, CH_TEXT, 0, len, NULL); }
static guint32 add_tls(Session *s, int dir, guint8 type, guint32 body) { return add_chunk(s, dir, CH_TLS, type, body + 5, NULL); }

static const char filler[] =
    "<p>Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor "
    "incididunt ut labore et dolore magna aliqua.</p>\n<div class=\"item\"><a href=\"/item/42\">"
    "Ut enim ad minim veniam</a>, quis nostrud exercitation ullamco laboris.</div>\n";

static guint8
rand_byte(guint64 key, guint32 pos)
{
    return (guint8)(mix64(key + (pos >> 3)) >> ((pos & 7) * 8));
}

static void
fill(const Plan *p, const Session *s, int dir, guint32 off, guint32 len, guint8 *dst)
{
    const GArray *a = s->chunks[dir];
    guint lo = 0, hi = a->len;

    while (lo < hi) {
        guint mid = (lo + hi) / 2;
        const Chunk *c = &g_array_index(a, Chunk, mid);
        if (c->off + c->len <= off)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (guint i = lo; len > 0 && i < a->len; i++) {
        const Chunk *c = &g_array_index(a, Chunk, i);
        guint32 in = off - c->off, n = MIN(len, c->len - in);
        guint64 key = mix64(p->seed ^ ((guint64)s->id << 33) ^ ((guint64)dir << 32) ^ c->off);

        for (guint32 k = 0; k < n; k++) {
            guint32 at = in + k;
            guint8 v;
            switch (c->kind) {
            case CH_BYTES:
                v = c->data[at];
                break;
            case CH_TEXT:
                v = (guint8)filler[(c->off + at) % (sizeof filler - 1)];
                break;
            case CH_TLS:
                if (at == 0)
                    v = c->type;
                else if (at == 1 || at == 2)
                    v = 3;
                else if (at == 3)
                    v = (guint8)((c->len - 5) >> 8);
                else if (at == 4)
                    v = (guint8)(c->len - 5);
                else
                    v = rand_byte(key, at);
                break;
            case CH_QUIC_SHORT:
                if (at == 0)
                    v = 0x40 | (rand_byte(key, 0) & 0x3f);
                else if (at <= 8)
                    v = s->cid[!dir][at - 1];
                else
                    v = rand_byte(key, at);
                break;
            default:
                v = rand_byte(key, at);
            }
            dst[k] = v;
        }
        dst += n;
        off += n;
        len -= n;
    }
    g_assert(len == 0);
}

/* ---- sessions and packets ------------------------------------------- */

static Session *
new_session(Plan *p, guint8 kind, guint client, guint server)
{
    Session *s = g_new0(Session, 1);

    s->kind = kind;
    s->id = p->sessions->len;
    s->client = client;
    s->server = server;
    s->v6 = p->hosts[client].v6;
    s->cport = (guint16)rnd(p, 32768, 60999);
    s->isn[0] = g_rand_int(p->r);
    s->isn[1] = g_rand_int(p->r);
    s->tsbase[0] = g_rand_int(p->r);
    s->tsbase[1] = g_rand_int(p->r);
    s->flow = g_rand_int(p->r) & 0xfffff;
    s->ttl_s = (guint8)(64 - rnd(p, 2, 14));
    s->window[0] = (guint16)rnd(p, 500, 2050);
    s->window[1] = (guint16)rnd(p, 250, 1100);
    s->rtt = logu(p, 4000, 150000);
    for (int d = 0; d < 2; d++) {
        for (int i = 0; i < 8; i++)
            s->cid[d][i] = (guint8)g_rand_int(p->r);
        s->chunks[d] = g_array_new(FALSE, FALSE, sizeof(Chunk));
    }
    g_ptr_array_add(p->sessions, s);
    return s;
}

/* Appends a packet; returns its time, kept above the session's last one. */
static guint64
emit(Plan *p, Session *s, guint64 t, guint8 kind, int dir, guint8 flags,
     guint32 seq, guint32 ack, guint32 off, guint32 len)
{
    if (t <= s->last_t)
        t = s->last_t + 1;
    s->last_t = t;
    Pkt k = { t, s->id, off, seq, ack, (guint16)len, kind, (guint8)dir, flags };
    g_array_append_val(p->pkts, k);
    return t;
}

static guint
pick_server(Plan *p, gboolean v6)
{
    GArray *a = p->servers[v6];
    /* popularity: a few servers get most connections */
    guint i = (guint)(a->len * pow(unif(p), 2.5));
    return g_array_index(a, guint, MIN(i, a->len - 1));
}

static guint
pick(Plan *p, GArray *a)
{
    return g_array_index(a, guint, rnd(p, 0, a->len - 1));
}

/* ---- DNS ------------------------------------------------------------ */

static void
dns_name(GByteArray *b, const char *name)
{
    char **labels = g_strsplit(name, ".", -1);
    for (char **l = labels; *l; l++) {
        guint8 n = (guint8)strlen(*l);
        g_byte_array_append(b, &n, 1);
        g_byte_array_append(b, (const guint8 *)*l, n);
    }
    g_byte_array_append(b, (const guint8 *)"", 1);
    g_strfreev(labels);
}

static void
append16(GByteArray *b, guint v)
{
    guint8 x[2];
    put16(x, v);
    g_byte_array_append(b, x, 2);
}

static void
append32(GByteArray *b, guint32 v)
{
    append16(b, v >> 16);
    append16(b, v & 0xffff);
}

static void
dns_opt(GByteArray *b)
{
    static const guint8 opt[] = { 0, 0, 41, 0x04, 0xd0, 0, 0, 0, 0, 0, 0 };
    g_byte_array_append(b, opt, sizeof opt);
}

/* A lookup of NAME from S's client: query then answer (addr of TARGET, or
 * NXDOMAIN when TARGET is -1).  Returns the time the answer arrives. */
static guint64
dns_lookup(Plan *p, guint64 t, guint client, const char *name, int target)
{
    gboolean v6 = p->hosts[client].v6;
    Session *s = new_session(p, S_DNS, client, pick(p, p->resolvers[v6]));
    guint16 id = (guint16)g_rand_int(p->r), qtype = v6 ? 28 : 1;
    GByteArray *q = g_byte_array_new(), *a = g_byte_array_new();
    guint cname_at = 0;

    s->sport = 53;
    s->rtt = chance(p, 0.7) ? logu(p, 300, 3000) : logu(p, 8000, 120000);
    append16(q, id);
    append16(q, 0x0100);
    append16(q, 1);
    append16(q, 0);
    append16(q, 0);
    append16(q, 1);
    dns_name(q, name);
    append16(q, qtype);
    append16(q, 1);
    dns_opt(q);

    gboolean cname = target >= 0 && chance(p, 0.25);
    append16(a, id);
    append16(a, target >= 0 ? 0x8180 : 0x8183);
    append16(a, 1);
    append16(a, target < 0 ? 0 : cname ? 2 : 1);
    append16(a, 0);
    append16(a, 1);
    dns_name(a, name);
    append16(a, qtype);
    append16(a, 1);
    if (cname) {
        char *alias = g_strdup_printf("edge%u.cdn.example.net", rnd(p, 1, 400));
        GByteArray *rd = g_byte_array_new();
        dns_name(rd, alias);
        append16(a, 0xc00c);
        append16(a, 5);
        append16(a, 1);
        append32(a, rnd(p, 30, 3600));
        append16(a, rd->len);
        cname_at = a->len;
        g_byte_array_append(a, rd->data, rd->len);
        g_byte_array_unref(rd);
        g_free(alias);
    }
    if (target >= 0) {
        append16(a, 0xc000 | (cname ? cname_at : 12));
        append16(a, qtype);
        append16(a, 1);
        append32(a, rnd(p, 30, 3600));
        append16(a, v6 ? 16 : 4);
        g_byte_array_append(a, p->hosts[target].addr, v6 ? 16 : 4);
    }
    dns_opt(a);

    guint32 qo = add_bytes(s, C2S, q), ao = add_bytes(s, S2C, a);
    t = emit(p, s, t, K_UDP, C2S, 0, 0, 0, qo, q->len);
    t = emit(p, s, t + s->rtt, K_UDP, S2C, 0, 0, 0, ao, a->len);
    g_byte_array_unref(q);
    g_byte_array_unref(a);
    return t;
}

/* ---- TCP ------------------------------------------------------------ */

typedef struct {
    Plan    *p;
    Session *s;
    guint64  t;
    guint32  sent[2];
    gboolean fin[2];
    guint    cwnd;
    guint32  rate;              /* bytes per second, server pacing */
} Tcp;

static guint32 mss(const Tcp *c) { return c->s->v6 ? 1428 : 1448; }

static void
tcp_pkt(Tcp *c, int dir, guint8 flags, guint32 len)
{
    Session *s = c->s;
    guint32 seq = s->isn[dir] + ((flags & SYN) ? 0 : 1 + c->sent[dir] + (c->fin[dir] ? 1 : 0));
    guint32 ack = (flags & ACK) ? s->isn[!dir] + 1 + c->sent[!dir] + (c->fin[!dir] ? 1 : 0) : 0;

    c->t = emit(c->p, s, c->t, K_TCP, dir, flags, seq, ack, c->sent[dir], len);
    c->sent[dir] += len;
    if (flags & FIN)
        c->fin[dir] = TRUE;
}

/* Sends everything queued in DIR's stream.  Server data goes in
 * slow-start rounds, paced, the client ACKing every second segment. */
static void
tcp_push(Tcp *c, int dir)
{
    Session *s = c->s;
    Plan *p = c->p;
    guint segs = 0;

    while (c->sent[dir] < s->end[dir]) {
        guint64 round = c->t;
        for (guint i = 0; i < (dir == S2C ? c->cwnd : 64) && c->sent[dir] < s->end[dir]; i++) {
            guint32 n = MIN(mss(c), s->end[dir] - c->sent[dir]);
            gboolean last = c->sent[dir] + n == s->end[dir];
            tcp_pkt(c, dir, ACK | (last || i + 1 == c->cwnd ? PSH : 0), n);
            guint64 sent_at = c->t;
            segs++;
            if (dir == S2C && (segs % 2 == 0 || last)) {
                c->t += rnd(p, 15, 60);
                tcp_pkt(c, C2S, ACK, 0);
            }
            c->t = sent_at + (guint64)(n + 66) * 1000000 / c->rate;
        }
        if (dir == S2C) {
            c->cwnd = MIN(c->cwnd * 2, 256);
            if (c->sent[dir] < s->end[dir])
                c->t = MAX(c->t, round + s->rtt);
        }
    }
}

static void
tcp_open(Tcp *c, Plan *p, Session *s, guint64 t)
{
    *c = (Tcp){ p, s, t, { 0, 0 }, { FALSE, FALSE }, 10, logu(p, 1.5e6, 40e6) };
    tcp_pkt(c, C2S, SYN, 0);
    c->t += s->rtt;
    tcp_pkt(c, S2C, SYN | ACK, 0);
    c->t += rnd(p, 20, 120);
    tcp_pkt(c, C2S, ACK, 0);
    c->t += rnd(p, 10, 300);
}

/* The client waits for the server to answer a request. */
static void
tcp_wait_server(Tcp *c)
{
    Plan *p = c->p;
    guint64 think = logu(p, 200, 150000);
    if (think > 40000) {        /* delayed ACK of the request */
        c->t += c->s->rtt + 40000;
        tcp_pkt(c, S2C, ACK, 0);
        c->t += think - 40000;
    } else {
        c->t += c->s->rtt + think;
    }
}

static void
tcp_close(Tcp *c)
{
    Plan *p = c->p;
    double u = unif(p);

    if (u < 0.10)               /* still open when the capture ends */
        return;
    if (u < 0.15) {             /* the server resets */
        c->t += rnd(p, 1000, 5000000);
        tcp_pkt(c, S2C, RST | ACK, 0);
        return;
    }
    int first = u < 0.75 ? C2S : S2C;
    c->t += rnd(p, 1000, 8000000);
    tcp_pkt(c, first, FIN | ACK, 0);
    c->t += c->s->rtt;
    tcp_pkt(c, !first, FIN | ACK, 0);
    c->t += first == C2S ? rnd(p, 20, 120) : c->s->rtt;
    tcp_pkt(c, first, ACK, 0);
}

static guint32
response_size(Plan *p)
{
    double u = unif(p);
    if (u < 0.65)
        return logu(p, 150, 6000);
    if (u < 0.94)
        return logu(p, 6000, 80000);
    return logu(p, 80000, 600000);
}

/* ---- TLS ------------------------------------------------------------ */

static void
append_random(Plan *p, GByteArray *b, guint n)
{
    for (guint i = 0; i < n; i++) {
        guint8 v = (guint8)g_rand_int(p->r);
        g_byte_array_append(b, &v, 1);
    }
}

/* Rewrites the 16-bit length at AT to cover everything after it. */
static void
close16(GByteArray *b, guint at) { put16(b->data + at, b->len - at - 2); }

static GByteArray *
client_hello(Plan *p, const char *sni)
{
    static const guint16 suites[] = { 0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c,
                                      0xc030, 0xcca9, 0xcca8, 0xc013, 0xc014, 0x009c,
                                      0x009d, 0x002f, 0x0035 };
    static const guint16 groups[] = { 0x001d, 0x0017, 0x0018 };
    static const guint16 sigalgs[] = { 0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501,
                                       0x0806, 0x0601 };
    GByteArray *b = g_byte_array_new();
    guint at;

    g_byte_array_append(b, (const guint8 *)"\x16\x03\x01\0\0\x01\0\0\0\x03\x03", 11);
    append_random(p, b, 32);
    g_byte_array_append(b, (const guint8 *)"\x20", 1);
    append_random(p, b, 32);
    append16(b, sizeof suites);
    for (guint i = 0; i < G_N_ELEMENTS(suites); i++)
        append16(b, suites[i]);
    g_byte_array_append(b, (const guint8 *)"\x01\x00", 2);
    guint ext = b->len;
    append16(b, 0);
    /* server_name */
    guint16 n = (guint16)strlen(sni);
    append16(b, 0x0000); append16(b, n + 5); append16(b, n + 3);
    g_byte_array_append(b, (const guint8 *)"\0", 1);
    append16(b, n);
    g_byte_array_append(b, (const guint8 *)sni, n);
    /* extended_master_secret, renegotiation_info */
    append16(b, 0x0017); append16(b, 0);
    append16(b, 0xff01); append16(b, 1); g_byte_array_append(b, (const guint8 *)"\0", 1);
    /* supported_groups */
    append16(b, 0x000a); append16(b, 2 + sizeof groups); append16(b, sizeof groups);
    for (guint i = 0; i < G_N_ELEMENTS(groups); i++)
        append16(b, groups[i]);
    /* ec_point_formats */
    append16(b, 0x000b); append16(b, 2); g_byte_array_append(b, (const guint8 *)"\x01\x00", 2);
    /* session_ticket */
    append16(b, 0x0023); append16(b, 0);
    /* ALPN: h2, http/1.1 */
    append16(b, 0x0010); append16(b, 14); append16(b, 12);
    g_byte_array_append(b, (const guint8 *)"\x02h2\x08http/1.1", 12);
    /* status_request */
    append16(b, 0x0005); append16(b, 5); g_byte_array_append(b, (const guint8 *)"\x01\0\0\0\0", 5);
    /* signature_algorithms */
    append16(b, 0x000d); append16(b, 2 + sizeof sigalgs); append16(b, sizeof sigalgs);
    for (guint i = 0; i < G_N_ELEMENTS(sigalgs); i++)
        append16(b, sigalgs[i]);
    /* key_share: x25519 */
    append16(b, 0x0033); append16(b, 38); append16(b, 36); append16(b, 0x001d); append16(b, 32);
    append_random(p, b, 32);
    /* psk_key_exchange_modes */
    append16(b, 0x002d); append16(b, 2); g_byte_array_append(b, (const guint8 *)"\x01\x01", 2);
    /* supported_versions: TLS 1.3, 1.2 */
    append16(b, 0x002b); append16(b, 5); g_byte_array_append(b, (const guint8 *)"\x04\x03\x04\x03\x03", 5);
    /* padding to a 512-byte ClientHello, as browsers do */
    if (b->len - 5 < 508) {
        guint pad = 508 - (b->len - 5);
        append16(b, 0x0015); append16(b, pad);
        for (guint i = 0; i < pad; i++)
            g_byte_array_append(b, (const guint8 *)"\0", 1);
    }
    close16(b, ext);
    close16(b, 3);
    at = b->len - 9;            /* handshake length, 24 bits */
    b->data[6] = (guint8)(at >> 16);
    b->data[7] = (guint8)(at >> 8);
    b->data[8] = (guint8)at;
    return b;
}

static GByteArray *
server_hello(Plan *p)
{
    GByteArray *b = g_byte_array_new();
    guint at;

    g_byte_array_append(b, (const guint8 *)"\x16\x03\x03\0\0\x02\0\0\0\x03\x03", 11);
    append_random(p, b, 32);
    g_byte_array_append(b, (const guint8 *)"\x20", 1);
    append_random(p, b, 32);
    append16(b, 0x1301);
    g_byte_array_append(b, (const guint8 *)"\0", 1);
    append16(b, 46);
    append16(b, 0x002b); append16(b, 2); append16(b, 0x0304);
    append16(b, 0x0033); append16(b, 36); append16(b, 0x001d); append16(b, 32);
    append_random(p, b, 32);
    close16(b, 3);
    at = b->len - 9;
    b->data[6] = (guint8)(at >> 16);
    b->data[7] = (guint8)(at >> 8);
    b->data[8] = (guint8)at;
    /* change_cipher_spec, for middlebox compatibility */
    g_byte_array_append(b, (const guint8 *)"\x14\x03\x03\x00\x01\x01", 6);
    return b;
}

/* Application data of LEN bytes as TLS records of at most 16 KiB. */
static void
add_tls_data(Session *s, int dir, guint32 len)
{
    while (len > 0) {
        guint32 n = MIN(len, 16384 + 17);
        add_tls(s, dir, 0x17, n);
        len -= n;
    }
}

static guint64
plan_tls(Plan *p, guint64 t, guint client, guint server)
{
    Session *s = new_session(p, S_TLS, client, server);
    Tcp c;

    s->sport = 443;
    tcp_open(&c, p, s, t);
    GByteArray *ch = client_hello(p, p->hosts[server].name);
    add_bytes(s, C2S, ch);
    g_byte_array_unref(ch);
    tcp_push(&c, C2S);

    c.t += s->rtt + rnd(p, 200, 8000);
    GByteArray *sh = server_hello(p);
    add_bytes(s, S2C, sh);
    g_byte_array_unref(sh);
    add_tls(s, S2C, 0x17, rnd(p, 1800, 5200));     /* certificates and Finished */
    tcp_push(&c, S2C);

    c.t += rnd(p, 500, 4000);
    add_chunk(s, C2S, CH_BYTES, 0, 6, (const guint8 *)"\x14\x03\x03\x00\x01\x01");
    add_tls(s, C2S, 0x17, 53);                       /* Finished */
    tcp_push(&c, C2S);

    for (guint k = 0, n = 1 + (guint)expo(p, 2.0); k < n && k < 20; k++) {
        c.t += rnd(p, 50, 500);
        add_tls_data(s, C2S, logu(p, 40, 1200));
        tcp_push(&c, C2S);
        tcp_wait_server(&c);
        add_tls_data(s, S2C, response_size(p));
        tcp_push(&c, S2C);
        c.t += expo(p, 1500000);
    }
    add_tls(s, C2S, 0x15, 19);                       /* close_notify */
    tcp_push(&c, C2S);
    tcp_close(&c);
    return c.t;
}

/* ---- HTTP ----------------------------------------------------------- */

static const char *const words[] = {
    "alpha", "bravo", "cargo", "delta", "ember", "forge", "grove", "harbor", "index",
    "jolly", "kite", "lumen", "maple", "nova", "orbit", "pixel", "quartz", "river",
    "solar", "tango", "umber", "vivid", "willow", "xenon", "yield", "zephyr",
};

static guint64
plan_http(Plan *p, guint64 t, guint client, guint server)
{
    static const char *const agents[] = {
        "Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0",
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/119.0.0.0 Safari/537.36",
        "curl/7.88.1", "Debian APT-HTTP/1.3 (2.6.1)",
    };
    Session *s = new_session(p, S_HTTP, client, server);
    const char *host = p->hosts[server].name;
    const char *agent = agents[rnd(p, 0, G_N_ELEMENTS(agents) - 1)];
    Tcp c;

    s->sport = 80;
    tcp_open(&c, p, s, t);
    for (guint k = 0, n = 1 + (guint)expo(p, 2.5); k < n && k < 30; k++) {
        gboolean post = chance(p, 0.08);
        guint32 form = post ? rnd(p, 20, 600) : 0;
        GString *req = g_string_new(NULL);
        g_string_append_printf(req, "%s /%s/%s%u.%s HTTP/1.1\r\nHost: %s\r\nUser-Agent: %s\r\n"
                               "Accept: */*\r\nAccept-Encoding: gzip, deflate\r\nConnection: keep-alive\r\n",
                               post ? "POST" : "GET", words[rnd(p, 0, G_N_ELEMENTS(words) - 1)],
                               words[rnd(p, 0, G_N_ELEMENTS(words) - 1)], rnd(p, 1, 9999),
                               post ? "php" : chance(p, 0.5) ? "html" : "bin", host, agent);
        if (post) {
            g_string_append_printf(req, "Content-Type: application/x-www-form-urlencoded\r\n"
                                   "Content-Length: %u\r\n\r\n", form);
            for (guint i = 0; i < form; i++)
                g_string_append_c(req, i % 8 == 7 ? '&' : "abcdefghijklmnop"[g_rand_int(p->r) & 15]);
        } else {
            g_string_append(req, "\r\n");
        }
        add_chunk(s, C2S, CH_BYTES, 0, (guint32)req->len, (const guint8 *)req->str);
        g_string_free(req, TRUE);
        c.t += rnd(p, 50, 500);
        tcp_push(&c, C2S);
        tcp_wait_server(&c);

        double u = unif(p);
        int status = u < 0.80 ? 200 : u < 0.93 ? 304 : 404;
        gboolean html = status == 404 || chance(p, 0.5);
        guint32 body = status == 304 ? 0 : status == 404 ? rnd(p, 150, 400) : response_size(p);
        GString *hdr = g_string_new(NULL);
        g_string_append_printf(hdr, "HTTP/1.1 %d %s\r\nDate: Tue, 14 Nov 2023 22:%02u:%02u GMT\r\n"
                               "Server: nginx/1.22.1\r\n",
                               status, status == 200 ? "OK" : status == 304 ? "Not Modified" : "Not Found",
                               rnd(p, 13, 59), rnd(p, 0, 59));
        if (status != 304)
            g_string_append_printf(hdr, "Content-Type: %s\r\nContent-Length: %u\r\n",
                                   html ? "text/html; charset=utf-8" : "application/octet-stream", body);
        g_string_append(hdr, "Connection: keep-alive\r\n\r\n");
        add_chunk(s, S2C, CH_BYTES, 0, (guint32)hdr->len, (const guint8 *)hdr->str);
        g_string_free(hdr, TRUE);
        if (body && html)
            add_text(s, S2C, body);
        else if (body)
            add_random(s, S2C, body);
        tcp_push(&c, S2C);
        c.t += expo(p, 1200000);
    }
    tcp_close(&c);
    return c.t;
}

/* ---- QUIC ----------------------------------------------------------- */

static void
quic_long(Session *s, int dir, guint8 type, guint32 total)
{
    GByteArray *b = g_byte_array_new();
    guint8 first = 0xc0 | (guint8)(type << 4) | 0x03;

    g_byte_array_append(b, &first, 1);
    append32(b, 1);
    g_byte_array_append(b, (const guint8 *)"\x08", 1);
    g_byte_array_append(b, s->cid[!dir], 8);
    g_byte_array_append(b, (const guint8 *)"\x08", 1);
    g_byte_array_append(b, s->cid[dir], 8);
    if (type == 0)
        g_byte_array_append(b, (const guint8 *)"\0", 1);   /* no token */
    guint32 rest = total - b->len - 2;
    append16(b, 0x4000 | rest);
    add_bytes(s, dir, b);
    add_random(s, dir, rest);
    g_byte_array_unref(b);
}

static void
quic_send(Plan *p, Session *s, guint64 *t, int dir, guint32 from)
{
    *t = emit(p, s, *t, K_UDP, dir, 0, 0, 0, from, s->end[dir] - from);
}

static guint64
plan_quic(Plan *p, guint64 t, guint client, guint server)
{
    Session *s = new_session(p, S_QUIC, client, server);
    guint32 rate = logu(p, 2e6, 40e6);
    guint32 from;

    s->sport = 443;
    from = s->end[C2S];
    quic_long(s, C2S, 0, rnd(p, 1200, 1252));       /* Initial */
    quic_send(p, s, &t, C2S, from);
    t += s->rtt + rnd(p, 200, 5000);
    from = s->end[S2C];
    quic_long(s, S2C, 0, 1200);
    quic_send(p, s, &t, S2C, from);
    for (guint i = 0, n = rnd(p, 1, 3); i < n; i++) {
        t += rnd(p, 50, 400);
        from = s->end[S2C];
        quic_long(s, S2C, 2, i + 1 < n ? 1200 : rnd(p, 200, 1200));   /* Handshake */
        quic_send(p, s, &t, S2C, from);
    }
    t += rnd(p, 500, 3000);
    from = s->end[C2S];
    quic_long(s, C2S, 2, rnd(p, 80, 120));
    quic_send(p, s, &t, C2S, from);

    for (guint k = 0, n = 1 + (guint)expo(p, 2.5); k < n && k < 30; k++) {
        t += rnd(p, 50, 500);
        from = add_chunk(s, C2S, CH_QUIC_SHORT, 0, logu(p, 60, 900), NULL);
        quic_send(p, s, &t, C2S, from);
        t += s->rtt + logu(p, 200, 100000);
        guint32 left = response_size(p), segs = 0, cwnd = 10;
        while (left > 0) {
            guint64 round = t;
            for (guint i = 0; i < cwnd && left > 0; i++) {
                guint32 dl = MIN(left + 30, rnd(p, 1200, 1350));
                left -= MIN(left, dl - 30);
                from = add_chunk(s, S2C, CH_QUIC_SHORT, 0, dl, NULL);
                quic_send(p, s, &t, S2C, from);
                guint64 sent_at = t;
                if (++segs % 2 == 0 || left == 0) {
                    t += rnd(p, 15, 200);
                    from = add_chunk(s, C2S, CH_QUIC_SHORT, 0, rnd(p, 33, 60), NULL);
                    quic_send(p, s, &t, C2S, from);
                }
                t = sent_at + (guint64)(dl + 50) * 1000000 / rate;
            }
            cwnd = MIN(cwnd * 2, 256);
            if (left > 0)
                t = MAX(t, round + s->rtt);
        }
        t += expo(p, 1500000);
    }
    return t;
}

/* ---- ICMP echo, ARP ------------------------------------------------- */

static guint64
plan_ping(Plan *p, guint64 t, guint client, guint server, guint count)
{
    Session *s = new_session(p, S_PING, client, server);

    s->cport = (guint16)g_rand_int(p->r);          /* echo identifier */
    for (guint i = 1; i <= count; i++) {
        t = emit(p, s, t, K_ICMP, C2S, 0, i, 0, 0, 56);
        t = emit(p, s, t + s->rtt, K_ICMP, S2C, 0, i, 0, 0, 56);
        t += 1000000 - s->rtt + rnd(p, 0, 2000);
    }
    return t;
}

static guint64
plan_arp(Plan *p, guint64 t, guint asker, guint target)
{
    Session *s = new_session(p, S_ARP, asker, target);
    t = emit(p, s, t, K_ARP, C2S, 0, 0, 0, 0, 0);
    return emit(p, s, t + rnd(p, 100, 2000), K_ARP, S2C, 0, 0, 0, 0, 0);
}

/* ---- the plan ------------------------------------------------------- */

static void
make_hosts(Plan *p, guint n, guint v6_percent)
{
    guint n_res = 4, n_srv = MAX(4, n / 10);
    guint counters[2][3] = { { 0 } };

    p->n_hosts = n;
    p->hosts = g_new0(Host, n);
    for (int f = 0; f < 2; f++) {
        p->clients[f] = g_array_new(FALSE, FALSE, sizeof(guint));
        p->servers[f] = g_array_new(FALSE, FALSE, sizeof(guint));
        p->resolvers[f] = g_array_new(FALSE, FALSE, sizeof(guint));
    }
    for (guint i = 0; i < n; i++) {
        Host *h = &p->hosts[i];
        int role = i < n_res ? 2 : i < n_res + n_srv ? 1 : 0;
        /* resolvers: two of each family; the rest by the IPv6 share, spread evenly */
        guint rank = role == 2 ? i : role == 1 ? i - n_res : i - n_res - n_srv;
        h->v6 = role == 2 ? (i & 1) : (rank * v6_percent % 100) + v6_percent >= 100;
        guint idx = ++counters[h->v6][role];
        guint8 net = role == 0 ? 1 : role == 1 ? 200 : 0;
        if (!h->v6) {
            guint32 a = (10u << 24) | ((guint32)net << 16) | (role == 2 ? (idx << 8 | 53) : 0);
            if (role != 2) {     /* skip .0 and .255 */
                guint k = idx - 1;
                a |= ((k / 254) & 0xff) << 8 | (k % 254 + 1);
                if (k / 254 > 255)
                    a += ((k / 254) >> 8) << 16;
            }
            put32(h->addr, a);
        } else {
            h->addr[0] = 0xfd;
            put16(h->addr + 6, role == 0 ? 1 : role == 1 ? 0x200 : 0x53);
            put32(h->addr + 12, role == 2 ? 0x53 + idx - 1 : idx);
        }
        h->mac[0] = 0x02;
        put32(h->mac + 2, i + 1);
        h->ip_id = (guint16)mix64(i * 7 + 1);
        GArray *list = role == 2 ? p->resolvers[h->v6] : role == 1 ? p->servers[h->v6] : p->clients[h->v6];
        g_array_append_val(list, i);
        if (role == 1)
            h->name = g_strdup_printf("%s%s%u.example.%s", chance(p, 0.5) ? "www." : chance(p, 0.5) ? "api." : "",
                                      words[mix64(i) % G_N_ELEMENTS(words)], i, chance(p, 0.7) ? "com" : "net");
    }
    for (int f = 0; f < 2; f++)
        if (!p->clients[f]->len || !p->servers[f]->len || !p->resolvers[f]->len) {
            fprintf(stderr, "gen-traffic: too few hosts for both address families (use -H 40 or more)\n");
            exit(2);
        }
}

static guint64
start_time(Plan *p)
{
    return (guint64)(unif(p) * (double)p->span * 0.97);
}

static void
plan(Plan *p, guint want)
{
    /* every host once: each client looks a name up, each server answers a ping */
    for (int f = 0; f < 2; f++) {
        for (guint i = 0; i < p->clients[f]->len; i++) {
            guint srv = pick_server(p, f);
            dns_lookup(p, start_time(p), g_array_index(p->clients[f], guint, i), p->hosts[srv].name, (int)srv);
        }
        for (guint i = 0; i < p->servers[f]->len; i++)
            plan_ping(p, start_time(p), pick(p, p->clients[f]), g_array_index(p->servers[f], guint, i), 1);
    }
    while (p->pkts->len < want) {
        gboolean v6 = chance(p, 0.3) ? p->clients[1]->len > 0 : p->clients[0]->len == 0;
        guint client = pick(p, p->clients[v6]), server = pick_server(p, v6);
        guint64 t = start_time(p);
        double u = unif(p);

        if (u < 0.40) {
            if (chance(p, 0.6))
                t = dns_lookup(p, t, client, p->hosts[server].name, (int)server) + rnd(p, 50, 500);
        }
        if (u < 0.40)
            plan_tls(p, t, client, server);
        else if (u < 0.52)
            plan_http(p, t, client, server);
        else if (u < 0.62)
            plan_quic(p, t, client, server);
        else if (u < 0.90) {
            if (chance(p, 0.9))
                dns_lookup(p, t, client, p->hosts[server].name, (int)server);
            else {
                char *nx = g_strdup_printf("%s%u.example.org", words[rnd(p, 0, G_N_ELEMENTS(words) - 1)], rnd(p, 1, 99999));
                dns_lookup(p, t, client, nx, -1);
                g_free(nx);
            }
        } else if (u < 0.95)
            plan_ping(p, t, client, server, rnd(p, 1, 5));
        else if (!v6)
            plan_arp(p, t, client, chance(p, 0.7) ? pick(p, p->resolvers[0]) : pick(p, p->clients[0]));
    }
}

static int
by_time(const void *a, const void *b)
{
    const Pkt *x = a, *y = b;
    if (x->t != y->t)
        return x->t < y->t ? -1 : 1;
    if (x->sess != y->sess)
        return x->sess < y->sess ? -1 : 1;
    return x->off < y->off ? -1 : x->off > y->off;
}

/* ---- writing -------------------------------------------------------- */

static void
le32(guint8 *p, guint32 v) { p[0] = (guint8)v; p[1] = (guint8)(v >> 8); p[2] = (guint8)(v >> 16); p[3] = (guint8)(v >> 24); }

static size_t
build(const Plan *p, const Pkt *k, guint8 *f)
{
    const Session *s = g_ptr_array_index(p->sessions, k->sess);
    Host *src = &p->hosts[k->dir == C2S ? s->client : s->server];
    Host *dst = &p->hosts[k->dir == C2S ? s->server : s->client];
    size_t l3 = 14, l4, len;
    guint8 proto;

    memcpy(f, dst->mac, 6);
    memcpy(f + 6, src->mac, 6);
    if (k->kind == K_ARP) {
        gboolean req = k->dir == C2S;
        Host *asker = &p->hosts[s->client], *target = &p->hosts[s->server];
        if (req)
            memset(f, 0xff, 6);
        put16(f + 12, 0x0806);
        memcpy(f + 14, "\x00\x01\x08\x00\x06\x04", 6);
        put16(f + 20, req ? 1 : 2);
        memcpy(f + 22, req ? asker->mac : target->mac, 6);
        memcpy(f + 28, req ? asker->addr : target->addr, 4);
        if (req)
            memset(f + 32, 0, 6);
        else
            memcpy(f + 32, asker->mac, 6);
        memcpy(f + 38, req ? target->addr : asker->addr, 4);
        if (req)
            return 42;
        memset(f + 42, 0, 18);  /* received frames carry the padding */
        return 60;
    }

    proto = k->kind == K_TCP ? 6 : k->kind == K_UDP ? 17 : s->v6 ? 58 : 1;
    l4 = l3 + (s->v6 ? 40 : 20);
    guint8 *t = f + l4;
    size_t hl;
    if (k->kind == K_TCP) {
        size_t opts = (k->flags & SYN) ? 20 : (k->flags & RST) ? 0 : 12;
        guint32 now_ms = (guint32)(k->t / 1000);
        hl = 20 + opts;
        put16(t, k->dir == C2S ? s->cport : s->sport);
        put16(t + 2, k->dir == C2S ? s->sport : s->cport);
        put32(t + 4, k->seq);
        put32(t + 8, k->ack);
        t[12] = (guint8)((hl / 4) << 4);
        t[13] = k->flags;
        put16(t + 14, (k->flags & SYN) ? (k->dir == C2S ? 64240 : 65160) : s->window[k->dir]);
        put16(t + 16, 0);
        put16(t + 18, 0);
        guint8 *o = t + 20;
        guint32 tsval = s->tsbase[k->dir] + now_ms;
        guint32 tsecr = (k->flags & SYN) && !(k->flags & ACK) ? 0
                      : s->tsbase[!k->dir] + now_ms - MIN(now_ms, s->rtt / 2000);
        if (k->flags & SYN) {
            o[0] = 2; o[1] = 4; put16(o + 2, s->v6 ? 1440 : 1460);
            o[4] = 4; o[5] = 2;
            o[6] = 8; o[7] = 10; put32(o + 8, tsval); put32(o + 12, tsecr);
            o[16] = 1; o[17] = 3; o[18] = 3; o[19] = 7;
        } else if (opts) {
            o[0] = 1; o[1] = 1; o[2] = 8; o[3] = 10;
            put32(o + 4, tsval); put32(o + 8, tsecr);
        }
        fill(p, s, k->dir, k->off, k->len, t + hl);
    } else if (k->kind == K_UDP) {
        hl = 8;
        put16(t, k->dir == C2S ? s->cport : s->sport);
        put16(t + 2, k->dir == C2S ? s->sport : s->cport);
        put16(t + 4, (guint)(8 + k->len));
        put16(t + 6, 0);
        fill(p, s, k->dir, k->off, k->len, t + hl);
    } else {                    /* echo, Linux ping style payload */
        hl = 8;
        t[0] = s->v6 ? (k->dir == C2S ? 128 : 129) : (k->dir == C2S ? 8 : 0);
        t[1] = 0;
        put16(t + 2, 0);
        put16(t + 4, s->cport);
        put16(t + 6, k->seq);
        guint64 when = EPOCH * 1000000 + k->t - (k->dir == S2C ? s->rtt : 0);
        le32(t + 8, (guint32)(when / 1000000));
        le32(t + 12, 0);
        le32(t + 16, (guint32)(when % 1000000));
        le32(t + 20, 0);
        for (guint i = 16; i < 56; i++)
            t[8 + i] = (guint8)i;
    }
    len = l4 + hl + k->len;

    size_t plen = len - l4;     /* L4 length */
    if (!s->v6) {
        guint8 *ip = f + l3;
        put16(f + 12, 0x0800);
        ip[0] = 0x45;
        ip[1] = 0;
        put16(ip + 2, (guint)(len - l3));
        put16(ip + 4, src->ip_id++);
        put16(ip + 6, 0x4000);
        ip[8] = k->dir == C2S ? 64 : s->ttl_s;
        ip[9] = proto;
        put16(ip + 10, 0);
        memcpy(ip + 12, src->addr, 4);
        memcpy(ip + 16, dst->addr, 4);
        put16(ip + 10, fold(sum16(ip, 20, 0)));
    } else {
        guint8 *ip = f + l3;
        put16(f + 12, 0x86dd);
        put32(ip, 0x60000000u | s->flow);
        put16(ip + 4, (guint)plen);
        ip[6] = proto;
        ip[7] = k->dir == C2S ? 64 : s->ttl_s;
        memcpy(ip + 8, src->addr, 16);
        memcpy(ip + 24, dst->addr, 16);
    }
    /* checksum with the pseudo-header (none for ICMPv4) */
    guint32 sum = 0;
    if (proto != 1) {
        size_t al = s->v6 ? 16 : 4;
        sum = sum16(src->addr, al, sum16(dst->addr, al, 0)) + proto + (guint32)plen;
    }
    guint16 c = fold(sum16(t, plen, sum));
    if (proto == 17 && c == 0)
        c = 0xffff;
    put16(t + (proto == 6 ? 16 : proto == 17 ? 6 : 2), c);
    return len;
}

/* ---- hostile mixes ---------------------------------------------------- */

/* One Ethernet/IPv4 frame, TCP (flags) or UDP with a few payload bytes,
 * checksums right. */
static size_t
build_simple(guint8 *f, guint32 src, guint32 dst, guint8 proto, guint16 sport, guint16 dport,
             guint8 tcp_flags, guint16 ip_id)
{
    size_t tl = proto == 6 ? 20 : 8 + 18, len = 14 + 20 + tl;
    guint8 *ip = f + 14, *t = ip + 20;

    memset(f, 0, len);
    memcpy(f, "\x02\0\0\0\0\x01\x02\0\0\0\0\x02\x08\x00", 14);
    ip[0] = 0x45;
    put16(ip + 2, (guint)(20 + tl));
    put16(ip + 4, ip_id);
    ip[8] = 64;
    ip[9] = proto;
    put32(ip + 12, src);
    put32(ip + 16, dst);
    put16(ip + 10, fold(sum16(ip, 20, 0)));
    put16(t, sport);
    put16(t + 2, dport);
    if (proto == 6) {
        put32(t + 4, (guint32)mix64(((guint64)src << 32) ^ sport));
        t[12] = 5 << 4;
        t[13] = tcp_flags;
        put16(t + 14, 64240);
    } else {
        put16(t + 4, (guint)tl);
        memcpy(t + 8, "trafan-bench-udp!!", 18);
    }
    guint32 sum = sum16(ip + 12, 8, 0) + proto + (guint32)tl;
    guint16 c = fold(sum16(t, tl, sum));
    put16(t + (proto == 6 ? 16 : 6), proto == 17 && c == 0 ? 0xffff : c);
    return len;
}

/* Captures that stress memory and the tree rather than look ordinary:
 *   flows     nearly every packet a new flow: 120,000 address pairs (95,000 of
 *             them used) among 4,000 hosts (scaled with -n), new ports each packet, TCP SYN
 *             and UDP;
 *   synflood  SYNs from 150,000 spoofed sources to 3 targets;
 *   udpconv   every packet a new UDP conversation (-n of them). */
static int
write_mix(const char *mix, guint n, guint64 seed, const char *out)
{
    FILE *f = fopen(out, "wb");
    guint8 hdr[24] = { 0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0 }, frame[128], rec[16];
    guint64 bytes = 0, t = EPOCH * 1000000;
    guint pairs = MAX(1u, (guint)((guint64)n * 120000 / 200000)), hosts = MAX(2u, (guint)((guint64)n * 4000 / 200000));

    if (!f) {
        fprintf(stderr, "gen-traffic: %s: %s\n", out, g_strerror(errno));
        return 1;
    }
    setvbuf(f, NULL, _IOFBF, 1 << 20);
    le32(hdr + 16, 262144);
    le32(hdr + 20, 1);
    fwrite(hdr, 1, sizeof hdr, f);
    for (guint i = 0; i < n; i++) {
        guint64 r = mix64(seed ^ i);
        size_t len;

        if (strcmp(mix, "flows") == 0) {
            guint pair = (guint)(r % pairs);
            guint32 a = 0x0a000000u + (guint32)(mix64(pair) % hosts), b = 0x0a000000u + (guint32)(mix64(pair + seed) % hosts);
            if (a == b)
                b = 0x0a000000u + (b + 1 - 0x0a000000u) % hosts;
            len = build_simple(frame, a, b, r & 1 ? 6 : 17, (guint16)(1024 + (r >> 8) % 60000),
                               (guint16)(r >> 32), 0x02, (guint16)i);
            t += 500 + (r >> 40) % 1000;                    /* about 1000 packets/s */
        } else if (strcmp(mix, "synflood") == 0) {
            guint32 src = 0x0b000000u + (guint32)((r >> 8) % 150000) * 97;
            len = build_simple(frame, src, 0xc0a80001u + (guint32)(r % 3), 6, (guint16)(1024 + (r >> 32) % 60000),
                               80, 0x02, (guint16)i);
            t += 50 + (r >> 40) % 100;                      /* about 10,000 SYNs/s */
        } else if (strcmp(mix, "udpconv") == 0) {
            len = build_simple(frame, 0x0a000000u + i % 65536, 0xac100000u + i / 65536, 17,
                               (guint16)(1024 + r % 60000), 53, 0, (guint16)i);
            t += 50 + (r >> 40) % 100;
        } else {
            fprintf(stderr, "gen-traffic: unknown mix \"%s\" (flows, synflood, udpconv)\n", mix);
            fclose(f);
            return 2;
        }
        le32(rec, (guint32)(t / 1000000));
        le32(rec + 4, (guint32)(t % 1000000));
        le32(rec + 8, (guint32)len);
        le32(rec + 12, (guint32)len);
        fwrite(rec, 1, 16, f);
        fwrite(frame, 1, len, f);
        bytes += len;
    }
    if (fclose(f) != 0) {
        fprintf(stderr, "gen-traffic: %s: %s\n", out, g_strerror(errno));
        return 1;
    }
    printf("packets %u\nbytes %" G_GUINT64_FORMAT "\nspan_s %.1f\nmix %s\n", n, bytes,
           (double)(t - EPOCH * 1000000) / 1e6, mix);
    return 0;
}

int
main(int argc, char **argv)
{
    gint packets = 200000, hosts = 2000, seconds = 180, v6 = 30;
    gint64 seed = 1;
    char *out = NULL, *mix = NULL;
    GOptionEntry entries[] = {
        { "mix", 'm', 0, G_OPTION_ARG_STRING, &mix, "a hostile mix instead: flows, synflood or udpconv", "NAME" },
        { "packets", 'n', 0, G_OPTION_ARG_INT, &packets, "packets to write (default 200000)", "N" },
        { "hosts", 'H', 0, G_OPTION_ARG_INT, &hosts, "IP addresses (default 2000)", "N" },
        { "seconds", 'd', 0, G_OPTION_ARG_INT, &seconds, "time span (default 180)", "S" },
        { "seed", 's', 0, G_OPTION_ARG_INT64, &seed, "PRNG seed (default 1)", "N" },
        { "ipv6", '6', 0, G_OPTION_ARG_INT, &v6, "IPv6 share of hosts, percent (default 30)", "P" },
        { "output", 'o', 0, G_OPTION_ARG_FILENAME, &out, "pcap file to write", "FILE" },
        { NULL }
    };
    GOptionContext *ctx = g_option_context_new("- write a synthetic benchmark capture");
    GError *error = NULL;

    g_option_context_add_main_entries(ctx, entries, NULL);
    if (!g_option_context_parse(ctx, &argc, &argv, &error)) {
        fprintf(stderr, "gen-traffic: %s\n", error->message);
        return 2;
    }
    if (mix && out && packets >= 1)
        return write_mix(mix, (guint)packets, mix64((guint64)seed), out);
    if (!out || packets < 1 || hosts < 40 || seconds < 1 || v6 < 1 || v6 > 99) {
        fprintf(stderr, "gen-traffic: need -o FILE, -n >= 1, -H >= 40, -d >= 1, 1 <= -6 <= 99\n");
        return 2;
    }

    Plan p = { 0 };
    p.r = g_rand_new_with_seed((guint32)seed);
    p.seed = mix64((guint64)seed);
    p.span = (guint64)seconds * 1000000;
    p.sessions = g_ptr_array_new();
    p.pkts = g_array_sized_new(FALSE, FALSE, sizeof(Pkt), (guint)packets + 4096);
    make_hosts(&p, (guint)hosts, (guint)v6);
    plan(&p, (guint)packets);
    g_array_set_size(p.pkts, (guint)packets);       /* the last session is cut short */
    qsort(p.pkts->data, p.pkts->len, sizeof(Pkt), by_time);

    FILE *f = fopen(out, "wb");
    if (!f) {
        fprintf(stderr, "gen-traffic: %s: %s\n", out, g_strerror(errno));
        return 1;
    }
    setvbuf(f, NULL, _IOFBF, 1 << 20);
    guint8 hdr[24] = { 0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0 };
    le32(hdr + 16, 262144);
    le32(hdr + 20, 1);
    fwrite(hdr, 1, sizeof hdr, f);

    guint8 *seen = g_new0(guint8, (gsize)hosts);
    guint64 prev = 0, bytes = 0, n_v6 = 0, by_kind[4] = { 0 }, small = 0, full = 0;
    guint8 frame[2048];
    for (guint i = 0; i < p.pkts->len; i++) {
        Pkt *k = &g_array_index(p.pkts, Pkt, i);
        const Session *s = g_ptr_array_index(p.sessions, k->sess);
        guint64 t = MAX(k->t, i ? prev + 1 : 0);
        size_t len = build(&p, k, frame);
        guint8 rec[16];

        g_assert(len <= 1514);
        prev = t;
        t += EPOCH * 1000000;
        le32(rec, (guint32)(t / 1000000));
        le32(rec + 4, (guint32)(t % 1000000));
        le32(rec + 8, (guint32)len);
        le32(rec + 12, (guint32)len);
        fwrite(rec, 1, 16, f);
        fwrite(frame, 1, len, f);
        bytes += len;
        by_kind[k->kind]++;
        small += len >= 60 && len <= 100;
        full += len >= 1400;
        if (k->kind != K_ARP) {
            seen[s->client] = seen[s->server] = 1;
            n_v6 += s->v6;
        }
    }
    if (fclose(f) != 0) {
        fprintf(stderr, "gen-traffic: %s: %s\n", out, g_strerror(errno));
        return 1;
    }

    guint n_seen[2] = { 0, 0 };
    for (guint i = 0; i < (guint)hosts; i++)
        n_seen[p.hosts[i].v6] += seen[i];
    printf("packets %u\nhosts %u\nipv4_hosts %u\nipv6_hosts %u\n", p.pkts->len,
           n_seen[0] + n_seen[1], n_seen[0], n_seen[1]);
    printf("bytes %" G_GUINT64_FORMAT "\nspan_s %.1f\n", bytes, prev / 1e6);
    printf("ipv6_packets %" G_GUINT64_FORMAT "\ntcp %" G_GUINT64_FORMAT "\nudp %" G_GUINT64_FORMAT
           "\nicmp %" G_GUINT64_FORMAT "\narp %" G_GUINT64_FORMAT "\n",
           n_v6, by_kind[K_TCP], by_kind[K_UDP], by_kind[K_ICMP], by_kind[K_ARP]);
    printf("frames_60_100 %" G_GUINT64_FORMAT "\nframes_1400_plus %" G_GUINT64_FORMAT "\n", small, full);
    return 0;
}
