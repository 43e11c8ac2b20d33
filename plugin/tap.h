/* tap.h — turning Wireshark's taps into TrafanPacket records.
 *
 * One listener per tap (ip, ipv6, tcp, udp) fills a record for the frame
 * being tapped; the frame tap, queued last by the frame dissector, hands the
 * finished record on.  None of them needs the protocol tree.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef TRAFAN_TAP_H
#define TRAFAN_TAP_H

#include <glib.h>
#include <wsutil/nstime.h>
#include "packet.h"

typedef struct TrafanTap TrafanTap;

typedef void (*TrafanPacketFunc)(const TrafanPacket *pkt, gpointer user_data);
typedef void (*TrafanTapFunc)(gpointer user_data);

typedef struct {
    TrafanPacketFunc packet;    /* a frame that passed the filter; NULL: the
                                   caller owns a frame listener of its own and
                                   calls trafan_tap_frame() from it */
    TrafanTapFunc    reset;     /* Wireshark restarts the tap (GUI reload) */
    TrafanTapFunc    draw;      /* show results */
    TrafanTapFunc    finish;    /* the tap is removed: free user_data */
} TrafanTapCallbacks;

/* Register the listeners.  With need_tree, Wireshark builds a protocol tree
 * for every frame (slower; see tap.c).  NULL and *error set if the filter is
 * invalid. */
TrafanTap *trafan_tap_start(const char *filter, gboolean need_tree, const TrafanTapCallbacks *callbacks,
                            gpointer user_data, char **error);
void       trafan_tap_stop(TrafanTap *tap);
/* Relative times count from this absolute time instead of the first frame:
 * every slice of a capture then counts as the whole does. */
void       trafan_tap_set_time_ref(TrafanTap *tap, gint64 time_ref_ns);

/* A capture's epoch base (see TrafanPacket.epoch_base_s), chosen at its
 * first frame. */
typedef struct {
    gboolean chosen;
    gint64   epoch_s;
    gboolean has_time_ref;      /* relative times from time_ref_ns, not the first frame */
    gint64   time_ref_ns;
} TrafanTimeBase;

/* Is the frame sent to a link-layer broadcast or multicast address? */
gboolean trafan_link_group(const packet_info *pinfo);

/* A frame's abs_ns and rel_ns (and epoch_base_s) as the core counts them. */
void trafan_time_set(TrafanTimeBase *base, TrafanPacket *pkt, const nstime_t *abs, const nstime_t *rel);

/* The frame went to a link-layer broadcast or multicast address. */
struct _packet_info;
gboolean trafan_link_group(const struct _packet_info *pinfo);

/* For a caller with its own "frame" listener (stats_tree): the finished
 * record of this frame, valid until the next frame. */
struct _packet_info;
const TrafanPacket *trafan_tap_frame(TrafanTap *tap, struct _packet_info *pinfo);

#endif
