/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Logging in: the connection's method (ssh-agent, key file, password,
 * keyboard-interactive), and a second factor when the server asks for one
 * after the first (AuthenticationMethods publickey,password and the like).
 */
#ifndef NM_SSHTUN_HELPER_AUTH_H
#define NM_SSHTUN_HELPER_AUTH_H

#include "helper.h"

/* Logs in as the settings say; FALSE with the reason recorded on error. */
gboolean sshtun_ssh_authenticate(SshtunHelper *h);

#endif
