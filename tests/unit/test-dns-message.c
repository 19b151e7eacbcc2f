/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What streams mode's resolver checks of a DNS message (src/helper/dns-message.c). */
#include "config.h"

#include "dns-message.h"

#include <string.h>

/* A query for example.com A, ID 0x1234, recursion desired, with an EDNS
 * OPT record in the additional section. */
static const guint8 query[] = {
    0x12, 0x34, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, /* header */
    7,    'e',  'x',  'a',  'm',  'p',  'l',  'e',  3,    'c',  'o',  'm',
    0,    0x00, 0x01, 0x00, 0x01,                                     /* A, IN */
    0x00, 0x00, 0x29, 0x04, 0xd0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* OPT */
};

static void
test_answers(void)
{
    guint8 answer[sizeof query];

    memcpy(answer, query, sizeof query);
    answer[2] |= 0x80;
    g_assert_true(sshtun_dns_answers(query, sizeof query, answer, sizeof answer));
    /* Another ID: an answer to someone else's query, not passed on. */
    answer[1] = 0x35;
    g_assert_false(sshtun_dns_answers(query, sizeof query, answer, sizeof answer));
    answer[1] = 0x34;
    /* Not a response (the query echoed back). */
    g_assert_false(sshtun_dns_answers(query, sizeof query, query, sizeof query));
    /* Shorter than a header. */
    g_assert_false(sshtun_dns_answers(query, sizeof query, answer, 11));
    g_assert_false(sshtun_dns_answers(query, 3, answer, sizeof answer));
}

static void
test_servfail(void)
{
    guint8 out[sizeof query];
    gsize len = sshtun_dns_servfail(query, sizeof query, out);

    /* Header and question, the OPT record left out with its count. */
    g_assert_cmpuint(len, ==, 12 + 13 + 4);
    g_assert_cmphex(out[0], ==, 0x12);
    g_assert_cmphex(out[1], ==, 0x34);
    g_assert_cmphex(out[2], ==, 0x81);     /* response, recursion desired */
    g_assert_cmphex(out[3] & 0x0f, ==, 2); /* SERVFAIL */
    g_assert_cmphex(out[5], ==, 1);
    for (guint i = 6; i < 12; i++)
        g_assert_cmphex(out[i], ==, 0);
    g_assert_cmpmem(out + 12, 17, query + 12, 17);
    g_assert_true(sshtun_dns_answers(query, sizeof query, out, len));
}

/* From another local program or a broken client: still no read past the
 * message, and no answer to an answer. */
static void
test_servfail_odd_queries(void)
{
    guint8 out[sizeof query];
    guint8 bad[sizeof query];

    g_assert_cmpuint(sshtun_dns_servfail(query, 11, out), ==, 0);
    memcpy(bad, query, sizeof query);
    bad[2] |= 0x80;
    g_assert_cmpuint(sshtun_dns_servfail(bad, sizeof bad, out), ==, 0);
    /* A name that runs past the end: header only, no question. */
    g_assert_cmpuint(sshtun_dns_servfail(query, 12 + 5, out), ==, 12);
    g_assert_cmphex(out[5], ==, 0);
    /* A label length pointing far beyond. */
    memcpy(bad, query, sizeof query);
    bad[12] = 63;
    g_assert_cmpuint(sshtun_dns_servfail(bad, 12 + 13 + 4, out), ==, 12);
    /* Two questions: the header alone answers it. */
    memcpy(bad, query, sizeof query);
    bad[5] = 2;
    g_assert_cmpuint(sshtun_dns_servfail(bad, sizeof bad, out), ==, 12);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/dns-message/answers", test_answers);
    g_test_add_func("/dns-message/servfail", test_servfail);
    g_test_add_func("/dns-message/servfail-odd-queries", test_servfail_odd_queries);
    return g_test_run();
}
