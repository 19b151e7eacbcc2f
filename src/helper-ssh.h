/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Reaching the server: TCP, SSH handshake, server key check, login. */
#ifndef NM_SSHTUN_HELPER_SSH_H
#define NM_SSHTUN_HELPER_SSH_H

#include "helper.h"

/* TCP connection, SSH handshake and a trusted server key; fails the helper
 * with its reason on error. */
void sshtun_ssh_reach_server(SshtunHelper *h);

/* Logs in as settings say; fails the helper on error. */
void sshtun_ssh_authenticate(SshtunHelper *h);

/* libssh2's last error text for the session. */
const char *sshtun_ssh_last_error(SshtunHelper *h);

#endif
