/* state.h — trafan's whole mergeable state in a file (`-z trafan,stat,state=FILE`).
 *
 * A state file is one GVariant, serialised little-endian:
 *
 *   (s q v)   magic "trafan-state", format version, body
 *   body, version 1:  (a{sv} a{sv} v v)
 *     options   every option that shaped the state: interval (s, as
 *               -z interval= takes it),
 *               max_hosts (u), tree (b), filter (s), and each detection
 *               option of trafan_detect_options() by name (u, d, b, s; an
 *               enumeration by its value's name)
 *     producer  trafan (s), wireshark (s): the versions that made it;
 *               first_frame (x, ns since the epoch; absent if no frame)
 *     stats     trafan_stats_save()
 *     detector  trafan_detector_save()
 *
 * `g_variant_print` gives its text form (`trafan-merge --dump`).  Files are
 * untrusted: the magic, the version, every type and the serialisation's
 * normal form are checked before anything is read.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef TRAFAN_STATE_H
#define TRAFAN_STATE_H

#include "detect.h"
#include "options.h"
#include "stats.h"

G_BEGIN_DECLS

#define TRAFAN_STATE_MAGIC   "trafan-state"
#define TRAFAN_STATE_VERSION 1

typedef struct {
    char           *name;           /* where it came from, for messages */
    GVariant       *options;        /* a{sv} */
    GVariant       *producer;       /* a{sv} */
    gboolean        has_first_frame;
    gint64          first_frame_ns; /* the time of its first frame, for ordering */
    TrafanRunOptions run;           /* the options, parsed back */
    TrafanStats    *stats;
    TrafanDetector *detector;
} TrafanState;

/* The options of a run that shape its state, as the a{sv} above (floating). */
GVariant    *trafan_state_options(const TrafanRunOptions *opts);

/* A state file's variant (floating), made before trafan_detector_finish().
 * first_frame_ns: the time of the first frame read, if has_first_frame. */
GVariant    *trafan_state_build(const TrafanRunOptions *opts, const char *wireshark_version,
                                gboolean has_first_frame, gint64 first_frame_ns,
                                const TrafanStats *stats, const TrafanDetector *detector);
/* A loaded (and perhaps merged) state as a file's variant again (floating). */
GVariant    *trafan_state_save(const TrafanState *state);
/* Write it to path through a temporary file renamed into place. */
gboolean     trafan_state_write(const char *path, GVariant *state, GError **error);

/* Read, check and load a state file. */
TrafanState *trafan_state_read(const char *path, GError **error);
/* The same from a variant already in memory (name: for messages). */
TrafanState *trafan_state_load(GVariant *file, const char *name, GError **error);
void         trafan_state_free(TrafanState *state);

/* The whole file as text (g_variant_print), or NULL with an error. */
char        *trafan_state_dump(const char *path, GError **error);

/* Fold `later` (the slice that follows in time) into `state`.  States made
 * with different options, versions or time references are refused; the
 * message names the first difference. */
gboolean     trafan_state_merge(TrafanState *state, const TrafanState *later, GError **error);

/* Order for merging: by first frame time, states without frames last. */
int          trafan_state_compare_time(const TrafanState *a, const TrafanState *b);

G_END_DECLS

#endif
