/* flag.c — a suspicious-host finding.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "flag.h"

TrafanFlag *
trafan_flag_new(const TrafanAddress *host, TrafanRole role, const char *rule)
{
    TrafanFlag *flag = g_new0(TrafanFlag, 1);

    flag->host = *host;
    flag->role = role;
    flag->rule = rule;
    flag->peers = g_array_new(FALSE, TRUE, sizeof(TrafanFlagPeer));
    return flag;
}

void
trafan_flag_free(TrafanFlag *flag)
{
    if (flag == NULL)
        return;
    g_array_unref(flag->peers);
    g_free(flag->filter);
    g_free(flag->summary);
    g_free(flag);
}

const char *
trafan_role_name(TrafanRole role)
{
    switch (role) {
    case TRAFAN_ROLE_SOURCE: return "source";
    case TRAFAN_ROLE_TARGET: return "target";
    }
    return "unknown";
}
