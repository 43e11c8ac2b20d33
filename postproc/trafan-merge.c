/* trafan-merge — merge the state files of slices of a capture into the
 * report that one pass over the whole capture gives.
 *
 *   tshark -q -r part1.pcap -z trafan,stat,state=1.state
 *   tshark -q -r part2.pcap -z trafan,stat,state=2.state,time_ref=...
 *   trafan-merge 1.state 2.state -o out
 *
 * The statistics merge in any order; the detector's windows need the slices
 * in time order, so the states are merged by the time of their first frame
 * (ties: in the order given).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "detect.h"
#include "report.h"
#include "state.h"

#ifndef TRAFAN_VERSION
#define TRAFAN_VERSION "unknown"
#endif

static char    *format_name = NULL;
static gint     top = TRAFAN_DEFAULT_TOP;
static char    *out_dir = NULL;
static char    *state_out = NULL;
static gboolean dump = FALSE;
static gboolean in_order = FALSE;
static gboolean quiet = FALSE;
static gboolean show_version = FALSE;
static char   **inputs = NULL;

static const GOptionEntry entries[] = {
    { "format", 'f', 0, G_OPTION_ARG_STRING, &format_name, "Report on stdout: text (default), json or csv", "FORMAT" },
    { "top", 't', 0, G_OPTION_ARG_INT, &top, "Rows per table in the text report (0 = all; default 10)", "N" },
    { "out", 'o', 0, G_OPTION_ARG_FILENAME, &out_dir, "Also write the export files into DIR, as out=DIR does", "DIR" },
    { "state", 's', 0, G_OPTION_ARG_FILENAME, &state_out, "Also write the merged state, to merge further", "FILE" },
    { "quiet", 'q', 0, G_OPTION_ARG_NONE, &quiet, "No report on stdout", NULL },
    { "in-order", 0, 0, G_OPTION_ARG_NONE, &in_order, "Merge in the order given, not by first frame time", NULL },
    { "dump", 0, 0, G_OPTION_ARG_NONE, &dump, "Print each state file as text (GVariant) and exit", NULL },
    { "version", 'V', 0, G_OPTION_ARG_NONE, &show_version, "Print the version and exit", NULL },
    { G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &inputs, NULL, "STATE..." },
    { NULL }
};

static G_NORETURN void
die(int status, const char *message)
{
    fprintf(stderr, "trafan-merge: %s\n", message);
    exit(status);
}

static int
compare_states(gconstpointer pa, gconstpointer pb)
{
    return trafan_state_compare_time(*(TrafanState *const *)pa, *(TrafanState *const *)pb);
}

static int
dump_states(void)
{
    for (char **path = inputs; *path; path++) {
        GError *error = NULL;
        char *text = trafan_state_dump(*path, &error);

        if (!text)
            die(2, error->message);
        printf("%s%s\n", path == inputs ? "" : "\n", text);
        g_free(text);
    }
    return 0;
}

int
main(int argc, char **argv)
{
    GOptionContext *context = g_option_context_new("STATE...");
    GError *error = NULL;
    TrafanFormat format = TRAFAN_FORMAT_TEXT;

    g_option_context_set_summary(context,
        "Merge trafan state files (tshark -z trafan,stat,state=FILE) of slices of a capture into\n"
        "the report, export files and flags of one pass over the whole capture.");
    g_option_context_add_main_entries(context, entries, NULL);
    if (!g_option_context_parse(context, &argc, &argv, &error))
        die(1, error->message);
    g_option_context_free(context);
    if (show_version) {
        printf("trafan-merge %s\n", TRAFAN_VERSION);
        return 0;
    }
    if (!inputs || !*inputs)
        die(1, "no state file given (see --help)");
    if (top < 0)
        die(1, "--top must be 0 or more");
    if (format_name && strcmp(format_name, "json") == 0)
        format = TRAFAN_FORMAT_JSON;
    else if (format_name && strcmp(format_name, "csv") == 0)
        format = TRAFAN_FORMAT_CSV;
    else if (format_name && strcmp(format_name, "text") != 0)
        die(1, "--format must be text, json or csv");
    if (dump)
        return dump_states();

    GPtrArray *states = g_ptr_array_new_with_free_func((GDestroyNotify)trafan_state_free);
    for (char **path = inputs; *path; path++) {
        TrafanState *state = trafan_state_read(*path, &error);
        if (!state)
            die(2, error->message);
        g_ptr_array_add(states, state);
    }
    if (!in_order)
        g_ptr_array_sort(states, compare_states);      /* stable: ties keep the order given */

    TrafanState *whole = g_ptr_array_index(states, 0);
    for (guint i = 1; i < states->len; i++)
        if (!trafan_state_merge(whole, g_ptr_array_index(states, i), &error))
            die(2, error->message);

    if (state_out && !trafan_state_write(state_out, trafan_state_save(whole), &error))
        die(2, error->message);

    const GPtrArray *flags = trafan_detector_finish(whole->detector);
    trafan_stats_finish(whole->stats);

    TrafanDetectorUsage usage = trafan_detector_usage(whole->detector);
    TrafanReportOptions report = { (guint)top, whole->run.filter, flags, &usage };
    if (!quiet) {
        GString *out = trafan_report(whole->stats, &report, format);
        fwrite(out->str, 1, out->len, stdout);
        g_string_free(out, TRUE);
    }
    if (out_dir && !trafan_report_write_dir(whole->stats, &report, out_dir, &error))
        die(2, error->message);

    g_ptr_array_unref(states);
    g_strfreev(inputs);
    return fflush(stdout) == 0 ? 0 : 2;
}
