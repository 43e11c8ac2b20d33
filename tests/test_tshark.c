/* test_tshark.c — the plugin inside tshark, checked against Wireshark itself.
 *
 * For every capture in captures/ (and ../shared/captures when present) the
 * JSON report must equal, row by row, what tshark's own tables say:
 * conversations (-z conv,ip / conv,ipv6: pairs, frames per direction, start,
 * duration; exact bytes per direction from -T fields, checked against the
 * tables' humanised bytes), hosts (-z endpoints,ip / endpoints,ipv6),
 * bandwidth (-z io,stat,1), protocols (last entry of frame.protocols) and
 * totals.  Then options, filters and odd inputs.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#include <json-glib/json-glib.h>

#include "tshark-run.h"

static const char *source_dir = TRAFAN_SOURCE_DIR;

/* ---- reading tshark's outputs ---------------------------------------------- */

typedef struct {
    guint64 ab_packets, ab_bytes, ba_packets, ba_bytes;
    double  start, duration;
    char   *ab_human, *ba_human;    /* the table's humanised bytes */
} ExpConv;

typedef struct {
    guint64 tx_packets, rx_packets;
    char   *tx_bytes, *rx_bytes;    /* as the table prints them: raw, or "13 kB" (4.6) */
    GHashTable *peers;
} ExpHost;

typedef struct {
    GHashTable *convs;          /* "a b" -> ExpConv (a as the table orders it) */
    GHashTable *hosts;          /* address -> ExpHost */
    GHashTable *buckets;        /* start seconds (string "%.6f") -> "packets bytes" */
    GHashTable *protocols;      /* name -> "packets bytes" */
    GHashTable *conv_bytes;     /* "src dst" -> guint64 bytes, from fields */
    GHashTable *conv_frames;    /* "src dst" -> guint64 frames, from fields */
    GHashTable *sent_bytes;     /* address -> guint64, from fields */
    GHashTable *received_bytes;
    guint64 packets, bytes;
    gint64  first_ns, last_ns;
} Expected;

static void
exp_conv_free(gpointer p)
{
    ExpConv *c = p;

    g_free(c->ab_human);
    g_free(c->ba_human);
    g_free(c);
}

static void
exp_host_free(gpointer p)
{
    ExpHost *h = p;

    g_hash_table_destroy(h->peers);
    g_free(h->tx_bytes);
    g_free(h->rx_bytes);
    g_free(h);
}

static void
expected_init(Expected *e)
{
    memset(e, 0, sizeof *e);
    e->convs = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, exp_conv_free);
    e->hosts = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, exp_host_free);
    e->buckets = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    e->protocols = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    e->conv_bytes = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    e->conv_frames = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    e->sent_bytes = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    e->received_bytes = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
}

static void
expected_clear(Expected *e)
{
    g_hash_table_destroy(e->convs);
    g_hash_table_destroy(e->hosts);
    g_hash_table_destroy(e->buckets);
    g_hash_table_destroy(e->protocols);
    g_hash_table_destroy(e->conv_bytes);
    g_hash_table_destroy(e->conv_frames);
    g_hash_table_destroy(e->sent_bytes);
    g_hash_table_destroy(e->received_bytes);
}

static ExpHost *
exp_host(Expected *e, const char *address)
{
    ExpHost *h = g_hash_table_lookup(e->hosts, address);

    if (!h) {
        h = g_new0(ExpHost, 1);
        h->peers = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
        g_hash_table_insert(e->hosts, g_strdup(address), h);
    }
    return h;
}

static guint64
u64(const char *s)
{
    return g_ascii_strtoull(s, NULL, 10);
}

/* "a <-> b  rx_frames rx_bytes unit  tx_frames tx_bytes unit  total bytes unit  start  duration" */
static void
parse_conversation_line(Expected *e, char **tok)
{
    ExpConv *c = g_new0(ExpConv, 1);

    c->ba_packets = u64(tok[3]);
    c->ba_human = g_strdup_printf("%s %s", tok[4], tok[5]);
    c->ab_packets = u64(tok[6]);
    c->ab_human = g_strdup_printf("%s %s", tok[7], tok[8]);
    c->start = g_ascii_strtod(tok[12], NULL);
    c->duration = g_ascii_strtod(tok[13], NULL);
    g_hash_table_insert(e->convs, g_strdup_printf("%s %s", tok[0], tok[2]), c);
    g_hash_table_add(exp_host(e, tok[0])->peers, g_strdup(tok[2]));
    g_hash_table_add(exp_host(e, tok[2])->peers, g_strdup(tok[0]));
}

static gboolean
is_size_unit(const char *word)
{
    return strcmp(word, "bytes") == 0 || (strlen(word) == 2 && word[1] == 'B' && strchr("kMGT", word[0]));
}

/* "address  packets bytes  tx_packets tx_bytes  rx_packets rx_bytes", each
 * size raw (4.0, 4.4) or humanised with its unit (4.6: "13 kB"). */
static gboolean
parse_endpoint_line(Expected *e, char **tok, guint n)
{
    char *value[6];
    guint k = 0;

    for (guint i = 1; i < n && k < 6; i++) {
        gboolean unit = i + 1 < n && is_size_unit(tok[i + 1]);
        value[k++] = unit ? g_strdup_printf("%s %s", tok[i], tok[i + 1]) : g_strdup(tok[i]);
        i += unit;
    }
    if (k == 6) {
        ExpHost *h = exp_host(e, tok[0]);
        h->tx_packets = u64(value[2]);
        h->rx_packets = u64(value[4]);
        g_free(h->tx_bytes);
        g_free(h->rx_bytes);
        h->tx_bytes = g_strdup(value[3]);
        h->rx_bytes = g_strdup(value[5]);
    }
    for (guint i = 0; i < k; i++)
        g_free(value[i]);
    return k == 6;
}

/* "| 12 <> 13 |  frames |  bytes |" */
static void
parse_iostat_line(Expected *e, const char *line)
{
    char **cells = g_strsplit(line, "|", -1);

    if (g_strv_length(cells) >= 4 && strstr(cells[1], "<>")) {
        double start = g_ascii_strtod(g_strstrip(cells[1]), NULL);
        guint64 frames = u64(g_strstrip(cells[2])), bytes = u64(g_strstrip(cells[3]));
        if (frames)
            g_hash_table_insert(e->buckets, g_strdup_printf("%.6f", start),
                                g_strdup_printf("%" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT, frames, bytes));
    }
    g_strfreev(cells);
}

static void
parse_tables(Expected *e, const char *text)
{
    char **lines = g_strsplit(text, "\n", -1);
    enum { NONE, CONV, ENDPOINT, IOSTAT } section = NONE;

    for (char **l = lines; *l; l++) {
        if (g_str_has_prefix(*l, "IPv4 Conversations") || g_str_has_prefix(*l, "IPv6 Conversations"))
            section = CONV;
        else if (g_str_has_prefix(*l, "IPv4 Endpoints") || g_str_has_prefix(*l, "IPv6 Endpoints"))
            section = ENDPOINT;
        else if (strstr(*l, "IO Statistics"))
            section = IOSTAT;
        else if (section == IOSTAT)
            parse_iostat_line(e, *l);
        else if (section != NONE && **l && !g_str_has_prefix(*l, "=") && !g_str_has_prefix(*l, "Filter:")
                 && !strchr(*l, '|')) {
            char **tok = g_strsplit_set(g_strstrip(*l), " ", -1);
            GPtrArray *words = g_ptr_array_new();
            for (char **t = tok; *t; t++)
                if (**t)
                    g_ptr_array_add(words, *t);
            g_ptr_array_add(words, NULL);
            char **w = (char **)words->pdata;
            if (section == CONV && words->len - 1 == 14 && strcmp(w[1], "<->") == 0)
                parse_conversation_line(e, w);
            else if (section == ENDPOINT && parse_endpoint_line(e, w, words->len - 1))
                ;
            else
                g_test_message("unparsed table line: %s", *l);
            g_ptr_array_unref(words);
            g_strfreev(tok);
        }
    }
    g_strfreev(lines);
}

static void
add_counter(GHashTable *table, const char *key, guint64 value)
{
    guint64 *v = g_hash_table_lookup(table, key);

    if (!v) {
        v = g_new0(guint64, 1);
        g_hash_table_insert(table, g_strdup(key), v);
    }
    *v += value;
}

/* An ICMP(v6) error quotes the offending packet's IP header; Wireshark's
 * tables do not count it (in_error_pkt), but -T fields lists it last. */
static gboolean
is_icmp_error(const char *types, gboolean v6)
{
    int type = *types ? atoi(types) : -1;

    return v6 ? (type >= 1 && type <= 4) : (type == 3 || type == 4 || type == 5 || type == 11 || type == 12);
}

static void
count_pairs(Expected *e, const char *srcs, const char *dsts, gboolean drop_last, guint64 len)
{
    char **s = g_strsplit(srcs, ",", -1), **d = g_strsplit(dsts, ",", -1);
    guint n = MIN(g_strv_length(s), g_strv_length(d));

    if (!*srcs)
        n = 0;
    if (drop_last && n)
        n--;
    for (guint i = 0; i < n; i++) {
        char *key = g_strdup_printf("%s %s", s[i], d[i]);
        add_counter(e->conv_bytes, key, len);
        add_counter(e->conv_frames, key, 1);
        add_counter(e->sent_bytes, s[i], len);
        add_counter(e->received_bytes, d[i], len);
        g_free(key);
    }
    g_strfreev(s);
    g_strfreev(d);
}

/* frame.time_epoch is seconds "." nanoseconds as Wireshark holds them, which
 * a corrupt record can leave above 10^9: 4.0 prints "...02.1882137472", 4.4
 * "...02.(1882137472 nanoseconds)".  Normalise. */
static gint64
epoch_ns(const char *text)
{
    const char *frac = strchr(text, '.');

    if (frac)
        frac += strspn(frac, ".(");
    return g_ascii_strtoll(text, NULL, 10) * 1000000000 + (frac ? g_ascii_strtoll(frac, NULL, 10) : 0);
}

static char *
epoch_str(gint64 ns)
{
    return g_strdup_printf("%" G_GINT64_FORMAT ".%09d", ns / 1000000000, (int)(ns % 1000000000));
}

/* frame.len, frame.time_epoch, frame.protocols, ip.src, ip.dst, ipv6.src, ipv6.dst, icmp.type, icmpv6.type */
static void
parse_fields(Expected *e, const char *text)
{
    char **lines = g_strsplit(text, "\n", -1);

    for (char **l = lines; *l; l++) {
        char **f = g_strsplit(*l, "\t", -1);
        if (g_strv_length(f) == 9) {
            guint64 len = u64(f[0]);
            char **layers = g_strsplit(f[2], ":", -1);
            guint nl = g_strv_length(layers);
            const char *top = nl ? layers[nl - 1] : "frame";
            char *counts = g_hash_table_lookup(e->protocols, top);
            guint64 p = 0, b = 0;

            if (counts)
                sscanf(counts, "%" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT, &p, &b);
            g_hash_table_insert(e->protocols, g_strdup(top),
                                g_strdup_printf("%" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT, p + 1, b + len));
            g_strfreev(layers);

            e->packets++;
            e->bytes += len;
            gint64 t = epoch_ns(f[1]);
            e->first_ns = e->packets == 1 ? t : MIN(e->first_ns, t);
            e->last_ns = e->packets == 1 ? t : MAX(e->last_ns, t);
            count_pairs(e, f[3], f[4], is_icmp_error(f[7], FALSE), len);
            count_pairs(e, f[5], f[6], is_icmp_error(f[8], TRUE), len);
        }
        g_strfreev(f);
    }
    g_strfreev(lines);
}

/* wsutil's format_size(..., FORMAT_SIZE_UNIT_BYTES, 0), as conv,ip prints it. */
static char *
humanised(guint64 size)
{
    static const struct { guint64 unit; const char *prefix; } steps[] = {
        { G_GUINT64_CONSTANT(1000000000000), " T" }, { 1000000000, " G" }, { 1000000, " M" }, { 1000, " k" },
    };

    for (guint i = 0; i < G_N_ELEMENTS(steps); i++)
        if (size / steps[i].unit >= 10)
            return g_strdup_printf("%" G_GUINT64_FORMAT "%sB", size / steps[i].unit, steps[i].prefix);
    return g_strdup_printf("%" G_GUINT64_FORMAT " bytes", size);
}

/* ---- reading our JSON ------------------------------------------------------- */

static JsonNode *
parse_json(const char *text)
{
    JsonParser *parser = json_parser_new();
    GError *error = NULL;

    if (!json_parser_load_from_data(parser, text, -1, &error))
        g_error("report is not valid JSON: %s\n%.400s", error->message, text);
    JsonNode *root = json_node_copy(json_parser_get_root(parser));
    g_object_unref(parser);
    return root;
}

static guint64
jint(JsonObject *o, const char *key)
{
    g_assert_true(json_object_has_member(o, key));
    return (guint64)json_object_get_int_member(o, key);
}

static JsonArray *
jarray(JsonNode *root, const char *key)
{
    return json_object_get_array_member(json_node_get_object(root), key);
}

/* ---- the differential check -------------------------------------------- */

static TsharkResult
run_report(const char *capture, const char *options)
{
    char *z = g_strdup_printf("trafan,stat%s", options);
    const char *argv[] = { "-q", "-r", capture, "-z", z, NULL };
    TsharkResult r = tshark_run(argv);

    g_free(z);
    return r;
}

static gboolean
capture_is_truncated(const char *path)
{
    return strstr(path, "truncated") != NULL;
}

static void
check_conversations(Expected *e, JsonArray *convs)
{
    g_assert_cmpuint(json_array_get_length(convs), ==, g_hash_table_size(e->convs));
    for (guint i = 0; i < json_array_get_length(convs); i++) {
        JsonObject *c = json_array_get_object_element(convs, i);
        const char *a = json_object_get_string_member(c, "a"), *b = json_object_get_string_member(c, "b");
        char *key = g_strdup_printf("%s %s", a, b), *rkey = g_strdup_printf("%s %s", b, a);
        ExpConv *x = g_hash_table_lookup(e->convs, key);

        if (!x)
            g_error("conversation %s <-> %s is not in Wireshark's table (in the other order: %s)", a, b,
                    g_hash_table_contains(e->convs, rkey) ? "yes" : "no");
        g_assert_cmpuint(jint(c, "a_to_b_packets"), ==, x->ab_packets);
        g_assert_cmpuint(jint(c, "b_to_a_packets"), ==, x->ba_packets);
        g_assert_cmpfloat_with_epsilon(json_object_get_double_member(c, "start"), x->start, 5e-7);
        g_assert_cmpfloat_with_epsilon(json_object_get_double_member(c, "duration"), x->duration, 5.1e-5);

        /* Exact bytes from -T fields, which must agree with the table's frames. */
        guint64 *fb = g_hash_table_lookup(e->conv_bytes, key), *rb = g_hash_table_lookup(e->conv_bytes, rkey);
        guint64 *ff = g_hash_table_lookup(e->conv_frames, key), *rf = g_hash_table_lookup(e->conv_frames, rkey);
        gboolean self = strcmp(a, b) == 0;
        g_assert_cmpuint(ff ? *ff : 0, ==, x->ab_packets);
        g_assert_cmpuint(self ? 0 : (rf ? *rf : 0), ==, x->ba_packets);
        g_assert_cmpuint(jint(c, "a_to_b_bytes"), ==, fb ? *fb : 0);
        g_assert_cmpuint(jint(c, "b_to_a_bytes"), ==, self ? 0 : (rb ? *rb : 0));
        char *hab = humanised(jint(c, "a_to_b_bytes")), *hba = humanised(jint(c, "b_to_a_bytes"));
        g_assert_cmpstr(hab, ==, x->ab_human);
        g_assert_cmpstr(hba, ==, x->ba_human);
        g_free(hab);
        g_free(hba);
        g_free(key);
        g_free(rkey);
    }
}

/* A size as the table prints it: exactly, or humanised. */
static void
assert_size(guint64 ours, const char *table)
{
    if (strspn(table, "0123456789") == strlen(table)) {
        g_assert_cmpuint(ours, ==, u64(table));
    } else {
        char *human = humanised(ours);
        g_assert_cmpstr(human, ==, table);
        g_free(human);
    }
}

/* Bytes a host sent (or received), from the -T fields pairs. */
static guint64
fields_bytes(Expected *e, const char *address, gboolean sent)
{
    guint64 *sum = g_hash_table_lookup(sent ? e->sent_bytes : e->received_bytes, address);

    return sum ? *sum : 0;
}

static void
check_hosts(Expected *e, JsonArray *hosts)
{
    g_assert_cmpuint(json_array_get_length(hosts), ==, g_hash_table_size(e->hosts));
    for (guint i = 0; i < json_array_get_length(hosts); i++) {
        JsonObject *h = json_array_get_object_element(hosts, i);
        const char *address = json_object_get_string_member(h, "address");
        ExpHost *x = g_hash_table_lookup(e->hosts, address);

        if (!x)
            g_error("host %s is not in Wireshark's endpoint table", address);
        g_assert_cmpuint(jint(h, "tx_packets"), ==, x->tx_packets);
        g_assert_cmpuint(jint(h, "rx_packets"), ==, x->rx_packets);
        assert_size(jint(h, "tx_bytes"), x->tx_bytes);
        assert_size(jint(h, "rx_bytes"), x->rx_bytes);
        g_assert_cmpuint(jint(h, "tx_bytes"), ==, fields_bytes(e, address, TRUE));
        g_assert_cmpuint(jint(h, "rx_bytes"), ==, fields_bytes(e, address, FALSE));
        g_assert_cmpuint(jint(h, "peers"), ==, g_hash_table_size(x->peers));
    }
}

static void
check_protocols(Expected *e, JsonArray *protocols)
{
    g_assert_cmpuint(json_array_get_length(protocols), ==, g_hash_table_size(e->protocols));
    for (guint i = 0; i < json_array_get_length(protocols); i++) {
        JsonObject *p = json_array_get_object_element(protocols, i);
        const char *name = json_object_get_string_member(p, "name");
        char *got = g_strdup_printf("%" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT, jint(p, "packets"), jint(p, "bytes"));
        g_assert_cmpstr(got, ==, g_hash_table_lookup(e->protocols, name));
        g_free(got);
    }
}

static void
check_bandwidth(GHashTable *expected, JsonObject *bandwidth)
{
    JsonArray *buckets = json_object_get_array_member(bandwidth, "buckets");

    g_assert_cmpuint(json_array_get_length(buckets), ==, g_hash_table_size(expected));
    for (guint i = 0; i < json_array_get_length(buckets); i++) {
        JsonObject *b = json_array_get_object_element(buckets, i);
        char *start = g_strdup_printf("%.6f", json_object_get_double_member(b, "start"));
        char *got = g_strdup_printf("%" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT, jint(b, "packets"), jint(b, "bytes"));
        g_assert_cmpstr(got, ==, g_hash_table_lookup(expected, start));
        g_free(start);
        g_free(got);
    }
}

/* The raw text of a JSON number member, to compare times digit for digit. */
static char *
raw_member(const char *json, const char *key)
{
    char *pattern = g_strdup_printf("\"%s\":", key);
    const char *at = strstr(json, pattern);
    char *value = at ? g_strndup(at + strlen(pattern), strcspn(at + strlen(pattern), ",}")) : NULL;

    g_free(pattern);
    return value;
}

static void
test_capture(gconstpointer data)
{
    const char *capture = tshark_capture(data);
    const char *tables_argv[] = { "-q", "-r", capture, "-z", "conv,ip", "-z", "conv,ipv6", "-z", "endpoints,ip",
                                  "-z", "endpoints,ipv6", "-z", "io,stat,1", NULL };
    const char *fields_argv[] = { "-r", capture, "-T", "fields", "-E", "occurrence=a", "-E", "aggregator=,",
                                  "-e", "frame.len", "-e", "frame.time_epoch", "-e", "frame.protocols",
                                  "-e", "ip.src", "-e", "ip.dst", "-e", "ipv6.src", "-e", "ipv6.dst",
                                  "-e", "icmp.type", "-e", "icmpv6.type", NULL };
    Expected e;

    expected_init(&e);
    TsharkResult tables = tshark_run(tables_argv), fields = tshark_run(fields_argv);
    /* A cut-short file is an error for tshark (status 2, 14 from 4.6) after
     * the report of what it read; trafan must end the same way. */
    int expected_status = tables.status;
    g_assert_cmpint(expected_status != 0, ==, capture_is_truncated(capture));
    parse_tables(&e, tables.out);
    parse_fields(&e, fields.out);
    /* io,stat prints no interval at all for a capture of zero duration;
     * trafan puts its frames in interval 0. */
    if (g_hash_table_size(e.buckets) == 0 && e.packets && strstr(tables.out, "Duration: 0.000 secs"))
        g_hash_table_insert(e.buckets, g_strdup("0.000000"),
                            g_strdup_printf("%" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT, e.packets, e.bytes));

    /* tree=1: protocols exactly as frame.protocols. */
    TsharkResult exact = run_report(capture, ",format=json,tree=1");
    g_assert_cmpint(exact.status, ==, expected_status);
    JsonNode *root = parse_json(exact.out);
    JsonObject *cap = json_object_get_object_member(json_node_get_object(root), "capture");

    g_assert_cmpuint(jint(cap, "packets"), ==, e.packets);
    g_assert_cmpuint(jint(cap, "bytes"), ==, e.bytes);
    if (e.packets) {
        char *first = raw_member(exact.out, "first_time"), *last = raw_member(exact.out, "last_time");
        char *want_first = epoch_str(e.first_ns), *want_last = epoch_str(e.last_ns);
        g_assert_cmpstr(first, ==, want_first);
        g_assert_cmpstr(last, ==, want_last);
        g_free(first);
        g_free(last);
        g_free(want_first);
        g_free(want_last);
    }
    check_conversations(&e, jarray(root, "conversations"));
    check_hosts(&e, jarray(root, "hosts"));
    check_protocols(&e, jarray(root, "protocols"));
    check_bandwidth(e.buckets, json_object_get_object_member(json_node_get_object(root), "bandwidth"));

    /* Without the tree every table but the protocols is the same. */
    TsharkResult fast = run_report(capture, ",format=json");
    g_assert_cmpint(fast.status, ==, expected_status);
    JsonNode *fast_root = parse_json(fast.out);
    check_conversations(&e, jarray(fast_root, "conversations"));
    check_hosts(&e, jarray(fast_root, "hosts"));
    check_bandwidth(e.buckets, json_object_get_object_member(json_node_get_object(fast_root), "bandwidth"));
    JsonObject *fast_cap = json_object_get_object_member(json_node_get_object(fast_root), "capture");
    g_assert_cmpuint(jint(fast_cap, "packets"), ==, e.packets);

    json_node_unref(root);
    json_node_unref(fast_root);
    tshark_result_clear(&tables);
    tshark_result_clear(&fields);
    tshark_result_clear(&exact);
    tshark_result_clear(&fast);
    expected_clear(&e);
}

/* ---- options, filters, exports -------------------------------------------- */

static const char *
bundled(const char *name)
{
    char *path = g_build_filename(source_dir, "captures", name, NULL);
    const char *copy = tshark_capture(path);

    g_free(path);
    return copy;
}

static void
assert_rejected(const char *z, const char *message)
{
    char *out = tshark_scratch_dir("rejected");
    char *arg = g_strdup_printf("%s,out=%s", z, out);
    const char *argv[] = { "-q", "-r", bundled("tunnel_6in4.pcap"), "-z", z, NULL };
    const char *argv_out[] = { "-q", "-r", bundled("tunnel_6in4.pcap"), "-z", arg, NULL };
    TsharkResult r = tshark_run(argv);

    g_assert_cmpint(r.status, !=, 0);
    g_assert_nonnull(strstr(r.err, message));
    g_assert_cmpstr(r.out, ==, "");
    tshark_result_clear(&r);

    /* ...and nothing is written where out= points. */
    r = tshark_run(argv_out);
    g_assert_cmpint(r.status, !=, 0);
    GDir *dir = g_dir_open(out, 0, NULL);
    g_assert_null(g_dir_read_name(dir));
    g_dir_close(dir);
    tshark_result_clear(&r);
    g_free(arg);
    g_free(out);
}

static void
test_bad_options(void)
{
    assert_rejected("trafan,stat,formt=json", "unknown option \"formt\"");
    assert_rejected("trafan,stat,format=xml", "invalid value \"xml\" for option format");
    assert_rejected("trafan,stat,interval=0", "invalid value \"0\" for option interval");
    assert_rejected("trafan,stat,interval=1.5s", "for option interval");
    assert_rejected("trafan,stat,top=-1", "for option top");
    assert_rejected("trafan,stat,max_hosts=0", "for option max_hosts");
    assert_rejected("trafan,statx", "trailing \"x\"");
    assert_rejected("trafan,stat,ip.src==", "bad filter");
    assert_rejected("trafan,stat,nosuchproto", "bad filter");
}

/* The filter restricts everything, like -z conv,ip,FILTER does. */
static void
test_filter(void)
{
    const char *capture = bundled("tunnel_6in4.pcap");
    const char *tables_argv[] = { "-q", "-r", capture, "-z", "conv,ip,tcp", "-z", "conv,ipv6,tcp",
                                  "-z", "endpoints,ip,tcp", "-z", "endpoints,ipv6,tcp", "-z", "io,stat,1,tcp", NULL };
    const char *fields_argv[] = { "-r", capture, "-Y", "tcp", "-T", "fields", "-E", "occurrence=a", "-E", "aggregator=,",
                                  "-e", "frame.len", "-e", "frame.time_epoch", "-e", "frame.protocols",
                                  "-e", "ip.src", "-e", "ip.dst", "-e", "ipv6.src", "-e", "ipv6.dst",
                                  "-e", "icmp.type", "-e", "icmpv6.type", NULL };
    TsharkResult tables = tshark_run(tables_argv), fields = tshark_run(fields_argv);
    TsharkResult r = run_report(capture, ",format=json,tcp");
    Expected e;

    expected_init(&e);
    parse_tables(&e, tables.out);
    parse_fields(&e, fields.out);
    g_assert_cmpint(r.status, ==, 0);
    JsonNode *root = parse_json(r.out);
    JsonObject *cap = json_object_get_object_member(json_node_get_object(root), "capture");
    g_assert_cmpuint(e.packets, >, 0);
    g_assert_cmpuint(e.packets, <, 127);    /* the filter did restrict */
    g_assert_cmpuint(jint(cap, "packets"), ==, e.packets);
    g_assert_cmpstr(json_object_get_string_member(cap, "filter"), ==, "tcp");
    check_conversations(&e, jarray(root, "conversations"));
    check_hosts(&e, jarray(root, "hosts"));
    check_bandwidth(e.buckets, json_object_get_object_member(json_node_get_object(root), "bandwidth"));
    json_node_unref(root);
    expected_clear(&e);
    tshark_result_clear(&r);
    tshark_result_clear(&tables);
    tshark_result_clear(&fields);
}

/* Sub-second intervals equal -z io,stat,0.25. */
static void
test_interval(void)
{
    const char *capture = bundled("tunnel_teredo.pcap");
    const char *argv[] = { "-q", "-r", capture, "-z", "io,stat,0.25", NULL };
    TsharkResult io = tshark_run(argv), r = run_report(capture, ",format=json,interval=0.25");
    Expected e;

    expected_init(&e);
    parse_tables(&e, io.out);
    JsonNode *root = parse_json(r.out);
    JsonObject *bw = json_object_get_object_member(json_node_get_object(root), "bandwidth");
    g_assert_cmpfloat(json_object_get_double_member(bw, "interval"), ==, 0.25);
    g_assert_cmpuint(g_hash_table_size(e.buckets), >, 3);
    check_bandwidth(e.buckets, bw);
    json_node_unref(root);
    expected_clear(&e);
    tshark_result_clear(&io);
    tshark_result_clear(&r);
}

static char *
read_file(const char *dir, const char *name)
{
    char *path = g_build_filename(dir, name, NULL), *text = NULL;

    g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
    g_free(path);
    return text;
}

/* out=DIR: every export, complete, and consistent with stdout. */
static void
test_exports(void)
{
    static const char *const files[] = { "conversations.csv", "hosts.csv", "protocols.csv", "bandwidth.csv",
                                         "flags.csv", "report.json", "graph.dot" };
    char *dir = tshark_scratch_dir("exports");
    char *options = g_strdup_printf(",format=json,out=%s", dir);
    TsharkResult r = run_report(bundled("tunnel_6in4.pcap"), options);

    g_assert_cmpint(r.status, ==, 0);
    for (guint i = 0; i < G_N_ELEMENTS(files); i++) {
        char *text = read_file(dir, files[i]);
        g_assert_cmpuint(strlen(text), >, 0);
        g_free(text);
    }
    char *json = read_file(dir, "report.json");
    g_assert_cmpstr(json, ==, r.out);

    /* One CSV row per conversation and host, as in the JSON. */
    JsonNode *root = parse_json(json);
    char *convs = read_file(dir, "conversations.csv"), *hosts = read_file(dir, "hosts.csv");
    char **conv_lines = g_strsplit(g_strstrip(convs), "\n", -1), **host_lines = g_strsplit(g_strstrip(hosts), "\n", -1);
    g_assert_cmpuint(g_strv_length(conv_lines) - 1, ==, json_array_get_length(jarray(root, "conversations")));
    g_assert_cmpuint(g_strv_length(host_lines) - 1, ==, json_array_get_length(jarray(root, "hosts")));

    /* graph.dot: one node per host, one edge per conversation, every ID quoted. */
    char *dot = read_file(dir, "graph.dot");
    guint edges = 0, nodes = 0;
    char **lines = g_strsplit(dot, "\n", -1);
    for (char **l = lines; *l; l++) {
        if (g_str_has_prefix(*l, "  \""))
            (strstr(*l, "\" -- \"") ? edges++ : nodes++);
    }
    g_assert_true(g_str_has_prefix(dot, "graph \"trafan\" {"));
    g_assert_cmpuint(nodes, ==, json_array_get_length(jarray(root, "hosts")));
    g_assert_cmpuint(edges, ==, json_array_get_length(jarray(root, "conversations")));
    g_assert_nonnull(strstr(dot, "\"2001:470:1f16:13f::2\" ["));

    /* No temporary file is left behind. */
    GDir *d = g_dir_open(dir, 0, NULL);
    guint count = 0;
    while (g_dir_read_name(d))
        count++;
    g_dir_close(d);
    g_assert_cmpuint(count, ==, G_N_ELEMENTS(files));

    g_strfreev(lines);
    g_strfreev(conv_lines);
    g_strfreev(host_lines);
    g_free(dot);
    g_free(convs);
    g_free(hosts);
    g_free(json);
    json_node_unref(root);
    tshark_result_clear(&r);
    g_free(options);
    g_free(dir);
}

/* The text report: tshark's framing, raw integers, top=N. */
static void
test_text_report(void)
{
    TsharkResult r = run_report(bundled("tunnel_6in4.pcap"), ",top=2");

    g_assert_cmpint(r.status, ==, 0);
    g_assert_true(g_str_has_prefix(r.out, "===================="));
    g_assert_nonnull(strstr(r.out, "Packets: 127"));
    g_assert_nonnull(strstr(r.out, "Conversations, IPv4 and IPv6 ("));
    g_assert_nonnull(strstr(r.out, ", top 2):"));
    g_assert_nonnull(strstr(r.out, "more rows; top=0 shows all"));
    g_assert_null(strstr(r.out, " kB"));
    tshark_result_clear(&r);
}

static void
test_empty_capture(void)
{
    TsharkResult r = run_report(bundled("edge_empty.pcap"), ",format=json");
    g_assert_cmpint(r.status, ==, 0);
    JsonNode *root = parse_json(r.out);
    JsonObject *cap = json_object_get_object_member(json_node_get_object(root), "capture");
    g_assert_cmpuint(jint(cap, "packets"), ==, 0);
    g_assert_cmpuint(json_array_get_length(jarray(root, "conversations")), ==, 0);
    g_assert_cmpuint(json_array_get_length(jarray(root, "flags")), ==, 0);
    json_node_unref(root);
    tshark_result_clear(&r);
}

/* max_hosts: later hosts fold into "other IPv4"/"other IPv6", and the
 * report says so; totals stay exact. */
static void
test_host_cap(void)
{
    const char *capture = bundled("tunnel_6in4.pcap");
    TsharkResult all = run_report(capture, ",format=json"), capped = run_report(capture, ",format=json,max_hosts=3");
    JsonNode *a = parse_json(all.out), *c = parse_json(capped.out);
    JsonObject *ccap = json_object_get_object_member(json_node_get_object(c), "capture");
    JsonArray *hosts = jarray(c, "hosts");
    guint64 tx_all = 0, tx_capped = 0;

    g_assert_cmpuint(jint(ccap, "hosts_aggregated"), >, 0);
    g_assert_cmpuint(json_array_get_length(hosts), <=, 3 + 2);
    for (guint i = 0; i < json_array_get_length(jarray(a, "hosts")); i++)
        tx_all += jint(json_array_get_object_element(jarray(a, "hosts"), i), "tx_packets");
    for (guint i = 0; i < json_array_get_length(hosts); i++)
        tx_capped += jint(json_array_get_object_element(hosts, i), "tx_packets");
    g_assert_cmpuint(tx_capped, ==, tx_all);

    TsharkResult text = run_report(capture, ",max_hosts=3");
    g_assert_nonnull(strstr(text.out, "Host limit max_hosts=3 reached"));
    json_node_unref(a);
    json_node_unref(c);
    tshark_result_clear(&all);
    tshark_result_clear(&capped);
    tshark_result_clear(&text);
}

/* ---- detection: labelled captures --------------------------------------- */

typedef struct {
    char      *capture;         /* path */
    GPtrArray *expected;        /* "host rule role" */
} DetectCase;

static GPtrArray *detect_cases;

/* Read a labels file (file, host, rule, role) for captures found in dirs. */
static void
add_detect_cases(const char *labels, const char *const *dirs)
{
    char *text = NULL;
    GHashTable *cases = g_hash_table_new(g_str_hash, g_str_equal);

    if (!g_file_get_contents(labels, &text, NULL, NULL))
        return;
    char **lines = g_strsplit(text, "\n", -1);
    for (char **l = lines; *l; l++) {
        char **f = g_strsplit(*l, "\t", -1);
        if (g_strv_length(f) == 4 && **l != '#' && strcmp(f[0], "file") != 0) {
            DetectCase *c = g_hash_table_lookup(cases, f[0]);
            for (guint d = 0; !c && dirs[d]; d++) {
                char *path = g_build_filename(dirs[d], f[0], NULL);
                if (g_file_test(path, G_FILE_TEST_EXISTS)) {
                    c = g_new0(DetectCase, 1);
                    c->capture = path;
                    c->expected = g_ptr_array_new_with_free_func(g_free);
                    g_hash_table_insert(cases, f[0], c);
                    g_ptr_array_add(detect_cases, c);
                    f[0] = NULL;    /* now the key */
                } else {
                    g_free(path);
                }
            }
            if (c && *f[1])
                g_ptr_array_add(c->expected, g_strdup_printf("%s %s %s", f[1], f[2], f[3]));
        }
        if (f[0] == NULL)
            f[0] = g_strdup("");   /* keep g_strfreev's walk intact; the key was moved */
        g_strfreev(f);
    }
    g_strfreev(lines);
    g_free(text);
    g_hash_table_destroy(cases);
}

static gboolean
has_string(GPtrArray *list, const char *s)
{
    for (guint i = 0; i < list->len; i++)
        if (strcmp(g_ptr_array_index(list, i), s) == 0)
            return TRUE;
    return FALSE;
}

/* Frame numbers (as strings) that tshark prints, one per line, first field. */
static GHashTable *
frame_set(const char *out)
{
    GHashTable *set = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    char **lines = g_strsplit(out, "\n", -1);

    for (char **l = lines; *l; l++)
        if (**l)
            g_hash_table_add(set, g_strdup(*l));
    g_strfreev(lines);
    return set;
}

static void
assert_same_frames(const char *what, GHashTable *got, GHashTable *expected)
{
    GHashTableIter it;
    gpointer frame;

    g_hash_table_iter_init(&it, expected);
    while (g_hash_table_iter_next(&it, &frame, NULL))
        if (!g_hash_table_contains(got, frame))
            g_error("%s: frame %s is not marked", what, (char *)frame);
    g_hash_table_iter_init(&it, got);
    while (g_hash_table_iter_next(&it, &frame, NULL))
        if (!g_hash_table_contains(expected, frame))
            g_error("%s: frame %s is marked but not selected", what, (char *)frame);
}

/* The `trafan` post-dissector: `tshark -2 -Y 'trafan.rule == "R"'` marks
 * exactly the frames that the filters of R's flags select within their
 * windows (JSON times: microseconds, so half a microsecond of slack); a
 * single pass marks some of them at most. */
static void
check_marks(const char *capture, JsonArray *flags)
{
    GHashTable *expected = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
                                                 (GDestroyNotify)g_hash_table_unref);

    for (guint i = 0; i < json_array_get_length(flags); i++) {
        JsonObject *f = json_array_get_object_element(flags, i);
        const char *rule = json_object_get_string_member(f, "rule");
        double start = json_object_get_double_member(f, "start"), end = json_object_get_double_member(f, "end");
        const char *argv[] = { "-r", capture, "-Y", json_object_get_string_member(f, "filter"), "-T", "fields",
                               "-e", "frame.number", "-e", "frame.time_relative", NULL };
        TsharkResult sel = tshark_run(argv);
        char **lines = g_strsplit(sel.out, "\n", -1);
        GHashTable *frames = g_hash_table_lookup(expected, rule);

        if (!frames) {
            frames = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
            g_hash_table_insert(expected, g_strdup(rule), frames);
        }
        for (char **l = lines; *l; l++) {
            char **cols = g_strsplit(*l, "\t", 2);
            if (g_strv_length(cols) == 2) {
                double t = g_ascii_strtod(cols[1], NULL);
                if (t >= start - 5e-7 && t <= end + 5e-7)
                    g_hash_table_add(frames, g_strdup(cols[0]));
            }
            g_strfreev(cols);
        }
        g_strfreev(lines);
        tshark_result_clear(&sel);
    }

    /* Every mark at all (NULL), port_scan on every capture, each rule that fired. */
    GHashTable *all = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    GPtrArray *checks = g_ptr_array_new();
    GHashTableIter rules;
    gpointer rule, frames;

    g_ptr_array_add(checks, NULL);
    if (!g_hash_table_contains(expected, "port_scan"))
        g_ptr_array_add(checks, "port_scan");
    g_hash_table_iter_init(&rules, expected);
    while (g_hash_table_iter_next(&rules, &rule, &frames)) {
        GHashTableIter it;
        gpointer frame;
        g_ptr_array_add(checks, rule);
        g_hash_table_iter_init(&it, frames);
        while (g_hash_table_iter_next(&it, &frame, NULL))
            g_hash_table_add(all, g_strdup(frame));
    }
    for (guint i = 0; i < checks->len; i++) {
        const char *name = g_ptr_array_index(checks, i);
        char *filter = name ? g_strdup_printf("trafan.rule == \"%s\"", name) : g_strdup("trafan.flag");
        const char *two_pass[] = { "-2", "-r", capture, "-Y", filter, "-T", "fields", "-e", "frame.number", NULL };
        TsharkResult marked = tshark_run(two_pass);
        GHashTable *got = frame_set(marked.out), *none = g_hash_table_new(g_str_hash, g_str_equal);
        GHashTable *want = name ? g_hash_table_lookup(expected, name) : all;
        char *what = g_strdup_printf("%s: -Y '%s'", capture, filter);

        g_assert_cmpint(marked.status != 0, ==, capture_is_truncated(capture));
        assert_same_frames(what, got, want ? want : none);
        if (!name) {    /* one pass: a part of the marks at most */
            const char *one_pass[] = { "-r", capture, "-Y", filter, "-T", "fields", "-e", "frame.number", NULL };
            TsharkResult early = tshark_run(one_pass);
            GHashTable *got_early = frame_set(early.out);
            GHashTableIter it;
            gpointer frame;
            g_hash_table_iter_init(&it, got_early);
            while (g_hash_table_iter_next(&it, &frame, NULL))
                if (!g_hash_table_contains(got, frame))
                    g_error("%s: one pass marks frame %s, two passes do not", what, (char *)frame);
            g_hash_table_unref(got_early);
            tshark_result_clear(&early);
        }
        g_free(what);
        g_free(filter);
        g_hash_table_unref(none);
        g_hash_table_unref(got);
        tshark_result_clear(&marked);
    }
    g_ptr_array_unref(checks);
    g_hash_table_unref(all);
    g_hash_table_unref(expected);
}

/* The post-dissector's marks are not a protocol of the frames they mark:
 * the report is the same whether they are made (-2, a trafan display
 * filter) or not. */
static void
test_marks_not_a_protocol(void)
{
    const char *capture = tshark_capture(TRAFAN_SOURCE_DIR "/captures/scan_tcp_slow_flags.pcap");
    TsharkResult plain = run_report(capture, ",format=json");
    const char *marked_argv[] = { "-2", "-q", "-r", capture, "-Y", "trafan.flag", "-z", "trafan,stat,format=json", NULL };
    TsharkResult marked = tshark_run(marked_argv);

    g_assert_cmpint(plain.status, ==, 0);
    g_assert_cmpint(marked.status, ==, 0);
    g_assert_nonnull(strstr(plain.out, "\"port_scan\""));
    g_assert_null(strstr(marked.out, "\"trafan\""));
    g_assert_cmpstr(marked.out, ==, plain.out);
    tshark_result_clear(&plain);
    tshark_result_clear(&marked);
}

/* Every labelled flag is raised; every flag names a labelled host in its
 * labelled role; every flag's filter selects packets of the capture, and
 * the post-dissector marks exactly those. */
static void
test_detect_case(gconstpointer data)
{
    const DetectCase *c = data;
    const char *capture = tshark_capture(c->capture);
    TsharkResult r = run_report(capture, ",format=json");
    GPtrArray *raised = g_ptr_array_new_with_free_func(g_free);
    GPtrArray *hosts = g_ptr_array_new_with_free_func(g_free);

    g_assert_cmpint(r.status != 0, ==, capture_is_truncated(capture));
    JsonNode *root = parse_json(r.out);
    JsonArray *flags = jarray(root, "flags");

    for (guint i = 0; i < c->expected->len; i++) {
        char **e = g_strsplit(g_ptr_array_index(c->expected, i), " ", 3);
        g_ptr_array_add(hosts, g_strdup_printf("%s %s", e[0], e[2]));
        g_strfreev(e);
    }
    for (guint i = 0; i < json_array_get_length(flags); i++) {
        JsonObject *f = json_array_get_object_element(flags, i);
        const char *host = json_object_get_string_member(f, "host"), *role = json_object_get_string_member(f, "role");
        const char *filter = json_object_get_string_member(f, "filter");
        char *host_role = g_strdup_printf("%s %s", host, role);

        g_ptr_array_add(raised, g_strdup_printf("%s %s %s", host, json_object_get_string_member(f, "rule"), role));
        if (!has_string(hosts, host_role))
            g_error("%s: unexpected flag %s: %s", c->capture, (char *)g_ptr_array_index(raised, raised->len - 1),
                    json_object_get_string_member(f, "summary"));
        g_free(host_role);

        /* The filter is valid and selects the offending packets. */
        const char *argv[] = { "-r", capture, "-Y", filter, "-T", "fields", "-e", "frame.number", NULL };
        TsharkResult sel = tshark_run(argv);
        g_assert_cmpint(sel.status != 0, ==, capture_is_truncated(capture));
        g_assert_cmpuint(strlen(sel.out), >, 0);
        tshark_result_clear(&sel);
    }
    for (guint i = 0; i < c->expected->len; i++)
        if (!has_string(raised, g_ptr_array_index(c->expected, i)))
            g_error("%s: missing flag %s", c->capture, (char *)g_ptr_array_index(c->expected, i));
    check_marks(capture, flags);

    json_node_unref(root);
    g_ptr_array_unref(raised);
    g_ptr_array_unref(hosts);
    tshark_result_clear(&r);
}

/* The statistics tree (Wireshark's window, tshark's -z trafan,tree) judges
 * bandwidth_spike when it is drawn, on the intervals closed so far. */
static void
test_tree_spike(void)
{
    const char *spike = NULL;

    for (guint i = 0; i < detect_cases->len && !spike; i++) {
        const DetectCase *c = g_ptr_array_index(detect_cases, i);
        if (g_str_has_suffix(c->capture, "/attack_bandwidth_spike.pcap"))
            spike = c->capture;
    }
    g_assert_nonnull(spike);
    const char *argv[] = { "-q", "-r", tshark_capture(spike), "-z", "trafan,tree", NULL };
    TsharkResult r = tshark_run(argv);

    g_assert_cmpint(r.status, ==, 0);
    g_assert_nonnull(strstr(r.out, "192.0.2.99 bandwidth_spike (source)"));
    tshark_result_clear(&r);
}

/* gen-attacks writes one capture per scenario and their expected flags. */
static void
add_generated_cases(void)
{
    char *dir = tshark_scratch_dir("generated");
    char *argv[] = { (char *)TRAFAN_GEN_ATTACKS, dir, NULL };
    char *labels = g_build_filename(dir, "expected.tsv", NULL);
    const char *dirs[] = { dir, NULL };
    int status = -1;

    if (!g_spawn_sync(NULL, argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, NULL, NULL, &status, NULL) || status != 0)
        g_error("gen-attacks failed");
    add_detect_cases(labels, dirs);
    g_free(labels);
    g_free(dir);
}

/* ---- capture -> export -> picture ------------------------------------------ */

#ifdef TRAFAN_GRAPH_TOOL
/* Per host node of the SVG: its class ("node host source") and fill. */
typedef struct {
    GHashTable *class_of;       /* address -> class */
    GHashTable *fill_of;        /* address -> fill */
    char       *node_class, *node_fill;
    gboolean    in_text;
} SvgHosts;

static void
svg_start(GMarkupParseContext *context, const char *element, const char **names, const char **values,
          gpointer data, GError **error)
{
    SvgHosts *svg = data;

    for (guint i = 0; names[i]; i++) {
        if (strcmp(element, "g") == 0 && strcmp(names[i], "class") == 0 && g_str_has_prefix(values[i], "node host")) {
            g_free(svg->node_class);
            svg->node_class = g_strdup(values[i]);
        }
        if (strcmp(element, "ellipse") == 0 && strcmp(names[i], "fill") == 0 && svg->node_class) {
            g_free(svg->node_fill);
            svg->node_fill = g_strdup(values[i]);
        }
    }
    svg->in_text = strcmp(element, "text") == 0 && svg->node_class;
}

static void
svg_text(GMarkupParseContext *context, const char *text, gsize len, gpointer data, GError **error)
{
    SvgHosts *svg = data;

    if (svg->in_text && svg->node_fill) {
        char *address = g_strndup(text, len);
        g_hash_table_insert(svg->class_of, g_strdup(address), g_strdup(svg->node_class));
        g_hash_table_insert(svg->fill_of, address, g_strdup(svg->node_fill));
        g_clear_pointer(&svg->node_class, g_free);
        g_clear_pointer(&svg->node_fill, g_free);
    }
    svg->in_text = FALSE;
}

/* tshark -z trafan,stat,out=DIR, then trafan-graph on DIR/graph.dot: the
 * scanner is drawn red as a flagged source, its victim as its neighbour. */
static void
test_graph_end_to_end(void)
{
    char *dir = tshark_scratch_dir("picture");
    char *options = g_strdup_printf(",out=%s", dir);
    char *dot = g_build_filename(dir, "graph.dot", NULL), *svg_path = g_build_filename(dir, "hosts.svg", NULL);
    TsharkResult r = run_report(bundled("scan_tcp_slow_flags.pcap"), options);
    char *argv[] = { (char *)TRAFAN_GRAPH_TOOL, dot, (char *)"-o", svg_path, NULL };
    int status = -1;
    char *svg_text_data = NULL;
    SvgHosts svg = { g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free),
                     g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free), NULL, NULL, FALSE };
    static const GMarkupParser parser = { svg_start, NULL, svg_text, NULL, NULL };

    g_assert_cmpint(r.status, ==, 0);
    g_assert_true(g_spawn_sync(NULL, argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, NULL, NULL, &status, NULL));
    g_assert_cmpint(status, ==, 0);
    g_assert_true(g_file_get_contents(svg_path, &svg_text_data, NULL, NULL));

    GMarkupParseContext *context = g_markup_parse_context_new(&parser, G_MARKUP_IGNORE_QUALIFIED, &svg, NULL);
    g_assert_true(g_markup_parse_context_parse(context, svg_text_data, -1, NULL));
    g_assert_cmpuint(g_hash_table_size(svg.class_of), ==, 2);
    g_assert_nonnull(strstr(g_hash_table_lookup(svg.class_of, "192.168.1.178"), "source"));
    g_assert_cmpstr(g_hash_table_lookup(svg.fill_of, "192.168.1.178"), ==, "#d7191c");
    g_assert_nonnull(strstr(g_hash_table_lookup(svg.class_of, "192.168.1.2"), "neighbour"));
    g_assert_nonnull(strstr(svg_text_data, "port_scan"));

    g_markup_parse_context_free(context);
    g_hash_table_destroy(svg.class_of);
    g_hash_table_destroy(svg.fill_of);
    g_free(svg_text_data);
    tshark_result_clear(&r);
    g_free(dot);
    g_free(svg_path);
    g_free(options);
    g_free(dir);
}
#endif

/* ---- live capture on the loopback interface ------------------------------ */

static gint scan_done;

/* A bounded UDP port scan between two loopback addresses: datagrams to 40
 * closed ports of 127.0.0.3 in turn, 50 ms apart, until the capture ends
 * (at most 12 s: 240 datagrams), so that a capture slow to start still sees
 * all 40 ports.  Linux answers each with ICMP port unreachable. */
static gpointer
loopback_scan(gpointer unused)
{
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in from = { .sin_family = AF_INET }, to = { .sin_family = AF_INET };

    inet_pton(AF_INET, "127.0.0.2", &from.sin_addr);
    inet_pton(AF_INET, "127.0.0.3", &to.sin_addr);
    g_usleep(G_USEC_PER_SEC);
    bind(fd, (struct sockaddr *)&from, sizeof from);
    for (int i = 0; i < 240 && !g_atomic_int_get(&scan_done); i++) {
        to.sin_port = htons((guint16)(20000 + i % 40));
        sendto(fd, "probe", 5, 0, (struct sockaddr *)&to, sizeof to);
        g_usleep(50000);
    }
    close(fd);
    return NULL;
}

/* The flag is printed on stderr while the capture runs, long before it
 * ends; live=1 prints status lines; the report comes at the end. */
static void
test_live_capture(void)
{
    const char *argv[] = { "-q", "-i", "lo", "-a", "duration:8", "-f", "host 127.0.0.3",
                           "-z", "trafan,stat,live=1,format=json", NULL };
    g_atomic_int_set(&scan_done, 0);
    GThread *scan = g_thread_new("scan", loopback_scan, NULL);
    gint64 started = g_get_monotonic_time();
    TsharkResult r = tshark_run_capture(argv);

    g_atomic_int_set(&scan_done, 1);
    g_thread_join(scan);
    if (r.status != 0 && (strstr(r.err, "ermission") || strstr(r.err, "don't have")))
        g_test_skip("this user cannot capture on lo");
    else {
        g_assert_cmpint(r.status, ==, 0);
        const char *alert = strstr(r.err, "trafan: flag port_scan source 127.0.0.2");
        const char *end = strstr(r.err, "packets captured");
        g_assert_nonnull(alert);
        g_assert_nonnull(end);
        g_assert_true(alert < end);
        g_assert_nonnull(strstr(r.err, "trafan: t="));
        g_assert_cmpint(g_get_monotonic_time() - started, <, 30 * G_USEC_PER_SEC);
        JsonNode *root = parse_json(r.out);
        g_assert_cmpuint(json_array_get_length(jarray(root, "flags")), >=, 1);
        json_node_unref(root);
    }
    tshark_result_clear(&r);
}

/* Live, one pass: once the scan crosses its threshold (judged once per
 * second of capture time), the post-dissector marks the probes that follow. */
static void
test_live_marks(void)
{
    const char *argv[] = { "-i", "lo", "-a", "duration:8", "-f", "host 127.0.0.3", "-Y", "trafan.flag",
                           "-T", "fields", "-e", "frame.number", "-e", "trafan.flag", NULL };
    g_atomic_int_set(&scan_done, 0);
    GThread *scan = g_thread_new("scan", loopback_scan, NULL);
    TsharkResult r = tshark_run_capture(argv);

    g_atomic_int_set(&scan_done, 1);
    g_thread_join(scan);
    if (r.status != 0 && (strstr(r.err, "ermission") || strstr(r.err, "don't have")))
        g_test_skip("this user cannot capture on lo");
    else {
        g_assert_cmpint(r.status, ==, 0);
        g_assert_nonnull(strstr(r.out, "\tport_scan source 127.0.0.2"));
    }
    tshark_result_clear(&r);
}

static void
test_plugin_loaded(void)
{
    const char *argv[] = { "-G", "plugins", NULL };
    TsharkResult r = tshark_run(argv);

    g_assert_nonnull(strstr(r.out, "trafan.so"));
    tshark_result_clear(&r);
}

int
main(int argc, char **argv)
{
    char *why = NULL;
    int status;

    g_test_init(&argc, &argv, NULL);
    if (!tshark_setup(TRAFAN_PLUGIN_PATH, TRAFAN_WIRESHARK_VERSION, &why)) {
        g_test_skip(why);
        return 77;
    }

    g_test_add_func("/tshark/plugin-loaded", test_plugin_loaded);
    g_test_add_func("/tshark/bad-options", test_bad_options);
    g_test_add_func("/tshark/filter", test_filter);
    g_test_add_func("/tshark/interval", test_interval);
    g_test_add_func("/tshark/exports", test_exports);
    g_test_add_func("/tshark/text-report", test_text_report);
    g_test_add_func("/tshark/empty-capture", test_empty_capture);
    g_test_add_func("/tshark/host-cap", test_host_cap);
    g_test_add_func("/tshark/live-capture", test_live_capture);
    g_test_add_func("/tshark/live-marks", test_live_marks);
    g_test_add_func("/tshark/marks-not-a-protocol", test_marks_not_a_protocol);
#ifdef TRAFAN_GRAPH_TOOL
    g_test_add_func("/tshark/graph-end-to-end", test_graph_end_to_end);
#endif

    GPtrArray *captures = tshark_capture_files(source_dir);
    for (guint i = 0; i < captures->len; i++) {
        const char *path = g_ptr_array_index(captures, i);
        char *base = g_path_get_basename(path);
        char *name = g_strdup_printf("/tshark/capture/%s%s", strstr(path, "shared") ? "shared/" : "", base);
        g_test_add_data_func(name, path, test_capture);
        g_free(base);
        g_free(name);
    }

    detect_cases = g_ptr_array_new();
    add_generated_cases();
    {
        char *labels = g_build_filename(source_dir, "tests", "labels.tsv", NULL);
        char *bundled_dir = g_build_filename(source_dir, "captures", NULL);
        char *shared_dir = g_build_filename(source_dir, "..", "shared", "captures", NULL);
        const char *dirs[] = { bundled_dir, shared_dir, NULL };
        add_detect_cases(labels, dirs);
        g_free(labels);
        g_free(bundled_dir);
        g_free(shared_dir);
    }
    g_test_add_func("/tshark/tree-spike", test_tree_spike);
    for (guint i = 0; i < detect_cases->len; i++) {
        DetectCase *c = g_ptr_array_index(detect_cases, i);
        char *base = g_path_get_basename(c->capture);
        char *name = g_strdup_printf("/tshark/detect/%s", base);
        g_test_add_data_func(name, c, test_detect_case);
        g_free(base);
        g_free(name);
    }

    status = g_test_run();
    g_ptr_array_unref(captures);
    tshark_teardown();
    return status;
}
