/* menu.c — Tools ▸ Traffic Analysis (trafan) ▸ Host Graph: the open
 * capture's host graph, drawn in the background and opened in the
 * desktop's SVG viewer.
 *
 * The menu comes through plugin_if's ext_menubar API; the capture file's
 * name and display filter through plugin_if_get_capture_file().  Two
 * subprocesses run one after the other without blocking Wireshark:
 *     tshark [-2] -q -r FILE -z trafan,stat,out=DIR[,DISPLAY FILTER]
 *     trafan-graph --title NAME DIR/graph.dot -o DIR/hosts.svg
 * and GIO opens DIR/hosts.svg with the default handler of image/svg+xml.
 * Whatever is missing (a file, tshark, trafan-graph, a viewer) is said in
 * Wireshark's error dialog.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#define WS_BUILD_DLL
#include <string.h>

#include <gio/gio.h>
#include <wireshark.h>
#include <epan/plugin_if.h>
#include <wsutil/filesystem.h>
#include <wsutil/report_message.h>

#include "compat.h"
#include "trafan-plugin.h"

typedef struct {
    char *capture;      /* path of the open capture file */
    char *filter;       /* its display filter, or NULL */
    char *dir;          /* where the export and the picture go */
    char *svg;
} GraphJob;

static void
job_free(GraphJob *job)
{
    g_free(job->capture);
    g_free(job->filter);
    g_free(job->dir);
    g_free(job->svg);
    g_free(job);
}

static void
fail(GraphJob *job, const char *format, ...) G_GNUC_PRINTF(2, 3);

static void
fail(GraphJob *job, const char *format, ...)
{
    va_list args;
    char *message;

    va_start(args, format);
    message = g_strdup_vprintf(format, args);
    va_end(args);
    report_failure("Traffic Analysis (trafan): %s", message);
    g_free(message);
    if (job)
        job_free(job);
}

static void
viewer_done(GObject *source _U_, GAsyncResult *result, gpointer data)
{
    GraphJob *job = data;
    GError *error = NULL;

    if (!g_app_info_launch_default_for_uri_finish(result, &error)) {
        fail(job, "no application opens SVG pictures on this desktop (%s). The host graph is in %s",
             error->message, job->svg);
        g_error_free(error);
        return;
    }
    job_free(job);
}

/* A finished subprocess: TRUE if it exited with 0, else said why. */
static gboolean
succeeded(GSubprocess *process, GAsyncResult *result, GraphJob *job, const char *what)
{
    GError *error = NULL;
    char *err_text = NULL;
    gboolean ok = g_subprocess_communicate_utf8_finish(process, result, NULL, &err_text, &error)
                  && g_subprocess_get_if_exited(process) && g_subprocess_get_exit_status(process) == 0;

    if (!ok)
        fail(job, "%s failed: %s", what, error ? error->message : err_text && *err_text ? g_strstrip(err_text) : "no message");
    g_clear_error(&error);
    g_free(err_text);
    return ok;
}

static void
graph_done(GObject *source, GAsyncResult *result, gpointer data)
{
    GraphJob *job = data;
    char *uri;

    if (!succeeded(G_SUBPROCESS(source), result, job, "trafan-graph"))
        return;
    uri = g_filename_to_uri(job->svg, NULL, NULL);
    g_app_info_launch_default_for_uri_async(uri, NULL, NULL, viewer_done, job);
    g_free(uri);
}

static void
run(const char *const *argv, GAsyncReadyCallback done, GraphJob *job)
{
    GError *error = NULL;
    GSubprocess *process = g_subprocess_newv(argv, G_SUBPROCESS_FLAGS_STDOUT_SILENCE | G_SUBPROCESS_FLAGS_STDERR_PIPE,
                                             &error);

    if (!process) {
        fail(job, "cannot run %s: %s", argv[0], error->message);
        g_error_free(error);
        return;
    }
    g_subprocess_communicate_utf8_async(process, NULL, NULL, done, job);
    g_object_unref(process);    /* the pending call keeps it */
}

static void
export_done(GObject *source, GAsyncResult *result, gpointer data)
{
    GraphJob *job = data;
    char *graph = g_find_program_in_path("trafan-graph");
    char *dot = g_build_filename(job->dir, "graph.dot", NULL);
    char *title = g_path_get_basename(job->capture);

    if (succeeded(G_SUBPROCESS(source), result, job, "tshark")) {
        if (!graph) {
            fail(job, "trafan-graph is not installed (not found in PATH). The export is in %s", job->dir);
        } else {
            const char *argv[] = { graph, "--title", title, dot, "-o", job->svg, NULL };
            run(argv, graph_done, job);
        }
    }
    g_free(graph);
    g_free(dot);
    g_free(title);
}

static void *
capture_file_of(capture_file *cf, void *data)
{
    GraphJob *job = data;

    if (cf && cf->filename) {
        job->capture = g_strdup(cf->filename);
        job->filter = cf->dfilter && *cf->dfilter ? g_strdup(cf->dfilter) : NULL;
    }
    return job;
}

static void
draw_host_graph(ext_menubar_gui_type gui_type _U_, gpointer gui_object _U_, gpointer user_data _U_)
{
    GraphJob *job = g_new0(GraphJob, 1);
    GError *error = NULL;
    char *tshark, *graph, *option;

    plugin_if_get_capture_file(capture_file_of, job);
    if (!job->capture) {
        fail(job, "open a capture file first: the host graph is drawn from it");
        return;
    }
    tshark = g_find_program_in_path("tshark");
    graph = g_find_program_in_path("trafan-graph");
    if (!tshark || !graph) {
        fail(job, "%s is not installed (not found in PATH); drawing the host graph needs tshark and trafan-graph",
             tshark ? "trafan-graph" : "tshark");
        g_free(tshark);
        g_free(graph);
        return;
    }
    job->dir = g_dir_make_tmp("trafan-graph-XXXXXX", &error);
    if (!job->dir) {
        fail(job, "cannot make a folder for the picture: %s", error->message);
        g_error_free(error);
        g_free(tshark);
        g_free(graph);
        return;
    }
    job->svg = g_build_filename(job->dir, "hosts.svg", NULL);

    /* The same profile, so the same thresholds; the display filter last,
     * commas and all.  A filter on trafan's own fields needs the flags
     * decided before the packets are counted: two passes. */
    option = g_strdup_printf("trafan,stat,out=%s%s%s", job->dir, job->filter ? "," : "", job->filter ? job->filter : "");
    gboolean two_pass = job->filter && strstr(job->filter, "trafan");
    const char *argv[] = { tshark, two_pass ? "-2" : "-q", "-q", "-r", job->capture, "-z", option,
                           is_default_profile() ? NULL : "-C", get_profile_name(), NULL };
    run(argv, export_done, job);
    g_free(option);
    g_free(tshark);
    g_free(graph);
}

void
trafan_menu_register(int proto)
{
    ext_menu_t *menu = ext_menubar_register_menu(proto, "Traffic Analysis (trafan)", TRUE);

    ext_menubar_set_parentmenu(menu, "Tools");
    ext_menubar_add_entry(menu, "Host Graph",
                          "Draw the hosts and conversations of this capture (its displayed packets) and open the picture",
                          draw_host_graph, NULL);
}
