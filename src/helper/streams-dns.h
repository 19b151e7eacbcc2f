/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Streams mode's resolver (docs/streams.md, "DNS"). The service's table
 * redirects UDP to port 53 of the connection's DNS servers here, to a
 * socket on 127.0.0.1 or ::1. Each query is asked over TCP (two bytes of
 * length, then the message) in a direct-tcpip channel of its own to a DNS
 * server of the connection, which the server reaches as it reaches any
 * destination: the server's resolver answers names only it knows. The
 * answer goes back to the asking socket from the address it asked (the
 * kernel's conntrack undoes the redirect).
 *
 * Which of the connection's servers the query was sent to is not known
 * (conntrack tells a UDP socket nothing): every query goes to the first
 * that answers, in the order remote-command's DNS lines and then the
 * profile's ipv4.dns and ipv6.dns give them.
 */
#ifndef NM_SSHTUN_HELPER_STREAMS_DNS_H
#define NM_SSHTUN_HELPER_STREAMS_DNS_H

#include "helper.h"

#include <poll.h>

/* Queries in flight at once; more wait in the sockets' receive queues. */
#define SSHTUN_STREAMS_DNS_QUERIES_MAX 64

/* Opens the UDP sockets on 127.0.0.1 and ::1 (ports the kernel picks);
 * @ports gets them, 0 for a family that cannot listen. */
void sshtun_streams_dns_listen(SshtunHelper *h, guint ports[2]);

/* Adds the descriptors to wait on; records their indices. */
void sshtun_streams_dns_add_poll_fds(SshtunHelper *h, GArray *fds);

/* Takes new queries and answers, given the poll results in @fds (from the
 * previous sshtun_streams_dns_add_poll_fds). *timeout_ms: when the next
 * query's time runs out (-1: none). Runs before the forwards' round, which
 * opens the queries' channels in the same round. */
void sshtun_streams_dns_round(SshtunHelper *h, const GArray *fds, int *timeout_ms);

/* The end: drops the queries and closes the sockets. */
void sshtun_streams_dns_close(SshtunHelper *h);

#endif
