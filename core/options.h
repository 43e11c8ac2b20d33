/* options.h — the arguments of `-z trafan,stat[,name=value...][,FILTER]`.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef TRAFAN_OPTIONS_H
#define TRAFAN_OPTIONS_H

#include "stats.h"
#include "report.h"
#include "detect.h"

G_BEGIN_DECLS

#define TRAFAN_DEFAULT_TOP 10u

typedef struct {
    TrafanConfig stats;
    TrafanFormat format;
    guint        top;           /* rows per text table; 0 = all */
    char        *out_dir;       /* also write the export files here */
    guint        live_seconds;  /* status line every N s of capture time; 0 = off */
    gboolean     protocol_tree; /* dissect with a protocol tree: see README, "Protocols" */
    char        *filter;        /* display filter, or NULL */
    char        *warning;       /* a likely mistake to print on stderr, or NULL */
    TrafanDetectConfig detect;  /* thresholds: preferences, then -z options */
} TrafanRunOptions;

void     trafan_run_options_init(TrafanRunOptions *opts);
void     trafan_run_options_clear(TrafanRunOptions *opts);

/* Parse what follows "trafan,stat" in a -z argument: "" or ",opt=val,...[,FILTER]".
 * Detection options (core/detect.h) are accepted by name as well.
 * The filter is everything from the first element that is not an option
 * (it may contain commas).  An element shaped like an option (word=value,
 * not ==) must be a known option.  Errors name the problem and list the
 * valid options; values are shown with control characters escaped.  A
 * filter right after an option that takes a list (allowlist=a,b) leaves a
 * warning: the comma was probably meant to separate list values. */
gboolean trafan_run_options_parse(TrafanRunOptions *opts, const char *args, GError **error);

/* Parse an interval in seconds ("1", "0.25", "0.000001") into microseconds;
 * on FALSE *interval_us is unchanged. */
gboolean trafan_parse_interval(const char *text, gint64 *interval_us);

/* "format=text|json|csv, top=N, ..." for error messages and help. */
const char *trafan_run_options_usage(void);

G_END_DECLS

#endif
