/* tshark-run.h — running tshark with the freshly built plugin, for tests.
 *
 * tshark run by root ignores WIRESHARK_PLUGIN_DIR and the personal plugin
 * folder, so as root every tshark runs as nobody (setpriv), over copies of
 * the plugin and the captures in a world-readable scratch folder.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef TRAFAN_TSHARK_RUN_H
#define TRAFAN_TSHARK_RUN_H

#include <glib.h>

typedef struct {
    int   status;       /* exit code, or -1 if it did not exit normally */
    char *out;
    char *err;
} TsharkResult;

/* Set up the scratch folder with the plugin (built for Wireshark `version`,
 * "4.0") in it.  Returns FALSE with a reason if tshark or setpriv is missing. */
gboolean tshark_setup(const char *plugin_path, const char *version, char **why);
void     tshark_teardown(void);

/* A copy of a capture that the tshark user can read. */
const char *tshark_capture(const char *path);
/* A fresh folder the tshark user can write. */
char *tshark_scratch_dir(const char *name);

/* Run tshark with these arguments (NULL-terminated vector). */
TsharkResult tshark_run(const char *const *argv);
/* The same, allowed to capture live (as root: with CAP_NET_RAW kept). */
TsharkResult tshark_run_capture(const char *const *argv);
void         tshark_result_clear(TsharkResult *r);
/* The command tshark_run() runs, NULL-terminated, to start it otherwise
 * (in tshark_workdir()). */
GPtrArray   *tshark_argv(const char *const *args, gboolean capture);
const char  *tshark_workdir(void);

/* The capture folders to test: captures/ and, when present, ../shared/captures. */
GPtrArray *tshark_capture_files(const char *source_dir);

#endif
