/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The IP configuration a tunnel gets: parsed from `remote-command` output
 * (or the static addresses, written in the same format), in the line format
 * of docs/design.md and the README:
 *
 *   ADDR a.b.c.d | PEER_ADDR a.b.c.d | NETMASK a.b.c.d | PREFIX n
 *   GW_ADDR addr | MTU n | ADDR6 x::y/n | PEER_ADDR6 x::y
 *   DNS addr (repeatable) | DOMAIN name (repeatable) | ROUTE net/len (repeatable)
 *
 * Unknown keys are skipped with a warning; a bad value fails, naming the line.
 */
#ifndef NM_SSHTUN_IPCONFIG_H
#define NM_SSHTUN_IPCONFIG_H

#include <glib.h>
#include <netinet/in.h>

/* Output of remote-command beyond this fails the connection. */
#define SSHTUN_IP_CONFIG_MAX_BYTES (64 * 1024)

#define SSHTUN_IP_CONFIG_ERROR (sshtun_ip_config_error_quark())
GQuark sshtun_ip_config_error_quark(void);

typedef struct {
    int family; /* AF_INET or AF_INET6 */
    union {
        struct in_addr v4;
        struct in6_addr v6;
    } addr;
    guint prefix;
} SshtunRoute;

typedef struct {
    gboolean has_addr4;
    struct in_addr addr4;
    gboolean has_peer4;
    struct in_addr peer4;
    guint prefix4; /* 32 when not given */

    gboolean has_addr6;
    struct in6_addr addr6;
    guint prefix6;
    gboolean has_peer6;
    struct in6_addr peer6;

    gboolean has_gateway; /* GW_ADDR: the external gateway */
    int gateway_family;
    union {
        struct in_addr v4;
        struct in6_addr v6;
    } gateway;

    guint mtu;          /* 0: not given */
    GArray *dns4;       /* struct in_addr */
    GArray *dns6;       /* struct in6_addr */
    GPtrArray *domains; /* char * */
    GArray *routes;     /* SshtunRoute */
} SshtunIpConfig;

SshtunIpConfig *sshtun_ip_config_new(void);
void sshtun_ip_config_free(SshtunIpConfig *config);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SshtunIpConfig, sshtun_ip_config_free)

/* Parses @text (@len bytes; it need not be NUL-terminated). Warnings about
 * skipped lines are appended to @warnings (char *) when it is not NULL. */
SshtunIpConfig *sshtun_ip_config_parse(const char *text, gsize len, GPtrArray *warnings,
                                       GError **error);

/* The configuration in the same line format, one KEY VALUE per line, in a
 * canonical form that sshtun_ip_config_parse() reads back unchanged. */
char *sshtun_ip_config_to_text(const SshtunIpConfig *config);

/* The DNS servers of @config as addresses in text, IPv4 first, as a
 * NULL-terminated list (empty when none). */
char **sshtun_ip_config_dns_text(const SshtunIpConfig *config);

#endif
