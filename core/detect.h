/* detect.h — suspicious-host detection over a stream of TrafanPackets.
 *
 * Rules (their names appear in flags and reports):
 *   port_scan, host_sweep              one source probing many ports / hosts
 *   syn_flood, icmp_flood, udp_flood   packets toward one target at a high rate
 *   packet_rate, bandwidth             classic per-source volume rules
 *   bandwidth_spike                    an interval far above the recent median
 *   beacon                             check-ins at near-constant intervals
 *   brute_force                        many short logins to one service
 *
 * Each rule is one file in core/rules/ (see rule.h).
 *
 * Windows run on packet time (abs_ns), never on the wall clock.  Windowed
 * rules use epoch-aligned tumbling windows in two phases offset by half a
 * window (so any burst shorter than half a window lies wholly inside one)
 * and are judged when a window closes, on its final counts.  That makes the
 * verdicts independent of packet order inside a window and the state of two
 * consecutive slices mergeable into exactly the state of the whole.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef TRAFAN_DETECT_H
#define TRAFAN_DETECT_H

#include <stddef.h>
#include "packet.h"
#include "flag.h"

G_BEGIN_DECLS

typedef struct TrafanDetector TrafanDetector;

typedef enum { TRAFAN_PRESET_DEFAULT, TRAFAN_PRESET_SEED } TrafanDetectPreset;

/* The engine's options and, laid out by the rule registry, every rule's
 * own; trafan_detect_options() describes each one.  A plain value: copy it
 * with trafan_detect_config_copy() (the allowlist is owned). */
#define TRAFAN_RULE_CONFIG_WORDS 512
#define TRAFAN_OPTION_TEXT_MAX   256     /* a rule's list option */
typedef struct {
    guint   preset;                 /* TrafanDetectPreset */
    char   *allowlist;              /* addresses / CIDR prefixes never flagged as source */
    guint   exact_cap;
    guint   max_tracked;
    guint   max_state_mb;
    GArray *allow_prefixes;         /* parsed allowlist (private layout) */
    guint64 rules[TRAFAN_RULE_CONFIG_WORDS];    /* the rules' configs */
} TrafanDetectConfig;

typedef enum {
    TRAFAN_OPT_UINT,                /* guint */
    TRAFAN_OPT_DOUBLE,              /* double */
    TRAFAN_OPT_BOOL,                /* gboolean (none at present) */
    TRAFAN_OPT_STRING,              /* char *, owned by the config */
    TRAFAN_OPT_ENUM,                /* guint index into enum_values */
    TRAFAN_OPT_PORTS,               /* char[TRAFAN_OPTION_TEXT_MAX]: ports separated by ; | , or spaces */
} TrafanOptType;

typedef struct {
    const char        *name;        /* preference "trafan.NAME", -z "NAME=VALUE" */
    const char        *title;
    const char        *description; /* one line: default and why */
    TrafanOptType      type;
    size_t             offset;      /* into TrafanDetectConfig */
    const char        *default_text;
    const char *const *enum_values; /* NULL-terminated, TRAFAN_OPT_ENUM only */
    double             min_value;   /* valid range, UINT and DOUBLE only */
    double             max_value;
    const char        *seed_text;   /* value under preset=seed, NULL: the default */
    const char        *rule;        /* the rule it belongs to, NULL: the engine's */
} TrafanDetectOption;

/* The option table, in a stable order ("preset" first). */
const TrafanDetectOption *trafan_detect_options(guint *n);

void     trafan_detect_config_init(TrafanDetectConfig *cfg);          /* preset=default */
/* Validate and set one option; a preset resets every threshold to its
 * values, so later options override it.  On error cfg is unchanged and the
 * message names the option and its valid range or values. */
gboolean trafan_detect_config_set(TrafanDetectConfig *cfg, const char *name,
                                  const char *value, GError **error);
void     trafan_detect_config_clear(TrafanDetectConfig *cfg);
void     trafan_detect_config_copy(TrafanDetectConfig *to, const TrafanDetectConfig *from);
/* An option's value as text ("15", "0.2", "22;21"), NULL if no such option. */
char    *trafan_detect_config_get(const TrafanDetectConfig *cfg, const char *name);
/* Every option as "name=value" lines in table order: what shaped a run. */
char    *trafan_detect_config_describe(const TrafanDetectConfig *cfg);

TrafanDetector  *trafan_detector_new(const TrafanDetectConfig *cfg);
void             trafan_detector_free(TrafanDetector *d);
/* A detector that will be neither saved nor merged (one tshark pass, the
 * GUI): its first windows need not be kept once judged, which halves its
 * memory while the first of a long window's phases has closed. */
void             trafan_detector_set_one_pass(TrafanDetector *d);
/* O(1) amortised.  A timestamp earlier than one already seen counts as the
 * latest time seen. */
void             trafan_detector_add(TrafanDetector *d, const TrafanPacket *pkt);
/* Flags raised since the last call (live alerts).  The array and the flags
 * belong to d; the array is valid until the next call, the flags until
 * trafan_detector_free() (they keep being extended). */
GPtrArray       *trafan_detector_take_new(TrafanDetector *d);
/* Judge the windows still open and the beacons so far, so that take_new()
 * also returns flags whose threshold is already crossed (live alerts).  Changes no merged state;
 * the same flag is then not returned again when its window closes. */
void             trafan_detector_peek(TrafanDetector *d);
/* End of input: close the open windows, judge the end-of-capture rules
 * (bandwidth_spike, beacon) and return every flag (TrafanFlag *, owned by d)
 * sorted by start time, rule and host.  Later calls return the same array. */
const GPtrArray *trafan_detector_finish(TrafanDetector *d);
/* Fold in the state of the slice that follows d's (same options, neither
 * finished).  Exact when later's packets are not older than d's. */
gboolean         trafan_detector_merge(TrafanDetector *d, const TrafanDetector *later,
                                       GError **error);
/* The whole mergeable state (windows, sketches, series, findings, the
 * options that shaped it, a format version) as a GVariant, before
 * finish(); the same state gives the same bytes.  load() refuses a state of
 * another version or made with other options (naming them), and anything
 * malformed; pass untrusted data through g_variant_get_normal_form() first. */
GVariant        *trafan_detector_save(const TrafanDetector *d);
TrafanDetector  *trafan_detector_load(const TrafanDetectConfig *cfg, GVariant *state, GError **error);
/* Bytes the windows, sketches and series hold now (an estimate). */
gsize            trafan_detector_state_bytes(const TrafanDetector *d);
/* Keys rules could not track (max_tracked, max_state_mb): their flags say
 * approximate. */
guint64          trafan_detector_refused_keys(const TrafanDetector *d);
/* What the state holds against its budget (max_state_mb), for reports. */
typedef struct {
    guint64 state_bytes;
    guint64 budget_bytes;
    guint64 refused_keys;
} TrafanDetectorUsage;
TrafanDetectorUsage trafan_detector_usage(const TrafanDetector *d);
/* Distinct (host, role, rule) findings so far. */
guint            trafan_detector_open_flags(const TrafanDetector *d);

G_END_DECLS

#endif
