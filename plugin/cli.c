/* cli.c — `tshark -z trafan,stat[,option=value...][,FILTER]`.
 *
 * Life cycle as in ui/cli/tap-protohierstat.c: init parses the argument and
 * registers the listeners, packet accumulates statistics and detection,
 * draw prints the report (and writes the out= files) at the end.  During a
 * live capture each new flag is printed on stderr at once, and live=N
 * prints a status line every N seconds of capture time (and, with out=,
 * rewrites the out= files with the capture so far).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#define _GNU_SOURCE     /* program_invocation_short_name */
#define WS_BUILD_DLL
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <wireshark.h>
#include <epan/epan.h>
#include <epan/packet.h>
#include <epan/stat_tap_ui.h>

#include "compat.h"
#include "detect.h"
#include "options.h"
#include "report.h"
#include "state.h"
#include "stats.h"
#include "tap.h"
#include "trafan-plugin.h"

#define CLI_PREFIX "trafan,stat"
#define NS_PER_S G_GINT64_CONSTANT(1000000000)

typedef struct {
    TrafanRunOptions opts;
    TrafanStats     *stats;
    TrafanDetector  *detector;
    gint64           next_poll_ns;  /* capture time of the next flag poll */
    gboolean         live;          /* packets arrive as they happen */
    gint64           next_status_ns;
    guint64          status_bytes;  /* bytes since the last status line */
    gboolean         seen_frame;
    gint64           first_frame_ns;    /* orders state files */
    GPtrArray       *flags_so_far;  /* for live out= snapshots; the detector's */
} CliRun;

static void
print_new_flags(CliRun *run)
{
    GPtrArray *fresh = trafan_detector_take_new(run->detector);

    for (guint i = 0; i < fresh->len; i++) {
        const TrafanFlag *f = g_ptr_array_index(fresh, i);
        char host[TRAFAN_ADDRSTRLEN];

        fprintf(stderr, "trafan: flag %s %s %s: %s\n", f->rule, trafan_role_name(f->role),
                trafan_address_to_str(&f->host, host), f->summary ? f->summary : "");
        g_ptr_array_add(run->flags_so_far, (gpointer)f);
    }
    if (fresh->len)
        fflush(stderr);
}

static void
print_status(CliRun *run, gint64 now_ns)
{
    const TrafanHost *top = trafan_stats_top_talker(run->stats);
    char host[TRAFAN_ADDRSTRLEN] = "-";

    if (top)
        trafan_address_to_str(&top->address, host);
    TrafanDetectorUsage usage = trafan_detector_usage(run->detector);
    fprintf(stderr, "trafan: t=%" G_GINT64_FORMAT " s packets=%" G_GUINT64_FORMAT " bytes/s=%" G_GUINT64_FORMAT
            " top=%s open_flags=%u state_mb=%" G_GUINT64_FORMAT "/%" G_GUINT64_FORMAT " refused_keys=%" G_GUINT64_FORMAT "\n",
            (now_ns - trafan_stats_ref_ns(run->stats)) / NS_PER_S, trafan_stats_packets(run->stats),
            run->status_bytes / run->opts.live_seconds, host, trafan_detector_open_flags(run->detector),
            (usage.state_bytes + (1u << 19)) >> 20, usage.budget_bytes >> 20, usage.refused_keys);
    fflush(stderr);
    run->status_bytes = 0;
}

static void
start_accumulators(CliRun *run)
{
    run->stats = trafan_stats_new(&run->opts.stats);
    run->detector = trafan_detector_new(&run->opts.detect);
    if (!run->opts.state_file)
        trafan_detector_set_one_pass(run->detector);
    run->flags_so_far = g_ptr_array_new();
    run->next_poll_ns = G_MININT64;
    run->next_status_ns = 0;
    run->status_bytes = 0;
    run->seen_frame = FALSE;
}

static void
stop_accumulators(CliRun *run)
{
    g_clear_pointer(&run->stats, trafan_stats_free);
    g_clear_pointer(&run->detector, trafan_detector_free);
    g_clear_pointer(&run->flags_so_far, g_ptr_array_unref);
}

/* live=N with out=DIR: DIR holds the capture so far, each file replaced
 * atomically, so that trafan-report --watch can follow it. */
static void
write_snapshot(CliRun *run)
{
    TrafanDetectorUsage usage = trafan_detector_usage(run->detector);
    TrafanReportOptions report = { run->opts.top, run->opts.filter, run->flags_so_far, &usage };
    GError *error = NULL;

    trafan_stats_finish(run->stats);
    if (!trafan_report_write_dir(run->stats, &report, run->opts.out_dir, &error)) {
        fprintf(stderr, "tshark: trafan: %s\n", error->message);
        g_error_free(error);
    }
}

/* A frame stamped within five minutes of now is being captured now. */
static gboolean
looks_live(const TrafanPacket *pkt)
{
    gint64 now_ns = g_get_real_time() * 1000;

    return ABS(now_ns - pkt->abs_ns) < 300 * NS_PER_S;
}

static void
cli_packet(const TrafanPacket *pkt, gpointer data)
{
    CliRun *run = data;

    if (!run->stats)
        start_accumulators(run);
    if (!run->seen_frame) {
        run->seen_frame = TRUE;
        run->first_frame_ns = pkt->abs_ns;
    }
    trafan_stats_add(run->stats, pkt);
    trafan_detector_add(run->detector, pkt);
    run->status_bytes += pkt->frame_len;

    /* Flags are printed as they are decided, polled once per second of
     * capture time.  In a live capture, also as soon as a window still open
     * crosses its threshold: judging open windows costs time that reading
     * a file need not spend, as its report comes at once anyway. */
    if (pkt->abs_ns >= run->next_poll_ns) {
        if (run->next_poll_ns == G_MININT64)
            run->live = run->opts.live_seconds || looks_live(pkt);
        run->next_poll_ns = pkt->abs_ns + NS_PER_S;
        if (run->live)
            trafan_detector_peek(run->detector);
        print_new_flags(run);
    }
    if (run->opts.live_seconds) {
        gint64 period = (gint64)run->opts.live_seconds * NS_PER_S;
        if (run->next_status_ns == 0)
            run->next_status_ns = pkt->abs_ns + period;
        else if (pkt->abs_ns >= run->next_status_ns) {
            print_status(run, pkt->abs_ns);
            if (run->opts.out_dir)
                write_snapshot(run);
            run->next_status_ns = pkt->abs_ns + period;
        }
    }
}

/* Wireshark resets every tap when it closes a file, at exit too: start
 * afresh only when a packet comes. */
static void
cli_reset(gpointer data)
{
    stop_accumulators(data);
}

static void
cli_draw(gpointer data)
{
    CliRun *run = data;
    GError *error = NULL;

    if (!run->stats)
        start_accumulators(run);
    /* The state is saved before finish() closes the detector's windows. */
    if (run->opts.state_file) {
        GVariant *state = trafan_state_build(&run->opts, epan_get_version(), run->seen_frame, run->first_frame_ns,
                                             run->stats, run->detector);
        if (!trafan_state_write(run->opts.state_file, state, &error)) {
            fprintf(stderr, "tshark: trafan: %s\n", error->message);
            g_error_free(error);
            exit(2);
        }
    }
    const GPtrArray *flags = trafan_detector_finish(run->detector);
    print_new_flags(run);
    trafan_stats_finish(run->stats);

    TrafanDetectorUsage usage = trafan_detector_usage(run->detector);
    TrafanReportOptions report = { run->opts.top, run->opts.filter, flags, &usage };
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

    stop_accumulators(run);
    trafan_run_options_clear(&run->opts);
    g_free(run);
}

/* A bad argument ends tshark before the first packet, as tshark's own -z
 * statistics do; the user's bytes never reach the terminal raw. */
G_NORETURN void
trafan_fail(const char *what, const char *detail)
{
    char *shown = trafan_escape_controls(detail ? detail : "");

    fprintf(stderr, "tshark: trafan: %s%s%s\n", what, detail ? ": " : "", g_strstrip(shown));
    g_free(shown);
    exit(1);
}

gboolean
trafan_running_in_tshark(void)
{
    const char *name = g_get_prgname();
#ifdef __GLIBC__
    if (!name)
        name = program_invocation_short_name;
#endif
    return name && g_str_has_prefix(name, "tshark");
}

/* tshark hands us every -z argument that starts with CLI_PREFIX. */
static trafan_stat_init_ret
cli_init(const char *arg, void *userdata _U_)
{
    static const TrafanTapCallbacks callbacks = { cli_packet, cli_reset, cli_draw, cli_finish };
    CliRun *run = g_new0(CliRun, 1);
    GError *error = NULL;
    char *failure = NULL;

    trafan_run_options_init(&run->opts);
    if (!trafan_prefs_apply(&run->opts.detect, &error))
        trafan_fail("invalid preference", error->message);
    if (!trafan_run_options_parse(&run->opts, arg + strlen(CLI_PREFIX), &error))
        trafan_fail("invalid -z " CLI_PREFIX " argument", error->message);
    if (run->opts.warning) {
        char *shown = trafan_escape_controls(run->opts.warning);
        fprintf(stderr, "tshark: trafan: warning: %s\n", shown);
        g_free(shown);
    }
    if (run->opts.out_dir && !trafan_report_check_dir(run->opts.out_dir, &error))
        trafan_fail("invalid -z " CLI_PREFIX " argument", error->message);
    /* A filter on trafan's own fields (trafan.flag, ...) needs the flags. */
    if (run->opts.filter && strstr(run->opts.filter, "trafan"))
        trafan_mark_request();
    start_accumulators(run);

    TrafanTap *tap = trafan_tap_start(run->opts.filter, run->opts.protocol_tree, &callbacks, run, &failure);
    if (!tap)
        trafan_fail("invalid -z " CLI_PREFIX " argument: bad filter", failure);
    if (run->opts.has_time_ref)
        trafan_tap_set_time_ref(tap, run->opts.time_ref_ns);
    TRAFAN_STAT_INIT_RETURN(true);
}

void
trafan_cli_register(void)
{
    static stat_tap_ui ui = {
        REGISTER_STAT_GROUP_GENERIC, NULL, CLI_PREFIX, cli_init, 0, NULL
    };

    register_stat_tap_ui(&ui, NULL);
}
