/* packet.h — one frame as the trafan core sees it.
 *
 * The plugin fills a TrafanPacket from Wireshark's tap data (ip, ipv6, tcp,
 * udp and frame taps); unit tests fill it by hand.  No epan type appears
 * here, so the core builds and is tested without Wireshark.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef TRAFAN_PACKET_H
#define TRAFAN_PACKET_H

#include <glib.h>

G_BEGIN_DECLS

/* IP (and TCP/UDP) headers kept per frame: any real tunnel stack (IPv4 /
 * GRE / IPv4 / GRE / IPv6) and crafted ones twice as deep as that; the
 * plugin warns about a frame with more. */
#define TRAFAN_MAX_LAYERS 16

typedef struct {
    guint8 family;              /* 4 or 6; 0 = none */
    guint8 bytes[16];           /* network order; 4 bytes used for IPv4 */
} TrafanAddress;

/* One IP header, outermost first. */
typedef struct {
    TrafanAddress src;
    TrafanAddress dst;
    guint8        ip_proto;     /* next protocol (IPv4) or next header (IPv6) */
} TrafanIpLayer;

/* TCP flag bits as on the wire (th_flags). */
enum {
    TRAFAN_TCP_FIN = 0x01, TRAFAN_TCP_SYN = 0x02, TRAFAN_TCP_RST = 0x04,
    TRAFAN_TCP_PSH = 0x08, TRAFAN_TCP_ACK = 0x10, TRAFAN_TCP_URG = 0x20,
};

/* One TCP or UDP header, with the addresses of the IP header that carries it. */
typedef struct {
    guint8        ip_proto;     /* 6 = TCP, 17 = UDP */
    guint16       tcp_flags;    /* TCP only */
    guint16       src_port;
    guint16       dst_port;
    TrafanAddress src;
    TrafanAddress dst;
} TrafanTransport;

/* abs_ns and rel_ns stay within +-TRAFAN_TIME_LIMIT_NS (about 146 years), so
 * that adding a window to them cannot overflow; a time further away is held
 * at the limit. */
#define TRAFAN_TIME_LIMIT_NS (G_GINT64_CONSTANT(1) << 62)

typedef struct {
    gint64      abs_ns;         /* absolute time: ns since epoch_base_s */
    gint64      epoch_base_s;   /* 0 (the epoch), or for a capture beyond the
                                   range of abs_ns (past 2116 or before 1824)
                                   the second of its first frame */
    gint64      rel_ns;         /* Wireshark's relative time (to the first frame) */
    guint32     frame_len;      /* bytes on the wire, as Wireshark's tables count */
    const char *protocol;       /* highest layer, a g_intern_string() */

    guint           n_ip;
    TrafanIpLayer   ip[TRAFAN_MAX_LAYERS];
    guint           n_transport;
    TrafanTransport transport[TRAFAN_MAX_LAYERS];

    /* Outermost ICMP/ICMPv6 message, if any (icmp_family 4 or 6, else 0). */
    guint8 icmp_family;
    guint8 icmp_type;
    guint8 icmp_code;

    /* Sent to a link-layer broadcast or multicast address (an IPv4 subnet
     * broadcast such as 192.168.1.255 shows only there). */
    gboolean link_group;
} TrafanPacket;

/* Reset a record before filling it for the next frame. */
static inline void
trafan_packet_clear(TrafanPacket *pkt)
{
    pkt->n_ip = 0;
    pkt->n_transport = 0;
    pkt->icmp_family = 0;
    pkt->protocol = NULL;
    pkt->link_group = FALSE;
}

/* Parse "1.2.3.4" or "2001:db8::1" (no prefix); FALSE if neither. */
gboolean trafan_address_parse(const char *text, TrafanAddress *out);

#define TRAFAN_ADDRSTRLEN 46   /* INET6_ADDRSTRLEN */

/* Wireshark's text form: dotted quad, or RFC 5952 IPv6. */
const char *trafan_address_to_str(const TrafanAddress *addr, char buf[TRAFAN_ADDRSTRLEN]);

guint    trafan_address_hash(gconstpointer addr);
gboolean trafan_address_equal(gconstpointer a, gconstpointer b);
/* Total order: IPv4 before IPv6, then by bytes. */
int      trafan_address_compare(const TrafanAddress *a, const TrafanAddress *b);

G_END_DECLS

#endif
