/* trafan-report — one page from an out= directory: summary, suspicious
 * hosts, bandwidth and protocol charts, top talkers and host graphs, as a
 * self-contained HTML file or a PDF; with --watch, a live dashboard.
 *
 * Exit status: 0 on success, 1 on bad usage, 2 when the directory cannot be
 * reported or the output cannot be written.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "report.h"

#include <errno.h>
#include <getopt.h>
#include <gio/gio.h>
#include <glib-unix.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef TRAFAN_VERSION
#define TRAFAN_VERSION "unknown"
#endif

#define EXIT_USAGE 1
#define EXIT_INPUT 2
#define WATCH_REFRESH 5         /* seconds between reloads of a live page */
#define WATCH_SETTLE_MS 300     /* wait for the rest of the directory's files */

static const char *cmd = "trafan-report";

static const char usage_text[] =
    "Usage: %s [options] DIR -o REPORT.{html,pdf}\n"
    "Write a report of the files trafan wrote into DIR (tshark -z trafan,stat,out=DIR).\n"
    "\n"
    "  -o, --output FILE      the report: .html (self-contained) or .pdf ('-': HTML\n"
    "                         on standard output)\n"
    "  -T, --format FORMAT    html or pdf; default: from the extension of FILE\n"
    "  -t, --title TEXT       title of the report\n"
    "  -n, --top N            rows in the top-N charts and tables (default 10)\n"
    "  -w, --watch            write the report again whenever DIR changes, until\n"
    "                         interrupted; the page reloads itself (HTML only)\n"
    "  -r, --refresh SECONDS  reload the page every SECONDS (default 5 with --watch,\n"
    "                         0 = never)\n"
    "  -h, --help             show this help and exit\n"
    "  -V, --version          show the version and exit\n";

typedef struct {
    const char *dir, *output, *title;
    gboolean pdf, watch;
    guint top, refresh;
} Options;

static G_GNUC_NORETURN G_GNUC_PRINTF(1, 2) void usage_error(const char *fmt, ...)
{
    va_list args;
    fprintf(stderr, "%s: ", cmd);
    va_start(args, fmt);
    vfprintf(stderr, fmt, args);
    va_end(args);
    fprintf(stderr, "\nTry '%s --help' for more information.\n", cmd);
    exit(EXIT_USAGE);
}

static guint parse_count(const char *option, const char *text, guint min, guint max)
{
    guint64 n;

    if (!g_ascii_string_to_unsigned(text, 10, min, max, &n, NULL))
        usage_error("%s wants a number from %u to %u, not '%s'", option, min, max, text);
    return (guint)n;
}

static void parse_args(int argc, char **argv, Options *opts)
{
    static const struct option longopts[] = {
        {"output", required_argument, NULL, 'o'}, {"format", required_argument, NULL, 'T'},
        {"title", required_argument, NULL, 't'},  {"top", required_argument, NULL, 'n'},
        {"watch", no_argument, NULL, 'w'},        {"refresh", required_argument, NULL, 'r'},
        {"help", no_argument, NULL, 'h'},         {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    const char *format = NULL;
    gboolean refresh_given = FALSE;
    int c;

    *opts = (Options){.top = 10};
    while ((c = getopt_long(argc, argv, "o:T:t:n:wr:hV", longopts, NULL)) != -1) {
        switch (c) {
        case 'o': opts->output = optarg; break;
        case 'T': format = optarg; break;
        case 't': opts->title = optarg; break;
        case 'n': opts->top = parse_count("--top", optarg, 1, 1000); break;
        case 'w': opts->watch = TRUE; break;
        case 'r': opts->refresh = parse_count("--refresh", optarg, 0, 86400); refresh_given = TRUE; break;
        case 'h': printf(usage_text, cmd); exit(EXIT_SUCCESS);
        case 'V': printf("%s %s\n", cmd, TRAFAN_VERSION); exit(EXIT_SUCCESS);
        default:
            fprintf(stderr, "Try '%s --help' for more information.\n", cmd);
            exit(EXIT_USAGE);
        }
    }
    if (optind == argc)
        usage_error("no directory: give the one tshark -z trafan,stat,out=DIR wrote");
    opts->dir = argv[optind++];
    if (optind < argc)
        usage_error("one directory at most, '%s' is extra", argv[optind]);
    if (!opts->output)
        usage_error("no output file: give one with -o");
    if (!format) {
        const char *dot = strrchr(opts->output, '.');
        if (strcmp(opts->output, "-") == 0)
            format = "html";
        else if (!dot || strchr(dot, '/'))
            usage_error("cannot tell the format of '%s': name it .html or .pdf, or use -T", opts->output);
        else
            format = dot + 1;
    }
    if (g_ascii_strcasecmp(format, "pdf") == 0)
        opts->pdf = TRUE;
    else if (g_ascii_strcasecmp(format, "html") && g_ascii_strcasecmp(format, "htm"))
        usage_error("unknown format '%s' (html or pdf)", format);
    if (opts->pdf && strcmp(opts->output, "-") == 0)
        usage_error("a PDF needs a file name, not '-'");
    if (opts->watch && opts->pdf)
        usage_error("--watch writes HTML: a PDF cannot reload itself");
    if (opts->watch && strcmp(opts->output, "-") == 0)
        usage_error("--watch needs an output file, not '-'");
    if (!refresh_given && opts->watch)
        opts->refresh = WATCH_REFRESH;
}

/* cgraph reports syntax errors itself: they become our one-line message. */
static int quiet_graphviz(char *message)
{
    return 0;
}

static gboolean write_html(const char *path, const GString *html, GError **error)
{
    if (strcmp(path, "-") == 0) {
        if (fwrite(html->str, 1, html->len, stdout) != html->len || fflush(stdout) != 0) {
            g_set_error(error, TR_ERROR, TR_ERROR_INPUT, "cannot write the report: %s", g_strerror(errno));
            return FALSE;
        }
        return TRUE;
    }
    /* a temporary file beside it, renamed into place */
    return g_file_set_contents_full(path, html->str, (gssize)html->len,
                                    G_FILE_SET_CONTENTS_CONSISTENT, 0666, error);
}

static gboolean write_pdf(const char *path, const GString *html, GError **error)
{
    char *dir = g_dir_make_tmp("trafan-report-XXXXXX", error);
    char *page = dir ? g_build_filename(dir, "report.html", NULL) : NULL;
    gboolean ok = page && g_file_set_contents(page, html->str, (gssize)html->len, error)
                  && tr_pdf_print(page, path, error);

    if (page)
        g_unlink(page);
    if (dir)
        g_rmdir(dir);
    g_free(page);
    g_free(dir);
    return ok;
}

static gboolean render(const Options *opts, GError **error)
{
    TrReport *report = tr_report_load(opts->dir, error);
    char *base = g_path_get_basename(opts->dir);
    char *title = opts->title ? g_strdup(opts->title) : g_strdup_printf("Traffic report: %s", base);
    TrChartOptions chart_opts = {opts->top};
    TrHtmlOptions html_opts = {title, opts->top, opts->refresh};
    GHashTable *charts = NULL;
    GString *html = NULL;
    gboolean ok = FALSE;

    if (!report)
        goto out;
    if (report->graph_missing)
        fprintf(stderr, "%s: warning: no host graph in the report: %s\n", cmd, report->graph_missing);
    charts = tr_charts_render(report, &chart_opts, error);
    html = charts ? tr_html_render(report, charts, &html_opts, error) : NULL;
    if (html)
        ok = opts->pdf ? write_pdf(opts->output, html, error) : write_html(opts->output, html, error);
out:
    if (html)
        g_string_free(html, TRUE);
    if (charts)
        g_hash_table_unref(charts);
    tr_report_free(report);
    g_free(title);
    g_free(base);
    return ok;
}

/* ---- --watch ---- */

typedef struct {
    const Options *opts;
    GMainLoop *loop;
    guint pending;              /* timeout source of the next render */
} Watch;

static gboolean render_now(gpointer data)
{
    Watch *w = data;
    GError *error = NULL;

    w->pending = 0;
    if (render(w->opts, &error)) {
        GDateTime *now = g_date_time_new_now_local();
        char *at = g_date_time_format(now, "%H:%M:%S");
        fprintf(stderr, "%s: %s: wrote %s\n", cmd, at, w->opts->output);
        g_free(at);
        g_date_time_unref(now);
    } else {
        fprintf(stderr, "%s: %s (the last report stays; waiting for %s to change)\n", cmd, error->message,
                w->opts->dir);
        g_error_free(error);
    }
    return G_SOURCE_REMOVE;
}

/* tshark replaces report.json and graph.dot by renaming: render once both
 * have settled. */
static void dir_changed(GFileMonitor *monitor, GFile *file, GFile *other, GFileMonitorEvent event, gpointer data)
{
    Watch *w = data;
    GFile *named = (event == G_FILE_MONITOR_EVENT_RENAMED || event == G_FILE_MONITOR_EVENT_MOVED_IN) && other
                   ? other : file;
    char *name = g_file_get_basename(named);

    if (strcmp(name, "report.json") == 0 || strcmp(name, "graph.dot") == 0) {
        if (w->pending)
            g_source_remove(w->pending);
        w->pending = g_timeout_add(WATCH_SETTLE_MS, render_now, w);
    }
    g_free(name);
}

static gboolean stop(gpointer loop)
{
    g_main_loop_quit(loop);
    return G_SOURCE_REMOVE;
}

static int watch(const Options *opts)
{
    GFile *dir = g_file_new_for_path(opts->dir);
    GError *error = NULL;
    GFileMonitor *monitor;
    Watch w = {opts, g_main_loop_new(NULL, FALSE), 0};

    if (!g_file_test(opts->dir, G_FILE_TEST_IS_DIR)) {
        fprintf(stderr, "%s: %s: no such directory\n", cmd, opts->dir);
        return EXIT_INPUT;
    }
    monitor = g_file_monitor_directory(dir, G_FILE_MONITOR_WATCH_MOVES, NULL, &error);
    if (!monitor) {
        fprintf(stderr, "%s: cannot watch %s: %s\n", cmd, opts->dir, error->message);
        return EXIT_INPUT;
    }
    g_signal_connect(monitor, "changed", G_CALLBACK(dir_changed), &w);
    g_unix_signal_add(SIGINT, stop, w.loop);
    g_unix_signal_add(SIGTERM, stop, w.loop);
    render_now(&w);
    g_main_loop_run(w.loop);

    if (w.pending)
        g_source_remove(w.pending);
    g_object_unref(monitor);
    g_object_unref(dir);
    g_main_loop_unref(w.loop);
    return EXIT_SUCCESS;
}

int main(int argc, char **argv)
{
    Options opts;
    GError *error = NULL;

    parse_args(argc, argv, &opts);
    agseterrf(quiet_graphviz);
    if (opts.watch)
        return watch(&opts);
    if (!render(&opts, &error)) {
        fprintf(stderr, "%s: %s\n", cmd, error->message);
        g_error_free(error);
        return EXIT_INPUT;
    }
    return EXIT_SUCCESS;
}
