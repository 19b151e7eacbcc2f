/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The helper's IP configuration as the dictionaries NetworkManager 1.42
 * takes from a VPN service: set_config, set_ip4_config, set_ip6_config.
 */
#ifndef NM_SSHTUN_SERVICE_NM_CONFIG_H
#define NM_SSHTUN_SERVICE_NM_CONFIG_H

#include "nm-sshtun-ipconfig.h"

#include <glib.h>

/* @tundev: the interface; @server: the address the helper connected to
 * (used as the external gateway unless the server sent GW_ADDR);
 * @can_persist: the tunnel outlives the loss of the underlying connection
 * (the helper reconnects); @tundev NULL: no tunnel device (forwards only);
 * @forwards: lines for the banner, or NULL. NULL when @server is not an
 * address. */
GVariant *sshtun_nm_config_general(const SshtunIpConfig *config, const char *tundev,
                                   const char *server, gboolean can_persist, const char *forwards);
/* NULL when the configuration has no address of that family. */
GVariant *sshtun_nm_config_ip4(const SshtunIpConfig *config);
GVariant *sshtun_nm_config_ip6(const SshtunIpConfig *config);

#endif
