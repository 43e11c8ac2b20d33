/* draw.c — the Graphviz graph of a view: styled hosts and conversations,
 * with the legend (and the --focus table) as an HTML-like label.
 *
 * In ring mode every node carries pos and xlp and every edge pos, so that
 * the "nop2" engine only routes nothing and renders.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "hostgraph.h"

#include <math.h>
#include <string.h>
#include <time.h>

#define NODE(view, i) (&g_array_index((view)->nodes, TgNode, (i)))
#define EDGE(view, i) (&g_array_index((view)->edges, TgEdge, (i)))

#define FONT          "Helvetica"
#define LABEL_SIZE    10.0
#define CHAR_WIDTH    0.6       /* of the font size: a generous Helvetica average */
#define MAX_LABEL     40        /* characters of an address drawn on the ring */
#define MAX_LEGEND    90        /* characters of one legend line */
#define FOCUS_ROWS    40

#define FLAG_EDGE_COLOUR "#d7191c"

static const struct {
    TgMark mark;
    const char *fill, *border, *class, *meaning;
} mark_style[] = {
    [TG_MARK_SOURCE]    = {TG_MARK_SOURCE, "#d7191c", "#67000d", "source", "flagged source (attacker)"},
    [TG_MARK_TARGET]    = {TG_MARK_TARGET, "#fd8d3c", "#7f2704", "target", "flagged target (victim)"},
    [TG_MARK_NEIGHBOUR] = {TG_MARK_NEIGHBOUR, "#fed976", "#8c6d00", "neighbour",
                           "talked to a flagged host"},
    [TG_MARK_TWO_HOPS]  = {TG_MARK_TWO_HOPS, "#fff5d1", "#b3a36b", "twohop",
                           "two hops from a flagged host"},
    [TG_MARK_PLAIN]     = {TG_MARK_PLAIN, "#c6dbef", "#4a6d8c", "plain", "other host"},
};
#define FOLD_FILL   "#eeeeee"
#define FOLD_BORDER "#737373"
#define FOCUS_BORDER "#08306b"

static const struct {
    const char *protocol, *colour;
} known_protocols[] = {
    {"tls", "#1f78b4"},  {"ssl", "#1f78b4"},   {"https", "#1f78b4"}, {"quic", "#6baed6"},
    {"http", "#33a02c"}, {"http2", "#33a02c"}, {"dns", "#6a3d9a"},   {"mdns", "#9e9ac8"},
    {"tcp", "#636363"},  {"udp", "#17becf"},   {"icmp", "#b15928"},  {"icmpv6", "#b15928"},
    {"ssh", "#8c510a"},  {"smb", "#e7298a"},   {"smb2", "#e7298a"},  {"ntp", "#74c476"},
    {"dhcp", "#bcbd22"}, {"arp", "#969696"},
};
static const char *const spare_colours[] = {"#66c2a5", "#8da0cb", "#a6d854", "#e5c494",
                                            "#b3de69", "#80b1d3"};
static const char OTHER_PROTOCOL_COLOUR[] = "#bdbdbd";

const char *tg_protocol_colour(const char *protocol, guint *spare)
{
    for (guint k = 0; k < G_N_ELEMENTS(known_protocols); k++)
        if (g_ascii_strcasecmp(protocol, known_protocols[k].protocol) == 0)
            return known_protocols[k].colour;
    if (*spare < G_N_ELEMENTS(spare_colours))
        return spare_colours[(*spare)++];
    return OTHER_PROTOCOL_COLOUR;
}

/* ---- text ---- */

/* Valid UTF-8 without control characters, at most max_chars long. */
static char *text_clean(const char *text, gsize max_chars)
{
    char *valid = g_utf8_make_valid(text ? text : "", -1);
    GString *out = g_string_new(NULL);
    gsize chars = 0;

    for (const char *p = valid; *p; p = g_utf8_next_char(p)) {
        gunichar c = g_utf8_get_char(p);
        if (max_chars && chars == max_chars) {
            g_string_append(out, "\u2026");
            break;
        }
        if (c < 0x20 || (c >= 0x7f && c < 0xa0) || c == 0xfffe || c == 0xffff)
            g_string_append_c(out, '?');
        else
            g_string_append_unichar(out, c);
        chars++;
    }
    g_free(valid);
    return g_string_free(out, FALSE);
}

/* For HTML-like labels: Graphviz does not escape their text for us. */
char *tg_markup_escape(const char *text, gsize max_chars)
{
    char *clean = text_clean(text, max_chars);
    GString *out = g_string_sized_new(strlen(clean));

    for (const char *p = clean; *p; p++) {
        switch (*p) {
        case '&': g_string_append(out, "&amp;"); break;
        case '<': g_string_append(out, "&lt;"); break;
        case '>': g_string_append(out, "&gt;"); break;
        case '"': g_string_append(out, "&quot;"); break;
        default: g_string_append_c(out, *p);
        }
    }
    g_free(clean);
    return g_string_free(out, FALSE);
}

/* For plain labels: a backslash would start an escape such as \N, and an
 * ampersand an entity that Graphviz would decode. */
char *tg_label_escape(const char *text, gsize max_chars)
{
    char *clean = text_clean(text, max_chars);
    GString *out = g_string_sized_new(strlen(clean));

    for (const char *p = clean; *p; p++) {
        if (*p == '\\')
            g_string_append(out, "\\\\");
        else if (*p == '&')
            g_string_append(out, "&amp;");
        else
            g_string_append_c(out, *p);
    }
    g_free(clean);
    return g_string_free(out, FALSE);
}

static char *tooltip_escape(const char *text, gsize max_chars)
{
    char *clean = text_clean(text, max_chars);
    char **parts = g_strsplit(clean, "\\", -1);
    char *out = g_strjoinv("\\\\", parts);
    g_strfreev(parts);
    g_free(clean);
    return out;
}

char *tg_format_count(guint64 count)
{
    char *digits = g_strdup_printf("%" G_GUINT64_FORMAT, count);
    GString *out = g_string_new(NULL);
    gsize len = strlen(digits);

    for (gsize i = 0; i < len; i++) {
        if (i && (len - i) % 3 == 0)
            g_string_append_c(out, ',');
        g_string_append_c(out, digits[i]);
    }
    g_free(digits);
    return g_string_free(out, FALSE);
}

char *tg_format_bytes(guint64 bytes)
{
    static const char *const units[] = {"B", "kB", "MB", "GB", "TB", "PB", "EB"};
    double value = (double)bytes;
    guint unit = 0;

    if (bytes < 1000)
        return g_strdup_printf("%" G_GUINT64_FORMAT " B", bytes);
    while (value >= 999.95 && unit + 1 < G_N_ELEMENTS(units)) {
        value /= 1000;
        unit++;
    }
    return g_strdup_printf("%.1f %s", value, units[unit]);
}

static char *format_duration(double seconds)
{
    if (seconds < 120)
        return g_strdup_printf("%.3f s", seconds);
    if (seconds < 7200)
        return g_strdup_printf("%.0f min %.0f s", floor(seconds / 60), fmod(seconds, 60));
    return g_strdup_printf("%.0f h %.0f min", floor(seconds / 3600), fmod(seconds, 3600) / 60);
}

/* ---- attributes ---- */

static Agsym_t *declare(Agraph_t *g, int kind, const char *name, const char *def)
{
    return agattr(g, kind, (char *)name, (char *)def);
}

static void set(void *obj, Agsym_t *sym, const char *value)
{
    agxset(obj, sym, (char *)value);
}

static void set_html(Agraph_t *g, void *obj, Agsym_t *sym, const char *html)
{
    /* agxset keeps an HTML-like string as such when given its own copy */
    agxset(obj, sym, agstrdup_html(g, (char *)html));
}

static void set_point(void *obj, Agsym_t *sym, double x, double y, const char *suffix)
{
    char buf[96];
    g_snprintf(buf, sizeof buf, "%.2f,%.2f%s", x, y, suffix);
    set(obj, sym, buf);
}

static double log_scale(guint64 value, guint64 max)
{
    return max ? log1p((double)value) / log1p((double)max) : 0;
}

/* ---- protocols ---- */

typedef struct {
    const char *name;           /* NULL: conversations without a protocol */
    guint64 bytes;
    const char *colour;
} ProtocolUse;

static gint protocol_compare(gconstpointer pa, gconstpointer pb)
{
    const ProtocolUse *a = pa, *b = pb;
    if (a->bytes != b->bytes)
        return a->bytes > b->bytes ? -1 : 1;
    return g_strcmp0(a->name, b->name);
}

/* The protocols drawn, biggest first, each with its colour. */
static GArray *protocol_uses(const TgView *view)
{
    GArray *uses = g_array_new(FALSE, FALSE, sizeof(ProtocolUse));
    GHashTable *index = g_hash_table_new(g_str_hash, g_str_equal);
    guint spare = 0;

    for (guint i = 0; i < view->edges->len; i++) {
        const TgEdge *e = EDGE(view, i);
        const char *name = e->protocol ? e->protocol : "";
        gpointer found = g_hash_table_lookup(index, name);
        if (!found) {
            ProtocolUse use = {e->protocol, 0, NULL};
            g_array_append_val(uses, use);
            found = GUINT_TO_POINTER(uses->len);
            g_hash_table_insert(index, (gpointer)name, found);
        }
        g_array_index(uses, ProtocolUse, GPOINTER_TO_UINT(found) - 1).bytes += e->bytes;
    }
    g_array_sort(uses, protocol_compare);
    for (guint i = 0; i < uses->len; i++) {
        ProtocolUse *use = &g_array_index(uses, ProtocolUse, i);
        use->colour = use->name ? tg_protocol_colour(use->name, &spare) : OTHER_PROTOCOL_COLOUR;
    }
    g_hash_table_unref(index);
    return uses;
}

static const char *protocol_colour(const GArray *uses, const char *protocol)
{
    for (guint i = 0; i < uses->len; i++) {
        const ProtocolUse *use = &g_array_index(uses, ProtocolUse, i);
        if (g_strcmp0(use->name, protocol) == 0)
            return use->colour;
    }
    return OTHER_PROTOCOL_COLOUR;
}

/* Characters of UTF-8 text, counted up to max (enough to size a column). */
static gsize
chars_upto(const char *text, gsize max)
{
    return MIN((gsize)g_utf8_strlen(text, -1), max);
}

/* ---- legend ---- */

typedef struct {
    GString *html;
    gsize widest;               /* characters of the widest line, for placing */
    guint rows;
    double font;                /* size, points */
} Legend;

static void legend_heading(Legend *lg, const char *text)
{
    g_string_append_printf(lg->html,
                           "<TR><TD COLSPAN=\"2\" ALIGN=\"LEFT\"><B>%s</B></TD></TR>", text);
    lg->widest = MAX(lg->widest, strlen(text));
    lg->rows++;
}

/* One line of text, escaped here. */
static void legend_line(Legend *lg, const char *text)
{
    char *escaped = tg_markup_escape(text, MAX_LEGEND);
    g_string_append_printf(lg->html,
                           "<TR><TD COLSPAN=\"2\" ALIGN=\"LEFT\">%s</TD></TR>", escaped);
    lg->widest = MAX(lg->widest, chars_upto(text, MAX_LEGEND + 1));
    lg->rows++;
    g_free(escaped);
}

/* A colour swatch and its meaning; a thin swatch for a line colour. */
static void legend_swatch(Legend *lg, const char *fill, const char *border, gboolean line,
                          const char *text)
{
    char *escaped = tg_markup_escape(text, MAX_LEGEND);
    g_string_append_printf(lg->html,
                           "<TR><TD FIXEDSIZE=\"TRUE\" WIDTH=\"%d\" HEIGHT=\"%d\" BGCOLOR=\"%s\" "
                           "COLOR=\"%s\" BORDER=\"%d\"></TD><TD ALIGN=\"LEFT\">%s</TD></TR>",
                           (int)(1.8 * lg->font), (int)(line ? 0.4 * lg->font : 1.2 * lg->font),
                           fill, border, line ? 0 : 1, escaped);
    lg->widest = MAX(lg->widest, 4 + chars_upto(text, MAX_LEGEND + 1));
    lg->rows++;
    g_free(escaped);
}

static void legend_capture(Legend *lg, const TgInput *in)
{
    legend_heading(lg, "Capture");
    if (in->capture)
        legend_line(lg, in->capture);
    if (in->has_first_time && in->first_time > 0 && in->first_time < 1e11) {
        char when[64];
        time_t t = (time_t)in->first_time;
        struct tm tm;
        char *span = format_duration(in->duration), *line;
        gmtime_r(&t, &tm);
        strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S UTC", &tm);
        line = g_strdup_printf("from %s, for %s", when, span);
        legend_line(lg, line);
        g_free(line);
        g_free(span);
    } else if (in->duration > 0) {
        char *span = format_duration(in->duration), *line = g_strdup_printf("lasting %s", span);
        legend_line(lg, line);
        g_free(line);
        g_free(span);
    }
    if (in->filter) {
        char *line = g_strdup_printf("filter: %s", in->filter);
        legend_line(lg, line);
        g_free(line);
    }

    char *packets = tg_format_count(in->packets), *bytes = tg_format_bytes(in->bytes);
    char *hosts = tg_format_count(in->hosts->len), *convs = tg_format_count(in->convs->len);
    char *line = g_strdup_printf("%s packets, %s", packets, bytes);
    legend_line(lg, line);
    g_free(line);
    line = g_strdup_printf("%s hosts, %s conversations", hosts, convs);
    legend_line(lg, line);
    g_free(line);
    if (in->hosts_aggregated) {
        char *agg = tg_format_count(in->hosts_aggregated);
        line = g_strdup_printf("%s hosts past the capture's host cap are counted in \"other\"", agg);
        legend_line(lg, line);
        g_free(line);
        g_free(agg);
    }
    g_free(packets);
    g_free(bytes);
    g_free(hosts);
    g_free(convs);
}

static void legend_rules(Legend *lg, const TgInput *in)
{
    guint fired = 0;

    legend_heading(lg, "Rules fired");
    char **rules = g_strsplit(in->rules ? in->rules : "", ";", -1);
    for (char **r = rules; *r; r++) {
        char *rule = g_strstrip(*r);
        if (*rule) {
            legend_line(lg, rule);
            fired++;
        }
    }
    g_strfreev(rules);
    if (!fired)
        legend_line(lg, "none");
}

static void legend_shown(Legend *lg, const TgView *view)
{
    char *line, *a, *b;

    legend_heading(lg, "Shown");
    if (view->focus_node != TG_NONE) {
        a = tg_format_count(view->hosts_in_scope);
        line = g_strdup_printf("neighbourhood of %s within 2 hops: %s hosts",
                               NODE(view, view->focus_node)->label, a);
        legend_line(lg, line);
        g_free(line);
        g_free(a);
    }
    a = tg_format_count(view->nodes->len - view->folds);
    b = tg_format_count(view->edges->len);
    line = g_strdup_printf("%s hosts, %s links", a, b);
    legend_line(lg, line);
    g_free(line);
    g_free(a);
    g_free(b);
    if (view->folds) {
        a = tg_format_count(view->hosts_folded);
        line = g_strdup_printf("%s hosts folded into %u \"other\" nodes by %s", a, view->folds,
                               view->fold_prefix);
        legend_line(lg, line);
        g_free(line);
        g_free(a);
        line = g_strdup_printf("(kept: flagged hosts, their neighbours, top %u talkers)",
                               view->opts.max_nodes);
        legend_line(lg, line);
        g_free(line);
    }
    if (view->convs_hidden) {
        a = tg_format_count(view->convs_hidden);
        line = g_strdup_printf("%s conversations inside \"other\" nodes not drawn", a);
        legend_line(lg, line);
        g_free(line);
        g_free(a);
    }
}

static void legend_colours(Legend *lg, const TgView *view, const GArray *uses)
{
    static const TgMark order[] = {TG_MARK_SOURCE, TG_MARK_TARGET, TG_MARK_NEIGHBOUR,
                                   TG_MARK_TWO_HOPS, TG_MARK_PLAIN};
    gboolean any_flag = FALSE;

    legend_heading(lg, "Hosts (size: bytes, log scale)");
    for (guint i = 0; i < G_N_ELEMENTS(order); i++)
        legend_swatch(lg, mark_style[order[i]].fill, mark_style[order[i]].border, FALSE,
                      mark_style[order[i]].meaning);
    if (view->folds)
        legend_swatch(lg, FOLD_FILL, FOLD_BORDER, FALSE, "other: hosts folded by subnet");
    if (view->focus_node != TG_NONE)
        legend_swatch(lg, "#ffffff", FOCUS_BORDER, FALSE, "focus host (thick outline)");

    legend_heading(lg, "Conversations (width: bytes, log scale)");
    for (guint i = 0; i < uses->len; i++) {
        const ProtocolUse *use = &g_array_index(uses, ProtocolUse, i);
        if (use->colour == OTHER_PROTOCOL_COLOUR)
            continue;
        legend_swatch(lg, use->colour, use->colour, TRUE, use->name);
    }
    legend_swatch(lg, OTHER_PROTOCOL_COLOUR, OTHER_PROTOCOL_COLOUR, TRUE,
                  "other or unknown protocol");
    for (guint i = 0; i < view->edges->len; i++)
        any_flag |= EDGE(view, i)->flag != NULL;
    if (any_flag)
        legend_swatch(lg, FLAG_EDGE_COLOUR, FLAG_EDGE_COLOUR, TRUE, "conversation named by a flag");
}

/* The focus host's conversations, biggest first. */
static gint conv_bytes_compare(gconstpointer pa, gconstpointer pb, gpointer data)
{
    const TgInput *in = data;
    const TgConv *a = &g_array_index(in->convs, TgConv, *(const guint *)pa);
    const TgConv *b = &g_array_index(in->convs, TgConv, *(const guint *)pb);
    if (a->bytes != b->bytes)
        return a->bytes > b->bytes ? -1 : 1;
    return *(const guint *)pa < *(const guint *)pb ? -1 : 1;
}

static gsize focus_table(GString *html, const TgView *view)
{
    const TgInput *in = view->in;
    const TgNode *focus = NODE(view, view->focus_node);
    const TgHost *host = &g_array_index(in->hosts, TgHost, focus->host);
    GArray *convs = g_array_copy(host->convs);
    gsize widest[5] = {4, 3, 7, 5, 9};
    char *name = tg_markup_escape(host->name, MAX_LABEL);

    g_array_sort_with_data(convs, conv_bytes_compare, (gpointer)in);
    g_string_append_printf(html,
                           "<TR><TD COLSPAN=\"2\" ALIGN=\"LEFT\"><B>Conversations of %s</B></TD></TR>"
                           "<TR><TD COLSPAN=\"2\" ALIGN=\"LEFT\">"
                           "<TABLE BORDER=\"0\" CELLBORDER=\"1\" CELLSPACING=\"0\" CELLPADDING=\"3\" "
                           "COLOR=\"#bdbdbd\">"
                           "<TR><TD ALIGN=\"LEFT\"><B>peer</B></TD><TD><B>dir</B></TD>"
                           "<TD ALIGN=\"RIGHT\"><B>packets</B></TD><TD ALIGN=\"RIGHT\"><B>bytes</B></TD>"
                           "<TD ALIGN=\"LEFT\"><B>protocols</B></TD></TR>",
                           name);
    g_free(name);
    for (guint i = 0; i < convs->len && i < FOCUS_ROWS; i++) {
        guint ci = g_array_index(convs, guint, i);
        const TgConv *c = &g_array_index(in->convs, TgConv, ci);
        gboolean is_a = c->a == focus->host;
        guint64 sent = is_a ? c->a_to_b_packets : c->b_to_a_packets;
        guint64 received = is_a ? c->b_to_a_packets : c->a_to_b_packets;
        const char *dir = c->a == c->b ? "self" : received == 0 && sent ? "\u2192"
                          : sent == 0 && received ? "\u2190" : "\u2194";
        const TgHost *peer = &g_array_index(in->hosts, TgHost, is_a ? c->b : c->a);
        char *peer_name = tg_markup_escape(peer->name, MAX_LABEL);
        char *packets = tg_format_count(c->packets), *bytes = tg_format_bytes(c->bytes);
        const char *protocols = c->protocols ? c->protocols : c->protocol ? c->protocol : "";
        char *protos = tg_markup_escape(protocols, 48);
        g_string_append_printf(html,
                               "<TR><TD ALIGN=\"LEFT\">%s</TD><TD>%s</TD><TD ALIGN=\"RIGHT\">%s</TD>"
                               "<TD ALIGN=\"RIGHT\">%s</TD><TD ALIGN=\"LEFT\">%s</TD></TR>",
                               peer_name, dir, packets, bytes, protos);
        widest[0] = MAX(widest[0], chars_upto(peer->name, MAX_LABEL + 1));
        widest[2] = MAX(widest[2], strlen(packets));
        widest[3] = MAX(widest[3], strlen(bytes));
        widest[4] = MAX(widest[4], chars_upto(protocols, 49));
        g_free(peer_name);
        g_free(packets);
        g_free(bytes);
        g_free(protos);
    }
    if (convs->len > FOCUS_ROWS)
        g_string_append_printf(html, "<TR><TD COLSPAN=\"5\" ALIGN=\"LEFT\">\u2026 and %u more</TD></TR>",
                               convs->len - FOCUS_ROWS);
    g_string_append(html, "</TABLE></TD></TR>");
    g_array_unref(convs);
    /* cells add padding: count it as characters */
    return widest[0] + widest[1] + widest[2] + widest[3] + widest[4] + 10;
}

/* The legend's HTML; *width_pt is an upper estimate of its width. */
static char *legend_html(const TgView *view, const GArray *uses, double font, double *width_pt)
{
    Legend lg = {g_string_new(NULL), 0, 0, font};

    g_string_append(lg.html, "<TABLE BORDER=\"1\" COLOR=\"#969696\" CELLBORDER=\"0\" "
                             "CELLSPACING=\"2\" CELLPADDING=\"2\" BGCOLOR=\"#ffffff\">");
    legend_capture(&lg, view->in);
    legend_rules(&lg, view->in);
    legend_shown(&lg, view);
    legend_colours(&lg, view, uses);
    if (view->focus_node != TG_NONE && NODE(view, view->focus_node)->host != TG_NONE) {
        gsize table = focus_table(lg.html, view);
        lg.widest = MAX(lg.widest, table);
    }
    g_string_append(lg.html, "</TABLE>");
    *width_pt = (lg.widest * CHAR_WIDTH + 3) * font;
    return g_string_free(lg.html, FALSE);
}

/* ---- hosts and conversations ---- */

typedef struct {
    Agsym_t *label, *xlabel, *xlp, *pos, *size, *fill, *border, *style, *penwidth;
    Agsym_t *tooltip, *id, *class;
} NodeAttrs;

typedef struct {
    Agsym_t *pos, *colour, *penwidth, *tooltip, *class;
} EdgeAttrs;

/* The text drawn next to a node, with its line count and widest line. */
static char *node_label(const TgView *view, const TgNode *node, guint *lines, gsize *widest)
{
    const TgHost *host = node->host != TG_NONE ?
                         &g_array_index(view->in->hosts, TgHost, node->host) : NULL;
    GString *label = g_string_new(NULL);
    char *name = tg_label_escape(node->label, MAX_LABEL);
    char *extra = NULL;

    g_string_append(label, name);
    *widest = MIN(g_utf8_strlen(node->label, -1), MAX_LABEL + 1);
    *lines = 1;
    if (node->folded || (host && host->aggregated)) {
        char *count = tg_format_count(node->folded ? node->folded : host->aggregated);
        extra = g_strdup_printf("(%s host%s)", count,
                                (node->folded ? node->folded : host->aggregated) == 1 ? "" : "s");
        g_free(count);
    } else if (view->opts.labels == TG_LABEL_PACKETS) {
        char *count = tg_format_count(node->packets);
        extra = g_strdup_printf("%s pkts", count);
        g_free(count);
    } else if (view->opts.labels == TG_LABEL_BYTES) {
        extra = tg_format_bytes(node->bytes);
    }
    if (extra) {
        g_string_append_printf(label, "\\n%s", extra);
        *widest = MAX(*widest, strlen(extra));
        (*lines)++;
        g_free(extra);
    }
    g_free(name);
    return g_string_free(label, FALSE);
}

typedef struct {
    double w, h;                /* label size, points */
    double angle;
} LabelBox;

static void draw_node(Agnode_t *n, const TgView *view, guint i, const NodeAttrs *at,
                      gboolean ring, LabelBox *box)
{
    const TgNode *node = NODE(view, i);
    const TgHost *host = node->host != TG_NONE ?
                         &g_array_index(view->in->hosts, TgHost, node->host) : NULL;
    gboolean fold = node->folded || (host && host->aggregated);
    guint lines;
    gsize widest;
    char *label = node_label(view, node, &lines, &widest);
    char buf[160];

    set(n, ring ? at->xlabel : at->label, label);
    g_snprintf(buf, sizeof buf, "%.3f", node->size / 72.0);
    set(n, at->size, buf);
    set(n, at->fill, fold ? FOLD_FILL : mark_style[node->mark].fill);
    set(n, at->border, i == view->focus_node ? FOCUS_BORDER
                       : fold ? FOLD_BORDER : mark_style[node->mark].border);
    if (fold)
        set(n, at->style, "filled,dashed");
    if (i == view->focus_node)
        set(n, at->penwidth, "3");
    else if (node->mark >= TG_MARK_TARGET)
        set(n, at->penwidth, "1.5");
    g_snprintf(buf, sizeof buf, "%s%u", node->folded ? "fold" : "host", i);
    set(n, at->id, buf);
    g_snprintf(buf, sizeof buf, "%s%s%s", node->folded ? "fold" : "host ",
               node->folded ? "" : mark_style[node->mark].class,
               i == view->focus_node ? " focus" : "");
    set(n, at->class, buf);

    char *name = tooltip_escape(node->label, 200);
    char *packets = tg_format_count(node->packets), *bytes = tg_format_bytes(node->bytes);
    GString *tip = g_string_new(name);
    g_string_append_printf(tip, ": %s packets, %s", packets, bytes);
    if (host && host->rule) {
        char *rule = tooltip_escape(host->rule, 200);
        g_string_append_printf(tip, "; flagged: %s", rule);
        g_free(rule);
    }
    set(n, at->tooltip, tip->str);
    g_string_free(tip, TRUE);
    g_free(name);
    g_free(packets);
    g_free(bytes);

    if (ring)
        set_point(n, at->pos, node->x, node->y, "!");
    box->w = widest * LABEL_SIZE * CHAR_WIDTH;
    box->h = lines * LABEL_SIZE * 1.2;
    box->angle = atan2(node->y, node->x);
    g_free(label);
}

static gint angle_compare(gconstpointer pa, gconstpointer pb, gpointer data)
{
    const LabelBox *boxes = data;
    double a = boxes[*(const guint *)pa].angle, b = boxes[*(const guint *)pb].angle;
    return a < b ? -1 : a > b;
}

#define TIERS 6
#define LOOKBACK 16

/* Put each label outside the ring, its nearest corner towards its node.
 * Where the ring runs horizontally, labels side by side would overlap:
 * a label that hits one of the few before it moves out a tier.
 * Returns how far out labels reach. */
static double place_labels(const TgView *view, Agnode_t **nodes, LabelBox *boxes,
                           const NodeAttrs *at)
{
    guint n = view->nodes->len;
    guint *order = g_new(guint, n);
    double (*placed)[4] = g_malloc_n(n, sizeof *placed);   /* x0, y0, x1, y1 */
    double reach = 0;

    for (guint i = 0; i < n; i++)
        order[i] = i;
    g_qsort_with_data(order, n, sizeof(guint), angle_compare, boxes);
    for (guint k = 0; k < n; k++) {
        const TgNode *node = NODE(view, order[k]);
        const LabelBox *box = &boxes[order[k]];
        double ux = cos(box->angle), uy = sin(box->angle);
        double cx = 0, cy = 0, gap = 0;

        for (int tier = 0; tier < TIERS; tier++) {
            gboolean clear = TRUE;
            gap = node->size / 2 + 4 + tier * (box->h + 2) * fabs(uy);
            cx = node->x + ux * (gap + box->w / 2);
            cy = node->y + uy * (gap + box->h / 2);
            placed[k][0] = cx - box->w / 2;
            placed[k][1] = cy - box->h / 2;
            placed[k][2] = cx + box->w / 2;
            placed[k][3] = cy + box->h / 2;
            for (guint back = 1; back <= LOOKBACK && back <= k && clear; back++) {
                const double *o = placed[k - back];
                clear = placed[k][2] <= o[0] || o[2] <= placed[k][0] ||
                        placed[k][3] <= o[1] || o[3] <= placed[k][1];
            }
            if (clear)
                break;
        }
        set_point(nodes[order[k]], at->xlp, cx, cy, "");
        reach = MAX(reach, gap + hypot(box->w, box->h));
    }
    g_free(placed);
    g_free(order);
    return reach;
}

static void draw_edge(Agedge_t *e, const TgView *view, const TgEdge *edge, guint64 max_bytes,
                      const GArray *uses, const EdgeAttrs *at, gboolean ring)
{
    const TgNode *a = NODE(view, edge->a), *b = NODE(view, edge->b);
    char buf[256];
    double width = 0.5 + 4.0 * log_scale(edge->bytes, max_bytes);

    if (edge->flag) {
        set(e, at->colour, FLAG_EDGE_COLOUR);
        width += 1.5;
        set(e, at->class, "conversation flagged");
    } else if (a->folded || b->folded) {
        /* links to folds are many and say little: keep them faint */
        set(e, at->colour, "#9e9e9e50");
    } else {
        /* translucent, so that crossings stay readable */
        g_snprintf(buf, sizeof buf, "%sb0", protocol_colour(uses, edge->protocol));
        set(e, at->colour, buf);
    }
    g_snprintf(buf, sizeof buf, "%.2f", width);
    set(e, at->penwidth, buf);

    char *an = tooltip_escape(a->label, 100), *bn = tooltip_escape(b->label, 100);
    char *packets = tg_format_count(edge->packets), *bytes = tg_format_bytes(edge->bytes);
    char *proto = tooltip_escape(edge->protocol ? edge->protocol : "?", 40);
    char *flag = edge->flag ? tooltip_escape(edge->flag, 100) : NULL;
    char *tip = g_strdup_printf("%s -- %s: %s packets, %s, %s%s%s", an, bn, packets, bytes, proto,
                                flag ? "; flagged: " : "", flag ? flag : "");
    set(e, at->tooltip, tip);
    g_free(tip);
    g_free(an);
    g_free(bn);
    g_free(packets);
    g_free(bytes);
    g_free(proto);
    g_free(flag);

    if (!ring)
        return;
    if (edge->a == edge->b) {
        /* a loop into the ring, so it stays clear of the label */
        double r = hypot(a->x, a->y), ux = r > 0 ? a->x / r : 0, uy = r > 0 ? a->y / r : 1;
        double reach = a->size + 14, spread = 0.5;
        double c1x = a->x - reach * (ux * cos(spread) - uy * sin(spread));
        double c1y = a->y - reach * (uy * cos(spread) + ux * sin(spread));
        double c2x = a->x - reach * (ux * cos(spread) + uy * sin(spread));
        double c2y = a->y - reach * (uy * cos(spread) - ux * sin(spread));
        g_snprintf(buf, sizeof buf, "%.2f,%.2f %.2f,%.2f %.2f,%.2f %.2f,%.2f",
                   a->x, a->y, c1x, c1y, c2x, c2y, a->x, a->y);
    } else {
        /* a chord bent towards the centre, more for longer chords */
        double chord = hypot(a->x - b->x, a->y - b->y);
        double pull = view->radius > 0 ? 1 - 0.55 * MIN(chord / (2 * view->radius), 1) : 1;
        g_snprintf(buf, sizeof buf, "%.2f,%.2f %.2f,%.2f %.2f,%.2f %.2f,%.2f",
                   a->x, a->y, a->x * pull, a->y * pull, b->x * pull, b->y * pull, b->x, b->y);
    }
    set(e, at->pos, buf);
}

Agraph_t *tg_draw(const TgView *view, gboolean ring)
{
    Agraph_t *g = agopen((char *)"trafan", Agundirected, NULL);
    GArray *uses = protocol_uses(view);
    guint64 max_bytes = 0;
    double label_reach = 0, legend_width;
    LabelBox *boxes = g_new(LabelBox, view->nodes->len);
    Agnode_t **nodes = g_new(Agnode_t *, view->nodes->len);
    char name[32];

    /* graph */
    const char *title = view->opts.title;
    char *default_title = NULL;
    if (!title)
        title = default_title = view->in->capture
            ? g_strdup_printf("trafan: %s", view->in->capture) : g_strdup("trafan: conversation graph");
    char *title_label = tg_label_escape(title, 120);
    declare(g, AGRAPH, "label", title_label);
    declare(g, AGRAPH, "labelloc", "t");
    declare(g, AGRAPH, "fontname", FONT);
    g_snprintf(name, sizeof name, "%.1f", ring ? CLAMP(view->radius / 25, 18, 44) : 18);
    declare(g, AGRAPH, "fontsize", name);
    declare(g, AGRAPH, "bgcolor", "white");
    declare(g, AGRAPH, "pad", "0.3");
    declare(g, AGRAPH, "outputorder", "edgesfirst");
    declare(g, AGRAPH, "notranslate", "true");
    declare(g, AGRAPH, "forcelabels", "true");
    if (!ring) {
        declare(g, AGRAPH, "overlap", "false");
        declare(g, AGRAPH, "splines", "true");
        if (view->focus_node != TG_NONE) {
            g_snprintf(name, sizeof name, "n%u", view->focus_node);
            declare(g, AGRAPH, "root", name);
        }
    }
    g_free(title_label);
    g_free(default_title);

    /* hosts */
    NodeAttrs na = {
        .label = declare(g, AGNODE, "label", ""),
        .xlabel = declare(g, AGNODE, "xlabel", ""),
        .xlp = ring ? declare(g, AGNODE, "xlp", "") : NULL,
        .pos = ring ? declare(g, AGNODE, "pos", "") : NULL,
        .size = declare(g, AGNODE, "width", "0.1"),
        .fill = declare(g, AGNODE, "fillcolor", mark_style[TG_MARK_PLAIN].fill),
        .border = declare(g, AGNODE, "color", mark_style[TG_MARK_PLAIN].border),
        .style = declare(g, AGNODE, "style", "filled"),
        .penwidth = declare(g, AGNODE, "penwidth", "0.8"),
        .tooltip = declare(g, AGNODE, "tooltip", ""),
        .id = declare(g, AGNODE, "id", ""),
        .class = declare(g, AGNODE, "class", ""),
    };
    declare(g, AGNODE, "shape", "circle");
    declare(g, AGNODE, "fixedsize", "true");
    declare(g, AGNODE, "fontname", FONT);
    declare(g, AGNODE, "fontsize", "10");
    declare(g, AGNODE, "height", "0.1");
    Agsym_t *height = agattr(g, AGNODE, (char *)"height", NULL);
    for (guint i = 0; i < view->nodes->len; i++) {
        char size[32];
        g_snprintf(name, sizeof name, "n%u", i);
        nodes[i] = agnode(g, name, TRUE);
        draw_node(nodes[i], view, i, &na, ring, &boxes[i]);
        g_snprintf(size, sizeof size, "%.3f", NODE(view, i)->size / 72.0);
        set(nodes[i], height, size);
    }

    if (ring)
        label_reach = place_labels(view, nodes, boxes, &na);
    g_free(boxes);

    /* conversations */
    EdgeAttrs ea = {
        .pos = ring ? declare(g, AGEDGE, "pos", "") : NULL,
        .colour = declare(g, AGEDGE, "color", OTHER_PROTOCOL_COLOUR),
        .penwidth = declare(g, AGEDGE, "penwidth", "1"),
        .tooltip = declare(g, AGEDGE, "tooltip", ""),
        .class = declare(g, AGEDGE, "class", "conversation"),
    };
    for (guint i = 0; i < view->edges->len; i++)
        max_bytes = MAX(max_bytes, EDGE(view, i)->bytes);
    for (guint i = 0; i < view->edges->len; i++) {
        const TgEdge *edge = EDGE(view, i);
        Agedge_t *e = agedge(g, nodes[edge->a], nodes[edge->b], NULL, TRUE);
        draw_edge(e, view, edge, max_bytes, uses, &ea, ring);
    }

    /* legend, right of the ring */
    /* big rings get shrunk to fit a page: keep the legend readable */
    double legend_font = ring ? CLAMP(view->radius / 40, 10, 28) : 10;
    char *html = legend_html(view, uses, legend_font, &legend_width);
    Agnode_t *legend = agnode(g, (char *)"legend", TRUE);
    set(legend, na.id, "legend");
    set(legend, na.class, "legend");
    set(legend, na.style, "solid");
    set(legend, na.penwidth, "0");
    set(legend, na.tooltip, "legend");
    agsafeset(legend, (char *)"shape", (char *)"plaintext", (char *)"circle");
    agsafeset(legend, (char *)"fixedsize", (char *)"false", (char *)"true");
    agsafeset(legend, (char *)"margin", (char *)"0", (char *)"");
    set_html(g, legend, na.label, html);
    g_snprintf(name, sizeof name, "%.1f", legend_font);
    agsafeset(legend, (char *)"fontsize", name, (char *)"10");
    if (ring)
        set_point(legend, na.pos, view->radius + label_reach + 30 + legend_width / 2, 0, "!");
    g_free(html);

    g_free(nodes);
    g_array_unref(uses);
    return g;
}
