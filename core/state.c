/* state.c — state files: the statistics, the detector and the options that
 * shaped them, in one checked GVariant.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <string.h>

#include "state.h"

#define BODY_TYPE "(a{sv}a{sv}vv)"
#define FILE_TYPE "(sqv)"

#ifndef TRAFAN_VERSION
#define TRAFAN_VERSION "unknown"
#endif

static gboolean
fail(GError **error, const char *name, const char *format, ...) G_GNUC_PRINTF(3, 4);

static gboolean
fail(GError **error, const char *name, const char *format, ...)
{
    va_list args;
    char *message;

    va_start(args, format);
    message = g_strdup_vprintf(format, args);
    va_end(args);
    g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_INVAL, "%s: %s", name, message);
    g_free(message);
    return FALSE;
}

/* ---- options ------------------------------------------------------------ */

static GVariant *
detect_option_value(const TrafanDetectConfig *cfg, const TrafanDetectOption *o)
{
    const char *field = (const char *)cfg + o->offset;

    switch (o->type) {
    case TRAFAN_OPT_UINT:   return g_variant_new_uint32(*(const guint *)field);
    case TRAFAN_OPT_DOUBLE: return g_variant_new_double(*(const double *)field);
    case TRAFAN_OPT_BOOL:   return g_variant_new_boolean(*(const gboolean *)field);
    case TRAFAN_OPT_ENUM:   return g_variant_new_string(o->enum_values[*(const guint *)field]);
    case TRAFAN_OPT_PORTS:  return g_variant_new_string(field);      /* a char array */
    case TRAFAN_OPT_STRING: break;
    }
    return g_variant_new_string(*(char *const *)field ? *(char *const *)field : "");
}

GVariant *
trafan_state_options(const TrafanRunOptions *opts)
{
    GVariantBuilder b;
    guint n;
    const TrafanDetectOption *options = trafan_detect_options(&n);

    /* A builder keeps this order, which --dump shows. */
    g_variant_builder_init(&b, G_VARIANT_TYPE_VARDICT);
    /* The interval as -z interval= takes it, so that a difference reads as one. */
    char *interval = g_strdup_printf("%" G_GINT64_FORMAT ".%06d", opts->stats.interval_us / 1000000,
                                     (int)(opts->stats.interval_us % 1000000));
    g_variant_builder_add(&b, "{sv}", "interval", g_variant_new_take_string(interval));
    g_variant_builder_add(&b, "{sv}", "max_hosts", g_variant_new_uint32(opts->stats.max_hosts));
    g_variant_builder_add(&b, "{sv}", "tree", g_variant_new_boolean(opts->protocol_tree));
    g_variant_builder_add(&b, "{sv}", "filter", g_variant_new_string(opts->filter ? opts->filter : ""));
    for (guint i = 0; i < n; i++)
        g_variant_builder_add(&b, "{sv}", options[i].name, detect_option_value(&opts->detect, &options[i]));
    return g_variant_builder_end(&b);
}

/* A stored detection option as the text trafan_detect_config_set() reads. */
static char *
option_text(GVariant *value)
{
    char buf[G_ASCII_DTOSTR_BUF_SIZE];

    if (g_variant_is_of_type(value, G_VARIANT_TYPE_UINT32))
        return g_strdup_printf("%u", g_variant_get_uint32(value));
    if (g_variant_is_of_type(value, G_VARIANT_TYPE_DOUBLE))
        return g_strdup(g_ascii_dtostr(buf, sizeof buf, g_variant_get_double(value)));
    if (g_variant_is_of_type(value, G_VARIANT_TYPE_BOOLEAN))
        return g_strdup(g_variant_get_boolean(value) ? "true" : "false");
    return g_variant_dup_string(value, NULL);
}

static const char *
option_type(TrafanOptType type)
{
    switch (type) {
    case TRAFAN_OPT_UINT:   return "u";
    case TRAFAN_OPT_DOUBLE: return "d";
    case TRAFAN_OPT_BOOL:   return "b";
    default:                return "s";
    }
}

/* The run options back from the a{sv}; every key known, every option present. */
static gboolean
parse_options(GVariant *dict, TrafanRunOptions *opts, const char *name, GError **error)
{
    guint n;
    const TrafanDetectOption *options = trafan_detect_options(&n);
    GVariantDict d;
    const char *filter, *interval;
    GError *local = NULL;

    g_variant_dict_init(&d, dict);
    if (!g_variant_dict_lookup(&d, "interval", "&s", &interval)
        || !trafan_parse_interval(interval, &opts->stats.interval_us)
        || !g_variant_dict_lookup(&d, "max_hosts", "u", &opts->stats.max_hosts)
        || !g_variant_dict_lookup(&d, "tree", "b", &opts->protocol_tree)
        || !g_variant_dict_lookup(&d, "filter", "&s", &filter)) {
        g_variant_dict_clear(&d);
        return fail(error, name, "the options lack interval, max_hosts, tree or filter");
    }
    opts->filter = *filter ? g_strdup(filter) : NULL;
    for (guint i = 0; i < n; i++) {
        GVariant *value = g_variant_dict_lookup_value(&d, options[i].name, G_VARIANT_TYPE(option_type(options[i].type)));
        char *text = value ? option_text(value) : NULL;
        gboolean ok = text && trafan_detect_config_set(&opts->detect, options[i].name, text, &local);

        if (value)
            g_variant_unref(value);
        g_free(text);
        if (!ok) {
            g_variant_dict_clear(&d);
            if (local)
                fail(error, name, "%s", local->message);
            else
                fail(error, name, "the options lack %s (made by another version of trafan?)", options[i].name);
            g_clear_error(&local);
            return FALSE;
        }
    }
    g_variant_dict_clear(&d);
    if (g_variant_n_children(dict) != n + 4)
        return fail(error, name, "the options include some this trafan does not know");
    return TRUE;
}

/* ---- building and writing ---------------------------------------------- */

static GVariant *
build(GVariant *options, GVariant *producer, const TrafanStats *stats, const TrafanDetector *detector)
{
    GVariant *body = g_variant_new("(@a{sv}@a{sv}vv)", options, producer, trafan_stats_save(stats),
                                   trafan_detector_save(detector));
    return g_variant_new("(sqv)", TRAFAN_STATE_MAGIC, (guint16)TRAFAN_STATE_VERSION, body);
}

GVariant *
trafan_state_build(const TrafanRunOptions *opts, const char *wireshark_version,
                   gboolean has_first_frame, gint64 first_frame_ns,
                   const TrafanStats *stats, const TrafanDetector *detector)
{
    GVariantDict producer;

    g_variant_dict_init(&producer, NULL);
    g_variant_dict_insert(&producer, "trafan", "s", TRAFAN_VERSION);
    g_variant_dict_insert(&producer, "wireshark", "s", wireshark_version ? wireshark_version : "");
    if (has_first_frame)
        g_variant_dict_insert(&producer, "first_frame", "x", first_frame_ns);
    return build(trafan_state_options(opts), g_variant_dict_end(&producer), stats, detector);
}

GVariant *
trafan_state_save(const TrafanState *state)
{
    GVariantDict producer;

    g_variant_dict_init(&producer, state->producer);
    if (state->has_first_frame)
        g_variant_dict_insert(&producer, "first_frame", "x", state->first_frame_ns);
    return build(state->options, g_variant_dict_end(&producer), state->stats, state->detector);
}

gboolean
trafan_state_write(const char *path, GVariant *state, GError **error)
{
    GVariant *little = G_BYTE_ORDER == G_LITTLE_ENDIAN ? g_variant_ref_sink(state) : g_variant_byteswap(state);
    gboolean ok = g_file_set_contents(path, g_variant_get_data(little), (gssize)g_variant_get_size(little), error);

    if (G_BYTE_ORDER != G_LITTLE_ENDIAN)
        g_variant_unref(g_variant_ref_sink(state));
    g_variant_unref(little);
    return ok;
}

/* ---- reading ---------------------------------------------------------------- */

/* The file's variant, checked down to the body's type (full reference). */
static GVariant *
read_checked(const char *path, GVariant **body, GError **error)
{
    char *data;
    gsize size;
    const char *magic;
    guint16 version;

    if (!g_file_get_contents(path, &data, &size, error))
        return NULL;
    GBytes *bytes = g_bytes_new_take(data, size);
    GVariant *file = g_variant_new_from_bytes(G_VARIANT_TYPE(FILE_TYPE), bytes, FALSE);
    g_bytes_unref(bytes);
    if (G_BYTE_ORDER != G_LITTLE_ENDIAN) {
        GVariant *swapped = g_variant_byteswap(file);
        g_variant_unref(file);
        file = swapped;
    }
    g_variant_ref_sink(file);

    /* The serialisation starts with the magic string and its NUL. */
    if (size < sizeof TRAFAN_STATE_MAGIC || memcmp(g_variant_get_data(file), TRAFAN_STATE_MAGIC, sizeof TRAFAN_STATE_MAGIC) != 0)
        fail(error, path, "not a trafan state file");
    else if (!g_variant_is_normal_form(file))
        fail(error, path, "corrupt or truncated state file");
    else if ((g_variant_get_child(file, 0, "&s", &magic), strcmp(magic, TRAFAN_STATE_MAGIC) != 0))
        fail(error, path, "corrupt or truncated state file");
    else if ((g_variant_get_child(file, 1, "q", &version), version != TRAFAN_STATE_VERSION))
        fail(error, path, "state format version %u; this trafan reads version %u", version, TRAFAN_STATE_VERSION);
    else {
        g_variant_get_child(file, 2, "v", body);
        if (g_variant_is_of_type(*body, G_VARIANT_TYPE(BODY_TYPE)))
            return file;
        fail(error, path, "state of type %s, expected %s", g_variant_get_type_string(*body), BODY_TYPE);
        g_variant_unref(*body);
    }
    g_variant_unref(file);
    return NULL;
}

TrafanState *
trafan_state_load(GVariant *body, const char *name, GError **error)
{
    TrafanState *state = g_new0(TrafanState, 1);
    GVariant *stats_v, *detector_v;
    GError *local = NULL;

    state->name = g_strdup(name);
    trafan_run_options_init(&state->run);
    g_variant_get(body, "(@a{sv}@a{sv}vv)", &state->options, &state->producer, &stats_v, &detector_v);
    state->has_first_frame = g_variant_lookup(state->producer, "first_frame", "x", &state->first_frame_ns);

    gboolean ok = parse_options(state->options, &state->run, name, error);
    if (ok && !(state->stats = trafan_stats_load(stats_v, &local)))
        ok = fail(error, name, "%s", local->message);
    if (ok && trafan_stats_config(state->stats)->interval_us != state->run.stats.interval_us)
        ok = fail(error, name, "the statistics' interval differs from the options'");
    if (ok && !(state->detector = trafan_detector_load(&state->run.detect, detector_v, &local)))
        ok = fail(error, name, "%s", local->message);
    g_clear_error(&local);
    g_variant_unref(stats_v);
    g_variant_unref(detector_v);
    if (!ok)
        g_clear_pointer(&state, trafan_state_free);
    return state;
}

TrafanState *
trafan_state_read(const char *path, GError **error)
{
    GVariant *body;
    GVariant *file = read_checked(path, &body, error);
    TrafanState *state;

    if (!file)
        return NULL;
    state = trafan_state_load(body, path, error);
    g_variant_unref(body);
    g_variant_unref(file);
    return state;
}

char *
trafan_state_dump(const char *path, GError **error)
{
    GVariant *body;
    GVariant *file = read_checked(path, &body, error);
    char *text;

    if (!file)
        return NULL;
    text = g_variant_print(file, TRUE);
    g_variant_unref(body);
    g_variant_unref(file);
    return text;
}

void
trafan_state_free(TrafanState *state)
{
    if (!state)
        return;
    g_free(state->name);
    g_clear_pointer(&state->options, g_variant_unref);
    g_clear_pointer(&state->producer, g_variant_unref);
    trafan_run_options_clear(&state->run);
    trafan_stats_free(state->stats);
    g_clear_pointer(&state->detector, trafan_detector_free);
    g_free(state);
}

/* ---- merging ------------------------------------------------------------------ */

/* The first key whose value differs between two a{sv}, named in the error. */
static gboolean
same_dict(GVariant *a, GVariant *b, const char *what, const char *name_a, const char *name_b, GError **error)
{
    GVariantIter it;
    const char *key;
    GVariant *value_a;

    g_variant_iter_init(&it, a);
    while (g_variant_iter_next(&it, "{&sv}", &key, &value_a)) {
        GVariant *value_b = g_variant_lookup_value(b, key, NULL);
        gboolean same = value_b && g_variant_equal(value_a, value_b);

        if (!same) {
            char *x = g_variant_print(value_a, FALSE), *y = value_b ? g_variant_print(value_b, FALSE) : g_strdup("none");
            g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_INVAL, "%s and %s were made with different %s: %s=%s in %s, %s in %s",
                        name_a, name_b, what, key, x, name_a, y, name_b);
            g_free(x);
            g_free(y);
        }
        g_variant_unref(value_a);
        if (value_b)
            g_variant_unref(value_b);
        if (!same)
            return FALSE;
    }
    if (g_variant_n_children(a) != g_variant_n_children(b)) {
        g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_INVAL, "%s and %s were made with different %s",
                    name_a, name_b, what);
        return FALSE;
    }
    return TRUE;
}

gboolean
trafan_state_merge(TrafanState *state, const TrafanState *later, GError **error)
{
    GVariantDict versions_a, versions_b;
    GError *local = NULL;

    g_variant_dict_init(&versions_a, state->producer);
    g_variant_dict_init(&versions_b, later->producer);
    g_variant_dict_remove(&versions_a, "first_frame");
    g_variant_dict_remove(&versions_b, "first_frame");
    GVariant *va = g_variant_ref_sink(g_variant_dict_end(&versions_a));
    GVariant *vb = g_variant_ref_sink(g_variant_dict_end(&versions_b));
    gboolean ok = same_dict(va, vb, "versions", state->name, later->name, error)
               && same_dict(state->options, later->options, "options", state->name, later->name, error);
    g_variant_unref(va);
    g_variant_unref(vb);
    if (!ok)
        return FALSE;

    if (trafan_stats_seen_any(state->stats) && trafan_stats_seen_any(later->stats)
        && trafan_stats_ref_ns(state->stats) != trafan_stats_ref_ns(later->stats)) {
        GString *a = g_string_new(NULL), *b = g_string_new(NULL);
        trafan_append_seconds(a, trafan_stats_ref_ns(state->stats));
        trafan_append_seconds(b, trafan_stats_ref_ns(later->stats));
        g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_INVAL,
                    "%s and %s count relative times from different frames (%s and %s): "
                    "give every slice the same time_ref=%s", state->name, later->name, a->str, b->str, a->str);
        g_string_free(a, TRUE);
        g_string_free(b, TRUE);
        return FALSE;
    }
    if (!trafan_stats_merge(state->stats, later->stats, &local)
        || !trafan_detector_merge(state->detector, later->detector, &local)) {
        g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_INVAL, "merging %s: %s", later->name, local->message);
        g_error_free(local);
        return FALSE;
    }
    if (!state->has_first_frame && later->has_first_frame) {
        state->has_first_frame = TRUE;
        state->first_frame_ns = later->first_frame_ns;
    }
    return TRUE;
}

int
trafan_state_compare_time(const TrafanState *a, const TrafanState *b)
{
    if (a->has_first_frame != b->has_first_frame)
        return a->has_first_frame ? -1 : 1;
    if (!a->has_first_frame || a->first_frame_ns == b->first_frame_ns)
        return 0;
    return a->first_frame_ns < b->first_frame_ns ? -1 : 1;
}
