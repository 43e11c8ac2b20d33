/* brute_force — many short, alike logins from one source to one
 * authentication service.
 *
 * Anchor: Zeek's ssh/detect-bruteforcing and ftp/detect-bruteforcing (30
 * failed logins in 30 minutes).  SSH hides its outcome, so the attempt is
 * read from the connection's shape, as for every service here: a handshake
 * the server answered, a short exchange (a failed login is closed after a
 * few packets; a working session goes on), and about the same bytes each
 * time (the same dialogue with another password: attempts within a
 * tolerance of the median attempt's size).  A monitoring check once
 * a minute also makes 30 connections in 30 minutes, so attempts must also
 * come faster than brute_force_min_rate.  The server answering is never the
 * attacker: the source is whoever sent the SYNs.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <math.h>

#include "rule.h"

static int
u64_compare(gconstpointer a, gconstpointer b)
{
    guint64 x = *(const guint64 *)a, y = *(const guint64 *)b;
    return x < y ? -1 : x > y;
}

typedef struct {
    guint  brute_force_attempts;
    double brute_force_window;
    double brute_force_min_rate;
    guint  brute_force_max_packets;
    double brute_force_size_tolerance;
    char   brute_force_ports[TRAFAN_OPTION_TEXT_MAX];
} Config;

static const TrafanDetectOption options[] = {
    TRAFAN_OPTION(Config, brute_force_attempts, UINT, "Brute force: attempts",
        "Short, alike connections from one source to one authentication service that make a brute-force attack; default 30, as Zeek's detect-bruteforcing",
        "30", 2, 4294967295.0),
    TRAFAN_OPTION(Config, brute_force_window, DOUBLE, "Brute force: window (s)",
        "Window for brute_force; default 1800 s, as Zeek's detect-bruteforcing",
        "1800", 0.001, 86400),
    TRAFAN_OPTION(Config, brute_force_min_rate, DOUBLE, "Brute force: rate (/s)",
        "Attempts per second (over their span) below which the connections are a slow poller, such as a monitoring check, not a guesser; default 0.1 (6 a minute)",
        "0.1", 0, 1e9),
    TRAFAN_OPTION(Config, brute_force_max_packets, UINT, "Brute force: packets per attempt",
        "Most packets (both ways) of a connection that counts as one login attempt; default 60, while a failed SSH login takes about 20 and an FTP one about 12",
        "60", 4, 4294967295.0),
    TRAFAN_OPTION(Config, brute_force_size_tolerance, DOUBLE, "Brute force: size tolerance",
        "Attempts are alike when the bytes the source sends differ from the median attempt's by at most this share; default 0.25, as guesses repeat one dialogue (a few probe connections of another size do not count)",
        "0.25", 0, 10),
    TRAFAN_OPTION_PORTS(Config, brute_force_ports, "Brute force: services",
        "TCP ports of authentication services; default ftp 21, ssh 22 and 2222, telnet 23, smtp 25/465/587, pop3 110/995, imap 143/993, VMware authd 902, mssql 1433, mysql 3306, rdp 3389, postgresql 5432, vnc 5900",
        "21;22;23;25;110;143;465;587;902;993;995;1433;2222;3306;3389;5432;5900"),
};

/* Key (client, server, 6, service port); items are client ports. */
typedef struct {
    TrafanDistinct started;     /* connections: the client's SYNs */
    TrafanDistinct accepted;    /* the server's SYN-ACKs */
    TrafanDistinct packets;     /* packets per connection, both ways */
    TrafanDistinct sent;        /* bytes the client sent per connection */
    gint64         first, last;
} Agg;

static const TrafanAggField fields[] = {
    TRAFAN_AGG_FIELD(DISTINCT, Agg, started),
    TRAFAN_AGG_FIELD(DISTINCT, Agg, accepted),
    TRAFAN_AGG_FIELD(DISTINCT, Agg, packets),
    TRAFAN_AGG_FIELD(DISTINCT, Agg, sent),
    TRAFAN_AGG_FIELD(FIRST, Agg, first),
    TRAFAN_AGG_FIELD(LAST, Agg, last),
};
static const TrafanAggClass agg_class = TRAFAN_AGG_CLASS(Agg, fields);

static gpointer
setup(const TrafanRuleCtx *ctx)
{
    const Config *c = ctx->config;
    return trafan_port_set_new(c->brute_force_ports);
}

static void
observe(TrafanRuleCtx *ctx, const TrafanEvent *ev)
{
    const TrafanPortSet *services = ctx->data;
    gboolean to_server = trafan_port_set_has(services, ev->dport);
    if (!to_server && !trafan_port_set_has(services, ev->sport))
        return;
    guint f = ev->tcp_flags;
    guint cap = trafan_exact_cap(ctx);
    const TrafanAddress *client = to_server ? ev->src : ev->dst, *server = to_server ? ev->dst : ev->src;
    TrafanKey k = trafan_key(client, server, 6, to_server ? ev->dport : ev->sport);
    TrafanAddress conn = trafan_port_item(6, to_server ? ev->sport : ev->dport);

    TRAFAN_EACH_SLOT(ctx, &k, Agg, a) {
        gboolean syn = f & TRAFAN_TCP_SYN, ack = f & TRAFAN_TCP_ACK;
        if (syn && !ack && to_server) {
            trafan_distinct_add(&a->started, &conn, 1, cap);
            a->first = MIN(a->first, ev->t);
            a->last = MAX(a->last, ev->t);
        } else if (syn && ack && !to_server) {
            trafan_distinct_add(&a->accepted, &conn, 1, cap);
        }
        trafan_distinct_add(&a->packets, &conn, 1, cap);
        if (to_server)
            trafan_distinct_add(&a->sent, &conn, ev->bytes, cap);
    }
}

static void
judge(TrafanRuleCtx *ctx, const TrafanKey *key, gconstpointer agg)
{
    const Agg *a = agg;
    const Config *c = ctx->config;
    if (a->first > a->last || trafan_distinct_count(&a->started) < c->brute_force_attempts)
        return;

    /* Attempts: connections started and answered here, and short. */
    GPtrArray *started = trafan_distinct_tallies(&a->started);
    GArray *sizes = g_array_new(FALSE, FALSE, sizeof(guint64));
    for (guint i = 0; i < started->len; i++) {
        const TrafanAddress *conn = &((const TrafanTally *)started->pdata[i])->item;
        if (!trafan_distinct_contains(&a->accepted, conn) ||
            trafan_distinct_get(&a->packets, conn) > c->brute_force_max_packets)
            continue;
        guint64 sent = trafan_distinct_get(&a->sent, conn);
        g_array_append_val(sizes, sent);
    }
    g_ptr_array_unref(started);

    /* Alike: within the tolerance of the median attempt. */
    guint64 alike = 0;
    double median = 0;
    if (sizes->len) {
        g_array_sort(sizes, u64_compare);
        median = g_array_index(sizes, guint64, sizes->len / 2);
        for (guint i = 0; i < sizes->len; i++)
            alike += fabs(g_array_index(sizes, guint64, i) - median) <= c->brute_force_size_tolerance * median;
    }
    g_array_unref(sizes);
    double span = MAX(a->last - a->first, 1) / TRAFAN_NS_PER_S;
    if (alike < c->brute_force_attempts || alike / span < c->brute_force_min_rate)
        return;

    char src[TRAFAN_ADDRSTRLEN], dst[TRAFAN_ADDRSTRLEN], dur[48], win[48], size[48];
    TrafanVerdict v = {
        .host = key->a, .role = TRAFAN_ROLE_SOURCE,
        .start = a->first, .end = a->last,
        .observed = alike, .threshold = c->brute_force_attempts,
        .approximate = trafan_distinct_approximate(&a->started),
        .n_peers = 1, .peers_total = 1,
    };
    v.peers[0].item = key->b;
    v.peers[0].count = alike;
    trafan_addr_text(&key->a, src);
    trafan_addr_text(&key->b, dst);
    v.detail = g_strdup_printf("made %" G_GUINT64_FORMAT " short, alike login attempts (about %s sent "
                               "each) to %s tcp/%u in %s (threshold %u in %s)", alike,
                               trafan_fmt_bytes(size, median), dst, key->port,
                               trafan_fmt_secs(dur, a->last - a->first), c->brute_force_attempts,
                               trafan_fmt_secs(win, ctx->window_ns));
    v.clause = g_strdup_printf("%s.src==%s && %s.dst==%s && tcp.dstport==%u && "
                               "tcp.flags.syn==1 && tcp.flags.ack==0", trafan_ipf(&key->a), src,
                               trafan_ipf(&key->b), dst, key->port);
    v.broad = g_strdup_printf("%s.src==%s && tcp.flags.syn==1 && tcp.flags.ack==0", trafan_ipf(&key->a), src);
    trafan_emit(ctx, &v);
}

const TrafanRule trafan_rule_brute_force = {
    .name = "brute_force",
    .anchor = "Zeek ssh/ftp detect-bruteforcing (30 failed logins in 30 min)",
    .options = options, .n_options = G_N_ELEMENTS(options), .config_size = sizeof(Config),
    .events = TRAFAN_EVENT_BIT(TRAFAN_EV_TCP),
    .setup = setup, .observe = observe,
    .source_peers = "servers in all",
    .window_option = "brute_force_window", .agg = &agg_class, .judge = judge,
};


