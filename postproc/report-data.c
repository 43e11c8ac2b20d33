/* report-data.c — report.json (through json-glib) and graph.dot (through
 * cgraph) read back from an out= directory, and the bandwidth series drawn.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "report.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <json-glib/json-glib.h>

G_DEFINE_QUARK(trafan-report-error-quark, tr_error)

/* ---- small helpers ---- */

char *tr_number_text(double value)
{
    if (value == floor(value) && fabs(value) < 1e15)
        return g_strdup_printf("%.0f", value);
    for (int digits = 1; digits < 17; digits++) {
        char *text = g_strdup_printf("%.*g", digits, value);
        if (g_ascii_strtod(text, NULL) == value)
            return text;
        g_free(text);
    }
    return g_strdup_printf("%.17g", value);
}

char *tr_wall_clock(double epoch, gboolean with_date)
{
    gint64 ms = (gint64)llround(epoch * 1000);
    GDateTime *t = g_date_time_new_from_unix_utc(ms >= 0 ? ms / 1000 : (ms - 999) / 1000);
    char *base, *text;

    if (!t)
        return g_strdup("?");
    base = g_date_time_format(t, with_date ? "%Y-%m-%d %H:%M:%S" : "%H:%M:%S");
    text = g_strdup_printf("%s.%03d", base, (int)(((ms % 1000) + 1000) % 1000));
    g_free(base);
    g_date_time_unref(t);
    return text;
}

char *tr_find_program(const char *const *names)
{
    for (; *names; names++) {
        char *path = g_find_program_in_path(*names);
        if (path)
            return path;
    }
    return NULL;
}

/* ---- reading report.json: the first problem found is the error ---- */

typedef struct {
    const char *path;
    GError *error;
} Reader;

static G_GNUC_PRINTF(2, 3) void reader_fail(Reader *rd, const char *fmt, ...)
{
    va_list args;
    char *message;

    if (rd->error)
        return;
    va_start(args, fmt);
    message = g_strdup_vprintf(fmt, args);
    va_end(args);
    g_set_error(&rd->error, TR_ERROR, TR_ERROR_INPUT, "%s: %s", rd->path, message);
    g_free(message);
}

static JsonNode *member(Reader *rd, JsonObject *obj, const char *where, const char *name,
                        JsonNodeType type, const char *what)
{
    JsonNode *node = obj ? json_object_get_member(obj, name) : NULL;

    if (!node || json_node_get_node_type(node) != type) {
        reader_fail(rd, "%s%s%s is %s, not %s", where, *where ? "." : "", name,
                    node ? "of another type" : "missing", what);
        return NULL;
    }
    return node;
}

static JsonObject *get_object(Reader *rd, JsonObject *obj, const char *where, const char *name)
{
    JsonNode *node = member(rd, obj, where, name, JSON_NODE_OBJECT, "an object");
    return node ? json_node_get_object(node) : NULL;
}

static JsonArray *get_array(Reader *rd, JsonObject *obj, const char *where, const char *name)
{
    JsonNode *node = member(rd, obj, where, name, JSON_NODE_ARRAY, "an array");
    return node ? json_node_get_array(node) : NULL;
}

static guint64 get_count(Reader *rd, JsonObject *obj, const char *where, const char *name)
{
    JsonNode *node = member(rd, obj, where, name, JSON_NODE_VALUE, "a count");

    if (!node)
        return 0;
    if (json_node_get_value_type(node) != G_TYPE_INT64 || json_node_get_int(node) < 0) {
        reader_fail(rd, "%s.%s is not a count", where, name);
        return 0;
    }
    return (guint64)json_node_get_int(node);
}

static double get_number(Reader *rd, JsonObject *obj, const char *where, const char *name)
{
    JsonNode *node = member(rd, obj, where, name, JSON_NODE_VALUE, "a number");
    GType type = node ? json_node_get_value_type(node) : G_TYPE_INVALID;

    if (node && type != G_TYPE_INT64 && type != G_TYPE_DOUBLE) {
        reader_fail(rd, "%s.%s is not a number", where, name);
        return 0;
    }
    return node ? json_node_get_double(node) : 0;
}

/* A number as report.json wrote it: an integer stays one. */
static char *get_number_text(Reader *rd, JsonObject *obj, const char *where, const char *name)
{
    JsonNode *node = json_object_get_member(obj, name);

    if (node && JSON_NODE_HOLDS_VALUE(node) && json_node_get_value_type(node) == G_TYPE_INT64)
        return g_strdup_printf("%" G_GINT64_FORMAT, json_node_get_int(node));
    return tr_number_text(get_number(rd, obj, where, name));
}

static char *get_string(Reader *rd, JsonObject *obj, const char *where, const char *name)
{
    JsonNode *node = member(rd, obj, where, name, JSON_NODE_VALUE, "a string");

    if (node && json_node_get_value_type(node) != G_TYPE_STRING) {
        reader_fail(rd, "%s.%s is not a string", where, name);
        node = NULL;
    }
    return g_strdup(node ? json_node_get_string(node) : "");
}

static gboolean get_boolean(Reader *rd, JsonObject *obj, const char *where, const char *name)
{
    JsonNode *node = member(rd, obj, where, name, JSON_NODE_VALUE, "true or false");

    if (node && json_node_get_value_type(node) != G_TYPE_BOOLEAN) {
        reader_fail(rd, "%s.%s is not true or false", where, name);
        return FALSE;
    }
    return node ? json_node_get_boolean(node) : FALSE;
}

/* The array's i-th element, an object named "name[i]" in messages. */
static JsonObject *element(Reader *rd, JsonArray *array, guint i, const char *name, char where[64])
{
    JsonNode *node = json_array_get_element(array, i);

    g_snprintf(where, 64, "%s[%u]", name, i);
    if (json_node_get_node_type(node) != JSON_NODE_OBJECT) {
        reader_fail(rd, "%s is not an object", where);
        return NULL;
    }
    return json_node_get_object(node);
}

static guint n_elements(JsonArray *array)
{
    return array ? json_array_get_length(array) : 0;
}

/* ---- the tables ---- */

static void protocol_free(TrProtocol *p)
{
    g_free(p->name);
    g_free(p);
}

static void conversation_free(TrConversation *c)
{
    g_free(c->a);
    g_free(c->b);
    g_free(c->protocols);
    g_free(c);
}

static void host_free(TrHost *h)
{
    g_free(h->address);
    g_free(h);
}

static void peer_clear(gpointer p)
{
    g_free(((TrPeer *)p)->address);
}

static void flag_free(TrFlag *f)
{
    g_free(f->host);
    g_free(f->role);
    g_free(f->rule);
    g_free(f->observed);
    g_free(f->threshold);
    if (f->peers)
        g_array_unref(f->peers);
    g_free(f->filter);
    g_free(f->summary);
    g_free(f);
}

static void bucket_clear(gpointer p)
{
    g_free(((TrBucket *)p)->protocol_bytes);
}

typedef struct {
    const char *name;
    gint64 count;
} NamedCount;

static int compare_count_desc(gconstpointer pa, gconstpointer pb)
{
    const NamedCount *a = pa, *b = pb;

    if (a->count != b->count)
        return a->count > b->count ? -1 : 1;
    return strcmp(a->name, b->name);
}

/* {"tcp":292,"tls":297} as "tls:297,tcp:292". */
static char *protocol_counts_text(Reader *rd, JsonObject *counts, const char *where)
{
    GArray *sorted = g_array_new(FALSE, FALSE, sizeof(NamedCount));
    GString *text = g_string_new(NULL);
    GList *names = counts ? json_object_get_members(counts) : NULL;

    for (GList *l = names; l; l = l->next) {
        NamedCount c = {l->data, (gint64)get_count(rd, counts, where, l->data)};
        g_array_append_val(sorted, c);
    }
    g_array_sort(sorted, compare_count_desc);
    for (guint i = 0; i < sorted->len; i++) {
        const NamedCount *c = &g_array_index(sorted, NamedCount, i);
        g_string_append_printf(text, "%s%s:%" G_GINT64_FORMAT, i ? "," : "", c->name, c->count);
    }
    g_list_free(names);
    g_array_unref(sorted);
    return g_string_free(text, FALSE);
}

static void load_capture(Reader *rd, JsonObject *root, TrReport *r)
{
    JsonObject *c = get_object(rd, root, "", "capture");

    r->packets = get_count(rd, c, "capture", "packets");
    r->bytes = get_count(rd, c, "capture", "bytes");
    r->first_time = get_number(rd, c, "capture", "first_time");
    r->last_time = get_number(rd, c, "capture", "last_time");
    r->duration = get_number(rd, c, "capture", "duration");
    r->host_count = get_count(rd, c, "capture", "hosts");
    r->conversation_count = get_count(rd, c, "capture", "conversations");
    r->hosts_aggregated = get_count(rd, c, "capture", "hosts_aggregated");
    r->filter = get_string(rd, c, "capture", "filter");
}

static void load_tables(Reader *rd, JsonObject *root, TrReport *r)
{
    JsonArray *rows = get_array(rd, root, "", "protocols");
    for (guint i = 0; i < n_elements(rows) && !rd->error; i++) {
        char where[64];
        JsonObject *o = element(rd, rows, i, "protocols", where);
        if (!o)
            break;
        TrProtocol *p = g_new0(TrProtocol, 1);
        p->name = get_string(rd, o, where, "name");
        p->packets = get_count(rd, o, where, "packets");
        p->bytes = get_count(rd, o, where, "bytes");
        g_ptr_array_add(r->protocols, p);
    }

    rows = get_array(rd, root, "", "conversations");
    for (guint i = 0; i < n_elements(rows) && !rd->error; i++) {
        char where[64];
        JsonObject *o = element(rd, rows, i, "conversations", where);
        if (!o)
            break;
        TrConversation *c = g_new0(TrConversation, 1);
        c->a = get_string(rd, o, where, "a");
        c->b = get_string(rd, o, where, "b");
        c->a_to_b_packets = get_count(rd, o, where, "a_to_b_packets");
        c->a_to_b_bytes = get_count(rd, o, where, "a_to_b_bytes");
        c->b_to_a_packets = get_count(rd, o, where, "b_to_a_packets");
        c->b_to_a_bytes = get_count(rd, o, where, "b_to_a_bytes");
        c->packets = get_count(rd, o, where, "packets");
        c->bytes = get_count(rd, o, where, "bytes");
        c->start = get_number(rd, o, where, "start");
        c->duration = get_number(rd, o, where, "duration");
        c->protocols = protocol_counts_text(rd, get_object(rd, o, where, "protocols"), where);
        g_ptr_array_add(r->conversations, c);
    }

    rows = get_array(rd, root, "", "hosts");
    for (guint i = 0; i < n_elements(rows) && !rd->error; i++) {
        char where[64];
        JsonObject *o = element(rd, rows, i, "hosts", where);
        if (!o)
            break;
        TrHost *h = g_new0(TrHost, 1);
        h->address = get_string(rd, o, where, "address");
        h->tx_packets = get_count(rd, o, where, "tx_packets");
        h->tx_bytes = get_count(rd, o, where, "tx_bytes");
        h->rx_packets = get_count(rd, o, where, "rx_packets");
        h->rx_bytes = get_count(rd, o, where, "rx_bytes");
        h->peers = get_count(rd, o, where, "peers");
        h->dst_ports = get_count(rd, o, where, "dst_ports");
        h->first_seen = get_number(rd, o, where, "first_seen");
        h->last_seen = get_number(rd, o, where, "last_seen");
        if (json_object_has_member(o, "aggregated"))
            h->aggregated = get_count(rd, o, where, "aggregated");
        g_ptr_array_add(r->hosts, h);
    }

    rows = get_array(rd, root, "", "flags");
    for (guint i = 0; i < n_elements(rows) && !rd->error; i++) {
        char where[64];
        JsonObject *o = element(rd, rows, i, "flags", where);
        if (!o)
            break;
        TrFlag *f = g_new0(TrFlag, 1);
        f->host = get_string(rd, o, where, "host");
        f->role = get_string(rd, o, where, "role");
        f->rule = get_string(rd, o, where, "rule");
        f->start = get_number(rd, o, where, "start");
        f->end = get_number(rd, o, where, "end");
        f->observed = get_number_text(rd, o, where, "observed");
        f->threshold = get_number_text(rd, o, where, "threshold");
        f->window = get_number(rd, o, where, "window");
        f->approximate = get_boolean(rd, o, where, "approximate");
        f->peers_total = get_count(rd, o, where, "peers_total");
        f->peers = g_array_new(FALSE, TRUE, sizeof(TrPeer));
        g_array_set_clear_func(f->peers, peer_clear);
        JsonArray *peers = get_array(rd, o, where, "peers");
        for (guint p = 0; p < n_elements(peers) && !rd->error; p++) {
            char peer_where[64];
            JsonObject *po = element(rd, peers, p, where, peer_where);
            if (!po)
                break;
            TrPeer peer = {get_string(rd, po, peer_where, "address"),
                           get_count(rd, po, peer_where, "count")};
            g_array_append_val(f->peers, peer);
        }
        f->filter = get_string(rd, o, where, "filter");
        f->summary = get_string(rd, o, where, "summary");
        g_ptr_array_add(r->flags, f);
    }
}

/* Buckets, and the protocols their protocol_bytes name, biggest first. */
static void load_bandwidth(Reader *rd, JsonObject *root, TrReport *r)
{
    JsonObject *bw = get_object(rd, root, "", "bandwidth");
    JsonArray *rows = get_array(rd, bw, "bandwidth", "buckets");
    GHashTable *totals = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, g_free); /* name -> guint64 */
    GArray *order = g_array_new(FALSE, FALSE, sizeof(NamedCount));

    r->interval = get_number(rd, bw, "bandwidth", "interval");
    if (!rd->error && !(r->interval > 0))
        reader_fail(rd, "bandwidth.interval is not a positive number of seconds");
    for (guint i = 0; i < n_elements(rows) && !rd->error; i++) {
        char where[64];
        JsonObject *o = element(rd, rows, i, "bandwidth.buckets", where);
        if (!o)
            break;
        JsonObject *bytes = get_object(rd, o, where, "protocol_bytes");
        GList *names = bytes ? json_object_get_members(bytes) : NULL;
        for (GList *l = names; l; l = l->next) {
            guint64 *sum = g_hash_table_lookup(totals, l->data);
            if (!sum) {
                sum = g_new0(guint64, 1);
                g_hash_table_insert(totals, l->data, sum);
            }
            *sum += get_count(rd, bytes, where, l->data);
        }
        g_list_free(names);
    }
    GHashTableIter it;
    gpointer name, sum;
    g_hash_table_iter_init(&it, totals);
    while (g_hash_table_iter_next(&it, &name, &sum)) {
        NamedCount c = {name, (gint64)*(guint64 *)sum};
        g_array_append_val(order, c);
    }
    g_array_sort(order, compare_count_desc);
    for (guint i = 0; i < order->len; i++)
        g_ptr_array_add(r->bandwidth_protocols, g_strdup(g_array_index(order, NamedCount, i).name));

    for (guint i = 0; i < n_elements(rows) && !rd->error; i++) {
        char where[64];
        JsonObject *o = element(rd, rows, i, "bandwidth.buckets", where);
        if (!o)
            break;
        JsonObject *bytes = get_object(rd, o, where, "protocol_bytes");
        TrBucket b = {
            .start = get_number(rd, o, where, "start"),
            .packets = get_count(rd, o, where, "packets"),
            .bytes = get_count(rd, o, where, "bytes"),
            .protocol_bytes = g_new0(guint64, MAX(order->len, 1)),
        };
        for (guint p = 0; bytes && p < order->len; p++)
            if (json_object_has_member(bytes, g_array_index(order, NamedCount, p).name))
                b.protocol_bytes[p] = get_count(rd, bytes, where, g_array_index(order, NamedCount, p).name);
        g_array_append_val(r->buckets, b);
    }
    g_array_unref(order);
    g_hash_table_unref(totals);
}

/* graph.dot is optional: without it the report says so. */
static void load_graph(TrReport *r)
{
    char *path = g_build_filename(r->dir, "graph.dot", NULL);
    FILE *in = fopen(path, "rb");
    const char *version, *packets;

    if (!in) {
        r->graph_missing = g_strdup_printf("%s: %s", path, g_strerror(errno));
        g_free(path);
        return;
    }
    r->graph = agread(in, NULL);
    fclose(in);
    version = r->graph ? agget(r->graph, "trafan_format") : NULL;
    packets = r->graph ? agget(r->graph, "packets") : NULL;
    if (!r->graph)
        r->graph_missing = g_strdup_printf("%s: not a DOT graph", path);
    else if (agnnodes(r->graph) == 0)
        r->graph_missing = g_strdup_printf("%s: no hosts (no IP traffic)", path);
    else if (!version || strcmp(version, G_STRINGIFY(TR_FORMAT_VERSION)) != 0)
        r->graph_missing = g_strdup_printf("%s: trafan_format %s, this trafan-report reads %d", path,
                                           version && *version ? version : "missing", TR_FORMAT_VERSION);
    else if (!packets || g_ascii_strtoull(packets, NULL, 10) != r->packets)
        r->graph_missing = g_strdup_printf("%s: %s packets where report.json has %" G_GUINT64_FORMAT
                                           " (written by another run?)", path, packets ? packets : "no",
                                           r->packets);
    if (r->graph_missing && r->graph)
        g_clear_pointer(&r->graph, agclose);
    g_free(path);
}

TrReport *tr_report_load(const char *dir, GError **error)
{
    char *path = g_build_filename(dir, "report.json", NULL);
    JsonParser *parser = json_parser_new();
    Reader rd = {path, NULL};
    JsonNode *root;
    JsonObject *top = NULL;
    TrReport *r;

    if (!g_file_test(dir, G_FILE_TEST_IS_DIR)) {
        g_set_error(error, TR_ERROR, TR_ERROR_INPUT, "%s: no such directory", dir);
        goto fail;
    }
    if (!json_parser_load_from_file(parser, path, &rd.error)) {
        char *why = g_strdup(rd.error->message);
        g_clear_error(&rd.error);
        if (!g_file_test(path, G_FILE_TEST_EXISTS))
            reader_fail(&rd, "missing (write it with tshark -z trafan,stat,out=%s)", dir);
        else
            reader_fail(&rd, "not JSON (%s)", why);
        g_free(why);
        g_propagate_error(error, rd.error);
        goto fail;
    }
    root = json_parser_get_root(parser);
    if (root && JSON_NODE_HOLDS_OBJECT(root))
        top = json_node_get_object(root);
    else
        reader_fail(&rd, "not a trafan report (no JSON object)");
    if (top && !json_object_has_member(top, "trafan_format"))
        reader_fail(&rd, "no trafan_format: not written by trafan, or by a trafan older than this "
                         "trafan-report, which reads format %d", TR_FORMAT_VERSION);
    else if (top && get_count(&rd, top, "", "trafan_format") != TR_FORMAT_VERSION && !rd.error)
        reader_fail(&rd, "trafan_format %" G_GUINT64_FORMAT ", this trafan-report reads format %d",
                    get_count(&rd, top, "", "trafan_format"), TR_FORMAT_VERSION);
    if (rd.error) {
        g_propagate_error(error, rd.error);
        goto fail;
    }

    r = g_new0(TrReport, 1);
    r->dir = g_strdup(dir);
    r->protocols = g_ptr_array_new_with_free_func((GDestroyNotify)protocol_free);
    r->hosts = g_ptr_array_new_with_free_func((GDestroyNotify)host_free);
    r->conversations = g_ptr_array_new_with_free_func((GDestroyNotify)conversation_free);
    r->flags = g_ptr_array_new_with_free_func((GDestroyNotify)flag_free);
    r->buckets = g_array_new(FALSE, TRUE, sizeof(TrBucket));
    g_array_set_clear_func(r->buckets, bucket_clear);
    r->bandwidth_protocols = g_ptr_array_new_with_free_func(g_free);
    load_capture(&rd, top, r);
    load_tables(&rd, top, r);
    load_bandwidth(&rd, top, r);
    if (!rd.error && r->packets == 0)
        reader_fail(&rd, "the capture has no packets: nothing to report");
    if (rd.error) {
        g_propagate_error(error, rd.error);
        tr_report_free(r);
        goto fail;
    }
    load_graph(r);
    g_object_unref(parser);
    g_free(path);
    return r;

fail:
    g_object_unref(parser);
    g_free(path);
    return NULL;
}

void tr_report_free(TrReport *r)
{
    if (!r)
        return;
    g_free(r->dir);
    g_free(r->filter);
    g_ptr_array_unref(r->protocols);
    g_ptr_array_unref(r->hosts);
    g_ptr_array_unref(r->conversations);
    g_ptr_array_unref(r->flags);
    g_array_unref(r->buckets);
    g_ptr_array_unref(r->bandwidth_protocols);
    if (r->graph)
        agclose(r->graph);
    g_free(r->graph_missing);
    g_free(r);
}

/* ---- the series drawn ---- */

static gint64 bucket_index(const TrReport *r, const TrBucket *b)
{
    return llround(b->start / r->interval);
}

TrSeries *tr_series_new(const TrReport *r, guint max_points)
{
    TrSeries *s = g_new0(TrSeries, 1);
    guint n_protocols = r->bandwidth_protocols->len;

    s->n_protocols = n_protocols;
    s->points = g_array_new(FALSE, TRUE, sizeof(TrBucket));
    g_array_set_clear_func(s->points, bucket_clear);
    s->per_point = 1;
    s->step = r->interval;
    if (r->buckets->len == 0)
        return s;

    gint64 first = bucket_index(r, &g_array_index(r->buckets, TrBucket, 0));
    gint64 last = bucket_index(r, &g_array_index(r->buckets, TrBucket, r->buckets->len - 1));
    guint64 span = (guint64)MAX(last - first, 0) + 1;

    max_points = MAX(max_points, 1);
    s->per_point = (guint)((span + max_points - 1) / max_points);
    s->step = s->per_point * r->interval;
    g_array_set_size(s->points, (guint)((span + s->per_point - 1) / s->per_point));
    for (guint k = 0; k < s->points->len; k++) {
        TrBucket *p = &g_array_index(s->points, TrBucket, k);
        p->start = (double)(first + (gint64)k * s->per_point) * r->interval;
        p->protocol_bytes = g_new0(guint64, MAX(n_protocols, 1));
    }
    for (guint i = 0; i < r->buckets->len; i++) {
        const TrBucket *b = &g_array_index(r->buckets, TrBucket, i);
        gint64 k = (bucket_index(r, b) - first) / s->per_point;
        TrBucket *p = &g_array_index(s->points, TrBucket, CLAMP(k, 0, (gint64)s->points->len - 1));

        p->packets += b->packets;
        p->bytes += b->bytes;
        for (guint j = 0; j < n_protocols; j++)
            p->protocol_bytes[j] += b->protocol_bytes[j];
    }
    return s;
}

void tr_series_free(TrSeries *s)
{
    if (!s)
        return;
    g_array_unref(s->points);
    g_free(s);
}
