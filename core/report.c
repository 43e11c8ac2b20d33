/* report.c — the statistics as a text report, JSON, CSV and a DOT graph.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <glib/gstdio.h>

#include "report.h"

#define RULE "================================================================================\n"
#define TOP_BANDWIDTH_PROTOCOLS 4

/* ---- small formatting helpers ----------------------------------------- */

void
trafan_append_seconds(GString *out, gint64 ns)
{
    guint64 magnitude = ns < 0 ? -(guint64)ns : (guint64)ns;

    g_string_append_printf(out, "%s%" G_GUINT64_FORMAT ".%09u", ns < 0 ? "-" : "",
                           magnitude / 1000000000u, (guint)(magnitude % 1000000000u));
}

/* An absolute time: epoch_base_s + ns, exactly, as frame.time_epoch shows it. */
void
trafan_append_epoch(GString *out, gint64 base_s, gint64 ns)
{
    gint64 secs = ns / 1000000000, frac = ns % 1000000000;

    if (base_s == 0) {
        trafan_append_seconds(out, ns);
        return;
    }
    if (frac < 0) {
        secs--;
        frac += 1000000000;
    }
    g_string_append_printf(out, "%" G_GINT64_FORMAT ".%09u", base_s + secs, (guint)frac);
}

static char *
epoch_str(const TrafanStats *stats, gint64 ns)
{
    GString *s = g_string_new(NULL);

    trafan_append_epoch(s, stats->epoch_base_s, ns);
    return g_string_free(s, FALSE);
}

static char *
seconds_str(gint64 ns)
{
    GString *s = g_string_new(NULL);

    trafan_append_seconds(s, ns);
    return g_string_free(s, FALSE);
}

static char *
address_str(const TrafanAddress *address)
{
    char buf[TRAFAN_ADDRSTRLEN];

    return g_strdup(trafan_address_to_str(address, buf));
}

static char *
u64_str(guint64 value)
{
    return g_strdup_printf("%" G_GUINT64_FORMAT, value);
}

/* "tls:10,dns:3": packets per protocol, biggest first. */
static int
compare_count_desc(gconstpointer pa, gconstpointer pb)
{
    const TrafanProtocolCount *a = pa, *b = pb;

    if (a->packets != b->packets)
        return a->packets > b->packets ? -1 : 1;
    return strcmp(a->protocol, b->protocol);
}

static char *
protocol_list_str(const GArray *counts)
{
    GArray *sorted = g_array_sized_new(FALSE, FALSE, sizeof(TrafanProtocolCount), counts->len);
    GString *s = g_string_new(NULL);

    g_array_append_vals(sorted, counts->data, counts->len);
    g_array_sort(sorted, compare_count_desc);
    for (guint i = 0; i < sorted->len; i++) {
        const TrafanProtocolCount *c = &g_array_index(sorted, TrafanProtocolCount, i);
        g_string_append_printf(s, "%s%s:%" G_GUINT64_FORMAT, i ? "," : "", c->protocol, c->packets);
    }
    g_array_free(sorted, TRUE);
    return g_string_free(s, FALSE);
}

/* The protocol that carried most bytes. */
static const char *
main_protocol(const GArray *counts)
{
    const TrafanProtocolCount *best = NULL;

    for (guint i = 0; i < counts->len; i++) {
        const TrafanProtocolCount *c = &g_array_index(counts, TrafanProtocolCount, i);
        if (!best || c->bytes > best->bytes || (c->bytes == best->bytes && strcmp(c->protocol, best->protocol) < 0))
            best = c;
    }
    return best ? best->protocol : "";
}

static guint64
protocol_bytes(const GArray *counts, const char *protocol)
{
    for (guint i = 0; i < counts->len; i++) {
        const TrafanProtocolCount *c = &g_array_index(counts, TrafanProtocolCount, i);
        if (c->protocol == protocol)
            return c->bytes;
    }
    return 0;
}

static void
append_json_string(GString *out, const char *s)
{
    g_string_append_c(out, '"');
    for (const guchar *p = (const guchar *)s; *p; p++) {
        switch (*p) {
        case '"':  g_string_append(out, "\\\""); break;
        case '\\': g_string_append(out, "\\\\"); break;
        case '\n': g_string_append(out, "\\n"); break;
        case '\t': g_string_append(out, "\\t"); break;
        default:
            if (*p < 0x20)
                g_string_append_printf(out, "\\u%04x", *p);
            else
                g_string_append_c(out, (char)*p);
        }
    }
    g_string_append_c(out, '"');
}

/* RFC 4180: quote a cell that holds a separator, a quote or a line break. */
static void
append_csv_cell(GString *out, const char *s)
{
    if (!strpbrk(s, ",\"\r\n")) {
        g_string_append(out, s);
        return;
    }
    g_string_append_c(out, '"');
    for (const char *p = s; *p; p++) {
        if (*p == '"')
            g_string_append_c(out, '"');
        g_string_append_c(out, *p);
    }
    g_string_append_c(out, '"');
}

/* DOT: an ID or attribute value in double quotes, with quotes escaped.  A
 * backslash is doubled so that escape sequences keep no special meaning. */
static void
append_dot_string(GString *out, const char *s)
{
    g_string_append_c(out, '"');
    for (const char *p = s; *p; p++) {
        if (*p == '"' || *p == '\\')
            g_string_append_c(out, '\\');
        if (*p == '\n')
            g_string_append(out, "\\n");
        else
            g_string_append_c(out, *p);
    }
    g_string_append_c(out, '"');
}

/* ---- tables: one row model, three renderings -------------------------- */

/* A table is a header and rows of cells (owned strings); the text report
 * aligns it, CSV writes it as is. */
typedef struct {
    const char  *name;          /* csv file stem / section key */
    GPtrArray   *columns;       /* char * */
    GPtrArray   *rows;          /* GPtrArray of char * */
    guint        total_rows;    /* before any top-N cut */
} Table;

static Table *
table_new(const char *name, const char *const *columns)
{
    Table *t = g_new0(Table, 1);

    t->name = name;
    t->columns = g_ptr_array_new_with_free_func(g_free);
    for (; *columns; columns++)
        g_ptr_array_add(t->columns, g_strdup(*columns));
    t->rows = g_ptr_array_new_with_free_func((GDestroyNotify)g_ptr_array_unref);
    return t;
}

static GPtrArray *
table_row(Table *t)
{
    GPtrArray *row = g_ptr_array_new_with_free_func(g_free);

    g_ptr_array_add(t->rows, row);
    return row;
}

static void
table_free(Table *t)
{
    g_ptr_array_unref(t->columns);
    g_ptr_array_unref(t->rows);
    g_free(t);
}

static void
table_csv(const Table *t, GString *out)
{
    for (guint c = 0; c < t->columns->len; c++) {
        if (c)
            g_string_append_c(out, ',');
        append_csv_cell(out, g_ptr_array_index(t->columns, c));
    }
    g_string_append_c(out, '\n');
    for (guint r = 0; r < t->rows->len; r++) {
        GPtrArray *row = g_ptr_array_index(t->rows, r);
        for (guint c = 0; c < row->len; c++) {
            if (c)
                g_string_append_c(out, ',');
            append_csv_cell(out, g_ptr_array_index(row, c));
        }
        g_string_append_c(out, '\n');
    }
}

/* "42", "-0.5": right-aligned.  Addresses ("10.0.0.1") are not numbers. */
static gboolean
looks_numeric(const char *s)
{
    const char *dot;

    if (*s == '-')
        s++;
    dot = strchr(s, '.');
    return *s && strspn(s, "0123456789.") == strlen(s) && (!dot || !strchr(dot + 1, '.'));
}

/* Columns padded to their widest cell; numbers right-aligned. */
static void
table_text(const Table *t, GString *out, guint top)
{
    guint ncol = t->columns->len, nrow = t->rows->len;
    guint shown = top && top < nrow ? top : nrow;
    guint *width = g_new0(guint, ncol);

    for (guint c = 0; c < ncol; c++)
        width[c] = strlen(g_ptr_array_index(t->columns, c));
    for (guint r = 0; r < shown; r++) {
        GPtrArray *row = g_ptr_array_index(t->rows, r);
        for (guint c = 0; c < ncol; c++)
            width[c] = MAX(width[c], strlen(g_ptr_array_index(row, c)));
    }
    for (guint r = 0; r <= shown; r++) {
        GPtrArray *row = r ? g_ptr_array_index(t->rows, r - 1) : t->columns;
        GString *line = g_string_new(NULL);
        for (guint c = 0; c < ncol; c++) {
            const char *cell = g_ptr_array_index(row, c);
            gboolean last = c + 1 == ncol;
            if (r && looks_numeric(cell))
                g_string_append_printf(line, "%*s", (int)width[c], cell);
            else
                g_string_append_printf(line, "%-*s", last ? 0 : (int)width[c], cell);
            if (!last)
                g_string_append(line, "  ");
        }
        while (line->len && line->str[line->len - 1] == ' ')
            g_string_truncate(line, line->len - 1);
        g_string_append_printf(out, "%s\n", line->str);
        g_string_free(line, TRUE);
    }
    if (shown < MAX(nrow, t->total_rows))
        g_string_append_printf(out, "(%u more row%s; top=0 shows all)\n", MAX(nrow, t->total_rows) - shown,
                               MAX(nrow, t->total_rows) - shown == 1 ? "" : "s");
    g_free(width);
}

/* ---- the tables ---------------------------------------------------------- */

/* The first `limit` rows (0: all); total_rows counts them all. */
static Table *
conversations_table(const TrafanStats *stats, guint limit)
{
    static const char *const columns[] = {
        "Address A", "Address B", "A->B Packets", "A->B Bytes", "B->A Packets", "B->A Bytes",
        "Packets", "Bytes", "Rel Start (s)", "Duration (s)", "Protocols (packets)", NULL
    };
    Table *t = table_new("conversations", columns);
    GPtrArray *convs = trafan_stats_sorted_conversations(stats);

    for (guint i = 0; i < convs->len && (!limit || i < limit); i++) {
        const TrafanConversation *c = g_ptr_array_index(convs, i);
        GPtrArray *row = table_row(t);
        g_ptr_array_add(row, address_str(&c->a));
        g_ptr_array_add(row, address_str(&c->b));
        g_ptr_array_add(row, u64_str(c->a_to_b_packets));
        g_ptr_array_add(row, u64_str(c->a_to_b_bytes));
        g_ptr_array_add(row, u64_str(c->b_to_a_packets));
        g_ptr_array_add(row, u64_str(c->b_to_a_bytes));
        g_ptr_array_add(row, u64_str(c->a_to_b_packets + c->b_to_a_packets));
        g_ptr_array_add(row, u64_str(c->a_to_b_bytes + c->b_to_a_bytes));
        g_ptr_array_add(row, seconds_str(c->first_ns - stats->ref_ns));
        g_ptr_array_add(row, seconds_str(c->last_ns - c->first_ns));
        g_ptr_array_add(row, protocol_list_str(c->protocols));
    }
    t->total_rows = convs->len;
    g_ptr_array_unref(convs);
    return t;
}

static guint
host_dst_ports(const TrafanHost *h)
{
    return h->dst_ports ? g_hash_table_size(h->dst_ports) : 0;
}

static Table *
hosts_table(const TrafanStats *stats, guint limit)
{
    static const char *const columns[] = {
        "Address", "Tx Packets", "Tx Bytes", "Rx Packets", "Rx Bytes", "Peers", "Dst Ports",
        "First (s)", "Last (s)", NULL
    };
    Table *t = table_new("hosts", columns);
    GPtrArray *hosts = trafan_stats_sorted_hosts(stats);

    for (guint i = 0; i < hosts->len && (!limit || i < limit); i++) {
        const TrafanHost *h = g_ptr_array_index(hosts, i);
        GPtrArray *row = table_row(t);
        g_ptr_array_add(row, address_str(&h->address));
        g_ptr_array_add(row, u64_str(h->tx_packets));
        g_ptr_array_add(row, u64_str(h->tx_bytes));
        g_ptr_array_add(row, u64_str(h->rx_packets));
        g_ptr_array_add(row, u64_str(h->rx_bytes));
        g_ptr_array_add(row, u64_str(h->peers));
        g_ptr_array_add(row, u64_str(host_dst_ports(h)));
        g_ptr_array_add(row, seconds_str(h->first_ns - stats->ref_ns));
        g_ptr_array_add(row, seconds_str(h->last_ns - stats->ref_ns));
    }
    t->total_rows = hosts->len;
    g_ptr_array_unref(hosts);
    return t;
}

static Table *
protocols_table(const TrafanStats *stats, guint limit)
{
    static const char *const columns[] = { "Protocol", "Packets", "Bytes", NULL };
    Table *t = table_new("protocols", columns);
    GPtrArray *protocols = trafan_stats_sorted_protocols(stats);

    for (guint i = 0; i < protocols->len && (!limit || i < limit); i++) {
        const TrafanProtocolCount *p = g_ptr_array_index(protocols, i);
        GPtrArray *row = table_row(t);
        g_ptr_array_add(row, g_strdup(p->protocol));
        g_ptr_array_add(row, u64_str(p->packets));
        g_ptr_array_add(row, u64_str(p->bytes));
    }
    t->total_rows = protocols->len;
    g_ptr_array_unref(protocols);
    return t;
}

/* The protocols that carried most bytes overall: bandwidth columns. */
static GPtrArray *
top_protocols(const TrafanStats *stats)
{
    GPtrArray *all = trafan_stats_sorted_protocols(stats);

    if (all->len > TOP_BANDWIDTH_PROTOCOLS)
        g_ptr_array_set_size(all, TOP_BANDWIDTH_PROTOCOLS);
    return all;
}

static char *
interval_str(gint64 interval_us)
{
    return g_strdup_printf("%" G_GINT64_FORMAT ".%06d", interval_us / 1000000, (int)(interval_us % 1000000));
}

static Table *
bandwidth_table(const TrafanStats *stats)
{
    GPtrArray *top = top_protocols(stats);
    GPtrArray *columns = g_ptr_array_new_with_free_func(g_free);

    g_ptr_array_add(columns, g_strdup("Start (s)"));
    g_ptr_array_add(columns, g_strdup("Packets"));
    g_ptr_array_add(columns, g_strdup("Bytes"));
    for (guint i = 0; i < top->len; i++)
        g_ptr_array_add(columns, g_strdup_printf("%s Bytes", ((TrafanProtocolCount *)g_ptr_array_index(top, i))->protocol));
    g_ptr_array_add(columns, NULL);

    Table *t = table_new("bandwidth", (const char *const *)columns->pdata);
    gint64 interval = stats->config.interval_us;
    for (guint i = 0; i < stats->buckets->len; i++) {
        const TrafanBucket *b = &g_array_index(stats->buckets, TrafanBucket, i);
        GPtrArray *row = table_row(t);
        g_ptr_array_add(row, interval_str(b->index * interval));
        g_ptr_array_add(row, u64_str(b->packets));
        g_ptr_array_add(row, u64_str(b->bytes));
        for (guint p = 0; p < top->len; p++)
            g_ptr_array_add(row, u64_str(protocol_bytes(b->protocols, ((TrafanProtocolCount *)g_ptr_array_index(top, p))->protocol)));
    }
    t->total_rows = stats->buckets->len;
    g_ptr_array_unref(columns);
    g_ptr_array_unref(top);
    return t;
}

static char *
flag_peers_str(const TrafanFlag *f)
{
    GString *s = g_string_new(NULL);

    for (guint i = 0; f->peers && i < f->peers->len; i++) {
        const TrafanFlagPeer *p = &g_array_index(f->peers, TrafanFlagPeer, i);
        char buf[TRAFAN_ADDRSTRLEN];
        g_string_append_printf(s, "%s%s:%" G_GUINT64_FORMAT, i ? "," : "", trafan_address_to_str(&p->address, buf), p->count);
    }
    return g_string_free(s, FALSE);
}

static char *
number_str(double value)
{
    char buf[G_ASCII_DTOSTR_BUF_SIZE];

    if (value == (double)(gint64)value)
        return g_strdup_printf("%" G_GINT64_FORMAT, (gint64)value);
    return g_strdup(g_ascii_formatd(buf, sizeof buf, "%.3f", value));
}

static Table *
flags_table(const TrafanStats *stats, const GPtrArray *flags)
{
    static const char *const columns[] = {
        "Host", "Role", "Rule", "Start (s)", "End (s)", "Observed", "Threshold", "Window (s)",
        "Approximate", "Peers", "Filter", "Summary", NULL
    };
    Table *t = table_new("flags", columns);

    for (guint i = 0; flags && i < flags->len; i++) {
        const TrafanFlag *f = g_ptr_array_index(flags, i);
        GPtrArray *row = table_row(t);
        g_ptr_array_add(row, address_str(&f->host));
        g_ptr_array_add(row, g_strdup(trafan_role_name(f->role)));
        g_ptr_array_add(row, g_strdup(f->rule));
        g_ptr_array_add(row, seconds_str(f->start_ns - stats->ref_ns));
        g_ptr_array_add(row, seconds_str(f->end_ns - stats->ref_ns));
        g_ptr_array_add(row, number_str(f->observed));
        g_ptr_array_add(row, number_str(f->threshold));
        g_ptr_array_add(row, seconds_str(f->window_ns));
        g_ptr_array_add(row, g_strdup(f->approximate ? "yes" : "no"));
        g_ptr_array_add(row, flag_peers_str(f));
        g_ptr_array_add(row, g_strdup(f->filter ? f->filter : ""));
        g_ptr_array_add(row, g_strdup(f->summary ? f->summary : ""));
    }
    t->total_rows = t->rows->len;
    return t;
}

/* ---- text ------------------------------------------------------------------ */

static int
compare_bytes_column_desc(gconstpointer pa, gconstpointer pb)
{
    GPtrArray *a = *(GPtrArray *const *)pa, *b = *(GPtrArray *const *)pb;
    guint64 x = g_ascii_strtoull(g_ptr_array_index(a, 2), NULL, 10);
    guint64 y = g_ascii_strtoull(g_ptr_array_index(b, 2), NULL, 10);

    return x != y ? (x > y ? -1 : 1) : 0;
}

/* Keep the `top` rows with most bytes (column 2) of a time-ordered table,
 * still in time order, so that a long capture shows its busy moments. */
static Table *
busiest_first_cut(Table *t, guint top)
{
    if (!top || t->rows->len <= top)
        return t;

    GPtrArray *by_bytes = g_ptr_array_copy(t->rows, NULL, NULL);
    GHashTable *keep = g_hash_table_new(NULL, NULL);
    GPtrArray *kept = g_ptr_array_new_with_free_func((GDestroyNotify)g_ptr_array_unref);

    g_ptr_array_set_free_func(by_bytes, NULL);     /* the copy took the rows' free function */
    g_ptr_array_sort(by_bytes, compare_bytes_column_desc);
    for (guint i = 0; i < top; i++)
        g_hash_table_add(keep, g_ptr_array_index(by_bytes, i));
    for (guint i = 0; i < t->rows->len; i++)
        if (g_hash_table_contains(keep, g_ptr_array_index(t->rows, i)))
            g_ptr_array_add(kept, g_ptr_array_ref(g_ptr_array_index(t->rows, i)));
    g_ptr_array_unref(t->rows);
    t->rows = kept;
    g_ptr_array_unref(by_bytes);
    g_hash_table_destroy(keep);
    return t;
}

static guint64
aggregated_hosts(const TrafanStats *stats)
{
    return g_hash_table_size(stats->aggregated);
}

static void
text_section(GString *out, const char *title, Table *t, guint top)
{
    guint shown = top && top < t->total_rows ? top : t->total_rows;

    g_string_append_printf(out, "\n%s (%u rows", title, t->total_rows);
    if (shown < t->total_rows)
        g_string_append_printf(out, ", top %u", shown);
    g_string_append(out, "):\n");
    if (t->total_rows)
        table_text(t, out, top);
    table_free(t);
}

GString *
trafan_report_text(const TrafanStats *stats, const TrafanReportOptions *opts)
{
    GString *out = g_string_new(RULE);
    char *first = epoch_str(stats, stats->first_ns), *last = epoch_str(stats, stats->last_ns);
    char *duration = seconds_str(stats->last_ns - stats->first_ns);
    char *interval = interval_str(stats->config.interval_us);

    g_string_append(out, "Traffic Analysis (trafan)\n");
    g_string_append_printf(out, "Filter: %s\n", opts->filter && *opts->filter ? opts->filter : "<No Filter>");
    g_string_append_printf(out, "Packets: %" G_GUINT64_FORMAT "  Bytes: %" G_GUINT64_FORMAT "\n",
                           stats->packets, stats->bytes);
    if (stats->seen_any)
        g_string_append_printf(out, "First: %s  Last: %s (epoch s)  Duration: %s s\n", first, last, duration);
    if (aggregated_hosts(stats))
        g_string_append_printf(out, "Host limit max_hosts=%u reached: %s%" G_GUINT64_FORMAT
                               " further hosts are counted as \"other IPv4\"/\"other IPv6\"\n",
                               stats->config.max_hosts, stats->aggregated_overflow ? "more than " : "",
                               aggregated_hosts(stats));

    if (opts->flags && opts->flags->len) {
        g_string_append_printf(out, "\nSuspicious hosts (%u):\n", opts->flags->len);
        for (guint i = 0; i < opts->flags->len; i++) {
            const TrafanFlag *f = g_ptr_array_index(opts->flags, i);
            char buf[TRAFAN_ADDRSTRLEN];
            g_string_append_printf(out, "  %-15s %-6s %-15s %s\n    filter: %s\n",
                                   trafan_address_to_str(&f->host, buf), trafan_role_name(f->role),
                                   f->rule, f->summary ? f->summary : "", f->filter ? f->filter : "");
        }
    } else {
        g_string_append(out, "\nSuspicious hosts: none\n");
    }

    text_section(out, "Conversations, IPv4 and IPv6", conversations_table(stats, opts->top), opts->top);
    text_section(out, "Hosts", hosts_table(stats, opts->top), opts->top);
    text_section(out, "Protocols (highest layer)", protocols_table(stats, opts->top), opts->top);
    char *title = g_strdup_printf("Bandwidth per %s s interval from the first packet, empty intervals omitted%s",
                                  interval, opts->top ? ", busiest in time order" : "");
    text_section(out, title, busiest_first_cut(bandwidth_table(stats), opts->top), opts->top);
    g_free(title);
    g_string_append(out, RULE);

    g_free(first);
    g_free(last);
    g_free(duration);
    g_free(interval);
    return out;
}

/* ---- JSON ---------------------------------------------------------------- */

static void
json_u64(GString *out, const char *key, guint64 value, gboolean comma)
{
    g_string_append_printf(out, "\"%s\":%" G_GUINT64_FORMAT "%s", key, value, comma ? "," : "");
}

static void
json_seconds(GString *out, const char *key, gint64 ns, gboolean comma)
{
    g_string_append_printf(out, "\"%s\":", key);
    trafan_append_seconds(out, ns);
    if (comma)
        g_string_append_c(out, ',');
}

static void
json_address(GString *out, const char *key, const TrafanAddress *address)
{
    char buf[TRAFAN_ADDRSTRLEN];

    g_string_append_printf(out, "\"%s\":", key);
    append_json_string(out, trafan_address_to_str(address, buf));
    g_string_append_c(out, ',');
}

static void
json_protocol_counts(GString *out, const GArray *counts, gboolean with_packets)
{
    g_string_append_c(out, '{');
    for (guint i = 0; i < counts->len; i++) {
        const TrafanProtocolCount *c = &g_array_index(counts, TrafanProtocolCount, i);
        if (i)
            g_string_append_c(out, ',');
        append_json_string(out, c->protocol);
        g_string_append_printf(out, ":%" G_GUINT64_FORMAT, with_packets ? c->packets : c->bytes);
    }
    g_string_append_c(out, '}');
}

static void
json_flags(GString *out, const TrafanStats *stats, const GPtrArray *flags)
{
    g_string_append(out, "\"flags\":[");
    for (guint i = 0; flags && i < flags->len; i++) {
        const TrafanFlag *f = g_ptr_array_index(flags, i);
        char *observed = number_str(f->observed), *threshold = number_str(f->threshold);

        g_string_append(out, i ? ",\n  {" : "\n  {");
        json_address(out, "host", &f->host);
        g_string_append_printf(out, "\"role\":\"%s\",\"rule\":", trafan_role_name(f->role));
        append_json_string(out, f->rule);
        g_string_append_c(out, ',');
        json_seconds(out, "start", f->start_ns - stats->ref_ns, TRUE);
        json_seconds(out, "end", f->end_ns - stats->ref_ns, TRUE);
        g_string_append_printf(out, "\"observed\":%s,\"threshold\":%s,", observed, threshold);
        json_seconds(out, "window", f->window_ns, TRUE);
        g_string_append_printf(out, "\"approximate\":%s,\"peers_total\":%" G_GUINT64_FORMAT ",\"peers\":[",
                               f->approximate ? "true" : "false", f->peers_total);
        for (guint p = 0; f->peers && p < f->peers->len; p++) {
            const TrafanFlagPeer *peer = &g_array_index(f->peers, TrafanFlagPeer, p);
            g_string_append(out, p ? ",{" : "{");
            json_address(out, "address", &peer->address);
            json_u64(out, "count", peer->count, FALSE);
            g_string_append_c(out, '}');
        }
        g_string_append(out, "],\"filter\":");
        append_json_string(out, f->filter ? f->filter : "");
        g_string_append(out, ",\"summary\":");
        append_json_string(out, f->summary ? f->summary : "");
        g_string_append_c(out, '}');
        g_free(observed);
        g_free(threshold);
    }
    g_string_append(out, "]");
}

GString *
trafan_report_json(const TrafanStats *stats, const TrafanReportOptions *opts)
{
    /* trafan_format, as in graph.dot: readers refuse a version they do not know. */
    GString *out = g_string_new("{\"trafan_format\":1,\"capture\":{");
    GPtrArray *rows;

    json_u64(out, "packets", stats->packets, TRUE);
    json_u64(out, "bytes", stats->bytes, TRUE);
    g_string_append(out, "\"first_time\":");
    trafan_append_epoch(out, stats->epoch_base_s, stats->first_ns);
    g_string_append(out, ",\"last_time\":");
    trafan_append_epoch(out, stats->epoch_base_s, stats->last_ns);
    g_string_append_c(out, ',');
    json_seconds(out, "duration", stats->last_ns - stats->first_ns, TRUE);
    json_u64(out, "hosts", g_hash_table_size(stats->hosts), TRUE);
    json_u64(out, "conversations", g_hash_table_size(stats->conversations), TRUE);
    json_u64(out, "max_hosts", stats->config.max_hosts, TRUE);
    json_u64(out, "hosts_aggregated", aggregated_hosts(stats), TRUE);
    g_string_append_printf(out, "\"hosts_aggregated_exact\":%s,\"filter\":",
                           stats->aggregated_overflow ? "false" : "true");
    append_json_string(out, opts->filter ? opts->filter : "");
    g_string_append(out, "},\n\"conversations\":[");

    rows = trafan_stats_sorted_conversations(stats);
    for (guint i = 0; i < rows->len; i++) {
        const TrafanConversation *c = g_ptr_array_index(rows, i);
        g_string_append(out, i ? ",\n  {" : "\n  {");
        json_address(out, "a", &c->a);
        json_address(out, "b", &c->b);
        json_u64(out, "a_to_b_packets", c->a_to_b_packets, TRUE);
        json_u64(out, "a_to_b_bytes", c->a_to_b_bytes, TRUE);
        json_u64(out, "b_to_a_packets", c->b_to_a_packets, TRUE);
        json_u64(out, "b_to_a_bytes", c->b_to_a_bytes, TRUE);
        json_u64(out, "packets", c->a_to_b_packets + c->b_to_a_packets, TRUE);
        json_u64(out, "bytes", c->a_to_b_bytes + c->b_to_a_bytes, TRUE);
        json_seconds(out, "start", c->first_ns - stats->ref_ns, TRUE);
        json_seconds(out, "duration", c->last_ns - c->first_ns, TRUE);
        g_string_append(out, "\"protocols\":");
        json_protocol_counts(out, c->protocols, TRUE);
        g_string_append_c(out, '}');
    }
    g_ptr_array_unref(rows);

    g_string_append(out, "],\n\"hosts\":[");
    rows = trafan_stats_sorted_hosts(stats);
    for (guint i = 0; i < rows->len; i++) {
        const TrafanHost *h = g_ptr_array_index(rows, i);
        g_string_append(out, i ? ",\n  {" : "\n  {");
        json_address(out, "address", &h->address);
        json_u64(out, "tx_packets", h->tx_packets, TRUE);
        json_u64(out, "tx_bytes", h->tx_bytes, TRUE);
        json_u64(out, "rx_packets", h->rx_packets, TRUE);
        json_u64(out, "rx_bytes", h->rx_bytes, TRUE);
        json_u64(out, "peers", h->peers, TRUE);
        json_u64(out, "dst_ports", host_dst_ports(h), TRUE);
        json_seconds(out, "first_seen", h->first_ns - stats->ref_ns, TRUE);
        json_seconds(out, "last_seen", h->last_ns - stats->ref_ns, h->aggregated);
        if (h->aggregated)
            json_u64(out, "aggregated", h->aggregated, FALSE);
        g_string_append_c(out, '}');
    }
    g_ptr_array_unref(rows);

    g_string_append(out, "],\n\"protocols\":[");
    rows = trafan_stats_sorted_protocols(stats);
    for (guint i = 0; i < rows->len; i++) {
        const TrafanProtocolCount *p = g_ptr_array_index(rows, i);
        g_string_append(out, i ? ",\n  {\"name\":" : "\n  {\"name\":");
        append_json_string(out, p->protocol);
        g_string_append_c(out, ',');
        json_u64(out, "packets", p->packets, TRUE);
        json_u64(out, "bytes", p->bytes, FALSE);
        g_string_append_c(out, '}');
    }
    g_ptr_array_unref(rows);

    char *interval = interval_str(stats->config.interval_us);
    g_string_append_printf(out, "],\n\"bandwidth\":{\"interval\":%s,\"buckets\":[", interval);
    g_free(interval);
    for (guint i = 0; i < stats->buckets->len; i++) {
        const TrafanBucket *b = &g_array_index(stats->buckets, TrafanBucket, i);
        char *start = interval_str(b->index * stats->config.interval_us);
        g_string_append_printf(out, "%s{\"start\":%s,", i ? ",\n  " : "\n  ", start);
        json_u64(out, "packets", b->packets, TRUE);
        json_u64(out, "bytes", b->bytes, TRUE);
        g_string_append(out, "\"protocol_bytes\":");
        json_protocol_counts(out, b->protocols, FALSE);
        g_string_append_c(out, '}');
        g_free(start);
    }
    g_string_append(out, "]},\n");
    json_flags(out, stats, opts->flags);
    g_string_append(out, "}\n");
    return out;
}

/* ---- CSV ------------------------------------------------------------------- */

static Table *
csv_table(const TrafanStats *stats, const TrafanReportOptions *opts, guint which)
{
    switch (which) {
    case 0: return conversations_table(stats, 0);
    case 1: return hosts_table(stats, 0);
    case 2: return protocols_table(stats, 0);
    case 3: return bandwidth_table(stats);
    default: return flags_table(stats, opts->flags);
    }
}

#define N_TABLES 5

/* All tables, each introduced by a "# name" line. */
GString *
trafan_report_csv(const TrafanStats *stats, const TrafanReportOptions *opts)
{
    GString *out = g_string_new(NULL);

    for (guint i = 0; i < N_TABLES; i++) {
        Table *t = csv_table(stats, opts, i);
        g_string_append_printf(out, "%s# %s\n", i ? "\n" : "", t->name);
        table_csv(t, out);
        table_free(t);
    }
    return out;
}

/* ---- DOT --------------------------------------------------------------------- */

static void
dot_attr_u64(GString *out, const char *key, guint64 value)
{
    g_string_append_printf(out, ", %s=\"%" G_GUINT64_FORMAT "\"", key, value);
}

static void
dot_attr_str(GString *out, const char *key, const char *value)
{
    g_string_append_printf(out, ", %s=", key);
    append_dot_string(out, value);
}

static void
dot_attr_seconds(GString *out, const char *key, gint64 ns)
{
    g_string_append_printf(out, ", %s=\"", key);
    trafan_append_seconds(out, ns);
    g_string_append_c(out, '"');
}

/* Rules and roles of the flags that name a host. */
static void
dot_host_flags(GString *out, const TrafanHost *h, const GPtrArray *flags)
{
    GString *rules = g_string_new(NULL);
    gboolean source = FALSE;

    for (guint i = 0; flags && i < flags->len; i++) {
        const TrafanFlag *f = g_ptr_array_index(flags, i);
        if (!trafan_address_equal(&f->host, &h->address))
            continue;
        if (!strstr(rules->str, f->rule))
            g_string_append_printf(rules, "%s%s", rules->len ? "," : "", f->rule);
        source |= f->role == TRAFAN_ROLE_SOURCE;
    }
    if (rules->len) {
        dot_attr_str(out, "flag", "true");
        dot_attr_str(out, "rule", rules->str);
        dot_attr_str(out, "role", source ? "source" : "target");
    }
    g_string_free(rules, TRUE);
}

/* The rule of a flag that names this conversation (host and a listed peer). */
static const char *
dot_edge_flag(const TrafanConversation *c, const GPtrArray *flags)
{
    for (guint i = 0; flags && i < flags->len; i++) {
        const TrafanFlag *f = g_ptr_array_index(flags, i);
        const TrafanAddress *peer;

        if (trafan_address_equal(&f->host, &c->a))
            peer = &c->b;
        else if (trafan_address_equal(&f->host, &c->b))
            peer = &c->a;
        else
            continue;
        for (guint p = 0; f->peers && p < f->peers->len; p++)
            if (trafan_address_equal(&g_array_index(f->peers, TrafanFlagPeer, p).address, peer))
                return f->rule;
    }
    return NULL;
}

/* Seconds without trailing zeros: "300", "0.5". */
static char *
short_seconds_str(gint64 ns)
{
    char *s = seconds_str(ns), *end = s + strlen(s) - 1;

    while (*end == '0')
        *end-- = '\0';
    if (*end == '.')
        *end = '\0';
    return s;
}

/* "port_scan: threshold 15 in 300 s; beacon: threshold 10": one entry per
 * rule and threshold that fired. */
static char *
rules_fired(const GPtrArray *flags)
{
    GString *s = g_string_new(NULL);

    for (guint i = 0; flags && i < flags->len; i++) {
        const TrafanFlag *f = g_ptr_array_index(flags, i);
        char *threshold = number_str(f->threshold), *window = short_seconds_str(f->window_ns);
        char *item = f->window_ns ? g_strdup_printf("%s: threshold %s in %s s", f->rule, threshold, window)
                                  : g_strdup_printf("%s: threshold %s", f->rule, threshold);
        if (!strstr(s->str, item))
            g_string_append_printf(s, "%s%s", s->len ? "; " : "", item);
        g_free(item);
        g_free(threshold);
        g_free(window);
    }
    return g_string_free(s, FALSE);
}

GString *
trafan_report_dot(const TrafanStats *stats, const TrafanReportOptions *opts)
{
    GString *out = g_string_new("graph \"trafan\" {\n  graph [trafan_format=\"1\"");
    char *interval = interval_str(stats->config.interval_us), *rules = rules_fired(opts->flags);
    char buf[TRAFAN_ADDRSTRLEN];
    GPtrArray *rows;

    dot_attr_u64(out, "packets", stats->packets);
    dot_attr_u64(out, "bytes", stats->bytes);
    g_string_append(out, ", first_time=\"");
    trafan_append_epoch(out, stats->epoch_base_s, stats->first_ns);
    g_string_append(out, "\", last_time=\"");
    trafan_append_epoch(out, stats->epoch_base_s, stats->last_ns);
    g_string_append_c(out, '"');
    dot_attr_seconds(out, "duration", stats->last_ns - stats->first_ns);
    dot_attr_u64(out, "hosts", g_hash_table_size(stats->hosts));
    dot_attr_u64(out, "conversations", g_hash_table_size(stats->conversations));
    dot_attr_u64(out, "hosts_aggregated", aggregated_hosts(stats));
    dot_attr_str(out, "interval", interval);
    dot_attr_str(out, "filter", opts->filter ? opts->filter : "");
    dot_attr_str(out, "rules", rules);
    g_string_append(out, "];\n");
    g_free(interval);
    g_free(rules);

    rows = trafan_stats_sorted_hosts(stats);
    for (guint i = 0; i < rows->len; i++) {
        const TrafanHost *h = g_ptr_array_index(rows, i);
        gboolean v6 = h->address.family == 6 || h->address.family == TRAFAN_FAMILY_OTHER6;

        g_string_append(out, "  ");
        append_dot_string(out, trafan_address_to_str(&h->address, buf));
        g_string_append_printf(out, " [family=\"%d\"", v6 ? 6 : 4);
        dot_attr_u64(out, "tx_packets", h->tx_packets);
        dot_attr_u64(out, "tx_bytes", h->tx_bytes);
        dot_attr_u64(out, "rx_packets", h->rx_packets);
        dot_attr_u64(out, "rx_bytes", h->rx_bytes);
        dot_attr_u64(out, "packets", h->tx_packets + h->rx_packets);
        dot_attr_u64(out, "bytes", h->tx_bytes + h->rx_bytes);
        dot_attr_u64(out, "peers", h->peers);
        dot_attr_u64(out, "dst_ports", host_dst_ports(h));
        dot_attr_seconds(out, "first", h->first_ns - stats->ref_ns);
        dot_attr_seconds(out, "last", h->last_ns - stats->ref_ns);
        if (h->aggregated)
            dot_attr_u64(out, "aggregated", h->aggregated);
        dot_host_flags(out, h, opts->flags);
        g_string_append(out, "];\n");
    }
    g_ptr_array_unref(rows);

    rows = trafan_stats_sorted_conversations(stats);
    for (guint i = 0; i < rows->len; i++) {
        const TrafanConversation *c = g_ptr_array_index(rows, i);
        char *protocols = protocol_list_str(c->protocols);
        const char *flag = dot_edge_flag(c, opts->flags);

        g_string_append(out, "  ");
        append_dot_string(out, trafan_address_to_str(&c->a, buf));
        g_string_append(out, " -- ");
        append_dot_string(out, trafan_address_to_str(&c->b, buf));
        g_string_append_printf(out, " [a_to_b_packets=\"%" G_GUINT64_FORMAT "\"", c->a_to_b_packets);
        dot_attr_u64(out, "a_to_b_bytes", c->a_to_b_bytes);
        dot_attr_u64(out, "b_to_a_packets", c->b_to_a_packets);
        dot_attr_u64(out, "b_to_a_bytes", c->b_to_a_bytes);
        dot_attr_u64(out, "packets", c->a_to_b_packets + c->b_to_a_packets);
        dot_attr_u64(out, "bytes", c->a_to_b_bytes + c->b_to_a_bytes);
        dot_attr_str(out, "protocol", main_protocol(c->protocols));
        dot_attr_str(out, "protocols", protocols);
        dot_attr_seconds(out, "start", c->first_ns - stats->ref_ns);
        dot_attr_seconds(out, "duration", c->last_ns - c->first_ns);
        if (flag)
            dot_attr_str(out, "flag", flag);
        g_string_append(out, "];\n");
        g_free(protocols);
    }
    g_ptr_array_unref(rows);
    g_string_append(out, "}\n");
    return out;
}

GString *
trafan_report(const TrafanStats *stats, const TrafanReportOptions *opts, TrafanFormat format)
{
    switch (format) {
    case TRAFAN_FORMAT_JSON: return trafan_report_json(stats, opts);
    case TRAFAN_FORMAT_CSV:  return trafan_report_csv(stats, opts);
    default:                 return trafan_report_text(stats, opts);
    }
}

/* ---- the out= directory ------------------------------------------------- */

/* g_file_set_contents() writes a temporary file beside the target and
 * renames it into place, so a reader never sees half a file. */
static gboolean
write_file(const char *dir, const char *name, GString *content, GError **error)
{
    char *path = g_build_filename(dir, name, NULL);
    gboolean ok = g_file_set_contents(path, content->str, (gssize)content->len, error);

    g_free(path);
    g_string_free(content, TRUE);
    return ok;
}

char *
trafan_escape_controls(const char *text)
{
    GString *out = g_string_sized_new(strlen(text));

    for (const char *p = text; *p;) {
        gunichar c = g_utf8_get_char_validated(p, -1);

        if (c == (gunichar)-1 || c == (gunichar)-2) {
            g_string_append_printf(out, "\\x%02x", (guint8)*p++);
        } else if (c == '\n' || c == '\t' || c == '\r') {
            g_string_append_c(out, '\\');
            g_string_append_c(out, c == '\n' ? 'n' : c == '\t' ? 't' : 'r');
            p++;
        } else if (c < 0x20 || c == 0x7f || (c >= 0x80 && c < 0xa0)) {
            g_string_append_printf(out, c < 0x80 ? "\\x%02x" : "\\u%04x", (guint)c);
            p = g_utf8_next_char(p);
        } else {
            const char *next = g_utf8_next_char(p);
            g_string_append_len(out, p, next - p);
            p = next;
        }
    }
    return g_string_free(out, FALSE);
}

static const char *const export_files[] = {
    "conversations.csv", "hosts.csv", "protocols.csv", "bandwidth.csv", "flags.csv", "report.json", "graph.dot",
};

/* The deepest part of path that exists, or NULL. */
static char *
existing_ancestor(const char *path)
{
    char *at = g_strdup(path);

    while (!g_file_test(at, G_FILE_TEST_EXISTS)) {
        char *up = g_path_get_dirname(at);
        gboolean top = strcmp(up, at) == 0;

        g_free(at);
        at = up;
        if (top)
            break;
    }
    return at;
}

static gboolean
dir_error(GError **error, const char *dir, const char *problem)
{
    char *shown = trafan_escape_controls(dir);

    g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_FAILED, "out=%s: %s", shown, problem);
    g_free(shown);
    return FALSE;
}

gboolean
trafan_report_check_dir(const char *dir, GError **error)
{
    char *base = existing_ancestor(dir);
    gboolean is_dir = g_file_test(base, G_FILE_TEST_IS_DIR);
    gboolean writable = is_dir && access(base, W_OK | X_OK) == 0;
    gboolean ok = TRUE;

    if (!is_dir) {
        char *shown = trafan_escape_controls(base), *problem = g_strdup_printf("%s is not a directory", shown);
        ok = dir_error(error, dir, problem);
        g_free(problem);
        g_free(shown);
    } else if (!writable) {
        char *shown = trafan_escape_controls(base);
        char *problem = g_strdup_printf("cannot write into %s: %s", shown, g_strerror(EACCES));
        ok = dir_error(error, dir, problem);
        g_free(problem);
        g_free(shown);
    }
    for (guint i = 0; ok && strcmp(base, dir) == 0 && i < G_N_ELEMENTS(export_files); i++) {
        char *path = g_build_filename(dir, export_files[i], NULL);
        if (g_file_test(path, G_FILE_TEST_IS_DIR)) {
            char *problem = g_strdup_printf("%s is a directory, where the export file goes", export_files[i]);
            ok = dir_error(error, dir, problem);
            g_free(problem);
        }
        g_free(path);
    }
    g_free(base);
    return ok;
}

gboolean
trafan_report_write_dir(const TrafanStats *stats, const TrafanReportOptions *opts,
                        const char *dir, GError **error)
{
    if (g_mkdir_with_parents(dir, 0777) != 0) {
        g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(errno),
                    "cannot create directory %s: %s", dir, g_strerror(errno));
        return FALSE;
    }
    for (guint i = 0; i < N_TABLES; i++) {
        Table *t = csv_table(stats, opts, i);
        GString *csv = g_string_new(NULL);
        char *name = g_strdup_printf("%s.csv", t->name);
        gboolean ok;

        table_csv(t, csv);
        table_free(t);
        ok = write_file(dir, name, csv, error);
        g_free(name);
        if (!ok)
            return FALSE;
    }
    return write_file(dir, "report.json", trafan_report_json(stats, opts), error)
        && write_file(dir, "graph.dot", trafan_report_dot(stats, opts), error);
}
