/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What the parsers of settings, forwards and ssh_config share: checks of
 * single values (host names, addresses) and the error domain a bad value
 * is reported in. Below every parser; it includes none of them.
 */
#ifndef NM_SSHTUN_VALUES_H
#define NM_SSHTUN_VALUES_H

#include <glib.h>

#define SSHTUN_SETTINGS_ERROR (sshtun_settings_error_quark())
GQuark sshtun_settings_error_quark(void);

typedef enum {
    SSHTUN_SETTINGS_ERROR_UNKNOWN_KEY,
    SSHTUN_SETTINGS_ERROR_BAD_VALUE,
    SSHTUN_SETTINGS_ERROR_MISSING,
    SSHTUN_SETTINGS_ERROR_UNSUPPORTED,
} SshtunSettingsError;

/* An IPv4 or IPv6 address (without brackets). */
gboolean sshtun_is_ip_address(const char *text);
gboolean sshtun_is_ipv4(const char *text);
gboolean sshtun_is_ipv6(const char *text);

/* A host or domain name: letters, digits, '-', '.', '_', at most 253,
 * not starting with '-' or '.'. */
gboolean sshtun_is_dns_name(const char *text);

#endif
