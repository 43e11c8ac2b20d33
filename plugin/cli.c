/* cli.c — `tshark -z trafan,stat[,option=value...][,FILTER]`.
 *
 * Life cycle as in ui/cli/tap-protohierstat.c: init parses the argument and
 * registers the listeners, packet accumulates, draw prints the report (and
 * writes the out= files) once at the end of the capture.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#define WS_BUILD_DLL
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <wireshark.h>
#include <epan/packet.h>
#include <epan/stat_tap_ui.h>

#include "options.h"
#include "report.h"
#include "stats.h"
#include "tap.h"
#include "trafan-plugin.h"

#define CLI_PREFIX "trafan,stat"

typedef struct {
    TrafanRunOptions opts;
    TrafanStats     *stats;
} CliRun;

static void
cli_packet(const TrafanPacket *pkt, gpointer data)
{
    CliRun *run = data;

    trafan_stats_add(run->stats, pkt);
}

static void
cli_reset(gpointer data)
{
    CliRun *run = data;

    trafan_stats_free(run->stats);
    run->stats = trafan_stats_new(&run->opts.stats);
}

static void
cli_draw(gpointer data)
{
    CliRun *run = data;
    TrafanReportOptions report = { run->opts.top, run->opts.filter, NULL };
    GError *error = NULL;

    trafan_stats_finish(run->stats);
    GString *out = trafan_report(run->stats, &report, run->opts.format);
    fwrite(out->str, 1, out->len, stdout);
    fflush(stdout);
    g_string_free(out, TRUE);

    if (run->opts.out_dir && !trafan_report_write_dir(run->stats, &report, run->opts.out_dir, &error)) {
        fprintf(stderr, "tshark: trafan: %s\n", error->message);
        g_error_free(error);
        exit(2);
    }
}

static void
cli_finish(gpointer data)
{
    CliRun *run = data;

    trafan_stats_free(run->stats);
    trafan_run_options_clear(&run->opts);
    g_free(run);
}

static G_NORETURN void
cli_fail(const char *what, const char *detail)
{
    fprintf(stderr, "tshark: invalid -z " CLI_PREFIX " argument: %s%s%s\n"
            "  usage: -z " CLI_PREFIX "[,option=value...][,FILTER]; options: %s\n",
            what, detail ? ": " : "", detail ? detail : "", trafan_run_options_usage());
    exit(1);
}

/* tshark hands us every -z argument that starts with CLI_PREFIX. */
static void
cli_init(const char *arg, void *userdata _U_)
{
    static const TrafanTapCallbacks callbacks = { cli_packet, cli_reset, cli_draw, cli_finish };
    CliRun *run = g_new0(CliRun, 1);
    GError *error = NULL;
    char *failure = NULL;

    trafan_run_options_init(&run->opts);
    if (!trafan_run_options_parse(&run->opts, arg + strlen(CLI_PREFIX), &error))
        cli_fail(error->message, NULL);
    run->stats = trafan_stats_new(&run->opts.stats);

    if (!trafan_tap_start(run->opts.filter, run->opts.protocol_tree, &callbacks, run, &failure))
        cli_fail("bad filter", failure);
}

void
trafan_cli_register(void)
{
    static stat_tap_ui ui = {
        REGISTER_STAT_GROUP_GENERIC, NULL, CLI_PREFIX, cli_init, 0, NULL
    };

    register_stat_tap_ui(&ui, NULL);
}
