/* registry.c — every rule, one line each.  Adding a rule: write
 * core/rules/<name>.c (see rule.h and port_scan.c), add its line here and
 * its file to core/CMakeLists.txt.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "rule.h"

extern const TrafanRule trafan_rule_port_scan, trafan_rule_host_sweep, trafan_rule_syn_flood,
    trafan_rule_icmp_flood, trafan_rule_udp_flood, trafan_rule_packet_rate, trafan_rule_bandwidth,
    trafan_rule_bandwidth_spike, trafan_rule_beacon, trafan_rule_brute_force;

const TrafanRule *const trafan_rules[] = {
    &trafan_rule_port_scan,
    &trafan_rule_host_sweep,
    &trafan_rule_syn_flood,
    &trafan_rule_icmp_flood,
    &trafan_rule_udp_flood,
    &trafan_rule_packet_rate,
    &trafan_rule_bandwidth,
    &trafan_rule_bandwidth_spike,
    &trafan_rule_beacon,
    &trafan_rule_brute_force,
};
const guint trafan_n_rules = G_N_ELEMENTS(trafan_rules);
