/* fuzz_options.c — libFuzzer target: any bytes as what follows
 * "-z trafan,stat", and as an interval.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <stdint.h>
#include <string.h>

#include "options.h"
#include "report.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = g_strndup((const char *)data, size);
    TrafanRunOptions opts;
    GError *error = NULL;
    gint64 interval_us = 1;

    trafan_run_options_init(&opts);
    if (trafan_run_options_parse(&opts, text, &error)) {
        g_assert(opts.stats.interval_us > 0);
        g_assert(!opts.filter || *opts.filter);
    } else {
        /* An error names the problem, and never carries a control character. */
        g_assert(error && *error->message);
        for (const char *p = error->message; *p; p++)
            g_assert(!g_ascii_iscntrl(*p));
        g_error_free(error);
    }
    trafan_run_options_clear(&opts);

    if (!trafan_parse_interval(text, &interval_us))
        g_assert(interval_us == 1);
    g_assert(interval_us > 0 && interval_us <= G_GINT64_CONSTANT(86400000000));
    g_free(text);
    return 0;
}
