/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include "relay.h"

#include "pathwatch.h"

#include "blocking.h"
#include "control.h"
#include "delimiter.h"
#include "forward.h"
#include "frame.h"
#include "refuse.h"
#include "streams-dns.h"
#include "report.h"
#include "ssh.h"
#include "transport.h"
#include "tunnel.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

/* Packets taken from the tun device per round before the other direction
 * gets its turn. */
#define TUN_BATCH 64
/* Channel reads per round, likewise. */
#define CHANNEL_BATCH 16
/* libssh2 sends at most 32700 bytes as one SSH message; a larger frame
 * would be split, and OpenSSH takes every message as one datagram. The
 * largest MTU the settings allow is chosen to fit. */
#define FRAME_MAX (SSHTUN_MTU_MAX + SSHTUN_FRAME_AF_LEN)
/* The socket, the tun device, the control input, the signals; the
 * forwards' descriptors follow. */
#define BASE_FDS 5
/* A tun read never returns more than the device MTU; the largest is 64 KiB. */
#define TX_BUFFER_SIZE (SSHTUN_FRAME_AF_LEN + 65536)

typedef struct {
    guint64 packets;
    guint64 bytes;
} Counter;

typedef struct {
    SshtunHelper *h;
    gboolean point_to_point;
    guint8 *tx;
    gsize tx_len; /* a frame read from the tun device, not yet written */
    SshtunDelimiter *rx;
    gboolean more_tun;     /* the last round stopped before the tun device was empty */
    gboolean backlogged;   /* the tun device waits until the socket drains */
    gboolean more_channel; /* likewise for the channel */
    gboolean forwards_backlogged;
    int forwards_timeout_ms;
    int dns_timeout_ms;      /* streams mode's resolver */
    gboolean forwards_first; /* alternates: the tunnel and the forwards share the backlog */
    Counter up, down;
    guint64 dropped;
    guint64 dropped_stream_bytes;
    guint stream_drops;
    guint64 not_carried; /* streams mode: what reached the device (not TCP) */
    guint64 refused;     /* ...and was answered "administratively prohibited" */
    gint64 refusal_second;
    guint refusals_this_second;
} Relay;

/* The session is gone: records why and returns FALSE. */
static gboolean lost(Relay *r, const char *format, ...) G_GNUC_PRINTF(2, 3);

static gboolean
lost(Relay *r, const char *format, ...)
{
    va_list args;
    g_autofree char *message = NULL;

    va_start(args, format);
    message = g_strdup_vprintf(format, args);
    va_end(args);
    return sshtun_helper_failed(r->h, SSHTUN_EXIT_CONNECTION_LOST, "%s", message);
}

static void
drop(Relay *r, const char *why)
{
    /* Logged for the first few only: a flood of bad packets must not
     * become a flood of log lines. */
    if (r->dropped++ < 5)
        sshtun_helper_debug(r->h, "dropped a packet: %s", why);
}

/* tun -> SSH */
static gboolean
pump_tun_to_channel(Relay *r)
{
    SshtunHelper *h = r->h;
    gsize offset = r->point_to_point ? SSHTUN_FRAME_AF_LEN : 0;

    /* Asked once a round: the kernel's count is a system call. */
    gsize backlog = sshtun_transport_backlog(h);

    r->more_tun = FALSE;
    r->backlogged = FALSE;
    for (int i = 0; i < TUN_BATCH; i++) {
        ssize_t n;

        if (backlog >= SSHTUN_BACKLOG_LIMIT) {
            r->backlogged = TRUE;
            return TRUE;
        }
        if (r->tx_len == 0) {
            n = read(h->tun_fd, r->tx + offset, TX_BUFFER_SIZE - offset);
            if (n < 0) {
                if (errno == EINTR)
                    continue;
                if (errno == EAGAIN || errno == EWOULDBLOCK)
                    return TRUE;
                return lost(r, "reading from %s failed: %s", h->interface_name, g_strerror(errno));
            }
            if (n == 0)
                continue;
            if (r->point_to_point && !sshtun_frame_put_af(r->tx, r->tx + offset, (gsize)n)) {
                drop(r, "neither IPv4 nor IPv6 from the tun device");
                continue;
            }
            if ((gsize)n + offset > FRAME_MAX) {
                drop(r, "larger than one SSH message can carry");
                continue;
            }
            r->tx_len = (gsize)n + offset;
        }
        /* Write a frame only when the window takes all of it: libssh2
         * would otherwise send a part as one message. */
        if (libssh2_channel_window_write(h->tun_channel) < r->tx_len)
            return TRUE;
        h->defer_receive = TRUE;
        n = libssh2_channel_write(h->tun_channel, (const char *)r->tx, r->tx_len);
        h->defer_receive = FALSE;
        if (n == LIBSSH2_ERROR_EAGAIN)
            return TRUE;
        if (n < 0)
            return lost(r, "sending to the server failed: %s", sshtun_ssh_last_error(h));
        if ((gsize)n != r->tx_len)
            sshtun_helper_log(h, "a frame of %zu bytes left in %zd-byte parts", r->tx_len, n);
        r->up.packets++;
        r->up.bytes += r->tx_len - offset;
        backlog += r->tx_len;
        r->tx_len = 0;
    }
    r->more_tun = TRUE;
    return TRUE;
}

/* What the delimiter gave up on is said in the log, the first few times:
 * the bytes came from whoever the server routes to this client. */
static void
report_dropped_stream(Relay *r)
{
    const char *why = NULL;
    guint64 bytes = sshtun_delimiter_take_dropped(r->rx, &why);

    if (bytes == 0)
        return;
    if (r->stream_drops++ < 5)
        sshtun_helper_log(r->h,
                          "dropped %" G_GUINT64_FORMAT " bytes from the server, up to the end "
                          "of their SSH message: %s",
                          bytes, why);
    r->dropped_stream_bytes += bytes;
}

static void
deliver_frames(Relay *r)
{
    SshtunHelper *h = r->h;
    gsize offset = r->point_to_point ? SSHTUN_FRAME_AF_LEN : 0;
    const guint8 *frame;
    gsize len;

    while (sshtun_delimiter_next(r->rx, &frame, &len)) {
        if (write(h->tun_fd, frame + offset, len - offset) < 0) {
            drop(r, g_strerror(errno));
        } else {
            r->down.packets++;
            r->down.bytes += len - offset;
        }
    }
    report_dropped_stream(r);
}

/* SSH -> tun */
static gboolean
pump_channel_to_tun(Relay *r)
{
    SshtunHelper *h = r->h;

    r->more_channel = FALSE;
    for (int i = 0; i < CHANNEL_BATCH; i++) {
        gsize room;
        guint8 *space = sshtun_delimiter_space(r->rx, &room);
        unsigned long queued = 0;
        ssize_t n = libssh2_channel_read(h->tun_channel, (char *)space, room);

        if (n == LIBSSH2_ERROR_EAGAIN || n == 0)
            return TRUE;
        if (n < 0)
            return lost(r, "receiving from the server failed: %s", sshtun_ssh_last_error(h));
        /* Asked before libssh2 reads the socket again: it holds only whole
         * messages, so where its queue ends, one ends (delimiter.h). */
        libssh2_channel_window_read_ex(h->tun_channel, &queued, NULL);
        sshtun_delimiter_took(r->rx, (gsize)n, queued);
        deliver_frames(r);
    }
    r->more_channel = TRUE;
    return TRUE;
}

/* Sets *timeout_ms to when the keepalive clock next needs us (-1: never). */
static gboolean
keepalive_tick(Relay *r, int *timeout_ms)
{
    SshtunHelper *h = r->h;
    const SshtunSettings *s = h->settings;
    gint64 now = g_get_monotonic_time();
    gint64 silence_limit_us, silent_us;
    int next_seconds = 0;

    *timeout_ms = -1;
    if (s->keepalive == 0)
        return TRUE;
    /* Every keepalive is answered, so a healthy link is never silent for
     * keepalive-count intervals. */
    silence_limit_us = (gint64)s->keepalive * s->keepalive_count * G_USEC_PER_SEC;
    silent_us = now - h->last_receive_us;
    if (silent_us > silence_limit_us)
        return lost(r, "no answer from the server for %" G_GINT64_FORMAT " s (keepalive %u s x %u)",
                    silent_us / G_USEC_PER_SEC, s->keepalive, s->keepalive_count);
    if (libssh2_keepalive_send(h->session, &next_seconds) != 0)
        return lost(r, "sending a keepalive failed: %s", sshtun_ssh_last_error(h));
    *timeout_ms = (int)MIN((gint64)MAX(next_seconds, 1) * 1000,
                           (silence_limit_us - silent_us) / 1000 + 1);
    return TRUE;
}

static gboolean
take_in_without_channel(Relay *r)
{
    SshtunHelper *h = r->h;
    const char *answer = libssh2_userauth_list(h->session, h->login, strlen(h->login));
    int error = answer ? 0 : libssh2_session_last_errno(h->session);

    /* Waiting (EAGAIN) or waited out (TIMEOUT: the next call asks again). */
    if (!answer && error != LIBSSH2_ERROR_EAGAIN && error != LIBSSH2_ERROR_TIMEOUT)
        return lost(r, "receiving from the server failed: %s", sshtun_ssh_last_error(h));
    return TRUE;
}

/* Forwards only: the idle session channel's zero-byte read makes libssh2
 * take in what the socket holds (keepalive answers, data and window
 * adjustments of the forward channels), which the tunnel's reads do
 * otherwise.
 *
 * Without a session channel (the server allows none: "MaxSessions 0"),
 * libssh2 has no call that only receives. A "none" login request sent
 * after the login is one OpenSSH answers only with "unimplemented", which
 * libssh2 does not take for the answer: it keeps waiting (60 s, then it
 * asks again), and every call meanwhile takes in what the socket holds.
 * sshd logs the request at INFO level ("dispatch_protocol_error: type
 * 50"). */
static gboolean
take_in(Relay *r)
{
    SshtunHelper *h = r->h;
    char none[1];
    ssize_t n;

    if (!h->idle_channel)
        return take_in_without_channel(r);
    n = libssh2_channel_read(h->idle_channel, none, 0);

    if (n < 0 && n != LIBSSH2_ERROR_EAGAIN)
        return lost(r, "receiving from the server failed: %s", sshtun_ssh_last_error(h));
    if (libssh2_channel_eof(h->idle_channel))
        return lost(r, "the server closed the session");
    return TRUE;
}

/* Answers per second, at most: a flood of packets into the device must
 * not become a flood of answers. */
#define REFUSALS_PER_SECOND 100

/* Streams mode: the device has no channel behind it. What the kernel routes
 * into it is not TCP (the service's table redirected that before): UDP and
 * ICMP, which phase 1 does not carry (docs/streams.md). Each is read, so
 * that the device's queue does not fill, and answered "administratively
 * prohibited", so that the sender does not wait on a time-out. */
static void
refuse_tun(Relay *r)
{
    SshtunHelper *h = r->h;
    guint8 answer[SSHTUN_REFUSAL_MAX];

    for (int i = 0; i < TUN_BATCH; i++) {
        ssize_t n = read(h->tun_fd, r->tx, TX_BUFFER_SIZE);
        gint64 second = g_get_monotonic_time() / G_USEC_PER_SEC;
        gsize len;

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return;
        if (r->not_carried++ < 5)
            sshtun_helper_debug(h, "streams: a packet of %zd bytes that is not TCP", n);
        if (second != r->refusal_second) {
            r->refusal_second = second;
            r->refusals_this_second = 0;
        }
        if (r->refusals_this_second >= REFUSALS_PER_SECOND)
            continue;
        len = sshtun_refusal(r->tx, (gsize)n, answer);
        if (len > 0 && write(h->tun_fd, answer, len) == (ssize_t)len) {
            r->refusals_this_second++;
            r->refused++;
        }
    }
}

/* One round of work in both directions; FALSE when the session is lost. */
static gboolean
relay_round(Relay *r, const GArray *fds, int *timeout_ms)
{
    SshtunHelper *h = r->h;
    gboolean ok;

    if (h->tun_channel)
        ok = pump_channel_to_tun(r);
    else
        ok = take_in(r);
    /* Only when poll said so: a read() every round would be a system call
     * per round for nothing. fds is empty before the first poll. */
    if (h->settings->tunnel_mode == SSHTUN_MODE_STREAMS && h->tun_fd >= 0 && fds->len > 1
        && (g_array_index(fds, struct pollfd, 1).revents & POLLIN))
        refuse_tun(r);
    if (!ok)
        return FALSE;
    /* New queries become connections that the forwards open this round. */
    sshtun_streams_dns_round(h, fds, &r->dns_timeout_ms);
    /* Whoever sends first may fill the shared backlog: take turns. */
    r->forwards_first = !r->forwards_first;
    if (r->forwards_first)
        sshtun_forwards_round(h, fds, &r->forwards_backlogged, &r->forwards_timeout_ms);
    if (h->tun_channel && !pump_tun_to_channel(r))
        return FALSE;
    if (!r->forwards_first)
        sshtun_forwards_round(h, fds, &r->forwards_backlogged, &r->forwards_timeout_ms);
    if (!sshtun_transport_flush(h))
        return lost(r, "sending to the server failed: %s", g_strerror(errno));
    if (h->tun_channel && libssh2_channel_eof(h->tun_channel))
        return lost(r, "the server closed the tunnel");
    if (!keepalive_tick(r, timeout_ms))
        return FALSE;
    if (r->forwards_timeout_ms >= 0 && (*timeout_ms < 0 || r->forwards_timeout_ms < *timeout_ms))
        *timeout_ms = r->forwards_timeout_ms;
    if (r->dns_timeout_ms >= 0 && (*timeout_ms < 0 || r->dns_timeout_ms < *timeout_ms))
        *timeout_ms = r->dns_timeout_ms;
    if (!sshtun_transport_flush(h))
        return lost(r, "sending to the server failed: %s", g_strerror(errno));
    /* Data a jump host's session already took off the socket wakes no
     * poll(): go round again at once. */
    if (r->more_tun || r->more_channel || sshtun_transport_carrier_pending(h))
        *timeout_ms = 0;
    return TRUE;
}

/* The server's session blocking (setup, stopping) or not (relay). Jump
 * hosts' sessions stay non-blocking: they carry it. */
static void
set_blocking(SshtunHelper *h, gboolean blocking, long timeout_ms)
{
    libssh2_session_set_blocking(h->session, blocking);
    if (blocking)
        libssh2_session_set_timeout(h->session, timeout_ms);
}

/* Goodbye without waiting for answers: a server that no longer reads (its
 * tun device down, the network gone) must not hold a disconnect. The
 * channel close and the disconnect message go into the queue, which
 * sshtun_ssh_disconnect writes as far as the socket takes them before it
 * shuts the connection. */
static void
stop_session(SshtunHelper *h)
{
    sshtun_helper_event(h, "phase", "stopping");
    sshtun_forwards_drop_session(h);
    if (h->tun_channel)
        libssh2_channel_close(h->tun_channel);
    sshtun_ssh_disconnect(h, "nm-sshtun stopped");
    sshtun_transport_stop_queueing(h);
}

/* Back to the blocking mode setup works in, for a new session. */
static void
leave_session(SshtunHelper *h)
{
    sshtun_forwards_drop_session(h);
    sshtun_transport_stop_queueing(h);
    sshtun_ssh_disconnect(h, "connection lost");
}

SshtunExit
sshtun_relay_run(SshtunHelper *h)
{
    Relay r = {
        .h = h,
        .point_to_point = h->settings->tunnel_mode == SSHTUN_MODE_POINT_TO_POINT,
    };
    /* Both buffers live for the whole run: nothing is allocated per packet. */
    g_autofree guint8 *tx = g_malloc(TX_BUFFER_SIZE);
    g_autoptr(SshtunDelimiter) rx
            = sshtun_delimiter_new(h->settings->tunnel_mode, SSHTUN_CHANNEL_MAX_PACKET);
    g_autoptr(GArray) fds = g_array_sized_new(FALSE, TRUE, sizeof(struct pollfd), 64);
    gboolean stop = FALSE;
    g_autofree char *path_change = NULL;

    r.tx = tx;
    r.rx = rx;
    fcntl(h->sock, F_SETFL, fcntl(h->sock, F_GETFL) | O_NONBLOCK);
    set_blocking(h, FALSE, 0);
    libssh2_keepalive_config(h->session, 1, h->settings->keepalive);
#if LIBSSH2_VERSION_NUM >= 0x010b00
    /* Setup keeps libssh2's 60 s (a second factor may take that long).
     * libssh2 1.10 (Debian 12) has no such call: there the 60 s stay. */
    libssh2_session_set_read_timeout(h->session, SSHTUN_FORWARD_OPEN_TIMEOUT_S);
#endif
    sshtun_transport_start_queueing(h);
    sshtun_helper_event(h, "phase", "running");
    sshtun_helper_event(h, "ready", NULL);

    while (!stop) {
        struct pollfd *base;
        int timeout = -1;
        int n;

        if (!relay_round(&r, fds, &timeout))
            break;
        g_array_set_size(fds, BASE_FDS);
        base = (struct pollfd *)fds->data;
        base[0] = (struct pollfd){ .fd = h->sock, .events = POLLIN };
        if (sshtun_transport_socket_pending(h) || r.backlogged || r.forwards_backlogged)
            base[0].events |= POLLOUT;
        base[1] = (struct pollfd){ .fd = h->tun_fd, .events = 0 };
        if (h->settings->tunnel_mode == SSHTUN_MODE_STREAMS || (r.tx_len == 0 && !r.backlogged))
            base[1].events = POLLIN;
        base[2] = (struct pollfd){ .fd = h->control_open ? h->control_in : -1, .events = POLLIN };
        base[3] = (struct pollfd){ .fd = h->signal_fd, .events = POLLIN };
        base[4] = (struct pollfd){ .fd = h->path_watch, .events = POLLIN };
        sshtun_forwards_add_poll_fds(h, fds);
        sshtun_streams_dns_add_poll_fds(h, fds);
        base = (struct pollfd *)fds->data;
        n = poll(base, fds->len, timeout);
        if (n < 0 && errno != EINTR) {
            lost(&r, "poll failed: %s", g_strerror(errno));
            break;
        }
        if (n <= 0) {
            /* Nothing happened: no stale results for the next round. */
            for (guint i = 0; i < fds->len; i++)
                base[i].revents = 0;
            continue;
        }
        if (base[0].revents & (POLLERR | POLLHUP) && !(base[0].revents & POLLIN)) {
            lost(&r, "the connection to %s broke", h->server_address);
            break;
        }
        stop = sshtun_control_stop_requested(h, base[2].revents, base[3].revents);
        if (!stop && base[4].revents && sshtun_path_watch_drain(h->path_watch)
            && sshtun_path_changed(h->sock, &path_change)) {
            /* At once, not after the keepalives: the reconnect goes out
             * on the new path, and the server hands the addresses back. */
            lost(&r, "%s", path_change);
            h->path_changed = TRUE;
            break;
        }
    }
    sshtun_helper_log(h,
                      "relayed %" G_GUINT64_FORMAT " packets (%" G_GUINT64_FORMAT
                      " bytes) up, %" G_GUINT64_FORMAT " packets (%" G_GUINT64_FORMAT
                      " bytes) down, dropped %" G_GUINT64_FORMAT " packets and %" G_GUINT64_FORMAT
                      " bytes that were no whole frame",
                      r.up.packets, r.up.bytes, r.down.packets, r.down.bytes, r.dropped,
                      r.dropped_stream_bytes);
    if (h->settings->tunnel_mode == SSHTUN_MODE_STREAMS)
        sshtun_helper_log(h,
                          "streams: %" G_GUINT64_FORMAT
                          " packets that were not TCP, %" G_GUINT64_FORMAT
                          " of them answered \"administratively prohibited\"",
                          r.not_carried, r.refused);
    if (stop) {
        stop_session(h);
        return SSHTUN_EXIT_OK;
    }
    leave_session(h);
    return SSHTUN_EXIT_CONNECTION_LOST;
}
