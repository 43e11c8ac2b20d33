/* bandwidth_spike — an interval far above the median of those before it.
 *
 * Anchor: ntopng's throughput anomaly alerts (a value against a moving
 * baseline); the median keeps one earlier burst from raising the bar.
 * A series rule: the intervals of the whole capture, judged at the end (or,
 * for the Statistics window, on the intervals closed so far).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <stdlib.h>

#include "rule.h"

#define NO_INDEX G_MININT64

typedef struct {
    double spike_interval;
    double spike_factor;
    guint  spike_baseline;
    guint  spike_min_baseline;
    guint  spike_min_bytes;
} Config;

static const TrafanDetectOption options[] = {
    TRAFAN_OPTION(Config, spike_interval, DOUBLE, "Spike: interval (s)",
        "Interval of the bandwidth_spike series; default 1 s",
        "1", 0.001, 86400),
    TRAFAN_OPTION(Config, spike_factor, DOUBLE, "Spike: factor",
        "An interval is a spike when its bytes exceed this many times the median of the preceding intervals; default 10",
        "10", 1, 1e9),
    TRAFAN_OPTION(Config, spike_baseline, UINT, "Spike: baseline intervals",
        "Preceding intervals (idle ones included) whose median is the baseline; default 60",
        "60", 1, 100000),
    TRAFAN_OPTION(Config, spike_min_baseline, UINT, "Spike: minimum baseline",
        "Preceding intervals needed before an interval can be a spike; default 10, so the start of a capture is not one",
        "10", 1, 100000),
    TRAFAN_OPTION(Config, spike_min_bytes, UINT, "Spike: minimum bytes",
        "Bytes an interval needs to be a spike at all; default 1000000 (8 Mbit/s per 1 s interval), so small captures do not trip it",
        "1000000", 0, 4294967295.0),
};

typedef struct {
    gint64        index;
    guint64       bytes;
    TrafanAddress top;          /* family 0 when no IP talker */
    guint64       top_bytes;
} Interval;

typedef struct {
    gint64      interval_ns;
    GArray     *intervals;      /* Interval, closed, ascending */
    gint64      index, head_index;
    guint64     bytes;
    GHashTable *hosts;          /* the open interval: TrafanAddress -> TrafanTally (bytes) */
    GHashTable *head_hosts;     /* the first interval's, once closed (merge may extend it) */
} Spike;

static gpointer
new_state(const TrafanRuleCtx *ctx)
{
    const Config *c = ctx->config;
    Spike *s = g_new0(Spike, 1);
    s->interval_ns = trafan_seconds_ns(c->spike_interval);
    s->intervals = g_array_new(FALSE, FALSE, sizeof(Interval));
    s->index = s->head_index = NO_INDEX;
    s->hosts = trafan_tally_table();
    return s;
}

static void
free_state(gpointer p)
{
    Spike *s = p;
    g_array_unref(s->intervals);
    g_hash_table_unref(s->hosts);
    if (s->head_hosts)
        g_hash_table_unref(s->head_hosts);
    g_free(s);
}

static void
add_host(TrafanRuleCtx *ctx, GHashTable *hosts, const TrafanAddress *a, guint64 bytes)
{
    TrafanTally *t = g_hash_table_lookup(hosts, a);
    if (t == NULL) {
        if (!trafan_rule_may_track(ctx, g_hash_table_size(hosts)))
            return;
        t = g_new0(TrafanTally, 1);
        t->item = *a;
        g_hash_table_insert(hosts, &t->item, t);
    }
    t->count += bytes;
}

static void
close_interval(Spike *s)
{
    if (s->index == NO_INDEX)
        return;
    Interval iv = { .index = s->index, .bytes = s->bytes };
    GHashTableIter it;
    gpointer v;
    g_hash_table_iter_init(&it, s->hosts);
    while (g_hash_table_iter_next(&it, NULL, &v)) {
        const TrafanTally *t = v;
        if (t->count > iv.top_bytes ||
            (t->count == iv.top_bytes && trafan_item_compare(&t->item, &iv.top) < 0)) {
            iv.top = t->item;
            iv.top_bytes = t->count;
        }
    }
    g_array_append_val(s->intervals, iv);
    if (s->index == s->head_index) {
        s->head_hosts = s->hosts;
        s->hosts = trafan_tally_table();
    } else {
        g_hash_table_remove_all(s->hosts);
    }
    s->index = NO_INDEX;
    s->bytes = 0;
}

static void
observe(TrafanRuleCtx *ctx, const TrafanEvent *ev)
{
    Spike *s = ctx->state;
    gint64 idx = trafan_floor_div(ev->t, s->interval_ns);
    if (idx != s->index) {
        close_interval(s);
        s->index = idx;
        if (s->head_index == NO_INDEX)
            s->head_index = idx;
    }
    s->bytes += ev->bytes;
    if (ev->src)
        add_host(ctx, s->hosts, ev->src, ev->bytes);
}

static void
merge(TrafanRuleCtx *ctx, gpointer state, gconstpointer later_state)
{
    Spike *s = state;
    const Spike *later = later_state;
    if (later->head_index == NO_INDEX)
        return;
    gboolean later_in_head = later->index == later->head_index;
    GHashTable *later_head = later_in_head ? later->hosts : later->head_hosts;
    guint skip = 0;
    GHashTableIter it;
    gpointer v;

    if (s->head_index == NO_INDEX)
        s->head_index = later->head_index;
    if (s->index != NO_INDEX && s->index == later->head_index) {
        /* Shared interval: add later's part to the open one. */
        const Interval *first = later_in_head ? NULL : &g_array_index(later->intervals, Interval, 0);
        s->bytes += first ? first->bytes : later->bytes;
        g_hash_table_iter_init(&it, later_head);
        while (g_hash_table_iter_next(&it, NULL, &v))
            add_host(ctx, s->hosts, &((TrafanTally *)v)->item, ((TrafanTally *)v)->count);
        if (later_in_head)
            return;
        skip = 1;
    } else if (s->index == NO_INDEX && s->intervals->len == 0 && later->head_hosts) {
        s->head_hosts = trafan_tally_table();
        g_hash_table_iter_init(&it, later->head_hosts);
        while (g_hash_table_iter_next(&it, NULL, &v))
            add_host(ctx, s->head_hosts, &((TrafanTally *)v)->item, ((TrafanTally *)v)->count);
    }
    close_interval(s);
    for (guint i = skip; i < later->intervals->len; i++)
        g_array_append_val(s->intervals, g_array_index(later->intervals, Interval, i));
    s->index = later->index;
    s->bytes = later->bytes;
    g_hash_table_iter_init(&it, later->hosts);
    while (g_hash_table_iter_next(&it, NULL, &v))
        add_host(ctx, s->hosts, &((TrafanTally *)v)->item, ((TrafanTally *)v)->count);
}

static int
u64_compare(gconstpointer a, gconstpointer b)
{
    guint64 x = *(const guint64 *)a, y = *(const guint64 *)b;
    return x < y ? -1 : x > y;
}

static void
judge(TrafanRuleCtx *ctx, gboolean so_far)
{
    Spike *s = ctx->state;
    const Config *c = ctx->config;
    const GArray *ivs = s->intervals;
    gint64 len = s->interval_ns, ref = trafan_ref_ns(ctx);
    guint64 *window = g_new(guint64, c->spike_baseline);

    if (!so_far)
        close_interval(s);
    for (guint i = 0; i < ivs->len; i++) {
        const Interval *iv = &g_array_index(ivs, Interval, i);
        gint64 first = g_array_index(ivs, Interval, 0).index;
        guint m = (guint)MIN((gint64)c->spike_baseline, iv->index - first);
        if (m < c->spike_min_baseline || iv->bytes < c->spike_min_bytes || iv->top.family == 0)
            continue;
        /* The m preceding intervals, idle ones as zeros. */
        guint n = 0;
        for (guint j = i; j-- > 0 && g_array_index(ivs, Interval, j).index >= iv->index - m;)
            window[n++] = g_array_index(ivs, Interval, j).bytes;
        while (n < m)
            window[n++] = 0;
        qsort(window, m, sizeof *window, u64_compare);
        double median = m % 2 ? window[m / 2] : (window[m / 2 - 1] + window[m / 2]) / 2.0;
        double threshold = MAX(c->spike_factor * median, (double)c->spike_min_bytes);
        if (iv->bytes <= threshold)
            continue;

        char top[48], total[48], med[48], at[48], len_text[48];
        char from[G_ASCII_DTOSTR_BUF_SIZE], to[G_ASCII_DTOSTR_BUF_SIZE], factor[G_ASCII_DTOSTR_BUF_SIZE];
        char limit[G_ASCII_DTOSTR_BUF_SIZE];
        gint64 start = iv->index * len;
        TrafanVerdict v = {
            .host = iv->top, .role = TRAFAN_ROLE_SOURCE,
            .start = start, .end = start + len, .window_ns = len,
            .observed = iv->bytes, .threshold = threshold,
        };
        g_ascii_formatd(from, sizeof from, "%.6f", (start - ref) / TRAFAN_NS_PER_S);
        g_ascii_formatd(to, sizeof to, "%.6f", (start + len - ref) / TRAFAN_NS_PER_S);
        g_ascii_formatd(factor, sizeof factor, "%.0f", median > 0 ? iv->bytes / median : 0);
        v.detail = g_strdup_printf("was the top talker (%s of %s) in the %s interval at +%s, %s%s "
                                   "the median %s of the %u preceding intervals (threshold %s "
                                   "times, at least %u bytes)",
                                   trafan_fmt_bytes(med, iv->top_bytes), trafan_fmt_bytes(total, iv->bytes),
                                   trafan_fmt_secs(len_text, len), trafan_fmt_secs(at, start - ref),
                                   median > 0 ? factor : "far above", median > 0 ? " times" : "",
                                   trafan_fmt_bytes(top, median), m,
                                   g_ascii_formatd(limit, sizeof limit, "%g", c->spike_factor),
                                   c->spike_min_bytes);
        v.clause = g_strdup_printf("frame.time_relative >= %s && frame.time_relative < %s", from, to);
        v.broad = g_strdup(v.clause);
        trafan_emit(ctx, &v);
    }
    g_free(window);
}

static gsize
bytes(gconstpointer state)
{
    const Spike *s = state;
    gsize per_host = sizeof(TrafanTally) + 3 * sizeof(gpointer);
    return sizeof *s + s->intervals->len * sizeof(Interval) +
           (g_hash_table_size(s->hosts) + (s->head_hosts ? g_hash_table_size(s->head_hosts) : 0)) * per_host;
}

#define INTERVAL_TYPE "(xt" TRAFAN_ADDRESS_TYPE "t)"
#define HOSTS_TYPE    "a(" TRAFAN_ADDRESS_TYPE "t)"
#define STATE_TYPE    "(xxxta" INTERVAL_TYPE HOSTS_TYPE "m" HOSTS_TYPE ")"

static GVariant *
hosts_save(GHashTable *hosts)
{
    GVariantBuilder b;
    GPtrArray *all = g_ptr_array_new();
    GHashTableIter it;
    gpointer v;
    g_hash_table_iter_init(&it, hosts);
    while (g_hash_table_iter_next(&it, NULL, &v))
        g_ptr_array_add(all, v);
    g_ptr_array_sort(all, trafan_tally_by_count);
    g_variant_builder_init(&b, G_VARIANT_TYPE(HOSTS_TYPE));
    for (guint i = 0; i < all->len; i++) {
        const TrafanTally *t = all->pdata[i];
        g_variant_builder_add(&b, "(@" TRAFAN_ADDRESS_TYPE "t)", trafan_address_save(&t->item), t->count);
    }
    g_ptr_array_unref(all);
    return g_variant_builder_end(&b);
}

static gboolean
hosts_load(TrafanRuleCtx *ctx, GHashTable *into, GVariant *saved)
{
    GVariantIter it;
    GVariant *addr;
    guint64 bytes;
    gboolean ok = TRUE;
    g_variant_iter_init(&it, saved);
    while (ok && g_variant_iter_next(&it, "(@" TRAFAN_ADDRESS_TYPE "t)", &addr, &bytes)) {
        TrafanAddress a;
        ok = trafan_address_load(addr, &a) && !g_hash_table_contains(into, &a);
        if (ok)
            add_host(ctx, into, &a, bytes);
        g_variant_unref(addr);
    }
    return ok;
}

static GVariant *
save(gconstpointer state)
{
    const Spike *s = state;
    GVariantBuilder ivs;
    g_variant_builder_init(&ivs, G_VARIANT_TYPE("a" INTERVAL_TYPE));
    for (guint i = 0; i < s->intervals->len; i++) {
        const Interval *iv = &g_array_index(s->intervals, Interval, i);
        g_variant_builder_add(&ivs, "(xt@" TRAFAN_ADDRESS_TYPE "t)", iv->index, iv->bytes,
                              trafan_address_save(&iv->top), iv->top_bytes);
    }
    return g_variant_new("(xxxta" INTERVAL_TYPE "@" HOSTS_TYPE "@m" HOSTS_TYPE ")", s->interval_ns, s->index,
                         s->head_index, s->bytes, &ivs, hosts_save(s->hosts),
                         g_variant_new_maybe(G_VARIANT_TYPE(HOSTS_TYPE),
                                             s->head_hosts ? hosts_save(s->head_hosts) : NULL));
}

static gboolean
load(TrafanRuleCtx *ctx, gpointer state, GVariant *saved, GError **error)
{
    Spike *s = state;
    if (!g_variant_is_of_type(saved, G_VARIANT_TYPE(STATE_TYPE))) {
        g_set_error(error, trafan_state_error_quark(), 4, "bandwidth_spike state is malformed");
        return FALSE;
    }
    gint64 interval_ns;
    GVariant *hosts, *head;
    GVariantIter *ivs;
    g_variant_get(saved, "(xxxta" INTERVAL_TYPE "@" HOSTS_TYPE "@m" HOSTS_TYPE ")", &interval_ns, &s->index,
                  &s->head_index, &s->bytes, &ivs, &hosts, &head);
    gboolean ok = interval_ns == s->interval_ns && hosts_load(ctx, s->hosts, hosts);
    Interval iv;
    GVariant *top;
    while (ok && g_variant_iter_next(ivs, "(xt@" TRAFAN_ADDRESS_TYPE "t)", &iv.index, &iv.bytes, &top, &iv.top_bytes)) {
        ok = trafan_address_load(top, &iv.top) &&
             (s->intervals->len == 0 || iv.index > g_array_index(s->intervals, Interval, s->intervals->len - 1).index);
        if (ok)
            g_array_append_val(s->intervals, iv);
        g_variant_unref(top);
    }
    GVariant *head_hosts = g_variant_get_maybe(head);
    if (ok && head_hosts) {
        s->head_hosts = trafan_tally_table();
        ok = hosts_load(ctx, s->head_hosts, head_hosts);
    }
    if (head_hosts)
        g_variant_unref(head_hosts);
    g_variant_iter_free(ivs);
    g_variant_unref(hosts);
    g_variant_unref(head);
    if (!ok)
        g_set_error(error, trafan_state_error_quark(), 4, "bandwidth_spike state is malformed");
    return ok;
}

static const TrafanSeriesHooks hooks = {
    .new_state = new_state, .free_state = free_state, .merge = merge, .judge = judge, .bytes = bytes,
    .save = save, .load = load,
};

const TrafanRule trafan_rule_bandwidth_spike = {
    .name = "bandwidth_spike",
    .anchor = "ntopng throughput anomalies against a moving baseline",
    .options = options, .n_options = G_N_ELEMENTS(options), .config_size = sizeof(Config),
    .events = TRAFAN_EVENT_BIT(TRAFAN_EV_FRAME),
    .observe = observe,
    .series = &hooks,
};
