/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include "nm-sshtun-settings.h"

#include <arpa/inet.h>
#include <string.h>

/* Longest value accepted for any key: bounds what a connection profile can
 * make the helper allocate, and no real value comes near it. */
#define VALUE_MAX 4096

typedef enum {
    KIND_HOST,
    KIND_PORT,
    KIND_USER,
    KIND_AUTH_TYPE,
    KIND_PATH,
    KIND_HOST_KEY,
    KIND_TUNNEL_MODE,
    KIND_REMOTE_TUN,
    KIND_COMMAND,
    KIND_IPV4,
    KIND_IPV6,
    KIND_PREFIX4,
    KIND_PREFIX6,
    KIND_MTU,
    KIND_SECONDS,
    KIND_COUNT,
    KIND_BOOL,
    KIND_PROXY,
    KIND_JUMP,
    KIND_JUMP_KEYS,
    KIND_LOCAL_FORWARDS,
    KIND_REMOTE_FORWARDS,
    KIND_DYNAMIC_FORWARDS,
} KeyKind;

typedef struct {
    SshtunKeyInfo info;
    KeyKind kind;
} KeyInfo;

#define TUNNEL   SSHTUN_KEY_TUNNEL
#define ADVANCED SSHTUN_KEY_ADVANCED
#define COMMENT  SSHTUN_KEY_SSH_CONFIG_COMMENT
#define ENTRY    SSHTUN_WIDGET_ENTRY
#define COMBO    SSHTUN_WIDGET_COMBO
#define CHECK    SSHTUN_WIDGET_CHECK

/* In the README's order. The default is what the service assumes when the
 * key is absent, as the editor shows it. */
static const KeyInfo key_table[] = {
    { { "host", 0, ENTRY, NULL }, KIND_HOST },
    { { "port", 0, ENTRY, "22" }, KIND_PORT },
    { { "user", 0, ENTRY, NULL }, KIND_USER },
    { { "auth-type", 0, COMBO, "agent" }, KIND_AUTH_TYPE },
    { { "key-file", 0, ENTRY, NULL }, KIND_PATH },
    { { "known-hosts-file", 0, ENTRY, NULL }, KIND_PATH },
    { { "host-key", COMMENT, ENTRY, NULL }, KIND_HOST_KEY },
    { { "tunnel-mode", TUNNEL, COMBO, "point-to-point" }, KIND_TUNNEL_MODE },
    { { "remote-tun", TUNNEL, ENTRY, "any" }, KIND_REMOTE_TUN },
    { { "remote-command", TUNNEL, ENTRY, NULL }, KIND_COMMAND },
    { { "local-address", TUNNEL | COMMENT, ENTRY, NULL }, KIND_IPV4 },
    { { "remote-address", TUNNEL | COMMENT, ENTRY, NULL }, KIND_IPV4 },
    { { "prefix", TUNNEL | COMMENT, ENTRY, NULL }, KIND_PREFIX4 },
    { { "local-address6", TUNNEL | COMMENT, ENTRY, NULL }, KIND_IPV6 },
    { { "remote-address6", TUNNEL | COMMENT, ENTRY, NULL }, KIND_IPV6 },
    { { "prefix6", TUNNEL | COMMENT, ENTRY, NULL }, KIND_PREFIX6 },
    { { "mtu", TUNNEL | COMMENT, ENTRY, "1500" }, KIND_MTU },
    { { "local-forwards", ADVANCED, ENTRY, NULL }, KIND_LOCAL_FORWARDS },
    { { "remote-forwards", ADVANCED, ENTRY, NULL }, KIND_REMOTE_FORWARDS },
    { { "dynamic-forwards", ADVANCED, ENTRY, NULL }, KIND_DYNAMIC_FORWARDS },
    { { "no-tunnel", ADVANCED, CHECK, "no" }, KIND_BOOL },
    { { "keepalive", ADVANCED, ENTRY, "10" }, KIND_SECONDS },
    { { "keepalive-count", ADVANCED, ENTRY, "3" }, KIND_COUNT },
    { { "reconnect", ADVANCED | COMMENT, CHECK, "yes" }, KIND_BOOL },
    { { "jump-host", ADVANCED, ENTRY, NULL }, KIND_JUMP },
    { { "jump-key-file", ADVANCED, ENTRY, NULL }, KIND_JUMP_KEYS },
    { { "proxy", ADVANCED | COMMENT, ENTRY, NULL }, KIND_PROXY },
    { { "compression", ADVANCED, CHECK, "no" }, KIND_BOOL },
};

const SshtunKeyInfo *
sshtun_settings_key(guint i)
{
    return i < G_N_ELEMENTS(key_table) ? &key_table[i].info : NULL;
}

const char *const *
sshtun_settings_keys(void)
{
    static const char *names[G_N_ELEMENTS(key_table) + 1];

    if (names[0] == NULL) {
        for (gsize i = 0; i < G_N_ELEMENTS(key_table); i++)
            names[i] = key_table[i].info.name;
    }
    return names;
}

static SshtunForwardKind
forward_kind_of(KeyKind kind)
{
    return kind == KIND_LOCAL_FORWARDS    ? SSHTUN_FORWARD_LOCAL
           : kind == KIND_REMOTE_FORWARDS ? SSHTUN_FORWARD_REMOTE
                                          : SSHTUN_FORWARD_DYNAMIC;
}

static const KeyInfo *
find_key(const char *key)
{
    for (gsize i = 0; i < G_N_ELEMENTS(key_table); i++) {
        if (strcmp(key_table[i].info.name, key) == 0)
            return &key_table[i];
    }
    return NULL;
}

static gboolean
bad_value(GError **error, const char *key, const char *value, const char *expected)
{
    g_set_error(error, SSHTUN_SETTINGS_ERROR, SSHTUN_SETTINGS_ERROR_BAD_VALUE,
                "invalid value \"%s\" for key \"%s\": expected %s", value, key, expected);
    return FALSE;
}

/* Whole decimal number in [min, max], no sign, no spaces. */
static gboolean
parse_uint(const char *value, guint64 min, guint64 max, guint64 *out)
{
    guint64 number;

    if (!g_ascii_string_to_unsigned(value, 10, min, max, &number, NULL))
        return FALSE;
    if (value[0] == '+' || g_ascii_isspace(value[0]))
        return FALSE;
    if (out)
        *out = number;
    return TRUE;
}

static gboolean
has_control_chars(const char *value)
{
    for (const char *p = value; *p; p++) {
        if ((guchar)*p < 0x20 || *p == 0x7f)
            return TRUE;
    }
    return FALSE;
}

/* "[2001:db8::1]": how people write an IPv6 address for ssh (ssh -J,
 * URIs, scp), taken for the address. */
static gboolean
is_bracketed_ipv6(const char *value)
{
    gsize len = strlen(value);
    g_autofree char *inner = NULL;

    if (len < 4 || value[0] != '[' || value[len - 1] != ']')
        return FALSE;
    inner = g_strndup(value + 1, len - 2);
    return sshtun_is_ipv6(inner);
}

static void
hop_free(gpointer data)
{
    SshtunHop *hop = data;

    g_free(hop->user);
    g_free(hop->host);
    g_free(hop->key_file);
    g_free(hop);
}

/* "host", "host:port", "[v6]" or "[v6]:port" */
static gboolean
parse_host_port(const char *text, char **host, guint *port, guint default_port)
{
    const char *colon;
    g_autofree char *name = NULL;
    guint64 number = default_port;

    if (text[0] == '[') {
        const char *close = strchr(text, ']');
        if (!close || (close[1] != '\0' && close[1] != ':'))
            return FALSE;
        name = g_strndup(text + 1, close - text - 1);
        if (!sshtun_is_ipv6(name))
            return FALSE;
        colon = close[1] == ':' ? close + 1 : NULL;
    } else {
        colon = strchr(text, ':');
        name = colon ? g_strndup(text, colon - text) : g_strdup(text);
        if (!sshtun_is_dns_name(name) && !sshtun_is_ipv4(name))
            return FALSE;
    }
    if (colon && !parse_uint(colon + 1, 1, 65535, &number))
        return FALSE;
    *host = g_steal_pointer(&name);
    *port = (guint)number;
    return TRUE;
}

GPtrArray *
sshtun_settings_parse_jump_hosts(const char *value)
{
    g_autoptr(GPtrArray) hops = g_ptr_array_new_with_free_func(hop_free);
    g_auto(GStrv) parts = g_strsplit(value, ",", -1);

    /* Bounded: each hop is a session and a channel. */
    if (g_strv_length(parts) > SSHTUN_JUMP_HOSTS_MAX)
        return NULL;
    for (guint i = 0; parts[i]; i++) {
        SshtunHop *hop = g_new0(SshtunHop, 1);
        char *spec = g_strstrip(parts[i]);
        /* The host follows the last '@', as ssh splits it: a user may
         * hold one ("alice@corp.example@bastion"). */
        char *at = strrchr(spec, '@');

        g_ptr_array_add(hops, hop);
        if (at) {
            hop->user = g_strndup(spec, at - spec);
            if (!hop->user[0] || hop->user[0] == '-' || strpbrk(hop->user, " :/"))
                return NULL;
            spec = at + 1;
        }
        if (!parse_host_port(spec, &hop->host, &hop->port, 22))
            return NULL;
    }
    return g_steal_pointer(&hops);
}

gboolean
sshtun_settings_parse_proxy(const char *value, SshtunProxyType *type, char **host, guint *port)
{
    const char *rest, *colon;
    g_autofree char *name = NULL;
    guint64 number;

    if (g_str_has_prefix(value, "socks5://")) {
        *type = SSHTUN_PROXY_SOCKS5;
        rest = value + strlen("socks5://");
    } else if (g_str_has_prefix(value, "http://")) {
        *type = SSHTUN_PROXY_HTTP;
        rest = value + strlen("http://");
    } else {
        return FALSE;
    }
    if (rest[0] == '[') {
        const char *close = strchr(rest, ']');
        if (!close || close[1] != ':')
            return FALSE;
        name = g_strndup(rest + 1, close - rest - 1);
        colon = close + 1;
        if (!sshtun_is_ipv6(name))
            return FALSE;
    } else {
        colon = strrchr(rest, ':');
        if (!colon)
            return FALSE;
        name = g_strndup(rest, colon - rest);
        if (!sshtun_is_dns_name(name) && !sshtun_is_ipv4(name))
            return FALSE;
    }
    if (!parse_uint(colon + 1, 1, 65535, &number))
        return FALSE;
    *host = g_steal_pointer(&name);
    *port = (guint)number;
    return TRUE;
}

static gboolean
is_host_key_fingerprint(const char *value)
{
    const char *b64;
    gsize b64_len;
    g_autofree char *padded = NULL;
    g_autofree guchar *digest = NULL;
    gsize digest_len = 0;

    if (!g_str_has_prefix(value, "SHA256:"))
        return FALSE;
    b64 = value + strlen("SHA256:");
    b64_len = strlen(b64);
    /* ssh-keygen prints 43 characters without the trailing '='. */
    if (b64_len != 43 && !(b64_len == 44 && b64[43] == '='))
        return FALSE;
    for (gsize i = 0; i < 43; i++) {
        if (!g_ascii_isalnum(b64[i]) && b64[i] != '+' && b64[i] != '/')
            return FALSE;
    }
    padded = g_strdup_printf("%.43s=", b64);
    digest = g_base64_decode(padded, &digest_len);
    return digest_len == 32;
}

gboolean
sshtun_settings_check_key(const char *key, const char *value, GError **error)
{
    const KeyInfo *info = find_key(key);

    if (info == NULL) {
        g_set_error(error, SSHTUN_SETTINGS_ERROR, SSHTUN_SETTINGS_ERROR_UNKNOWN_KEY,
                    "unknown key \"%s\"", key);
        return FALSE;
    }
    if (value == NULL)
        value = "";
    if (strlen(value) > VALUE_MAX) {
        g_set_error(error, SSHTUN_SETTINGS_ERROR, SSHTUN_SETTINGS_ERROR_BAD_VALUE,
                    "value of key \"%s\" is longer than %d bytes", key, VALUE_MAX);
        return FALSE;
    }
    if (!g_utf8_validate(value, -1, NULL))
        return bad_value(error, key, "(not UTF-8)", "UTF-8 text");

    switch (info->kind) {
    case KIND_HOST:
        if (!sshtun_is_dns_name(value) && !sshtun_is_ipv4(value) && !sshtun_is_ipv6(value)
            && !is_bracketed_ipv6(value))
            return bad_value(error, key, value, "a host name, IPv4 or IPv6 address");
        return TRUE;
    case KIND_PORT:
        if (!parse_uint(value, 1, 65535, NULL))
            return bad_value(error, key, value, "a port number from 1 to 65535");
        return TRUE;
    case KIND_USER:
        if (value[0] == '\0' || value[0] == '-' || strlen(value) > 256 || has_control_chars(value)
            || strchr(value, ' '))
            /* '@' is allowed: ssh takes "User alice@corp.example" (a
             * directory account) as it is, and this key is never split. */
            return bad_value(error, key, value, "a login name without spaces or a leading '-'");
        return TRUE;
    case KIND_AUTH_TYPE:
        if (!g_strv_contains((const char *const[]){ "agent", "key", "password",
                                                    "keyboard-interactive", NULL },
                             value))
            return bad_value(error, key, value, "agent, key, password or keyboard-interactive");
        return TRUE;
    case KIND_PATH:
        if (value[0] != '/' || has_control_chars(value))
            return bad_value(error, key, value, "an absolute file path");
        return TRUE;
    case KIND_HOST_KEY:
        if (!is_host_key_fingerprint(value))
            return bad_value(
                    error, key, value,
                    "a fingerprint SHA256:<43 base64 characters> as ssh-keygen -lf prints");
        return TRUE;
    case KIND_TUNNEL_MODE:
        if (!g_strv_contains((const char *const[]){ "point-to-point", "ethernet", "streams", NULL },
                             value))
            return bad_value(error, key, value, "point-to-point, ethernet or streams");
        return TRUE;
    case KIND_REMOTE_TUN:
        if (strcmp(value, "any") != 0 && !parse_uint(value, 0, SSHTUN_REMOTE_TUN_ANY - 1, NULL))
            return bad_value(error, key, value, "\"any\" or a tun unit number");
        return TRUE;
    case KIND_COMMAND:
        if (value[0] == '\0')
            return bad_value(error, key, value, "a command");
        return TRUE;
    case KIND_IPV4:
        if (!sshtun_is_ipv4(value))
            return bad_value(error, key, value, "an IPv4 address");
        return TRUE;
    case KIND_IPV6:
        if (!sshtun_is_ipv6(value))
            return bad_value(error, key, value, "an IPv6 address");
        return TRUE;
    case KIND_PREFIX4:
        if (!parse_uint(value, 1, 32, NULL))
            return bad_value(error, key, value, "a prefix length from 1 to 32");
        return TRUE;
    case KIND_PREFIX6:
        if (!parse_uint(value, 1, 128, NULL))
            return bad_value(error, key, value, "a prefix length from 1 to 128");
        return TRUE;
    case KIND_MTU:
        if (!parse_uint(value, SSHTUN_MTU_MIN, SSHTUN_MTU_MAX, NULL)) {
            g_autofree char *range
                    = g_strdup_printf("a number from %u to %u", SSHTUN_MTU_MIN, SSHTUN_MTU_MAX);
            return bad_value(error, key, value, range);
        }
        return TRUE;
    case KIND_SECONDS:
        if (!parse_uint(value, 0, 3600, NULL))
            return bad_value(error, key, value, "seconds from 0 (off) to 3600");
        return TRUE;
    case KIND_COUNT:
        if (!parse_uint(value, 1, 100, NULL))
            return bad_value(error, key, value, "a count from 1 to 100");
        return TRUE;
    case KIND_BOOL:
        if (strcmp(value, "yes") != 0 && strcmp(value, "no") != 0)
            return bad_value(error, key, value, "yes or no");
        return TRUE;
    case KIND_PROXY: {
        g_autofree char *host = NULL;
        SshtunProxyType type;
        guint port;
        if (!sshtun_settings_parse_proxy(value, &type, &host, &port))
            return bad_value(error, key, value, "socks5://host:port or http://host:port");
        return TRUE;
    }
    case KIND_JUMP: {
        g_autoptr(GPtrArray) hops = sshtun_settings_parse_jump_hosts(value);
        if (!hops)
            return bad_value(error, key, value,
                             "[user@]host[:port], several separated by commas (at most 8)");
        return TRUE;
    }
    case KIND_JUMP_KEYS: {
        g_auto(GStrv) paths = g_strsplit(value, ",", -1);
        if (g_strv_length(paths) > SSHTUN_JUMP_HOSTS_MAX || has_control_chars(value))
            return bad_value(error, key, value,
                             "absolute key file paths, one for each jump host, separated by "
                             "commas (an empty one: the connection's key or agent)");
        for (guint i = 0; paths[i]; i++) {
            if (paths[i][0] && paths[i][0] != '/')
                return bad_value(error, key, value,
                                 "absolute key file paths, one for each jump host, separated by "
                                 "commas (an empty one: the connection's key or agent)");
        }
        return TRUE;
    }
    case KIND_LOCAL_FORWARDS:
    case KIND_REMOTE_FORWARDS:
    case KIND_DYNAMIC_FORWARDS: {
        g_autoptr(GPtrArray) forwards
                = sshtun_forwards_parse(forward_kind_of(info->kind), value, error);
        return forwards != NULL;
    }
    }
    g_return_val_if_reached(FALSE);
}

static const char *
lookup(GHashTable *data, const char *key)
{
    const char *value = g_hash_table_lookup(data, key);
    return (value && value[0]) ? value : NULL;
}

static char *
dup_value(GHashTable *data, const char *key)
{
    return g_strdup(lookup(data, key));
}

static guint
uint_value(GHashTable *data, const char *key, guint fallback)
{
    const char *value = lookup(data, key);
    guint64 number = fallback;

    if (value)
        parse_uint(value, 0, G_MAXUINT32, &number);
    return (guint)number;
}

static gboolean
bool_value(GHashTable *data, const char *key, gboolean fallback)
{
    const char *value = lookup(data, key);
    return value ? strcmp(value, "yes") == 0 : fallback;
}

static gboolean
missing(GError **error, const char *key, const char *why)
{
    g_set_error(error, SSHTUN_SETTINGS_ERROR, SSHTUN_SETTINGS_ERROR_MISSING,
                "key \"%s\" is required %s", key, why);
    return FALSE;
}

/* no-tunnel=yes: the keys that shape the tunnel (SSHTUN_KEY_TUNNEL) would
 * be silently ignored, so they are refused unless they hold what is
 * assumed anyway; a connection without a tunnel needs a forward to be of
 * use. The key at fault goes to *@bad_key. */
static gboolean
check_forwards_only(GHashTable *data, const SshtunSettings *s, const char **bad_key, GError **error)
{
    for (gsize i = 0; i < G_N_ELEMENTS(key_table); i++) {
        const SshtunKeyInfo *key = &key_table[i].info;
        const char *value = lookup(data, key->name);

        if (!(key->flags & SSHTUN_KEY_TUNNEL) || !value || g_strcmp0(value, key->fallback) == 0)
            continue;
        *bad_key = key->name;
        g_set_error(error, SSHTUN_SETTINGS_ERROR, SSHTUN_SETTINGS_ERROR_BAD_VALUE,
                    "key \"%s\" describes the tunnel, which no-tunnel=yes turns off", key->name);
        return FALSE;
    }
    if (s->forwards->len == 0) {
        *bad_key = "local-forwards";
        return missing(error, *bad_key,
                       "(or remote-forwards, or dynamic-forwards) when no-tunnel is yes");
    }
    return TRUE;
}

/* Names @key as the one at fault and reports it missing. */
static gboolean
missing_key(const char **bad_key, GError **error, const char *key, const char *why)
{
    *bad_key = key;
    return missing(error, key, why);
}

/* Each hop's own key, in the order of jump-host; an empty entry leaves
 * that hop to the connection's key or agent. */
static gboolean
set_jump_keys(SshtunSettings *s, const char *value, const char **bad_key, GError **error)
{
    g_auto(GStrv) paths = g_strsplit(value, ",", -1);
    guint n = g_strv_length(paths);

    /* An empty value names no key: nothing to align. */
    if (n == 1 && paths[0][0] == '\0')
        return TRUE;
    if (!s->jump_hosts || n > s->jump_hosts->len) {
        *bad_key = "jump-key-file";
        g_set_error(error, SSHTUN_SETTINGS_ERROR, SSHTUN_SETTINGS_ERROR_BAD_VALUE,
                    "invalid value \"%s\" for key \"jump-key-file\": %u key files for %u jump "
                    "hosts (one for each hop of jump-host, in its order)",
                    value, n, s->jump_hosts ? s->jump_hosts->len : 0);
        return FALSE;
    }
    for (guint i = 0; i < n; i++) {
        SshtunHop *hop = s->jump_hosts->pdata[i];

        if (paths[i][0])
            hop->key_file = g_strdup(paths[i]);
    }
    return TRUE;
}

/* Rules that involve more than one key. The key at fault goes to
 * *@bad_key (NULL: no one key is). */
static gboolean
check_combination(GHashTable *data, const SshtunSettings *s, const char **bad_key, GError **error)
{
    if (s->auth_type == SSHTUN_AUTH_KEY && !s->key_file)
        return missing_key(bad_key, error, "key-file", "when auth-type is \"key\"");
    if (s->prefix && !s->local_address)
        return missing_key(bad_key, error, "local-address", "when prefix is set");
    if (s->remote_address && !s->local_address)
        return missing_key(bad_key, error, "local-address", "when remote-address is set");
    if (s->prefix6 && !s->local_address6)
        return missing_key(bad_key, error, "local-address6", "when prefix6 is set");
    if (s->remote_address6 && !s->local_address6)
        return missing_key(bad_key, error, "local-address6", "when remote-address6 is set");
    if (!sshtun_forwards_check_distinct(s->forwards, error))
        return FALSE;
    if (s->no_tunnel)
        return check_forwards_only(data, s, bad_key, error);
    if (s->tunnel_mode == SSHTUN_MODE_STREAMS && lookup(data, "remote-tun")
        && strcmp(lookup(data, "remote-tun"), "any") != 0) {
        /* Streams mode opens no tun device on the server. */
        *bad_key = "remote-tun";
        g_set_error(error, SSHTUN_SETTINGS_ERROR, SSHTUN_SETTINGS_ERROR_BAD_VALUE,
                    "key \"remote-tun\" names the server's tun device, which tunnel-mode "
                    "streams does not open");
        return FALSE;
    }
    if (s->tunnel_mode != SSHTUN_MODE_ETHERNET && !s->remote_command && !s->local_address
        && !s->local_address6)
        return missing_key(bad_key, error, "local-address",
                           s->tunnel_mode == SSHTUN_MODE_STREAMS
                                   ? "(or local-address6, or remote-command) for streams mode"
                                   : "(or local-address6, or remote-command) for a "
                                     "point-to-point tunnel");
    if (s->local_address6 && s->mtu < SSHTUN_MTU_MIN_IPV6) {
        *bad_key = "mtu";
        g_set_error(error, SSHTUN_SETTINGS_ERROR, SSHTUN_SETTINGS_ERROR_BAD_VALUE,
                    "invalid value \"%u\" for key \"mtu\": IPv6 needs at least %u", s->mtu,
                    SSHTUN_MTU_MIN_IPV6);
        return FALSE;
    }
    return TRUE;
}

SshtunSettings *
sshtun_settings_parse(GHashTable *data, GError **error)
{
    const char *bad_key;

    return sshtun_settings_parse_naming(data, &bad_key, error);
}

SshtunSettings *
sshtun_settings_parse_naming(GHashTable *data, const char **bad_key, GError **error)
{
    g_autoptr(SshtunSettings) s = g_new0(SshtunSettings, 1);
    GHashTableIter iter;
    gpointer key, value;
    const char *text;

    *bad_key = NULL;
    g_hash_table_iter_init(&iter, data);
    while (g_hash_table_iter_next(&iter, &key, &value)) {
        if (!sshtun_settings_check_key(key, value, error)) {
            *bad_key = key;
            return NULL;
        }
    }

    s->host = dup_value(data, "host");
    if (s->host && is_bracketed_ipv6(s->host)) {
        g_autofree char *bracketed = s->host;
        s->host = g_strndup(bracketed + 1, strlen(bracketed) - 2);
    }
    if (!s->host) {
        missing_key(bad_key, error, "host", "(the SSH server)");
        return NULL;
    }
    s->port = uint_value(data, "port", 22);
    s->user = dup_value(data, "user");

    text = lookup(data, "auth-type");
    if (!text || strcmp(text, "agent") == 0)
        s->auth_type = SSHTUN_AUTH_AGENT;
    else if (strcmp(text, "key") == 0)
        s->auth_type = SSHTUN_AUTH_KEY;
    else if (strcmp(text, "password") == 0)
        s->auth_type = SSHTUN_AUTH_PASSWORD;
    else
        s->auth_type = SSHTUN_AUTH_KEYBOARD_INTERACTIVE;

    s->key_file = dup_value(data, "key-file");
    s->known_hosts_file = dup_value(data, "known-hosts-file");
    s->host_key = dup_value(data, "host-key");

    text = lookup(data, "tunnel-mode");
    if (text && strcmp(text, "ethernet") == 0)
        s->tunnel_mode = SSHTUN_MODE_ETHERNET;
    else if (text && strcmp(text, "streams") == 0)
        s->tunnel_mode = SSHTUN_MODE_STREAMS;
    else
        s->tunnel_mode = SSHTUN_MODE_POINT_TO_POINT;
    text = lookup(data, "remote-tun");
    s->remote_tun = (!text || strcmp(text, "any") == 0) ? SSHTUN_REMOTE_TUN_ANY
                                                        : uint_value(data, "remote-tun", 0);
    s->remote_command = dup_value(data, "remote-command");
    s->local_address = dup_value(data, "local-address");
    s->remote_address = dup_value(data, "remote-address");
    s->prefix = uint_value(data, "prefix", 0);
    s->local_address6 = dup_value(data, "local-address6");
    s->remote_address6 = dup_value(data, "remote-address6");
    s->prefix6 = uint_value(data, "prefix6", 0);
    s->mtu = uint_value(data, "mtu", 1500);
    s->forwards = g_ptr_array_new_with_free_func((GDestroyNotify)sshtun_forward_free);
    for (SshtunForwardKind kind = SSHTUN_FORWARD_LOCAL; kind <= SSHTUN_FORWARD_DYNAMIC; kind++) {
        g_autoptr(GPtrArray) some
                = sshtun_forwards_parse(kind, lookup(data, sshtun_forward_key(kind)), NULL);
        for (guint i = 0; i < some->len; i++)
            g_ptr_array_add(s->forwards, g_ptr_array_steal_index(some, i--));
    }
    s->no_tunnel = bool_value(data, "no-tunnel", FALSE);
    s->keepalive = uint_value(data, "keepalive", 10);
    s->keepalive_count = uint_value(data, "keepalive-count", 3);
    s->reconnect = bool_value(data, "reconnect", TRUE);
    s->compression = bool_value(data, "compression", FALSE);
    text = lookup(data, "jump-host");
    if (text)
        s->jump_hosts = sshtun_settings_parse_jump_hosts(text);
    text = lookup(data, "jump-key-file");
    if (text && !set_jump_keys(s, text, bad_key, error))
        return NULL;
    text = lookup(data, "proxy");
    if (text)
        sshtun_settings_parse_proxy(text, &s->proxy_type, &s->proxy_host, &s->proxy_port);

    if (!check_combination(data, s, bad_key, error))
        return NULL;
    return g_steal_pointer(&s);
}

void
sshtun_settings_free(SshtunSettings *s)
{
    if (!s)
        return;
    g_free(s->host);
    g_free(s->user);
    g_free(s->key_file);
    g_free(s->known_hosts_file);
    g_free(s->host_key);
    g_free(s->remote_command);
    g_free(s->local_address);
    g_free(s->remote_address);
    g_free(s->local_address6);
    g_free(s->remote_address6);
    if (s->forwards)
        g_ptr_array_unref(s->forwards);
    if (s->jump_hosts)
        g_ptr_array_unref(s->jump_hosts);
    g_free(s->proxy_host);
    g_free(s);
}

char *
sshtun_settings_static_ip_config(const SshtunSettings *s)
{
    GString *out;

    if (!s->local_address && !s->local_address6)
        return NULL;
    out = g_string_new(NULL);
    if (s->local_address) {
        g_string_append_printf(out, "ADDR %s\n", s->local_address);
        if (s->remote_address)
            g_string_append_printf(out, "PEER_ADDR %s\n", s->remote_address);
        g_string_append_printf(out, "PREFIX %u\n", s->prefix ? s->prefix : 32);
    }
    if (s->local_address6) {
        g_string_append_printf(out, "ADDR6 %s/%u\n", s->local_address6,
                               s->prefix6 ? s->prefix6 : 128);
        if (s->remote_address6)
            g_string_append_printf(out, "PEER_ADDR6 %s\n", s->remote_address6);
    }
    g_string_append_printf(out, "MTU %u\n", s->mtu);
    return g_string_free(out, FALSE);
}
