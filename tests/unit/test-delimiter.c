/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The delimiter against the stream libssh2 makes of sshd's messages: joined,
 * read in parts, and the size of what is still queued known after each
 * read. */
#include "config.h"

#include "delimiter.h"
#include "frame.h"
#include "test-packets.h"

#include <string.h>

#define MAX_PACKET 32768

static guint32 rng_state = 1;

static guint8
next_random(void)
{
    rng_state = rng_state * 1103515245u + 12345u;
    return (guint8)(rng_state >> 16);
}

/* One message: a point-to-point frame holding an IPv4 packet of @len. */
static GBytes *
p2p_ipv4(guint16 len, guint8 fill)
{
    guint8 *m = g_malloc(4u + len);

    memset(m, fill, 4u + len);
    memcpy(m, "\0\0\0\x02", 4);
    m[4] = 0x45;
    m[4 + 2] = (guint8)(len >> 8);
    m[4 + 3] = (guint8)len;
    test_set_ipv4_checksum(m + 4);
    return g_bytes_new_take(m, 4u + len);
}

/* An IPv6 packet of payload length 0 with a Hop-by-Hop header, and behind
 * it bytes that read as a whole frame of their own: what a host behind the
 * server sends to desynchronize a reader that trusts the header. */
static GBytes *
p2p_ipv6_forged(void)
{
    g_autoptr(GBytes) inner = p2p_ipv4(60, 0x66);
    gsize inner_len = g_bytes_get_size(inner);
    guint8 *m = g_malloc0(4 + 40 + 8 + inner_len);

    memcpy(m, "\0\0\0\x18", 4);
    m[4] = 0x60;
    m[4 + 6] = 0;   /* Hop-by-Hop, payload length 0 */
    m[4 + 40] = 59; /* its next header: none; no Jumbo option */
    memcpy(m + 4 + 40 + 8, g_bytes_get_data(inner, NULL), inner_len);
    return g_bytes_new_take(m, 4 + 40 + 8 + inner_len);
}

/* An Ethernet frame holding an IPv4 packet of @ip_len, with an 802.1Q tag
 * when @tagged, padded (with @pad_byte, or random bytes when it is -1) to
 * @frame_len. */
static GBytes *
eth_ipv4_frame(gboolean tagged, guint16 ip_len, gsize frame_len, int pad_byte)
{
    gsize header = tagged ? 18u : 14u;
    gsize len = MAX(frame_len, header + ip_len);
    guint8 *m = g_malloc0(len);
    guint8 *ip = m + header;

    memset(m, 0x02, 6);
    memset(m + 6, 0x04, 6);
    if (tagged) {
        m[12] = 0x81;
        m[15] = 5; /* VLAN 5 */
    }
    m[header - 2] = 0x08;
    ip[0] = 0x45;
    ip[2] = (guint8)(ip_len >> 8);
    ip[3] = (guint8)ip_len;
    ip[8] = 64;
    test_set_ipv4_checksum(ip);
    for (gsize i = header + ip_len; i < len; i++)
        m[i] = pad_byte < 0 ? next_random() : (guint8)pad_byte;
    return g_bytes_new_take(m, len);
}

static GBytes *
eth_ipv4(guint16 ip_len, gsize frame_len, int pad_byte)
{
    return eth_ipv4_frame(FALSE, ip_len, frame_len, pad_byte);
}

/* An ARP request, 42 bytes, padded likewise to @frame_len. */
static GBytes *
eth_arp(gsize frame_len, int pad_byte)
{
    gsize len = MAX(frame_len, 42u);
    guint8 *m = g_malloc0(len);

    memset(m, 0xff, 6);
    memset(m + 6, 0x04, 6);
    m[12] = 0x08;
    m[13] = 0x06;
    m[15] = 1;
    m[16] = 0x08;
    m[18] = 6;
    m[19] = 4;
    m[21] = 1;
    for (gsize i = 42; i < len; i++)
        m[i] = pad_byte < 0 ? next_random() : (guint8)pad_byte;
    return g_bytes_new_take(m, len);
}

static GBytes *
eth_unknown_type(void)
{
    guint8 *m = g_malloc0(80);

    memset(m, 0x01, 6);
    memset(m + 6, 0x04, 6);
    m[12] = 0x88;
    m[13] = 0xcc; /* LLDP */
    return g_bytes_new_take(m, 80);
}

/* libssh2 as the relay sees it: @groups[i] messages arrive before read i,
 * and each read takes at most @read_size bytes. Returns the frames the
 * delimiter delivered. */
static GPtrArray *
run_stream(SshtunTunnelMode mode, GBytes **messages, guint n_messages, const guint *groups,
           guint n_groups, gsize read_size, guint64 *dropped)
{
    g_autoptr(SshtunDelimiter) d = sshtun_delimiter_new(mode, MAX_PACKET);
    g_autoptr(GByteArray) queue = g_byte_array_new();
    GPtrArray *delivered = g_ptr_array_new_with_free_func((GDestroyNotify)g_bytes_unref);
    guint next_message = 0;
    const char *why;

    *dropped = 0;
    for (guint round = 0; round < n_groups || queue->len > 0; round++) {
        gsize room, n;
        guint8 *space;
        const guint8 *frame;
        gsize len;

        for (guint i = 0; round < n_groups && i < groups[round] && next_message < n_messages; i++) {
            gsize size;
            const guint8 *data = g_bytes_get_data(messages[next_message++], &size);
            g_byte_array_append(queue, data, (guint)size);
        }
        space = sshtun_delimiter_space(d, &room);
        n = MIN(MIN(room, read_size), queue->len);
        if (n == 0)
            continue;
        memcpy(space, queue->data, n);
        g_byte_array_remove_range(queue, 0, (guint)n);
        sshtun_delimiter_took(d, n, queue->len);
        while (sshtun_delimiter_next(d, &frame, &len))
            g_ptr_array_add(delivered, g_bytes_new(frame, len));
        n = sshtun_delimiter_take_dropped(d, &why);
        /* Every drop says why, also one that spans several reads. */
        g_assert_true(n == 0 || why != NULL);
        *dropped += n;
    }
    return delivered;
}

static void
assert_delivered(GPtrArray *delivered, GBytes **expected, guint n_expected)
{
    g_assert_cmpuint(delivered->len, ==, n_expected);
    for (guint i = 0; i < n_expected; i++)
        g_assert_true(g_bytes_equal(delivered->pdata[i], expected[i]));
}

static void
free_messages(GBytes **messages, guint n)
{
    for (guint i = 0; i < n; i++)
        g_bytes_unref(messages[i]);
}

/* Joined messages come apart whole, whatever the read size. */
static void
test_joined_frames_any_read_size(void)
{
    GBytes *m[] = { p2p_ipv4(84, 1), p2p_ipv4(1400, 2), p2p_ipv4(20, 3), p2p_ipv4(576, 4) };
    const guint groups[] = { 4 };
    const gsize sizes[] = { 1, 3, 7, 100, 1000, 65536 };

    for (guint i = 0; i < G_N_ELEMENTS(sizes); i++) {
        guint64 dropped;
        g_autoptr(GPtrArray) out
                = run_stream(SSHTUN_MODE_POINT_TO_POINT, m, 4, groups, 1, sizes[i], &dropped);
        assert_delivered(out, m, 4);
        g_assert_cmpuint(dropped, ==, 0);
    }
    free_messages(m, G_N_ELEMENTS(m));
}

/* The forged IPv6 header is dropped with what it hides, and nothing behind
 * it is taken for a frame; the message after it, arriving later, comes. */
static void
test_forged_ipv6_length_hides_nothing(void)
{
    GBytes *m[] = { p2p_ipv4(84, 1), p2p_ipv6_forged(), p2p_ipv4(100, 2) };
    const guint alone[] = { 1, 1, 1 };
    const guint together[] = { 3 };
    guint64 dropped;
    g_autoptr(GPtrArray) separate = NULL;
    g_autoptr(GPtrArray) joined = NULL;

    /* In small reads the next message is queued before the forged one is
     * read: the drop reaches its end and spans several reads. */
    separate = run_stream(SSHTUN_MODE_POINT_TO_POINT, m, 3, alone, 3, 7, &dropped);
    g_assert_cmpuint(separate->len, ==, 1);
    g_assert_true(g_bytes_equal(separate->pdata[0], m[0]));
    g_assert_cmpuint(dropped, ==, g_bytes_get_size(m[1]) + g_bytes_get_size(m[2]));
    g_clear_pointer(&separate, g_ptr_array_unref);
    separate = run_stream(SSHTUN_MODE_POINT_TO_POINT, m, 3, alone, 3, 65536, &dropped);
    g_assert_cmpuint(separate->len, ==, 2);
    g_assert_true(g_bytes_equal(separate->pdata[0], m[0]));
    g_assert_true(g_bytes_equal(separate->pdata[1], m[2]));
    g_assert_cmpuint(dropped, ==, g_bytes_get_size(m[1]));

    /* Joined with the next in one read: that one is lost too, never a
     * frame made of the forger's bytes. */
    joined = run_stream(SSHTUN_MODE_POINT_TO_POINT, m, 3, together, 1, 65536, &dropped);
    g_assert_cmpuint(joined->len, ==, 1);
    g_assert_true(g_bytes_equal(joined->pdata[0], m[0]));
    free_messages(m, G_N_ELEMENTS(m));
}

/* A header that claims more than its message held: the reader does not
 * wait for bytes that belong to the next message. */
static void
test_length_beyond_the_message(void)
{
    GBytes *m[2] = { NULL, p2p_ipv4(100, 2) };
    const guint alone[] = { 1, 1 };
    guint64 dropped;
    g_autoptr(GPtrArray) out = NULL;
    g_autoptr(GBytes) whole = p2p_ipv4(200, 1);

    m[0] = g_bytes_new_from_bytes(whole, 0, 150);
    out = run_stream(SSHTUN_MODE_POINT_TO_POINT, m, 2, alone, 2, 65536, &dropped);
    assert_delivered(out, m + 1, 1);
    g_assert_cmpuint(dropped, ==, 150);
    free_messages(m, G_N_ELEMENTS(m));
}

/* Padded ARP requests and IPv4 frames (zeros, or whatever a card leaves),
 * joined with frames that follow, come out as the server read them. */
static void
test_ethernet_padding(void)
{
    for (int pad = -1; pad <= 0; pad++) {
        for (guint round = 0; round < 200; round++) {
            GBytes *m[] = { eth_arp(60, pad),
                            eth_ipv4(1400, 0, 0),
                            eth_ipv4(40, 60, pad),
                            eth_arp(42, 0),
                            eth_ipv4(84, 0, 0),
                            eth_ipv4(20, 60, pad),
                            eth_ipv4_frame(TRUE, 30, 60, pad),
                            eth_arp(60, pad),
                            eth_ipv4_frame(TRUE, 1000, 0, 0),
                            eth_ipv4_frame(TRUE, 20, 60, pad),
                            eth_ipv4_frame(TRUE, 28, 60, pad) };
            const guint groups[] = { G_N_ELEMENTS(m) };
            guint64 dropped;
            g_autoptr(GPtrArray) out = run_stream(SSHTUN_MODE_ETHERNET, m, G_N_ELEMENTS(m), groups,
                                                  1, 65536, &dropped);

            /* Random padding may read either way now and then: then the
             * rest is given up, never made into a frame. */
            if (pad == 0 || dropped == 0)
                assert_delivered(out, m, G_N_ELEMENTS(m));
            for (guint i = 0; i < out->len; i++) {
                gsize len = g_bytes_get_size(out->pdata[i]);
                g_assert_true(g_bytes_equal(out->pdata[i], m[i])
                              || (len < g_bytes_get_size(m[i])
                                  && memcmp(g_bytes_get_data(out->pdata[i], NULL),
                                            g_bytes_get_data(m[i], NULL), len)
                                             == 0));
            }
            free_messages(m, G_N_ELEMENTS(m));
        }
    }
}

/* Each frame in a read of its own: the padding is known exactly. */
static void
test_ethernet_padding_alone(void)
{
    GBytes *m[] = { eth_arp(60, -1), eth_ipv4(40, 60, -1), eth_ipv4_frame(TRUE, 28, 64, -1) };
    const guint groups[] = { 1, 1, 1 };
    guint64 dropped;
    g_autoptr(GPtrArray) out = run_stream(SSHTUN_MODE_ETHERNET, m, 3, groups, 3, 65536, &dropped);

    assert_delivered(out, m, 3);
    g_assert_cmpuint(dropped, ==, 0);
    free_messages(m, G_N_ELEMENTS(m));
}

/* A frame whose end no header gives is dropped; the session goes on. */
static void
test_ethernet_unknown_type(void)
{
    GBytes *m[] = { eth_unknown_type(), eth_ipv4(100, 0, 0) };
    const guint groups[] = { 1, 1 };
    guint64 dropped;
    g_autoptr(GPtrArray) out = run_stream(SSHTUN_MODE_ETHERNET, m, 2, groups, 2, 65536, &dropped);

    assert_delivered(out, m + 1, 1);
    g_assert_cmpuint(dropped, ==, 80);
    free_messages(m, G_N_ELEMENTS(m));
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/delimiter/joined-frames-any-read-size", test_joined_frames_any_read_size);
    g_test_add_func("/delimiter/forged-ipv6-length-hides-nothing",
                    test_forged_ipv6_length_hides_nothing);
    g_test_add_func("/delimiter/length-beyond-the-message", test_length_beyond_the_message);
    g_test_add_func("/delimiter/ethernet-padding", test_ethernet_padding);
    g_test_add_func("/delimiter/ethernet-padding-alone", test_ethernet_padding_alone);
    g_test_add_func("/delimiter/ethernet-unknown-type", test_ethernet_unknown_type);
    return g_test_run();
}
