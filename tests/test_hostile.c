/* test_hostile.c — the plugin inside tshark, given what a hostile or a big
 * capture user gives it: a statistics tree that stays bounded, arguments
 * that cannot mislead, an out= folder that cannot be written, timestamps
 * past 2262 and tunnels deeper than any real one.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <glib/gstdio.h>
#include <json-glib/json-glib.h>

#include "tshark-run.h"

static const char *source_dir = TRAFAN_SOURCE_DIR;

/* ---- captures written here ------------------------------------------------- */

static void
put16(guint8 *p, guint v)
{
    p[0] = (guint8)(v >> 8);
    p[1] = (guint8)v;
}

static void
le32(guint8 *p, guint32 v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (guint8)(v >> (8 * i));
}

static guint16
ip_checksum(const guint8 *h)
{
    guint32 sum = 0;

    for (int i = 0; i < 20; i += 2)
        sum += (guint32)(h[i] << 8 | h[i + 1]);
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (guint16)~sum;
}

/* Classic pcap, Ethernet. */
typedef struct {
    FILE   *f;
    guint32 t;
} Pcap;

static Pcap
pcap_open(const char *path)
{
    static const guint8 header[24] = { 0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                                       0, 0, 4, 0, 1, 0, 0, 0 };
    Pcap p = { fopen(path, "wb"), 0 };

    g_assert_nonnull(p.f);
    fwrite(header, 1, sizeof header, p.f);
    return p;
}

/* An Ethernet frame of `layers` nested IPv4 headers (IP-in-IP), layer i
 * from 10.i.0.1 to 10.i.0.2 (or from src to dst, for one layer), then UDP
 * with 8 bytes of payload. */
static void
pcap_udp(Pcap *p, guint layers, guint32 src, guint32 dst)
{
    guint8 frame[14 + 64 * 20 + 16] = { 0 };
    size_t len = 14 + layers * 20 + 16;
    guint8 rec[16];

    g_assert_cmpuint(layers, <=, 64);
    memcpy(frame, "\x02\0\0\0\0\x01\x02\0\0\0\0\x02\x08\x00", 14);
    for (guint i = 0; i < layers; i++) {
        guint8 *h = frame + 14 + i * 20;
        h[0] = 0x45;
        put16(h + 2, (guint)(len - 14 - i * 20));
        h[8] = 64;
        h[9] = i + 1 == layers ? 17 : 4;
        guint32 s = layers == 1 ? src : 0x0a000001u | (i + 1) << 16;
        guint32 d = layers == 1 ? dst : 0x0a000002u | (i + 1) << 16;
        put16(h + 12, s >> 16);
        put16(h + 14, s & 0xffff);
        put16(h + 16, d >> 16);
        put16(h + 18, d & 0xffff);
        put16(h + 10, ip_checksum(h));
    }
    guint8 *udp = frame + 14 + layers * 20;
    put16(udp, 40000);
    put16(udp + 2, 9999);
    put16(udp + 4, 16);
    le32(rec, 1700000000 + p->t / 1000);
    le32(rec + 4, (p->t % 1000) * 1000);
    le32(rec + 8, (guint32)len);
    le32(rec + 12, (guint32)len);
    p->t++;
    fwrite(rec, 1, sizeof rec, p->f);
    fwrite(frame, 1, len, p->f);
}

static void
pcap_close(Pcap *p)
{
    g_assert_cmpint(fclose(p->f), ==, 0);
}

static char *written_dir;        /* captures written by the tests */

static char *
written_capture(const char *name)
{
    if (!written_dir)
        written_dir = g_dir_make_tmp("trafan-hostile-XXXXXX", NULL);
    return g_build_filename(written_dir, name, NULL);
}

static const char *
bundled(const char *name)
{
    char *path = g_build_filename(source_dir, "captures", name, NULL);
    const char *copy = tshark_capture(path);

    g_free(path);
    return copy;
}

static TsharkResult
run_z(const char *capture, const char *z)
{
    const char *argv[] = { "-q", "-r", capture, "-z", z, NULL };

    return tshark_run(argv);
}

/* ---- the statistics tree ----------------------------------------------------- */

/* Children of a branch of -z trafan,tree's text, name -> count. */
static GHashTable *
tree_branch(const char *out, const char *branch)
{
    GHashTable *children = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    char **lines = g_strsplit(out, "\n", -1);
    gboolean inside = FALSE;

    for (char **l = lines; *l; l++) {
        if (**l && **l != ' ') {
            inside = g_str_has_prefix(*l, branch);
            continue;
        }
        if (!inside || (*l)[0] != ' ' || (*l)[1] == ' ')
            continue;
        char **cells = g_regex_split_simple(" {2,}", g_strstrip(*l), 0, 0);
        if (cells[0] && cells[1])
            g_hash_table_insert(children, g_strdup(cells[0]), g_strdup(cells[1]));
        g_strfreev(cells);
    }
    g_strfreev(lines);
    return children;
}

static guint64
child_count(GHashTable *children, const char *name)
{
    const char *count = g_hash_table_lookup(children, name);

    if (!count)
        g_error("no child \"%s\" in the tree", name);
    return g_ascii_strtoull(count, NULL, 10);
}

/* 300 clients, client i sending i % 7 + 1 datagrams to one server. */
static const char *
many_conversations_capture(void)
{
    static char *path;

    if (!path) {
        path = written_capture("conversations-300.pcap");
        Pcap p = pcap_open(path);
        for (guint i = 0; i < 300; i++)
            for (guint k = 0; k < i % 7 + 1; k++)
                pcap_udp(&p, 1, 0x0a640000u + i, 0x0a000001u);
        pcap_close(&p);
    }
    return tshark_capture(path);
}

typedef struct {
    guint rows;                 /* -o trafan.tree_rows, 0: the default */
    guint children;             /* conversations shown, "(others)" apart */
} TreeCase;

static const TreeCase tree_cases[] = {
    { 0, 100 },
    { 1, 1 },
    { 5, 5 },
    { 299, 299 },
    { 300, 300 },
};

static void
test_tree_rows(gconstpointer data)
{
    const TreeCase *c = data;
    char *pref = g_strdup_printf("trafan.tree_rows:%u", c->rows);
    const char *argv[] = { "-o", pref, "-q", "-r", many_conversations_capture(), "-z", "trafan,tree", NULL };
    TsharkResult r = tshark_run(c->rows ? argv : argv + 2);
    guint64 total = 0;

    g_assert_cmpint(r.status, ==, 0);
    GHashTable *convs = tree_branch(r.out, "Conversations");
    GHashTable *hosts = tree_branch(r.out, "Hosts");
    gboolean folded = c->children < 300;

    g_assert_cmpuint(g_hash_table_size(convs), ==, c->children + folded);
    g_assert_cmpuint(g_hash_table_size(hosts), ==, MIN(c->children, 301) + (c->children < 301));
    /* The busiest first: clients 6, 13, 20 ... sent 7 datagrams each. */
    g_assert_cmpuint(child_count(convs, "10.0.0.1 <-> 10.100.0.6"), ==, 7);
    g_assert_cmpuint(child_count(hosts, "10.0.0.1"), ==, 1197);
    GHashTableIter it;
    gpointer name;
    g_hash_table_iter_init(&it, convs);
    while (g_hash_table_iter_next(&it, &name, NULL))
        total += child_count(convs, name);
    g_assert_cmpuint(total, ==, 1197);
    if (folded)
        g_assert_cmpuint(child_count(convs, "(others)"), >, 0);
    g_hash_table_destroy(convs);
    g_hash_table_destroy(hosts);
    tshark_result_clear(&r);
    g_free(pref);
}

/* Flags past tree_rows are counted in "(others)": three sources each
 * sweeping 30 silent hosts on UDP 9999 raise three host_sweep flags. */
static const char *
three_sweeps_capture(void)
{
    static char *path;

    if (!path) {
        path = written_capture("three-sweeps.pcap");
        Pcap p = pcap_open(path);
        for (guint target = 1; target <= 30; target++)
            for (guint source = 1; source <= 3; source++)
                pcap_udp(&p, 1, 0x0a090000u + source, 0x0a010000u + target);
        pcap_close(&p);
    }
    return tshark_capture(path);
}

typedef struct {
    const char *rows;
    guint       shown;          /* flags shown; the others folded */
} FlagRowsCase;

static const FlagRowsCase flag_rows_cases[] = {
    { "trafan.tree_rows:2", 2 },
    { "trafan.tree_rows:3", 3 },
};

static void
test_tree_flag_rows(gconstpointer data)
{
    const FlagRowsCase *c = data;
    const char *argv[] = { "-o", c->rows, "-q", "-r", three_sweeps_capture(), "-z", "trafan,tree", NULL };
    TsharkResult r = tshark_run(argv);
    guint shown = 0;

    g_assert_cmpint(r.status, ==, 0);
    GHashTable *flags = tree_branch(r.out, "Suspicious hosts");
    GHashTableIter it;
    gpointer name;
    g_hash_table_iter_init(&it, flags);
    while (g_hash_table_iter_next(&it, &name, NULL))
        shown += strstr(name, " host_sweep (source)") != NULL;
    g_assert_cmpuint(shown, ==, c->shown);
    if (c->shown < 3)
        g_assert_cmpuint(child_count(flags, "(others)"), ==, 3 - c->shown);
    else
        g_assert_false(g_hash_table_contains(flags, "(others)"));
    g_hash_table_destroy(flags);
    tshark_result_clear(&r);
}

/* The tree takes the preferences as -z trafan,stat does. */
static const char *const bad_preferences[] = {
    "trafan.tree_rows:0",
    "trafan.tree_rows:100001",
    "trafan.port_scan_ports:1",
    "trafan.allowlist:10.0.0.300",
};

static void
test_tree_bad_preference(gconstpointer data)
{
    const char *pref = data;
    char *name = g_strndup(pref, strcspn(pref, ":"));
    const char *tree_argv[] = { "-o", pref, "-q", "-r", bundled("tunnel_6in4.pcap"), "-z", "trafan,tree", NULL };
    const char *stat_argv[] = { "-o", pref, "-q", "-r", bundled("tunnel_6in4.pcap"), "-z", "trafan,stat", NULL };
    TsharkResult tree = tshark_run(tree_argv), stat = tshark_run(stat_argv);

    g_assert_cmpint(tree.status, ==, 1);
    g_assert_cmpint(stat.status, ==, 1);
    g_assert_nonnull(strstr(tree.err, "tshark: trafan: invalid preference: preference"));
    g_assert_nonnull(strstr(tree.err, name));
    g_assert_cmpstr(tree.out, ==, "");
    g_assert_nonnull(strstr(stat.err, name));
    tshark_result_clear(&tree);
    tshark_result_clear(&stat);
    g_free(name);
}

/* ---- arguments --------------------------------------------------------------- */

typedef struct {
    const char *z;
    int         status;
    const char *err;            /* must appear on stderr */
} ArgCase;

static const ArgCase arg_cases[] = {
    /* list values: ';' and spaces keep the list in its option */
    { "trafan,stat,allowlist=10.0.0.1;10.0.0.2,format=json", 0, NULL },
    { "trafan,stat,allowlist=10.0.0.1 2001:db8::/32,format=json", 0, NULL },
    { "trafan,stat,brute_force_ports=22|2222;3389 8022", 0, NULL },
    /* a comma ends the option: what follows is a filter, with a warning */
    { "trafan,stat,allowlist=10.0.0.1,udp", 0, "warning: the filter \"udp\" follows allowlist=10.0.0.1" },
    { "trafan,stat,allowlist=10.0.0.1,10.0.0.2", 1, "warning: the filter \"10.0.0.2\" follows allowlist=10.0.0.1" },
    { "trafan,stat,allowlist=10.0.0.1,10.0.0.2", 1, "bad filter" },
    /* the user's bytes are shown escaped */
    { "trafan,stat,format=\x1b[31mjson\n", 1, "invalid value \"\\x1b[31mjson\\n\" for option format" },
    { "trafan,stat,port_scan_ports=\x1b]0;owned\x07", 1, "]0;owned\\" },
    { "trafan,stat,ip.src==1.2.3.4\x1b[2J", 1, "bad filter" },
};

static void
test_argument(gconstpointer data)
{
    const ArgCase *c = data;
    TsharkResult r = run_z(bundled("tunnel_6in4.pcap"), c->z);

    g_assert_cmpint(r.status, ==, c->status);
    if (c->err)
        g_assert_nonnull(strstr(r.err, c->err));
    else
        g_assert_null(strstr(r.err, "trafan"));
    for (const char *p = r.err; *p; p++)
        g_assert_true(*p == '\n' || !g_ascii_iscntrl(*p));
    tshark_result_clear(&r);
}

/* ---- out=DIR ---------------------------------------------------------------- */

typedef enum { OUT_FILE, OUT_UNDER_FILE, OUT_READ_ONLY, OUT_EXPORT_IS_DIR } OutCase;

static const struct {
    OutCase     kind;
    const char *message;
} out_cases[] = {
    { OUT_FILE, "is not a directory" },
    { OUT_UNDER_FILE, "is not a directory" },
    { OUT_READ_ONLY, "cannot write into" },
    { OUT_EXPORT_IS_DIR, "graph.dot is a directory" },
};

static void
test_out_dir(gconstpointer data)
{
    OutCase kind = *(const OutCase *)data;
    const char *message = NULL;
    char *base = tshark_scratch_dir("out-bad"), *out = g_build_filename(base, "out", NULL), *target = NULL;

    for (guint i = 0; i < G_N_ELEMENTS(out_cases); i++)
        if (out_cases[i].kind == kind)
            message = out_cases[i].message;
    switch (kind) {
    case OUT_FILE:
        g_assert_true(g_file_set_contents(out, "x", 1, NULL));
        target = g_strdup(out);
        break;
    case OUT_UNDER_FILE:
        g_assert_true(g_file_set_contents(out, "x", 1, NULL));
        target = g_build_filename(out, "sub", NULL);
        break;
    case OUT_READ_ONLY:             /* owned by root, or by us and not writable */
        g_mkdir(out, 0555);
        target = g_strdup(out);
        break;
    case OUT_EXPORT_IS_DIR: {
        char *dot = g_build_filename(out, "graph.dot", NULL);
        g_mkdir_with_parents(dot, 0777);
        g_chmod(out, 0777);
        g_free(dot);
        target = g_strdup(out);
        break;
    }
    }
    char *z = g_strdup_printf("trafan,stat,out=%s", target);
    TsharkResult r = run_z(bundled("tunnel_6in4.pcap"), z);

    g_assert_cmpint(r.status, ==, 1);
    g_assert_nonnull(strstr(r.err, message));
    g_assert_nonnull(strstr(r.err, "out="));
    g_assert_cmpstr(r.out, ==, "");     /* before the first packet: no report */
    tshark_result_clear(&r);
    g_chmod(out, 0755);
    g_free(z);
    g_free(target);
    g_free(out);
    g_free(base);
}

/* ---- the packet path ------------------------------------------------------ */

static char *
fields_first(const char *capture, const char *field)
{
    const char *argv[] = { "-r", capture, "-c", "1", "-T", "fields", "-e", field, NULL };
    TsharkResult r = tshark_run(argv);
    char *value = g_strdup(g_strstrip(r.out));

    tshark_result_clear(&r);
    return value;
}

static char *
raw_member(const char *json, const char *key)
{
    char *pattern = g_strdup_printf("\"%s\":", key);
    const char *at = strstr(json, pattern);
    char *value = at ? g_strndup(at + strlen(pattern), strcspn(at + strlen(pattern), ",}")) : NULL;

    g_free(pattern);
    return value;
}

/* A pcapng shifted 2e9 s before 1970 reads as a time far past 2262 (its
 * 64-bit timestamps wrap): first_time is frame.time_epoch, digit for digit. */
static void
test_far_future(void)
{
    char *shifted = written_capture("year-2541.pcapng");
    char *cmd = g_strdup_printf("editcap -F pcapng -t -2000000000 '%s/captures/tunnel_teredo.pcap' '%s'",
                                source_dir, shifted);

    if (!g_find_program_in_path("editcap")) {
        g_test_skip("editcap is not installed");
        return;
    }
    g_assert_cmpint(system(cmd), ==, 0);
    const char *capture = tshark_capture(shifted);
    char *epoch = fields_first(capture, "frame.time_epoch");
    TsharkResult r = run_z(capture, "trafan,stat,format=json");

    g_assert_cmpint(r.status, ==, 0);
    g_assert_cmpuint(g_ascii_strtoull(epoch, NULL, 10), >, G_MAXINT64 / 1000000000);   /* past 2262 */
    char *first = raw_member(r.out, "first_time"), *duration = raw_member(r.out, "duration");
    g_assert_cmpstr(first, ==, epoch);
    g_assert_cmpstr(duration, !=, "0.000000000");
    tshark_result_clear(&r);
    g_free(first);
    g_free(duration);
    g_free(epoch);
    g_free(cmd);
    g_free(shifted);
}

/* Lines of conv,ip's table. */
static guint
wireshark_conversations(const char *capture)
{
    TsharkResult r = run_z(capture, "conv,ip");
    guint n = 0;
    char **lines = g_strsplit(r.out, "\n", -1);

    for (char **l = lines; *l; l++)
        n += strstr(*l, "<->") != NULL;
    g_strfreev(lines);
    tshark_result_clear(&r);
    return n;
}

typedef struct {
    guint layers;
    gboolean warns;
} NestedCase;

static const NestedCase nested_cases[] = {
    { 8, FALSE },
    { 12, FALSE },
    { 16, FALSE },
    { 17, TRUE },
};

static void
test_nested(gconstpointer data)
{
    const NestedCase *c = data;
    char *name = g_strdup_printf("nested-%u.pcap", c->layers);
    char *path = written_capture(name);
    Pcap p = pcap_open(path);

    pcap_udp(&p, c->layers, 0, 0);
    pcap_close(&p);
    const char *capture = tshark_capture(path);
    guint expected = wireshark_conversations(capture);
    TsharkResult r = run_z(capture, "trafan,stat,format=json");

    g_assert_cmpint(r.status, ==, 0);
    JsonParser *parser = json_parser_new();
    g_assert_true(json_parser_load_from_data(parser, r.out, -1, NULL));
    JsonArray *convs = json_object_get_array_member(json_node_get_object(json_parser_get_root(parser)),
                                                    "conversations");
    if (c->warns) {
        g_assert_cmpuint(json_array_get_length(convs), ==, 16);
        g_assert_nonnull(strstr(r.err, "more than 16 nested"));
    } else {
        g_assert_cmpuint(expected, ==, c->layers);
        g_assert_cmpuint(json_array_get_length(convs), ==, expected);
        g_assert_null(strstr(r.err, "nested"));
    }
    g_object_unref(parser);
    tshark_result_clear(&r);
    g_free(path);
    g_free(name);
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
    for (guint i = 0; i < G_N_ELEMENTS(tree_cases); i++) {
        char *name = g_strdup_printf("/hostile/tree/rows-%u", tree_cases[i].rows);
        g_test_add_data_func(name, &tree_cases[i], test_tree_rows);
        g_free(name);
    }
    for (guint i = 0; i < G_N_ELEMENTS(flag_rows_cases); i++) {
        char *name = g_strdup_printf("/hostile/tree/flag-rows/%u", flag_rows_cases[i].shown);
        g_test_add_data_func(name, &flag_rows_cases[i], test_tree_flag_rows);
        g_free(name);
    }
    for (guint i = 0; i < G_N_ELEMENTS(bad_preferences); i++) {
        char *name = g_strdup_printf("/hostile/tree/bad-preference/%u", i);
        g_test_add_data_func(name, bad_preferences[i], test_tree_bad_preference);
        g_free(name);
    }
    for (guint i = 0; i < G_N_ELEMENTS(arg_cases); i++) {
        char *name = g_strdup_printf("/hostile/argument/%u", i);
        g_test_add_data_func(name, &arg_cases[i], test_argument);
        g_free(name);
    }
    for (guint i = 0; i < G_N_ELEMENTS(out_cases); i++) {
        char *name = g_strdup_printf("/hostile/out-dir/%u", i);
        g_test_add_data_func(name, &out_cases[i].kind, test_out_dir);
        g_free(name);
    }
    g_test_add_func("/hostile/time/far-future", test_far_future);
    for (guint i = 0; i < G_N_ELEMENTS(nested_cases); i++) {
        char *name = g_strdup_printf("/hostile/nested/%u", nested_cases[i].layers);
        g_test_add_data_func(name, &nested_cases[i], test_nested);
        g_free(name);
    }
    status = g_test_run();
    tshark_teardown();
    if (written_dir) {
        char *rm = g_strdup_printf("rm -rf '%s'", written_dir);
        status |= system(rm) != 0;
        g_free(rm);
    }
    return status;
}
