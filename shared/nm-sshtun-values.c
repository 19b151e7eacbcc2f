/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include "nm-sshtun-values.h"

#include <arpa/inet.h>
#include <string.h>

G_DEFINE_QUARK(sshtun - settings - error - quark, sshtun_settings_error)

gboolean
sshtun_is_dns_name(const char *value)
{
    gsize len = strlen(value);

    if (len == 0 || len > 253 || value[0] == '-' || value[0] == '.')
        return FALSE;
    for (const char *p = value; *p; p++) {
        if (!g_ascii_isalnum(*p) && *p != '-' && *p != '.' && *p != '_')
            return FALSE;
    }
    return TRUE;
}

gboolean
sshtun_is_ipv4(const char *value)
{
    struct in_addr addr;
    return inet_pton(AF_INET, value, &addr) == 1;
}

gboolean
sshtun_is_ipv6(const char *value)
{
    struct in6_addr addr;
    return inet_pton(AF_INET6, value, &addr) == 1;
}

gboolean
sshtun_is_ip_address(const char *value)
{
    return sshtun_is_ipv4(value) || sshtun_is_ipv6(value);
}
