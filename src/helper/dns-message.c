/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include "dns-message.h"

#include <arpa/nameser.h>
#include <resolv.h>
#include <string.h>

#define FLAGS_RESPONSE  0x80 /* first flags byte: QR */
#define FLAGS_OPCODE    0x78 /* first flags byte: the opcode's bits */
#define FLAGS_RECURSION 0x01 /* first flags byte: RD */
#define RCODE_SERVFAIL  2

gboolean
sshtun_dns_answers(const guint8 *query, gsize query_len, const guint8 *answer, gsize answer_len)
{
    return query_len >= SSHTUN_DNS_HEADER && answer_len >= SSHTUN_DNS_HEADER
           && answer_len <= SSHTUN_DNS_MESSAGE_MAX && answer[0] == query[0] && answer[1] == query[1]
           && (answer[2] & FLAGS_RESPONSE);
}

gsize
sshtun_dns_servfail(const guint8 *query, gsize query_len, guint8 *out)
{
    gsize len = SSHTUN_DNS_HEADER;
    gboolean one_question;

    if (query_len < SSHTUN_DNS_HEADER || query_len > SSHTUN_DNS_MESSAGE_MAX
        || (query[2] & FLAGS_RESPONSE))
        return 0;
    one_question = query[4] == 0 && query[5] == 1;
    if (one_question) {
        /* The name's end, by the C library's own parser (it refuses a name
         * that runs past the message), then type and class. */
        int name = dn_skipname(query + SSHTUN_DNS_HEADER, query + query_len);

        if (name > 0 && SSHTUN_DNS_HEADER + (gsize)name + 4 <= query_len)
            len = SSHTUN_DNS_HEADER + (gsize)name + 4;
        else
            one_question = FALSE;
    }
    memcpy(out, query, len);
    out[2] = FLAGS_RESPONSE | (query[2] & (FLAGS_OPCODE | FLAGS_RECURSION));
    out[3] = 0x80 | RCODE_SERVFAIL; /* RA: this resolver recurses, through the server */
    out[4] = 0;
    out[5] = one_question ? 1 : 0;
    memset(out + 6, 0, 6); /* no answer, authority or additional records */
    return len;
}
