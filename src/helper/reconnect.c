/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include "reconnect.h"

#include "report.h"
#include "setup.h"

gboolean
sshtun_reconnect_is_worth_retrying(SshtunExit reason)
{
    switch (reason) {
    case SSHTUN_EXIT_CONNECT_FAILED:
    case SSHTUN_EXIT_CONNECTION_LOST:
    /* The server may still hold the unit for the session it has not yet
     * noticed is dead. */
    case SSHTUN_EXIT_TUNNEL_REFUSED:
    /* Likewise for the port of a remote forward. */
    case SSHTUN_EXIT_FORWARD_FAILED:
        return TRUE;
    default:
        return FALSE;
    }
}

gboolean
sshtun_reconnect(SshtunHelper *h)
{
    gint64 delay_ms = SSHTUN_RECONNECT_FIRST_DELAY_MS;

    sshtun_helper_event(h, "reconnecting", h->failure_message);
    /* A forwards-only session has no interface to keep. */
    sshtun_helper_log(h, "session lost (%s); reconnecting, keeping %s", h->failure_message,
                      h->interface_name ? h->interface_name : "the forwards' listeners");
    for (guint attempt = 1;; attempt++) {
        /* Jitter: many clients that lost the same server do not all come
         * back in the same second. */
        gint64 wait_ms = delay_ms * g_random_int_range(80, 121) / 100;

        /* Lost because the path changed: the new one is there already. */
        if (attempt == 1 && h->path_changed)
            wait_ms = 0;
        h->path_changed = FALSE;

        if (!sshtun_pause_or_stop(h, wait_ms)) {
            h->failure = SSHTUN_EXIT_OK;
            return FALSE;
        }
        sshtun_helper_eventf(h, "phase", "reconnecting %u", attempt);
        if (sshtun_establish(h)) {
            sshtun_helper_log(h, "reconnected after %u attempt%s", attempt,
                              attempt == 1 ? "" : "s");
            return TRUE;
        }
        if (!sshtun_reconnect_is_worth_retrying(h->failure)) {
            sshtun_helper_log(h, "giving up reconnecting: %s", h->failure_message);
            return FALSE;
        }
        /* The network changed since the last pause: back to short pauses,
         * the new path may need a moment (a route after an address). */
        if (h->path_changed)
            delay_ms = SSHTUN_RECONNECT_FIRST_DELAY_MS;
        else
            delay_ms = MIN(delay_ms * 2, SSHTUN_RECONNECT_MAX_DELAY_MS);
        h->path_changed = FALSE;
        sshtun_helper_log(h,
                          "reconnect attempt %u failed (%s); next in about %" G_GINT64_FORMAT " s",
                          attempt, h->failure_message, MAX(delay_ms / 1000, 1));
    }
}
