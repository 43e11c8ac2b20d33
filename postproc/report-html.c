/* report-html.c — the report as one self-contained page: inline SVG charts
 * and host graphs, tables, no script, no network.  The page is well-formed
 * XML as well as HTML, so that tests (and other tools) can read it back.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "report.h"

#include <graphviz/gvc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_FOCUS_HOSTS 20      /* flagged hosts drawn each on its own page */

#ifndef TRAFAN_VERSION
#define TRAFAN_VERSION "unknown"
#endif

static const char style[] =
    "body{font:14px/1.45 Helvetica,Arial,sans-serif;color:#222;margin:0 auto;max-width:1060px;"
    "padding:0 24px 40px}\n"
    "header{border-bottom:3px solid #08306b;padding:18px 0 10px;margin-bottom:8px}\n"
    "h1{font-size:26px;margin:0;color:#08306b}\n"
    "h2{font-size:19px;margin:30px 0 8px;color:#08306b;border-bottom:1px solid #c6dbef;padding-bottom:3px}\n"
    ".sub{color:#555;margin:4px 0 0}\n"
    "nav{margin:10px 0;font-size:13px}nav a{margin-right:12px;color:#2171b5;text-decoration:none}\n"
    ".cards{display:flex;flex-wrap:wrap;gap:10px;margin:12px 0}\n"
    ".card{flex:1 1 140px;border:1px solid #c6dbef;border-radius:6px;padding:8px 12px;background:#f7fbff}\n"
    ".card .value{font-size:22px;font-weight:bold;font-variant-numeric:tabular-nums}\n"
    ".card .label{color:#555;font-size:12px;text-transform:uppercase;letter-spacing:.04em}\n"
    ".card .human{color:#555;font-size:12px}\n"
    ".card.alert{border-color:#d7191c;background:#fff5f0}.card.alert .value{color:#d7191c}\n"
    "table{border-collapse:collapse;width:100%;margin:8px 0 4px;font-size:13px}\n"
    "th{text-align:left;vertical-align:bottom;background:#eef3f8;border-bottom:2px solid #9ecae1;padding:4px 6px}\n"
    "td{border-bottom:1px solid #e5e5e5;padding:3px 6px;vertical-align:top;overflow-wrap:anywhere}\n"
    "tbody tr:nth-child(even) td{background:#fafafa}\n"
    ".num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}\n"
    ".time{white-space:nowrap;font-variant-numeric:tabular-nums}\n"
    "th.num{text-align:right}\n"
    "table.flags tr.flag td{border-bottom:none;font-weight:bold}\n"
    "table.flags tr.detail td{background:#fff;padding-bottom:8px}\n"
    "table.flags tr.flag td:first-child{color:#fff;background:#fd8d3c;text-align:center}\n"
    "table.flags tr.flag.spike td:first-child{background:#d7191c}\n"
    "code{font:12px/1.3 Menlo,Consolas,monospace;background:#f2f2f2;padding:1px 4px;border-radius:3px;"
    "word-break:break-all}\n"
    "figure{margin:8px 0}figcaption{color:#555;font-size:12px;margin-top:2px}\n"
    "figure svg{width:100%;height:auto;max-width:100%}\n"
    "figure.graph svg{max-height:900px}\n"
    ".missing{border-left:4px solid #fd8d3c;background:#fff5eb;padding:6px 10px}\n"
    "footer{margin-top:30px;color:#777;font-size:12px;border-top:1px solid #ddd;padding-top:6px}\n"
    "@page{size:A4;margin:12mm}\n"
    "@media print{body{max-width:none;padding:0;font-size:11px}nav{display:none}"
    "section{break-before:page}section#summary{break-before:auto}"
    "h2{margin-top:0}table{font-size:9px}code{font-size:9px}thead{display:table-header-group}tr{break-inside:avoid}"
    "figure{break-inside:avoid}figure.graph svg{max-height:235mm}"
    "*{-webkit-print-color-adjust:exact;print-color-adjust:exact}}\n";

/* ---- text ---- */

static void text(GString *h, const char *s)
{
    char *e = g_markup_escape_text(s, -1);
    g_string_append(h, e);
    g_free(e);
}

static G_GNUC_PRINTF(2, 3) void textf(GString *h, const char *fmt, ...)
{
    va_list args;
    char *s;

    va_start(args, fmt);
    s = g_strdup_vprintf(fmt, args);
    va_end(args);
    text(h, s);
    g_free(s);
}

/* ---- tables ---- */

/* Column titles; a title starting with '>' is a right-aligned number, and
 * a line break keeps narrow the column of a short number. */
static void table_begin(GString *h, const char *id, const char *class, const char *const *columns)
{
    g_string_append_printf(h, "<table id=\"%s\" class=\"%s\"><thead><tr>", id, class);
    for (; *columns; columns++) {
        char **lines = g_strsplit(**columns == '>' ? *columns + 1 : *columns, "\n", -1);
        g_string_append(h, **columns == '>' ? "<th class=\"num\">" : "<th>");
        for (char **line = lines; *line; line++) {
            g_string_append(h, line == lines ? "" : "<br/>");
            text(h, *line);
        }
        g_string_append(h, "</th>");
        g_strfreev(lines);
    }
    g_string_append(h, "</tr></thead><tbody>\n");
}

static void table_end(GString *h)
{
    g_string_append(h, "</tbody></table>\n");
}

static void cell(GString *h, const char *s)
{
    g_string_append(h, "<td>");
    text(h, s);
    g_string_append(h, "</td>");
}

/* A wall-clock time, kept on one line. */
static void cell_time(GString *h, const char *s)
{
    g_string_append(h, "<td class=\"time\">");
    text(h, s);
    g_string_append(h, "</td>");
}

static void cell_u64(GString *h, guint64 n)
{
    g_string_append_printf(h, "<td class=\"num\">%" G_GUINT64_FORMAT "</td>", n);
}

static void cell_num(GString *h, const char *s)
{
    g_string_append(h, "<td class=\"num\">");
    text(h, s);
    g_string_append(h, "</td>");
}

static void cell_seconds(GString *h, double s)
{
    char *t = g_strdup_printf("%.3f", s);
    cell_num(h, t);
    g_free(t);
}

/* ---- pieces ---- */

typedef struct {
    const TrReport *r;
    const TrHtmlOptions *opts;
    GHashTable *charts;
    GString *h;
    gboolean dates;             /* the capture spans more than one day */
    TgInput *graph;             /* graph.dot, for the host graphs */
    GVC_t *gvc;
} Page;

static char *wall(const Page *p, double relative)
{
    return tr_wall_clock(p->r->first_time + relative, p->dates);
}

static void card(GString *h, const char *id, guint64 value, const char *label, const char *human, gboolean alert)
{
    g_string_append_printf(h, "<div class=\"card%s\"><div class=\"value\" id=\"%s\">%" G_GUINT64_FORMAT
                              "</div><div class=\"label\">", alert ? " alert" : "", id, value);
    text(h, label);
    g_string_append(h, "</div>");
    if (human) {
        g_string_append(h, "<div class=\"human\">");
        text(h, human);
        g_string_append(h, "</div>");
    }
    g_string_append(h, "</div>");
}

static void missing(Page *p, const char *what)
{
    g_string_append(p->h, "<p class=\"missing\">");
    text(p->h, what);
    g_string_append(p->h, "</p>\n");
}

/* A chart, or `none` when there is nothing to draw (no IP traffic). */
static void figure(Page *p, const char *chart, const char *caption, const char *none)
{
    const char *svg = g_hash_table_lookup(p->charts, chart);

    if (!svg) {
        missing(p, none);
        return;
    }
    g_string_append(p->h, "<figure>");
    g_string_append(p->h, svg);
    g_string_append(p->h, "<figcaption>");
    text(p->h, caption);
    g_string_append(p->h, "</figcaption></figure>\n");
}

static void section_begin(Page *p, const char *id, const char *title)
{
    g_string_append_printf(p->h, "<section id=\"%s\"><h2>", id);
    text(p->h, title);
    g_string_append(p->h, "</h2>\n");
}

static void header(Page *p)
{
    const TrReport *r = p->r;
    char *from = tr_wall_clock(r->first_time, TRUE), *to = tr_wall_clock(r->last_time, TRUE);
    GDateTime *now = g_date_time_new_now_utc();
    char *written = g_date_time_format(now, "%Y-%m-%d %H:%M:%S UTC");

    g_string_append(p->h, "<header><h1>");
    text(p->h, p->opts->title);
    g_string_append(p->h, "</h1><p class=\"sub\">");
    textf(p->h, "Capture from %s to %s UTC (%.3f s)", from, to, r->duration);
    if (*r->filter)
        textf(p->h, ", display filter %s", r->filter);
    g_string_append(p->h, ".<br/>");
    textf(p->h, "Written by trafan-report %s from %s%sreport.json at %s", TRAFAN_VERSION, r->dir,
          g_str_has_suffix(r->dir, "/") ? "" : "/", written);
    if (p->opts->refresh)
        textf(p->h, "; reloads every %u s", p->opts->refresh);
    g_string_append(p->h, ".</p></header>\n<nav>");
    static const char *const links[][2] = {
        {"summary", "Summary"}, {"suspicious", "Suspicious hosts"}, {"bandwidth", "Bandwidth"},
        {"protocol-bandwidth", "Per protocol"}, {"protocols", "Protocols"}, {"sources", "Top sources"},
        {"conversations", "Top conversations"}, {"host-graph", "Host graph"},
    };
    for (guint i = 0; i < G_N_ELEMENTS(links); i++)
        g_string_append_printf(p->h, "<a href=\"#%s\">%s</a>", links[i][0], links[i][1]);
    g_string_append(p->h, "</nav>\n");
    g_free(written);
    g_date_time_unref(now);
    g_free(from);
    g_free(to);
}

static void summary(Page *p)
{
    const TrReport *r = p->r;
    char *bytes = tg_format_bytes(r->bytes), *packets = tg_format_count(r->packets);
    char *rate = tg_format_bytes(r->duration > 0 ? (guint64)(r->bytes / r->duration) : r->bytes);
    char *per_second = g_strdup_printf("%s/s on average", rate);
    GHashTable *rules = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, (GDestroyNotify)g_ptr_array_unref);
    GPtrArray *order = g_ptr_array_new();

    section_begin(p, "summary", "Summary");
    g_string_append(p->h, "<div class=\"cards\">");
    card(p->h, "sum-packets", r->packets, "packets", packets, FALSE);
    card(p->h, "sum-bytes", r->bytes, "bytes", bytes, FALSE);
    card(p->h, "sum-hosts", r->host_count, "hosts", r->hosts_aggregated ? "some folded, see below" : NULL, FALSE);
    card(p->h, "sum-conversations", r->conversation_count, "conversations", NULL, FALSE);
    card(p->h, "sum-flags", r->flags->len, "suspicious-host flags", NULL, r->flags->len > 0);
    g_string_append(p->h, "</div>\n<p>");
    textf(p->h, "%s over %.3f s, %s.", bytes, r->duration, per_second);
    if (r->hosts_aggregated)
        textf(p->h, " %" G_GUINT64_FORMAT " hosts past trafan's max_hosts are counted as \"other\".",
              r->hosts_aggregated);
    g_string_append(p->h, "</p>\n");

    for (guint i = 0; i < r->flags->len; i++) {
        const TrFlag *f = g_ptr_array_index(r->flags, i);
        GPtrArray *hosts = g_hash_table_lookup(rules, f->rule);
        if (!hosts) {
            hosts = g_ptr_array_new();
            g_hash_table_insert(rules, f->rule, hosts);
            g_ptr_array_add(order, f->rule);
        }
        g_ptr_array_add(hosts, f->host);
    }
    if (order->len) {
        static const char *const columns[] = {"Rule", ">Flags", "Hosts", NULL};
        table_begin(p->h, "flags-by-rule", "by-rule", columns);
        for (guint i = 0; i < order->len; i++) {
            GPtrArray *hosts = g_hash_table_lookup(rules, order->pdata[i]);
            GString *list = g_string_new(NULL);
            for (guint k = 0; k < MIN(hosts->len, 10); k++)
                g_string_append_printf(list, "%s%s", k ? ", " : "", (char *)hosts->pdata[k]);
            if (hosts->len > 10)
                g_string_append_printf(list, " and %u more", hosts->len - 10);
            g_string_append(p->h, "<tr>");
            cell(p->h, order->pdata[i]);
            cell_u64(p->h, hosts->len);
            cell(p->h, list->str);
            g_string_append(p->h, "</tr>\n");
            g_string_free(list, TRUE);
        }
        table_end(p->h);
    }
    g_string_append(p->h, "</section>\n");
    g_ptr_array_unref(order);
    g_hash_table_unref(rules);
    g_free(per_second);
    g_free(rate);
    g_free(packets);
    g_free(bytes);
}

static void suspicious(Page *p)
{
    static const char *const columns[] = {"#", "Host", "Role", "Rule", ">Observed", ">Threshold",
                                          ">Window\n(s)", "From (UTC)", "To (UTC)", "Top peers", NULL};
    const TrReport *r = p->r;

    section_begin(p, "suspicious", "Suspicious hosts");
    if (r->flags->len == 0) {
        g_string_append(p->h, "<p id=\"no-flags\">No host crossed a detection threshold.</p></section>\n");
        return;
    }
    g_string_append(p->h, "<p>Each flag with what was observed against its threshold, and the display "
                          "filter that selects its packets in Wireshark; # numbers the time spans drawn "
                          "above the bandwidth chart.</p>\n");
    table_begin(p->h, "flags", "flags", columns);
    for (guint i = 0; i < r->flags->len; i++) {
        const TrFlag *f = g_ptr_array_index(r->flags, i);
        char *from = wall(p, f->start), *to = wall(p, f->end);
        GString *peers = g_string_new(NULL);

        for (guint k = 0; k < f->peers->len; k++) {
            const TrPeer *peer = &g_array_index(f->peers, TrPeer, k);
            g_string_append_printf(peers, "%s%s (%" G_GUINT64_FORMAT ")", k ? ", " : "", peer->address, peer->count);
        }
        if (f->peers_total > f->peers->len)
            g_string_append_printf(peers, "%s%" G_GUINT64_FORMAT " in all", peers->len ? "; " : "", f->peers_total);
        g_string_append_printf(p->h, "<tr class=\"flag%s\" id=\"flag-%u\"><td class=\"num\">%u</td>",
                               strcmp(f->rule, "bandwidth_spike") == 0 ? " spike" : "", i + 1, i + 1);
        cell(p->h, f->host);
        cell(p->h, f->role);
        cell(p->h, f->rule);
        char *observed = g_strconcat(f->approximate ? "\u2248" : "", f->observed, NULL);
        cell_num(p->h, observed);
        g_free(observed);
        cell_num(p->h, f->threshold);
        if (f->window > 0)
            cell_seconds(p->h, f->window);
        else
            cell_num(p->h, "\u2014");      /* judged on the whole capture */
        cell_time(p->h, from);
        cell_time(p->h, to);
        cell(p->h, peers->str);
        g_string_append(p->h, "</tr>\n<tr class=\"detail\"><td></td><td colspan=\"9\"><span class=\"summary\">");
        text(p->h, f->summary);
        g_string_append(p->h, "</span><br/>Filter: <code class=\"filter\">");
        text(p->h, f->filter);
        g_string_append(p->h, "</code></td></tr>\n");
        g_string_free(peers, TRUE);
        g_free(from);
        g_free(to);
    }
    table_end(p->h);
    g_string_append(p->h, "</section>\n");
}

static void bandwidth(Page *p)
{
    const TrReport *r = p->r;
    TrSeries *s = tr_series_new(r, 600);
    char *interval = tr_number_text(r->interval), *step = tr_number_text(s->step);
    GString *caption = g_string_new(NULL);
    const TrBucket *peak = NULL;

    for (guint i = 0; i < r->buckets->len; i++) {
        const TrBucket *b = &g_array_index(r->buckets, TrBucket, i);
        if (!peak || b->bytes > peak->bytes)
            peak = b;
    }
    section_begin(p, "bandwidth", "Bandwidth over time");
    g_string_append_printf(caption, "Bytes and packets per second, in %s s intervals", interval);
    if (s->per_point > 1)
        g_string_append_printf(caption, ", drawn as the mean of every %u intervals (%s s): %u intervals, "
                                        "%u points, the same totals",
                               s->per_point, step, r->buckets->len, s->points->len);
    g_string_append(caption, ". Bars above the curve: each flag's time span, numbered as in the "
                             "suspicious-hosts table; shaded: short flags, red for bandwidth spikes.");
    if (peak) {
        char *when = wall(p, peak->start), *size = tg_format_bytes(peak->bytes);
        char *count = tg_format_count(peak->packets);
        g_string_append_printf(caption, " Busiest interval: %s UTC, %s in %s packets.", when, size, count);
        g_free(count);
        g_free(size);
        g_free(when);
    }
    figure(p, "bandwidth", caption->str, "No packets.");
    g_string_append(p->h, "</section>\n");

    section_begin(p, "protocol-bandwidth", "Bandwidth per protocol");
    g_string_truncate(caption, 0);
    g_string_append(caption, "Bytes per second of the busiest protocols (highest layer), stacked; "
                             "\"other\" is every other protocol.");
    figure(p, "protocol-bandwidth", caption->str, "No packets.");
    g_string_append(p->h, "</section>\n");
    g_string_free(caption, TRUE);
    g_free(interval);
    g_free(step);
    tr_series_free(s);
}

static char *share(guint64 part, guint64 whole)
{
    return g_strdup_printf("%.1f%%", whole ? 100.0 * part / whole : 0.0);
}

static void protocols(Page *p)
{
    static const char *const columns[] = {"Protocol", ">Packets", ">Bytes", ">Share of bytes", NULL};
    const TrReport *r = p->r;
    guint rows = MIN(p->opts->top, r->protocols->len);
    char *caption = g_strdup_printf("Bytes per highest protocol layer, top %u of %u.", rows, r->protocols->len);

    section_begin(p, "protocols", "Protocols");
    figure(p, "protocols", caption, "No protocols.");
    table_begin(p->h, "protocol-table", "protocols", columns);
    for (guint i = 0; i < rows; i++) {
        const TrProtocol *pr = g_ptr_array_index(r->protocols, i);
        char *pct = share(pr->bytes, r->bytes);
        g_string_append(p->h, "<tr>");
        cell(p->h, pr->name);
        cell_u64(p->h, pr->packets);
        cell_u64(p->h, pr->bytes);
        cell_num(p->h, pct);
        g_string_append(p->h, "</tr>\n");
        g_free(pct);
    }
    table_end(p->h);
    g_string_append(p->h, "</section>\n");
    g_free(caption);
}

static void sources(Page *p)
{
    static const char *const columns[] = {"Address", ">Tx\npackets", ">Tx\nbytes", ">Rx\npackets", ">Rx\nbytes",
                                          ">Peers", ">Dst\nports", "First seen\n(UTC)", "Last seen\n(UTC)", NULL};
    GPtrArray *sorted = tr_top_sources(p->r);
    guint rows = MIN(p->opts->top, sorted->len);
    char *caption = g_strdup_printf("Hosts by bytes sent, top %u of the %u that sent; flagged hosts in red.", rows, sorted->len);

    section_begin(p, "sources", "Top sources");
    figure(p, "sources", caption, "No host sent IP traffic.");
    table_begin(p->h, "source-table", "sources", columns);
    for (guint i = 0; i < rows; i++) {
        const TrHost *host = g_ptr_array_index(sorted, i);
        char *first = wall(p, host->first_seen), *last = wall(p, host->last_seen);
        g_string_append(p->h, "<tr>");
        cell(p->h, host->address);
        cell_u64(p->h, host->tx_packets);
        cell_u64(p->h, host->tx_bytes);
        cell_u64(p->h, host->rx_packets);
        cell_u64(p->h, host->rx_bytes);
        cell_u64(p->h, host->peers);
        cell_u64(p->h, host->dst_ports);
        cell_time(p->h, first);
        cell_time(p->h, last);
        g_string_append(p->h, "</tr>\n");
        g_free(first);
        g_free(last);
    }
    table_end(p->h);
    g_string_append(p->h, "</section>\n");
    g_free(caption);
    g_ptr_array_unref(sorted);
}

static const char *const conversation_columns[] = {
    "Address A", "Address B", ">A\u2192B\npackets", ">A\u2192B\nbytes", ">B\u2192A\npackets", ">B\u2192A\nbytes",
    ">Packets", ">Bytes", "Start\n(UTC)", ">Duration\n(s)", "Protocols\n(packets)", NULL};

static void conversation_row(Page *p, const TrConversation *c)
{
    char *start = wall(p, c->start);

    g_string_append(p->h, "<tr>");
    cell(p->h, c->a);
    cell(p->h, c->b);
    cell_u64(p->h, c->a_to_b_packets);
    cell_u64(p->h, c->a_to_b_bytes);
    cell_u64(p->h, c->b_to_a_packets);
    cell_u64(p->h, c->b_to_a_bytes);
    cell_u64(p->h, c->packets);
    cell_u64(p->h, c->bytes);
    cell_time(p->h, start);
    cell_seconds(p->h, c->duration);
    cell(p->h, c->protocols);
    g_string_append(p->h, "</tr>\n");
    g_free(start);
}

static void conversations(Page *p)
{
    const TrReport *r = p->r;
    guint rows = MIN(p->opts->top, r->conversations->len);
    char *caption = g_strdup_printf("Conversations (address pairs) by bytes in both directions, top %u of %u; "
                                    "those of flagged hosts in red.", rows, r->conversations->len);

    section_begin(p, "conversations", "Top conversations");
    figure(p, "conversations", caption, "No IP conversations.");
    table_begin(p->h, "conversation-table", "conversations", conversation_columns);
    for (guint i = 0; i < rows; i++)
        conversation_row(p, g_ptr_array_index(r->conversations, i));
    table_end(p->h);
    g_string_append(p->h, "</section>\n");
    g_free(caption);
}

/* The host graph drawn by trafan-graph's code, as inline SVG; ids are
 * prefixed so that several graphs can share the page. */
static gboolean host_graph(Page *p, const char *focus, const char *id, GError **error)
{
    char *title = focus ? g_strdup_printf("%s and the hosts within two hops", focus) : g_strdup(p->opts->title);
    TgOptions opts = {.max_nodes = 300, .focus = focus, .title = title};
    TgView *view = tg_view_new(p->graph, &opts, error);
    Agraph_t *picture;
    char *svg = NULL, *start;
    size_t len = 0;
    gboolean ok;
    FILE *out;

    if (!view) {
        g_free(title);
        return FALSE;
    }
    tg_ring_place(view);
    picture = tg_draw(view, TRUE);
    agsafeset(picture, "id", (char *)id, "");
    /* gvRender into memory: gvRenderData's length changed type in Graphviz 9. */
    out = open_memstream(&svg, &len);
    ok = out && gvLayout(p->gvc, picture, "nop2") == 0 && gvRender(p->gvc, picture, "svg", out) == 0;
    if (out && fclose(out) != 0)
        ok = FALSE;
    if (ok && svg && (start = g_strstr_len(svg, (gssize)len, "<svg"))) {
        g_string_append_printf(p->h, "<figure class=\"graph\" id=\"%s\">", id);
        g_string_append_len(p->h, start, len - (start - svg));
        g_string_append(p->h, "</figure>\n");
    } else {
        g_set_error(error, TR_ERROR, TR_ERROR_TOOL, "Graphviz could not draw the host graph");
        ok = FALSE;
    }
    free(svg);
    gvFreeLayout(p->gvc, picture);
    agclose(picture);
    tg_view_free(view);
    g_free(title);
    return ok;
}

static gboolean graphs(Page *p, GError **error)
{
    const TrReport *r = p->r;
    GHashTable *done = g_hash_table_new(g_str_hash, g_str_equal);
    gboolean ok = TRUE;

    section_begin(p, "host-graph", "Host graph");
    if (!p->graph) {
        char *why = g_strdup_printf("No host graph: %s.", r->graph_missing);
        missing(p, why);
        g_free(why);
    } else {
        g_string_append(p->h, "<p>Hosts on a ring, conversations as chords: node size and chord width by "
                              "bytes, chord colour by main protocol; flagged sources red, targets orange, "
                              "their neighbours yellow. Hover a host or chord for its numbers.</p>\n");
        ok = host_graph(p, NULL, "hosts", error);
    }
    g_string_append(p->h, "</section>\n");

    for (guint i = 0; ok && i < r->flags->len; i++) {
        const TrFlag *f = g_ptr_array_index(r->flags, i);
        GString *rules;
        char *id, *title;
        guint shown = 0;

        if (g_hash_table_contains(done, f->host))
            continue;
        g_hash_table_add(done, f->host);
        if (g_hash_table_size(done) > MAX_FOCUS_HOSTS)
            continue;
        rules = g_string_new(NULL);
        for (guint k = i; k < r->flags->len; k++) {
            const TrFlag *g = g_ptr_array_index(r->flags, k);
            if (strcmp(g->host, f->host) == 0)
                g_string_append_printf(rules, "%s%s (#%u)", rules->len ? ", " : "", g->rule, k + 1);
        }
        id = g_strdup_printf("focus-%u", g_hash_table_size(done));
        title = g_strdup_printf("Flagged host %s", f->host);
        g_string_append_printf(p->h, "<section class=\"focus\" id=\"%s\" data-host=\"", id);
        text(p->h, f->host);
        g_string_append(p->h, "\"><h2>");
        text(p->h, title);
        g_string_append(p->h, "</h2>\n<p>");
        textf(p->h, "Flagged %s by %s. Its neighbourhood up to two hops, and its conversations by bytes.",
              f->role, rules->str);
        g_string_append(p->h, "</p>\n");
        if (p->graph && tg_input_find(p->graph, f->host) != G_MAXUINT) {
            char *graph_id = g_strdup_printf("%s-graph", id);
            ok = host_graph(p, f->host, graph_id, error);
            g_free(graph_id);
        } else if (p->graph) {
            /* e.g. folded into "other" past trafan's max_hosts */
            char *why = g_strdup_printf("%s is not a host of graph.dot: no neighbourhood to draw.", f->host);
            missing(p, why);
            g_free(why);
        }
        char *table_id = g_strdup_printf("%s-conversations", id);
        table_begin(p->h, table_id, "host-conversations", conversation_columns);
        g_free(table_id);
        for (guint k = 0; k < r->conversations->len && shown < MAX(p->opts->top, 10); k++) {
            const TrConversation *c = g_ptr_array_index(r->conversations, k);
            if (strcmp(c->a, f->host) == 0 || strcmp(c->b, f->host) == 0) {
                conversation_row(p, c);
                shown++;
            }
        }
        table_end(p->h);
        g_string_append(p->h, "</section>\n");
        g_free(title);
        g_free(id);
        g_string_free(rules, TRUE);
    }
    if (ok && g_hash_table_size(done) > MAX_FOCUS_HOSTS) {
        char *note = g_strdup_printf("%u more flagged hosts are in the suspicious-hosts table; the report "
                                     "draws the neighbourhood of the first %u.",
                                     g_hash_table_size(done) - MAX_FOCUS_HOSTS, MAX_FOCUS_HOSTS);
        g_string_append(p->h, "<section id=\"more-flagged\"><h2>More flagged hosts</h2>\n");
        missing(p, note);
        g_string_append(p->h, "</section>\n");
        g_free(note);
    }
    g_hash_table_unref(done);
    return ok;
}

GString *tr_html_render(const TrReport *r, GHashTable *charts, const TrHtmlOptions *opts, GError **error)
{
    char *first = tr_wall_clock(r->first_time, TRUE), *last = tr_wall_clock(r->last_time, TRUE);
    Page p = {
        .r = r, .opts = opts, .charts = charts, .h = g_string_sized_new(1 << 16),
        .dates = strncmp(first, last, 10) != 0,
    };
    gboolean ok = TRUE;

    if (r->graph) {
        p.graph = tg_input_load(r->graph, error);
        ok = p.graph != NULL;
        p.gvc = gvContext();
    }
    g_string_append(p.h, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"/>\n");
    if (opts->refresh)
        g_string_append_printf(p.h, "<meta http-equiv=\"refresh\" content=\"%u\"/>\n", opts->refresh);
    g_string_append(p.h, "<meta name=\"generator\" content=\"trafan-report " TRAFAN_VERSION "\"/>\n<title>");
    text(p.h, opts->title);
    g_string_append_printf(p.h, "</title>\n<style>\n%s</style></head>\n<body>\n", style);
    header(&p);
    summary(&p);
    suspicious(&p);
    bandwidth(&p);
    protocols(&p);
    sources(&p);
    conversations(&p);
    ok = ok && graphs(&p, error);
    g_string_append(p.h, "<footer>trafan-report " TRAFAN_VERSION ": numbers as in report.json; times in UTC; "
                         "bytes are frame bytes as Wireshark counts them.</footer>\n</body></html>\n");
    if (p.gvc)
        gvFreeContext(p.gvc);
    tg_input_free(p.graph);
    g_free(first);
    g_free(last);
    if (!ok) {
        g_string_free(p.h, TRUE);
        return NULL;
    }
    return p.h;
}
