/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libssh2's I/O, routed through the helper.
 *
 * Each SSH session (a jump host's, the server's) is an SshtunSession that runs
 * over the TCP socket or over a direct-tcpip channel of the session below.
 *
 * Sending: once the tunnel runs, libssh2's send callback only appends the
 * encrypted bytes to the link's queue and reports them sent; the poll loop
 * writes the queues down the chain, the last with one send() per round.
 * libssh2 then never holds a half-sent packet, which in non-blocking mode
 * would make its next send of a different packet (a window adjustment, a
 * keepalive) fail with LIBSSH2_ERROR_BAD_USE, and many small SSH packets
 * leave in one system call.
 *
 * Receiving: the socket's recv callback notes the time of the last byte
 * from the network, which is how a dead link is told from a quiet one.
 */
#ifndef NM_SSHTUN_HELPER_TRANSPORT_H
#define NM_SSHTUN_HELPER_TRANSPORT_H

#include "helper.h"

/* Queue size: libssh2 writes are accepted up to the hard limit; the poll
 * loop stops taking packets from the tun device while the queues and the
 * socket's unsent bytes together exceed the backlog limit. Everything
 * beyond waits in the tun device's own queue, where TCP inside the tunnel
 * sees it: a deep buffer here would only add latency under load. */
#define SSHTUN_OUT_QUEUE_HARD_LIMIT (512 * 1024)
#define SSHTUN_BACKLOG_LIMIT        (192 * 1024)
/* The kernel wakes the poll loop for writing once this little is unsent. */
#define SSHTUN_NOTSENT_LOWAT (64 * 1024)

/* A new session on top of the links so far (on h->sock for the first), with
 * the callbacks installed; h->session becomes it. */
SshtunSession *sshtun_transport_add_link(SshtunHelper *h, const char *name);

/* Switches from direct blocking I/O (setup) to the queues (relay). */
/* The handshake of the newest link is done: it stops keeping the server's
 * first bytes. */
void sshtun_transport_handshake_done(SshtunHelper *h);

void sshtun_transport_start_queueing(SshtunHelper *h);
void sshtun_transport_stop_queueing(SshtunHelper *h);

/* Bytes between the tun device and the wire: the queues and what the
 * kernel has not sent yet. */
gsize sshtun_transport_backlog(const SshtunHelper *h);

/* Whether bytes wait for the socket to take them (poll for POLLOUT). */
gboolean sshtun_transport_socket_pending(const SshtunHelper *h);

/* Whether a channel below the server's session holds received data that no
 * poll() would announce again. */
gboolean sshtun_transport_carrier_pending(const SshtunHelper *h);

/* Writes as much of the queues as the channels and the socket take. FALSE
 * on an error. */
gboolean sshtun_transport_flush(SshtunHelper *h);

/* Ends every session, server's first, and closes the socket. */
void sshtun_transport_close(SshtunHelper *h, const char *why);

#endif
