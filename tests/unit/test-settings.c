/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include "nm-sshtun-settings.h"

#include <string.h>

static GHashTable *
data_of(const char *first_key, ...)
{
    GHashTable *data = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    va_list args;

    va_start(args, first_key);
    for (const char *key = first_key; key; key = va_arg(args, const char *))
        g_hash_table_insert(data, g_strdup(key), g_strdup(va_arg(args, const char *)));
    va_end(args);
    return data;
}

static void
test_defaults(void)
{
    g_autoptr(GHashTable) data = data_of("host", "vpn.example", "local-address", "10.0.0.1", NULL);
    g_autoptr(GError) error = NULL;
    g_autoptr(SshtunSettings) s = sshtun_settings_parse(data, &error);

    g_assert_no_error(error);
    g_assert_cmpstr(s->host, ==, "vpn.example");
    g_assert_cmpuint(s->port, ==, 22);
    g_assert_null(s->user);
    g_assert_cmpint(s->auth_type, ==, SSHTUN_AUTH_AGENT);
    g_assert_cmpint(s->tunnel_mode, ==, SSHTUN_MODE_POINT_TO_POINT);
    g_assert_cmpuint(s->remote_tun, ==, SSHTUN_REMOTE_TUN_ANY);
    g_assert_cmpuint(s->mtu, ==, 1500);
    g_assert_cmpuint(s->keepalive, ==, 10);
    g_assert_cmpuint(s->keepalive_count, ==, 3);
    g_assert_true(s->reconnect);
    g_assert_false(s->compression);
    g_assert_false(s->no_tunnel);
    g_assert_cmpuint(s->forwards->len, ==, 0);
}

/* ssh users write IPv6 addresses in brackets; the host is the address. */
static void
test_bracketed_ipv6_host(void)
{
    g_autoptr(GHashTable) data = data_of("host", "[fd00::1]", "local-address", "10.0.0.1", NULL);
    g_autoptr(GError) error = NULL;
    g_autoptr(SshtunSettings) s = sshtun_settings_parse(data, &error);

    g_assert_no_error(error);
    g_assert_cmpstr(s->host, ==, "fd00::1");
}

/* The parser names the key at fault as data, for a form to mark. */
static void
test_bad_key_named(void)
{
    static const struct {
        const char *key, *value, *more_key, *more_value, *named;
    } cases[] = {
        { "colour", "blue", NULL, NULL, "colour" },
        { "port", "0", NULL, NULL, "port" },
        { "prefix", "24", NULL, NULL, "local-address" },
        { "no-tunnel", "yes", "mtu", "1400", "mtu" },
        { "no-tunnel", "yes", "remote-tun", "3", "remote-tun" },
        { "no-tunnel", "yes", NULL, NULL, "local-forwards" },
    };

    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autoptr(GHashTable) data = data_of("host", "h", "local-address", "10.0.0.1", NULL);
        g_autoptr(GError) error = NULL;
        g_autoptr(SshtunSettings) s = NULL;
        const char *bad_key = NULL;

        if (strcmp(cases[i].key, "prefix") == 0 || strcmp(cases[i].key, "no-tunnel") == 0)
            g_hash_table_remove(data, "local-address");
        g_hash_table_insert(data, g_strdup(cases[i].key), g_strdup(cases[i].value));
        if (cases[i].more_key)
            g_hash_table_insert(data, g_strdup(cases[i].more_key), g_strdup(cases[i].more_value));
        s = sshtun_settings_parse_naming(data, &bad_key, &error);
        g_assert_null(s);
        g_assert_nonnull(error);
        g_assert_cmpstr(bad_key, ==, cases[i].named);
    }
}

/* Every key the table marks as the tunnel's is refused with no-tunnel=yes
 * unless it holds what is assumed anyway. */
static void
test_tunnel_keys_at_their_default(void)
{
    const SshtunKeyInfo *key;

    for (guint i = 0; (key = sshtun_settings_key(i)) != NULL; i++) {
        g_autoptr(GHashTable) data
                = data_of("host", "h", "no-tunnel", "yes", "local-forwards", "8080:web:80", NULL);
        g_autoptr(SshtunSettings) same = NULL;

        if (!(key->flags & SSHTUN_KEY_TUNNEL))
            continue;
        if (key->fallback) {
            g_hash_table_insert(data, g_strdup(key->name), g_strdup(key->fallback));
            same = sshtun_settings_parse(data, NULL);
            g_assert_nonnull(same);
        }
    }
}

static void
test_forwards_only(void)
{
    g_autoptr(GHashTable) data = data_of("host", "h", "no-tunnel", "yes", "dynamic-forwards",
                                         "1080 [::1]:1081", "remote-forwards", "0:localhost:22",
                                         "local-forwards", "?/run/a.sock:db:5432", NULL);
    g_autoptr(GError) error = NULL;
    g_autoptr(SshtunSettings) s = sshtun_settings_parse(data, &error);
    const SshtunForward *f;

    g_assert_no_error(error);
    g_assert_true(s->no_tunnel);
    g_assert_cmpuint(s->forwards->len, ==, 4);
    /* local, remote, dynamic: the order the helper sets them up in */
    f = s->forwards->pdata[0];
    g_assert_cmpint(f->kind, ==, SSHTUN_FORWARD_LOCAL);
    g_assert_true(f->optional);
    f = s->forwards->pdata[1];
    g_assert_cmpint(f->kind, ==, SSHTUN_FORWARD_REMOTE);
    g_assert_cmpuint(f->listen.port, ==, 0);
    f = s->forwards->pdata[3];
    g_assert_cmpint(f->kind, ==, SSHTUN_FORWARD_DYNAMIC);
    g_assert_cmpstr(f->listen.host, ==, "::1");
}

static void
test_every_key(void)
{
    g_autoptr(GHashTable) data = data_of(
            "host", "2001:db8::1", "port", "2222", "user", "alice", "auth-type", "key", "key-file",
            "/home/alice/.ssh/id_ed25519", "known-hosts-file", "/etc/kh", "host-key",
            "SHA256:0ILQ5Eb3pGDETNQu75B8gmnbCKIG5IomPn2L5YBy+QM", "tunnel-mode", "ethernet",
            "remote-tun", "7", "remote-command", "sshtun-server-config", "local-address",
            "10.0.0.1", "remote-address", "10.0.0.2", "prefix", "30", "local-address6", "fd00::1",
            "remote-address6", "fd00::2", "prefix6", "64", "mtu", "9000", "no-tunnel", "no",
            "keepalive", "0", "keepalive-count", "5", "reconnect", "no", "compression", "yes",
            "local-forwards", "", "jump-host", "", NULL);
    g_autoptr(GError) error = NULL;
    g_autoptr(SshtunSettings) s = sshtun_settings_parse(data, &error);

    g_assert_no_error(error);
    g_assert_cmpuint(s->port, ==, 2222);
    g_assert_cmpstr(s->user, ==, "alice");
    g_assert_cmpint(s->auth_type, ==, SSHTUN_AUTH_KEY);
    g_assert_cmpint(s->tunnel_mode, ==, SSHTUN_MODE_ETHERNET);
    g_assert_cmpuint(s->remote_tun, ==, 7);
    g_assert_cmpuint(s->prefix, ==, 30);
    g_assert_cmpuint(s->prefix6, ==, 64);
    g_assert_cmpuint(s->mtu, ==, 9000);
    g_assert_cmpuint(s->keepalive, ==, 0);
    g_assert_false(s->reconnect);
    g_assert_true(s->compression);
}

typedef struct {
    const char *key;
    const char *value;
    const char *message_part; /* must appear in the error */
} BadCase;

static void
test_bad_values(void)
{
    static const BadCase cases[] = {
        { "colour", "blue", "unknown key \"colour\"" },
        { "host", "", "\"host\"" },
        { "host", "-oProxyCommand=x", "\"host\"" },
        { "host", "a b", "\"host\"" },
        { "host", "[fd00::1", "\"host\"" },
        { "host", "[fd00::1]:22", "\"host\"" },
        { "host", "[vpn.example]", "\"host\"" },
        { "host", "[]", "\"host\"" },
        { "port", "0", "\"port\"" },
        { "port", "65536", "\"port\"" },
        { "port", "+22", "\"port\"" },
        { "port", " 22", "\"port\"" },
        { "port", "22x", "\"port\"" },
        { "user", "-l", "\"user\"" },
        { "user", "a b", "\"user\"" },
        { "user", "a\nb", "\"user\"" },
        { "auth-type", "hostbased", "\"auth-type\"" },
        { "key-file", "relative/key", "\"key-file\"" },
        { "known-hosts-file", "", "\"known-hosts-file\"" },
        { "host-key", "SHA256:short", "\"host-key\"" },
        { "host-key", "MD5:aa:bb", "\"host-key\"" },
        { "tunnel-mode", "tap", "\"tunnel-mode\"" },
        { "tunnel-mode", "Streams", "\"tunnel-mode\"" },
        { "remote-tun", "-1", "\"remote-tun\"" },
        { "remote-tun", "2147483647", "\"remote-tun\"" },
        { "local-address", "10.0.0.256", "\"local-address\"" },
        { "local-address6", "fd00::g", "\"local-address6\"" },
        { "prefix", "33", "\"prefix\"" },
        { "prefix6", "0", "\"prefix6\"" },
        { "mtu", "575", "\"mtu\"" },
        { "mtu", "32697", "\"mtu\"" },
        { "keepalive", "3601", "\"keepalive\"" },
        { "keepalive-count", "0", "\"keepalive-count\"" },
        { "reconnect", "true", "\"reconnect\"" },
        { "compression", "1", "\"compression\"" },
        { "jump-host", "a b", "\"jump-host\"" },
        { "jump-host", "user@", "\"jump-host\"" },
        { "jump-host", "@host", "\"jump-host\"" },
        { "jump-host", "host:0", "\"jump-host\"" },
        { "jump-host", "[::1", "\"jump-host\"" },
        { "jump-host", "a,b,c,d,e,f,g,h,i", "\"jump-host\"" },
        { "jump-key-file", "relative/key", "\"jump-key-file\"" },
        { "jump-key-file", "/k/a\n", "\"jump-key-file\"" },
        { "jump-key-file", "/k/a", "1 key files for 0 jump hosts" },
        { "proxy", "socks4://p:1080", "\"proxy\"" },
        { "proxy", "socks5://p", "\"proxy\"" },
        { "proxy", "http://[::1:1080", "\"proxy\"" },
        { "proxy", "http://[192.0.2.1]:80", "\"proxy\"" },
        { "proxy", "http://p:0", "\"proxy\"" },
        { "local-forwards", "8080:intranet:80 80:x", "\"80:x\" in key \"local-forwards\"" },
        { "remote-forwards", "/srv.sock:web:80",
          "\"/srv.sock:web:80\" in key \"remote-forwards\"" },
        { "dynamic-forwards", "1080:x:1", "\"1080:x:1\" in key \"dynamic-forwards\"" },
    };

    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autoptr(GHashTable) data = data_of("host", "h", "local-address", "10.0.0.1", NULL);
        g_autoptr(GError) error = NULL;
        g_autoptr(SshtunSettings) s = NULL;

        g_hash_table_insert(data, g_strdup(cases[i].key), g_strdup(cases[i].value));
        s = sshtun_settings_parse(data, &error);
        g_assert_null(s);
        g_assert_nonnull(error);
        if (!strstr(error->message, cases[i].message_part))
            g_error("%s=%s: message \"%s\" lacks \"%s\"", cases[i].key, cases[i].value,
                    error->message, cases[i].message_part);
    }
}

static void
test_rules_between_keys(void)
{
    static const char *const cases[][2] = {
        /* settings as "key=value ...", the key the error must name */
        { "host=h auth-type=key remote-command=c", "\"key-file\"" },
        { "host=h prefix=24 remote-command=c", "\"local-address\"" },
        { "host=h remote-address=10.0.0.2 remote-command=c", "\"local-address\"" },
        { "host=h remote-address6=fd00::2 remote-command=c", "\"local-address6\"" },
        { "host=h prefix6=64 remote-command=c", "\"local-address6\"" },
        { "host=h local-address6=fd00::1 mtu=1200", "\"mtu\"" },
        { "host=h no-tunnel=yes remote-command=c dynamic-forwards=1080", "\"remote-command\"" },
        { "host=h no-tunnel=yes local-address=10.0.0.1 dynamic-forwards=1080",
          "\"local-address\"" },
        { "host=h no-tunnel=yes", "\"local-forwards\" is required" },
        { "host=h remote-command=c local-forwards=8080:a:1 dynamic-forwards=8080",
          "\"8080:a:1\" (local-forwards) and \"8080\" (dynamic-forwards)" },
        { "port=22 local-address=10.0.0.1", "\"host\"" },
    };

    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autoptr(GHashTable) data = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
        g_auto(GStrv) pairs = g_strsplit(cases[i][0], " ", -1);
        g_autoptr(GError) error = NULL;
        g_autoptr(SshtunSettings) s = NULL;

        for (guint j = 0; pairs[j]; j++) {
            char *eq = strchr(pairs[j], '=');
            g_hash_table_insert(data, g_strndup(pairs[j], eq - pairs[j]), g_strdup(eq + 1));
        }
        s = sshtun_settings_parse(data, &error);
        g_assert_null(s);
        if (!strstr(error->message, cases[i][1]))
            g_error("\"%s\": message \"%s\" lacks %s", cases[i][0], error->message, cases[i][1]);
    }
}

static void
test_point_to_point_needs_addresses(void)
{
    g_autoptr(GHashTable) data = data_of("host", "h", NULL);
    g_autoptr(GError) error = NULL;
    g_autoptr(SshtunSettings) s = sshtun_settings_parse(data, &error);

    g_assert_null(s);
    g_assert_nonnull(strstr(error->message, "remote-command"));
}

/* tunnel-mode=streams (docs/streams.md): addresses as point-to-point,
 * no server tun unit, not with no-tunnel. */
static void
test_streams(void)
{
    g_autoptr(GHashTable) data
            = data_of("host", "h", "tunnel-mode", "streams", "local-address", "10.9.0.2", NULL);
    g_autoptr(GHashTable) bare = data_of("host", "h", "tunnel-mode", "streams", NULL);
    g_autoptr(GHashTable) unit = data_of("host", "h", "tunnel-mode", "streams", "local-address",
                                         "10.9.0.2", "remote-tun", "3", NULL);
    g_autoptr(GHashTable) any = data_of("host", "h", "tunnel-mode", "streams", "remote-command",
                                        "echo", "remote-tun", "any", NULL);
    g_autoptr(GHashTable) forwards_only
            = data_of("host", "h", "tunnel-mode", "streams", "no-tunnel", "yes", "local-forwards",
                      "8080:web:80", NULL);
    g_autoptr(GError) error = NULL;
    g_autoptr(SshtunSettings) s = sshtun_settings_parse(data, &error);
    g_autoptr(SshtunSettings) with_command = NULL;
    const char *bad_key = NULL;

    g_assert_no_error(error);
    g_assert_cmpint(s->tunnel_mode, ==, SSHTUN_MODE_STREAMS);
    g_assert_true(sshtun_settings_check_key("tunnel-mode", "streams", NULL));

    g_assert_null(sshtun_settings_parse_naming(bare, &bad_key, &error));
    g_assert_cmpstr(bad_key, ==, "local-address");
    g_assert_nonnull(strstr(error->message, "streams mode"));
    g_clear_error(&error);

    g_assert_null(sshtun_settings_parse_naming(unit, &bad_key, &error));
    g_assert_cmpstr(bad_key, ==, "remote-tun");
    g_clear_error(&error);

    with_command = sshtun_settings_parse(any, &error);
    g_assert_no_error(error);
    g_assert_cmpint(with_command->tunnel_mode, ==, SSHTUN_MODE_STREAMS);

    g_assert_null(sshtun_settings_parse_naming(forwards_only, &bad_key, &error));
    g_assert_cmpstr(bad_key, ==, "tunnel-mode");
}

static void
test_proxy(void)
{
    static const struct {
        const char *text;
        SshtunProxyType type;
        const char *host;
        guint port;
    } cases[] = {
        { "socks5://proxy.example:1080", SSHTUN_PROXY_SOCKS5, "proxy.example", 1080 },
        { "http://192.0.2.9:3128", SSHTUN_PROXY_HTTP, "192.0.2.9", 3128 },
        { "http://[2001:db8::9]:8080", SSHTUN_PROXY_HTTP, "2001:db8::9", 8080 },
    };

    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autoptr(GHashTable) data
                = data_of("host", "h", "local-address", "10.0.0.1", "proxy", cases[i].text, NULL);
        g_autoptr(SshtunSettings) s = sshtun_settings_parse(data, NULL);

        g_assert_nonnull(s);
        g_assert_cmpint(s->proxy_type, ==, cases[i].type);
        g_assert_cmpstr(s->proxy_host, ==, cases[i].host);
        g_assert_cmpuint(s->proxy_port, ==, cases[i].port);
    }
}

static void
test_jump_hosts(void)
{
    g_autoptr(GPtrArray) hops = sshtun_settings_parse_jump_hosts(
            "alice@bastion.example:2200, gw.example,[2001:db8::7]:22,bob@[2001:db8::8],"
            "carol@ad.example@gate");
    const SshtunHop *hop;

    g_assert_nonnull(hops);
    g_assert_cmpuint(hops->len, ==, 5);
    hop = hops->pdata[0];
    g_assert_cmpstr(hop->user, ==, "alice");
    g_assert_cmpstr(hop->host, ==, "bastion.example");
    g_assert_cmpuint(hop->port, ==, 2200);
    hop = hops->pdata[1];
    g_assert_null(hop->user);
    g_assert_cmpstr(hop->host, ==, "gw.example");
    g_assert_cmpuint(hop->port, ==, 22);
    hop = hops->pdata[2];
    g_assert_cmpstr(hop->host, ==, "2001:db8::7");
    hop = hops->pdata[3];
    g_assert_cmpstr(hop->user, ==, "bob");
    g_assert_cmpstr(hop->host, ==, "2001:db8::8");
    /* ssh splits at the last '@': a directory account keeps its own. */
    hop = hops->pdata[4];
    g_assert_cmpstr(hop->user, ==, "carol@ad.example");
    g_assert_cmpstr(hop->host, ==, "gate");
}

/* jump-key-file gives each hop its key, in the order of jump-host; an
 * empty entry (or none at the end) leaves the hop to the connection's key
 * or agent; more keys than hops is refused. */
static void
test_jump_keys(void)
{
    g_autoptr(GHashTable) data = data_of("host", "h", "local-address", "10.0.0.1", "jump-host",
                                         "a,b@c,d", "jump-key-file", ",/k/c", NULL);
    g_autoptr(GHashTable) many = data_of("host", "h", "local-address", "10.0.0.1", "jump-host", "a",
                                         "jump-key-file", "/k/a,/k/b", NULL);
    g_autoptr(GError) error = NULL;
    g_autoptr(SshtunSettings) s = sshtun_settings_parse(data, &error);
    g_autoptr(SshtunSettings) refused = NULL;
    const char *bad_key = NULL;

    g_assert_no_error(error);
    g_assert_null(((SshtunHop *)s->jump_hosts->pdata[0])->key_file);
    g_assert_cmpstr(((SshtunHop *)s->jump_hosts->pdata[1])->key_file, ==, "/k/c");
    g_assert_null(((SshtunHop *)s->jump_hosts->pdata[2])->key_file);
    refused = sshtun_settings_parse_naming(many, &bad_key, &error);
    g_assert_null(refused);
    g_assert_cmpstr(bad_key, ==, "jump-key-file");
    g_assert_nonnull(strstr(error->message, "2 key files for 1 jump hosts"));
}

/* ssh takes "User alice@corp.example" as it is (directory accounts); the
 * user key is never split, so '@' is unambiguous there. */
static void
test_user_with_at(void)
{
    g_autoptr(GHashTable) data
            = data_of("host", "h", "local-address", "10.0.0.1", "user", "alice@corp.example", NULL);
    g_autoptr(GError) error = NULL;
    g_autoptr(SshtunSettings) s = sshtun_settings_parse(data, &error);

    g_assert_no_error(error);
    g_assert_cmpstr(s->user, ==, "alice@corp.example");
}

static void
test_static_ip_config(void)
{
    g_autoptr(GHashTable) data
            = data_of("host", "h", "local-address", "10.0.0.1", "remote-address", "10.0.0.2",
                      "local-address6", "fd00::1", "prefix6", "64", "mtu", "1400", NULL);
    g_autoptr(SshtunSettings) s = sshtun_settings_parse(data, NULL);
    g_autofree char *text = sshtun_settings_static_ip_config(s);

    g_assert_cmpstr(text, ==,
                    "ADDR 10.0.0.1\nPEER_ADDR 10.0.0.2\nPREFIX 32\nADDR6 fd00::1/64\nMTU 1400\n");
}

static void
test_key_list_matches_design(void)
{
    static const char *const design[] = {
        "host",
        "port",
        "user",
        "auth-type",
        "key-file",
        "known-hosts-file",
        "host-key",
        "tunnel-mode",
        "remote-tun",
        "remote-command",
        "local-address",
        "remote-address",
        "prefix",
        "local-address6",
        "remote-address6",
        "prefix6",
        "mtu",
        "local-forwards",
        "remote-forwards",
        "dynamic-forwards",
        "no-tunnel",
        "keepalive",
        "keepalive-count",
        "reconnect",
        "jump-host",
        "jump-key-file",
        "proxy",
        "compression",
        NULL,
    };
    const char *const *keys = sshtun_settings_keys();

    g_assert_cmpuint(g_strv_length((char **)keys), ==, g_strv_length((char **)design));
    for (guint i = 0; design[i]; i++)
        g_assert_cmpstr(keys[i], ==, design[i]);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/settings/defaults", test_defaults);
    g_test_add_func("/settings/every-key", test_every_key);
    g_test_add_func("/settings/forwards-only", test_forwards_only);
    g_test_add_func("/settings/bracketed-ipv6-host", test_bracketed_ipv6_host);
    g_test_add_func("/settings/bad-key-named", test_bad_key_named);
    g_test_add_func("/settings/tunnel-keys-at-their-default", test_tunnel_keys_at_their_default);
    g_test_add_func("/settings/bad-values", test_bad_values);
    g_test_add_func("/settings/rules-between-keys", test_rules_between_keys);
    g_test_add_func("/settings/point-to-point-needs-addresses",
                    test_point_to_point_needs_addresses);
    g_test_add_func("/settings/static-ip-config", test_static_ip_config);
    g_test_add_func("/settings/streams", test_streams);
    g_test_add_func("/settings/proxy", test_proxy);
    g_test_add_func("/settings/jump-hosts", test_jump_hosts);
    g_test_add_func("/settings/user-with-at", test_user_with_at);
    g_test_add_func("/settings/jump-keys", test_jump_keys);
    g_test_add_func("/settings/key-list-matches-design", test_key_list_matches_design);
    return g_test_run();
}
