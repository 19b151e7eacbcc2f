/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include "transport.h"

#include "kexinit.h"
#include "report.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/sockios.h>
#include <sys/ioctl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* libssh2 1.11.1 deprecates setting callbacks through a void pointer. */
#ifdef HAVE_LIBSSH2_SESSION_CALLBACK_SET2
#define set_callback(session, type, callback)                                                      \
    libssh2_session_callback_set2(session, type, (libssh2_cb_generic *)(callback))
#else
#define set_callback(session, type, callback)                                                      \
    libssh2_session_callback_set(session, type, (void *)(callback))
#endif

/* A channel error as the errno-style value libssh2 wants from callbacks. */
static ssize_t
channel_result(ssize_t n)
{
    if (n == LIBSSH2_ERROR_EAGAIN)
        return -EAGAIN;
    return n < 0 ? -EPIPE : n;
}

/* A carrier is the channel of a jump host's session, which runs
 * non-blocking from the moment it carries another session: libssh2's
 * blocking mode relies on EAGAIN and then waits on the socket, and a carrier
 * that blocked in its own session would wait for data nobody sends. */
static ssize_t
send_below(SshtunSession *link, const void *buffer, size_t length, int flags)
{
    ssize_t n;

    if (link->carrier) {
        n = libssh2_channel_write(link->carrier, buffer, length);
        /* 0: the channel window is shut until the next adjustment. */
        return n == 0 ? -EAGAIN : channel_result(n);
    }
    n = send(link->h->sock, buffer, length, flags | MSG_NOSIGNAL);
    return n < 0 ? -errno : n;
}

static ssize_t
send_cb(libssh2_socket_t fd, const void *buffer, size_t length, int flags, void **abstract)
{
    SshtunSession *link = *abstract;
    SshtunOutQueue *q = &link->out;
    ssize_t n;

    /* libssh2's ssh-agent client talks to the agent through these
     * callbacks too, on the agent's own descriptor. */
    if (fd != link->h->sock) {
        n = send(fd, buffer, length, flags | MSG_NOSIGNAL);
        return n < 0 ? -errno : n;
    }
    if (!link->h->queueing)
        return send_below(link, buffer, length, flags);
    if (q->len - q->head + length > q->size)
        return -EAGAIN;
    if (q->len + length > q->size) {
        /* Move the unsent bytes to the front; rare, since the queue is
         * usually empty after each flush. */
        memmove(q->data, q->data + q->head, q->len - q->head);
        q->len -= q->head;
        q->head = 0;
    }
    memcpy(q->data + q->len, buffer, length);
    q->len += length;
    return (ssize_t)length;
}

static void
capture_start(SshtunSession *link, const void *buffer, ssize_t n)
{
    GByteArray *start = link->received_start;

    if (start && n > 0 && start->len < SSHTUN_KEXINIT_CAPTURE_MAX)
        g_byte_array_append(start, buffer, MIN((guint)n, SSHTUN_KEXINIT_CAPTURE_MAX - start->len));
}

static ssize_t
recv_cb(libssh2_socket_t fd, void *buffer, size_t length, int flags, void **abstract)
{
    SshtunSession *link = *abstract;
    ssize_t n;

    if (fd != link->h->sock) {
        n = recv(fd, buffer, length, flags);
        return n < 0 ? -errno : n;
    }
    if (link->h->defer_receive)
        return -EAGAIN;
    if (link->carrier) {
        n = libssh2_channel_read(link->carrier, buffer, length);
        /* 0 without EOF: the read only handled packets of other channels. */
        if (n == 0 && !libssh2_channel_eof(link->carrier))
            return -EAGAIN;
        capture_start(link, buffer, n);
        return channel_result(n);
    }
    n = recv(link->h->sock, buffer, length, flags);
    if (n < 0)
        return -errno;
    capture_start(link, buffer, n);
    /* sshd leaves Nagle on for a session without a terminal: a small
     * message it sends while the one before is unacknowledged waits for
     * our ACK, which the kernel delays up to 40 ms when we have nothing to
     * send back. During setup every step waits on such an answer; in the
     * relay, every short exchange through the tunnel did (a TCP connect
     * and an HTTP answer each took 44 ms where a ping takes 0.4 ms;
     * tools/bench --http). Acknowledge at once; the flag does not stick,
     * hence after every read. */
    setsockopt(link->h->sock, IPPROTO_TCP, TCP_QUICKACK, &(int){ 1 }, sizeof(int));
    if (n > 0)
        link->h->last_receive_us = g_get_monotonic_time();
    return n;
}

/* The server's SSH_MSG_DEBUG text: OpenSSH explains a refused tunnel there
 * ("Server has rejected tunnel device forwarding"). */
static void
debug_cb(LIBSSH2_SESSION *session, int always_display, const char *message, int message_len,
         const char *language, int language_len, void **abstract)
{
    SshtunSession *link = *abstract;
    SshtunHelper *h = link->h;

    g_free(h->server_debug);
    h->server_debug = g_strndup(message, MAX(0, MIN(message_len, 512)));
    g_strcanon(h->server_debug,
               "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .,:;-_()/'\"", '?');
    sshtun_helper_debug(h, "%s says: %s", link->name, h->server_debug);
}

SshtunSession *
sshtun_transport_add_link(SshtunHelper *h, const char *name)
{
    SshtunSession *below = h->links->len ? h->links->pdata[h->links->len - 1] : NULL;
    SshtunSession *link = g_new0(SshtunSession, 1);

    link->h = h;
    link->name = g_strdup(name);
    link->carrier = below ? below->forward : NULL;
    link->out.size = SSHTUN_OUT_QUEUE_HARD_LIMIT;
    link->out.data = g_malloc(link->out.size);
    link->received_start = g_byte_array_new();
    link->session = libssh2_session_init_ex(NULL, NULL, NULL, link);
    g_ptr_array_add(h->links, link);
    if (!link->session)
        sshtun_helper_fail(h, SSHTUN_EXIT_INTERNAL, "cannot create an SSH session");
    set_callback(link->session, LIBSSH2_CALLBACK_SEND, send_cb);
    set_callback(link->session, LIBSSH2_CALLBACK_RECV, recv_cb);
    set_callback(link->session, LIBSSH2_CALLBACK_DEBUG, debug_cb);
    h->session = link->session;
    return link;
}

void
sshtun_transport_handshake_done(SshtunHelper *h)
{
    SshtunSession *link = h->links->pdata[h->links->len - 1];

    g_clear_pointer(&link->received_start, g_byte_array_unref);
}

void
sshtun_transport_start_queueing(SshtunHelper *h)
{
    h->queueing = TRUE;
}

void
sshtun_transport_stop_queueing(SshtunHelper *h)
{
    h->queueing = FALSE;
}

gsize
sshtun_transport_backlog(const SshtunHelper *h)
{
    gsize total = 0;
    int unsent = 0;

    for (guint i = 0; h->links && i < h->links->len; i++) {
        SshtunSession *link = h->links->pdata[i];
        total += link->out.len - link->out.head;
    }
    if (h->sock >= 0 && ioctl(h->sock, SIOCOUTQNSD, &unsent) == 0 && unsent > 0)
        total += (gsize)unsent;
    return total;
}

gboolean
sshtun_transport_socket_pending(const SshtunHelper *h)
{
    SshtunSession *bottom = h->links && h->links->len ? h->links->pdata[0] : NULL;
    return bottom && bottom->out.len > bottom->out.head;
}

gboolean
sshtun_transport_carrier_pending(const SshtunHelper *h)
{
    for (guint i = 0; h->links && i < h->links->len; i++) {
        SshtunSession *link = h->links->pdata[i];
        unsigned long available = 0;

        if (link->carrier) {
            libssh2_channel_window_read_ex(link->carrier, &available, NULL);
            if (available > 0)
                return TRUE;
        }
    }
    return FALSE;
}

static gboolean
flush_link(SshtunSession *link)
{
    SshtunOutQueue *q = &link->out;

    while (q->head < q->len) {
        ssize_t n = send_below(link, q->data + q->head, q->len - q->head, MSG_DONTWAIT);
        if (n == -EINTR)
            continue;
        if (n == -EAGAIN || n == -EWOULDBLOCK || n == 0)
            return TRUE; /* later: the socket or the channel window is full */
        if (n < 0)
            return FALSE;
        q->head += (gsize)n;
    }
    q->head = q->len = 0;
    return TRUE;
}

gboolean
sshtun_transport_flush(SshtunHelper *h)
{
    /* From the top: what a session writes into its carrier lands in the
     * queue of the session below, flushed next. */
    for (guint i = h->links->len; i > 0; i--) {
        if (!flush_link(h->links->pdata[i - 1]))
            return FALSE;
    }
    return TRUE;
}

void
sshtun_transport_close(SshtunHelper *h, const char *why)
{
    guint n = h->links ? h->links->len : 0;

    /* Goodbye on every session, the server's first (it travels through
     * the jump hosts' channels), without waiting: non-blocking, so that a
     * server or socket that takes nothing more cannot hold us... */
    if (h->sock >= 0)
        fcntl(h->sock, F_SETFL, fcntl(h->sock, F_GETFL) | O_NONBLOCK);
    for (guint i = n; i > 0; i--) {
        LIBSSH2_SESSION *session = ((SshtunSession *)h->links->pdata[i - 1])->session;
        libssh2_session_set_blocking(session, 0);
        libssh2_session_disconnect(session, why);
    }
    /* ...written once, as far as the socket takes it... */
    if (h->queueing && h->sock >= 0)
        sshtun_transport_flush(h);
    /* ...then the connection ends: freeing a session waits for the server
     * to confirm that each open channel is closed, which a dead or hostile
     * server never does; on a shut socket libssh2 sees the disconnection
     * and frees at once (else it gave up with EAGAIN and leaked). */
    if (h->sock >= 0)
        shutdown(h->sock, SHUT_RDWR);
    for (guint i = n; i > 0; i--) {
        SshtunSession *link = h->links->pdata[i - 1];

        if (link->forward)
            libssh2_channel_free(link->forward);
        libssh2_session_free(link->session);
        g_free(link->out.data);
        g_free(link->name);
        if (link->received_start)
            g_byte_array_unref(link->received_start);
        g_free(link);
    }
    if (h->links)
        g_ptr_array_set_size(h->links, 0);
    h->session = NULL;
    h->tun_channel = NULL;
    h->idle_channel = NULL;
    if (h->sock >= 0) {
        close(h->sock);
        h->sock = -1;
    }
}
