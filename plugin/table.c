/* table.c — Statistics ▸ Suspicious Hosts (trafan): one row per flag, as
 * the `trafan` post-dissector marks packets (tap "trafan"), so the table
 * holds exactly the flags of the packets that pass its display filter.
 * Also `tshark -2 -z trafan,flags[,FILTER]`.
 *
 * Wireshark's table dialogs have no per-row filter action for a plugin's
 * table, so each row carries its display filter as a column: the dialog's
 * Copy button hands it over with the rest of the row.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#define WS_BUILD_DLL
#include <wireshark.h>
#include <epan/packet.h>
#include <epan/stat_tap_ui.h>

#include "compat.h"
#include "flag.h"
#include "trafan-plugin.h"

#define NS_PER_S 1e9

enum { COL_HOST, COL_ROLE, COL_RULE, COL_OBSERVED, COL_THRESHOLD, COL_WINDOW, COL_START, COL_END,
       COL_PACKETS, COL_SUMMARY, COL_FILTER, N_COLUMNS };

static stat_tap_table_item columns[N_COLUMNS] = {
    { TABLE_ITEM_STRING, TAP_ALIGN_LEFT, "Host", "%s" },
    { TABLE_ITEM_STRING, TAP_ALIGN_LEFT, "Role", "%s" },
    { TABLE_ITEM_STRING, TAP_ALIGN_LEFT, "Rule", "%s" },
    { TABLE_ITEM_FLOAT, TAP_ALIGN_RIGHT, "Observed", "%.6g" },
    { TABLE_ITEM_FLOAT, TAP_ALIGN_RIGHT, "Threshold", "%.6g" },
    { TABLE_ITEM_FLOAT, TAP_ALIGN_RIGHT, "Window (s)", "%.6g" },
    { TABLE_ITEM_FLOAT, TAP_ALIGN_RIGHT, "Start (s)", "%.6f" },
    { TABLE_ITEM_FLOAT, TAP_ALIGN_RIGHT, "End (s)", "%.6f" },
    { TABLE_ITEM_UINT, TAP_ALIGN_RIGHT, "Packets", "%u" },
    { TABLE_ITEM_STRING, TAP_ALIGN_LEFT, "Summary", "%s" },
    { TABLE_ITEM_STRING, TAP_ALIGN_LEFT, "Filter", "%s" },
};

static const char table_name[] = "Suspicious Hosts (trafan)";

static void
free_item(stat_tap_table *table _U_, guint row _U_, guint column _U_, stat_tap_table_item_type *item)
{
    if (item->type == TABLE_ITEM_STRING)
        g_free((char *)item->value.string_value);
}

/* A retap (new filter, reload, changed preferences) starts from no rows. */
static void
flags_reset(stat_tap_table *table)
{
    for (guint row = 0; row < table->num_elements; row++) {
        for (guint col = 0; col < table->num_fields; col++)
            free_item(table, row, col, &table->elements[row][col]);
        g_free(table->elements[row]);
    }
    table->num_elements = 0;
}

static void
flags_init(stat_tap_table_ui *ui)
{
    stat_tap_table *table = stat_tap_find_table(ui, table_name);

    trafan_mark_request();
    if (table) {
        flags_reset(table);
        return;
    }
    stat_tap_add_table(ui, stat_tap_init_table(table_name, N_COLUMNS, 0, NULL));
}

static stat_tap_table_item_type
text_item(const char *text)
{
    stat_tap_table_item_type item = { TABLE_ITEM_STRING, { .string_value = g_strdup(text ? text : "") }, { 0 } };
    return item;
}

static stat_tap_table_item_type
float_item(double value)
{
    stat_tap_table_item_type item = { TABLE_ITEM_FLOAT, { .float_value = value }, { 0 } };
    return item;
}

static void
update_text(stat_tap_table_item_type *item, const char *text)
{
    if (g_strcmp0(item->value.string_value, text ? text : "") != 0) {
        g_free((char *)item->value.string_value);
        item->value.string_value = g_strdup(text ? text : "");
    }
}

/* One call per flag of a marked packet: the flag's row, counted. */
static tap_packet_status
flags_packet(void *tapdata, packet_info *pinfo, epan_dissect_t *edt _U_, const void *data, tap_flags_t flags _U_)
{
    stat_data_t *sd = tapdata;
    stat_tap_table *table = g_array_index(sd->stat_tap_data->tables, stat_tap_table *, 0);
    const TrafanFlag *f = data;
    stat_tap_table_item_type row[N_COLUMNS];
    char host[TRAFAN_ADDRSTRLEN];
    /* Times relative to the first packet, as Wireshark shows them. */
    gint64 ref_ns = trafan_mark_reference_ns(pinfo);

    for (guint i = 0; i < table->num_elements; i++) {
        stat_tap_table_item_type *packets = stat_tap_get_field_data(table, i, COL_PACKETS);
        if (packets->user_data.ptr_value == f) {
            /* While the first pass runs a flag still grows. */
            packets->value.uint_value++;
            stat_tap_get_field_data(table, i, COL_OBSERVED)->value.float_value = f->observed;
            stat_tap_get_field_data(table, i, COL_END)->value.float_value = (f->end_ns - ref_ns) / NS_PER_S;
            update_text(stat_tap_get_field_data(table, i, COL_SUMMARY), f->summary);
            update_text(stat_tap_get_field_data(table, i, COL_FILTER), f->filter);
            return TAP_PACKET_REDRAW;
        }
    }
    row[COL_HOST] = text_item(trafan_address_to_str(&f->host, host));
    row[COL_ROLE] = text_item(trafan_role_name(f->role));
    row[COL_RULE] = text_item(f->rule);
    row[COL_OBSERVED] = float_item(f->observed);
    row[COL_THRESHOLD] = float_item(f->threshold);
    row[COL_WINDOW] = float_item(f->window_ns / NS_PER_S);
    row[COL_START] = float_item((f->start_ns - ref_ns) / NS_PER_S);
    row[COL_END] = float_item((f->end_ns - ref_ns) / NS_PER_S);
    row[COL_PACKETS] = (stat_tap_table_item_type){ TABLE_ITEM_UINT, { .uint_value = 1 }, { .ptr_value = (void *)f } };
    row[COL_SUMMARY] = text_item(f->summary);
    row[COL_FILTER] = text_item(f->filter);
    stat_tap_init_table_row(table, table->num_elements, N_COLUMNS, row);
    return TAP_PACKET_REDRAW;
}

void
trafan_table_register(void)
{
    static stat_tap_table_ui ui = {
        REGISTER_PACKET_STAT_GROUP_UNSORTED, table_name, "trafan", "trafan,flags",
        flags_init, flags_packet, flags_reset, free_item, NULL,
        N_COLUMNS, columns, 0, NULL, NULL, 0
    };

    register_stat_tap_table_ui(&ui);
}
