/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include "setup.h"

#include "pathwatch.h"

#include "auth.h"
#include "control.h"
#include "forward.h"
#include "report.h"
#include "ssh.h"
#include "tunnel.h"

#include <poll.h>
#include <unistd.h>

/* Sleeps @delay_ms while answering stop requests and discarding what the
 * tun device delivers (it has nowhere to go; TCP inside will resend).
 * FALSE when told to stop. */
gboolean
sshtun_pause_or_stop(SshtunHelper *h, gint64 delay_ms)
{
    gint64 deadline = g_get_monotonic_time() + delay_ms * 1000;
    guint8 discard[2048];

    for (;;) {
        gint64 left_ms = (deadline - g_get_monotonic_time()) / 1000;
        struct pollfd fds[4] = {
            { .fd = h->control_open ? h->control_in : -1, .events = POLLIN },
            { .fd = h->signal_fd, .events = POLLIN },
            { .fd = h->tun_fd, .events = POLLIN },
            { .fd = h->path_watch, .events = POLLIN },
        };

        if (left_ms <= 0)
            return TRUE;
        if (poll(fds, G_N_ELEMENTS(fds), (int)left_ms) <= 0)
            continue;
        if (sshtun_control_stop_requested(h, fds[0].revents, fds[1].revents))
            return FALSE;
        if (fds[2].revents & POLLIN) {
            while (read(h->tun_fd, discard, sizeof discard) > 0)
                ;
        }
        /* An address or route came or went: the server may be reachable
         * again (a new network, a link back): try now, not after the
         * pause. */
        if ((fds[3].revents & POLLIN) && sshtun_path_watch_drain(h->path_watch)) {
            h->path_changed = TRUE;
            return TRUE;
        }
    }
}

static gboolean
open_channels(SshtunHelper *h)
{
    if (h->settings->no_tunnel)
        return sshtun_tunnel_open_idle(h);
    /* Streams mode (docs/streams.md): the device stays for the routes, the
     * TCP connections travel in direct-tcpip channels, and the session
     * channel is read as in no-tunnel mode. */
    if (h->settings->tunnel_mode == SSHTUN_MODE_STREAMS)
        return sshtun_tunnel_open_idle(h) && sshtun_tunnel_configure(h);
    return sshtun_tunnel_open(h) && sshtun_tunnel_configure(h);
}

/* Once logged in, libssh2 sends keepalives while a blocking call waits
 * (before, sshd would take them for a protocol error): their answers show
 * the server is alive while a slow login shell starts. Only after the
 * remote forwards are requested: a keepalive's answer (a global request's
 * failure, as libssh2 cannot tell them apart) would be taken for the
 * answer to a forward's request. */
static gboolean
keepalive_while_waiting(SshtunHelper *h)
{
    if (h->settings->keepalive)
        libssh2_keepalive_config(h->session, 1, h->settings->keepalive);
    return TRUE;
}

gboolean
sshtun_establish(SshtunHelper *h)
{
    h->failure = SSHTUN_EXIT_OK;
    g_clear_pointer(&h->failure_message, g_free);
    if (sshtun_ssh_reach_server(h) && sshtun_ssh_authenticate(h)
        && sshtun_forwards_request_remote(h) && keepalive_while_waiting(h) && open_channels(h))
        return TRUE;
    sshtun_ssh_disconnect(h, "setup failed");
    return FALSE;
}

gboolean
sshtun_establish_first(SshtunHelper *h)
{
    gint64 deadline_us = g_get_monotonic_time() + SSHTUN_BUSY_RETRY_LIMIT_MS * 1000;
    gint64 delay_ms = SSHTUN_BUSY_FIRST_DELAY_MS;

    for (guint attempt = 1;; attempt++) {
        gint64 wait_ms = delay_ms * g_random_int_range(80, 121) / 100;

        if (sshtun_establish(h))
            return TRUE;
        if (!h->server_busy || g_get_monotonic_time() + wait_ms * 1000 > deadline_us)
            return FALSE;
        sshtun_helper_log(h, "%s; trying again in %" G_GINT64_FORMAT " ms (attempt %u)",
                          h->failure_message, wait_ms, attempt + 1);
        if (!sshtun_pause_or_stop(h, wait_ms)) {
            h->failure = SSHTUN_EXIT_OK;
            return FALSE;
        }
        delay_ms = MIN(delay_ms * 2, SSHTUN_BUSY_MAX_DELAY_MS);
    }
}
