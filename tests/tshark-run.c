/* tshark-run.c — see tshark-run.h.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <glib/gstdio.h>

#include "tshark-run.h"

static char *scratch;           /* world-readable folder for everything */
static char *plugin_dir;        /* WIRESHARK_PLUGIN_DIR */
static char *home;
static char *tshark_path;
static char *setpriv_path;
static GHashTable *copies;      /* original path -> readable copy */

static gboolean
copy_file(const char *from, const char *to)
{
    char *data;
    gsize len;
    gboolean ok = g_file_get_contents(from, &data, &len, NULL)
        && g_file_set_contents(to, data, (gssize)len, NULL);

    if (ok)
        g_free(data);
    g_chmod(to, 0644);
    return ok;
}

gboolean
tshark_setup(const char *plugin_path, const char *version, char **why)
{
    tshark_path = g_find_program_in_path("tshark");
    if (!tshark_path) {
        *why = g_strdup("tshark is not installed");
        return FALSE;
    }
    if (geteuid() == 0) {
        setpriv_path = g_find_program_in_path("setpriv");
        if (!setpriv_path) {
            *why = g_strdup("running as root needs setpriv (util-linux) to run tshark unprivileged");
            return FALSE;
        }
    }
    scratch = g_dir_make_tmp("trafan-test-XXXXXX", NULL);
    g_chmod(scratch, 0755);
    plugin_dir = g_build_filename(scratch, "plugins", NULL);
    home = g_build_filename(scratch, "home", NULL);
    g_mkdir_with_parents(home, 0777);
    g_chmod(home, 0777);

    char *epan = g_build_filename(plugin_dir, version, "epan", NULL);
    char *dest = g_build_filename(epan, "trafan.so", NULL);
    g_mkdir_with_parents(epan, 0755);
    gboolean ok = copy_file(plugin_path, dest);
    g_free(epan);
    g_free(dest);
    if (!ok) {
        *why = g_strdup_printf("cannot copy the plugin %s", plugin_path);
        return FALSE;
    }
    copies = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    return TRUE;
}

static void
remove_tree(const char *path)
{
    GDir *dir = g_dir_open(path, 0, NULL);
    const char *name;

    while (dir && (name = g_dir_read_name(dir))) {
        char *child = g_build_filename(path, name, NULL);
        if (g_file_test(child, G_FILE_TEST_IS_DIR) && !g_file_test(child, G_FILE_TEST_IS_SYMLINK))
            remove_tree(child);
        else
            g_unlink(child);
        g_free(child);
    }
    if (dir)
        g_dir_close(dir);
    g_rmdir(path);
}

void
tshark_teardown(void)
{
    if (scratch && !g_getenv("TRAFAN_KEEP_SCRATCH"))
        remove_tree(scratch);
    g_clear_pointer(&scratch, g_free);
    g_clear_pointer(&plugin_dir, g_free);
    g_clear_pointer(&home, g_free);
    g_clear_pointer(&copies, g_hash_table_destroy);
}

const char *
tshark_capture(const char *path)
{
    char *copy = g_hash_table_lookup(copies, path);

    if (!copy) {
        char *base = g_path_get_basename(path);
        char *dir = g_build_filename(scratch, "captures", NULL);
        g_mkdir_with_parents(dir, 0755);
        copy = g_build_filename(dir, base, NULL);
        g_assert_true(copy_file(path, copy));
        g_hash_table_insert(copies, g_strdup(path), copy);
        g_free(base);
        g_free(dir);
    }
    return copy;
}

char *
tshark_scratch_dir(const char *name)
{
    char *dir = g_build_filename(scratch, name, NULL);

    remove_tree(dir);
    g_mkdir_with_parents(dir, 0777);
    g_chmod(dir, 0777);
    return dir;
}

static TsharkResult run(const char *const *args, gboolean capture);

TsharkResult
tshark_run(const char *const *args)
{
    return run(args, FALSE);
}

TsharkResult
tshark_run_capture(const char *const *args)
{
    return run(args, TRUE);
}

GPtrArray *
tshark_argv(const char *const *args, gboolean capture)
{
    GPtrArray *argv = g_ptr_array_new_with_free_func(g_free);

    if (setpriv_path) {
        g_ptr_array_add(argv, g_strdup(setpriv_path));
        g_ptr_array_add(argv, g_strdup("--reuid=65534"));
        g_ptr_array_add(argv, g_strdup("--regid=65534"));
        g_ptr_array_add(argv, g_strdup("--clear-groups"));
        if (capture) {
            /* dumpcap, started by tshark, inherits these. */
            g_ptr_array_add(argv, g_strdup("--inh-caps=+net_raw,+net_admin"));
            g_ptr_array_add(argv, g_strdup("--ambient-caps=+net_raw,+net_admin"));
        }
    }
    g_ptr_array_add(argv, g_strdup("/usr/bin/env"));
    g_ptr_array_add(argv, g_strdup("-i"));
    g_ptr_array_add(argv, g_strdup("PATH=/usr/bin:/bin"));
    g_ptr_array_add(argv, g_strdup("LC_ALL=C"));
    g_ptr_array_add(argv, g_strdup_printf("HOME=%s", home));
    g_ptr_array_add(argv, g_strdup_printf("WIRESHARK_PLUGIN_DIR=%s", plugin_dir));
    g_ptr_array_add(argv, g_strdup(tshark_path));
    for (; *args; args++)
        g_ptr_array_add(argv, g_strdup(*args));
    g_ptr_array_add(argv, NULL);
    return argv;
}

const char *
tshark_workdir(void)
{
    return scratch;
}

static TsharkResult
run(const char *const *args, gboolean capture)
{
    GPtrArray *argv = tshark_argv(args, capture);
    TsharkResult r = { -1, NULL, NULL };
    GError *error = NULL;
    int wait_status;

    if (g_spawn_sync(scratch, (char **)argv->pdata, NULL, G_SPAWN_DEFAULT, NULL, NULL,
                     &r.out, &r.err, &wait_status, &error)) {
        r.status = WIFEXITED(wait_status) ? WEXITSTATUS(wait_status) : -1;
    } else {
        r.err = g_strdup(error->message);
        g_error_free(error);
    }
    g_ptr_array_unref(argv);
    return r;
}

void
tshark_result_clear(TsharkResult *r)
{
    g_clear_pointer(&r->out, g_free);
    g_clear_pointer(&r->err, g_free);
}

static gboolean
has_basename(GPtrArray *files, const char *name)
{
    for (guint i = 0; i < files->len; i++) {
        char *base = g_path_get_basename(g_ptr_array_index(files, i));
        gboolean same = strcmp(base, name) == 0;
        g_free(base);
        if (same)
            return TRUE;
    }
    return FALSE;
}

/* Captures of a folder, skipping names already listed (bundled copies). */
static void
add_captures(GPtrArray *files, const char *dir)
{
    GDir *d = g_dir_open(dir, 0, NULL);
    GPtrArray *found = g_ptr_array_new_with_free_func(g_free);
    const char *name;

    while (d && (name = g_dir_read_name(d)))
        if ((g_str_has_suffix(name, ".pcap") || g_str_has_suffix(name, ".pcapng")) && !has_basename(files, name))
            g_ptr_array_add(found, g_build_filename(dir, name, NULL));
    if (d)
        g_dir_close(d);
    g_ptr_array_sort(found, (GCompareFunc)g_strcmp0);
    for (guint i = 0; i < found->len; i++)
        g_ptr_array_add(files, g_strdup(g_ptr_array_index(found, i)));
    g_ptr_array_unref(found);
}

GPtrArray *
tshark_capture_files(const char *source_dir)
{
    GPtrArray *files = g_ptr_array_new_with_free_func(g_free);
    char *bundled = g_build_filename(source_dir, "captures", NULL);
    char *shared = g_build_filename(source_dir, "..", "shared", "captures", NULL);

    add_captures(files, bundled);
    if (g_file_test(shared, G_FILE_TEST_IS_DIR))
        add_captures(files, shared);
    g_free(bundled);
    g_free(shared);
    return files;
}
