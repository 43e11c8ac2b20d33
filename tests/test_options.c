/* test_options.c — the -z argument, the out= folder and absolute times, in
 * the core: what a hostile or careless argument gets.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "options.h"
#include "report.h"
#include "stats.h"

/* ---- interval: validated before it is stored ------------------------------- */

typedef struct {
    const char *text;
    gint64      expected_us;    /* 0: rejected, the old value kept */
} IntervalCase;

static const IntervalCase interval_cases[] = {
    { "1", 1000000 },
    { "0.25", 250000 },
    { "0.000001", 1 },
    { "86400", G_GINT64_CONSTANT(86400000000) },
    { "0", 0 },
    { "0.0", 0 },
    { "0.0000001", 0 },
    { "86400.000001", 0 },
    { "86401", 0 },
    { "", 0 },
    { ".", 0 },
    { "1.", 0 },
    { "-1", 0 },
    { "1e3", 0 },
    { "99999999999999999999", 0 },
};

static void
test_interval(gconstpointer data)
{
    const IntervalCase *c = data;
    gint64 us = 777;
    gboolean ok = trafan_parse_interval(c->text, &us);

    g_assert_cmpint(ok, ==, c->expected_us != 0);
    g_assert_cmpint(us, ==, c->expected_us ? c->expected_us : 777);
}

/* ---- splitting the -z argument ----------------------------------------- */

typedef struct {
    const char *args;
    const char *allowlist;      /* what reaches the option, or NULL: rejected */
    const char *filter;         /* the filter, or NULL */
    gboolean    warns;          /* a filter right after a list option */
} SplitCase;

static const SplitCase split_cases[] = {
    { ",allowlist=10.0.0.1;10.0.0.2", "10.0.0.1;10.0.0.2", NULL, FALSE },
    { ",allowlist=10.0.0.1 10.0.0.2", "10.0.0.1 10.0.0.2", NULL, FALSE },
    { ",allowlist=10.0.0.0/8;2001:db8::/32,tcp", "10.0.0.0/8;2001:db8::/32", "tcp", TRUE },
    { ",allowlist=10.0.0.1,udp", "10.0.0.1", "udp", TRUE },
    { ",allowlist=10.0.0.1,10.0.0.2", "10.0.0.1", "10.0.0.2", TRUE },
    { ",allowlist=10.0.0.1,top=5,udp", "10.0.0.1", "udp", FALSE },
    { ",top=5,udp", "", "udp", FALSE },
    { ",brute_force_ports=22;3389,443", "", "443", TRUE },
    { ",allowlist=10.0.0.1;nonsense", NULL, NULL, FALSE },
};

static void
test_split(gconstpointer data)
{
    const SplitCase *c = data;
    TrafanRunOptions opts;
    GError *error = NULL;

    trafan_run_options_init(&opts);
    gboolean ok = trafan_run_options_parse(&opts, c->args, &error);
    g_assert_cmpint(ok, ==, c->allowlist != NULL);
    if (ok) {
        g_assert_cmpstr(opts.detect.allowlist, ==, c->allowlist);
        g_assert_cmpstr(opts.filter, ==, c->filter);
        g_assert_cmpint(opts.warning != NULL, ==, c->warns);
        if (c->warns) {
            char *fix = g_strdup_printf("write %.*s;%s ", (int)(strrchr(c->args, ',') - c->args - 1), c->args + 1,
                                        c->filter);
            g_assert_nonnull(strstr(opts.warning, fix));
            g_assert_nonnull(strstr(opts.warning, "';', '|' or spaces"));
            g_free(fix);
        }
    } else {
        g_assert_nonnull(strstr(error->message, "allowlist"));
        g_error_free(error);
    }
    trafan_run_options_clear(&opts);
}

/* ---- control characters never reach the terminal --------------------------- */

typedef struct {
    const char *raw;
    const char *shown;
} EscapeCase;

static const EscapeCase escape_cases[] = {
    { "plain", "plain" },
    { "a\nb", "a\\nb" },
    { "\t\r", "\\t\\r" },
    { "\x1b[31mred", "\\x1b[31mred" },
    { "bell\a", "bell\\x07" },
    { "del\x7f", "del\\x7f" },
    { "caf\xc3\xa9", "caf\xc3\xa9" },          /* UTF-8 stays */
    { "c1\xc2\x9b", "c1\\u009b" },             /* C1 control (CSI) */
    { "bad\xff\xfe", "bad\\xff\\xfe" },        /* not UTF-8 */
    { "cut\xc3", "cut\\xc3" },
};

static void
test_escape(gconstpointer data)
{
    const EscapeCase *c = data;
    char *shown = trafan_escape_controls(c->raw);

    g_assert_cmpstr(shown, ==, c->shown);
    g_free(shown);
}

typedef struct {
    const char *args;
    const char *message;        /* must appear, escaped */
} BadArgCase;

static const BadArgCase bad_arg_cases[] = {
    { ",format=js\non", "invalid value \"js\\non\" for option format" },
    { ",top=\x1b[2J", "invalid value \"\\x1b[2J\" for option top" },
    { ",interval=1\r", "invalid value \"1\\r\" for option interval" },
    { ",out=", "invalid value \"\" for option out" },
    { ",allowlist=10.0.0.1;a\x1b[2Jb", "a\\x1b[2Jb" },
    { ",port_scan_ports=\x1b]0;title\x07", "]0;title\\" },     /* escaped by the core: \033 */
    { "x\n", "got trailing \"x\\n\"" },
};

static void
test_bad_argument(gconstpointer data)
{
    const BadArgCase *c = data;
    TrafanRunOptions opts;
    GError *error = NULL;

    trafan_run_options_init(&opts);
    g_assert_false(trafan_run_options_parse(&opts, c->args, &error));
    g_assert_nonnull(strstr(error->message, c->message));
    for (const char *p = error->message; *p; p++)
        g_assert_false(g_ascii_iscntrl(*p));
    g_error_free(error);
    trafan_run_options_clear(&opts);
}

/* ---- out=DIR, checked before the first packet ------------------------------ */

typedef enum { DIR_EXISTS, DIR_MISSING, DIR_NESTED_MISSING, DIR_IS_FILE, DIR_UNDER_FILE,
               DIR_READ_ONLY, DIR_EXPORT_IS_DIR } DirCase;

typedef struct {
    DirCase     kind;
    const char *message;        /* NULL: accepted */
} OutDirCase;

static const OutDirCase out_dir_cases[] = {
    { DIR_EXISTS, NULL },
    { DIR_MISSING, NULL },
    { DIR_NESTED_MISSING, NULL },
    { DIR_IS_FILE, "is not a directory" },
    { DIR_UNDER_FILE, "is not a directory" },
    { DIR_READ_ONLY, "cannot write into" },
    { DIR_EXPORT_IS_DIR, "report.json is a directory" },
};

static void
test_out_dir(gconstpointer data)
{
    const OutDirCase *c = data;
    char *scratch = g_dir_make_tmp("trafan-outdir-XXXXXX", NULL);
    char *dir = g_build_filename(scratch, "out", NULL);
    char *target = NULL;
    GError *error = NULL;

    switch (c->kind) {
    case DIR_EXISTS: g_mkdir(dir, 0755); target = g_strdup(dir); break;
    case DIR_MISSING: target = g_strdup(dir); break;
    case DIR_NESTED_MISSING: target = g_build_filename(dir, "a", "b", NULL); break;
    case DIR_IS_FILE: g_file_set_contents(dir, "x", 1, NULL); target = g_strdup(dir); break;
    case DIR_UNDER_FILE:
        g_file_set_contents(dir, "x", 1, NULL);
        target = g_build_filename(dir, "sub", NULL);
        break;
    case DIR_READ_ONLY:
        if (geteuid() == 0) {
            g_test_skip("root writes into read-only folders");
            goto out;
        }
        g_mkdir(dir, 0555);
        target = g_strdup(dir);
        break;
    case DIR_EXPORT_IS_DIR: {
        char *json = g_build_filename(dir, "report.json", NULL);
        g_mkdir_with_parents(json, 0755);
        g_free(json);
        target = g_strdup(dir);
        break;
    }
    }
    gboolean ok = trafan_report_check_dir(target, &error);
    g_assert_cmpint(ok, ==, c->message == NULL);
    if (!ok) {
        g_assert_nonnull(strstr(error->message, c->message));
        g_assert_true(g_str_has_prefix(error->message, "out="));
        g_error_free(error);
    }
    /* Checking creates nothing. */
    if (c->kind == DIR_MISSING || c->kind == DIR_NESTED_MISSING)
        g_assert_false(g_file_test(dir, G_FILE_TEST_EXISTS));
out:
    g_free(target);
    g_chmod(dir, 0755);
    char *rm = g_strdup_printf("rm -rf '%s'", scratch);
    g_assert_cmpint(system(rm), ==, 0);
    g_free(rm);
    g_free(dir);
    g_free(scratch);
}

/* ---- absolute times past 2116 -------------------------------------------- */

typedef struct {
    gint64      base_s;
    gint64      ns;
    const char *shown;
} EpochCase;

static const EpochCase epoch_cases[] = {
    { 0, G_GINT64_CONSTANT(1700000000123456789), "1700000000.123456789" },
    { 0, -G_GINT64_CONSTANT(1500000000), "-1.500000000" },
    { G_GINT64_CONSTANT(18050560508), 216756584, "18050560508.216756584" },
    { G_GINT64_CONSTANT(18050560508), G_GINT64_CONSTANT(10431123847), "18050560518.431123847" },
    { G_GINT64_CONSTANT(18050560508), -1, "18050560507.999999999" },
    { -G_GINT64_CONSTANT(9000000000), 5, "-9000000000.000000005" },
};

static void
test_epoch(gconstpointer data)
{
    const EpochCase *c = data;
    GString *out = g_string_new(NULL);

    trafan_append_epoch(out, c->base_s, c->ns);
    g_assert_cmpstr(out->str, ==, c->shown);
    g_string_free(out, TRUE);
}

/* A capture in year 2541: the report's first and last time, exactly. */
static void
test_far_future_report(void)
{
    TrafanConfig config;
    TrafanPacket p;

    trafan_config_init(&config);
    TrafanStats *stats = trafan_stats_new(&config);
    memset(&p, 0, sizeof p);
    p.epoch_base_s = G_GINT64_CONSTANT(18050560508);
    p.protocol = g_intern_string("data");
    p.frame_len = 60;
    p.abs_ns = 216756584;
    trafan_stats_add(stats, &p);
    p.abs_ns = G_GINT64_CONSTANT(10431123847);
    p.rel_ns = G_GINT64_CONSTANT(10214367263);
    trafan_stats_add(stats, &p);
    trafan_stats_finish(stats);

    TrafanReportOptions opts = { .top = 0, .filter = NULL, .flags = NULL };
    GString *json = trafan_report_json(stats, &opts);
    g_assert_nonnull(strstr(json->str, "\"first_time\":18050560508.216756584,"));
    g_assert_nonnull(strstr(json->str, "\"last_time\":18050560518.431123847,"));
    g_assert_nonnull(strstr(json->str, "\"duration\":10.214367263,"));
    g_string_free(json, TRUE);
    trafan_stats_free(stats);
}

#define ADD_CASES(prefix, cases, func)                                  \
    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {                           \
        char *name = g_strdup_printf(prefix "/%u", i);                          \
        g_test_add_data_func(name, &cases[i], func);                            \
        g_free(name);                                                           \
    }

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    ADD_CASES("/options/interval", interval_cases, test_interval);
    ADD_CASES("/options/split", split_cases, test_split);
    ADD_CASES("/options/escape", escape_cases, test_escape);
    ADD_CASES("/options/bad-argument", bad_arg_cases, test_bad_argument);
    ADD_CASES("/options/out-dir", out_dir_cases, test_out_dir);
    ADD_CASES("/time/epoch", epoch_cases, test_epoch);
    g_test_add_func("/time/far-future-report", test_far_future_report);
    return g_test_run();
}
