/* flood.h — the verdict the three flood rules share: one dominant source
 * is flagged as the source, many (spoofed or reflecting) sources flag the
 * target with its top sources.  Each rule passes its own options.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef TRAFAN_FLOOD_H
#define TRAFAN_FLOOD_H

#include "rule.h"

typedef struct {
    const TrafanAddress  *target;
    const TrafanDistinct *sources;      /* with packet counts */
    const TrafanTally    *top;          /* the top sources of the flood, if not those of
                                         * `sources`; n_top of them */
    guint                 n_top;
    gboolean              many;         /* a flood from many sources is possible: spoofed or
                                         * reflected (otherwise only one source is judged) */
    const TrafanDistinct *ports;        /* target ports hit, NULL for ICMP */
    guint64     packets;                /* toward the target in the window */
    guint64     excess;                 /* of which count as flood */
    gint64      first, last;
    gboolean    reflection;             /* answers to requests never sent */
    const char *what;                   /* "SYNs" */
    const char *match;                  /* display filter test for those packets */
    double      rate_many, rate_one;    /* thresholds, per second */
    double      dominance;              /* share that makes one source the flooder */
    guint       scan_ports;             /* one source over this many ports is a scan */
    gboolean    group;                  /* a group address by its link layer */
    double      rate_group;             /* one source toward a broadcast or multicast
                                         * address (no victim to flag); 0: not judged */
} TrafanFlood;

void trafan_flood_judge(TrafanRuleCtx *ctx, const TrafanFlood *f);

#endif
