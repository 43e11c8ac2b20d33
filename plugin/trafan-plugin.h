/* trafan-plugin.h — the Wireshark surfaces, each in its own file.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef TRAFAN_PLUGIN_H
#define TRAFAN_PLUGIN_H

void trafan_cli_register(void);     /* cli.c: tshark -z trafan,stat */

#endif
