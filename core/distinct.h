/* distinct.h — keys, hashing and distinct counters shared by the rules.
 *
 * A TrafanDistinct counts distinct items (addresses, or ports stored as
 * addresses of family 0) with a count per item: exactly up to a cap, then
 * with a HyperLogLog sketch.  Two counters merge into exactly the counter of
 * the union, which is what makes detector states mergeable.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef TRAFAN_DISTINCT_H
#define TRAFAN_DISTINCT_H

#include "packet.h"

G_BEGIN_DECLS

/* Memory accounting (max_state_mb): what a GHashTable entry costs besides
 * its key and value (about two slots of hash, key and value at GLib's load
 * factors), and malloc's header on each allocation. */
#define TRAFAN_HASH_ENTRY_BYTES (2 * (sizeof(guint) + 2 * sizeof(gpointer)))
#define TRAFAN_MALLOC_BYTES     16

#define TRAFAN_HLL_BITS 8
#define TRAFAN_HLL_M    (1u << TRAFAN_HLL_BITS)   /* 256 one-byte registers, ~6.5 % error */
#define TRAFAN_DISTINCT_SMALL 16   /* items kept in an array before a hash table */

/* What a rule's windows are keyed by: one or two addresses, a protocol and
 * a port.  Keys hash and compare as bytes, so make them with trafan_key(). */
typedef struct {
    TrafanAddress a, b;
    guint8        proto;
    guint16       port;
    guint32       hash;         /* of the fields above, made once by trafan_key() */
} TrafanKey;

/* An item with a count; a hash table's key is &tally->item. */
typedef struct {
    TrafanAddress item;
    guint64       count;
} TrafanTally;

/* Most counters of a flood hold one item: it is kept inline, in the room
 * the pointers of the larger forms take, so that it costs no allocation.
 * Aggregates are copied with memcpy, so nothing points into the struct. */
typedef struct {
    union {
        TrafanTally one;            /* n_items == 1 */
        struct {
            TrafanTally *items;     /* n_items 2 to TRAFAN_DISTINCT_SMALL (array of 2, 4, 8 or 16) */
            GHashTable  *exact;     /* n_items == TRAFAN_DISTINCT_HASHED: TrafanAddress * -> TrafanTally * */
            guint8      *hll;       /* TRAFAN_HLL_M registers once past the cap (hashed only) */
            TrafanTally *last;      /* hashed: the item added last, as flows repeat it */
        };
    };
    guint n_items;                  /* 0: empty (all zero) */
} TrafanDistinct;
#define TRAFAN_DISTINCT_HASHED G_MAXUINT

/* Addresses with their unused bytes zero, so that they hash as bytes. */
TrafanAddress trafan_norm(const TrafanAddress *in);
/* A port (and protocol) as an item of family 0. */
TrafanAddress trafan_port_item(guint8 proto, guint16 port);
guint16       trafan_item_port(const TrafanAddress *item);
TrafanKey     trafan_key(const TrafanAddress *a, const TrafanAddress *b, guint8 proto, guint16 port);

guint64  trafan_hash_bytes(const void *data, size_t n);
guint    trafan_key_hash(gconstpointer k);
gboolean trafan_key_equal(gconstpointer a, gconstpointer b);
guint    trafan_item_hash(gconstpointer k);
gboolean trafan_item_equal(gconstpointer a, gconstpointer b);
int      trafan_item_compare(const TrafanAddress *a, const TrafanAddress *b);

void      trafan_distinct_clear(TrafanDistinct *s);
void      trafan_distinct_add(TrafanDistinct *s, const TrafanAddress *item, guint64 n, guint cap);
guint64   trafan_distinct_count(const TrafanDistinct *s);
guint     trafan_distinct_exact_size(const TrafanDistinct *s);
gboolean  trafan_distinct_contains(const TrafanDistinct *s, const TrafanAddress *item);
/* The count of an item held exactly (0 if not held). */
guint64   trafan_distinct_get(const TrafanDistinct *s, const TrafanAddress *item);
void      trafan_distinct_merge(TrafanDistinct *into, const TrafanDistinct *from, guint cap);
/* Items of `of` also in `in` (exact parts only). */
guint64   trafan_distinct_overlap(const TrafanDistinct *of, const TrafanDistinct *in);
/* The items held exactly (pointers into s), in no order. */
GPtrArray *trafan_distinct_tallies(const TrafanDistinct *s);
/* The k largest tallies, largest first (ties by item, for determinism). */
guint     trafan_distinct_top(const TrafanDistinct *s, TrafanTally *out, guint k);
/* Bytes held beyond the struct itself (memory accounting). */
gsize     trafan_distinct_bytes(const TrafanDistinct *s);
static inline gboolean
trafan_distinct_approximate(const TrafanDistinct *s)
{
    return s->n_items == TRAFAN_DISTINCT_HASHED && s->hll != NULL;
}

/* Counts per item: exact while few (up to TRAFAN_COUNTS_EXACT items), then
 * in fixed memory (a count-min sketch: an estimate never below the true
 * count); merged exactly either way.  For window-wide tallies of what every
 * host sends or receives, which would otherwise need a key per host.  NULL
 * is the empty tally. */
#define TRAFAN_COUNTS_EXACT 2048
#define TRAFAN_COUNTS_DEPTH 4
#define TRAFAN_COUNTS_WIDTH 8192
typedef struct {
    guint64        total;       /* of what was added: the noise bound in O(1) */
    TrafanDistinct exact;       /* until the sketch is made */
    guint32      (*cells)[TRAFAN_COUNTS_WIDTH];     /* [TRAFAN_COUNTS_DEPTH] rows, or NULL */
} TrafanCounts;

void      trafan_counts_free(TrafanCounts *c);
void      trafan_counts_add(TrafanCounts **c, const TrafanAddress *item, guint32 n);
guint64   trafan_counts_get(const TrafanCounts *c, const TrafanAddress *item);
void      trafan_counts_merge(TrafanCounts **into, const TrafanCounts *from);
/* What an estimate may exceed the truth by: e times the mean cell (the
 * count-min bound, which holds for most items). */
double    trafan_counts_noise(const TrafanCounts *c);
/* The item standing for "from a to b" in a sketch of pairs. */
TrafanAddress trafan_pair_item(const TrafanAddress *a, const TrafanAddress *b);

int       trafan_tally_by_count(gconstpointer pa, gconstpointer pb);
GHashTable *trafan_tally_table(void);

/* State files (GVariant). */
#define TRAFAN_ADDRESS_TYPE  "(yay)"
#define TRAFAN_DISTINCT_TYPE "(a((yay)t)ay)"
#define TRAFAN_KEY_TYPE      "((yay)(yay)yq)"
GQuark    trafan_state_error_quark(void);
GVariant *trafan_address_save(const TrafanAddress *a);
gboolean  trafan_address_load(GVariant *v, TrafanAddress *out);
GVariant *trafan_key_save(const TrafanKey *k);
gboolean  trafan_key_load(GVariant *v, TrafanKey *k);
GVariant *trafan_distinct_save(const TrafanDistinct *s);
gboolean  trafan_distinct_load(TrafanDistinct *s, GVariant *v, guint cap, GError **error);
#define TRAFAN_COUNTS_TYPE "(ta((yay)t)au)"
GVariant *trafan_counts_save(const TrafanCounts *c);
gboolean  trafan_counts_load(TrafanCounts **c, GVariant *v);

G_END_DECLS

#endif
