/* test-report.c — trafan-report on out= directories: the page read back
 * (libxml2) against report.json, its errors, the live dashboard, and the
 * page in a real browser and as a PDF.
 *
 * Cases needing Chromium, poppler-utils or tshark skip without them.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "report.h"

#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <libxml/parser.h>
#include <libxml/xpath.h>
#include <png.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>

#ifdef TRAFAN_PLUGIN_PATH
#include "tshark-run.h"
#endif

static char *workdir;
static guint cases_run, cases_skipped;

static void skip(const char *why)
{
    g_test_skip(why);
    cases_skipped++;
}

/* Every case that draws a chart needs gnuplot. */
static gboolean have_gnuplot(void)
{
    char *gnuplot = g_find_program_in_path("gnuplot");

    if (!gnuplot)
        skip("gnuplot is not installed");
    g_free(gnuplot);
    return gnuplot != NULL;
}

/* Cases are counted, so that a run whose every case skipped exits 77. */
typedef struct {
    GTestDataFunc func;
    gconstpointer data;
    gboolean charts;            /* runs trafan-report up to its charts */
} Case;

static void run_case(gconstpointer data)
{
    const Case *c = data;

    cases_run++;
    if (!c->charts || have_gnuplot())
        c->func(c->data);
}

static void add_case(const char *path, gconstpointer data, GTestDataFunc func, gboolean charts)
{
    Case *c = g_new(Case, 1);       /* lives as long as the test suite */

    *c = (Case){func, data, charts};
    g_test_add_data_func(path, c, run_case);
}

/* ---- running things ---- */

typedef struct {
    int status;                 /* exit status, -1 when killed */
    char *out, *err;
} Run;

static void run_clear(Run *run)
{
    g_free(run->out);
    g_free(run->err);
}

static Run run_argv(const char *const *argv)
{
    GError *error = NULL;
    Run run = {-1, NULL, NULL};
    int wait_status;

    g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, &run.out, &run.err,
                 &wait_status, &error);
    g_assert_no_error(error);
    if (WIFEXITED(wait_status))
        run.status = WEXITSTATUS(wait_status);
    return run;
}

/* trafan-report with these arguments, NULL-terminated. */
static Run run_report(const char *first, ...)
{
    GPtrArray *argv = g_ptr_array_new();
    va_list args;
    Run run;

    g_ptr_array_add(argv, (char *)TRAFAN_REPORT);
    va_start(args, first);
    for (const char *a = first; a; a = va_arg(args, const char *))
        g_ptr_array_add(argv, (char *)a);
    va_end(args);
    g_ptr_array_add(argv, NULL);
    run = run_argv((const char *const *)argv->pdata);
    g_ptr_array_unref(argv);
    return run;
}

static char *scratch(const char *name)
{
    return g_build_filename(workdir, name, NULL);
}

static void copy_file(const char *from, const char *to)
{
    char *data;
    gsize len;

    g_assert_true(g_file_get_contents(from, &data, &len, NULL));
    g_assert_true(g_file_set_contents(to, data, (gssize)len, NULL));
    g_free(data);
}

/* A fresh copy of fixtures/report-NAME in the work folder. */
static char *fixture_copy(const char *name, const char *as)
{
    char *dir = scratch(as);

    g_mkdir_with_parents(dir, 0755);
    for (const char *const *file = (const char *const[]){"report.json", "graph.dot", NULL}; *file; file++) {
        char *from = g_strdup_printf("%s/report-%s/%s", FIXTURES, name, *file);
        char *to = g_build_filename(dir, *file, NULL);
        copy_file(from, to);
        g_free(from);
        g_free(to);
    }
    return dir;
}

static char *fixture_dir(const char *name)
{
    return g_strdup_printf("%s/report-%s", FIXTURES, name);
}

/* ---- report.json, read independently of trafan-report ---- */

static JsonParser *json_load(const char *dir)
{
    JsonParser *parser = json_parser_new();
    char *path = g_build_filename(dir, "report.json", NULL);
    GError *error = NULL;

    json_parser_load_from_file(parser, path, &error);
    g_assert_no_error(error);
    g_free(path);
    return parser;
}

static JsonObject *json_root(JsonParser *parser)
{
    return json_node_get_object(json_parser_get_root(parser));
}

static char *json_text(JsonObject *o, const char *member)
{
    JsonNode *node = json_object_get_member(o, member);

    g_assert_nonnull(node);
    if (json_node_get_value_type(node) == G_TYPE_INT64)
        return g_strdup_printf("%" G_GINT64_FORMAT, json_node_get_int(node));
    if (json_node_get_value_type(node) == G_TYPE_DOUBLE)
        return tr_number_text(json_node_get_double(node));
    return g_strdup(json_node_get_string(node));
}

/* ---- the page, read back ---- */

typedef struct {
    xmlDoc *doc;
    xmlXPathContext *xp;
    char *html;
} Page;

static Page page_load(const char *path)
{
    Page page = {0};

    g_assert_true(g_file_get_contents(path, &page.html, NULL, NULL));
    /* Well-formed XML too, with nothing fetched. */
    page.doc = xmlReadMemory(page.html, (int)strlen(page.html), path, "UTF-8", XML_PARSE_NONET);
    g_assert_nonnull(page.doc);
    page.xp = xmlXPathNewContext(page.doc);
    return page;
}

static void page_clear(Page *page)
{
    xmlXPathFreeContext(page->xp);
    xmlFreeDoc(page->doc);
    g_free(page->html);
}

static double xp_number(Page *page, const char *expr)
{
    xmlXPathObject *o = xmlXPathEvalExpression((const xmlChar *)expr, page->xp);
    double n;

    g_assert_nonnull(o);
    n = xmlXPathCastToNumber(o);
    xmlXPathFreeObject(o);
    return n;
}

static char *xp_string(Page *page, const char *fmt, ...)
{
    va_list args;
    char *expr, *text;
    xmlXPathObject *o;
    xmlChar *s;

    va_start(args, fmt);
    expr = g_strdup_vprintf(fmt, args);
    va_end(args);
    o = xmlXPathEvalExpression((const xmlChar *)expr, page->xp);
    g_assert_nonnull(o);
    s = xmlXPathCastToString(o);
    text = g_strstrip(g_strdup((const char *)s));
    xmlFree(s);
    xmlXPathFreeObject(o);
    g_free(expr);
    return text;
}

static guint xp_count(Page *page, const char *fmt, ...)
{
    va_list args;
    char *expr, *count;
    double n;

    va_start(args, fmt);
    expr = g_strdup_vprintf(fmt, args);
    va_end(args);
    count = g_strdup_printf("count(%s)", expr);
    n = xp_number(page, count);
    g_free(count);
    g_free(expr);
    return (guint)n;
}

/* The cells of a table's body, one GStrv per row. */
static GPtrArray *table_rows(Page *page, const char *id, const char *row_class)
{
    GPtrArray *rows = g_ptr_array_new_with_free_func((GDestroyNotify)g_strfreev);
    char *expr = row_class ? g_strdup_printf("//table[@id='%s']/tbody/tr[contains(@class,'%s')]", id, row_class)
                           : g_strdup_printf("//table[@id='%s']/tbody/tr", id);
    xmlXPathObject *o = xmlXPathEvalExpression((const xmlChar *)expr, page->xp);

    for (int i = 0; o && o->nodesetval && i < o->nodesetval->nodeNr; i++) {
        GPtrArray *cells = g_ptr_array_new();
        for (xmlNode *td = o->nodesetval->nodeTab[i]->children; td; td = td->next) {
            if (td->type != XML_ELEMENT_NODE)
                continue;
            xmlChar *s = xmlNodeGetContent(td);
            g_ptr_array_add(cells, g_strstrip(g_strdup((const char *)s)));
            xmlFree(s);
        }
        g_ptr_array_add(cells, NULL);
        g_ptr_array_add(rows, g_ptr_array_free(cells, FALSE));
    }
    xmlXPathFreeObject(o);
    g_free(expr);
    return rows;
}

static void assert_cell(char **row, guint column, JsonObject *o, const char *member)
{
    char *want = json_text(o, member);

    g_assert_cmpuint(g_strv_length(row), >, column);
    g_assert_cmpstr(row[column], ==, want);
    g_free(want);
}

static const char *const sections[] = {
    "summary", "suspicious", "bandwidth", "protocol-bandwidth", "protocols", "sources",
    "conversations", "host-graph",
};

/* Every section, every number against report.json, every flag with its
 * filter, and nothing that needs a script or the network. */
static void check_page(Page *page, JsonObject *root, guint top)
{
    JsonObject *capture = json_object_get_object_member(root, "capture");
    JsonArray *protocols = json_object_get_array_member(root, "protocols");
    JsonArray *hosts = json_object_get_array_member(root, "hosts");
    JsonArray *conversations = json_object_get_array_member(root, "conversations");
    JsonArray *flags = json_object_get_array_member(root, "flags");
    GHashTable *flagged = g_hash_table_new(g_str_hash, g_str_equal);
    GPtrArray *rows;
    guint senders = 0;

    for (guint i = 0; i < json_array_get_length(hosts); i++)
        senders += json_object_get_int_member(json_array_get_object_element(hosts, i), "tx_packets") > 0;
    /* a chart where there is something to draw, else a notice saying so */
    const gboolean drawn[G_N_ELEMENTS(sections)] = {
        FALSE, FALSE, TRUE, TRUE, json_array_get_length(protocols) > 0, senders > 0,
        json_array_get_length(conversations) > 0, json_array_get_length(hosts) > 0,
    };
    for (guint i = 0; i < G_N_ELEMENTS(sections); i++) {
        g_assert_cmpuint(xp_count(page, "//section[@id='%s']/h2", sections[i]), ==, 1);
        g_assert_cmpuint(xp_count(page, "//section[@id='%s']//*[local-name()='svg']", sections[i]) > 0, ==,
                         drawn[i]);
        if (i >= 2)
            g_assert_cmpuint(xp_count(page, "//section[@id='%s']/p[@class='missing']", sections[i]), ==, !drawn[i]);
    }
    g_assert_cmpuint(xp_count(page, "//script | //*[local-name()='script']"), ==, 0);
    g_assert_cmpuint(xp_count(page, "//@*[starts-with(local-name(),'on')]"), ==, 0);
    g_assert_cmpuint(xp_count(page, "//@*[(local-name()='href' or local-name()='src') and not(starts-with(.,'#'))]"),
                     ==, 0);

    /* summary */
    static const char *const totals[][2] = {
        {"sum-packets", "packets"}, {"sum-bytes", "bytes"}, {"sum-hosts", "hosts"},
        {"sum-conversations", "conversations"},
    };
    for (guint i = 0; i < G_N_ELEMENTS(totals); i++) {
        char *shown = xp_string(page, "//*[@id='%s']", totals[i][0]), *want = json_text(capture, totals[i][1]);
        g_assert_cmpstr(shown, ==, want);
        g_free(shown);
        g_free(want);
    }
    g_assert_cmpuint(xp_number(page, "number(//*[@id='sum-flags'])"), ==, json_array_get_length(flags));
    for (guint i = 0; i < json_array_get_length(flags); i++) {
        const char *rule = json_object_get_string_member(json_array_get_object_element(flags, i), "rule");
        guint same = 0;
        for (guint k = 0; k < json_array_get_length(flags); k++)
            same += strcmp(rule, json_object_get_string_member(json_array_get_object_element(flags, k), "rule")) == 0;
        char *shown = xp_string(page, "//table[@id='flags-by-rule']/tbody/tr[td[1] = '%s']/td[2]", rule);
        g_assert_cmpuint(g_ascii_strtoull(shown, NULL, 10), ==, same);
        g_free(shown);
    }

    /* protocols, table and chart tooltips */
    rows = table_rows(page, "protocol-table", NULL);
    g_assert_cmpuint(rows->len, ==, MIN(top, json_array_get_length(protocols)));
    for (guint i = 0; i < rows->len; i++) {
        JsonObject *p = json_array_get_object_element(protocols, i);
        char **row = rows->pdata[i];
        assert_cell(row, 0, p, "name");
        assert_cell(row, 1, p, "packets");
        assert_cell(row, 2, p, "bytes");
        g_assert_cmpuint(xp_count(page, "//section[@id='protocols']//*[local-name()='title'][. = '%s: %s bytes, "
                                        "%s packet%s']", row[0], row[2], row[1], strcmp(row[1], "1") ? "s" : ""),
                         ==, 1);
    }
    g_ptr_array_unref(rows);

    /* top sources: the hosts that sent, by bytes sent */
    rows = table_rows(page, "source-table", NULL);
    g_assert_cmpuint(rows->len, ==, MIN(top, senders));
    for (guint i = 0; i < rows->len; i++) {
        char **row = rows->pdata[i];
        JsonObject *h = NULL;
        for (guint k = 0; k < json_array_get_length(hosts) && !h; k++)
            if (strcmp(json_object_get_string_member(json_array_get_object_element(hosts, k), "address"), row[0]) == 0)
                h = json_array_get_object_element(hosts, k);
        g_assert_nonnull(h);
        static const char *const columns[] = {"address", "tx_packets", "tx_bytes", "rx_packets", "rx_bytes",
                                              "peers", "dst_ports"};
        for (guint c = 0; c < G_N_ELEMENTS(columns); c++)
            assert_cell(row, c, h, columns[c]);
        if (i)
            g_assert_cmpuint(g_ascii_strtoull(((char **)rows->pdata[i - 1])[2], NULL, 10), >=,
                             g_ascii_strtoull(row[2], NULL, 10));
    }
    g_ptr_array_unref(rows);

    /* top conversations, in report.json's order */
    static const char *const conversation_columns[] = {"a", "b", "a_to_b_packets", "a_to_b_bytes",
                                                       "b_to_a_packets", "b_to_a_bytes", "packets", "bytes"};
    rows = table_rows(page, "conversation-table", NULL);
    g_assert_cmpuint(rows->len, ==, MIN(top, json_array_get_length(conversations)));
    for (guint i = 0; i < rows->len; i++)
        for (guint c = 0; c < G_N_ELEMENTS(conversation_columns); c++)
            assert_cell(rows->pdata[i], c, json_array_get_object_element(conversations, i), conversation_columns[c]);
    g_ptr_array_unref(rows);

    /* every flag, with its summary and display filter */
    rows = table_rows(page, "flags", "flag");
    g_assert_cmpuint(rows->len, ==, json_array_get_length(flags));
    for (guint i = 0; i < rows->len; i++) {
        JsonObject *f = json_array_get_object_element(flags, i);
        char **row = rows->pdata[i];
        char *filter = xp_string(page, "//tr[@id='flag-%u']/following-sibling::tr[1]//code[@class='filter']", i + 1);
        char *summary = xp_string(page, "//tr[@id='flag-%u']/following-sibling::tr[1]//span[@class='summary']", i + 1);

        assert_cell(row, 1, f, "host");
        assert_cell(row, 2, f, "role");
        assert_cell(row, 3, f, "rule");
        if (!json_object_get_boolean_member(f, "approximate"))
            assert_cell(row, 4, f, "observed");
        assert_cell(row, 5, f, "threshold");
        g_assert_cmpstr(filter, ==, json_object_get_string_member(f, "filter"));
        g_assert_cmpstr(summary, ==, json_object_get_string_member(f, "summary"));
        g_hash_table_add(flagged, (gpointer)json_object_get_string_member(f, "host"));
        g_free(filter);
        g_free(summary);
    }
    g_ptr_array_unref(rows);
    if (json_array_get_length(flags) == 0)
        g_assert_cmpuint(xp_count(page, "//p[@id='no-flags']"), ==, 1);

    /* one focus section per flagged host: its graph and its conversations */
    g_assert_cmpuint(xp_count(page, "//section[@class='focus']"), ==, g_hash_table_size(flagged));
    for (guint i = 1; i <= g_hash_table_size(flagged); i++) {
        char *host = xp_string(page, "//section[@id='focus-%u']/@data-host", i);
        char *id = g_strdup_printf("focus-%u-conversations", i);
        g_assert_true(g_hash_table_contains(flagged, host));
        g_assert_cmpuint(xp_count(page, "//section[@id='focus-%u']//*[local-name()='svg']", i), ==, 1);
        rows = table_rows(page, id, NULL);
        g_assert_cmpuint(rows->len, >=, 1);
        for (guint r = 0; r < rows->len; r++) {
            char **row = rows->pdata[r];
            g_assert_true(strcmp(row[0], host) == 0 || strcmp(row[1], host) == 0);
        }
        g_ptr_array_unref(rows);
        g_free(id);
        g_free(host);
    }
    g_hash_table_unref(flagged);
}

/* ---- the page against report.json ---- */

typedef struct {
    const char *fixture;
    const char *top;            /* --top, or NULL */
    const char *warning;        /* on stderr, or NULL for none */
} PageCase;

static void test_page(gconstpointer data)
{
    const PageCase *c = data;
    char *dir = fixture_dir(c->fixture);
    char *out = scratch("page.html");
    JsonParser *json = json_load(dir);
    Run run = c->top ? run_report(dir, "--top", c->top, "-o", out, NULL) : run_report(dir, "-o", out, NULL);
    Page page;

    if (c->warning)
        g_assert_nonnull(strstr(run.err, c->warning));
    else
        g_assert_cmpstr(run.err, ==, "");
    g_assert_cmpint(run.status, ==, 0);
    page = page_load(out);
    check_page(&page, json_root(json), c->top ? (guint)atoi(c->top) : 10);
    g_assert_cmpuint(xp_count(&page, "//meta[@http-equiv='refresh']"), ==, 0);
    /* the circular graph of every host, drawn by trafan-graph's code */
    g_assert_cmpuint(xp_count(&page, "//figure[@id='hosts']/*[local-name()='svg']"), ==, !c->warning);
    page_clear(&page);
    run_clear(&run);
    g_object_unref(json);
    g_free(out);
    g_free(dir);
}

/* Names that are markup, quotes and control characters stay text. */
static void test_hostile_names(gconstpointer unused)
{
    char *dir = fixture_copy("c2", "hostile"), *json_path = g_build_filename(dir, "report.json", NULL);
    char *out = scratch("hostile.html"), *text;
    GString *edited;
    JsonParser *json;
    Page page;
    Run run;

    g_assert_true(g_file_get_contents(json_path, &text, NULL, NULL));
    edited = g_string_new(text);
    g_assert_cmpuint(g_string_replace(edited, "147.32.82.19", "<b>'x\\\"\\t&amp;]]></b>", 0), >, 0);
    g_assert_true(g_file_set_contents(json_path, edited->str, -1, NULL));
    run = run_report(dir, "-o", out, NULL);
    g_assert_cmpint(run.status, ==, 0);
    json = json_load(dir);
    page = page_load(out);
    check_page(&page, json_root(json), 10);
    g_assert_cmpuint(xp_count(&page, "//b"), ==, 0);
    g_assert_cmpuint(xp_count(&page, "//td[starts-with(., '<b>') and contains(., '&amp;]]></b>')]"), >=, 2);
    page_clear(&page);
    g_object_unref(json);
    run_clear(&run);
    g_string_free(edited, TRUE);
    g_free(text);
    g_free(out);
    g_free(json_path);
    g_free(dir);
}

static void test_refresh(gconstpointer unused)
{
    char *dir = fixture_dir("c2"), *out = scratch("refresh.html");
    Run run = run_report("--refresh", "7", dir, "-o", out, NULL);
    Page page;

    g_assert_cmpint(run.status, ==, 0);
    page = page_load(out);
    g_assert_cmpuint(xp_count(&page, "//meta[@http-equiv='refresh'][@content='7']"), ==, 1);
    page_clear(&page);
    run_clear(&run);
    g_free(out);
    g_free(dir);
}

/* ---- errors: a clear message, the previous report left as it was ---- */

typedef struct {
    const char *name;
    const char *fixture;        /* copied, then edited */
    const char *file;           /* edited file, or NULL */
    const char *from, *to;      /* every `from` replaced (NULL from: the whole file; NULL to: removed) */
    int status;
    const char *message;        /* in stderr */
    const char *notice;         /* in the page's "missing" notice, when it is written */
} ErrorCase;

static const ErrorCase error_cases[] = {
    {"no-report-json", "c2", "report.json", NULL, NULL, 2, "report.json: missing", NULL},
    {"not-json", "c2", "report.json", NULL, "{\"trafan_format\":1,", 2, "report.json: not JSON", NULL},
    {"other-format", "c2", "report.json", "\"trafan_format\":1", "\"trafan_format\":2", 2,
     "trafan_format 2, this trafan-report reads format 1", NULL},
    {"no-format", "c2", "report.json", "\"trafan_format\":1,", "", 2, "no trafan_format", NULL},
    {"wrong-type", "c2", "report.json", "\"packets\":1084", "\"packets\":\"1084\"", 2,
     "capture.packets is not a count", NULL},
    {"no-flags", "c2", "report.json", "\"flags\":", "\"flagz\":", 2, "flags is missing, not an array", NULL},
    {"empty-capture", "empty", NULL, NULL, NULL, 2, "the capture has no packets", NULL},
    {"no-graph", "c2", "graph.dot", NULL, NULL, 0, "warning: no host graph", "graph.dot: No such file"},
    {"graph-not-dot", "c2", "graph.dot", NULL, "graph {{{", 0, "not a DOT graph", "not a DOT graph"},
    {"graph-other-format", "c2", "graph.dot", "trafan_format=\"1\"", "trafan_format=\"9\"", 0,
     "trafan_format 9", "trafan_format 9, this trafan-report reads 1"},
    {"graph-other-run", "c2", "graph.dot", "packets=\"1084\"", "packets=\"1000\"", 0, "another run",
     "1000 packets where report.json has 1084"},
    {"flagged-host-not-in-graph", "c2", "graph.dot", "\"147.32.80.37\"", "\"147.32.80.38\"", 0, "",
     "147.32.80.37 is not a host of graph.dot"},
};

static void edit_file(const char *path, const ErrorCase *c)
{
    char *text = NULL;

    if (!c->from && !c->to) {
        g_assert_cmpint(g_unlink(path), ==, 0);
        return;
    }
    if (c->from) {
        GString *s;
        g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
        g_assert_nonnull(strstr(text, c->from));
        s = g_string_new(text);
        g_string_replace(s, c->from, c->to, 0);
        g_free(text);
        text = g_string_free(s, FALSE);
    } else {
        text = g_strdup(c->to);
    }
    g_assert_true(g_file_set_contents(path, text, -1, NULL));
    g_free(text);
}

static void test_error(gconstpointer data)
{
    const ErrorCase *c = data;
    char *dir = fixture_copy(c->fixture, c->name);
    char *out = g_strdup_printf("%s.html", dir);
    char *previous;
    Run run;

    if (c->file) {
        char *path = g_build_filename(dir, c->file, NULL);
        edit_file(path, c);
        g_free(path);
    }
    g_assert_true(g_file_set_contents(out, "previous report", -1, NULL));
    run = run_report(dir, "-o", out, NULL);
    g_assert_cmpint(run.status, ==, c->status);
    g_assert_nonnull(strstr(run.err, c->message));
    g_assert_cmpuint(strlen(run.err), <, 400);          /* a line, not a dump */
    g_assert_true(g_file_get_contents(out, &previous, NULL, NULL));
    if (c->status) {
        g_assert_cmpstr(previous, ==, "previous report");
    } else {
        Page page = page_load(out);
        char *notice = xp_string(&page, "//section/p[@class='missing']");
        g_assert_nonnull(strstr(notice, c->notice));
        /* and the rest of the report is there */
        g_assert_cmpuint(xp_count(&page, "//table[@id='flags']/tbody/tr[@class='flag']"), ==, 1);
        g_free(notice);
        page_clear(&page);
    }
    g_free(previous);
    run_clear(&run);
    g_free(out);
    g_free(dir);
}

static void test_no_directory(gconstpointer unused)
{
    char *missing = scratch("no-such-dir"), *out = scratch("no-such-dir.html");
    Run run = run_report(missing, "-o", out, NULL);

    g_assert_cmpint(run.status, ==, 2);
    g_assert_nonnull(strstr(run.err, "no such directory"));
    g_assert_false(g_file_test(out, G_FILE_TEST_EXISTS));
    run_clear(&run);
    g_free(out);
    g_free(missing);
}

static void test_unwritable_output(gconstpointer unused)
{
    char *dir = fixture_dir("c2"), *out = scratch("no-such-dir/report.html");
    Run run = run_report(dir, "-o", out, NULL);

    g_assert_cmpint(run.status, ==, 2);
    g_assert_nonnull(strstr(run.err, "no-such-dir"));
    run_clear(&run);
    g_free(out);
    g_free(dir);
}

typedef struct {
    const char *name;
    const char *args[6];
    const char *message;
} UsageCase;

static const UsageCase usage_cases[] = {
    {"no-directory", {"-o", "x.html"}, "no directory"},
    {"no-output", {"DIR"}, "no output file"},
    {"unknown-format", {"DIR", "-o", "x.txt"}, "unknown format 'txt'"},
    {"no-extension", {"DIR", "-o", "report"}, "cannot tell the format"},
    {"watch-pdf", {"--watch", "DIR", "-o", "x.pdf"}, "--watch writes HTML"},
    {"top-zero", {"--top", "0", "DIR", "-o", "x.html"}, "--top wants a number from 1"},
    {"refresh-word", {"--refresh", "often", "DIR", "-o", "x.html"}, "--refresh wants a number"},
    {"two-directories", {"DIR", "DIR", "-o", "x.html"}, "one directory at most"},
    {"unknown-option", {"--colour", "DIR", "-o", "x.html"}, "Try 'trafan-report --help'"},
};

static void test_usage(gconstpointer data)
{
    const UsageCase *c = data;
    const char *argv[8] = {TRAFAN_REPORT};
    Run run;

    for (guint i = 0; c->args[i]; i++)
        argv[i + 1] = c->args[i];
    run = run_argv(argv);
    g_assert_cmpint(run.status, ==, 1);
    g_assert_nonnull(strstr(run.err, c->message));
    run_clear(&run);
}

/* ---- the series drawn: downsampled, totals kept ---- */

typedef struct {
    const char *name;
    double interval;
    guint intervals;            /* from the first to the last bucket */
    guint every;                /* one bucket in `every` intervals is not empty */
    guint max_points;
    guint per_point, points;    /* expected */
} SeriesCase;

static const SeriesCase series_cases[] = {
    {"few", 1, 10, 1, 600, 1, 10},
    {"one", 1, 1, 1, 600, 1, 1},
    {"exactly-max", 1, 600, 1, 600, 1, 600},
    {"one-over-max", 1, 601, 1, 600, 2, 301},
    {"twice", 1, 1200, 1, 600, 2, 600},
    {"sparse", 1, 7000, 7, 600, 12, 584},
    {"microseconds", 0.000001, 100000, 3, 600, 167, 599},
    {"hours-in-ms", 0.001, 3600000, 1000, 600, 6000, 600},
};

static void test_series(gconstpointer data)
{
    const SeriesCase *c = data;
    TrReport r = {.interval = c->interval};
    guint64 packets = 0, bytes = 0, proto = 0, got_packets = 0, got_bytes = 0, got_proto = 0;
    TrSeries *s;

    r.buckets = g_array_new(FALSE, TRUE, sizeof(TrBucket));
    r.bandwidth_protocols = g_ptr_array_new();
    g_ptr_array_add(r.bandwidth_protocols, (char *)"tls");
    for (guint i = 0; i < c->intervals; i++) {
        if (i % c->every && i + 1 < c->intervals)
            continue;
        TrBucket b = {i * c->interval, i % 13 + 1, (i % 13 + 1) * 100, g_new0(guint64, 1)};
        b.protocol_bytes[0] = b.bytes / 2;
        packets += b.packets;
        bytes += b.bytes;
        proto += b.protocol_bytes[0];
        g_array_append_val(r.buckets, b);
    }
    s = tr_series_new(&r, c->max_points);
    g_assert_cmpuint(s->per_point, ==, c->per_point);
    g_assert_cmpuint(s->points->len, ==, c->points);
    g_assert_cmpuint(s->points->len, <=, c->max_points);
    g_assert_cmpfloat_with_epsilon(s->step, c->per_point * c->interval, 1e-12);
    for (guint k = 0; k < s->points->len; k++) {
        const TrBucket *p = &g_array_index(s->points, TrBucket, k);
        g_assert_cmpfloat_with_epsilon(p->start, k * s->step, 1e-6 * s->step + 1e-9);
        got_packets += p->packets;
        got_bytes += p->bytes;
        got_proto += p->protocol_bytes[0];
    }
    g_assert_cmpuint(got_packets, ==, packets);
    g_assert_cmpuint(got_bytes, ==, bytes);
    g_assert_cmpuint(got_proto, ==, proto);
    tr_series_free(s);
    for (guint i = 0; i < r.buckets->len; i++)
        g_free(g_array_index(r.buckets, TrBucket, i).protocol_bytes);
    g_array_unref(r.buckets);
    g_ptr_array_unref(r.bandwidth_protocols);
}

static void test_text_helpers(gconstpointer unused)
{
    static const struct { double value; const char *text; } numbers[] = {
        {3.06, "3.06"}, {0.1, "0.1"}, {100, "100"}, {0.000001, "1e-06"}, {1000000, "1000000"}, {0.2, "0.2"},
    };
    static const struct { double epoch; gboolean date; const char *text; } times[] = {
        {1700000000.5, TRUE, "2023-11-14 22:13:20.500"},
        {1707834878.788187, FALSE, "14:34:38.788"},
        {1707834878.9999, FALSE, "14:34:39.000"},
        {0, TRUE, "1970-01-01 00:00:00.000"},
    };

    for (guint i = 0; i < G_N_ELEMENTS(numbers); i++) {
        char *text = tr_number_text(numbers[i].value);
        g_assert_cmpstr(text, ==, numbers[i].text);
        g_free(text);
    }
    for (guint i = 0; i < G_N_ELEMENTS(times); i++) {
        char *text = tr_wall_clock(times[i].epoch, times[i].date);
        g_assert_cmpstr(text, ==, times[i].text);
        g_free(text);
    }
}

/* ---- --watch: the live dashboard ---- */

/* Wait up to 30 s for the page at `path` to show `packets`. */
static gboolean wait_for_packets(const char *path, const char *packets)
{
    for (guint tries = 0; tries < 300; tries++) {
        char *html = NULL;
        if (g_file_get_contents(path, &html, NULL, NULL)) {
            char *want = g_strdup_printf("id=\"sum-packets\">%s<", packets);
            gboolean found = strstr(html, want) != NULL;
            g_free(want);
            g_free(html);
            if (found)
                return TRUE;
        }
        g_usleep(100000);
    }
    return FALSE;
}

/* Replace DIR's files as tshark does: write beside, rename into place. */
static void replace_from_fixture(const char *dir, const char *fixture)
{
    for (const char *const *file = (const char *const[]){"graph.dot", "report.json", NULL}; *file; file++) {
        char *from = g_strdup_printf("%s/report-%s/%s", FIXTURES, fixture, *file);
        char *tmp = g_strdup_printf("%s/.%s.tmp", dir, *file), *to = g_build_filename(dir, *file, NULL);
        copy_file(from, tmp);
        g_assert_cmpint(g_rename(tmp, to), ==, 0);
        g_free(from);
        g_free(tmp);
        g_free(to);
    }
}

static void test_watch(gconstpointer unused)
{
    char *dir = fixture_copy("c2", "watched"), *out = scratch("live.html");
    const char *argv[] = {TRAFAN_REPORT, "--watch", dir, "-o", out, NULL};
    GError *error = NULL;
    GSubprocess *watcher = g_subprocess_newv(argv, G_SUBPROCESS_FLAGS_STDERR_PIPE, &error);
    char *err = NULL;
    Page page;

    g_assert_no_error(error);
    g_assert_true(wait_for_packets(out, "1084"));
    page = page_load(out);
    g_assert_cmpuint(xp_count(&page, "//meta[@http-equiv='refresh'][@content='5']"), ==, 1);
    page_clear(&page);

    replace_from_fixture(dir, "attacks");
    g_assert_true(wait_for_packets(out, "10662"));
    page = page_load(out);
    g_assert_cmpuint(xp_count(&page, "//table[@id='flags']/tbody/tr[contains(@class,'flag')]"), ==, 4);
    page_clear(&page);

    /* a bad directory keeps the last report */
    char *json = g_build_filename(dir, "report.json", NULL);
    g_assert_true(g_file_set_contents(json, "{", -1, NULL));
    g_free(json);
    g_usleep(1500000);
    g_assert_true(wait_for_packets(out, "10662"));

    g_subprocess_send_signal(watcher, SIGTERM);
    g_subprocess_communicate_utf8(watcher, NULL, NULL, NULL, &err, &error);
    g_assert_no_error(error);
    g_assert_true(g_subprocess_get_if_exited(watcher));
    g_assert_cmpint(g_subprocess_get_exit_status(watcher), ==, 0);
    g_assert_nonnull(strstr(err, "not JSON"));
    g_assert_nonnull(strstr(err, "the last report stays"));
    g_free(err);
    g_object_unref(watcher);
    g_free(out);
    g_free(dir);
}

/* ---- in a real browser, and printed ---- */

static char *chromium(void)
{
    static const char *const names[] = {"chromium", "chromium-browser", "google-chrome", NULL};
    return tr_find_program(names);
}

/* Share of pixels that are not white-ish, and distinct grey levels. */
static void png_ink(const char *path, double *ink, guint *levels)
{
    png_image image = {.version = PNG_IMAGE_VERSION};
    guint8 *pixels;
    gboolean seen[256] = {FALSE};
    gsize dark = 0;

    g_assert_true(png_image_begin_read_from_file(&image, path));
    image.format = PNG_FORMAT_GRAY;
    pixels = g_malloc(PNG_IMAGE_SIZE(image));
    g_assert_true(png_image_finish_read(&image, NULL, pixels, 0, NULL));
    *levels = 0;
    for (gsize i = 0; i < (gsize)image.width * image.height; i++) {
        dark += pixels[i] < 235;
        if (!seen[pixels[i]]++)
            (*levels)++;
    }
    *ink = (double)dark / ((double)image.width * image.height);
    g_free(pixels);
    png_image_free(&image);
}

static void test_browser(gconstpointer unused)
{
    char *browser = chromium(), *dir = fixture_dir("attacks"), *out = scratch("browser.html");
    char *png = scratch("browser.png"), *profile = scratch("profile"), *uri;
    char *shot, *user_data, *console;
    double ink;
    guint levels;
    Run run;

    if (!browser) {
        skip("chromium is not installed");
        goto out;
    }
    run = run_report(dir, "-o", out, NULL);
    g_assert_cmpint(run.status, ==, 0);
    run_clear(&run);
    uri = g_filename_to_uri(out, NULL, NULL);
    shot = g_strdup_printf("--screenshot=%s", png);
    user_data = g_strdup_printf("--user-data-dir=%s", profile);
    const char *argv[] = {browser, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                          "--disable-background-networking", "--disable-component-update", "--disable-sync",
                          "--hide-scrollbars", "--window-size=1200,2400", "--enable-logging=stderr", "--v=0",
                          user_data, shot, uri, NULL};
    run = run_argv(argv);
    g_assert_cmpint(run.status, ==, 0);
    /* console messages: "CONSOLE(line)" in Chromium's log */
    console = strstr(run.err, "CONSOLE");
    if (console)
        g_test_message("console: %.300s", console);
    g_assert_null(console);
    g_assert_null(strstr(run.err, "Uncaught"));
    png_ink(png, &ink, &levels);
    g_test_message("screenshot: %.1f%% ink, %u grey levels", ink * 100, levels);
    g_assert_cmpfloat(ink, >, 0.03);
    g_assert_cmpuint(levels, >, 32);
    run_clear(&run);

    /* the DOM as the browser built it: every section, every SVG */
    const char *dump[] = {browser, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                          "--disable-background-networking", "--disable-component-update", "--disable-sync",
                          user_data, "--dump-dom", uri, NULL};
    run = run_argv(dump);
    g_assert_cmpint(run.status, ==, 0);
    for (guint i = 0; i < G_N_ELEMENTS(sections); i++) {
        char *id = g_strdup_printf("<section id=\"%s\">", sections[i]);
        g_assert_nonnull(strstr(run.out, id));
        g_free(id);
    }
    run_clear(&run);
    g_free(uri);
    g_free(shot);
    g_free(user_data);
out:
    g_free(profile);
    g_free(png);
    g_free(out);
    g_free(dir);
    g_free(browser);
}

static void test_pdf(gconstpointer unused)
{
    char *browser = chromium(), *dir = fixture_dir("attacks"), *pdf = scratch("report.pdf");
    char *pdftotext = g_find_program_in_path("pdftotext"), *pdftoppm = g_find_program_in_path("pdftoppm");
    char *pages_dir = scratch("pages"), *prefix = g_build_filename(pages_dir, "page", NULL);
    JsonParser *json = json_load(dir);
    JsonObject *root = json_root(json), *capture = json_object_get_object_member(root, "capture");
    JsonArray *protocols = json_object_get_array_member(root, "protocols");
    JsonArray *flags = json_object_get_array_member(root, "flags");
    guint pages = 0, expected_pages;
    GHashTable *hosts = g_hash_table_new(g_str_hash, g_str_equal);
    Run run;

    if (!browser || !pdftotext || !pdftoppm) {
        skip("chromium or poppler-utils is not installed");
        goto out;
    }
    run = run_report(dir, "-o", pdf, NULL);
    g_assert_cmpstr(run.err, ==, "");
    g_assert_cmpint(run.status, ==, 0);
    run_clear(&run);

    /* the numbers of the tables, in the text of the PDF */
    const char *text_argv[] = {pdftotext, "-layout", pdf, "-", NULL};
    run = run_argv(text_argv);
    g_assert_cmpint(run.status, ==, 0);
    for (const char *const *key = (const char *const[]){"packets", "bytes", NULL}; *key; key++) {
        char *want = json_text(capture, *key);
        g_assert_nonnull(strstr(run.out, want));
        g_free(want);
    }
    for (guint i = 0; i < json_array_get_length(protocols); i++) {
        char *bytes = json_text(json_array_get_object_element(protocols, i), "bytes");
        g_assert_nonnull(strstr(run.out, bytes));
        g_free(bytes);
    }
    for (guint i = 0; i < json_array_get_length(flags); i++) {
        JsonObject *f = json_array_get_object_element(flags, i);
        char *threshold = json_text(f, "threshold");
        g_assert_nonnull(strstr(run.out, json_object_get_string_member(f, "rule")));
        g_assert_nonnull(strstr(run.out, threshold));
        g_hash_table_add(hosts, (gpointer)json_object_get_string_member(f, "host"));
        g_free(threshold);
    }
    /* one topic per page: its heading at the top of the page */
    char **texts = g_strsplit(run.out, "\f", -1);
    g_assert_nonnull(strstr(texts[0], "Summary"));
    for (char **p = texts; *p; p++)
        pages += **p != '\0';
    g_strfreev(texts);
    expected_pages = G_N_ELEMENTS(sections) + g_hash_table_size(hosts);
    g_assert_cmpuint(pages, >=, expected_pages);
    run_clear(&run);

    /* every page renders, and none is blank */
    g_mkdir_with_parents(pages_dir, 0755);
    const char *ppm_argv[] = {pdftoppm, "-r", "30", "-png", pdf, prefix, NULL};
    run = run_argv(ppm_argv);
    g_assert_cmpint(run.status, ==, 0);
    run_clear(&run);
    GDir *d = g_dir_open(pages_dir, 0, NULL);
    guint rendered = 0;
    for (const char *name; (name = g_dir_read_name(d));) {
        char *path = g_build_filename(pages_dir, name, NULL);
        double ink;
        guint levels;
        png_ink(path, &ink, &levels);
        g_assert_cmpfloat(ink, >, 0.002);
        rendered++;
        g_free(path);
    }
    g_dir_close(d);
    g_assert_cmpuint(rendered, ==, pages);
out:
    g_hash_table_unref(hosts);
    g_object_unref(json);
    g_free(prefix);
    g_free(pages_dir);
    g_free(pdftoppm);
    g_free(pdftotext);
    g_free(pdf);
    g_free(dir);
    g_free(browser);
}

/* ---- from tshark, with the freshly built plugin ---- */

#ifdef TRAFAN_PLUGIN_PATH
static gboolean tshark_ready;

static void test_tshark_end_to_end(gconstpointer unused)
{
    char *capture, *out_dir, *arg, *page_path;
    JsonParser *json;
    Page page;
    Run run;

    if (!tshark_ready) {
        skip("tshark cannot run the plugin here");
        return;
    }
    capture = g_build_filename(TRAFAN_SOURCE_DIR, "captures", "c2_beacon_tls_dns_slips.pcap", NULL);
    out_dir = tshark_scratch_dir("end-to-end");
    arg = g_strdup_printf("trafan,stat,out=%s", out_dir);
    const char *argv[] = {"-q", "-r", tshark_capture(capture), "-z", arg, NULL};
    TsharkResult t = tshark_run(argv);
    g_assert_cmpint(t.status, ==, 0);
    tshark_result_clear(&t);

    page_path = scratch("end-to-end.html");
    run = run_report(out_dir, "-o", page_path, NULL);
    g_assert_cmpstr(run.err, ==, "");
    g_assert_cmpint(run.status, ==, 0);
    json = json_load(out_dir);
    page = page_load(page_path);
    check_page(&page, json_root(json), 10);
    page_clear(&page);
    g_object_unref(json);
    run_clear(&run);
    g_free(page_path);
    g_free(arg);
    g_free(out_dir);
    g_free(capture);
}

static guint64 snapshot_packets(const char *dir)
{
    char *path = g_build_filename(dir, "report.json", NULL);
    JsonParser *parser = json_parser_new();
    guint64 packets = 0;

    if (json_parser_load_from_file(parser, path, NULL))
        packets = json_object_get_int_member(
            json_object_get_object_member(json_node_get_object(json_parser_get_root(parser)), "capture"),
            "packets");
    g_object_unref(parser);
    g_free(path);
    return packets;
}

/* live=N,out=DIR: DIR holds the capture so far while tshark still reads.
 * The capture comes through a pipe, half of it first. */
static void test_tshark_live_snapshots(gconstpointer unused)
{
    char *capture, *out_dir, *arg, *data;
    GError *error = NULL;
    gsize len;
    guint64 partial = 0;

    if (!tshark_ready) {
        skip("tshark cannot run the plugin here");
        return;
    }
    capture = g_build_filename(TRAFAN_SOURCE_DIR, "captures", "c2_beacon_tls_dns_slips.pcap", NULL);
    g_assert_true(g_file_get_contents(capture, &data, &len, NULL));
    out_dir = tshark_scratch_dir("live");
    arg = g_strdup_printf("trafan,stat,live=5,out=%s", out_dir);
    const char *args[] = {"-q", "-r", "-", "-z", arg, NULL};
    GPtrArray *argv = tshark_argv(args, FALSE);
    GSubprocessLauncher *launcher = g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_STDIN_PIPE
                                                              | G_SUBPROCESS_FLAGS_STDOUT_SILENCE
                                                              | G_SUBPROCESS_FLAGS_STDERR_SILENCE);
    g_subprocess_launcher_set_cwd(launcher, tshark_workdir());
    GSubprocess *tshark = g_subprocess_launcher_spawnv(launcher, (const char *const *)argv->pdata, &error);
    g_assert_no_error(error);
    GOutputStream *in = g_subprocess_get_stdin_pipe(tshark);

    g_assert_true(g_output_stream_write_all(in, data, len * 3 / 4, NULL, NULL, &error));
    g_output_stream_flush(in, NULL, NULL);
    for (guint tries = 0; tries < 300 && !partial; tries++) {
        g_usleep(100000);
        partial = snapshot_packets(out_dir);
    }
    g_test_message("snapshot while reading: %" G_GUINT64_FORMAT " packets", partial);
    g_assert_cmpuint(partial, >, 0);
    g_assert_cmpuint(partial, <, 1084);

    g_assert_true(g_output_stream_write_all(in, data + len * 3 / 4, len - len * 3 / 4, NULL, NULL, &error));
    g_output_stream_close(in, NULL, NULL);
    g_assert_true(g_subprocess_wait(tshark, NULL, &error));
    g_assert_no_error(error);
    g_assert_cmpint(g_subprocess_get_exit_status(tshark), ==, 0);
    g_assert_cmpuint(snapshot_packets(out_dir), ==, 1084);

    g_object_unref(tshark);
    g_object_unref(launcher);
    g_ptr_array_unref(argv);
    g_free(arg);
    g_free(out_dir);
    g_free(data);
    g_free(capture);
}
#endif

int main(int argc, char **argv)
{
    static const PageCase page_cases[] = {
        {"c2", NULL, NULL}, {"attacks", NULL, NULL}, {"attacks", "2", NULL},
        {"no-ip", NULL, "graph.dot: no hosts (no IP traffic)"},
    };
    static const char *const page_names[] = {"c2", "attacks", "attacks-top-2", "no-ip"};
    int status;

    g_test_init(&argc, &argv, NULL);
    workdir = g_dir_make_tmp("test-report-XXXXXX", NULL);
#ifdef TRAFAN_PLUGIN_PATH
    char *why = NULL;
    tshark_ready = tshark_setup(TRAFAN_PLUGIN_PATH, TRAFAN_WIRESHARK_VERSION, &why);
    g_free(why);
#endif

    for (guint i = 0; i < G_N_ELEMENTS(page_cases); i++) {
        char *path = g_strdup_printf("/report/page/%s", page_names[i]);
        add_case(path, &page_cases[i], test_page, TRUE);
        g_free(path);
    }
    add_case("/report/page/hostile-names", NULL, test_hostile_names, TRUE);
    add_case("/report/refresh", NULL, test_refresh, TRUE);
    for (guint i = 0; i < G_N_ELEMENTS(error_cases); i++) {
        char *path = g_strdup_printf("/report/error/%s", error_cases[i].name);
        add_case(path, &error_cases[i], test_error, TRUE);
        g_free(path);
    }
    add_case("/report/error/no-directory", NULL, test_no_directory, FALSE);
    add_case("/report/error/unwritable-output", NULL, test_unwritable_output, TRUE);
    for (guint i = 0; i < G_N_ELEMENTS(usage_cases); i++) {
        char *path = g_strdup_printf("/report/usage/%s", usage_cases[i].name);
        add_case(path, &usage_cases[i], test_usage, FALSE);
        g_free(path);
    }
    for (guint i = 0; i < G_N_ELEMENTS(series_cases); i++) {
        char *path = g_strdup_printf("/report/series/%s", series_cases[i].name);
        add_case(path, &series_cases[i], test_series, FALSE);
        g_free(path);
    }
    add_case("/report/text-helpers", NULL, test_text_helpers, FALSE);
    add_case("/report/watch", NULL, test_watch, TRUE);
    add_case("/report/browser", NULL, test_browser, TRUE);
    add_case("/report/pdf", NULL, test_pdf, TRUE);
#ifdef TRAFAN_PLUGIN_PATH
    add_case("/report/tshark/end-to-end", NULL, test_tshark_end_to_end, TRUE);
    add_case("/report/tshark/live-snapshots", NULL, test_tshark_live_snapshots, FALSE);
#endif

    status = g_test_run();
    if (status == 0 && cases_run && cases_skipped == cases_run)
        status = 77;
#ifdef TRAFAN_PLUGIN_PATH
    tshark_teardown();
#endif
    if (!g_getenv("TRAFAN_KEEP_SCRATCH")) {
        char *rm[] = {(char *)"rm", (char *)"-rf", workdir, NULL};
        g_spawn_sync(NULL, rm, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, NULL, NULL, NULL);
    }
    g_free(workdir);
    return status;
}
