/* hostgraph.h — the conversation graph written by trafan, and the picture
 * trafan-graph draws of it.
 *
 * The pipeline is: tg_input_load() reads the cgraph graph into plain arrays,
 * tg_view_new() selects and folds what will be drawn, tg_ring_place() puts
 * the drawn hosts on a ring, and tg_draw() builds the Graphviz graph that
 * gvc renders with its no-op layout.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef TRAFAN_HOSTGRAPH_H
#define TRAFAN_HOSTGRAPH_H

#include <glib.h>
#include <graphviz/cgraph.h>

G_BEGIN_DECLS

#define TG_ERROR (tg_error_quark())
typedef enum {
    TG_ERROR_INPUT,             /* the input cannot be drawn */
    TG_ERROR_FOCUS,             /* --focus names no host */
} TgError;
GQuark tg_error_quark(void);

typedef enum { TG_ROLE_NONE, TG_ROLE_SOURCE, TG_ROLE_TARGET } TgRole;

/* How close a host is to a flagged one, least first: it orders priorities. */
typedef enum {
    TG_MARK_PLAIN,
    TG_MARK_TWO_HOPS,
    TG_MARK_NEIGHBOUR,
    TG_MARK_TARGET,
    TG_MARK_SOURCE,
} TgMark;

typedef struct {
    char   *name;
    int     family;             /* 4, 6, or 0 when unknown */
    guint64 packets, bytes;
    guint64 tx_packets, tx_bytes, rx_packets, rx_bytes;
    guint64 aggregated;         /* hosts trafan folded into this pseudo-host */
    gboolean flagged;
    TgRole  role;
    char   *rule;               /* rules that flagged it, or NULL */
    GArray *convs;              /* guint: its conversations, in input order */
    TgMark  mark;               /* filled by tg_input_load */
} TgHost;

typedef struct {
    guint   a, b;               /* host indices; a sent a_to_b */
    guint64 a_to_b_packets, a_to_b_bytes;
    guint64 b_to_a_packets, b_to_a_bytes;
    guint64 packets, bytes;
    char   *protocol;           /* main protocol, or NULL */
    char   *protocols;          /* "tls:10,dns:3", or NULL */
    char   *flag;               /* rule naming this conversation, or NULL */
    guint   merged;             /* input edges folded into this one (multi-edges) */
} TgConv;

typedef struct {
    GArray *hosts;              /* TgHost */
    GArray *convs;              /* TgConv */
    GHashTable *by_name;        /* name -> index + 1 */

    /* graph attributes */
    char   *capture, *rules, *filter;
    guint64 packets, bytes;
    double  first_time, duration;
    gboolean has_first_time;
    guint64 hosts_aggregated;   /* folded by trafan past its host cap */
} TgInput;

TgInput *tg_input_load(Agraph_t *g, GError **error);
void     tg_input_free(TgInput *in);
guint    tg_input_find(const TgInput *in, const char *name); /* G_MAXUINT: none */

typedef enum { TG_LABEL_ADDRESS, TG_LABEL_PACKETS, TG_LABEL_BYTES } TgLabels;

typedef struct {
    guint       max_nodes;      /* 0: no limit */
    const char *focus;          /* host name, or NULL */
    TgLabels    labels;
    const char *title;          /* NULL: a default from the capture name */
} TgOptions;

#define TG_NONE G_MAXUINT

typedef struct {
    char   *label;              /* address, or "other 10.0.0.0/24" */
    guint   host;               /* input host, TG_NONE for a fold */
    guint   folded;             /* hosts in a fold (0 for a host) */
    guint64 packets, bytes;
    TgMark  mark;
    int     family;
    double  x, y, size;         /* filled by tg_ring_place, points */
} TgNode;

typedef struct {
    guint   a, b;               /* node indices */
    guint64 packets, bytes;
    const char *protocol;       /* of the biggest conversation folded in */
    const char *flag;
    guint   convs;              /* input conversations drawn by this edge */
} TgEdge;

typedef struct {
    const TgInput *in;
    TgOptions opts;
    GArray *nodes;              /* TgNode */
    GArray *edges;              /* TgEdge */
    guint   focus_node;         /* TG_NONE without --focus */
    guint   hosts_in_scope;     /* hosts considered (the focus neighbourhood) */
    guint   hosts_folded;       /* of those, folded into "other" nodes */
    guint   folds;
    const char *fold_prefix;    /* "/24 and /64", ... */
    guint   convs_hidden;       /* conversations inside a fold */
    double  radius;             /* of the ring, points */
} TgView;

TgView *tg_view_new(const TgInput *in, const TgOptions *opts, GError **error);
void    tg_view_free(TgView *view);

/* Order the nodes around a ring and give them positions. */
void tg_ring_place(TgView *view);

/* The graph to render.  `ring` pins positions and edge routes for the
 * "nop2" engine; otherwise the graph is left to another layout engine. */
Agraph_t *tg_draw(const TgView *view, gboolean ring);

/* A protocol's colour in every picture: its own for well-known protocols,
 * else the next of a few spare colours (*spare counts those given), then grey. */
const char *tg_protocol_colour(const char *protocol, guint *spare);

/* Text helpers, exported for the tests. */
char *tg_markup_escape(const char *text, gsize max_chars);
char *tg_label_escape(const char *text, gsize max_chars);
char *tg_format_bytes(guint64 bytes);
char *tg_format_count(guint64 count);

G_END_DECLS

#endif
