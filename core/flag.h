/* flag.h — a suspicious-host finding, as every report format shows it.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef TRAFAN_FLAG_H
#define TRAFAN_FLAG_H

#include "packet.h"

G_BEGIN_DECLS

typedef enum { TRAFAN_ROLE_SOURCE, TRAFAN_ROLE_TARGET } TrafanRole;

/* A peer named by a flag: a victim of a source, or a source of a target. */
typedef struct {
    TrafanAddress address;
    guint64       count;
} TrafanFlagPeer;

typedef struct {
    TrafanAddress host;
    TrafanRole    role;
    const char   *rule;         /* static string: "port_scan", "syn_flood", ... */
    gint64        start_ns;     /* absolute; reports show them relative */
    gint64        end_ns;
    double        observed;     /* what was measured ... */
    double        threshold;    /* ... against what */
    gint64        window_ns;    /* over which window (0 = whole capture) */
    gboolean      approximate;  /* observed is an estimate (sketch past the exact cap) */
    GArray       *peers;        /* TrafanFlagPeer, largest count first */
    guint64       peers_total;  /* distinct peers, of which `peers` lists the top */
    char         *filter;       /* display filter selecting the offending packets */
    char         *summary;      /* one human sentence */
} TrafanFlag;

TrafanFlag *trafan_flag_new(const TrafanAddress *host, TrafanRole role, const char *rule);
void        trafan_flag_free(TrafanFlag *flag);
const char *trafan_role_name(TrafanRole role);

G_END_DECLS

#endif
