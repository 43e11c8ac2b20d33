/* input.c — read trafan's graph.dot, as cgraph parsed it, into arrays.
 *
 * Every attribute is optional: a missing or malformed number counts as 0,
 * a missing total is recomputed from its parts.  Multi-edges between the
 * same two hosts are folded into one conversation.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "hostgraph.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

G_DEFINE_QUARK(trafan-graph-error-quark, tg_error)

static const char *attr(void *obj, Agsym_t *sym)
{
    const char *s = sym ? agxget(obj, sym) : NULL;
    return s && *s ? s : NULL;
}

static guint64 attr_u64(void *obj, Agsym_t *sym)
{
    const char *s = attr(obj, sym);
    guint64 v;

    if (!s || !g_ascii_isdigit(*s))
        return 0;
    v = g_ascii_strtoull(s, NULL, 10);      /* saturates on overflow */
    return v;
}

static double attr_double(void *obj, Agsym_t *sym, gboolean *found)
{
    const char *s = attr(obj, sym);
    char *end;
    double v;

    if (found)
        *found = FALSE;
    if (!s)
        return 0;
    v = g_ascii_strtod(s, &end);
    if (end == s || !isfinite(v))
        return 0;
    if (found)
        *found = TRUE;
    return v;
}

static char *attr_dup(void *obj, Agsym_t *sym)
{
    return g_strdup(attr(obj, sym));
}

static void host_clear(gpointer p)
{
    TgHost *h = p;
    g_free(h->name);
    g_free(h->rule);
    g_array_unref(h->convs);
}

static void conv_clear(gpointer p)
{
    TgConv *c = p;
    g_free(c->protocol);
    g_free(c->protocols);
    g_free(c->flag);
}

guint tg_input_find(const TgInput *in, const char *name)
{
    guint i = GPOINTER_TO_UINT(g_hash_table_lookup(in->by_name, name));
    return i ? i - 1 : TG_NONE;
}

static void load_graph_attrs(TgInput *in, Agraph_t *g)
{
#define GATTR(name) agattr(g, AGRAPH, (char *)(name), NULL)
    in->capture = attr_dup(g, GATTR("capture"));
    in->rules = attr_dup(g, GATTR("rules"));
    in->filter = attr_dup(g, GATTR("filter"));
    in->packets = attr_u64(g, GATTR("packets"));
    in->bytes = attr_u64(g, GATTR("bytes"));
    in->first_time = attr_double(g, GATTR("first_time"), &in->has_first_time);
    in->duration = attr_double(g, GATTR("duration"), NULL);
    in->hosts_aggregated = attr_u64(g, GATTR("hosts_aggregated"));
#undef GATTR
}

static void load_hosts(TgInput *in, Agraph_t *g)
{
#define NATTR(name) agattr(g, AGNODE, (char *)(name), NULL)
    Agsym_t *family = NATTR("family");
    Agsym_t *tx_packets = NATTR("tx_packets"), *tx_bytes = NATTR("tx_bytes");
    Agsym_t *rx_packets = NATTR("rx_packets"), *rx_bytes = NATTR("rx_bytes");
    Agsym_t *packets = NATTR("packets"), *bytes = NATTR("bytes");
    Agsym_t *aggregated = NATTR("aggregated");
    Agsym_t *flag = NATTR("flag"), *rule = NATTR("rule"), *role = NATTR("role");
#undef NATTR

    for (Agnode_t *n = agfstnode(g); n; n = agnxtnode(g, n)) {
        TgHost h = {0};
        const char *s;

        h.name = g_strdup(agnameof(n));
        s = attr(n, family);
        h.family = s && strcmp(s, "6") == 0 ? 6 : s && strcmp(s, "4") == 0 ? 4 : 0;
        h.tx_packets = attr_u64(n, tx_packets);
        h.tx_bytes = attr_u64(n, tx_bytes);
        h.rx_packets = attr_u64(n, rx_packets);
        h.rx_bytes = attr_u64(n, rx_bytes);
        h.packets = attr(n, packets) ? attr_u64(n, packets) : h.tx_packets + h.rx_packets;
        h.bytes = attr(n, bytes) ? attr_u64(n, bytes) : h.tx_bytes + h.rx_bytes;
        h.aggregated = attr_u64(n, aggregated);
        s = attr(n, flag);
        h.flagged = s && (strcmp(s, "true") == 0 || strcmp(s, "1") == 0);
        s = attr(n, role);
        if (h.flagged)
            h.role = s && strcmp(s, "target") == 0 ? TG_ROLE_TARGET : TG_ROLE_SOURCE;
        h.rule = attr_dup(n, rule);
        h.convs = g_array_new(FALSE, FALSE, sizeof(guint));
        g_array_append_val(in->hosts, h);
        g_hash_table_insert(in->by_name, h.name, GUINT_TO_POINTER(in->hosts->len));
    }
}

static void conv_swap(TgConv *c)
{
    guint t = c->a;
    guint64 p = c->a_to_b_packets, b = c->a_to_b_bytes;

    c->a = c->b;
    c->b = t;
    c->a_to_b_packets = c->b_to_a_packets;
    c->a_to_b_bytes = c->b_to_a_bytes;
    c->b_to_a_packets = p;
    c->b_to_a_bytes = b;
}

/* Fold a second edge between the same hosts into the first: counts add up,
 * the protocol of the bigger one wins. */
static void conv_merge(TgConv *into, TgConv *more)
{
    if (more->a != into->a)
        conv_swap(more);
    if (more->bytes > into->bytes) {
        char *p = into->protocol, *ps = into->protocols;
        into->protocol = more->protocol;
        into->protocols = more->protocols;
        more->protocol = p;
        more->protocols = ps;
    }
    if (!into->flag) {
        into->flag = more->flag;
        more->flag = NULL;
    }
    into->a_to_b_packets += more->a_to_b_packets;
    into->a_to_b_bytes += more->a_to_b_bytes;
    into->b_to_a_packets += more->b_to_a_packets;
    into->b_to_a_bytes += more->b_to_a_bytes;
    into->packets += more->packets;
    into->bytes += more->bytes;
    into->merged++;
    conv_clear(more);
}

static void load_convs(TgInput *in, Agraph_t *g)
{
#define EATTR(name) agattr(g, AGEDGE, (char *)(name), NULL)
    Agsym_t *ab_packets = EATTR("a_to_b_packets"), *ab_bytes = EATTR("a_to_b_bytes");
    Agsym_t *ba_packets = EATTR("b_to_a_packets"), *ba_bytes = EATTR("b_to_a_bytes");
    Agsym_t *packets = EATTR("packets"), *bytes = EATTR("bytes");
    Agsym_t *protocol = EATTR("protocol"), *protocols = EATTR("protocols");
    Agsym_t *flag = EATTR("flag");
#undef EATTR
    /* key: a * hosts + b with a <= b */
    GHashTable *pairs = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, NULL);
    guint64 nhosts = in->hosts->len;

    for (Agnode_t *n = agfstnode(g); n; n = agnxtnode(g, n)) {
        for (Agedge_t *e = agfstout(g, n); e; e = agnxtout(g, e)) {
            TgConv c = {0};
            gint64 key;
            gpointer found;

            c.a = tg_input_find(in, agnameof(agtail(e)));
            c.b = tg_input_find(in, agnameof(aghead(e)));
            c.a_to_b_packets = attr_u64(e, ab_packets);
            c.a_to_b_bytes = attr_u64(e, ab_bytes);
            c.b_to_a_packets = attr_u64(e, ba_packets);
            c.b_to_a_bytes = attr_u64(e, ba_bytes);
            c.packets = attr(e, packets) ? attr_u64(e, packets)
                                         : c.a_to_b_packets + c.b_to_a_packets;
            c.bytes = attr(e, bytes) ? attr_u64(e, bytes) : c.a_to_b_bytes + c.b_to_a_bytes;
            c.protocol = attr_dup(e, protocol);
            c.protocols = attr_dup(e, protocols);
            c.flag = attr_dup(e, flag);
            c.merged = 1;

            key = (gint64)(MIN(c.a, c.b) * nhosts + MAX(c.a, c.b));
            found = g_hash_table_lookup(pairs, &key);
            if (found) {
                conv_merge(&g_array_index(in->convs, TgConv, GPOINTER_TO_UINT(found) - 1), &c);
                continue;
            }
            g_array_append_val(in->convs, c);
            gint64 *stored = g_new(gint64, 1);
            *stored = key;
            g_hash_table_insert(pairs, stored, GUINT_TO_POINTER(in->convs->len));
        }
    }
    g_hash_table_unref(pairs);

    for (guint i = 0; i < in->convs->len; i++) {
        TgConv *c = &g_array_index(in->convs, TgConv, i);
        g_array_append_val(g_array_index(in->hosts, TgHost, c->a).convs, i);
        if (c->b != c->a)
            g_array_append_val(g_array_index(in->hosts, TgHost, c->b).convs, i);
    }
}

static guint peer_of(const TgConv *c, guint host)
{
    return c->a == host ? c->b : c->a;
}

/* Mark hosts by their distance to the nearest flagged host (up to 2). */
static void mark_hosts(TgInput *in)
{
    GArray *frontier = g_array_new(FALSE, FALSE, sizeof(guint));
    GArray *next = g_array_new(FALSE, FALSE, sizeof(guint));
    guint *distance = g_new(guint, in->hosts->len);

    for (guint i = 0; i < in->hosts->len; i++) {
        TgHost *h = &g_array_index(in->hosts, TgHost, i);
        distance[i] = G_MAXUINT;
        h->mark = TG_MARK_PLAIN;
        if (h->flagged) {
            h->mark = h->role == TG_ROLE_TARGET ? TG_MARK_TARGET : TG_MARK_SOURCE;
            distance[i] = 0;
            g_array_append_val(frontier, i);
        }
    }
    for (guint depth = 1; depth <= 2 && frontier->len; depth++) {
        g_array_set_size(next, 0);
        for (guint f = 0; f < frontier->len; f++) {
            guint u = g_array_index(frontier, guint, f);
            GArray *convs = g_array_index(in->hosts, TgHost, u).convs;
            for (guint k = 0; k < convs->len; k++) {
                guint v = peer_of(&g_array_index(in->convs, TgConv, g_array_index(convs, guint, k)), u);
                if (distance[v] != G_MAXUINT)
                    continue;
                distance[v] = depth;
                g_array_index(in->hosts, TgHost, v).mark =
                    depth == 1 ? TG_MARK_NEIGHBOUR : TG_MARK_TWO_HOPS;
                g_array_append_val(next, v);
            }
        }
        GArray *t = frontier;
        frontier = next;
        next = t;
    }
    g_free(distance);
    g_array_unref(frontier);
    g_array_unref(next);
}

TgInput *tg_input_load(Agraph_t *g, GError **error)
{
    TgInput *in;

    if (agnnodes(g) == 0) {
        g_set_error(error, TG_ERROR, TG_ERROR_INPUT, "the graph has no hosts");
        return NULL;
    }
    in = g_new0(TgInput, 1);
    in->hosts = g_array_sized_new(FALSE, FALSE, sizeof(TgHost), agnnodes(g));
    g_array_set_clear_func(in->hosts, host_clear);
    in->convs = g_array_sized_new(FALSE, FALSE, sizeof(TgConv), agnedges(g));
    g_array_set_clear_func(in->convs, conv_clear);
    in->by_name = g_hash_table_new(g_str_hash, g_str_equal);

    load_graph_attrs(in, g);
    load_hosts(in, g);
    load_convs(in, g);
    mark_hosts(in);
    return in;
}

void tg_input_free(TgInput *in)
{
    if (!in)
        return;
    g_hash_table_unref(in->by_name);
    g_array_unref(in->convs);
    g_array_unref(in->hosts);
    g_free(in->capture);
    g_free(in->rules);
    g_free(in->filter);
    g_free(in);
}
