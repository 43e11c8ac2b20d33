/* trafan-graph — draw trafan's conversation graph (graph.dot) as a ring of
 * hosts, with flagged hosts and their neighbourhood highlighted.
 *
 * Exit status: 0 on success, 1 on bad usage, 2 when the input cannot be
 * drawn or the output cannot be written.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "hostgraph.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <glib/gstdio.h>
#include <graphviz/gvc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef TRAFAN_VERSION
#define TRAFAN_VERSION "unknown"
#endif

#define EXIT_USAGE 1
#define EXIT_INPUT 2

static const char *cmd = "trafan-graph";

static const char usage_text[] =
    "Usage: %s [options] [INPUT.dot|-] -o OUTPUT.{svg,png,pdf,dot}\n"
    "Draw the conversation graph written by trafan (graph.dot).\n"
    "\n"
    "  -o, --output FILE      write the picture to FILE ('-' for standard output)\n"
    "  -T, --format FORMAT    output format (svg, png, pdf, dot, ...);\n"
    "                         default: from the extension of FILE\n"
    "  -l, --layout LAYOUT    circular (default), twopi, circo or neato\n"
    "  -n, --max-nodes N      draw at most N hosts, fold the rest by subnet\n"
    "                         (default 300, 0 for no limit)\n"
    "  -f, --focus HOST       draw HOST's neighbourhood up to 2 hops, with a\n"
    "                         table of its conversations\n"
    "  -L, --labels KIND      address (default), packets or bytes\n"
    "  -t, --title TEXT       title of the picture\n"
    "  -h, --help             show this help and exit\n"
    "  -V, --version          show the version and exit\n";

static void usage(FILE *to)
{
    fprintf(to, usage_text, cmd);
}

static G_GNUC_NORETURN G_GNUC_PRINTF(1, 2) void usage_error(const char *fmt, ...)
{
    va_list args;
    fprintf(stderr, "%s: ", cmd);
    va_start(args, fmt);
    vfprintf(stderr, fmt, args);
    va_end(args);
    fprintf(stderr, "\nTry '%s --help' for more information.\n", cmd);
    exit(EXIT_USAGE);
}

static G_GNUC_NORETURN G_GNUC_PRINTF(1, 2) void fail(const char *fmt, ...)
{
    va_list args;
    fprintf(stderr, "%s: ", cmd);
    va_start(args, fmt);
    vfprintf(stderr, fmt, args);
    va_end(args);
    fputc('\n', stderr);
    exit(EXIT_INPUT);
}

/* Graphviz reports through this, in pieces ("Error", ": ", text): keep
 * them for our own one-line message, and print none of its warnings. */
static GString *graphviz_log;

static int catch_graphviz_message(char *piece)
{
    if (!graphviz_log)
        graphviz_log = g_string_new(NULL);
    if (graphviz_log->len < 4096)
        g_string_append(graphviz_log, piece);
    return 0;
}

/* The first error Graphviz reported, on one line. */
static const char *graphviz_message(void)
{
    static char line[512];
    const char *error = graphviz_log ? strstr(graphviz_log->str, "Error: ") : NULL;

    if (!error)
        return "unknown error";
    g_strlcpy(line, error + strlen("Error: "), sizeof line);
    line[strcspn(line, "\n")] = '\0';
    g_strstrip(line);
    return line;
}

typedef struct {
    const char *input, *output, *format, *layout;
    TgOptions graph;
} Options;

static void parse_args(int argc, char **argv, Options *opts)
{
    static const struct option longopts[] = {
        {"output", required_argument, NULL, 'o'},  {"format", required_argument, NULL, 'T'},
        {"layout", required_argument, NULL, 'l'},  {"max-nodes", required_argument, NULL, 'n'},
        {"focus", required_argument, NULL, 'f'},   {"labels", required_argument, NULL, 'L'},
        {"title", required_argument, NULL, 't'},   {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},       {NULL, 0, NULL, 0},
    };
    int c;

    *opts = (Options){.input = "-", .layout = "circular", .graph = {.max_nodes = 300}};
    while ((c = getopt_long(argc, argv, "o:T:l:n:f:L:t:hV", longopts, NULL)) != -1) {
        switch (c) {
        case 'o': opts->output = optarg; break;
        case 'T': opts->format = optarg; break;
        case 'l':
            if (strcmp(optarg, "circular") && strcmp(optarg, "twopi") && strcmp(optarg, "circo")
                && strcmp(optarg, "neato"))
                usage_error("unknown layout '%s' (circular, twopi, circo or neato)", optarg);
            opts->layout = optarg;
            break;
        case 'n': {
            guint64 n;
            if (!g_ascii_string_to_unsigned(optarg, 10, 0, 1000000, &n, NULL))
                usage_error("--max-nodes wants a number from 0 to 1000000, not '%s'", optarg);
            opts->graph.max_nodes = (guint)n;
            break;
        }
        case 'f': opts->graph.focus = optarg; break;
        case 'L':
            if (strcmp(optarg, "address") == 0)
                opts->graph.labels = TG_LABEL_ADDRESS;
            else if (strcmp(optarg, "packets") == 0)
                opts->graph.labels = TG_LABEL_PACKETS;
            else if (strcmp(optarg, "bytes") == 0)
                opts->graph.labels = TG_LABEL_BYTES;
            else
                usage_error("unknown label kind '%s' (address, packets or bytes)", optarg);
            break;
        case 't': opts->graph.title = optarg; break;
        case 'h': usage(stdout); exit(EXIT_SUCCESS);
        case 'V': printf("%s %s\n", cmd, TRAFAN_VERSION); exit(EXIT_SUCCESS);
        default:
            fprintf(stderr, "Try '%s --help' for more information.\n", cmd);
            exit(EXIT_USAGE);
        }
    }
    if (optind < argc)
        opts->input = argv[optind++];
    if (optind < argc)
        usage_error("one input at most, '%s' is extra", argv[optind]);
    if (!opts->output)
        usage_error("no output file: give one with -o");
    if (!opts->format) {
        const char *dot = strrchr(opts->output, '.');
        if (!dot || strchr(dot, '/') || !dot[1])
            usage_error("cannot tell the format of '%s': name it .svg, .png, .pdf or .dot, or use -T",
                        opts->output);
        opts->format = g_ascii_strdown(dot + 1, -1);
    }
}

static Agraph_t *read_input(const char *path)
{
    FILE *in = strcmp(path, "-") ? fopen(path, "rb") : stdin;
    Agraph_t *g;

    if (!in)
        fail("cannot open %s: %s", path, g_strerror(errno));
    g = agread(in, NULL);
    if (!g) {
        gboolean empty = graphviz_log == NULL || !strstr(graphviz_log->str, "Error: ");
        if (ferror(in))
            fail("cannot read %s: %s", path, g_strerror(errno));
        if (empty)
            fail("%s: no graph in the input", path);
        fail("%s: not a DOT graph (%s)", path, graphviz_message());
    }
    if (in != stdin)
        fclose(in);
    return g;
}

/* Render into a temporary file beside the output, then rename it into place:
 * a failed run leaves no half-written picture. */
static void render_atomically(GVC_t *gvc, Agraph_t *g, const char *format, const char *path)
{
    char *dir, *tmp;
    FILE *out;
    int fd, rc;

    if (strcmp(path, "-") == 0) {
        if (gvRender(gvc, g, format, stdout) != 0)
            usage_error("cannot render format '%s': %s", format, graphviz_message());
        if (fflush(stdout) != 0)
            fail("cannot write the picture: %s", g_strerror(errno));
        return;
    }
    dir = g_path_get_dirname(path);
    tmp = g_build_filename(dir, ".trafan-graph-XXXXXX", NULL);
    fd = g_mkstemp_full(tmp, O_RDWR, 0666);      /* the umask applies */
    if (fd < 0)
        fail("cannot write in %s: %s", dir, g_strerror(errno));
    out = fdopen(fd, "wb");
    rc = out ? gvRender(gvc, g, format, out) : -1;
    if (rc == 0 && (fflush(out) != 0 || ferror(out) || fsync(fd) != 0))
        rc = -2;
    if (out)
        fclose(out);
    else
        close(fd);
    if (rc == 0 && g_rename(tmp, path) != 0)
        rc = -3;
    if (rc != 0) {
        int saved = errno;
        g_unlink(tmp);
        if (rc == -1)
            usage_error("cannot render format '%s': %s", format, graphviz_message());
        fail("cannot write %s: %s", path, g_strerror(saved));
    }
    g_free(tmp);
    g_free(dir);
}

int main(int argc, char **argv)
{
    Options opts;
    GError *error = NULL;
    Agraph_t *input, *picture;
    TgInput *in;
    TgView *view;
    GVC_t *gvc;
    gboolean ring;

    parse_args(argc, argv, &opts);
    agseterrf(catch_graphviz_message);
    gvc = gvContext();

    input = read_input(opts.input);
    in = tg_input_load(input, &error);
    agclose(input);
    if (!in)
        fail("%s: %s", opts.input, error->message);
    view = tg_view_new(in, &opts.graph, &error);
    if (!view)
        fail("%s: %s", opts.input, error->message);

    ring = strcmp(opts.layout, "circular") == 0;
    if (ring)
        tg_ring_place(view);
    picture = tg_draw(view, ring);
    /* nop2: positions and edge routes are final, as with neato -n2 */
    if (gvLayout(gvc, picture, ring ? "nop2" : opts.layout) != 0)
        fail("layout failed: %s", graphviz_message());
    render_atomically(gvc, picture, opts.format, opts.output);

    gvFreeLayout(gvc, picture);
    agclose(picture);
    tg_view_free(view);
    tg_input_free(in);
    return gvFreeContext(gvc) ? EXIT_INPUT : EXIT_SUCCESS;
}
