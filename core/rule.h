/* rule.h — what a detection rule is, and the machinery it is written with.
 *
 * A rule is a declaration (name, anchor, options with defaults), an observe
 * function that folds the events it asked for into aggregates, and a judge
 * that turns one aggregate into a verdict.  It lives in one file under
 * core/rules/ and is listed once in core/rules/registry.c.  Everything else
 * — option tables and preferences, epoch-aligned windows in two phases,
 * distinct counters and sketches, dispatch, folding verdicts into flags,
 * merging and saving states — lives once, in detect.c and distinct.c.
 *
 * Windowed rules keep one aggregate per key (TrafanKey) per window; the
 * aggregate is described field by field (TrafanAggField), so creating,
 * freeing, merging, saving and measuring it is the engine's job.  Series
 * rules (bandwidth_spike, beacon) keep their own whole-capture state and
 * bring their own hooks for it.
 *
 * A rule reads only its own options: ctx->config points to its config
 * struct, laid out as its option table says.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef TRAFAN_RULE_H
#define TRAFAN_RULE_H

#include <stddef.h>
#include "detect.h"
#include "distinct.h"

G_BEGIN_DECLS

#define TRAFAN_NS_PER_S   1e9
#define TRAFAN_TOP_PEERS  5

/* ------------------------------------------------------------------ */
/* Events: each packet is classified once, then handed to the rules that
 * asked for its kind.  Headers quoted inside ICMP errors are no traffic. */

typedef enum {
    TRAFAN_EV_FRAME,            /* every frame (src/dst NULL without IP) */
    TRAFAN_EV_TCP,              /* every TCP segment */
    TRAFAN_EV_UDP,              /* every UDP datagram */
    TRAFAN_EV_UDP_FRAGMENT,     /* a UDP fragment without its header (no ports) */
    TRAFAN_EV_ICMP,             /* an ICMP or ICMPv6 message that is not an error */
    TRAFAN_N_EVENTS
} TrafanEventKind;

#define TRAFAN_EVENT_BIT(kind) (1u << (kind))

typedef struct {
    TrafanEventKind      kind;
    gint64               t;             /* packet time; never earlier than a previous event */
    const TrafanAddress *src, *dst;     /* normalised (trafan_norm) */
    guint8               proto;         /* 6, 17, 1 or 58 */
    guint16              tcp_flags;
    guint16              sport, dport;
    guint8               icmp_type;
    guint32              bytes;         /* the frame's length */
    gboolean             udp_response;  /* UDP from a service port to a client port */
    gboolean             link_group;    /* to a link-layer broadcast or multicast address */
} TrafanEvent;

/* ------------------------------------------------------------------ */
/* Aggregates, field by field */

typedef enum {
    TRAFAN_AGG_COUNT,           /* guint64, summed */
    TRAFAN_AGG_FIRST,           /* gint64, minimum (starts at G_MAXINT64) */
    TRAFAN_AGG_LAST,            /* gint64, maximum (starts at G_MININT64) */
    TRAFAN_AGG_BITS,            /* guint64, or-ed */
    TRAFAN_AGG_DISTINCT,        /* TrafanDistinct, merged */
    TRAFAN_AGG_COUNTS,          /* TrafanCounts *, a count-min sketch made on first use */
} TrafanAggKind;

typedef struct {
    TrafanAggKind kind;
    guint16       offset;
    guint16       n;            /* an array of n such fields */
} TrafanAggField;

typedef struct {
    gsize                 size;
    const TrafanAggField *fields;
    guint                 n_fields;
} TrafanAggClass;

#define TRAFAN_AGG_FIELD(kind, type, member) \
    { TRAFAN_AGG_##kind, offsetof(type, member), sizeof(((type *)0)->member) / \
      (TRAFAN_AGG_##kind == TRAFAN_AGG_DISTINCT ? sizeof(TrafanDistinct) : sizeof(guint64)) }
#define TRAFAN_AGG_CLASS(type, fields) { sizeof(type), fields, G_N_ELEMENTS(fields) }

/* ------------------------------------------------------------------ */
/* Verdicts */

/* One verdict: a window (or the capture) in which a rule tripped.  The
 * engine frees the three strings. */
typedef struct {
    TrafanAddress host;
    TrafanRole    role;
    gint64        start, end;
    double        observed, threshold;
    gboolean      approximate;
    TrafanTally   peers[TRAFAN_TOP_PEERS];
    guint         n_peers;
    guint64       peers_total;
    gint64        window_ns;    /* set by the engine for windowed rules */
    char         *detail;       /* the sentence after the host's address */
    char         *clause;       /* display filter for exactly this verdict */
    char         *broad;        /* a wider filter, if clauses pile up */
} TrafanVerdict;

/* ------------------------------------------------------------------ */
/* The rule */

typedef struct TrafanRuleCtx TrafanRuleCtx;
typedef struct TrafanRule TrafanRule;

struct TrafanRuleCtx {
    const TrafanRule *rule;
    const void       *config;   /* the rule's own options */
    gpointer          state;    /* series rules: their state */
    gpointer          data;     /* what setup() derived from the options */
    gint64            window_ns;/* windowed rules: the window's length */
    TrafanDetector   *detector; /* for the engine's helpers only */
    guint             index;    /* the rule's place in the registry */
};

typedef struct {
    gpointer (*new_state)(const TrafanRuleCtx *ctx);
    void     (*free_state)(gpointer state);
    /* Fold `later`, the state of the slice that follows. */
    void     (*merge)(TrafanRuleCtx *ctx, gpointer state, gconstpointer later);
    /* Judge the whole series (end of capture), or what is known so far
     * (peek: the engine then only alerts). */
    void     (*judge)(TrafanRuleCtx *ctx, gboolean so_far);
    gsize    (*bytes)(gconstpointer state);
    GVariant *(*save)(gconstpointer state);
    gboolean (*load)(TrafanRuleCtx *ctx, gpointer state, GVariant *saved, GError **error);
} TrafanSeriesHooks;

struct TrafanRule {
    const char               *name;         /* in flags and reports */
    const char               *anchor;       /* whose rule it follows (README) */
    const TrafanDetectOption *options;      /* offsets into the rule's config */
    guint                     n_options;
    gsize                     config_size;
    guint                     events;       /* TRAFAN_EVENT_BIT()s it observes */
    void (*observe)(TrafanRuleCtx *ctx, const TrafanEvent *ev);
    /* Optional: derive what observe needs from the options, once (e.g. a
     * port set); the engine frees it with g_free(). */
    gpointer (*setup)(const TrafanRuleCtx *ctx);
    /* Appended to the summary of a source flag with several peers. */
    const char               *source_peers; /* e.g. "destinations in all" */

    /* Windowed rules: the option holding the window's length, the
     * aggregate, and its judge (called when a window closes). */
    const char               *window_option;
    const TrafanAggClass     *agg;
    void (*judge)(TrafanRuleCtx *ctx, const TrafanKey *key, gconstpointer agg);

    /* Series rules. */
    const TrafanSeriesHooks  *series;
};

/* The registry (core/rules/registry.c). */
extern const TrafanRule *const trafan_rules[];
extern const guint trafan_n_rules;

/* Option declarations: the option's name is the config field's name. */
#define TRAFAN_OPTION(cfgtype, field, otype, title, desc, def, lo, hi) \
    { #field, title, desc, TRAFAN_OPT_##otype, offsetof(cfgtype, field), def, NULL, lo, hi, NULL, NULL }
#define TRAFAN_OPTION_SEED(cfgtype, field, otype, title, desc, def, seed, lo, hi) \
    { #field, title, desc, TRAFAN_OPT_##otype, offsetof(cfgtype, field), def, NULL, lo, hi, seed, NULL }
/* A list of ports, a char[TRAFAN_OPTION_TEXT_MAX] field (configs copy by value). */
#define TRAFAN_OPTION_PORTS(cfgtype, field, title, desc, def) \
    { #field, title, desc, TRAFAN_OPT_PORTS, offsetof(cfgtype, field), def, NULL, 0, 0, NULL, NULL }

/* ------------------------------------------------------------------ */
/* What observe and judge may call */

/* The aggregates of `key` in the open windows of both phases (up to 2;
 * fewer when the rule's key cap is reached). */
guint    trafan_slots(TrafanRuleCtx *ctx, const TrafanKey *key, gpointer out[2]);
#define TRAFAN_EACH_SLOT(ctx, key, type, var) \
    for (gpointer _s[2], *_p = _s, *_e = _s + trafan_slots(ctx, key, _s); _p < _e; _p++) \
        for (type *var = *_p; var; var = NULL)

/* The key every window has whatever the traffic (all zero): its aggregate
 * holds window-wide tallies such as count-min sketches. */
extern const TrafanKey trafan_window_key;
/* While judging: the aggregate of `key` in the window being judged (NULL
 * if none), e.g. trafan_window_key's. */
gconstpointer trafan_judged_agg(const TrafanRuleCtx *ctx, const TrafanKey *key);

/* Hand a verdict to the engine (which takes its strings). */
void     trafan_emit(TrafanRuleCtx *ctx, TrafanVerdict *v);
guint    trafan_exact_cap(const TrafanRuleCtx *ctx);
/* May a series rule holding current_keys keys track one more (its
 * max_tracked and the detector's max_state_mb, which does not refuse a rule
 * holding a few)?  A refusal is counted and makes the rule's flags
 * approximate. */
gboolean trafan_rule_may_track(TrafanRuleCtx *ctx, guint current_keys);
gint64   trafan_ref_ns(const TrafanRuleCtx *ctx);  /* abs - rel of the first packet */

/* Multicast and limited broadcast (subnet broadcasts show as link_group). */
gboolean trafan_is_group(const TrafanAddress *a);
/* UDP from a service port (the usual amplification vectors, or a port
 * below 1024 answering a client port): a response. */
gboolean trafan_udp_is_response(guint16 sport, guint16 dport);
/* Is port in a list of ports such as "22;21;23" (a rule's string option)?
 * For the packet path, make a TrafanPortSet once instead. */
gboolean trafan_port_listed(const char *list, guint16 port);
typedef struct { guint64 bits[65536 / 64]; } TrafanPortSet;
TrafanPortSet *trafan_port_set_new(const char *list);
static inline gboolean
trafan_port_set_has(const TrafanPortSet *set, guint16 port)
{
    return (set->bits[port / 64] >> (port % 64)) & 1;
}

/* Text, locale-independent. */
const char *trafan_addr_text(const TrafanAddress *a, char buf[TRAFAN_ADDRSTRLEN]);
const char *trafan_ipf(const TrafanAddress *a);                 /* "ip" or "ipv6" */
char       *trafan_fmt_number(char *buf, size_t size, double v);
char       *trafan_fmt_secs(char buf[48], gint64 ns);           /* "3.2 s" */
char       *trafan_fmt_bytes(char buf[48], double bytes);       /* "1.6 MB" */
gint64      trafan_seconds_ns(double s);
gint64      trafan_floor_div(gint64 a, gint64 b);

/* Mean and coefficient of variation from n values' sum and sum of squares. */
double      trafan_cv(double n, double sum, double sumsq, double *mean);

G_END_DECLS

#endif
