/* distinct.c — keys, hashing, HyperLogLog and distinct counters.
 *
 * Past the cap a counter keeps counting the items it holds, and the sketch
 * counts every item, so two counters merge into exactly the sketch of the
 * union.  Most counters see one or two items in a window (a host and its
 * peer), so a few live in a small array, doubled as it fills, and the
 * table is made only past TRAFAN_DISTINCT_SMALL (a table with its tallies
 * takes more than twice the room of the array); an empty counter allocates
 * nothing.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "distinct.h"

#include <math.h>
#include <stddef.h>
#include <string.h>

TrafanAddress
trafan_norm(const TrafanAddress *in)
{
    TrafanAddress out;
    memset(&out, 0, sizeof out);
    out.family = in->family;
    memcpy(out.bytes, in->bytes, in->family == 4 ? 4 : in->family == 6 ? 16 : 0);
    return out;
}

TrafanAddress
trafan_port_item(guint8 proto, guint16 port)
{
    TrafanAddress out;
    memset(&out, 0, sizeof out);
    out.bytes[0] = proto;
    out.bytes[1] = (guint8)(port >> 8);
    out.bytes[2] = (guint8)port;
    return out;
}

TrafanKey
trafan_key(const TrafanAddress *a, const TrafanAddress *b, guint8 proto, guint16 port)
{
    TrafanKey k;
    memset(&k, 0, sizeof k);    /* padding too: keys hash as bytes */
    k.a = *a;
    if (b)
        k.b = *b;
    k.proto = proto;
    k.port = port;
    /* A key is looked up in both phases of its window and often twice in
     * each: hash it once.  The empty key (trafan_window_key) hashes to 0. */
    if (a->family || k.b.family || proto || port)
        k.hash = (guint32)trafan_hash_bytes(&k, offsetof(TrafanKey, hash));
    return k;
}

static guint64
mix64(guint64 x)
{
    x ^= x >> 30; x *= G_GUINT64_CONSTANT(0xbf58476d1ce4e5b9);
    x ^= x >> 27; x *= G_GUINT64_CONSTANT(0x94d049bb133111eb);
    return x ^ (x >> 31);
}

guint64
trafan_hash_bytes(const void *data, size_t n)
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

guint
trafan_key_hash(gconstpointer k)
{
    return ((const TrafanKey *)k)->hash;
}

gboolean
trafan_key_equal(gconstpointer a, gconstpointer b)
{
    const TrafanKey *x = a, *y = b;
    return x->hash == y->hash && memcmp(x, y, sizeof *x) == 0;
}

guint
trafan_item_hash(gconstpointer k)
{
    return (guint)trafan_hash_bytes(k, sizeof(TrafanAddress));
}

gboolean
trafan_item_equal(gconstpointer a, gconstpointer b)
{
    return memcmp(a, b, sizeof(TrafanAddress)) == 0;
}


int
trafan_item_compare(const TrafanAddress *a, const TrafanAddress *b)
{
    if (a->family != b->family)
        return a->family < b->family ? -1 : 1;
    return memcmp(a->bytes, b->bytes, sizeof a->bytes);
}

static void
hll_add(guint8 *reg, const TrafanAddress *item)
{
    guint64 h = trafan_hash_bytes(item, sizeof *item);
    guint idx = (guint)(h >> (64 - TRAFAN_HLL_BITS));
    guint64 rest = (h << TRAFAN_HLL_BITS) | (G_GUINT64_CONSTANT(1) << (TRAFAN_HLL_BITS - 1));
    guint8 rank = 1;

    while (!(rest & G_GUINT64_CONSTANT(0x8000000000000000))) {
        rank++;
        rest <<= 1;
    }
    if (rank > reg[idx])
        reg[idx] = rank;
}

/* The highest rank a register holds: the hash's bits past the index, and
 * the sentinel.  A state file's registers are checked against it. */
#define HLL_MAX_RANK (65 - TRAFAN_HLL_BITS)

/* 2^-rank for every rank: judges estimate every sketch of every window, so
 * no ldexp() per register. */
#define HLL_INV(k) (1.0 / (double)(G_GUINT64_CONSTANT(1) << (k)))
#define HLL_INV8(k) HLL_INV(k), HLL_INV(k + 1), HLL_INV(k + 2), HLL_INV(k + 3), \
                    HLL_INV(k + 4), HLL_INV(k + 5), HLL_INV(k + 6), HLL_INV(k + 7)
static const double hll_inverse[64] = {
    HLL_INV8(0), HLL_INV8(8), HLL_INV8(16), HLL_INV8(24),
    HLL_INV8(32), HLL_INV8(40), HLL_INV8(48), HLL_INV8(56),
};
G_STATIC_ASSERT(HLL_MAX_RANK < G_N_ELEMENTS(hll_inverse));

static gboolean
hll_valid(const guint8 *reg)
{
    for (guint i = 0; i < TRAFAN_HLL_M; i++)
        if (reg[i] > HLL_MAX_RANK)
            return FALSE;
    return TRUE;
}

static double
hll_estimate(const guint8 *reg)
{
    double sum = 0;
    guint zeros = 0;

    for (guint i = 0; i < TRAFAN_HLL_M; i++) {
        sum += hll_inverse[reg[i]];
        zeros += reg[i] == 0;
    }
    double m = TRAFAN_HLL_M, e = 0.7213 / (1 + 1.079 / m) * m * m / sum;
    if (e <= 2.5 * m && zeros)
        e = m * log(m / zeros);        /* linear counting for small sets */
    return e;
}

#define HASHED TRAFAN_DISTINCT_HASHED

static gboolean
hashed(const TrafanDistinct *s)
{
    return s->n_items == HASHED;
}

/* The items of a counter not hashed, in order. */
static TrafanTally *
small_items(const TrafanDistinct *s)
{
    return s->n_items == 1 ? (TrafanTally *)&s->one : s->items;
}

void
trafan_distinct_clear(TrafanDistinct *s)
{
    if (hashed(s)) {
        g_hash_table_unref(s->exact);
        g_free(s->hll);
    } else if (s->n_items > 1) {
        g_free(s->items);
    }
    memset(s, 0, sizeof *s);
}

GPtrArray *
trafan_distinct_tallies(const TrafanDistinct *s)
{
    GPtrArray *all = g_ptr_array_sized_new(trafan_distinct_exact_size(s));

    if (hashed(s)) {
        GHashTableIter it;
        gpointer v;
        g_hash_table_iter_init(&it, s->exact);
        while (g_hash_table_iter_next(&it, NULL, &v))
            g_ptr_array_add(all, v);
    } else {
        TrafanTally *items = small_items(s);
        for (guint i = 0; i < s->n_items; i++)
            g_ptr_array_add(all, &items[i]);
    }
    return all;
}

guint
trafan_distinct_exact_size(const TrafanDistinct *s)
{
    return hashed(s) ? g_hash_table_size(s->exact) : s->n_items;
}

/* Move the few items into a hash table, which may grow to the cap. */
static void
distinct_hash(TrafanDistinct *s)
{
    GHashTable *exact = g_hash_table_new_full(trafan_item_hash, trafan_item_equal, NULL, g_free);
    TrafanTally *items = small_items(s);

    for (guint i = 0; i < s->n_items; i++) {
        TrafanTally *moved = g_memdup2(&items[i], sizeof(TrafanTally));
        g_hash_table_insert(exact, &moved->item, moved);
    }
    if (s->n_items > 1)
        g_free(s->items);
    s->items = NULL;
    s->exact = exact;
    s->hll = NULL;
    s->last = NULL;
    s->n_items = HASHED;
}

static void
distinct_start_sketch(TrafanDistinct *s)
{
    if (!hashed(s))
        distinct_hash(s);
    GPtrArray *all = trafan_distinct_tallies(s);

    s->hll = g_malloc0(TRAFAN_HLL_M);
    for (guint i = 0; i < all->len; i++)
        hll_add(s->hll, &((const TrafanTally *)all->pdata[i])->item);
    g_ptr_array_unref(all);
}

/* The room of the array of n (2 to TRAFAN_DISTINCT_SMALL) items. */
static guint
small_capacity(guint n)
{
    guint room = 2;
    while (room < n)
        room *= 2;
    return room;
}

/* The item's tally among the few held without a hash table, or NULL. */
static TrafanTally *
small_find(const TrafanDistinct *s, const TrafanAddress *item)
{
    TrafanTally *items = small_items(s);
    for (guint i = 0; i < s->n_items; i++)
        if (memcmp(&items[i].item, item, sizeof *item) == 0)
            return &items[i];
    return NULL;
}

/* Append an item to a counter holding fewer than TRAFAN_DISTINCT_SMALL. */
static void
small_append(TrafanDistinct *s, const TrafanAddress *item, guint64 n)
{
    const TrafanTally t = { *item, n };

    if (s->n_items == 0) {
        s->one = t;
    } else if (s->n_items == 1) {
        TrafanTally *items = g_new(TrafanTally, 2);
        items[0] = s->one;
        items[1] = t;
        memset(s, 0, offsetof(TrafanDistinct, n_items));
        s->items = items;
    } else {
        if ((s->n_items & (s->n_items - 1)) == 0)     /* full: 2, 4 or 8 */
            s->items = g_renew(TrafanTally, s->items, 2 * s->n_items);
        s->items[s->n_items] = t;
    }
    s->n_items++;
}

void
trafan_distinct_add(TrafanDistinct *s, const TrafanAddress *item, guint64 n, guint cap)
{
    TrafanTally *t;

    if (!hashed(s)) {
        if ((t = small_find(s, item))) {
            t->count += n;
            return;             /* no sketch yet: the array holds at most the cap */
        }
        if (s->n_items < MIN(cap, TRAFAN_DISTINCT_SMALL)) {
            small_append(s, item, n);
            return;
        }
        distinct_hash(s);
    }
    t = s->last;
    if (t == NULL || memcmp(&t->item, item, sizeof *item) != 0)
        t = g_hash_table_lookup(s->exact, item);
    if (t) {
        t->count += n;
        s->last = t;
    } else if (s->hll == NULL && g_hash_table_size(s->exact) < cap) {
        t = g_new(TrafanTally, 1);
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

guint64
trafan_distinct_count(const TrafanDistinct *s)
{
    guint64 exact = trafan_distinct_exact_size(s);
    if (!trafan_distinct_approximate(s))
        return exact;
    guint64 est = (guint64)llround(hll_estimate(s->hll));
    return MAX(est, exact);
}

gboolean
trafan_distinct_contains(const TrafanDistinct *s, const TrafanAddress *item)
{
    return hashed(s) ? g_hash_table_contains(s->exact, item) : small_find(s, item) != NULL;
}

void
trafan_distinct_merge(TrafanDistinct *into, const TrafanDistinct *from, guint cap)
{
    GPtrArray *all = trafan_distinct_tallies(from);

    for (guint i = 0; i < all->len; i++) {
        const TrafanTally *t = all->pdata[i];
        trafan_distinct_add(into, &t->item, t->count, cap);
    }
    g_ptr_array_unref(all);
    if (trafan_distinct_approximate(from)) {
        if (!trafan_distinct_approximate(into))
            distinct_start_sketch(into);
        for (guint i = 0; i < TRAFAN_HLL_M; i++)
            into->hll[i] = MAX(into->hll[i], from->hll[i]);
    }
}

/* Items of `of` also in `in` (exact parts only). */
guint64
trafan_distinct_overlap(const TrafanDistinct *of, const TrafanDistinct *in)
{
    guint64 n = 0;

    if (trafan_distinct_exact_size(in) == 0)
        return 0;               /* most keys of a flood: nothing answered */
    if (!hashed(of)) {
        const TrafanTally *items = small_items(of);
        for (guint i = 0; i < of->n_items; i++)
            n += trafan_distinct_contains(in, &items[i].item);
        return n;
    }
    GHashTableIter it;
    gpointer item;
    g_hash_table_iter_init(&it, of->exact);
    while (g_hash_table_iter_next(&it, &item, NULL))
        n += trafan_distinct_contains(in, item);
    return n;
}

int
trafan_tally_by_count(gconstpointer pa, gconstpointer pb)
{
    const TrafanTally *a = *(TrafanTally *const *)pa, *b = *(TrafanTally *const *)pb;
    if (a->count != b->count)
        return a->count > b->count ? -1 : 1;
    return trafan_item_compare(&a->item, &b->item);
}

/* The k largest tallies, largest first (ties by address, for determinism). */
guint
trafan_distinct_top(const TrafanDistinct *s, TrafanTally *out, guint k)
{
    GPtrArray *all = trafan_distinct_tallies(s);
    g_ptr_array_sort(all, trafan_tally_by_count);
    guint n = MIN(k, all->len);
    for (guint i = 0; i < n; i++)
        out[i] = *(TrafanTally *)all->pdata[i];
    g_ptr_array_unref(all);
    return n;
}


guint16
trafan_item_port(const TrafanAddress *item)
{
    return (guint16)(item->bytes[1] << 8 | item->bytes[2]);
}

guint64
trafan_distinct_get(const TrafanDistinct *s, const TrafanAddress *item)
{
    const TrafanTally *t = hashed(s) ? g_hash_table_lookup(s->exact, item) : small_find(s, item);
    return t ? t->count : 0;
}

gsize
trafan_distinct_bytes(const TrafanDistinct *s)
{
    /* A GHashTable entry costs about its key, value and hash slots; a
     * small array its allocation; one item nothing. */
    if (hashed(s))
        return g_hash_table_size(s->exact) * (sizeof(TrafanTally) + TRAFAN_MALLOC_BYTES + TRAFAN_HASH_ENTRY_BYTES) +
               (s->hll ? TRAFAN_HLL_M : 0);
    if (s->n_items <= 1)
        return 0;
    return (gsize)small_capacity(s->n_items) * sizeof(TrafanTally) + TRAFAN_MALLOC_BYTES;
}

GHashTable *
trafan_tally_table(void)
{
    return g_hash_table_new_full(trafan_item_hash, trafan_item_equal, NULL, g_free);
}

/* ------------------------------------------------------------------ */
/* State files                                                          */

G_DEFINE_QUARK(trafan-state-error-quark, trafan_state_error)

GVariant *
trafan_address_save(const TrafanAddress *a)
{
    return g_variant_new("(y@ay)", a->family,
                         g_variant_new_fixed_array(G_VARIANT_TYPE_BYTE, a->bytes, sizeof a->bytes, 1));
}

gboolean
trafan_address_load(GVariant *v, TrafanAddress *out)
{
    /* Children, not g_variant_get(): a state holds millions of addresses,
     * and a format string is parsed on every call. */
    GVariant *family = g_variant_get_child_value(v, 0), *bytes = g_variant_get_child_value(v, 1);
    gsize n;
    memset(out, 0, sizeof *out);
    out->family = g_variant_get_byte(family);
    g_variant_unref(family);
    const guint8 *data = g_variant_get_fixed_array(bytes, &n, 1);
    /* 0: a port item; 0xff: a pair item (trafan_pair_item). */
    gboolean ok = n == sizeof out->bytes &&
                  (out->family == 0 || out->family == 4 || out->family == 6 || out->family == 0xff);
    if (ok)
        memcpy(out->bytes, data, n);
    g_variant_unref(bytes);
    return ok;
}

static int
tally_by_item(gconstpointer pa, gconstpointer pb)
{
    return trafan_item_compare(&(*(TrafanTally *const *)pa)->item, &(*(TrafanTally *const *)pb)->item);
}

GVariant *
trafan_distinct_save(const TrafanDistinct *s)
{
    GVariantBuilder items;
    GPtrArray *all = trafan_distinct_tallies(s);
    g_ptr_array_sort(all, tally_by_item);       /* the same state, the same bytes */
    g_variant_builder_init(&items, G_VARIANT_TYPE("a((yay)t)"));
    for (guint i = 0; i < all->len; i++) {
        const TrafanTally *t = all->pdata[i];
        g_variant_builder_add(&items, "(@(yay)t)", trafan_address_save(&t->item), t->count);
    }
    g_ptr_array_unref(all);
    return g_variant_new("(a((yay)t)@ay)", &items,
                         g_variant_new_fixed_array(G_VARIANT_TYPE_BYTE, trafan_distinct_approximate(s) ? s->hll : NULL,
                                                   trafan_distinct_approximate(s) ? TRAFAN_HLL_M : 0, 1));
}

gboolean
trafan_distinct_load(TrafanDistinct *s, GVariant *v, guint cap, GError **error)
{
    GVariant *items, *hll, *item;
    gsize n_items, n_hll;
    gboolean ok = TRUE;

    trafan_distinct_clear(s);
    items = g_variant_get_child_value(v, 0);
    hll = g_variant_get_child_value(v, 1);
    n_items = g_variant_n_children(items);
    const guint8 *registers = g_variant_get_fixed_array(hll, &n_hll, 1);
    if ((n_hll != 0 && (n_hll != TRAFAN_HLL_M || !hll_valid(registers))) ||
        n_items > MAX(cap, TRAFAN_DISTINCT_SMALL) || (n_hll == 0 && n_items > cap)) {
        ok = FALSE;
    } else {
        /* A sketch goes with a hash table, as when it was made. */
        if (n_items > TRAFAN_DISTINCT_SMALL || n_hll)
            distinct_hash(s);
        for (gsize i = 0; ok && i < n_items; i++) {
            TrafanTally t;
            item = g_variant_get_child_value(items, i);
            GVariant *addr = g_variant_get_child_value(item, 0), *count = g_variant_get_child_value(item, 1);
            t.count = g_variant_get_uint64(count);
            g_variant_unref(count);
            ok = trafan_address_load(addr, &t.item) && !trafan_distinct_contains(s, &t.item);
            if (ok && hashed(s)) {
                TrafanTally *copy = g_memdup2(&t, sizeof t);
                g_hash_table_insert(s->exact, &copy->item, copy);
            } else if (ok) {
                small_append(s, &t.item, t.count);
            }
            g_variant_unref(addr);
            g_variant_unref(item);
        }
        if (ok && n_hll)
            s->hll = g_memdup2(registers, TRAFAN_HLL_M);
    }
    g_variant_unref(items);
    g_variant_unref(hll);
    if (!ok) {
        trafan_distinct_clear(s);
        g_set_error(error, trafan_state_error_quark(), 1, "a distinct counter is malformed");
    }
    return ok;
}

GVariant *
trafan_key_save(const TrafanKey *k)
{
    return g_variant_new("(@" TRAFAN_ADDRESS_TYPE "@" TRAFAN_ADDRESS_TYPE "yq)",
                         trafan_address_save(&k->a), trafan_address_save(&k->b), k->proto, k->port);
}

gboolean
trafan_key_load(GVariant *v, TrafanKey *k)
{
    GVariant *a = g_variant_get_child_value(v, 0), *b = g_variant_get_child_value(v, 1);
    GVariant *proto = g_variant_get_child_value(v, 2), *port = g_variant_get_child_value(v, 3);
    TrafanAddress x, y;
    gboolean ok = trafan_address_load(a, &x) && trafan_address_load(b, &y);
    *k = trafan_key(&x, &y, g_variant_get_byte(proto), g_variant_get_uint16(port));
    g_variant_unref(a);
    g_variant_unref(b);
    g_variant_unref(proto);
    g_variant_unref(port);
    return ok;
}


/* ------------------------------------------------------------------ */
/* Count-min sketches                                                   */

void
trafan_counts_free(TrafanCounts *c)
{
    if (c == NULL)
        return;
    trafan_distinct_clear(&c->exact);
    g_free(c->cells);
    g_free(c);
}

static void
cells_add(TrafanCounts *c, const TrafanAddress *item, guint64 n)
{
    guint64 h = trafan_hash_bytes(item, sizeof *item);
    guint32 add = (guint32)MIN(n, G_MAXUINT32);
    for (guint row = 0; row < TRAFAN_COUNTS_DEPTH; row++) {
        guint32 *cell = &c->cells[row][mix64(h + row) % TRAFAN_COUNTS_WIDTH];
        *cell = *cell > G_MAXUINT32 - add ? G_MAXUINT32 : *cell + add;
    }
}

/* Past TRAFAN_COUNTS_EXACT items: the sketch, made from the exact tallies. */
static void
counts_start_sketch(TrafanCounts *c)
{
    GPtrArray *all = trafan_distinct_tallies(&c->exact);
    c->cells = g_malloc0(sizeof(guint32[TRAFAN_COUNTS_DEPTH][TRAFAN_COUNTS_WIDTH]));
    for (guint i = 0; i < all->len; i++) {
        const TrafanTally *t = all->pdata[i];
        cells_add(c, &t->item, t->count);
    }
    g_ptr_array_unref(all);
    trafan_distinct_clear(&c->exact);
}

static void
counts_add(TrafanCounts *c, const TrafanAddress *item, guint64 n)
{
    c->total += n;
    if (c->cells == NULL && (trafan_distinct_exact_size(&c->exact) < TRAFAN_COUNTS_EXACT ||
                             trafan_distinct_contains(&c->exact, item))) {
        trafan_distinct_add(&c->exact, item, n, G_MAXUINT);
        return;
    }
    if (c->cells == NULL)
        counts_start_sketch(c);
    cells_add(c, item, n);
}

void
trafan_counts_add(TrafanCounts **c, const TrafanAddress *item, guint32 n)
{
    if (*c == NULL)
        *c = g_new0(TrafanCounts, 1);
    counts_add(*c, item, n);
}

guint64
trafan_counts_get(const TrafanCounts *c, const TrafanAddress *item)
{
    if (c == NULL)
        return 0;
    if (c->cells == NULL)
        return trafan_distinct_get(&c->exact, item);
    guint64 h = trafan_hash_bytes(item, sizeof *item), best = G_MAXUINT64;
    for (guint row = 0; row < TRAFAN_COUNTS_DEPTH; row++)
        best = MIN(best, c->cells[row][mix64(h + row) % TRAFAN_COUNTS_WIDTH]);
    return best;
}

void
trafan_counts_merge(TrafanCounts **into, const TrafanCounts *from)
{
    if (from == NULL)
        return;
    if (*into == NULL)
        *into = g_new0(TrafanCounts, 1);
    TrafanCounts *c = *into;
    GPtrArray *all = trafan_distinct_tallies(&from->exact);
    for (guint i = 0; i < all->len; i++) {
        const TrafanTally *t = all->pdata[i];
        counts_add(c, &t->item, t->count);
    }
    g_ptr_array_unref(all);
    if (from->cells) {
        if (c->cells == NULL)
            counts_start_sketch(c);
        c->total += from->total;        /* its exact part is empty once it sketches */
        for (guint row = 0; row < TRAFAN_COUNTS_DEPTH; row++)
            for (guint i = 0; i < TRAFAN_COUNTS_WIDTH; i++) {
                guint32 *cell = &c->cells[row][i], add = from->cells[row][i];
                *cell = *cell > G_MAXUINT32 - add ? G_MAXUINT32 : *cell + add;
            }
    }
}

GVariant *
trafan_counts_save(const TrafanCounts *c)
{
    static const TrafanDistinct none;
    GVariant *items = g_variant_get_child_value(trafan_distinct_save(c ? &c->exact : &none), 0);
    GVariant *v = g_variant_new("(t@a((yay)t)@au)", c ? c->total : 0, items,
                                g_variant_new_fixed_array(G_VARIANT_TYPE_UINT32, c && c->cells ? c->cells : NULL,
                                                          c && c->cells ? TRAFAN_COUNTS_DEPTH * TRAFAN_COUNTS_WIDTH : 0,
                                                          sizeof(guint32)));
    return v;
}

gboolean
trafan_counts_load(TrafanCounts **c, GVariant *v)
{
    gsize n;
    guint64 total;
    GVariant *items, *array;
    g_variant_get(v, "(t@a((yay)t)@au)", &total, &items, &array);
    const guint32 *cells = g_variant_get_fixed_array(array, &n, sizeof(guint32));
    gboolean ok = n == 0 || n == TRAFAN_COUNTS_DEPTH * TRAFAN_COUNTS_WIDTH;
    g_clear_pointer(c, trafan_counts_free);
    if (ok && (n || g_variant_n_children(items) || total)) {
        TrafanCounts *x = g_new0(TrafanCounts, 1);
        GVariant *distinct = g_variant_new("(@a((yay)t)@ay)", items,
                                           g_variant_new_fixed_array(G_VARIANT_TYPE_BYTE, NULL, 0, 1));
        g_variant_ref_sink(distinct);
        ok = trafan_distinct_load(&x->exact, distinct, G_MAXUINT, NULL) &&
             trafan_distinct_exact_size(&x->exact) <= TRAFAN_COUNTS_EXACT;
        g_variant_unref(distinct);
        if (ok && n) {
            x->cells = g_malloc(sizeof(guint32[TRAFAN_COUNTS_DEPTH][TRAFAN_COUNTS_WIDTH]));
            memcpy(x->cells, cells, sizeof(guint32[TRAFAN_COUNTS_DEPTH][TRAFAN_COUNTS_WIDTH]));
        }
        x->total = total;
        if (ok)
            *c = x;
        else
            trafan_counts_free(x);
    }
    g_variant_unref(items);
    g_variant_unref(array);
    return ok;
}

double
trafan_counts_noise(const TrafanCounts *c)
{
    return c && c->cells ? 2.718281828 * c->total / TRAFAN_COUNTS_WIDTH : 0;
}

TrafanAddress
trafan_pair_item(const TrafanAddress *a, const TrafanAddress *b)
{
    TrafanAddress item = { .family = 0xff };
    guint64 x = trafan_hash_bytes(a, sizeof *a), y = trafan_hash_bytes(b, sizeof *b);
    memcpy(item.bytes, &x, 8);
    memcpy(item.bytes + 8, &y, 8);
    return item;
}
