/* beacon — one source checking in with one destination and port at
 * near-constant intervals, with near-constant sizes, where few other hosts
 * go the same way.
 *
 * Anchor: RITA's beacon analysis: timing regularity (here the coefficient
 * of variation of the intervals between check-ins), size regularity, and
 * prevalence (a destination most hosts use is a shared service, a C2
 * address is contacted by one or two).  A check-in is a new connection or
 * a burst after an idle gap, so a beacon inside one long-lived TLS or QUIC
 * flow counts too.  Services polled periodically by design (DNS, NTP, mDNS,
 * SSDP, NetBIOS) are no C2 channel at the IP level, and a source regular
 * with more than a couple of destinations is a scheduler (a monitoring
 * server), not an implant.  Clockwork timing stands without the size test:
 * an implant that fetches tasks varies its sizes, not its sleep.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <math.h>
#include <string.h>

#include "rule.h"

typedef struct {
    guint  beacon_min_count;
    double beacon_max_cv;
    double beacon_max_size_cv;
    double beacon_min_interval;
    guint  beacon_max_sources;
    guint  beacon_max_destinations;
    double beacon_exact_cv;
    char   beacon_exempt_ports[TRAFAN_OPTION_TEXT_MAX];
} Config;

static const TrafanDetectOption options[] = {
    TRAFAN_OPTION(Config, beacon_min_count, UINT, "Beacon: check-ins",
        "Check-ins (a new TCP connection, or a burst after beacon_min_interval idle) from one source to one destination and port needed for a beacon; default 10",
        "10", 3, 4294967295.0),
    TRAFAN_OPTION(Config, beacon_max_cv, DOUBLE, "Beacon: timing jitter",
        "Largest coefficient of variation (sd / mean) of the intervals between check-ins; default 0.2, while human-driven traffic is near 1 (timing alone does not tell an implant from a poller: size, prevalence and service do)",
        "0.2", 0, 10),
    TRAFAN_OPTION(Config, beacon_max_size_cv, DOUBLE, "Beacon: size jitter",
        "Largest coefficient of variation of the bytes the source sends per check-in; default 0.5, as an implant's check-ins are nearly the same size while polled content varies",
        "0.5", 0, 10),
    TRAFAN_OPTION(Config, beacon_min_interval, DOUBLE, "Beacon: minimum interval (s)",
        "Smallest mean interval of a beacon, and the idle gap that starts a new burst; default 2 s, to leave out bursts, retries and scripted logins (C2 implants sleep seconds to minutes)",
        "2", 0.000001, 86400),
    TRAFAN_OPTION(Config, beacon_max_sources, UINT, "Beacon: prevalence",
        "Most sources that may check in with the same destination and port: more make it a shared service (a resolver, a collector, an update server); default 2, as RITA scores prevalence",
        "2", 1, 4294967295.0),
    TRAFAN_OPTION(Config, beacon_max_destinations, UINT, "Beacon: destinations",
        "Most destinations one source may check in with regularly: more make it a scheduler (a monitoring server, a backup agent), while an implant talks to one or two C2 addresses; default 2",
        "2", 1, 4294967295.0),
    TRAFAN_OPTION(Config, beacon_exact_cv, DOUBLE, "Beacon: clockwork timing",
        "Timing jitter (CV) at or below which the check-ins are a machine's clock whatever their sizes (an implant that also fetches tasks); default 0.05",
        "0.05", 0, 10),
    TRAFAN_OPTION_PORTS(Config, beacon_exempt_ports, "Beacon: exempt ports",
        "Ports of services polled periodically by design, never a beacon at the IP level; default 53;123;137;138;1900;5353 (DNS, NTP, NetBIOS, SSDP, mDNS)",
        "53;123;137;138;1900;5353"),
};

#ifdef __SIZEOF_INT128__
typedef unsigned __int128 Square;   /* exact sums of squares */
#else
typedef long double Square;
#endif

/* Key (source, destination, protocol, port). */
typedef struct {
    guint64 n;                  /* check-ins */
    gint64  first_event, second_event, last_event, last_packet;
    guint16 first_sport;        /* of the first check-in, if a SYN */
    guint16 last_sport;         /* of the last SYN, 0 if none */
    guint64 sum_us;             /* intervals between check-ins, in microseconds */
    Square  sumsq_us;
    guint64 first_burst, burst; /* bytes of the first and of the current burst */
    guint64 size_sum;           /* bytes of the bursts before the current one */
    Square  size_sumsq;
} Beacon;

/* A table entry: one allocation, freed through its key. */
typedef struct {
    TrafanKey key;
    Beacon    beacon;
} Entry;

typedef struct {
    GHashTable *beacons;        /* TrafanKey -> Beacon, both in one Entry */
    TrafanKey   recent_key;     /* a flow's packets come in runs */
    Beacon     *recent;
    gint64      gap_ns;
} State;

static int
key_ptr_compare(gconstpointer a, gconstpointer b)
{
    return memcmp(*(const TrafanKey *const *)a, *(const TrafanKey *const *)b, sizeof(TrafanKey));
}

static Beacon *
beacon_insert(State *s, const TrafanKey *key, const Beacon *init)
{
    Entry *e = g_new(Entry, 1);
    e->key = *key;
    e->beacon = *init;
    g_hash_table_insert(s->beacons, &e->key, &e->beacon);
    return &e->beacon;
}

static gpointer
new_state(const TrafanRuleCtx *ctx)
{
    const Config *c = ctx->config;
    State *s = g_new0(State, 1);
    s->beacons = g_hash_table_new_full(trafan_key_hash, trafan_key_equal, g_free, NULL);
    s->gap_ns = trafan_seconds_ns(c->beacon_min_interval);
    return s;
}

static void
free_state(gpointer p)
{
    State *s = p;
    g_hash_table_unref(s->beacons);
    g_free(s);
}

static void
add_interval(Beacon *b, gint64 from, gint64 to, int sign)
{
    guint64 us = to > from ? (guint64)((to - from) / 1000) : 0;  /* slices out of order */
    if (sign > 0) {
        b->sum_us += us;
        b->sumsq_us += (Square)us * us;
    } else {
        b->sum_us -= us;
        b->sumsq_us -= (Square)us * us;
    }
}

static void
add_size(Beacon *b, guint64 bytes, int sign)
{
    if (sign > 0) {
        b->size_sum += bytes;
        b->size_sumsq += (Square)bytes * bytes;
    } else {
        b->size_sum -= bytes;
        b->size_sumsq -= (Square)bytes * bytes;
    }
}

static void
check_in(Beacon *b, gint64 t, guint16 syn_sport)
{
    if (b->n == 0) {
        b->first_event = t;
        b->first_sport = syn_sport;
    } else {
        add_interval(b, b->last_event, t, +1);
        add_size(b, b->burst, +1);
        if (b->n == 1) {
            b->second_event = t;
            b->first_burst = b->burst;
        }
        b->burst = 0;
    }
    b->n++;
    b->last_event = t;
}

static void
observe(TrafanRuleCtx *ctx, const TrafanEvent *ev)
{
    State *s = ctx->state;
    gboolean syn = FALSE;

    if (ev->link_group)
        return;                 /* announcements to a subnet, not a C2 channel */

    if (ev->kind == TRAFAN_EV_TCP) {
        guint f = ev->tcp_flags;
        syn = (f & (TRAFAN_TCP_SYN | TRAFAN_TCP_ACK | TRAFAN_TCP_RST)) == TRAFAN_TCP_SYN;
        /* The client's side of a connection: its SYN, then what it sends to the lower port. */
        if (!syn && ((f & (TRAFAN_TCP_SYN | TRAFAN_TCP_RST)) || ev->dport >= ev->sport))
            return;
    } else if (ev->udp_response) {
        return;
    }
    TrafanKey k = trafan_key(ev->src, ev->dst, ev->proto, ev->dport);
    Beacon *b = s->recent;
    if (b == NULL || memcmp(&s->recent_key, &k, sizeof k) != 0) {
        b = g_hash_table_lookup(s->beacons, &k);
        if (b == NULL) {
            if (!trafan_rule_may_track(ctx, g_hash_table_size(s->beacons)))
                return;
            b = beacon_insert(s, &k, &(Beacon){ 0 });
        }
        s->recent_key = k;
        s->recent = b;
    }
    /* A SYN from a new port is a check-in, a retransmitted one never is. */
    if (b->n == 0 || (syn ? ev->sport != b->last_sport : ev->t - b->last_packet >= s->gap_ns))
        check_in(b, ev->t, syn ? ev->sport : 0);
    if (syn)
        b->last_sport = ev->sport;
    b->burst += ev->bytes;
    b->last_packet = ev->t;
}

/* Fold `later` (the same key in the next slice) into b. */
static void
merge_beacon(const State *s, Beacon *b, const Beacon *later)
{
    gboolean first_is_event = later->first_sport ? later->first_sport != b->last_sport
                                                 : later->first_event - b->last_packet >= s->gap_ns;
    Beacon m = *b;

    m.sum_us += later->sum_us;
    m.sumsq_us += later->sumsq_us;
    m.size_sum += later->size_sum;
    m.size_sumsq += later->size_sumsq;
    if (first_is_event) {
        add_interval(&m, b->last_event, later->first_event, +1);
        add_size(&m, b->burst, +1);
        m.n += later->n;
        if (b->n == 1) {
            m.second_event = later->first_event;
            m.first_burst = b->burst;
        }
        m.burst = later->burst;
    } else {
        /* later's first burst continues b's last one. */
        m.n += later->n - 1;
        guint64 joined = b->burst + later->first_burst;
        if (later->n >= 2) {
            add_interval(&m, later->first_event, later->second_event, -1);
            add_interval(&m, b->last_event, later->second_event, +1);
            add_size(&m, later->first_burst, -1);
            add_size(&m, joined, +1);
            if (b->n == 1) {
                m.second_event = later->second_event;
                m.first_burst = joined;
            }
            m.burst = later->burst;
        } else {
            m.burst = b->burst + later->burst;
        }
    }
    if (m.n > b->n)
        m.last_event = later->last_event;
    m.last_sport = later->last_sport ? later->last_sport : b->last_sport;
    m.last_packet = later->last_packet;
    *b = m;
}

static void
merge(TrafanRuleCtx *ctx, gpointer state, gconstpointer later_state)
{
    State *s = state;
    const State *later = later_state;
    GHashTableIter it;
    gpointer k, v;

    s->recent = NULL;
    g_hash_table_iter_init(&it, later->beacons);
    while (g_hash_table_iter_next(&it, &k, &v)) {
        Beacon *mine = g_hash_table_lookup(s->beacons, k);
        if (mine)
            merge_beacon(s, mine, v);
        else if (trafan_rule_may_track(ctx, g_hash_table_size(s->beacons)))
            beacon_insert(s, k, v);
    }
}

/* Sources checking in with each (destination, protocol, port). */
static GHashTable *
prevalence(const State *s)
{
    GHashTable *sources = g_hash_table_new_full(trafan_key_hash, trafan_key_equal, g_free, NULL);
    GHashTableIter it;
    gpointer k;
    g_hash_table_iter_init(&it, s->beacons);
    while (g_hash_table_iter_next(&it, &k, NULL)) {
        const TrafanKey *key = k;
        TrafanKey service = trafan_key(&key->b, NULL, key->proto, key->port);
        guint n = GPOINTER_TO_UINT(g_hash_table_lookup(sources, &service));
        g_hash_table_replace(sources, g_memdup2(&service, sizeof service), GUINT_TO_POINTER(n + 1));
    }
    return sources;
}

/* A (source, destination, port) whose check-ins pass every test but the
 * count of destinations per source. */
typedef struct {
    const TrafanKey *key;
    const Beacon    *b;
    guint            sources;
    double           mean, cv, size_mean, size_cv;
} Candidate;

static gboolean
regular(const TrafanRuleCtx *ctx, const TrafanKey *key, const Beacon *b, guint sources, Candidate *out)
{
    const Config *c = ctx->config;
    if (b->n < c->beacon_min_count || sources > c->beacon_max_sources ||
        trafan_port_listed(c->beacon_exempt_ports, key->port))
        return FALSE;
    *out = (Candidate){ .key = key, .b = b, .sources = sources };
    out->cv = trafan_cv(b->n - 1, b->sum_us, (double)b->sumsq_us, &out->mean);
    /* Sizes: the bursts so far and the current one. */
    double size_sumsq = (double)(b->size_sumsq + (Square)b->burst * b->burst);
    out->size_cv = trafan_cv(b->n, b->size_sum + b->burst, size_sumsq, &out->size_mean);
    return out->mean >= c->beacon_min_interval * 1e6 && out->cv <= c->beacon_max_cv &&
           (out->size_cv <= c->beacon_max_size_cv || out->cv <= c->beacon_exact_cv);
}

static void
judge_one(TrafanRuleCtx *ctx, const Candidate *k)
{
    const Config *c = ctx->config;
    const TrafanKey *key = k->key;
    const Beacon *b = k->b;
    char src[TRAFAN_ADDRSTRLEN], dst[TRAFAN_ADDRSTRLEN], every[G_ASCII_DTOSTR_BUF_SIZE];
    char cv_text[G_ASCII_DTOSTR_BUF_SIZE], size_cv_text[G_ASCII_DTOSTR_BUF_SIZE];
    char max_cv[G_ASCII_DTOSTR_BUF_SIZE], span[48], size[48];
    const char *proto = key->proto == 6 ? "tcp" : "udp";
    TrafanVerdict v = {
        .host = key->a, .role = TRAFAN_ROLE_SOURCE,
        .start = b->first_event, .end = b->last_event, .window_ns = 0,
        .observed = b->n, .threshold = c->beacon_min_count, .n_peers = 1, .peers_total = 1,
    };
    v.peers[0].item = key->b;
    v.peers[0].count = b->n;
    trafan_addr_text(&key->a, src);
    trafan_addr_text(&key->b, dst);
    trafan_fmt_number(every, sizeof every, k->mean / 1e6);
    g_ascii_formatd(cv_text, sizeof cv_text, "%.2f", k->cv);
    g_ascii_formatd(size_cv_text, sizeof size_cv_text, "%.2f", k->size_cv);
    g_ascii_formatd(max_cv, sizeof max_cv, "%g", c->beacon_max_cv);
    v.detail = g_strdup_printf("checked in with %s %s/%u %" G_GUINT64_FORMAT " times, every %s s "
                               "(CV %s), about %s each (CV %s), over %s; %u source%s it "
                               "(threshold %u times, CV <= %s)", dst, proto, key->port, b->n, every,
                               cv_text, trafan_fmt_bytes(size, k->size_mean), size_cv_text,
                               trafan_fmt_secs(span, b->last_event - b->first_event), k->sources,
                               k->sources == 1 ? " uses" : "s use", c->beacon_min_count, max_cv);
    v.clause = g_strdup_printf("%s.src==%s && %s.dst==%s && %s.dstport==%u", trafan_ipf(&key->a), src,
                               trafan_ipf(&key->b), dst, proto, key->port);
    v.broad = g_strdup_printf("%s.src==%s", trafan_ipf(&key->a), src);
    trafan_emit(ctx, &v);
}

static void
judge(TrafanRuleCtx *ctx, gboolean so_far)
{
    const Config *c = ctx->config;
    State *s = ctx->state;
    GHashTable *sources = prevalence(s);
    GHashTable *per_source = g_hash_table_new(trafan_item_hash, trafan_item_equal);
    GArray *candidates = g_array_new(FALSE, FALSE, sizeof(Candidate));
    GHashTableIter it;
    gpointer k, v;
    (void)so_far;               /* the series so far is enough to alert */
    g_hash_table_iter_init(&it, s->beacons);
    while (g_hash_table_iter_next(&it, &k, &v)) {
        const TrafanKey *key = k;
        TrafanKey service = trafan_key(&key->b, NULL, key->proto, key->port);
        Candidate cand;
        if (!regular(ctx, key, v, GPOINTER_TO_UINT(g_hash_table_lookup(sources, &service)), &cand))
            continue;
        g_array_append_val(candidates, cand);
        guint n = GPOINTER_TO_UINT(g_hash_table_lookup(per_source, &key->a));
        g_hash_table_replace(per_source, (gpointer)&key->a, GUINT_TO_POINTER(n + 1));
    }
    /* A source regular with many destinations is a scheduler. */
    for (guint i = 0; i < candidates->len; i++) {
        const Candidate *cand = &g_array_index(candidates, Candidate, i);
        if (GPOINTER_TO_UINT(g_hash_table_lookup(per_source, &cand->key->a)) <= c->beacon_max_destinations)
            judge_one(ctx, cand);
    }
    g_array_unref(candidates);
    g_hash_table_unref(per_source);
    g_hash_table_unref(sources);
}

static gsize
bytes(gconstpointer state)
{
    const State *s = state;
    return sizeof *s + g_hash_table_size(s->beacons) *
           (sizeof(Entry) + TRAFAN_MALLOC_BYTES + TRAFAN_HASH_ENTRY_BYTES);
}

#define BEACON_TYPE "(txxxxqqtttttttt)"
#define STATE_TYPE  "a(" TRAFAN_KEY_TYPE BEACON_TYPE ")"

static guint64
square_hi(Square q)
{
#ifdef __SIZEOF_INT128__
    return (guint64)(q >> 64);
#else
    return 0;
#endif
}

static Square
square_of(guint64 hi, guint64 lo)
{
#ifdef __SIZEOF_INT128__
    return (Square)hi << 64 | lo;
#else
    return (Square)lo;
#endif
}

static GVariant *
save(gconstpointer state)
{
    const State *s = state;
    GVariantBuilder b;
    GPtrArray *keys = g_ptr_array_new();
    GHashTableIter it;
    gpointer k;
    g_hash_table_iter_init(&it, s->beacons);
    while (g_hash_table_iter_next(&it, &k, NULL))
        g_ptr_array_add(keys, k);
    g_ptr_array_sort(keys, key_ptr_compare);
    g_variant_builder_init(&b, G_VARIANT_TYPE(STATE_TYPE));
    for (guint i = 0; i < keys->len; i++) {
        const Beacon *x = g_hash_table_lookup(s->beacons, keys->pdata[i]);
        g_variant_builder_add(&b, "(@" TRAFAN_KEY_TYPE BEACON_TYPE ")", trafan_key_save(keys->pdata[i]),
                              x->n, x->first_event, x->second_event, x->last_event, x->last_packet,
                              x->first_sport, x->last_sport, x->sum_us, square_hi(x->sumsq_us),
                              (guint64)x->sumsq_us, x->first_burst, x->burst, x->size_sum,
                              square_hi(x->size_sumsq), (guint64)x->size_sumsq);
    }
    g_ptr_array_unref(keys);
    return g_variant_builder_end(&b);
}

static gboolean
load(TrafanRuleCtx *ctx, gpointer state, GVariant *saved, GError **error)
{
    State *s = state;
    gboolean ok = g_variant_is_of_type(saved, G_VARIANT_TYPE(STATE_TYPE));
    GVariantIter it;
    GVariant *key_v;
    Beacon x;
    guint64 sq_hi, sq_lo, size_hi, size_lo;
    if (ok)
        g_variant_iter_init(&it, saved);
    while (ok && g_variant_iter_next(&it, "(@" TRAFAN_KEY_TYPE BEACON_TYPE ")", &key_v, &x.n, &x.first_event,
                                     &x.second_event, &x.last_event, &x.last_packet, &x.first_sport,
                                     &x.last_sport, &x.sum_us, &sq_hi, &sq_lo, &x.first_burst, &x.burst,
                                     &x.size_sum, &size_hi, &size_lo)) {
        TrafanKey key;
        x.sumsq_us = square_of(sq_hi, sq_lo);
        x.size_sumsq = square_of(size_hi, size_lo);
        ok = trafan_key_load(key_v, &key) && x.n > 0 && !g_hash_table_contains(s->beacons, &key) &&
             trafan_rule_may_track(ctx, g_hash_table_size(s->beacons));
        if (ok)
            beacon_insert(s, &key, &x);
        g_variant_unref(key_v);
    }
    if (!ok)
        g_set_error(error, trafan_state_error_quark(), 4, "beacon state is malformed");
    return ok;
}

static const TrafanSeriesHooks hooks = {
    .new_state = new_state, .free_state = free_state, .merge = merge, .judge = judge, .bytes = bytes,
    .save = save, .load = load,
};

const TrafanRule trafan_rule_beacon = {
    .name = "beacon",
    .anchor = "RITA beacon analysis (timing and size regularity, prevalence)",
    .options = options, .n_options = G_N_ELEMENTS(options), .config_size = sizeof(Config),
    .events = TRAFAN_EVENT_BIT(TRAFAN_EV_TCP) | TRAFAN_EVENT_BIT(TRAFAN_EV_UDP),
    .observe = observe,
    .source_peers = "destinations in all",
    .series = &hooks,
};
