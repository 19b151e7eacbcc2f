/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Forward connections: accepting them, opening their channels, and moving
 * their bytes (see forward.h for the flow control). */
#include "config.h"

#include "forward.h"

#include "blocking.h"
#include "pollset.h"
#include "report.h"
#include "socks.h"
#include "transport.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/netfilter_ipv4.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/un.h>
#include <unistd.h>

/* Connections taken from one listener per round, so that a flood on one
 * forward does not hold up the rest of the loop. */
#define ACCEPT_BATCH 16
/* A SOCKS client that has not said where to within this long is dropped:
 * idle half-open requests (slowloris) must not hold connection slots. */
#define SOCKS_REQUEST_TIMEOUT_US (30 * G_USEC_PER_SEC)
/* How long a listener rests when the process is out of descriptors. */
#define ACCEPT_PAUSE_US (200 * 1000)

typedef enum {
    CONN_SOCKS,      /* dynamic: reading the client's request */
    CONN_OPENING,    /* in the opening queue, waiting for its channel */
    CONN_CONNECTING, /* remote: connect() to the local target under way */
    CONN_OPEN,
} ConnState;

typedef struct {
    SshtunListener *listener;
    int fd;
    LIBSSH2_CHANNEL *channel;
    ConnState state;
    int poll_index;
    gboolean fresh;  /* accepted this round: read without waiting for poll() */
    gboolean failed; /* to be closed at the end of its step */
    gint64 socks_deadline_us;
    SshtunSocks socks;
    const char *target_host; /* into socks.host or the forward */
    guint target_port;
    const char *target_path;
    char origin[INET6_ADDRSTRLEN];
    guint origin_port;
    char original_host[INET6_ADDRSTRLEN]; /* streams: where the client connected to */
    guint8 *open_message; /* direct-streamlocal's or streams' direct-tcpip, kept while the
                             open runs */
    gsize open_message_len;
    guint32 window;    /* the window it asks for; streams: counted in streams_windows */
    guint next_target; /* remote: which resolved address to try next */
    guint8 up[SSHTUN_FORWARD_BUFFER];
    gsize up_len;
    guint8 down[SSHTUN_FORWARD_BUFFER];
    gsize down_head, down_len;
    gboolean client_eof;  /* the client sends no more */
    gboolean eof_sent;    /* ...and the server knows */
    gboolean channel_eof; /* the server sends no more */
    gboolean shut_down;   /* ...and the client knows */
} Conn;

/* A debug line naming the forward and the connection's socket. */
#define conn_debug(h, c, format, ...)                                                              \
    sshtun_helper_debug((h), "forward \"%s\" connection %d: " format,                              \
                        (c)->listener->forward->spec, (c)->fd, ##__VA_ARGS__)

static Conn *
conn_new(SshtunHelper *h, SshtunListener *l, int fd, ConnState state)
{
    Conn *c = g_new0(Conn, 1);

    c->listener = l;
    c->fd = fd;
    c->state = state;
    c->poll_index = -1;
    c->fresh = TRUE;
    c->socks_deadline_us = g_get_monotonic_time() + SOCKS_REQUEST_TIMEOUT_US;
    g_strlcpy(c->origin, "127.0.0.1", sizeof c->origin);
    h->forwards->connections = g_list_prepend(h->forwards->connections, c);
    h->forwards->connection_count++;
    return c;
}

/* Closes with a reset: the client's connect() or next read fails as if the
 * destination had refused, rather than ending in a clean end of file. */
static void
close_with_reset(int fd)
{
    struct linger reset = { .l_onoff = 1, .l_linger = 0 };

    setsockopt(fd, SOL_SOCKET, SO_LINGER, &reset, sizeof reset);
    close(fd);
}

/* Channels of a live session are closed politely, in the background; with
 * the session gone they are already freed. */
static void
conn_free(SshtunHelper *h, Conn *c, gboolean session_alive)
{
    /* Streams mode: the client thinks it talks to the destination itself,
     * so a connection the server could not open, or lost with the
     * session, ends as the destination's would (docs/streams.md). */
    if (c->fd >= 0 && c->listener->streams && (c->failed || !session_alive))
        close_with_reset(c->fd);
    else if (c->fd >= 0)
        close(c->fd);
    if (c->channel && session_alive)
        g_queue_push_tail(&h->forwards->closing, c->channel);
    if (c->listener->streams)
        h->forwards->streams_windows -= c->window;
    g_free(c->open_message);
    g_free(c);
    h->forwards->connection_count--;
}

/* Appends bytes for the client (a SOCKS reply). */
static void
queue_down(Conn *c, const guint8 *data, gsize len)
{
    if (c->down_head > 0) {
        memmove(c->down, c->down + c->down_head, c->down_len);
        c->down_head = 0;
    }
    len = MIN(len, sizeof c->down - c->down_len);
    memcpy(c->down + c->down_len, data, len);
    c->down_len += len;
}

/* An IPv4 or IPv6 socket address as text and port; FALSE for another
 * family. @loopback: whether it is a loopback address. */
static gboolean
address_text(const struct sockaddr_storage *sa, char host[INET6_ADDRSTRLEN], guint *port,
             gboolean *loopback)
{
    if (sa->ss_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
        inet_ntop(AF_INET, &in->sin_addr, host, INET6_ADDRSTRLEN);
        *port = ntohs(in->sin_port);
        *loopback = (ntohl(in->sin_addr.s_addr) >> 24) == 127;
        return TRUE;
    }
    if (sa->ss_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
        inet_ntop(AF_INET6, &in6->sin6_addr, host, INET6_ADDRSTRLEN);
        *port = ntohs(in6->sin6_port);
        *loopback = IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr);
        return TRUE;
    }
    return FALSE;
}

static void
note_peer(Conn *c)
{
    struct sockaddr_storage peer;
    socklen_t len = sizeof peer;
    gboolean loopback;

    if (getpeername(c->fd, (struct sockaddr *)&peer, &len) == 0)
        address_text(&peer, c->origin, &c->origin_port, &loopback);
}

static void
start_opening(SshtunHelper *h, Conn *c)
{
    c->state = CONN_OPENING;
    g_queue_push_tail(&h->forwards->opening, c);
}

/* Interactive traffic (a shell, a database) goes out at once, as ssh does
 * for its forwards. */
static void
set_nodelay(int fd)
{
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

/* The IPv6 twin of SO_ORIGINAL_DST, <linux/netfilter_ipv6/ip6_tables.h>'s
 * IP6T_SO_ORIGINAL_DST (80, at level SOL_IPV6): that header pulls in
 * kernel headers that clash with the C library's. */
#ifndef IP6T_SO_ORIGINAL_DST
#define IP6T_SO_ORIGINAL_DST 80
#endif

/* Whether two IPv4 or IPv6 socket addresses are the same address and port. */
static gboolean
same_address(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
    if (a->ss_family != b->ss_family)
        return FALSE;
    if (a->ss_family == AF_INET) {
        const struct sockaddr_in *x = (const struct sockaddr_in *)a;
        const struct sockaddr_in *y = (const struct sockaddr_in *)b;
        return x->sin_addr.s_addr == y->sin_addr.s_addr && x->sin_port == y->sin_port;
    }
    if (a->ss_family == AF_INET6) {
        const struct sockaddr_in6 *x = (const struct sockaddr_in6 *)a;
        const struct sockaddr_in6 *y = (const struct sockaddr_in6 *)b;
        return IN6_ARE_ADDR_EQUAL(&x->sin6_addr, &y->sin6_addr) && x->sin6_port == y->sin6_port;
    }
    return FALSE;
}

/* Streams mode: where the client connected to before the service's
 * nftables redirect sent it here (conntrack's answer). FALSE for a
 * connection that came here directly: conntrack then names this socket's
 * own address, or a loopback one. */
static gboolean
original_destination(SshtunHelper *h, Conn *c)
{
    struct sockaddr_storage dst = { 0 };
    struct sockaddr_storage self = { 0 };
    socklen_t len = sizeof dst, self_len = sizeof self;
    guint port;
    gboolean loopback;
    int rc;

    getsockname(c->fd, (struct sockaddr *)&self, &self_len);
    if (self.ss_family == AF_INET6)
        rc = getsockopt(c->fd, SOL_IPV6, IP6T_SO_ORIGINAL_DST, &dst, &len);
    else
        rc = getsockopt(c->fd, SOL_IP, SO_ORIGINAL_DST, &dst, &len);
    if (rc < 0) {
        conn_debug(h, c, "no original destination (not redirected here): %s", g_strerror(errno));
        return FALSE;
    }
    if (!address_text(&dst, c->original_host, &port, &loopback))
        return FALSE;
    if (loopback || port == 0 || same_address(&dst, &self)) {
        /* Loopback is never routed into the connection, and without a
         * redirect conntrack's original destination is where the
         * connection arrived: someone connecting to the listener itself,
         * from here or (with no table to drop it) from another machine. */
        conn_debug(h, c, "connected to the streams listener directly");
        return FALSE;
    }
    c->target_host = c->original_host;
    c->target_port = port;
    return TRUE;
}

static void
accept_local(SshtunHelper *h, SshtunListener *l)
{
    const SshtunForward *f = l->forward;

    for (int i = 0; i < ACCEPT_BATCH; i++) {
        Conn *c;
        int fd;

        if (h->forwards->connection_count >= SSHTUN_FORWARD_CONNECTIONS_MAX)
            return;
        fd = accept4(l->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
                /* The connection stays queued and the listener readable:
                 * polling it again at once would spin. */
                l->paused_until_us = g_get_monotonic_time() + ACCEPT_PAUSE_US;
                sshtun_helper_debug(h,
                                    "forward \"%s\": cannot accept more connections (%s); "
                                    "pausing",
                                    f->spec, g_strerror(errno));
            } else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
                sshtun_helper_debug(h, "forward \"%s\": accept failed: %s", f->spec,
                                    g_strerror(errno));
            }
            return;
        }
        if (l->streams) {
            c = conn_new(h, l, fd, CONN_OPENING);
            if (!original_destination(h, c)) {
                h->forwards->connections = g_list_remove(h->forwards->connections, c);
                c->failed = TRUE;
                conn_free(h, c, TRUE);
                continue;
            }
            start_opening(h, c);
        } else if (f->kind == SSHTUN_FORWARD_DYNAMIC) {
            c = conn_new(h, l, fd, CONN_SOCKS);
        } else {
            c = conn_new(h, l, fd, CONN_OPENING);
            c->target_host = f->target.host;
            c->target_port = f->target.port;
            c->target_path = f->target.path;
            start_opening(h, c);
        }
        note_peer(c);
        if (!f->listen.path)
            set_nodelay(fd);
        conn_debug(h, c, "accepted from %s port %u", c->origin, c->origin_port);
    }
}

gboolean
sshtun_forwards_open_stream(SshtunHelper *h, int fd, const char *host, guint port)
{
    SshtunForwards *F = h->forwards;
    Conn *c;

    if (!F || !F->streams || F->connection_count >= SSHTUN_FORWARD_CONNECTIONS_MAX) {
        close(fd);
        return FALSE;
    }
    if (!F->resolver) {
        F->resolver = g_new0(SshtunListener, 1);
        F->resolver->forward = F->streams;
        F->resolver->fd = -1;
        F->resolver->poll_index = -1;
        F->resolver->streams = TRUE;
    }
    c = conn_new(h, F->resolver, fd, CONN_OPENING);
    g_strlcpy(c->original_host, host, sizeof c->original_host);
    c->target_host = c->original_host;
    c->target_port = port;
    start_opening(h, c);
    conn_debug(h, c, "resolver query to %s port %u", host, port);
    return TRUE;
}

/* Starts the connection to the next resolved address of a remote forward's
 * target; FALSE when none is left. */
static gboolean
connect_next_target(SshtunHelper *h, Conn *c)
{
    GArray *targets = c->listener->targets;

    while (c->next_target < targets->len) {
        const SshtunAddress *a = &g_array_index(targets, SshtunAddress, c->next_target++);
        int fd = socket(a->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

        if (c->fd >= 0)
            close(c->fd);
        c->fd = fd;
        if (fd < 0)
            continue;
        if (a->addr.ss_family != AF_UNIX)
            set_nodelay(fd);
        if (connect(fd, (const struct sockaddr *)&a->addr, a->len) == 0) {
            c->state = CONN_OPEN;
            return TRUE;
        }
        if (errno == EINPROGRESS || errno == EAGAIN) {
            c->state = CONN_CONNECTING;
            return TRUE;
        }
        conn_debug(h, c, "connect failed: %s", g_strerror(errno));
    }
    return FALSE;
}

static void
accept_remote(SshtunHelper *h, SshtunListener *l)
{
    for (int i = 0; i < ACCEPT_BATCH; i++) {
        LIBSSH2_CHANNEL *channel;
        Conn *c;

        if (h->forwards->connection_count >= SSHTUN_FORWARD_CONNECTIONS_MAX)
            return;
        channel = libssh2_channel_forward_accept(l->listener);
        if (!channel)
            return;
        c = conn_new(h, l, -1, CONN_CONNECTING);
        c->channel = channel;
        c->fresh = FALSE;
        if (!connect_next_target(h, c)) {
            sshtun_helper_log(h, "remote forward \"%s\": cannot connect to the destination",
                              l->forward->spec);
            c->failed = TRUE;
        }
    }
}

/* Appends an SSH string (length, then bytes) to @out. */
static void
put_string(GByteArray *out, const char *text)
{
    guint32 be = GUINT32_TO_BE((guint32)strlen(text));

    g_byte_array_append(out, (const guint8 *)&be, 4);
    g_byte_array_append(out, (const guint8 *)text, (guint)strlen(text));
}

static void
put_uint32(GByteArray *out, guint32 value)
{
    guint32 be = GUINT32_TO_BE(value);

    g_byte_array_append(out, (const guint8 *)&be, 4);
}

/* Streams mode's share of SSHTUN_STREAMS_WINDOW_BUDGET for one more
 * connection (forward.h). */
static guint32
streams_window(SshtunForwards *F)
{
    gsize left = F->streams_windows < SSHTUN_STREAMS_WINDOW_BUDGET
                         ? SSHTUN_STREAMS_WINDOW_BUDGET - F->streams_windows
                         : 0;

    return (guint32)CLAMP(left, SSHTUN_STREAMS_WINDOW_MIN, SSHTUN_FORWARD_WINDOW);
}

static LIBSSH2_CHANNEL *
open_channel(SshtunHelper *h, Conn *c)
{
    const char *type = c->target_path ? "direct-streamlocal@openssh.com" : "direct-tcpip";

    if (!c->target_path && !c->listener->streams)
        return libssh2_channel_direct_tcpip_ex(h->session, c->target_host, (int)c->target_port,
                                               c->origin, (int)c->origin_port);
    if (!c->open_message) {
        /* libssh2 opens direct-tcpip with its own 2 MiB window, and has no
         * call for OpenSSH's direct-streamlocal@openssh.com: the open's
         * message is written here (RFC 4254 7.2; for a socket, its path,
         * then a reserved string and number). */
        GByteArray *m = g_byte_array_new();

        if (c->target_path) {
            put_string(m, c->target_path);
            put_string(m, "");
            put_uint32(m, 0);
        } else {
            put_string(m, c->target_host);
            put_uint32(m, c->target_port);
            put_string(m, c->origin);
            put_uint32(m, c->origin_port);
        }
        c->open_message_len = m->len;
        c->open_message = g_byte_array_free(m, FALSE);
        /* Taken from the budget now: libssh2 keeps the first call's
         * window for the later ones of the same open. */
        c->window = c->listener->streams ? streams_window(h->forwards) : SSHTUN_FORWARD_WINDOW;
        if (c->listener->streams)
            h->forwards->streams_windows += c->window;
    }
    return libssh2_channel_open_ex(h->session, type, (unsigned int)strlen(type), c->window,
                                   SSHTUN_FORWARD_PACKET, (const char *)c->open_message,
                                   (unsigned int)c->open_message_len);
}

/* libssh2 runs one channel open at a time per session (its state is the
 * session's), so connections wait in a queue and the head's open is driven
 * until the server answers. */
static void
advance_opening(SshtunHelper *h)
{
    Conn *c;

    while ((c = g_queue_peek_head(&h->forwards->opening))) {
        LIBSSH2_CHANNEL *channel = open_channel(h, c);
        guint8 reply[SSHTUN_SOCKS_REPLY_MAX];

        if (!channel && libssh2_session_last_errno(h->session) == LIBSSH2_ERROR_EAGAIN)
            return;
        g_queue_pop_head(&h->forwards->opening);
        g_clear_pointer(&c->open_message, g_free);
        if (channel) {
            c->channel = channel;
            c->state = CONN_OPEN;
        } else {
            /* Not fatal to the session: the server could not reach the
             * destination, or forbids it. */
            sshtun_helper_log(
                    h, "forward \"%s\": the server could not open a connection to %s%s%u: %s",
                    c->listener->forward->spec, c->target_path ? c->target_path : c->target_host,
                    c->target_path ? "" : " port ", c->target_path ? 0 : c->target_port,
                    sshtun_ssh_last_error(h));
            c->failed = TRUE;
        }
        if (c->listener->forward->kind == SSHTUN_FORWARD_DYNAMIC)
            queue_down(c, reply, sshtun_socks_reply(&c->socks, channel != NULL, reply));
    }
}

/* Works through what a SOCKS client sent so far. */
static void
negotiate_socks(SshtunHelper *h, Conn *c)
{
    while (c->state == CONN_SOCKS && !c->failed) {
        guint8 reply[SSHTUN_SOCKS_REPLY_MAX];
        gsize consumed = 0, reply_len = 0;
        const char *why = NULL;
        SshtunSocksStatus status = sshtun_socks_feed(&c->socks, c->up, c->up_len, &consumed, reply,
                                                     &reply_len, &why);

        queue_down(c, reply, reply_len);
        memmove(c->up, c->up + consumed, c->up_len - consumed);
        c->up_len -= consumed;
        switch (status) {
        case SSHTUN_SOCKS_NEED_MORE:
            if (c->client_eof || c->up_len == sizeof c->up)
                c->failed = TRUE;
            return;
        case SSHTUN_SOCKS_GREETED:
            break;
        case SSHTUN_SOCKS_REQUEST:
            c->target_host = c->socks.host;
            c->target_port = c->socks.port;
            conn_debug(h, c, "SOCKS%u to %s port %u", c->socks.version, c->target_host,
                       c->target_port);
            start_opening(h, c);
            return;
        case SSHTUN_SOCKS_REFUSED:
            sshtun_helper_log(h, "dynamic forward \"%s\": SOCKS request refused: %s",
                              c->listener->forward->spec, why);
            c->failed = TRUE;
            return;
        }
    }
}

static gboolean
readable(short revents)
{
    return (revents & (POLLIN | POLLHUP | POLLERR)) != 0;
}

static void
read_client(SshtunHelper *h, Conn *c, short revents)
{
    ssize_t n;

    if (c->client_eof || c->up_len == sizeof c->up || (!readable(revents) && !c->fresh))
        return;
    n = read(c->fd, c->up + c->up_len, sizeof c->up - c->up_len);
    if (n > 0) {
        c->up_len += (gsize)n;
    } else if (n == 0) {
        c->client_eof = TRUE;
    } else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
        conn_debug(h, c, "read failed: %s", g_strerror(errno));
        c->failed = TRUE;
    }
}

static void
write_client(SshtunHelper *h, Conn *c)
{
    while (c->down_len > 0) {
        ssize_t n = write(c->fd, c->down + c->down_head, c->down_len);

        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno != EAGAIN && errno != EWOULDBLOCK) {
                conn_debug(h, c, "write failed: %s", g_strerror(errno));
                c->failed = TRUE;
            }
            return;
        }
        c->down_head += (gsize)n;
        c->down_len -= (gsize)n;
    }
    c->down_head = 0;
}

/* Client to server, as far as the channel window and the shared send
 * backlog allow. */
static void
send_up(SshtunHelper *h, Conn *c, gsize *backlog)
{
    while (c->up_len > 0 && *backlog < SSHTUN_BACKLOG_LIMIT) {
        ssize_t n = libssh2_channel_write(c->channel, (const char *)c->up, c->up_len);

        if (n == LIBSSH2_ERROR_EAGAIN || n == 0)
            return;
        if (n < 0) {
            conn_debug(h, c, "channel write failed: %s", sshtun_ssh_last_error(h));
            c->failed = TRUE;
            return;
        }
        memmove(c->up, c->up + n, c->up_len - (gsize)n);
        c->up_len -= (gsize)n;
        *backlog += (gsize)n;
    }
    if (c->client_eof && c->up_len == 0 && !c->eof_sent) {
        int rc = libssh2_channel_send_eof(c->channel);
        if (rc == 0)
            c->eof_sent = TRUE;
        else if (rc != LIBSSH2_ERROR_EAGAIN)
            c->failed = TRUE;
    }
}

/* Server to client, while the client takes it. */
static void
receive_down(SshtunHelper *h, Conn *c)
{
    while (!c->channel_eof && c->down_len == 0) {
        ssize_t n = libssh2_channel_read(c->channel, (char *)c->down, sizeof c->down);

        if (n == LIBSSH2_ERROR_EAGAIN)
            return;
        if (n < 0) {
            conn_debug(h, c, "channel read failed: %s", sshtun_ssh_last_error(h));
            c->failed = TRUE;
            return;
        }
        if (n == 0) {
            c->channel_eof = TRUE;
            break;
        }
        c->down_head = 0;
        c->down_len = (gsize)n;
        write_client(h, c);
    }
    if (c->channel_eof && c->down_len == 0 && !c->shut_down) {
        shutdown(c->fd, SHUT_WR);
        c->shut_down = TRUE;
    }
}

static void
finish_connect(SshtunHelper *h, Conn *c, short revents)
{
    int error = 0;
    socklen_t len = sizeof error;

    if (!(revents & (POLLOUT | POLLERR | POLLHUP)))
        return;
    getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &error, &len);
    if (error == 0) {
        c->state = CONN_OPEN;
        return;
    }
    conn_debug(h, c, "connect failed: %s", g_strerror(error));
    if (!connect_next_target(h, c))
        c->failed = TRUE;
}

/* One connection's turn; FALSE when it is over. */
static gboolean
conn_step(SshtunHelper *h, Conn *c, short revents, gsize *backlog, gint64 now)
{
    if (c->state == CONN_SOCKS && now >= c->socks_deadline_us) {
        sshtun_helper_log(h, "dynamic forward \"%s\": no complete SOCKS request within %d s",
                          c->listener->forward->spec,
                          (int)(SOCKS_REQUEST_TIMEOUT_US / G_USEC_PER_SEC));
        return FALSE;
    }
    if (c->state == CONN_CONNECTING)
        finish_connect(h, c, revents);
    if (c->state == CONN_SOCKS || c->state == CONN_OPEN)
        read_client(h, c, revents);
    c->fresh = FALSE;
    if (c->state == CONN_SOCKS)
        negotiate_socks(h, c);
    if (c->down_len > 0)
        write_client(h, c);
    if (c->state == CONN_OPEN && !c->failed) {
        send_up(h, c, backlog);
        receive_down(h, c);
    }
    if (c->failed) {
        /* A refusal still reaches the client if its socket takes it. */
        write_client(h, c);
        return FALSE;
    }
    return !(c->state == CONN_OPEN && c->client_eof && c->up_len == 0 && c->channel_eof
             && c->down_len == 0);
}

static void
finish_closing(SshtunHelper *h)
{
    guint n = g_queue_get_length(&h->forwards->closing);

    for (guint i = 0; i < n; i++) {
        LIBSSH2_CHANNEL *channel = g_queue_pop_head(&h->forwards->closing);
        if (libssh2_channel_free(channel) == LIBSSH2_ERROR_EAGAIN)
            g_queue_push_tail(&h->forwards->closing, channel);
    }
}

void
sshtun_forwards_round(SshtunHelper *h, const GArray *fds, gboolean *backlogged, int *timeout_ms)
{
    SshtunForwards *F = h->forwards;
    gint64 now = g_get_monotonic_time();
    gint64 next_deadline_us = G_MAXINT64;
    gsize backlog;

    *backlogged = FALSE;
    *timeout_ms = -1;
    if (!F)
        return;
    backlog = sshtun_transport_backlog(h);
    /* Everything the socket had was taken in by the tunnel's or the idle
     * channel's read just before: no connection's call needs to receive
     * again, and each would cost a system call. */
    h->defer_receive = TRUE;
    for (guint i = 0; i < F->listeners->len; i++) {
        SshtunListener *l = F->listeners->pdata[i];
        if (l->listener)
            accept_remote(h, l);
        else if (l->fd >= 0 && (sshtun_poll_revents(fds, l->poll_index) & POLLIN))
            accept_local(h, l);
    }
    advance_opening(h);
    for (GList *link = F->connections; link;) {
        GList *next = link->next;
        Conn *c = link->data;

        if (!conn_step(h, c, sshtun_poll_revents(fds, c->poll_index), &backlog, now)) {
            conn_debug(h, c, "closed");
            F->connections = g_list_delete_link(F->connections, link);
            conn_free(h, c, TRUE);
        } else if (c->state == CONN_SOCKS) {
            next_deadline_us = MIN(next_deadline_us, c->socks_deadline_us);
        }
        link = next;
    }
    for (guint i = 0; i < F->listeners->len; i++) {
        SshtunListener *l = F->listeners->pdata[i];
        if (l->paused_until_us > now)
            next_deadline_us = MIN(next_deadline_us, l->paused_until_us);
    }
    /* Requests that just arrived go out this round, not the next. */
    advance_opening(h);
    finish_closing(h);
    h->defer_receive = FALSE;
    if (next_deadline_us != G_MAXINT64)
        *timeout_ms = (int)MAX(0, (next_deadline_us - now) / 1000 + 1);
    if (backlog >= SSHTUN_BACKLOG_LIMIT) {
        *backlogged = TRUE;
        /* Round robin: whoever went first waits at the back next time. */
        if (F->connections && F->connections->next) {
            GList *first = F->connections;
            F->connections = g_list_remove_link(F->connections, first);
            F->connections = g_list_concat(F->connections, first);
        }
    }
}

void
sshtun_forwards_add_poll_fds(SshtunHelper *h, GArray *fds)
{
    SshtunForwards *F = h->forwards;
    gboolean room;

    if (!F)
        return;
    room = F->connection_count < SSHTUN_FORWARD_CONNECTIONS_MAX;
    for (guint i = 0; i < F->listeners->len; i++) {
        SshtunListener *l = F->listeners->pdata[i];

        l->poll_index = -1;
        if (l->fd < 0 || !room || l->paused_until_us > g_get_monotonic_time())
            continue;
        l->poll_index = sshtun_poll_add(fds, l->fd, POLLIN);
    }
    for (GList *link = F->connections; link; link = link->next) {
        Conn *c = link->data;
        short events = 0;

        if (c->state == CONN_SOCKS || (c->state == CONN_OPEN && !c->client_eof))
            events |= c->up_len < sizeof c->up ? POLLIN : 0;
        if (c->state == CONN_CONNECTING || c->down_len > 0)
            events |= POLLOUT;
        c->poll_index = -1;
        if (events == 0 || c->fd < 0)
            continue;
        c->poll_index = sshtun_poll_add(fds, c->fd, events);
    }
}

void
sshtun_forwards_drop_session(SshtunHelper *h)
{
    SshtunForwards *F = h->forwards;

    if (!F)
        return;
    /* libssh2 frees the channels and listeners with the session. */
    for (GList *link = F->connections; link; link = link->next)
        conn_free(h, link->data, FALSE);
    g_clear_pointer(&F->connections, g_list_free);
    g_queue_clear(&F->opening);
    g_queue_clear(&F->closing);
    for (guint i = 0; i < F->listeners->len; i++)
        ((SshtunListener *)F->listeners->pdata[i])->listener = NULL;
}
