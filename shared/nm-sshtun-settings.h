/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The vpn.data keys (docs/design.md, "The key table"): one table that
 * both the helper and the NetworkManager service validate against, and the
 * parsed form the helper works from.
 */
#ifndef NM_SSHTUN_SETTINGS_H
#define NM_SSHTUN_SETTINGS_H

#include "nm-sshtun-forward.h"
#include "nm-sshtun-values.h"

#include <glib.h>
#include <netinet/in.h>

#define SSHTUN_REMOTE_TUN_ANY 0x7fffffffu
/* OpenSSH advertises a 32 KiB maximum packet for the tun channel and libssh2
 * writes at most 32700 bytes per message; a frame carries a 4-byte address
 * family before the IP packet. */
/* Hops of jump-host, at most: each is a session and a channel. */
#define SSHTUN_JUMP_HOSTS_MAX 8
#define SSHTUN_MTU_MAX        32696u
#define SSHTUN_MTU_MIN        576u
#define SSHTUN_MTU_MIN_IPV6   1280u

typedef enum {
    SSHTUN_AUTH_AGENT,
    SSHTUN_AUTH_KEY,
    SSHTUN_AUTH_PASSWORD,
    SSHTUN_AUTH_KEYBOARD_INTERACTIVE,
} SshtunAuthType;

/* Values as on the wire of the tun@openssh.com channel open; streams mode
 * opens no such channel (docs/streams.md): a tun device here, and one
 * direct-tcpip channel per TCP connection. */
typedef enum {
    SSHTUN_MODE_POINT_TO_POINT = 1,
    SSHTUN_MODE_ETHERNET = 2,
    SSHTUN_MODE_STREAMS = 3,
} SshtunTunnelMode;

typedef enum {
    SSHTUN_PROXY_NONE,
    SSHTUN_PROXY_SOCKS5,
    SSHTUN_PROXY_HTTP,
} SshtunProxyType;

/* One hop of jump-host. */
typedef struct {
    char *user; /* NULL: the connection's */
    char *host;
    guint port;
    char *key_file; /* from jump-key-file; NULL: the connection's key or agent */
} SshtunHop;

typedef struct {
    char *host;
    guint port;
    char *user; /* NULL: the caller picks the default */
    SshtunAuthType auth_type;
    char *key_file;
    char *known_hosts_file;
    char *host_key; /* "SHA256:<base64 without padding>" */
    SshtunTunnelMode tunnel_mode;
    guint32 remote_tun; /* SSHTUN_REMOTE_TUN_ANY or a unit number */
    char *remote_command;
    char *local_address;
    char *remote_address;
    guint prefix; /* 0: not given */
    char *local_address6;
    char *remote_address6;
    guint prefix6; /* 0: not given */
    guint mtu;
    GPtrArray *forwards; /* SshtunForward *: local, then remote, then dynamic */
    gboolean no_tunnel;
    guint keepalive;
    guint keepalive_count;
    gboolean reconnect;
    GPtrArray *jump_hosts; /* SshtunHop *, in order; NULL: none */
    SshtunProxyType proxy_type;
    char *proxy_host;
    guint proxy_port;
    gboolean compression;
} SshtunSettings;

/* What the key table says of each key, for every program that lists keys
 * (the editor, the ssh_config importer and exporter, the checks). */
typedef enum {
    /* Shapes the tunnel: refused with no-tunnel=yes, greyed in the editor
     * then. */
    SSHTUN_KEY_TUNNEL = 1 << 0,
    /* Shown in the editor's Advanced dialog, not the main form. */
    SSHTUN_KEY_ADVANCED = 1 << 1,
    /* ssh_config has no option for it: exported and imported as a
     * "# nm-sshtun: key=value" comment of the Host block. */
    SSHTUN_KEY_SSH_CONFIG_COMMENT = 1 << 2,
} SshtunKeyFlags;

typedef enum {
    SSHTUN_WIDGET_ENTRY, /* a text entry */
    SSHTUN_WIDGET_COMBO, /* a choice of the key's values */
    SSHTUN_WIDGET_CHECK, /* yes or no */
} SshtunKeyWidget;

typedef struct {
    const char *name;
    SshtunKeyFlags flags;
    SshtunKeyWidget widget;
    const char *fallback; /* the value assumed when the key is absent; NULL: none */
} SshtunKeyInfo;

/* The @i-th key of the table, or NULL past the last. */
const SshtunKeyInfo *sshtun_settings_key(guint i);

/* Every key of the table, NULL-terminated, in the order of the README's key table. */
const char *const *sshtun_settings_keys(void);

/* Splits "[user@]host[:port],..." as ssh -J takes it (IPv6 in brackets);
 * NULL when malformed. */
GPtrArray *sshtun_settings_parse_jump_hosts(const char *value);

/* Splits "socks5://host:port" or "http://host:port" (IPv6 in brackets). */
gboolean sshtun_settings_parse_proxy(const char *value, SshtunProxyType *type, char **host,
                                     guint *port);

/* Checks one key and its value alone; the error names the key. */
gboolean sshtun_settings_check_key(const char *key, const char *value, GError **error);

/* Checks every key of @data (string to string) and the rules between keys,
 * and returns the parsed settings with defaults filled in. */
SshtunSettings *sshtun_settings_parse(GHashTable *data, GError **error);

/* As sshtun_settings_parse(); on error *@bad_key is the key at fault (a
 * key of @data or of the table), or NULL when no one key is: for a form
 * to mark. */
SshtunSettings *sshtun_settings_parse_naming(GHashTable *data, const char **bad_key,
                                             GError **error);

void sshtun_settings_free(SshtunSettings *settings);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SshtunSettings, sshtun_settings_free)

/* The effective IP configuration of static addresses, in the line format of
 * remote-command output, so that one parser serves both; NULL when the
 * settings name no static address. */
char *sshtun_settings_static_ip_config(const SshtunSettings *settings);

#endif
