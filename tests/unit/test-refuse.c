/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Streams mode's answer to what is not TCP (src/helper/refuse.c). */
#include "config.h"

#include "refuse.h"

#include <string.h>

/* The Internet checksum over @len bytes, folded: 0 for a correct one when
 * the checksum field is included. */
static guint16
checksum(guint32 sum, const guint8 *data, gsize len)
{
    for (gsize i = 0; i + 1 < len; i += 2)
        sum += (guint32)(data[i] << 8 | data[i + 1]);
    if (len & 1)
        sum += (guint32)(data[len - 1] << 8);
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (guint16)~sum;
}

/* A UDP datagram 198.51.100.1:5000 -> 203.0.113.130:53 with @payload bytes. */
static gsize
udp4(guint8 *p, gsize payload)
{
    gsize total = 20 + 8 + payload;

    memset(p, 0, total);
    p[0] = 0x45;
    p[2] = (guint8)(total >> 8);
    p[3] = (guint8)total;
    p[8] = 64;
    p[9] = 17;
    memcpy(p + 12, (guint8[]){ 198, 51, 100, 1 }, 4);
    memcpy(p + 16, (guint8[]){ 203, 0, 113, 130 }, 4);
    p[20] = 0x13;
    p[21] = 0x88;
    p[23] = 53;
    return total;
}

static void
test_ipv4_udp(void)
{
    guint8 packet[2000], out[SSHTUN_REFUSAL_MAX];
    gsize len = udp4(packet, 1000);
    gsize n = sshtun_refusal(packet, len, out);

    /* As much of the datagram as fits in 576 bytes. */
    g_assert_cmpuint(n, ==, 576);
    g_assert_cmpuint(out[0], ==, 0x45);
    g_assert_cmpuint(out[2] << 8 | out[3], ==, 576);
    g_assert_cmpuint(out[9], ==, 1);
    g_assert_cmpmem(out + 12, 4, packet + 16, 4);
    g_assert_cmpmem(out + 16, 4, packet + 12, 4);
    g_assert_cmpuint(checksum(0, out, 20), ==, 0);
    g_assert_cmpuint(out[20], ==, 3);
    g_assert_cmpuint(out[21], ==, 13);
    g_assert_cmpuint(checksum(0, out + 20, n - 20), ==, 0);
    g_assert_cmpmem(out + 28, n - 28, packet, n - 28);
}

static void
test_ipv4_no_answer(void)
{
    guint8 packet[200], out[SSHTUN_REFUSAL_MAX];
    gsize len = udp4(packet, 10);

    /* An ICMP error (port unreachable) gets none. */
    packet[9] = 1;
    packet[20] = 3;
    g_assert_cmpuint(sshtun_refusal(packet, len, out), ==, 0);
    /* An echo request does. */
    packet[20] = 8;
    g_assert_cmpuint(sshtun_refusal(packet, len, out), >, 0);
    /* A later fragment, multicast, broadcast, truncated: none. */
    len = udp4(packet, 10);
    packet[7] = 1;
    g_assert_cmpuint(sshtun_refusal(packet, len, out), ==, 0);
    len = udp4(packet, 10);
    packet[16] = 239;
    g_assert_cmpuint(sshtun_refusal(packet, len, out), ==, 0);
    len = udp4(packet, 10);
    memset(packet + 16, 255, 4);
    g_assert_cmpuint(sshtun_refusal(packet, len, out), ==, 0);
    len = udp4(packet, 10);
    g_assert_cmpuint(sshtun_refusal(packet, len - 1, out), ==, 0);
    g_assert_cmpuint(sshtun_refusal(packet, 10, out), ==, 0);
    packet[0] = 0x44; /* header shorter than 20 bytes */
    g_assert_cmpuint(sshtun_refusal(packet, len, out), ==, 0);
}

static gsize
udp6(guint8 *p, gsize payload)
{
    static const guint8 src[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 2, [15] = 1 };
    static const guint8 dst[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0xf, [15] = 2 };

    memset(p, 0, 40 + 8 + payload);
    p[0] = 0x60;
    p[4] = (guint8)((8 + payload) >> 8);
    p[5] = (guint8)(8 + payload);
    p[6] = 17;
    p[7] = 64;
    memcpy(p + 8, src, 16);
    memcpy(p + 24, dst, 16);
    return 40 + 8 + payload;
}

static void
test_ipv6_udp(void)
{
    guint8 packet[3000], out[SSHTUN_REFUSAL_MAX];
    gsize len = udp6(packet, 2000);
    gsize n = sshtun_refusal(packet, len, out);
    guint32 pseudo = 0;

    g_assert_cmpuint(n, ==, SSHTUN_REFUSAL_MAX);
    g_assert_cmpuint(out[6], ==, 58);
    g_assert_cmpmem(out + 8, 16, packet + 24, 16);
    g_assert_cmpmem(out + 24, 16, packet + 8, 16);
    g_assert_cmpuint(out[4] << 8 | out[5], ==, n - 40);
    g_assert_cmpuint(out[40], ==, 1);
    g_assert_cmpuint(out[41], ==, 1);
    for (gsize i = 8; i < 40; i += 2)
        pseudo += (guint32)(out[i] << 8 | out[i + 1]);
    pseudo += (guint32)(n - 40) + 58;
    g_assert_cmpuint(checksum(pseudo, out + 40, n - 40), ==, 0);
    g_assert_cmpmem(out + 48, n - 48, packet, n - 48);
}

static void
test_ipv6_no_answer(void)
{
    guint8 packet[200], out[SSHTUN_REFUSAL_MAX];
    gsize len = udp6(packet, 10);

    packet[6] = 58;
    packet[40] = 1; /* an ICMPv6 error */
    g_assert_cmpuint(sshtun_refusal(packet, len, out), ==, 0);
    packet[40] = 128; /* an echo request */
    g_assert_cmpuint(sshtun_refusal(packet, len, out), >, 0);
    len = udp6(packet, 10);
    packet[24] = 0xff; /* multicast */
    g_assert_cmpuint(sshtun_refusal(packet, len, out), ==, 0);
    len = udp6(packet, 10);
    g_assert_cmpuint(sshtun_refusal(packet, len - 1, out), ==, 0);
}

/* An IPv6 packet whose extension headers are @chain (@n of them, each 8
 * bytes; a fragment header's offset is @fragment_offset bytes), then an
 * upper-layer header @upper whose first byte is @type, 8 bytes and @payload
 * more. */
static gsize
ext6(guint8 *p, const guint8 *chain, guint n, guint16 fragment_offset, guint8 upper, guint8 type,
     gsize payload)
{
    gsize len = udp6(p, n * 8 + payload);
    gsize at = 40;

    for (guint i = 0; i < n; i++) {
        if (i == 0)
            p[6] = chain[0];
        p[at] = i + 1 < n ? chain[i + 1] : upper;
        p[at + 1] = 0; /* 8 bytes */
        if (chain[i] == 44) {
            p[at + 2] = (guint8)(fragment_offset >> 8);
            p[at + 3] = (guint8)(fragment_offset & 0xf8);
            p[at + 3] |= 1; /* more fragments */
        }
        at += 8;
    }
    if (n == 0)
        p[6] = upper;
    p[at] = type;
    return len;
}

static void
test_ipv6_extension_headers(void)
{
    static const guint8 hop_fragment[] = { 0, 44 };
    static const guint8 dest_routing[] = { 60, 43 };
    static const guint8 fragment[] = { 44 };
    guint8 packet[600], out[SSHTUN_REFUSAL_MAX], many[9];
    gsize len;

    /* An ICMPv6 error behind Hop-by-Hop and a first fragment: none. */
    len = ext6(packet, hop_fragment, 2, 0, 58, 1, 10);
    g_assert_cmpuint(sshtun_refusal(packet, len, out), ==, 0);
    /* An echo request there: answered, the whole packet quoted. */
    len = ext6(packet, hop_fragment, 2, 0, 58, 128, 10);
    g_assert_cmpuint(sshtun_refusal(packet, len, out), ==, 48 + len);
    g_assert_cmpmem(out + 48, len, packet, len);
    /* An ICMPv6 error behind Destination Options and Routing: none. */
    len = ext6(packet, dest_routing, 2, 0, 58, 3, 10);
    g_assert_cmpuint(sshtun_refusal(packet, len, out), ==, 0);
    /* UDP behind them: answered. */
    len = ext6(packet, dest_routing, 2, 0, 17, 0x13, 10);
    g_assert_cmpuint(sshtun_refusal(packet, len, out), >, 0);
    /* The first fragment of UDP is answered, a later one is not. */
    len = ext6(packet, fragment, 1, 0, 17, 0x13, 10);
    g_assert_cmpuint(sshtun_refusal(packet, len, out), >, 0);
    len = ext6(packet, fragment, 1, 1232, 17, 0x13, 10);
    g_assert_cmpuint(sshtun_refusal(packet, len, out), ==, 0);
    len = ext6(packet, hop_fragment, 2, 8, 58, 128, 10);
    g_assert_cmpuint(sshtun_refusal(packet, len, out), ==, 0);
    /* A chain that leaves the payload: none. */
    len = ext6(packet, dest_routing, 2, 0, 17, 0x13, 0);
    packet[49] = 200; /* Routing says 1608 bytes */
    g_assert_cmpuint(sshtun_refusal(packet, len, out), ==, 0);
    /* An ICMPv6 header cut off by the payload's end: none. */
    len = ext6(packet, fragment, 1, 0, 58, 128, 0);
    packet[4] = 0;
    packet[5] = 8;
    g_assert_cmpuint(sshtun_refusal(packet, 48, out), ==, 0);
    /* Eight extension headers are followed, nine are not. */
    memset(many, 60, sizeof many);
    len = ext6(packet, many, 8, 0, 17, 0x13, 10);
    g_assert_cmpuint(sshtun_refusal(packet, len, out), >, 0);
    len = ext6(packet, many, 9, 0, 17, 0x13, 10);
    g_assert_cmpuint(sshtun_refusal(packet, len, out), ==, 0);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/refuse/ipv4-udp", test_ipv4_udp);
    g_test_add_func("/refuse/ipv4-no-answer", test_ipv4_no_answer);
    g_test_add_func("/refuse/ipv6-udp", test_ipv6_udp);
    g_test_add_func("/refuse/ipv6-no-answer", test_ipv6_no_answer);
    g_test_add_func("/refuse/ipv6-extension-headers", test_ipv6_extension_headers);
    return g_test_run();
}
