/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include "nm-config.h"

#include <NetworkManager.h>
#include <arpa/inet.h>

static GVariant *
ip6_bytes(const struct in6_addr *addr)
{
    return g_variant_new_fixed_array(G_VARIANT_TYPE_BYTE, addr, sizeof *addr, 1);
}

GVariant *
sshtun_nm_config_general(const SshtunIpConfig *c, const char *tundev, const char *server,
                         gboolean can_persist, const char *forwards)
{
    GVariantBuilder b;
    struct in_addr v4;
    struct in6_addr v6;

    g_variant_builder_init(&b, G_VARIANT_TYPE_VARDICT);
    if (tundev)
        g_variant_builder_add(&b, "{sv}", NM_VPN_PLUGIN_CONFIG_TUNDEV,
                              g_variant_new_string(tundev));
    /* The external gateway: NetworkManager keeps a route to it through the
     * underlying connection, so the tunnel never carries its own packets. */
    if (c->has_gateway && c->gateway_family == AF_INET)
        g_variant_builder_add(&b, "{sv}", NM_VPN_PLUGIN_CONFIG_EXT_GATEWAY,
                              g_variant_new_uint32(c->gateway.v4.s_addr));
    else if (c->has_gateway)
        g_variant_builder_add(&b, "{sv}", NM_VPN_PLUGIN_CONFIG_EXT_GATEWAY,
                              ip6_bytes(&c->gateway.v6));
    else if (server && inet_pton(AF_INET, server, &v4) == 1)
        g_variant_builder_add(&b, "{sv}", NM_VPN_PLUGIN_CONFIG_EXT_GATEWAY,
                              g_variant_new_uint32(v4.s_addr));
    else if (server && inet_pton(AF_INET6, server, &v6) == 1)
        g_variant_builder_add(&b, "{sv}", NM_VPN_PLUGIN_CONFIG_EXT_GATEWAY, ip6_bytes(&v6));
    else
        return (g_variant_builder_clear(&b), NULL);
    if (c->mtu)
        g_variant_builder_add(&b, "{sv}", NM_VPN_PLUGIN_CONFIG_MTU, g_variant_new_uint32(c->mtu));
    g_variant_builder_add(&b, "{sv}", NM_VPN_PLUGIN_CONFIG_HAS_IP4,
                          g_variant_new_boolean(c->has_addr4));
    g_variant_builder_add(&b, "{sv}", NM_VPN_PLUGIN_CONFIG_HAS_IP6,
                          g_variant_new_boolean(c->has_addr6));
    /* With vpn.persistent=yes NetworkManager then keeps the tunnel while
     * the underlying device comes and goes. */
    if (can_persist)
        g_variant_builder_add(&b, "{sv}", NM_VPN_PLUGIN_CAN_PERSIST, g_variant_new_boolean(TRUE));
    /* nmcli shows the banner on "up" and in "connection show": where the
     * forwards listen, the port the server picked for -R 0 among them. */
    if (forwards && forwards[0])
        g_variant_builder_add(&b, "{sv}", NM_VPN_PLUGIN_CONFIG_BANNER,
                              g_variant_new_string(forwards));
    return g_variant_builder_end(&b);
}

static void
add_domains(GVariantBuilder *b, const SshtunIpConfig *c, const char *key)
{
    GVariantBuilder list;

    if (c->domains->len == 0)
        return;
    g_variant_builder_init(&list, G_VARIANT_TYPE("as"));
    for (guint i = 0; i < c->domains->len; i++)
        g_variant_builder_add(&list, "s", (const char *)c->domains->pdata[i]);
    g_variant_builder_add(b, "{sv}", key, g_variant_builder_end(&list));
}

static guint
count_routes(const SshtunIpConfig *c, int family)
{
    guint n = 0;

    for (guint i = 0; i < c->routes->len; i++)
        n += g_array_index(c->routes, SshtunRoute, i).family == family;
    return n;
}

GVariant *
sshtun_nm_config_ip4(const SshtunIpConfig *c)
{
    GVariantBuilder b, list;

    if (!c->has_addr4)
        return NULL;
    g_variant_builder_init(&b, G_VARIANT_TYPE_VARDICT);
    g_variant_builder_add(&b, "{sv}", NM_VPN_PLUGIN_IP4_CONFIG_ADDRESS,
                          g_variant_new_uint32(c->addr4.s_addr));
    g_variant_builder_add(&b, "{sv}", NM_VPN_PLUGIN_IP4_CONFIG_PREFIX,
                          g_variant_new_uint32(c->prefix4));
    if (c->has_peer4)
        g_variant_builder_add(&b, "{sv}", NM_VPN_PLUGIN_IP4_CONFIG_PTP,
                              g_variant_new_uint32(c->peer4.s_addr));
    if (c->dns4->len) {
        g_variant_builder_init(&list, G_VARIANT_TYPE("au"));
        for (guint i = 0; i < c->dns4->len; i++)
            g_variant_builder_add(&list, "u", g_array_index(c->dns4, struct in_addr, i).s_addr);
        g_variant_builder_add(&b, "{sv}", NM_VPN_PLUGIN_IP4_CONFIG_DNS,
                              g_variant_builder_end(&list));
    }
    add_domains(&b, c, NM_VPN_PLUGIN_IP4_CONFIG_DOMAINS);
    if (count_routes(c, AF_INET)) {
        g_variant_builder_init(&list, G_VARIANT_TYPE("aau"));
        for (guint i = 0; i < c->routes->len; i++) {
            const SshtunRoute *r = &g_array_index(c->routes, SshtunRoute, i);
            /* destination, prefix, next hop (none: on the tunnel), metric */
            guint32 route[4] = { r->addr.v4.s_addr, r->prefix, 0, 0 };
            if (r->family != AF_INET)
                continue;
            g_variant_builder_add_value(
                    &list,
                    g_variant_new_fixed_array(G_VARIANT_TYPE_UINT32, route, 4, sizeof(guint32)));
        }
        g_variant_builder_add(&b, "{sv}", NM_VPN_PLUGIN_IP4_CONFIG_ROUTES,
                              g_variant_builder_end(&list));
    }
    /* With routes, the server describes a split tunnel: keep the default
     * route where it is. */
    if (c->routes->len)
        g_variant_builder_add(&b, "{sv}", NM_VPN_PLUGIN_IP4_CONFIG_NEVER_DEFAULT,
                              g_variant_new_boolean(TRUE));
    return g_variant_builder_end(&b);
}

GVariant *
sshtun_nm_config_ip6(const SshtunIpConfig *c)
{
    GVariantBuilder b, list;

    if (!c->has_addr6)
        return NULL;
    g_variant_builder_init(&b, G_VARIANT_TYPE_VARDICT);
    g_variant_builder_add(&b, "{sv}", NM_VPN_PLUGIN_IP6_CONFIG_ADDRESS, ip6_bytes(&c->addr6));
    g_variant_builder_add(&b, "{sv}", NM_VPN_PLUGIN_IP6_CONFIG_PREFIX,
                          g_variant_new_uint32(c->prefix6));
    if (c->has_peer6)
        g_variant_builder_add(&b, "{sv}", NM_VPN_PLUGIN_IP6_CONFIG_PTP, ip6_bytes(&c->peer6));
    if (c->dns6->len) {
        g_variant_builder_init(&list, G_VARIANT_TYPE("aay"));
        for (guint i = 0; i < c->dns6->len; i++)
            g_variant_builder_add_value(&list,
                                        ip6_bytes(&g_array_index(c->dns6, struct in6_addr, i)));
        g_variant_builder_add(&b, "{sv}", NM_VPN_PLUGIN_IP6_CONFIG_DNS,
                              g_variant_builder_end(&list));
    }
    if (!c->has_addr4)
        add_domains(&b, c, NM_VPN_PLUGIN_IP6_CONFIG_DOMAINS);
    if (count_routes(c, AF_INET6)) {
        g_variant_builder_init(&list, G_VARIANT_TYPE("a(ayuayu)"));
        for (guint i = 0; i < c->routes->len; i++) {
            const SshtunRoute *r = &g_array_index(c->routes, SshtunRoute, i);
            struct in6_addr none = IN6ADDR_ANY_INIT;
            if (r->family != AF_INET6)
                continue;
            g_variant_builder_add(&list, "(@ayu@ayu)", ip6_bytes(&r->addr.v6), r->prefix,
                                  ip6_bytes(&none), 0u);
        }
        g_variant_builder_add(&b, "{sv}", NM_VPN_PLUGIN_IP6_CONFIG_ROUTES,
                              g_variant_builder_end(&list));
    }
    if (c->routes->len)
        g_variant_builder_add(&b, "{sv}", NM_VPN_PLUGIN_IP6_CONFIG_NEVER_DEFAULT,
                              g_variant_new_boolean(TRUE));
    return g_variant_builder_end(&b);
}
