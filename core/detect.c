/* detect.c — suspicious-host detection.
 *
 * Layout: options; small tools (keys, HyperLogLog, distinct counters);
 * findings (what flags are folded from); the window engine; the rules, each
 * an aggregate plus a judge; the end-of-capture rules; packet dispatch;
 * finish and merge.
 *
 * Every verdict is a pure function of one closed window's final counts (or,
 * for spikes and beacons, of the whole capture), and a flag is the fold of
 * its verdicts with min/max/union, which is associative and commutative.
 * That is what makes merging slices exact.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "detect.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define NS_PER_S     1e9
#define NO_INDEX     G_MININT64
#define TOP_PEERS    5
#define MAX_CLAUSES  8           /* distinct filter clauses before falling back */
#define HLL_BITS     8
#define HLL_M        (1u << HLL_BITS)   /* 256 one-byte registers, ~6.5 % error */

/* ------------------------------------------------------------------ */
/* Options                                                              */

static const char *const preset_values[] = { "default", "seed", NULL };

#define OFF(field) offsetof(TrafanDetectConfig, field)
static const TrafanDetectOption options[] = {
    { "preset", "Threshold preset",
      "default: thresholds for real networks; seed: the classic naive rules (packet_rate 50 packets in 10 s, bandwidth 2000 bytes/s per 1 s); options after it override it",
      TRAFAN_OPT_ENUM, OFF(preset), "default", preset_values, 0, 0 },
    { "allowlist", "Allowlist",
      "Addresses and CIDR prefixes (IPv4 or IPv6, comma or space separated) never flagged as source; default empty",
      TRAFAN_OPT_STRING, OFF(allowlist), "", NULL, 0, 0 },
    { "port_scan_ports", "Port scan: ports",
      "Distinct unanswered or refused ports of one target that make a port scan; default 15, as Zeek's scan.zeek",
      TRAFAN_OPT_UINT, OFF(port_scan_ports), "15", NULL, 2, 131072 },
    { "port_scan_stealth_ports", "Port scan: stealth ports",
      "Distinct ports probed with FIN, NULL or Xmas segments (no SYN, no ACK) that make a scan by themselves; default 3, as no TCP stack sends those outside a connection",
      TRAFAN_OPT_UINT, OFF(port_scan_stealth_ports), "3", NULL, 1, 65536 },
    { "port_scan_window", "Port scan: window (s)",
      "Window for port_scan; default 300 s, as Zeek's scan.zeek, so that slow scans count too",
      TRAFAN_OPT_DOUBLE, OFF(port_scan_window), "300", NULL, 0.001, 86400 },
    { "host_sweep_hosts", "Host sweep: hosts",
      "Distinct unanswered addresses one source probes on one service (TCP or UDP port, ICMP echo) that make a sweep; default 25, as Zeek's scan.zeek address scan",
      TRAFAN_OPT_UINT, OFF(host_sweep_hosts), "25", NULL, 2, 4294967295.0 },
    { "host_sweep_window", "Host sweep: window (s)",
      "Window for host_sweep; default 300 s, as Zeek's scan.zeek",
      TRAFAN_OPT_DOUBLE, OFF(host_sweep_window), "300", NULL, 0.001, 86400 },
    { "syn_flood_rate", "SYN flood: rate (/s)",
      "SYNs per second toward one target beyond the handshakes its clients complete (or SYN-ACKs it never asked for); default 100, far above what a healthy server leaves unanswered",
      TRAFAN_OPT_DOUBLE, OFF(syn_flood_rate), "100", NULL, 0.001, 1e12 },
    { "icmp_flood_rate", "ICMP flood: rate (/s)",
      "ICMP echo requests per second toward one target; default 100, a hundred times ping's default rate",
      TRAFAN_OPT_DOUBLE, OFF(icmp_flood_rate), "100", NULL, 0.001, 1e12 },
    { "udp_flood_rate", "UDP flood: rate (/s)",
      "UDP datagrams (and fragments) per second from many (spoofed or reflecting) sources toward one target that answers fewer than flood_reply_ratio of them; default 100",
      TRAFAN_OPT_DOUBLE, OFF(udp_flood_rate), "100", NULL, 0.001, 1e12 },
    { "udp_flood_source_rate", "UDP flood: one-source rate (/s)",
      "The same from one dominant source; default 1000, above one-way media streams (voice 50/s, video a few hundred per second)",
      TRAFAN_OPT_DOUBLE, OFF(udp_flood_source_rate), "1000", NULL, 0.001, 1e12 },
    { "flood_window", "Floods: window (s)",
      "Window over which flood rates are measured; default 1 s, so that short bursts show their true rate",
      TRAFAN_OPT_DOUBLE, OFF(flood_window), "1", NULL, 0.001, 3600 },
    { "flood_reply_ratio", "UDP flood: reply ratio",
      "UDP replies per received datagram at or below which UDP traffic counts as unanswered; default 0.1, as request/response services and QUIC answer far more often",
      TRAFAN_OPT_DOUBLE, OFF(flood_reply_ratio), "0.1", NULL, 0, 1 },
    { "flood_dominance", "Floods: dominant source share",
      "Share of a flood's packets from its top source above which that source is flagged; below it the target is flagged with its sources summarised; default 0.5",
      TRAFAN_OPT_DOUBLE, OFF(flood_dominance), "0.5", NULL, 0.01, 1 },
    { "packet_rate_packets", "Packet rate: packets",
      "Packets one source sends within packet_rate_window; default 1000000 in 10 s (100 kpps), above a saturated gigabit bulk transfer (about 81 kpps); preset seed: 50",
      TRAFAN_OPT_UINT, OFF(packet_rate_packets), "1000000", NULL, 1, 4294967295.0 },
    { "packet_rate_window", "Packet rate: window (s)",
      "Window for packet_rate; default 10 s",
      TRAFAN_OPT_DOUBLE, OFF(packet_rate_window), "10", NULL, 0.001, 86400 },
    { "bandwidth_bytes", "Bandwidth: bytes/s",
      "Bytes per second one source sends, averaged over bandwidth_window; default 125000000 (1 Gbit/s), which no single host on a gigabit link can exceed; preset seed: 2000",
      TRAFAN_OPT_UINT, OFF(bandwidth_bytes), "125000000", NULL, 1, 4294967295.0 },
    { "bandwidth_window", "Bandwidth: window (s)",
      "Window for bandwidth; default 10 s, so a momentary burst does not count; preset seed: 1 s",
      TRAFAN_OPT_DOUBLE, OFF(bandwidth_window), "10", NULL, 0.001, 86400 },
    { "spike_interval", "Spike: interval (s)",
      "Interval of the bandwidth_spike series; default 1 s",
      TRAFAN_OPT_DOUBLE, OFF(spike_interval), "1", NULL, 0.001, 86400 },
    { "spike_factor", "Spike: factor",
      "An interval is a spike when its bytes exceed this many times the median of the preceding intervals; default 10",
      TRAFAN_OPT_DOUBLE, OFF(spike_factor), "10", NULL, 1, 1e9 },
    { "spike_baseline", "Spike: baseline intervals",
      "Preceding intervals (idle ones included) whose median is the baseline; default 60",
      TRAFAN_OPT_UINT, OFF(spike_baseline), "60", NULL, 1, 100000 },
    { "spike_min_baseline", "Spike: minimum baseline",
      "Preceding intervals needed before an interval can be a spike; default 10, so the start of a capture is not one",
      TRAFAN_OPT_UINT, OFF(spike_min_baseline), "10", NULL, 1, 100000 },
    { "spike_min_bytes", "Spike: minimum bytes",
      "Bytes an interval needs to be a spike at all; default 1000000 (8 Mbit/s per 1 s interval), so small captures do not trip it",
      TRAFAN_OPT_UINT, OFF(spike_min_bytes), "1000000", NULL, 0, 4294967295.0 },
    { "beacon_min_count", "Beacon: connections",
      "Connection starts (TCP SYN, or UDP after an idle gap) from one source to one destination and port needed for a beacon; default 10",
      TRAFAN_OPT_UINT, OFF(beacon_min_count), "10", NULL, 3, 4294967295.0 },
    { "beacon_max_cv", "Beacon: jitter",
      "Largest coefficient of variation (sd / mean) of the intervals between connection starts; default 0.2, while human-driven traffic is near 1",
      TRAFAN_OPT_DOUBLE, OFF(beacon_max_cv), "0.2", NULL, 0, 10 },
    { "beacon_min_interval", "Beacon: minimum interval (s)",
      "Smallest mean interval of a beacon, and the idle gap that starts a new UDP exchange; default 2 s, to leave out bursts, retries and scripted logins (C2 implants sleep seconds to minutes)",
      TRAFAN_OPT_DOUBLE, OFF(beacon_min_interval), "2", NULL, 0.000001, 86400 },
    { "exact_cap", "Exact set size",
      "Distinct items kept exactly per counter, past which a 256-byte HyperLogLog sketch (about 6.5 % error) counts them and flags say approximate; default 1024",
      TRAFAN_OPT_UINT, OFF(exact_cap), "1024", NULL, 16, 16777216 },
    { "max_tracked", "Tracked keys",
      "Hosts, pairs or flows tracked per rule and window; later ones are ignored, which bounds memory; default 100000",
      TRAFAN_OPT_UINT, OFF(max_tracked), "100000", NULL, 16, 4294967295.0 },
};
#undef OFF

const TrafanDetectOption *
trafan_detect_options(guint *n)
{
    if (n)
        *n = G_N_ELEMENTS(options);
    return options;
}

typedef struct {
    TrafanAddress net;
    guint         bits;
} Prefix;

static gboolean
prefix_match(const Prefix *p, const TrafanAddress *a)
{
    guint whole = p->bits / 8, rest = p->bits % 8;

    if (p->net.family != a->family || memcmp(p->net.bytes, a->bytes, whole) != 0)
        return FALSE;
    if (rest == 0)
        return TRUE;
    guint8 mask = (guint8)(0xff << (8 - rest));
    return (p->net.bytes[whole] & mask) == (a->bytes[whole] & mask);
}

static gboolean
parse_allowlist(const char *text, GArray **out, GError **error)
{
    GArray *prefixes = g_array_new(FALSE, TRUE, sizeof(Prefix));
    char **words = g_strsplit_set(text ? text : "", ", \t\r\n;", -1);

    for (char **w = words; *w; w++) {
        if (**w == '\0')
            continue;
        Prefix p = { { 0 }, 0 };
        char *slash = strchr(*w, '/');
        if (slash)
            *slash = '\0';
        gboolean ok = trafan_address_parse(*w, &p.net);
        guint max_bits = p.net.family == 4 ? 32 : 128;
        guint64 bits = max_bits;
        if (ok && slash)
            ok = g_ascii_string_to_unsigned(slash + 1, 10, 0, max_bits, &bits, NULL);
        if (!ok) {
            if (slash)
                *slash = '/';
            g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                        "trafan option allowlist: '%s' is not an IPv4 or IPv6 address "
                        "or CIDR prefix (e.g. 192.0.2.0/24, 2001:db8::/32)", *w);
            g_strfreev(words);
            g_array_unref(prefixes);
            return FALSE;
        }
        p.bits = (guint)bits;
        g_array_append_val(prefixes, p);
    }
    g_strfreev(words);
    *out = prefixes;
    return TRUE;
}

static const TrafanDetectOption *
find_option(const char *name)
{
    for (guint i = 0; i < G_N_ELEMENTS(options); i++)
        if (g_ascii_strcasecmp(options[i].name, name) == 0)
            return &options[i];
    return NULL;
}

static void
apply_preset(TrafanDetectConfig *cfg, guint preset)
{
    /* A preset resets every threshold, then adjusts some. */
    for (guint i = 0; i < G_N_ELEMENTS(options); i++) {
        const TrafanDetectOption *o = &options[i];
        char *field = (char *)cfg + o->offset;
        if (o->type == TRAFAN_OPT_UINT)
            *(guint *)field = (guint)g_ascii_strtoull(o->default_text, NULL, 10);
        else if (o->type == TRAFAN_OPT_DOUBLE)
            *(double *)field = g_ascii_strtod(o->default_text, NULL);
    }
    cfg->preset = preset;
    if (preset == TRAFAN_PRESET_SEED) {
        cfg->packet_rate_packets = 50;
        cfg->packet_rate_window = 10;
        cfg->bandwidth_bytes = 2000;
        cfg->bandwidth_window = 1;
    }
}

void
trafan_detect_config_init(TrafanDetectConfig *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    apply_preset(cfg, TRAFAN_PRESET_DEFAULT);
    cfg->allowlist = g_strdup("");
    cfg->allow_prefixes = g_array_new(FALSE, TRUE, sizeof(Prefix));
}

void
trafan_detect_config_clear(TrafanDetectConfig *cfg)
{
    g_clear_pointer(&cfg->allowlist, g_free);
    g_clear_pointer(&cfg->allow_prefixes, g_array_unref);
}

static char *
range_text(const TrafanDetectOption *o)
{
    char lo[G_ASCII_DTOSTR_BUF_SIZE], hi[G_ASCII_DTOSTR_BUF_SIZE];
    g_ascii_formatd(lo, sizeof lo, "%.15g", o->min_value);
    g_ascii_formatd(hi, sizeof hi, "%.15g", o->max_value);
    return g_strdup_printf("%s %s to %s", o->type == TRAFAN_OPT_UINT ? "an integer from" : "a number from",
                           lo, hi);
}

gboolean
trafan_detect_config_set(TrafanDetectConfig *cfg, const char *name, const char *value,
                         GError **error)
{
    const TrafanDetectOption *o = name ? find_option(name) : NULL;

    if (o == NULL) {
        GString *names = g_string_new(NULL);
        for (guint i = 0; i < G_N_ELEMENTS(options); i++)
            g_string_append_printf(names, "%s%s", i ? ", " : "", options[i].name);
        g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_UNKNOWN_OPTION,
                    "unknown trafan option '%s' (valid: %s)", name ? name : "", names->str);
        g_string_free(names, TRUE);
        return FALSE;
    }
    if (value == NULL)
        value = "";
    char *field = (char *)cfg + o->offset;
    char *stripped = g_strstrip(g_strdup(value));
    gboolean ok = TRUE;

    switch (o->type) {
    case TRAFAN_OPT_UINT: {
        guint64 v;
        ok = g_ascii_string_to_unsigned(stripped, 10, (guint64)o->min_value,
                                        (guint64)o->max_value, &v, NULL);
        if (ok)
            *(guint *)field = (guint)v;
        break;
    }
    case TRAFAN_OPT_DOUBLE: {
        char *end = NULL;
        double v = g_ascii_strtod(stripped, &end);
        ok = *stripped && end && *end == '\0' && isfinite(v) &&
             v >= o->min_value && v <= o->max_value;
        if (ok)
            *(double *)field = v;
        break;
    }
    case TRAFAN_OPT_BOOL: {
        static const char *const yes[] = { "1", "true", "yes", "on" };
        static const char *const no[] = { "0", "false", "no", "off" };
        ok = FALSE;
        for (guint i = 0; i < G_N_ELEMENTS(yes); i++) {
            if (g_ascii_strcasecmp(stripped, yes[i]) == 0)
                *(gboolean *)field = TRUE, ok = TRUE;
            if (g_ascii_strcasecmp(stripped, no[i]) == 0)
                *(gboolean *)field = FALSE, ok = TRUE;
        }
        if (!ok)
            g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                        "trafan option %s: '%s' is not a boolean (true/false)", o->name, value);
        break;
    }
    case TRAFAN_OPT_ENUM: {
        ok = FALSE;
        for (guint i = 0; o->enum_values[i]; i++) {
            if (g_ascii_strcasecmp(stripped, o->enum_values[i]) == 0) {
                ok = TRUE;
                if (o->offset == offsetof(TrafanDetectConfig, preset))
                    apply_preset(cfg, i);
                else
                    *(guint *)field = i;
            }
        }
        if (!ok) {
            char *list = g_strjoinv(", ", (char **)o->enum_values);
            g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                        "trafan option %s: '%s' is not one of: %s", o->name, value, list);
            g_free(list);
        }
        break;
    }
    case TRAFAN_OPT_STRING: {
        GArray *prefixes = NULL;
        ok = parse_allowlist(stripped, &prefixes, error);
        if (ok) {
            g_free(cfg->allowlist);
            cfg->allowlist = g_strdup(stripped);
            if (cfg->allow_prefixes)
                g_array_unref(cfg->allow_prefixes);
            cfg->allow_prefixes = prefixes;
        }
        break;
    }
    }
    if (!ok && (o->type == TRAFAN_OPT_UINT || o->type == TRAFAN_OPT_DOUBLE)) {
        char *range = range_text(o);
        g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                    "trafan option %s: '%s' is not %s", o->name, value, range);
        g_free(range);
    }
    g_free(stripped);
    return ok;
}

/* ------------------------------------------------------------------ */
/* Keys, hashing, distinct counters                                     */

/* Addresses are normalised (unused bytes zero) so they hash and compare
 * as plain bytes.  Ports are stored as addresses of family 0. */
static TrafanAddress
norm(const TrafanAddress *in)
{
    TrafanAddress out;
    memset(&out, 0, sizeof out);
    out.family = in->family;
    memcpy(out.bytes, in->bytes, in->family == 4 ? 4 : in->family == 6 ? 16 : 0);
    return out;
}

static TrafanAddress
port_item(guint8 proto, guint16 port)
{
    TrafanAddress out;
    memset(&out, 0, sizeof out);
    out.bytes[0] = proto;
    out.bytes[1] = (guint8)(port >> 8);
    out.bytes[2] = (guint8)port;
    return out;
}

typedef struct {
    TrafanAddress a, b;
    guint8        proto;
    guint16       port;
} Key;

static Key
make_key(const TrafanAddress *a, const TrafanAddress *b, guint8 proto, guint16 port)
{
    Key k;
    memset(&k, 0, sizeof k);    /* padding too: keys hash as bytes */
    k.a = *a;
    if (b)
        k.b = *b;
    k.proto = proto;
    k.port = port;
    return k;
}

static guint64
mix64(guint64 x)
{
    x ^= x >> 30; x *= G_GUINT64_CONSTANT(0xbf58476d1ce4e5b9);
    x ^= x >> 27; x *= G_GUINT64_CONSTANT(0x94d049bb133111eb);
    return x ^ (x >> 31);
}

static guint64
hash_bytes(const void *data, size_t n)
{
    const guint8 *p = data;
    guint64 h = G_GUINT64_CONSTANT(0x9e3779b97f4a7c15) ^ n;

    for (; n >= 8; n -= 8, p += 8) {
        guint64 w;
        memcpy(&w, p, 8);
        h = mix64(h ^ w);
    }
    guint64 tail = 0;
    memcpy(&tail, p, n);
    return mix64(h ^ tail ^ G_GUINT64_CONSTANT(0x5851f42d4c957f2d));
}

static guint     key_hash(gconstpointer k)              { return (guint)hash_bytes(k, sizeof(Key)); }
static gboolean  key_equal(gconstpointer a, gconstpointer b) { return memcmp(a, b, sizeof(Key)) == 0; }
static guint     item_hash(gconstpointer k)             { return (guint)hash_bytes(k, sizeof(TrafanAddress)); }
static gboolean  item_equal(gconstpointer a, gconstpointer b) { return memcmp(a, b, sizeof(TrafanAddress)) == 0; }

static int
item_compare(const TrafanAddress *a, const TrafanAddress *b)
{
    if (a->family != b->family)
        return a->family < b->family ? -1 : 1;
    return memcmp(a->bytes, b->bytes, sizeof a->bytes);
}

static void
hll_add(guint8 *reg, const TrafanAddress *item)
{
    guint64 h = hash_bytes(item, sizeof *item);
    guint idx = (guint)(h >> (64 - HLL_BITS));
    guint64 rest = (h << HLL_BITS) | (G_GUINT64_CONSTANT(1) << (HLL_BITS - 1));
    guint8 rank = 1;

    while (!(rest & G_GUINT64_CONSTANT(0x8000000000000000))) {
        rank++;
        rest <<= 1;
    }
    if (rank > reg[idx])
        reg[idx] = rank;
}

static double
hll_estimate(const guint8 *reg)
{
    double sum = 0;
    guint zeros = 0;

    for (guint i = 0; i < HLL_M; i++) {
        sum += ldexp(1.0, -reg[i]);
        zeros += reg[i] == 0;
    }
    double m = HLL_M, e = 0.7213 / (1 + 1.079 / m) * m * m / sum;
    if (e <= 2.5 * m && zeros)
        e = m * log(m / zeros);        /* linear counting for small sets */
    return e;
}

/* An item with a count; the hash table key is &tally->item. */
typedef struct {
    TrafanAddress item;
    guint64       count;
} Tally;

/* Distinct items with counts: exact up to a cap, then a sketch.  Past the
 * cap the table keeps counting the items it holds, and the sketch counts
 * every item, so two counters merge into exactly the sketch of the union.
 * Most counters see one or two items in a window (a host and its peer), so
 * those live inline and the table is made only for a third. */
#define DISTINCT_INLINE 2

typedef struct {
    GHashTable *exact;          /* TrafanAddress * -> Tally *, from the third item */
    guint8     *hll;            /* HLL_M registers once past the cap */
    Tally      *last;           /* the item added last: flows repeat it */
    guint       n_inline;       /* items in inline[], while exact is NULL */
    Tally       inline_items[DISTINCT_INLINE];
} Distinct;

static void
distinct_clear(Distinct *s)
{
    g_clear_pointer(&s->exact, g_hash_table_unref);
    g_clear_pointer(&s->hll, g_free);
    s->last = NULL;
    s->n_inline = 0;
}

/* The items held exactly, inline or in the table (pointers into s). */
static GPtrArray *
distinct_tallies(const Distinct *s)
{
    GPtrArray *all = g_ptr_array_sized_new(s->exact ? g_hash_table_size(s->exact) : s->n_inline);

    if (s->exact) {
        GHashTableIter it;
        gpointer v;
        g_hash_table_iter_init(&it, s->exact);
        while (g_hash_table_iter_next(&it, NULL, &v))
            g_ptr_array_add(all, v);
    } else {
        for (guint i = 0; i < s->n_inline; i++)
            g_ptr_array_add(all, (gpointer)&s->inline_items[i]);
    }
    return all;
}

static guint
distinct_exact_size(const Distinct *s)
{
    return s->exact ? g_hash_table_size(s->exact) : s->n_inline;
}

static void
distinct_start_sketch(Distinct *s)
{
    GPtrArray *all = distinct_tallies(s);

    s->hll = g_malloc0(HLL_M);
    for (guint i = 0; i < all->len; i++)
        hll_add(s->hll, &((const Tally *)all->pdata[i])->item);
    g_ptr_array_unref(all);
}

static void
distinct_add(Distinct *s, const TrafanAddress *item, guint64 n, guint cap)
{
    Tally *t = s->last;

    if (t && memcmp(&t->item, item, sizeof *item) == 0) {
        t->count += n;
        if (s->hll)
            hll_add(s->hll, item);
        return;
    }
    if (s->exact == NULL) {
        for (guint i = 0; i < s->n_inline; i++) {
            if (memcmp(&s->inline_items[i].item, item, sizeof *item) == 0) {
                s->last = &s->inline_items[i];
                s->last->count += n;
                return;         /* no sketch yet: the cap is above DISTINCT_INLINE */
            }
        }
        if (s->n_inline < DISTINCT_INLINE) {
            s->last = &s->inline_items[s->n_inline++];
            s->last->item = *item;
            s->last->count = n;
            return;
        }
        s->exact = g_hash_table_new_full(item_hash, item_equal, NULL, g_free);
        for (guint i = 0; i < s->n_inline; i++) {
            Tally *moved = g_memdup2(&s->inline_items[i], sizeof(Tally));
            g_hash_table_insert(s->exact, &moved->item, moved);
        }
        s->n_inline = 0;
        s->last = NULL;
    }
    t = g_hash_table_lookup(s->exact, item);
    if (t) {
        t->count += n;
        s->last = t;
    } else if (s->hll == NULL && g_hash_table_size(s->exact) < cap) {
        t = g_new(Tally, 1);
        t->item = *item;
        t->count = n;
        g_hash_table_insert(s->exact, &t->item, t);
        s->last = t;
    } else if (s->hll == NULL) {
        distinct_start_sketch(s);
    }
    if (s->hll)
        hll_add(s->hll, item);
}

static guint64
distinct_count(const Distinct *s)
{
    guint64 exact = distinct_exact_size(s);
    if (s->hll == NULL)
        return exact;
    guint64 est = (guint64)llround(hll_estimate(s->hll));
    return MAX(est, exact);
}

static gboolean
distinct_contains(const Distinct *s, const TrafanAddress *item)
{
    if (s->exact)
        return g_hash_table_contains(s->exact, item);
    for (guint i = 0; i < s->n_inline; i++)
        if (memcmp(&s->inline_items[i].item, item, sizeof *item) == 0)
            return TRUE;
    return FALSE;
}

static void
distinct_merge(Distinct *into, const Distinct *from, guint cap)
{
    GPtrArray *all = distinct_tallies(from);

    for (guint i = 0; i < all->len; i++) {
        const Tally *t = all->pdata[i];
        distinct_add(into, &t->item, t->count, cap);
    }
    g_ptr_array_unref(all);
    if (from->hll) {
        if (into->hll == NULL)
            distinct_start_sketch(into);
        for (guint i = 0; i < HLL_M; i++)
            into->hll[i] = MAX(into->hll[i], from->hll[i]);
    }
}

/* Items of `of` also in `in` (exact parts only). */
static guint64
distinct_overlap(const Distinct *of, const Distinct *in)
{
    GPtrArray *all = distinct_tallies(of);
    guint64 n = 0;

    for (guint i = 0; i < all->len; i++)
        n += distinct_contains(in, &((const Tally *)all->pdata[i])->item);
    g_ptr_array_unref(all);
    return n;
}

static GPtrArray *
table_values(GHashTable *table)
{
    GPtrArray *all = g_ptr_array_sized_new(g_hash_table_size(table));
    GHashTableIter it;
    gpointer v;
    g_hash_table_iter_init(&it, table);
    while (g_hash_table_iter_next(&it, NULL, &v))
        g_ptr_array_add(all, v);
    return all;
}

static int
tally_by_count(gconstpointer pa, gconstpointer pb)
{
    const Tally *a = *(Tally *const *)pa, *b = *(Tally *const *)pb;
    if (a->count != b->count)
        return a->count > b->count ? -1 : 1;
    return item_compare(&a->item, &b->item);
}

/* The k largest tallies, largest first (ties by address, for determinism). */
static guint
distinct_top(const Distinct *s, Tally *out, guint k)
{
    GPtrArray *all = distinct_tallies(s);
    g_ptr_array_sort(all, tally_by_count);
    guint n = MIN(k, all->len);
    for (guint i = 0; i < n; i++)
        out[i] = *(Tally *)all->pdata[i];
    g_ptr_array_unref(all);
    return n;
}

/* ------------------------------------------------------------------ */
/* Findings                                                             */

enum { RULE_PORT_SCAN, RULE_HOST_SWEEP, RULE_SYN_FLOOD, RULE_ICMP_FLOOD, RULE_UDP_FLOOD,
       RULE_PACKET_RATE, RULE_BANDWIDTH, RULE_SPIKE, RULE_BEACON, N_RULES };
static const char *const rule_names[N_RULES] = {
    "port_scan", "host_sweep", "syn_flood", "icmp_flood", "udp_flood",
    "packet_rate", "bandwidth", "bandwidth_spike", "beacon",
};

/* One verdict: a window (or the capture) in which a rule tripped. */
typedef struct {
    TrafanAddress host;
    TrafanRole    role;
    guint         rule;
    gint64        start, end, window_ns;
    double        observed, threshold;
    gboolean      approximate;
    Tally         peers[TOP_PEERS];
    guint         n_peers;
    guint64       peers_total;
    char         *detail;       /* the sentence after the host's address */
    char         *clause;       /* display filter for exactly this verdict */
    char         *broad;        /* a wider filter, if clauses pile up */
} Verdict;

/* The fold of the verdicts for one (host, role, rule): start = min, end =
 * max, peers = per-peer max, clauses = union, the rest from the worst verdict
 * (largest observed, then earliest).  Associative and commutative. */
typedef struct {
    TrafanAddress host;
    TrafanRole    role;
    guint         rule;
    gint64        start, end, window_ns, worst_start;
    double        observed, threshold;
    gboolean      approximate;
    guint64       peers_total;
    GHashTable   *peers;        /* TrafanAddress * -> Tally *, max count */
    GPtrArray    *clauses;      /* sorted distinct strings */
    gboolean      clauses_overflow;
    char         *detail, *broad;
    TrafanFlag   *flag;         /* public view (output findings only) */
    gboolean      dirty;
} Finding;

static Finding *
finding_new(const TrafanAddress *host, TrafanRole role, guint rule)
{
    Finding *f = g_new0(Finding, 1);
    f->host = *host;
    f->role = role;
    f->rule = rule;
    f->start = G_MAXINT64;
    f->end = G_MININT64;
    f->observed = -1;
    f->worst_start = G_MAXINT64;
    f->peers = g_hash_table_new_full(item_hash, item_equal, NULL, g_free);
    f->clauses = g_ptr_array_new_with_free_func(g_free);
    return f;
}

static void
finding_free(gpointer p)
{
    Finding *f = p;
    g_hash_table_unref(f->peers);
    g_ptr_array_unref(f->clauses);
    g_free(f->detail);
    g_free(f->broad);
    trafan_flag_free(f->flag);
    g_free(f);
}

static GHashTable *
findings_new(void)
{
    return g_hash_table_new_full(key_hash, key_equal, g_free, finding_free);
}

static void
fold_peer(Finding *f, const TrafanAddress *peer, guint64 count, guint cap)
{
    Tally *t = g_hash_table_lookup(f->peers, peer);
    if (t) {
        t->count = MAX(t->count, count);
    } else if (g_hash_table_size(f->peers) < cap) {
        t = g_new(Tally, 1);
        t->item = *peer;
        t->count = count;
        g_hash_table_insert(f->peers, &t->item, t);
    }
}

static void
fold_clause(Finding *f, const char *clause)
{
    if (clause == NULL || f->clauses_overflow)
        return;
    for (guint i = 0; i < f->clauses->len; i++)
        if (strcmp(f->clauses->pdata[i], clause) == 0)
            return;
    if (f->clauses->len >= MAX_CLAUSES) {
        f->clauses_overflow = TRUE;
        g_ptr_array_set_size(f->clauses, 0);
        return;
    }
    g_ptr_array_add(f->clauses, g_strdup(clause));
}

static int
str_ptr_compare(gconstpointer a, gconstpointer b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Fold the "worst" fields of another fold or verdict. */
static void
fold_worst(Finding *f, double observed, gint64 start, double threshold, gint64 window_ns,
           const char *detail, const char *broad)
{
    if (observed > f->observed || (observed == f->observed && start < f->worst_start)) {
        f->observed = observed;
        f->worst_start = start;
        f->threshold = threshold;
        f->window_ns = window_ns;
        g_free(f->detail);
        f->detail = g_strdup(detail);
        g_free(f->broad);
        f->broad = g_strdup(broad);
    }
}

static void
finding_fold(Finding *f, const Finding *g, guint cap)
{
    f->start = MIN(f->start, g->start);
    f->end = MAX(f->end, g->end);
    f->approximate |= g->approximate;
    f->peers_total = MAX(f->peers_total, g->peers_total);
    GHashTableIter it;
    gpointer v;
    g_hash_table_iter_init(&it, g->peers);
    while (g_hash_table_iter_next(&it, NULL, &v))
        fold_peer(f, &((Tally *)v)->item, ((Tally *)v)->count, cap);
    if (g->clauses_overflow && !f->clauses_overflow) {
        f->clauses_overflow = TRUE;
        g_ptr_array_set_size(f->clauses, 0);
    }
    for (guint i = 0; i < g->clauses->len; i++)
        fold_clause(f, g->clauses->pdata[i]);
    g_ptr_array_sort(f->clauses, str_ptr_compare);
    fold_worst(f, g->observed, g->worst_start, g->threshold, g->window_ns, g->detail, g->broad);
    f->dirty = TRUE;
}

static void
fold_verdict(Finding *f, const Verdict *v, guint cap)
{
    f->start = MIN(f->start, v->start);
    f->end = MAX(f->end, v->end);
    f->approximate |= v->approximate;
    f->peers_total = MAX(f->peers_total, v->peers_total);
    for (guint i = 0; i < v->n_peers; i++)
        fold_peer(f, &v->peers[i].item, v->peers[i].count, cap);
    fold_clause(f, v->clause);
    g_ptr_array_sort(f->clauses, str_ptr_compare);
    fold_worst(f, v->observed, v->start, v->threshold, v->window_ns, v->detail, v->broad);
    f->dirty = TRUE;
}

static Finding *
findings_get(GHashTable *map, const TrafanAddress *host, TrafanRole role, guint rule,
             gboolean *created)
{
    Key k = make_key(host, NULL, (guint8)role, (guint16)rule);
    Finding *f = g_hash_table_lookup(map, &k);
    if (created)
        *created = f == NULL;
    if (f == NULL) {
        f = finding_new(host, role, rule);
        g_hash_table_insert(map, g_memdup2(&k, sizeof k), f);
    }
    return f;
}

/* ------------------------------------------------------------------ */
/* The detector                                                         */

typedef struct TrafanWindowClass WindowClass;

/* Epoch-aligned tumbling windows of one rule and one phase. */
typedef struct {
    const WindowClass *cls;
    gint64      length, offset;
    gint64      index;          /* the open window, or NO_INDEX */
    gint64      head_index;     /* this detector's first window, or NO_INDEX */
    GHashTable *open;           /* Key -> aggregate */
    GHashTable *head;           /* the first window once closed, kept for merge */
    GHashTable *head_findings;  /* verdicts of that first window */
    /* Caches: most packets fall in the open window, and a conversation's
     * packets, both ways, hit the same two aggregates in a row. */
    gint64      bounds_index, bounds_start, bounds_end;
    Key         recent_key[2];
    gpointer    recent_agg[2];  /* NULL: empty entry */
    guint       recent_next;
} Window;

struct TrafanWindowClass {
    gpointer (*agg_new)(void);
    void     (*agg_free)(gpointer agg);
    void     (*agg_merge)(gpointer into, gconstpointer from, guint cap);
    void     (*judge)(TrafanDetector *d, const Window *w, const Key *key, gpointer agg,
                      GHashTable *findings);
};

enum { WIN_PORT_SCAN, WIN_HOST_SWEEP, WIN_FLOOD, WIN_PACKET_RATE, WIN_BANDWIDTH, N_WIN };

typedef struct {
    gint64        index;
    guint64       bytes;
    TrafanAddress top;          /* family 0 when no IP talker */
    guint64       top_bytes;
} Interval;

#ifdef __SIZEOF_INT128__
typedef unsigned __int128 Square;   /* sums of squared microseconds, exact */
#else
typedef long double Square;
#endif

typedef struct {
    guint64 n;                  /* connection starts */
    gint64  first_event, second_event, last_event, last_packet;
    guint16 first_sport, last_sport;
    guint64 sum_us;
    Square  sumsq_us;
} Beacon;

struct TrafanDetector {
    TrafanDetectConfig cfg;
    gboolean  seen, finished;
    gint64    now;              /* latest packet time seen (the clock) */
    gint64    first_ns, ref_ns; /* first time, and abs - rel of the first packet */
    guint64   untracked;        /* packets past max_tracked */

    Window    win[N_WIN][2];    /* per rule, two phases half a window apart */

    gint64      spike_interval_ns, beacon_gap_ns;   /* from cfg, once */
    gboolean    volume_shared;  /* packet_rate and bandwidth windows are one */
    GArray     *intervals;      /* Interval, closed, ascending */
    gint64      spike_index, spike_head_index;
    guint64     spike_bytes;
    GHashTable *spike_hosts;    /* the open interval: TrafanAddress -> Tally (bytes) */
    GHashTable *spike_head_hosts;

    GHashTable *beacons;        /* Key -> Beacon */

    GHashTable *body;           /* findings from windows other than the first */
    GHashTable *output;         /* everything: what flags show */
    GHashTable *previews;       /* early alerts from open windows (peek) */
    gboolean    peeking;        /* judging open windows for previews */
    GPtrArray  *fresh;          /* TrafanFlag * raised since take_new */
    GPtrArray  *fresh_out;
    GPtrArray  *sorted;         /* finish() result */
};

static gboolean
allowlisted(const TrafanDetector *d, const TrafanAddress *a)
{
    const GArray *list = d->cfg.allow_prefixes;
    for (guint i = 0; list && i < list->len; i++)
        if (prefix_match(&g_array_index(list, Prefix, i), a))
            return TRUE;
    return FALSE;
}

/* Multicast and limited broadcast: never a victim nor a sweep target. */
static gboolean
is_group(const TrafanAddress *a)
{
    static const guint8 broadcast[4] = { 255, 255, 255, 255 };
    if (a->family == 4)
        return (a->bytes[0] >= 224 && a->bytes[0] <= 239) || memcmp(a->bytes, broadcast, 4) == 0;
    return a->family == 6 && a->bytes[0] == 0xff;
}

static void
emit(TrafanDetector *d, GHashTable *findings, Verdict *v)
{
    guint cap = d->cfg.exact_cap;
    gboolean created;

    if (v->role == TRAFAN_ROLE_SOURCE && allowlisted(d, &v->host))
        goto out;
    if (d->peeking) {
        /* An open window already over its threshold: alert now, once,
         * without touching the state that merges. */
        Key k = make_key(&v->host, NULL, (guint8)v->role, (guint16)v->rule);
        if (g_hash_table_contains(d->output, &k))
            goto out;
        Finding *p = findings_get(d->previews, &v->host, v->role, v->rule, &created);
        if (created) {
            fold_verdict(p, v, cap);
            p->flag = trafan_flag_new(&p->host, p->role, rule_names[p->rule]);
            g_ptr_array_add(d->fresh, p->flag);
        }
        goto out;
    }
    fold_verdict(findings_get(findings, &v->host, v->role, v->rule, NULL), v, cap);
    Finding *f = findings_get(d->output, &v->host, v->role, v->rule, &created);
    fold_verdict(f, v, cap);
    if (created) {
        Key k = make_key(&v->host, NULL, (guint8)v->role, (guint16)v->rule);
        f->flag = trafan_flag_new(&f->host, f->role, rule_names[f->rule]);
        if (!g_hash_table_contains(d->previews, &k))    /* not alerted early */
            g_ptr_array_add(d->fresh, f->flag);
    }
out:
    g_free(v->detail);
    g_free(v->clause);
    g_free(v->broad);
}

static gint64
floor_div(gint64 a, gint64 b)
{
    gint64 q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

static GHashTable *
window_table(const Window *w)
{
    return g_hash_table_new_full(key_hash, key_equal, g_free, w->cls->agg_free);
}

static void
window_judge_into(TrafanDetector *d, Window *w, GHashTable *table, GHashTable *findings)
{
    GHashTableIter it;
    gpointer k, agg;
    g_hash_table_iter_init(&it, table);
    while (g_hash_table_iter_next(&it, &k, &agg))
        w->cls->judge(d, w, k, agg, findings);
}

static void
window_judge(TrafanDetector *d, Window *w, GHashTable *table, gboolean head)
{
    window_judge_into(d, w, table, head ? w->head_findings : d->body);
}

static void
window_forget_recent(Window *w)
{
    w->recent_agg[0] = w->recent_agg[1] = NULL;
}

/* Judge the open window; the first one is kept (merge may extend it). */
static void
window_close(TrafanDetector *d, Window *w)
{
    window_forget_recent(w);
    if (w->index == NO_INDEX)
        return;
    gboolean head = w->index == w->head_index;
    window_judge(d, w, w->open, head);
    if (head) {
        w->head = w->open;
        w->open = window_table(w);
    } else {
        g_hash_table_remove_all(w->open);
    }
    w->index = NO_INDEX;
}

static void
window_advance(TrafanDetector *d, Window *w, gint64 t)
{
    if (w->index != NO_INDEX && w->index == w->bounds_index && t >= w->bounds_start && t < w->bounds_end)
        return;
    gint64 idx = floor_div(t - w->offset, w->length);
    w->bounds_index = idx;
    w->bounds_start = idx * w->length + w->offset;
    w->bounds_end = w->bounds_start + w->length;
    if (idx == w->index)
        return;
    window_close(d, w);
    w->index = idx;
    if (w->head_index == NO_INDEX)
        w->head_index = idx;
}

static gpointer
window_slot(TrafanDetector *d, Window *w, const Key *key)
{
    for (guint i = 0; i < 2; i++)
        if (w->recent_agg[i] && memcmp(&w->recent_key[i], key, sizeof *key) == 0)
            return w->recent_agg[i];

    gpointer agg = g_hash_table_lookup(w->open, key);
    if (agg == NULL) {
        if (g_hash_table_size(w->open) >= d->cfg.max_tracked) {
            d->untracked++;
            return NULL;
        }
        agg = w->cls->agg_new();
        g_hash_table_insert(w->open, g_memdup2(key, sizeof *key), agg);
    }
    w->recent_key[w->recent_next] = *key;
    w->recent_agg[w->recent_next] = agg;
    w->recent_next ^= 1;
    return agg;
}

static double
window_seconds(const Window *w)
{
    return (double)w->length / NS_PER_S;
}

/* ------------------------------------------------------------------ */
/* Text                                                                 */

static const char *
addr_text(const TrafanAddress *a, char *buf)
{
    return trafan_address_to_str(a, buf);
}

static const char *
ipf(const TrafanAddress *a)
{
    return a->family == 6 ? "ipv6" : "ip";
}

static char *
fmt_number(char *buf, size_t size, double v)
{
    const char *fmt = v >= 100 || v == floor(v) ? "%.0f" : v >= 10 ? "%.1f" : v >= 1 ? "%.2f" : "%.3g";
    return g_ascii_formatd(buf, size, fmt, v);
}

/* "3.2 s" */
static char *
fmt_secs(char *buf, gint64 ns)
{
    char num[G_ASCII_DTOSTR_BUF_SIZE];
    fmt_number(num, sizeof num, MAX(ns, 0) / NS_PER_S);
    g_snprintf(buf, 48, "%s s", num);
    return buf;
}

/* "1.6 MB" (decimal units, like Wireshark's statistics) */
static char *
fmt_bytes(char *buf, double bytes)
{
    static const char *const unit[] = { "B", "kB", "MB", "GB", "TB" };
    guint u = 0;
    while (bytes >= 1000 && u + 1 < G_N_ELEMENTS(unit)) {
        bytes /= 1000;
        u++;
    }
    char num[G_ASCII_DTOSTR_BUF_SIZE];
    g_ascii_formatd(num, sizeof num, u ? "%.1f" : "%.0f", bytes);
    g_snprintf(buf, 48, "%s %s", num, unit[u]);
    return buf;
}

/* TCP probe classes, as display filter tests. */
enum { PROBE_SYN = 1, PROBE_STEALTH = 2, PROBE_UDP = 4 };

static char *
probe_filter(guint kinds, const TrafanAddress *src)
{
    GString *s = g_string_new(NULL);
    const char *sep = "";
    g_string_append_printf(s, "!%s && (", src->family == 6 ? "icmpv6" : "icmp");
    if (kinds & PROBE_SYN) {
        g_string_append(s, "(tcp.flags.syn==1 && tcp.flags.ack==0)");
        sep = " || ";
    }
    if (kinds & PROBE_STEALTH) {
        g_string_append_printf(s, "%s(tcp.flags.syn==0 && tcp.flags.ack==0 && tcp.flags.reset==0)", sep);
        sep = " || ";
    }
    if (kinds & PROBE_UDP)
        g_string_append_printf(s, "%sudp", sep);
    g_string_append(s, ")");
    return g_string_free(s, FALSE);
}

/* ------------------------------------------------------------------ */
/* port_scan: key (scanner, target)                                     */

typedef struct {
    Distinct ports;             /* probed ports */
    Distinct stealth;           /* probed with FIN/NULL/Xmas */
    Distinct accepted;          /* answered with SYN-ACK: connections, not probes */
    guint    kinds;
    gint64   first, last;       /* of the probes */
} ScanAgg;

static gpointer
scan_new(void)
{
    ScanAgg *a = g_new0(ScanAgg, 1);
    a->first = G_MAXINT64;
    a->last = G_MININT64;
    return a;
}

static void
scan_free(gpointer p)
{
    ScanAgg *a = p;
    distinct_clear(&a->ports);
    distinct_clear(&a->stealth);
    distinct_clear(&a->accepted);
    g_free(a);
}

static void
scan_merge(gpointer into, gconstpointer from, guint cap)
{
    ScanAgg *a = into;
    const ScanAgg *b = from;
    distinct_merge(&a->ports, &b->ports, cap);
    distinct_merge(&a->stealth, &b->stealth, cap);
    distinct_merge(&a->accepted, &b->accepted, cap);
    a->kinds |= b->kinds;
    a->first = MIN(a->first, b->first);
    a->last = MAX(a->last, b->last);
}

static void
scan_judge(TrafanDetector *d, const Window *w, const Key *key, gpointer agg, GHashTable *findings)
{
    const ScanAgg *a = agg;
    const TrafanDetectConfig *c = &d->cfg;
    guint64 probed = distinct_count(&a->ports);
    guint64 answered = distinct_overlap(&a->accepted, &a->ports);
    guint64 failed = probed > answered ? probed - answered : 0;
    guint64 stealth = distinct_count(&a->stealth);
    gboolean by_ports = failed >= c->port_scan_ports;

    if (a->first > a->last || (!by_ports && stealth < c->port_scan_stealth_ports))
        return;

    char src[64], dst[64], dur[48], win[48];
    Verdict v = {
        .host = key->a, .role = TRAFAN_ROLE_SOURCE, .rule = RULE_PORT_SCAN,
        .start = a->first, .end = a->last, .window_ns = w->length,
        .observed = by_ports ? failed : stealth,
        .threshold = by_ports ? c->port_scan_ports : c->port_scan_stealth_ports,
        .approximate = a->ports.hll != NULL || a->stealth.hll != NULL,
        .n_peers = 1, .peers_total = 1,
    };
    v.peers[0].item = key->b;
    v.peers[0].count = failed;
    addr_text(&key->a, src);
    addr_text(&key->b, dst);
    GString *detail = g_string_new(NULL);
    g_string_append_printf(detail, "probed %s%" G_GUINT64_FORMAT " ports on %s",
                           v.approximate ? "about " : "", failed, dst);
    if (stealth)
        g_string_append_printf(detail, " (%" G_GUINT64_FORMAT " with FIN/NULL/Xmas probes)", stealth);
    g_string_append_printf(detail, " in %s (threshold %u%s in %s)", fmt_secs(dur, a->last - a->first),
                           (guint)v.threshold, by_ports ? "" : " stealth-probed ports",
                           fmt_secs(win, w->length));
    v.detail = g_string_free(detail, FALSE);
    char *probes = probe_filter(a->kinds, &key->a);
    v.clause = g_strdup_printf("%s.src==%s && %s.dst==%s && %s", ipf(&key->a), src,
                               ipf(&key->b), dst, probes);
    v.broad = g_strdup_printf("%s.src==%s && %s", ipf(&key->a), src, probes);
    g_free(probes);
    emit(d, findings, &v);
}

/* ------------------------------------------------------------------ */
/* host_sweep: key (scanner, service)                                   */

typedef struct {
    Distinct targets;           /* probed addresses, with probe counts */
    Distinct answered;          /* those that answered */
    gint64   first, last;
} SweepAgg;

static gpointer
sweep_new(void)
{
    SweepAgg *a = g_new0(SweepAgg, 1);
    a->first = G_MAXINT64;
    a->last = G_MININT64;
    return a;
}

static void
sweep_free(gpointer p)
{
    SweepAgg *a = p;
    distinct_clear(&a->targets);
    distinct_clear(&a->answered);
    g_free(a);
}

static void
sweep_merge(gpointer into, gconstpointer from, guint cap)
{
    SweepAgg *a = into;
    const SweepAgg *b = from;
    distinct_merge(&a->targets, &b->targets, cap);
    distinct_merge(&a->answered, &b->answered, cap);
    a->first = MIN(a->first, b->first);
    a->last = MAX(a->last, b->last);
}

static gboolean
is_icmp_proto(guint8 proto)
{
    return proto == 1 || proto == 58;
}

/* The most silent targets within one /16 (IPv4) or /48 (IPv6). */
static guint64
sweep_locality(const SweepAgg *a)
{
    GHashTable *nets = g_hash_table_new(item_hash, item_equal);
    GPtrArray *nets_owned = g_ptr_array_new_with_free_func(g_free);
    guint64 best = 0;
    GPtrArray *targets = distinct_tallies(&a->targets);

    for (guint i = 0; i < targets->len; i++) {
        const TrafanAddress *t = &((const Tally *)targets->pdata[i])->item;
        if (distinct_contains(&a->answered, t))
            continue;
        Tally *net = g_new0(Tally, 1);
        net->item.family = t->family;
        memcpy(net->item.bytes, t->bytes, t->family == 4 ? 2 : 6);
        Tally *seen = g_hash_table_lookup(nets, &net->item);
        if (seen) {
            g_free(net);
            net = seen;
        } else {
            g_hash_table_insert(nets, &net->item, net);
            g_ptr_array_add(nets_owned, net);
        }
        best = MAX(best, ++net->count);
    }
    g_hash_table_unref(nets);
    g_ptr_array_unref(nets_owned);
    g_ptr_array_unref(targets);
    return best;
}

static void
sweep_judge(TrafanDetector *d, const Window *w, const Key *key, gpointer agg, GHashTable *findings)
{
    const SweepAgg *a = agg;
    guint64 probed = distinct_count(&a->targets);
    guint64 answered = distinct_overlap(&a->answered, &a->targets);
    guint64 silent = probed > answered ? probed - answered : 0;

    if (a->first > a->last || silent < d->cfg.host_sweep_hosts)
        return;
    /* Peer-to-peer overlays ping scattered peers on one UDP port; a sweep
     * combs a neighbourhood.  (Past exact_cap this looks at the exact part.) */
    if (key->proto == 17 && sweep_locality(a) < MIN(d->cfg.host_sweep_hosts, distinct_exact_size(&a->targets)))
        return;

    char src[64], dur[48], win[48], service[48];
    Verdict v = {
        .host = key->a, .role = TRAFAN_ROLE_SOURCE, .rule = RULE_HOST_SWEEP,
        .start = a->first, .end = a->last, .window_ns = w->length,
        .observed = silent, .threshold = d->cfg.host_sweep_hosts,
        .approximate = a->targets.hll != NULL, .peers_total = silent,
    };
    v.n_peers = distinct_top(&a->targets, v.peers, TOP_PEERS);
    addr_text(&key->a, src);
    const char *tcp_probe = "tcp.flags.syn==1 && tcp.flags.ack==0";
    if (key->proto == 1)
        v.clause = g_strdup_printf("ip.src==%s && icmp.type==8", src);
    else if (key->proto == 58)
        v.clause = g_strdup_printf("ipv6.src==%s && icmpv6.type==128", src);
    else if (key->proto == 6)
        v.clause = g_strdup_printf("%s.src==%s && !icmp && !icmpv6 && tcp.dstport==%u && %s",
                                   ipf(&key->a), src, key->port, tcp_probe);
    else
        v.clause = g_strdup_printf("%s.src==%s && !icmp && !icmpv6 && udp.dstport==%u",
                                   ipf(&key->a), src, key->port);
    if (is_icmp_proto(key->proto))
        g_snprintf(service, sizeof service, "with ICMP echo requests");
    else
        g_snprintf(service, sizeof service, "on %s/%u", key->proto == 6 ? "tcp" : "udp", key->port);
    v.detail = g_strdup_printf("probed %s%" G_GUINT64_FORMAT " hosts %s without answer in %s "
                               "(threshold %u in %s)", v.approximate ? "about " : "", silent,
                               service, fmt_secs(dur, a->last - a->first), d->cfg.host_sweep_hosts,
                               fmt_secs(win, w->length));
    v.broad = g_strdup_printf("%s.src==%s", ipf(&key->a), src);
    emit(d, findings, &v);
}

/* ------------------------------------------------------------------ */
/* Floods: key (target)                                                 */

enum { FLOOD_SYN, FLOOD_SYNACK, FLOOD_ICMP, FLOOD_UDP, N_FLOOD };

typedef struct {
    guint64  in[N_FLOOD];       /* SYNs, SYN-ACKs, echo requests, UDP received */
    guint64  ack_in;            /* ACKs received (no SYN, no RST): handshakes going on */
    guint64  syn_out, udp_out;  /* what the target itself sent */
    guint64  udp_ported_in;     /* UDP received with a header (not a later fragment) */
    guint64  udp_response_in;   /* ... of which from reflector-style ports */
    Distinct sources[N_FLOOD];
    Distinct ports[N_FLOOD];    /* target ports hit: a flood or a scan? */
    gint64   first[N_FLOOD], last[N_FLOOD];
} FloodAgg;

static gpointer
flood_new(void)
{
    FloodAgg *a = g_new0(FloodAgg, 1);
    for (guint k = 0; k < N_FLOOD; k++) {
        a->first[k] = G_MAXINT64;
        a->last[k] = G_MININT64;
    }
    return a;
}

static void
flood_free(gpointer p)
{
    FloodAgg *a = p;
    for (guint k = 0; k < N_FLOOD; k++) {
        distinct_clear(&a->sources[k]);
        distinct_clear(&a->ports[k]);
    }
    g_free(a);
}

static void
flood_merge(gpointer into, gconstpointer from, guint cap)
{
    FloodAgg *a = into;
    const FloodAgg *b = from;
    for (guint k = 0; k < N_FLOOD; k++) {
        a->in[k] += b->in[k];
        distinct_merge(&a->sources[k], &b->sources[k], cap);
        distinct_merge(&a->ports[k], &b->ports[k], cap);
        a->first[k] = MIN(a->first[k], b->first[k]);
        a->last[k] = MAX(a->last[k], b->last[k]);
    }
    a->ack_in += b->ack_in;
    a->syn_out += b->syn_out;
    a->udp_out += b->udp_out;
    a->udp_ported_in += b->udp_ported_in;
    a->udp_response_in += b->udp_response_in;
}

static void
flood_verdict(TrafanDetector *d, const Window *w, const TrafanAddress *target, const FloodAgg *a,
              guint kind, guint64 excess, gboolean reflection, GHashTable *findings)
{
    static const guint rule_of[N_FLOOD] = { RULE_SYN_FLOOD, RULE_SYN_FLOOD, RULE_ICMP_FLOOD, RULE_UDP_FLOOD };
    static const char *const what[N_FLOOD] = { "SYNs", "unsolicited SYN-ACKs", "ICMP echo requests",
                                               "UDP datagrams" };
    const TrafanDetectConfig *c = &d->cfg;
    const Distinct *sources = &a->sources[kind];
    Tally top[TOP_PEERS];
    guint n_top = distinct_top(sources, top, TOP_PEERS);
    gboolean one_source = !reflection && n_top > 0 &&
                          top[0].count >= c->flood_dominance * a->in[kind];
    const double threshold[N_FLOOD] = {
        c->syn_flood_rate, c->syn_flood_rate, c->icmp_flood_rate,
        one_source ? c->udp_flood_source_rate : c->udp_flood_rate,
    };
    double rate = excess / window_seconds(w);

    if (rate < threshold[kind] || is_group(target))
        return;
    /* One source hitting many ports is a port scan, which port_scan reports. */
    if (one_source && kind != FLOOD_ICMP && distinct_count(&a->ports[kind]) >= c->port_scan_ports)
        return;

    char tgt[64], src[64], rate_text[G_ASCII_DTOSTR_BUF_SIZE], thr[G_ASCII_DTOSTR_BUF_SIZE];
    char dur[48], win[48];
    const char *f = ipf(target);
    const char *match[N_FLOOD] = {
        "tcp.flags.syn==1 && tcp.flags.ack==0", "tcp.flags.syn==1 && tcp.flags.ack==1",
        target->family == 6 ? "icmpv6.type==128" : "icmp.type==8",
        target->family == 6 ? "udp && !icmpv6" : "ip.proto==17 && !icmp",
    };
    Verdict v = {
        .rule = rule_of[kind], .start = a->first[kind], .end = a->last[kind],
        .window_ns = w->length, .observed = rate, .threshold = threshold[kind],
        .approximate = sources->hll != NULL,
    };
    addr_text(target, tgt);
    fmt_number(rate_text, sizeof rate_text, rate);
    fmt_number(thr, sizeof thr, threshold[kind]);
    fmt_secs(dur, a->last[kind] - a->first[kind]);
    fmt_secs(win, w->length);
    if (one_source) {
        v.host = top[0].item;
        v.role = TRAFAN_ROLE_SOURCE;
        v.n_peers = 1;
        v.peers[0].item = *target;
        v.peers[0].count = top[0].count;
        v.peers_total = 1;
        addr_text(&top[0].item, src);
        v.detail = g_strdup_printf("sent %s %s/s to %s for %s (threshold %s/s over %s)", rate_text,
                                   what[kind], tgt, dur, thr, win);
        v.clause = g_strdup_printf("%s.src==%s && %s.dst==%s && %s", ipf(&top[0].item), src, f, tgt,
                                   match[kind]);
        v.broad = g_strdup_printf("%s.src==%s && %s", ipf(&top[0].item), src, match[kind]);
    } else {
        v.host = *target;
        v.role = TRAFAN_ROLE_TARGET;
        v.n_peers = n_top;
        memcpy(v.peers, top, sizeof top);
        v.peers_total = distinct_count(sources);
        v.detail = g_strdup_printf("received %s %s/s from %s%" G_GUINT64_FORMAT " sources%s for %s "
                                   "(threshold %s/s over %s)", rate_text, what[kind],
                                   v.approximate ? "about " : "", v.peers_total,
                                   reflection ? " (reflection)" : "", dur, thr, win);
        v.clause = g_strdup_printf("%s.dst==%s && %s", f, tgt, match[kind]);
        v.broad = g_strdup(v.clause);
    }
    emit(d, findings, &v);
}

static void
flood_judge(TrafanDetector *d, const Window *w, const Key *key, gpointer agg, GHashTable *findings)
{
    const FloodAgg *a = agg;
    const TrafanAddress *target = &key->a;

    /* SYNs its clients never followed with an ACK; SYN-ACKs it never asked for. */
    guint64 syn = a->in[FLOOD_SYN] - MIN(a->ack_in, a->in[FLOOD_SYN]);
    guint64 synack = a->in[FLOOD_SYNACK] - MIN(a->syn_out, a->in[FLOOD_SYNACK]);
    if (syn)
        flood_verdict(d, w, target, a, FLOOD_SYN, syn, FALSE, findings);
    if (synack)
        flood_verdict(d, w, target, a, FLOOD_SYNACK, synack, TRUE, findings);
    if (a->in[FLOOD_ICMP])
        flood_verdict(d, w, target, a, FLOOD_ICMP, a->in[FLOOD_ICMP], FALSE, findings);
    /* A service answering its datagrams is busy, not flooded. */
    guint64 udp = a->in[FLOOD_UDP];
    if (udp && a->udp_out <= d->cfg.flood_reply_ratio * udp)
        flood_verdict(d, w, target, a, FLOOD_UDP, udp,
                      a->udp_ported_in && 2 * a->udp_response_in >= a->udp_ported_in, findings);
}

/* ------------------------------------------------------------------ */
/* packet_rate and bandwidth: key (source)                              */

typedef struct {
    guint64  packets, bytes;
    Distinct peers;             /* destinations, with packets */
    gint64   first, last;
} VolumeAgg;

static gpointer
volume_new(void)
{
    VolumeAgg *a = g_new0(VolumeAgg, 1);
    a->first = G_MAXINT64;
    a->last = G_MININT64;
    return a;
}

static void
volume_free(gpointer p)
{
    VolumeAgg *a = p;
    distinct_clear(&a->peers);
    g_free(a);
}

static void
volume_merge(gpointer into, gconstpointer from, guint cap)
{
    VolumeAgg *a = into;
    const VolumeAgg *b = from;
    a->packets += b->packets;
    a->bytes += b->bytes;
    distinct_merge(&a->peers, &b->peers, cap);
    a->first = MIN(a->first, b->first);
    a->last = MAX(a->last, b->last);
}

static void
volume_verdict(TrafanDetector *d, const Window *w, const Key *key, const VolumeAgg *a,
               guint rule, double observed, double threshold, const char *detail,
               GHashTable *findings)
{
    char src[64];
    Verdict v = {
        .host = key->a, .role = TRAFAN_ROLE_SOURCE, .rule = rule,
        .start = a->first, .end = a->last, .window_ns = w->length,
        .observed = observed, .threshold = threshold,
        .approximate = a->peers.hll != NULL, .peers_total = distinct_count(&a->peers),
    };
    v.n_peers = distinct_top(&a->peers, v.peers, TOP_PEERS);
    addr_text(&key->a, src);
    v.detail = g_strdup(detail);
    v.clause = g_strdup_printf("%s.src==%s", ipf(&key->a), src);
    v.broad = g_strdup(v.clause);
    emit(d, findings, &v);
}

static void
packet_rate_judge(TrafanDetector *d, const Window *w, const Key *key, gpointer agg,
                  GHashTable *findings)
{
    const VolumeAgg *a = agg;
    if (a->packets < d->cfg.packet_rate_packets)
        return;
    char dur[48], win[48];
    char *detail = g_strdup_printf("sent %" G_GUINT64_FORMAT " packets in %s (threshold %u in %s)",
                                   a->packets, fmt_secs(dur, a->last - a->first),
                                   d->cfg.packet_rate_packets, fmt_secs(win, w->length));
    volume_verdict(d, w, key, a, RULE_PACKET_RATE, a->packets, d->cfg.packet_rate_packets, detail,
                   findings);
    g_free(detail);
}

static void
bandwidth_judge(TrafanDetector *d, const Window *w, const Key *key, gpointer agg,
                GHashTable *findings)
{
    const VolumeAgg *a = agg;
    double rate = a->bytes / window_seconds(w);
    if (rate < d->cfg.bandwidth_bytes)
        return;
    char r[48], thr[48], total[48], win[48];
    char *detail = g_strdup_printf("sent %s/s (%s in a %s window; threshold %s/s)",
                                   fmt_bytes(r, rate), fmt_bytes(total, a->bytes),
                                   fmt_secs(win, w->length), fmt_bytes(thr, d->cfg.bandwidth_bytes));
    volume_verdict(d, w, key, a, RULE_BANDWIDTH, rate, d->cfg.bandwidth_bytes, detail, findings);
    g_free(detail);
}

/* With equal windows (the default) the packet_rate windows count for
 * bandwidth too, and the bandwidth windows stay empty: half the work. */
static void
packet_rate_and_bandwidth_judge(TrafanDetector *d, const Window *w, const Key *key, gpointer agg,
                                GHashTable *findings)
{
    packet_rate_judge(d, w, key, agg, findings);
    if (d->volume_shared)
        bandwidth_judge(d, w, key, agg, findings);
}

static const WindowClass window_classes[N_WIN] = {
    [WIN_PORT_SCAN]   = { scan_new, scan_free, scan_merge, scan_judge },
    [WIN_HOST_SWEEP]  = { sweep_new, sweep_free, sweep_merge, sweep_judge },
    [WIN_FLOOD]       = { flood_new, flood_free, flood_merge, flood_judge },
    [WIN_PACKET_RATE] = { volume_new, volume_free, volume_merge, packet_rate_and_bandwidth_judge },
    [WIN_BANDWIDTH]   = { volume_new, volume_free, volume_merge, bandwidth_judge },
};

/* ------------------------------------------------------------------ */
/* Detector life cycle                                                  */

static gint64
seconds_ns(double s)
{
    return MAX((gint64)llround(s * NS_PER_S), 1);
}

static gboolean
volume_shared(const TrafanDetectConfig *cfg)
{
    return seconds_ns(cfg->packet_rate_window) == seconds_ns(cfg->bandwidth_window);
}

static GHashTable *
tally_table(void)
{
    return g_hash_table_new_full(item_hash, item_equal, NULL, g_free);
}

TrafanDetector *
trafan_detector_new(const TrafanDetectConfig *cfg)
{
    TrafanDetector *d = g_new0(TrafanDetector, 1);

    d->cfg = *cfg;
    d->cfg.allowlist = g_strdup(cfg->allowlist ? cfg->allowlist : "");
    d->cfg.allow_prefixes = cfg->allow_prefixes ? g_array_copy(cfg->allow_prefixes)
                                                : g_array_new(FALSE, TRUE, sizeof(Prefix));
    const double lengths[N_WIN] = { cfg->port_scan_window, cfg->host_sweep_window, cfg->flood_window,
                                    cfg->packet_rate_window, cfg->bandwidth_window };
    for (guint r = 0; r < N_WIN; r++) {
        for (guint ph = 0; ph < 2; ph++) {
            Window *w = &d->win[r][ph];
            w->cls = &window_classes[r];
            w->length = seconds_ns(lengths[r]);
            w->offset = ph * (w->length / 2);
            w->index = w->head_index = NO_INDEX;
            w->open = window_table(w);
            w->head_findings = findings_new();
        }
    }
    d->spike_interval_ns = seconds_ns(cfg->spike_interval);
    d->volume_shared = volume_shared(cfg);
    d->beacon_gap_ns = seconds_ns(cfg->beacon_min_interval);
    d->intervals = g_array_new(FALSE, FALSE, sizeof(Interval));
    d->spike_index = d->spike_head_index = NO_INDEX;
    d->spike_hosts = tally_table();
    d->beacons = g_hash_table_new_full(key_hash, key_equal, g_free, g_free);
    d->body = findings_new();
    d->output = findings_new();
    d->previews = findings_new();
    d->fresh = g_ptr_array_new();
    d->fresh_out = g_ptr_array_new();
    return d;
}

void
trafan_detector_free(TrafanDetector *d)
{
    if (d == NULL)
        return;
    for (guint r = 0; r < N_WIN; r++) {
        for (guint ph = 0; ph < 2; ph++) {
            Window *w = &d->win[r][ph];
            g_hash_table_unref(w->open);
            if (w->head)
                g_hash_table_unref(w->head);
            g_hash_table_unref(w->head_findings);
        }
    }
    g_array_unref(d->intervals);
    g_hash_table_unref(d->spike_hosts);
    if (d->spike_head_hosts)
        g_hash_table_unref(d->spike_head_hosts);
    g_hash_table_unref(d->beacons);
    g_hash_table_unref(d->body);
    g_hash_table_unref(d->output);
    g_hash_table_unref(d->previews);
    g_ptr_array_unref(d->fresh);
    g_ptr_array_unref(d->fresh_out);
    if (d->sorted)
        g_ptr_array_unref(d->sorted);
    trafan_detect_config_clear(&d->cfg);
    g_free(d);
}

/* ------------------------------------------------------------------ */
/* bandwidth_spike: a series of intervals, judged at the end            */

static void
spike_close(TrafanDetector *d)
{
    if (d->spike_index == NO_INDEX)
        return;
    Interval iv = { .index = d->spike_index, .bytes = d->spike_bytes };
    GHashTableIter it;
    gpointer v;
    g_hash_table_iter_init(&it, d->spike_hosts);
    while (g_hash_table_iter_next(&it, NULL, &v)) {
        const Tally *t = v;
        if (t->count > iv.top_bytes ||
            (t->count == iv.top_bytes && item_compare(&t->item, &iv.top) < 0)) {
            iv.top = t->item;
            iv.top_bytes = t->count;
        }
    }
    g_array_append_val(d->intervals, iv);
    if (d->spike_index == d->spike_head_index) {
        d->spike_head_hosts = d->spike_hosts;
        d->spike_hosts = tally_table();
    } else {
        g_hash_table_remove_all(d->spike_hosts);
    }
    d->spike_index = NO_INDEX;
    d->spike_bytes = 0;
}

static void
spike_add_host(TrafanDetector *d, GHashTable *hosts, const TrafanAddress *a, guint64 bytes)
{
    Tally *t = g_hash_table_lookup(hosts, a);
    if (t == NULL) {
        if (g_hash_table_size(hosts) >= d->cfg.max_tracked)
            return;
        t = g_new0(Tally, 1);
        t->item = *a;
        g_hash_table_insert(hosts, &t->item, t);
    }
    t->count += bytes;
}

static void
spike_add(TrafanDetector *d, gint64 t, const TrafanAddress *talker, guint32 bytes)
{
    gint64 idx = floor_div(t, d->spike_interval_ns);
    if (idx != d->spike_index) {
        spike_close(d);
        d->spike_index = idx;
        if (d->spike_head_index == NO_INDEX)
            d->spike_head_index = idx;
    }
    d->spike_bytes += bytes;
    if (talker)
        spike_add_host(d, d->spike_hosts, talker, bytes);
}

static int
u64_compare(gconstpointer a, gconstpointer b)
{
    guint64 x = *(const guint64 *)a, y = *(const guint64 *)b;
    return x < y ? -1 : x > y;
}

static void
spike_judge(TrafanDetector *d, GHashTable *findings)
{
    const TrafanDetectConfig *c = &d->cfg;
    const GArray *s = d->intervals;
    gint64 len = seconds_ns(c->spike_interval);
    guint64 *window = g_new(guint64, c->spike_baseline);

    for (guint i = 0; i < s->len; i++) {
        const Interval *iv = &g_array_index(s, Interval, i);
        gint64 first = g_array_index(s, Interval, 0).index;
        guint m = (guint)MIN((gint64)c->spike_baseline, iv->index - first);
        if (m < c->spike_min_baseline || iv->bytes < c->spike_min_bytes || iv->top.family == 0)
            continue;
        /* The m preceding intervals, idle ones as zeros. */
        guint n = 0;
        for (guint j = i; j-- > 0 && g_array_index(s, Interval, j).index >= iv->index - m;)
            window[n++] = g_array_index(s, Interval, j).bytes;
        while (n < m)
            window[n++] = 0;
        qsort(window, m, sizeof *window, u64_compare);
        double median = m % 2 ? window[m / 2] : (window[m / 2 - 1] + window[m / 2]) / 2.0;
        double threshold = MAX(c->spike_factor * median, (double)c->spike_min_bytes);
        if (iv->bytes <= threshold)
            continue;

        char top[64], total[48], med[48], at[48], len_text[48];
        char from[G_ASCII_DTOSTR_BUF_SIZE], to[G_ASCII_DTOSTR_BUF_SIZE], factor[G_ASCII_DTOSTR_BUF_SIZE];
        char limit[G_ASCII_DTOSTR_BUF_SIZE];
        gint64 start = iv->index * len;
        Verdict v = {
            .host = iv->top, .role = TRAFAN_ROLE_SOURCE, .rule = RULE_SPIKE,
            .start = start, .end = start + len, .window_ns = len,
            .observed = iv->bytes, .threshold = threshold, .n_peers = 0, .peers_total = 0,
        };
        addr_text(&iv->top, top);
        g_ascii_formatd(from, sizeof from, "%.6f", (start - d->ref_ns) / NS_PER_S);
        g_ascii_formatd(to, sizeof to, "%.6f", (start + len - d->ref_ns) / NS_PER_S);
        g_ascii_formatd(factor, sizeof factor, "%.0f", median > 0 ? iv->bytes / median : 0);
        v.detail = g_strdup_printf("was the top talker (%s of %s) in the %s interval at +%s, %s%s "
                                   "the median %s of the %u preceding intervals (threshold %s "
                                   "times, at least %u bytes)",
                                   fmt_bytes(med, iv->top_bytes), fmt_bytes(total, iv->bytes),
                                   fmt_secs(len_text, len), fmt_secs(at, start - d->ref_ns),
                                   median > 0 ? factor : "far above", median > 0 ? " times" : "",
                                   fmt_bytes(top, median), m,
                                   g_ascii_formatd(limit, sizeof limit, "%g", c->spike_factor),
                                   c->spike_min_bytes);
        v.clause = g_strdup_printf("frame.time_relative >= %s && frame.time_relative < %s", from, to);
        v.broad = g_strdup(v.clause);
        emit(d, findings, &v);
    }
    g_free(window);
}

/* ------------------------------------------------------------------ */
/* beacon: key (source, destination, proto, port), whole capture        */

static void
beacon_interval(Beacon *b, gint64 from, gint64 to, int sign)
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
beacon_event(Beacon *b, gint64 t, guint16 sport)
{
    if (b->n == 0) {
        b->first_event = t;
        b->first_sport = sport;
    } else {
        beacon_interval(b, b->last_event, t, +1);
        if (b->n == 1)
            b->second_event = t;
    }
    b->n++;
    b->last_event = t;
    b->last_sport = sport;
}

/* TCP: a SYN whose source port differs from the previous SYN's (not a
 * retransmission).  UDP: a request after at least beacon_min_interval idle. */
static void
beacon_add(TrafanDetector *d, gint64 t, const TrafanAddress *src, const TrafanAddress *dst,
           guint8 proto, guint16 sport, guint16 dport)
{
    Key k = make_key(src, dst, proto, dport);
    Beacon *b = g_hash_table_lookup(d->beacons, &k);
    if (b == NULL) {
        if (g_hash_table_size(d->beacons) >= d->cfg.max_tracked) {
            d->untracked++;
            return;
        }
        b = g_new0(Beacon, 1);
        g_hash_table_insert(d->beacons, g_memdup2(&k, sizeof k), b);
    }
    gboolean event = b->n == 0 ||
        (proto == 6 ? sport != b->last_sport
                    : t - b->last_packet >= d->beacon_gap_ns);
    if (event)
        beacon_event(b, t, sport);
    b->last_packet = t;
}

/* Fold `later` (the same key in the next slice) into b. */
static void
beacon_merge(const TrafanDetector *d, Beacon *b, const Beacon *later, guint8 proto)
{
    gboolean first_is_event = proto == 6
        ? later->first_sport != b->last_sport
        : later->first_event - b->last_packet >= seconds_ns(d->cfg.beacon_min_interval);
    Beacon m = *b;

    m.sum_us += later->sum_us;
    m.sumsq_us += later->sumsq_us;
    if (first_is_event) {
        beacon_interval(&m, b->last_event, later->first_event, +1);
        m.n += later->n;
        if (b->n == 1)
            m.second_event = later->first_event;
    } else {
        /* later's first start continues b's last exchange. */
        m.n += later->n - 1;
        if (later->n >= 2) {
            beacon_interval(&m, later->first_event, later->second_event, -1);
            beacon_interval(&m, b->last_event, later->second_event, +1);
            if (b->n == 1)
                m.second_event = later->second_event;
        }
    }
    if (m.n > b->n)
        m.last_event = later->last_event;
    m.last_sport = later->last_sport;
    m.last_packet = later->last_packet;
    *b = m;
}

static void
beacon_judge(TrafanDetector *d, const Key *key, const Beacon *b, GHashTable *findings)
{
    const TrafanDetectConfig *c = &d->cfg;
    if (b->n < c->beacon_min_count)
        return;
    double k = b->n - 1;
    double mean = b->sum_us / k;
    double var = (double)(k * (double)b->sumsq_us - (double)b->sum_us * (double)b->sum_us) / (k * k);
#ifdef __SIZEOF_INT128__
    {   /* exact in integers: k * sumsq - sum^2 */
        unsigned __int128 n = (unsigned __int128)(b->n - 1) * b->sumsq_us;
        unsigned __int128 s2 = (unsigned __int128)b->sum_us * b->sum_us;
        var = n > s2 ? (double)(n - s2) / (k * k) : 0;
    }
#endif
    double cv = mean > 0 ? sqrt(MAX(var, 0)) / mean : INFINITY;
    if (mean < c->beacon_min_interval * 1e6 || cv > c->beacon_max_cv)
        return;

    char src[64], dst[64], every[G_ASCII_DTOSTR_BUF_SIZE], cv_text[G_ASCII_DTOSTR_BUF_SIZE];
    char max_cv[G_ASCII_DTOSTR_BUF_SIZE], span[48];
    const char *proto = key->proto == 6 ? "tcp" : "udp";
    Verdict v = {
        .host = key->a, .role = TRAFAN_ROLE_SOURCE, .rule = RULE_BEACON,
        .start = b->first_event, .end = b->last_event, .window_ns = 0,
        .observed = b->n, .threshold = c->beacon_min_count, .n_peers = 1, .peers_total = 1,
    };
    v.peers[0].item = key->b;
    v.peers[0].count = b->n;
    addr_text(&key->a, src);
    addr_text(&key->b, dst);
    fmt_number(every, sizeof every, mean / 1e6);
    g_ascii_formatd(cv_text, sizeof cv_text, "%.2f", cv);
    g_ascii_formatd(max_cv, sizeof max_cv, "%g", c->beacon_max_cv);
    v.detail = g_strdup_printf("contacted %s %s/%u %" G_GUINT64_FORMAT " times, every %s s "
                               "(CV %s) over %s (threshold %u times, CV <= %s)", dst, proto,
                               key->port, b->n, every, cv_text,
                               fmt_secs(span, b->last_event - b->first_event),
                               c->beacon_min_count, max_cv);
    if (key->proto == 6)
        v.clause = g_strdup_printf("%s.src==%s && %s.dst==%s && tcp.dstport==%u && "
                                   "tcp.flags.syn==1 && tcp.flags.ack==0", ipf(&key->a), src,
                                   ipf(&key->b), dst, key->port);
    else
        v.clause = g_strdup_printf("%s.src==%s && %s.dst==%s && udp.dstport==%u", ipf(&key->a), src,
                                   ipf(&key->b), dst, key->port);
    v.broad = g_strdup_printf("%s.src==%s", ipf(&key->a), src);
    emit(d, findings, &v);
}

/* ------------------------------------------------------------------ */
/* Packet dispatch                                                      */

/* Ports that answer small requests with large responses (the usual
 * amplification vectors); datagrams from them are responses. */
static gboolean
reflector_port(guint16 port)
{
    switch (port) {
    case 17: case 19: case 53: case 69: case 111: case 123: case 137: case 161: case 389:
    case 500: case 520: case 1900: case 3283: case 3702: case 4500: case 5353: case 5683:
    case 11211:
        return TRUE;
    }
    return FALSE;
}

static gboolean
udp_is_response(guint16 sport, guint16 dport)
{
    return reflector_port(sport) || (sport < 1024 && dport >= 1024);
}

#define EACH_PHASE(d, r, w) for (Window *w = (d)->win[r]; w < (d)->win[r] + 2; w++)

static void
scan_event(TrafanDetector *d, gint64 t, const TrafanAddress *scanner, const TrafanAddress *target,
           guint8 proto, guint16 port, guint kind)
{
    Key k = make_key(scanner, target, 0, 0);
    TrafanAddress item = port_item(proto, port);
    guint cap = d->cfg.exact_cap;
    EACH_PHASE(d, WIN_PORT_SCAN, w) {
        ScanAgg *a = window_slot(d, w, &k);
        if (a == NULL)
            continue;
        if (kind == 0) {        /* the target accepted a connection on port */
            distinct_add(&a->accepted, &item, 1, cap);
            continue;
        }
        distinct_add(&a->ports, &item, 1, cap);
        if (kind == PROBE_STEALTH)
            distinct_add(&a->stealth, &item, 1, cap);
        a->kinds |= kind;
        a->first = MIN(a->first, t);
        a->last = MAX(a->last, t);
    }
}

static void
sweep_event(TrafanDetector *d, gint64 t, const TrafanAddress *scanner, guint8 proto, guint16 port,
            const TrafanAddress *peer, gboolean answer)
{
    if (is_group(peer))
        return;
    Key k = make_key(scanner, NULL, proto, port);
    EACH_PHASE(d, WIN_HOST_SWEEP, w) {
        SweepAgg *a = window_slot(d, w, &k);
        if (a == NULL)
            continue;
        if (answer) {
            distinct_add(&a->answered, peer, 1, d->cfg.exact_cap);
            continue;
        }
        distinct_add(&a->targets, peer, 1, d->cfg.exact_cap);
        a->first = MIN(a->first, t);
        a->last = MAX(a->last, t);
    }
}

/* A flood-relevant packet toward `target` (kind < N_FLOOD), or a counter. */
enum { COUNT_ACK_IN = N_FLOOD, COUNT_SYN_OUT, COUNT_UDP_OUT };

static void
flood_event(TrafanDetector *d, gint64 t, const TrafanAddress *target, guint kind,
            const TrafanAddress *source, int port, gboolean response)
{
    Key k = make_key(target, NULL, 0, 0);
    guint cap = d->cfg.exact_cap;
    EACH_PHASE(d, WIN_FLOOD, w) {
        FloodAgg *a = window_slot(d, w, &k);
        if (a == NULL)
            continue;
        switch (kind) {
        case COUNT_ACK_IN:  a->ack_in++;  continue;
        case COUNT_SYN_OUT: a->syn_out++; continue;
        case COUNT_UDP_OUT: a->udp_out++; continue;
        }
        a->in[kind]++;
        distinct_add(&a->sources[kind], source, 1, cap);
        if ((kind == FLOOD_SYN || kind == FLOOD_UDP) && port >= 0) {
            TrafanAddress item = port_item(0, (guint16)port);
            distinct_add(&a->ports[kind], &item, 1, cap);
        }
        if (kind == FLOOD_UDP && port >= 0)
            a->udp_ported_in++;
        if (kind == FLOOD_UDP && response)
            a->udp_response_in++;
        a->first[kind] = MIN(a->first[kind], t);
        a->last[kind] = MAX(a->last[kind], t);
    }
}

static void
volume_event(TrafanDetector *d, gint64 t, guint r, const TrafanAddress *src,
             const TrafanAddress *dst, guint32 bytes)
{
    Key k = make_key(src, NULL, 0, 0);
    EACH_PHASE(d, r, w) {
        VolumeAgg *a = window_slot(d, w, &k);
        if (a == NULL)
            continue;
        a->packets++;
        a->bytes += bytes;
        distinct_add(&a->peers, dst, 1, d->cfg.exact_cap);
        a->first = MIN(a->first, t);
        a->last = MAX(a->last, t);
    }
}

static void
tcp_packet(TrafanDetector *d, gint64 t, const TrafanTransport *tr, const TrafanAddress *src,
           const TrafanAddress *dst)
{
    guint f = tr->tcp_flags;
    gboolean syn = f & TRAFAN_TCP_SYN, ack = f & TRAFAN_TCP_ACK, rst = f & TRAFAN_TCP_RST;

    if (rst)
        return;
    if (syn && !ack) {
        scan_event(d, t, src, dst, 6, tr->dst_port, PROBE_SYN);
        sweep_event(d, t, src, 6, tr->dst_port, dst, FALSE);
        flood_event(d, t, dst, FLOOD_SYN, src, tr->dst_port, FALSE);
        flood_event(d, t, src, COUNT_SYN_OUT, NULL, 0, FALSE);
        beacon_add(d, t, src, dst, 6, tr->src_port, tr->dst_port);
    } else if (syn && ack) {
        scan_event(d, t, dst, src, 6, tr->src_port, 0);
        sweep_event(d, t, dst, 6, tr->src_port, src, TRUE);
        flood_event(d, t, dst, FLOOD_SYNACK, src, tr->dst_port, FALSE);
    } else if (!ack) {
        scan_event(d, t, src, dst, 6, tr->dst_port, PROBE_STEALTH);
    } else {
        flood_event(d, t, dst, COUNT_ACK_IN, NULL, 0, FALSE);
    }
}

static void
udp_packet(TrafanDetector *d, gint64 t, const TrafanTransport *tr, const TrafanAddress *src,
           const TrafanAddress *dst)
{
    gboolean response = udp_is_response(tr->src_port, tr->dst_port);

    sweep_event(d, t, dst, 17, tr->src_port, src, TRUE);
    flood_event(d, t, dst, FLOOD_UDP, src, tr->dst_port, response);
    flood_event(d, t, src, COUNT_UDP_OUT, NULL, 0, FALSE);
    if (!response) {
        scan_event(d, t, src, dst, 17, tr->dst_port, PROBE_UDP);
        sweep_event(d, t, src, 17, tr->dst_port, dst, FALSE);
        beacon_add(d, t, src, dst, 17, tr->src_port, tr->dst_port);
    }
}

static gboolean
icmp_is_error(guint8 family, guint8 type)
{
    return family == 4 ? (type == 3 || type == 4 || type == 5 || type == 11 || type == 12)
                       : (type >= 1 && type <= 4);
}

/* The IP header carrying the outermost ICMP message. */
static const TrafanIpLayer *
icmp_layer(const TrafanPacket *pkt)
{
    guint8 proto = pkt->icmp_family == 4 ? 1 : 58;
    const TrafanIpLayer *fallback = NULL;
    for (guint i = 0; i < pkt->n_ip && i < TRAFAN_MAX_LAYERS; i++) {
        if (pkt->ip[i].ip_proto == proto)
            return &pkt->ip[i];
        if (pkt->ip[i].src.family == pkt->icmp_family)
            fallback = &pkt->ip[i];   /* e.g. behind IPv6 extension headers */
    }
    return fallback;
}

void
trafan_detector_add(TrafanDetector *d, const TrafanPacket *pkt)
{
    if (d->finished)
        return;
    gint64 t = pkt->abs_ns;
    if (!d->seen) {
        d->seen = TRUE;
        d->first_ns = t;
        d->ref_ns = pkt->abs_ns - pkt->rel_ns;
    } else if (t < d->now) {
        t = d->now;             /* a step back in time: hold the clock */
    }
    d->now = t;
    for (guint r = 0; r < N_WIN; r++)
        EACH_PHASE(d, r, w)
            window_advance(d, w, t);

    guint n_ip = MIN(pkt->n_ip, TRAFAN_MAX_LAYERS);
    TrafanAddress src = { 0 }, dst = { 0 };
    if (n_ip) {
        src = norm(&pkt->ip[0].src);
        dst = norm(&pkt->ip[0].dst);
        volume_event(d, t, WIN_PACKET_RATE, &src, &dst, pkt->frame_len);
        if (!d->volume_shared)
            volume_event(d, t, WIN_BANDWIDTH, &src, &dst, pkt->frame_len);
    }
    spike_add(d, t, n_ip ? &src : NULL, pkt->frame_len);

    /* An ICMP error quotes the packet it answers: its headers are no traffic. */
    gboolean icmp_error = pkt->icmp_family && icmp_is_error(pkt->icmp_family, pkt->icmp_type);
    guint n_tr = MIN(pkt->n_transport, TRAFAN_MAX_LAYERS);
    for (guint i = 0; i < n_tr && !icmp_error; i++) {
        const TrafanTransport *tr = &pkt->transport[i];
        TrafanAddress s = norm(&tr->src), ds = norm(&tr->dst);
        if (tr->ip_proto == 6)
            tcp_packet(d, t, tr, &s, &ds);
        else if (tr->ip_proto == 17)
            udp_packet(d, t, tr, &s, &ds);
    }
    /* A UDP fragment without its header still floods its target. */
    if (n_tr == 0 && n_ip && pkt->icmp_family == 0 && pkt->ip[n_ip - 1].ip_proto == 17) {
        TrafanAddress s = norm(&pkt->ip[n_ip - 1].src), ds = norm(&pkt->ip[n_ip - 1].dst);
        flood_event(d, t, &ds, FLOOD_UDP, &s, -1, FALSE);
    }

    const TrafanIpLayer *ip = pkt->icmp_family ? icmp_layer(pkt) : NULL;
    if (ip) {
        TrafanAddress s = norm(&ip->src), ds = norm(&ip->dst);
        guint8 proto = pkt->icmp_family == 4 ? 1 : 58;
        guint8 request = pkt->icmp_family == 4 ? 8 : 128, reply = pkt->icmp_family == 4 ? 0 : 129;
        if (pkt->icmp_type == request) {
            sweep_event(d, t, &s, proto, 0, &ds, FALSE);
            flood_event(d, t, &ds, FLOOD_ICMP, &s, -1, FALSE);
        } else if (pkt->icmp_type == reply) {
            sweep_event(d, t, &ds, proto, 0, &s, TRUE);
        }
    }
}

/* ------------------------------------------------------------------ */
/* Reporting                                                            */

static void
finding_publish(const TrafanDetector *d, Finding *f)
{
    TrafanFlag *flag = f->flag;
    char host[64];

    if (!f->dirty)
        return;
    f->dirty = FALSE;
    flag->start_ns = f->start;
    flag->end_ns = MAX(f->end, f->start);
    flag->observed = f->observed;
    flag->threshold = f->threshold;
    flag->window_ns = f->window_ns;
    flag->approximate = f->approximate;
    flag->peers_total = MAX(f->peers_total, (guint64)g_hash_table_size(f->peers));

    GPtrArray *all = table_values(f->peers);
    g_ptr_array_sort(all, tally_by_count);
    g_array_set_size(flag->peers, 0);
    for (guint i = 0; i < MIN(all->len, TOP_PEERS); i++) {
        const Tally *t = all->pdata[i];
        TrafanFlagPeer p = { t->item, t->count };
        g_array_append_val(flag->peers, p);
    }
    g_ptr_array_unref(all);

    g_free(flag->filter);
    if (f->clauses_overflow || f->clauses->len == 0) {
        flag->filter = g_strdup(f->broad ? f->broad : "");
    } else if (f->clauses->len == 1) {
        flag->filter = g_strdup(f->clauses->pdata[0]);
    } else {
        GString *s = g_string_new(NULL);
        for (guint i = 0; i < f->clauses->len; i++)
            g_string_append_printf(s, "%s(%s)", i ? " || " : "", (char *)f->clauses->pdata[i]);
        flag->filter = g_string_free(s, FALSE);
    }

    g_free(flag->summary);
    addr_text(&f->host, host);
    guint64 peers = flag->peers_total;
    if (f->rule == RULE_PORT_SCAN && peers > 1)
        flag->summary = g_strdup_printf("%s %s; %" G_GUINT64_FORMAT " hosts scanned in all",
                                        host, f->detail, peers);
    else if ((f->rule == RULE_BEACON || f->role == TRAFAN_ROLE_SOURCE) && peers > 1 &&
             (f->rule == RULE_BEACON || f->rule == RULE_SYN_FLOOD || f->rule == RULE_UDP_FLOOD ||
              f->rule == RULE_ICMP_FLOOD))
        flag->summary = g_strdup_printf("%s %s; %" G_GUINT64_FORMAT " destinations in all",
                                        host, f->detail, peers);
    else
        flag->summary = g_strdup_printf("%s %s", host, f->detail);
    (void)d;
}

void
trafan_detector_peek(TrafanDetector *d)
{
    d->peeking = TRUE;
    for (guint r = 0; r < N_WIN; r++) {
        for (guint ph = 0; ph < 2; ph++) {
            Window *w = &d->win[r][ph];
            if (w->index == NO_INDEX)
                continue;
            GHashTable *scratch = findings_new();
            window_judge_into(d, w, w->open, scratch);
            g_hash_table_unref(scratch);
        }
    }
    /* Beacons are judged on their whole series at the end; so far is enough
     * to alert. */
    GHashTable *scratch = findings_new();
    GHashTableIter it;
    gpointer k, v;
    g_hash_table_iter_init(&it, d->beacons);
    while (g_hash_table_iter_next(&it, &k, &v))
        beacon_judge(d, k, v, scratch);
    g_hash_table_unref(scratch);
    d->peeking = FALSE;
}

GPtrArray *
trafan_detector_take_new(TrafanDetector *d)
{
    g_ptr_array_set_size(d->fresh_out, 0);
    GHashTableIter it;
    gpointer v;
    g_hash_table_iter_init(&it, d->output);
    while (g_hash_table_iter_next(&it, NULL, &v))
        finding_publish(d, v);
    g_hash_table_iter_init(&it, d->previews);
    while (g_hash_table_iter_next(&it, NULL, &v))
        finding_publish(d, v);
    for (guint i = 0; i < d->fresh->len; i++)
        g_ptr_array_add(d->fresh_out, d->fresh->pdata[i]);
    g_ptr_array_set_size(d->fresh, 0);
    return d->fresh_out;
}

static int
flag_compare(gconstpointer pa, gconstpointer pb)
{
    const TrafanFlag *a = *(TrafanFlag *const *)pa, *b = *(TrafanFlag *const *)pb;
    if (a->start_ns != b->start_ns)
        return a->start_ns < b->start_ns ? -1 : 1;
    int c = strcmp(a->rule, b->rule);
    if (c)
        return c;
    c = item_compare(&a->host, &b->host);
    return c ? c : (int)a->role - (int)b->role;
}

const GPtrArray *
trafan_detector_finish(TrafanDetector *d)
{
    if (d->finished)
        return d->sorted;
    for (guint r = 0; r < N_WIN; r++)
        EACH_PHASE(d, r, w)
            window_close(d, w);
    spike_close(d);
    spike_judge(d, d->body);

    GHashTableIter it;
    gpointer k, v;
    g_hash_table_iter_init(&it, d->beacons);
    while (g_hash_table_iter_next(&it, &k, &v))
        beacon_judge(d, k, v, d->body);

    d->finished = TRUE;
    d->sorted = g_ptr_array_new();
    g_hash_table_iter_init(&it, d->output);
    while (g_hash_table_iter_next(&it, NULL, &v)) {
        finding_publish(d, v);
        g_ptr_array_add(d->sorted, ((Finding *)v)->flag);
    }
    g_ptr_array_sort(d->sorted, flag_compare);
    return d->sorted;
}

guint
trafan_detector_open_flags(const TrafanDetector *d)
{
    guint n = g_hash_table_size(d->output);
    GHashTableIter it;
    gpointer key;

    g_hash_table_iter_init(&it, d->previews);
    while (g_hash_table_iter_next(&it, &key, NULL))
        n += !g_hash_table_contains(d->output, key);
    return n;
}

/* ------------------------------------------------------------------ */
/* Merge                                                                */

G_DEFINE_QUARK(trafan-detect-error-quark, trafan_detect_error)

static void
findings_fold_all(TrafanDetector *d, GHashTable *into, GHashTable *from, gboolean to_output)
{
    GHashTableIter it;
    gpointer v;
    g_hash_table_iter_init(&it, from);
    while (g_hash_table_iter_next(&it, NULL, &v)) {
        const Finding *g = v;
        gboolean created;
        finding_fold(findings_get(into, &g->host, g->role, g->rule, NULL), g, d->cfg.exact_cap);
        if (!to_output)
            continue;
        Finding *f = findings_get(d->output, &g->host, g->role, g->rule, &created);
        finding_fold(f, g, d->cfg.exact_cap);
        if (created) {
            f->flag = trafan_flag_new(&f->host, f->role, rule_names[f->rule]);
            g_ptr_array_add(d->fresh, f->flag);
        }
    }
}

static void
table_merge(const Window *w, GHashTable *into, GHashTable *from, guint cap)
{
    GHashTableIter it;
    gpointer k, agg;
    g_hash_table_iter_init(&it, from);
    while (g_hash_table_iter_next(&it, &k, &agg)) {
        gpointer mine = g_hash_table_lookup(into, k);
        if (mine == NULL) {
            mine = w->cls->agg_new();
            g_hash_table_insert(into, g_memdup2(k, sizeof(Key)), mine);
        }
        w->cls->agg_merge(mine, agg, cap);
    }
}

static void
window_merge(TrafanDetector *d, Window *w, const Window *later)
{
    guint cap = d->cfg.exact_cap;

    window_forget_recent(w);
    gboolean later_in_head = later->index != NO_INDEX && later->index == later->head_index;
    GHashTable *later_head = later_in_head ? later->open : later->head;

    if (later->head_index == NO_INDEX)
        return;                 /* later saw no packet */
    if (w->head_index == NO_INDEX) {
        /* Nothing here yet: take later's windows as they are. */
        w->head_index = later->head_index;
        if (later->head) {
            w->head = window_table(w);
            table_merge(w, w->head, later->head, cap);
        }
        findings_fold_all(d, w->head_findings, later->head_findings, TRUE);
        table_merge(w, w->open, later->open, cap);
        w->index = later->index;
        return;
    }
    if (w->index == later->head_index) {
        /* The window both slices share: judge it whole. */
        if (later_head)
            table_merge(w, w->open, later_head, cap);
        if (later_in_head)
            return;
        window_close(d, w);
    } else {
        window_close(d, w);
        /* later's first window stands alone: its verdicts hold. */
        findings_fold_all(d, d->body, later->head_findings, TRUE);
    }
    table_merge(w, w->open, later->open, cap);
    w->index = later->index;
}

static void
spike_merge(TrafanDetector *d, const TrafanDetector *later)
{
    if (later->spike_head_index == NO_INDEX)
        return;
    gboolean later_in_head = later->spike_index == later->spike_head_index;
    GHashTable *later_head = later_in_head ? later->spike_hosts : later->spike_head_hosts;
    guint skip = 0;
    GHashTableIter it;
    gpointer v;

    if (d->spike_head_index == NO_INDEX)
        d->spike_head_index = later->spike_head_index;
    if (d->spike_index != NO_INDEX && d->spike_index == later->spike_head_index) {
        /* Shared interval: add later's part to the open one. */
        const Interval *first = later_in_head ? NULL : &g_array_index(later->intervals, Interval, 0);
        d->spike_bytes += first ? first->bytes : later->spike_bytes;
        g_hash_table_iter_init(&it, later_head);
        while (g_hash_table_iter_next(&it, NULL, &v))
            spike_add_host(d, d->spike_hosts, &((Tally *)v)->item, ((Tally *)v)->count);
        if (later_in_head)
            return;
        skip = 1;
    } else if (d->spike_index == NO_INDEX && d->intervals->len == 0 && later->spike_head_hosts) {
        d->spike_head_hosts = tally_table();
        g_hash_table_iter_init(&it, later->spike_head_hosts);
        while (g_hash_table_iter_next(&it, NULL, &v))
            spike_add_host(d, d->spike_head_hosts, &((Tally *)v)->item, ((Tally *)v)->count);
    }
    spike_close(d);
    for (guint i = skip; i < later->intervals->len; i++)
        g_array_append_val(d->intervals, g_array_index(later->intervals, Interval, i));
    d->spike_index = later->spike_index;
    d->spike_bytes = later->spike_bytes;
    g_hash_table_iter_init(&it, later->spike_hosts);
    while (g_hash_table_iter_next(&it, NULL, &v))
        spike_add_host(d, d->spike_hosts, &((Tally *)v)->item, ((Tally *)v)->count);
}

static gboolean
same_config(const TrafanDetectConfig *a, const TrafanDetectConfig *b)
{
    for (guint i = 0; i < G_N_ELEMENTS(options); i++) {
        const TrafanDetectOption *o = &options[i];
        const char *x = (const char *)a + o->offset, *y = (const char *)b + o->offset;
        switch (o->type) {
        case TRAFAN_OPT_UINT: case TRAFAN_OPT_ENUM:
            if (*(const guint *)x != *(const guint *)y) return FALSE;
            break;
        case TRAFAN_OPT_BOOL:
            if (!*(const gboolean *)x != !*(const gboolean *)y) return FALSE;
            break;
        case TRAFAN_OPT_DOUBLE:
            if (*(const double *)x != *(const double *)y) return FALSE;
            break;
        case TRAFAN_OPT_STRING:
            if (g_strcmp0(*(char *const *)x, *(char *const *)y) != 0) return FALSE;
            break;
        }
    }
    return TRUE;
}

gboolean
trafan_detector_merge(TrafanDetector *d, const TrafanDetector *later, GError **error)
{
    if (d->finished || later->finished) {
        g_set_error(error, trafan_detect_error_quark(), 1,
                    "cannot merge detectors after trafan_detector_finish()");
        return FALSE;
    }
    if (!same_config(&d->cfg, &later->cfg)) {
        g_set_error(error, trafan_detect_error_quark(), 2,
                    "cannot merge detectors with different options");
        return FALSE;
    }
    if (!later->seen)
        return TRUE;

    for (guint r = 0; r < N_WIN; r++)
        for (guint ph = 0; ph < 2; ph++)
            window_merge(d, &d->win[r][ph], &later->win[r][ph]);
    findings_fold_all(d, d->body, later->body, TRUE);
    spike_merge(d, later);

    GHashTableIter it;
    gpointer k, v;
    g_hash_table_iter_init(&it, later->beacons);
    while (g_hash_table_iter_next(&it, &k, &v)) {
        Beacon *mine = g_hash_table_lookup(d->beacons, k);
        if (mine)
            beacon_merge(d, mine, v, ((const Key *)k)->proto);
        else
            g_hash_table_insert(d->beacons, g_memdup2(k, sizeof(Key)), g_memdup2(v, sizeof(Beacon)));
    }

    if (!d->seen) {
        d->first_ns = later->first_ns;
        d->ref_ns = later->ref_ns;
    }
    d->seen = TRUE;
    d->now = MAX(d->now, later->now);
    d->untracked += later->untracked;
    return TRUE;
}
