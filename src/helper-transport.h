/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libssh2's socket I/O, routed through the helper.
 *
 * Sending: once the tunnel runs, libssh2's send callback only appends the
 * encrypted bytes to SshtunOutQueue and reports them sent; the poll loop
 * writes the queue with one send() per round. libssh2 then never holds a
 * half-sent packet, which in non-blocking mode would make its next send of
 * a different packet (a window adjustment, a keepalive) fail with
 * LIBSSH2_ERROR_BAD_USE, and many small SSH packets leave in one system call.
 *
 * Receiving: the recv callback notes the time of the last byte from the
 * server, which is how a dead link is told from a quiet one.
 */
#ifndef NM_SSHTUN_HELPER_TRANSPORT_H
#define NM_SSHTUN_HELPER_TRANSPORT_H

#include "helper.h"

/* Queue size: libssh2 writes are accepted up to the hard limit; the poll
 * loop stops taking packets from the tun device above the soft limit. */
#define SSHTUN_OUT_QUEUE_SOFT_LIMIT (256 * 1024)
#define SSHTUN_OUT_QUEUE_HARD_LIMIT (1024 * 1024)

/* Creates the libssh2 session on h->sock with the callbacks installed. */
void sshtun_transport_init(SshtunHelper *h);

/* Switches from direct blocking sends (setup) to the queue (relay). */
void sshtun_transport_start_queueing(SshtunHelper *h);
void sshtun_transport_stop_queueing(SshtunHelper *h);

/* Bytes waiting in the queue. */
gsize sshtun_transport_queued(const SshtunHelper *h);

/* Writes as much of the queue as the socket takes. FALSE on a socket error. */
gboolean sshtun_transport_flush(SshtunHelper *h);

#endif
