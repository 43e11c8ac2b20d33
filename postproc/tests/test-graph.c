/* test-graph.c — run trafan-graph on fixtures and check the SVG it draws.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "hostgraph.h"

#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/wait.h>

#define SOURCE_FILL    "#d7191c"
#define TARGET_FILL    "#fd8d3c"
#define NEIGHBOUR_FILL "#fed976"
#define TWO_HOPS_FILL  "#fff5d1"
#define PLAIN_FILL     "#c6dbef"

static char *workdir;

/* ---- running the tool ---- */

typedef struct {
    int status;                 /* exit status */
    char *out, *err;
} Run;

static void run_clear(Run *run)
{
    g_free(run->out);
    g_free(run->err);
}

static Run run_tool(const char *first, ...)
{
    GPtrArray *argv = g_ptr_array_new();
    GError *error = NULL;
    Run run = {0};
    int wait_status;
    va_list args;

    g_ptr_array_add(argv, (char *)TRAFAN_GRAPH);
    va_start(args, first);
    for (const char *a = first; a; a = va_arg(args, const char *))
        g_ptr_array_add(argv, (char *)a);
    va_end(args);
    g_ptr_array_add(argv, NULL);
    g_spawn_sync(NULL, (char **)argv->pdata, NULL, G_SPAWN_DEFAULT, NULL, NULL, &run.out,
                 &run.err, &wait_status, &error);
    g_assert_no_error(error);
    g_assert_true(WIFEXITED(wait_status));
    run.status = WEXITSTATUS(wait_status);
    g_ptr_array_unref(argv);
    return run;
}

static char *fixture(const char *name)
{
    return g_build_filename(FIXTURES, name, NULL);
}

static char *scratch(const char *name)
{
    return g_build_filename(workdir, name, NULL);
}

static char *write_scratch(const char *name, const char *text, gssize len)
{
    char *path = scratch(name);
    GError *error = NULL;
    g_file_set_contents(path, text, len, &error);
    g_assert_no_error(error);
    return path;
}

/* ---- reading the SVG ---- */

typedef struct {
    char *id, *class, *fill, *tooltip;
    GString *text;              /* text lines, joined by '\n' */
} Item;

typedef struct {
    GPtrArray *nodes, *edges;   /* Item */
    Item *current;
    int current_depth, depth;
    gboolean in_text;
} Svg;

static void item_free(gpointer p)
{
    Item *item = p;
    g_free(item->id);
    g_free(item->class);
    g_free(item->fill);
    g_free(item->tooltip);
    g_string_free(item->text, TRUE);
    g_free(item);
}

static const char *attribute(const char **names, const char **values, const char *name)
{
    for (int i = 0; names[i]; i++)
        if (strcmp(names[i], name) == 0)
            return values[i];
    return NULL;
}

static void svg_start(GMarkupParseContext *ctx, const char *element, const char **names,
                      const char **values, gpointer data, GError **error)
{
    Svg *svg = data;
    const char *class = attribute(names, values, "class");

    svg->depth++;
    if (strcmp(element, "g") == 0 && class && !svg->current
        && (g_str_has_prefix(class, "node") || g_str_has_prefix(class, "edge"))) {
        Item *item = g_new0(Item, 1);
        item->id = g_strdup(attribute(names, values, "id"));
        item->class = g_strdup(class);
        item->text = g_string_new(NULL);
        g_ptr_array_add(g_str_has_prefix(class, "node") ? svg->nodes : svg->edges, item);
        svg->current = item;
        svg->current_depth = svg->depth;
    } else if (svg->current) {
        const char *fill = attribute(names, values, "fill");
        const char *title = attribute(names, values, "xlink:title");
        if (!svg->current->fill && fill && strcmp(fill, "none") != 0
            && (strcmp(element, "ellipse") == 0 || strcmp(element, "polygon") == 0))
            svg->current->fill = g_strdup(fill);
        if (title && !svg->current->tooltip)
            svg->current->tooltip = g_strdup(title);
        if (strcmp(element, "text") == 0) {
            svg->in_text = TRUE;
            if (svg->current->text->len)
                g_string_append_c(svg->current->text, '\n');
        }
    }
}

static void svg_end(GMarkupParseContext *ctx, const char *element, gpointer data, GError **error)
{
    Svg *svg = data;
    if (svg->current && svg->depth == svg->current_depth)
        svg->current = NULL;
    if (strcmp(element, "text") == 0)
        svg->in_text = FALSE;
    svg->depth--;
}

static void svg_text(GMarkupParseContext *ctx, const char *text, gsize len, gpointer data,
                     GError **error)
{
    Svg *svg = data;
    if (svg->current && svg->in_text)
        g_string_append_len(svg->current->text, text, len);
}

static Svg *svg_load(const char *path)
{
    static const GMarkupParser parser = {svg_start, svg_end, svg_text, NULL, NULL};
    Svg *svg = g_new0(Svg, 1);
    GError *error = NULL;
    char *contents;
    gsize len;

    g_file_get_contents(path, &contents, &len, &error);
    g_assert_no_error(error);
    /* GMarkup knows no DOCTYPE: start at the root element */
    char *root = strstr(contents, "<svg");
    g_assert_nonnull(root);
    svg->nodes = g_ptr_array_new_with_free_func(item_free);
    svg->edges = g_ptr_array_new_with_free_func(item_free);
    GMarkupParseContext *ctx = g_markup_parse_context_new(&parser, 0, svg, NULL);
    g_markup_parse_context_parse(ctx, root, len - (root - contents), &error);
    g_assert_no_error(error);
    g_markup_parse_context_end_parse(ctx, &error);
    g_assert_no_error(error);
    g_markup_parse_context_free(ctx);
    g_free(contents);
    return svg;
}

static void svg_free(Svg *svg)
{
    g_ptr_array_unref(svg->nodes);
    g_ptr_array_unref(svg->edges);
    g_free(svg);
}

static gboolean has_class(const Item *item, const char *word)
{
    char **words = g_strsplit(item->class, " ", -1);
    gboolean found = g_strv_contains((const char *const *)words, word);
    g_strfreev(words);
    return found;
}

static guint count_class(const GPtrArray *items, const char *word)
{
    guint n = 0;
    for (guint i = 0; i < items->len; i++)
        n += has_class(items->pdata[i], word);
    return n;
}

/* The host node whose first label line is `name`. */
static const Item *host_named(const Svg *svg, const char *name)
{
    for (guint i = 0; i < svg->nodes->len; i++) {
        const Item *item = svg->nodes->pdata[i];
        gsize first = strcspn(item->text->str, "\n");
        if ((has_class(item, "host") || has_class(item, "fold"))
            && strlen(name) == first && strncmp(item->text->str, name, first) == 0)
            return item;
    }
    return NULL;
}

static const Item *legend_of(const Svg *svg)
{
    for (guint i = 0; i < svg->nodes->len; i++) {
        const Item *item = svg->nodes->pdata[i];
        if (g_strcmp0(item->id, "legend") == 0)
            return item;
    }
    return NULL;
}

/* Draw `input` with extra arguments into a fresh SVG and load it. */
static Svg *draw(const char *input, const char *extra1, const char *extra2)
{
    char *out = scratch("out.svg");
    g_unlink(out);
    Run run = run_tool(input, "-o", out, extra1, extra2, NULL);
    if (run.status != 0)
        g_printerr("%s", run.err);
    g_assert_cmpint(run.status, ==, 0);
    g_assert_cmpstr(run.err, ==, "");
    Svg *svg = svg_load(out);
    run_clear(&run);
    g_free(out);
    return svg;
}

static void assert_fill(const Svg *svg, const char *host, const char *fill)
{
    const Item *item = host_named(svg, host);
    if (!item)
        g_error("no node for host %s", host);
    g_assert_cmpstr(item->fill, ==, fill);
}

/* ---- tests ---- */

static void test_colours(void)
{
    char *input = fixture("small.dot");
    Svg *svg = draw(input, NULL, NULL);

    assert_fill(svg, "10.0.0.5", SOURCE_FILL);
    assert_fill(svg, "10.0.0.9", TARGET_FILL);
    assert_fill(svg, "10.0.0.1", NEIGHBOUR_FILL);
    assert_fill(svg, "10.0.0.2", NEIGHBOUR_FILL);
    assert_fill(svg, "172.16.0.3", NEIGHBOUR_FILL);
    assert_fill(svg, "10.0.1.7", TWO_HOPS_FILL);
    assert_fill(svg, "192.168.5.5", TWO_HOPS_FILL);
    assert_fill(svg, "2001:db8::1", PLAIN_FILL);
    assert_fill(svg, "2001:db8::2", PLAIN_FILL);
    g_assert_true(has_class(host_named(svg, "10.0.0.5"), "source"));
    g_assert_true(has_class(host_named(svg, "10.0.0.9"), "target"));
    /* the two conversations named by a flag are emphasised, the others not */
    g_assert_cmpuint(count_class(svg->edges, "flagged"), ==, 2);
    svg_free(svg);
    g_free(input);
}

static void test_counts_and_legend(void)
{
    char *input = fixture("small.dot");
    Svg *svg = draw(input, NULL, NULL);
    const Item *legend = legend_of(svg);

    g_assert_cmpuint(count_class(svg->nodes, "host"), ==, 9);
    g_assert_cmpuint(count_class(svg->nodes, "fold"), ==, 0);
    g_assert_cmpuint(svg->edges->len, ==, 8);
    g_assert_nonnull(legend);
    g_assert_nonnull(strstr(legend->text->str, "office.pcap"));
    g_assert_nonnull(strstr(legend->text->str, "Rules fired"));
    g_assert_nonnull(strstr(legend->text->str, "port_scan: 20 ports in 300 s"));
    g_assert_nonnull(strstr(legend->text->str, "syn_flood: 100/s in 1 s"));
    g_assert_nonnull(strstr(legend->text->str, "flagged source"));
    g_assert_nonnull(strstr(legend->text->str, "1,234 packets"));
    svg_free(svg);
    g_free(input);
}

static void test_labels(void)
{
    char *input = fixture("small.dot");
    Svg *svg = draw(input, "--labels", "bytes");
    g_assert_cmpstr(host_named(svg, "10.0.0.1")->text->str, ==, "10.0.0.1\n350.0 kB");
    svg_free(svg);
    svg = draw(input, "--labels", "packets");
    g_assert_cmpstr(host_named(svg, "10.0.0.5")->text->str, ==, "10.0.0.5\n500 pkts");
    svg_free(svg);
    g_free(input);
}

/* A flagged hub with 5 peers, then a chain of `hosts` others whose bytes
 * fall along the chain. */
static char *write_chain(const char *name, guint hosts)
{
    GString *dot = g_string_new("graph \"trafan\" {\n");
    g_string_append(dot, "  \"10.9.9.9\" [family=\"4\", bytes=\"10\", flag=\"true\", role=\"source\"];\n");
    for (guint i = 0; i < hosts; i++)
        g_string_append_printf(dot, "  \"10.%u.%u.%u\" [family=\"4\", bytes=\"%u\"];\n",
                               i / 1000, i / 20 % 50, i % 20 + 1, 100000 - i);
    for (guint i = 0; i < 5; i++)
        g_string_append_printf(dot, "  \"10.9.9.9\" -- \"10.%u.%u.%u\" [bytes=\"5\"];\n",
                               (hosts - 1 - i) / 1000, (hosts - 1 - i) / 20 % 50, (hosts - 1 - i) % 20 + 1);
    for (guint i = 0; i + 1 < hosts; i++)
        g_string_append_printf(dot, "  \"10.%u.%u.%u\" -- \"10.%u.%u.%u\" [bytes=\"100\"];\n",
                               i / 1000, i / 20 % 50, i % 20 + 1,
                               (i + 1) / 1000, (i + 1) / 20 % 50, (i + 1) % 20 + 1);
    g_string_append(dot, "}\n");
    char *path = write_scratch(name, dot->str, dot->len);
    g_string_free(dot, TRUE);
    return path;
}

static void test_fold(void)
{
    char *input = write_chain("chain.dot", 400);
    Svg *svg = draw(input, "--max-nodes", "50");
    guint folded = 0;

    g_assert_cmpuint(count_class(svg->nodes, "host"), ==, 50);
    g_assert_cmpuint(count_class(svg->nodes, "fold"), >, 0);
    for (guint i = 0; i < svg->nodes->len; i++) {
        const Item *item = svg->nodes->pdata[i];
        const char *count = strstr(item->text->str, "\n(");
        if (has_class(item, "fold")) {
            g_assert_true(g_str_has_prefix(item->text->str, "other 10."));
            g_assert_nonnull(count);
            folded += (guint)g_ascii_strtoull(count + 2, NULL, 10);
        }
    }
    g_assert_cmpuint(folded + 50, ==, 401);
    /* kept: the flagged host, its peers, then the top talkers */
    assert_fill(svg, "10.9.9.9", SOURCE_FILL);
    assert_fill(svg, "10.0.19.20", NEIGHBOUR_FILL);     /* host 399 */
    assert_fill(svg, "10.0.19.16", NEIGHBOUR_FILL);     /* host 395 */
    g_assert_nonnull(host_named(svg, "10.0.0.1"));       /* the biggest talker */
    g_assert_null(host_named(svg, "10.0.10.1"));         /* host 200: folded */
    /* 18 subnets would be too many folds next to 50 hosts: the 5 biggest
     * (20 hosts each, first by name) keep theirs, the rest fold by /16 */
    g_assert_cmpuint(count_class(svg->nodes, "fold"), ==, 6);
    g_assert_nonnull(host_named(svg, "other 10.0.10.0/24"));
    g_assert_nonnull(host_named(svg, "other 10.0.14.0/24"));
    g_assert_null(host_named(svg, "other 10.0.15.0/24"));
    g_assert_nonnull(host_named(svg, "other 10.0.0.0/16"));
    g_assert_nonnull(strstr(legend_of(svg)->text->str,
                            "folded into 6 \"other\" nodes by /24 and /64, smaller subnets by /16"));
    svg_free(svg);

    svg = draw(input, "--max-nodes", "100");
    g_assert_cmpuint(count_class(svg->nodes, "host"), ==, 100);
    g_assert_nonnull(host_named(svg, "other 10.0.10.0/24"));
    g_assert_nonnull(strstr(legend_of(svg)->text->str, "by /24 (IPv4) and /64 (IPv6)"));
    svg_free(svg);

    /* without a limit, every host and conversation is drawn */
    svg = draw(input, "--max-nodes", "0");
    g_assert_cmpuint(count_class(svg->nodes, "host"), ==, 401);
    g_assert_cmpuint(svg->edges->len, ==, 404);
    svg_free(svg);
    g_free(input);
}

static void test_focus(void)
{
    static const char *const expected[] = {"10.0.0.2", "10.0.0.5", "10.0.1.7", "10.0.0.9",
                                           "10.0.0.1"};
    char *input = fixture("small.dot");
    Svg *svg = draw(input, "--focus", "10.0.0.2");
    const Item *legend = legend_of(svg);

    g_assert_cmpuint(count_class(svg->nodes, "host"), ==, G_N_ELEMENTS(expected));
    for (guint i = 0; i < G_N_ELEMENTS(expected); i++)
        g_assert_nonnull(host_named(svg, expected[i]));
    g_assert_true(has_class(host_named(svg, "10.0.0.2"), "focus"));
    g_assert_cmpuint(svg->edges->len, ==, 5);        /* those among the five */
    const char *table = strstr(legend->text->str, "Conversations of 10.0.0.2");
    g_assert_nonnull(table);
    g_assert_null(strstr(table + 1, "Conversations of"));
    /* the table: one row per conversation, with its direction */
    g_assert_nonnull(strstr(legend->text->str, "10.0.0.5\n\u2194\n50\n5.0 kB\ntcp:50"));
    g_assert_nonnull(strstr(legend->text->str, "10.0.1.7\n\u2192\n15\n1.5 kB\nudp:15"));
    svg_free(svg);

    Run run = run_tool(input, "-o", "unused.svg", "--focus", "10.99.0.1", NULL);
    g_assert_cmpint(run.status, ==, 2);
    g_assert_nonnull(strstr(run.err, "no host named '10.99.0.1'"));
    run_clear(&run);
    g_free(input);
}

/* Input that cannot be drawn: exit 2, one line on stderr, no output. */
static void assert_unusable(const char *input, const char *message)
{
    char *out = scratch("unusable.svg");
    Run run = run_tool(input, "-o", out, NULL);
    g_assert_cmpint(run.status, ==, 2);
    g_assert_nonnull(strstr(run.err, message));
    g_assert_cmpint(strchr(run.err, '\n') - run.err, ==, strlen(run.err) - 1);
    g_assert_false(g_file_test(out, G_FILE_TEST_EXISTS));
    run_clear(&run);
    g_free(out);
}

static void test_unusable(void)
{
    static const char junk[] = "\x7f" "ELF\x02\x01\x01\0\0\0\xff\xfe{{}}\"";
    char *path;

    path = scratch("does-not-exist.dot");
    assert_unusable(path, "cannot open");
    g_free(path);
    path = write_scratch("prose.dot", "this is not { a graph", -1);
    assert_unusable(path, "not a DOT graph");
    g_free(path);
    path = write_scratch("junk.dot", junk, sizeof junk);
    assert_unusable(path, "not a DOT graph");
    g_free(path);
    path = write_scratch("empty.dot", "", 0);
    assert_unusable(path, "no graph");
    g_free(path);
    path = write_scratch("no-hosts.dot", "graph \"trafan\" { graph [packets=\"3\"]; }", -1);
    assert_unusable(path, "no hosts");
    g_free(path);
}

static void test_odd_names(void)
{
    GString *dot = g_string_new("graph \"trafan\" {\n");
    GString *huge = g_string_new(NULL);
    char *path;

    /* long, but within what every cgraph lexer takes (16 kB in 2.42) */
    for (int i = 0; i < 10000; i++)
        g_string_append_c(huge, "abc<&>"[i % 6]);
    g_string_append(dot, "  \"a\\\"b\" [family=\"4\"];\n"
                         "  \"<script>&x;\" [family=\"4\", flag=\"true\", rule=\"<r&>\"];\n"
                         "  \"fe80::1%eth0\" [family=\"6\", bytes=\"not a number\"];\n"
                         "  \"back\\slash\\N\";\n");
    g_string_append_printf(dot, "  \"%s\" [bytes=\"99999999999999999999999\"];\n", huge->str);
    g_string_append(dot, "  \"a\\\"b\" -- \"<script>&x;\" [protocol=\"<&>\", flag=\"x&y\"];\n"
                         "  \"fe80::1%eth0\" -- \"back\\slash\\N\";\n");
    g_string_append_printf(dot, "  \"%s\" -- \"a\\\"b\";\n}\n", huge->str);
    path = write_scratch("odd.dot", dot->str, dot->len);

    Svg *svg = draw(path, NULL, NULL);
    g_assert_cmpuint(count_class(svg->nodes, "host"), ==, 5);
    g_assert_cmpuint(svg->edges->len, ==, 3);
    g_assert_nonnull(host_named(svg, "a\"b"));
    assert_fill(svg, "<script>&x;", SOURCE_FILL);
    g_assert_nonnull(host_named(svg, "fe80::1%eth0"));
    g_assert_nonnull(host_named(svg, "back\\slash\\N"));
    /* a long name is cut short */
    char *start = g_strndup(huge->str, 40), *cut = g_strconcat(start, "\u2026", NULL);
    g_assert_nonnull(host_named(svg, cut));
    g_free(start);
    g_free(cut);
    svg_free(svg);

    char *out = scratch("out.svg");
    struct stat st;
    g_assert_cmpint(g_stat(out, &st), ==, 0);
    g_assert_cmpint(st.st_size, <, 100 * 1024);
    g_free(out);

    /* and the same graph as the focus of --focus, named by its address */
    svg = draw(path, "--focus", "fe80::1%eth0");
    g_assert_cmpuint(count_class(svg->nodes, "host"), ==, 2);
    g_assert_nonnull(strstr(legend_of(svg)->text->str, "Conversations of fe80::1%eth0"));
    svg_free(svg);

    g_string_free(huge, TRUE);
    g_string_free(dot, TRUE);
    g_free(path);
}

/* A 1 MB name: drawn cut short where cgraph reads it, else refused. */
static void test_huge_name(void)
{
    GString *dot = g_string_new("graph \"trafan\" {\n  \"");
    char *path, *out = scratch("huge.svg");

    for (int i = 0; i < 1024 * 1024; i++)
        g_string_append_c(dot, "x<&>\\"[i % 5]);
    g_string_append(dot, "\" -- \"10.0.0.1\";\n}\n");
    path = write_scratch("huge.dot", dot->str, dot->len);
    Run run = run_tool(path, "-o", out, NULL);
    if (run.status == 0) {
        Svg *svg = svg_load(out);
        g_assert_cmpuint(count_class(svg->nodes, "host"), ==, 2);
        g_assert_nonnull(host_named(svg, "x<&>\\x<&>\\x<&>\\x<&>\\x<&>\\x<&>\\x<&>\\x<&>\\\u2026"));
        svg_free(svg);
    } else {
        g_assert_cmpint(run.status, ==, 2);
        g_assert_nonnull(strstr(run.err, "not a DOT graph"));
        g_assert_false(g_file_test(out, G_FILE_TEST_EXISTS));
    }
    run_clear(&run);
    g_string_free(dot, TRUE);
    g_free(path);
    g_free(out);
}

static void test_loops_and_multi_edges(void)
{
    char *path = write_scratch("multi.dot",
                               "graph \"trafan\" {\n"
                               "  \"10.0.0.1\" -- \"10.0.0.2\" [packets=\"10\", bytes=\"100\", protocol=\"dns\"];\n"
                               "  \"10.0.0.2\" -- \"10.0.0.1\" [packets=\"20\", bytes=\"900\", protocol=\"tls\"];\n"
                               "  \"10.0.0.1\" -- \"10.0.0.2\" [a_to_b_packets=\"1\", b_to_a_packets=\"2\"];\n"
                               "  \"10.0.0.3\" -- \"10.0.0.3\" [packets=\"7\", protocol=\"udp\"];\n"
                               "}\n", -1);
    Svg *svg = draw(path, NULL, NULL);

    g_assert_cmpuint(count_class(svg->nodes, "host"), ==, 3);
    g_assert_cmpuint(svg->edges->len, ==, 2);
    for (guint i = 0; i < svg->edges->len; i++) {
        const Item *edge = svg->edges->pdata[i];
        g_assert_nonnull(edge->tooltip);
        if (g_str_has_prefix(edge->tooltip, "10.0.0.1 -- 10.0.0.2"))
            g_assert_cmpstr(edge->tooltip, ==, "10.0.0.1 -- 10.0.0.2: 33 packets, 1.0 kB, tls");
        else
            g_assert_cmpstr(edge->tooltip, ==, "10.0.0.3 -- 10.0.0.3: 7 packets, 0 B, udp");
    }
    svg_free(svg);
    g_free(path);
}

static void test_plugin_aggregate(void)
{
    char *path = write_scratch("agg.dot",
                               "graph \"trafan\" {\n"
                               "  graph [hosts_aggregated=\"1234\"];\n"
                               "  \"10.0.0.1\" [family=\"4\", bytes=\"5\"];\n"
                               "  \"other IPv4\" [family=\"4\", aggregated=\"1234\", bytes=\"50\"];\n"
                               "  \"10.0.0.1\" -- \"other IPv4\";\n"
                               "}\n", -1);
    Svg *svg = draw(path, NULL, NULL);
    g_assert_cmpstr(host_named(svg, "other IPv4")->text->str, ==, "other IPv4\n(1,234 hosts)");
    g_assert_nonnull(strstr(legend_of(svg)->text->str, "1,234 hosts past the capture's host cap"));
    svg_free(svg);
    g_free(path);
}

static void test_usage(void)
{
    char *input = fixture("small.dot");
    static const char *const bad[][4] = {
        {"--layout", "spring", "-o", "x.svg"}, {"--labels", "names", "-o", "x.svg"},
        {"--max-nodes", "-3", "-o", "x.svg"},  {"--max-nodes", "many", "-o", "x.svg"},
        {"--bogus", "-o", "x.svg", NULL},      {"-o", "x.nosuchformat", NULL, NULL},
        {"-o", "noextension", NULL, NULL},     {"-T", "nosuchformat", "-o", "x.svg"},
        {"extra.dot", "-o", "x.svg", NULL},    {NULL, NULL, NULL, NULL},
    };

    for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
        char *cwd = g_get_current_dir();
        g_assert_cmpint(g_chdir(workdir), ==, 0);
        Run run = run_tool(input, bad[i][0], bad[i][1], bad[i][2], bad[i][3], NULL);
        g_assert_cmpint(g_chdir(cwd), ==, 0);
        g_assert_cmpint(run.status, ==, 1);
        g_assert_cmpstr(run.err, !=, "");
        run_clear(&run);
        g_free(cwd);
        char *stray = scratch("x.svg");
        g_assert_false(g_file_test(stray, G_FILE_TEST_EXISTS));
        g_free(stray);
    }

    Run run = run_tool("--help", NULL);
    g_assert_cmpint(run.status, ==, 0);
    g_assert_nonnull(strstr(run.out, "--max-nodes"));
    run_clear(&run);
    run = run_tool("--version", NULL);
    g_assert_cmpint(run.status, ==, 0);
    g_assert_true(g_str_has_prefix(run.out, "trafan-graph "));
    run_clear(&run);
    g_free(input);
}

/* A failed run leaves neither a picture nor a temporary file, and keeps
 * the picture already there. */
static void test_atomic(void)
{
    char *dir = scratch("atomic");
    char *out = g_build_filename(dir, "graph.svg", NULL);
    char *input = fixture("small.dot");
    char *bad = write_scratch("bad.dot", "graph { \"a\" -- ", -1);
    char *contents;
    GDir *listing;

    g_assert_cmpint(g_mkdir(dir, 0755), ==, 0);
    Run run = run_tool(bad, "-o", out, NULL);
    g_assert_cmpint(run.status, ==, 2);
    run_clear(&run);
    listing = g_dir_open(dir, 0, NULL);
    g_assert_null(g_dir_read_name(listing));
    g_dir_close(listing);

    g_assert_true(g_file_set_contents(out, "previous picture", -1, NULL));
    run = run_tool(bad, "-o", out, NULL);
    g_assert_cmpint(run.status, ==, 2);
    run_clear(&run);
    run = run_tool(input, "-T", "nosuchformat", "-o", out, NULL);
    g_assert_cmpint(run.status, ==, 1);
    run_clear(&run);
    g_assert_true(g_file_get_contents(out, &contents, NULL, NULL));
    g_assert_cmpstr(contents, ==, "previous picture");
    g_free(contents);
    listing = g_dir_open(dir, 0, NULL);
    g_assert_cmpstr(g_dir_read_name(listing), ==, "graph.svg");
    g_assert_null(g_dir_read_name(listing));
    g_dir_close(listing);

    /* an output directory that does not exist */
    char *nowhere = g_build_filename(dir, "no", "such", "dir.svg", NULL);
    run = run_tool(input, "-o", nowhere, NULL);
    g_assert_cmpint(run.status, ==, 2);
    run_clear(&run);
    g_free(nowhere);

    /* success replaces the old picture */
    run = run_tool(input, "-o", out, NULL);
    g_assert_cmpint(run.status, ==, 0);
    run_clear(&run);
    g_assert_true(g_file_get_contents(out, &contents, NULL, NULL));
    g_assert_nonnull(strstr(contents, "<svg"));
    g_free(contents);

    g_free(bad);
    g_free(input);
    g_free(out);
    g_free(dir);
}

static void test_formats(void)
{
    static const struct {
        const char *name, *magic;
    } formats[] = {{"out.png", "\x89PNG"}, {"out.pdf", "%PDF"}, {"out.dot", "graph"}};
    char *input = fixture("small.dot");

    for (guint i = 0; i < G_N_ELEMENTS(formats); i++) {
        char *out = scratch(formats[i].name), *contents;
        gsize len;
        Run run = run_tool(input, "-o", out, NULL);
        g_assert_cmpint(run.status, ==, 0);
        g_assert_true(g_file_get_contents(out, &contents, &len, NULL));
        g_assert_cmpuint(len, >, 100);
        g_assert_true(g_str_has_prefix(contents, formats[i].magic));
        g_free(contents);
        run_clear(&run);
        g_free(out);
    }
    /* standard input and output */
    char *text;
    g_assert_true(g_file_get_contents(input, &text, NULL, NULL));
    char *cmd = g_strdup_printf("'%s' -T svg -o - < '%s'", TRAFAN_GRAPH, input);
    char *out = NULL;
    int status;
    char *argv[] = {(char *)"/bin/sh", (char *)"-c", cmd, NULL};
    g_assert_true(g_spawn_sync(NULL, argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out, NULL,
                               &status, NULL));
    g_assert_cmpint(status, ==, 0);
    g_assert_nonnull(strstr(out, "</svg>"));
    g_free(out);
    g_free(cmd);
    g_free(text);
    g_free(input);
}

static void test_layouts(void)
{
    static const char *const layouts[] = {"twopi", "circo", "neato", "circular"};
    char *input = fixture("small.dot");

    for (guint i = 0; i < G_N_ELEMENTS(layouts); i++) {
        Svg *svg = draw(input, "--layout", layouts[i]);
        g_assert_cmpuint(count_class(svg->nodes, "host"), ==, 9);
        g_assert_cmpuint(svg->edges->len, ==, 8);
        assert_fill(svg, "10.0.0.5", SOURCE_FILL);
        g_assert_nonnull(legend_of(svg));
        svg_free(svg);
    }
    g_free(input);
}

static void test_text_helpers(void)
{
    char *s;

    s = tg_markup_escape("a<b&\"c>", 0);
    g_assert_cmpstr(s, ==, "a&lt;b&amp;&quot;c&gt;");
    g_free(s);
    s = tg_markup_escape("abcdef", 3);
    g_assert_cmpstr(s, ==, "abc\u2026");
    g_free(s);
    s = tg_markup_escape("bad \xff\xfe utf8\x01", 0);
    g_assert_true(g_utf8_validate(s, -1, NULL));
    g_assert_null(strchr(s, '\x01'));
    g_free(s);
    s = tg_label_escape("a\\N&b", 0);
    g_assert_cmpstr(s, ==, "a\\\\N&amp;b");
    g_free(s);
    s = tg_format_bytes(1234567);
    g_assert_cmpstr(s, ==, "1.2 MB");
    g_free(s);
    s = tg_format_bytes(999);
    g_assert_cmpstr(s, ==, "999 B");
    g_free(s);
    s = tg_format_bytes(G_MAXUINT64);
    g_assert_cmpstr(s, ==, "18.4 EB");
    g_free(s);
    s = tg_format_count(1234567);
    g_assert_cmpstr(s, ==, "1,234,567");
    g_free(s);
    s = tg_format_count(0);
    g_assert_cmpstr(s, ==, "0");
    g_free(s);
}

static void remove_tree(const char *path)
{
    GDir *dir = g_dir_open(path, 0, NULL);
    if (dir) {
        const char *name;
        while ((name = g_dir_read_name(dir))) {
            char *child = g_build_filename(path, name, NULL);
            remove_tree(child);
            g_free(child);
        }
        g_dir_close(dir);
    }
    g_remove(path);
}

int main(int argc, char **argv)
{
    GError *error = NULL;
    int status;

    g_test_init(&argc, &argv, NULL);
    workdir = g_dir_make_tmp("trafan-graph-test-XXXXXX", &error);
    g_assert_no_error(error);

    g_test_add_func("/graph/colours", test_colours);
    g_test_add_func("/graph/counts-and-legend", test_counts_and_legend);
    g_test_add_func("/graph/labels", test_labels);
    g_test_add_func("/graph/fold", test_fold);
    g_test_add_func("/graph/focus", test_focus);
    g_test_add_func("/graph/unusable", test_unusable);
    g_test_add_func("/graph/odd-names", test_odd_names);
    g_test_add_func("/graph/huge-name", test_huge_name);
    g_test_add_func("/graph/loops-and-multi-edges", test_loops_and_multi_edges);
    g_test_add_func("/graph/plugin-aggregate", test_plugin_aggregate);
    g_test_add_func("/graph/usage", test_usage);
    g_test_add_func("/graph/atomic", test_atomic);
    g_test_add_func("/graph/formats", test_formats);
    g_test_add_func("/graph/layouts", test_layouts);
    g_test_add_func("/graph/text-helpers", test_text_helpers);
    status = g_test_run();

    remove_tree(workdir);
    g_free(workdir);
    return status;
}
