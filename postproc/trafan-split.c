/* trafan-split — cut a capture into slices of about equal packet counts, each
 * cut at the longest idle gap near its place, so that few conversations span
 * a cut (a TCP stream that does restarts its reassembly in the next slice).
 *
 *   trafan-split [-w FRACTION] CAPTURE SLICES PREFIX
 *
 * writes PREFIX_00000.pcap, PREFIX_00001.pcap, ... and prints their names.
 * It reads record headers and copies records with libpcap; nothing is
 * dissected.  A capture libpcap cannot read (a pcapng file with several link
 * types, a truncated one) is an error (exit 2): trafan-parallel then splits
 * with editcap instead.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <glib.h>
#include <pcap/pcap.h>

static G_NORETURN void
die(int status, const char *format, ...)
{
    va_list args;

    fputs("trafan-split: ", stderr);
    va_start(args, format);
    vfprintf(stderr, format, args);
    va_end(args);
    fputc('\n', stderr);
    exit(status);
}

static pcap_t *
open_capture(const char *path)
{
    char error[PCAP_ERRBUF_SIZE];
    pcap_t *p = pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_NANO, error);

    if (!p)
        die(2, "%s", error);
    return p;
}

/* Every record's time, in ns. */
static GArray *
read_times(const char *path)
{
    pcap_t *p = open_capture(path);
    GArray *times = g_array_new(FALSE, FALSE, sizeof(gint64));
    struct pcap_pkthdr *header;
    const u_char *data;
    int status;

    while ((status = pcap_next_ex(p, &header, &data)) == 1) {
        gint64 t = (gint64)header->ts.tv_sec * 1000000000 + header->ts.tv_usec;
        g_array_append_val(times, t);
    }
    if (status != PCAP_ERROR_BREAK)
        die(2, "%s: %s", path, pcap_geterr(p));
    pcap_close(p);
    return times;
}

/* first[k]: index of slice k's first record.  Slice k would start at
 * k * n / slices; it starts after the longest gap within `window` records
 * of that place instead (the nearest such gap on ties). */
static guint *
choose_cuts(const GArray *times, guint slices, double fraction)
{
    guint n = times->len, *first = g_new0(guint, slices + 1);
    guint window = (guint)(fraction * n / slices);

    for (guint k = 1; k < slices; k++) {
        guint target = (guint)((guint64)k * n / slices);
        guint lo = MAX(first[k - 1] + 1, target > window ? target - window : 1);
        guint hi = MIN(n - 1, target + window);
        guint best = MAX(lo, MIN(target, hi));
        gint64 best_gap = G_MININT64;

        for (guint i = lo; i <= hi && i < n; i++) {
            gint64 gap = g_array_index(times, gint64, i) - g_array_index(times, gint64, i - 1);
            guint distance = i > target ? i - target : target - i, best_distance = best > target ? best - target : target - best;
            if (gap > best_gap || (gap == best_gap && distance < best_distance)) {
                best_gap = gap;
                best = i;
            }
        }
        first[k] = MIN(MAX(best, first[k - 1] + 1), n);
    }
    first[slices] = n;
    return first;
}

static void
write_slices(const char *path, const guint *first, guint slices, const char *prefix)
{
    pcap_t *p = open_capture(path);
    struct pcap_pkthdr *header;
    const u_char *data;
    pcap_dumper_t *out = NULL;
    guint index = 0, slice = 0;

    while (pcap_next_ex(p, &header, &data) == 1) {
        while (slice < slices && index >= first[slice + 1])
            slice++;
        if (!out || index == first[slice]) {
            char *name = g_strdup_printf("%s_%05u.pcap", prefix, slice);
            if (out)
                pcap_dump_close(out);
            if (!(out = pcap_dump_open(p, name)))
                die(2, "%s: %s", name, pcap_geterr(p));
            printf("%s\n", name);
            g_free(name);
        }
        pcap_dump((u_char *)out, header, data);
        index++;
    }
    if (out && pcap_dump_flush(out) != 0)
        die(2, "cannot write %s's last slice", prefix);
    if (out)
        pcap_dump_close(out);
    pcap_close(p);
}

int
main(int argc, char **argv)
{
    double fraction = 0.1;
    char *end;

    if (argc == 6 && strcmp(argv[1], "-w") == 0) {
        fraction = g_ascii_strtod(argv[2], &end);
        if (*end || fraction < 0 || fraction > 0.5)
            die(1, "-w takes a fraction of a slice from 0 to 0.5");
        argv += 2;
        argc -= 2;
    }
    if (argc != 4)
        die(1, "usage: trafan-split [-w FRACTION] CAPTURE SLICES PREFIX");
    guint64 slices = g_ascii_strtoull(argv[2], &end, 10);
    if (*end || slices < 1 || slices > 100000)
        die(1, "SLICES must be a whole number from 1");

    GArray *times = read_times(argv[1]);
    if (times->len == 0)
        return 0;                       /* nothing to cut */
    slices = MIN(slices, times->len);
    guint *first = choose_cuts(times, (guint)slices, fraction);
    write_slices(argv[1], first, (guint)slices, argv[3]);
    g_free(first);
    g_array_free(times, TRUE);
    return fflush(stdout) == 0 ? 0 : 2;
}
