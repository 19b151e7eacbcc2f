/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * SSH forwards (-L, -R, -D) inside the helper's one poll loop, next to the
 * tunnel.
 *
 * Local and dynamic forwards listen from start-up to the end, across
 * reconnects (a client that connects meanwhile waits in the listen
 * backlog); remote forwards are asked of every new session. Each accepted
 * connection pairs a socket with an SSH channel and moves bytes through two
 * fixed buffers:
 *
 *   client socket -> up buffer   -> channel   (stops reading the socket
 *                                              while the channel window is
 *                                              shut)
 *   channel       -> down buffer -> client socket   (stops reading the
 *                                              channel while the client does
 *                                              not take its bytes; the
 *                                              server then stops on the
 *                                              channel window)
 *
 * so a stalled client holds at most its buffers and one channel window, and
 * never the tunnel or another connection.
 */
#ifndef NM_SSHTUN_HELPER_FORWARD_H
#define NM_SSHTUN_HELPER_FORWARD_H

#include "helper.h"

#include <poll.h>
#include <sys/socket.h>

/* Per connection and direction. */
#define SSHTUN_FORWARD_BUFFER (16 * 1024)
/* Connections at once over all forwards; beyond, new ones wait in the
 * listen backlog. */
#define SSHTUN_FORWARD_CONNECTIONS_MAX 1024
/* The channel window OpenSSH gives a TCP forward: 2 MiB, 32 KiB packets. */
#define SSHTUN_FORWARD_WINDOW (2 * 1024 * 1024)
#define SSHTUN_FORWARD_PACKET (32 * 1024)
/* How long the server may take to open a connection's channel. libssh2
 * runs one channel open at a time per session, so a destination that
 * answers nothing (its SYNs dropped: sshd's connect waits two minutes)
 * would hold up every new connection behind it; past this its open fails
 * (libssh2's read timeout, settable from libssh2 1.11; 1.10 keeps its
 * 60 s) and its client is reset. A channel the server opens later stays
 * open on the server until the session ends. */
#define SSHTUN_FORWARD_OPEN_TIMEOUT_S 5
/* Streams mode carries every TCP connection of the machine, a thousand at
 * once if need be: what the server may send ahead of slow readers (libssh2
 * keeps it until read) is bounded over all of them. A connection gets a
 * full window while the windows open add up to less than the budget, and
 * the rest of it, but never less than the minimum, after: at most budget
 * + connections x minimum in all (128 MiB for 1,024), where 1,024 full
 * windows would be 2 GiB. */
#define SSHTUN_STREAMS_WINDOW_BUDGET (64 * 1024 * 1024)
#define SSHTUN_STREAMS_WINDOW_MIN    (64 * 1024)

typedef struct {
    struct sockaddr_storage addr;
    socklen_t len;
} SshtunAddress;

/* One socket (or, for remote forwards, one server-side port) that accepts
 * connections for a forward. */
typedef struct {
    const SshtunForward *forward;
    int fd;                     /* local: the listening socket; -1 for remote */
    LIBSSH2_LISTENER *listener; /* remote: in the current session */
    guint bound_port;           /* remote: the port the server listens on */
    GArray *targets;            /* remote: SshtunAddress of a host target */
    int poll_index;
    gint64 paused_until_us; /* local: out of descriptors, not polled until then */
    /* Streams mode: connections redirected here by the service's nftables
     * table; each goes to its original destination. */
    gboolean streams;
} SshtunListener;

struct _SshtunForwards {
    GPtrArray *listeners; /* SshtunListener * */
    GList *connections;   /* Conn * (forward-relay.c) */
    guint connection_count;
    GQueue opening;         /* connections waiting for their channel, head in flight */
    GQueue closing;         /* channels libssh2 has not finished closing */
    SshtunForward *streams; /* streams mode: what its listeners are, for messages */
    gsize streams_windows;  /* streams mode: the windows its open channels were given */
    /* Streams mode's resolver: its connections (streams-dns.c) belong to
     * no listening socket. */
    SshtunListener *resolver;
};

/* Binds every local and dynamic forward, as the unprivileged user, before
 * the first connection. FALSE (reason forward-failed) when a forward that
 * is not optional cannot listen. */
gboolean sshtun_forwards_listen_locally(SshtunHelper *h);

/* Streams mode: listens on 127.0.0.1 and ::1 on ports the kernel picks and
 * says which in the "streams" event. FALSE (reason forward-failed) when
 * neither loopback can listen. */
gboolean sshtun_streams_listen(SshtunHelper *h);

/* Streams mode's resolver: carries @fd (one end of a socket pair, taken
 * over) to @host port @port through a direct-tcpip channel of its own, as a
 * redirected connection is carried; @fd is reset when the server cannot
 * open it or the session ends. FALSE (and @fd closed) when the forwards
 * hold as many connections as they may. */
gboolean sshtun_forwards_open_stream(SshtunHelper *h, int fd, const char *host, guint port);

/* Asks the server to listen for each remote forward and resolves where
 * their connections lead; blocking, during setup. */
gboolean sshtun_forwards_request_remote(SshtunHelper *h);

/* Adds the descriptors to wait on; records their indices. */
void sshtun_forwards_add_poll_fds(SshtunHelper *h, GArray *fds);

/* One round of work over listeners and connections, given the poll results
 * in @fds (from the previous sshtun_forwards_add_poll_fds). *backlogged:
 * data waits for the socket to drain; *timeout_ms: when a time-out falls
 * due (-1: none). A failing connection ends alone; the session's own
 * failures show in the tunnel's or the idle channel's reads. */
void sshtun_forwards_round(SshtunHelper *h, const GArray *fds, gboolean *backlogged,
                           int *timeout_ms);

/* The session is gone or going: closes every connection (their channels go
 * with the session) and forgets the session's remote listeners. */
void sshtun_forwards_drop_session(SshtunHelper *h);

/* The end: closes the listening sockets and removes their socket files. */
void sshtun_forwards_close(SshtunHelper *h);

#endif
