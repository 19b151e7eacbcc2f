/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include "frame.h"
#include "test-packets.h"

#include <string.h>

#define MAX_PACKET 32768

/* An IPv4 packet of @len bytes (header says so) or an IPv6 one. */
static gsize
make_ipv4(guint8 *buf, guint16 len)
{
    memset(buf, 0xab, len);
    buf[0] = 0x45;
    buf[2] = (guint8)(len >> 8);
    buf[3] = (guint8)len;
    test_set_ipv4_checksum(buf);
    return len;
}

static gsize
make_ipv6(guint8 *buf, guint16 payload)
{
    memset(buf, 0xcd, 40u + payload);
    buf[0] = 0x60;
    buf[4] = (guint8)(payload >> 8);
    buf[5] = (guint8)payload;
    return 40u + payload;
}

static gsize
make_p2p_frame(guint8 *buf, int version, guint16 size)
{
    gsize len = version == 4 ? make_ipv4(buf + 4, size) : make_ipv6(buf + 4, size);
    g_assert_true(sshtun_frame_put_af(buf, buf + 4, len));
    return len + 4;
}

static void
test_put_af(void)
{
    guint8 header[4];
    guint8 packet[60];

    make_ipv4(packet, 60);
    g_assert_true(sshtun_frame_put_af(header, packet, sizeof packet));
    g_assert_cmpmem(header, 4, "\0\0\0\x02", 4);
    make_ipv6(packet, 20);
    g_assert_true(sshtun_frame_put_af(header, packet, sizeof packet));
    g_assert_cmpmem(header, 4, "\0\0\0\x18", 4);
    packet[0] = 0x50;
    g_assert_false(sshtun_frame_put_af(header, packet, sizeof packet));
    g_assert_false(sshtun_frame_put_af(header, packet, 0));
}

/* Frames joined into one stream come apart again, whatever the split. */
static void
test_stream_of_frames(void)
{
    guint8 stream[4096];
    gsize sizes[3], total = 0;

    sizes[0] = make_p2p_frame(stream, 4, 84);
    sizes[1] = make_p2p_frame(stream + sizes[0], 6, 1000);
    sizes[2] = make_p2p_frame(stream + sizes[0] + sizes[1], 4, 20);
    total = sizes[0] + sizes[1] + sizes[2];

    for (gsize avail = 0; avail <= total; avail++) {
        gsize off = 0;
        for (int i = 0; i < 3; i++) {
            const char *why = NULL;
            gsize len = 0;
            SshtunFrameStatus st = sshtun_frame_next(SSHTUN_MODE_POINT_TO_POINT, stream + off,
                                                     avail - off, MAX_PACKET, &len, &why);
            if (off + sizes[i] <= avail) {
                g_assert_cmpint(st, ==, SSHTUN_FRAME_COMPLETE);
                g_assert_cmpuint(len, ==, sizes[i]);
                off += len;
            } else {
                g_assert_cmpint(st, ==, SSHTUN_FRAME_NEED_MORE);
                break;
            }
        }
    }
}

static void
expect_status(SshtunTunnelMode mode, const guint8 *buf, gsize len, gsize max,
              SshtunFrameStatus expected, const char *part)
{
    const char *why = NULL;
    gsize frame_len = 0;

    g_assert_cmpint(sshtun_frame_next(mode, buf, len, max, &frame_len, &why), ==, expected);
    g_assert_nonnull(why);
    g_assert_nonnull(strstr(why, part));
}

static void
expect_invalid(SshtunTunnelMode mode, const guint8 *buf, gsize len, gsize max, const char *part)
{
    expect_status(mode, buf, len, max, SSHTUN_FRAME_INVALID, part);
}

static void
test_malformed_point_to_point(void)
{
    guint8 buf[256];

    make_p2p_frame(buf, 4, 100);
    buf[3] = 7; /* unknown family */
    expect_invalid(SSHTUN_MODE_POINT_TO_POINT, buf, 104, MAX_PACKET, "address family");
    make_p2p_frame(buf, 4, 100);
    buf[3] = 24; /* says IPv6, holds IPv4 */
    expect_invalid(SSHTUN_MODE_POINT_TO_POINT, buf, 104, MAX_PACKET, "IPv6 frame");
    make_p2p_frame(buf, 4, 100);
    buf[6] = 0;
    buf[7] = 10; /* total length below the header */
    expect_invalid(SSHTUN_MODE_POINT_TO_POINT, buf, 104, MAX_PACKET, "impossible length");
    make_p2p_frame(buf, 4, 100);
    buf[4] = 0x43; /* a header of 12 bytes */
    expect_invalid(SSHTUN_MODE_POINT_TO_POINT, buf, 104, MAX_PACKET, "impossible length");
    make_p2p_frame(buf, 4, 100);
    buf[4 + 8] ^= 1; /* the TTL changed, the checksum not */
    expect_invalid(SSHTUN_MODE_POINT_TO_POINT, buf, 104, MAX_PACKET, "checksum");
    make_p2p_frame(buf, 4, 200);
    expect_invalid(SSHTUN_MODE_POINT_TO_POINT, buf, 204, 100, "maximum packet");
}

/* Payload length 0: a bare header unless a Hop-by-Hop header follows, when
 * the end is nowhere in the header (a jumbogram, or a forgery). */
static void
test_ipv6_payload_length_zero(void)
{
    guint8 buf[256];
    const char *why = NULL;
    gsize len = 0;

    make_p2p_frame(buf, 6, 0);
    buf[4 + 6] = 59; /* No Next Header */
    g_assert_cmpint(
            sshtun_frame_next(SSHTUN_MODE_POINT_TO_POINT, buf, sizeof buf, MAX_PACKET, &len, &why),
            ==, SSHTUN_FRAME_COMPLETE);
    g_assert_cmpuint(len, ==, 44);
    buf[4 + 6] = 0; /* Hop-by-Hop */
    expect_status(SSHTUN_MODE_POINT_TO_POINT, buf, sizeof buf, MAX_PACKET, SSHTUN_FRAME_END_UNKNOWN,
                  "payload length 0");
    /* Not decided before the next header is there. */
    g_assert_cmpint(
            sshtun_frame_next(SSHTUN_MODE_POINT_TO_POINT, buf, 4 + 6, MAX_PACKET, &len, &why), ==,
            SSHTUN_FRAME_NEED_MORE);
}

static void
test_ethernet(void)
{
    guint8 buf[2048];
    const char *why = NULL;
    gsize len = 0;

    /* IPv4 in Ethernet II */
    memset(buf, 0, sizeof buf);
    memset(buf, 0xff, 6); /* broadcast */
    buf[12] = 0x08;
    buf[13] = 0x00;
    make_ipv4(buf + 14, 84);
    g_assert_cmpint(sshtun_frame_next(SSHTUN_MODE_ETHERNET, buf, 2048, MAX_PACKET, &len, &why), ==,
                    SSHTUN_FRAME_COMPLETE);
    g_assert_cmpuint(len, ==, 98);

    /* VLAN-tagged IPv6 */
    buf[12] = 0x81;
    buf[13] = 0x00;
    buf[16] = 0x86;
    buf[17] = 0xdd;
    make_ipv6(buf + 18, 16);
    g_assert_cmpint(sshtun_frame_next(SSHTUN_MODE_ETHERNET, buf, 2048, MAX_PACKET, &len, &why), ==,
                    SSHTUN_FRAME_COMPLETE);
    g_assert_cmpuint(len, ==, 18 + 56);

    /* ARP for IPv4 over Ethernet: 28 bytes of payload */
    buf[12] = 0x08;
    buf[13] = 0x06;
    buf[14 + 4] = 6;
    buf[14 + 5] = 4;
    g_assert_cmpint(sshtun_frame_next(SSHTUN_MODE_ETHERNET, buf, 2048, MAX_PACKET, &len, &why), ==,
                    SSHTUN_FRAME_COMPLETE);
    g_assert_cmpuint(len, ==, 42);

    /* 802.3 with LLC: the type field is the length */
    buf[12] = 0x00;
    buf[13] = 0x26;
    g_assert_cmpint(sshtun_frame_next(SSHTUN_MODE_ETHERNET, buf, 2048, MAX_PACKET, &len, &why), ==,
                    SSHTUN_FRAME_COMPLETE);
    g_assert_cmpuint(len, ==, 14 + 38);
    buf[13] = 0x02; /* shorter than DSAP, SSAP and control */
    expect_invalid(SSHTUN_MODE_ETHERNET, buf, 2048, MAX_PACKET, "LLC");

    /* Not enough for the header yet */
    g_assert_cmpint(sshtun_frame_next(SSHTUN_MODE_ETHERNET, buf, 13, MAX_PACKET, &len, &why), ==,
                    SSHTUN_FRAME_NEED_MORE);

    /* A type whose length cannot be known */
    buf[12] = 0x88;
    buf[13] = 0xcc;
    expect_invalid(SSHTUN_MODE_ETHERNET, buf, 2048, MAX_PACKET, "cannot be determined");

    /* Zeros where a destination would be: padding, not a frame */
    memset(buf, 0, 6);
    expect_invalid(SSHTUN_MODE_ETHERNET, buf, 2048, MAX_PACKET, "00:00:00:00:00:00");
    memset(buf, 0xff, 6);

    /* Three VLAN tags */
    for (int i = 0; i < 3; i++) {
        buf[12 + 4 * i] = 0x81;
        buf[13 + 4 * i] = 0x00;
    }
    expect_invalid(SSHTUN_MODE_ETHERNET, buf, 2048, MAX_PACKET, "VLAN");
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/frame/put-af", test_put_af);
    g_test_add_func("/frame/stream-of-frames", test_stream_of_frames);
    g_test_add_func("/frame/malformed-point-to-point", test_malformed_point_to_point);
    g_test_add_func("/frame/ipv6-payload-length-zero", test_ipv6_payload_length_zero);
    g_test_add_func("/frame/ethernet", test_ethernet);
    return g_test_run();
}
