/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include "nm-sshtun-ipconfig.h"

#include "nm-sshtun-settings.h"

#include <arpa/inet.h>
#include <string.h>

G_DEFINE_QUARK(sshtun - ip - config - error - quark, sshtun_ip_config_error)

/* Bounds on repeatable keys: more than this is not a configuration but a
 * server trying to make us allocate. */
#define MAX_DNS     16
#define MAX_DOMAINS 16
#define MAX_ROUTES  1024

SshtunIpConfig *
sshtun_ip_config_new(void)
{
    SshtunIpConfig *config = g_new0(SshtunIpConfig, 1);

    config->prefix4 = 32;
    config->prefix6 = 128;
    config->dns4 = g_array_new(FALSE, TRUE, sizeof(struct in_addr));
    config->dns6 = g_array_new(FALSE, TRUE, sizeof(struct in6_addr));
    config->domains = g_ptr_array_new_with_free_func(g_free);
    config->routes = g_array_new(FALSE, TRUE, sizeof(SshtunRoute));
    return config;
}

void
sshtun_ip_config_free(SshtunIpConfig *config)
{
    if (!config)
        return;
    g_array_unref(config->dns4);
    g_array_unref(config->dns6);
    g_ptr_array_unref(config->domains);
    g_array_unref(config->routes);
    g_free(config);
}

static gboolean
parse_prefix(const char *text, guint max, guint *out)
{
    guint64 number;

    if (!g_ascii_isdigit(text[0]))
        return FALSE;
    if (!g_ascii_string_to_unsigned(text, 10, 0, max, &number, NULL))
        return FALSE;
    *out = (guint)number;
    return TRUE;
}

/* "addr/len" or, when @len_required is FALSE, "addr" alone. */
static gboolean
parse_cidr(const char *text, int family, gboolean len_required, void *addr, guint *prefix)
{
    g_autofree char *copy = g_strdup(text);
    char *slash = strchr(copy, '/');
    guint max = family == AF_INET ? 32 : 128;

    if (slash) {
        *slash = '\0';
        if (!parse_prefix(slash + 1, max, prefix))
            return FALSE;
    } else if (len_required) {
        return FALSE;
    } else {
        *prefix = max;
    }
    return inet_pton(family, copy, addr) == 1;
}

static gboolean
netmask_to_prefix(const char *text, guint *prefix)
{
    struct in_addr mask;
    guint32 bits;

    if (inet_pton(AF_INET, text, &mask) != 1)
        return FALSE;
    bits = ntohl(mask.s_addr);
    /* A netmask is ones followed by zeros: its complement plus one is a
     * power of two. */
    if (((~bits + 1) & ~bits) != 0)
        return FALSE;
    *prefix = (guint)__builtin_popcount(bits);
    return TRUE;
}

typedef enum { LINE_OK, LINE_BAD, LINE_UNKNOWN } LineResult;

static LineResult
parse_line(SshtunIpConfig *c, const char *key, const char *value, const char **why)
{
    guint prefix;

    if (strcmp(key, "ADDR") == 0) {
        *why = "an IPv4 address";
        if (c->has_addr4 || inet_pton(AF_INET, value, &c->addr4) != 1)
            return LINE_BAD;
        c->has_addr4 = TRUE;
    } else if (strcmp(key, "PEER_ADDR") == 0) {
        *why = "an IPv4 address";
        if (c->has_peer4 || inet_pton(AF_INET, value, &c->peer4) != 1)
            return LINE_BAD;
        c->has_peer4 = TRUE;
    } else if (strcmp(key, "NETMASK") == 0) {
        *why = "a contiguous IPv4 netmask";
        if (!netmask_to_prefix(value, &prefix) || prefix == 0)
            return LINE_BAD;
        c->prefix4 = prefix;
    } else if (strcmp(key, "PREFIX") == 0) {
        *why = "a prefix length from 1 to 32";
        if (!parse_prefix(value, 32, &prefix) || prefix == 0)
            return LINE_BAD;
        c->prefix4 = prefix;
    } else if (strcmp(key, "GW_ADDR") == 0) {
        *why = "an IPv4 or IPv6 address";
        if (inet_pton(AF_INET, value, &c->gateway.v4) == 1)
            c->gateway_family = AF_INET;
        else if (inet_pton(AF_INET6, value, &c->gateway.v6) == 1)
            c->gateway_family = AF_INET6;
        else
            return LINE_BAD;
        c->has_gateway = TRUE;
    } else if (strcmp(key, "MTU") == 0) {
        guint64 mtu;
        *why = "an MTU from 576 to 32696";
        if (!g_ascii_isdigit(value[0])
            || !g_ascii_string_to_unsigned(value, 10, SSHTUN_MTU_MIN, SSHTUN_MTU_MAX, &mtu, NULL))
            return LINE_BAD;
        c->mtu = (guint)mtu;
    } else if (strcmp(key, "ADDR6") == 0) {
        *why = "an IPv6 address with an optional /prefix";
        if (c->has_addr6 || !parse_cidr(value, AF_INET6, FALSE, &c->addr6, &c->prefix6)
            || c->prefix6 == 0)
            return LINE_BAD;
        c->has_addr6 = TRUE;
    } else if (strcmp(key, "PEER_ADDR6") == 0) {
        *why = "an IPv6 address";
        if (c->has_peer6 || inet_pton(AF_INET6, value, &c->peer6) != 1)
            return LINE_BAD;
        c->has_peer6 = TRUE;
    } else if (strcmp(key, "DNS") == 0) {
        struct in_addr v4;
        struct in6_addr v6;
        *why = "an IPv4 or IPv6 address (at most 16 DNS lines)";
        if (c->dns4->len + c->dns6->len >= MAX_DNS)
            return LINE_BAD;
        if (inet_pton(AF_INET, value, &v4) == 1)
            g_array_append_val(c->dns4, v4);
        else if (inet_pton(AF_INET6, value, &v6) == 1)
            g_array_append_val(c->dns6, v6);
        else
            return LINE_BAD;
    } else if (strcmp(key, "DOMAIN") == 0) {
        *why = "a domain name (at most 16 DOMAIN lines)";
        if (!sshtun_is_dns_name(value) || c->domains->len >= MAX_DOMAINS)
            return LINE_BAD;
        g_ptr_array_add(c->domains, g_strdup(value));
    } else if (strcmp(key, "ROUTE") == 0) {
        SshtunRoute route = { 0 };
        *why = "a network as address/prefix (at most 1024 ROUTE lines)";
        if (c->routes->len >= MAX_ROUTES)
            return LINE_BAD;
        if (strchr(value, ':')) {
            route.family = AF_INET6;
            if (!parse_cidr(value, AF_INET6, TRUE, &route.addr.v6, &route.prefix))
                return LINE_BAD;
        } else {
            route.family = AF_INET;
            if (!parse_cidr(value, AF_INET, TRUE, &route.addr.v4, &route.prefix))
                return LINE_BAD;
        }
        g_array_append_val(c->routes, route);
    } else {
        return LINE_UNKNOWN;
    }
    return LINE_OK;
}

SshtunIpConfig *
sshtun_ip_config_parse(const char *text, gsize len, GPtrArray *warnings, GError **error)
{
    g_autoptr(SshtunIpConfig) config = sshtun_ip_config_new();
    g_auto(GStrv) lines = NULL;
    g_autofree char *copy = NULL;

    if (len > SSHTUN_IP_CONFIG_MAX_BYTES) {
        g_set_error(error, SSHTUN_IP_CONFIG_ERROR, 0, "IP configuration is larger than %d bytes",
                    SSHTUN_IP_CONFIG_MAX_BYTES);
        return NULL;
    }
    if (memchr(text, '\0', len)) {
        g_set_error(error, SSHTUN_IP_CONFIG_ERROR, 0, "IP configuration contains a NUL byte");
        return NULL;
    }
    copy = g_strndup(text, len);
    lines = g_strsplit(copy, "\n", -1);

    for (guint n = 0; lines[n]; n++) {
        char *line = lines[n];
        char *hash = strchr(line, '#');
        char *value;
        const char *why = NULL;
        LineResult result;

        if (hash)
            *hash = '\0';
        g_strstrip(line);
        if (line[0] == '\0')
            continue;
        if (!g_utf8_validate(line, -1, NULL)) {
            g_set_error(error, SSHTUN_IP_CONFIG_ERROR, 0,
                        "IP configuration line %u is not UTF-8 text", n + 1);
            return NULL;
        }
        value = line + strcspn(line, " \t");
        if (*value == '\0') {
            g_set_error(error, SSHTUN_IP_CONFIG_ERROR, 0,
                        "IP configuration line %u \"%s\": a value is missing", n + 1, line);
            return NULL;
        }
        *value++ = '\0';
        value += strspn(value, " \t");
        result = parse_line(config, line, value, &why);
        if (result == LINE_BAD) {
            g_set_error(error, SSHTUN_IP_CONFIG_ERROR, 0,
                        "IP configuration line %u \"%s %s\": expected %s", n + 1, line, value, why);
            return NULL;
        }
        if (result == LINE_UNKNOWN && warnings)
            g_ptr_array_add(warnings,
                            g_strdup_printf("IP configuration line %u: unknown key \"%s\" skipped",
                                            n + 1, line));
    }

    if (!config->has_addr4 && !config->has_addr6) {
        g_set_error(error, SSHTUN_IP_CONFIG_ERROR, 0,
                    "IP configuration has neither ADDR nor ADDR6");
        return NULL;
    }
    return g_steal_pointer(&config);
}

static void
append_addr(GString *out, const char *key, int family, const void *addr)
{
    char buf[INET6_ADDRSTRLEN];

    inet_ntop(family, addr, buf, sizeof buf);
    g_string_append_printf(out, "%s %s\n", key, buf);
}

char **
sshtun_ip_config_dns_text(const SshtunIpConfig *c)
{
    GPtrArray *all = g_ptr_array_new();
    char buf[INET6_ADDRSTRLEN];

    for (guint i = 0; i < c->dns4->len; i++)
        g_ptr_array_add(all, g_strdup(inet_ntop(AF_INET, &g_array_index(c->dns4, struct in_addr, i),
                                                buf, sizeof buf)));
    for (guint i = 0; i < c->dns6->len; i++)
        g_ptr_array_add(all,
                        g_strdup(inet_ntop(AF_INET6, &g_array_index(c->dns6, struct in6_addr, i),
                                           buf, sizeof buf)));
    g_ptr_array_add(all, NULL);
    return (char **)g_ptr_array_free(all, FALSE);
}

char *
sshtun_ip_config_to_text(const SshtunIpConfig *c)
{
    GString *out = g_string_new(NULL);
    char buf[INET6_ADDRSTRLEN];

    if (c->has_addr4) {
        append_addr(out, "ADDR", AF_INET, &c->addr4);
        if (c->has_peer4)
            append_addr(out, "PEER_ADDR", AF_INET, &c->peer4);
        g_string_append_printf(out, "PREFIX %u\n", c->prefix4);
    }
    if (c->has_addr6) {
        inet_ntop(AF_INET6, &c->addr6, buf, sizeof buf);
        g_string_append_printf(out, "ADDR6 %s/%u\n", buf, c->prefix6);
        if (c->has_peer6)
            append_addr(out, "PEER_ADDR6", AF_INET6, &c->peer6);
    }
    if (c->has_gateway)
        append_addr(out, "GW_ADDR", c->gateway_family, &c->gateway);
    if (c->mtu)
        g_string_append_printf(out, "MTU %u\n", c->mtu);
    for (guint i = 0; i < c->dns4->len; i++)
        append_addr(out, "DNS", AF_INET, &g_array_index(c->dns4, struct in_addr, i));
    for (guint i = 0; i < c->dns6->len; i++)
        append_addr(out, "DNS", AF_INET6, &g_array_index(c->dns6, struct in6_addr, i));
    for (guint i = 0; i < c->domains->len; i++)
        g_string_append_printf(out, "DOMAIN %s\n", (char *)c->domains->pdata[i]);
    for (guint i = 0; i < c->routes->len; i++) {
        const SshtunRoute *r = &g_array_index(c->routes, SshtunRoute, i);
        inet_ntop(r->family, &r->addr, buf, sizeof buf);
        g_string_append_printf(out, "ROUTE %s/%u\n", buf, r->prefix);
    }
    return g_string_free(out, FALSE);
}
