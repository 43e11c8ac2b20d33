/* volume.h — what packet_rate and bandwidth both count per source: the
 * engine shares their windows when their lengths are equal (the default).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef TRAFAN_VOLUME_H
#define TRAFAN_VOLUME_H

#include "rule.h"

/* Key (source). */
typedef struct {
    guint64        packets, bytes;
    TrafanDistinct peers;       /* destinations, with packets */
    gint64         first, last;
} TrafanVolume;

extern const TrafanAggClass trafan_volume_class;
void trafan_volume_observe(TrafanRuleCtx *ctx, const TrafanEvent *ev);
/* A source verdict on a volume; takes detail. */
void trafan_volume_emit(TrafanRuleCtx *ctx, const TrafanKey *key, const TrafanVolume *a,
                        double observed, double threshold, char *detail);

#endif
