/* report.h — text, JSON, CSV and DOT renderings of the statistics.
 *
 * Every figure is a raw integer or an exact decimal built from integers, so
 * no report depends on the locale or on floating-point rounding.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef TRAFAN_REPORT_H
#define TRAFAN_REPORT_H

#include "stats.h"
#include "flag.h"
#include "detect.h"

G_BEGIN_DECLS

typedef enum { TRAFAN_FORMAT_TEXT, TRAFAN_FORMAT_JSON, TRAFAN_FORMAT_CSV } TrafanFormat;

typedef struct {
    guint            top;       /* rows per table in the text report; 0 = all */
    const char      *filter;    /* the display filter, or NULL */
    const GPtrArray *flags;     /* TrafanFlag *, or NULL */
    const TrafanDetectorUsage *detector;    /* JSON "detector", a text line once keys were refused; or NULL */
} TrafanReportOptions;

/* The stats must have been through trafan_stats_finish(). */
GString *trafan_report_text(const TrafanStats *stats, const TrafanReportOptions *opts);
GString *trafan_report_json(const TrafanStats *stats, const TrafanReportOptions *opts);
GString *trafan_report_csv(const TrafanStats *stats, const TrafanReportOptions *opts);
GString *trafan_report_dot(const TrafanStats *stats, const TrafanReportOptions *opts);
GString *trafan_report(const TrafanStats *stats, const TrafanReportOptions *opts, TrafanFormat format);

/* Write conversations.csv, hosts.csv, protocols.csv, bandwidth.csv,
 * flags.csv, report.json and graph.dot into dir, each through a temporary
 * file renamed into place. */
gboolean trafan_report_write_dir(const TrafanStats *stats, const TrafanReportOptions *opts,
                                 const char *dir, GError **error);

/* Can the export files be written into dir (created if missing)?  Checked
 * before the first packet, so a bad out= fails at once. */
gboolean trafan_report_check_dir(const char *dir, GError **error);

/* Helpers shared with the tools: seconds with nine decimals from nanoseconds. */
void trafan_append_seconds(GString *out, gint64 ns);
/* An absolute time, base_s + ns, as frame.time_epoch shows it. */
void trafan_append_epoch(GString *out, gint64 base_s, gint64 ns);

/* text with control characters and invalid UTF-8 bytes as \n, \t, \r or
 * \xHH, safe to print on a terminal.  Free with g_free(). */
char *trafan_escape_controls(const char *text);

G_END_DECLS

#endif
