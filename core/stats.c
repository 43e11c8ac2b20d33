/* stats.c — the one-pass accumulators behind every trafan report.
 *
 * Per frame: capture totals, the highest-layer protocol, the bandwidth
 * interval, and for every IP header (tunnels have several) its conversation
 * and both hosts, exactly as Wireshark's conversation and endpoint tables
 * count them.  A conversation remembers its two hosts, so a frame costs one
 * hash lookup per IP header.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <stdlib.h>
#include <string.h>

#include "stats.h"

struct TrafanStats {
    TrafanConfig config;

    guint64 packets, bytes;
    gint64  first_ns, last_ns;  /* earliest and latest absolute time */
    gint64  ref_ns;             /* Wireshark's time reference (first frame) */
    gint64  epoch_base_s;       /* absolute times count from here (packet.h) */
    gboolean seen_any;

    GHashTable *conversations;  /* unordered address pair -> conversation */
    GHashTable *hosts;          /* TrafanAddress -> TrafanHost */
    guint       kept_hosts;     /* real (not pseudo) hosts in `hosts` */
    guint64     hosts_created;
    GHashTable *protocols;      /* interned name -> TrafanProtocolCount */
    TrafanProtocolCount *last_protocol;     /* the entry of the previous frame */
    GHashTable *aggregated;     /* hosts folded past max_hosts (at most max_hosts kept) */
    gboolean    aggregated_overflow;    /* ... and there were more than that */

    GArray *buckets;            /* TrafanBucket, ascending index, non-empty */
    gint64  io_index;           /* -z io,stat's current interval: see stats.c */
};

/* A conversation is its own key: the table finds it by its two addresses
 * in either order, so both directions meet without a second copy of them. */
typedef struct {
    TrafanConversation conv;
    TrafanHost        *host_a;
    TrafanHost        *host_b;
} ConvEntry;

static guint
conv_hash(gconstpointer key)
{
    const TrafanConversation *c = key;
    guint ha = trafan_address_hash(&c->a), hb = trafan_address_hash(&c->b);

    return MIN(ha, hb) * 31u + MAX(ha, hb);
}

static gboolean
conv_equal(gconstpointer x, gconstpointer y)
{
    const TrafanConversation *c = x, *d = y;

    if (trafan_address_equal(&c->a, &d->a))
        return trafan_address_equal(&c->b, &d->b);
    return trafan_address_equal(&c->a, &d->b) && trafan_address_equal(&c->b, &d->a);
}

static void
conv_entry_free(gpointer data)
{
    ConvEntry *entry = data;

    if (entry->conv.protocols)
        g_array_unref(entry->conv.protocols);
    g_free(entry);
}

static void
host_free(gpointer data)
{
    TrafanHost *host = data;

    if (host->dst_ports)
        g_hash_table_destroy(host->dst_ports);
    g_free(host);
}

static void
bucket_clear(gpointer data)
{
    TrafanBucket *bucket = data;

    g_array_free(bucket->protocols, TRUE);
}

void
trafan_config_init(TrafanConfig *config)
{
    config->interval_us = TRAFAN_DEFAULT_INTERVAL_US;
    config->max_hosts = TRAFAN_DEFAULT_MAX_HOSTS;
}

TrafanStats *
trafan_stats_new(const TrafanConfig *config)
{
    TrafanStats *stats = g_new0(TrafanStats, 1);

    stats->config = *config;
    stats->conversations = g_hash_table_new_full(conv_hash, conv_equal, NULL, conv_entry_free);
    stats->hosts = g_hash_table_new_full(trafan_address_hash, trafan_address_equal, NULL, host_free);
    stats->protocols = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, g_free);
    stats->aggregated = g_hash_table_new_full(trafan_address_hash, trafan_address_equal, g_free, NULL);
    stats->buckets = g_array_new(FALSE, FALSE, sizeof(TrafanBucket));
    g_array_set_clear_func(stats->buckets, bucket_clear);
    return stats;
}

void
trafan_stats_free(TrafanStats *stats)
{
    if (!stats)
        return;
    g_hash_table_destroy(stats->conversations);
    g_hash_table_destroy(stats->hosts);
    g_hash_table_destroy(stats->protocols);
    g_hash_table_destroy(stats->aggregated);
    g_array_free(stats->buckets, TRUE);
    g_free(stats);
}

/* Add to the per-protocol counter of a small array (a conversation's or an
 * interval's): a handful of entries, so a linear scan beats hashing. */
static void
protocol_array_add(GArray *counts, const char *protocol, guint64 packets, guint64 bytes)
{
    for (guint i = 0; i < counts->len; i++) {
        TrafanProtocolCount *c = &g_array_index(counts, TrafanProtocolCount, i);
        if (c->protocol == protocol) {
            c->packets += packets;
            c->bytes += bytes;
            return;
        }
    }
    TrafanProtocolCount c = { protocol, packets, bytes };
    g_array_append_val(counts, c);
}

static TrafanProtocolCount *
protocol_table_add(GHashTable *table, const char *protocol, guint64 packets, guint64 bytes)
{
    TrafanProtocolCount *c = g_hash_table_lookup(table, protocol);

    if (!c) {
        c = g_new0(TrafanProtocolCount, 1);
        c->protocol = protocol;
        g_hash_table_insert(table, (gpointer)protocol, c);
    }
    c->packets += packets;
    c->bytes += bytes;
    return c;
}

static void
time_span_add(gint64 *first, gint64 *last, gint64 t_first, gint64 t_last)
{
    *first = MIN(*first, t_first);
    *last = MAX(*last, t_last);
}

static gboolean
is_pseudo_host(const TrafanAddress *address)
{
    return address->family == TRAFAN_FAMILY_OTHER4 || address->family == TRAFAN_FAMILY_OTHER6;
}

/* The host an address counts in: its own, or the pseudo-host of its family
 * once max_hosts distinct hosts are kept. */
static TrafanHost *
host_get(TrafanStats *stats, const TrafanAddress *address, gint64 now)
{
    TrafanHost *host = g_hash_table_lookup(stats->hosts, address);
    TrafanAddress other = { 0 };

    if (host)
        return host;
    if (is_pseudo_host(address)) {
        /* created below */
    } else if (stats->kept_hosts < stats->config.max_hosts) {
        stats->kept_hosts++;
    } else {
        if (g_hash_table_size(stats->aggregated) < stats->config.max_hosts)
            g_hash_table_add(stats->aggregated, g_memdup2(address, sizeof *address));
        else if (!g_hash_table_contains(stats->aggregated, address))
            stats->aggregated_overflow = TRUE;
        other.family = address->family == 6 ? TRAFAN_FAMILY_OTHER6 : TRAFAN_FAMILY_OTHER4;
        address = &other;
        host = g_hash_table_lookup(stats->hosts, address);
        if (host)
            return host;
    }
    host = g_new0(TrafanHost, 1);
    host->address = *address;
    host->first_ns = host->last_ns = now;
    host->order = stats->hosts_created++;
    g_hash_table_insert(stats->hosts, &host->address, host);
    return host;
}

/* Did the conversation's host a send this?  A folded sender is whichever side
 * is a pseudo-host, a first. */
static gboolean
sent_by_a(const TrafanConversation *conv, const TrafanAddress *src)
{
    if (trafan_address_equal(src, &conv->a))
        return TRUE;
    if (trafan_address_equal(src, &conv->b))
        return FALSE;
    return is_pseudo_host(&conv->a);
}

static ConvEntry *
conversation_find(TrafanStats *stats, const TrafanAddress *a, const TrafanAddress *b)
{
    TrafanConversation key;

    key.a = *a;
    key.b = *b;
    return g_hash_table_lookup(stats->conversations, &key);
}

static ConvEntry *
conversation_get(TrafanStats *stats, const TrafanAddress *src, const TrafanAddress *dst, gint64 now)
{
    ConvEntry *entry = conversation_find(stats, src, dst);
    if (entry)
        return entry;

    /* A new pair: resolve hosts (and the host cap) once, for its lifetime. */
    TrafanHost *host_a = host_get(stats, src, now), *host_b = host_get(stats, dst, now);
    const TrafanAddress *a = &host_a->address, *b = &host_b->address;
    if (!trafan_address_equal(a, src) || !trafan_address_equal(b, dst)) {
        entry = conversation_find(stats, a, b);
        if (entry)
            return entry;
    }

    entry = g_new0(ConvEntry, 1);
    entry->conv.a = *a;
    entry->conv.b = *b;
    entry->conv.first_ns = entry->conv.last_ns = now;
    entry->host_a = host_a;
    entry->host_b = host_b;
    g_hash_table_insert(stats->conversations, &entry->conv, entry);
    return entry;
}

GArray *
trafan_conversation_protocols(const TrafanConversation *conv)
{
    if (conv->protocols)
        return g_array_ref(conv->protocols);
    GArray *one = g_array_sized_new(FALSE, FALSE, sizeof(TrafanProtocolCount), 1);
    if (conv->protocol)
        protocol_array_add(one, conv->protocol, trafan_conversation_packets(conv), trafan_conversation_bytes(conv));
    return one;
}

/* A conversation about to count a second protocol keeps an array of them,
 * the first with the counts so far.  A new one (no packet yet) starts empty. */
static void
conversation_expand(TrafanConversation *conv)
{
    if (conv->protocols)
        return;
    conv->protocols = trafan_conversation_protocols(conv);
    conv->protocol = NULL;
}

/* One IP header: its conversation and both endpoints, as
 * add_conversation_table_data() and add_endpoint_table_data() count them.
 * Returns the sender. */
static TrafanHost *
count_ip_layer(TrafanStats *stats, const TrafanIpLayer *ip, const TrafanPacket *pkt)
{
    ConvEntry *entry = conversation_get(stats, &ip->src, &ip->dst, pkt->abs_ns);
    TrafanConversation *conv = &entry->conv;
    gboolean forward = sent_by_a(conv, &ip->src);
    TrafanHost *sender = forward ? entry->host_a : entry->host_b;
    TrafanHost *receiver = forward ? entry->host_b : entry->host_a;

    if (conv->protocol && conv->protocol != pkt->protocol)
        conversation_expand(conv);
    if (forward) {
        conv->a_to_b_packets++;
        conv->a_to_b_bytes += pkt->frame_len;
    } else {
        conv->b_to_a_packets++;
        conv->b_to_a_bytes += pkt->frame_len;
    }
    time_span_add(&conv->first_ns, &conv->last_ns, pkt->abs_ns, pkt->abs_ns);
    if (conv->protocols)
        protocol_array_add(conv->protocols, pkt->protocol, 1, pkt->frame_len);
    else
        conv->protocol = pkt->protocol;

    sender->tx_packets++;
    sender->tx_bytes += pkt->frame_len;
    receiver->rx_packets++;
    receiver->rx_bytes += pkt->frame_len;
    time_span_add(&sender->first_ns, &sender->last_ns, pkt->abs_ns, pkt->abs_ns);
    time_span_add(&receiver->first_ns, &receiver->last_ns, pkt->abs_ns, pkt->abs_ns);
    return sender;
}

static void
host_port_add(TrafanHost *host, guint32 port)
{
    if (!host->dst_ports) {
        for (guint i = 0; i < host->n_dst_ports; i++)
            if (host->dst_ports_few[i] == port)
                return;
        if (host->n_dst_ports < G_N_ELEMENTS(host->dst_ports_few)) {
            host->dst_ports_few[host->n_dst_ports++] = port;
            return;
        }
        host->dst_ports = g_hash_table_new(NULL, NULL);
        for (guint i = 0; i < host->n_dst_ports; i++)
            g_hash_table_add(host->dst_ports, GUINT_TO_POINTER(host->dst_ports_few[i]));
    }
    if (g_hash_table_add(host->dst_ports, GUINT_TO_POINTER(port)))
        host->n_dst_ports++;
}

static int
compare_u32(gconstpointer a, gconstpointer b)
{
    guint32 x = *(const guint32 *)a, y = *(const guint32 *)b;
    return x < y ? -1 : x > y;
}

/* The values of host_port_add(), ascending. */
static GArray *
host_port_list(const TrafanHost *host)
{
    GArray *list = g_array_sized_new(FALSE, FALSE, sizeof(guint32), host->n_dst_ports);

    if (host->dst_ports) {
        GHashTableIter it;
        gpointer port;
        g_hash_table_iter_init(&it, host->dst_ports);
        while (g_hash_table_iter_next(&it, &port, NULL)) {
            guint32 value = GPOINTER_TO_UINT(port);
            g_array_append_val(list, value);
        }
    } else {
        g_array_append_vals(list, host->dst_ports_few, host->n_dst_ports);
    }
    g_array_sort(list, compare_u32);
    return list;
}

/* `sender`: the host that sent the innermost IP header, usually this one's. */
static void
count_transport(TrafanStats *stats, const TrafanTransport *tp, TrafanHost *sender, gint64 now)
{
    if (!sender || !trafan_address_equal(&sender->address, &tp->src))
        sender = host_get(stats, &tp->src, now);

    host_port_add(sender, (guint32)tp->ip_proto << 16 | tp->dst_port);
}

/* -z io,stat's interval for a frame (ui/cli/tap-iostat.c): its relative time
 * rounded to the microsecond; a frame with a negative relative time, or one
 * earlier than the current interval, counts in the current interval, because
 * io,stat only ever moves forward. */
static TrafanBucket *
bucket_for(TrafanStats *stats, gint64 rel_ns)
{
    if (rel_ns >= 0) {
        gint64 rel_us = (rel_ns + 500) / 1000;
        stats->io_index = MAX(stats->io_index, rel_us / stats->config.interval_us);
    }

    GArray *buckets = stats->buckets;
    if (buckets->len == 0 || g_array_index(buckets, TrafanBucket, buckets->len - 1).index != stats->io_index) {
        TrafanBucket bucket = { stats->io_index, 0, 0, g_array_new(FALSE, FALSE, sizeof(TrafanProtocolCount)) };
        g_array_append_val(buckets, bucket);
    }
    return &g_array_index(buckets, TrafanBucket, buckets->len - 1);
}

void
trafan_stats_add(TrafanStats *stats, const TrafanPacket *pkt)
{
    if (!stats->seen_any) {
        stats->seen_any = TRUE;
        stats->first_ns = stats->last_ns = pkt->abs_ns;
        stats->ref_ns = pkt->abs_ns - pkt->rel_ns;
        stats->epoch_base_s = pkt->epoch_base_s;
    }
    stats->packets++;
    stats->bytes += pkt->frame_len;
    time_span_add(&stats->first_ns, &stats->last_ns, pkt->abs_ns, pkt->abs_ns);

    /* Consecutive frames are mostly of one protocol: skip the lookup. */
    if (!stats->last_protocol || stats->last_protocol->protocol != pkt->protocol) {
        stats->last_protocol = protocol_table_add(stats->protocols, pkt->protocol, 0, 0);
    }
    stats->last_protocol->packets++;
    stats->last_protocol->bytes += pkt->frame_len;

    TrafanBucket *bucket = bucket_for(stats, pkt->rel_ns);
    bucket->packets++;
    bucket->bytes += pkt->frame_len;
    protocol_array_add(bucket->protocols, pkt->protocol, 1, pkt->frame_len);

    TrafanHost *sender = NULL;
    for (guint i = 0; i < pkt->n_ip; i++)
        sender = count_ip_layer(stats, &pkt->ip[i], pkt);
    for (guint i = 0; i < pkt->n_transport; i++)
        count_transport(stats, &pkt->transport[i], sender, pkt->abs_ns);
}

/* ---- merging the state of the next slice ------------------------------ */

/* Sort `rows`, or, with a limit, only find and sort the first `limit`: a
 * report that shows the top 10 of a million rows should not sort them all.
 * The orders are total, so the rows are those a full sort puts first. */
static GPtrArray *
sort_first(GPtrArray *rows, GCompareFunc compare, guint limit)
{
    if (limit == 0 || limit >= rows->len) {
        g_ptr_array_sort(rows, compare);
        return rows;
    }
    gpointer *p = rows->pdata;
    qsort(p, limit, sizeof *p, compare);
    for (guint i = limit; i < rows->len; i++) {
        if (compare(&p[i], &p[limit - 1]) >= 0)
            continue;                           /* the common case: one comparison */
        gpointer row = p[i];
        guint j = limit - 1;
        for (; j > 0 && compare(&row, &p[j - 1]) < 0; j--)
            p[j] = p[j - 1];
        p[j] = row;
    }
    g_ptr_array_set_size(rows, limit);
    return rows;
}

static GPtrArray *
values_sorted(GHashTable *table, GCompareFunc compare, guint limit)
{
    GPtrArray *rows = g_ptr_array_sized_new(g_hash_table_size(table));
    GHashTableIter it;
    gpointer value;

    g_hash_table_iter_init(&it, table);
    while (g_hash_table_iter_next(&it, NULL, &value))
        g_ptr_array_add(rows, value);
    return sort_first(rows, compare, limit);
}

static int
compare_creation(gconstpointer pa, gconstpointer pb)
{
    const TrafanHost *a = *(TrafanHost *const *)pa, *b = *(TrafanHost *const *)pb;

    return a->order < b->order ? -1 : a->order > b->order;
}

static TrafanHost *
merge_host(TrafanStats *stats, const TrafanHost *from)
{
    TrafanHost *host = host_get(stats, &from->address, from->first_ns);

    host->tx_packets += from->tx_packets;
    host->tx_bytes += from->tx_bytes;
    host->rx_packets += from->rx_packets;
    host->rx_bytes += from->rx_bytes;
    time_span_add(&host->first_ns, &host->last_ns, from->first_ns, from->last_ns);
    GArray *ports = host_port_list(from);
    for (guint i = 0; i < ports->len; i++)
        host_port_add(host, g_array_index(ports, guint32, i));
    g_array_unref(ports);
    return host;
}

static void
merge_conversation(TrafanStats *stats, const TrafanConversation *from)
{
    ConvEntry *entry = conversation_get(stats, &from->a, &from->b, from->first_ns);
    TrafanConversation *conv = &entry->conv;
    gboolean same_way = sent_by_a(conv, &from->a);
    gboolean one_protocol = !from->protocols && !conv->protocols
                            && (!conv->protocol || conv->protocol == from->protocol);

    if (!one_protocol)
        conversation_expand(conv);
    if (trafan_address_equal(&conv->a, &conv->b)) {
        /* Both ends folded into one pseudo-host: one pass counts every
         * packet of such a self-conversation a -> b (sent_by_a). */
        conv->a_to_b_packets += from->a_to_b_packets + from->b_to_a_packets;
        conv->a_to_b_bytes += from->a_to_b_bytes + from->b_to_a_bytes;
    } else {
        conv->a_to_b_packets += same_way ? from->a_to_b_packets : from->b_to_a_packets;
        conv->a_to_b_bytes += same_way ? from->a_to_b_bytes : from->b_to_a_bytes;
        conv->b_to_a_packets += same_way ? from->b_to_a_packets : from->a_to_b_packets;
        conv->b_to_a_bytes += same_way ? from->b_to_a_bytes : from->a_to_b_bytes;
    }
    time_span_add(&conv->first_ns, &conv->last_ns, from->first_ns, from->last_ns);
    if (one_protocol) {
        conv->protocol = from->protocol;
        return;
    }
    GArray *counts = trafan_conversation_protocols(from);
    for (guint i = 0; i < counts->len; i++) {
        const TrafanProtocolCount *c = &g_array_index(counts, TrafanProtocolCount, i);
        protocol_array_add(conv->protocols, c->protocol, c->packets, c->bytes);
    }
    g_array_unref(counts);
}

/* A frame of the later slice went, in that slice alone, to its interval k;
 * in the whole capture io,stat's clock had already reached io_index, so it
 * goes to max(io_index, k).  Merging is therefore exact. */
static void
merge_buckets(TrafanStats *stats, const TrafanStats *later)
{
    gint64 base = stats->seen_any ? stats->io_index : 0;

    for (guint i = 0; i < later->buckets->len; i++) {
        const TrafanBucket *from = &g_array_index(later->buckets, TrafanBucket, i);
        gint64 saved = stats->io_index;

        stats->io_index = MAX(base, from->index);
        TrafanBucket *bucket = bucket_for(stats, -1);
        stats->io_index = MAX(saved, stats->io_index);
        bucket->packets += from->packets;
        bucket->bytes += from->bytes;
        for (guint j = 0; j < from->protocols->len; j++) {
            const TrafanProtocolCount *c = &g_array_index(from->protocols, TrafanProtocolCount, j);
            protocol_array_add(bucket->protocols, c->protocol, c->packets, c->bytes);
        }
    }
}

gboolean
trafan_stats_merge(TrafanStats *stats, const TrafanStats *later, GError **error)
{
    if (stats->config.interval_us != later->config.interval_us) {
        g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                    "cannot merge statistics with different intervals");
        return FALSE;
    }
    if (!later->seen_any)
        return TRUE;
    if (stats->seen_any && (stats->ref_ns != later->ref_ns || stats->epoch_base_s != later->epoch_base_s)) {
        g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                    "cannot merge statistics with different time references");
        return FALSE;
    }

    merge_buckets(stats, later);
    if (!stats->seen_any) {
        stats->seen_any = TRUE;
        stats->first_ns = later->first_ns;
        stats->last_ns = later->last_ns;
        stats->ref_ns = later->ref_ns;
        stats->epoch_base_s = later->epoch_base_s;
    }
    stats->packets += later->packets;
    stats->bytes += later->bytes;
    time_span_add(&stats->first_ns, &stats->last_ns, later->first_ns, later->last_ns);

    GHashTableIter it;
    gpointer value;

    g_hash_table_iter_init(&it, later->protocols);
    while (g_hash_table_iter_next(&it, NULL, &value)) {
        const TrafanProtocolCount *c = value;
        protocol_table_add(stats->protocols, c->protocol, c->packets, c->bytes);
    }

    /* Hosts in the order the later slice met them, which is the order the
     * whole capture meets its new hosts in, so the host cap folds the same. */
    GPtrArray *hosts = values_sorted(later->hosts, compare_creation, 0);
    for (guint i = 0; i < hosts->len; i++)
        merge_host(stats, g_ptr_array_index(hosts, i));
    g_ptr_array_unref(hosts);

    g_hash_table_iter_init(&it, later->aggregated);
    while (g_hash_table_iter_next(&it, &value, NULL)) {
        if (g_hash_table_size(stats->aggregated) < stats->config.max_hosts)
            g_hash_table_add(stats->aggregated, g_memdup2(value, sizeof(TrafanAddress)));
        else
            stats->aggregated_overflow = TRUE;
    }
    stats->aggregated_overflow |= later->aggregated_overflow;

    g_hash_table_iter_init(&it, later->conversations);
    while (g_hash_table_iter_next(&it, NULL, &value))
        merge_conversation(stats, &((ConvEntry *)value)->conv);
    return TRUE;
}

/* ---- derived figures and sorted views --------------------------------- */

void
trafan_stats_finish(TrafanStats *stats)
{
    GHashTableIter it;
    gpointer value;

    g_hash_table_iter_init(&it, stats->hosts);
    while (g_hash_table_iter_next(&it, NULL, &value)) {
        TrafanHost *host = value;
        host->peers = 0;
        host->aggregated = 0;
    }
    g_hash_table_iter_init(&it, stats->conversations);
    while (g_hash_table_iter_next(&it, NULL, &value)) {
        ConvEntry *entry = value;
        entry->host_a->peers++;
        if (entry->host_b != entry->host_a)
            entry->host_b->peers++;
    }
    g_hash_table_iter_init(&it, stats->aggregated);
    while (g_hash_table_iter_next(&it, &value, NULL)) {
        const TrafanAddress *folded = value;
        TrafanAddress other = { 0 };

        other.family = folded->family == 6 ? TRAFAN_FAMILY_OTHER6 : TRAFAN_FAMILY_OTHER4;
        TrafanHost *host = g_hash_table_lookup(stats->hosts, &other);
        if (host)
            host->aggregated++;
    }
}

static int
compare_volume(guint64 bytes_a, guint64 packets_a, guint64 bytes_b, guint64 packets_b)
{
    if (bytes_a != bytes_b)
        return bytes_a > bytes_b ? -1 : 1;
    if (packets_a != packets_b)
        return packets_a > packets_b ? -1 : 1;
    return 0;
}

static int
compare_conversations(gconstpointer pa, gconstpointer pb)
{
    const TrafanConversation *a = *(TrafanConversation *const *)pa, *b = *(TrafanConversation *const *)pb;
    int c = compare_volume(a->a_to_b_bytes + a->b_to_a_bytes, a->a_to_b_packets + a->b_to_a_packets,
                           b->a_to_b_bytes + b->b_to_a_bytes, b->a_to_b_packets + b->b_to_a_packets);

    if (c == 0)
        c = trafan_address_compare(&a->a, &b->a);
    return c != 0 ? c : trafan_address_compare(&a->b, &b->b);
}

static int
compare_hosts(gconstpointer pa, gconstpointer pb)
{
    const TrafanHost *a = *(TrafanHost *const *)pa, *b = *(TrafanHost *const *)pb;
    int c = compare_volume(a->tx_bytes + a->rx_bytes, a->tx_packets + a->rx_packets,
                           b->tx_bytes + b->rx_bytes, b->tx_packets + b->rx_packets);

    return c != 0 ? c : trafan_address_compare(&a->address, &b->address);
}

static int
compare_protocols(gconstpointer pa, gconstpointer pb)
{
    const TrafanProtocolCount *a = *(TrafanProtocolCount *const *)pa, *b = *(TrafanProtocolCount *const *)pb;
    int c = compare_volume(a->bytes, a->packets, b->bytes, b->packets);

    return c != 0 ? c : strcmp(a->protocol, b->protocol);
}

GPtrArray *
trafan_stats_sorted_conversations(const TrafanStats *stats, guint limit)
{
    GPtrArray *rows = g_ptr_array_sized_new(g_hash_table_size(stats->conversations));
    GHashTableIter it;
    gpointer value;

    g_hash_table_iter_init(&it, stats->conversations);
    while (g_hash_table_iter_next(&it, NULL, &value))
        g_ptr_array_add(rows, &((ConvEntry *)value)->conv);
    return sort_first(rows, compare_conversations, limit);
}

void
trafan_stats_foreach_conversation(const TrafanStats *stats, TrafanConversationFunc func, gpointer user_data)
{
    GHashTableIter it;
    gpointer value;

    g_hash_table_iter_init(&it, stats->conversations);
    while (g_hash_table_iter_next(&it, NULL, &value))
        func(&((ConvEntry *)value)->conv, user_data);
}

static void
foreach_value(GHashTable *table, GFunc func, gpointer user_data)
{
    GHashTableIter it;
    gpointer value;

    g_hash_table_iter_init(&it, table);
    while (g_hash_table_iter_next(&it, NULL, &value))
        func(value, user_data);
}

void
trafan_stats_foreach_host(const TrafanStats *stats, TrafanHostFunc func, gpointer user_data)
{
    foreach_value(stats->hosts, (GFunc)func, user_data);
}

void
trafan_stats_foreach_protocol(const TrafanStats *stats, TrafanProtocolFunc func, gpointer user_data)
{
    foreach_value(stats->protocols, (GFunc)func, user_data);
}

GPtrArray *
trafan_stats_sorted_hosts(const TrafanStats *stats, guint limit)
{
    return values_sorted(stats->hosts, compare_hosts, limit);
}

GPtrArray *
trafan_stats_sorted_protocols(const TrafanStats *stats, guint limit)
{
    return values_sorted(stats->protocols, compare_protocols, limit);
}

/* ---- accessors ----------------------------------------------------------- */

guint64 trafan_stats_packets(const TrafanStats *stats) { return stats->packets; }
guint64 trafan_stats_bytes(const TrafanStats *stats) { return stats->bytes; }
gboolean trafan_stats_seen_any(const TrafanStats *stats) { return stats->seen_any; }
gint64 trafan_stats_first_ns(const TrafanStats *stats) { return stats->first_ns; }
gint64 trafan_stats_last_ns(const TrafanStats *stats) { return stats->last_ns; }
gint64 trafan_stats_ref_ns(const TrafanStats *stats) { return stats->ref_ns; }
gint64 trafan_stats_epoch_base_s(const TrafanStats *stats) { return stats->epoch_base_s; }
const TrafanConfig *trafan_stats_config(const TrafanStats *stats) { return &stats->config; }
guint trafan_stats_n_hosts(const TrafanStats *stats) { return g_hash_table_size(stats->hosts); }
guint trafan_stats_n_conversations(const TrafanStats *stats) { return g_hash_table_size(stats->conversations); }
guint trafan_stats_n_protocols(const TrafanStats *stats) { return g_hash_table_size(stats->protocols); }
guint trafan_stats_hosts_aggregated(const TrafanStats *stats) { return g_hash_table_size(stats->aggregated); }
gboolean trafan_stats_hosts_aggregated_exact(const TrafanStats *stats) { return !stats->aggregated_overflow; }
const GArray *trafan_stats_buckets(const TrafanStats *stats) { return stats->buckets; }

const TrafanHost *
trafan_stats_host(const TrafanStats *stats, const TrafanAddress *address)
{
    return g_hash_table_lookup(stats->hosts, address);
}

const TrafanHost *
trafan_stats_top_talker(const TrafanStats *stats)
{
    const TrafanHost *top = NULL;
    GHashTableIter it;
    gpointer value;

    g_hash_table_iter_init(&it, stats->hosts);
    while (g_hash_table_iter_next(&it, NULL, &value)) {
        const TrafanHost *h = value;
        if (!top || h->tx_bytes > top->tx_bytes)
            top = h;
    }
    return top;
}

guint64
trafan_conversation_packets(const TrafanConversation *conv)
{
    return conv->a_to_b_packets + conv->b_to_a_packets;
}

guint64
trafan_conversation_bytes(const TrafanConversation *conv)
{
    return conv->a_to_b_bytes + conv->b_to_a_bytes;
}

guint
trafan_host_dst_ports(const TrafanHost *host)
{
    return host->n_dst_ports;
}

/* ---- saving and loading the state ---------------------------------------- */

static GVariant *
address_variant(const TrafanAddress *address)
{
    return g_variant_new("(y@ay)", address->family,
                         g_variant_new_fixed_array(G_VARIANT_TYPE_BYTE, address->bytes, sizeof address->bytes, 1));
}

static gboolean
address_from_variant(GVariant *v, TrafanAddress *address)
{
    GVariant *bytes;
    gsize n;

    memset(address, 0, sizeof *address);
    g_variant_get(v, "(y@ay)", &address->family, &bytes);
    const guint8 *data = g_variant_get_fixed_array(bytes, &n, 1);
    gboolean ok = n == sizeof address->bytes
               && (address->family == 4 || address->family == 6 || is_pseudo_host(address));
    if (ok)
        memcpy(address->bytes, data, n);
    g_variant_unref(bytes);
    return ok;
}

static GVariant *
protocol_counts_variant(const TrafanProtocolCount *const *counts, guint n)
{
    GVariantBuilder b;

    g_variant_builder_init(&b, G_VARIANT_TYPE("a(stt)"));
    for (guint i = 0; i < n; i++)
        g_variant_builder_add(&b, "(stt)", counts[i]->protocol, counts[i]->packets, counts[i]->bytes);
    return g_variant_builder_end(&b);
}

static GVariant *
protocol_array_variant(const GArray *counts)
{
    const TrafanProtocolCount **items = g_newa(const TrafanProtocolCount *, counts->len + 1);

    for (guint i = 0; i < counts->len; i++)
        items[i] = &g_array_index(counts, TrafanProtocolCount, i);
    return protocol_counts_variant(items, counts->len);
}

static GArray *
protocol_array_from_variant(GVariant *v)
{
    GArray *counts = g_array_new(FALSE, FALSE, sizeof(TrafanProtocolCount));
    GVariantIter it;
    const char *name;
    guint64 packets, bytes;

    g_variant_iter_init(&it, v);
    while (g_variant_iter_next(&it, "(&stt)", &name, &packets, &bytes))
        protocol_array_add(counts, g_intern_string(name), packets, bytes);
    return counts;
}

GVariant *
trafan_stats_save(const TrafanStats *stats)
{
    GVariantBuilder hosts, aggregated, convs, buckets;
    GHashTableIter it;
    gpointer value;

    GPtrArray *protocols = values_sorted(stats->protocols, compare_protocols, 0);
    GVariant *protocols_v = protocol_counts_variant((const TrafanProtocolCount *const *)protocols->pdata, protocols->len);
    g_ptr_array_unref(protocols);

    g_variant_builder_init(&hosts, G_VARIANT_TYPE("a((yay)ttttxxtau)"));
    GPtrArray *by_order = values_sorted(stats->hosts, compare_creation, 0);
    for (guint i = 0; i < by_order->len; i++) {
        const TrafanHost *h = g_ptr_array_index(by_order, i);
        GArray *ports = host_port_list(h);

        g_variant_builder_add(&hosts, "(@(yay)ttttxxt@au)", address_variant(&h->address), h->tx_packets, h->tx_bytes,
                              h->rx_packets, h->rx_bytes, h->first_ns, h->last_ns, h->order,
                              g_variant_new_fixed_array(G_VARIANT_TYPE_UINT32, ports->data, ports->len, sizeof(guint32)));
        g_array_unref(ports);
    }
    g_ptr_array_unref(by_order);

    g_variant_builder_init(&aggregated, G_VARIANT_TYPE("a(yay)"));
    g_hash_table_iter_init(&it, stats->aggregated);
    while (g_hash_table_iter_next(&it, &value, NULL))
        g_variant_builder_add_value(&aggregated, address_variant(value));

    g_variant_builder_init(&convs, G_VARIANT_TYPE("a((yay)(yay)ttttxxa(stt))"));
    g_hash_table_iter_init(&it, stats->conversations);
    while (g_hash_table_iter_next(&it, NULL, &value)) {
        const TrafanConversation *c = &((ConvEntry *)value)->conv;
        GArray *counts = trafan_conversation_protocols(c);
        g_variant_builder_add(&convs, "(@(yay)@(yay)ttttxx@a(stt))", address_variant(&c->a), address_variant(&c->b),
                              c->a_to_b_packets, c->a_to_b_bytes, c->b_to_a_packets, c->b_to_a_bytes,
                              c->first_ns, c->last_ns, protocol_array_variant(counts));
        g_array_unref(counts);
    }

    g_variant_builder_init(&buckets, G_VARIANT_TYPE("a(xtta(stt))"));
    for (guint i = 0; i < stats->buckets->len; i++) {
        const TrafanBucket *bk = &g_array_index(stats->buckets, TrafanBucket, i);
        g_variant_builder_add(&buckets, "(xtt@a(stt))", bk->index, bk->packets, bk->bytes,
                              protocol_array_variant(bk->protocols));
    }

    return g_variant_new("((xu)ttbxxxxxut@a(stt)a((yay)ttttxxtau)a(yay)ba((yay)(yay)ttttxxa(stt))a(xtta(stt)))",
                         stats->config.interval_us, stats->config.max_hosts,
                         stats->packets, stats->bytes, stats->seen_any, stats->first_ns, stats->last_ns,
                         stats->ref_ns, stats->epoch_base_s, stats->io_index, stats->kept_hosts, stats->hosts_created,
                         protocols_v, &hosts, &aggregated, stats->aggregated_overflow, &convs, &buckets);
}

static gboolean
corrupt(GError **error, const char *what)
{
    g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_INVAL, "inconsistent statistics: %s", what);
    return FALSE;
}

static gboolean
load_hosts(TrafanStats *stats, GVariant *v, GError **error)
{
    GVariantIter it;
    GVariant *address_v, *ports_v;
    TrafanHost h;

    g_variant_iter_init(&it, v);
    while (g_variant_iter_next(&it, "(@(yay)ttttxxt@au)", &address_v, &h.tx_packets, &h.tx_bytes,
                               &h.rx_packets, &h.rx_bytes, &h.first_ns, &h.last_ns, &h.order, &ports_v)) {
        gboolean ok = address_from_variant(address_v, &h.address)
                   && !g_hash_table_contains(stats->hosts, &h.address);
        gsize n;
        const guint32 *ports = g_variant_get_fixed_array(ports_v, &n, sizeof(guint32));

        if (ok) {
            TrafanHost *host = g_memdup2(&h, sizeof h);
            host->peers = host->aggregated = 0;
            host->n_dst_ports = 0;
            host->dst_ports = NULL;
            for (gsize i = 0; i < n; i++)
                host_port_add(host, ports[i]);
            g_hash_table_insert(stats->hosts, &host->address, host);
        }
        g_variant_unref(address_v);
        g_variant_unref(ports_v);
        if (!ok)
            return corrupt(error, "a host is invalid or listed twice");
    }
    return TRUE;
}

/* Every packet of a conversation counts in one of its protocols. */
static gboolean
protocols_add_up(const TrafanConversation *conv)
{
    guint64 packets = 0, bytes = 0;
    for (guint i = 0; i < conv->protocols->len; i++) {
        const TrafanProtocolCount *c = &g_array_index(conv->protocols, TrafanProtocolCount, i);
        packets += c->packets;
        bytes += c->bytes;
    }
    return packets == trafan_conversation_packets(conv) && bytes == trafan_conversation_bytes(conv);
}

static gboolean
load_conversations(TrafanStats *stats, GVariant *v, GError **error)
{
    GVariantIter it;
    GVariant *a_v, *b_v, *protocols_v;
    TrafanConversation c;

    g_variant_iter_init(&it, v);
    while (g_variant_iter_next(&it, "(@(yay)@(yay)ttttxx@a(stt))", &a_v, &b_v, &c.a_to_b_packets, &c.a_to_b_bytes,
                               &c.b_to_a_packets, &c.b_to_a_bytes, &c.first_ns, &c.last_ns, &protocols_v)) {
        gboolean ok = address_from_variant(a_v, &c.a) && address_from_variant(b_v, &c.b);
        ConvEntry *entry = g_new0(ConvEntry, 1);

        entry->conv = c;
        entry->host_a = g_hash_table_lookup(stats->hosts, &c.a);
        entry->host_b = g_hash_table_lookup(stats->hosts, &c.b);
        entry->conv.protocol = NULL;
        entry->conv.protocols = protocol_array_from_variant(protocols_v);
        ok = ok && entry->host_a && entry->host_b && !g_hash_table_contains(stats->conversations, &entry->conv)
             && protocols_add_up(&entry->conv);
        if (ok && entry->conv.protocols->len == 1) {      /* kept alone, as counted */
            entry->conv.protocol = g_array_index(entry->conv.protocols, TrafanProtocolCount, 0).protocol;
            g_clear_pointer(&entry->conv.protocols, g_array_unref);
        }
        if (ok)
            g_hash_table_insert(stats->conversations, &entry->conv, entry);
        else
            conv_entry_free(entry);
        g_variant_unref(a_v);
        g_variant_unref(b_v);
        g_variant_unref(protocols_v);
        if (!ok)
            return corrupt(error, "a conversation is invalid, listed twice or between unknown hosts");
    }
    return TRUE;
}

static gboolean
load_buckets(TrafanStats *stats, GVariant *v, GError **error)
{
    GVariantIter it;
    GVariant *protocols_v;
    TrafanBucket bucket;

    g_variant_iter_init(&it, v);
    while (g_variant_iter_next(&it, "(xtt@a(stt))", &bucket.index, &bucket.packets, &bucket.bytes, &protocols_v)) {
        gboolean ok = bucket.index >= 0 && bucket.index <= stats->io_index
                   && (stats->buckets->len == 0
                       || g_array_index(stats->buckets, TrafanBucket, stats->buckets->len - 1).index < bucket.index);
        if (ok) {
            bucket.protocols = protocol_array_from_variant(protocols_v);
            g_array_append_val(stats->buckets, bucket);
        }
        g_variant_unref(protocols_v);
        if (!ok)
            return corrupt(error, "bandwidth intervals out of order");
    }
    return TRUE;
}

TrafanStats *
trafan_stats_load(GVariant *state, GError **error)
{
    TrafanConfig config;
    TrafanStats *stats;
    GVariant *protocols, *hosts, *aggregated, *convs, *buckets;
    gboolean ok;

    if (!g_variant_is_of_type(state, G_VARIANT_TYPE(TRAFAN_STATS_VARIANT_TYPE))) {
        g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_INVAL, "statistics of type %s, expected %s",
                    g_variant_get_type_string(state), TRAFAN_STATS_VARIANT_TYPE);
        return NULL;
    }
    g_variant_get_child(state, 0, "(xu)", &config.interval_us, &config.max_hosts);
    if (config.interval_us <= 0 || config.max_hosts == 0) {
        corrupt(error, "interval or max_hosts out of range");
        return NULL;
    }
    stats = trafan_stats_new(&config);
    g_variant_get(state, "((xu)ttbxxxxxut@a(stt)@a((yay)ttttxxtau)@a(yay)b@a((yay)(yay)ttttxxa(stt))@a(xtta(stt)))",
                  NULL, NULL, &stats->packets, &stats->bytes, &stats->seen_any, &stats->first_ns, &stats->last_ns,
                  &stats->ref_ns, &stats->epoch_base_s, &stats->io_index, &stats->kept_hosts, &stats->hosts_created,
                  &protocols, &hosts, &aggregated, &stats->aggregated_overflow, &convs, &buckets);

    GVariantIter it;
    const char *name;
    guint64 packets, bytes;
    g_variant_iter_init(&it, protocols);
    while (g_variant_iter_next(&it, "(&stt)", &name, &packets, &bytes))
        protocol_table_add(stats->protocols, g_intern_string(name), packets, bytes);

    GVariant *address_v;
    ok = TRUE;
    g_variant_iter_init(&it, aggregated);
    while (ok && g_variant_iter_next(&it, "@(yay)", &address_v)) {
        TrafanAddress address;
        ok = address_from_variant(address_v, &address) && !is_pseudo_host(&address);
        if (ok)
            g_hash_table_add(stats->aggregated, g_memdup2(&address, sizeof address));
        g_variant_unref(address_v);
    }
    if (!ok)
        corrupt(error, "an aggregated host is invalid");

    ok = ok && load_hosts(stats, hosts, error) && load_conversations(stats, convs, error)
            && load_buckets(stats, buckets, error);
    if (ok && stats->hosts_created < g_hash_table_size(stats->hosts))
        ok = corrupt(error, "more hosts than were ever created");
    g_variant_unref(protocols);
    g_variant_unref(hosts);
    g_variant_unref(aggregated);
    g_variant_unref(convs);
    g_variant_unref(buckets);
    if (!ok)
        g_clear_pointer(&stats, trafan_stats_free);
    return stats;
}
