/* view.c — choose what to draw: the --focus neighbourhood, then at most
 * --max-nodes hosts, the rest folded into one node per subnet.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "hostgraph.h"

#include <arpa/inet.h>
#include <string.h>

static guint peer_of(const TgConv *c, guint host)
{
    return c->a == host ? c->b : c->a;
}

#define HOST(in, i) (&g_array_index((in)->hosts, TgHost, (i)))
#define CONV(in, i) (&g_array_index((in)->convs, TgConv, (i)))

/* Hop distance from `from`, up to 2; G_MAXUINT beyond. */
static guint *distances_from(const TgInput *in, guint from)
{
    guint *dist = g_new(guint, in->hosts->len);
    GArray *queue = g_array_new(FALSE, FALSE, sizeof(guint));

    for (guint i = 0; i < in->hosts->len; i++)
        dist[i] = G_MAXUINT;
    dist[from] = 0;
    g_array_append_val(queue, from);
    for (guint q = 0; q < queue->len; q++) {
        guint u = g_array_index(queue, guint, q);
        GArray *convs = HOST(in, u)->convs;
        if (dist[u] == 2)
            continue;
        for (guint k = 0; k < convs->len; k++) {
            guint v = peer_of(CONV(in, g_array_index(convs, guint, k)), u);
            if (dist[v] == G_MAXUINT) {
                dist[v] = dist[u] + 1;
                g_array_append_val(queue, v);
            }
        }
    }
    g_array_unref(queue);
    return dist;
}

/* Subnet of an address at a folding level: 0 is /24 and /64, 1 is /16 and
 * /48, 2 is the whole family.  Names that are no address share one group. */
static char *fold_group(const char *name, guint level)
{
    static const guint prefix4[] = {24, 16, 0}, prefix6[] = {64, 48, 0};
    char *bare = g_strndup(name, strcspn(name, "%"));   /* drop a zone id */
    guint8 bytes[16];
    char text[INET6_ADDRSTRLEN];
    int family = inet_pton(AF_INET, bare, bytes) == 1 ? AF_INET
               : inet_pton(AF_INET6, bare, bytes) == 1 ? AF_INET6 : 0;
    guint size = family == AF_INET ? 4 : 16;
    guint prefix = family == AF_INET ? prefix4[level] : prefix6[level];

    g_free(bare);
    if (!family)
        return g_strdup("other");
    if (prefix == 0)
        return g_strdup(family == AF_INET ? "other IPv4" : "other IPv6");
    memset(bytes + prefix / 8, 0, size - prefix / 8);
    inet_ntop(family, bytes, text, sizeof text);
    return g_strdup_printf("other %s/%u", text, prefix);
}

/* Bigger folds first, then by name. */
static gint fold_size_compare(gconstpointer pa, gconstpointer pb, gpointer data)
{
    const char *a = *(const char *const *)pa, *b = *(const char *const *)pb;
    guint na = GPOINTER_TO_UINT(g_hash_table_lookup(data, a));
    guint nb = GPOINTER_TO_UINT(g_hash_table_lookup(data, b));
    if (na != nb)
        return na > nb ? -1 : 1;
    return strcmp(a, b);
}

typedef struct {
    const TgInput *in;
    const guint *focus_dist;    /* NULL without --focus */
} RankContext;

/* Who stays when hosts must be folded: the focus, flagged hosts, then the
 * focus's nearest, then neighbours of flagged hosts, then the top talkers. */
static gint rank_compare(gconstpointer pa, gconstpointer pb, gpointer data)
{
    const RankContext *ctx = data;
    guint a = *(const guint *)pa, b = *(const guint *)pb;
    const TgHost *ha = HOST(ctx->in, a), *hb = HOST(ctx->in, b);

    if (ctx->focus_dist && ctx->focus_dist[a] != ctx->focus_dist[b])
        return ctx->focus_dist[a] < ctx->focus_dist[b] ? -1 : 1;
    if (ha->mark != hb->mark)
        return ha->mark > hb->mark ? -1 : 1;
    if (ha->bytes != hb->bytes)
        return ha->bytes > hb->bytes ? -1 : 1;
    if (ha->packets != hb->packets)
        return ha->packets > hb->packets ? -1 : 1;
    return a < b ? -1 : a > b;
}


/* Assign each host in scope its node: kept hosts first, then folds. */
static void build_nodes(TgView *view, const guint *scope, guint nscope,
                        const guint *focus_dist, guint *node_of)
{
    const TgInput *in = view->in;
    guint max = view->opts.max_nodes;
    guint focus_host = view->focus_node;
    guint *ranked = g_new(guint, nscope);
    gboolean *kept = g_new0(gboolean, in->hosts->len);
    guint nkept = 0;
    RankContext ctx = {in, focus_dist};

    memcpy(ranked, scope, nscope * sizeof *scope);
    g_qsort_with_data(ranked, nscope, sizeof *ranked, rank_compare, &ctx);
    for (guint r = 0; r < nscope; r++)
        if (max == 0 || nkept < max || ranked[r] == focus_host || HOST(in, ranked[r])->flagged) {
            kept[ranked[r]] = TRUE;
            nkept++;
        }

    for (guint s = 0; s < nscope; s++) {
        guint h = scope[s];
        const TgHost *host = HOST(in, h);
        if (!kept[h])
            continue;
        TgNode node = {
            .label = g_strdup(host->name), .host = h, .packets = host->packets,
            .bytes = host->bytes, .mark = host->mark, .family = host->family,
        };
        node_of[h] = view->nodes->len;
        if (h == focus_host)
            view->focus_node = view->nodes->len;
        g_array_append_val(view->nodes, node);
    }
    g_free(ranked);
    if (nkept == nscope) {
        g_free(kept);
        return;
    }

    /* Fold by /24 and /64.  When those would be many next to the hosts
     * kept, only the biggest subnets keep a node of their own and the rest
     * fold by /16 and /48, or failing that by address family. */
    static const char *const prefixes[] = {
        "/24 (IPv4) and /64 (IPv6)",
        "/24 and /64, smaller subnets by /16 and /48",
        "/24 and /64, the rest by address family",
    };
    guint limit = MAX(8, max / 5), coarse = 0;
    GHashTable *fine = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    GHashTable *groups = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    for (guint s = 0; s < nscope; s++)
        if (!kept[scope[s]]) {
            char *key = fold_group(HOST(in, scope[s])->name, 0);
            guint count = GPOINTER_TO_UINT(g_hash_table_lookup(fine, key));
            g_hash_table_replace(fine, key, GUINT_TO_POINTER(count + 1));
        }
    if (g_hash_table_size(fine) > limit) {
        GPtrArray *keys = g_ptr_array_new();
        GHashTableIter iter;
        gpointer key;
        g_hash_table_iter_init(&iter, fine);
        while (g_hash_table_iter_next(&iter, &key, NULL))
            g_ptr_array_add(keys, key);
        GHashTable *coarser = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
        g_ptr_array_sort_with_data(keys, fold_size_compare, fine);
        for (guint k = limit / 2; k < keys->len; k++)
            g_hash_table_remove(fine, keys->pdata[k]);  /* only the biggest stay */
        for (guint s = 0; s < nscope; s++) {
            char *subnet;
            if (kept[scope[s]])
                continue;
            subnet = fold_group(HOST(in, scope[s])->name, 0);
            if (!g_hash_table_contains(fine, subnet))
                g_hash_table_add(coarser, fold_group(HOST(in, scope[s])->name, 1));
            g_free(subnet);
        }
        coarse = limit / 2 + g_hash_table_size(coarser) <= limit ? 1 : 2;
        g_hash_table_unref(coarser);
        g_ptr_array_unref(keys);
    }
    view->fold_prefix = prefixes[coarse];

    for (guint s = 0; s < nscope; s++) {
        guint h = scope[s];
        const TgHost *host = HOST(in, h);
        if (kept[h])
            continue;
        char *group = fold_group(host->name, 0);
        if (!g_hash_table_contains(fine, group)) {
            g_free(group);
            group = fold_group(host->name, coarse);
        }
        gpointer index = g_hash_table_lookup(groups, group);
        if (!index) {
            TgNode fold = {.label = g_strdup(group), .host = TG_NONE, .family = host->family};
            g_array_append_val(view->nodes, fold);
            index = GUINT_TO_POINTER(view->nodes->len);
            g_hash_table_insert(groups, group, index);
            view->folds++;
        } else {
            g_free(group);
        }
        TgNode *fold = &g_array_index(view->nodes, TgNode, GPOINTER_TO_UINT(index) - 1);
        fold->folded++;
        fold->packets += host->packets;
        fold->bytes += host->bytes;
        fold->mark = MAX(fold->mark, host->mark);
        if (fold->family != host->family)
            fold->family = 0;
        node_of[h] = GPOINTER_TO_UINT(index) - 1;
        view->hosts_folded++;
    }
    g_hash_table_unref(groups);
    g_hash_table_unref(fine);
    g_free(kept);
}

static void build_edges(TgView *view, const guint *node_of)
{
    const TgInput *in = view->in;
    GHashTable *pairs = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, NULL);
    guint64 nnodes = view->nodes->len;

    for (guint i = 0; i < in->convs->len; i++) {
        const TgConv *c = CONV(in, i);
        guint na = node_of[c->a], nb = node_of[c->b];
        if (na == TG_NONE || nb == TG_NONE)
            continue;
        if (na == nb && c->a != c->b) {
            view->convs_hidden += c->merged;
            continue;
        }
        gint64 key = (gint64)(MIN(na, nb) * nnodes + MAX(na, nb));
        gpointer found = g_hash_table_lookup(pairs, &key);
        if (!found) {
            TgEdge e = {.a = na, .b = nb, .protocol = c->protocol, .flag = c->flag};
            g_array_append_val(view->edges, e);
            gint64 *stored = g_new(gint64, 1);
            *stored = key;
            found = GUINT_TO_POINTER(view->edges->len);
            g_hash_table_insert(pairs, stored, found);
        }
        TgEdge *e = &g_array_index(view->edges, TgEdge, GPOINTER_TO_UINT(found) - 1);
        if (c->bytes > e->bytes || (!e->protocol && c->protocol))
            e->protocol = c->protocol ? c->protocol : e->protocol;
        if (!e->flag)
            e->flag = c->flag;
        e->packets += c->packets;
        e->bytes += c->bytes;
        e->convs += c->merged;
    }
    g_hash_table_unref(pairs);
}

TgView *tg_view_new(const TgInput *in, const TgOptions *opts, GError **error)
{
    TgView *view = g_new0(TgView, 1);
    guint *focus_dist = NULL;
    guint *scope = g_new(guint, in->hosts->len);
    guint nscope = 0;
    guint *node_of = g_new(guint, in->hosts->len);

    view->in = in;
    view->opts = *opts;
    view->focus_node = TG_NONE;
    view->nodes = g_array_new(FALSE, FALSE, sizeof(TgNode));
    view->edges = g_array_new(FALSE, FALSE, sizeof(TgEdge));

    if (opts->focus) {
        view->focus_node = tg_input_find(in, opts->focus);
        if (view->focus_node == TG_NONE) {
            g_set_error(error, TG_ERROR, TG_ERROR_FOCUS, "no host named '%s' in the graph",
                        opts->focus);
            g_free(scope);
            g_free(node_of);
            tg_view_free(view);
            return NULL;
        }
        focus_dist = distances_from(in, view->focus_node);
    }
    for (guint i = 0; i < in->hosts->len; i++) {
        node_of[i] = TG_NONE;
        if (!focus_dist || focus_dist[i] <= 2)
            scope[nscope++] = i;
    }
    view->hosts_in_scope = nscope;

    build_nodes(view, scope, nscope, focus_dist, node_of);
    build_edges(view, node_of);

    g_free(focus_dist);
    g_free(scope);
    g_free(node_of);
    return view;
}

void tg_view_free(TgView *view)
{
    if (!view)
        return;
    for (guint i = 0; i < view->nodes->len; i++)
        g_free(g_array_index(view->nodes, TgNode, i).label);
    g_array_unref(view->nodes);
    g_array_unref(view->edges);
    g_free(view);
}
