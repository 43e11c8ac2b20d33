/* fuzz_graph.c — libFuzzer target: any bytes as graph.dot, through reading,
 * folding, the ring and rendering to SVG.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "hostgraph.h"

#include <graphviz/gvc.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static GVC_t *gvc;
static FILE *sink;

static int quiet(char *message)
{
    (void)message;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* cgraph's lexer keeps its buffer and state between reads; after a syntax
 * error Graphviz 2.42 leaves them half-used, so that the next input keeps
 * growing the buffer (to gigabytes over a million inputs).  A program reads
 * one graph; the fuzzer reads many, so it resets the lexer as cgraph's own
 * parser does when it gives up on a file. */
extern void aglexbad(void);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = g_strndup((const char *)data, size);
    Agraph_t *g;
    TgInput *in;

    if (!gvc) {
        agseterrf(quiet);
        gvc = gvContext();
        sink = fopen("/dev/null", "w");
    }
    g = agmemread(text);
    g_free(text);
    if (!g) {
        aglexbad();
        return 0;
    }
    in = tg_input_load(g, NULL);
    agclose(g);
    if (!in)
        return 0;

    /* the first byte picks the options, so that folding and focus run too */
    guint pick = size ? data[0] : 0;
    TgOptions opts = {
        .max_nodes = pick & 1 ? 3 : 300,
        .labels = (pick >> 1) % 3,
        .focus = pick & 8 ? g_array_index(in->hosts, TgHost, 0).name : NULL,
    };
    TgView *view = tg_view_new(in, &opts, NULL);
    if (view) {
        tg_ring_place(view);
        Agraph_t *picture = tg_draw(view, TRUE);
        if (gvLayout(gvc, picture, "nop2") == 0) {
            gvRender(gvc, picture, "svg", sink);
            gvFreeLayout(gvc, picture);
        }
        agclose(picture);
        tg_view_free(view);
    }
    tg_input_free(in);
    return 0;
}
