/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The little of DNS that streams mode's resolver needs (streams-dns.c): it
 * carries a query it does not read to a DNS server over TCP, and checks
 * only that what comes back answers that query.
 */
#ifndef NM_SSHTUN_HELPER_DNS_MESSAGE_H
#define NM_SSHTUN_HELPER_DNS_MESSAGE_H

#include <glib.h>

/* A DNS header's length: no message is shorter. */
#define SSHTUN_DNS_HEADER 12
/* Over TCP a message is preceded by its length in two bytes (RFC 1035
 * 4.2.2), so none is longer than this. */
#define SSHTUN_DNS_MESSAGE_MAX 65535

/* Whether @answer (a whole message) answers @query: a header's length at
 * least, the same ID, the response bit set. Anything else from the
 * network behind the server is not passed on. */
gboolean sshtun_dns_answers(const guint8 *query, gsize query_len, const guint8 *answer,
                            gsize answer_len);

/* Writes into @out (at least @query_len bytes) the SERVFAIL answer to
 * @query: its ID, opcode and question, no records, so that the asking
 * resolver gives up at once instead of waiting. Returns its length, 0 when
 * @query is not a query this could answer. */
gsize sshtun_dns_servfail(const guint8 *query, gsize query_len, guint8 *out);

#endif
