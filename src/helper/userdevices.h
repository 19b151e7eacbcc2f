/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * How many devices one ordinary user holds through the helper (a
 * setuid-root or file-capability install), so that no user can take every
 * device name or fill the kernel with devices.
 */
#ifndef NM_SSHTUN_HELPER_USERDEVICES_H
#define NM_SSHTUN_HELPER_USERDEVICES_H

#include <glib.h>
#include <sys/types.h>

/* The most devices one user's helpers may hold at once. */
#define SSHTUN_USER_DEVICES_MAX 8

/* The tun/tap devices of this network namespace whose owner (TUNSETOWNER)
 * is @uid and whose names are those the helper gives an ordinary user's
 * devices (see nm-sshtun-tun.h); their names are added to @names.
 * -1 with @error set when the kernel cannot be asked. */
int sshtun_user_devices_count(uid_t uid, GPtrArray *names, GError **error);

#endif
