/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Reaching the server: TCP, SSH handshake, server key check, login. */
#ifndef NM_SSHTUN_HELPER_SSH_H
#define NM_SSHTUN_HELPER_SSH_H

#include "helper.h"

/* TCP connection, SSH handshake and a trusted server key. On error, FALSE
 * with the reason recorded (sshtun_helper_failed()). */
gboolean sshtun_ssh_reach_server(SshtunHelper *h);

/* Ends the SSH session and closes the connection. */
void sshtun_ssh_disconnect(SshtunHelper *h, const char *why);

#endif
