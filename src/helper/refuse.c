/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include "refuse.h"

#include <string.h>

#define IPV4_HEADER      20
#define IPV6_HEADER      40
#define ICMP_HEADER      8
#define PROTO_ICMP       1
#define PROTO_ICMPV6     58
#define IPV4_DEFAULT_TTL 64
/* IPv6 extension headers that may come before the upper-layer header. */
#define IPV6_HOP_BY_HOP    0
#define IPV6_ROUTING       43
#define IPV6_FRAGMENT      44
#define IPV6_DESTINATION   60
#define IPV6_FRAGMENT_SIZE 8
/* How many extension headers are followed; a longer chain gets no answer. */
#define IPV6_MAX_EXTENSIONS 8
/* RFC 1812 4.3.2.3: an ICMPv4 error carries as much of the packet as fits
 * in 576 bytes. */
#define IPV4_ERROR_MAX 576

/* The Internet checksum of @len bytes, continuing @sum. */
static guint32
sum_bytes(guint32 sum, const guint8 *data, gsize len)
{
    for (gsize i = 0; i + 1 < len; i += 2)
        sum += (guint32)(data[i] << 8 | data[i + 1]);
    if (len & 1)
        sum += (guint32)(data[len - 1] << 8);
    return sum;
}

static guint16
fold(guint32 sum)
{
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (guint16)~sum;
}

static void
put16(guint8 *p, guint16 v)
{
    p[0] = (guint8)(v >> 8);
    p[1] = (guint8)v;
}

static gboolean
ipv4_no_answer_to(const guint8 *addr)
{
    /* 0.0.0.0/8, multicast and reserved (224/3, the broadcast address). */
    return addr[0] == 0 || addr[0] >= 224;
}

static gsize
refuse_ipv4(const guint8 *packet, gsize len, guint8 *out)
{
    gsize ihl = (gsize)(packet[0] & 0x0f) * 4;
    gsize total = (gsize)(packet[2] << 8 | packet[3]);
    gsize quoted, answer_len;

    if (ihl < IPV4_HEADER || len < ihl || total < ihl || total > len)
        return 0;
    /* Fragments after the first carry no header of their own. */
    if (((packet[6] & 0x1f) << 8 | packet[7]) != 0)
        return 0;
    if (ipv4_no_answer_to(packet + 12) || ipv4_no_answer_to(packet + 16))
        return 0;
    if (packet[9] == PROTO_ICMP) {
        /* Only queries get an error; an error never does. */
        guint8 type = total > ihl ? packet[ihl] : 3;
        if (type != 8 && type != 13 && type != 15 && type != 17)
            return 0;
    }
    quoted = MIN(total, (gsize)IPV4_ERROR_MAX - IPV4_HEADER - ICMP_HEADER);
    answer_len = IPV4_HEADER + ICMP_HEADER + quoted;
    memset(out, 0, IPV4_HEADER + ICMP_HEADER);
    out[0] = 0x45;
    put16(out + 2, (guint16)answer_len);
    out[8] = IPV4_DEFAULT_TTL;
    out[9] = PROTO_ICMP;
    memcpy(out + 12, packet + 16, 4); /* from the destination */
    memcpy(out + 16, packet + 12, 4); /* to the sender */
    put16(out + 10, fold(sum_bytes(0, out, IPV4_HEADER)));
    out[IPV4_HEADER] = 3;      /* destination unreachable */
    out[IPV4_HEADER + 1] = 13; /* communication administratively prohibited */
    memcpy(out + IPV4_HEADER + ICMP_HEADER, packet, quoted);
    put16(out + IPV4_HEADER + 2, fold(sum_bytes(0, out + IPV4_HEADER, ICMP_HEADER + quoted)));
    return answer_len;
}

static gboolean
ipv6_no_answer_to(const guint8 *addr)
{
    static const guint8 unspecified[16] = { 0 };

    return addr[0] == 0xff || memcmp(addr, unspecified, 16) == 0;
}

/* Follows the extension headers of @packet, whose payload ends at @end:
 * TRUE with the upper-layer header's protocol in *@next and its offset in
 * *@offset; FALSE for a fragment but the first, a chain that leaves the
 * payload or one longer than IPV6_MAX_EXTENSIONS. */
static gboolean
ipv6_upper_layer(const guint8 *packet, gsize end, guint8 *next, gsize *offset)
{
    guint8 header = packet[6];
    gsize at = IPV6_HEADER;

    for (guint i = 0; i <= IPV6_MAX_EXTENSIONS; i++) {
        gsize size;

        switch (header) {
        case IPV6_FRAGMENT:
            if (at + IPV6_FRAGMENT_SIZE > end)
                return FALSE;
            /* Fragments after the first carry no upper-layer header. */
            if ((packet[at + 2] << 8 | packet[at + 3]) & 0xfff8)
                return FALSE;
            size = IPV6_FRAGMENT_SIZE;
            break;
        case IPV6_HOP_BY_HOP:
        case IPV6_ROUTING:
        case IPV6_DESTINATION:
            if (at + 2 > end)
                return FALSE;
            size = ((gsize)packet[at + 1] + 1) * 8;
            if (at + size > end)
                return FALSE;
            break;
        default:
            *next = header;
            *offset = at;
            return TRUE;
        }
        header = packet[at];
        at += size;
    }
    return FALSE;
}

static gsize
refuse_ipv6(const guint8 *packet, gsize len, guint8 *out)
{
    gsize payload = (gsize)(packet[4] << 8 | packet[5]);
    gsize quoted, answer_len, upper_at;
    guint8 upper;
    guint32 sum;

    if (len < IPV6_HEADER || IPV6_HEADER + payload > len)
        return 0;
    if (ipv6_no_answer_to(packet + 8) || ipv6_no_answer_to(packet + 24))
        return 0;
    if (!ipv6_upper_layer(packet, IPV6_HEADER + payload, &upper, &upper_at))
        return 0;
    /* An ICMPv6 error (types below 128) never gets one, behind extension
     * headers or not (RFC 4443 2.4 e). */
    if (upper == PROTO_ICMPV6 && (upper_at >= IPV6_HEADER + payload || packet[upper_at] < 128))
        return 0;
    quoted = MIN(IPV6_HEADER + payload, (gsize)SSHTUN_REFUSAL_MAX - IPV6_HEADER - ICMP_HEADER);
    answer_len = IPV6_HEADER + ICMP_HEADER + quoted;
    memset(out, 0, IPV6_HEADER + ICMP_HEADER);
    out[0] = 0x60;
    put16(out + 4, (guint16)(ICMP_HEADER + quoted));
    out[6] = PROTO_ICMPV6;
    out[7] = 64;
    memcpy(out + 8, packet + 24, 16); /* from the destination */
    memcpy(out + 24, packet + 8, 16); /* to the sender */
    out[IPV6_HEADER] = 1;             /* destination unreachable */
    out[IPV6_HEADER + 1] = 1;         /* communication administratively prohibited */
    memcpy(out + IPV6_HEADER + ICMP_HEADER, packet, quoted);
    /* Pseudo-header: both addresses, the length and the next header. */
    sum = sum_bytes(0, out + 8, 32);
    sum += (guint32)(ICMP_HEADER + quoted);
    sum += PROTO_ICMPV6;
    sum = sum_bytes(sum, out + IPV6_HEADER, ICMP_HEADER + quoted);
    put16(out + IPV6_HEADER + 2, fold(sum));
    return answer_len;
}

gsize
sshtun_refusal(const guint8 *packet, gsize len, guint8 *out)
{
    if (len >= IPV4_HEADER && packet[0] >> 4 == 4)
        return refuse_ipv4(packet, len, out);
    if (len >= IPV6_HEADER && packet[0] >> 4 == 6)
        return refuse_ipv6(packet, len, out);
    return 0;
}
