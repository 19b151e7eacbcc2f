/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Getting the session back after it was lost, keeping the tun device (and
 * with it the addresses and routes NetworkManager gave it): capped
 * exponential backoff with jitter, the server key checked again, a new
 * login, the channel and remote-command again.
 */
#ifndef NM_SSHTUN_HELPER_RECONNECT_H
#define NM_SSHTUN_HELPER_RECONNECT_H

#include "helper.h"

/* Longest wait between two attempts. */
#define SSHTUN_RECONNECT_MAX_DELAY_MS   30000
#define SSHTUN_RECONNECT_FIRST_DELAY_MS 500

/* Whether another attempt can succeed after a failure for @reason (a
 * refused login or a changed server key will not fix itself). */
gboolean sshtun_reconnect_is_worth_retrying(SshtunExit reason);

/* After the session was lost: TRUE once it is back; FALSE when told to stop
 * (h->failure is SSHTUN_EXIT_OK) or when retrying cannot help (the reason is
 * recorded). */
gboolean sshtun_reconnect(SshtunHelper *h);

#endif
