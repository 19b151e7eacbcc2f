/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include "helper-transport.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>

static SshtunHelper *
helper_of(void **abstract)
{
    return *abstract;
}

static ssize_t
send_cb(libssh2_socket_t fd, const void *buffer, size_t length, int flags, void **abstract)
{
    SshtunHelper *h = helper_of(abstract);
    SshtunOutQueue *q = &h->out;
    ssize_t n;

    if (!q->queueing) {
        n = send(fd, buffer, length, flags | MSG_NOSIGNAL);
        return n < 0 ? -errno : n;
    }
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

static ssize_t
recv_cb(libssh2_socket_t fd, void *buffer, size_t length, int flags, void **abstract)
{
    SshtunHelper *h = helper_of(abstract);
    ssize_t n = recv(fd, buffer, length, flags);

    if (n < 0)
        return -errno;
    if (n > 0)
        h->last_receive_us = g_get_monotonic_time();
    return n;
}

/* The server's SSH_MSG_DEBUG text: OpenSSH explains a refused tunnel there
 * ("Server has rejected tunnel device forwarding"). */
static void
debug_cb(LIBSSH2_SESSION *session, int always_display, const char *message, int message_len,
         const char *language, int language_len, void **abstract)
{
    SshtunHelper *h = helper_of(abstract);

    g_free(h->server_debug);
    h->server_debug = g_strndup(message, MAX(0, MIN(message_len, 512)));
    g_strcanon(h->server_debug,
               "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .,:;-_()/'\"", '?');
    sshtun_helper_debug(h, "server says: %s", h->server_debug);
}

void
sshtun_transport_init(SshtunHelper *h)
{
    h->session = libssh2_session_init_ex(NULL, NULL, NULL, h);
    if (!h->session)
        sshtun_helper_fail(h, SSHTUN_EXIT_INTERNAL, "cannot create an SSH session");
    libssh2_session_callback_set(h->session, LIBSSH2_CALLBACK_SEND, (void *)send_cb);
    libssh2_session_callback_set(h->session, LIBSSH2_CALLBACK_RECV, (void *)recv_cb);
    libssh2_session_callback_set(h->session, LIBSSH2_CALLBACK_DEBUG, (void *)debug_cb);
    if (!h->out.data) {
        h->out.size = SSHTUN_OUT_QUEUE_HARD_LIMIT;
        h->out.data = g_malloc(h->out.size);
    }
}

void
sshtun_transport_start_queueing(SshtunHelper *h)
{
    h->out.queueing = TRUE;
}

void
sshtun_transport_stop_queueing(SshtunHelper *h)
{
    h->out.queueing = FALSE;
}

gsize
sshtun_transport_queued(const SshtunHelper *h)
{
    return h->out.len - h->out.head;
}

gboolean
sshtun_transport_flush(SshtunHelper *h)
{
    SshtunOutQueue *q = &h->out;

    while (q->head < q->len) {
        ssize_t n = send(h->sock, q->data + q->head, q->len - q->head, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return errno == EAGAIN || errno == EWOULDBLOCK;
        }
        q->head += (gsize)n;
    }
    q->head = q->len = 0;
    return TRUE;
}
