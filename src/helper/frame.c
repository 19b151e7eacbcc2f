/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include "frame.h"

#define IPV4_MIN_HEADER 20u
#define IPV6_HEADER     40u
#define ETH_HEADER      14u
#define VLAN_TAG        4u
#define ETH_MAX_LLC_LEN 1500u
/* DSAP, SSAP and control: the least an 802.3 frame's LLC payload holds. */
#define ETH_MIN_LLC_LEN 3u

#define IPV6_NEXT_HEADER_HOP_BY_HOP 0u

static guint32
get_be32(const guint8 *p)
{
    return ((guint32)p[0] << 24) | ((guint32)p[1] << 16) | ((guint32)p[2] << 8) | p[3];
}

static guint16
get_be16(const guint8 *p)
{
    return (guint16)((p[0] << 8) | p[1]);
}

gboolean
sshtun_frame_put_af(guint8 *header, const guint8 *packet, gsize len)
{
    guint32 af;

    if (len < 1)
        return FALSE;
    switch (packet[0] >> 4) {
    case 4:
        af = SSHTUN_AF_INET;
        break;
    case 6:
        af = SSHTUN_AF_INET6;
        break;
    default:
        return FALSE;
    }
    header[0] = 0;
    header[1] = 0;
    header[2] = 0;
    header[3] = (guint8)af;
    return TRUE;
}

/* RFC 1071: the ones' complement sum of a header with its checksum is
 * all ones. */
static gboolean
ipv4_header_sum_ok(const guint8 *header, gsize len)
{
    guint32 sum = 0;

    for (gsize i = 0; i + 1 < len; i += 2)
        sum += get_be16(header + i);
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return sum == 0xffff;
}

/* Length of the IP packet at @ip (@avail bytes seen so far), or 0 with
 * NEED_MORE/INVALID in @status. */
static gsize
ip_packet_len(const guint8 *ip, gsize avail, int version, SshtunFrameStatus *status,
              const char **why)
{
    *status = SSHTUN_FRAME_NEED_MORE;
    if (version == 4) {
        guint16 total;
        if (avail < 4)
            return 0;
        if ((ip[0] >> 4) != 4) {
            *status = SSHTUN_FRAME_INVALID;
            *why = "IPv4 frame does not hold an IPv4 packet";
            return 0;
        }
        total = get_be16(ip + 2);
        if (total < IPV4_MIN_HEADER || (gsize)(ip[0] & 0x0f) * 4 > total || (ip[0] & 0x0f) < 5) {
            *status = SSHTUN_FRAME_INVALID;
            *why = "IPv4 header with an impossible length";
            return 0;
        }
        /* Every kernel sets it, and a router mends it: a wrong sum marks
         * bytes that were never a header (delimiter.c relies on that). */
        if (avail < (gsize)(ip[0] & 0x0f) * 4)
            return 0;
        if (!ipv4_header_sum_ok(ip, (gsize)(ip[0] & 0x0f) * 4)) {
            *status = SSHTUN_FRAME_INVALID;
            *why = "IPv4 header checksum wrong";
            return 0;
        }
        *status = SSHTUN_FRAME_COMPLETE;
        return total;
    }
    if (avail < 6)
        return 0;
    if ((ip[0] >> 4) != 6) {
        *status = SSHTUN_FRAME_INVALID;
        *why = "IPv6 frame does not hold an IPv6 packet";
        return 0;
    }
    /* Payload length 0 with a Hop-by-Hop header is how a jumbogram (RFC
     * 2675) begins, and Linux forwards such a header as it is, with or
     * without a Jumbo option and whatever follows: the packet's end is not
     * in it. With any other next header the kernel has cut the packet to
     * the bare 40 bytes. */
    if (get_be16(ip + 4) == 0) {
        if (avail < 7)
            return 0;
        if (ip[6] == IPV6_NEXT_HEADER_HOP_BY_HOP) {
            *status = SSHTUN_FRAME_END_UNKNOWN;
            *why = "IPv6 packet with payload length 0 and a Hop-by-Hop header (a jumbogram, "
                   "or a forged length)";
            return 0;
        }
    }
    *status = SSHTUN_FRAME_COMPLETE;
    return IPV6_HEADER + get_be16(ip + 4);
}

static SshtunFrameStatus
next_point_to_point(const guint8 *buf, gsize avail, gsize *len, const char **why)
{
    SshtunFrameStatus status;
    guint32 af;
    gsize ip_len;

    if (avail < SSHTUN_FRAME_AF_LEN + 1)
        return SSHTUN_FRAME_NEED_MORE;
    af = get_be32(buf);
    if (af != SSHTUN_AF_INET && af != SSHTUN_AF_INET6) {
        *why = "unknown address family";
        return SSHTUN_FRAME_INVALID;
    }
    ip_len = ip_packet_len(buf + SSHTUN_FRAME_AF_LEN, avail - SSHTUN_FRAME_AF_LEN,
                           af == SSHTUN_AF_INET ? 4 : 6, &status, why);
    if (status != SSHTUN_FRAME_COMPLETE)
        return status;
    *len = SSHTUN_FRAME_AF_LEN + ip_len;
    return SSHTUN_FRAME_COMPLETE;
}

static SshtunFrameStatus
next_ethernet(const guint8 *buf, gsize avail, gsize *len, const char **why)
{
    SshtunFrameStatus status = SSHTUN_FRAME_COMPLETE;
    gsize header = ETH_HEADER;
    gsize payload;
    guint16 type;

    if (avail < ETH_HEADER)
        return SSHTUN_FRAME_NEED_MORE;
    /* No station has the all-zero address; the zeros a network card pads
     * with do, which tells padding from a frame (see delimiter.c). */
    if (!(buf[0] | buf[1] | buf[2] | buf[3] | buf[4] | buf[5])) {
        *why = "Ethernet frame to 00:00:00:00:00:00";
        return SSHTUN_FRAME_INVALID;
    }
    type = get_be16(buf + 12);
    /* 802.1Q and 802.1ad tags, possibly stacked (QinQ). */
    while (type == 0x8100 || type == 0x88a8) {
        header += VLAN_TAG;
        if (header > 2 * VLAN_TAG + ETH_HEADER) {
            *why = "more than two VLAN tags";
            return SSHTUN_FRAME_INVALID;
        }
        if (avail < header)
            return SSHTUN_FRAME_NEED_MORE;
        type = get_be16(buf + header - 2);
    }

    if (type <= ETH_MAX_LLC_LEN) {
        /* IEEE 802.3 frame: the field is the payload length. */
        if (type < ETH_MIN_LLC_LEN) {
            *why = "IEEE 802.3 frame shorter than its LLC header";
            return SSHTUN_FRAME_INVALID;
        }
        payload = type;
    } else if (type == 0x0800 || type == 0x86dd) {
        payload = ip_packet_len(buf + header, avail - header, type == 0x0800 ? 4 : 6, &status, why);
    } else if (type == 0x0806 || type == 0x8035) {
        /* ARP and RARP: fixed part plus two hardware and two protocol
         * addresses. */
        if (avail < header + 6)
            return SSHTUN_FRAME_NEED_MORE;
        payload = 8u + 2u * buf[header + 4] + 2u * buf[header + 5];
    } else {
        /* The stream gives no other way to find where such a frame ends. */
        *why = "Ethernet frame of a type whose length cannot be determined";
        return SSHTUN_FRAME_INVALID;
    }
    if (status != SSHTUN_FRAME_COMPLETE)
        return status;
    *len = header + payload;
    return SSHTUN_FRAME_COMPLETE;
}

SshtunFrameStatus
sshtun_frame_next(SshtunTunnelMode mode, const guint8 *buf, gsize avail, gsize max_len,
                  gsize *frame_len, const char **why)
{
    SshtunFrameStatus status;
    gsize len = 0;

    *why = NULL;
    if (mode == SSHTUN_MODE_ETHERNET)
        status = next_ethernet(buf, avail, &len, why);
    else
        status = next_point_to_point(buf, avail, &len, why);
    if (status != SSHTUN_FRAME_COMPLETE)
        return status;
    if (len > max_len) {
        *why = "frame larger than the channel's maximum packet";
        return SSHTUN_FRAME_INVALID;
    }
    if (len > avail)
        return SSHTUN_FRAME_NEED_MORE;
    *frame_len = len;
    return SSHTUN_FRAME_COMPLETE;
}
