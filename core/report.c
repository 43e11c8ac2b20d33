/* report.c — the statistics as a text report, JSON, CSV and a DOT graph.
 *
 * Every table is described once, as a list of columns (title, JSON key, DOT
 * attribute, kind, getter); the four formats are loops over those lists.
 * A new column is one line in its table.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <glib/gstdio.h>

#include "report.h"

#define RULE "================================================================================\n"
#define TOP_BANDWIDTH_PROTOCOLS 4

/* ---- small formatting helpers ----------------------------------------- */

void
trafan_append_seconds(GString *out, gint64 ns)
{
    guint64 magnitude = ns < 0 ? -(guint64)ns : (guint64)ns;

    g_string_append_printf(out, "%s%" G_GUINT64_FORMAT ".%09u", ns < 0 ? "-" : "",
                           magnitude / 1000000000u, (guint)(magnitude % 1000000000u));
}

/* An absolute time: epoch_base_s + ns, exactly, as frame.time_epoch shows it. */
void
trafan_append_epoch(GString *out, gint64 base_s, gint64 ns)
{
    gint64 secs = ns / 1000000000, frac = ns % 1000000000;

    if (base_s == 0) {
        trafan_append_seconds(out, ns);
        return;
    }
    if (frac < 0) {
        secs--;
        frac += 1000000000;
    }
    g_string_append_printf(out, "%" G_GINT64_FORMAT ".%09u", base_s + secs, (guint)frac);
}

static char *
epoch_str(const TrafanStats *stats, gint64 ns)
{
    GString *s = g_string_new(NULL);

    trafan_append_epoch(s, trafan_stats_epoch_base_s(stats), ns);
    return g_string_free(s, FALSE);
}

static char *
seconds_str(gint64 ns)
{
    GString *s = g_string_new(NULL);

    trafan_append_seconds(s, ns);
    return g_string_free(s, FALSE);
}

static char *
interval_str(gint64 interval_us)
{
    return g_strdup_printf("%" G_GINT64_FORMAT ".%06d", interval_us / 1000000, (int)(interval_us % 1000000));
}

static char *
number_str(double value)
{
    char buf[G_ASCII_DTOSTR_BUF_SIZE];

    if (value == (double)(gint64)value)
        return g_strdup_printf("%" G_GINT64_FORMAT, (gint64)value);
    return g_strdup(g_ascii_formatd(buf, sizeof buf, "%.3f", value));
}

/* "tls:10,dns:3": packets per protocol, most first. */
static int
compare_count_desc(gconstpointer pa, gconstpointer pb)
{
    const TrafanProtocolCount *a = pa, *b = pb;

    if (a->packets != b->packets)
        return a->packets > b->packets ? -1 : 1;
    return strcmp(a->protocol, b->protocol);
}

static char *
protocol_list_str(const GArray *counts)
{
    GArray *sorted = g_array_sized_new(FALSE, FALSE, sizeof(TrafanProtocolCount), counts->len);
    GString *s = g_string_new(NULL);

    g_array_append_vals(sorted, counts->data, counts->len);
    g_array_sort(sorted, compare_count_desc);
    for (guint i = 0; i < sorted->len; i++) {
        const TrafanProtocolCount *c = &g_array_index(sorted, TrafanProtocolCount, i);
        g_string_append_printf(s, "%s%s:%" G_GUINT64_FORMAT, i ? "," : "", c->protocol, c->packets);
    }
    g_array_free(sorted, TRUE);
    return g_string_free(s, FALSE);
}

/* "10.0.0.2:40,10.0.0.3:2": a flag's top peers. */
static char *
peer_list_str(const GArray *peers)
{
    GString *s = g_string_new(NULL);

    for (guint i = 0; peers && i < peers->len; i++) {
        const TrafanFlagPeer *p = &g_array_index(peers, TrafanFlagPeer, i);
        char buf[TRAFAN_ADDRSTRLEN];
        g_string_append_printf(s, "%s%s:%" G_GUINT64_FORMAT, i ? "," : "", trafan_address_to_str(&p->address, buf), p->count);
    }
    return g_string_free(s, FALSE);
}

/* The protocol that carried most bytes. */
static const char *
main_protocol(const GArray *counts)
{
    const TrafanProtocolCount *best = NULL;

    for (guint i = 0; i < counts->len; i++) {
        const TrafanProtocolCount *c = &g_array_index(counts, TrafanProtocolCount, i);
        if (!best || c->bytes > best->bytes || (c->bytes == best->bytes && strcmp(c->protocol, best->protocol) < 0))
            best = c;
    }
    return best ? best->protocol : "";
}

static guint64
protocol_bytes(const GArray *counts, const char *protocol)
{
    for (guint i = 0; i < counts->len; i++) {
        const TrafanProtocolCount *c = &g_array_index(counts, TrafanProtocolCount, i);
        if (c->protocol == protocol)
            return c->bytes;
    }
    return 0;
}

static void
append_json_string(GString *out, const char *s)
{
    g_string_append_c(out, '"');
    for (const guchar *p = (const guchar *)s; *p; p++) {
        switch (*p) {
        case '"':  g_string_append(out, "\\\""); break;
        case '\\': g_string_append(out, "\\\\"); break;
        case '\n': g_string_append(out, "\\n"); break;
        case '\t': g_string_append(out, "\\t"); break;
        default:
            if (*p < 0x20)
                g_string_append_printf(out, "\\u%04x", *p);
            else
                g_string_append_c(out, (char)*p);
        }
    }
    g_string_append_c(out, '"');
}

/* RFC 4180: quote a cell that holds a separator, a quote or a line break. */
static void
append_csv_cell(GString *out, const char *s)
{
    if (!strpbrk(s, ",\"\r\n")) {
        g_string_append(out, s);
        return;
    }
    g_string_append_c(out, '"');
    for (const char *p = s; *p; p++) {
        if (*p == '"')
            g_string_append_c(out, '"');
        g_string_append_c(out, *p);
    }
    g_string_append_c(out, '"');
}

/* DOT: an ID or attribute value in double quotes, with quotes escaped.  A
 * backslash is doubled so that escape sequences keep no special meaning. */
static void
append_dot_string(GString *out, const char *s)
{
    g_string_append_c(out, '"');
    for (const char *p = s; *p; p++) {
        if (*p == '"' || *p == '\\')
            g_string_append_c(out, '\\');
        if (*p == '\n')
            g_string_append(out, "\\n");
        else
            g_string_append_c(out, *p);
    }
    g_string_append_c(out, '"');
}

/* ---- flags, indexed by host once -------------------------------------- */

typedef struct {
    GString   *rules;           /* "port_scan,beacon": each rule once, in flag order */
    gboolean   source;          /* flagged as a source at least once */
    GArray    *flags;           /* guint: positions of its flags in the report's list */
} HostFlags;

static void
host_flags_free(gpointer data)
{
    HostFlags *hf = data;

    g_string_free(hf->rules, TRUE);
    g_array_unref(hf->flags);
    g_free(hf);
}

static gboolean
rule_listed(const char *rules, const char *rule)
{
    char **names = g_strsplit(rules, ",", -1);
    gboolean found = g_strv_contains((const char *const *)names, rule);

    g_strfreev(names);
    return found;
}

/* TrafanAddress -> HostFlags. */
static GHashTable *
index_flags(const GPtrArray *flags)
{
    GHashTable *index = g_hash_table_new_full(trafan_address_hash, trafan_address_equal, NULL, host_flags_free);

    for (guint i = 0; flags && i < flags->len; i++) {
        const TrafanFlag *f = g_ptr_array_index(flags, i);
        HostFlags *hf = g_hash_table_lookup(index, &f->host);

        if (!hf) {
            hf = g_new0(HostFlags, 1);
            hf->rules = g_string_new(NULL);
            hf->flags = g_array_new(FALSE, FALSE, sizeof(guint));
            g_hash_table_insert(index, (gpointer)&f->host, hf);
        }
        if (!rule_listed(hf->rules->str, f->rule))
            g_string_append_printf(hf->rules, "%s%s", hf->rules->len ? "," : "", f->rule);
        hf->source |= f->role == TRAFAN_ROLE_SOURCE;
        g_array_append_val(hf->flags, i);
    }
    return index;
}

/* ---- the column model ---------------------------------------------------- */

typedef enum {
    KIND_U64,               /* raw integer */
    KIND_SECONDS,           /* nanoseconds shown as seconds with nine decimals */
    KIND_EPOCH,             /* an absolute time, as frame.time_epoch shows it */
    KIND_INTERVAL,          /* microseconds shown as seconds with six decimals */
    KIND_NUMBER,            /* a double: integer, or three decimals */
    KIND_BOOL,              /* yes/no in tables, true/false in JSON */
    KIND_STRING,
    KIND_PROTOCOL_PACKETS,  /* GArray of TrafanProtocolCount: "tls:10,dns:3", JSON {"tls":10} */
    KIND_PROTOCOL_BYTES,    /* the same, bytes, JSON only */
    KIND_PEERS,             /* GArray of TrafanFlagPeer: "a:3,b:1", JSON [{address,count}] */
} Kind;

typedef struct {
    guint64        u64;
    gint64         i64;
    double         number;
    const char    *string;  /* NULL: the column is absent from JSON and DOT for this row */
    const GArray  *array;
    char          *owned;   /* a string built for this cell, freed after use */
    GArray        *owned_array;     /* an array built for this cell (= array), unref'd after use */
} Value;

static void
value_clear(Value *v)
{
    g_free(v->owned);
    if (v->owned_array)
        g_array_unref(v->owned_array);
}

/* What a getter may need besides its row. */
typedef struct {
    const TrafanStats *stats;
    const TrafanReportOptions *opts;
    GHashTable *host_flags;     /* TrafanAddress -> HostFlags */
    GPtrArray *top_protocols;   /* TrafanProtocolCount *: bandwidth's protocol columns */
    const char *rules_fired;    /* DOT graph attribute */
} Context;

typedef Value (*Getter)(gconstpointer row, const Context *ctx);

/* title: text and CSV header (NULL: not in tables); json: JSON key; dot: DOT
 * attribute (NULL: not in that format).  optional: left out of JSON and DOT
 * when zero or NULL. */
typedef struct {
    const char *title;
    const char *json;
    const char *dot;
    Kind        kind;
    gboolean    optional;
    Getter      get;
} Column;

#define ROW(type) const type *r = row; (void)r; (void)ctx

/* Capture summary: JSON "capture" and the DOT graph's attributes. */
#define CAPTURE(name) static Value name(gconstpointer row, const Context *ctx)
CAPTURE(cap_packets)         { ROW(TrafanStats); return (Value){ .u64 = trafan_stats_packets(r) }; }
CAPTURE(cap_bytes)           { ROW(TrafanStats); return (Value){ .u64 = trafan_stats_bytes(r) }; }
CAPTURE(cap_first)           { ROW(TrafanStats); return (Value){ .i64 = trafan_stats_first_ns(r) }; }
CAPTURE(cap_last)            { ROW(TrafanStats); return (Value){ .i64 = trafan_stats_last_ns(r) }; }
CAPTURE(cap_duration)        { ROW(TrafanStats); return (Value){ .i64 = trafan_stats_last_ns(r) - trafan_stats_first_ns(r) }; }
CAPTURE(cap_hosts)           { ROW(TrafanStats); return (Value){ .u64 = trafan_stats_n_hosts(r) }; }
CAPTURE(cap_conversations)   { ROW(TrafanStats); return (Value){ .u64 = trafan_stats_n_conversations(r) }; }
CAPTURE(cap_max_hosts)       { ROW(TrafanStats); return (Value){ .u64 = trafan_stats_config(r)->max_hosts }; }
CAPTURE(cap_aggregated)      { ROW(TrafanStats); return (Value){ .u64 = trafan_stats_hosts_aggregated(r) }; }
CAPTURE(cap_aggregated_exact){ ROW(TrafanStats); return (Value){ .u64 = trafan_stats_hosts_aggregated_exact(r) }; }
CAPTURE(cap_interval)        { ROW(TrafanStats); return (Value){ .owned = interval_str(trafan_stats_config(r)->interval_us) }; }
CAPTURE(cap_filter)          { ROW(TrafanStats); return (Value){ .string = ctx->opts->filter ? ctx->opts->filter : "" }; }
CAPTURE(cap_rules)           { ROW(TrafanStats); return (Value){ .string = ctx->rules_fired }; }

static const Column capture_columns[] = {
    { NULL, "packets",                "packets",          KIND_U64,      FALSE, cap_packets },
    { NULL, "bytes",                  "bytes",            KIND_U64,      FALSE, cap_bytes },
    { NULL, "first_time",             "first_time",       KIND_EPOCH,    FALSE, cap_first },
    { NULL, "last_time",              "last_time",        KIND_EPOCH,    FALSE, cap_last },
    { NULL, "duration",               "duration",         KIND_SECONDS,  FALSE, cap_duration },
    { NULL, "hosts",                  "hosts",            KIND_U64,      FALSE, cap_hosts },
    { NULL, "conversations",          "conversations",    KIND_U64,      FALSE, cap_conversations },
    { NULL, "max_hosts",              NULL,               KIND_U64,      FALSE, cap_max_hosts },
    { NULL, "hosts_aggregated",       "hosts_aggregated", KIND_U64,      FALSE, cap_aggregated },
    { NULL, "hosts_aggregated_exact", NULL,               KIND_BOOL,     FALSE, cap_aggregated_exact },
    { NULL, NULL,                     "interval",         KIND_STRING,   FALSE, cap_interval },
    { NULL, "filter",                 "filter",           KIND_STRING,   FALSE, cap_filter },
    { NULL, NULL,                     "rules",            KIND_STRING,   FALSE, cap_rules },
};

#define CONV(name) static Value name(gconstpointer row, const Context *ctx)
CONV(conv_a)            { ROW(TrafanConversation); return (Value){ .owned = g_strdup(trafan_address_to_str(&r->a, (char[TRAFAN_ADDRSTRLEN]){ 0 })) }; }
CONV(conv_b)            { ROW(TrafanConversation); return (Value){ .owned = g_strdup(trafan_address_to_str(&r->b, (char[TRAFAN_ADDRSTRLEN]){ 0 })) }; }
CONV(conv_ab_packets)   { ROW(TrafanConversation); return (Value){ .u64 = r->a_to_b_packets }; }
CONV(conv_ab_bytes)     { ROW(TrafanConversation); return (Value){ .u64 = r->a_to_b_bytes }; }
CONV(conv_ba_packets)   { ROW(TrafanConversation); return (Value){ .u64 = r->b_to_a_packets }; }
CONV(conv_ba_bytes)     { ROW(TrafanConversation); return (Value){ .u64 = r->b_to_a_bytes }; }
CONV(conv_packets)      { ROW(TrafanConversation); return (Value){ .u64 = trafan_conversation_packets(r) }; }
CONV(conv_bytes)        { ROW(TrafanConversation); return (Value){ .u64 = trafan_conversation_bytes(r) }; }
CONV(conv_start)        { ROW(TrafanConversation); return (Value){ .i64 = r->first_ns - trafan_stats_ref_ns(ctx->stats) }; }
CONV(conv_duration)     { ROW(TrafanConversation); return (Value){ .i64 = r->last_ns - r->first_ns }; }
CONV(conv_protocols)
{
    ROW(TrafanConversation);
    GArray *counts = trafan_conversation_protocols(r);
    return (Value){ .array = counts, .owned_array = counts };
}
CONV(conv_main_protocol)
{
    ROW(TrafanConversation);
    return (Value){ .string = r->protocols ? main_protocol(r->protocols) : r->protocol ? r->protocol : "" };
}

static gboolean
flag_names_peer(const TrafanFlag *f, const TrafanAddress *peer)
{
    for (guint p = 0; f->peers && p < f->peers->len; p++)
        if (trafan_address_equal(&g_array_index(f->peers, TrafanFlagPeer, p).address, peer))
            return TRUE;
    return FALSE;
}

/* The first flag in the report that names this conversation: one end is the
 * flagged host, the other among its listed peers. */
static const TrafanFlag *
conversation_flag(const TrafanConversation *c, const Context *ctx)
{
    const TrafanAddress *ends[2][2] = { { &c->a, &c->b }, { &c->b, &c->a } };
    guint first = G_MAXUINT;

    for (guint e = 0; e < 2; e++) {
        const HostFlags *hf = g_hash_table_lookup(ctx->host_flags, ends[e][0]);
        for (guint i = 0; hf && i < hf->flags->len; i++) {
            guint at = g_array_index(hf->flags, guint, i);
            if (flag_names_peer(g_ptr_array_index(ctx->opts->flags, at), ends[e][1])) {
                first = MIN(first, at);
                break;
            }
        }
    }
    return first == G_MAXUINT ? NULL : g_ptr_array_index(ctx->opts->flags, first);
}

CONV(conv_flag)
{
    ROW(TrafanConversation);
    const TrafanFlag *f = conversation_flag(r, ctx);
    return (Value){ .string = f ? f->rule : NULL };
}

static const Column conversation_columns[] = {
    { "Address A",           "a",              NULL,             KIND_STRING,           FALSE, conv_a },
    { "Address B",           "b",              NULL,             KIND_STRING,           FALSE, conv_b },
    { "A->B Packets",        "a_to_b_packets", "a_to_b_packets", KIND_U64,              FALSE, conv_ab_packets },
    { "A->B Bytes",          "a_to_b_bytes",   "a_to_b_bytes",   KIND_U64,              FALSE, conv_ab_bytes },
    { "B->A Packets",        "b_to_a_packets", "b_to_a_packets", KIND_U64,              FALSE, conv_ba_packets },
    { "B->A Bytes",          "b_to_a_bytes",   "b_to_a_bytes",   KIND_U64,              FALSE, conv_ba_bytes },
    { "Packets",             "packets",        "packets",        KIND_U64,              FALSE, conv_packets },
    { "Bytes",               "bytes",          "bytes",          KIND_U64,              FALSE, conv_bytes },
    { NULL,                  NULL,             "protocol",       KIND_STRING,           FALSE, conv_main_protocol },
    { NULL,                  NULL,             "protocols",      KIND_PROTOCOL_PACKETS, FALSE, conv_protocols },
    { "Rel Start (s)",       "start",          "start",          KIND_SECONDS,          FALSE, conv_start },
    { "Duration (s)",        "duration",       "duration",       KIND_SECONDS,          FALSE, conv_duration },
    { "Protocols (packets)", "protocols",      NULL,             KIND_PROTOCOL_PACKETS, FALSE, conv_protocols },
    { NULL,                  NULL,             "flag",           KIND_STRING,           TRUE,  conv_flag },
};

#define HOST(name) static Value name(gconstpointer row, const Context *ctx)
HOST(host_address)   { ROW(TrafanHost); return (Value){ .owned = g_strdup(trafan_address_to_str(&r->address, (char[TRAFAN_ADDRSTRLEN]){ 0 })) }; }
HOST(host_family)    { ROW(TrafanHost); return (Value){ .u64 = r->address.family == 6 || r->address.family == TRAFAN_FAMILY_OTHER6 ? 6 : 4 }; }
HOST(host_tx_packets){ ROW(TrafanHost); return (Value){ .u64 = r->tx_packets }; }
HOST(host_tx_bytes)  { ROW(TrafanHost); return (Value){ .u64 = r->tx_bytes }; }
HOST(host_rx_packets){ ROW(TrafanHost); return (Value){ .u64 = r->rx_packets }; }
HOST(host_rx_bytes)  { ROW(TrafanHost); return (Value){ .u64 = r->rx_bytes }; }
HOST(host_packets)   { ROW(TrafanHost); return (Value){ .u64 = r->tx_packets + r->rx_packets }; }
HOST(host_bytes)     { ROW(TrafanHost); return (Value){ .u64 = r->tx_bytes + r->rx_bytes }; }
HOST(host_peers)     { ROW(TrafanHost); return (Value){ .u64 = r->peers }; }
HOST(host_dst_ports) { ROW(TrafanHost); return (Value){ .u64 = trafan_host_dst_ports(r) }; }
HOST(host_first)     { ROW(TrafanHost); return (Value){ .i64 = r->first_ns - trafan_stats_ref_ns(ctx->stats) }; }
HOST(host_last)      { ROW(TrafanHost); return (Value){ .i64 = r->last_ns - trafan_stats_ref_ns(ctx->stats) }; }
HOST(host_aggregated){ ROW(TrafanHost); return (Value){ .u64 = r->aggregated }; }

static const HostFlags *
flags_of(const TrafanHost *h, const Context *ctx)
{
    return g_hash_table_lookup(ctx->host_flags, &h->address);
}

HOST(host_flagged)   { ROW(TrafanHost); return (Value){ .string = flags_of(r, ctx) ? "true" : NULL }; }
HOST(host_rules)     { ROW(TrafanHost); const HostFlags *f = flags_of(r, ctx); return (Value){ .string = f ? f->rules->str : NULL }; }
HOST(host_role)
{
    ROW(TrafanHost);
    const HostFlags *f = flags_of(r, ctx);
    return (Value){ .string = !f ? NULL : f->source ? "source" : "target" };
}

static const Column host_columns[] = {
    { "Address",    "address",    NULL,         KIND_STRING,  FALSE, host_address },
    { NULL,         NULL,         "family",     KIND_U64,     FALSE, host_family },
    { "Tx Packets", "tx_packets", "tx_packets", KIND_U64,     FALSE, host_tx_packets },
    { "Tx Bytes",   "tx_bytes",   "tx_bytes",   KIND_U64,     FALSE, host_tx_bytes },
    { "Rx Packets", "rx_packets", "rx_packets", KIND_U64,     FALSE, host_rx_packets },
    { "Rx Bytes",   "rx_bytes",   "rx_bytes",   KIND_U64,     FALSE, host_rx_bytes },
    { NULL,         NULL,         "packets",    KIND_U64,     FALSE, host_packets },
    { NULL,         NULL,         "bytes",      KIND_U64,     FALSE, host_bytes },
    { "Peers",      "peers",      "peers",      KIND_U64,     FALSE, host_peers },
    { "Dst Ports",  "dst_ports",  "dst_ports",  KIND_U64,     FALSE, host_dst_ports },
    { "First (s)",  "first_seen", "first",      KIND_SECONDS, FALSE, host_first },
    { "Last (s)",   "last_seen",  "last",       KIND_SECONDS, FALSE, host_last },
    { NULL,         "aggregated", "aggregated", KIND_U64,     TRUE,  host_aggregated },
    { NULL,         NULL,         "flag",       KIND_STRING,  TRUE,  host_flagged },
    { NULL,         NULL,         "rule",       KIND_STRING,  TRUE,  host_rules },
    { NULL,         NULL,         "role",       KIND_STRING,  TRUE,  host_role },
};

#define PROTO(name) static Value name(gconstpointer row, const Context *ctx)
PROTO(proto_name)    { ROW(TrafanProtocolCount); return (Value){ .string = r->protocol }; }
PROTO(proto_packets) { ROW(TrafanProtocolCount); return (Value){ .u64 = r->packets }; }
PROTO(proto_bytes)   { ROW(TrafanProtocolCount); return (Value){ .u64 = r->bytes }; }

static const Column protocol_columns[] = {
    { "Protocol", "name",    NULL, KIND_STRING, FALSE, proto_name },
    { "Packets",  "packets", NULL, KIND_U64,    FALSE, proto_packets },
    { "Bytes",    "bytes",   NULL, KIND_U64,    FALSE, proto_bytes },
};

#define BUCKET(name) static Value name(gconstpointer row, const Context *ctx)
BUCKET(bucket_start)     { ROW(TrafanBucket); return (Value){ .i64 = r->index * trafan_stats_config(ctx->stats)->interval_us }; }
BUCKET(bucket_packets)   { ROW(TrafanBucket); return (Value){ .u64 = r->packets }; }
BUCKET(bucket_bytes)     { ROW(TrafanBucket); return (Value){ .u64 = r->bytes }; }
BUCKET(bucket_protocols) { ROW(TrafanBucket); return (Value){ .array = r->protocols }; }

/* Followed in tables by one "<protocol> Bytes" column per top protocol. */
static const Column bucket_columns[] = {
    { "Start (s)", "start",          NULL, KIND_INTERVAL,       FALSE, bucket_start },
    { "Packets",   "packets",        NULL, KIND_U64,            FALSE, bucket_packets },
    { "Bytes",     "bytes",          NULL, KIND_U64,            FALSE, bucket_bytes },
    { NULL,        "protocol_bytes", NULL, KIND_PROTOCOL_BYTES, FALSE, bucket_protocols },
};

#define FLAG(name) static Value name(gconstpointer row, const Context *ctx)
FLAG(flag_host)        { ROW(TrafanFlag); return (Value){ .owned = g_strdup(trafan_address_to_str(&r->host, (char[TRAFAN_ADDRSTRLEN]){ 0 })) }; }
FLAG(flag_role)        { ROW(TrafanFlag); return (Value){ .string = trafan_role_name(r->role) }; }
FLAG(flag_rule)        { ROW(TrafanFlag); return (Value){ .string = r->rule }; }
FLAG(flag_start)       { ROW(TrafanFlag); return (Value){ .i64 = r->start_ns - trafan_stats_ref_ns(ctx->stats) }; }
FLAG(flag_end)         { ROW(TrafanFlag); return (Value){ .i64 = r->end_ns - trafan_stats_ref_ns(ctx->stats) }; }
FLAG(flag_observed)    { ROW(TrafanFlag); return (Value){ .number = r->observed }; }
FLAG(flag_threshold)   { ROW(TrafanFlag); return (Value){ .number = r->threshold }; }
FLAG(flag_window)      { ROW(TrafanFlag); return (Value){ .i64 = r->window_ns }; }
FLAG(flag_approximate) { ROW(TrafanFlag); return (Value){ .u64 = r->approximate }; }
FLAG(flag_peers_total) { ROW(TrafanFlag); return (Value){ .u64 = r->peers_total }; }
FLAG(flag_peers)       { ROW(TrafanFlag); return (Value){ .array = r->peers }; }
FLAG(flag_filter)      { ROW(TrafanFlag); return (Value){ .string = r->filter ? r->filter : "" }; }
FLAG(flag_summary)     { ROW(TrafanFlag); return (Value){ .string = r->summary ? r->summary : "" }; }

static const Column flag_columns[] = {
    { "Host",        "host",        NULL, KIND_STRING,  FALSE, flag_host },
    { "Role",        "role",        NULL, KIND_STRING,  FALSE, flag_role },
    { "Rule",        "rule",        NULL, KIND_STRING,  FALSE, flag_rule },
    { "Start (s)",   "start",       NULL, KIND_SECONDS, FALSE, flag_start },
    { "End (s)",     "end",         NULL, KIND_SECONDS, FALSE, flag_end },
    { "Observed",    "observed",    NULL, KIND_NUMBER,  FALSE, flag_observed },
    { "Threshold",   "threshold",   NULL, KIND_NUMBER,  FALSE, flag_threshold },
    { "Window (s)",  "window",      NULL, KIND_SECONDS, FALSE, flag_window },
    { "Approximate", "approximate", NULL, KIND_BOOL,    FALSE, flag_approximate },
    { NULL,          "peers_total", NULL, KIND_U64,     FALSE, flag_peers_total },
    { "Peers",       "peers",       NULL, KIND_PEERS,   FALSE, flag_peers },
    { "Filter",      "filter",      NULL, KIND_STRING,  FALSE, flag_filter },
    { "Summary",     "summary",     NULL, KIND_STRING,  FALSE, flag_summary },
};

/* ---- the tables: rows and the columns that describe them -------------- */

typedef enum { TABLE_CONVERSATIONS, TABLE_HOSTS, TABLE_PROTOCOLS, TABLE_BANDWIDTH, TABLE_FLAGS, N_TABLES } TableId;

typedef struct {
    const char   *name;         /* CSV file stem, JSON member, "# name" */
    const Column *columns;
    guint         n_columns;
} TableSpec;

static const TableSpec tables[N_TABLES] = {
    [TABLE_CONVERSATIONS] = { "conversations", conversation_columns, G_N_ELEMENTS(conversation_columns) },
    [TABLE_HOSTS]         = { "hosts",         host_columns,         G_N_ELEMENTS(host_columns) },
    [TABLE_PROTOCOLS]     = { "protocols",     protocol_columns,     G_N_ELEMENTS(protocol_columns) },
    [TABLE_BANDWIDTH]     = { "bandwidth",     bucket_columns,       G_N_ELEMENTS(bucket_columns) },
    [TABLE_FLAGS]         = { "flags",         flag_columns,         G_N_ELEMENTS(flag_columns) },
};

/* The rows of a table, in report order (pointers into the stats): the
 * first `limit` (0: all). */
static GPtrArray *
table_rows(TableId id, const Context *ctx, guint limit)
{
    GPtrArray *rows;
    const GArray *buckets;

    switch (id) {
    case TABLE_CONVERSATIONS: return trafan_stats_sorted_conversations(ctx->stats, limit);
    case TABLE_HOSTS:         return trafan_stats_sorted_hosts(ctx->stats, limit);
    case TABLE_PROTOCOLS:     return trafan_stats_sorted_protocols(ctx->stats, limit);
    case TABLE_BANDWIDTH:
        buckets = trafan_stats_buckets(ctx->stats);
        rows = g_ptr_array_sized_new(buckets->len);
        for (guint i = 0; i < buckets->len; i++)
            g_ptr_array_add(rows, &g_array_index(buckets, TrafanBucket, i));
        return rows;
    default:
        rows = g_ptr_array_new();
        for (guint i = 0; ctx->opts->flags && i < ctx->opts->flags->len; i++)
            g_ptr_array_add(rows, g_ptr_array_index(ctx->opts->flags, i));
        return rows;
    }
}

/* How many rows a table has, without making them. */
static guint
table_size(TableId id, const Context *ctx)
{
    switch (id) {
    case TABLE_CONVERSATIONS: return trafan_stats_n_conversations(ctx->stats);
    case TABLE_HOSTS:         return trafan_stats_n_hosts(ctx->stats);
    case TABLE_PROTOCOLS:     return trafan_stats_n_protocols(ctx->stats);
    case TABLE_BANDWIDTH:     return trafan_stats_buckets(ctx->stats)->len;
    default:                  return ctx->opts->flags ? ctx->opts->flags->len : 0;
    }
}

static gboolean
value_absent(const Column *col, const Value *v)
{
    switch (col->kind) {
    case KIND_STRING: return !v->string && !v->owned;
    case KIND_U64:    return col->optional && v->u64 == 0;
    default:          return FALSE;
    }
}

/* The value as one cell of text, CSV or DOT. */
static char *
value_text(const Column *col, Value *v, const Context *ctx)
{
    switch (col->kind) {
    case KIND_U64:              return g_strdup_printf("%" G_GUINT64_FORMAT, v->u64);
    case KIND_SECONDS:          return seconds_str(v->i64);
    case KIND_EPOCH:            return epoch_str(ctx->stats, v->i64);
    case KIND_INTERVAL:         return interval_str(v->i64);
    case KIND_NUMBER:           return number_str(v->number);
    case KIND_BOOL:             return g_strdup(v->u64 ? "yes" : "no");
    case KIND_PROTOCOL_PACKETS: return protocol_list_str(v->array);
    case KIND_PEERS:            return peer_list_str(v->array);
    case KIND_PROTOCOL_BYTES:   return g_strdup("");
    case KIND_STRING:
        if (v->owned)
            return g_steal_pointer(&v->owned);
        return g_strdup(v->string ? v->string : "");
    }
    return g_strdup("");
}

static void
append_json_value(GString *out, const Column *col, Value *v, const Context *ctx)
{
    char *text;

    switch (col->kind) {
    case KIND_BOOL:
        g_string_append(out, v->u64 ? "true" : "false");
        return;
    case KIND_STRING:
        append_json_string(out, v->owned ? v->owned : v->string);
        return;
    case KIND_PROTOCOL_PACKETS:
    case KIND_PROTOCOL_BYTES:
        g_string_append_c(out, '{');
        for (guint i = 0; i < v->array->len; i++) {
            const TrafanProtocolCount *c = &g_array_index(v->array, TrafanProtocolCount, i);
            if (i)
                g_string_append_c(out, ',');
            append_json_string(out, c->protocol);
            g_string_append_printf(out, ":%" G_GUINT64_FORMAT, col->kind == KIND_PROTOCOL_PACKETS ? c->packets : c->bytes);
        }
        g_string_append_c(out, '}');
        return;
    case KIND_PEERS:
        g_string_append_c(out, '[');
        for (guint i = 0; v->array && i < v->array->len; i++) {
            const TrafanFlagPeer *p = &g_array_index(v->array, TrafanFlagPeer, i);
            char buf[TRAFAN_ADDRSTRLEN];
            g_string_append(out, i ? ",{\"address\":" : "{\"address\":");
            append_json_string(out, trafan_address_to_str(&p->address, buf));
            g_string_append_printf(out, ",\"count\":%" G_GUINT64_FORMAT "}", p->count);
        }
        g_string_append_c(out, ']');
        return;
    default:                    /* numbers: as in the tables, unquoted */
        text = value_text(col, v, ctx);
        g_string_append(out, text);
        g_free(text);
    }
}

/* ---- text and CSV: a grid of cells ------------------------------------ */

typedef struct {
    GPtrArray *header;          /* char * */
    GPtrArray *rows;            /* GPtrArray of char * */
    guint      total_rows;      /* before any top-N cut */
} Grid;

static void
grid_free(Grid *g)
{
    g_ptr_array_unref(g->header);
    g_ptr_array_unref(g->rows);
    g_free(g);
}

/* The table's titled columns for its first `limit` rows (0: all); bandwidth
 * adds one "<protocol> Bytes" column per top protocol. */
static Grid *
grid_build(TableId id, const Context *ctx, guint limit)
{
    const TableSpec *spec = &tables[id];
    GPtrArray *rows = table_rows(id, ctx, limit);
    Grid *g = g_new0(Grid, 1);
    guint extra = id == TABLE_BANDWIDTH ? ctx->top_protocols->len : 0;

    g->header = g_ptr_array_new_with_free_func(g_free);
    g->rows = g_ptr_array_new_with_free_func((GDestroyNotify)g_ptr_array_unref);
    g->total_rows = table_size(id, ctx);
    for (guint c = 0; c < spec->n_columns; c++)
        if (spec->columns[c].title)
            g_ptr_array_add(g->header, g_strdup(spec->columns[c].title));
    for (guint p = 0; p < extra; p++)
        g_ptr_array_add(g->header, g_strdup_printf("%s Bytes",
                        ((TrafanProtocolCount *)g_ptr_array_index(ctx->top_protocols, p))->protocol));

    for (guint r = 0; r < rows->len && (!limit || r < limit); r++) {
        gconstpointer row = g_ptr_array_index(rows, r);
        GPtrArray *cells = g_ptr_array_new_with_free_func(g_free);

        for (guint c = 0; c < spec->n_columns; c++) {
            const Column *col = &spec->columns[c];
            if (!col->title)
                continue;
            Value v = col->get(row, ctx);
            g_ptr_array_add(cells, value_text(col, &v, ctx));
            value_clear(&v);
        }
        for (guint p = 0; p < extra; p++) {
            const char *protocol = ((TrafanProtocolCount *)g_ptr_array_index(ctx->top_protocols, p))->protocol;
            g_ptr_array_add(cells, g_strdup_printf("%" G_GUINT64_FORMAT,
                                                   protocol_bytes(((const TrafanBucket *)row)->protocols, protocol)));
        }
        g_ptr_array_add(g->rows, cells);
    }
    g_ptr_array_unref(rows);
    return g;
}

static void
csv_line(GString *out, GPtrArray *cells)
{
    for (guint c = 0; c < cells->len; c++) {
        if (c)
            g_string_append_c(out, ',');
        append_csv_cell(out, g_ptr_array_index(cells, c));
    }
    g_string_append_c(out, '\n');
}

static void
grid_csv(const Grid *g, GString *out)
{
    csv_line(out, g->header);
    for (guint r = 0; r < g->rows->len; r++)
        csv_line(out, g_ptr_array_index(g->rows, r));
}

/* "42", "-0.5": right-aligned.  Addresses ("10.0.0.1") are not numbers. */
static gboolean
looks_numeric(const char *s)
{
    const char *dot;

    if (*s == '-')
        s++;
    dot = strchr(s, '.');
    return *s && strspn(s, "0123456789.") == strlen(s) && (!dot || !strchr(dot + 1, '.'));
}

/* Columns padded to their widest cell; numbers right-aligned. */
static void
grid_text(const Grid *g, GString *out, guint top)
{
    guint ncol = g->header->len, nrow = g->rows->len;
    guint shown = top && top < nrow ? top : nrow;
    guint *width = g_new0(guint, ncol);

    for (guint c = 0; c < ncol; c++)
        width[c] = strlen(g_ptr_array_index(g->header, c));
    for (guint r = 0; r < shown; r++) {
        GPtrArray *row = g_ptr_array_index(g->rows, r);
        for (guint c = 0; c < ncol; c++)
            width[c] = MAX(width[c], strlen(g_ptr_array_index(row, c)));
    }
    for (guint r = 0; r <= shown; r++) {
        GPtrArray *row = r ? g_ptr_array_index(g->rows, r - 1) : g->header;
        GString *line = g_string_new(NULL);
        for (guint c = 0; c < ncol; c++) {
            const char *cell = g_ptr_array_index(row, c);
            gboolean last = c + 1 == ncol;
            if (r && looks_numeric(cell))
                g_string_append_printf(line, "%*s", (int)width[c], cell);
            else
                g_string_append_printf(line, "%-*s", last ? 0 : (int)width[c], cell);
            if (!last)
                g_string_append(line, "  ");
        }
        while (line->len && line->str[line->len - 1] == ' ')
            g_string_truncate(line, line->len - 1);
        g_string_append_printf(out, "%s\n", line->str);
        g_string_free(line, TRUE);
    }
    if (shown < MAX(nrow, g->total_rows))
        g_string_append_printf(out, "(%u more row%s; top=0 shows all)\n", MAX(nrow, g->total_rows) - shown,
                               MAX(nrow, g->total_rows) - shown == 1 ? "" : "s");
    g_free(width);
}

static int
compare_bytes_cell_desc(gconstpointer pa, gconstpointer pb)
{
    GPtrArray *a = *(GPtrArray *const *)pa, *b = *(GPtrArray *const *)pb;
    guint64 x = g_ascii_strtoull(g_ptr_array_index(a, 2), NULL, 10);
    guint64 y = g_ascii_strtoull(g_ptr_array_index(b, 2), NULL, 10);

    return x != y ? (x > y ? -1 : 1) : 0;
}

/* Keep the `top` rows with most bytes (bandwidth's third column), still in
 * time order, so that a long capture shows its busy moments. */
static Grid *
busiest_first_cut(Grid *g, guint top)
{
    if (!top || g->rows->len <= top)
        return g;

    GPtrArray *by_bytes = g_ptr_array_copy(g->rows, NULL, NULL);
    GHashTable *keep = g_hash_table_new(NULL, NULL);
    GPtrArray *kept = g_ptr_array_new_with_free_func((GDestroyNotify)g_ptr_array_unref);

    g_ptr_array_set_free_func(by_bytes, NULL);     /* the copy took the rows' free function */
    g_ptr_array_sort(by_bytes, compare_bytes_cell_desc);
    for (guint i = 0; i < top; i++)
        g_hash_table_add(keep, g_ptr_array_index(by_bytes, i));
    for (guint i = 0; i < g->rows->len; i++)
        if (g_hash_table_contains(keep, g_ptr_array_index(g->rows, i)))
            g_ptr_array_add(kept, g_ptr_array_ref(g_ptr_array_index(g->rows, i)));
    g_ptr_array_unref(g->rows);
    g->rows = kept;
    g_ptr_array_unref(by_bytes);
    g_hash_table_destroy(keep);
    return g;
}

/* ---- the context shared by every format ------------------------------- */

/* The protocols that carried most bytes overall: bandwidth columns. */
static GPtrArray *
top_protocols(const TrafanStats *stats)
{
    return trafan_stats_sorted_protocols(stats, TOP_BANDWIDTH_PROTOCOLS);
}

/* Seconds without trailing zeros: "300", "0.5". */
static char *
short_seconds_str(gint64 ns)
{
    char *s = seconds_str(ns), *end = s + strlen(s) - 1;

    while (*end == '0')
        *end-- = '\0';
    if (*end == '.')
        *end = '\0';
    return s;
}

/* "port_scan: threshold 15 in 300 s; beacon: threshold 10": one entry per
 * rule and threshold that fired. */
static char *
rules_fired(const GPtrArray *flags)
{
    GString *s = g_string_new(NULL);
    GHashTable *seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);

    for (guint i = 0; flags && i < flags->len; i++) {
        const TrafanFlag *f = g_ptr_array_index(flags, i);
        char *threshold = number_str(f->threshold), *window = short_seconds_str(f->window_ns);
        char *item = f->window_ns ? g_strdup_printf("%s: threshold %s in %s s", f->rule, threshold, window)
                                  : g_strdup_printf("%s: threshold %s", f->rule, threshold);
        if (g_hash_table_add(seen, item))
            g_string_append_printf(s, "%s%s", s->len ? "; " : "", item);
        g_free(threshold);
        g_free(window);
    }
    g_hash_table_destroy(seen);
    return g_string_free(s, FALSE);
}

static void
context_init(Context *ctx, const TrafanStats *stats, const TrafanReportOptions *opts)
{
    ctx->stats = stats;
    ctx->opts = opts;
    ctx->host_flags = index_flags(opts->flags);
    ctx->top_protocols = top_protocols(stats);
    ctx->rules_fired = rules_fired(opts->flags);
}

static void
context_clear(Context *ctx)
{
    g_hash_table_destroy(ctx->host_flags);
    g_ptr_array_unref(ctx->top_protocols);
    g_free((char *)ctx->rules_fired);
}

/* ---- text ------------------------------------------------------------------ */

static void
text_section(GString *out, const char *title, Grid *g, guint top)
{
    guint shown = top && top < g->total_rows ? top : g->total_rows;

    g_string_append_printf(out, "\n%s (%u rows", title, g->total_rows);
    if (shown < g->total_rows)
        g_string_append_printf(out, ", top %u", shown);
    g_string_append(out, "):\n");
    if (g->total_rows)
        grid_text(g, out, top);
    grid_free(g);
}

GString *
trafan_report_text(const TrafanStats *stats, const TrafanReportOptions *opts)
{
    GString *out = g_string_new(RULE);
    Context ctx;
    guint top = opts->top;
    char *first = epoch_str(stats, trafan_stats_first_ns(stats)), *last = epoch_str(stats, trafan_stats_last_ns(stats));
    char *duration = seconds_str(trafan_stats_last_ns(stats) - trafan_stats_first_ns(stats));
    char *interval = interval_str(trafan_stats_config(stats)->interval_us);

    context_init(&ctx, stats, opts);
    g_string_append(out, "Traffic Analysis (trafan)\n");
    g_string_append_printf(out, "Filter: %s\n", opts->filter && *opts->filter ? opts->filter : "<No Filter>");
    g_string_append_printf(out, "Packets: %" G_GUINT64_FORMAT "  Bytes: %" G_GUINT64_FORMAT "\n",
                           trafan_stats_packets(stats), trafan_stats_bytes(stats));
    if (trafan_stats_seen_any(stats))
        g_string_append_printf(out, "First: %s  Last: %s (epoch s)  Duration: %s s\n", first, last, duration);
    if (trafan_stats_hosts_aggregated(stats))
        g_string_append_printf(out, "Host limit max_hosts=%u reached: %s%u"
                               " further hosts are counted as \"other IPv4\"/\"other IPv6\"\n",
                               trafan_stats_config(stats)->max_hosts,
                               trafan_stats_hosts_aggregated_exact(stats) ? "" : "more than ",
                               trafan_stats_hosts_aggregated(stats));
    if (opts->detector && opts->detector->refused_keys)
        g_string_append_printf(out, "Detector memory max_state_mb=%" G_GUINT64_FORMAT " reached: %" G_GUINT64_FORMAT
                               " keys were refused or dropped; the flags of their rules say approximate\n",
                               opts->detector->budget_bytes >> 20, opts->detector->refused_keys);

    if (opts->flags && opts->flags->len) {
        g_string_append_printf(out, "\nSuspicious hosts (%u):\n", opts->flags->len);
        for (guint i = 0; i < opts->flags->len; i++) {
            const TrafanFlag *f = g_ptr_array_index(opts->flags, i);
            char buf[TRAFAN_ADDRSTRLEN];
            g_string_append_printf(out, "  %-15s %-6s %-15s %s\n    filter: %s\n",
                                   trafan_address_to_str(&f->host, buf), trafan_role_name(f->role),
                                   f->rule, f->summary ? f->summary : "", f->filter ? f->filter : "");
        }
    } else {
        g_string_append(out, "\nSuspicious hosts: none\n");
    }

    text_section(out, "Conversations, IPv4 and IPv6", grid_build(TABLE_CONVERSATIONS, &ctx, top), top);
    text_section(out, "Hosts", grid_build(TABLE_HOSTS, &ctx, top), top);
    text_section(out, "Protocols (highest layer)", grid_build(TABLE_PROTOCOLS, &ctx, top), top);
    char *title = g_strdup_printf("Bandwidth per %s s interval from the first packet, empty intervals omitted%s",
                                  interval, top ? ", busiest in time order" : "");
    text_section(out, title, busiest_first_cut(grid_build(TABLE_BANDWIDTH, &ctx, 0), top), top);
    g_free(title);
    g_string_append(out, RULE);

    context_clear(&ctx);
    g_free(first);
    g_free(last);
    g_free(duration);
    g_free(interval);
    return out;
}

/* ---- JSON ---------------------------------------------------------------- */

/* "key":value,... for the columns that have a JSON key. */
static void
json_members(GString *out, const Column *columns, guint n, gconstpointer row, const Context *ctx)
{
    gboolean first = TRUE;

    for (guint c = 0; c < n; c++) {
        const Column *col = &columns[c];
        if (!col->json)
            continue;
        Value v = col->get(row, ctx);
        if (!value_absent(col, &v)) {
            g_string_append_printf(out, "%s\"%s\":", first ? "" : ",", col->json);
            append_json_value(out, col, &v, ctx);
            first = FALSE;
        }
        value_clear(&v);
    }
}

static void
json_array(GString *out, TableId id, const Context *ctx)
{
    GPtrArray *rows = table_rows(id, ctx, 0);

    g_string_append_c(out, '[');
    for (guint i = 0; i < rows->len; i++) {
        g_string_append(out, i ? ",\n  {" : "\n  {");
        json_members(out, tables[id].columns, tables[id].n_columns, g_ptr_array_index(rows, i), ctx);
        g_string_append_c(out, '}');
    }
    g_string_append_c(out, ']');
    g_ptr_array_unref(rows);
}

GString *
trafan_report_json(const TrafanStats *stats, const TrafanReportOptions *opts)
{
    /* trafan_format, as in graph.dot: readers refuse a version they do not know. */
    GString *out = g_string_new("{\"trafan_format\":1,\"capture\":{");
    Context ctx;
    char *interval = interval_str(trafan_stats_config(stats)->interval_us);

    context_init(&ctx, stats, opts);
    json_members(out, capture_columns, G_N_ELEMENTS(capture_columns), stats, &ctx);
    g_string_append(out, "},\n\"conversations\":");
    json_array(out, TABLE_CONVERSATIONS, &ctx);
    g_string_append(out, ",\n\"hosts\":");
    json_array(out, TABLE_HOSTS, &ctx);
    g_string_append(out, ",\n\"protocols\":");
    json_array(out, TABLE_PROTOCOLS, &ctx);
    g_string_append_printf(out, ",\n\"bandwidth\":{\"interval\":%s,\"buckets\":", interval);
    json_array(out, TABLE_BANDWIDTH, &ctx);
    g_string_append(out, "},\n\"flags\":");
    json_array(out, TABLE_FLAGS, &ctx);
    /* Last, on a line of its own: what this run held, not what the capture was. */
    if (opts->detector)
        g_string_append_printf(out, ",\n\"detector\":{\"state_bytes\":%" G_GUINT64_FORMAT ",\"budget_bytes\":%"
                               G_GUINT64_FORMAT ",\"refused_keys\":%" G_GUINT64_FORMAT "}", opts->detector->state_bytes,
                               opts->detector->budget_bytes, opts->detector->refused_keys);
    g_string_append(out, "}\n");
    context_clear(&ctx);
    g_free(interval);
    return out;
}

/* ---- CSV ------------------------------------------------------------------- */

/* All tables, each introduced by a "# name" line. */
GString *
trafan_report_csv(const TrafanStats *stats, const TrafanReportOptions *opts)
{
    GString *out = g_string_new(NULL);
    Context ctx;

    context_init(&ctx, stats, opts);
    for (TableId id = 0; id < N_TABLES; id++) {
        Grid *g = grid_build(id, &ctx, 0);
        g_string_append_printf(out, "%s# %s\n", id ? "\n" : "", tables[id].name);
        grid_csv(g, out);
        grid_free(g);
    }
    context_clear(&ctx);
    return out;
}

/* ---- DOT --------------------------------------------------------------------- */

/* key="value", ... for the columns that have a DOT attribute. */
static void
dot_attributes(GString *out, const Column *columns, guint n, gconstpointer row, const Context *ctx, gboolean first)
{
    for (guint c = 0; c < n; c++) {
        const Column *col = &columns[c];
        if (!col->dot)
            continue;
        Value v = col->get(row, ctx);
        if (!value_absent(col, &v)) {
            char *text = value_text(col, &v, ctx);
            g_string_append_printf(out, "%s%s=", first ? "" : ", ", col->dot);
            append_dot_string(out, text);
            g_free(text);
            first = FALSE;
        }
        value_clear(&v);
    }
}

GString *
trafan_report_dot(const TrafanStats *stats, const TrafanReportOptions *opts)
{
    GString *out = g_string_new("graph \"trafan\" {\n  graph [trafan_format=\"1\"");
    Context ctx;
    char buf[TRAFAN_ADDRSTRLEN];
    GPtrArray *rows;

    context_init(&ctx, stats, opts);
    dot_attributes(out, capture_columns, G_N_ELEMENTS(capture_columns), stats, &ctx, FALSE);
    g_string_append(out, "];\n");

    rows = table_rows(TABLE_HOSTS, &ctx, 0);
    for (guint i = 0; i < rows->len; i++) {
        const TrafanHost *h = g_ptr_array_index(rows, i);
        g_string_append(out, "  ");
        append_dot_string(out, trafan_address_to_str(&h->address, buf));
        g_string_append(out, " [");
        dot_attributes(out, host_columns, G_N_ELEMENTS(host_columns), h, &ctx, TRUE);
        g_string_append(out, "];\n");
    }
    g_ptr_array_unref(rows);

    rows = table_rows(TABLE_CONVERSATIONS, &ctx, 0);
    for (guint i = 0; i < rows->len; i++) {
        const TrafanConversation *c = g_ptr_array_index(rows, i);
        g_string_append(out, "  ");
        append_dot_string(out, trafan_address_to_str(&c->a, buf));
        g_string_append(out, " -- ");
        append_dot_string(out, trafan_address_to_str(&c->b, buf));
        g_string_append(out, " [");
        dot_attributes(out, conversation_columns, G_N_ELEMENTS(conversation_columns), c, &ctx, TRUE);
        g_string_append(out, "];\n");
    }
    g_ptr_array_unref(rows);
    g_string_append(out, "}\n");
    context_clear(&ctx);
    return out;
}

GString *
trafan_report(const TrafanStats *stats, const TrafanReportOptions *opts, TrafanFormat format)
{
    switch (format) {
    case TRAFAN_FORMAT_JSON: return trafan_report_json(stats, opts);
    case TRAFAN_FORMAT_CSV:  return trafan_report_csv(stats, opts);
    default:                 return trafan_report_text(stats, opts);
    }
}

/* ---- the out= directory ------------------------------------------------- */

/* g_file_set_contents() writes a temporary file beside the target and
 * renames it into place, so a reader never sees half a file. */
static gboolean
write_file(const char *dir, const char *name, GString *content, GError **error)
{
    char *path = g_build_filename(dir, name, NULL);
    gboolean ok = g_file_set_contents(path, content->str, (gssize)content->len, error);

    g_free(path);
    g_string_free(content, TRUE);
    return ok;
}

char *
trafan_escape_controls(const char *text)
{
    GString *out = g_string_sized_new(strlen(text));

    for (const char *p = text; *p;) {
        gunichar c = g_utf8_get_char_validated(p, -1);

        if (c == (gunichar)-1 || c == (gunichar)-2) {
            g_string_append_printf(out, "\\x%02x", (guint8)*p++);
        } else if (c == '\n' || c == '\t' || c == '\r') {
            g_string_append_c(out, '\\');
            g_string_append_c(out, c == '\n' ? 'n' : c == '\t' ? 't' : 'r');
            p++;
        } else if (c < 0x20 || c == 0x7f || (c >= 0x80 && c < 0xa0)) {
            g_string_append_printf(out, c < 0x80 ? "\\x%02x" : "\\u%04x", (guint)c);
            p = g_utf8_next_char(p);
        } else {
            const char *next = g_utf8_next_char(p);
            g_string_append_len(out, p, next - p);
            p = next;
        }
    }
    return g_string_free(out, FALSE);
}

static const char *const export_files[] = {
    "conversations.csv", "hosts.csv", "protocols.csv", "bandwidth.csv", "flags.csv", "report.json", "graph.dot",
};

/* The deepest part of path that exists, or NULL. */
static char *
existing_ancestor(const char *path)
{
    char *at = g_strdup(path);

    while (!g_file_test(at, G_FILE_TEST_EXISTS)) {
        char *up = g_path_get_dirname(at);
        gboolean top = strcmp(up, at) == 0;

        g_free(at);
        at = up;
        if (top)
            break;
    }
    return at;
}

static gboolean
dir_error(GError **error, const char *dir, const char *problem)
{
    char *shown = trafan_escape_controls(dir);

    g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_FAILED, "out=%s: %s", shown, problem);
    g_free(shown);
    return FALSE;
}

gboolean
trafan_report_check_dir(const char *dir, GError **error)
{
    char *base = existing_ancestor(dir);
    gboolean is_dir = g_file_test(base, G_FILE_TEST_IS_DIR);
    gboolean writable = is_dir && access(base, W_OK | X_OK) == 0;
    gboolean ok = TRUE;

    if (!is_dir) {
        char *shown = trafan_escape_controls(base), *problem = g_strdup_printf("%s is not a directory", shown);
        ok = dir_error(error, dir, problem);
        g_free(problem);
        g_free(shown);
    } else if (!writable) {
        char *shown = trafan_escape_controls(base);
        char *problem = g_strdup_printf("cannot write into %s: %s", shown, g_strerror(EACCES));
        ok = dir_error(error, dir, problem);
        g_free(problem);
        g_free(shown);
    }
    for (guint i = 0; ok && strcmp(base, dir) == 0 && i < G_N_ELEMENTS(export_files); i++) {
        char *path = g_build_filename(dir, export_files[i], NULL);
        if (g_file_test(path, G_FILE_TEST_IS_DIR)) {
            char *problem = g_strdup_printf("%s is a directory, where the export file goes", export_files[i]);
            ok = dir_error(error, dir, problem);
            g_free(problem);
        }
        g_free(path);
    }
    g_free(base);
    return ok;
}

gboolean
trafan_report_write_dir(const TrafanStats *stats, const TrafanReportOptions *opts,
                        const char *dir, GError **error)
{
    Context ctx;
    gboolean ok = TRUE;

    if (g_mkdir_with_parents(dir, 0777) != 0) {
        g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(errno),
                    "cannot create directory %s: %s", dir, g_strerror(errno));
        return FALSE;
    }
    context_init(&ctx, stats, opts);
    for (TableId id = 0; ok && id < N_TABLES; id++) {
        Grid *g = grid_build(id, &ctx, 0);
        GString *csv = g_string_new(NULL);
        char *name = g_strdup_printf("%s.csv", tables[id].name);

        grid_csv(g, csv);
        grid_free(g);
        ok = write_file(dir, name, csv, error);
        g_free(name);
    }
    context_clear(&ctx);
    return ok
        && write_file(dir, "report.json", trafan_report_json(stats, opts), error)
        && write_file(dir, "graph.dot", trafan_report_dot(stats, opts), error);
}
