/* address.c — IPv4/IPv6 addresses as hash keys and as Wireshark prints them.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <string.h>
#include <arpa/inet.h>

#include "stats.h"

static guint
address_len(guint8 family)
{
    return family == 6 || family == TRAFAN_FAMILY_OTHER6 ? 16 : 4;
}

gboolean
trafan_address_parse(const char *text, TrafanAddress *out)
{
    memset(out, 0, sizeof *out);
    if (inet_pton(AF_INET, text, out->bytes) == 1) {
        out->family = 4;
        return TRUE;
    }
    if (inet_pton(AF_INET6, text, out->bytes) == 1) {
        out->family = 6;
        return TRUE;
    }
    return FALSE;
}

/* Wireshark formats addresses with the system's inet_ntop (wsutil/inet_addr.c),
 * so using it here gives the same text. */
const char *
trafan_address_to_str(const TrafanAddress *addr, char buf[TRAFAN_ADDRSTRLEN])
{
    switch (addr->family) {
    case 4:
        return inet_ntop(AF_INET, addr->bytes, buf, INET6_ADDRSTRLEN);
    case 6:
        return inet_ntop(AF_INET6, addr->bytes, buf, INET6_ADDRSTRLEN);
    case TRAFAN_FAMILY_OTHER4:
        return strcpy(buf, "other IPv4");
    case TRAFAN_FAMILY_OTHER6:
        return strcpy(buf, "other IPv6");
    default:
        return strcpy(buf, "?");
    }
}

/* Multiply-xorshift over the address as words: two rounds for IPv6, one
 * for IPv4, which per-packet lookups feel. */
guint
trafan_address_hash(gconstpointer key)
{
    const TrafanAddress *addr = key;
    guint64 h = addr->family * G_GUINT64_CONSTANT(0x9e3779b97f4a7c15), w;

    if (address_len(addr->family) == 16) {
        memcpy(&w, addr->bytes, 8);
        h = (h ^ w) * G_GUINT64_CONSTANT(0xbf58476d1ce4e5b9);
        h ^= h >> 31;
        memcpy(&w, addr->bytes + 8, 8);
    } else {
        guint32 v4;
        memcpy(&v4, addr->bytes, 4);
        w = v4;
    }
    h = (h ^ w) * G_GUINT64_CONSTANT(0x94d049bb133111eb);
    return (guint)(h ^ (h >> 32));
}

gboolean
trafan_address_equal(gconstpointer a, gconstpointer b)
{
    const TrafanAddress *x = a, *y = b;

    return x->family == y->family && memcmp(x->bytes, y->bytes, address_len(x->family)) == 0;
}

int
trafan_address_compare(const TrafanAddress *a, const TrafanAddress *b)
{
    if (a->family != b->family)
        return a->family < b->family ? -1 : 1;
    return memcmp(a->bytes, b->bytes, address_len(a->family));
}
