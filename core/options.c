/* options.c — parsing `-z trafan,stat[,name=value...][,FILTER]`.
 *
 * Options are matched exactly; an unknown name is an error, never a filter,
 * so a typo cannot silently change what is measured.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <string.h>

#include "options.h"

#define MAX_INTERVAL_US (G_GINT64_CONSTANT(86400) * 1000000)    /* one day */

const char *
trafan_run_options_usage(void)
{
    static char *usage;

    if (!usage) {
        GString *s = g_string_new("format=text|json|csv, top=N (0 = all), interval=SECONDS (0.000001 to 86400), "
                                  "out=DIR, max_hosts=N, live=SECONDS, tree=0|1; detection: ");
        guint n;
        const TrafanDetectOption *options = trafan_detect_options(&n);

        for (guint i = 0; i < n; i++)
            g_string_append_printf(s, "%s%s=", i ? ", " : "", options[i].name);
        usage = g_string_free(s, FALSE);
    }
    return usage;
}

static gboolean
is_detect_option(const char *name)
{
    guint n;
    const TrafanDetectOption *options = trafan_detect_options(&n);

    for (guint i = 0; i < n; i++)
        if (strcmp(options[i].name, name) == 0)
            return TRUE;
    return FALSE;
}

void
trafan_run_options_init(TrafanRunOptions *opts)
{
    memset(opts, 0, sizeof *opts);
    trafan_config_init(&opts->stats);
    trafan_detect_config_init(&opts->detect);
    opts->format = TRAFAN_FORMAT_TEXT;
    opts->top = TRAFAN_DEFAULT_TOP;
}

void
trafan_run_options_clear(TrafanRunOptions *opts)
{
    g_clear_pointer(&opts->out_dir, g_free);
    g_clear_pointer(&opts->filter, g_free);
    g_clear_pointer(&opts->warning, g_free);
    trafan_detect_config_clear(&opts->detect);
}

/* Digits only, no sign, no locale: "42". */
static gboolean
parse_uint(const char *text, guint64 max, guint64 *out)
{
    guint64 value = 0;

    if (!*text)
        return FALSE;
    for (const char *p = text; *p; p++) {
        if (!g_ascii_isdigit(*p))
            return FALSE;
        value = value * 10 + (guint64)(*p - '0');
        if (value > max)
            return FALSE;
    }
    *out = value;
    return TRUE;
}

gboolean
trafan_parse_interval(const char *text, gint64 *interval_us)
{
    const char *dot = strchr(text, '.');
    char *whole = dot ? g_strndup(text, (gsize)(dot - text)) : g_strdup(text);
    guint64 secs = 0, micros = 0;
    gboolean ok = (*whole ? parse_uint(whole, 86400, &secs) : dot != NULL);

    g_free(whole);
    if (ok && dot) {
        const char *frac = dot + 1;
        size_t digits = strlen(frac);
        char padded[7] = "000000";

        ok = digits > 0 && digits <= 6 && strspn(frac, "0123456789") == digits;
        if (ok) {
            memcpy(padded, frac, digits);
            ok = parse_uint(padded, 999999, &micros);
        }
    }
    gint64 us = (gint64)(secs * 1000000 + micros);

    if (!ok || us <= 0 || us > MAX_INTERVAL_US)
        return FALSE;           /* *interval_us keeps its valid value */
    *interval_us = us;
    return TRUE;
}

static gboolean
bad_value(GError **error, const char *name, const char *value, const char *expected)
{
    char *shown = trafan_escape_controls(value);

    g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                "invalid value \"%s\" for option %s: expected %s", shown, name, expected);
    g_free(shown);
    return FALSE;
}

static gboolean
set_option(TrafanRunOptions *opts, const char *name, const char *value, GError **error)
{
    guint64 n;

    if (strcmp(name, "format") == 0) {
        if (strcmp(value, "text") == 0)
            opts->format = TRAFAN_FORMAT_TEXT;
        else if (strcmp(value, "json") == 0)
            opts->format = TRAFAN_FORMAT_JSON;
        else if (strcmp(value, "csv") == 0)
            opts->format = TRAFAN_FORMAT_CSV;
        else
            return bad_value(error, name, value, "text, json or csv");
    } else if (strcmp(name, "top") == 0) {
        if (!parse_uint(value, G_MAXUINT, &n))
            return bad_value(error, name, value, "a whole number (0 = all rows)");
        opts->top = (guint)n;
    } else if (strcmp(name, "interval") == 0) {
        if (!trafan_parse_interval(value, &opts->stats.interval_us))
            return bad_value(error, name, value, "seconds from 0.000001 to 86400, at most 6 decimals");
    } else if (strcmp(name, "out") == 0) {
        if (!*value)
            return bad_value(error, name, value, "a directory");
        g_free(opts->out_dir);
        opts->out_dir = g_strdup(value);
    } else if (strcmp(name, "max_hosts") == 0) {
        if (!parse_uint(value, G_MAXINT, &n) || n == 0)
            return bad_value(error, name, value, "a whole number from 1");
        opts->stats.max_hosts = (guint)n;
    } else if (strcmp(name, "live") == 0) {
        if (!parse_uint(value, 86400, &n))
            return bad_value(error, name, value, "seconds from 0 (off) to 86400");
        opts->live_seconds = (guint)n;
    } else if (strcmp(name, "tree") == 0) {
        if (strcmp(value, "0") != 0 && strcmp(value, "1") != 0)
            return bad_value(error, name, value, "0 or 1");
        opts->protocol_tree = value[0] == '1';
    } else if (is_detect_option(name)) {
        if (!trafan_detect_config_set(&opts->detect, name, value, error)) {
            char *shown = trafan_escape_controls((*error)->message);
            g_free((*error)->message);
            (*error)->message = shown;
            return FALSE;
        }
    } else {
        char *shown = trafan_escape_controls(name);
        g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_UNKNOWN_OPTION,
                    "unknown option \"%s\"; valid options: %s", shown, trafan_run_options_usage());
        g_free(shown);
        return FALSE;
    }
    return TRUE;
}

/* An option whose value is a list of words (allowlist=...): a comma there
 * ends the option, which is rarely what was meant. */
static gboolean
takes_list(const char *element)
{
    guint n;
    const TrafanDetectOption *options = trafan_detect_options(&n);
    size_t len = strcspn(element, "=");

    for (guint i = 0; i < n; i++)
        if ((options[i].type == TRAFAN_OPT_STRING || options[i].type == TRAFAN_OPT_PORTS)
            && strlen(options[i].name) == len
            && strncmp(options[i].name, element, len) == 0)
            return TRUE;
    return FALSE;
}

static void
warn_list_then_filter(TrafanRunOptions *opts, const char *option, const char *next)
{
    char *shown_option = trafan_escape_controls(option), *shown_next = trafan_escape_controls(next);

    g_free(opts->warning);
    opts->warning = g_strdup_printf("the filter \"%s\" follows %s: commas separate -z options, so if \"%s\" "
                                    "belongs to the list, write %s;%s (list values are separated by "
                                    "';', '|' or spaces)", shown_next, shown_option, shown_next,
                                    shown_option, shown_next);
    g_free(shown_option);
    g_free(shown_next);
}

/* "word=value" with a single '=' and a bare word (letters, digits, '_') is an
 * option; anything else ("ip.src==1.2.3.4", "tcp") starts the filter. */
static gboolean
looks_like_option(const char *element, char **name, const char **value)
{
    const char *eq = strchr(element, '=');

    if (!eq || eq == element || eq[1] == '=')
        return FALSE;
    for (const char *p = element; p < eq; p++)
        if (!g_ascii_isalnum(*p) && *p != '_')
            return FALSE;
    *name = g_strndup(element, (gsize)(eq - element));
    *value = eq + 1;
    return TRUE;
}

gboolean
trafan_run_options_parse(TrafanRunOptions *opts, const char *args, GError **error)
{
    if (!args || !*args)
        return TRUE;
    if (*args != ',') {
        char *shown = trafan_escape_controls(args);
        g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_FAILED,
                    "expected -z trafan,stat[,option=value...][,FILTER], got trailing \"%s\"", shown);
        g_free(shown);
        return FALSE;
    }

    char **elements = g_strsplit(args + 1, ",", -1);
    gboolean ok = TRUE;
    const char *last_option = NULL;
    guint i;

    for (i = 0; ok && elements[i]; i++) {
        char *name;
        const char *value;

        if (!looks_like_option(elements[i], &name, &value))
            break;
        ok = set_option(opts, name, value, error);
        last_option = elements[i];
        g_free(name);
    }
    if (ok && elements[i]) {
        char *filter = g_strjoinv(",", elements + i);

        if (*g_strstrip(filter)) {
            g_free(opts->filter);
            opts->filter = filter;
            if (last_option && takes_list(last_option))
                warn_list_then_filter(opts, last_option, elements[i]);
        } else {
            g_free(filter);
        }
    }
    g_strfreev(elements);
    return ok;
}
