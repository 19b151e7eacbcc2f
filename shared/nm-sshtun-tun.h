/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Creating a tun (point-to-point) or tap (ethernet) device. */
#ifndef NM_SSHTUN_TUN_H
#define NM_SSHTUN_TUN_H

#include <glib.h>
#include <net/if.h>

/* A name the kernel accepts for a network interface. */
gboolean sshtun_tun_name_is_valid(const char *name);

/* Name patterns of the devices the helper makes for an ordinary user (a
 * setuid-root or file-capability install): names of their own, so that
 * no user can take tunN/tapN, which root's own tools pick first. */
#define SSHTUN_USER_TUN_PATTERN "sshtun%d"
#define SSHTUN_USER_TAP_PATTERN "sshtap%d"

/* Opens /dev/net/tun and creates (or, with a persistent device, attaches
 * to) the device @name, or, when @name is NULL, the next free name of
 * @pattern (a name with "%d"; NULL: tunN for tun, tapN for tap).
 * The descriptor is non-blocking and close-on-exec; the device goes away
 * with its last descriptor unless it was made persistent beforehand.
 * Returns -1 with @error set on failure. */
int sshtun_tun_open(const char *name, const char *pattern, gboolean tap, char actual_name[IFNAMSIZ],
                    GError **error);

#endif
