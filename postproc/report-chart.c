/* report-chart.c — the report's charts, drawn by gnuplot.
 *
 * One gnuplot run writes every chart as SVG into a temporary folder, from
 * tab-separated data files there; the SVG is then inlined into the page.
 * Times are drawn as wall-clock UTC, rates per second, bytes with SI
 * prefixes.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "report.h"

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

#define MAX_POINTS    600       /* per time series: more is finer than the picture */
#define WIDTH         960
#define SOURCE_COLOUR "#d7191c" /* as trafan-graph's flagged sources */
#define SPIKE_COLOUR  "#d7191c"
#define FLAG_COLOUR   "#fd8d3c"
#define BYTES_COLOUR  "#2171b5"
#define PACKETS_COLOUR "#238b45"
#define BAR_COLOUR    "#4a6d8c"
#define OTHER_COLOUR  "#bdbdbd"

typedef struct {
    char    *dir;               /* temporary folder */
    GString *script;
    GPtrArray *charts;          /* names */
} Plot;

/* Text for gnuplot: its single-quoted strings and tab-separated columns,
 * and SVG it does not fully escape.  Quotes, markup and control characters
 * are no part of addresses or protocol names. */
static char *plain(const char *text, gsize max_chars)
{
    char *valid = g_utf8_make_valid(text, -1);
    GString *out = g_string_new(NULL);
    gsize chars = 0;
    const char *p;

    for (p = valid; *p && chars < max_chars; p = g_utf8_next_char(p), chars++) {
        gunichar c = g_utf8_get_char(p);
        if (c < 0x20 || c == 0x7f || (c < 0x80 && strchr("'\"\\<>&", (int)c)))
            g_string_append_c(out, '?');
        else
            g_string_append_unichar(out, c);
    }
    if (*p)
        g_string_append(out, "\u2026");
    g_free(valid);
    return g_string_free(out, FALSE);
}

static char *data_path(const Plot *plot, const char *name)
{
    char *file = g_strdup_printf("%s.tsv", name);
    char *path = g_build_filename(plot->dir, file, NULL);

    g_free(file);
    return path;
}

static gboolean write_data(const Plot *plot, const char *name, GString *data, GError **error)
{
    char *path = data_path(plot, name);
    gboolean ok = g_file_set_contents(path, data->str, (gssize)data->len, error);

    g_free(path);
    g_string_free(data, TRUE);
    return ok;
}

static void begin_chart(Plot *plot, const char *name, int height)
{
    char *out = g_build_filename(plot->dir, name, NULL);
    char *id = g_strdelimit(g_strdup(name), "-", '_');

    g_string_append_printf(plot->script,
                           "\nreset\n"
                           "set terminal svg size %d,%d dynamic enhanced font 'Helvetica,12' "
                           "name '%s' background '#ffffff'\n"
                           "set output '%s.svg'\n"
                           "set datafile separator '\\t'\n"
                           "set border 3 lc rgb '#555555'\n"
                           "set tics nomirror textcolor rgb '#333333' noenhanced\n"
                           "set key off\n",
                           WIDTH, height, id, out);
    g_ptr_array_add(plot->charts, g_strdup(name));
    g_free(id);
    g_free(out);
}

/* Values drawn in a unit that keeps tic labels short and exact: "1.5" on
 * an axis in MB/s rather than "1500000" or a rounded "2 M". */
typedef struct {
    double divisor;
    const char *prefix;         /* SI: "", "k", "M", ... */
    const char *words;          /* "", "thousands", "millions", ... */
} Scale;

static Scale scale_for(double max)
{
    static const Scale scales[] = {
        {1, "", ""}, {1e3, "k", ", thousands"}, {1e6, "M", ", millions"},
        {1e9, "G", ", billions"}, {1e12, "T", ", trillions"}, {1e15, "P", ", 10^15"},
    };
    guint i = 0;

    while (i + 1 < G_N_ELEMENTS(scales) && max >= scales[i + 1].divisor)
        i++;
    return scales[i];
}

/* ---- time series ---- */

static const char *time_format(double span)
{
    if (span <= 20)
        return "%H:%M:%.1S";
    if (span <= 2 * 3600)
        return "%H:%M:%S";
    if (span <= 2 * 86400)
        return "%H:%M";
    return "%m-%d %H:%M";
}

/* "time (UTC), 2023-11-14" or "..., 2023-11-14 to 2023-11-16". */
static char *time_label(double from, double to)
{
    char *a = tr_wall_clock(from, TRUE), *b = tr_wall_clock(to, TRUE);
    char *label = strncmp(a, b, 10) == 0 ? g_strdup_printf("time (UTC), %.10s", a)
                                         : g_strdup_printf("time (UTC), %.10s to %.10s", a, b);
    g_free(a);
    g_free(b);
    return label;
}

static void time_axis(Plot *plot, const TrReport *r, double x0, double x1)
{
    char *label = time_label(x0, x1);

    g_string_append_printf(plot->script,
                           "set xdata time\n"
                           "set format x '%s'\n"
                           "set xrange [%.6f:%.6f]\n"
                           "set xlabel '%s' noenhanced\n"
                           "set grid xtics ytics lc rgb '#e0e0e0' lt 1\n",
                           time_format(x1 - x0), x0, x1, label);
    g_free(label);
}

#define MAX_LANES   6
#define LANE_HEIGHT 0.05        /* of the panel */

/* Each flag's span, shaded behind the curves; with `lanes`, also a bar per
 * flag in lanes above the curves, numbered as in the suspicious-hosts
 * table.  A span too thin to see is widened. */
static void flag_marks(Plot *plot, const TrReport *r, double x0, double x1, gboolean lanes)
{
    double min_width = (x1 - x0) * 0.004;
    guint n_lanes = MIN(r->flags->len, MAX_LANES);

    for (guint i = 0; i < r->flags->len; i++) {
        const TrFlag *f = g_ptr_array_index(r->flags, i);
        gboolean spike = strcmp(f->rule, "bandwidth_spike") == 0;
        const char *colour = spike ? SPIKE_COLOUR : FLAG_COLOUR;
        double a = r->first_time + f->start, b = r->first_time + f->end;
        double top = 1 - (i % MAX_LANES) * LANE_HEIGHT - 0.01;

        if (b - a < min_width) {
            double mid = (a + b) / 2;
            a = mid - min_width / 2;
            b = mid + min_width / 2;
        }
        /* a long span shaded would only tint the whole chart */
        if (spike || b - a < (x1 - x0) / 4)
            g_string_append_printf(plot->script,
                                   "set object %u rect from %.6f, graph 0 to %.6f, graph 1 behind "
                                   "fc rgb '%s' fs transparent solid %.2f noborder\n",
                                   2 * i + 1, a, b, colour, spike ? 0.3 : 0.15);
        if (lanes)
            g_string_append_printf(plot->script,
                                   "set object %u rect from %.6f, graph %.3f to %.6f, graph %.3f front "
                                   "fc rgb '%s' fs solid 1 noborder\n"
                                   "set label %u '%u' at %.6f, graph %.3f left offset char 0.4,0 "
                                   "textcolor rgb '%s' font ',10' front noenhanced\n",
                                   2 * i + 2, a, top - LANE_HEIGHT * 0.6, b, top, colour, i + 1, i + 1,
                                   b, top - LANE_HEIGHT * 0.3, colour);
    }
    /* room above the curves for the lanes */
    if (lanes && n_lanes) {
        double used = n_lanes * LANE_HEIGHT + 0.02;
        g_string_append_printf(plot->script, "set offsets 0, 0, graph %.3f, 0\n", used / (1 - used));
    }
}

static void flag_marks_clear(Plot *plot)
{
    g_string_append(plot->script, "unset object\nunset label\nset offsets 0, 0, 0, 0\n");
}

/* Columns: time, bytes/s, packets/s, then bytes/s stacked per protocol
 * (each the running sum), the last of which is every byte. */
static gboolean bandwidth_data(Plot *plot, const TrReport *r, const TrSeries *s, GError **error)
{
    GString *data = g_string_new(NULL);

    for (guint k = 0; k <= s->points->len; k++) {
        /* the last row repeats the last point at its end, where its step stops */
        const TrBucket *p = &g_array_index(s->points, TrBucket, MIN(k, s->points->len - 1));
        double x = r->first_time + (k < s->points->len ? p->start : p->start + s->step);
        guint64 stacked = 0;
        char num[G_ASCII_DTOSTR_BUF_SIZE];

        g_string_append(data, g_ascii_formatd(num, sizeof num, "%.6f", x));
        g_string_append_printf(data, "\t%s", g_ascii_formatd(num, sizeof num, "%.6g", p->bytes / s->step));
        g_string_append_printf(data, "\t%s", g_ascii_formatd(num, sizeof num, "%.6g", p->packets / s->step));
        for (guint j = 0; j < s->n_protocols; j++) {
            stacked += p->protocol_bytes[j];
            g_string_append_printf(data, "\t%s", g_ascii_formatd(num, sizeof num, "%.6g", stacked / s->step));
        }
        g_string_append_printf(data, "\t%s\n", g_ascii_formatd(num, sizeof num, "%.6g", p->bytes / s->step));
    }
    return write_data(plot, "series", data, error);
}

static void series_max(const TrSeries *s, double *bytes, double *packets)
{
    *bytes = *packets = 0;
    for (guint k = 0; k < s->points->len; k++) {
        const TrBucket *p = &g_array_index(s->points, TrBucket, k);
        *bytes = MAX(*bytes, p->bytes / s->step);
        *packets = MAX(*packets, p->packets / s->step);
    }
}

static void bandwidth_chart(Plot *plot, const TrReport *r, const TrSeries *s, double x0, double x1)
{
    char *file = data_path(plot, "series"), *step = tr_number_text(s->step);
    char *per = s->per_point > 1 ? g_strdup_printf(" (mean over %s s)", step) : g_strdup("");
    char *label = time_label(x0, x1);
    double max_bytes, max_packets;

    series_max(s, &max_bytes, &max_packets);
    Scale bytes = scale_for(max_bytes), packets = scale_for(max_packets);
    begin_chart(plot, "bandwidth", 520);
    time_axis(plot, r, x0, x1);
    flag_marks(plot, r, x0, x1, TRUE);
    g_string_append_printf(plot->script,
                           "set multiplot layout 2,1 margins 0.1,0.96,0.12,0.97 spacing 0,0.08\n"
                           "set format y '%%g'\n"
                           "set ylabel 'bytes per second (%sB/s)' noenhanced\n"
                           "set yrange [0:*]\n"
                           "set style fill solid 0.35 noborder\n"
                           "set format x ''\n"
                           "unset xlabel\n"
                           "plot '%s' using ($1):($2/%g) with fillsteps fc rgb '%s' title 'bytes/s%s' noenhanced, "
                           "'' using ($1):($2/%g) with steps lc rgb '%s' lw 1.2 title 'bytes/s%s' noenhanced\n",
                           bytes.prefix, file, bytes.divisor, BYTES_COLOUR, per, bytes.divisor, BYTES_COLOUR, per);
    flag_marks_clear(plot);
    flag_marks(plot, r, x0, x1, FALSE);
    g_string_append_printf(plot->script,
                           "set format x '%s'\n"
                           "set xlabel '%s' noenhanced\n"
                           "set ylabel 'packets per second%s' noenhanced\n"
                           "plot '%s' using ($1):($3/%g) with steps lc rgb '%s' lw 1.2 title 'packets/s%s' noenhanced\n"
                           "unset multiplot\n",
                           time_format(x1 - x0), label, packets.words, file, packets.divisor, PACKETS_COLOUR, per);
    g_free(label);
    g_free(per);
    g_free(step);
    g_free(file);
}

static void protocol_bandwidth_chart(Plot *plot, const TrReport *r, const TrSeries *s,
                                     double x0, double x1)
{
    char *file = data_path(plot, "series");
    guint spare = 0, other = 3 + s->n_protocols + 1;
    const char **colours = g_new0(const char *, s->n_protocols + 1);
    double max_bytes, max_packets;

    series_max(s, &max_bytes, &max_packets);
    Scale bytes = scale_for(max_bytes);
    for (guint j = 0; j < s->n_protocols; j++)
        colours[j] = tg_protocol_colour(g_ptr_array_index(r->bandwidth_protocols, j), &spare);
    begin_chart(plot, "protocol-bandwidth", 360);
    time_axis(plot, r, x0, x1);
    flag_marks(plot, r, x0, x1, FALSE);
    g_string_append_printf(plot->script,
                           "set key outside right top vertical Left reverse samplen 1.5\n"
                           "set format y '%%g'\n"
                           "set ylabel 'bytes per second (%sB/s)' noenhanced\n"
                           "set yrange [0:*]\n"
                           "set style fill solid 0.85 noborder\n"
                           "plot '%s' using ($1):($%u/%g) with fillsteps fc rgb '%s' title 'other' noenhanced",
                           bytes.prefix, file, other, bytes.divisor, OTHER_COLOUR);
    /* Drawn from the top of the stack down, each over the one above. */
    for (guint j = s->n_protocols; j-- > 0;) {
        char *name = plain(g_ptr_array_index(r->bandwidth_protocols, j), 24);
        g_string_append_printf(plot->script, ", '' using ($1):($%u/%g) with fillsteps fc rgb '%s' title '%s' noenhanced",
                               4 + j, bytes.divisor, colours[j], name);
        g_free(name);
    }
    g_string_append_c(plot->script, '\n');
    g_free(colours);
    g_free(file);
}

/* ---- bars ---- */

typedef struct {
    char   *label, *tooltip, *value_text;
    guint64 value;
    const char *colour;
} Bar;

static void bar_clear(gpointer p)
{
    Bar *b = p;
    g_free(b->label);
    g_free(b->tooltip);
    g_free(b->value_text);
}

/* Horizontal bars, biggest on top, each with its value at its end and a
 * tooltip of its own. */
static gboolean bar_chart(Plot *plot, const char *name, const char *axis, GArray *bars, GError **error)
{
    GString *data = g_string_new(NULL);
    guint64 max = 1;
    char *file = data_path(plot, name);

    if (bars->len == 0) {               /* no chart: the page says so */
        g_string_free(data, TRUE);
        g_free(file);
        return TRUE;
    }
    for (guint i = 0; i < bars->len; i++) {
        const Bar *b = &g_array_index(bars, Bar, i);
        g_string_append_printf(data, "%s\t%" G_GUINT64_FORMAT "\t%s\n", b->label, b->value, b->value_text);
        max = MAX(max, b->value);
    }
    if (!write_data(plot, name, data, error)) {
        g_free(file);
        return FALSE;
    }
    Scale scale = scale_for((double)max);
    begin_chart(plot, name, 70 + 30 * MAX(bars->len, 1));
    g_string_append_printf(plot->script,
                           "set yrange [%f:-0.5]\n"
                           "set xrange [0:%g]\n"
                           "set format x '%%g'\n"
                           "set xlabel '%s (%sB)' noenhanced\n"
                           "set grid xtics lc rgb '#e0e0e0' lt 1\n"
                           "set ytics scale 0\n"
                           "set style fill solid 0.9 noborder\n"
                           "plot ",
                           bars->len - 0.5, (max + max / 4) / scale.divisor, axis, scale.prefix);
    for (guint i = 0; i < bars->len; i++) {
        const Bar *b = &g_array_index(bars, Bar, i);
        g_string_append_printf(plot->script,
                               "'%s' every ::%u::%u using ($2/%g):(%u):($2/%g):(0.38):yticlabels(1) "
                               "with boxxyerror fc rgb '%s' title '%s' noenhanced, ",
                               file, i, i, 2 * scale.divisor, i, 2 * scale.divisor, b->colour, b->tooltip);
    }
    g_string_append_printf(plot->script,
                           "'%s' using ($2/%g):0:3 with labels left offset char 0.6,0 textcolor rgb '#333333' "
                           "notitle\n", file, scale.divisor);
    g_free(file);
    return TRUE;
}

/* At most max_chars, cut in the middle: the ends of addresses tell them apart. */
static char *shorten(const char *text, glong max_chars)
{
    char *clean = plain(text, 200), *head, *tail, *out;
    glong len = g_utf8_strlen(clean, -1);

    if (len <= max_chars)
        return clean;
    head = g_utf8_substring(clean, 0, (max_chars - 1) / 2);
    tail = g_utf8_substring(clean, len - max_chars / 2, len);
    out = g_strconcat(head, "\u2026", tail, NULL);
    g_free(head);
    g_free(tail);
    g_free(clean);
    return out;
}

/* A bar labelled `label` (shortened), its tooltip naming `name` in full. */
static Bar bar_new(char *label, const char *name_text, guint64 bytes, guint64 packets, const char *what,
                   const char *colour)
{
    char *name = plain(name_text, 100), *size = tg_format_bytes(bytes), *count = tg_format_count(packets);
    Bar b = {
        .label = label,
        .tooltip = g_strdup_printf("%s: %" G_GUINT64_FORMAT " bytes, %" G_GUINT64_FORMAT " packet%s%s",
                                   name, bytes, packets, packets == 1 ? "" : "s", what),
        .value_text = g_strdup_printf("%s, %s packet%s", size, count, packets == 1 ? "" : "s"),
        .value = bytes,
        .colour = colour,
    };
    g_free(name);
    g_free(size);
    g_free(count);
    return b;
}

static GArray *bars_new(void)
{
    GArray *bars = g_array_new(FALSE, TRUE, sizeof(Bar));
    g_array_set_clear_func(bars, bar_clear);
    return bars;
}

static int compare_tx_bytes(gconstpointer pa, gconstpointer pb)
{
    const TrHost *a = *(TrHost *const *)pa, *b = *(TrHost *const *)pb;
    if (a->tx_bytes != b->tx_bytes)
        return a->tx_bytes > b->tx_bytes ? -1 : 1;
    return strcmp(a->address, b->address);
}

/* Hosts that sent, by bytes sent, biggest first: the top sources. */
GPtrArray *tr_top_sources(const TrReport *r)
{
    GPtrArray *sorted = g_ptr_array_sized_new(r->hosts->len);

    for (guint i = 0; i < r->hosts->len; i++)
        if (((TrHost *)g_ptr_array_index(r->hosts, i))->tx_packets)
            g_ptr_array_add(sorted, g_ptr_array_index(r->hosts, i));
    g_ptr_array_sort(sorted, compare_tx_bytes);
    return sorted;
}

static gboolean is_flagged(const TrReport *r, const char *host)
{
    for (guint i = 0; i < r->flags->len; i++)
        if (strcmp(((TrFlag *)g_ptr_array_index(r->flags, i))->host, host) == 0)
            return TRUE;
    return FALSE;
}

static gboolean top_charts(Plot *plot, const TrReport *r, guint top, GError **error)
{
    GArray *bars = bars_new();
    GPtrArray *sources = tr_top_sources(r);
    guint spare = 0;
    gboolean ok;

    for (guint i = 0; i < MIN(top, r->protocols->len); i++) {
        const TrProtocol *p = g_ptr_array_index(r->protocols, i);
        Bar b = bar_new(shorten(p->name, 30), p->name, p->bytes, p->packets, "",
                        tg_protocol_colour(p->name, &spare));
        g_array_append_val(bars, b);
    }
    ok = bar_chart(plot, "protocols", "bytes (highest protocol layer)", bars, error);

    g_array_set_size(bars, 0);
    for (guint i = 0; ok && i < MIN(top, sources->len); i++) {
        const TrHost *h = g_ptr_array_index(sources, i);
        Bar b = bar_new(shorten(h->address, 30), h->address, h->tx_bytes, h->tx_packets, " sent",
                        is_flagged(r, h->address) ? SOURCE_COLOUR : BAR_COLOUR);
        g_array_append_val(bars, b);
    }
    ok = ok && bar_chart(plot, "sources", "bytes sent", bars, error);

    g_array_set_size(bars, 0);
    for (guint i = 0; ok && i < MIN(top, r->conversations->len); i++) {
        const TrConversation *c = g_ptr_array_index(r->conversations, i);
        char *pair = g_strdup_printf("%s \u2013 %s", c->a, c->b);
        char *a = shorten(c->a, 19), *b_ = shorten(c->b, 19);
        Bar b = bar_new(g_strdup_printf("%s \u2013 %s", a, b_), pair, c->bytes, c->packets, " both ways",
                        is_flagged(r, c->a) || is_flagged(r, c->b) ? SOURCE_COLOUR : BAR_COLOUR);
        g_array_append_val(bars, b);
        g_free(a);
        g_free(b_);
        g_free(pair);
    }
    ok = ok && bar_chart(plot, "conversations", "bytes, both directions", bars, error);
    g_array_unref(bars);
    g_ptr_array_unref(sources);
    return ok;
}

/* ---- running gnuplot ---- */

static gboolean run_gnuplot(const Plot *plot, GError **error)
{
    static const char *const names[] = {"gnuplot", "gnuplot-nox", NULL};
    char *gnuplot = tr_find_program(names);
    char *script = g_build_filename(plot->dir, "charts.gp", NULL);
    char *err = NULL;
    GSubprocess *proc = NULL;
    gboolean ok = FALSE;

    if (!gnuplot) {
        g_set_error(error, TR_ERROR, TR_ERROR_TOOL,
                    "the charts need gnuplot, which is not installed (Debian package gnuplot-nox)");
        goto out;
    }
    if (!g_file_set_contents(script, plot->script->str, (gssize)plot->script->len, error))
        goto out;
    proc = g_subprocess_new(G_SUBPROCESS_FLAGS_STDOUT_SILENCE | G_SUBPROCESS_FLAGS_STDERR_PIPE, error,
                            gnuplot, script, NULL);
    if (!proc || !g_subprocess_communicate_utf8(proc, NULL, NULL, NULL, &err, error))
        goto out;
    if (!g_subprocess_get_if_exited(proc) || g_subprocess_get_exit_status(proc) != 0) {
        g_set_error(error, TR_ERROR, TR_ERROR_TOOL, "gnuplot failed: %s",
                    err && *err ? g_strstrip(err) : "no message");
        goto out;
    }
    ok = TRUE;
out:
    g_clear_object(&proc);
    g_free(err);
    g_free(script);
    g_free(gnuplot);
    return ok;
}

static void remove_dir(const char *path)
{
    GDir *dir = g_dir_open(path, 0, NULL);
    const char *name;

    while (dir && (name = g_dir_read_name(dir))) {
        char *file = g_build_filename(path, name, NULL);
        g_unlink(file);
        g_free(file);
    }
    if (dir)
        g_dir_close(dir);
    g_rmdir(path);
}

/* The <svg> element of a file gnuplot wrote, without the XML prologue. */
static char *read_svg(const Plot *plot, const char *name, GError **error)
{
    char *file = g_strdup_printf("%s.svg", name);
    char *path = g_build_filename(plot->dir, file, NULL);
    char *svg = NULL, *start = NULL;

    if (g_file_get_contents(path, &svg, NULL, error) && !(start = strstr(svg, "<svg"))) {
        g_set_error(error, TR_ERROR, TR_ERROR_TOOL, "gnuplot wrote no SVG for the %s chart", name);
        g_clear_pointer(&svg, g_free);
    }
    if (start)
        memmove(svg, start, strlen(start) + 1);
    g_free(path);
    g_free(file);
    return svg;
}

GHashTable *tr_charts_render(const TrReport *r, const TrChartOptions *opts, GError **error)
{
    Plot plot = {
        .dir = g_dir_make_tmp("trafan-report-XXXXXX", error),
        .script = g_string_new("# trafan-report charts\nset encoding utf8\n"),
        .charts = g_ptr_array_new_with_free_func(g_free),
    };
    GHashTable *charts = NULL;
    TrSeries *series = tr_series_new(r, MAX_POINTS);
    gboolean ok = plot.dir != NULL;

    if (ok && series->points->len) {
        double x0 = r->first_time + g_array_index(series->points, TrBucket, 0).start;
        double x1 = MAX(r->first_time + r->duration, x0 + series->points->len * series->step);
        ok = bandwidth_data(&plot, r, series, error);
        if (ok) {
            bandwidth_chart(&plot, r, series, x0, x1);
            protocol_bandwidth_chart(&plot, r, series, x0, x1);
        }
    }
    ok = ok && top_charts(&plot, r, opts->top, error) && run_gnuplot(&plot, error);
    if (ok) {
        charts = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
        for (guint i = 0; ok && i < plot.charts->len; i++) {
            const char *name = g_ptr_array_index(plot.charts, i);
            char *svg = read_svg(&plot, name, error);
            ok = svg != NULL;
            if (ok)
                g_hash_table_insert(charts, g_strdup(name), svg);
        }
        if (!ok)
            g_clear_pointer(&charts, g_hash_table_unref);
    }
    if (plot.dir)
        remove_dir(plot.dir);
    g_free(plot.dir);
    g_string_free(plot.script, TRUE);
    g_ptr_array_unref(plot.charts);
    tr_series_free(series);
    return charts;
}
