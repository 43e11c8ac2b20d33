/* report.h — trafan-report: an out= directory (report.json, graph.dot) read
 * back, charted with gnuplot and written as one HTML page or a PDF.
 *
 * tr_report_load() reads the directory, tr_series_new() turns the bandwidth
 * buckets into the points drawn, tr_charts_render() runs gnuplot once for
 * every chart, tr_html_render() assembles the page and tr_pdf_print() prints
 * it with a headless Chromium.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef TRAFAN_REPORT_TOOL_H
#define TRAFAN_REPORT_TOOL_H

#include <glib.h>
#include "hostgraph.h"

G_BEGIN_DECLS

#define TR_FORMAT_VERSION 1     /* trafan_format of report.json we read */

#define TR_ERROR (tr_error_quark())
typedef enum {
    TR_ERROR_INPUT,             /* the directory cannot be reported */
    TR_ERROR_TOOL,              /* gnuplot or chromium missing or failing */
} TrError;
GQuark tr_error_quark(void);

typedef struct {
    char   *name;
    guint64 packets, bytes;
} TrProtocol;

typedef struct {
    char   *a, *b;
    guint64 a_to_b_packets, a_to_b_bytes, b_to_a_packets, b_to_a_bytes, packets, bytes;
    double  start, duration;
    char   *protocols;          /* "tls:297,tcp:292", biggest first */
} TrConversation;

typedef struct {
    char   *address;
    guint64 tx_packets, tx_bytes, rx_packets, rx_bytes, peers, dst_ports, aggregated;
    double  first_seen, last_seen;
} TrHost;

typedef struct {
    char   *address;
    guint64 count;
} TrPeer;

typedef struct {
    char   *host, *role, *rule;
    double  start, end, window;
    char   *observed, *threshold; /* as written in report.json */
    gboolean approximate;
    guint64 peers_total;
    GArray *peers;              /* TrPeer */
    char   *filter, *summary;
} TrFlag;

typedef struct {
    double   start;             /* relative to the first packet */
    guint64  packets, bytes;
    guint64 *protocol_bytes;    /* one per TrReport.bandwidth_protocols */
} TrBucket;

typedef struct {
    char   *dir;
    guint64 packets, bytes, host_count, conversation_count, hosts_aggregated;
    double  first_time, last_time, duration;
    char   *filter;
    GPtrArray *protocols;       /* TrProtocol *, biggest first */
    GPtrArray *hosts;           /* TrHost * */
    GPtrArray *conversations;   /* TrConversation *, biggest first */
    GPtrArray *flags;           /* TrFlag * */
    double  interval;           /* seconds */
    GArray *buckets;            /* TrBucket, empty intervals omitted */
    GPtrArray *bandwidth_protocols; /* char *: protocols charted over time */
    Agraph_t *graph;            /* graph.dot, or NULL */
    char   *graph_missing;      /* why there is no graph, or NULL */
} TrReport;

/* NULL with an error naming the problem: no report.json, another format,
 * bad JSON, an empty capture.  A missing or unreadable graph.dot is no
 * error: graph is then NULL and graph_missing says why. */
TrReport *tr_report_load(const char *dir, GError **error);
void      tr_report_free(TrReport *report);

/* The points drawn: every interval from the first to the last bucket, empty
 * ones as zeros, summed `per_point` intervals at a time so that there are
 * at most max_points.  Sums are exact: the series' totals are the
 * capture's. */
typedef struct {
    guint    per_point;         /* intervals summed into one point */
    double   step;              /* seconds per point */
    GArray  *points;            /* TrBucket, protocol_bytes owned */
    guint    n_protocols;
} TrSeries;

TrSeries *tr_series_new(const TrReport *report, guint max_points);
void      tr_series_free(TrSeries *series);

typedef struct {
    guint top;                  /* bars in the top charts */
} TrChartOptions;

/* Run gnuplot once for every chart; returns chart name -> inline <svg>
 * markup ("bandwidth", "protocol-bandwidth", "protocols", "sources",
 * "conversations"). */
GHashTable *tr_charts_render(const TrReport *report, const TrChartOptions *opts, GError **error);

typedef struct {
    const char *title;
    guint       top;            /* rows in the top tables */
    guint       refresh;        /* seconds between reloads, 0 for none */
} TrHtmlOptions;

/* The whole page, self-contained. */
GString *tr_html_render(const TrReport *report, GHashTable *charts, const TrHtmlOptions *opts,
                        GError **error);

/* Print an HTML file to PDF with a headless Chromium. */
gboolean tr_pdf_print(const char *html_path, const char *pdf_path, GError **error);

/* Hosts that sent, by bytes sent, biggest first (the array owns no host). */
GPtrArray *tr_top_sources(const TrReport *report);

/* Helpers shared with the tests. */
char *tr_number_text(double value);           /* shortest text that reads back */
char *tr_wall_clock(double epoch, gboolean with_date);  /* UTC, milliseconds */
char *tr_find_program(const char *const *names);

G_END_DECLS

#endif
