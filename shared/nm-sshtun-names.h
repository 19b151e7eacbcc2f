/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Names that more than one program uses (the service, the helper, the auth
 * dialog, the editor): defined once, here.
 */
#ifndef NM_SSHTUN_NAMES_H
#define NM_SSHTUN_NAMES_H

/* The D-Bus service and vpn.service-type (the .name file says the same). */
#define SSHTUN_DBUS_SERVICE "org.freedesktop.NetworkManager.sshtun"

/* Secrets, as NetworkManager stores them in vpn.secrets. */
#define SSHTUN_SECRET_PASSWORD       "password"
#define SSHTUN_SECRET_KEY_PASSPHRASE "key-passphrase"
/* The user's ssh-agent socket, which only the auth dialog run in the
 * user's session knows (SSH_AUTH_SOCK). */
#define SSHTUN_SECRET_AGENT_SOCKET "ssh-auth-sock"
/* The answer to a keyboard-interactive prompt of the server. */
#define SSHTUN_SECRET_KBD_ANSWER "keyboard-interactive"

/* The secrets the helper takes in the [secrets] group of its settings. */
#define SSHTUN_HELPER_SECRETS                                                                      \
    {                                                                                              \
        SSHTUN_SECRET_PASSWORD, SSHTUN_SECRET_KEY_PASSPHRASE, SSHTUN_SECRET_AGENT_SOCKET, NULL     \
    }

#endif
