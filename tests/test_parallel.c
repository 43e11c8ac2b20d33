/* test_parallel.c — trafan-parallel and trafan-merge against one pass.
 *
 * Every capture of the test set is split by packet count (cut at idle gaps,
 * trafan-split) and by time (editcap -i) into 2, 3 and 7 slices (the bundled
 * captures; each shared one once, into 7 by count or 3 by time in turn, to
 * keep CI short), run slice by slice and merged: the JSON report must equal
 * the single pass's byte for byte, flags included, except for the highest
 * layer of frames whose TCP reassembly a cut restarted.  Those are counted,
 * and must belong to conversations that span a cut.
 * With TRAFAN_CUTS_TSV set, one line per split is appended there.
 * Then the remote path (GNU parallel --sshlogin through fake-ssh.sh), a
 * failing slice, and state files that must be refused.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>

#include "tshark-run.h"

static const char *source_dir = TRAFAN_SOURCE_DIR;
static GHashTable *single_passes;   /* capture copy -> TsharkResult (JSON on out) */

typedef struct {
    char       *capture;        /* original path */
    const char *by;             /* "count" or "time" */
    guint       slices;
} Split;

typedef struct {
    int   status;
    char *out, *err;
} Run;

static Run
run_tool(const char *const *argv, const char *fake_home)
{
    char **env = g_get_environ();
    Run r = { -1, NULL, NULL };
    GError *error = NULL;
    int wait_status;

    env = g_environ_setenv(env, "TRAFAN_TSHARK", tshark_command(), TRUE);
    env = g_environ_setenv(env, "LC_ALL", "C", TRUE);
    if (fake_home) {
        char *log = g_build_filename(fake_home, "..", "fake-ssh.log", NULL);
        env = g_environ_setenv(env, "FAKE_SSH_HOME", fake_home, TRUE);
        env = g_environ_setenv(env, "FAKE_SSH_LOG", log, TRUE);
        /* As under cron or CI: GNU parallel needs no $SHELL to run remote jobs. */
        env = g_environ_unsetenv(env, "SHELL");
        g_free(log);
    }
    if (!g_spawn_sync(NULL, (char **)argv, env, G_SPAWN_DEFAULT, NULL, NULL, &r.out, &r.err, &wait_status, &error))
        g_error("%s: %s", argv[0], error->message);
    r.status = WIFEXITED(wait_status) ? WEXITSTATUS(wait_status) : -1;
    g_strfreev(env);
    return r;
}

static void
assert_quiet(const char *err)
{
    g_assert_cmpstr(err, ==, "");
}

static void
run_clear(Run *r)
{
    g_free(r->out);
    g_free(r->err);
}

static const TsharkResult *
single_pass(const char *copy)
{
    TsharkResult *r = g_hash_table_lookup(single_passes, copy);

    if (!r) {
        const char *argv[] = { "-q", "-r", copy, "-z", "trafan,stat,format=json", NULL };
        r = g_new(TsharkResult, 1);
        *r = tshark_run(argv);
        g_assert_nonnull(r->out);
        g_hash_table_insert(single_passes, g_strdup(copy), r);
    }
    return r;
}

static void
single_pass_free(gpointer r)
{
    tshark_result_clear(r);
    g_free(r);
}

/* The report without what depends on the highest layer (conversation and
 * interval protocol counts, the protocols table) and without the top peers
 * of approximate flags, which past exact_cap come from merged sketches
 * (README, "Limits"); their counts stay exact. */
/* text with every `"key":{...}` (an object without nested objects) taken out. */
static char *
without_objects(const char *text, const char *key)
{
    char *pattern = g_strdup_printf("\"%s\":{", key);
    GString *out = g_string_new(NULL);
    const char *at;

    while ((at = strstr(text, pattern))) {
        g_string_append_len(out, text, at - text);
        text = strchr(at, '}') + 1;
    }
    g_string_append(out, text);
    g_free(pattern);
    return g_string_free(out, FALSE);
}

static char *
comparable(const char *report)
{
    static GRegex *approximate_peers, *detector;

    if (!approximate_peers) {
        approximate_peers = g_regex_new("(\"approximate\":true,\"peers_total\":[0-9]+,)\"peers\":\\[[^]]*\\]",
                                        0, 0, NULL);
        detector = g_regex_new(",\n\"detector\":{[^}]*}", 0, 0, NULL);
    }
    /* What the detector held is the run's, not the capture's: a merge holds more. */
    g_autofree char *json = g_regex_replace_literal(detector, report, -1, 0, "", 0, NULL);
    /* The protocols table runs from its key to the bandwidth's. */
    const char *table = strstr(json, "\n\"protocols\":["), *bandwidth = strstr(json, "\n\"bandwidth\":");
    const char *flags = strstr(json, "\n\"flags\":");
    g_assert_true(table && bandwidth && flags && table < bandwidth && bandwidth < flags);
    char *head = g_strdup_printf("%.*s%.*s", (int)(table - json), json, (int)(flags - bandwidth), bandwidth);
    char *a = without_objects(head, "protocols");
    char *b = without_objects(a, "protocol_bytes");
    char *c = g_regex_replace(approximate_peers, flags, -1, 0, "\\1", 0, NULL);
    char *result = g_strconcat(b, c, NULL);

    g_free(head);
    g_free(a);
    g_free(b);
    g_free(c);
    return result;
}

/* Equal texts, or a failure that shows the first line that differs. */
static void
assert_same_text(const char *merged, const char *whole)
{
    char **x = g_strsplit(merged, "\n", -1), **y = g_strsplit(whole, "\n", -1);

    for (guint i = 0; x[i] || y[i]; i++)
        if (!x[i] || !y[i] || strcmp(x[i], y[i]) != 0)
            g_error("line %u differs:\n  merged: %.300s\n  single: %.300s", i + 1, x[i] ? x[i] : "(end)", y[i] ? y[i] : "(end)");
    g_strfreev(x);
    g_strfreev(y);
}

static JsonObject *
parse(const char *json, JsonParser **parser)
{
    *parser = json_parser_new();
    g_assert_true(json_parser_load_from_data(*parser, json, -1, NULL));
    return json_node_get_object(json_parser_get_root(*parser));
}

/* "a b" (in either order, as slices may see either end first) -> the
 * conversation's protocol counts (JsonObject). */
static GHashTable *
conversation_protocols(JsonObject *report)
{
    GHashTable *map = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    JsonArray *convs = json_object_get_array_member(report, "conversations");

    for (guint i = 0; i < json_array_get_length(convs); i++) {
        JsonObject *c = json_array_get_object_element(convs, i);
        const char *a = json_object_get_string_member(c, "a"), *b = json_object_get_string_member(c, "b");
        char *key = strcmp(a, b) < 0 ? g_strdup_printf("%s %s", a, b) : g_strdup_printf("%s %s", b, a);
        g_hash_table_insert(map, key, json_object_get_object_member(c, "protocols"));
    }
    return map;
}

/* Frames whose highest layer differs, per conversation: half the sum of
 * the differences of its protocol counts. */
static guint64
layer_changes(JsonObject *x, JsonObject *y)
{
    guint64 changed = 0;
    GList *names = json_object_get_members(x);

    for (GList *l = names; l; l = l->next) {
        gint64 a = json_object_get_int_member(x, l->data);
        gint64 b = json_object_has_member(y, l->data) ? json_object_get_int_member(y, l->data) : 0;
        changed += (guint64)ABS(a - b);
    }
    g_list_free(names);
    names = json_object_get_members(y);
    for (GList *l = names; l; l = l->next)
        if (!json_object_has_member(x, l->data))
            changed += (guint64)json_object_get_int_member(y, l->data);
    g_list_free(names);
    return changed / 2;
}

/* "a b" -> how many slices saw the conversation. */
static GHashTable *
slices_per_conversation(const char *slices_dir, guint *n_slices)
{
    GHashTable *count = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    GDir *dir = g_dir_open(slices_dir, 0, NULL);
    const char *name;

    *n_slices = 0;
    while ((name = g_dir_read_name(dir))) {
        if (!g_str_has_suffix(name, ".state"))
            continue;
        char *path = g_build_filename(slices_dir, name, NULL);
        const char *argv[] = { TRAFAN_MERGE_TOOL, "--format", "json", path, NULL };
        Run r = run_tool(argv, NULL);
        JsonParser *parser;
        GHashTable *convs = conversation_protocols(parse(r.out, &parser));
        GHashTableIter it;
        gpointer key;

        g_hash_table_iter_init(&it, convs);
        while (g_hash_table_iter_next(&it, &key, NULL)) {
            guint n = GPOINTER_TO_UINT(g_hash_table_lookup(count, key));
            g_hash_table_insert(count, g_strdup(key), GUINT_TO_POINTER(n + 1));
        }
        (*n_slices)++;
        g_hash_table_destroy(convs);
        g_object_unref(parser);
        run_clear(&r);
        g_free(path);
    }
    g_dir_close(dir);
    return count;
}

static void
record(const Split *s, guint n_slices, guint64 packets, guint64 changed)
{
    const char *path = g_getenv("TRAFAN_CUTS_TSV");
    FILE *f = path ? fopen(path, "a") : NULL;
    char *base = g_path_get_basename(s->capture);

    g_test_message("%s by %s into %u: %u slices, %" G_GUINT64_FORMAT " of %" G_GUINT64_FORMAT
                   " frames with another highest layer", base, s->by, s->slices, n_slices, changed, packets);
    if (f) {
        fprintf(f, "%s\t%s\t%u\t%u\t%" G_GUINT64_FORMAT "\t%" G_GUINT64_FORMAT "\n",
                base, s->by, s->slices, n_slices, packets, changed);
        fclose(f);
    }
    g_free(base);
}

static void
test_split(gconstpointer data)
{
    const Split *s = data;
    const char *copy = tshark_capture(s->capture);
    const TsharkResult *one = single_pass(copy);
    const char *whole = one->out;
    char *out = tshark_scratch_dir("split");
    char *n = g_strdup_printf("%u", s->slices);
    const char *argv[] = { TRAFAN_PARALLEL_TOOL, "-q", "--keep", "-j", "2", "-n", n,
                           strcmp(s->by, "time") == 0 ? "--by-time" : "--by-count", copy, "-o", out, NULL };
    Run r = run_tool(argv, NULL);

    if (one->status == 0) {
        assert_quiet(r.err);
        g_assert_cmpint(r.status, ==, 0);
    } else {
        /* A capture cut short: the report of what was read, and the read
         * error, as from tshark. */
        g_assert_nonnull(strstr(r.err, "cut short"));
        g_assert_cmpint(r.status, ==, 2);
    }
    char *path = g_build_filename(out, "report.json", NULL), *merged;
    g_assert_true(g_file_get_contents(path, &merged, NULL, NULL));

    /* Everything but the highest layer: byte for byte. */
    char *x = comparable(whole), *y = comparable(merged);
    assert_same_text(y, x);

    /* The highest layer: changed only where a conversation spans a cut. */
    JsonParser *px, *py;
    JsonObject *rx = parse(whole, &px), *ry = parse(merged, &py);
    GHashTable *cx = conversation_protocols(rx), *cy = conversation_protocols(ry);
    char *slices_dir = g_build_filename(out, "slices", NULL);
    guint n_slices;
    GHashTable *seen_in = slices_per_conversation(slices_dir, &n_slices);
    GHashTableIter it;
    gpointer key, value;
    guint64 changed = 0;

    g_hash_table_iter_init(&it, cx);
    while (g_hash_table_iter_next(&it, &key, &value)) {
        guint64 c = layer_changes(value, g_hash_table_lookup(cy, key));
        if (c && GPOINTER_TO_UINT(g_hash_table_lookup(seen_in, key)) < 2)
            g_error("%s: the highest layer changed in a conversation within one slice", (char *)key);
        changed += c;
    }
    record(s, n_slices, (guint64)json_object_get_int_member(json_object_get_object_member(rx, "capture"), "packets"),
           changed);

    g_hash_table_destroy(seen_in);
    g_hash_table_destroy(cx);
    g_hash_table_destroy(cy);
    g_object_unref(px);
    g_object_unref(py);
    g_free(slices_dir);
    g_free(x);
    g_free(y);
    g_free(merged);
    g_free(path);
    run_clear(&r);
    g_free(n);
    g_free(out);
}

/* Slices of N packets (editcap -c) instead of cuts at idle gaps. */
static void
test_editcap_slices(void)
{
    const char *copy = tshark_capture(TRAFAN_SOURCE_DIR "/captures/c2_beacon_tls_dns_slips.pcap");
    char *out = tshark_scratch_dir("editcap");
    const char *argv[] = { TRAFAN_PARALLEL_TOOL, "-q", "-c", "200", copy, "-o", out, NULL };
    Run r = run_tool(argv, NULL);
    char *path = g_build_filename(out, "report.json", NULL), *merged;

    assert_quiet(r.err);
    g_assert_cmpint(r.status, ==, 0);
    g_assert_true(g_file_get_contents(path, &merged, NULL, NULL));
    char *x = comparable(single_pass(copy)->out), *y = comparable(merged);
    assert_same_text(y, x);
    g_free(x);
    g_free(y);
    g_free(merged);
    g_free(path);
    run_clear(&r);
    g_free(out);
}

/* The remote path: GNU parallel sends the slices to another login
 * (fake-ssh.sh, a stand-in for ssh), runs tshark there and brings the
 * states back; the result is the local one. */
static void
test_remote(void)
{
    const char *copy = tshark_capture(TRAFAN_SOURCE_DIR "/captures/c2_beacon_tls_dns_slips.pcap");
    char *local = tshark_scratch_dir("local"), *remote = tshark_scratch_dir("remote");
    char *fake_home = tshark_scratch_dir("fake-home");
    char *login = g_strdup_printf("%s/tests/fake-ssh.sh elsewhere", source_dir);
    const char *argv_local[] = { TRAFAN_PARALLEL_TOOL, "-q", "-n", "3", copy, "-o", local, NULL };
    const char *argv_remote[] = { TRAFAN_PARALLEL_TOOL, "-q", "-n", "3", "-j", "2", "-S", login, copy, "-o", remote, NULL };
    Run a = run_tool(argv_local, NULL), b = run_tool(argv_remote, fake_home);

    g_assert_cmpint(a.status, ==, 0);
    assert_quiet(b.err);
    g_assert_cmpint(b.status, ==, 0);
    char *pa = g_build_filename(local, "report.json", NULL), *pb = g_build_filename(remote, "report.json", NULL);
    char *ja, *jb;
    g_assert_true(g_file_get_contents(pa, &ja, NULL, NULL));
    g_assert_true(g_file_get_contents(pb, &jb, NULL, NULL));
    g_assert_cmpstr(jb, ==, ja);

    /* The slices went to the other login and the states came back with rsync,
     * and nothing was left there. */
    char *log_path = g_build_filename(fake_home, "..", "fake-ssh.log", NULL), *log;
    g_assert_true(g_file_get_contents(log_path, &log, NULL, NULL));
    g_assert_nonnull(strstr(log, "rsync --server -"));
    g_assert_nonnull(strstr(log, "rsync --server --sender"));
    g_assert_nonnull(strstr(log, ".pcap.state"));
    char *left = g_build_filename(fake_home, ".parallel", NULL);
    g_assert_false(g_file_test(left, G_FILE_TEST_EXISTS));

    g_free(left);
    g_free(log);
    g_free(log_path);
    g_free(ja);
    g_free(jb);
    g_free(pa);
    g_free(pb);
    run_clear(&a);
    run_clear(&b);
    g_free(login);
    g_free(fake_home);
    g_free(local);
    g_free(remote);
}

/* The first failing slice stops the run, with tshark's error. */
static void
test_failing_slice(void)
{
    const char *copy = tshark_capture(TRAFAN_SOURCE_DIR "/captures/tunnel_6in4.pcap");
    char *out = tshark_scratch_dir("failing");
    const char *argv[] = { TRAFAN_PARALLEL_TOOL, "-q", "-n", "3", "-z", "bogus=1", copy, "-o", out, NULL };
    Run r = run_tool(argv, NULL);
    char *report = g_build_filename(out, "report.json", NULL);

    g_assert_cmpint(r.status, !=, 0);
    g_assert_nonnull(strstr(r.err, "unknown option \"bogus\""));
    g_assert_nonnull(strstr(r.err, "trafan-parallel: a slice failed"));
    g_assert_false(g_file_test(report, G_FILE_TEST_EXISTS));
    g_free(report);
    run_clear(&r);
    g_free(out);
}

/* A state of one capture, with extra -z options. */
static char *
make_state(const char *dir, const char *name, const char *capture, const char *options)
{
    char *path = g_build_filename(dir, name, NULL);
    char *z = g_strdup_printf("trafan,stat,state=%s%s", path, options);
    const char *argv[] = { "-q", "-r", tshark_capture(capture), "-z", z, NULL };
    TsharkResult r = tshark_run(argv);

    g_assert_cmpint(r.status, ==, 0);
    tshark_result_clear(&r);
    g_free(z);
    return path;
}

static Run
merge(const char *a, const char *b)
{
    const char *argv[] = { TRAFAN_MERGE_TOOL, "--quiet", a, b, NULL };
    return run_tool(argv, NULL);
}

/* Different options are refused, naming the first difference. */
static void
test_merge_different_options(void)
{
    char *dir = tshark_scratch_dir("options");
    const char *capture = TRAFAN_SOURCE_DIR "/captures/tunnel_6in4.pcap";
    char *a = make_state(dir, "a.state", capture, "");
    char *b = make_state(dir, "b.state", capture, ",port_scan_ports=30");
    char *c = make_state(dir, "c.state", capture, ",interval=10");
    Run r = merge(a, b);

    g_assert_cmpint(r.status, ==, 2);
    g_assert_nonnull(strstr(r.err, "different options: port_scan_ports=15 in "));
    g_assert_nonnull(strstr(r.err, ", 30 in "));
    run_clear(&r);
    r = merge(a, c);
    g_assert_cmpint(r.status, ==, 2);
    g_assert_nonnull(strstr(r.err, "different options: interval='1.000000' in "));
    run_clear(&r);

    /* Two captures without a common time reference. */
    char *d = make_state(dir, "d.state", TRAFAN_SOURCE_DIR "/captures/tunnel_vxlan.pcap", "");
    r = merge(a, d);
    g_assert_cmpint(r.status, ==, 2);
    g_assert_nonnull(strstr(r.err, "give every slice the same time_ref="));
    run_clear(&r);
    g_free(a);
    g_free(b);
    g_free(c);
    g_free(d);
    g_free(dir);
}

typedef struct {
    const char *name;
    const char *expected;       /* in the error message */
} BadState;

/* Bad, truncated and foreign files: one line naming the problem, exit 2. */
static void
test_merge_bad_file(gconstpointer data)
{
    const BadState *bad = data;
    char *dir = tshark_scratch_dir("bad");
    char *good = make_state(dir, "good.state", TRAFAN_SOURCE_DIR "/captures/tunnel_6in4.pcap", "");
    char *path = g_build_filename(dir, bad->name, NULL);
    char *content;
    gsize size;

    g_assert_true(g_file_get_contents(good, &content, &size, NULL));
    if (strcmp(bad->name, "truncated") == 0)
        size /= 2;
    else if (strcmp(bad->name, "empty") == 0)
        size = 0;
    else if (strcmp(bad->name, "foreign") == 0) {
        g_free(content);
        g_assert_true(g_file_get_contents(TRAFAN_SOURCE_DIR "/captures/tunnel_6in4.pcap", &content, &size, NULL));
    } else if (strcmp(bad->name, "version") == 0)
        content[14] ^= 0x7;         /* the uint16 after the magic, its NUL and a byte of padding */
    else if (strcmp(bad->name, "flipped") == 0)
        content[size - 3] ^= 0xff;                       /* the body's framing */
    g_assert_true(g_file_set_contents(path, content, (gssize)size, NULL));

    Run r = merge(good, path);
    g_test_message("%s", r.err);
    g_assert_cmpint(r.status, ==, 2);
    g_assert_true(g_str_has_prefix(r.err, "trafan-merge: "));
    g_assert_nonnull(strstr(r.err, path));
    g_assert_nonnull(strstr(r.err, bad->expected));
    g_assert_cmpuint(strchr(r.err, '\n') - r.err + 1, ==, strlen(r.err));     /* one line */
    run_clear(&r);
    g_free(content);
    g_free(path);
    g_free(good);
    g_free(dir);
}

/* Text form for debugging, and a merged state merges on. */
static void
test_merge_dump_and_state(void)
{
    char *dir = tshark_scratch_dir("dump");
    const char *capture = TRAFAN_SOURCE_DIR "/captures/tunnel_6in4.pcap";
    char *a = make_state(dir, "a.state", capture, "");
    const char *dump[] = { TRAFAN_MERGE_TOOL, "--dump", a, NULL };
    Run r = run_tool(dump, NULL);

    g_assert_cmpint(r.status, ==, 0);
    g_assert_true(g_str_has_prefix(r.out, "('trafan-state', uint16 1, <({'interval': <'1.000000'>"));
    g_assert_nonnull(strstr(r.out, "'port_scan_ports': <uint32 15>"));
    run_clear(&r);

    /* The state of a merge, merged again, reports what the state itself does. */
    char *merged = g_build_filename(dir, "merged.state", NULL);
    const char *save[] = { TRAFAN_MERGE_TOOL, "--quiet", "--state", merged, a, NULL };
    r = run_tool(save, NULL);
    g_assert_cmpint(r.status, ==, 0);
    run_clear(&r);
    const char *report_a[] = { TRAFAN_MERGE_TOOL, "--format", "json", a, NULL };
    const char *report_m[] = { TRAFAN_MERGE_TOOL, "--format", "json", merged, NULL };
    Run ra = run_tool(report_a, NULL), rm = run_tool(report_m, NULL);
    g_assert_cmpstr(rm.out, ==, ra.out);
    run_clear(&ra);
    run_clear(&rm);
    g_free(merged);
    g_free(a);
    g_free(dir);
}

static void
add_splits(const char *capture, gboolean full, guint index)
{
    static const char *const by[] = { "count", "time" };
    static const guint counts[] = { 2, 3, 7 };
    char *base = g_path_get_basename(capture);

    for (guint b = 0; b < G_N_ELEMENTS(by); b++) {
        for (guint c = 0; c < G_N_ELEMENTS(counts); c++) {
            /* A shared capture: 7 by count or 3 by time, in turn. */
            if (!full && (b != index % 2 || counts[c] != (b == 0 ? 7 : 3)))
                continue;
            Split *s = g_new0(Split, 1);
            s->capture = g_strdup(capture);
            s->by = by[b];
            s->slices = counts[c];
            char *name = g_strdup_printf("/parallel/split/%s%s/%s-%u", full ? "" : "shared/", base, by[b], counts[c]);
            g_test_add_data_func(name, s, test_split);
            g_free(name);
        }
    }
    g_free(base);
}

int
main(int argc, char **argv)
{
    static const BadState bad[] = {
        { "empty",     "not a trafan state file" },
        { "foreign",   "not a trafan state file" },
        { "truncated", "corrupt or truncated state file" },
        { "flipped",   "corrupt or truncated state file" },
        { "version",   "state format version" },
    };
    char *why = NULL;
    int status;

    g_test_init(&argc, &argv, NULL);
    if (!tshark_setup(TRAFAN_PLUGIN_PATH, TRAFAN_WIRESHARK_VERSION, &why)) {
        g_test_skip(why);
        return 77;
    }
    if (!g_find_program_in_path("parallel") || !g_find_program_in_path("editcap")) {
        g_test_skip("GNU parallel or editcap is missing");
        return 77;
    }
    single_passes = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, single_pass_free);

    g_test_add_func("/parallel/remote", test_remote);
    g_test_add_func("/parallel/failing-slice", test_failing_slice);
    g_test_add_func("/parallel/editcap-slices", test_editcap_slices);
    g_test_add_func("/merge/different-options", test_merge_different_options);
    g_test_add_func("/merge/dump-and-state", test_merge_dump_and_state);
    for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
        char *name = g_strdup_printf("/merge/bad-file/%s", bad[i].name);
        g_test_add_data_func(name, &bad[i], test_merge_bad_file);
        g_free(name);
    }

    GPtrArray *captures = tshark_capture_files(source_dir);
    for (guint i = 0; i < captures->len; i++) {
        const char *path = g_ptr_array_index(captures, i);
        add_splits(path, !strstr(path, "shared"), i);
    }

    status = g_test_run();
    g_ptr_array_unref(captures);
    g_hash_table_destroy(single_passes);
    tshark_teardown();
    return status;
}
