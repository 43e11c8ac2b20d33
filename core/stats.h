/* stats.h — one-pass traffic statistics: conversations, hosts, protocols,
 * bandwidth and capture totals.
 *
 * The state keeps only sums, minima, maxima and sets, so that the states of
 * consecutive slices of a capture merge into exactly the state of the whole
 * (trafan_stats_merge).  Memory grows with hosts, conversations and busy
 * intervals, never with packets.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef TRAFAN_STATS_H
#define TRAFAN_STATS_H

#include "packet.h"

G_BEGIN_DECLS

#define TRAFAN_DEFAULT_INTERVAL_US  G_GINT64_CONSTANT(1000000)
#define TRAFAN_DEFAULT_MAX_HOSTS    200000u

/* Pseudo-families of the hosts that stand for everything past max_hosts. */
#define TRAFAN_FAMILY_OTHER4 0x44
#define TRAFAN_FAMILY_OTHER6 0x46

typedef struct {
    gint64 interval_us;         /* bandwidth interval, as -z io,stat counts it */
    guint  max_hosts;           /* hosts kept apart; later ones are aggregated */
} TrafanConfig;

typedef struct {
    const char *protocol;       /* interned */
    guint64     packets;
    guint64     bytes;
} TrafanProtocolCount;

typedef struct {
    TrafanAddress a;            /* source of the first packet seen */
    TrafanAddress b;
    guint64 a_to_b_packets, a_to_b_bytes;
    guint64 b_to_a_packets, b_to_a_bytes;
    gint64  first_ns, last_ns;  /* absolute, earliest and latest */
    GArray *protocols;          /* TrafanProtocolCount, first seen first */
} TrafanConversation;

typedef struct {
    TrafanAddress address;
    guint64 tx_packets, tx_bytes;
    guint64 rx_packets, rx_bytes;
    gint64  first_ns, last_ns;
    guint   peers;              /* filled by trafan_stats_finish() */
    guint   aggregated;         /* hosts folded into this one (pseudo-hosts) */
    guint64 order;              /* creation order, which merging replays */
    GHashTable *dst_ports;      /* set of (ip_proto << 16 | port) it sent to */
} TrafanHost;

typedef struct {
    gint64  index;              /* start = index * interval, relative */
    guint64 packets, bytes;
    GArray *protocols;          /* TrafanProtocolCount (bytes, packets) */
} TrafanBucket;

typedef struct {
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
} TrafanStats;

void         trafan_config_init(TrafanConfig *config);
TrafanStats *trafan_stats_new(const TrafanConfig *config);
void         trafan_stats_free(TrafanStats *stats);

/* Count one frame. */
void trafan_stats_add(TrafanStats *stats, const TrafanPacket *pkt);

/* Fold `later` (the state of the slice that follows) into `stats`.
 * Both must use the same interval and time reference. */
gboolean trafan_stats_merge(TrafanStats *stats, const TrafanStats *later, GError **error);

/* Derive what is not kept as state (host peers).  Call before reporting. */
void trafan_stats_finish(TrafanStats *stats);

/* Sorted views for reports: biggest first (bytes, then packets, then address). */
GPtrArray *trafan_stats_sorted_conversations(const TrafanStats *stats);
GPtrArray *trafan_stats_sorted_hosts(const TrafanStats *stats);
GPtrArray *trafan_stats_sorted_protocols(const TrafanStats *stats);

/* Every conversation in no order, for a caller that picks its own rows
 * without sorting them all. */
typedef void (*TrafanConversationFunc)(const TrafanConversation *conv, gpointer user_data);
void trafan_stats_foreach_conversation(const TrafanStats *stats, TrafanConversationFunc func, gpointer user_data);

G_END_DECLS

#endif
