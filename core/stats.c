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
#include <string.h>

#include "stats.h"

typedef struct {
    TrafanAddress lo, hi;       /* the pair, ordered, so both directions meet */
} ConvKey;

typedef struct {
    ConvKey            key;
    TrafanConversation conv;
    TrafanHost        *host_a;
    TrafanHost        *host_b;
} ConvEntry;

static guint
conv_key_hash(gconstpointer key)
{
    const ConvKey *k = key;

    return trafan_address_hash(&k->lo) * 31u + trafan_address_hash(&k->hi);
}

static gboolean
conv_key_equal(gconstpointer a, gconstpointer b)
{
    const ConvKey *x = a, *y = b;

    return trafan_address_equal(&x->lo, &y->lo) && trafan_address_equal(&x->hi, &y->hi);
}

static void
conv_key_init(ConvKey *key, const TrafanAddress *src, const TrafanAddress *dst)
{
    gboolean in_order = trafan_address_compare(src, dst) <= 0;

    /* Copy whole structs so that unused bytes compare equal too. */
    memset(key, 0, sizeof *key);
    key->lo = in_order ? *src : *dst;
    key->hi = in_order ? *dst : *src;
}

static void
conv_entry_free(gpointer data)
{
    ConvEntry *entry = data;

    g_array_free(entry->conv.protocols, TRUE);
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
    stats->conversations = g_hash_table_new_full(conv_key_hash, conv_key_equal, NULL, conv_entry_free);
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

/* The host for an address, or the pseudo-host of its family once max_hosts
 * distinct hosts are kept. */
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

/* A host stands for itself, or for the pseudo-host it was folded into. */
static const TrafanAddress *
host_key(TrafanStats *stats, const TrafanAddress *address, gint64 now)
{
    return &host_get(stats, address, now)->address;
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
conversation_get(TrafanStats *stats, const TrafanAddress *src, const TrafanAddress *dst, gint64 now)
{
    ConvKey key;
    ConvEntry *entry;

    conv_key_init(&key, src, dst);
    entry = g_hash_table_lookup(stats->conversations, &key);
    if (entry)
        return entry;

    /* A new pair: resolve hosts (and the host cap) once, for its lifetime. */
    const TrafanAddress *a = host_key(stats, src, now);
    const TrafanAddress *b = host_key(stats, dst, now);
    if (!trafan_address_equal(a, src) || !trafan_address_equal(b, dst)) {
        conv_key_init(&key, a, b);
        entry = g_hash_table_lookup(stats->conversations, &key);
        if (entry)
            return entry;
    }

    entry = g_new0(ConvEntry, 1);
    entry->key = key;
    entry->conv.a = *a;
    entry->conv.b = *b;
    entry->conv.first_ns = entry->conv.last_ns = now;
    entry->conv.protocols = g_array_new(FALSE, FALSE, sizeof(TrafanProtocolCount));
    entry->host_a = g_hash_table_lookup(stats->hosts, a);
    entry->host_b = g_hash_table_lookup(stats->hosts, b);
    g_hash_table_insert(stats->conversations, &entry->key, entry);
    return entry;
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

    if (forward) {
        conv->a_to_b_packets++;
        conv->a_to_b_bytes += pkt->frame_len;
    } else {
        conv->b_to_a_packets++;
        conv->b_to_a_bytes += pkt->frame_len;
    }
    time_span_add(&conv->first_ns, &conv->last_ns, pkt->abs_ns, pkt->abs_ns);
    protocol_array_add(conv->protocols, pkt->protocol, 1, pkt->frame_len);

    sender->tx_packets++;
    sender->tx_bytes += pkt->frame_len;
    receiver->rx_packets++;
    receiver->rx_bytes += pkt->frame_len;
    time_span_add(&sender->first_ns, &sender->last_ns, pkt->abs_ns, pkt->abs_ns);
    time_span_add(&receiver->first_ns, &receiver->last_ns, pkt->abs_ns, pkt->abs_ns);
    return sender;
}

/* `sender`: the host that sent the innermost IP header, usually this one's. */
static void
count_transport(TrafanStats *stats, const TrafanTransport *tp, TrafanHost *sender, gint64 now)
{
    if (!sender || !trafan_address_equal(&sender->address, &tp->src))
        sender = host_get(stats, &tp->src, now);

    if (!sender->dst_ports)
        sender->dst_ports = g_hash_table_new(g_direct_hash, g_direct_equal);
    g_hash_table_add(sender->dst_ports, GUINT_TO_POINTER((guint)tp->ip_proto << 16 | tp->dst_port));
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

static GPtrArray *
values_sorted(GHashTable *table, GCompareFunc compare)
{
    GPtrArray *rows = g_ptr_array_sized_new(g_hash_table_size(table));
    GHashTableIter it;
    gpointer value;

    g_hash_table_iter_init(&it, table);
    while (g_hash_table_iter_next(&it, NULL, &value))
        g_ptr_array_add(rows, value);
    g_ptr_array_sort(rows, compare);
    return rows;
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
    if (from->dst_ports) {
        GHashTableIter it;
        gpointer port;

        if (!host->dst_ports)
            host->dst_ports = g_hash_table_new(g_direct_hash, g_direct_equal);
        g_hash_table_iter_init(&it, from->dst_ports);
        while (g_hash_table_iter_next(&it, &port, NULL))
            g_hash_table_add(host->dst_ports, port);
    }
    return host;
}

static void
merge_conversation(TrafanStats *stats, const TrafanConversation *from)
{
    ConvEntry *entry = conversation_get(stats, &from->a, &from->b, from->first_ns);
    TrafanConversation *conv = &entry->conv;
    gboolean same_way = sent_by_a(conv, &from->a);

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
    for (guint i = 0; i < from->protocols->len; i++) {
        const TrafanProtocolCount *c = &g_array_index(from->protocols, TrafanProtocolCount, i);
        protocol_array_add(conv->protocols, c->protocol, c->packets, c->bytes);
    }
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
    GPtrArray *hosts = values_sorted(later->hosts, compare_creation);
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
trafan_stats_sorted_conversations(const TrafanStats *stats)
{
    GPtrArray *rows = g_ptr_array_sized_new(g_hash_table_size(stats->conversations));
    GHashTableIter it;
    gpointer value;

    g_hash_table_iter_init(&it, stats->conversations);
    while (g_hash_table_iter_next(&it, NULL, &value))
        g_ptr_array_add(rows, &((ConvEntry *)value)->conv);
    g_ptr_array_sort(rows, compare_conversations);
    return rows;
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

GPtrArray *
trafan_stats_sorted_hosts(const TrafanStats *stats)
{
    return values_sorted(stats->hosts, compare_hosts);
}

GPtrArray *
trafan_stats_sorted_protocols(const TrafanStats *stats)
{
    return values_sorted(stats->protocols, compare_protocols);
}
