/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include "socks.h"

#include <string.h>

/* Feeds @data one byte more at a time, as a slow client would send it, and
 * checks that every prefix asks for more. */
static SshtunSocksStatus
feed_slowly(SshtunSocks *s, const guint8 *data, gsize len, gsize *consumed, guint8 *reply,
            gsize *reply_len)
{
    const char *why = NULL;

    for (gsize n = 1; n < len; n++) {
        SshtunSocks copy = *s;
        g_assert_cmpint(sshtun_socks_feed(&copy, data, n, consumed, reply, reply_len, &why), ==,
                        SSHTUN_SOCKS_NEED_MORE);
    }
    return sshtun_socks_feed(s, data, len, consumed, reply, reply_len, &why);
}

static void
test_socks5_name(void)
{
    static const guint8 greeting[] = { 5, 2, 2, 0 };
    static const guint8 request[]
            = { 5, 1, 0, 3, 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 0x1f, 0x90 };
    SshtunSocks s = { 0 };
    guint8 reply[SSHTUN_SOCKS_REPLY_MAX];
    gsize consumed, reply_len;

    g_assert_cmpint(feed_slowly(&s, greeting, sizeof greeting, &consumed, reply, &reply_len), ==,
                    SSHTUN_SOCKS_GREETED);
    g_assert_cmpuint(consumed, ==, sizeof greeting);
    g_assert_cmpuint(reply_len, ==, 2);
    g_assert_cmpuint(reply[1], ==, 0);
    g_assert_cmpint(feed_slowly(&s, request, sizeof request, &consumed, reply, &reply_len), ==,
                    SSHTUN_SOCKS_REQUEST);
    g_assert_cmpuint(consumed, ==, sizeof request);
    g_assert_cmpstr(s.host, ==, "example");
    g_assert_cmpuint(s.port, ==, 8080);
    reply_len = sshtun_socks_reply(&s, TRUE, reply);
    g_assert_cmpuint(reply_len, ==, 10);
    g_assert_cmpuint(reply[0], ==, 5);
    g_assert_cmpuint(reply[1], ==, 0);
}

static void
test_socks5_addresses_and_pipelined_data(void)
{
    static const guint8 both[] = { 5, 1, 0, 5, 1, 0, 4, 0x20, 0x01, 0x0d, 0xb8, 0,   0,   0,
                                   0, 0, 0, 0, 0, 0, 0, 0,    1,    0,    80,   'G', 'E', 'T' };
    SshtunSocks s = { 0 };
    guint8 reply[SSHTUN_SOCKS_REPLY_MAX];
    gsize consumed, reply_len, offset = 0;
    const char *why;

    g_assert_cmpint(sshtun_socks_feed(&s, both, sizeof both, &consumed, reply, &reply_len, &why),
                    ==, SSHTUN_SOCKS_GREETED);
    offset += consumed;
    g_assert_cmpint(sshtun_socks_feed(&s, both + offset, sizeof both - offset, &consumed, reply,
                                      &reply_len, &why),
                    ==, SSHTUN_SOCKS_REQUEST);
    offset += consumed;
    g_assert_cmpstr(s.host, ==, "2001:db8::1");
    g_assert_cmpuint(s.port, ==, 80);
    /* What follows the request is the stream's. */
    g_assert_cmpuint(sizeof both - offset, ==, 3);
}

static void
test_socks4_and_4a(void)
{
    static const guint8 v4[] = { 4, 1, 0, 22, 192, 0, 2, 7, 'b', 'o', 'b', 0 };
    static const guint8 v4a[] = { 4, 1, 1, 187, 0, 0, 0, 1, 0, 'w', 'e', 'b', '.', 'x', 0 };
    SshtunSocks s = { 0 };
    guint8 reply[SSHTUN_SOCKS_REPLY_MAX];
    gsize consumed, reply_len;

    g_assert_cmpint(feed_slowly(&s, v4, sizeof v4, &consumed, reply, &reply_len), ==,
                    SSHTUN_SOCKS_REQUEST);
    g_assert_cmpstr(s.host, ==, "192.0.2.7");
    g_assert_cmpuint(s.port, ==, 22);
    g_assert_cmpuint(consumed, ==, sizeof v4);
    /* The answer waits for the channel. */
    g_assert_cmpuint(reply_len, ==, 0);

    memset(&s, 0, sizeof s);
    g_assert_cmpint(feed_slowly(&s, v4a, sizeof v4a, &consumed, reply, &reply_len), ==,
                    SSHTUN_SOCKS_REQUEST);
    g_assert_cmpstr(s.host, ==, "web.x");
    g_assert_cmpuint(s.port, ==, 443);
    reply_len = sshtun_socks_reply(&s, FALSE, reply);
    g_assert_cmpuint(reply_len, ==, 8);
    g_assert_cmpuint(reply[1], ==, 91);
}

typedef struct {
    const char *name;
    guint8 bytes[24];
    gsize len;
    gboolean greet_first;
} BadCase;

static void
test_refusals(void)
{
    static const BadCase cases[] = {
        { "not SOCKS", { 'G', 'E', 'T', ' ' }, 4 },
        { "SOCKS5 with authentication only", { 5, 1, 2 }, 3 },
        { "SOCKS5 BIND", { 5, 2, 0, 1, 1, 2, 3, 4, 0, 80 }, 10, TRUE },
        { "SOCKS5 UDP", { 5, 3, 0, 1, 1, 2, 3, 4, 0, 80 }, 10, TRUE },
        { "SOCKS5 unknown address type", { 5, 1, 0, 9, 1, 2, 3, 4, 0, 80 }, 10, TRUE },
        { "SOCKS5 empty name", { 5, 1, 0, 3, 0, 0, 80 }, 7, TRUE },
        { "SOCKS5 NUL in name", { 5, 1, 0, 3, 3, 'a', 0, 'b', 0, 80 }, 10, TRUE },
        { "SOCKS4 BIND", { 4, 2, 0, 80, 1, 2, 3, 4, 0 }, 9 },
        { "SOCKS4a empty name", { 4, 1, 0, 80, 0, 0, 0, 1, 0, 0 }, 10 },
    };

    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        SshtunSocks s = { 0 };
        guint8 reply[SSHTUN_SOCKS_REPLY_MAX];
        gsize consumed, reply_len;
        const char *why = NULL;

        if (cases[i].greet_first)
            s = (SshtunSocks){ .version = 5, .greeted = TRUE };
        if (sshtun_socks_feed(&s, cases[i].bytes, cases[i].len, &consumed, reply, &reply_len, &why)
            != SSHTUN_SOCKS_REFUSED)
            g_error("%s: not refused", cases[i].name);
        g_assert_nonnull(why);
    }
}

static void
test_overlong_fields_refused(void)
{
    guint8 request[600];
    SshtunSocks s = { 0 };
    guint8 reply[SSHTUN_SOCKS_REPLY_MAX];
    gsize consumed, reply_len;
    const char *why = NULL;

    /* A user id that never ends must not be waited for forever. */
    memset(request, 'u', sizeof request);
    memcpy(request, (guint8[]){ 4, 1, 0, 80, 1, 2, 3, 4 }, 8);
    g_assert_cmpint(
            sshtun_socks_feed(&s, request, sizeof request, &consumed, reply, &reply_len, &why), ==,
            SSHTUN_SOCKS_REFUSED);
    g_assert_nonnull(strstr(why, "too long"));
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/socks/socks5-name", test_socks5_name);
    g_test_add_func("/socks/socks5-addresses-and-pipelined-data",
                    test_socks5_addresses_and_pipelined_data);
    g_test_add_func("/socks/socks4-and-4a", test_socks4_and_4a);
    g_test_add_func("/socks/refusals", test_refusals);
    g_test_add_func("/socks/overlong-fields-refused", test_overlong_fields_refused);
    return g_test_run();
}
