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
    /* Most conversations carry one protocol: it is kept alone, its counts
     * being the conversation's; read them with trafan_conversation_protocols(). */
    const char *protocol;       /* interned; while protocols is NULL */
    GArray     *protocols;      /* TrafanProtocolCount, first seen first, or NULL */
} TrafanConversation;

typedef struct {
    TrafanAddress address;
    guint64 tx_packets, tx_bytes;
    guint64 rx_packets, rx_bytes;
    gint64  first_ns, last_ns;
    guint   peers;              /* filled by trafan_stats_finish() */
    guint   aggregated;         /* hosts folded into this one (pseudo-hosts) */
    guint64 order;              /* creation order, which merging replays */
    /* The (ip_proto << 16 | port) values it sent to: most hosts of a big
     * capture send to one or two, kept without a hash table. */
    guint       n_dst_ports;
    guint32     dst_ports_few[2];   /* while dst_ports is NULL */
    GHashTable *dst_ports;          /* all of them past two, else NULL */
} TrafanHost;

typedef struct {
    gint64  index;              /* start = index * interval, relative */
    guint64 packets, bytes;
    GArray *protocols;          /* TrafanProtocolCount (bytes, packets) */
} TrafanBucket;

/* The accumulators; read them through the functions below. */
typedef struct TrafanStats TrafanStats;

void         trafan_config_init(TrafanConfig *config);
TrafanStats *trafan_stats_new(const TrafanConfig *config);
void         trafan_stats_free(TrafanStats *stats);

/* Count one frame. */
void trafan_stats_add(TrafanStats *stats, const TrafanPacket *pkt);

/* Fold `later` (the state of the slice that follows) into `stats`.
 * Both must use the same interval and time reference. */
gboolean trafan_stats_merge(TrafanStats *stats, const TrafanStats *later, GError **error);

/* The whole state as a GVariant of type TRAFAN_STATS_VARIANT_TYPE (floating),
 * and back.  Loading checks what could make the state inconsistent
 * (duplicates, unknown hosts, intervals out of order) and refuses it. */
#define TRAFAN_STATS_VARIANT_TYPE \
    "((xu)ttbxxxxxuta(stt)a((yay)ttttxxtau)a(yay)ba((yay)(yay)ttttxxa(stt))a(xtta(stt)))"
GVariant    *trafan_stats_save(const TrafanStats *stats);
TrafanStats *trafan_stats_load(GVariant *state, GError **error);

/* Derive what is not kept as state (host peers).  Call before reporting. */
void trafan_stats_finish(TrafanStats *stats);

/* ---- reading the state: reports, the GUI tree, the live status line ---- */

guint64             trafan_stats_packets(const TrafanStats *stats);
guint64             trafan_stats_bytes(const TrafanStats *stats);
gboolean            trafan_stats_seen_any(const TrafanStats *stats);     /* a frame counted */
gint64              trafan_stats_first_ns(const TrafanStats *stats);     /* earliest, absolute */
gint64              trafan_stats_last_ns(const TrafanStats *stats);      /* latest, absolute */
gint64              trafan_stats_ref_ns(const TrafanStats *stats);       /* relative times count from it */
gint64              trafan_stats_epoch_base_s(const TrafanStats *stats); /* absolute times count from it */
const TrafanConfig *trafan_stats_config(const TrafanStats *stats);
guint               trafan_stats_n_hosts(const TrafanStats *stats);      /* pseudo-hosts included */
guint               trafan_stats_n_conversations(const TrafanStats *stats);
guint               trafan_stats_n_protocols(const TrafanStats *stats);
/* Hosts folded past max_hosts, and whether that count is exact. */
guint               trafan_stats_hosts_aggregated(const TrafanStats *stats);
gboolean            trafan_stats_hosts_aggregated_exact(const TrafanStats *stats);
/* TrafanBucket, ascending start, empty intervals omitted. */
const GArray       *trafan_stats_buckets(const TrafanStats *stats);
/* An address's own row (NULL if unseen or folded). */
const TrafanHost   *trafan_stats_host(const TrafanStats *stats, const TrafanAddress *address);
/* The host that sent most bytes so far (NULL before the first IP packet). */
const TrafanHost   *trafan_stats_top_talker(const TrafanStats *stats);

guint64 trafan_conversation_packets(const TrafanConversation *conv);
/* Its protocols with their counts, first seen first (g_array_unref it). */
GArray *trafan_conversation_protocols(const TrafanConversation *conv);
guint64 trafan_conversation_bytes(const TrafanConversation *conv);
guint   trafan_host_dst_ports(const TrafanHost *host);  /* distinct (protocol, port) it sent to */

/* Sorted views for reports: biggest first (bytes, then packets, then
 * address); the first `limit` rows only (0: all), found without sorting all. */
GPtrArray *trafan_stats_sorted_conversations(const TrafanStats *stats, guint limit);
GPtrArray *trafan_stats_sorted_hosts(const TrafanStats *stats, guint limit);
GPtrArray *trafan_stats_sorted_protocols(const TrafanStats *stats, guint limit);

/* Every conversation in no order, for a caller that picks its own rows
 * without sorting them all. */
typedef void (*TrafanConversationFunc)(const TrafanConversation *conv, gpointer user_data);
void trafan_stats_foreach_conversation(const TrafanStats *stats, TrafanConversationFunc func, gpointer user_data);
typedef void (*TrafanHostFunc)(const TrafanHost *host, gpointer user_data);
void trafan_stats_foreach_host(const TrafanStats *stats, TrafanHostFunc func, gpointer user_data);
typedef void (*TrafanProtocolFunc)(const TrafanProtocolCount *protocol, gpointer user_data);
void trafan_stats_foreach_protocol(const TrafanStats *stats, TrafanProtocolFunc func, gpointer user_data);

G_END_DECLS

#endif
