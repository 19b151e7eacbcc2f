/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Creating a tun (point-to-point) or tap (ethernet) device. */
#ifndef NM_SSHTUN_TUN_H
#define NM_SSHTUN_TUN_H

#include <glib.h>
#include <net/if.h>

/* A name the kernel accepts for a network interface. */
gboolean sshtun_tun_name_is_valid(const char *name);

/* Opens /dev/net/tun and creates (or, with a persistent device, attaches
 * to) the device @name, or the next free tunN/tapN when @name is NULL.
 * The descriptor is non-blocking and close-on-exec; the device goes away
 * with its last descriptor unless it was made persistent beforehand.
 * Returns -1 with @error set on failure. */
int sshtun_tun_open(const char *name, gboolean tap, char actual_name[IFNAMSIZ], GError **error);

#endif
