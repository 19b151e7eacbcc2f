/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The whole setup of a session, first time or again: connect, check the
 * server, log in, request the remote forwards, open the tunnel (or the
 * session) and configure it; and the first time, again while the server
 * says it is busy.
 */
#ifndef NM_SSHTUN_HELPER_SETUP_H
#define NM_SSHTUN_HELPER_SETUP_H

#include "helper.h"

/* Connects, checks the server, logs in, opens the tunnel and configures it:
 * the whole setup, first time or again. FALSE with the reason recorded. */
gboolean sshtun_establish(SshtunHelper *h);

/* A server refusing logins for now (sshd's MaxStartups): the first setup
 * tries again after a jittered, doubling pause, within NetworkManager's
 * 60 s for an activation. */
#define SSHTUN_BUSY_FIRST_DELAY_MS 250
#define SSHTUN_BUSY_MAX_DELAY_MS   4000
#define SSHTUN_BUSY_RETRY_LIMIT_MS 45000

/* sshtun_establish(), tried again while the server says it is busy. FALSE
 * with the reason recorded, or with h->failure SSHTUN_EXIT_OK when told to
 * stop meanwhile. */
gboolean sshtun_establish_first(SshtunHelper *h);

/* Sleeps @delay_ms while answering stop requests and discarding what the
 * tun device delivers; FALSE when told to stop. */
gboolean sshtun_pause_or_stop(SshtunHelper *h, gint64 delay_ms);

#endif
