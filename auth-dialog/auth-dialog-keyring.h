/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef NM_SSHTUN_AUTH_DIALOG_KEYRING_H
#define NM_SSHTUN_AUTH_DIALOG_KEYRING_H

#include <glib.h>

/* A secret the user's keyring holds for this connection ("agent-owned"
 * secrets, saved by nm-applet or GNOME Shell), or NULL. */
char *sshtun_keyring_lookup(const char *uuid, const char *secret_name);

#endif
