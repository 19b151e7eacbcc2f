/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The helper's only privileged steps: opening the tun/tap device and giving
 * up root for good. Everything after sshtun_privileges_drop() runs as the
 * target user, including reading the files named in the settings.
 */
#ifndef NM_SSHTUN_HELPER_PRIVILEGES_H
#define NM_SSHTUN_HELPER_PRIVILEGES_H

#include "helper.h"

/* No core dumps, no ptrace by other users: the process holds secrets. */
void sshtun_privileges_protect_memory(void);

/* Started by an ordinary user (a real uid other than 0), whether through a
 * setuid-root or a file-capability install: the helper acts for that user
 * and refuses what the user must not choose. */
gboolean sshtun_privileges_for_user(void);

/* Creates the tun (point-to-point) or tap (ethernet) device, attaches to the
 * named one, or takes the descriptor handed in [helper] tun-fd. For an
 * ordinary user: sshtunN/sshtapN, owned by that user, at most
 * SSHTUN_USER_DEVICES_MAX at once. */
void sshtun_privileges_open_tun(SshtunHelper *h);

/* Switches to the target user permanently, clears every capability set,
 * the ambient and the bounding set, and checks that none can be regained. */
void sshtun_privileges_drop(SshtunHelper *h);

/* Reads the key file and known_hosts as the (already dropped) target user,
 * unless their contents came with the settings. */
void sshtun_privileges_read_files(SshtunHelper *h);

#endif
