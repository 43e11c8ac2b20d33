/* report-pdf.c — the HTML page printed to PDF by a headless Chromium.
 *
 * The page's print style sheet puts one topic on each page; the charts and
 * host graphs stay vectors.  Printing the same page keeps one renderer for
 * both formats.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "report.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

static void remove_tree(const char *path)
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

static gboolean is_pdf(const char *path)
{
    char head[5] = "";
    FILE *f = g_fopen(path, "rb");
    gboolean ok = f && fread(head, 1, 4, f) == 4 && memcmp(head, "%PDF", 4) == 0;

    if (f)
        fclose(f);
    return ok;
}

gboolean tr_pdf_print(const char *html_path, const char *pdf_path, GError **error)
{
    static const char *const names[] = {"chromium", "chromium-browser", "google-chrome", NULL};
    char *browser = tr_find_program(names);
    char *profile = NULL, *dir = NULL, *tmp = NULL, *uri = NULL, *absolute = NULL;
    char *print_to = NULL, *user_data = NULL, *err = NULL;
    GSubprocess *proc = NULL;
    gboolean ok = FALSE;
    int fd;

    if (!browser) {
        g_set_error(error, TR_ERROR, TR_ERROR_TOOL,
                    "PDF output needs a headless Chromium (Debian package chromium); HTML output does not");
        return FALSE;
    }
    profile = g_dir_make_tmp("trafan-report-chromium-XXXXXX", error);
    if (!profile)
        goto out;
    dir = g_path_get_dirname(pdf_path);
    tmp = g_build_filename(dir, ".trafan-report-XXXXXX", NULL);
    fd = g_mkstemp_full(tmp, O_RDWR, 0666);
    if (fd < 0) {
        g_set_error(error, TR_ERROR, TR_ERROR_INPUT, "cannot write in %s: %s", dir, g_strerror(errno));
        g_clear_pointer(&tmp, g_free);
        goto out;
    }
    close(fd);
    absolute = g_canonicalize_filename(html_path, NULL);
    uri = g_filename_to_uri(absolute, NULL, error);
    if (!uri)
        goto out;
    print_to = g_strdup_printf("--print-to-pdf=%s", tmp);
    user_data = g_strdup_printf("--user-data-dir=%s", profile);

    /* The page has no script and loads nothing; Chromium's sandbox needs
     * user namespaces, which root (CI, containers) runs without. */
    const char *argv[] = {browser, "--headless", "--disable-gpu", "--no-first-run",
                          "--disable-background-networking", "--disable-component-update",
                          "--disable-sync", "--disable-extensions", "--no-pdf-header-footer",
                          user_data, print_to, geteuid() == 0 ? "--no-sandbox" : uri,
                          geteuid() == 0 ? uri : NULL, NULL};
    proc = g_subprocess_newv(argv, G_SUBPROCESS_FLAGS_STDOUT_SILENCE | G_SUBPROCESS_FLAGS_STDERR_PIPE, error);
    if (!proc || !g_subprocess_communicate_utf8(proc, NULL, NULL, NULL, &err, error))
        goto out;
    if (!g_subprocess_get_if_exited(proc) || g_subprocess_get_exit_status(proc) != 0 || !is_pdf(tmp)) {
        g_set_error(error, TR_ERROR, TR_ERROR_TOOL, "%s could not print the report to PDF%s%s", browser,
                    err && *err ? ": " : "", err ? g_strstrip(err) : "");
        goto out;
    }
    if (g_rename(tmp, pdf_path) != 0) {
        g_set_error(error, TR_ERROR, TR_ERROR_INPUT, "cannot write %s: %s", pdf_path, g_strerror(errno));
        goto out;
    }
    ok = TRUE;
out:
    if (tmp && !ok)
        g_unlink(tmp);
    if (profile)
        remove_tree(profile);
    g_clear_object(&proc);
    g_free(err);
    g_free(user_data);
    g_free(print_to);
    g_free(uri);
    g_free(absolute);
    g_free(tmp);
    g_free(dir);
    g_free(profile);
    g_free(browser);
    return ok;
}
