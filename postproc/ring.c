/* ring.c — put the hosts on a ring, in an order that keeps chords short.
 *
 * Hosts are grouped into communities by label propagation, which is linear
 * in the edges; communities follow each other around the ring by how much
 * they talk to each other, and inside one the order starts from a breadth
 * first walk (so a flagged host sits among its peers) refined by a few
 * barycentre sweeps (so a hub moves to the middle of its leaves).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "hostgraph.h"

#include <math.h>
#include <string.h>

#define NODE(view, i) (&g_array_index((view)->nodes, TgNode, (i)))

#define LABEL_FONT_SIZE 10.0
#define MIN_NODE_SIZE   6.0
#define MAX_NODE_SIZE   26.0
#define SLOT_GAP        3.0

/* Adjacency in compressed rows: the neighbours of i are
 * adj[start[i]] .. adj[start[i + 1] - 1]. */
typedef struct {
    guint *start, *adj;
} Adjacency;

static Adjacency adjacency_new(const TgView *view)
{
    guint n = view->nodes->len;
    Adjacency g = {g_new0(guint, n + 1), g_new(guint, 2 * view->edges->len + 1)};
    guint *fill = g_new0(guint, n);

    for (guint i = 0; i < view->edges->len; i++) {
        const TgEdge *e = &g_array_index(view->edges, TgEdge, i);
        if (e->a != e->b) {
            g.start[e->a + 1]++;
            g.start[e->b + 1]++;
        }
    }
    for (guint i = 0; i < n; i++)
        g.start[i + 1] += g.start[i];
    for (guint i = 0; i < view->edges->len; i++) {
        const TgEdge *e = &g_array_index(view->edges, TgEdge, i);
        if (e->a != e->b) {
            g.adj[g.start[e->a] + fill[e->a]++] = e->b;
            g.adj[g.start[e->b] + fill[e->b]++] = e->a;
        }
    }
    g_free(fill);
    return g;
}

static void adjacency_free(Adjacency *g)
{
    g_free(g->start);
    g_free(g->adj);
}

static guint degree(const Adjacency *g, guint i)
{
    return g->start[i + 1] - g->start[i];
}

/* Each node takes the label most common among its neighbours, keeping its
 * own on a tie, else the smallest: deterministic, so pictures are stable. */
static guint *propagate_labels(const Adjacency *g, guint n)
{
    guint *label = g_new(guint, n);
    guint *weight = g_new0(guint, n);
    GArray *touched = g_array_new(FALSE, FALSE, sizeof(guint));

    for (guint i = 0; i < n; i++)
        label[i] = i;
    for (int round = 0; round < 12; round++) {
        guint changed = 0;
        for (guint i = 0; i < n; i++) {
            guint best = label[i], best_weight = 0;
            if (degree(g, i) == 0)
                continue;
            g_array_set_size(touched, 0);
            for (guint k = g->start[i]; k < g->start[i + 1]; k++) {
                guint l = label[g->adj[k]];
                if (weight[l]++ == 0)
                    g_array_append_val(touched, l);
            }
            best_weight = weight[label[i]];
            for (guint t = 0; t < touched->len; t++) {
                guint l = g_array_index(touched, guint, t);
                if (weight[l] > best_weight
                    || (weight[l] == best_weight && best != label[i] && l < best)) {
                    best = l;
                    best_weight = weight[l];
                }
            }
            for (guint t = 0; t < touched->len; t++)
                weight[g_array_index(touched, guint, t)] = 0;
            if (best != label[i]) {
                label[i] = best;
                changed++;
            }
        }
        if (!changed)
            break;
    }
    g_array_unref(touched);
    g_free(weight);
    return label;
}

typedef struct {
    const TgView *view;
    const Adjacency *g;
} OrderContext;

/* Most notable first: flagged hosts, then busy ones. */
static gint notable_compare(gconstpointer pa, gconstpointer pb, gpointer data)
{
    const OrderContext *ctx = data;
    guint a = *(const guint *)pa, b = *(const guint *)pb;
    const TgNode *na = NODE(ctx->view, a), *nb = NODE(ctx->view, b);

    if (na->mark != nb->mark)
        return na->mark > nb->mark ? -1 : 1;
    if (degree(ctx->g, a) != degree(ctx->g, b))
        return degree(ctx->g, a) > degree(ctx->g, b) ? -1 : 1;
    if (na->bytes != nb->bytes)
        return na->bytes > nb->bytes ? -1 : 1;
    return a < b ? -1 : a > b;
}

typedef struct {
    guint *members;
    guint  len;
} Community;

/* Breadth-first order of one community's members, in place. */
static void walk_community(const OrderContext *ctx, Community *c, const guint *label,
                           gboolean *seen)
{
    guint *order = g_new(guint, c->len), len = 0, head = 0;
    guint *start = g_new(guint, c->len);
    GArray *peers = g_array_new(FALSE, FALSE, sizeof(guint));
    guint lab = label[c->members[0]];

    memcpy(start, c->members, c->len * sizeof(guint));
    g_qsort_with_data(start, c->len, sizeof(guint), notable_compare, (gpointer)ctx);
    for (guint s = 0; s < c->len; s++) {
        if (seen[start[s]])
            continue;
        seen[start[s]] = TRUE;
        order[len++] = start[s];
        while (head < len) {
            guint u = order[head++];
            g_array_set_size(peers, 0);
            for (guint k = ctx->g->start[u]; k < ctx->g->start[u + 1]; k++) {
                guint v = ctx->g->adj[k];
                if (!seen[v] && label[v] == lab) {
                    seen[v] = TRUE;
                    g_array_append_val(peers, v);
                }
            }
            g_array_sort_with_data(peers, notable_compare, (gpointer)ctx);
            if (peers->len)
                memcpy(order + len, peers->data, peers->len * sizeof(guint));
            len += peers->len;
        }
    }
    memcpy(c->members, order, c->len * sizeof(guint));
    g_array_unref(peers);
    g_free(start);
    g_free(order);
}

typedef struct {
    guint  node;
    double key;
} Keyed;

static gint keyed_compare(gconstpointer pa, gconstpointer pb, gpointer unused)
{
    const Keyed *a = pa, *b = pb;
    return a->key < b->key ? -1 : a->key > b->key;
}

/* Move each member towards the mean position of its peers in the community. */
static void sweep_community(const Adjacency *g, Community *c, const guint *label, guint *pos)
{
    Keyed *keyed = g_new(Keyed, c->len);

    for (int pass = 0; pass < 4; pass++) {
        for (guint m = 0; m < c->len; m++)
            pos[c->members[m]] = m;
        for (guint m = 0; m < c->len; m++) {
            guint u = c->members[m];
            double sum = m;
            guint count = 1;
            for (guint k = g->start[u]; k < g->start[u + 1]; k++)
                if (label[g->adj[k]] == label[u]) {
                    sum += pos[g->adj[k]];
                    count++;
                }
            /* the member's own place breaks ties: g_qsort is stable */
            keyed[m] = (Keyed){u, sum / count};
        }
        g_qsort_with_data(keyed, c->len, sizeof(Keyed), keyed_compare, NULL);
        for (guint m = 0; m < c->len; m++)
            c->members[m] = keyed[m].node;
    }
    g_free(keyed);
}

static gint community_compare(gconstpointer pa, gconstpointer pb, gpointer data)
{
    const Community *a = pa, *b = pb;
    if (a->len != b->len)
        return a->len > b->len ? -1 : 1;
    return notable_compare(&a->members[0], &b->members[0], data);
}

/* The ring order: communities chained by the links between them. */
static guint *ring_order(const TgView *view, const Adjacency *g)
{
    guint n = view->nodes->len;
    guint *label = propagate_labels(g, n);
    guint *community_of = g_new(guint, n);
    GArray *communities = g_array_new(FALSE, FALSE, sizeof(Community));
    GHashTable *index = g_hash_table_new(NULL, NULL);
    OrderContext ctx = {view, g};
    gboolean *seen = g_new0(gboolean, n);
    guint *pos = g_new0(guint, n);
    guint *order = g_new(guint, n), len = 0;

    /* gather members; a community is named by its first member's label */
    for (guint i = 0; i < n; i++) {
        gpointer found = g_hash_table_lookup(index, GUINT_TO_POINTER(label[i] + 1));
        if (!found) {
            Community c = {NULL, 0};
            g_array_append_val(communities, c);
            found = GUINT_TO_POINTER(communities->len);
            g_hash_table_insert(index, GUINT_TO_POINTER(label[i] + 1), found);
        }
        community_of[i] = GPOINTER_TO_UINT(found) - 1;
        g_array_index(communities, Community, community_of[i]).len++;
    }
    for (guint c = 0; c < communities->len; c++) {
        Community *com = &g_array_index(communities, Community, c);
        com->members = g_new(guint, com->len);
        com->len = 0;
    }
    for (guint i = 0; i < n; i++) {
        Community *com = &g_array_index(communities, Community, community_of[i]);
        com->members[com->len++] = i;
    }
    for (guint c = 0; c < communities->len; c++) {
        Community *com = &g_array_index(communities, Community, c);
        walk_community(&ctx, com, label, seen);
        sweep_community(g, com, label, pos);
    }
    g_array_sort_with_data(communities, community_compare, &ctx);
    for (guint c = 0; c < communities->len; c++) {
        Community *com = &g_array_index(communities, Community, c);
        for (guint m = 0; m < com->len; m++)
            community_of[com->members[m]] = c;
    }

    /* chain: next is the unplaced community most linked to the last one,
     * or else the biggest left */
    gboolean *placed = g_new0(gboolean, communities->len);
    guint *links = g_new0(guint, communities->len);
    guint biggest_left = 0;
    guint current = 0;
    for (guint done = 0; done < communities->len; done++) {
        Community *com = &g_array_index(communities, Community, current);
        placed[current] = TRUE;
        memcpy(order + len, com->members, com->len * sizeof(guint));
        len += com->len;

        guint next = G_MAXUINT, next_links = 0;
        for (guint m = 0; m < com->len; m++) {
            guint u = com->members[m];
            for (guint k = g->start[u]; k < g->start[u + 1]; k++) {
                guint c = community_of[g->adj[k]];
                if (!placed[c])
                    links[c]++;
            }
        }
        for (guint m = 0; m < com->len; m++) {
            guint u = com->members[m];
            for (guint k = g->start[u]; k < g->start[u + 1]; k++) {
                guint c = community_of[g->adj[k]];
                if (links[c] > next_links || (links[c] == next_links && links[c] && c < next)) {
                    next = c;
                    next_links = links[c];
                }
            }
        }
        for (guint m = 0; m < com->len; m++) {
            guint u = com->members[m];
            for (guint k = g->start[u]; k < g->start[u + 1]; k++)
                links[community_of[g->adj[k]]] = 0;
        }
        if (next == G_MAXUINT) {
            while (biggest_left < communities->len && placed[biggest_left])
                biggest_left++;
            next = biggest_left;
        }
        current = next;
    }

    for (guint c = 0; c < communities->len; c++)
        g_free(g_array_index(communities, Community, c).members);
    g_array_unref(communities);
    g_hash_table_unref(index);
    g_free(placed);
    g_free(links);
    g_free(seen);
    g_free(pos);
    g_free(community_of);
    g_free(label);
    return order;
}

void tg_ring_place(TgView *view)
{
    guint n = view->nodes->len;
    Adjacency g = adjacency_new(view);
    guint *order = ring_order(view, &g);
    guint64 max_bytes = 1;
    double circumference = 0, along = 0;
    double line = LABEL_FONT_SIZE * 1.3;

    for (guint i = 0; i < n; i++)
        max_bytes = MAX(max_bytes, NODE(view, i)->bytes);
    for (guint i = 0; i < n; i++) {
        TgNode *node = NODE(view, i);
        node->size = MIN_NODE_SIZE + (MAX_NODE_SIZE - MIN_NODE_SIZE) *
                     log1p((double)node->bytes) / log1p((double)max_bytes);
        circumference += MAX(node->size, line) + SLOT_GAP;
    }
    view->radius = MAX(circumference / (2 * G_PI), 5 * MAX_NODE_SIZE);

    /* clockwise from the top */
    for (guint k = 0; k < n; k++) {
        TgNode *node = NODE(view, order[k]);
        double slot = MAX(node->size, line) + SLOT_GAP;
        double angle = G_PI / 2 - 2 * G_PI * (along + slot / 2) / circumference;
        node->x = view->radius * cos(angle);
        node->y = view->radius * sin(angle);
        along += slot;
    }
    g_free(order);
    adjacency_free(&g);
}
